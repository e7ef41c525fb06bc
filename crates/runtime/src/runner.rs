//! Loading, checking and running one plugin, and what can go wrong on the way.

use crate::cache::{CacheOutcome, ComponentCache, sha256_hex};
use crate::contract::{self, Capability, Contract, ContractError};
use crate::engine::PluginEngine;
use crate::output::CapturedOutput;
use moport_caps::dar::PluginDar;
use moport_caps::limits::{LimitExceeded, OutputBudget, RunLimiter};
use moport_caps::log::{MAX_LABEL_BYTES, MAX_MESSAGE_BYTES, cut_to, printable};
use moport_caps::mo::MoAccess;
use moport_caps::remote::PluginTargets;
use moport_caps::state::{PluginState, StateError, StateStore};
pub use moport_caps::{CheckLine, Failing};
use moport_caps::{HostState, files::OutputFolder, log::PluginLog, settings::PluginSettings};
use moport_dar::{DarError, DarProvider};
use moport_manifest::{Manifest, ManifestError, MoSourceSpec, PluginSpec};
use moport_mo::{MoError, MoSource};
use moport_wit::{ImporterIndices, PluginError, Report, RunContext, WIT_PACKAGE, WIT_VERSION};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use thiserror::Error;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap};
use wasmtime_wasi::WasiCtxBuilder;

/// What the plugin may print on stdout/stderr (kept for the log and for panic messages).
const CAPTURED_OUTPUT_BYTES: usize = 64 * 1024;

/// Process exit codes, one per kind of failure an operator must tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    Success = 0,
    /// A defect in moport itself, or the machine failing under it; for `moport test`, the
    /// plugin's output differs from the fixture's.
    Internal = 1,
    /// The command line was wrong (clap's own code).
    Usage = 2,
    /// plugins.toml, a setting, a grant, a missing or incompatible component.
    Config = 3,
    /// The plugin reported a failure (bad data, its own defect).
    PluginFailed = 4,
    /// The plugin hit a limit or crashed (trap, panic).
    LimitOrCrash = 5,
    /// A service the plugin depends on failed (MO, a remote target, the output folder).
    Io = 6,
    /// Another run of the same plugin holds its run lock.
    AlreadyRunning = 7,
    /// Stopped by SIGINT (Ctrl-C), as the shell reports a process that signal ends.
    Interrupted = 130,
    /// Stopped by SIGTERM (`systemctl stop`, a pod's deadline).
    Terminated = 143,
}

#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(
        "plugin `{plugin}`: component {} not found; build the plugin (`cargo build` in the moport repository builds \
         its plugins), or name its file in `component`, or the folder it is in as `components` under [host] in \
         plugins.toml",
        path.display()
    )]
    MissingComponent { plugin: String, path: PathBuf },
    #[error("plugin `{plugin}`: {} is not a usable WebAssembly component: {message}", path.display())]
    BadComponent { plugin: String, path: PathBuf, message: String },
    #[error(
        "plugin `{plugin}`: {} is larger than its limit of {limit} (limits.component), so it is not compiled; raise \
         the limit under [plugins.{plugin}.limits] if the component is trusted to be this large",
        path.display()
    )]
    ComponentTooLarge { plugin: String, path: PathBuf, limit: moport_manifest::ByteSize },
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error(transparent)]
    Mo(#[from] MoError),
    #[error("{problem}")]
    MoSourceSpec { problem: String },
    #[error(
        "plugin `{plugin}` reads MO, but no MO source is given: pass `--mo demo` or `--mo snapshot:FILE`, \
         or set `mo` under [host] in plugins.toml"
    )]
    NoMoSource { plugin: String },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Dar(#[from] DarError),
    #[error("plugin `{plugin}`: cannot use its output folder {}: {source}", path.display())]
    OutputFolder { plugin: String, path: PathBuf, source: std::io::Error },
    #[error(
        "plugin `{plugin}` ran, but its files could not be moved into its output folder {}: {source}; the folder \
         keeps the files of the last run that succeeded",
        path.display()
    )]
    Publish { plugin: String, path: PathBuf, source: moport_caps::files::PublishError },
    #[error("plugin `{plugin}` failed with {kind} error: {message}")]
    Plugin { plugin: String, kind: &'static str, message: String },
    #[error("plugin `{plugin}` was stopped: {limit}")]
    Limit { plugin: String, limit: LimitExceeded },
    #[error("plugin `{plugin}` crashed: {cause}")]
    Crash { plugin: String, cause: String },
    #[error("internal error while running plugin `{plugin}`: {message}")]
    Internal { plugin: String, message: String },
    #[error(
        "plugin `{plugin}` is already running (another moport holds {}); let that run end (`moport run --wait` \
         starts when it has)",
        path.display()
    )]
    AlreadyRunning { plugin: String, path: PathBuf },
    #[error("plugin `{plugin}`: cannot take its run lock {}: {source}", path.display())]
    Lock { plugin: String, path: PathBuf, source: std::io::Error },
    #[error(
        "plugin `{plugin}` was stopped by {signal} before it ended: its files were not published and its state not \
         saved (what it had written to MO stays); run it again"
    )]
    Stopped { plugin: String, signal: &'static str },
}

impl RunError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            RunError::Mo(err) if err.is_service_failure() => ExitStatus::Io,
            RunError::Manifest(_)
            | RunError::MissingComponent { .. }
            | RunError::BadComponent { .. }
            | RunError::ComponentTooLarge { .. }
            | RunError::Contract(_)
            | RunError::NoMoSource { .. }
            | RunError::Mo(_)
            | RunError::MoSourceSpec { .. } => ExitStatus::Config,
            RunError::State(StateError::NotAStateFile { .. }) => ExitStatus::Config,
            RunError::State(StateError::Refused { .. } | StateError::NotConfirmed { .. }) => ExitStatus::Usage,
            RunError::OutputFolder { .. } | RunError::Publish { .. } | RunError::State(_) | RunError::Lock { .. } => {
                ExitStatus::Io
            }
            RunError::AlreadyRunning { .. } => ExitStatus::AlreadyRunning,
            RunError::Stopped { signal: "SIGINT", .. } => ExitStatus::Interrupted,
            RunError::Stopped { .. } => ExitStatus::Terminated,
            RunError::Dar(_) => ExitStatus::Config,
            RunError::Plugin { kind, .. } => match *kind {
                "config" | "denied" => ExitStatus::Config,
                "io" => ExitStatus::Io,
                _ => ExitStatus::PluginFailed,
            },
            RunError::Limit { .. } | RunError::Crash { .. } => ExitStatus::LimitOrCrash,
            RunError::Internal { .. } => ExitStatus::Internal,
        }
    }
}

/// A compiled plugin with what it asks of the host.
pub struct LoadedPlugin {
    pub spec: PluginSpec,
    pub component: wasmtime::component::Component,
    pub contract: Contract,
    pub cache: CacheOutcome,
    pub wasm_bytes: usize,
    pub wasm_sha256: String,
    pub load_time: Duration,
}

/// A failure as a `moport check` line shows it: what the operator must fix, or a service that
/// failed, and the error.
fn failing(err: &RunError) -> (Failing, String) {
    let kind = if err.exit_status() == ExitStatus::Io { Failing::Service } else { Failing::Config };
    (kind, err.to_string())
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub dry_run: bool,
    /// The run's date instead of today in Copenhagen (`moport run --today`, a fixture's date):
    /// what the plugin is told and what "valid today" means for its MO reads.
    pub today: Option<chrono::NaiveDate>,
    /// The run's start instead of the machine's clock (`moport test` fixtures), so that what a
    /// plugin derives from it is reproducible.
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Wait for another run of the plugin to end instead of refusing (`moport run --wait`).
    pub wait_for_other_run: bool,
    /// The plugin's run lock, when the caller took it (to record the run's start only once no
    /// other run of it goes on); else the run takes it.
    pub held_lock: Option<std::sync::Arc<RunLock>>,
    /// Held while the run publishes its files and saves its state, when the caller may end the
    /// process (on a signal) and must not do so halfway through those.
    pub finishing: Option<std::sync::Arc<std::sync::Mutex<()>>>,
}

/// The calendar date in Copenhagen at `instant`: MO's dates are Danish dates, and a host's own
/// time zone (often UTC on servers) would ask MO for yesterday between midnight and 01:00 or 02:00.
pub fn copenhagen_date(instant: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    instant.with_timezone(&chrono_tz::Europe::Copenhagen).date_naive()
}

#[derive(Debug)]
pub struct RunOutcome {
    pub report: Report,
    /// The output folder, when the plugin has one.
    pub output_dir: Option<PathBuf>,
    /// Files written in the run, relative to the output folder, with their sizes.
    pub files: Vec<(String, u64)>,
    /// Whether those files were put in the output folder (not under a dry run).
    pub published: bool,
    pub elapsed: Duration,
}

/// Runs the plugins of one plugins.toml. One engine serves every run, so runs in one process
/// share compiled code but nothing else: each gets its own store, memory, WASI and capabilities.
pub struct Host {
    engine: PluginEngine,
    cache: ComponentCache,
    manifest: Manifest,
    /// Where MO comes from when a plugin reads it; `--mo` over `[host] mo`.
    mo_spec: Option<MoSourceSpec>,
    /// The source, opened by the first run that reads MO and shared by the runs after it.
    mo: OnceLock<MoSource>,
    /// The DAR provider, opened by the first run granted `dar`.
    dar: OnceLock<DarProvider>,
}

impl Host {
    /// What the runs of this host have sent to a live MO so far.
    pub fn mo_traffic(&self) -> moport_mo::MoTraffic {
        self.mo.get().map(MoSource::traffic).unwrap_or_default()
    }

    pub fn new(manifest: Manifest, cache: ComponentCache) -> Result<Host, RunError> {
        let engine = PluginEngine::new().map_err(|err| RunError::Internal {
            plugin: "-".into(),
            message: format!("cannot start wasmtime: {err:#}"),
        })?;
        let mo_spec = manifest.mo.clone();
        Ok(Host { engine, cache, manifest, mo_spec, mo: OnceLock::new(), dar: OnceLock::new() })
    }

    /// Reads MO from this source instead of the one plugins.toml names.
    pub fn with_mo_spec(mut self, spec: MoSourceSpec) -> Host {
        self.mo_spec = Some(spec);
        self.mo = OnceLock::new();
        self
    }

    /// Reads MO from this already open source.
    pub fn with_mo(self, source: MoSource) -> Host {
        let _ = self.mo.set(source);
        self
    }

    fn mo_source(&self, plugin: &str) -> Result<MoSource, RunError> {
        if let Some(source) = self.mo.get() {
            return Ok(source.clone());
        }
        let spec = self.mo_spec.as_ref().ok_or_else(|| RunError::NoMoSource { plugin: plugin.into() })?;
        tracing::info!(source = %spec, "opening MO");
        let source = MoSource::open(spec)?;
        if let MoSource::Graphql(live) = &source {
            live.use_dar(self.dar_provider()?);
        }
        Ok(self.mo.get_or_init(|| source).clone())
    }

    fn dar_provider(&self) -> Result<DarProvider, RunError> {
        if let Some(provider) = self.dar.get() {
            return Ok(provider.clone());
        }
        tracing::info!(provider = %self.manifest.dar, "opening DAR");
        let provider = DarProvider::open(&self.manifest.dar)?;
        Ok(self.dar.get_or_init(|| provider).clone())
    }

    /// The MO source, if a run has opened it (or it was given).
    pub fn opened_mo(&self) -> Option<MoSource> {
        self.mo.get().cloned()
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn cache(&self) -> &ComponentCache {
        &self.cache
    }

    /// Compiles (or loads from the cache) a plugin's component and reads its contract.
    pub fn load(&self, name: &str) -> Result<LoadedPlugin, RunError> {
        compile(self.engine.engine(), &self.cache, self.manifest.plugin(name)?.clone())
    }

    /// Checks what a run of the plugin would reach, writing nothing: its component and grants,
    /// and each capability it imports, as that capability checks itself (MO: a token and one
    /// object of each collection; a remote target: a login and a listing; ...). Each line says
    /// what was checked and how it went.
    pub async fn check(&self, name: &str) -> Vec<CheckLine> {
        let loaded = match self.load(name).and_then(|loaded| {
            contract::check_grants(name, &loaded.contract, &loaded.spec.grants)?;
            Ok(loaded)
        }) {
            Ok(loaded) => loaded,
            Err(err) => return vec![CheckLine::new("component", Err(failing(&err)))],
        };
        let imports = |capability| loaded.contract.capabilities.contains(&capability);
        let mut lines = vec![CheckLine::new(
            "component",
            Ok(format!(
                "{} world, WIT {}, grants allow every import",
                loaded.contract.world, loaded.contract.wit_version
            )),
        )];
        if imports(Capability::MoRead) {
            match self.mo_source(name) {
                Ok(source) => lines.extend(moport_caps::mo::check(&source).await),
                Err(err) => lines.push(CheckLine::new("MO", Err(failing(&err)))),
            }
        }
        if imports(Capability::Dar) {
            match self.dar_provider() {
                Ok(provider) => lines.push(moport_caps::dar::check(&provider, &self.manifest.dar).await),
                Err(err) => lines.push(CheckLine::new("DAR", Err(failing(&err)))),
            }
        }
        if imports(Capability::State) {
            let store = StateStore::new(&self.manifest.state_dir, name);
            lines.push(moport_caps::state::check(&store, !loaded.spec.migrate_state.is_empty()));
        }
        if let Some(folder) = &loaded.spec.grants.files {
            lines.push(moport_caps::files::check(folder));
        }
        let remote = &loaded.spec.grants.remote;
        lines.extend(moport_caps::remote::check(remote, &self.manifest.targets, &self.manifest.unusable_targets).await);
        lines
    }

    /// Runs a plugin to the end, within its limits; compiling it counts against its time limit
    /// (it runs off the async executor, and a run whose compiling takes too long ends there).
    pub async fn run(&self, name: &str, options: &RunOptions) -> Result<RunOutcome, RunError> {
        let started = Instant::now();
        let spec = self.manifest.plugin(name)?.clone();
        let limit = spec.limits.time;
        let (engine, cache) = (self.engine.engine().clone(), self.cache.clone());
        let compiling = tokio::task::spawn_blocking(move || compile(&engine, &cache, spec));
        let loaded = match tokio::time::timeout(limit.0, compiling).await {
            Err(_elapsed) => {
                tracing::warn!(plugin = name, "compiling the component took longer than the plugin's time limit");
                return Err(RunError::Limit { plugin: name.into(), limit: LimitExceeded::Time { limit } });
            }
            Ok(joined) => joined
                .map_err(|err| RunError::Internal { plugin: name.into(), message: format!("compiling: {err}") })??,
        };
        self.run_loaded(&loaded, options, started).await
    }

    /// Runs a compiled plugin to the end, within its limits, counted from `started`.
    async fn run_loaded(
        &self,
        loaded: &LoadedPlugin,
        options: &RunOptions,
        started: Instant,
    ) -> Result<RunOutcome, RunError> {
        let spec = &loaded.spec;
        let plugin = spec.name.as_str();
        self.manifest.unusable_target_of(spec)?;
        let _lock = match &options.held_lock {
            Some(held) if held.plugin == plugin => None,
            Some(held) => {
                return Err(RunError::Internal {
                    plugin: plugin.into(),
                    message: format!("the run lock passed in is that of `{}`", held.plugin),
                });
            }
            None => Some(run_lock(&self.manifest.state_dir, plugin, options.wait_for_other_run)?),
        };
        contract::check_grants(plugin, &loaded.contract, &spec.grants)?;
        // What the contract check lets through and wasmtime still cannot link (a `wasi:*`
        // interface moport does not provide, an import or export of another shape) is the
        // component's fault: it is refused, naming why.
        let refused = |err: wasmtime::Error| RunError::BadComponent {
            plugin: plugin.into(),
            path: spec.component.clone(),
            message: format!("it cannot be linked to this moport: {err:#}"),
        };
        let instance_pre = self.engine.linker().instantiate_pre(&loaded.component).map_err(refused)?;
        let exports = ImporterIndices::new(&instance_pre).map_err(refused)?;

        let files = match &spec.grants.files {
            Some(dir) => Some(OutputFolder::open(dir, plugin).map_err(|source| RunError::OutputFolder {
                plugin: plugin.into(),
                path: dir.clone(),
                source,
            })?),
            None => None,
        };
        let today = match options.today.or(self.manifest.today) {
            Some(fixed) => {
                tracing::info!(today = %fixed, "the run's date is fixed (--today, MOPORT_TODAY or [host] today)");
                fixed
            }
            None => copenhagen_date(chrono::Utc::now()),
        };
        let mo = match loaded.contract.capabilities.contains(&Capability::MoRead) {
            true => {
                let write = loaded.contract.capabilities.contains(&Capability::MoWrite)
                    && spec.grants.mo == Some(moport_manifest::MoAccess::Write);
                let deadline = started + spec.limits.time.0;
                Some(MoAccess::new(self.mo_source(plugin)?, today, write, options.dry_run, deadline))
            }
            false => None,
        };
        let plugin_state = match loaded.contract.capabilities.contains(&Capability::State) {
            true => Some(PluginState::open(
                StateStore::new(&self.manifest.state_dir, plugin),
                &spec.migrate_state,
                &spec.settings,
                &self.manifest.base,
            )?),
            false => None,
        };
        let dar = match loaded.contract.capabilities.contains(&Capability::Dar) {
            true => Some(PluginDar::new(self.dar_provider()?)),
            false => None,
        };
        let stdout = CapturedOutput::new(CAPTURED_OUTPUT_BYTES);
        let stderr = CapturedOutput::new(CAPTURED_OUTPUT_BYTES);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: RunLimiter::new(spec.limits.memory),
            output: OutputBudget::new(spec.limits.output),
            log: PluginLog::new(plugin),
            settings: PluginSettings::new(Arc::new(spec.settings.clone())),
            files,
            mo,
            remote: PluginTargets::new(&spec.grants.remote, &self.manifest.targets, options.dry_run),
            state: plugin_state,
            dar,
        };
        let mut store = Store::new(self.engine.engine(), state);
        store.limiter(|state| &mut state.limiter);
        // What one call may hand the host (wasmtime's own default is 128 MiB whatever the
        // plugin's limit): without this, a list of strings that all point at the same bytes
        // would make the host copy far more than the plugin's memory holds.
        store.set_hostcall_fuel(usize::try_from(spec.limits.memory.0).unwrap_or(usize::MAX));
        store.set_epoch_deadline(PluginEngine::deadline_ticks(spec.limits.time.0));
        store.epoch_deadline_trap();

        let now = options.started_at.unwrap_or_else(chrono::Utc::now);
        let context = RunContext {
            plugin: plugin.to_owned(),
            dry_run: options.dry_run,
            started_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            today: today.to_string(),
        };
        tracing::info!(plugin, world = %loaded.contract.world, dry_run = options.dry_run, "starting");
        // The epoch deadline stops guest code that never yields; the timeout stops a run that
        // waits too long inside host calls.
        let run = async {
            let instance = instance_pre.instantiate_async(&mut store).await.map_err(|err| (Stage::Running, err))?;
            // wasmtime checks the shape of `run` only here, where no guest code runs: one of
            // another shape is the component's fault, refused as one that cannot be linked.
            let plugin = exports.load(&mut store, &instance).map_err(|err| (Stage::Linking, err))?;
            plugin.moport_host_plugin().call_run(&mut store, &context).await.map_err(|err| (Stage::Running, err))
        };
        let result = tokio::time::timeout(spec.limits.time.0.saturating_sub(started.elapsed()), run).await;
        store.data_mut().log.finish();
        log_captured(plugin, "stdout", &stdout);
        match result {
            Err(_elapsed) => {
                Err(RunError::Limit { plugin: plugin.into(), limit: LimitExceeded::Time { limit: spec.limits.time } })
            }
            Ok(Err((Stage::Linking, err))) => Err(RunError::BadComponent {
                plugin: plugin.into(),
                path: spec.component.clone(),
                message: format!(
                    "it cannot be linked to this moport: its `{WIT_PACKAGE}/plugin` export (`run`) is not what this \
                     moport calls ({err:#}); rebuild it against {WIT_PACKAGE}@{WIT_VERSION}"
                ),
            }),
            Ok(Err((_, trap))) => Err(classify_trap(plugin, spec, &trap, &stderr)),
            Ok(Ok(Err(error))) => {
                log_captured(plugin, "stderr", &stderr);
                let (kind, message) = describe(error);
                Err(RunError::Plugin { plugin: plugin.into(), kind, message })
            }
            Ok(Ok(Ok(report))) => {
                log_captured(plugin, "stderr", &stderr);
                let report = bounded(plugin, report);
                let _finishing = options
                    .finishing
                    .as_ref()
                    .map(|finishing| finishing.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                // The files first: a bookmark must not move past files that were not published.
                // A dry run publishes none, whatever the plugin wrote.
                if let Some(folder) = store.data_mut().files.as_mut().filter(|_| !options.dry_run) {
                    folder.publish().map_err(|source| RunError::Publish {
                        plugin: plugin.into(),
                        path: folder.root().to_owned(),
                        source,
                    })?;
                }
                // Only a whole, real run moves the state on, and only if its MO keeps what was
                // written: a bookmark past files imported into the in-memory demo would skip
                // them for the real MO.
                let mo_kept = store.data().mo.as_ref().is_none_or(|mo| !mo.write || mo.source.keeps_writes());
                match store.data().state.as_ref().filter(|_| !options.dry_run) {
                    Some(state) if !mo_kept && state.changed() => tracing::info!(
                        plugin,
                        "state not saved: this run's MO is held in memory only (`--mo demo`, or a `moport \
                         test` fixture's), so the plugin's bookmarks stay where they were"
                    ),
                    Some(state) if state.commit()? => tracing::info!(plugin, "state saved"),
                    _ => {}
                }
                let folder = store.data().files.as_ref();
                Ok(RunOutcome {
                    report,
                    output_dir: folder.map(|f| f.root().to_owned()),
                    files: folder.map(OutputFolder::written_files).unwrap_or_default(),
                    published: !options.dry_run,
                    elapsed: started.elapsed(),
                })
            }
        }
    }
}

/// Reads and compiles (or takes from the cache) a plugin's component and reads its contract. A
/// component larger than `limits.component` is refused before it is read whole: compiling takes
/// time and memory in proportion to its size.
fn compile(engine: &wasmtime::Engine, cache: &ComponentCache, spec: PluginSpec) -> Result<LoadedPlugin, RunError> {
    let started = Instant::now();
    let plugin = spec.name.as_str();
    let bad = |message: String| RunError::BadComponent { plugin: plugin.into(), path: spec.component.clone(), message };
    let wasm = match spec.builtin {
        Some(bytes) => std::borrow::Cow::Borrowed(bytes),
        None => {
            let file = std::fs::File::open(&spec.component).map_err(|err| match err.kind() {
                std::io::ErrorKind::NotFound => {
                    RunError::MissingComponent { plugin: plugin.into(), path: spec.component.clone() }
                }
                _ => bad(err.to_string()),
            })?;
            let mut wasm = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(file, spec.limits.component.0 + 1), &mut wasm)
                .map_err(|err| bad(err.to_string()))?;
            std::borrow::Cow::Owned(wasm)
        }
    };
    if wasm.len() as u64 > spec.limits.component.0 {
        let (path, limit) = (spec.component.clone(), spec.limits.component);
        return Err(RunError::ComponentTooLarge { plugin: plugin.into(), path, limit });
    }
    let (component, cache) = cache.load(engine, &wasm).map_err(|err| bad(format!("{err:#}")))?;
    let contract = contract::read_contract(plugin, engine, &component)?;
    Ok(LoadedPlugin {
        wasm_bytes: wasm.len(),
        wasm_sha256: sha256_hex(&wasm),
        load_time: started.elapsed(),
        spec,
        component,
        contract,
        cache,
    })
}

/// A plugin's run lock, held while this lives.
#[derive(Debug)]
pub struct RunLock {
    plugin: String,
    _file: std::fs::File,
}

/// A plugin's run lock in `state_dir`, held while the file lives: two runs of one plugin would
/// import the same files twice and lose one run's state, and `moport state set` or `clear`
/// during a run would be undone by its end. The system lets go of it however the process ends.
pub fn run_lock(state_dir: &Path, plugin: &str, wait: bool) -> Result<RunLock, RunError> {
    let path = state_dir.join(format!("{plugin}.lock"));
    let failed = |source| RunError::Lock { plugin: plugin.into(), path: path.clone(), source };
    std::fs::create_dir_all(state_dir).map_err(failed)?;
    let file = std::fs::File::options().create(true).truncate(false).write(true).open(&path).map_err(failed)?;
    let held = |file| RunLock { plugin: plugin.to_owned(), _file: file };
    match file.try_lock() {
        Ok(()) => Ok(held(file)),
        Err(std::fs::TryLockError::WouldBlock) if wait => {
            tracing::info!(plugin, lock = %path.display(), "waiting for the other run of the plugin to end");
            file.lock().map_err(failed)?;
            Ok(held(file))
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(RunError::AlreadyRunning { plugin: plugin.into(), path }),
        Err(std::fs::TryLockError::Error(source)) => Err(failed(source)),
    }
}

/// Counters of a report kept; a plugin's report is for people, not a data channel.
const MAX_COUNTS: usize = 1_000;

/// `report` cut to a size the operator can be shown: its summary to a message's length, its
/// counters to [`MAX_COUNTS`].
fn bounded(plugin: &str, mut report: Report) -> Report {
    report.summary = cut_to(&report.summary, MAX_MESSAGE_BYTES).into_owned();
    if report.counts.len() > MAX_COUNTS {
        tracing::warn!(
            plugin,
            counts = report.counts.len(),
            "the report's counters past the first {MAX_COUNTS} are left out"
        );
        report.counts.truncate(MAX_COUNTS);
    }
    for (name, _) in &mut report.counts {
        *name = cut_to(name, MAX_LABEL_BYTES).into_owned();
    }
    report
}

/// A plugin's error as the operator is shown it: its kind, and its message cut to a sane length
/// with control characters escaped.
fn describe(error: PluginError) -> (&'static str, String) {
    let (kind, message) = match error {
        PluginError::Config(m) => ("config", m),
        PluginError::Data(m) => ("data", m),
        PluginError::Io(m) => ("io", m),
        PluginError::Denied(m) => ("denied", m),
        PluginError::Internal(m) => ("internal", m),
    };
    (kind, printable(&cut_to(&message, MAX_MESSAGE_BYTES)).into_owned())
}

/// Where a run failed: checking the shape of the instance's exports, where no guest code runs,
/// or running guest code (the instance's start code, then `run`).
enum Stage {
    Linking,
    Running,
}

/// How wasmtime 48 words a call that handed the host more than `Store::set_hostcall_fuel`
/// allows (`tests/all/host_memory.rs` notices if that changes).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// Turns a trap into the limit or crash that caused it.
fn classify_trap(plugin: &str, spec: &PluginSpec, error: &wasmtime::Error, stderr: &CapturedOutput) -> RunError {
    if let Some(limit) = error.downcast_ref::<LimitExceeded>() {
        return RunError::Limit { plugin: plugin.into(), limit: limit.clone() };
    }
    // wasmtime's error for a call past the fuel set above is of a type it does not export.
    if error.chain().any(|cause| cause.to_string().contains(HOSTCALL_FUEL_EXHAUSTED)) {
        return RunError::Limit { plugin: plugin.into(), limit: LimitExceeded::Call { limit: spec.limits.memory } };
    }
    let cause = match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => {
            return RunError::Limit { plugin: plugin.into(), limit: LimitExceeded::Time { limit: spec.limits.time } };
        }
        Some(Trap::StackOverflow) => "stack overflow (runaway recursion?)".to_owned(),
        // Rust keeps its stack in linear memory below the data, so an overflowing Rust stack
        // shows up as an access below address 0 rather than as a wasm stack overflow.
        Some(Trap::MemoryOutOfBounds) => {
            "out-of-bounds memory access (in a Rust plugin usually a stack overflow from deep recursion)".to_owned()
        }
        Some(Trap::UnreachableCodeReached) => match panic_message(&String::from_utf8_lossy(&stderr.contents())) {
            Some(message) => format!("panicked at {message}"),
            None => "reached unreachable code (a Rust panic or abort)".to_owned(),
        },
        Some(trap) => trap.to_string(),
        // Not a trap: the plugin ended the process it thinks it has, or handed the host what
        // the component model refuses (a string that is no UTF-8, a list past a call's limit).
        None => match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => format!("it exited with status {} instead of returning from `run`", exit.0),
            None => format!("it handed the host what the component model refuses: {error:#}"),
        },
    };
    log_captured(plugin, "stderr", stderr);
    RunError::Crash { plugin: plugin.into(), cause }
}

/// The location and message of a Rust panic as the guest printed it to stderr.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at ")? + "panicked at ".len();
    let rest = &stderr[start..];
    let end = rest.find("\nnote:").unwrap_or(rest.len());
    Some(rest[..end].trim().replace('\n', " "))
}

fn log_captured(plugin: &str, stream: &str, captured: &CapturedOutput) {
    let contents = captured.contents();
    if !contents.is_empty() {
        let text = String::from_utf8_lossy(&contents);
        match captured.dropped() {
            0 => tracing::debug!(target: "plugin", plugin, "{stream}: {}", text.trim_end()),
            dropped => {
                tracing::debug!(target: "plugin", plugin, "{stream}: {}… [{dropped} more bytes not kept]", text.trim_end())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{copenhagen_date, panic_message};

    #[test]
    fn today_is_the_date_in_copenhagen_whatever_the_hosts_zone() {
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        let date = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        // 00:40 in Copenhagen is still yesterday in UTC, in winter and in summer.
        assert_eq!(copenhagen_date(at("2026-12-01T23:40:00Z")), date("2026-12-02"));
        assert_eq!(copenhagen_date(at("2026-06-30T22:40:00Z")), date("2026-07-01"));
        assert_eq!(copenhagen_date(at("2026-06-30T21:40:00Z")), date("2026-06-30"));
    }

    #[test]
    fn panic_messages_keep_location_and_text() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:51:24:\nprobe was told to panic\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(stderr).unwrap(), "src/lib.rs:51:24: probe was told to panic");
        assert_eq!(panic_message("nothing"), None);
    }
}
