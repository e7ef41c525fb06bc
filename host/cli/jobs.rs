//! `moport run` of one plugin or a job of several, the run ledger's line for each, and how a
//! run's result and the ledger are shown.

use super::*;

/// How long a run may take to stop after SIGTERM or SIGINT before moport ends without it: a
/// plugin stops when it next waits on the host (for MO, a remote target, an address), and one
/// computing without waiting would otherwise hold the stop until its time limit.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Where runs are recorded (the ledger and the metrics), the run going on, and whether a
/// signal asked moport to stop.
pub(super) struct Recorder {
    publisher: std::sync::Arc<crate::metrics::Publisher>,
    /// The run going on. Whoever takes it records its end, holding the lock until that is done:
    /// the main thread as a run ends, or the signal thread when a run does not stop in time.
    current: std::sync::Arc<std::sync::Mutex<Option<crate::ledger::Started>>>,
    /// The signal that asked moport to stop, once one has.
    stop: std::sync::Arc<tokio::sync::watch::Sender<Option<&'static str>>>,
    /// Held by a run while it publishes its files and saves its state, and by the signal
    /// thread as it ends moport: never halfway through those.
    finishing: std::sync::Arc<std::sync::Mutex<()>>,
}

impl Recorder {
    pub(super) fn new(publisher: crate::metrics::Publisher) -> Recorder {
        Recorder {
            publisher: std::sync::Arc::new(publisher),
            current: Default::default(),
            stop: std::sync::Arc::new(tokio::sync::watch::Sender::new(None)),
            finishing: Default::default(),
        }
    }

    /// The signal that asked moport to stop, if one has.
    pub(super) fn stopped_by(&self) -> Option<&'static str> {
        *self.stop.borrow()
    }

    /// From now on SIGTERM (systemd's stop, a pod's deadline) and SIGINT (Ctrl-C) stop moport:
    /// the run going on ends when it next waits on the host, unfinished (its files not
    /// published, its state not saved), and is recorded as stopped; no further plugin of the
    /// job runs; moport ends with 143 or 130. A run that has not stopped after [`STOP_GRACE`],
    /// or a second signal, ends moport at once, the run recorded as stopped all the same.
    pub(super) fn stop_on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        // Registered here, before any run starts; waited for on a thread of their own.
        let (mut terminate, mut interrupt) = {
            let _context = runtime.enter();
            (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)
        };
        let (publisher, current, stop) = (self.publisher.clone(), self.current.clone(), self.stop.clone());
        let finishing = self.finishing.clone();
        std::thread::Builder::new().name("moport-signals".into()).spawn(move || {
            let signal = runtime.block_on(async {
                tokio::select! {
                    _ = terminate.recv() => "SIGTERM",
                    _ = interrupt.recv() => "SIGINT",
                }
            });
            tracing::warn!("{signal}: moport stops; the run going on ends when it next waits on the host");
            stop.send_replace(Some(signal));
            runtime.block_on(async {
                tokio::select! {
                    _ = tokio::time::sleep(STOP_GRACE) => {}
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                }
            });
            // Both held until the process ends: a run publishing its files or saving its state
            // finishes that first, and the main thread, if it is writing a run's end, finishes
            // the line; after this it writes nothing.
            let _finishing = finishing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut current = current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let status = stopped_status(signal);
            if let Some(start) = current.take() {
                let plugin = start.plugin.clone();
                tracing::warn!(plugin, "{signal}: the run did not stop in time; moport ends without it");
                let entry = crate::ledger::Entry {
                    ended: chrono::Utc::now(),
                    exit_code: status as u8,
                    error: Some(format!("stopped by {signal} before it ended (it did not stop in time)")),
                    ..crate::ledger::Entry::started(start)
                };
                if let Err(err) = crate::ledger::append(publisher.state_dir(), &entry) {
                    tracing::warn!(plugin, "{err}");
                }
                for err in publisher.publish(&runtime, &plugin) {
                    tracing::warn!(plugin, "{err}");
                }
            }
            std::process::exit(i32::from(status as u8));
        })?;
        Ok(())
    }

    /// Runs `plugin`, recording its start and its end in the ledger and publishing the metrics
    /// at each (a ledger or metrics that cannot be written is a warning: the run is what
    /// matters). The start is recorded once the plugin's run lock is held, which is let go
    /// only after the end is recorded: a second start refused because another run goes on
    /// (exit 7) is recorded as ended, never as this plugin's run starting, and with `--wait`
    /// the run starts when the wait is over.
    pub(super) fn run(
        &self,
        runtime: &tokio::runtime::Runtime,
        host: &Host,
        plugin: &str,
        options: &RunOptions,
    ) -> Result<RunOutcome, RunError> {
        let state_dir = self.publisher.state_dir();
        let lock = moport_runtime::runner::run_lock(state_dir, plugin, options.wait_for_other_run);
        if let Some(signal) = self.stopped_by() {
            // Stopped while it waited for the lock, or before it: it never starts.
            return Err(RunError::Stopped { plugin: plugin.to_owned(), signal });
        }
        let (started, before) = (chrono::Utc::now(), host.mo_traffic());
        let start = crate::ledger::Started { plugin: plugin.to_owned(), started, dry_run: options.dry_run };
        let mut held_lock = None;
        let result = match lock {
            Ok(lock) => {
                {
                    let mut current = self.current();
                    *current = Some(start.clone());
                    self.warn_of(plugin, crate::ledger::append_start(state_dir, &start));
                }
                self.publish(runtime, plugin);
                let lock = std::sync::Arc::new(lock);
                held_lock = Some(lock.clone());
                let options =
                    RunOptions { held_lock: Some(lock), finishing: Some(self.finishing.clone()), ..options.clone() };
                let mut stop = self.stop.subscribe();
                runtime.block_on(async {
                    tokio::select! {
                        biased;
                        result = host.run(plugin, &options) => result,
                        Ok(signal) = stop.wait_for(Option::is_some) => {
                            Err(RunError::Stopped { plugin: plugin.to_owned(), signal: signal.expect("waited for") })
                        }
                    }
                })
            }
            Err(refused) => Err(refused),
        };
        let traffic = host.mo_traffic() - before;
        let mut entry = crate::ledger::Entry {
            ended: chrono::Utc::now(),
            mo_requests: traffic.requests,
            mo_mutations: traffic.mutations,
            ..crate::ledger::Entry::started(start)
        };
        match &result {
            Ok(outcome) => {
                entry.counts = outcome.report.counts.iter().cloned().collect();
                entry.files = outcome.files.len() as u64;
                entry.bytes = outcome.files.iter().map(|(_, size)| size).sum();
            }
            Err(err) => {
                entry.exit_code = err.exit_status() as u8;
                entry.error = Some(moport_manifest::secret::redact(&err.to_string()).into_owned());
            }
        }
        {
            // Whoever takes the run writes its end; the signal thread may have, as moport ends.
            let mut current = self.current();
            if held_lock.is_some() && current.take().is_none() {
                return result;
            }
            self.warn_of(plugin, crate::ledger::append(state_dir, &entry.bounded()));
        }
        self.publish(runtime, plugin);
        drop(held_lock);
        result
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Option<crate::ledger::Started>> {
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn warn_of(&self, plugin: &str, appended: Result<(), crate::ledger::LedgerError>) {
        if let Err(err) = appended {
            tracing::warn!(plugin, "{err}; the run itself is not affected");
        }
    }

    fn publish(&self, runtime: &tokio::runtime::Runtime, plugin: &str) {
        for err in self.publisher.publish(runtime, plugin) {
            tracing::warn!(plugin, "{err}; the run itself is not affected");
        }
    }
}

/// The exit code of a run `signal` stopped, as the runtime gives it.
fn stopped_status(signal: &'static str) -> ExitStatus {
    RunError::Stopped { plugin: String::new(), signal }.exit_status()
}

/// A job's summary, for a job of several plugins, and its exit code: that of a signal that cut
/// it short, else that of the first plugin that failed.
pub(super) fn job_result(
    format: LogFormat,
    plugins: &[String],
    ended: &[(&str, ExitStatus)],
    stopped_by: Option<&'static str>,
) -> Result<(), CliError> {
    // A stop counts where it cut the job short: a run ended stopped, or plugins were not run.
    let cut_short = ended.len() < plugins.len()
        || ended.iter().any(|(_, status)| matches!(status, ExitStatus::Interrupted | ExitStatus::Terminated));
    let stopped_by = stopped_by.filter(|_| cut_short);
    let stopped = stopped_by.map(stopped_status);
    let status =
        stopped.or_else(|| ended.iter().map(|(_, status)| *status).find(|status| *status != ExitStatus::Success));
    if plugins.len() > 1 {
        let not_run = &plugins[ended.len()..];
        match format {
            LogFormat::Human => {
                let mut summary = format!("job of {} plugins:\n", plugins.len());
                for (plugin, status) in ended {
                    let _ = match status {
                        ExitStatus::Success => writeln!(summary, "  {plugin}: ok"),
                        failed => writeln!(summary, "  {plugin}: failed (exit {})", *failed as u8),
                    };
                }
                for plugin in not_run {
                    let _ = writeln!(summary, "  {plugin}: not run");
                }
                say_part!("{summary}");
            }
            LogFormat::Json => {
                let runs: Vec<_> = ended
                    .iter()
                    .map(|(plugin, status)| serde_json::json!({"plugin": plugin, "exit_code": *status as u8}))
                    .chain(not_run.iter().map(|plugin| serde_json::json!({"plugin": plugin, "exit_code": null})))
                    .collect();
                let exit_code = status.unwrap_or(ExitStatus::Success) as u8;
                say!("{}", serde_json::json!({"job": runs, "exit_code": exit_code}));
            }
        }
        if let Some(status) = status {
            let failed = ended
                .iter()
                .filter(|(_, status)| *status != ExitStatus::Success)
                .map(|(plugin, status)| format!("{plugin} (exit {})", *status as u8))
                .chain(stopped_by.map(|signal| format!("moport was stopped by {signal}")))
                .collect();
            return Err(CliError::JobFailed { failed, not_run: not_run.to_vec(), status });
        }
    }
    Ok(())
}

/// The ledger's runs as a table for people.
pub(super) fn describe_runs(runs: &[crate::ledger::Run], plugin: Option<&str>) -> String {
    use crate::ledger::Run;
    if runs.is_empty() {
        return match plugin {
            Some(plugin) => format!("no runs of `{plugin}` are recorded\n"),
            None => "no runs are recorded\n".to_owned(),
        };
    }
    let mut out = format!(
        "{:<20} {:<16} {:>4} {:>9} {:>6} {:>12} {:>8} {:>9}\n",
        "started (UTC)", "plugin", "exit", "took", "files", "bytes", "MO req.", "mutations"
    );
    for run in runs {
        let started = run.started().format("%Y-%m-%d %H:%M:%S");
        let dry_run = if run.dry_run() { "  (dry run)" } else { "" };
        let entry = match run {
            Run::Ended(entry) => entry,
            Run::Unfinished(start) => {
                let _ = writeln!(
                    out,
                    "{started:<20} {:<16} {:>4}   did not end: still running, or killed{dry_run}",
                    start.plugin, "-"
                );
                continue;
            }
        };
        let _ = writeln!(
            out,
            "{started:<20} {:<16} {:>4} {:>7.1} s {:>6} {:>12} {:>8} {:>9}{dry_run}",
            entry.plugin,
            entry.exit_code,
            entry.seconds(),
            entry.files,
            entry.bytes,
            entry.mo_requests,
            entry.mo_mutations,
        );
        if let Some(error) = &entry.error {
            let _ = writeln!(out, "    {}", printable(error));
        }
    }
    out
}

/// A run's report for people: what the plugin says is shown escaped, as a report on a terminal
/// must not drive it (an escape sequence) or forge a line (a newline).
pub(super) fn describe_outcome(plugin: &str, outcome: &RunOutcome) -> String {
    let shown = |text: &str| printable(&cut_to(text, MAX_MESSAGE_BYTES)).into_owned();
    let mut out = format!("{plugin}: {}\n", shown(&outcome.report.summary));
    for (name, value) in &outcome.report.counts {
        let _ = writeln!(out, "  {}: {value}", shown(name));
    }
    if let Some(dir) = &outcome.output_dir
        && !outcome.files.is_empty()
    {
        let _ = match outcome.published {
            true => writeln!(out, "  files in {}:", dir.display()),
            false => writeln!(out, "  files the plugin wrote, not put in {} (dry run):", dir.display()),
        };
        for (name, size) in &outcome.files {
            let _ = writeln!(out, "    {} ({size} bytes)", shown(name));
        }
    }
    let _ = writeln!(out, "  took {:.2} s", outcome.elapsed.as_secs_f64());
    out
}

pub(super) fn outcome_json(plugin: &str, outcome: &RunOutcome) -> serde_json::Value {
    serde_json::json!({
        "plugin": plugin,
        "summary": outcome.report.summary,
        "counts": outcome.report.counts.iter().map(|(k, v)| serde_json::json!({"name": k, "value": v})).collect::<Vec<_>>(),
        "output_dir": outcome.output_dir,
        "files": outcome.files.iter().map(|(name, size)| serde_json::json!({"path": name, "bytes": size})).collect::<Vec<_>>(),
        "files_published": outcome.published,
        "elapsed_ms": outcome.elapsed.as_millis() as u64,
        "exit_code": 0,
    })
}
