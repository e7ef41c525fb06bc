//! A local folder as a remote target (a mounted share, or tests and demos).

use super::is_partial;
use crate::bindings::moport::host::remote::Entry;
use crate::bindings::moport::host::types::CallError;
use std::io;
use std::path::PathBuf;

pub struct LocalTarget {
    root: PathBuf,
}

impl LocalTarget {
    pub fn new(root: PathBuf) -> LocalTarget {
        LocalTarget { root }
    }

    fn error(&self, path: &str, err: io::Error) -> CallError {
        let place = self.root.join(path);
        match err.kind() {
            io::ErrorKind::NotFound => CallError::NotFound(format!("{} does not exist", place.display())),
            _ => CallError::Unavailable(format!("{}: {err}", place.display())),
        }
    }

    pub fn list(&self, dir: &str) -> Result<Vec<Entry>, CallError> {
        // The target's folder is made by the first write; until then it is empty.
        if dir.is_empty() && !self.root.exists() {
            return Ok(Vec::new());
        }
        let mut entries = Vec::new();
        for item in std::fs::read_dir(self.root.join(dir)).map_err(|err| self.error(dir, err))? {
            let item = item.map_err(|err| self.error(dir, err))?;
            let meta = item.metadata().map_err(|err| self.error(dir, err))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if meta.is_file() && !is_partial(&name) {
                let modified = meta.modified().ok().map(|time| {
                    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                });
                entries.push(Entry { name, size: meta.len(), modified });
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    pub fn read(&self, path: &str) -> Result<Vec<u8>, CallError> {
        std::fs::read(self.root.join(path)).map_err(|err| self.error(path, err))
    }

    pub fn write(&self, path: &str, contents: &[u8]) -> Result<(), CallError> {
        crate::caps::files::write_atomically(&self.root.join(path), contents).map_err(|err| self.error(path, err))
    }

    pub fn rename(&self, from: &str, to: &str) -> Result<(), CallError> {
        std::fs::rename(self.root.join(from), self.root.join(to)).map_err(|err| self.error(from, err))
    }

    pub fn remove(&self, path: &str) -> Result<(), CallError> {
        std::fs::remove_file(self.root.join(path)).map_err(|err| self.error(path, err))
    }
}
