//! MO's nine collections, whoever holds them, and what MO keeps true of them.

use crate::record::{Record, sort_records};
use chrono::NaiveDate;
use moport_types::Validity;
use moport_types::mo::{
    Address, Change, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, Object, OrgUnit,
};
use std::collections::HashMap;

/// MO has exactly ten engagement extension fields (`extension_1` .. `extension_10`).
pub const EXTENSIONS: usize = 10;

/// Holds one of MO's collections: the records of kind `T`, one per validity.
pub trait Holds<T> {
    fn rows(&self) -> &Vec<T>;
    fn rows_mut(&mut self) -> &mut Vec<T>;
}

/// Holds all nine of MO's collections (a snapshot file, the SDK test host's MO). Implement it
/// with [`holds_collections!`](crate::holds_collections) for a struct with fields named as in a
/// snapshot file.
pub trait Collections:
    Holds<Facet>
    + Holds<Class>
    + Holds<OrgUnit>
    + Holds<Employee>
    + Holds<Engagement>
    + Holds<Manager>
    + Holds<Address>
    + Holds<ItSystem>
    + Holds<ItUser>
{
}

impl<C> Collections for C where
    C: Holds<Facet>
        + Holds<Class>
        + Holds<OrgUnit>
        + Holds<Employee>
        + Holds<Engagement>
        + Holds<Manager>
        + Holds<Address>
        + Holds<ItSystem>
        + Holds<ItUser>
{
}

/// Implements [`Collections`] for a struct whose fields `facets`, `classes`, `org_units`,
/// `employees`, `engagements`, `managers`, `addresses`, `it_systems` and `it_users` hold them.
#[macro_export]
macro_rules! holds_collections {
    ($holder:ty) => {
        $crate::holds_collections!(@one $holder, facets: Facet, classes: Class, org_units: OrgUnit,
            employees: Employee, engagements: Engagement, managers: Manager, addresses: Address,
            it_systems: ItSystem, it_users: ItUser);
    };
    (@one $holder:ty, $($field:ident: $record:ident),*) => {$(
        impl $crate::Holds<$crate::__types::mo::$record> for $holder {
            fn rows(&self) -> &Vec<$crate::__types::mo::$record> {
                &self.$field
            }
            fn rows_mut(&mut self) -> &mut Vec<$crate::__types::mo::$record> {
                &mut self.$field
            }
        }
    )*};
}

/// Calls `$call` with each of `$mo`'s collections, through `Holds::$rows`, in the order of a
/// snapshot file; `?` after each call when `$call` is fallible.
macro_rules! each_collection {
    ($mo:expr, $rows:ident, $call:path) => {
        each_collection!(@calls $mo, $rows, $call,)
    };
    ($mo:expr, $rows:ident, $call:path, ?) => {
        each_collection!(@calls $mo, $rows, $call, ?)
    };
    (@calls $mo:expr, $rows:ident, $call:path, $($try:tt)?) => {{
        $call(Holds::<Facet>::$rows($mo))$($try)?;
        $call(Holds::<Class>::$rows($mo))$($try)?;
        $call(Holds::<OrgUnit>::$rows($mo))$($try)?;
        $call(Holds::<Employee>::$rows($mo))$($try)?;
        $call(Holds::<Engagement>::$rows($mo))$($try)?;
        $call(Holds::<Manager>::$rows($mo))$($try)?;
        $call(Holds::<Address>::$rows($mo))$($try)?;
        $call(Holds::<ItSystem>::$rows($mo))$($try)?;
        $call(Holds::<ItUser>::$rows($mo))$($try)?;
    }};
}

/// A record MO would not hold, as [`tidy`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProblem {
    /// The kind of object ("org unit").
    pub kind: &'static str,
    pub uuid: String,
    pub problem: String,
}

/// Puts the collections as MO keeps them, or says which record MO would not hold: the fields MO
/// works out are joined in (a class's facet user key, an address's scope; a write may carry a
/// stale or empty copy), an engagement has its ten extensions, a manager's responsibilities (a
/// set in MO) are in one order, every date is a date, every validity is not empty, records are
/// ordered by uuid and start, and no two validities of an object overlap.
pub fn tidy<C: Collections>(mo: &mut C) -> Result<(), RecordProblem> {
    for engagement in Holds::<Engagement>::rows_mut(mo) {
        if engagement.extensions.len() > EXTENSIONS {
            return Err(RecordProblem {
                kind: Engagement::KIND,
                uuid: engagement.uuid.clone(),
                problem: format!("{} extensions; MO has {EXTENSIONS}", engagement.extensions.len()),
            });
        }
        engagement.extensions.resize(EXTENSIONS, None);
    }
    // Taken out for a moment, so one collection can be read while another is changed.
    let facets = std::mem::take(Holds::<Facet>::rows_mut(mo));
    fill_facet_user_keys(Holds::<Class>::rows_mut(mo), &facets);
    *Holds::<Facet>::rows_mut(mo) = facets;
    let classes = std::mem::take(Holds::<Class>::rows_mut(mo));
    fill_scopes(Holds::<Address>::rows_mut(mo), &classes);
    *Holds::<Class>::rows_mut(mo) = classes;
    for manager in Holds::<Manager>::rows_mut(mo) {
        manager.responsibilities.sort();
    }
    fn dates<T: Record>(rows: &[T]) -> Result<(), RecordProblem> {
        for row in rows {
            check_validity(row.validity()).map_err(|problem| RecordProblem {
                kind: T::KIND,
                uuid: row.uuid().to_owned(),
                problem,
            })?;
        }
        Ok(())
    }
    each_collection!(mo, rows, dates, ?);
    sort_all(mo);
    each_collection!(mo, rows, apart, ?);
    Ok(())
}

/// Sets each class's `facet_user_key` from its facet, where `facets` holds it.
pub fn fill_facet_user_keys(classes: &mut [Class], facets: &[Facet]) {
    let keys: HashMap<&str, &str> = facets.iter().map(|f| (f.uuid.as_str(), f.user_key.as_str())).collect();
    for class in classes {
        if let Some(key) = keys.get(class.facet.as_str()) {
            class.facet_user_key = (*key).to_owned();
        }
    }
}

/// Sets each address's `scope` from its address type, where `classes` holds it with a scope.
pub fn fill_scopes(addresses: &mut [Address], classes: &[Class]) {
    let scopes: HashMap<&str, &str> =
        classes.iter().filter_map(|c| Some((c.uuid.as_str(), c.scope.as_deref()?))).collect();
    for address in addresses {
        if let Some(scope) = scopes.get(address.address_type.as_str()) {
            address.scope = (*scope).to_owned();
        }
    }
}

/// Puts every collection in the order `mo-read` hands records out in: by uuid, then start.
pub fn sort_all<C: Collections>(mo: &mut C) {
    each_collection!(mo, rows_mut, sort_records);
}

/// Every validity of every record as a `mo-write` create, which is how `moport load` writes a
/// snapshot into an MO (the writer orders them so parents come first).
pub fn as_creates<C: Collections>(mo: &C) -> Vec<Change> {
    let mut objects = Vec::new();
    objects.extend(Holds::<Facet>::rows(mo).iter().cloned().map(Object::Facet));
    objects.extend(Holds::<Class>::rows(mo).iter().cloned().map(Object::Class));
    objects.extend(Holds::<ItSystem>::rows(mo).iter().cloned().map(Object::ItSystem));
    objects.extend(Holds::<OrgUnit>::rows(mo).iter().cloned().map(Object::OrgUnit));
    objects.extend(Holds::<Employee>::rows(mo).iter().cloned().map(Object::Employee));
    objects.extend(Holds::<Engagement>::rows(mo).iter().cloned().map(Object::Engagement));
    objects.extend(Holds::<Address>::rows(mo).iter().cloned().map(Object::Address));
    objects.extend(Holds::<Manager>::rows(mo).iter().cloned().map(Object::Manager));
    objects.extend(Holds::<ItUser>::rows(mo).iter().cloned().map(Object::ItUser));
    objects.into_iter().map(Change::Create).collect()
}

/// Checks that no two validities of an object overlap, as MO keeps them (the writes rely on
/// it). `rows` is sorted by uuid, then start.
fn apart<T: Record>(rows: &[T]) -> Result<(), RecordProblem> {
    for pair in rows.windows(2) {
        let (before, after) = (pair[0].validity(), pair[1].validity());
        let overlap = match (&before.to, &after.from) {
            (Some(end), Some(start)) => start < end,
            _ => true,
        };
        if pair[0].uuid() == pair[1].uuid() && overlap {
            let show = |date: &Option<String>| date.clone().unwrap_or_else(|| "(open)".to_owned());
            return Err(RecordProblem {
                kind: T::KIND,
                uuid: pair[0].uuid().to_owned(),
                problem: format!(
                    "its validities from {} to {} and from {} to {} overlap; MO keeps an object's validities apart",
                    show(&before.from),
                    show(&before.to),
                    show(&after.from),
                    show(&after.to)
                ),
            });
        }
    }
    Ok(())
}

fn check_validity(validity: &Validity) -> Result<(), String> {
    let parse = |text: &Option<String>| {
        text.as_deref()
            .map(|text| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| format!("validity date `{text}` is not a date like 2026-01-31"))
            })
            .transpose()
    };
    match (parse(&validity.from)?, parse(&validity.to)?) {
        (Some(from), Some(to)) if from >= to => {
            Err(format!("validity from {from} to {to} is empty (`to` is exclusive)"))
        }
        _ => Ok(()),
    }
}
