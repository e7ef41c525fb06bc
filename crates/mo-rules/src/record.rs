//! What the rules need to know of each kind of MO record.

use moport_types::Validity;
use moport_types::mo::{Address, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit};
use serde::Serialize;

/// A record of an MO collection: one validity of one object.
pub trait Record {
    /// The collection's name in errors.
    const COLLECTION: &'static str;
    /// One object of the collection, in messages ("org unit").
    const KIND: &'static str;
    /// Whether records can be tied to an org unit, so `under_org_units` applies.
    const TIED_TO_UNITS: bool;

    fn uuid(&self) -> &str;
    fn validity(&self) -> &Validity;
    /// The unit the record belongs to (an org unit belongs to itself).
    fn org_unit(&self) -> Option<&str>;
    /// Classes: their facet's user key.
    fn facet_user_key(&self) -> Option<&str>;
}

/// A record whose validity a write can move.
pub trait Writable: Record + Clone + Serialize {
    /// Fields MO works out itself (or the host joins in), left out when telling whether a
    /// write changes anything: a plugin cannot set them, so comparing them would make every
    /// re-run look like a change.
    const COMPUTED: &'static [&'static str];

    fn validity_mut(&mut self) -> &mut Validity;
}

/// The order `mo-read` hands records out in: by uuid, then by validity start.
pub fn sort_records<T: Record>(rows: &mut [T]) {
    fn key<T: Record>(row: &T) -> (&str, &Option<String>) {
        (row.uuid(), &row.validity().from)
    }
    // Files moport writes are in this order already; checking is linear, sorting records of
    // a few hundred bytes each is not.
    if !rows.is_sorted_by(|a, b| key(a) <= key(b)) {
        rows.sort_by(|a, b| key(a).cmp(&key(b)));
    }
}

macro_rules! record {
    ($ty:ty, $collection:literal, $kind:literal, tied_to_units: $tied:literal, org_unit: $unit:expr,
     facet: $facet:expr, computed: $computed:expr) => {
        impl Record for $ty {
            const COLLECTION: &'static str = $collection;
            const KIND: &'static str = $kind;
            const TIED_TO_UNITS: bool = $tied;
            fn uuid(&self) -> &str {
                &self.uuid
            }
            fn validity(&self) -> &Validity {
                &self.validity
            }
            fn org_unit(&self) -> Option<&str> {
                let unit: fn(&$ty) -> Option<&str> = $unit;
                unit(self)
            }
            fn facet_user_key(&self) -> Option<&str> {
                let facet: fn(&$ty) -> Option<&str> = $facet;
                facet(self)
            }
        }

        impl Writable for $ty {
            const COMPUTED: &'static [&'static str] = $computed;
            fn validity_mut(&mut self) -> &mut Validity {
                &mut self.validity
            }
        }
    };
}

record!(Facet, "facets", "facet", tied_to_units: false, org_unit: |_| None, facet: |_| None, computed: &[]);
// MO joins the facet's user key in.
record!(Class, "classes", "class", tied_to_units: false, org_unit: |_| None,
    facet: |c| Some(c.facet_user_key.as_str()), computed: &["facet_user_key"]);
record!(OrgUnit, "org units", "org unit", tied_to_units: true, org_unit: |u| Some(u.uuid.as_str()),
    facet: |_| None, computed: &[]);
record!(Employee, "employees", "employee", tied_to_units: false, org_unit: |_| None, facet: |_| None,
    computed: &[]);
// MO derives `is_primary` from the primary class.
record!(Engagement, "engagements", "engagement", tied_to_units: true, org_unit: |e| Some(e.org_unit.as_str()),
    facet: |_| None, computed: &["is_primary"]);
record!(Manager, "managers", "manager", tied_to_units: true, org_unit: |m| Some(m.org_unit.as_str()),
    facet: |_| None, computed: &[]);
// MO formats the name (for DAR, from DAWA) and resolves the DAR fields; the scope is the address
// type's.
record!(Address, "addresses", "address", tied_to_units: true, org_unit: |a| a.org_unit.as_deref(),
    facet: |_| None, computed: &["name", "dar", "scope"]);
record!(ItSystem, "IT systems", "IT system", tied_to_units: false, org_unit: |_| None, facet: |_| None,
    computed: &[]);
record!(ItUser, "IT users", "IT user", tied_to_units: false, org_unit: |_| None, facet: |_| None, computed: &[]);
