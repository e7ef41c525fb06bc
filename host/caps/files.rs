//! `files`: reading and writing inside the plugin's own output folder.
//!
//! A path is relative, `/`-separated, and made of plain names: no `..`, no `.`, no empty part,
//! no absolute path. No part of it may be a symbolic link, wherever the link points. Writes go to
//! a hidden temporary file that is renamed into place, so a reader never sees half a file.

use super::HostState;
use crate::bindings::moport::host::files::Host;
use crate::bindings::moport::host::types::CallError;
use crate::engine::limits::LimitExceeded;
use crate::manifest::ByteSize;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub struct OutputFolder {
    root: PathBuf,
    limit: ByteSize,
    written: u64,
    /// Files written in this run with their sizes, in the order first written.
    files: Vec<(String, u64)>,
}

impl OutputFolder {
    /// The folder granted in plugins.toml, made by the first write (a dry run that writes
    /// nothing leaves no empty folder behind); refused if something other than a folder is there.
    pub fn open(root: &Path, limit: ByteSize) -> io::Result<OutputFolder> {
        if root.exists() && !root.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotADirectory, "it is there, but not a folder"));
        }
        Ok(OutputFolder { root: root.to_owned(), limit, written: 0, files: Vec::new() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files this run wrote, with their sizes.
    pub fn written_files(&self) -> &[(String, u64)] {
        &self.files
    }

    /// Resolves a plugin path, refusing anything that could leave the folder. `""` is the
    /// folder itself and only allowed where `allow_root` says so.
    fn resolve(&self, path: &str, allow_root: bool) -> Result<PathBuf, CallError> {
        let refuse = |why: &str| Err(CallError::Invalid(format!("path `{path}` refused: {why}")));
        if path.is_empty() {
            return if allow_root { Ok(self.root.clone()) } else { refuse("it is empty") };
        }
        if path.contains('\0') {
            return refuse("it contains a NUL character");
        }
        if path.starts_with('/') {
            return refuse("absolute paths are not allowed; give a path inside the output folder");
        }
        let mut resolved = self.root.clone();
        for part in path.split('/') {
            match part {
                "" | "." => return refuse("use plain names separated by single `/`"),
                ".." => return refuse("`..` would leave the output folder"),
                _ => {}
            }
            resolved.push(part);
            match fs::symlink_metadata(&resolved) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return refuse(&format!("`{part}` is a symbolic link, and links are not followed"));
                }
                _ => {}
            }
        }
        Ok(resolved)
    }

    fn write(&mut self, path: &str, contents: &[u8]) -> Result<Result<(), CallError>, LimitExceeded> {
        let would_be = self.written + contents.len() as u64;
        if would_be > self.limit.0 {
            return Err(LimitExceeded::Output { limit: self.limit, path: path.to_owned(), would_be });
        }
        let target = match self.resolve(path, false) {
            Ok(target) => target,
            Err(err) => return Ok(Err(err)),
        };
        if let Err(err) = write_atomically(&target, contents) {
            return Ok(Err(io_error(path, &err)));
        }
        self.written = would_be;
        match self.files.iter_mut().find(|(name, _)| name == path) {
            Some(entry) => entry.1 = contents.len() as u64,
            None => self.files.push((path.to_owned(), contents.len() as u64)),
        }
        Ok(Ok(()))
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, CallError> {
        let target = self.resolve(path, false)?;
        fs::read(&target).map_err(|err| io_error(path, &err))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, CallError> {
        let target = self.resolve(dir, true)?;
        if dir.is_empty() && !self.root.exists() {
            return Ok(Vec::new());
        }
        let entries = fs::read_dir(&target).map_err(|err| io_error(dir, &err))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|err| io_error(dir, &err))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_partial(&name) {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            names.push(if is_dir { format!("{name}/") } else { name });
        }
        names.sort();
        Ok(names)
    }

    fn remove(&self, path: &str) -> Result<(), CallError> {
        let target = self.resolve(path, false)?;
        fs::remove_file(&target).map_err(|err| io_error(path, &err))
    }
}

/// Whether `folder` takes a file: a hidden one is made there and removed at once (`moport
/// check`'s probe of output folders and local targets).
pub(crate) fn takes_a_file(folder: &Path) -> io::Result<()> {
    tempfile::Builder::new().prefix(".moport-check-").tempfile_in(folder).map(drop)
}

/// How the hidden temporary files of atomic writes end, here and on remote targets.
pub(crate) const PARTIAL_SUFFIX: &str = ".moport-partial";

/// Whether a name is one of those temporary files, which listings leave out.
pub(crate) fn is_partial(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(PARTIAL_SUFFIX)
}

/// Writes through a hidden temporary file beside the target, synced before it is renamed into
/// place: a reader, or a crash, never leaves half a file under the target's name. A file that
/// is replaced keeps its permissions (a snapshot full of CPR numbers stays as private as it was).
pub(crate) fn write_atomically(target: &Path, contents: &[u8]) -> io::Result<()> {
    let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let name = target.file_name().ok_or_else(|| io::Error::other("the path does not end in a file name"))?;
    // The process id keeps two writers of one target off each other's temporary file.
    let partial = parent.join(format!(".{}.{}{PARTIAL_SUFFIX}", name.to_string_lossy(), std::process::id()));
    let write = || -> io::Result<()> {
        let mut file = fs::File::create(&partial)?;
        if let Ok(existing) = fs::metadata(target) {
            file.set_permissions(existing.permissions())?;
        }
        io::Write::write_all(&mut file, contents)?;
        file.sync_all()
    };
    let result = write().and_then(|()| fs::rename(&partial, target));
    if result.is_err() {
        let _ = fs::remove_file(&partial);
        return result;
    }
    // Make the rename itself durable. Best effort: not every file system lets a folder be synced,
    // and the new contents are in place either way.
    let _ = fs::File::open(parent).and_then(|folder| folder.sync_all());
    Ok(())
}

fn io_error(path: &str, err: &io::Error) -> CallError {
    match err.kind() {
        io::ErrorKind::NotFound => CallError::NotFound(format!("`{path}` does not exist in the output folder")),
        _ => CallError::Unavailable(format!("`{path}`: {err}")),
    }
}

fn not_granted() -> CallError {
    CallError::Denied(
        "the `files` capability is not granted: add `files = \"<folder>\"` under the plugin's [grants]".into(),
    )
}

impl Host for HostState {
    async fn write(&mut self, path: String, contents: Vec<u8>) -> wasmtime::Result<Result<(), CallError>> {
        match self.files.as_mut() {
            Some(folder) => Ok(folder.write(&path, &contents)?),
            None => Ok(Err(not_granted())),
        }
    }

    async fn read(&mut self, path: String) -> wasmtime::Result<Result<Vec<u8>, CallError>> {
        Ok(self.files.as_ref().map_or_else(|| Err(not_granted()), |folder| folder.read(&path)))
    }

    async fn list(&mut self, dir: String) -> wasmtime::Result<Result<Vec<String>, CallError>> {
        Ok(self.files.as_ref().map_or_else(|| Err(not_granted()), |folder| folder.list(&dir)))
    }

    async fn remove(&mut self, path: String) -> wasmtime::Result<Result<(), CallError>> {
        Ok(self.files.as_ref().map_or_else(|| Err(not_granted()), |folder| folder.remove(&path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(limit: u64) -> (tempfile::TempDir, OutputFolder) {
        let dir = tempfile::tempdir().unwrap();
        // As after a first run: the folder is there.
        fs::create_dir(dir.path().join("out")).unwrap();
        let folder = OutputFolder::open(&dir.path().join("out"), ByteSize(limit)).unwrap();
        (dir, folder)
    }

    fn refused(result: Result<PathBuf, CallError>) -> String {
        match result {
            Err(CallError::Invalid(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn escaping_paths_are_refused_with_the_reason() {
        let (_dir, out) = folder(1024);
        assert!(refused(out.resolve("../x", false)).contains("`..` would leave"));
        assert!(refused(out.resolve("a/../../x", false)).contains("`..`"));
        assert!(refused(out.resolve("/etc/passwd", false)).contains("absolute"));
        assert!(refused(out.resolve("a//b", false)).contains("plain names"));
        assert!(refused(out.resolve("./a", false)).contains("plain names"));
        assert!(refused(out.resolve("", false)).contains("empty"));
        assert!(refused(out.resolve("a\0b", false)).contains("NUL"));
        assert_eq!(out.resolve("sub/file.csv", false).unwrap(), out.root().join("sub/file.csv"));
        assert_eq!(out.resolve("", true).unwrap(), out.root());
    }

    #[test]
    fn symbolic_links_are_refused_even_when_they_point_inside() {
        let (dir, out) = folder(1024);
        std::os::unix::fs::symlink(dir.path(), out.root().join("outside")).unwrap();
        fs::create_dir(out.root().join("real")).unwrap();
        std::os::unix::fs::symlink(out.root().join("real"), out.root().join("inside")).unwrap();
        assert!(refused(out.resolve("outside/secret", false)).contains("symbolic link"));
        assert!(refused(out.resolve("inside/x", false)).contains("`inside` is a symbolic link"));
    }

    #[test]
    fn writes_replace_atomically_and_count_against_the_limit() {
        let (_dir, mut out) = folder(10);
        out.write("a/b.txt", b"12345").unwrap().unwrap();
        out.write("a/b.txt", b"123").unwrap().unwrap();
        assert_eq!(out.read("a/b.txt").unwrap(), b"123");
        assert_eq!(out.list("").unwrap(), ["a/"]);
        assert_eq!(out.list("a").unwrap(), ["b.txt"]);
        assert_eq!(out.written_files(), [("a/b.txt".to_owned(), 3)]);
        let err = out.write("c.txt", b"xxx").unwrap_err();
        assert_eq!(err, LimitExceeded::Output { limit: ByteSize(10), path: "c.txt".into(), would_be: 11 });
        assert!(!out.root().join("c.txt").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("mo.json");
        fs::write(&target, "old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        write_atomically(&target, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn missing_files_are_not_found() {
        let (_dir, out) = folder(10);
        assert!(matches!(out.read("nope.txt"), Err(CallError::NotFound(m)) if m.contains("nope.txt")));
        assert!(matches!(out.remove("nope.txt"), Err(CallError::NotFound(_))));
    }
}
