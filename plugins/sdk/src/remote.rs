//! Files on remote targets that plugins.toml names (`[targets.NAME]`, granted with
//! `remote = ["NAME"]`). The host holds the address and the credentials; writes appear whole or
//! not at all.

use crate::CallError;
pub use crate::bindings::moport::host::remote::Entry;

capabilities! { remote:
    /// The files and folders in a folder of the target ("" for its top folder), sorted; a
    /// folder's name ends in `/`.
    pub fn list(target: &str, dir: &str) -> Result<Vec<Entry>, CallError>;
    pub fn read(target: &str, path: &str) -> Result<Vec<u8>, CallError>;
    /// Uploads under a temporary name and renames into place.
    pub fn write(target: &str, path: &str, contents: &[u8]) -> Result<(), CallError>;
    /// Renames a file, replacing a file of that name.
    pub fn rename(target: &str, from: &str, to: &str) -> Result<(), CallError>;
    pub fn remove(target: &str, path: &str) -> Result<(), CallError>;
}

/// Why [`write_set`] failed: the file, the host's answer, and the files of the set already in
/// place (only a rename failing midway leaves any: an upload failing leaves the target as it
/// was).
#[derive(Debug, Clone, PartialEq)]
pub struct SetWriteError {
    pub file: String,
    pub error: CallError,
    pub placed: Vec<String>,
}

impl std::fmt::Display for SetWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.error.message())?;
        match self.placed.as_slice() {
            [] => write!(f, " (no file of the set was placed; the target keeps its earlier files)"),
            placed => write!(f, " (already in place from this set: {})", placed.join(", ")),
        }
    }
}

/// Writes `files` (path, contents) to `target` as a set: every file is uploaded under a hidden
/// name beside its own first, and only when all are there are they renamed into place, in the
/// order given. A failed upload removes what this call uploaded, so a reader of the target never
/// sees some files of this set and some of the last one, unless a rename fails midway.
pub fn write_set(target: &str, files: &[(&str, &[u8])]) -> Result<(), SetWriteError> {
    let staged: Vec<String> = files.iter().map(|(path, _)| staged_name(path)).collect();
    let discard = |uploaded: &[String]| {
        for name in uploaded {
            // Best effort: the next set overwrites a staged file left behind.
            let _ = remove(target, name);
        }
    };
    for (n, (path, contents)) in files.iter().enumerate() {
        if let Err(error) = write(target, &staged[n], contents) {
            discard(&staged[..n]);
            return Err(SetWriteError { file: (*path).to_owned(), error, placed: Vec::new() });
        }
    }
    for (n, (path, _)) in files.iter().enumerate() {
        if let Err(error) = rename(target, &staged[n], path) {
            discard(&staged[n..]);
            let placed = files[..n].iter().map(|(path, _)| (*path).to_owned()).collect();
            return Err(SetWriteError { file: (*path).to_owned(), error, placed });
        }
    }
    Ok(())
}

/// The hidden name a file of a set waits under: `.NAME.moport-staged` in the file's folder.
fn staged_name(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.{name}.moport-staged"),
        None => format!(".{path}.moport-staged"),
    }
}
