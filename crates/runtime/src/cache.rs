//! Precompiled components on disk, so a plugin starts without running the compiler.
//!
//! A precompiled entry is native code that runs outside the sandbox, so the cache loads only
//! what this host wrote for this very component: every entry ends with an HMAC-SHA256 tag, keyed
//! with a secret only the host holds (a file of its user's, mode 0600, outside the cache folder)
//! and bound to the component's SHA-256 and the engine's compatibility hash. An entry that is
//! missing, truncated, corrupt, made for another component or another engine, or written by
//! anyone without the key is a miss: the component is compiled again and the entry rewritten.
//! The cache never makes a run fail; without a usable key it is not used.

use aws_lc_rs::{constant_time, hmac};
use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Bytes of the tag that ends an entry.
const TAG_LEN: usize = 32;
/// Bytes of the key.
const KEY_LEN: usize = 32;
/// What every tag covers first: a change of the entry format changes every tag.
const TAG_CONTEXT: &[u8] = b"moport precompiled component v2";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a valid entry.
    Hit,
    /// Compiled; the entry was absent or unusable.
    Miss,
    /// Compiled; no cache folder is in use (or no key to trust one with).
    Disabled,
}

#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    key_file: PathBuf,
    /// The key, read or made at the first use; `None` when it cannot be trusted.
    key: std::sync::Arc<OnceLock<Option<hmac::Key>>>,
}

impl ComponentCache {
    /// A cache in `dir` (none: every load compiles), keyed with the host's key file
    /// ([`ComponentCache::default_key_file`]).
    pub fn new(dir: Option<PathBuf>) -> Self {
        let key_file = Self::default_key_file().unwrap_or_default();
        ComponentCache::with_key_file(dir, key_file)
    }

    /// A cache in `dir` whose entries are keyed with the key in `key_file`, made there (mode
    /// 0600) if it is missing.
    pub fn with_key_file(dir: Option<PathBuf>, key_file: PathBuf) -> Self {
        ComponentCache { dir, key_file, key: Default::default() }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The default folder: `$XDG_CACHE_HOME/moport`, else `$HOME/.cache/moport`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = env_dir("XDG_CACHE_HOME").or_else(|| env_dir("HOME").map(|home| home.join(".cache")))?;
        Some(base.join("moport"))
    }

    /// The default key file, outside any cache folder: `MOPORT_CACHE_KEY`, else
    /// `$XDG_CONFIG_HOME/moport/cache.key`, else `$HOME/.config/moport/cache.key`.
    pub fn default_key_file() -> Option<PathBuf> {
        if let Some(file) = env_dir("MOPORT_CACHE_KEY") {
            return Some(file);
        }
        let base = env_dir("XDG_CONFIG_HOME").or_else(|| env_dir("HOME").map(|home| home.join(".config")))?;
        Some(base.join("moport").join("cache.key"))
    }

    /// The component for `wasm`, from the cache when a valid entry exists.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<(Component, CacheOutcome)> {
        // The key is read (or made) only for a cache in use.
        let Some((dir, key)) = self.dir.as_ref().and_then(|dir| Some((dir, self.key()?))) else {
            return Ok((Component::new(engine, wasm)?, CacheOutcome::Disabled));
        };
        let binding = Binding::new(engine, wasm);
        let entry = dir.join(&binding.name);
        match read_entry(engine, key, &binding, &entry) {
            Ok(component) => return Ok((component, CacheOutcome::Hit)),
            Err(reason) if entry.exists() => {
                tracing::warn!("precompiled cache entry {} is unusable ({reason}); compiling again", entry.display());
            }
            Err(_) => {}
        }
        let component = Component::new(engine, wasm)?;
        if let Err(err) = write_entry(&component, key, &binding, &entry) {
            tracing::warn!("could not store the precompiled component in {}: {err}", entry.display());
        }
        Ok((component, CacheOutcome::Miss))
    }

    fn key(&self) -> Option<&hmac::Key> {
        self.key
            .get_or_init(|| match load_or_make_key(&self.key_file) {
                Ok(bytes) => Some(hmac::Key::new(hmac::HMAC_SHA256, &bytes)),
                Err(problem) => {
                    tracing::warn!(
                        "the precompiled cache is not used: its key {} {problem}; plugins are compiled at every start",
                        self.key_file.display()
                    );
                    None
                }
            })
            .as_ref()
    }
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from)
}

/// The key in `file`, made there if it is missing. A key others may read or change is refused:
/// with it they could write native code the host would run.
fn load_or_make_key(file: &Path) -> Result<[u8; KEY_LEN], String> {
    use std::io::{Read, Write};
    if file.as_os_str().is_empty() {
        return Err("has no place: set MOPORT_CACHE_KEY, XDG_CONFIG_HOME or HOME".into());
    }
    let opened = std::fs::File::open(file);
    let mut opened = match opened {
        Ok(opened) => opened,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; KEY_LEN];
            aws_lc_rs::rand::fill(&mut key).map_err(|_| "cannot be made: no random bytes".to_owned())?;
            let folder = file.parent().unwrap_or(Path::new("."));
            private_folder(folder).map_err(|err| format!("cannot be made in {}: {err}", folder.display()))?;
            let mut made = private_file(file).map_err(|err| format!("cannot be made: {err}"))?;
            made.write_all(&key).and_then(|()| made.sync_all()).map_err(|err| format!("cannot be written: {err}"))?;
            return Ok(key);
        }
        Err(err) => return Err(format!("cannot be read: {err}")),
    };
    let meta = opened.metadata().map_err(|err| format!("cannot be read: {err}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!("may be read or changed by others (mode {mode:o}); make it mode 600"));
        }
    }
    if !meta.is_file() || meta.len() != KEY_LEN as u64 {
        return Err(format!("is not a key of {KEY_LEN} bytes; remove it to have a new one made"));
    }
    let mut key = [0u8; KEY_LEN];
    opened.read_exact(&mut key).map_err(|err| format!("cannot be read: {err}"))?;
    Ok(key)
}

fn private_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

fn private_file(file: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What an entry is for: one component for one engine configuration. Its name says so, and its
/// tag proves it.
struct Binding {
    name: String,
    component: [u8; 32],
    engine: String,
}

impl Binding {
    fn new(engine: &Engine, wasm: &[u8]) -> Binding {
        let mut engine_hash = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut engine_hash);
        let engine_hash = format!("{:016x}", engine_hash.finish());
        let component: [u8; 32] = Sha256::digest(wasm).into();
        let name = format!("{}-{engine_hash}.cwasm", &sha256_hex(wasm)[..32]);
        Binding { name, component, engine: engine_hash }
    }

    fn tag(&self, key: &hmac::Key, body: &[u8]) -> hmac::Tag {
        let mut context = hmac::Context::with_key(key);
        for part in [TAG_CONTEXT, self.engine.as_bytes(), &self.component, body] {
            context.update(&(part.len() as u64).to_le_bytes());
            context.update(part);
        }
        context.sign()
    }
}

fn read_entry(engine: &Engine, key: &hmac::Key, binding: &Binding, entry: &Path) -> Result<Component, String> {
    let bytes = std::fs::read(entry).map_err(|err| err.to_string())?;
    if bytes.len() <= TAG_LEN {
        return Err("too short".into());
    }
    let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
    constant_time::verify_slices_are_equal(binding.tag(key, body).as_ref(), tag)
        .map_err(|_| "not written by this host for this component".to_owned())?;
    // SAFETY: wasmtime trusts serialized code. The tag, keyed with a secret only this host holds,
    // proves the bytes are what `write_entry` stored for this component and this engine
    // configuration, which this engine compiled (wasmtime checks the configuration again).
    unsafe { Component::deserialize(engine, body) }.map_err(|err| err.to_string())
}

fn write_entry(component: &Component, key: &hmac::Key, binding: &Binding, entry: &Path) -> std::io::Result<()> {
    let mut bytes = component.serialize().map_err(std::io::Error::other)?;
    let tag = binding.tag(key, &bytes);
    bytes.extend_from_slice(tag.as_ref());
    let dir = entry.parent().expect("cache entries live in the cache folder");
    std::fs::create_dir_all(dir)?;
    let staging = dir.join(format!(".{}.{}.partial", binding.name, std::process::id()));
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

    /// A cache in a fresh folder, with its key beside it (not inside it).
    fn cache_in(dir: &Path) -> ComponentCache {
        ComponentCache::with_key_file(Some(dir.join("cache")), dir.join("config/cache.key"))
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut entries: Vec<_> = std::fs::read_dir(dir.join("cache")).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        entries
    }

    #[test]
    fn second_load_hits_and_a_corrupt_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = cache_in(dir.path());
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Miss);
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Hit);

        let entry = entries(dir.path()).remove(0);
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
        let cache = cache_in(dir.path());
        cache.load(&Engine::default(), EMPTY_COMPONENT).unwrap();
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other = Engine::new(&config).unwrap();
        assert_eq!(cache.load(&other, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Miss);
        assert_eq!(entries(dir.path()).len(), 2);
    }

    /// A second component: the empty one with a custom section.
    const NAMED_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0\0\x05\x04name";

    #[test]
    fn an_entry_is_used_only_for_the_component_it_was_written_for_and_only_if_this_host_wrote_it() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = cache_in(dir.path());
        cache.load(&engine, EMPTY_COMPONENT).unwrap();
        cache.load(&engine, NAMED_COMPONENT).unwrap();
        // Each entry swapped in under the other's name: neither is taken for the other.
        let [first, second] = entries(dir.path()).try_into().unwrap();
        let (a, b) = (std::fs::read(&first).unwrap(), std::fs::read(&second).unwrap());
        std::fs::write(&first, &b).unwrap();
        std::fs::write(&second, &a).unwrap();
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Miss);
        assert_eq!(cache.load(&engine, NAMED_COMPONENT).unwrap().1, CacheOutcome::Miss);
        // An entry made by someone without the key (ending in its own SHA-256, as the old
        // format checked it) is not used.
        let owner = [EMPTY_COMPONENT, NAMED_COMPONENT]
            .into_iter()
            .find(|wasm| first.file_name().unwrap().to_string_lossy().starts_with(&sha256_hex(wasm)[..32]))
            .unwrap();
        let written = std::fs::read(&first).unwrap();
        let body = &written[..written.len() - TAG_LEN];
        std::fs::write(&first, [body, Sha256::digest(body).as_slice()].concat()).unwrap();
        assert_eq!(cache.load(&engine, owner).unwrap().1, CacheOutcome::Miss);
        assert_eq!(cache.load(&engine, owner).unwrap().1, CacheOutcome::Hit, "rewritten by this host");
        // Another host (another key) uses none of this host's entries.
        let other = ComponentCache::with_key_file(Some(dir.path().join("cache")), dir.path().join("other.key"));
        assert_eq!(other.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Miss);
    }

    #[cfg(unix)]
    #[test]
    fn the_key_is_made_private_and_a_key_others_may_read_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        cache_in(dir.path()).load(&engine, EMPTY_COMPONENT).unwrap();
        let key = dir.path().join("config/cache.key");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&key).unwrap().len(), KEY_LEN as u64);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(cache_in(dir.path()).load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Disabled);
    }

    #[test]
    fn without_a_folder_every_load_compiles_and_no_key_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ComponentCache::with_key_file(None, dir.path().join("cache.key"));
        assert_eq!(cache.load(&Engine::default(), EMPTY_COMPONENT).unwrap().1, CacheOutcome::Disabled);
        assert!(!dir.path().join("cache.key").exists());
    }
}
