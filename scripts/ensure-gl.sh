#!/usr/bin/env sh
# Makes sure an OpenGL driver reachable through EGL is there for kiln's GL backend
# (`--backend gl`): Mesa's llvmpipe on a machine without a GPU, installed with apt on Debian or
# Ubuntu. Does nothing when EGL and a Mesa driver are present.
set -eu

have_gl_driver() {
    ldconfig -p | grep -q 'libEGL\.so\.1' &&
        ldconfig -p | grep -q 'libEGL_mesa\.so\.0' &&
        ls /usr/lib/*/dri/swrast_dri.so /usr/lib/dri/swrast_dri.so 2>/dev/null | grep -q .
}

if have_gl_driver; then
    exit 0
fi
echo "ensure-gl: no EGL/OpenGL driver found; installing Mesa's (llvmpipe)"
"$(dirname "$0")/apt-install.sh" libegl1 libegl-mesa0 libgl1-mesa-dri
