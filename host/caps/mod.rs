//! The capabilities a plugin reaches through WIT, one module each. Only `log` and `settings`
//! need no grant; every other capability checks the plugin's grants inside each host function
//! as well as at link time (see `engine::contract`).

pub mod dar;
pub mod files;
pub mod log;
pub mod mo;
pub mod remote;
pub mod settings;
pub mod state;

use crate::bindings::moport::host as wit;
use crate::engine::limits::RunLimiter;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Everything one plugin run owns: its sandboxed WASI, its limits and its capabilities.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: RunLimiter,
    pub(crate) log: log::PluginLog,
    pub(crate) settings: settings::PluginSettings,
    /// `None` when the plugin has no `files` grant.
    pub(crate) files: Option<files::OutputFolder>,
    /// `None` when the plugin has no `mo` grant.
    pub(crate) mo: Option<mo::MoAccess>,
    /// The remote targets the plugin's grants name (none without a `remote` grant).
    pub(crate) remote: remote::PluginTargets,
    /// `None` when the plugin has no `state` grant.
    pub(crate) state: Option<state::PluginState>,
    /// `None` when the plugin has no `dar` grant.
    pub(crate) dar: Option<dar::PluginDar>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wit::types::Host for HostState {}

/// Adds every capability interface to a linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wit::types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    wit::log::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    wit::settings::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    wit::files::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    wit::mo_read::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    wit::mo_write::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    wit::remote::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    wit::state::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    wit::dar::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}
