//! A local folder as a remote target (a mounted share, or tests and demos).

use moport_fs::is_partial;
use moport_types::{CallError, Entry};
use std::io;
use std::path::PathBuf;

pub struct LocalTarget {
    name: String,
    root: PathBuf,
    /// Whether a missing folder is made by the first write (else it is an error).
    create: bool,
}

impl LocalTarget {
    pub fn new(name: &str, root: PathBuf, create: bool) -> LocalTarget {
        LocalTarget { name: name.to_owned(), root, create }
    }

    /// Whether the folder is there, or may be made: a share that is not mounted must not be
    /// replaced by a local folder that fills the disk.
    fn folder(&self) -> Result<bool, CallError> {
        if self.root.is_dir() || self.create {
            return Ok(self.root.is_dir());
        }
        let name = &self.name;
        Err(CallError::NotFound(format!(
            "target `{name}`: its folder does not exist ({}); mount or create it, or set `create = true` under \
             [targets.{name}] to have the first write make it",
            self.address()
        )))
    }

    /// The folder exists and takes a file (a hidden one, removed at once), or will be made.
    pub fn probe(&self) -> Result<String, CallError> {
        if !self.folder()? {
            return Ok(format!("folder {} will be made by the first write (`create = true`)", self.address()));
        }
        let files = self.list("")?.iter().filter(|entry| !entry.name.ends_with('/')).count();
        moport_fs::takes_a_file(&self.root).map_err(|err| {
            CallError::Unavailable(format!("target `{}`: its folder takes no file: {err}", self.name))
        })?;
        Ok(format!("folder {} is writable, {files} files in it", self.address()))
    }

    /// The folder: for the operator, never for a plugin.
    pub fn address(&self) -> String {
        self.root.display().to_string()
    }

    /// Names the path inside the target only: where the folder is, is the operator's business.
    fn error(&self, path: &str, err: io::Error) -> CallError {
        let name = &self.name;
        let what = if path.is_empty() { "its folder".to_owned() } else { format!("`{path}`") };
        match err.kind() {
            io::ErrorKind::NotFound => CallError::NotFound(format!("target `{name}`: {what} does not exist")),
            _ => CallError::Unavailable(format!("target `{name}`: {what}: {err}")),
        }
    }

    pub fn list(&self, dir: &str) -> Result<Vec<Entry>, CallError> {
        // A folder the first write will make is empty until then.
        if !self.folder()? {
            return Ok(Vec::new());
        }
        let mut entries = Vec::new();
        for item in std::fs::read_dir(self.root.join(dir)).map_err(|err| self.error(dir, err))? {
            let item = item.map_err(|err| self.error(dir, err))?;
            let meta = item.metadata().map_err(|err| self.error(dir, err))?;
            let name = item.file_name().to_string_lossy().into_owned();
            // Skipping it would let an importer's bookmark pass a file it never read.
            if meta.is_symlink() {
                return Err(self.link_refused(format!("{dir}/{name}").trim_start_matches('/')));
            }
            let modified = || {
                meta.modified().ok().map(|time| {
                    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                })
            };
            if meta.is_file() && !is_partial(&name) {
                entries.push(Entry { name, size: meta.len(), modified: modified() });
            } else if meta.is_dir() {
                entries.push(Entry { name: format!("{name}/"), size: 0, modified: modified() });
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// A link in a target's folder could lead anywhere on this machine; a target holds files.
    fn link_refused(&self, path: &str) -> CallError {
        CallError::Unavailable(format!(
            "target `{}`: `{path}` is a symbolic link; a target's folder holds files only (a link may lead \
             outside it, or nowhere): put the file itself there",
            self.name
        ))
    }

    /// At most `max + 1` bytes of the file: more than `max` means it is larger than that.
    pub fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, CallError> {
        self.folder()?;
        if std::fs::symlink_metadata(self.root.join(path)).is_ok_and(|meta| meta.is_symlink()) {
            return Err(self.link_refused(path));
        }
        let file = std::fs::File::open(self.root.join(path)).map_err(|err| self.error(path, err))?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, max + 1), &mut bytes)
            .map_err(|err| self.error(path, err))?;
        Ok(bytes)
    }

    pub fn write(&self, path: &str, contents: &[u8]) -> Result<(), CallError> {
        self.folder()?;
        moport_fs::write_atomically(&self.root.join(path), contents).map_err(|err| self.error(path, err))
    }

    pub fn rename(&self, from: &str, to: &str) -> Result<(), CallError> {
        self.folder()?;
        std::fs::rename(self.root.join(from), self.root.join(to)).map_err(|err| self.error(from, err))
    }

    pub fn remove(&self, path: &str) -> Result<(), CallError> {
        self.folder()?;
        std::fs::remove_file(self.root.join(path)).map_err(|err| self.error(path, err))
    }
}
