//! The flags every example takes to choose its device, as one `clap` group
//! (`#[command(flatten)] device: DeviceArgs`).

use kiln::{Context, ContextOptions, Result};

/// Which GPU to run on.
#[derive(clap::Args, Debug, Clone)]
pub struct DeviceArgs {
    /// The wgpu backend: vulkan, metal, dx12 or gl (several joined by commas); default: the
    /// best adapter found, or KILN_BACKEND.
    #[arg(long, value_parser = kiln::context::parse_backends)]
    pub backend: Option<kiln::wgpu::Backends>,
    /// Part of the adapter's name (case-insensitive); default: any, or KILN_ADAPTER.
    #[arg(long)]
    pub adapter: Option<String>,
}

impl DeviceArgs {
    /// The options these flags give, the environment filling what they leave unset.
    pub fn options(&self) -> Result<ContextOptions> {
        ContextOptions {
            backends: self.backend,
            adapter: self.adapter.clone(),
            ..ContextOptions::default()
        }
        .with_env()
    }

    /// The context these flags choose.
    #[allow(dead_code)] // not every example opens its own context (embed_in_wgpu_app)
    pub fn context(&self) -> Result<Context> {
        Context::with_options(self.options()?)
    }
}
