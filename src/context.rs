//! [`Context`]: one wgpu device and queue, what kiln learnt about the adapter, and the pipeline
//! cache. Two contexts in one process share nothing.
//!
//! Errors that wgpu reports outside an error scope (during a submission) and device loss are
//! recorded here by callbacks and turned into [`Error`]s at the next sync point, so nothing
//! panics inside wgpu and a hung queue becomes [`Error::Timeout`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::kernels::{self, MatmulChoice, MatmulTile, MatmulVariant};
use crate::serial::{self, Entered, Gate};

/// How long a sync point waits, in total, before declaring the GPU hung. The CPU driver runs a
/// 2048³ matmul in about a second, so a minute is far beyond any single kiln submission.
pub(crate) const WAIT_LIMIT: Duration = Duration::from_secs(120);
/// Waits are taken in slices so that device loss is noticed while waiting.
const WAIT_SLICE: Duration = Duration::from_millis(500);

/// Environment variable naming the backend to use: `vulkan`, `metal`, `dx12` or `gl`.
pub const ENV_BACKEND: &str = "KILN_BACKEND";
/// Environment variable with a case-insensitive substring of the adapter's name to pick.
pub const ENV_ADAPTER: &str = "KILN_ADAPTER";
/// Environment variable turning subgroup operations off (`off`) or leaving them on (`on`, the
/// default) where the adapter has them ([`ContextOptions::subgroups`]).
pub const ENV_SUBGROUPS: &str = "KILN_SUBGROUPS";

/// What kiln needs from a device, beyond WebGPU's defaults it never exceeds.
/// A limit: its name, how to read it, how to raise it, the least kiln needs.
type Needed = (
    &'static str,
    fn(&wgpu::Limits) -> u64,
    fn(&mut wgpu::Limits, u64),
    u64,
);

const NEEDED: &[Needed] = &[
    (
        "max_storage_buffers_per_shader_stage",
        |l| l.max_storage_buffers_per_shader_stage as u64,
        |l, v| l.max_storage_buffers_per_shader_stage = v as u32,
        8,
    ),
    (
        "max_compute_invocations_per_workgroup",
        |l| l.max_compute_invocations_per_workgroup as u64,
        |l, v| l.max_compute_invocations_per_workgroup = v as u32,
        256,
    ),
    (
        "max_compute_workgroup_storage_size",
        |l| l.max_compute_workgroup_storage_size as u64,
        |l, v| l.max_compute_workgroup_storage_size = v as u32,
        16384,
    ),
    (
        "max_compute_workgroup_size_x",
        |l| l.max_compute_workgroup_size_x as u64,
        |l, v| l.max_compute_workgroup_size_x = v as u32,
        256,
    ),
    (
        "max_compute_workgroups_per_dimension",
        |l| l.max_compute_workgroups_per_dimension as u64,
        |l, v| l.max_compute_workgroups_per_dimension = v as u32,
        65535,
    ),
];

/// The operand textures of the texture kernels: a kernel packs each operand into its own slot,
/// so the operands of one call never share a texture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PackedSlot {
    MatmulA,
    MatmulB,
    AttentionQ,
    AttentionK,
    AttentionV,
    AttentionMask,
    AttentionDout,
    AttentionStats,
}

impl PackedSlot {
    const COUNT: usize = 8;
}

/// A pipeline is identified by its shader (and generated tile), entry point and override constants.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PipelineKey {
    pub shader: &'static str,
    pub generated: Option<kernels::Generated>,
    pub entry: &'static str,
    /// `override` name and value as f64 bits, so the key can be hashed.
    pub constants: Vec<(&'static str, u64)>,
}

#[derive(Default)]
struct Health {
    lost: Option<String>,
    uncaptured: Vec<String>,
}

/// A wgpu device and queue with kiln's caches. Everything kiln creates lives on this device.
pub struct Context {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    health: Arc<Mutex<Health>>,
    modules: Mutex<HashMap<(&'static str, Option<kernels::Generated>), wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, wgpu::ComputePipeline>>,
    pipelines_created: Mutex<u64>,
    objects_created: std::sync::atomic::AtomicU64,
    pub(crate) matmul_choice: OnceLock<MatmulChoice>,
    /// The options it was opened with, the environment's filled in.
    options: ContextOptions,
    /// One thread at a time on a GL device (see [`crate::serial`]); `None` elsewhere.
    gate: Option<Arc<Gate>>,
    placeholder: OnceLock<Arc<wgpu::Buffer>>,
    /// The textures the texture kernels pack their operands into (see [`PackedSlot`]), with
    /// their capacity in texels; grown on demand, shared by every call on this context.
    packed: Mutex<[Option<(wgpu::TextureView, u64)>; PackedSlot::COUNT]>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("adapter", &self.info.name)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked mid-update of a cache or a log;
    // the data is still usable, so kiln carries on rather than propagating the panic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn type_rank(t: wgpu::DeviceType) -> u32 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

const HOW_TO_GET_ONE: &str = "install a GPU driver, or on a machine without a GPU the CPU Vulkan \
driver: `apt-get install mesa-vulkan-drivers libvulkan1` (Debian/Ubuntu)";

/// How [`Context::with_options`] picks an adapter and which kernels it runs. Every field left
/// unset is filled from the environment ([`ENV_BACKEND`], [`ENV_ADAPTER`],
/// [`crate::kernels::ENV_MATMUL`], [`crate::kernels::ENV_MATMUL_TILE`]), so a program's explicit choice wins and a user can still
/// steer a program that sets nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextOptions {
    /// The backends to look on (`None`: Vulkan, Metal and DX12, then GL if they find nothing).
    pub backends: Option<wgpu::Backends>,
    /// A case-insensitive substring of the adapter's name.
    pub adapter: Option<String>,
    /// Among adapters that pass the filters, a discrete GPU first (`HighPerformance`, the
    /// default) or an integrated one (`LowPower`); a CPU driver comes last either way.
    pub power_preference: wgpu::PowerPreference,
    /// Pins the matmul variant (and the attention kernels that go with it) instead of the
    /// measured choice.
    pub matmul: Option<MatmulVariant>,
    /// Pins the texture matmul's tile ([`crate::kernels::MatmulTile`]) instead of the measured
    /// choice; the race then decides only the variant.
    pub matmul_tile: Option<MatmulTile>,
    /// Whether kernels may use subgroup operations where the adapter has them (on by default;
    /// [`ENV_SUBGROUPS`]`=off` turns them off, to run or test the kernels without).
    pub subgroups: bool,
    /// Whether a CPU driver (lavapipe, WARP, SwiftShader) may be chosen; on by default, since a
    /// CPU driver is often the only one a server or a CI machine has.
    pub allow_cpu: bool,
}

impl Default for ContextOptions {
    fn default() -> ContextOptions {
        ContextOptions {
            backends: None,
            adapter: None,
            power_preference: wgpu::PowerPreference::HighPerformance,
            matmul: None,
            matmul_tile: None,
            subgroups: true,
            allow_cpu: true,
        }
    }
}

impl ContextOptions {
    /// Only these backends (see [`parse_backends`] for names).
    pub fn backends(mut self, backends: wgpu::Backends) -> ContextOptions {
        self.backends = Some(backends);
        self
    }

    /// Only adapters whose name contains `name` (case-insensitive).
    pub fn adapter(mut self, name: impl Into<String>) -> ContextOptions {
        self.adapter = Some(name.into());
        self
    }

    /// Pins the matmul variant.
    pub fn matmul(mut self, variant: MatmulVariant) -> ContextOptions {
        self.matmul = Some(variant);
        self
    }

    /// Pins the texture matmul's tile.
    pub fn matmul_tile(mut self, tile: MatmulTile) -> ContextOptions {
        self.matmul_tile = Some(tile);
        self
    }

    /// The options with every unset field taken from the environment; a variable naming no
    /// backend or variant is an error naming it, not a silent default.
    pub fn with_env(mut self) -> Result<ContextOptions> {
        if self.backends.is_none() {
            if let Some(name) = env_value(ENV_BACKEND) {
                self.backends = Some(
                    parse_backends(&name)
                        .map_err(|e| Error::NoAdapter(format!("{ENV_BACKEND}={name}: {e}")))?,
                );
            }
        }
        if self.adapter.is_none() {
            self.adapter = env_value(ENV_ADAPTER);
        }
        if self.matmul.is_none() {
            if let Some(name) = env_value(kernels::ENV_MATMUL) {
                let variant = kernels::parse_matmul_variant(&name).ok_or_else(|| {
                    Error::NoAdapter(format!(
                        "{}={name} is not a matmul variant; use naive, register, workgroup or texture",
                        kernels::ENV_MATMUL
                    ))
                })?;
                self.matmul = Some(variant);
            }
        }
        if let Some(value) = env_value(ENV_SUBGROUPS) {
            match value.trim().to_ascii_lowercase().as_str() {
                "off" | "0" | "false" | "no" => self.subgroups = false,
                "on" | "1" | "true" | "yes" => {}
                _ => {
                    return Err(Error::NoAdapter(format!(
                        "{ENV_SUBGROUPS}={value} is neither on nor off"
                    )))
                }
            }
        }
        if self.matmul_tile.is_none() {
            if let Some(name) = env_value(kernels::ENV_MATMUL_TILE) {
                let names: Vec<String> = MatmulTile::ALL.iter().map(MatmulTile::name).collect();
                let tile = MatmulTile::parse(&name).ok_or_else(|| {
                    Error::NoAdapter(format!(
                        "{}={name} is not a texture matmul tile; use one of {}",
                        kernels::ENV_MATMUL_TILE,
                        names.join(", ")
                    ))
                })?;
                self.matmul_tile = Some(tile);
            }
        }
        Ok(self)
    }
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The adapter `options` pick, as [`Context::with_options`] opens it (the options as given:
/// apply [`ContextOptions::with_env`] first for the environment's). A host that wants its own
/// device on kiln's choice of adapter starts here.
pub fn find_adapter(options: &ContextOptions) -> Result<wgpu::Adapter> {
    // The primary backends first; GL only when they find nothing, because probing EGL on a
    // headless machine prints errors even when a Vulkan adapter exists.
    let searches = match options.backends {
        Some(b) => vec![b],
        None => vec![wgpu::Backends::PRIMARY, wgpu::Backends::SECONDARY],
    };
    let mut found = Vec::new();
    for backends in searches {
        // One instance per backend, so that Vulkan's can leave out window-system extensions.
        for backend in backends.iter() {
            let instance = headless_instance(backend);
            found.extend(pollster::block_on(instance.enumerate_adapters(backend)));
        }
        if !found.is_empty() {
            break;
        }
    }
    let names = |adapters: &[wgpu::Adapter]| -> Vec<String> {
        adapters
            .iter()
            .map(|a| {
                let info = a.get_info();
                format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend)
            })
            .collect()
    };
    let everything = names(&found);
    if let Some(w) = &options.adapter {
        let w = w.to_ascii_lowercase();
        found.retain(|a| a.get_info().name.to_ascii_lowercase().contains(&w));
    }
    if !options.allow_cpu {
        found.retain(|a| a.get_info().device_type != wgpu::DeviceType::Cpu);
    }
    if found.is_empty() && !everything.is_empty() {
        return Err(Error::NoAdapter(format!(
            "none of the adapters found passes the options (adapter name containing {:?}, CPU \
             drivers {}): {everything:?}",
            options.adapter.as_deref().unwrap_or("anything"),
            if options.allow_cpu {
                "allowed"
            } else {
                "not allowed"
            },
        )));
    }
    let low_power = options.power_preference == wgpu::PowerPreference::LowPower;
    found.sort_by_key(|a| {
        let info = a.get_info();
        let rank = match (type_rank(info.device_type), low_power) {
            (0, true) => 1,
            (1, true) => 0,
            (r, _) => r,
        };
        (rank, info.backend != wgpu::Backend::Vulkan)
    });
    found.into_iter().next().ok_or_else(|| {
        let searched = options
            .backends
            .map(|b| format!(" on {b:?}"))
            .unwrap_or_default();
        Error::NoAdapter(format!("none found{searched}; {HOW_TO_GET_ONE}"))
    })
}

/// Parses a backend list: `vulkan`, `metal`, `dx12`, `gl` (or `vk`, `mtl`, `d3d12`, `gles`,
/// `opengl`), several joined by commas, or `all`.
pub fn parse_backends(text: &str) -> std::result::Result<wgpu::Backends, String> {
    let mut backends = wgpu::Backends::empty();
    for name in text.split(',').map(str::trim) {
        backends |= match name.to_ascii_lowercase().as_str() {
            "vulkan" | "vk" => wgpu::Backends::VULKAN,
            "metal" | "mtl" => wgpu::Backends::METAL,
            "dx12" | "d3d12" => wgpu::Backends::DX12,
            "gl" | "gles" | "opengl" => wgpu::Backends::GL,
            "all" => wgpu::Backends::all() - wgpu::Backends::BROWSER_WEBGPU,
            _ => {
                return Err(format!(
                    "`{name}` is not a backend; use vulkan, metal, dx12, gl or all"
                ))
            }
        };
    }
    Ok(backends)
}

/// The window-system instance extensions wgpu asks Vulkan for, left out by
/// [`headless_instance`].
const WINDOW_SYSTEM_EXTENSIONS: [&std::ffi::CStr; 3] = [
    c"VK_KHR_wayland_surface",
    c"VK_KHR_xlib_surface",
    c"VK_KHR_xcb_surface",
];

/// A wgpu instance for work that draws nothing (training, offscreen rendering) on `backends`.
/// Vulkan alone on Linux and the BSDs is created without the window-system extensions: with
/// them, Mesa's device-select layer tries to reach a Wayland or X server when the instance is
/// made and prints `error: XDG_RUNTIME_DIR is invalid ...` on a machine without one. Other
/// backends come from wgpu with no display handle (GL then uses surfaceless EGL).
pub fn headless_instance(backends: wgpu::Backends) -> wgpu::Instance {
    #[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
    // Metal and DX12 do not exist here, so without GL the instance is Vulkan's alone.
    if backends.contains(wgpu::Backends::VULKAN) && !backends.contains(wgpu::Backends::GL) {
        if let Some(instance) = vulkan_instance_without_window_system() {
            return instance;
        }
    }
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    wgpu::Instance::new(desc)
}

#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn vulkan_instance_without_window_system() -> Option<wgpu::Instance> {
    use wgpu::hal::vulkan;
    let desc = wgpu::hal::InstanceDescriptor {
        name: "kiln",
        flags: wgpu::InstanceFlags::from_build_config().with_env(),
        memory_budget_thresholds: wgpu::MemoryBudgetThresholds::default(),
        backend_options: wgpu::BackendOptions::from_env_or_default(),
        telemetry: None,
        display: None,
    };
    let leave_out: Box<vulkan::CreateInstanceCallback> = Box::new(|args| {
        args.extensions
            .retain(|e| !WINDOW_SYSTEM_EXTENSIONS.contains(e));
    });
    // SAFETY: the callback only leaves out surface extensions, and kiln never creates a
    // surface on this instance (wgpu checks the extension before it would). `from_hal` takes
    // an instance wgpu-hal made itself, which wgpu then owns.
    unsafe {
        let hal = vulkan::Instance::init_with_callback(&desc, Some(leave_out)).ok()?;
        Some(wgpu::Instance::from_hal::<wgpu::hal::api::Vulkan>(hal))
    }
}

impl Context {
    /// Opens the best adapter: a discrete GPU, then an integrated one, then a CPU driver.
    /// `KILN_BACKEND` (`vulkan`, `metal`, `dx12`, `gl`), `KILN_ADAPTER` (a substring of the
    /// adapter's name) and `KILN_MATMUL` narrow the choice ([`Context::with_options`] with the
    /// defaults).
    pub fn new() -> Result<Context> {
        Context::with_options(ContextOptions::default())
    }

    /// Opens the adapter `options` pick; fields they leave unset come from the environment
    /// ([`ContextOptions::with_env`]). An adapter is ranked by type (discrete, integrated,
    /// virtual, CPU, other; the first two swapped for `LowPower`), then Vulkan before other
    /// backends, since Vulkan is the one kiln is tested on most.
    pub fn with_options(options: ContextOptions) -> Result<Context> {
        let options = options.with_env()?;
        let adapter = find_adapter(&options)?;
        let info = adapter.get_info();
        let supported = adapter.limits();
        check_limits(&supported, &info.name)?;
        // WebGPU's default limits, except buffer sizes, which kiln takes as large as the adapter
        // allows so that big tensors fit in one binding.
        let limits = wgpu::Limits {
            max_buffer_size: supported.max_buffer_size,
            max_storage_buffer_binding_size: supported.max_storage_buffer_binding_size,
            ..wgpu::Limits::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("kiln"),
            required_features: if options.subgroups {
                adapter.features() & wgpu::Features::SUBGROUP
            } else {
                wgpu::Features::empty()
            },
            required_limits: limits,
            ..Default::default()
        }))
        .map_err(|e| Error::NoAdapter(format!("{} refused a device: {e}", info.name)))?;
        Ok(Context::assemble(device, queue, info, options))
    }

    /// The limits a host should request for a device it shares with kiln: `base` (the host's
    /// own needs) with every limit kiln relies on raised to what kiln needs, and nothing lowered.
    /// kiln stays within WebGPU's defaults, so `required_limits(wgpu::Limits::default())` is the
    /// defaults; from `wgpu::Limits::downlevel_defaults()` it raises the compute limits. Big
    /// models also want `max_buffer_size` and `max_storage_buffer_binding_size` as large as the
    /// adapter allows (`adapter.limits()`), as [`Context::new`] takes them.
    pub fn required_limits(base: wgpu::Limits) -> wgpu::Limits {
        let mut limits = base;
        for (_, get, set, needed) in NEEDED {
            if get(&limits) < *needed {
                set(&mut limits, *needed);
            }
        }
        limits
    }

    /// The device features kiln needs: none. Every kernel is core WebGPU.
    pub fn required_features() -> wgpu::Features {
        wgpu::Features::empty()
    }

    /// Wraps a host application's device and queue. kiln creates no second device or instance,
    /// and fails with [`Error::Unsupported`] naming the limit if the host's device is too small
    /// (request [`Context::required_limits`] when creating it). `adapter_info` names the adapter
    /// in reports; pass `None` if the host does not have it.
    ///
    /// kiln installs the device's uncaptured-error handler and device-lost callback, so that
    /// errors become [`Error`]s at its sync points; wgpu keeps one of each per device, so a host
    /// that installs its own afterwards takes them over, and kiln then no longer sees them.
    pub fn from_host(
        device: wgpu::Device,
        queue: wgpu::Queue,
        adapter_info: Option<wgpu::AdapterInfo>,
    ) -> Result<Context> {
        let info = adapter_info.unwrap_or_else(|| wgpu::AdapterInfo {
            name: "host device".into(),
            vendor: 0,
            device: 0,
            device_type: wgpu::DeviceType::Other,
            device_pci_bus_id: String::new(),
            driver: String::new(),
            driver_info: String::new(),
            backend: wgpu::Backend::Noop,
            subgroup_min_size: 0,
            subgroup_max_size: 0,
            transient_saves_memory: None,
            limit_bucket: None,
        });
        check_limits(&device.limits(), "the host's device")?;
        let options = ContextOptions::default().with_env()?;
        Ok(Context::assemble(device, queue, info, options))
    }

    fn assemble(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        options: ContextOptions,
    ) -> Context {
        let health = Arc::new(Mutex::new(Health::default()));
        let on_lost = Arc::clone(&health);
        device.set_device_lost_callback(move |reason, message| {
            lock(&on_lost).lost = Some(format!("{reason:?}: {message}"));
        });
        let on_error = Arc::clone(&health);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            lock(&on_error).uncaptured.push(e.to_string());
        }));
        let gate = (info.backend == wgpu::Backend::Gl).then(Arc::default);
        Context {
            device,
            queue,
            info,
            gate,
            health,
            modules: Mutex::new(HashMap::new()),
            pipelines: Mutex::new(HashMap::new()),
            pipelines_created: Mutex::new(0),
            objects_created: std::sync::atomic::AtomicU64::new(0),
            matmul_choice: OnceLock::new(),
            options,
            placeholder: OnceLock::new(),
            packed: Mutex::new(Default::default()),
        }
    }

    /// The options this context was opened with, the environment's values filled in: pass them
    /// to [`Context::with_options`] for another context on the same adapter.
    pub fn options(&self) -> &ContextOptions {
        &self.options
    }

    /// The gate every use of a GL device goes through (see [`crate::serial`]).
    pub(crate) fn gate(&self) -> Option<&Arc<Gate>> {
        self.gate.as_ref()
    }

    /// Holds this context's device for the current thread until dropped, where its backend
    /// needs that (GL; see [`crate::serial`]); re-entrant.
    pub(crate) fn exclusive(&self) -> Entered {
        serial::enter(self.gate.as_ref())
    }

    /// `queue.write_buffer`, inside the device's gate.
    pub(crate) fn write_buffer(&self, buffer: &wgpu::Buffer, offset: u64, bytes: &[u8]) {
        let _inside = self.exclusive();
        self.queue.write_buffer(buffer, offset, bytes);
    }

    /// The matmul variant the options pin, if any.
    pub(crate) fn pinned_matmul(&self) -> Option<MatmulVariant> {
        self.options.matmul
    }

    /// The texture matmul tile the options pin, if any.
    pub(crate) fn pinned_matmul_tile(&self) -> Option<MatmulTile> {
        self.options.matmul_tile
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The adapter this context runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Whether kernels may hand values between the 8 invocations of a workgroup with subgroup
    /// broadcasts: the device has wgpu's `SUBGROUP` feature (a context kiln opens requests it
    /// where the adapter offers it) and the adapter's subgroups hold at least 8 lanes, so an
    /// 8-invocation workgroup is one subgroup.
    pub fn subgroups(&self) -> bool {
        self.options.subgroups
            && self.device.features().contains(wgpu::Features::SUBGROUP)
            && self.info.subgroup_min_size >= 8
    }

    /// One line naming the adapter, its type and backend, for reports.
    pub fn adapter_summary(&self) -> String {
        format!(
            "{} ({:?}, {:?}, driver {} {})",
            self.info.name,
            self.info.device_type,
            self.info.backend,
            self.info.driver,
            self.info.driver_info
        )
    }

    /// How many compute pipelines this context has compiled so far (each is compiled once).
    pub fn pipelines_created(&self) -> u64 {
        *lock(&self.pipelines_created)
    }

    /// How many buffers and bind groups kiln has created on this context: a planned step must
    /// leave this unchanged (tests check it).
    pub fn objects_created(&self) -> u64 {
        self.objects_created
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts `n` buffer or bind-group creations (see [`Context::objects_created`]).
    pub(crate) fn count_objects(&self, n: u64) {
        self.objects_created
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Returns an error if the device was lost or wgpu reported an error outside a scope.
    pub fn check(&self) -> Result<()> {
        let mut health = lock(&self.health);
        if let Some(lost) = &health.lost {
            return Err(Error::DeviceLost(lost.clone()));
        }
        if !health.uncaptured.is_empty() {
            let message = health.uncaptured.join("; ");
            health.uncaptured.clear();
            return Err(Error::Wgpu {
                during: "a submission".into(),
                message,
            });
        }
        Ok(())
    }

    /// Runs `f` inside validation and out-of-memory error scopes; a captured error becomes
    /// [`Error::Wgpu`] naming `during`.
    pub fn scoped<T>(&self, during: &str, f: impl FnOnce() -> T) -> Result<T> {
        self.check()?;
        let _inside = self.exclusive();
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = f();
        let errors = [
            pollster::block_on(validation.pop()),
            pollster::block_on(oom.pop()),
        ];
        if let Some(e) = errors.into_iter().flatten().next() {
            return Err(Error::Wgpu {
                during: during.to_string(),
                message: e.to_string(),
            });
        }
        Ok(value)
    }

    /// Submits one command buffer, and reports errors recorded since the last sync point.
    pub fn submit(&self, commands: wgpu::CommandBuffer) -> Result<wgpu::SubmissionIndex> {
        let index = self.scoped("queue submission", || self.queue.submit([commands]))?;
        self.check()?;
        Ok(index)
    }

    /// Runs whatever callbacks finished work has made ready (buffer maps) without waiting;
    /// `during` names the caller's task in the error.
    pub fn poll(&self, during: &str) -> Result<()> {
        let _inside = self.exclusive();
        self.device
            .poll(wgpu::PollType::Poll)
            .map_err(|e| Error::Wgpu {
                during: during.into(),
                message: e.to_string(),
            })?;
        Ok(())
    }

    /// Blocks until `index` (or all work, with `None`) has finished, in slices, so that a lost
    /// device or a hang becomes an error rather than a frozen process.
    pub fn wait(&self, index: Option<wgpu::SubmissionIndex>) -> Result<()> {
        let start = Instant::now();
        loop {
            self.check()?;
            let poll = wgpu::PollType::Wait {
                submission_index: index.clone(),
                timeout: Some(WAIT_SLICE),
            };
            // The gate is taken per slice, so other threads get their turn while this one waits.
            let polled = {
                let _inside = self.exclusive();
                self.device.poll(poll)
            };
            match polled {
                Ok(_) => return self.check(),
                Err(wgpu::PollError::Timeout) => {
                    if start.elapsed() > WAIT_LIMIT {
                        return Err(Error::Timeout {
                            during: "waiting for the queue".into(),
                            seconds: start.elapsed().as_secs_f64(),
                        });
                    }
                }
                Err(e) => {
                    self.check()?;
                    return Err(Error::Wgpu {
                        during: "waiting for the queue".into(),
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    /// One small zeroed buffer per context, bound where a kernel declares an optional input that
    /// a call does not have (a bias, a mask); kernels never read it then, and sharing it keeps
    /// such calls from allocating.
    pub(crate) fn placeholder(&self) -> Result<Arc<wgpu::Buffer>> {
        if let Some(b) = self.placeholder.get() {
            return Ok(Arc::clone(b));
        }
        self.count_objects(1);
        let buffer = self.scoped("allocating the placeholder buffer", || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("kiln.placeholder"),
                // 16 bytes: one element of any binding, vec4 arrays included.
                size: 16,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        })?;
        Ok(Arc::clone(
            self.placeholder.get_or_init(|| Arc::new(buffer)),
        ))
    }

    /// Bytes held by the textures the texture kernels pack operands into (see
    /// [`crate::kernels::MatmulVariant::Texture`]): one per operand slot, as large as the
    /// largest operand packed into it so far.
    pub fn packed_texture_bytes(&self) -> u64 {
        lock(&self.packed)
            .iter()
            .flatten()
            .map(|(_, texels)| texels * 16)
            .sum()
    }

    /// A view of the packed-operand texture `slot` holding at least `texels` rgba32f texels
    /// `width` wide, or `None` when the device's texture limits cannot hold them.
    ///
    /// Kernels run one after another on the queue, so all calls share one texture per slot:
    /// kiln's memory for packed operands is the largest of each, not a copy of every operand.
    /// A larger request replaces the texture; dispatches made earlier keep the old one alive
    /// through their bind groups.
    pub(crate) fn packed_texture(
        &self,
        slot: PackedSlot,
        texels: u64,
        width: u32,
    ) -> Result<Option<wgpu::TextureView>> {
        let slot = slot as usize;
        // Replacing a texture destroys the old one when no dispatch holds it any more.
        let _inside = self.exclusive();
        let mut packed = lock(&self.packed);
        if let Some((view, capacity)) = &packed[slot] {
            if *capacity >= texels {
                return Ok(Some(view.clone()));
            }
        }
        // A host's device may have lower limits than kiln asks for (downlevel: 2048).
        let max_rows = self.device.limits().max_texture_dimension_2d as u64;
        let rows = texels.div_ceil(width as u64).max(1);
        if rows > max_rows || width as u64 > max_rows {
            return Ok(None);
        }
        // Powers of two, so that a model's growing sizes reallocate a few times, not per matmul.
        let rows = rows.next_power_of_two().min(max_rows) as u32;
        self.count_objects(2);
        let view = self.scoped("allocating a packed matmul operand texture", || {
            let texture = self.device.create_texture(&wgpu::TextureDescriptor {
                label: Some(if slot == 0 {
                    "kiln.packed_a"
                } else {
                    "kiln.packed_b"
                }),
                size: wgpu::Extent3d {
                    width,
                    height: rows,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba32Float,
                // COPY_DST: a pack whose layout is the stored one is a buffer-to-texture copy.
                usage: wgpu::TextureUsages::STORAGE_BINDING
                    | wgpu::TextureUsages::TEXTURE_BINDING
                    | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            });
            texture.create_view(&wgpu::TextureViewDescriptor::default())
        })?;
        packed[slot] = Some((view.clone(), rows as u64 * width as u64));
        Ok(Some(view))
    }

    /// The compiled pipeline for `key`, compiling it on first use.
    pub(crate) fn pipeline(&self, key: &PipelineKey) -> Result<wgpu::ComputePipeline> {
        if let Some(p) = lock(&self.pipelines).get(key) {
            return Ok(p.clone());
        }
        let module = self.module(key.shader, key.generated)?;
        let label = format!("kiln.{}.{}", key.shader, key.entry);
        let constants: Vec<(&str, f64)> = key
            .constants
            .iter()
            .map(|(n, bits)| (*n, f64::from_bits(*bits)))
            .collect();
        let pipeline = self.scoped(&format!("creating pipeline {label}"), || {
            self.device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&label),
                    layout: None,
                    module: &module,
                    entry_point: Some(key.entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &constants,
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: None,
                })
        })?;
        *lock(&self.pipelines_created) += 1;
        lock(&self.pipelines).insert(key.clone(), pipeline.clone());
        Ok(pipeline)
    }

    fn module(
        &self,
        shader: &'static str,
        generated: Option<kernels::Generated>,
    ) -> Result<wgpu::ShaderModule> {
        if let Some(m) = lock(&self.modules).get(&(shader, generated)) {
            return Ok(m.clone());
        }
        let (name, source) = match generated {
            Some(g) => (g.module_name(), kernels::generated_source(g)?),
            None => (shader.to_string(), kernels::source(shader)?),
        };
        kernels::dump(&name, &source)?;
        let module = self.scoped(&format!("compiling shader {name}.wgsl"), || {
            self.device
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(&name),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                })
        })?;
        lock(&self.modules).insert((shader, generated), module.clone());
        Ok(module)
    }
}

fn check_limits(limits: &wgpu::Limits, who: &str) -> Result<()> {
    for (name, get, _, needed) in NEEDED {
        let have = get(limits);
        if have < *needed {
            return Err(Error::Unsupported(format!(
                "kiln needs {name} >= {needed}, but {who} has {have}; request it when creating the device"
            )));
        }
    }
    Ok(())
}
