//! The run ledger: two JSON lines per `moport run` of a plugin, one as it starts and one as it
//! ends, appended to `runs.jsonl` in the state folder, for `moport runs` and for monitoring
//! (host/metrics.rs). A run that started and never ended (killed, the machine gone) stays in
//! sight instead of the run before it standing for it.

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

/// The line a run starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Started {
    pub plugin: String,
    pub started: DateTime<Utc>,
    pub dry_run: bool,
}

/// A run as the ledger knows it: ended, or started with no end (yet).
#[derive(Debug, Clone, PartialEq)]
pub enum Run {
    Ended(Entry),
    /// Still running, or killed before it could say how it ended.
    Unfinished(Started),
}

impl Run {
    pub fn plugin(&self) -> &str {
        match self {
            Run::Ended(entry) => &entry.plugin,
            Run::Unfinished(start) => &start.plugin,
        }
    }

    pub fn started(&self) -> DateTime<Utc> {
        match self {
            Run::Ended(entry) => entry.started,
            Run::Unfinished(start) => start.started,
        }
    }

    pub fn dry_run(&self) -> bool {
        match self {
            Run::Ended(entry) => entry.dry_run,
            Run::Unfinished(start) => start.dry_run,
        }
    }

    /// As `moport runs --output json` shows it: an unfinished run has `ended` and `exit_code`
    /// null.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Run::Ended(entry) => serde_json::to_value(entry).expect("an entry serialises"),
            Run::Unfinished(start) => serde_json::json!({
                "plugin": start.plugin, "started": start.started, "dry_run": start.dry_run,
                "ended": null, "exit_code": null,
            }),
        }
    }
}

/// A line of the ledger. An ended run's line is tried first: a start's fields are a part of it.
#[derive(Deserialize)]
#[serde(untagged)]
enum Line {
    Ended(Entry),
    Started(Started),
}

/// How a run ended.
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
    /// The end of the run `start` began, as yet with nothing to say: exit code 0, no error, no
    /// counts, files or requests, ended as it started.
    pub fn started(start: Started) -> Entry {
        Entry {
            plugin: start.plugin,
            started: start.started,
            ended: start.started,
            exit_code: 0,
            dry_run: start.dry_run,
            error: None,
            counts: BTreeMap::new(),
            files: 0,
            bytes: 0,
            mo_requests: 0,
            mo_mutations: 0,
        }
    }

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

/// Appends the line of a run that starts.
pub fn append_start(state_dir: &Path, start: &Started) -> Result<(), LedgerError> {
    append_line(state_dir, serde_json::to_vec(start).expect("a start serialises"))
}

/// Appends the line of a run that ended, which `started` and `plugin` tie to its start.
pub fn append(state_dir: &Path, entry: &Entry) -> Result<(), LedgerError> {
    append_line(state_dir, serde_json::to_vec(entry).expect("an entry serialises"))
}

/// Appends one line, written with one call so that runs of other plugins writing at the same
/// moment do not interleave.
fn append_line(state_dir: &Path, mut line: Vec<u8>) -> Result<(), LedgerError> {
    let path = path(state_dir);
    let failed = |source| LedgerError { path: path.clone(), source };
    std::fs::create_dir_all(state_dir).map_err(failed)?;
    line.push(b'\n');
    let mut file = std::fs::File::options().create(true).append(true).open(&path).map_err(failed)?;
    file.write_all(&line).map_err(failed)
}

/// The ledger's runs in the order they started (of its last few MiB), of `plugin` or of all;
/// lines that are neither start nor end are passed over and counted.
pub fn read(state_dir: &Path, plugin: Option<&str>) -> Result<(Vec<Run>, usize), LedgerError> {
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
    let mut runs: Vec<Run> = Vec::new();
    // Where each unfinished run is in `runs`, by plugin and start, for its end to take its place.
    let mut open: BTreeMap<(String, DateTime<Utc>), usize> = BTreeMap::new();
    for line in lines {
        match serde_json::from_slice::<Line>(line) {
            Ok(Line::Started(start)) if plugin.is_none_or(|plugin| start.plugin == plugin) => {
                open.insert((start.plugin.clone(), start.started), runs.len());
                runs.push(Run::Unfinished(start));
            }
            Ok(Line::Ended(entry)) if plugin.is_none_or(|plugin| entry.plugin == plugin) => {
                match open.remove(&(entry.plugin.clone(), entry.started)) {
                    Some(at) => runs[at] = Run::Ended(entry),
                    None => runs.push(Run::Ended(entry)),
                }
            }
            Ok(_) => {}
            Err(_) => unreadable += 1,
        }
    }
    // An end whose start is not read (cut off by the tail, or never written) goes where its
    // start would have been.
    runs.sort_by_key(Run::started);
    Ok((runs, unreadable))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A run of 1.5 s that put 5 files of 1,000 bytes and sent MO 47 requests.
    pub(crate) fn entry(plugin: &str, exit_code: u8, dry_run: bool, at: &str) -> Entry {
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
        assert_eq!(los, [Run::Ended(entry("aarhus-los", 6, false, "2026-12-07T03:00:00Z"))]);
    }

    #[test]
    fn a_run_s_end_takes_its_start_s_place_and_a_start_with_no_end_stays_unfinished() {
        let dir = tempfile::tempdir().unwrap();
        let start =
            |plugin: &str, at: &str| Started { plugin: plugin.into(), started: at.parse().unwrap(), dry_run: false };
        append_start(dir.path(), &start("aarhus-los", "2026-12-07T02:00:00Z")).unwrap();
        append_start(dir.path(), &start("plan2learn", "2026-12-07T02:00:00.5Z")).unwrap();
        append(dir.path(), &entry("plan2learn", 0, false, "2026-12-07T02:00:00.5Z")).unwrap();
        // The next night's plan2learn run never ends (killed), nor does this night's LOS run.
        append_start(dir.path(), &start("plan2learn", "2026-12-08T02:00:00Z")).unwrap();
        let (runs, unreadable) = read(dir.path(), None).unwrap();
        assert_eq!(unreadable, 0);
        assert_eq!(
            runs,
            [
                Run::Unfinished(start("aarhus-los", "2026-12-07T02:00:00Z")),
                Run::Ended(entry("plan2learn", 0, false, "2026-12-07T02:00:00.5Z")),
                Run::Unfinished(start("plan2learn", "2026-12-08T02:00:00Z")),
            ]
        );
        assert_eq!(runs[0].to_json()["exit_code"], serde_json::Value::Null);
        assert_eq!(runs[1].to_json()["exit_code"], 0);
        // An end whose start was cut off goes where its start would have been.
        append(dir.path(), &entry("aarhus-los", 7, false, "2026-12-07T01:00:00Z")).unwrap();
        let (runs, _) = read(dir.path(), None).unwrap();
        assert_eq!(runs.first(), Some(&Run::Ended(entry("aarhus-los", 7, false, "2026-12-07T01:00:00Z"))));
    }
}
