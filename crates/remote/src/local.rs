//! A local folder as a remote target (a mounted share, or tests and demos).

use moport_fs::beneath::{Beneath, Kind, link_refused};
use moport_fs::is_partial;
use moport_types::{CallError, Entry};
use std::io;
use std::path::PathBuf;

/// Every path is opened name by name below the folder's handle, never through a symbolic link:
/// a link in the folder could lead anywhere on this machine, and a target holds files.
pub struct LocalTarget {
    name: String,
    root: PathBuf,
    files: Beneath,
    /// Whether a missing folder is made by the first write (else it is an error).
    create: bool,
}

impl LocalTarget {
    pub fn new(name: &str, root: PathBuf, create: bool) -> LocalTarget {
        LocalTarget { name: name.to_owned(), files: Beneath::new(&root), root, create }
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
        if let Some(link) = link_refused(&err) {
            // The path as far as the name that is a link.
            let names: Vec<&str> = path.split('/').collect();
            let upto = names.iter().position(|name| *name == link.name).map_or(names.len(), |at| at + 1);
            return self.link_refused(&names[..upto].join("/"));
        }
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
        for item in self.files.list(dir).map_err(|err| self.error(dir, err))? {
            let modified = item.modified.map(|time| {
                chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            });
            match item.kind {
                // Skipping it would let an importer's bookmark pass a file it never read.
                Kind::Link => return Err(self.link_refused(format!("{dir}/{}", item.name).trim_start_matches('/'))),
                Kind::File if !is_partial(&item.name) => {
                    entries.push(Entry { name: item.name, size: item.size, modified });
                }
                Kind::Folder => entries.push(Entry { name: format!("{}/", item.name), size: 0, modified }),
                Kind::File | Kind::Other => {}
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

    /// The file, or `None` if it holds more than `max` bytes (then not read).
    pub fn read(&self, path: &str, max: u64) -> Result<Option<Vec<u8>>, CallError> {
        self.folder()?;
        match self.files.read(path, max) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == io::ErrorKind::FileTooLarge => Ok(None),
            Err(err) => Err(self.error(path, err)),
        }
    }

    pub fn write(&self, path: &str, contents: &[u8]) -> Result<(), CallError> {
        self.folder()?;
        self.files.write_atomically(path, contents).map_err(|err| self.error(path, err))
    }

    pub fn rename(&self, from: &str, to: &str) -> Result<(), CallError> {
        self.folder()?;
        self.files.move_to(from, &self.files, to).map_err(|err| {
            // A link met on the way may be in either path: name the one it is in.
            let in_to = moport_fs::beneath::link_refused(&err).is_some_and(|link| {
                to.split('/').any(|name| name == link.name) && !from.split('/').any(|name| name == link.name)
            });
            self.error(if in_to { to } else { from }, err)
        })
    }

    pub fn remove(&self, path: &str) -> Result<(), CallError> {
        self.folder()?;
        self.files.remove_file(path).map_err(|err| self.error(path, err))
    }
}
