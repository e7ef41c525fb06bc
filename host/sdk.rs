//! The guest SDK moport carries (build.rs), for plugin crates made where there is no moport
//! checkout: `moport sdk --out DIR` writes it anywhere, and `moport new` writes it to a
//! per-user folder when no other SDK is named or found.

use std::path::{Path, PathBuf};

/// The carried SDK's files: each a `/`-separated path below the SDK's folder and its bytes.
static CARRIED_SDK: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/carried_sdk.rs"));

/// Where, below the folder the SDK is written to, the crate a plugin depends on lies.
pub const SDK_CRATE: &str = "plugins/sdk";

#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("this moport was built without its SDK's source; name a moport checkout's `plugins/sdk` with `--sdk DIR`")]
    NotCarried,
    #[error("cannot write the SDK's file {}: {source}; choose another folder, or make this one writable", file.display())]
    Write { file: PathBuf, source: std::io::Error },
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

/// Writes the carried SDK below `folder` (made if missing) and returns the SDK crate's folder.
/// A file that already holds the same bytes is left alone, so writing again is cheap and keeps
/// cargo's fingerprints; one that differs is replaced atomically.
pub fn write_sdk(folder: &Path) -> Result<PathBuf, SdkError> {
    if CARRIED_SDK.is_empty() {
        return Err(SdkError::NotCarried);
    }
    for (name, bytes) in CARRIED_SDK {
        let file = folder.join(name);
        if std::fs::read(&file).is_ok_and(|held| held == *bytes) {
            continue;
        }
        moport_fs::write_atomically(&file, bytes).map_err(|source| SdkError::Write { file: file.clone(), source })?;
    }
    Ok(folder.join(SDK_CRATE))
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
        let workspace: toml::Table = workspace.parse().unwrap();
        let members = workspace["workspace"]["members"].as_array().unwrap();
        assert_eq!(members.len(), 3, "{members:?}");
        assert!(workspace["workspace"]["dependencies"].get("wit-bindgen").is_some());
        assert!(workspace["workspace"]["dependencies"].get("wasmtime").is_none(), "only what the SDK names");

        // Writing again changes nothing that is already right, and mends what is not.
        let lib = sdk.join("src/lib.rs");
        std::fs::write(&lib, "broken").unwrap();
        write_sdk(out.path()).unwrap();
        assert_eq!(std::fs::read(&lib).unwrap(), std::fs::read(root.join("plugins/sdk/src/lib.rs")).unwrap());
    }
}
