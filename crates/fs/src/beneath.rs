//! Files below a folder, reached name by name from the folder's open handle and never through a
//! symbolic link (`openat` with `O_NOFOLLOW` at every step). Checking a path for links and then
//! opening it by name is a race: a link swapped in between the two leads anywhere. Here there is
//! no between, so whatever else changes the folder meanwhile, nothing outside it is read, written,
//! renamed or removed.

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Why a path was refused: one of its names is a symbolic link, wherever it points.
#[derive(Debug, thiserror::Error)]
#[error("`{name}` is a symbolic link, and links are not followed")]
pub struct LinkRefused {
    /// The name that is a link.
    pub name: String,
}

/// The refused link behind `err`, if that is what it is.
pub fn link_refused(err: &io::Error) -> Option<&LinkRefused> {
    err.get_ref().and_then(|inner| inner.downcast_ref::<LinkRefused>())
}

/// What is at a name, as seen without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
    Link,
    /// A device, socket or pipe: nothing a plugin's files are.
    Other,
}

/// One name in a folder's listing.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub kind: Kind,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

/// A folder (the operator's path, taken as it is) and the `/`-separated paths below it.
#[derive(Debug, Clone)]
pub struct Beneath {
    root: PathBuf,
    /// Names between `root` and the folder this stands for, walked like any other.
    within: Vec<String>,
}

const FOLDER_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

impl Beneath {
    pub fn new(root: &Path) -> Beneath {
        Beneath { root: root.to_owned(), within: Vec::new() }
    }

    /// The folder `name` below this one, itself reached without following a link.
    pub fn folder(&self, name: &str) -> Beneath {
        let mut within = self.within.clone();
        within.push(name.to_owned());
        Beneath { root: self.root.clone(), within }
    }

    /// The parent folder of `path`, opened (and made, when `create`) name by name, and the
    /// file name the path ends in (empty for the folder itself).
    fn parent_of<'p>(&self, path: &'p str, create: bool) -> io::Result<(OwnedFd, &'p str)> {
        let names = names(path)?;
        let (last, folders) = names.split_last().map_or(("", &[][..]), |(last, folders)| (*last, folders));
        if create {
            std::fs::create_dir_all(&self.root)?;
        }
        let mut dir = rustix::fs::open(&self.root, FOLDER_FLAGS.difference(OFlags::NOFOLLOW), Mode::empty())?;
        for name in self.within.iter().map(String::as_str).chain(folders.iter().copied()) {
            dir = open_folder(&dir, name, create)?;
        }
        Ok((dir, last))
    }

    /// The open folder at `path` (`""` is this folder).
    fn open_folder(&self, path: &str, create: bool) -> io::Result<OwnedFd> {
        let (parent, name) = self.parent_of(path, create)?;
        if name.is_empty() { Ok(parent) } else { open_folder(&parent, name, create) }
    }

    /// What is at `path`, not following a link there; `None` when nothing is.
    pub fn kind(&self, path: &str) -> io::Result<Option<Kind>> {
        let (parent, name) = match self.parent_of(path, false) {
            Ok(found) => found,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        if name.is_empty() {
            return Ok(Some(Kind::Folder));
        }
        match rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(kind_of(FileType::from_raw_mode(stat.st_mode)))),
            Err(Errno::NOENT) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The file at `path`, if it holds at most `max` bytes; a larger one fails with
    /// [`io::ErrorKind::FileTooLarge`], read no further than needed to know (not at all when
    /// its size says so).
    pub fn read(&self, path: &str, max: u64) -> io::Result<Vec<u8>> {
        let (parent, name) = self.parent_of(path, false)?;
        let file = std::fs::File::from(open_regular_file(&parent, name)?);
        let size = file.metadata()?.len();
        let too_large = || io::Error::new(io::ErrorKind::FileTooLarge, format!("it holds more than {max} bytes"));
        if size > max {
            return Err(too_large());
        }
        // Room for what it holds now and one byte more: a file that grows meanwhile is still
        // read no further than that.
        let mut bytes = Vec::with_capacity(usize::try_from(size + 1).unwrap_or(usize::MAX));
        io::Read::read_to_end(&mut io::Read::take(file, max + 1), &mut bytes)?;
        match bytes.len() as u64 > max {
            true => Err(too_large()),
            false => Ok(bytes),
        }
    }

    /// Writes the file at `path` atomically (see [`crate::write_atomically`]), making its
    /// folders.
    pub fn write_atomically(&self, path: &str, contents: &[u8]) -> io::Result<()> {
        let (parent, name) = self.parent_of(path, true)?;
        write_in(&parent, OsStr::new(name), contents)
    }

    /// The names in the folder at `path`, links among them (as links), sorted.
    pub fn list(&self, path: &str) -> io::Result<Vec<Listed>> {
        let folder = self.open_folder(path, false)?;
        let mut listed = Vec::new();
        for entry in rustix::fs::Dir::read_from(&folder)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "." || name == ".." {
                continue;
            }
            let stat = match rustix::fs::statat(&folder, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                // Removed since the folder was read.
                Err(Errno::NOENT) => continue,
                Err(err) => return Err(err.into()),
            };
            let modified = u64::try_from(stat.st_mtime)
                .ok()
                .and_then(|secs| SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs)));
            let kind = kind_of(FileType::from_raw_mode(stat.st_mode));
            listed.push(Listed { name, kind, size: u64::try_from(stat.st_size).unwrap_or(0), modified });
        }
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listed)
    }

    /// Removes the file at `path` (a link there is removed itself, not what it points at).
    pub fn remove_file(&self, path: &str) -> io::Result<()> {
        let (parent, name) = self.parent_of(path, false)?;
        Ok(rustix::fs::unlinkat(&parent, name, AtFlags::empty())?)
    }

    /// Moves the file at `path` to `to_path` below `to` (making its folders), replacing what is
    /// there; a replaced file's permissions are kept. Both are on one file system.
    pub fn move_to(&self, path: &str, to: &Beneath, to_path: &str) -> io::Result<()> {
        let (from_parent, from_name) = self.parent_of(path, false)?;
        let (to_parent, to_name) = to.parent_of(to_path, true)?;
        if let Ok(existing) = rustix::fs::statat(&to_parent, to_name, AtFlags::SYMLINK_NOFOLLOW)
            && FileType::from_raw_mode(existing.st_mode) == FileType::RegularFile
        {
            // Only a file takes the replaced file's permissions; a folder moved over a file
            // fails in the rename, unchanged.
            if let Ok(file) = open_regular_file(&from_parent, from_name) {
                rustix::fs::fchmod(&file, Mode::from_raw_mode(existing.st_mode))?;
            }
        }
        Ok(rustix::fs::renameat(&from_parent, from_name, &to_parent, to_name)?)
    }

    /// Makes the renames in the folder at `path` durable; best effort, as [`crate::sync_folder`].
    pub fn sync_folder(&self, path: &str) {
        if let Ok(folder) = self.open_folder(path, false) {
            let _ = rustix::fs::fsync(&folder);
        }
    }
}

/// The names of a relative `/`-separated path; `""` is none. The callers check paths for what
/// they allow first; this refuses again what would leave the folder.
fn names(path: &str) -> io::Result<Vec<&str>> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = path.split('/').collect();
    if names.iter().any(|name| name.is_empty() || *name == "." || *name == ".." || name.contains('\0')) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("`{path}` is not a path of plain names")));
    }
    Ok(names)
}

/// A number no other call in any process is likely to draw: the standard library's per-process
/// random hash keys, over a count of the calls.
fn unique_number() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    hasher.finish()
}

fn kind_of(file_type: FileType) -> Kind {
    match file_type {
        FileType::RegularFile => Kind::File,
        FileType::Directory => Kind::Folder,
        FileType::Symlink => Kind::Link,
        _ => Kind::Other,
    }
}

/// The error for `name` in `dir` that could not be opened: a link is named as one.
fn refusal(dir: &OwnedFd, name: &str, err: Errno) -> io::Error {
    let is_link = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::Symlink);
    match is_link {
        true => io::Error::other(LinkRefused { name: name.to_owned() }),
        false => err.into(),
    }
}

fn open_folder(dir: &OwnedFd, name: &str, create: bool) -> io::Result<OwnedFd> {
    match rustix::fs::openat(dir, name, FOLDER_FLAGS, Mode::empty()) {
        Ok(folder) => Ok(folder),
        Err(Errno::NOENT) if create => {
            match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o777)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(err) => return Err(err.into()),
            }
            rustix::fs::openat(dir, name, FOLDER_FLAGS, Mode::empty()).map_err(|err| refusal(dir, name, err))
        }
        Err(err) => Err(refusal(dir, name, err)),
    }
}

/// The regular file `name` in `dir`, opened for reading. Opening does not wait (a named pipe
/// with no writer would hold the run past its time limit, as file calls do not yield), and
/// anything but a regular file is refused.
fn open_regular_file(dir: &OwnedFd, name: &str) -> io::Result<OwnedFd> {
    if name.is_empty() {
        return Err(io::Error::new(io::ErrorKind::IsADirectory, "the path names the folder, not a file"));
    }
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let file = rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(|err| refusal(dir, name, err))?;
    match FileType::from_raw_mode(rustix::fs::fstat(&file)?.st_mode) {
        FileType::RegularFile => {
            // Reads of a regular file never wait; blocking again keeps std's reads simple.
            rustix::fs::fcntl_setfl(&file, OFlags::RDONLY)?;
            Ok(file)
        }
        FileType::Directory => Err(io::Error::new(io::ErrorKind::IsADirectory, "it is a folder, not a file")),
        _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file (a pipe, socket or device)")),
    }
}

/// Writes `name` in `dir` through a hidden temporary file made new (never one found there, never
/// through a link), synced, then renamed over `name`; a replaced file keeps its permissions.
pub(crate) fn write_in(dir: &OwnedFd, name: &OsStr, contents: &[u8]) -> io::Result<()> {
    if name.is_empty() {
        return Err(io::Error::new(io::ErrorKind::IsADirectory, "the path names the folder, not a file"));
    }
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    // A name of its own each time: two writers of one file (two processes, or two containers
    // that are each process 1) never share a temporary file, and none is taken over.
    let (partial, file) = loop {
        let mut partial = OsString::from(".");
        partial.push(name);
        partial.push(format!(".{:016x}{}", unique_number(), crate::PARTIAL_SUFFIX));
        match rustix::fs::openat(dir, partial.as_os_str(), flags, Mode::from_raw_mode(0o666)) {
            Ok(file) => break (partial, file),
            Err(Errno::EXIST) => continue,
            Err(err) => return Err(err.into()),
        }
    };
    let partial = partial.as_os_str();
    let written = (|| -> io::Result<()> {
        if let Ok(existing) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
            && FileType::from_raw_mode(existing.st_mode) == FileType::RegularFile
        {
            rustix::fs::fchmod(&file, Mode::from_raw_mode(existing.st_mode))?;
        }
        let mut file = std::fs::File::from(file);
        io::Write::write_all(&mut file, contents)?;
        file.sync_all()?;
        Ok(rustix::fs::renameat(dir, partial, dir, name)?)
    })();
    if written.is_err() {
        let _ = rustix::fs::unlinkat(dir, partial, AtFlags::empty());
        return written;
    }
    let _ = rustix::fs::fsync(dir.as_fd());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn refused_link(err: io::Error) -> String {
        link_refused(&err).unwrap_or_else(|| panic!("expected a refused link, got {err:?}")).name.clone()
    }

    #[test]
    fn no_operation_goes_through_a_link_wherever_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
        fs::create_dir_all(root.join("real")).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), "outside").unwrap();
        symlink(&outside, root.join("away")).unwrap();
        symlink(root.join("real"), root.join("inside")).unwrap();
        symlink(outside.join("secret"), root.join("file-link")).unwrap();
        let beneath = Beneath::new(&root);

        assert_eq!(refused_link(beneath.read("away/secret", 100).unwrap_err()), "away");
        assert_eq!(refused_link(beneath.read("inside/x", 100).unwrap_err()), "inside");
        assert_eq!(refused_link(beneath.read("file-link", 100).unwrap_err()), "file-link");
        assert_eq!(refused_link(beneath.write_atomically("away/new", b"x").unwrap_err()), "away");
        assert_eq!(refused_link(beneath.list("away").unwrap_err()), "away");
        assert_eq!(refused_link(beneath.folder("away").read("secret", 100).unwrap_err()), "away");
        fs::write(root.join("real/mine"), "x").unwrap();
        assert_eq!(refused_link(beneath.move_to("real/mine", &beneath, "away/mine").unwrap_err()), "away");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 1, "nothing was made outside");

        // A link is itself replaced or removed, never what it points at.
        beneath.write_atomically("file-link", b"new").unwrap();
        assert_eq!(fs::read_to_string(outside.join("secret")).unwrap(), "outside");
        assert_eq!(beneath.kind("file-link").unwrap(), Some(Kind::File));
        symlink(outside.join("secret"), root.join("other-link")).unwrap();
        assert_eq!(beneath.kind("other-link").unwrap(), Some(Kind::Link));
        beneath.remove_file("other-link").unwrap();
        assert!(outside.join("secret").exists());
        let names: Vec<_> = beneath.list("").unwrap().into_iter().map(|item| (item.name, item.kind)).collect();
        let expected =
            [("away", Kind::Link), ("file-link", Kind::File), ("inside", Kind::Link), ("real", Kind::Folder)];
        assert_eq!(names, expected.map(|(name, kind)| (name.to_owned(), kind)));
    }

    #[test]
    fn a_swapped_in_link_never_lets_a_write_out_however_the_race_falls() {
        let dir = tempfile::tempdir().unwrap();
        let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir(&outside).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let (root, outside, stop) = (root.clone(), outside.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = fs::rename(root.join("sub"), root.join("sub-real"));
                    let _ = symlink(&outside, root.join("sub"));
                    let _ = fs::remove_file(root.join("sub"));
                    let _ = fs::rename(root.join("sub-real"), root.join("sub"));
                }
            })
        };
        let beneath = Beneath::new(&root);
        for n in 0..5_000 {
            let _ = beneath.write_atomically(&format!("sub/f{n}"), b"x");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        swapper.join().unwrap();
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "a write landed outside the folder");
    }

    #[test]
    fn a_pipe_is_refused_at_once_and_a_folder_moved_over_a_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("los.csv");
        rustix::fs::mknodat(rustix::fs::CWD, &fifo, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
        let beneath = Beneath::new(dir.path());
        // With no writer, opening the pipe to read would wait for ever.
        let err = beneath.read("los.csv", 100).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        fs::create_dir(dir.path().join("incoming")).unwrap();
        fs::write(dir.path().join("done.csv"), "x").unwrap();
        assert!(beneath.move_to("incoming", &beneath, "done.csv").is_err());
        let mode = fs::metadata(dir.path().join("incoming")).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "the folder keeps its x bits");
    }

    #[test]
    fn paths_that_would_leave_are_refused_and_missing_folders_are_made_by_writes_only() {
        let dir = tempfile::tempdir().unwrap();
        let beneath = Beneath::new(&dir.path().join("made"));
        for path in ["../x", "a/../../x", "./x", "a//b", "/abs"] {
            assert_eq!(beneath.read(path, 10).unwrap_err().kind(), io::ErrorKind::InvalidInput, "{path}");
        }
        assert_eq!(beneath.read("a/b", 10).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(beneath.kind("a/b").unwrap(), None);
        beneath.write_atomically("a/b", b"12345").unwrap();
        assert_eq!(beneath.read("a/b", 5).unwrap(), b"12345");
        assert_eq!(beneath.read("a/b", 4).unwrap_err().kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(beneath.folder("a").kind("b").unwrap(), Some(Kind::File));
    }
}
