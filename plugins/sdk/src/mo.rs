//! Reading MO: whole collections per call, filtered as MO filters them.

use crate::CallError;
pub use crate::bindings::moport::host::mo_read::{
    Address, Class, Collection, DarFields, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit,
    Organisation, Query,
};
pub use crate::bindings::moport::host::types::Validity;

capabilities! { mo_read:
    /// Says which collections the plugin is about to read, so a host reading a live MO fetches
    /// them side by side instead of one after another. Only a hint: it returns at once, and a
    /// fetch that fails is reported by the read of that collection.
    pub fn prefetch(collections: &[Collection]) -> Result<(), CallError>;
    pub fn root_organisation() -> Result<Organisation, CallError>;
    pub fn facets(query: &Query) -> Result<Vec<Facet>, CallError>;
    pub fn classes(query: &Query) -> Result<Vec<Class>, CallError>;
    pub fn org_units(query: &Query) -> Result<Vec<OrgUnit>, CallError>;
    pub fn employees(query: &Query) -> Result<Vec<Employee>, CallError>;
    pub fn engagements(query: &Query) -> Result<Vec<Engagement>, CallError>;
    pub fn managers(query: &Query) -> Result<Vec<Manager>, CallError>;
    pub fn addresses(query: &Query) -> Result<Vec<Address>, CallError>;
    pub fn it_systems(query: &Query) -> Result<Vec<ItSystem>, CallError>;
    pub fn it_users(query: &Query) -> Result<Vec<ItUser>, CallError>;
}

impl Query {
    /// Everything valid today.
    pub fn today() -> Query {
        Query { uuids: Vec::new(), window: None, under_org_units: Vec::new(), facet_user_keys: Vec::new() }
    }

    /// Validities overlapping `[from, to)`; `None` is open-ended.
    pub fn window(from: Option<&str>, to: Option<&str>) -> Query {
        Query { window: Some(Validity { from: from.map(Into::into), to: to.map(Into::into) }), ..Query::today() }
    }

    /// Only records tied to these units or units below them.
    pub fn under(mut self, org_units: &[&str]) -> Query {
        self.under_org_units = org_units.iter().map(|u| (*u).to_owned()).collect();
        self
    }

    /// Classes only: of the facets with these user keys.
    pub fn in_facets(mut self, user_keys: &[&str]) -> Query {
        self.facet_user_keys = user_keys.iter().map(|k| (*k).to_owned()).collect();
        self
    }
}

/// Writing MO: importers only, with `mo = "write"` granted. One [`write::apply`] call is one
/// batch: the host works out what each change really does, sends only what changes MO, and
/// makes the batch all or nothing.
pub mod write {
    use crate::CallError;
    pub use crate::bindings::moport::host::mo_write::{Change, Object, ObjectKind, Outcome, Termination};

    capabilities! { mo_write:
        /// Applies the changes in order, all or nothing; one outcome per change.
        pub fn apply(changes: &[Change]) -> Result<Vec<Outcome>, CallError>;
    }
}
