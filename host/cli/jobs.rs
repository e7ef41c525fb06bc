//! `moport run` of one plugin or a job of several, the run ledger's line for each, and how a
//! run's result and the ledger are shown.

use super::*;

/// Where runs are recorded: the ledger and the metrics, and the run going on, which a signal
/// that stops moport records as stopped.
pub(super) struct Recorder {
    publisher: std::sync::Arc<crate::metrics::Publisher>,
    current: std::sync::Arc<std::sync::Mutex<Option<crate::ledger::Started>>>,
}

impl Recorder {
    pub(super) fn new(publisher: crate::metrics::Publisher) -> Recorder {
        Recorder { publisher: std::sync::Arc::new(publisher), current: Default::default() }
    }

    /// Sets or takes the run going on; whoever takes it writes its end.
    fn current(&self) -> std::sync::MutexGuard<'_, Option<crate::ledger::Started>> {
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// From now on, SIGTERM (systemd's stop, a pod's deadline) and SIGINT (Ctrl-C) end moport
    /// with 143 and 130, as the shell reports a process those signals end, after writing the
    /// end of the run going on, as stopped, to the ledger and the metrics: an operator sees why
    /// the night's run ended, not a run that never ended. What the run had done stays as a kill
    /// leaves it (files not published, state not saved, MO's writes so far kept).
    pub(super) fn stop_on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        // Registered here, before any run starts; waited for on a thread of their own.
        let (mut terminate, mut interrupt) = {
            let _context = runtime.enter();
            (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)
        };
        let (publisher, current) = (self.publisher.clone(), self.current.clone());
        std::thread::Builder::new().name("moport-signals".into()).spawn(move || {
            let (signal, code) = runtime.block_on(async {
                tokio::select! {
                    _ = terminate.recv() => ("SIGTERM", 143),
                    _ = interrupt.recv() => ("SIGINT", 130),
                }
            });
            let stopped = current.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            match stopped {
                Some(start) => {
                    let plugin = start.plugin.clone();
                    tracing::warn!(plugin, "{signal}: moport stops; the run is recorded as stopped before it ended");
                    let entry = crate::ledger::Entry {
                        ended: chrono::Utc::now(),
                        exit_code: code,
                        error: Some(format!("stopped by {signal} before it ended")),
                        ..crate::ledger::Entry::started(start)
                    };
                    if let Err(err) = crate::ledger::append(publisher.state_dir(), &entry) {
                        tracing::warn!(plugin, "{err}");
                    }
                    for err in publisher.publish(&runtime, &plugin) {
                        tracing::warn!(plugin, "{err}");
                    }
                }
                None => tracing::warn!("{signal}: moport stops"),
            }
            std::process::exit(i32::from(code));
        })?;
        Ok(())
    }

    /// Runs `plugin`, recording its start and its end in the ledger and publishing the metrics
    /// at each (a ledger or metrics that cannot be written is a warning: the run is what
    /// matters). The start is recorded once the plugin's run lock is held: a second start
    /// refused because another run goes on (exit 7) is recorded as ended, never as this
    /// plugin's run starting, and with `--wait` the run starts when the wait is over.
    pub(super) fn run(
        &self,
        runtime: &tokio::runtime::Runtime,
        host: &Host,
        plugin: &str,
        options: &RunOptions,
    ) -> Result<RunOutcome, RunError> {
        let state_dir = self.publisher.state_dir();
        let locked = moport_runtime::runner::run_lock(state_dir, plugin, options.wait_for_other_run);
        let (started, before) = (chrono::Utc::now(), host.mo_traffic());
        let start = crate::ledger::Started { plugin: plugin.to_owned(), started, dry_run: options.dry_run };
        let result = match locked {
            Ok(lock) => {
                self.record(runtime, plugin, crate::ledger::append_start(state_dir, &start));
                *self.current() = Some(start.clone());
                let options = RunOptions { held_lock: Some(std::sync::Arc::new(lock)), ..options.clone() };
                let result = runtime.block_on(host.run(plugin, &options));
                if self.current().take().is_none() {
                    // A signal took the run to record it as stopped; moport is about to end.
                    return result;
                }
                result
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
        self.record(runtime, plugin, crate::ledger::append(state_dir, &entry.bounded()));
        result
    }

    /// After a ledger line was (or was not) written: warns of what failed, and publishes the
    /// metrics.
    fn record(
        &self,
        runtime: &tokio::runtime::Runtime,
        plugin: &str,
        appended: Result<(), crate::ledger::LedgerError>,
    ) {
        if let Err(err) = appended {
            tracing::warn!(plugin, "{err}; the run itself is not affected");
        }
        for err in self.publisher.publish(runtime, plugin) {
            tracing::warn!(plugin, "{err}; the run itself is not affected");
        }
    }
}

/// A job's summary, for a job of several plugins, and its exit code: that of the first plugin
/// that failed.
pub(super) fn job_result(format: LogFormat, plugins: &[String], ended: &[(&str, ExitStatus)]) -> Result<(), CliError> {
    let status = ended.iter().map(|(_, status)| *status).find(|status| *status != ExitStatus::Success);
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
                print!("{summary}");
            }
            LogFormat::Json => {
                let runs: Vec<_> = ended
                    .iter()
                    .map(|(plugin, status)| serde_json::json!({"plugin": plugin, "exit_code": *status as u8}))
                    .chain(not_run.iter().map(|plugin| serde_json::json!({"plugin": plugin, "exit_code": null})))
                    .collect();
                let exit_code = status.unwrap_or(ExitStatus::Success) as u8;
                println!("{}", serde_json::json!({"job": runs, "exit_code": exit_code}));
            }
        }
        if let Some(status) = status {
            let failed = ended
                .iter()
                .filter(|(_, status)| *status != ExitStatus::Success)
                .map(|(plugin, status)| format!("{plugin} (exit {})", *status as u8))
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
