//! What a component asks of the host, read from its imports and exports before it runs: the
//! WIT version it was built against, its world, and the capabilities it uses. A component is
//! refused before instantiation when its version is incompatible, it imports something moport
//! does not provide, or its grants do not allow a capability it imports.

use moport_manifest::{Grants, MoAccess};
use semver::Version;
use std::collections::BTreeSet;
use std::fmt;
use thiserror::Error;
use wasmtime::Engine;
use wasmtime::component::Component;

pub use moport_wit::{WIT_PACKAGE, WIT_VERSION, host_wit_version};

/// A capability interface of the WIT contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capability {
    Log,
    Settings,
    Files,
    State,
    MoRead,
    MoWrite,
    Remote,
    Dar,
}

impl Capability {
    pub const ALL: [Capability; 8] = [
        Capability::Log,
        Capability::Settings,
        Capability::Files,
        Capability::State,
        Capability::MoRead,
        Capability::MoWrite,
        Capability::Remote,
        Capability::Dar,
    ];

    pub fn interface(self) -> &'static str {
        match self {
            Capability::Log => "log",
            Capability::Settings => "settings",
            Capability::Files => "files",
            Capability::State => "state",
            Capability::MoRead => "mo-read",
            Capability::MoWrite => "mo-write",
            Capability::Remote => "remote",
            Capability::Dar => "dar",
        }
    }

    fn from_interface(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.interface() == name)
    }

    pub fn is_granted(self, grants: &Grants) -> bool {
        match self {
            // Remote access is granted target by target, and every call names its target, which
            // must be in `remote = [...]`: a plugin that ships only when told to (plan2learn
            // without `ship_to`) runs with none granted.
            Capability::Log | Capability::Settings | Capability::Remote => true,
            Capability::Files => grants.files.is_some(),
            Capability::State => grants.state,
            Capability::MoRead => grants.mo.is_some(),
            Capability::MoWrite => grants.mo == Some(MoAccess::Write),
            Capability::Dar => grants.dar,
        }
    }

    /// The plugins.toml line that grants the capability.
    fn grant_line(self) -> &'static str {
        match self {
            Capability::Log | Capability::Settings => "(always granted)",
            Capability::Remote => "remote = [\"<target>\"]",
            Capability::Files => "files = \"output/<plugin>\"",
            Capability::State => "state = true",
            Capability::MoRead => "mo = \"read\"",
            Capability::MoWrite => "mo = \"write\"",
            Capability::Dar => "dar = true",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    Exporter,
    Importer,
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            World::Exporter => "exporter",
            World::Importer => "importer",
        })
    }
}

/// What a component needs from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// `importer` when the component imports `mo-write`, else `exporter`.
    pub world: World,
    /// The `moport:host` version the component was built against.
    pub wit_version: Version,
    pub capabilities: BTreeSet<Capability>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ContractError {
    #[error(
        "plugin `{plugin}` does not export {WIT_PACKAGE}/plugin, so it is not a moport plugin; \
         build it against the `exporter` or `importer` world of {WIT_PACKAGE}@{WIT_VERSION}"
    )]
    NotAPlugin { plugin: String },
    #[error(
        "plugin `{plugin}` was built against {WIT_PACKAGE}@{found} ({item}), but this moport provides \
         {WIT_PACKAGE}@{host}; rebuild the plugin against {WIT_PACKAGE}@{host} or use a moport that provides {found}"
    )]
    IncompatibleVersion { plugin: String, item: String, found: String, host: String },
    #[error("plugin `{plugin}` imports `{import}`, which moport does not provide")]
    UnknownImport { plugin: String, import: String },
    #[error(
        "plugin `{plugin}` imports the `{capability}` capability, but its grants do not allow it; \
         if it should, add `{line}` under [plugins.{plugin}.grants] in plugins.toml"
    )]
    NotGranted { plugin: String, capability: Capability, line: &'static str },
}

/// Reads the contract from a compiled component's type.
pub fn read_contract(plugin: &str, engine: &Engine, component: &Component) -> Result<Contract, ContractError> {
    let host = host_wit_version();
    let ty = component.component_type();
    let mut capabilities = BTreeSet::new();
    let mut version = None;
    for (name, _) in ty.imports(engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        let unknown = || ContractError::UnknownImport { plugin: plugin.to_owned(), import: name.to_owned() };
        let (interface, found) = parse_host_item(name).ok_or_else(unknown)?;
        check_version(plugin, name, &found, &host)?;
        if interface != "types" {
            capabilities.insert(Capability::from_interface(interface).ok_or_else(unknown)?);
        }
    }
    for (name, _) in ty.exports(engine) {
        if let Some(("plugin", found)) = parse_host_item(name) {
            check_version(plugin, name, &found, &host)?;
            version = Some(found);
        }
    }
    let wit_version = version.ok_or_else(|| ContractError::NotAPlugin { plugin: plugin.to_owned() })?;
    let world = if capabilities.contains(&Capability::MoWrite) { World::Importer } else { World::Exporter };
    Ok(Contract { world, wit_version, capabilities })
}

/// Refuses a contract that asks for capabilities the grants do not allow.
pub fn check_grants(plugin: &str, contract: &Contract, grants: &Grants) -> Result<(), ContractError> {
    for &capability in &contract.capabilities {
        if !capability.is_granted(grants) {
            return Err(ContractError::NotGranted {
                plugin: plugin.to_owned(),
                capability,
                line: capability.grant_line(),
            });
        }
    }
    Ok(())
}

/// `moport:host/<interface>@<version>` split into interface and version.
fn parse_host_item(name: &str) -> Option<(&str, Version)> {
    let rest = name.strip_prefix(WIT_PACKAGE)?.strip_prefix('/')?;
    let (interface, version) = rest.split_once('@')?;
    Some((interface, Version::parse(version).ok()?))
}

/// A plugin is compatible when the host's version satisfies `^plugin`: same major (same minor
/// while 0.x), and the host at least as new, since the plugin may call what its version added.
fn check_version(plugin: &str, item: &str, found: &Version, host: &Version) -> Result<(), ContractError> {
    let wanted = semver::VersionReq::parse(&format!("^{found}")).expect("a caret requirement from a version");
    if wanted.matches(host) {
        Ok(())
    } else {
        Err(ContractError::IncompatibleVersion {
            plugin: plugin.to_owned(),
            item: item.to_owned(),
            found: found.to_string(),
            host: host.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn versions_are_compatible_within_the_caret_range_up_to_the_host() {
        let ok = |found: &str, host: &str| check_version("p", "i", &v(found), &v(host)).is_ok();
        assert!(ok("0.1.0", "0.1.0"));
        assert!(ok("0.1.0", "0.1.4"));
        assert!(!ok("0.1.5", "0.1.4"), "a newer plugin may call what the host lacks");
        assert!(!ok("0.2.0", "0.1.4"));
        assert!(!ok("0.1.0", "0.2.0"));
        assert!(ok("1.0.0", "1.3.0"));
        assert!(!ok("2.0.0", "1.3.0"));
    }

    #[test]
    fn the_version_error_names_both_versions() {
        let err = check_version("old", "moport:host/plugin@0.9.0", &v("0.9.0"), &v("0.1.0")).unwrap_err().to_string();
        assert!(
            err.contains("plugin `old`") && err.contains("moport:host@0.9.0") && err.contains("moport:host@0.1.0"),
            "{err}"
        );
    }

    #[test]
    fn host_items_parse() {
        assert_eq!(parse_host_item("moport:host/mo-read@0.1.0"), Some(("mo-read", v("0.1.0"))));
        assert_eq!(parse_host_item("moport:hostile/x@0.1.0"), None);
        assert_eq!(parse_host_item("moport:host/log"), None);
    }

    #[test]
    fn grants_are_checked_capability_by_capability() {
        let importer = Contract {
            world: World::Importer,
            wit_version: v("0.1.0"),
            capabilities: [Capability::Log, Capability::MoWrite].into(),
        };
        let read_only = Grants { mo: Some(MoAccess::Read), ..Grants::default() };
        let err = check_grants("los", &importer, &read_only).unwrap_err();
        assert_eq!(
            err,
            ContractError::NotGranted { plugin: "los".into(), capability: Capability::MoWrite, line: "mo = \"write\"" }
        );
        let write = Grants { mo: Some(MoAccess::Write), ..Grants::default() };
        assert_eq!(check_grants("los", &importer, &write), Ok(()));
        let stateful = Contract { capabilities: [Capability::Log, Capability::State].into(), ..importer };
        assert_eq!(check_grants("los", &stateful, &Grants { state: true, ..Grants::default() }), Ok(()));
    }
}
