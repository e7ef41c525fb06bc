//! `state`: a plugin's key/value pairs, kept by the host between runs in one JSON file per
//! plugin (`<state folder>/<plugin>.json`). A run sees its own changes at once; they reach the
//! file only when the run succeeds, and never under `--dry-run`, so a failed run leaves the
//! state as it was and the next run starts from the same point.

use crate::{CheckLine, Failing, HostState};
use moport_fs::write_atomically;
use moport_manifest::Migration;
use moport_wit::moport::host::state::Host;
use moport_wit::moport::host::types::CallError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Keys are names, not data.
const MAX_KEY_BYTES: usize = 256;
/// All values of one plugin together: state is for bookmarks (a last import time, a cursor),
/// not for data, which belongs in MO or the output folder.
const MAX_TOTAL_BYTES: usize = 1 << 20;

/// The most a state file the host wrote can hold: each pair at worst `    "k": "",` and a newline
/// for one byte of key (12 bytes around it, the byte escaped as `\u00XX`), and a heading.
const MAX_FILE_BYTES: u64 = 18 * MAX_TOTAL_BYTES as u64 + 4096;

const FORMAT: &str = "moport-state";
const VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum StateError {
    #[error("cannot read the state of plugin `{plugin}` from {}: {message}; fix or remove the file (`moport state clear {plugin}` removes it)", path.display())]
    Read { plugin: String, path: PathBuf, message: String },
    #[error("cannot save the state of plugin `{plugin}` to {}: {source}", path.display())]
    Write { plugin: String, path: PathBuf, source: std::io::Error },
    #[error("plugin `{plugin}`: cannot read {} to migrate its state (setting `{setting}`): {source}", path.display())]
    Migrate { plugin: String, setting: String, path: PathBuf, source: std::io::Error },
    #[error(
        "plugin `{plugin}`: {} (setting `{setting}`) is not a predecessor's state file: it {problem}; a state file is \
         one line of text, such as DIPEX's `2023-03-07T11:57:32.123456`: point `{setting}` at it, or remove `migrate_state`",
        path.display()
    )]
    NotAStateFile { plugin: String, setting: String, path: PathBuf, problem: String },
    #[error("the state of plugin `{plugin}` cannot take that: {problem}")]
    Refused { plugin: String, problem: String },
    #[error(
        "`moport state clear {plugin}` forgets what the plugin has done (an importer then takes every file again); \
         it asks first, and here nobody can answer: add --yes"
    )]
    NotConfirmed { plugin: String },
}

/// The most a predecessor's state file may hold: it is a bookmark, not data.
const MAX_MIGRATED_BYTES: u64 = 1024;

/// Why a predecessor's state file gives no line.
enum Unusable {
    /// It is some other file; what is wrong with it, never what it holds.
    NotAStateFile(String),
    Unreadable(std::io::Error),
}

/// The one line of a predecessor's state file; `None` when there is no such file. Its content
/// is never part of an error: the setting may name any file, a settings file with passwords too.
fn read_state_line(path: &Path) -> Result<Option<String>, Unusable> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(Unusable::Unreadable(err)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_MIGRATED_BYTES + 1).read_to_end(&mut bytes).map_err(Unusable::Unreadable)?;
    if bytes.len() as u64 > MAX_MIGRATED_BYTES {
        return Err(Unusable::NotAStateFile(format!("is larger than {MAX_MIGRATED_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| Unusable::NotAStateFile("is not UTF-8 text".to_owned()))?;
    let lines = text.lines().filter(|line| !line.trim().is_empty()).count();
    if lines > 1 {
        return Err(Unusable::NotAStateFile(format!("holds {lines} lines")));
    }
    Ok(Some(text.trim().to_owned()))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: String,
    version: u32,
    plugin: String,
    values: BTreeMap<String, String>,
}

/// Where one plugin's state lives.
#[derive(Debug, Clone)]
pub struct StateStore {
    plugin: String,
    path: PathBuf,
}

impl StateStore {
    pub fn new(folder: &Path, plugin: &str) -> StateStore {
        StateStore { plugin: plugin.to_owned(), path: folder.join(format!("{plugin}.json")) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn folder_and_name(&self) -> (&Path, &str) {
        let folder = self.path.parent().unwrap_or(Path::new("."));
        (folder, self.path.file_name().and_then(|name| name.to_str()).unwrap_or_default())
    }

    /// Sets one key by hand (an operator moving a bookmark after a bad delivery), within the
    /// limits a plugin's own writes have; the value it had.
    pub fn set(&self, key: &str, value: &str) -> Result<Option<String>, StateError> {
        let mut values = self.load()?;
        let others = values.iter().filter(|(k, _)| *k != key).map(|(k, v)| k.len() + v.len()).sum();
        within_limits(&self.plugin, others, key, value)
            .map_err(|problem| StateError::Refused { plugin: self.plugin.clone(), problem })?;
        let before = values.insert(key.to_owned(), value.to_owned());
        self.save(&values)?;
        Ok(before)
    }

    /// The committed values; none when the plugin has never committed any.
    pub fn load(&self) -> Result<BTreeMap<String, String>, StateError> {
        let error =
            |message: String| StateError::Read { plugin: self.plugin.clone(), path: self.path.clone(), message };
        // Not through a link, and no more than the host could have written.
        let (folder, name) = self.folder_and_name();
        let text = match moport_fs::beneath::Beneath::new(folder).read(name, MAX_FILE_BYTES) {
            Err(err) if err.kind() == std::io::ErrorKind::FileTooLarge => {
                return Err(error(format!("it is larger than the {MAX_FILE_BYTES} bytes a state file can be")));
            }
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(err) => return Err(error(err.to_string())),
        };
        let file: StateFile = serde_json::from_slice(&text)
            .map_err(|err| error(format!("line {}, column {}: {err}", err.line(), err.column())))?;
        if file.format != FORMAT || file.version != VERSION {
            return Err(error(format!(
                "it is `{}` version {}, this moport reads `{FORMAT}` version {VERSION}",
                file.format, file.version
            )));
        }
        if file.plugin != self.plugin {
            return Err(error(format!("it holds the state of plugin `{}`", file.plugin)));
        }
        Ok(file.values)
    }

    /// Replaces the committed values, atomically: a crash leaves the old file or the new one.
    pub fn save(&self, values: &BTreeMap<String, String>) -> Result<(), StateError> {
        let file =
            StateFile { format: FORMAT.into(), version: VERSION, plugin: self.plugin.clone(), values: values.clone() };
        let mut text = serde_json::to_vec_pretty(&file).expect("state serialises");
        text.push(b'\n');
        let write = || -> std::io::Result<()> {
            if let Some(folder) = self.path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            write_atomically(&self.path, &text)
        };
        write().map_err(|source| StateError::Write { plugin: self.plugin.clone(), path: self.path.clone(), source })
    }

    /// Forgets the plugin's state; false when there was none.
    pub fn clear(&self) -> Result<bool, StateError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StateError::Write { plugin: self.plugin.clone(), path: self.path.clone(), source }),
        }
    }
}

/// What `moport check` says of a plugin's state: where it is kept and how many keys it holds,
/// or that the next run is a first run (`migrating`: one that takes over a predecessor's
/// state, as `migrate_state` names it).
pub fn check(store: &StateStore, migrating: bool) -> CheckLine {
    let path = store.path().display();
    let result = store
        .load()
        .map(|values| match (values.len(), migrating) {
            (0, false) => format!("{path} (empty: the next run is a first run)"),
            (0, true) => {
                format!("{path} (empty: the next run takes over what migrate_state names, if that file exists)")
            }
            (keys, _) => format!("{path} ({keys} keys)"),
        })
        .map_err(|err| (Failing::Service, err.to_string()));
    CheckLine::new("state", result)
}

/// One run's view of a plugin's state.
pub struct PluginState {
    store: StateStore,
    committed: BTreeMap<String, String>,
    current: BTreeMap<String, String>,
    /// The bytes of `current`'s keys and values, kept as it changes: checking a `set` against
    /// the limit must not cost a walk over every key.
    current_bytes: usize,
}

impl PluginState {
    /// The committed state, plus for each migration whose key is absent the text of the file
    /// its setting names (relative paths from `base`). A missing file migrates nothing: the
    /// predecessor never ran.
    pub fn open(
        store: StateStore,
        migrations: &[Migration],
        settings: &BTreeMap<String, serde_json::Value>,
        base: &Path,
    ) -> Result<PluginState, StateError> {
        let committed = store.load()?;
        let mut current = committed.clone();
        for migration in migrations.iter().filter(|m| !committed.contains_key(&m.key)) {
            let Some(file) = settings.get(&migration.setting).and_then(|value| value.as_str()) else { continue };
            let path = base.join(file);
            let (plugin, setting) = (store.plugin.clone(), migration.setting.clone());
            match read_state_line(&path) {
                Ok(Some(line)) => {
                    tracing::info!(plugin = %store.plugin, key = %migration.key, file = %path.display(),
                        "state taken over from the predecessor's file; it is kept only if the run succeeds");
                    current.insert(migration.key.clone(), line);
                }
                Ok(None) => {}
                Err(Unusable::NotAStateFile(problem)) => {
                    return Err(StateError::NotAStateFile { plugin, setting, path, problem });
                }
                Err(Unusable::Unreadable(source)) => return Err(StateError::Migrate { plugin, setting, path, source }),
            }
        }
        let current_bytes = current.iter().map(|(key, value)| key.len() + value.len()).sum();
        Ok(PluginState { store, committed, current, current_bytes })
    }

    /// Whether the run changed anything.
    pub fn changed(&self) -> bool {
        self.current != self.committed
    }

    /// Saves what the run changed; nothing when it changed nothing.
    pub fn commit(&self) -> Result<bool, StateError> {
        if !self.changed() {
            return Ok(false);
        }
        self.store.save(&self.current)?;
        Ok(true)
    }

    fn set(&mut self, key: String, value: String) -> Result<(), CallError> {
        let replaced = self.current.get(&key).map_or(0, |old| key.len() + old.len());
        let others = self.current_bytes - replaced;
        within_limits(&self.store.plugin, others, &key, &value).map_err(CallError::Invalid)?;
        self.current_bytes = others + key.len() + value.len();
        self.current.insert(key, value);
        Ok(())
    }

    fn remove(&mut self, key: &str) {
        if let Some(old) = self.current.remove(key) {
            self.current_bytes -= key.len() + old.len();
        }
    }
}

/// Whether a state whose other keys and values hold `others` bytes may take `key = value`: the
/// limits of a plugin's `state.set` and of `moport state set` alike.
fn within_limits(plugin: &str, others: usize, key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(format!("a state key is 1 to {MAX_KEY_BYTES} bytes, not {}", key.len()));
    }
    if others + key.len() + value.len() > MAX_TOTAL_BYTES {
        return Err(format!(
            "the state of plugin `{plugin}` would exceed {MAX_TOTAL_BYTES} bytes; keep bookmarks in state, data in MO or files"
        ));
    }
    Ok(())
}

impl HostState {
    fn plugin_state(&mut self) -> Result<&mut PluginState, CallError> {
        self.state.as_mut().ok_or_else(|| {
            CallError::Denied(
                "the `state` capability is not granted: add `state = true` under the plugin's [grants]".into(),
            )
        })
    }
}

impl Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, CallError>> {
        Ok(self.plugin_state().map(|state| state.current.get(&key).cloned()))
    }

    async fn set(&mut self, key: String, value: String) -> wasmtime::Result<Result<(), CallError>> {
        Ok(self.plugin_state().and_then(|state| state.set(key, value)))
    }

    async fn remove(&mut self, key: String) -> wasmtime::Result<Result<(), CallError>> {
        Ok(self.plugin_state().map(|state| state.remove(&key)))
    }

    async fn keys(&mut self) -> wasmtime::Result<Result<Vec<String>, CallError>> {
        Ok(self.plugin_state().map(|state| state.current.keys().cloned().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_commits_only_changes_and_a_migration_is_offered_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path(), "los");
        std::fs::write(dir.path().join("dipex-state"), "2023-03-07T11:57:32.123456\n").unwrap();
        let settings = BTreeMap::from([("old.state_file".to_owned(), serde_json::json!("dipex-state"))]);
        let migrations = [Migration { key: "last_import".into(), setting: "old.state_file".into() }];

        let state = PluginState::open(store.clone(), &migrations, &settings, dir.path()).unwrap();
        assert_eq!(state.current["last_import"], "2023-03-07T11:57:32.123456");
        assert!(state.commit().unwrap(), "the migrated value is new to the store");
        assert_eq!(store.load().unwrap()["last_import"], "2023-03-07T11:57:32.123456");

        let mut state = PluginState::open(store.clone(), &migrations, &settings, dir.path()).unwrap();
        state.set("last_import".into(), "2026-11-25T03:00:00Z".into()).unwrap();
        std::fs::write(dir.path().join("dipex-state"), "ignored once committed").unwrap();
        assert!(state.commit().unwrap());
        let state = PluginState::open(store.clone(), &migrations, &settings, dir.path()).unwrap();
        assert_eq!(state.current["last_import"], "2026-11-25T03:00:00Z");
        assert!(!state.commit().unwrap(), "nothing changed, nothing written");

        assert!(store.clear().unwrap());
        assert!(!store.clear().unwrap());
        assert!(store.load().unwrap().is_empty());
    }

    #[test]
    fn a_damaged_or_foreign_file_is_an_error_naming_it_and_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path(), "los");
        std::fs::write(store.path(), "{not json").unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("los.json") && err.contains("line 1") && err.contains("moport state clear los"), "{err}");
        StateStore::new(dir.path(), "other").save(&BTreeMap::new()).unwrap();
        std::fs::rename(dir.path().join("other.json"), store.path()).unwrap();
        assert!(store.load().unwrap_err().to_string().contains("holds the state of plugin `other`"));

        std::fs::write(store.path(), vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(store.load().unwrap_err().to_string().contains("is larger than the"), "not read whole");
        std::fs::remove_file(store.path()).unwrap();
        StateStore::new(dir.path(), "los").save(&BTreeMap::from([("k".into(), "v".into())])).unwrap();
        std::fs::rename(store.path(), dir.path().join("elsewhere.json")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere.json"), store.path()).unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("`los.json` is a symbolic link"), "{err}");
    }

    #[test]
    fn a_migration_from_a_file_that_is_no_state_file_names_it_and_never_shows_it() {
        let dir = tempfile::tempdir().unwrap();
        let settings = BTreeMap::from([("old.state_file".to_owned(), serde_json::json!("settings.json"))]);
        let migrations = [Migration { key: "last_import".into(), setting: "old.state_file".into() }];
        let open = || PluginState::open(StateStore::new(dir.path(), "los"), &migrations, &settings, dir.path());
        for (content, problem) in [
            ("{\n  \"integrations.aarhus_los.ftp_pass\": \"hunter2\"\n}\n".to_owned(), "holds 3 lines"),
            (format!("\"hunter2\"{}", " ".repeat(1100)), "is larger than 1024 bytes"),
        ] {
            std::fs::write(dir.path().join("settings.json"), &content).unwrap();
            let shown = open().err().expect("refused").to_string();
            assert!(shown.contains("settings.json") && shown.contains("`old.state_file`"), "{shown}");
            assert!(shown.contains(problem) && shown.contains("remove `migrate_state`"), "{shown}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        std::fs::write(dir.path().join("settings.json"), [0xff, 0xfe, b'\n']).unwrap();
        assert!(open().err().expect("refused").to_string().contains("is not UTF-8 text"));
    }

    #[test]
    fn keys_and_sizes_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = PluginState::open(StateStore::new(dir.path(), "p"), &[], &BTreeMap::new(), dir.path()).unwrap();
        assert!(matches!(state.set(String::new(), "v".into()), Err(CallError::Invalid(_))));
        assert!(matches!(state.set("k".repeat(MAX_KEY_BYTES + 1), "v".into()), Err(CallError::Invalid(_))));
        state.set("big".into(), "x".repeat(MAX_TOTAL_BYTES - 10)).unwrap();
        assert!(matches!(state.set("more".into(), "x".repeat(20)), Err(CallError::Invalid(_))));
        state.set("big".into(), "replaced".into()).unwrap();
        state.set("more".into(), "x".repeat(20)).unwrap();
        // What is removed makes room again; the count follows every change.
        state.remove("more");
        state.set("big".into(), "x".repeat(MAX_TOTAL_BYTES - 3)).unwrap();
        assert!(matches!(state.set("k".into(), "x".into()), Err(CallError::Invalid(_))));
        let counted: usize = state.current.iter().map(|(key, value)| key.len() + value.len()).sum();
        assert_eq!(state.current_bytes, counted);
    }

    #[test]
    fn many_keys_are_set_without_walking_them_all_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = PluginState::open(StateStore::new(dir.path(), "p"), &[], &BTreeMap::new(), dir.path()).unwrap();
        // 100,000 keys of a few bytes each: a walk of every key per `set` would be ten billion steps.
        for n in 0..100_000 {
            state.set(format!("k{n}"), "v".into()).unwrap();
        }
        assert_eq!(state.current.len(), 100_000);
    }
}
