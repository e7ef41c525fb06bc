//! The data of the WIT contract (`wit/`) as plain Rust, for the code that handles it without
//! running a plugin: MO's backends, its rules, the remote targets and the DAR providers, the
//! benchmarks. Nothing here depends on wasm.
//!
//! Each type mirrors one WIT type field for field, under the name wit-bindgen gives it; the host's
//! bindings (`moport-wit`) convert each way with exhaustive struct literals and matches, so a
//! field or case added to the WIT and not here does not compile. The serde forms are those of the
//! snapshot format (docs/snapshot-format.md) and of `moport test` fixtures.

use serde::{Deserialize, Serialize};

pub mod paths;

/// Why a capability call failed (WIT `types.call-error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallError {
    /// The plugin's grants in plugins.toml do not allow this call.
    Denied(String),
    /// An argument was refused (a path escaping the output folder, an unknown target, ...).
    Invalid(String),
    /// The named thing does not exist.
    NotFound(String),
    /// The service behind the capability failed after the host's retries.
    Unavailable(String),
}

impl CallError {
    /// The message, whatever the case: one line for people.
    pub fn message(&self) -> &str {
        match self {
            CallError::Denied(m) | CallError::Invalid(m) | CallError::NotFound(m) | CallError::Unavailable(m) => m,
        }
    }

    /// The same case with another message.
    pub fn map_message(self, change: impl FnOnce(String) -> String) -> CallError {
        match self {
            CallError::Denied(m) => CallError::Denied(change(m)),
            CallError::Invalid(m) => CallError::Invalid(change(m)),
            CallError::NotFound(m) => CallError::NotFound(change(m)),
            CallError::Unavailable(m) => CallError::Unavailable(change(m)),
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// A span of validity (WIT `types.validity`): ISO dates, `to` exclusive, `None` open-ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Validity {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One file or folder on a remote target (WIT `remote.entry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// A folder's name ends in `/`.
    pub name: String,
    pub size: u64,
    /// RFC 3339, when the target tells.
    pub modified: Option<String>,
}

/// A DAR address (WIT `dar.address`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DarAddress {
    pub id: String,
    pub street: String,
    pub house_number: String,
    pub floor: Option<String>,
    pub door: Option<String>,
    pub postcode: String,
    pub city: String,
    pub text: String,
}

pub mod mo {
    //! MO's records, queries and changes (WIT `mo-read` and `mo-write`).

    use super::Validity;
    use serde::{Deserialize, Serialize};

    /// Which records to return, with MO's filter meanings.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Query {
        /// Only these objects; empty means all.
        pub uuids: Vec<String>,
        /// Validities overlapping this window; `None` means those valid today.
        pub window: Option<Validity>,
        /// Only records tied to these org units or any unit below them.
        pub under_org_units: Vec<String>,
        /// Classes only: of the facets with these user keys.
        pub facet_user_keys: Vec<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Organisation {
        pub uuid: String,
        pub name: String,
        pub user_key: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Facet {
        pub uuid: String,
        pub user_key: String,
        pub validity: Validity,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Class {
        pub uuid: String,
        pub user_key: String,
        pub name: String,
        pub facet: String,
        pub facet_user_key: String,
        pub scope: Option<String>,
        pub parent: Option<String>,
        pub validity: Validity,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct OrgUnit {
        pub uuid: String,
        pub user_key: String,
        pub name: String,
        pub parent: Option<String>,
        pub unit_type: Option<String>,
        pub unit_level: Option<String>,
        /// The org_unit_hierarchy class.
        pub hierarchy: Option<String>,
        pub validity: Validity,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Employee {
        pub uuid: String,
        pub cpr_number: Option<String>,
        pub given_name: String,
        pub surname: String,
        pub nickname_given_name: Option<String>,
        pub nickname_surname: Option<String>,
        pub validity: Validity,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Engagement {
        pub uuid: String,
        pub user_key: String,
        pub person: String,
        pub org_unit: String,
        pub job_function: Option<String>,
        pub engagement_type: Option<String>,
        /// The primary_type class MO stores; MO works out `is_primary` from it.
        pub primary: Option<String>,
        pub is_primary: bool,
        /// extension_1 .. extension_10, in order.
        pub extensions: Vec<Option<String>>,
        pub validity: Validity,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Manager {
        pub uuid: String,
        pub person: Option<String>,
        pub org_unit: String,
        pub manager_type: Option<String>,
        pub manager_level: Option<String>,
        pub responsibilities: Vec<String>,
        pub validity: Validity,
    }

    /// DAR fields of an address whose type has scope DAR.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct DarFields {
        pub id: String,
        pub street: String,
        pub postcode: String,
        pub city: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Address {
        pub uuid: String,
        /// What MO stores (for a DAR address, the DAR UUID).
        pub value: String,
        /// The address as text, as MO shows it.
        pub name: String,
        pub address_type: String,
        /// The address type's scope (EMAIL, PHONE, DAR, ...).
        pub scope: String,
        pub visibility: Option<String>,
        pub person: Option<String>,
        pub org_unit: Option<String>,
        pub engagement: Option<String>,
        pub dar: Option<DarFields>,
        pub validity: Validity,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ItSystem {
        pub uuid: String,
        pub user_key: String,
        pub name: String,
        pub validity: Validity,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ItUser {
        pub uuid: String,
        pub user_key: String,
        pub it_system: String,
        pub person: Option<String>,
        pub engagement: Option<String>,
        pub validity: Validity,
    }

    /// The collections a plugin reads.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum Collection {
        Facets,
        Classes,
        OrgUnits,
        Employees,
        Engagements,
        Managers,
        Addresses,
        ItSystems,
        ItUsers,
    }

    /// An object a change creates or updates.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub enum Object {
        Facet(Facet),
        Class(Class),
        ItSystem(ItSystem),
        OrgUnit(OrgUnit),
        Employee(Employee),
        Engagement(Engagement),
        Manager(Manager),
        Address(Address),
        ItUser(ItUser),
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum ObjectKind {
        Facet,
        Class,
        ItSystem,
        OrgUnit,
        Employee,
        Engagement,
        Manager,
        Address,
        ItUser,
    }

    /// Ends an object's validity: valid up to and not including `to`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Termination {
        pub kind: ObjectKind,
        pub uuid: String,
        pub to: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub enum Change {
        /// Creates the object; if it exists, this is an update.
        Create(Object),
        /// Replaces the object's fields in `[validity.from, validity.to)`; the object must exist.
        Update(Object),
        Terminate(Termination),
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Outcome {
        Created,
        Updated,
        Terminated,
        /// MO already holds exactly this: nothing was sent.
        Unchanged,
        /// A termination of an object MO does not have: nothing was sent.
        Missing,
    }
}
