//! `moport test`: runs a plugin's compiled component against a fixture folder instead of the
//! world, and compares what it leaves behind with what the fixture expects.
//!
//! ```text
//! fixture/
//!   fixture.toml              today = "2026-11-23"   (the run's date; required)
//!                             dry_run = false        (optional)
//!                             mo = "mo.json"         (optional: where the inputs are, and the
//!                             dar = "dar.csv"         expected files, relative to the fixture,
//!                             expected_files = "expected/files"   so a fixture can use data
//!                             [remote]                that lives elsewhere in the repository)
//!                             los = "remote/los"
//!                             [settings]             (optional: over the plugin's own settings)
//!                             [state]                (optional: the plugin's state before the run)
//!   mo.json                   MO as the plugin finds it (a snapshot file; needed if it reads MO)
//!   dar.csv                   an offline DAR table (optional; DAR is off without one)
//!   remote/<target>/...       each granted remote target's files before the run (optional)
//!   expected/files/...        exactly the files the plugin must write to its output folder
//!   expected/remote/<target>/ the files the plugin must add to or change on a target; every
//!                             other file there must be left as it was (without this folder,
//!                             the target is not compared)
//!   expected/mo.json          MO after the run (importers; without it, MO is not compared)
//! ```
//!
//! The plugin runs with the grants, limits and settings plugins.toml gives it, but every
//! capability is served from the fixture: MO from `mo.json` in memory, targets and the output
//! folder in a scratch folder, no network. The clock is the fixture's `today` at midnight UTC.

use moport_caps::state::StateStore;
use moport_manifest::{DarSpec, Manifest, TargetSpec, parse_date};
use moport_mo::MoSource;
use moport_mo::snapshot::{Snapshot, SnapshotFile};
use moport_runtime::cache::ComponentCache;
use moport_runtime::{Host, RunError, RunOptions, RunOutcome};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Diff lines shown per differing file; the rest are counted.
const DIFF_LINES_SHOWN: usize = 60;
const EXPECTED: &str = "expected";

#[derive(Debug, Error)]
pub enum FixtureError {
    #[error("fixture {}: {message}", dir.display())]
    Invalid { dir: PathBuf, message: String },
    #[error("fixture {}: {}: {source}", dir.display(), path.display())]
    Io { dir: PathBuf, path: PathBuf, source: std::io::Error },
    /// The plugin's run on the fixture failed as a run fails.
    #[error(transparent)]
    Run(#[from] RunError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    today: String,
    #[serde(default)]
    dry_run: bool,
    mo: Option<PathBuf>,
    dar: Option<PathBuf>,
    expected_files: Option<PathBuf>,
    #[serde(default)]
    remote: BTreeMap<String, PathBuf>,
    #[serde(default)]
    settings: toml::Table,
    #[serde(default)]
    state: BTreeMap<String, String>,
}

as_run_error!(FixtureError: moport_manifest::ManifestError, moport_caps::state::StateError, moport_mo::MoError);

/// How one thing the plugin left behind compares with the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Expected, not written.
    Missing(String),
    /// Written, not expected.
    Unexpected(String),
    /// Written differently: a unified diff, expected against actual.
    Differs(String, String),
}

/// The result of a fixture run.
pub struct Verdict {
    pub outcome: RunOutcome,
    pub mismatches: Vec<Mismatch>,
    /// The folders and files `--update` wrote (where the fixture's `expected_*` keys point).
    pub updated: Vec<PathBuf>,
}

/// Runs `plugin` of `manifest` on the fixture in `dir`; with `update`, makes the fixture's
/// expectations what the plugin did instead of comparing.
pub async fn test(
    manifest: &Manifest,
    plugin: &str,
    dir: &Path,
    cache: ComponentCache,
    update: bool,
) -> Result<Verdict, FixtureError> {
    let io =
        |path: &Path, source: std::io::Error| FixtureError::Io { dir: dir.to_owned(), path: path.to_owned(), source };
    let invalid = |message: String| FixtureError::Invalid { dir: dir.to_owned(), message };
    let spec_path = dir.join("fixture.toml");
    let text = std::fs::read_to_string(&spec_path).map_err(|err| io(&spec_path, err))?;
    let fixture: FixtureFile =
        toml::from_str(&text).map_err(|err| invalid(format!("fixture.toml: {}", err.to_string().trim_end())))?;
    let today = parse_date(&fixture.today).map_err(|problem| invalid(format!("fixture.toml: today: {problem}")))?;

    let scratch = tempfile::tempdir().map_err(|err| io(Path::new("(a temporary folder)"), err))?;
    let mut spec = manifest.plugin(plugin)?.clone();
    for (key, value) in fixture.settings {
        spec.settings.insert(key, moport_manifest::toml_to_json(value));
    }
    let output = scratch.path().join("files");
    if spec.grants.files.is_some() {
        spec.grants.files = Some(output.clone());
    }
    let input = |given: Option<&PathBuf>, default: &str| dir.join(given.map_or(Path::new(default), PathBuf::as_path));
    let mut targets = BTreeMap::new();
    let mut target_inputs = BTreeMap::new();
    for target in &spec.grants.remote {
        let folder = scratch.path().join("remote").join(target);
        std::fs::create_dir_all(&folder).map_err(|err| io(&folder, err))?;
        let before = input(fixture.remote.get(target), &format!("remote/{target}"));
        copy_tree(&before, &folder).map_err(|(path, err)| io(&path, err))?;
        targets.insert(target.clone(), TargetSpec::Local { path: folder, create: false });
        target_inputs.insert(target.clone(), before);
    }
    if let Some(unknown) = fixture.remote.keys().find(|name| !spec.grants.remote.contains(name)) {
        return Err(invalid(format!("[remote] names `{unknown}`, which plugin `{plugin}` is not granted")));
    }
    let state_dir = scratch.path().join("state");
    if !fixture.state.is_empty() {
        StateStore::new(&state_dir, plugin).save(&fixture.state)?;
    }
    let dar_table = input(fixture.dar.as_ref(), "dar.csv");
    let isolated = Manifest {
        path: manifest.path.clone(),
        components_dir: manifest.components_dir.clone(),
        mo: None,
        dar: if dar_table.is_file() { DarSpec::Table(dar_table) } else { DarSpec::Off },
        today: None,
        state_dir,
        // A fixture's run is a test, not a night's run: no metrics.
        metrics_file: None,
        pushgateway: None,
        base: dir.to_owned(),
        plugins: BTreeMap::from([(plugin.to_owned(), spec.clone())]),
        targets,
        unusable_targets: BTreeMap::new(),
    };
    let mut host = Host::new(isolated, cache)?;
    let mo_file = input(fixture.mo.as_ref(), "mo.json");
    let mut mo_before = None;
    if mo_file.is_file() {
        let snapshot = Snapshot::load(&mo_file).map_err(moport_mo::MoError::from)?;
        mo_before = Some(records(snapshot.file()));
        host = host.with_mo(MoSource::in_memory(snapshot));
    }
    let started_at = today.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let options = RunOptions {
        dry_run: fixture.dry_run,
        today: Some(today),
        started_at: Some(started_at),
        ..RunOptions::default()
    };
    let outcome = host.run(plugin, &options).await?;

    let failed = |(path, err): IoFailure| io(&path, err);
    // Each folder the plugin writes: what was there before, what the fixture expects added or
    // changed, and what the plugin left.
    let expected_files = input(fixture.expected_files.as_ref(), "expected/files");
    let mut folders = vec![(None, expected_files, output, "files".to_owned())];
    for (target, before) in target_inputs {
        let expected = dir.join(EXPECTED).join("remote").join(&target);
        if !expected.is_dir() && !update {
            continue;
        }
        folders.push((Some(before), expected, scratch.path().join("remote").join(&target), format!("remote/{target}")));
    }
    let mut mismatches = Vec::new();
    let mut updated = Vec::new();
    for (before, expected, actual, label) in folders {
        let before = match &before {
            Some(before) => files_under(before).map_err(failed)?,
            None => BTreeMap::new(),
        };
        let mut wanted = before.clone();
        wanted.extend(files_under(&expected).map_err(failed)?);
        let left = files_under(&actual).map_err(failed)?;
        let differences = compare(&wanted, &left, &label).map_err(failed)?;
        if update && !differences.is_empty() {
            let changed = compare(&before, &left, &label).map_err(failed)?;
            let added: BTreeMap<String, PathBuf> = left
                .into_iter()
                .filter(|(name, _)| {
                    let shown = format!("{label}/{name}");
                    changed
                        .iter()
                        .any(|m| matches!(m, Mismatch::Unexpected(n) | Mismatch::Differs(n, _) if *n == shown))
                })
                .collect();
            replace_tree(&added, &expected).map_err(failed)?;
            updated.push(expected);
        } else {
            mismatches.extend(differences);
        }
    }
    let expected_mo = dir.join(EXPECTED).join("mo.json");
    if let (Some(before), Some(MoSource::Snapshot(store))) = (mo_before, host.opened_mo()) {
        let after = records(store.current().file());
        if update && after != before {
            let mut file = store.current().file().clone();
            file.taken_at = String::new();
            file.save(&expected_mo).map_err(moport_mo::MoError::from)?;
            updated.push(expected_mo.clone());
        } else if expected_mo.is_file() {
            let wanted = records(Snapshot::load(&expected_mo).map_err(moport_mo::MoError::from)?.file());
            if wanted != after {
                let (wanted, after) = (pretty(&wanted), pretty(&after));
                mismatches.push(Mismatch::Differs(format!("{EXPECTED}/mo.json"), unified(&wanted, &after)));
            }
        }
    }
    Ok(Verdict { outcome, mismatches, updated })
}

/// A snapshot's records, without when and where it was taken.
fn records(file: &SnapshotFile) -> serde_json::Value {
    let mut value = serde_json::to_value(file).expect("snapshots serialise");
    if let Some(fields) = value.as_object_mut() {
        fields.remove("taken_at");
        fields.remove("source");
    }
    value
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values print") + "\n"
}

type IoFailure = (PathBuf, std::io::Error);

/// Every file under `root`, relative, with `/` separators, in order; none when `root` is absent.
fn files_under(root: &Path) -> Result<BTreeMap<String, PathBuf>, IoFailure> {
    let mut found = BTreeMap::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err((folder, err)),
        };
        for entry in entries {
            let path = entry.map_err(|err| (folder.clone(), err))?.path();
            if path.is_dir() {
                folders.push(path);
            } else if !moport_fs::is_partial(&entry_name(&path)) {
                let relative = path.strip_prefix(root).expect("below the root").to_string_lossy().replace('\\', "/");
                found.insert(relative, path);
            }
        }
    }
    Ok(found)
}

/// The files `wanted` against the files `got`, by relative name.
fn entry_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

fn compare(
    wanted: &BTreeMap<String, PathBuf>,
    got: &BTreeMap<String, PathBuf>,
    label: &str,
) -> Result<Vec<Mismatch>, IoFailure> {
    let mut mismatches = Vec::new();
    for (name, path) in wanted {
        let shown = format!("{label}/{name}");
        match got.get(name) {
            None => mismatches.push(Mismatch::Missing(shown)),
            Some(actual) => {
                let (a, b) = (read(path)?, read(actual)?);
                if a != b {
                    let diff = match (std::str::from_utf8(&a), std::str::from_utf8(&b)) {
                        (Ok(a), Ok(b)) => unified(a, b),
                        _ => format!("binary files differ ({} bytes expected, {} written)\n", a.len(), b.len()),
                    };
                    mismatches.push(Mismatch::Differs(shown, diff));
                }
            }
        }
    }
    mismatches.extend(
        got.keys()
            .filter(|name| !wanted.contains_key(*name))
            .map(|name| Mismatch::Unexpected(format!("{label}/{name}"))),
    );
    Ok(mismatches)
}

fn read(path: &Path) -> Result<Vec<u8>, IoFailure> {
    std::fs::read(path).map_err(|err| (path.to_owned(), err))
}

/// Expected against actual, with two lines of context; CR shown as `\r` so line ends are seen.
fn unified(expected: &str, actual: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, actual);
    let text = diff.unified_diff().context_radius(2).header("expected", "actual").to_string().replace('\r', "\\r");
    let lines: Vec<&str> = text.lines().collect();
    let mut shown = lines.iter().take(DIFF_LINES_SHOWN).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > DIFF_LINES_SHOWN {
        shown.push_str(&format!("\n... {} more diff lines", lines.len() - DIFF_LINES_SHOWN));
    }
    shown + "\n"
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), IoFailure> {
    copy_files(&files_under(from)?, to)
}

fn copy_files(files: &BTreeMap<String, PathBuf>, to: &Path) -> Result<(), IoFailure> {
    for (name, path) in files {
        let target = to.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|err| (parent.to_owned(), err))?;
        }
        std::fs::copy(path, &target).map_err(|err| (path.clone(), err))?;
    }
    Ok(())
}

/// Makes `to` hold exactly `files` (none: `to` is removed).
fn replace_tree(files: &BTreeMap<String, PathBuf>, to: &Path) -> Result<(), IoFailure> {
    match std::fs::remove_dir_all(to) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err((to.to_owned(), err)),
    }
    if files.is_empty() {
        return Ok(());
    }
    copy_files(files, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_compare_file_by_file_with_a_readable_diff() {
        let (expected, actual) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(expected.path().join("same.csv"), "a\r\nb\r\n").unwrap();
        std::fs::write(actual.path().join("same.csv"), "a\r\nb\r\n").unwrap();
        std::fs::write(expected.path().join("changed.csv"), "\"id\";\"name\"\r\n\"1\";\"Skole\"\r\n").unwrap();
        std::fs::write(actual.path().join("changed.csv"), "\"id\";\"name\"\r\n\"1\";\"Skolen\"\r\n").unwrap();
        std::fs::write(expected.path().join("missing.csv"), "x").unwrap();
        std::fs::create_dir(actual.path().join("sub")).unwrap();
        std::fs::write(actual.path().join("sub/extra.json"), "{}").unwrap();
        std::fs::write(actual.path().join(".half.csv.moport-partial"), "ignored").unwrap();
        let found =
            compare(&files_under(expected.path()).unwrap(), &files_under(actual.path()).unwrap(), "files").unwrap();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.contains(&Mismatch::Missing("files/missing.csv".into())));
        assert!(found.contains(&Mismatch::Unexpected("files/sub/extra.json".into())));
        let Some(Mismatch::Differs(name, diff)) = found.iter().find(|m| matches!(m, Mismatch::Differs(..))) else {
            panic!("{found:?}")
        };
        assert_eq!(name, "files/changed.csv");
        assert!(diff.contains("-\"1\";\"Skole\"\\r") && diff.contains("+\"1\";\"Skolen\"\\r"), "{diff}");
        assert!(diff.starts_with("--- expected\n+++ actual"), "{diff}");
    }
}
