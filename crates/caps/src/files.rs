//! `files`: reading and writing inside the plugin's own output folder.
//!
//! A path is relative, `/`-separated, and made of plain names: no `..`, no `.`, no empty part,
//! no absolute path, no name beginning `.moport-` (the host's own). No part of it may be a
//! symbolic link, wherever the link points.
//!
//! A run's files are published as a set: they wait in a hidden staging folder inside the output
//! folder and are moved into place only when the run succeeds, so a failed run (a limit hit
//! midway, a crash, an error) leaves the last complete set, never four new files and one old.

use crate::limits::{LimitExceeded, OutputBudget};
use crate::{CheckLine, Failing, HostState};
use moport_fs::beneath::{Beneath, Kind, link_refused};
use moport_manifest::ByteSize;
use moport_types::paths::HOST_NAME_PREFIX;
use moport_wit::moport::host::files::Host;
use moport_wit::moport::host::types::CallError;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub struct OutputFolder {
    root: PathBuf,
    /// The published files, below `root`.
    published: Beneath,
    /// Where this run's files wait until the run succeeds: a hidden folder inside `root`, so
    /// moving them into place is a rename on one file system.
    staging: Beneath,
    staging_path: PathBuf,
    /// Whether `root` was missing when the run began: a run that fails before publishing
    /// anything then leaves no empty folder.
    root_was_missing: bool,
    /// Files written in this run: when each was first written (its place in the run's list)
    /// and its size.
    files: BTreeMap<String, (usize, u64)>,
    /// How many files this run has begun: the next one's place in the list.
    begun: usize,
    /// Published files this run removed; they go when the run's files are published.
    removed: BTreeSet<String>,
    /// The folders this run's files lie in (`a`, `a/b`), counted against [`MAX_FOLDERS`].
    folders: BTreeSet<String>,
}

/// Files one run may write; each is a file of the host's to stage and publish.
pub const MAX_FILES: usize = 10_000;
/// Folders one run's files may lie in.
pub const MAX_FOLDERS: usize = 1_000;

/// Why a successful run's files could not be moved into the output folder.
#[derive(Debug, thiserror::Error)]
#[error("`{file}`: {source}")]
pub struct PublishError {
    pub file: String,
    #[source]
    pub source: io::Error,
}

impl OutputFolder {
    /// The folder granted in plugins.toml, made by the first write (a dry run that writes
    /// nothing leaves no empty folder behind); refused if something other than a folder is there.
    /// The caller holds the plugin's run lock, so a staging folder already there is what a
    /// killed run left: it is discarded.
    pub fn open(root: &Path, plugin: &str) -> io::Result<OutputFolder> {
        if root.exists() && !root.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotADirectory, "it is there, but not a folder"));
        }
        let staging_name = format!("{HOST_NAME_PREFIX}staging-{plugin}");
        let staging_path = root.join(&staging_name);
        if fs::symlink_metadata(&staging_path).is_ok() {
            tracing::warn!(plugin, folder = %staging_path.display(), "discarding the files of an earlier run that did not end");
            // Removes a link there itself, never what it points at.
            fs::remove_dir_all(&staging_path)?;
        }
        let published = Beneath::new(root);
        Ok(OutputFolder {
            root: root.to_owned(),
            staging: published.folder(&staging_name),
            published,
            staging_path,
            root_was_missing: !root.exists(),
            files: BTreeMap::new(),
            begun: 0,
            removed: BTreeSet::new(),
            folders: BTreeSet::new(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files this run wrote, with their sizes, in the order first written.
    pub fn written_files(&self) -> Vec<(String, u64)> {
        let mut files: Vec<_> = self.files.iter().map(|(name, (order, size))| (*order, name.clone(), *size)).collect();
        files.sort_unstable();
        files.into_iter().map(|(_, name, size)| (name, size)).collect()
    }

    /// Checks a plugin path, refusing anything that could leave the folder. `""` is the
    /// folder itself and only allowed where `allow_root` says so. Links are refused as the
    /// path is opened, name by name, so none can be swapped in after a check.
    fn resolve<'p>(&self, path: &'p str, allow_root: bool) -> Result<&'p str, CallError> {
        moport_types::paths::output_path(path, allow_root).map_err(CallError::from)?;
        Ok(path)
    }

    fn is_staged(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Writes this run's file at `path`, counted against `budget` and the run's file and folder
    /// counts.
    fn write(
        &mut self,
        path: &str,
        contents: &[u8],
        budget: &mut OutputBudget,
    ) -> Result<Result<(), CallError>, LimitExceeded> {
        budget.allows(|| format!("`{path}`"), contents.len())?;
        let relative = match self.resolve(path, false) {
            Ok(relative) => relative,
            Err(err) => return Ok(Err(err)),
        };
        if !self.files.contains_key(path) && self.files.len() >= MAX_FILES {
            return Err(LimitExceeded::Count { limit: MAX_FILES, what: "files" });
        }
        let folders: Vec<&str> = path.match_indices('/').map(|(end, _)| &path[..end]).collect();
        let new_folders = folders.iter().filter(|folder| !self.folders.contains(**folder)).count();
        if self.folders.len() + new_folders > MAX_FOLDERS {
            return Err(LimitExceeded::Count { limit: MAX_FOLDERS, what: "folders" });
        }
        // Refused now rather than when the run's files are published, where a link swapped in
        // later is refused again.
        match self.published.kind(relative) {
            Ok(Some(Kind::Link)) => {
                let link = moport_fs::beneath::LinkRefused { name: path.rsplit('/').next().unwrap_or(path).to_owned() };
                return Ok(Err(io_error(path, &io::Error::other(link))));
            }
            Err(err) => return Ok(Err(io_error(path, &err))),
            Ok(_) => {}
        }
        if let Err(err) = self.staging.write_atomically(relative, contents) {
            return Ok(Err(io_error(path, &err)));
        }
        budget.spend(contents.len());
        self.folders.extend(folders.into_iter().map(str::to_owned));
        self.removed.remove(path);
        let begun = &mut self.begun;
        self.files
            .entry(path.to_owned())
            .or_insert_with(|| {
                *begun += 1;
                (*begun, 0)
            })
            .1 = contents.len() as u64;
        Ok(Ok(()))
    }

    /// What the plugin sees at `path`: this run's file if it wrote one, else the published one.
    /// A file larger than `max` (what the plugin may hold) is not read: the run stops at the
    /// limit instead of the host bringing it all in.
    fn read(&self, path: &str, max: ByteSize) -> Result<Result<Vec<u8>, CallError>, LimitExceeded> {
        let relative = match self.resolve(path, false) {
            Ok(relative) => relative,
            Err(err) => return Ok(Err(err)),
        };
        let folder = match (self.is_staged(path), self.removed.contains(path)) {
            (true, _) => &self.staging,
            (false, true) => return Ok(Err(io_error(path, &io::ErrorKind::NotFound.into()))),
            (false, false) => &self.published,
        };
        match folder.read(relative, max.0) {
            Ok(bytes) => Ok(Ok(bytes)),
            Err(err) if err.kind() == io::ErrorKind::FileTooLarge => {
                Err(LimitExceeded::Read { limit: max, what: format!("`{path}` in the output folder") })
            }
            Err(err) => Ok(Err(io_error(path, &err))),
        }
    }

    /// The published folder as this run has changed it so far: its files and this run's.
    fn list(&self, dir: &str) -> Result<Vec<String>, CallError> {
        let relative = self.resolve(dir, true)?;
        let mut names = BTreeSet::new();
        let mut found = false;
        for folder in [&self.published, &self.staging] {
            let entries = match folder.list(relative) {
                Ok(entries) => entries,
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => return Err(io_error(dir, &err)),
            };
            found = true;
            for entry in entries {
                let name = entry.name;
                let path = if dir.is_empty() { name.clone() } else { format!("{dir}/{name}") };
                if moport_fs::is_partial(&name) || name.starts_with(HOST_NAME_PREFIX) || self.removed.contains(&path) {
                    continue;
                }
                names.insert(if entry.kind == Kind::Folder { format!("{name}/") } else { name });
            }
        }
        if !found && !dir.is_empty() {
            return Err(io_error(dir, &io::ErrorKind::NotFound.into()));
        }
        Ok(names.into_iter().collect())
    }

    /// Removes this run's file at `path`, and the published one when the run's files are
    /// published.
    fn remove(&mut self, path: &str) -> Result<(), CallError> {
        let relative = self.resolve(path, false)?;
        let published = !self.removed.contains(path)
            && self.published.kind(relative).map_err(|err| io_error(path, &err))? == Some(Kind::File);
        if self.is_staged(path) {
            self.staging.remove_file(relative).map_err(|err| io_error(path, &err))?;
            self.files.remove(path);
        } else if !published {
            return Err(io_error(path, &io::ErrorKind::NotFound.into()));
        }
        if published {
            self.removed.insert(path.to_owned());
        }
        Ok(())
    }

    /// Moves the run's files into place, replacing the published ones (which keep their
    /// permissions), and removes what the run removed. Every file is checked first, so a file
    /// that cannot be placed (a folder in its way) leaves the published set as it was.
    pub fn publish(&mut self) -> Result<(), PublishError> {
        let failed = |file: &str, source| PublishError { file: file.to_owned(), source };
        for file in self.files.keys() {
            let kind = |path: &str| self.published.kind(path).map_err(|err| failed(file, err));
            if kind(file)? == Some(Kind::Folder) {
                return Err(failed(file, io::Error::new(io::ErrorKind::IsADirectory, "a folder is in its place")));
            }
            for (end, _) in file.match_indices('/') {
                let folder = &file[..end];
                if kind(folder)?.is_some_and(|kind| kind != Kind::Folder) {
                    let message = format!("`{folder}` is in the way, and it is not a folder");
                    return Err(failed(file, io::Error::new(io::ErrorKind::NotADirectory, message)));
                }
            }
        }
        for file in std::mem::take(&mut self.removed) {
            match self.published.remove_file(&file) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(failed(&file, err)),
                _ => {}
            }
        }
        let mut folders = BTreeSet::new();
        for file in self.files.keys() {
            self.staging.move_to(file, &self.published, file).map_err(|err| failed(file, err))?;
            folders.insert(file.rsplit_once('/').map_or("", |(folder, _)| folder));
        }
        for folder in folders {
            self.published.sync_folder(folder);
        }
        self.root_was_missing = false;
        // What is left is the empty staging folder; the next run discards it if this fails.
        let _ = fs::remove_dir_all(&self.staging_path);
        Ok(())
    }
}

impl Drop for OutputFolder {
    /// A run that did not publish leaves nothing of its own behind.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.staging_path);
        if self.root_was_missing {
            // Only an empty folder is removed: anything else there is not this run's.
            let _ = fs::remove_dir(&self.root);
        }
    }
}

/// What `moport check` says of an output folder: whether it (or, until the first run makes it,
/// the nearest folder above it) takes a file, a hidden one removed at once.
pub fn check(folder: &Path) -> CheckLine {
    let existing = folder.ancestors().find(|dir| dir.is_dir()).unwrap_or(Path::new("."));
    let result = match (moport_fs::takes_a_file(existing), existing == folder) {
        (Ok(()), true) => Ok(format!("{} is writable", folder.display())),
        (Ok(()), false) => {
            Ok(format!("{} will be made by the first run ({} is writable)", folder.display(), existing.display()))
        }
        (Err(err), _) => Err((Failing::Service, format!("{} takes no file: {err}", existing.display()))),
    };
    CheckLine::new("output folder", result)
}

fn io_error(path: &str, err: &io::Error) -> CallError {
    if let Some(link) = link_refused(err) {
        return CallError::Invalid(format!("path `{path}` refused: {link}"));
    }
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
            Some(folder) => Ok(folder.write(&path, &contents, &mut self.output)?),
            None => Ok(Err(not_granted())),
        }
    }

    async fn read(&mut self, path: String) -> wasmtime::Result<Result<Vec<u8>, CallError>> {
        match self.files.as_ref() {
            Some(folder) => Ok(folder.read(&path, self.limiter.memory())?),
            None => Ok(Err(not_granted())),
        }
    }

    async fn list(&mut self, dir: String) -> wasmtime::Result<Result<Vec<String>, CallError>> {
        Ok(self.files.as_ref().map_or_else(|| Err(not_granted()), |folder| folder.list(&dir)))
    }

    async fn remove(&mut self, path: String) -> wasmtime::Result<Result<(), CallError>> {
        Ok(self.files.as_mut().map_or_else(|| Err(not_granted()), |folder| folder.remove(&path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(limit: u64) -> (tempfile::TempDir, OutputFolder, OutputBudget) {
        let dir = tempfile::tempdir().unwrap();
        // As after a first run: the folder is there.
        fs::create_dir(dir.path().join("out")).unwrap();
        let folder = OutputFolder::open(&dir.path().join("out"), "test").unwrap();
        (dir, folder, OutputBudget::new(ByteSize(limit)))
    }

    fn refused<T: std::fmt::Debug>(result: Result<T, CallError>) -> String {
        match result {
            Err(CallError::Invalid(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// The output folder's published files, by path, the host's hidden ones left out.
    fn published(root: &Path) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut folders = vec![root.to_owned()];
        while let Some(folder) = folders.pop() {
            for entry in fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if name.starts_with(HOST_NAME_PREFIX) {
                    continue;
                }
                match path.is_dir() {
                    true => folders.push(path),
                    false => found.push((name, fs::read_to_string(&path).unwrap())),
                }
            }
        }
        found.sort();
        found
    }

    fn pairs(files: &[(&str, &str)]) -> Vec<(String, String)> {
        files.iter().map(|(name, text)| ((*name).to_owned(), (*text).to_owned())).collect()
    }

    #[test]
    fn escaping_paths_are_refused_with_the_reason() {
        let (_dir, out, _) = folder(1024);
        assert!(refused(out.resolve("../x", false)).contains("`..` would leave"));
        assert!(refused(out.resolve("a/../../x", false)).contains("`..`"));
        assert!(refused(out.resolve("/etc/passwd", false)).contains("absolute"));
        assert!(refused(out.resolve("a//b", false)).contains("plain names"));
        assert!(refused(out.resolve("./a", false)).contains("plain names"));
        assert!(refused(out.resolve("", false)).contains("empty"));
        assert!(refused(out.resolve("a\0b", false)).contains("NUL"));
        assert!(refused(out.resolve(".moport-staging-test/x", false)).contains("the host's own"));
        assert_eq!(out.resolve("sub/file.csv", false).unwrap(), "sub/file.csv");
        assert_eq!(out.resolve("", true).unwrap(), "");
    }

    #[test]
    fn symbolic_links_are_refused_even_when_they_point_inside() {
        let (dir, mut out, mut budget) = folder(1024);
        fs::write(dir.path().join("secret"), "outside").unwrap();
        std::os::unix::fs::symlink(dir.path(), out.root().join("outside")).unwrap();
        fs::create_dir(out.root().join("real")).unwrap();
        std::os::unix::fs::symlink(out.root().join("real"), out.root().join("inside")).unwrap();
        assert!(refused(out.read("outside/secret", ByteSize(1024)).unwrap()).contains("`outside` is a symbolic link"));
        assert!(refused(out.list("inside")).contains("`inside` is a symbolic link"));
        assert!(refused(out.write("outside/x", b"x", &mut budget).unwrap()).contains("`outside` is a symbolic link"));
        assert!(refused(out.write("inside", b"x", &mut budget).unwrap()).contains("`inside` is a symbolic link"));
        // A link swapped in after the write is refused when the run's files are published.
        out.write("later/x", b"x", &mut budget).unwrap().unwrap();
        std::os::unix::fs::symlink(dir.path(), out.root().join("later")).unwrap();
        let err = out.publish().unwrap_err();
        assert!(err.to_string().contains("`later` is a symbolic link"), "{err}");
        assert!(!dir.path().join("x").exists(), "nothing was written through the link");
    }

    #[test]
    fn writes_count_against_the_limit_and_are_seen_by_the_run_before_they_are_published() {
        let (_dir, mut out, mut budget) = folder(10);
        out.write("a/b.txt", b"12345", &mut budget).unwrap().unwrap();
        out.write("a/b.txt", b"123", &mut budget).unwrap().unwrap();
        assert_eq!(out.read("a/b.txt", ByteSize(3)).unwrap().unwrap(), b"123");
        assert_eq!(
            out.read("a/b.txt", ByteSize(2)).unwrap_err(),
            LimitExceeded::Read { limit: ByteSize(2), what: "`a/b.txt` in the output folder".into() },
            "a file larger than the plugin may hold is not read"
        );
        assert_eq!(out.list("").unwrap(), ["a/"]);
        assert_eq!(out.list("a").unwrap(), ["b.txt"]);
        assert_eq!(out.written_files(), [("a/b.txt".to_owned(), 3)]);
        assert!(published(out.root()).is_empty(), "nothing is published before the run ends");
        let err = out.write("c.txt", b"xxx", &mut budget).unwrap_err();
        assert_eq!(err, LimitExceeded::Output { limit: ByteSize(10), what: "`c.txt`".into(), would_be: 11 });
        out.publish().unwrap();
        assert_eq!(published(out.root()), pairs(&[("a/b.txt", "123")]));
    }

    #[test]
    fn a_run_writes_at_most_so_many_files_in_so_many_folders() {
        let (_dir, mut out, mut budget) = folder(1024);
        out.files.extend((0..MAX_FILES).map(|n| (format!("f{n}"), (n, 0))));
        let err = out.write("one-more.csv", b"x", &mut budget).unwrap_err();
        assert_eq!(err, LimitExceeded::Count { limit: MAX_FILES, what: "files" });
        out.write("f7", b"rewritten", &mut budget).unwrap().unwrap();

        let (_dir, mut out, mut budget) = folder(1024);
        out.folders.extend((1..MAX_FOLDERS).map(|n| format!("d{n}")));
        out.write("a/in-the-last-folder.csv", b"x", &mut budget).unwrap().unwrap();
        let err = out.write("b/one-folder-more.csv", b"x", &mut budget).unwrap_err();
        assert_eq!(err, LimitExceeded::Count { limit: MAX_FOLDERS, what: "folders" });
        out.write("a/beside-it.csv", b"x", &mut budget).unwrap().unwrap();
    }

    #[test]
    fn the_run_s_files_are_listed_in_the_order_first_written() {
        let (_dir, mut out, mut budget) = folder(1024);
        for name in ["b.csv", "a.csv"] {
            out.write(name, b"x", &mut budget).unwrap().unwrap();
        }
        out.remove("b.csv").unwrap();
        out.write("c.csv", b"xy", &mut budget).unwrap().unwrap();
        out.write("a.csv", b"xyz", &mut budget).unwrap().unwrap();
        assert_eq!(out.written_files(), [("a.csv".to_owned(), 3), ("c.csv".to_owned(), 2)]);
    }

    #[test]
    fn a_run_that_does_not_publish_leaves_the_last_complete_set() {
        let (dir, mut out, mut budget) = folder(1024);
        for name in ["one.csv", "two.csv"] {
            out.write(name, b"old", &mut budget).unwrap().unwrap();
        }
        out.publish().unwrap();
        drop(out);
        let mut out = OutputFolder::open(&dir.path().join("out"), "test").unwrap();
        let mut budget = OutputBudget::new(ByteSize(1024));
        out.write("one.csv", b"new", &mut budget).unwrap().unwrap();
        out.write("three.csv", b"new", &mut budget).unwrap().unwrap();
        out.remove("two.csv").unwrap();
        assert_eq!(out.list("").unwrap(), ["one.csv", "three.csv"]);
        assert!(matches!(out.read("two.csv", ByteSize(1024)), Ok(Err(CallError::NotFound(_)))));
        drop(out);
        let before = pairs(&[("one.csv", "old"), ("two.csv", "old")]);
        assert_eq!(published(&dir.path().join("out")), before);
        assert_eq!(fs::read_dir(dir.path().join("out")).unwrap().count(), 2, "no staging folder is left");
    }

    #[test]
    fn publishing_moves_the_run_s_files_in_and_what_it_removed_out() {
        let (dir, mut out, mut budget) = folder(1024);
        fs::write(out.root().join("gone.csv"), "old").unwrap();
        fs::write(out.root().join("kept.csv"), "old").unwrap();
        out.write("gone.csv", b"rewritten, then removed", &mut budget).unwrap().unwrap();
        out.remove("gone.csv").unwrap();
        out.write("sub/new.csv", b"new", &mut budget).unwrap().unwrap();
        out.publish().unwrap();
        drop(out);
        assert_eq!(published(&dir.path().join("out")), pairs(&[("kept.csv", "old"), ("sub/new.csv", "new")]));
        assert!(!dir.path().join("out/.moport-staging-test").exists());
    }

    #[test]
    fn a_file_that_cannot_be_placed_leaves_the_published_set_as_it_was() {
        let (dir, mut out, mut budget) = folder(1024);
        fs::write(out.root().join("first.csv"), "old").unwrap();
        out.write("first.csv", b"new", &mut budget).unwrap().unwrap();
        out.write("second.csv", b"new", &mut budget).unwrap().unwrap();
        // Something else puts a folder where the run's second file goes.
        fs::create_dir_all(out.root().join("second.csv/inside")).unwrap();
        let err = out.publish().unwrap_err();
        assert_eq!(err.file, "second.csv");
        assert!(err.to_string().contains("a folder is in its place"), "{err}");
        drop(out);
        assert_eq!(fs::read_to_string(dir.path().join("out/first.csv")).unwrap(), "old");
    }

    #[test]
    fn a_failed_first_run_leaves_no_empty_folder_and_a_killed_run_s_files_are_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        let mut out = OutputFolder::open(&root, "test").unwrap();
        let mut budget = OutputBudget::new(ByteSize(1024));
        out.write("a.csv", b"x", &mut budget).unwrap().unwrap();
        drop(out);
        assert!(!root.exists());

        fs::create_dir_all(root.join(".moport-staging-test/sub")).unwrap();
        fs::write(root.join(".moport-staging-test/sub/stale.csv"), "from a killed run").unwrap();
        let out = OutputFolder::open(&root, "test").unwrap();
        assert!(!root.join(".moport-staging-test").exists());
        assert!(out.list("").unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, mut out, mut budget) = folder(1024);
        fs::write(out.root().join("private.csv"), "old").unwrap();
        fs::set_permissions(out.root().join("private.csv"), fs::Permissions::from_mode(0o600)).unwrap();
        out.write("private.csv", b"new", &mut budget).unwrap().unwrap();
        out.publish().unwrap();
        assert_eq!(fs::metadata(out.root().join("private.csv")).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn missing_files_are_not_found() {
        let (_dir, mut out, _) = folder(10);
        assert!(
            matches!(out.read("nope.txt", ByteSize(10)), Ok(Err(CallError::NotFound(m))) if m.contains("nope.txt"))
        );
        assert!(matches!(out.remove("nope.txt"), Err(CallError::NotFound(_))));
        assert!(matches!(out.list("nope"), Err(CallError::NotFound(_))));
    }
}
