//! Monitoring of runs: the ledger's runs of each plugin as Prometheus metrics under DIPEX
//! job-runner's names (`mo_start_time`, `mo_end_time`, `mo_return_code`, one `job` per plugin)
//! and moport's own, written to a file for node_exporter's text file collector and pushed to a
//! Pushgateway, as each run starts and as it ends.
//!
//! As with job-runner, a run that starts moves `mo_start_time` on while `mo_end_time` and
//! `mo_return_code` still tell of the run before; `moport_run_unfinished` says a run started and
//! has not ended, which after a kill stays so until the next run (alert on it, or on
//! `mo_start_time > mo_end_time` for longer than a night's run takes). Dry runs, and runs refused
//! because the plugin was already running, are not the job's runs.

use crate::ledger::{self, Entry, Run};
use chrono::{DateTime, Utc};
use moport_runtime::ExitStatus;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How long a push may take: a Pushgateway that does not answer must not hold the night's job.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// The file in the state folder whose lock publishers take in turn.
const LOCK_FILE: &str = "metrics.lock";
/// How long a publisher waits for another to be done.
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// How much of a Pushgateway's refusal is shown.
const MAX_REFUSAL_BYTES: usize = 512;

/// The families, in the order they are written, each with its help text.
const FAMILIES: [(&str, &str); 9] = [
    ("mo_start_time", "When the job's last run started (Unix time)"),
    ("mo_end_time", "When the job's last finished run ended (Unix time)"),
    ("mo_return_code", "The exit code of the job's last finished run"),
    ("moport_run_unfinished", "1 while the job's last run has started and not ended (running, or killed)"),
    ("moport_run_duration_seconds", "How long the job's last finished run took"),
    ("moport_run_files", "Files the job's last finished run put in its output folder"),
    ("moport_run_bytes", "Bytes of those files"),
    ("moport_run_mo_requests", "Requests the job's last finished run sent to MO"),
    ("moport_run_mo_mutations", "Mutations MO took in the job's last finished run"),
];

/// One job's samples, by family (all gauges); the families of a finished run are missing until
/// one has finished.
fn samples(latest: &Run, last_ended: Option<&Entry>) -> BTreeMap<&'static str, f64> {
    let mut samples = BTreeMap::from([
        ("mo_start_time", unix(&latest.started())),
        ("moport_run_unfinished", f64::from(u8::from(matches!(latest, Run::Unfinished(_))))),
    ]);
    if let Some(entry) = last_ended {
        samples.extend([
            ("mo_end_time", unix(&entry.ended)),
            ("mo_return_code", f64::from(entry.exit_code)),
            ("moport_run_duration_seconds", entry.seconds()),
            ("moport_run_files", entry.files as f64),
            ("moport_run_bytes", entry.bytes as f64),
            ("moport_run_mo_requests", entry.mo_requests as f64),
            ("moport_run_mo_mutations", entry.mo_mutations as f64),
        ]);
    }
    samples
}

/// A job's samples, by family.
type Samples = BTreeMap<&'static str, f64>;

/// Each job's samples from `runs` (in the order they started).
fn jobs(runs: &[Run]) -> BTreeMap<&str, Samples> {
    let refused = ExitStatus::AlreadyRunning as u8;
    let mut last: BTreeMap<&str, (&Run, Option<&Entry>)> = BTreeMap::new();
    for run in runs.iter().filter(|run| !run.dry_run()) {
        let ended = match run {
            Run::Ended(entry) if entry.exit_code == refused => continue,
            Run::Ended(entry) => Some(entry),
            Run::Unfinished(_) => None,
        };
        let job = last.entry(run.plugin()).or_insert((run, None));
        job.0 = run;
        if ended.is_some() {
            job.1 = ended;
        }
    }
    last.into_iter().map(|(job, (latest, ended))| (job, samples(latest, ended))).collect()
}

/// Prometheus's text format of every job's samples, labelled `job` (the file).
fn text(jobs: &BTreeMap<&str, Samples>) -> String {
    exposition(jobs.iter().map(|(job, samples)| (Some(*job), samples)))
}

/// The text format of one job's samples without labels (its Pushgateway group, whose grouping
/// key gives the job).
fn job_text(jobs: &BTreeMap<&str, Samples>, job: &str) -> Option<String> {
    Some(exposition(std::iter::once((None, jobs.get(job)?))))
}

/// Each family that has samples: its help and type, then a line per job, labelled with the job
/// where one is given.
fn exposition<'a>(jobs: impl Iterator<Item = (Option<&'a str>, &'a Samples)> + Clone) -> String {
    let mut text = String::new();
    for (name, help) in FAMILIES {
        let lines: Vec<String> = jobs
            .clone()
            .filter_map(|(job, samples)| {
                let value = samples.get(name)?;
                Some(match job {
                    Some(job) => format!("{name}{{job=\"{}\"}} {value}\n", label_value(job)),
                    None => format!("{name} {value}\n"),
                })
            })
            .collect();
        if !lines.is_empty() {
            text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
            text.extend(lines);
        }
    }
    text
}

/// A label value as the text format writes it: the ledger is a file anyone with access may
/// have edited, and one bad line must not make node_exporter refuse the whole file.
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn unix(time: &DateTime<Utc>) -> f64 {
    time.timestamp_millis() as f64 / 1000.0
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    #[error("cannot write the metrics file {}: {source}", file.display())]
    File { file: PathBuf, source: std::io::Error },
    #[error("cannot take the metrics lock {}: {source}", file.display())]
    Lock { file: PathBuf, source: std::io::Error },
    #[error("cannot push the metrics of `{job}` to the Pushgateway at {url}: {message}")]
    Push { url: String, job: String, message: String },
}

/// Where the metrics go, as plugins.toml's `[host]` says.
pub struct Publisher {
    state_dir: PathBuf,
    file: Option<PathBuf>,
    pushgateway: Option<(String, reqwest::Client)>,
}

impl Publisher {
    pub fn new(manifest: &moport_manifest::Manifest) -> Publisher {
        let client = || {
            reqwest::Client::builder()
                .timeout(PUSH_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client with a timeout builds")
        };
        Publisher {
            state_dir: manifest.state_dir.clone(),
            file: manifest.metrics_file.clone(),
            pushgateway: manifest.pushgateway.clone().map(|url| (url, client())),
        }
    }

    /// The state folder, which holds the ledger the metrics come from.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.state_dir
    }

    /// After a run of `job` starts or ends: rewrites the file (atomically, as node_exporter
    /// reads it at any moment) and replaces the job's group on the Pushgateway. Each place is
    /// tried whatever became of the other; what failed is returned, for warnings: monitoring
    /// that cannot be reached does not fail a run. Publishers of other runs wait their turn
    /// (`metrics.lock` in the state folder), so an older reading of the ledger never overwrites
    /// a newer one.
    pub fn publish(&self, runtime: &tokio::runtime::Runtime, job: &str) -> Vec<MetricsError> {
        if self.file.is_none() && self.pushgateway.is_none() {
            return Vec::new();
        }
        let lock_path = self.state_dir.join(LOCK_FILE);
        let locked = std::fs::create_dir_all(&self.state_dir)
            .and_then(|()| std::fs::File::options().create(true).truncate(false).write(true).open(&lock_path))
            .and_then(|file| {
                // Another publisher holds it for a push at most; one that holds it longer is
                // stuck, and this run's monitoring waits no longer for it.
                let began = std::time::Instant::now();
                loop {
                    match file.try_lock() {
                        Ok(()) => return Ok(file),
                        Err(std::fs::TryLockError::WouldBlock) if began.elapsed() < LOCK_WAIT => {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        Err(std::fs::TryLockError::WouldBlock) => {
                            return Err(std::io::Error::other(format!(
                                "another moport has held it for {} s; metrics not published this time",
                                LOCK_WAIT.as_secs()
                            )));
                        }
                        Err(std::fs::TryLockError::Error(err)) => return Err(err),
                    }
                }
            });
        let _lock = match locked {
            Ok(lock) => lock,
            Err(source) => return vec![MetricsError::Lock { file: lock_path, source }],
        };
        let runs = match ledger::read(&self.state_dir, None) {
            Ok((runs, _)) => runs,
            Err(err) => return vec![err.into()],
        };
        let jobs = jobs(&runs);
        let mut failures = Vec::new();
        if let Some(file) = &self.file
            && let Err(source) = moport_fs::write_atomically(file, text(&jobs).as_bytes())
        {
            failures.push(MetricsError::File { file: file.clone(), source });
        }
        if let (Some((url, client)), Some(body)) = (&self.pushgateway, job_text(&jobs, job))
            && let Err(message) = runtime.block_on(push(client, url, job, body))
        {
            failures.push(MetricsError::Push { url: url.clone(), job: job.to_owned(), message });
        }
        failures
    }
}

/// Replaces the group `job` on the Pushgateway at `url` (PUT, so a family the run no longer
/// has, like a finished run's `moport_run_unfinished`, does not linger).
async fn push(client: &reqwest::Client, url: &str, job: &str, body: String) -> Result<(), String> {
    // Plugin names are lower-case letters, digits and `-`: nothing to escape in a path.
    let response = client
        .put(format!("{url}/metrics/job/{job}"))
        .header(reqwest::header::CONTENT_TYPE, "text/plain; version=0.0.4")
        .body(body)
        .send()
        .await
        .map_err(|err| moport_mo::graphql::client::transport_problem(&err))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let said = response.text().await.unwrap_or_default();
    Err(format!("it answered {status}: {}", moport_caps::log::cut_to(said.trim(), MAX_REFUSAL_BYTES)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Started;

    fn ended(plugin: &str, exit_code: u8, dry_run: bool, at: &str) -> Run {
        Run::Ended(crate::ledger::tests::entry(plugin, exit_code, dry_run, at))
    }

    fn unfinished(plugin: &str, at: &str) -> Run {
        Run::Unfinished(Started { plugin: plugin.into(), started: at.parse().unwrap(), dry_run: false })
    }

    #[test]
    fn each_job_s_last_real_run_is_written_under_dipex_s_names() {
        let runs = [
            ended("plan2learn", 6, false, "2026-12-06T02:00:00Z"),
            ended("plan2learn", 0, false, "2026-12-07T02:00:00Z"),
            ended("plan2learn", 4, true, "2026-12-07T09:00:00Z"),
            // A second start while the night's run went on: refused, not the job's run.
            ended("plan2learn", ExitStatus::AlreadyRunning as u8, false, "2026-12-07T02:00:01Z"),
        ];
        let text = text(&jobs(&runs));
        assert!(text.contains("# TYPE mo_return_code gauge\nmo_return_code{job=\"plan2learn\"} 0\n"), "{text}");
        assert!(text.contains("mo_start_time{job=\"plan2learn\"} 1796608800\n"), "{text}");
        assert!(text.contains("mo_end_time{job=\"plan2learn\"} 1796608801.5\n"), "{text}");
        assert!(text.contains("moport_run_mo_requests{job=\"plan2learn\"} 47\n"), "{text}");
        assert!(text.contains("moport_run_unfinished{job=\"plan2learn\"} 0\n"), "{text}");
        let odd = super::text(&jobs(&[ended("a\"b\\c\nd", 0, false, "2026-12-07T02:00:00Z")]));
        assert!(odd.contains("mo_return_code{job=\"a\\\"b\\\\c\\nd\"} 0\n"), "{odd}");
    }

    #[test]
    fn a_run_that_started_and_did_not_end_moves_the_start_on_and_says_so() {
        let runs =
            [ended("aarhus-los", 0, false, "2026-12-06T02:00:00Z"), unfinished("aarhus-los", "2026-12-07T02:00:00Z")];
        let text = text(&jobs(&runs));
        assert!(text.contains("mo_start_time{job=\"aarhus-los\"} 1796608800\n"), "{text}");
        assert!(text.contains("mo_end_time{job=\"aarhus-los\"} 1796522401.5\n"), "the night before's end: {text}");
        assert!(text.contains("mo_return_code{job=\"aarhus-los\"} 0\n"), "{text}");
        assert!(text.contains("moport_run_unfinished{job=\"aarhus-los\"} 1\n"), "{text}");
        // A job's first run, still going: nothing of a finished run yet.
        let first = job_text(&jobs(&[unfinished("plan2learn", "2026-12-07T02:00:00Z")]), "plan2learn").unwrap();
        assert!(
            first.contains("\nmo_start_time 1796608800\n") && first.contains("\nmoport_run_unfinished 1\n"),
            "{first}"
        );
        assert!(!first.contains("mo_return_code"), "{first}");
        assert_eq!(job_text(&jobs(&runs), "plan2learn"), None);
    }
}
