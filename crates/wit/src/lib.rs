//! Host-side bindings of the WIT contract in `wit/`, generated for the `importer` world (the
//! superset of both worlds), and the contract's version. Each capability of `moport-caps`
//! implements its interface's `Host` trait.

wasmtime::component::bindgen!({
    world: "importer",
    path: "../../wit",
    imports: { default: async | trappable },
    exports: { default: async },
});

/// The package of the contract.
pub const WIT_PACKAGE: &str = "moport:host";
/// The version of `wit/` this host implements; a test keeps it equal to the WIT files.
pub const WIT_VERSION: &str = "0.1.0";

/// [`WIT_VERSION`], parsed.
pub fn host_wit_version() -> semver::Version {
    semver::Version::parse(WIT_VERSION).expect("WIT_VERSION is a valid version")
}

pub use self::moport::host::types::{CallError, PluginError, Report, RunContext};

// Each WIT type the host hands to or takes from a plugin, mirrored in `moport-types`, converts each
// way here. The conversions are exhaustive struct literals and matches: a field or case the WIT
// gains that the mirror lacks, or the other way round, does not compile.

use self::moport::host::{dar, mo_read, mo_write, remote, types};
use moport_types::mo as plain;

/// `From` each way between a generated record and its mirror; `$as_is` fields are moved as they
/// are, `$into` fields converted (records within records), `$option` fields converted inside
/// their `Option`.
macro_rules! mirrored_records {
    ($($wit:path = $plain:path { $($as_is:ident),* $(; into $($into:ident),*)? $(; option $($option:ident),*)? })*) => {$(
        impl From<$plain> for $wit {
            fn from(record: $plain) -> Self {
                let $plain { $($as_is,)* $($($into,)*)? $($($option,)*)? } = record;
                Self { $($as_is,)* $($($into: $into.into(),)*)? $($($option: $option.map(Into::into),)*)? }
            }
        }
        impl From<$wit> for $plain {
            fn from(record: $wit) -> Self {
                let $wit { $($as_is,)* $($($into,)*)? $($($option,)*)? } = record;
                Self { $($as_is,)* $($($into: $into.into(),)*)? $($($option: $option.map(Into::into),)*)? }
            }
        }
    )*};
}

/// `From` each way between a generated enum or variant and its mirror; a case with a payload
/// converts it.
macro_rules! mirrored_cases {
    ($($wit:ident :: $wit_name:ident = $plain:ident :: $plain_name:ident { $($case:ident $(($payload:ident))?),* })*) => {$(
        impl From<$plain::$plain_name> for $wit::$wit_name {
            fn from(value: $plain::$plain_name) -> Self {
                match value {
                    $($plain::$plain_name::$case $(($payload))? => $wit::$wit_name::$case $(($payload.into()))?,)*
                }
            }
        }
        impl From<$wit::$wit_name> for $plain::$plain_name {
            fn from(value: $wit::$wit_name) -> Self {
                match value {
                    $($wit::$wit_name::$case $(($payload))? => $plain::$plain_name::$case $(($payload.into()))?,)*
                }
            }
        }
    )*};
}

mirrored_records! {
    types::Validity = moport_types::Validity { from, to }
    remote::Entry = moport_types::Entry { name, size, modified }
    dar::Address = moport_types::DarAddress { id, street, house_number, floor, door, postcode, city, text }
    mo_read::Query = plain::Query { uuids, under_org_units, facet_user_keys; option window }
    mo_read::Organisation = plain::Organisation { uuid, name, user_key }
    mo_read::Facet = plain::Facet { uuid, user_key; into validity }
    mo_read::Class = plain::Class { uuid, user_key, name, facet, facet_user_key, scope, parent; into validity }
    mo_read::OrgUnit = plain::OrgUnit { uuid, user_key, name, parent, unit_type, unit_level, hierarchy; into validity }
    mo_read::Employee = plain::Employee {
        uuid, cpr_number, given_name, surname, nickname_given_name, nickname_surname; into validity
    }
    mo_read::Engagement = plain::Engagement {
        uuid, user_key, person, org_unit, job_function, engagement_type, primary, is_primary, extensions;
        into validity
    }
    mo_read::Manager = plain::Manager {
        uuid, person, org_unit, manager_type, manager_level, responsibilities; into validity
    }
    mo_read::DarFields = plain::DarFields { id, street, postcode, city }
    mo_read::Address = plain::Address {
        uuid, value, name, address_type, scope, visibility, person, org_unit, engagement; into validity; option dar
    }
    mo_read::ItSystem = plain::ItSystem { uuid, user_key, name; into validity }
    mo_read::ItUser = plain::ItUser { uuid, user_key, it_system, person, engagement; into validity }
    mo_write::Termination = plain::Termination { uuid, to; into kind }
}

mirrored_cases! {
    types::CallError = moport_types::CallError { Denied(m), Invalid(m), NotFound(m), Unavailable(m) }
    mo_read::Collection = plain::Collection {
        Facets, Classes, OrgUnits, Employees, Engagements, Managers, Addresses, ItSystems, ItUsers
    }
    mo_write::ObjectKind = plain::ObjectKind {
        Facet, Class, ItSystem, OrgUnit, Employee, Engagement, Manager, Address, ItUser
    }
    mo_write::Object = plain::Object {
        Facet(r), Class(r), ItSystem(r), OrgUnit(r), Employee(r), Engagement(r), Manager(r), Address(r), ItUser(r)
    }
    mo_write::Change = plain::Change { Create(o), Update(o), Terminate(t) }
    mo_write::Outcome = plain::Outcome { Created, Updated, Terminated, Unchanged, Missing }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_version_is_the_one_in_wit() {
        for file in ["types", "mo", "remote", "dar", "files", "log", "state", "settings"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../wit/{file}.wit"));
            let wit = std::fs::read_to_string(&path).unwrap();
            assert!(wit.contains(&format!("package {WIT_PACKAGE}@{WIT_VERSION};")), "{}", path.display());
        }
    }
}
