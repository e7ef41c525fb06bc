//! The capabilities a plugin reaches through WIT, one module each: its host functions, how one
//! run's share of it is set up, and what `moport check` says of it. Only `log` and `settings`
//! need no grant; every other capability checks the plugin's grants inside each host function
//! as well as at link time (`moport-runtime`'s contract). The backends behind them (MO, remote
//! targets, DAR) are crates of their own, which know nothing of wasm.

pub mod dar;
pub mod files;
pub mod limits;
pub mod log;
pub mod mo;
pub mod remote;
pub mod settings;
pub mod state;

use crate::limits::RunLimiter;
use moport_wit::moport::host as wit;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Everything one plugin run owns: its sandboxed WASI, its limits and its capabilities.
pub struct HostState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limiter: RunLimiter,
    /// What the run may still write, to its output folder and its remote targets together.
    pub output: limits::OutputBudget,
    pub log: log::PluginLog,
    pub settings: settings::PluginSettings,
    /// `None` when the plugin has no `files` grant.
    pub files: Option<files::OutputFolder>,
    /// `None` when the plugin has no `mo` grant.
    pub mo: Option<mo::MoAccess>,
    /// The remote targets the plugin's grants name (none without a `remote` grant).
    pub remote: remote::PluginTargets,
    /// `None` when the plugin has no `state` grant.
    pub state: Option<state::PluginState>,
    /// `None` when the plugin has no `dar` grant.
    pub dar: Option<dar::PluginDar>,
}

/// How a check found something wrong: what the operator must fix, or a service that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failing {
    Config,
    Service,
}

/// One line of `moport check`: what was checked, and what was found or went wrong.
#[derive(Debug)]
pub struct CheckLine {
    pub what: String,
    pub result: Result<String, (Failing, String)>,
}

impl CheckLine {
    pub fn new(what: impl Into<String>, result: Result<String, (Failing, String)>) -> CheckLine {
        CheckLine { what: what.into(), result }
    }
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
