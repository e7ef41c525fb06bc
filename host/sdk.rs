//! The guest SDK moport carries (build.rs), for plugin crates made where there is no moport
//! checkout: `moport sdk --out DIR` writes it anywhere, and `moport new` writes it to a
//! per-user folder when no other SDK is named or found.

use std::path::{Path, PathBuf};

/// The carried SDK's files: each a `/`-separated path below the SDK's folder and its bytes.
static CARRIED_SDK: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/carried_sdk.rs"));

/// Where, below the folder the SDK is written to, the crate a plugin depends on lies.
pub const SDK_CRATE: &str = "plugins/sdk";

/// How the workspace manifest of a folder `moport sdk` wrote begins (build.rs writes it).
const CARRIED_HEADER: &str = "# moport's guest SDK, as moport ";

#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error(
        "this moport was built without its SDK's source; with `moport new`, name a moport checkout's `plugins/sdk` \
         with `--sdk DIR`"
    )]
    NotCarried,
    #[error("cannot write moport's SDK to {}: {source}; choose another folder, or make this one writable", folder.display())]
    Write { folder: PathBuf, source: std::io::Error },
    #[error(
        "{} holds files that are not moport's SDK{}, which writing the SDK there would replace or mix with: name a \
         new or empty folder",
        folder.display(),
        if others.is_empty() { String::new() } else {
            format!(" ({})", others.iter().take(5).map(|name| name.display().to_string()).collect::<Vec<_>>().join(", "))
        }
    )]
    Occupied { folder: PathBuf, others: Vec<PathBuf> },
    #[error(
        "{} is the current folder or holds it, not a folder of its own: name one below it, like vendor/moport",
        folder.display()
    )]
    NotOwnFolder { folder: PathBuf },
    #[error(
        "there is no per-user folder to write moport's SDK to (neither XDG_DATA_HOME nor HOME is set to an absolute \
         path): set one, write the SDK with `moport sdk --out DIR` and pass `--sdk DIR/plugins/sdk`, or make the \
         crate inside a moport checkout"
    )]
    NoHome,
    #[error(
        "{} is not moport's SDK: it holds no Cargo.toml of the package `moport-sdk`. Name `plugins/sdk` of a moport \
         checkout, or the `plugins/sdk` below a folder `moport sdk --out` wrote",
        folder.display()
    )]
    NotAnSdk { folder: PathBuf },
}

/// Writes the carried SDK as the folder `folder` and returns the SDK crate's folder. The folder
/// must be new, empty, or one this or another moport wrote the SDK to; that one is left alone
/// if it holds the same files (so cargo's fingerprints of crates built on it hold), else
/// replaced whole, files a newer SDK no longer has included (wit-bindgen would read a stale
/// `.wit` file), as long as it holds nothing but the SDK and what cargo makes there. The new
/// folder is made beside it and swapped in by two renames; should the second fail, the old one
/// is put back.
pub fn write_sdk(folder: &Path) -> Result<PathBuf, SdkError> {
    if CARRIED_SDK.is_empty() {
        return Err(SdkError::NotCarried);
    }
    let failed = |source| SdkError::Write { folder: folder.to_owned(), source };
    // By its real path: `.`, `..` or a link would put the folder made beside it inside it.
    let folder = match std::fs::canonicalize(folder) {
        Ok(real) => real,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => std::path::absolute(folder).map_err(failed)?,
        Err(err) => return Err(failed(err)),
    };
    let parent = match folder.parent() {
        Some(parent) if !std::env::current_dir().is_ok_and(|here| here.starts_with(&folder)) => parent,
        _ => return Err(SdkError::NotOwnFolder { folder }),
    };
    let failed = |source| SdkError::Write { folder: folder.clone(), source };
    let occupied = match std::fs::read_dir(&folder) {
        Ok(mut entries) => entries.next().is_some(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => false,
        Err(err) => return Err(failed(err)),
    };
    if occupied {
        // Only a folder an SDK was written to is read, never one of the user's.
        let is_sdk_folder =
            std::fs::read_to_string(folder.join("Cargo.toml")).is_ok_and(|text| text.starts_with(CARRIED_HEADER));
        if !is_sdk_folder {
            return Err(SdkError::Occupied { folder, others: Vec::new() });
        }
        let mut carried: Vec<(PathBuf, &[u8])> =
            CARRIED_SDK.iter().map(|(name, bytes)| (PathBuf::from(name), *bytes)).collect();
        carried.sort();
        // What cargo made there (a build of the SDK's own workspace) is neither the SDK nor the user's.
        let held: Vec<_> =
            files_below(&folder).map_err(failed)?.into_iter().filter(|(name, _)| !is_cargos(name)).collect();
        if held.len() == carried.len()
            && held.iter().zip(&carried).all(|((name, bytes), (carried_name, carried_bytes))| {
                name == carried_name && bytes.as_deref() == Some(*carried_bytes)
            })
        {
            return Ok(folder.join(SDK_CRATE));
        }
        let others: Vec<PathBuf> = held.into_iter().map(|(name, _)| name).filter(|name| !is_the_sdks(name)).collect();
        if !others.is_empty() {
            return Err(SdkError::Occupied { folder, others });
        }
    }
    std::fs::create_dir_all(parent).map_err(failed)?;
    let staging = tempfile::Builder::new().prefix(".moport-sdk-").tempdir_in(parent).map_err(failed)?;
    // A temporary folder is the user's alone; the SDK is for every user of the machine to read.
    let readable = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
    std::fs::set_permissions(staging.path(), readable).map_err(failed)?;
    for (name, bytes) in CARRIED_SDK {
        let file = staging.path().join(name);
        std::fs::create_dir_all(file.parent().expect("a file below the folder")).map_err(failed)?;
        std::fs::write(&file, bytes).map_err(failed)?;
    }
    if folder.exists() {
        // Out of the way first: a folder is renamed only over an empty one.
        let old = tempfile::Builder::new().prefix(".moport-sdk-old-").tempdir_in(parent).map_err(failed)?;
        std::fs::rename(&folder, old.path()).map_err(failed)?;
        if let Err(err) = std::fs::rename(staging.path(), &folder) {
            let kept = old.keep();
            return Err(match std::fs::rename(&kept, &folder) {
                Ok(()) => failed(err),
                Err(_) => failed(std::io::Error::other(format!("{err}; the earlier SDK is in {}", kept.display()))),
            });
        }
    } else {
        std::fs::rename(staging.path(), &folder).map_err(failed)?;
    }
    Ok(folder.join(SDK_CRATE))
}

/// Whether a file below an SDK folder is what cargo makes there (`Cargo.lock`, `target/`).
fn is_cargos(name: &Path) -> bool {
    name == Path::new("Cargo.lock") || name.starts_with("target")
}

/// Whether a file below an SDK folder is the SDK's (in one of its crates' or the WIT's folders,
/// or its workspace manifest) or cargo's, which replacing the folder may drop.
fn is_the_sdks(name: &Path) -> bool {
    let folder_of = |name: &Path| -> Vec<std::ffi::OsString> {
        let parts: Vec<_> = name.iter().map(|part| part.to_owned()).collect();
        parts[..parts.len().saturating_sub(1).min(2)].to_vec()
    };
    let folder = folder_of(name);
    is_cargos(name)
        || CARRIED_SDK.iter().any(|(carried, _)| {
            let carried = Path::new(carried);
            if folder.is_empty() { carried == name } else { folder_of(carried) == folder }
        })
}

/// Each entry below `folder` that is not a folder, by its path relative to it, with its bytes
/// if it is a regular file (a link or a pipe is not read, and differs from any file), sorted.
fn files_below(folder: &Path) -> std::io::Result<Vec<(PathBuf, Option<Vec<u8>>)>> {
    let mut found = Vec::new();
    let mut folders = vec![folder.to_owned()];
    while let Some(next) = folders.pop() {
        for entry in std::fs::read_dir(&next)? {
            let path = entry?.path();
            let kind = std::fs::symlink_metadata(&path)?.file_type();
            let name = path.strip_prefix(folder).expect("below the folder").to_owned();
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() {
                found.push((name, Some(std::fs::read(&path)?)));
            } else {
                found.push((name, None));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The per-user folder `moport new` writes the SDK to: `$XDG_DATA_HOME/moport/sdk/VERSION`,
/// else `$HOME/.local/share/moport/sdk/VERSION`. One folder per moport version, so crates made
/// by different versions keep the SDK they were made with.
pub fn user_sdk_folder() -> Result<PathBuf, SdkError> {
    let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|path| path.is_absolute());
    let data = absolute("XDG_DATA_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".local/share")))
        .ok_or(SdkError::NoHome)?;
    Ok(data.join("moport/sdk").join(env!("CARGO_PKG_VERSION")))
}

/// Whether `folder` is the SDK crate: it holds the manifest of the package `moport-sdk`.
pub fn is_sdk(folder: &Path) -> bool {
    std::fs::read_to_string(folder.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|manifest| {
            manifest.get("package").and_then(|package| package.get("name")).and_then(|name| name.as_str())
                == Some("moport-sdk")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carried_sdk_is_the_repository_s_own_and_is_written_where_asked() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (name, bytes) in CARRIED_SDK.iter().filter(|(name, _)| *name != "Cargo.toml") {
            assert_eq!(std::fs::read(root.join(name)).unwrap(), *bytes, "{name} is carried as it is");
        }
        for wanted in ["plugins/sdk/src/lib.rs", "crates/types/Cargo.toml", "crates/mo-rules/src/lib.rs", "wit/mo.wit"]
        {
            assert!(CARRIED_SDK.iter().any(|(name, _)| *name == wanted), "{wanted} is carried");
        }
        let out = tempfile::tempdir().unwrap();
        let sdk = write_sdk(out.path()).unwrap();
        assert!(is_sdk(&sdk));
        assert!(!is_sdk(out.path()) && !is_sdk(&out.path().join("crates/types")));
        let workspace = std::fs::read_to_string(out.path().join("Cargo.toml")).unwrap();
        assert!(workspace.starts_with(CARRIED_HEADER), "build.rs writes the header write_sdk knows: {workspace}");
        let workspace: toml::Table = workspace.parse().unwrap();
        let members = workspace["workspace"]["members"].as_array().unwrap();
        assert_eq!(members.len(), 3, "{members:?}");
        assert!(workspace["workspace"]["dependencies"].get("wit-bindgen").is_some());
        assert!(workspace["workspace"]["dependencies"].get("wasmtime").is_none(), "only what the SDK names");

        // Writing again leaves what is right alone, and replaces what is not whole: a file of an
        // older SDK that this one lacks goes.
        let modified = |path: &Path| std::fs::metadata(path).unwrap().modified().unwrap();
        let lib = sdk.join("src/lib.rs");
        let before = modified(&lib);
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_sdk(out.path()).unwrap();
        assert_eq!(modified(&lib), before, "an SDK that is whole is not written again");
        std::fs::write(&lib, "broken").unwrap();
        std::fs::write(out.path().join("wit/gone.wit"), "package old:gone;").unwrap();
        write_sdk(out.path()).unwrap();
        assert_eq!(std::fs::read(&lib).unwrap(), std::fs::read(root.join("plugins/sdk/src/lib.rs")).unwrap());
        assert!(!out.path().join("wit/gone.wit").exists());
        let parent = out.path().parent().unwrap();
        let left: Vec<_> = std::fs::read_dir(parent)
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with(".moport-sdk-"))
            .collect();
        assert!(left.is_empty(), "no staging folder is left: {left:?}");

        // A folder of other files is not written into.
        let project = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join("Cargo.toml"), "[package]\nname = \"mine\"\n").unwrap();
        assert!(matches!(write_sdk(project.path()), Err(SdkError::Occupied { .. })));
        assert_eq!(std::fs::read_to_string(project.path().join("Cargo.toml")).unwrap(), "[package]\nname = \"mine\"\n");
        // An empty one is.
        let empty = tempfile::tempdir().unwrap();
        assert!(is_sdk(&write_sdk(empty.path()).unwrap()));
        // An SDK folder someone put a crate of their own in is not replaced, naming what is theirs.
        std::fs::create_dir_all(empty.path().join("plugins/acme/src")).unwrap();
        std::fs::write(empty.path().join("plugins/acme/src/lib.rs"), "// mine").unwrap();
        std::fs::write(empty.path().join("plugins/sdk/src/lib.rs"), "// stale").unwrap();
        let err = write_sdk(empty.path()).unwrap_err();
        assert!(err.to_string().contains("plugins/acme/src/lib.rs"), "{err}");
        assert_eq!(std::fs::read_to_string(empty.path().join("plugins/acme/src/lib.rs")).unwrap(), "// mine");
        // What cargo makes there is not the user's.
        std::fs::remove_dir_all(empty.path().join("plugins/acme")).unwrap();
        std::fs::create_dir_all(empty.path().join("target/debug")).unwrap();
        std::fs::write(empty.path().join("Cargo.lock"), "").unwrap();
        write_sdk(empty.path()).unwrap();
        assert!(!empty.path().join("target").exists());
        // An SDK that is whole is left alone beside cargo's files, and is readable by all.
        std::fs::write(empty.path().join("Cargo.lock"), "").unwrap();
        let before = modified(&empty.path().join("plugins/sdk/src/lib.rs"));
        write_sdk(empty.path()).unwrap();
        assert_eq!(modified(&empty.path().join("plugins/sdk/src/lib.rs")), before);
        assert!(empty.path().join("Cargo.lock").exists());
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(out.path()).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o755);
        // Nor is the current folder, or one that holds it, written as the SDK.
        let here = std::env::current_dir().unwrap();
        assert!(matches!(write_sdk(Path::new(".")), Err(SdkError::NotOwnFolder { .. })));
        assert!(matches!(write_sdk(here.parent().unwrap()), Err(SdkError::NotOwnFolder { .. })));
    }
}
