//! How the host writes files it must never leave half written (snapshots, state, a plugin's
//! output, a local target's files), and the hidden names such writes use, which listings leave
//! out.

pub mod beneath;

use std::fs;
use std::io;
use std::path::Path;

/// How the hidden temporary files of atomic writes end, here and on remote targets.
pub const PARTIAL_SUFFIX: &str = ".moport-partial";

/// Whether a name is one of those temporary files.
pub fn is_partial(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(PARTIAL_SUFFIX)
}

/// The hidden name a file at the `/`-separated `path` is written under before it is renamed
/// into place.
pub fn partial_name(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.{name}{PARTIAL_SUFFIX}"),
        None => format!(".{path}{PARTIAL_SUFFIX}"),
    }
}

/// Writes through a hidden temporary file beside the target, synced before it is renamed into
/// place: a reader, or a crash, never leaves half a file under the target's name. A file that
/// is replaced keeps its permissions (a snapshot full of CPR numbers stays as private as it was);
/// the temporary file is made new, never one a link or another writer put there.
pub fn write_atomically(target: &Path, contents: &[u8]) -> io::Result<()> {
    let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().ok_or_else(|| io::Error::other("the path does not end in a file name"))?;
    fs::create_dir_all(parent)?;
    let folder = fs::File::open(parent)?;
    beneath::write_in(&folder.into(), name, contents)
}

/// Makes renames in `folder` durable. Best effort: not every file system lets a folder be
/// synced, and the new contents are in place either way.
pub fn sync_folder(folder: &Path) {
    let _ = fs::File::open(folder).and_then(|folder| folder.sync_all());
}

/// Whether `folder` takes a file: a hidden one is made there and removed at once (`moport
/// check`'s probe of output folders and local targets).
pub fn takes_a_file(folder: &Path) -> io::Result<()> {
    tempfile::Builder::new().prefix(".moport-check-").tempfile_in(folder).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions_and_no_temporary_file_is_left() {
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
    fn partial_names_are_hidden_beside_the_file() {
        assert_eq!(partial_name("out/a.csv"), "out/.a.csv.moport-partial");
        assert!(is_partial(&partial_name("a.csv")));
        assert!(!is_partial("a.csv"));
    }
}
