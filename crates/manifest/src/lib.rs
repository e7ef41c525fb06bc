//! plugins.toml: which plugins exist, their component, grants, limits and settings.
//!
//! Unknown keys are refused everywhere, so a misspelt grant or limit is an error and never a
//! silently ignored line. Relative paths are relative to the folder that holds plugins.toml.
//!
//! Besides the file's schema, the plain descriptions it holds (where MO and DAR come from, the
//! remote targets, sizes and spans, secrets) live here, and the code that acts on them in the
//! crates of each capability: this crate depends on none of them.

pub mod dar;
pub mod mo;
pub mod secret;
pub mod targets;
pub mod units;

pub use dar::{AdressevaskSpec, DarSpec, TokenSource};
pub use mo::{MoSourceSpec, Mode};
pub use secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
pub use targets::{FtpSpec, SftpSpec, TargetSpec};
use thiserror::Error;
pub use units::{ByteSize, Span, parse_date};

/// A value to offer a plugin whose state lacks `key`: the text of the file that the plugin's
/// setting `setting` names (a predecessor's state file, such as DIPEX's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub key: String,
    pub setting: String,
}

#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}; pass the right file with --config or MOPORT_CONFIG")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: plugin name `{name}` is not allowed: use lower-case letters, digits and `-`")]
    BadName { path: PathBuf, name: String },
    #[error("{path}: plugin `{plugin}`: cannot take settings from {}: {message}", file.display())]
    SettingsFrom { path: PathBuf, plugin: String, file: PathBuf, message: String },
    #[error("{path}: plugin `{plugin}` is granted the remote target `{target}`, which has no [targets.{target}]")]
    UnknownTarget { path: PathBuf, plugin: String, target: String },
    #[error("no plugin named `{name}` in {path}; the plugins there are: {known}")]
    UnknownPlugin { path: PathBuf, name: String, known: String },
}

/// plugins.toml, read and checked.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    /// The folder components are taken from; none when only built-in ones are.
    pub components_dir: Option<PathBuf>,
    /// Where plugins that read MO read it from, unless `--mo` says otherwise.
    pub mo: Option<MoSourceSpec>,
    /// Where plugins granted `dar` look addresses up.
    pub dar: DarSpec,
    /// The runs' date, when plugins.toml fixes it (`[host] today`).
    pub today: Option<chrono::NaiveDate>,
    /// The folder that holds each plugin's `state` (`<plugin>.json`) and the run ledger.
    pub state_dir: PathBuf,
    /// Where each plugin's last run is written in Prometheus's text format (`[host] metrics`),
    /// for node_exporter's text file collector.
    pub metrics_file: Option<PathBuf>,
    /// The Pushgateway each plugin's runs are pushed to (`[host] pushgateway`): an http(s)
    /// address with no credentials, query or trailing `/`.
    pub pushgateway: Option<String>,
    /// The folder of plugins.toml, which relative paths start from.
    pub base: PathBuf,
    pub plugins: BTreeMap<String, PluginSpec>,
    /// Remote targets by name.
    pub targets: BTreeMap<String, targets::TargetSpec>,
    /// Targets that cannot be used as written (an unset `password_env`, say), with why: only the
    /// plugins granted one fail for it, not every command.
    pub unusable_targets: BTreeMap<String, String>,
}

/// The plugins.toml versions this moport reads: the layout of the file, not of moport.
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    /// The file's layout; a file without it is read as version 1, which it was written for.
    manifest_version: Option<u32>,
    #[serde(default)]
    host: HostSection,
    #[serde(default)]
    plugins: BTreeMap<String, PluginEntry>,
    #[serde(default)]
    targets: BTreeMap<String, targets::TargetEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostSection {
    /// Folder that relative `component` paths are taken from.
    components: Option<PathBuf>,
    /// The MO source: `demo`, `snapshot:FILE`, `graphql` or `graphql:SETTINGS_JSON`.
    mo: Option<String>,
    /// For `graphql`: `cache` or `direct`.
    #[serde(default)]
    mo_mode: Mode,
    /// `off` (the default), `adressevask` or `table:FILE`.
    dar: Option<String>,
    /// How `dar = "adressevask"` reaches the service.
    adressevask: Option<AdressevaskEntry>,
    /// Folder of the plugins' state files; `state` next to plugins.toml unless set.
    state: Option<PathBuf>,
    /// The runs' date (`YYYY-MM-DD`) instead of today in Copenhagen.
    today: Option<String>,
    /// A Prometheus text file of each plugin's last run, rewritten as every run starts and ends.
    metrics: Option<PathBuf>,
    /// A Prometheus Pushgateway's address, pushed to as every run starts and ends.
    pushgateway: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdressevaskEntry {
    url: Option<String>,
    token: Option<Secret>,
    token_env: Option<String>,
    accept: Option<Vec<i32>>,
}

impl AdressevaskEntry {
    fn spec(self) -> Result<AdressevaskSpec, String> {
        let defaults = AdressevaskSpec::default();
        let url = self.url.unwrap_or(defaults.url);
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("url `{url}` is not an http:// or https:// address"));
        }
        let token = match (self.token, self.token_env) {
            (Some(_), Some(_)) => return Err("give `token` or `token_env`, not both".into()),
            (Some(token), None) => TokenSource::Given(token),
            (None, Some(name)) => TokenSource::Environment(name),
            (None, None) => defaults.token,
        };
        let accepted = self.accept.unwrap_or(defaults.accepted);
        if accepted.is_empty() || accepted.iter().any(|code| *code <= 0) {
            return Err(format!(
                "accept = {accepted:?}: list the washing codes that count as a match, each above 0 (1000 exact, \
                 900 a spelling variant of the street, 800 and 700 a house number interval; below 0 is no match)"
            ));
        }
        Ok(AdressevaskSpec { url: url.trim_end_matches('/').to_owned(), token, accepted })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginEntry {
    component: PathBuf,
    #[serde(default)]
    description: String,
    #[serde(default)]
    grants: GrantsEntry,
    #[serde(default)]
    limits: LimitsEntry,
    #[serde(default)]
    settings: toml::Table,
    settings_from: Option<SettingsFrom>,
    /// State key -> the setting naming a predecessor's state file to take the value from while
    /// the plugin's own state has none (DIPEX's `integrations.aarhus_los.state_file`).
    #[serde(default)]
    migrate_state: BTreeMap<String, String>,
}

/// Settings taken from another JSON file, DIPEX's settings.json: only the keys listed, so a
/// plugin never sees the file's other values (credentials among them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFrom {
    file: PathBuf,
    keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsEntry {
    files: Option<PathBuf>,
    mo: Option<MoAccess>,
    #[serde(default)]
    remote: Vec<String>,
    #[serde(default)]
    dar: bool,
    #[serde(default)]
    state: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsEntry {
    memory: Option<ByteSize>,
    time: Option<Span>,
    output: Option<ByteSize>,
    component: Option<ByteSize>,
}

/// Where components come from when plugins.toml names no `[host] components` folder: `folder`
/// (beside an installed moport), else the components built into moport.
#[derive(Debug, Clone)]
pub struct BuiltComponents {
    /// None when moport cannot tell where it is installed: then only the built-in ones.
    pub folder: Option<PathBuf>,
    /// File names and bytes.
    pub builtin: &'static [(&'static str, &'static [u8])],
}

/// One plugin as plugins.toml describes it, with paths resolved.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    pub name: String,
    pub description: String,
    /// The component's file (where it would be, when it is built in).
    pub component: PathBuf,
    /// The component's bytes, when it is one built into moport and no file stands in its place.
    pub builtin: Option<&'static [u8]>,
    pub grants: Grants,
    pub limits: Limits,
    /// The plugin's own settings, as JSON values (what the `settings` capability hands out).
    pub settings: BTreeMap<String, serde_json::Value>,
    pub migrate_state: Vec<Migration>,
}

/// What a plugin may do beyond logging and reading its own settings. Everything is denied unless
/// plugins.toml grants it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// The output folder of the `files` capability.
    pub files: Option<PathBuf>,
    pub mo: Option<MoAccess>,
    /// Names of the remote targets the plugin may use.
    pub remote: Vec<String>,
    pub dar: bool,
    pub state: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MoAccess {
    Read,
    Write,
}

/// Resource limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The plugin's memories and tables together, and what one call may hand it.
    pub memory: ByteSize,
    /// Wall-clock time of the whole run, compiling and host calls included.
    pub time: Span,
    /// Bytes written in one run, to the output folder and to remote targets together.
    pub output: ByteSize,
    /// The component file's size: a larger one is refused before it is compiled.
    pub component: ByteSize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: ByteSize(1 << 30),
            time: Span(std::time::Duration::from_secs(30 * 60)),
            output: ByteSize(1 << 30),
            // The shipped plugins are under 1 MiB; compiling takes time and memory in
            // proportion to the size, outside every other limit.
            component: ByteSize(16 << 20),
        }
    }
}

impl Manifest {
    /// Reads plugins.toml; components are taken from `built` unless `[host] components` names a
    /// folder.
    pub fn load(path: &Path, built: &BuiltComponents) -> Result<Manifest, ManifestError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ManifestError::Read { path: path.to_owned(), source })?;
        Manifest::parse(path, &text, built)
    }

    /// Parses plugins.toml text; `path` names the file in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str, built: &BuiltComponents) -> Result<Manifest, ManifestError> {
        let file: ManifestFile = toml::from_str(text).map_err(|err| ManifestError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        if let Some(version) = file.manifest_version.filter(|version| *version != MANIFEST_VERSION) {
            return Err(ManifestError::Parse {
                path: path.to_owned(),
                message: format!(
                    "manifest_version = {version}: this moport reads plugins.toml version {MANIFEST_VERSION}; use \
                     a moport that reads version {version}, or write the file for version {MANIFEST_VERSION} \
                     (docs/plugins-toml.md)"
                ),
            });
        }
        // Absolute, so that every path moport prints can be used from any folder.
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let base = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
        let builtin = if file.host.components.is_some() { &[][..] } else { built.builtin };
        let components_dir = match file.host.components {
            Some(dir) => Some(base.join(dir)),
            None => built.folder.clone(),
        };
        let mo = file.host.mo.map(|text| MoSourceSpec::parse(&text, &base, file.host.mo_mode)).transpose().map_err(
            |problem| ManifestError::Parse { path: path.to_owned(), message: format!("[host] mo: {problem}") },
        )?;
        let adressevask = file.host.adressevask.map(AdressevaskEntry::spec).transpose().map_err(|problem| {
            ManifestError::Parse { path: path.to_owned(), message: format!("[host.adressevask]: {problem}") }
        })?;
        let dar = match file.host.dar {
            Some(text) => DarSpec::parse(&text, &base, adressevask).map_err(|problem| ManifestError::Parse {
                path: path.to_owned(),
                message: format!("[host] dar: {problem}"),
            })?,
            None => DarSpec::Off,
        };
        let state_dir = base.join(file.host.state.unwrap_or_else(|| PathBuf::from("state")));
        let today = file.host.today.map(|text| parse_date(&text)).transpose().map_err(|problem| {
            ManifestError::Parse { path: path.to_owned(), message: format!("[host] today: {problem}") }
        })?;
        let pushgateway = file.host.pushgateway.map(|url| pushgateway_url(&url)).transpose().map_err(|problem| {
            ManifestError::Parse { path: path.to_owned(), message: format!("[host] pushgateway: {problem}") }
        })?;
        let defaults = Limits::default();
        let mut plugins = BTreeMap::new();
        for (name, entry) in file.plugins {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                return Err(ManifestError::BadName { path: path.to_owned(), name });
            }
            let mut settings: BTreeMap<String, serde_json::Value> =
                entry.settings.into_iter().map(|(key, value)| (key, toml_to_json(value))).collect();
            if let Some(from) = entry.settings_from {
                let file = base.join(&from.file);
                let error = |message: String| ManifestError::SettingsFrom {
                    path: path.to_owned(),
                    plugin: name.clone(),
                    file: file.clone(),
                    message,
                };
                let values = read_json(&file).map_err(error)?;
                for key in from.keys {
                    // plugins.toml wins over the file.
                    if let (false, Some(value)) = (settings.contains_key(&key), lookup(&values, &key)) {
                        settings.insert(key, value.clone());
                    }
                }
            }
            let component = match &components_dir {
                Some(dir) => dir.join(&entry.component),
                None => entry.component.clone(),
            };
            let builtin = match components_dir.is_some() && component.is_file() {
                true => None,
                false => builtin.iter().find(|(name, _)| Path::new(name) == entry.component).map(|(_, bytes)| *bytes),
            };
            let spec = PluginSpec {
                description: entry.description,
                component,
                builtin,
                grants: Grants {
                    files: entry.grants.files.map(|dir| base.join(dir)),
                    mo: entry.grants.mo,
                    remote: entry.grants.remote,
                    dar: entry.grants.dar,
                    state: entry.grants.state,
                },
                limits: Limits {
                    memory: entry.limits.memory.unwrap_or(defaults.memory),
                    time: entry.limits.time.unwrap_or(defaults.time),
                    output: entry.limits.output.unwrap_or(defaults.output),
                    component: entry.limits.component.unwrap_or(defaults.component),
                },
                settings,
                migrate_state: entry
                    .migrate_state
                    .into_iter()
                    .map(|(key, setting)| Migration { key, setting })
                    .collect(),
                name: name.clone(),
            };
            plugins.insert(name, spec);
        }
        let (mut targets, mut unusable_targets) = (BTreeMap::new(), BTreeMap::new());
        for (name, entry) in file.targets {
            match entry.resolve(&name, &base, |var| std::env::var(var).ok()) {
                Ok(spec) => {
                    targets.insert(name, spec);
                }
                Err(problem) => {
                    unusable_targets.insert(name, problem);
                }
            }
        }
        for plugin in plugins.values() {
            let known = |target: &&String| targets.contains_key(*target) || unusable_targets.contains_key(*target);
            if let Some(target) = plugin.grants.remote.iter().find(|t| !known(t)) {
                return Err(ManifestError::UnknownTarget {
                    path: path.to_owned(),
                    plugin: plugin.name.clone(),
                    target: target.clone(),
                });
            }
        }
        Ok(Manifest {
            path: path.to_owned(),
            components_dir,
            mo,
            dar,
            today,
            state_dir,
            metrics_file: file.host.metrics.map(|metrics| base.join(metrics)),
            pushgateway,
            base,
            plugins,
            targets,
            unusable_targets,
        })
    }

    /// Why the plugin cannot use a target it is granted, if it cannot.
    pub fn unusable_target_of(&self, plugin: &PluginSpec) -> Result<(), ManifestError> {
        match plugin.grants.remote.iter().find_map(|name| self.unusable_targets.get(name)) {
            Some(problem) => Err(ManifestError::Parse { path: self.path.clone(), message: problem.clone() }),
            None => Ok(()),
        }
    }

    pub fn plugin(&self, name: &str) -> Result<&PluginSpec, ManifestError> {
        self.plugins.get(name).ok_or_else(|| ManifestError::UnknownPlugin {
            path: self.path.clone(),
            name: name.to_owned(),
            known: if self.plugins.is_empty() {
                "(none)".to_owned()
            } else {
                self.plugins.keys().cloned().collect::<Vec<_>>().join(", ")
            },
        })
    }
}

/// A JSON file such as DIPEX's settings.json.
fn read_json(file: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read(file).map_err(|err| format!("cannot read {}: {err}", file.display()))?;
    serde_json::from_slice(&text)
        .map_err(|err| format!("{}, line {}, column {}: {err}", file.display(), err.line(), err.column()))
}

/// A settings.json key: DIPEX writes dotted keys flat (`"mora.base": ...`); a nested file is
/// walked by the dots.
fn lookup<'a>(values: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    values.get(key).or_else(|| key.split('.').try_fold(values, |value, part| value.get(part)))
}

/// A TOML value as the JSON value the `settings` capability hands out.
pub fn toml_to_json(value: toml::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        toml::Value::String(s) => Json::String(s),
        toml::Value::Integer(i) => Json::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        toml::Value::Boolean(b) => Json::Bool(b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(items) => Json::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Json::Object(table.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

/// A Pushgateway's address as pushes start from it: `http://` or `https://`, a host, perhaps a
/// port and a path prefix. Credentials would sit in plugins.toml and in every error that names
/// the address, so a user name or password is refused, as is a query or fragment.
fn pushgateway_url(url: &str) -> Result<String, String> {
    // The address is not repeated in these errors: what is wrong with it may be a password.
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest).split(['/', '?', '#']).next();
    if authority.unwrap_or_default().contains('@') || !url.contains("://") && url.contains('@') {
        return Err("the address holds a user name or password; put the Pushgateway behind a proxy that needs \
                    none from moport, or on a network only the job reaches"
            .to_owned());
    }
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else {
        return Err("the address does not start with http:// or https://, like http://pushgateway:9091".to_owned());
    };
    if rest.starts_with('/') || rest.is_empty() || rest.contains(['?', '#']) || rest.contains(char::is_whitespace) {
        return Err("the address is not a Pushgateway's, like http://pushgateway:9091 (a host, perhaps a port and \
                    a path; no query)"
            .to_owned());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No components built in, the folder as given.
    fn built(folder: &str) -> BuiltComponents {
        BuiltComponents { folder: Some(PathBuf::from(folder)), builtin: &[] }
    }

    const EXAMPLE: &str = r#"
[host]
components = "built"

[plugins.hello]
component = "hello.wasm"
description = "Greets"

[plugins.hello.grants]
files = "out/hello"
mo = "read"
remote = ["plan2learn"]

[plugins.hello.limits]
memory = "64MiB"
time = "10s"

[plugins.hello.settings]
recipient = "Aarhus"
levels = [1, 2]

[targets.plan2learn]
kind = "local"
path = "ship"
"#;

    #[test]
    fn a_pushgateway_is_an_http_address_without_credentials() {
        let parse = |url: &str| {
            let text = EXAMPLE.replacen("[host]\n", &format!("[host]\npushgateway = {url:?}\n"), 1);
            Manifest::parse(Path::new("plugins.toml"), &text, &built("built")).map(|manifest| manifest.pushgateway)
        };
        assert_eq!(parse("http://pushgateway:9091/").unwrap().as_deref(), Some("http://pushgateway:9091"));
        assert_eq!(parse("https://mon.kommune.dk/push").unwrap().as_deref(), Some("https://mon.kommune.dk/push"));
        for (url, said) in [
            ("https://moport:hemmelig@mon.kommune.dk", "holds a user name or password"),
            ("HTTP://moport:hemmelig@mon.kommune.dk", "holds a user name or password"),
            ("moport:hemmelig@mon.kommune.dk", "holds a user name or password"),
            ("pushgateway:9091", "does not start with http:// or https://"),
            ("http://pushgateway:9091/?token=hemmelig", "is not a Pushgateway's"),
            ("http:///metrics", "is not a Pushgateway's"),
        ] {
            let err = parse(url).unwrap_err().to_string();
            assert!(err.contains("[host] pushgateway: ") && err.contains(said), "{url}: {err}");
            assert!(!err.contains("hemmelig"), "{err}");
        }
    }

    #[test]
    fn targets_resolve_paths_and_passwords_and_grants_must_name_one() {
        let manifest = Manifest::parse(Path::new("/etc/moport/plugins.toml"), EXAMPLE, &built("built")).unwrap();
        assert!(
            matches!(&manifest.targets["plan2learn"], TargetSpec::Local { path, create: false } if path == Path::new("/etc/moport/ship"))
        );
        let ftps = r#"
[targets.p2l]
kind = "ftps"
host = "ftp.example"
user = "kommune"
password = "hemmelig"
ca_file = "ca.pem"
"#;
        let manifest = Manifest::parse(Path::new("/etc/moport/plugins.toml"), ftps, &built("built")).unwrap();
        let TargetSpec::Ftp(spec) = &manifest.targets["p2l"] else { panic!("an FTP target") };
        assert!(spec.tls && spec.port == 21 && spec.ca_file.as_deref() == Some(Path::new("/etc/moport/ca.pem")));
        assert!(!format!("{spec:?}").contains("hemmelig"), "the password never prints");
        // A target that cannot be used blocks only the plugins granted it.
        let unset = ftps.replace("password = \"hemmelig\"", "password_env = \"MOPORT_TEST_UNSET_VARIABLE\"");
        let manifest =
            Manifest::parse(Path::new("plugins.toml"), &format!("{EXAMPLE}{unset}"), &built("built")).unwrap();
        let problem = "[targets.p2l] password_env: the environment variable MOPORT_TEST_UNSET_VARIABLE is not set";
        assert!(manifest.unusable_targets["p2l"].contains(problem));
        assert!(manifest.unusable_target_of(&manifest.plugins["hello"]).is_ok());
        let granted = format!("{EXAMPLE}{unset}").replace("remote = [\"plan2learn\"]", "remote = [\"p2l\"]");
        let manifest = Manifest::parse(Path::new("plugins.toml"), &granted, &built("built")).unwrap();
        let err = manifest.unusable_target_of(&manifest.plugins["hello"]).unwrap_err();
        assert!(err.to_string().contains(problem), "{err}");
        let err = Manifest::parse(
            Path::new("plugins.toml"),
            &EXAMPLE.replace("[targets.plan2learn]", "[targets.other]"),
            &built("built"),
        );
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("granted the remote target `plan2learn`, which has no [targets.plan2learn]")
        );
    }

    #[test]
    fn an_ftp_target_takes_dipex_keys_from_settings_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("settings.json"),
            r#"{"exporters.plan2learn.host": "ftp.plan2learn.example", "exporters.plan2learn.user": "aarhus",
                "exporters.plan2learn.password": "fra-dipex"}"#,
        )
        .unwrap();
        let text = r#"
[targets.plan2learn]
kind = "ftps"
settings_from = { file = "settings.json", host = "exporters.plan2learn.host", user = "exporters.plan2learn.user", password = "exporters.plan2learn.password" }
"#;
        let manifest = Manifest::parse(&dir.path().join("plugins.toml"), text, &built("built")).unwrap();
        let TargetSpec::Ftp(spec) = &manifest.targets["plan2learn"] else { panic!("an FTP target") };
        assert_eq!(
            (spec.host.as_str(), spec.user.as_str(), spec.password.expose()),
            ("ftp.plan2learn.example", "aarhus", "fra-dipex")
        );
        let with_own_user = text.replace("kind = \"ftps\"", "kind = \"ftps\"\nuser = \"moport\"\npassword = \"egen\"");
        let manifest = Manifest::parse(&dir.path().join("plugins.toml"), &with_own_user, &built("built")).unwrap();
        let TargetSpec::Ftp(spec) = &manifest.targets["plan2learn"] else { panic!("an FTP target") };
        assert_eq!((spec.user.as_str(), spec.password.expose()), ("moport", "egen"), "plugins.toml wins");
        let manifest = Manifest::parse(
            &dir.path().join("plugins.toml"),
            &text.replace("user = \"exporters.plan2learn.user\"", "user = \"nope\""),
            &built("built"),
        )
        .unwrap();
        assert!(manifest.unusable_targets["plan2learn"].contains("has no `nope` (for the target's user)"));
    }

    #[test]
    fn listed_keys_come_from_a_settings_json_and_plugins_toml_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("settings.json"),
            r#"{"exporters.plan2learn.root_unit": "r", "plan2learn.phone.priority": ["p"],
                "crontab.CLIENT_SECRET": "hemmelig", "integrations": {"SD_Lon": {"import": {"too_deep": ["x"]}}},
                "exporters.plan2learn.variant": "RSD"}"#,
        )
        .unwrap();
        let text = r#"
[plugins.p2l]
component = "plan2learn.wasm"
settings = { "exporters.plan2learn.variant" = "Viborg" }
settings_from = { file = "settings.json", keys = ["exporters.plan2learn.root_unit", "plan2learn.phone.priority",
    "integrations.SD_Lon.import.too_deep", "exporters.plan2learn.variant", "plan2learn.email.priority"] }
"#;
        let manifest = Manifest::parse(&dir.path().join("plugins.toml"), text, &built("built")).unwrap();
        let settings = &manifest.plugin("p2l").unwrap().settings;
        assert_eq!(settings["exporters.plan2learn.root_unit"], "r");
        assert_eq!(settings["plan2learn.phone.priority"], serde_json::json!(["p"]));
        assert_eq!(settings["integrations.SD_Lon.import.too_deep"], serde_json::json!(["x"]));
        assert_eq!(settings["exporters.plan2learn.variant"], "Viborg");
        assert!(!settings.contains_key("plan2learn.email.priority"));
        assert!(!settings.contains_key("crontab.CLIENT_SECRET"), "only listed keys");

        let err = Manifest::parse(
            &dir.path().join("plugins.toml"),
            &text.replace("settings.json", "missing.json"),
            &built("built"),
        );
        let err = err.unwrap_err().to_string();
        assert!(err.contains("plugin `p2l`: cannot take settings from") && err.contains("missing.json"), "{err}");
    }

    #[test]
    fn paths_are_relative_to_the_manifest_and_limits_default() {
        let manifest = Manifest::parse(Path::new("/etc/moport/plugins.toml"), EXAMPLE, &built("built")).unwrap();
        let hello = manifest.plugin("hello").unwrap();
        assert_eq!(hello.component, Path::new("/etc/moport/built/hello.wasm"));
        assert_eq!(hello.grants.files.as_deref(), Some(Path::new("/etc/moport/out/hello")));
        assert_eq!(hello.grants.mo, Some(MoAccess::Read));
        assert_eq!(hello.grants.remote, ["plan2learn"]);
        assert!(!hello.grants.dar && !hello.grants.state);
        assert_eq!(hello.limits.memory, ByteSize(64 << 20));
        assert_eq!(hello.limits.output, Limits::default().output);
        assert_eq!(hello.settings["recipient"], serde_json::json!("Aarhus"));
        assert_eq!(hello.settings["levels"], serde_json::json!([1, 2]));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let text = EXAMPLE.replace("mo = \"read\"", "mo = \"read\"\nnetwork = true");
        let err = Manifest::parse(Path::new("plugins.toml"), &text, &built("built")).unwrap_err().to_string();
        assert!(err.starts_with("plugins.toml: "), "{err}");
        assert!(err.contains("line 12") && err.contains("unknown field `network`"), "{err}");
    }

    #[test]
    fn bad_limit_values_say_what_is_expected() {
        let text = EXAMPLE.replace("64MiB", "64MB");
        let err = Manifest::parse(Path::new("plugins.toml"), &text, &built("built")).unwrap_err().to_string();
        assert!(err.contains("`64MB` is not a size") && err.contains("line 15, column 10"), "{err}");
    }

    #[test]
    fn the_manifest_version_is_one_or_unsaid_and_another_is_named() {
        let versioned = format!("manifest_version = 1\n{EXAMPLE}");
        assert!(Manifest::parse(Path::new("plugins.toml"), &versioned, &built("built")).is_ok());
        let future = format!("manifest_version = 2\n{EXAMPLE}");
        let err = Manifest::parse(Path::new("plugins.toml"), &future, &built("built")).unwrap_err().to_string();
        assert!(
            err.starts_with("plugins.toml: manifest_version = 2: this moport reads plugins.toml version 1"),
            "{err}"
        );
    }

    #[test]
    fn unknown_plugin_lists_the_known_ones() {
        let manifest = Manifest::parse(Path::new("plugins.toml"), EXAMPLE, &built("built")).unwrap();
        let err = manifest.plugin("helo").unwrap_err().to_string();
        assert!(err.contains("no plugin named `helo`") && err.contains("hello"), "{err}");
    }

    #[test]
    fn without_a_components_folder_a_file_beside_moport_or_else_the_built_in_one_is_used() {
        let text = EXAMPLE.replace("[host]\ncomponents = \"built\"", "");
        let dir = tempfile::tempdir().unwrap();
        let built = BuiltComponents { folder: Some(dir.path().to_owned()), builtin: &[("hello.wasm", b"built in")] };
        let manifest = Manifest::parse(Path::new("plugins.toml"), &text, &built).unwrap();
        let hello = manifest.plugin("hello").unwrap();
        assert_eq!((&hello.component, hello.builtin), (&dir.path().join("hello.wasm"), Some(&b"built in"[..])));
        std::fs::write(dir.path().join("hello.wasm"), "installed").unwrap();
        let manifest = Manifest::parse(Path::new("plugins.toml"), &text, &built).unwrap();
        assert_eq!(manifest.plugin("hello").unwrap().builtin, None, "the file beside moport is used");
        let manifest = Manifest::parse(Path::new("plugins.toml"), EXAMPLE, &built).unwrap();
        assert_eq!(manifest.plugin("hello").unwrap().builtin, None, "`[host] components` is the only place looked in");
    }
}
