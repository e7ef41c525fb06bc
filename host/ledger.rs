//! The run ledger: one JSON line per `moport run` of a plugin, appended to `runs.jsonl` in the
//! state folder, for `moport runs` and for monitoring (the Prometheus text file below).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The ledger's file name in the state folder.
pub const FILE_NAME: &str = "runs.jsonl";
/// How much of the ledger's end is read: years of nightly runs, never the whole of a file
/// something else has grown.
const TAIL_BYTES: u64 = 4 << 20;
/// A report's counters kept in the ledger (a report may hold 1,000).
const MAX_COUNTS: usize = 100;
/// An error's length in the ledger.
const MAX_ERROR_BYTES: usize = 2048;

/// One run of one plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub plugin: String,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub exit_code: u8,
    pub dry_run: bool,
    /// Why the run failed, without secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The plugin's report counters.
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    /// Files the run put in its output folder, and their bytes.
    pub files: u64,
    pub bytes: u64,
    /// Requests sent to a live MO, and the mutations in them MO took.
    pub mo_requests: u64,
    pub mo_mutations: u64,
}

impl Entry {
    pub fn seconds(&self) -> f64 {
        (self.ended - self.started).num_milliseconds() as f64 / 1000.0
    }

    /// Cuts what a plugin said to the ledger's sizes.
    pub fn bounded(mut self) -> Entry {
        if self.counts.len() > MAX_COUNTS {
            self.counts = std::mem::take(&mut self.counts).into_iter().take(MAX_COUNTS).collect();
        }
        if let Some(error) = &mut self.error {
            *error = moport_caps::log::cut_to(error, MAX_ERROR_BYTES).into_owned();
        }
        self
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the run ledger {}: {source}", path.display())]
pub struct LedgerError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Appends `entry` as one line, written with one call so that runs of other plugins ending at
/// the same moment do not interleave.
pub fn append(state_dir: &Path, entry: &Entry) -> Result<(), LedgerError> {
    let path = path(state_dir);
    let failed = |source| LedgerError { path: path.clone(), source };
    std::fs::create_dir_all(state_dir).map_err(failed)?;
    let mut line = serde_json::to_vec(entry).expect("an entry serialises");
    line.push(b'\n');
    let mut file = std::fs::File::options().create(true).append(true).open(&path).map_err(failed)?;
    file.write_all(&line).map_err(failed)
}

/// The ledger's entries, oldest first (of its last few MiB), of `plugin` or of all; lines that
/// are not entries are passed over and counted.
pub fn read(state_dir: &Path, plugin: Option<&str>) -> Result<(Vec<Entry>, usize), LedgerError> {
    let path = path(state_dir);
    let failed = |source| LedgerError { path: path.clone(), source };
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(err) => return Err(failed(err)),
    };
    let size = file.metadata().map_err(failed)?.len();
    let start = size.saturating_sub(TAIL_BYTES);
    file.seek(io::SeekFrom::Start(start)).map_err(failed)?;
    let mut text = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut text).map_err(failed)?;
    let mut lines: Vec<&[u8]> = text.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()).collect();
    if start > 0 && !lines.is_empty() {
        // The first line was cut where reading began.
        lines.remove(0);
    }
    let mut unreadable = 0;
    let mut entries = Vec::new();
    for line in lines {
        match serde_json::from_slice::<Entry>(line) {
            Ok(entry) if plugin.is_none_or(|plugin| entry.plugin == plugin) => entries.push(entry),
            Ok(_) => {}
            Err(_) => unreadable += 1,
        }
    }
    Ok((entries, unreadable))
}

/// Prometheus's text format of the last real (not dry) run of each plugin in `entries`, under
/// DIPEX job-runner's names (`mo_start_time`, `mo_end_time`, `mo_return_code`, labelled by
/// `job`) and moport's own.
pub fn metrics(entries: &[Entry]) -> String {
    let mut last: BTreeMap<&str, &Entry> = BTreeMap::new();
    for entry in entries.iter().filter(|entry| !entry.dry_run) {
        last.insert(&entry.plugin, entry);
    }
    type Value = fn(&Entry) -> f64;
    let families: [(&str, &str, &str, Value); 8] = [
        ("mo_start_time", "gauge", "When the job's last run started (Unix time)", |e| unix(&e.started)),
        ("mo_end_time", "gauge", "When the job's last run ended (Unix time)", |e| unix(&e.ended)),
        ("mo_return_code", "gauge", "The exit code of the job's last run", |e| f64::from(e.exit_code)),
        ("moport_run_duration_seconds", "gauge", "How long the job's last run took", Entry::seconds),
        ("moport_run_files", "gauge", "Files the job's last run put in its output folder", |e| e.files as f64),
        ("moport_run_bytes", "gauge", "Bytes of those files", |e| e.bytes as f64),
        ("moport_run_mo_requests", "gauge", "Requests the job's last run sent to MO", |e| e.mo_requests as f64),
        ("moport_run_mo_mutations", "gauge", "Mutations MO took in the job's last run", |e| e.mo_mutations as f64),
    ];
    let mut text = String::new();
    for (name, kind, help, value) in families {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (plugin, entry) in &last {
            text.push_str(&format!("{name}{{job=\"{}\"}} {}\n", label_value(plugin), value(entry)));
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

/// Writes [`metrics`] of the ledger to `file` (atomically, as node_exporter's text file
/// collector reads it at any moment).
pub fn write_metrics(state_dir: &Path, file: &Path) -> Result<(), LedgerError> {
    let (entries, _) = read(state_dir, None)?;
    moport_fs::write_atomically(file, metrics(&entries).as_bytes())
        .map_err(|source| LedgerError { path: file.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(plugin: &str, exit_code: u8, dry_run: bool, at: &str) -> Entry {
        let started: DateTime<Utc> = at.parse().unwrap();
        Entry {
            plugin: plugin.into(),
            started,
            ended: started + chrono::Duration::milliseconds(1500),
            exit_code,
            dry_run,
            error: None,
            counts: BTreeMap::new(),
            files: 5,
            bytes: 1000,
            mo_requests: 47,
            mo_mutations: 0,
        }
    }

    #[test]
    fn entries_are_read_back_by_plugin_and_a_damaged_line_is_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), &entry("plan2learn", 0, false, "2026-12-07T02:00:00Z")).unwrap();
        std::fs::OpenOptions::new().append(true).open(path(dir.path())).unwrap().write_all(b"{half a line\n").unwrap();
        append(dir.path(), &entry("aarhus-los", 6, false, "2026-12-07T03:00:00Z")).unwrap();
        let (all, unreadable) = read(dir.path(), None).unwrap();
        assert_eq!((all.len(), unreadable), (2, 1));
        let (los, _) = read(dir.path(), Some("aarhus-los")).unwrap();
        assert_eq!(los, [entry("aarhus-los", 6, false, "2026-12-07T03:00:00Z")]);
    }

    #[test]
    fn metrics_hold_each_job_s_last_real_run_under_dipex_s_names() {
        let entries = [
            entry("plan2learn", 6, false, "2026-12-06T02:00:00Z"),
            entry("plan2learn", 0, false, "2026-12-07T02:00:00Z"),
            entry("plan2learn", 4, true, "2026-12-07T09:00:00Z"),
        ];
        let text = metrics(&entries);
        assert!(text.contains("# TYPE mo_return_code gauge\nmo_return_code{job=\"plan2learn\"} 0\n"), "{text}");
        assert!(text.contains("mo_start_time{job=\"plan2learn\"} 1796608800\n"), "{text}");
        assert!(text.contains("mo_end_time{job=\"plan2learn\"} 1796608801.5\n"), "{text}");
        assert!(text.contains("moport_run_mo_requests{job=\"plan2learn\"} 47\n"), "{text}");
        let odd = metrics(&[entry("a\"b\\c\nd", 0, false, "2026-12-07T02:00:00Z")]);
        assert!(odd.contains("mo_return_code{job=\"a\\\"b\\\\c\\nd\"} 0\n"), "{odd}");
    }
}
