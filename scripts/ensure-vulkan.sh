#!/usr/bin/env sh
# Makes sure a Vulkan driver is there for kiln: a GPU's driver, or else Mesa's CPU driver
# (lavapipe), installed with apt on Debian or Ubuntu. Does nothing when a driver is present.
set -eu

have_vulkan_driver() {
    ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | grep -q . &&
        ldconfig -p | grep -q 'libvulkan\.so\.1'
}

if have_vulkan_driver; then
    exit 0
fi
echo "ensure-vulkan: no Vulkan driver found; installing Mesa's CPU driver (lavapipe)"
"$(dirname "$0")/apt-install.sh" mesa-vulkan-drivers libvulkan1
