//! `moport run` of one plugin or a job of several, the run ledger's line for each, and how a
//! run's result and the ledger are shown.

use super::*;

/// Runs `plugin`, recording its start and its end in the ledger and publishing the metrics at
/// each (a ledger or metrics that cannot be written is a warning: the run is what matters).
/// The start is recorded once the plugin's run lock is held: a second start refused because
/// another run goes on (exit 7) is recorded as ended, never as this plugin's run starting, and
/// with `--wait` the run starts when the wait is over.
pub(super) fn run_recorded(
    runtime: &tokio::runtime::Runtime,
    host: &Host,
    plugin: &str,
    options: &RunOptions,
    publisher: &crate::metrics::Publisher,
) -> Result<RunOutcome, RunError> {
    let locked = moport_runtime::runner::run_lock(publisher.state_dir(), plugin, options.wait_for_other_run);
    let (started, before) = (chrono::Utc::now(), host.mo_traffic());
    let result = match locked {
        Ok(lock) => {
            let start = crate::ledger::Started { plugin: plugin.to_owned(), started, dry_run: options.dry_run };
            record(runtime, publisher, plugin, crate::ledger::append_start(publisher.state_dir(), &start));
            let options = RunOptions { held_lock: Some(std::sync::Arc::new(lock)), ..options.clone() };
            runtime.block_on(host.run(plugin, &options))
        }
        Err(refused) => Err(refused),
    };
    let traffic = host.mo_traffic() - before;
    let (counts, files, bytes) = match &result {
        Ok(outcome) => (
            outcome.report.counts.iter().cloned().collect(),
            outcome.files.len() as u64,
            outcome.files.iter().map(|(_, size)| size).sum(),
        ),
        Err(_) => Default::default(),
    };
    let entry = crate::ledger::Entry {
        plugin: plugin.to_owned(),
        started,
        ended: chrono::Utc::now(),
        exit_code: result.as_ref().map_or_else(|err| err.exit_status() as u8, |_| 0),
        dry_run: options.dry_run,
        error: result.as_ref().err().map(|err| moport_manifest::secret::redact(&err.to_string()).into_owned()),
        counts,
        files,
        bytes,
        mo_requests: traffic.requests,
        mo_mutations: traffic.mutations,
    };
    record(runtime, publisher, plugin, crate::ledger::append(publisher.state_dir(), &entry.bounded()));
    result
}

/// After a ledger line was (or was not) written: warns of what failed, and publishes the
/// metrics.
fn record(
    runtime: &tokio::runtime::Runtime,
    publisher: &crate::metrics::Publisher,
    plugin: &str,
    appended: Result<(), crate::ledger::LedgerError>,
) {
    if let Err(err) = appended {
        tracing::warn!(plugin, "{err}; the run itself is not affected");
    }
    for err in publisher.publish(runtime, plugin) {
        tracing::warn!(plugin, "{err}; the run itself is not affected");
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
