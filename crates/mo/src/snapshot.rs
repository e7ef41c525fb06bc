//! The `snapshot` backend: one consistent read of MO in a JSON file, loaded and indexed in
//! memory. The format is documented in docs/snapshot-format.md; its records are the `mo-read`
//! records of the WIT contract (as `moport-types` mirrors them), so a plugin sees exactly what
//! the file holds.

use moport_types::CallError;
use moport_types::mo::{
    Address, Change, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit, Organisation, Outcome,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use thiserror::Error;

/// The `format` value every snapshot file carries.
pub const FORMAT: &str = "moport-snapshot";
/// The format version this moport reads and writes.
pub const VERSION: u32 = 1;
/// An engagement's `extension_1` .. `extension_10`.
pub use moport_mo_rules::EXTENSIONS;

#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error("cannot read MO snapshot {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write MO snapshot {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("MO snapshot {}, line {line}, column {column}: {message}", path.display())]
    Parse { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{} is not a moport MO snapshot (its `format` is `{found}`, expected `{FORMAT}`)", path.display())]
    NotASnapshot { path: PathBuf, found: String },
    #[error("MO snapshot {} has format version {found}; this moport reads version {VERSION}", path.display())]
    Version { path: PathBuf, found: u32 },
    #[error("MO snapshot {}: {collection} {uuid}: {problem}", path.display())]
    Record { path: PathBuf, collection: &'static str, uuid: String, problem: String },
}

/// The file as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotFile {
    pub format: String,
    pub version: u32,
    /// When MO was read, RFC 3339.
    pub taken_at: String,
    /// Where the data came from (an MO URL, or the generator and its seed).
    #[serde(default)]
    pub source: String,
    pub organisation: Organisation,
    #[serde(default)]
    pub facets: Vec<Facet>,
    #[serde(default)]
    pub classes: Vec<Class>,
    #[serde(default)]
    pub org_units: Vec<OrgUnit>,
    #[serde(default)]
    pub employees: Vec<Employee>,
    #[serde(default)]
    pub engagements: Vec<Engagement>,
    #[serde(default)]
    pub managers: Vec<Manager>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub it_systems: Vec<ItSystem>,
    #[serde(default)]
    pub it_users: Vec<ItUser>,
}
moport_mo_rules::holds_collections!(SnapshotFile);

impl SnapshotFile {
    /// A snapshot with no records yet.
    pub fn empty(organisation: Organisation, taken_at: String, source: String) -> SnapshotFile {
        SnapshotFile {
            format: FORMAT.to_owned(),
            version: VERSION,
            taken_at,
            source,
            organisation,
            facets: vec![],
            classes: vec![],
            org_units: vec![],
            employees: vec![],
            engagements: vec![],
            managers: vec![],
            addresses: vec![],
            it_systems: vec![],
            it_users: vec![],
        }
    }

    /// Puts every collection in the order `mo-read` hands records out in; a file saved in it
    /// loads without sorting.
    pub fn sort(&mut self) {
        moport_mo_rules::sort_all(self);
    }

    /// Every validity of every record as a `mo-write` create, which is how `moport load` writes
    /// a snapshot into an MO (the writer orders them so parents come first).
    pub fn as_creates(&self) -> Vec<Change> {
        moport_mo_rules::as_creates(self)
    }

    /// The file as moport writes it: indented JSON ending in a newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("snapshot records always serialise");
        bytes.push(b'\n');
        bytes
    }

    /// Writes the file atomically: a reader or a crash never sees half a snapshot.
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        moport_fs::write_atomically(path, &self.to_json())
            .map_err(|source| SnapshotError::Write { path: path.to_owned(), source })
    }
}

/// A loaded snapshot: validated, every collection ordered by uuid, then by validity start.
#[derive(Debug)]
pub struct Snapshot {
    file: SnapshotFile,
}

impl Snapshot {
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let bytes = std::fs::read(path).map_err(|source| SnapshotError::Read { path: path.to_owned(), source })?;
        Snapshot::from_json(path, &bytes)
    }

    /// Parses snapshot JSON; `path` names the file in errors.
    pub fn from_json(path: &Path, bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        #[derive(Deserialize)]
        struct Envelope {
            format: Option<String>,
            version: Option<u32>,
        }
        let parse_error = |err: serde_json::Error| SnapshotError::Parse {
            path: path.to_owned(),
            line: err.line(),
            column: err.column(),
            message: err.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
        };
        // The envelope is checked even when the whole file parses, and read on its own only
        // when it does not: a file of another format or version is named as such instead of
        // failing on its first unexpected field, and a good file is parsed once.
        let (format, version, file) = match serde_json::from_slice::<SnapshotFile>(bytes) {
            Ok(file) => (Some(file.format.clone()), Some(file.version), Ok(file)),
            Err(err) => {
                let envelope: Envelope = serde_json::from_slice(bytes).map_err(parse_error)?;
                (envelope.format, envelope.version, Err(err))
            }
        };
        let found = format.unwrap_or_default();
        if found != FORMAT {
            return Err(SnapshotError::NotASnapshot { path: path.to_owned(), found });
        }
        if let Some(found) = version.filter(|v| *v != VERSION) {
            return Err(SnapshotError::Version { path: path.to_owned(), found });
        }
        Snapshot::new(path, file.map_err(parse_error)?)
    }

    /// Validates and indexes the records of a snapshot file, as MO keeps its records
    /// ([`moport_mo_rules::tidy`]).
    pub fn new(path: &Path, mut file: SnapshotFile) -> Result<Snapshot, SnapshotError> {
        moport_mo_rules::tidy(&mut file).map_err(|problem| SnapshotError::Record {
            path: path.to_owned(),
            collection: problem.kind,
            uuid: problem.uuid,
            problem: problem.problem,
        })?;
        Ok(Snapshot { file })
    }

    pub fn file(&self) -> &SnapshotFile {
        &self.file
    }

    pub fn organisation(&self) -> &Organisation {
        &self.file.organisation
    }

    pub fn facets(&self) -> &[Facet] {
        &self.file.facets
    }

    pub fn classes(&self) -> &[Class] {
        &self.file.classes
    }

    pub fn org_units(&self) -> &[OrgUnit] {
        &self.file.org_units
    }

    pub fn employees(&self) -> &[Employee] {
        &self.file.employees
    }

    pub fn engagements(&self) -> &[Engagement] {
        &self.file.engagements
    }

    pub fn managers(&self) -> &[Manager] {
        &self.file.managers
    }

    pub fn addresses(&self) -> &[Address] {
        &self.file.addresses
    }

    pub fn it_systems(&self) -> &[ItSystem] {
        &self.file.it_systems
    }

    pub fn it_users(&self) -> &[ItUser] {
        &self.file.it_users
    }
}

/// A snapshot that `mo-write` can change: each batch is applied to a copy, checked, saved
/// atomically (when the snapshot has a file) and only then handed to readers.
pub struct SnapshotStore {
    /// Where writes are saved; `None` keeps them in memory (the built-in demo).
    path: Option<PathBuf>,
    current: RwLock<Arc<Snapshot>>,
    /// One batch at a time, so two never interleave.
    writer: Mutex<()>,
}

impl SnapshotStore {
    /// A snapshot whose writes are saved to `path`, or kept in memory when it is `None`.
    pub fn new(snapshot: Snapshot, path: Option<PathBuf>) -> SnapshotStore {
        SnapshotStore { path, current: RwLock::new(Arc::new(snapshot)), writer: Mutex::new(()) }
    }

    /// Whether writes are saved to a file.
    pub fn keeps_writes(&self) -> bool {
        self.path.is_some()
    }

    /// What readers see now.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Works out what `changes` do and, unless `dry_run`, makes them: all or nothing.
    /// Past `deadline` (the run's time limit) nothing is written: a batch worked out too late is
    /// dropped whole, as the run that sent it has ended.
    pub fn apply(
        &self,
        changes: &[Change],
        dry_run: bool,
        deadline: Option<std::time::Instant>,
    ) -> Result<Vec<Outcome>, CallError> {
        let _writer = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut file = self.current().file().clone();
        let outcomes = moport_mo_rules::apply_net(&mut file, changes)?;
        let changed = outcomes.iter().any(|o| matches!(o, Outcome::Created | Outcome::Updated | Outcome::Terminated));
        if dry_run || !changed {
            return Ok(outcomes);
        }
        let label = self.path.clone().unwrap_or_else(|| PathBuf::from("the built-in demo"));
        let snapshot = Snapshot::new(&label, file).map_err(|err| CallError::Invalid(err.to_string()))?;
        if deadline.is_some_and(|deadline| std::time::Instant::now() >= deadline) {
            return Err(CallError::Unavailable(
                "the run's time limit passed while the batch was worked out; nothing of it was written".into(),
            ));
        }
        match &self.path {
            Some(path) => snapshot.file().save(path).map_err(|err| CallError::Unavailable(err.to_string()))?,
            None => tracing::warn!("the built-in demo is not saved: its changes last until moport exits"),
        }
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(snapshot);
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(json: &str) -> Result<Snapshot, SnapshotError> {
        Snapshot::from_json(Path::new("mo.json"), json.as_bytes())
    }

    const MINIMAL: &str = r#"{"format": "moport-snapshot", "version": 1, "taken_at": "2026-11-23T12:00:00Z",
        "organisation": {"uuid": "o", "name": "Kommune", "user_key": "kommune"},
        "org_units": [
          {"uuid": "b", "user_key": "B", "name": "B", "parent": null, "validity": {"from": "2020-01-01", "to": null}},
          {"uuid": "a", "user_key": "A2", "name": "A", "validity": {"from": "2021-01-01", "to": null}},
          {"uuid": "a", "user_key": "A1", "name": "A", "validity": {"from": "2020-01-01", "to": "2021-01-01"}}
        ]}"#;

    #[test]
    fn records_are_ordered_by_uuid_then_start() {
        let snapshot = snapshot(MINIMAL).unwrap();
        let keys: Vec<&str> = snapshot.org_units().iter().map(|u| u.user_key.as_str()).collect();
        assert_eq!(keys, ["A1", "A2", "B"]);
        assert_eq!(snapshot.organisation().name, "Kommune");
        assert!(snapshot.employees().is_empty());
    }

    #[test]
    fn errors_name_the_file_and_the_place() {
        let err =
            snapshot("{\"format\": \"moport-snapshot\",\n \"version\": 1,\n \"taken_at\": 5}").unwrap_err().to_string();
        assert!(err.starts_with("MO snapshot mo.json, line 3, column"), "{err}");
        let err = snapshot(r#"{"format": "something-else"}"#).unwrap_err().to_string();
        assert!(err.contains("is not a moport MO snapshot") && err.contains("`something-else`"), "{err}");
        let err = snapshot(&MINIMAL.replace("\"version\": 1", "\"version\": 7")).unwrap_err().to_string();
        assert!(err.contains("format version 7") && err.contains("reads version 1"), "{err}");
        let err = snapshot(&MINIMAL.replace("2021-01-01\", \"to\": null", "2021-13-01\", \"to\": null")).unwrap_err();
        assert!(err.to_string().contains("org unit a: validity date `2021-13-01`"), "{err}");
        let err = snapshot(&MINIMAL.replace("\"to\": \"2021-01-01\"", "\"to\": \"2020-01-01\"")).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
        let err = snapshot(&MINIMAL.replace("\"to\": \"2021-01-01\"", "\"to\": \"2021-06-01\"")).unwrap_err();
        assert!(
            err.to_string().contains(
                "org unit a: its validities from 2020-01-01 to 2021-06-01 and from 2021-01-01 to (open) overlap"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_batch_worked_out_after_the_run_s_time_is_up_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mo.json");
        std::fs::write(&path, MINIMAL).unwrap();
        let store = SnapshotStore::new(Snapshot::load(&path).unwrap(), Some(path.clone()));
        let unit = |name: &str| OrgUnit {
            uuid: "c".into(),
            user_key: "C".into(),
            name: name.into(),
            parent: None,
            unit_type: None,
            unit_level: None,
            hierarchy: None,
            validity: moport_types::Validity { from: Some("2020-01-01".into()), to: None },
        };
        let batch = [Change::Create(moport_types::mo::Object::OrgUnit(unit("C")))];
        let passed = std::time::Instant::now();
        let err = store.apply(&batch, false, Some(passed)).unwrap_err();
        assert!(matches!(&err, CallError::Unavailable(m) if m.contains("time limit passed")), "{err:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), MINIMAL, "the file is as it was");
        assert_eq!(store.current().org_units().len(), 3, "and so is what readers see");
        let later = std::time::Instant::now() + std::time::Duration::from_secs(60);
        assert_eq!(store.apply(&batch, false, Some(later)).unwrap(), [Outcome::Created]);
    }
}
