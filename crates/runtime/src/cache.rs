//! Precompiled components on disk, so a plugin starts without running the compiler.
//!
//! An entry is named after the component's SHA-256 and the engine's compatibility hash (wasmtime
//! version and every setting that changes code), and ends with the SHA-256 of its own bytes. An
//! entry that is missing, truncated, corrupt or made by another engine is a miss: the component
//! is compiled again and the entry rewritten. The cache never makes a run fail.

use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

const DIGEST_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a valid entry.
    Hit,
    /// Compiled; the entry was absent or unusable.
    Miss,
    /// Compiled; no cache folder is in use.
    Disabled,
}

#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    pub fn new(dir: Option<PathBuf>) -> Self {
        ComponentCache { dir }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The default folder: `$XDG_CACHE_HOME/moport`, else `$HOME/.cache/moport`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| {
            std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|home| PathBuf::from(home).join(".cache"))
        })?;
        Some(base.join("moport"))
    }

    /// The component for `wasm`, from the cache when a valid entry exists.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, wasm)?, CacheOutcome::Disabled));
        };
        let entry = dir.join(entry_name(engine, wasm));
        match read_entry(engine, &entry) {
            Ok(component) => return Ok((component, CacheOutcome::Hit)),
            Err(reason) if entry.exists() => {
                tracing::warn!("precompiled cache entry {} is unusable ({reason}); compiling again", entry.display());
            }
            Err(_) => {}
        }
        let component = Component::new(engine, wasm)?;
        if let Err(err) = write_entry(&component, &entry) {
            tracing::warn!("could not store the precompiled component in {}: {err}", entry.display());
        }
        Ok((component, CacheOutcome::Miss))
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn entry_name(engine: &Engine, wasm: &[u8]) -> String {
    let mut engine_hash = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut engine_hash);
    format!("{}-{:016x}.cwasm", &sha256_hex(wasm)[..32], engine_hash.finish())
}

fn read_entry(engine: &Engine, entry: &Path) -> Result<Component, String> {
    let bytes = std::fs::read(entry).map_err(|err| err.to_string())?;
    if bytes.len() <= DIGEST_LEN {
        return Err("too short".into());
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    if Sha256::digest(body).as_slice() != digest {
        return Err("checksum mismatch".into());
    }
    // SAFETY: wasmtime trusts serialized code. The entry was written by `write_entry` from a
    // component this same engine configuration compiled (its name carries the compatibility
    // hash, and wasmtime checks it again), and the checksum above proves the bytes are unchanged.
    unsafe { Component::deserialize(engine, body) }.map_err(|err| err.to_string())
}

fn write_entry(component: &Component, entry: &Path) -> std::io::Result<()> {
    let mut bytes = component.serialize().map_err(std::io::Error::other)?;
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    let dir = entry.parent().expect("cache entries live in the cache folder");
    std::fs::create_dir_all(dir)?;
    let staging = dir.join(format!(".{}.{}.partial", entry.file_name().unwrap().to_string_lossy(), std::process::id()));
    std::fs::write(&staging, &bytes)?;
    std::fs::rename(&staging, entry).inspect_err(|_| {
        let _ = std::fs::remove_file(&staging);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid component.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn second_load_hits_and_a_corrupt_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = ComponentCache::new(Some(dir.path().to_owned()));
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Miss);
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Hit);

        let entry = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        let mut bytes = std::fs::read(&entry).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&entry, &bytes).unwrap();
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Miss);
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Hit);

        std::fs::write(&entry, b"short").unwrap();
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Miss);
    }

    #[test]
    fn an_entry_from_another_engine_configuration_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ComponentCache::new(Some(dir.path().to_owned()));
        cache.load(&Engine::default(), EMPTY_COMPONENT).unwrap();
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other = Engine::new(&config).unwrap();
        assert_eq!(cache.load(&other, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Miss);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn without_a_folder_every_load_compiles() {
        let cache = ComponentCache::new(None);
        assert_eq!(cache.load(&Engine::default(), EMPTY_COMPONENT).unwrap().1, CacheOutcome::Disabled);
    }
}
