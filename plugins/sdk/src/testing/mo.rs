//! MO in memory: the collections of a snapshot, read with `mo-read`'s filter meanings and changed
//! by `mo-write`'s changes.

use crate::CallError;
use crate::dates::Date;
use crate::mo::write::{Change, Object, ObjectKind, Outcome, Termination};
use crate::mo::{
    Address, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit, Organisation, Query, Validity,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// MO for a [`TestHost`](super::TestHost): the collections of a snapshot file
/// (docs/snapshot-format.md) as the SDK's records. A record is one validity of an object, so an
/// object valid in several periods has several records with the same `uuid`. Build one with
/// `..MoData::default()` for the collections a test does not need; the test host orders every
/// collection by uuid and then start, as the host's snapshot loader does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoData {
    /// What [`crate::mo::root_organisation`] returns; without one it answers `NotFound`.
    pub organisation: Option<Organisation>,
    pub facets: Vec<Facet>,
    pub classes: Vec<Class>,
    pub org_units: Vec<OrgUnit>,
    pub employees: Vec<Employee>,
    pub engagements: Vec<Engagement>,
    pub managers: Vec<Manager>,
    pub addresses: Vec<Address>,
    pub it_systems: Vec<ItSystem>,
    pub it_users: Vec<ItUser>,
}

impl MoData {
    /// The collections of a snapshot file's text (docs/snapshot-format.md), ordered; `Err` says
    /// what is wrong. Also for comparing [`TestHost::mo`](super::TestHost::mo) with an expected
    /// `mo.json`.
    pub fn from_snapshot_json(json: &str) -> Result<MoData, String> {
        let mut snapshot: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|err| format!("not a JSON object: {err}"))?;
        let format = snapshot.remove("format").unwrap_or_default();
        let version = snapshot.remove("version").unwrap_or_default();
        if format != "moport-snapshot" || version != 1 {
            return Err(format!(
                "`format` is {format} and `version` {version}, but a snapshot has \"moport-snapshot\" and 1"
            ));
        }
        // Where the snapshot came from: nothing a plugin sees.
        snapshot.remove("taken_at");
        snapshot.remove("source");
        let mut data: MoData = serde_json::from_value(serde_json::Value::Object(snapshot))
            .map_err(|err| format!("a collection does not hold the SDK's records: {err}"))?;
        data.order_all();
        Ok(data)
    }

    /// Every collection in the order `mo-read` hands records out in.
    pub(crate) fn order_all(&mut self) {
        order(&mut self.facets);
        order(&mut self.classes);
        order(&mut self.org_units);
        order(&mut self.employees);
        order(&mut self.engagements);
        order(&mut self.managers);
        order(&mut self.addresses);
        order(&mut self.it_systems);
        order(&mut self.it_users);
    }

    /// The records of `T`'s collection that `query` selects, on `today` when it gives no
    /// window, in the collection's order (which the test host keeps, see
    /// [`order_all`](MoData::order_all)).
    pub(crate) fn read<T: Record>(&self, query: &Query, today: &str) -> Result<Vec<T>, CallError> {
        let refuse = |filter: &str| Err(CallError::Invalid(format!("`{filter}` does not apply to {}", T::COLLECTION)));
        if !query.under_org_units.is_empty() && !T::TIED_TO_UNITS {
            return refuse("under_org_units");
        }
        if !query.facet_user_keys.is_empty() && T::COLLECTION != Class::COLLECTION {
            return refuse("facet_user_keys");
        }
        let window = window(query, today)?;
        let units = (!query.under_org_units.is_empty()).then(|| self.subtree(&query.under_org_units, &window));
        let rows = T::collection(self)
            .iter()
            .filter(|row| {
                (query.uuids.is_empty() || query.uuids.iter().any(|uuid| uuid == row.uuid()))
                    && overlaps(row.validity(), &window)
                    && units.as_ref().is_none_or(|units| row.org_unit().is_some_and(|unit| units.contains(unit)))
                    && (query.facet_user_keys.is_empty()
                        || row.facet_user_key().is_some_and(|key| query.facet_user_keys.iter().any(|k| k == key)))
            })
            .cloned()
            .collect();
        Ok(rows)
    }

    /// The units `roots` and every unit below them, following parent links valid in `window`.
    fn subtree<'a>(&'a self, roots: &'a [String], window: &Validity) -> HashSet<&'a str> {
        let mut found: HashSet<&str> = roots.iter().map(String::as_str).collect();
        let mut pending: Vec<&str> = found.iter().copied().collect();
        while let Some(parent) = pending.pop() {
            for child in &self.org_units {
                let linked = child.parent.as_deref() == Some(parent) && overlaps(&child.validity, window);
                if linked && found.insert(&child.uuid) {
                    pending.push(&child.uuid);
                }
            }
        }
        found
    }

    /// Works `changes` out in order on a copy, as one all-or-nothing batch: their outcomes and
    /// MO after them.
    pub(crate) fn apply(&self, changes: &[Change]) -> Result<(Vec<Outcome>, MoData), CallError> {
        let mut after = self.clone();
        let outcomes = changes.iter().map(|change| after.apply_one(change)).collect::<Result<_, _>>()?;
        Ok((outcomes, after))
    }

    fn apply_one(&mut self, change: &Change) -> Result<Outcome, CallError> {
        let (object, must_exist) = match change {
            Change::Create(object) => (object, false),
            Change::Update(object) => (object, true),
            Change::Terminate(termination) => return self.terminate(termination),
        };
        match object {
            Object::Facet(record) => self.put(record, must_exist),
            Object::Class(record) => self.put(record, must_exist),
            Object::ItSystem(record) => self.put(record, must_exist),
            Object::OrgUnit(record) => self.put(record, must_exist),
            Object::Employee(record) => self.put(record, must_exist),
            Object::Engagement(record) => self.put(record, must_exist),
            Object::Manager(record) => self.put(record, must_exist),
            Object::Address(record) => self.put(record, must_exist),
            Object::ItUser(record) => self.put(record, must_exist),
        }
    }

    /// Creates the object, or replaces its fields in the record's validity, keeping its history
    /// before and after.
    fn put<T: Record>(&mut self, record: &T, must_exist: bool) -> Result<Outcome, CallError> {
        let validity = record.validity();
        check_dates(T::KIND, record.uuid(), validity.from.as_deref(), validity.to.as_deref())?;
        let records = T::collection_mut(self);
        let earlier: Vec<T> = records.extract_if(.., |old| old.uuid() == record.uuid()).collect();
        if earlier.is_empty() && must_exist {
            return Err(CallError::NotFound(format!(
                "{} {} does not exist, so it cannot be updated; create it instead",
                T::KIND,
                record.uuid()
            )));
        }
        records.extend(earlier.iter().flat_map(|old| outside(old, validity)));
        records.push(record.clone());
        order(records);
        Ok(if earlier.is_empty() { Outcome::Created } else { Outcome::Updated })
    }

    fn terminate(&mut self, termination: &Termination) -> Result<Outcome, CallError> {
        let Termination { kind, uuid, to } = termination;
        match kind {
            ObjectKind::Facet => self.end::<Facet>(uuid, to),
            ObjectKind::Class => self.end::<Class>(uuid, to),
            ObjectKind::ItSystem => self.end::<ItSystem>(uuid, to),
            ObjectKind::OrgUnit => self.end::<OrgUnit>(uuid, to),
            // As the host refuses it: MO v30's employee_terminate ends the functions tied to the
            // person, not the person.
            ObjectKind::Employee => Err(CallError::Invalid(format!(
                "employee {uuid}: MO cannot end a person (its employee_terminate ends all the person's engagements, \
                 addresses, managers and IT users and keeps the person); terminate those instead"
            ))),
            ObjectKind::Engagement => self.end::<Engagement>(uuid, to),
            ObjectKind::Manager => self.end::<Manager>(uuid, to),
            ObjectKind::Address => self.end::<Address>(uuid, to),
            ObjectKind::ItUser => self.end::<ItUser>(uuid, to),
        }
    }

    /// Ends every validity of the object at `to` at the latest; validities starting on or
    /// after `to` go.
    fn end<T: Record>(&mut self, uuid: &str, to: &str) -> Result<Outcome, CallError> {
        check_dates(T::KIND, uuid, None, Some(to))?;
        let records = T::collection_mut(self);
        if !records.iter().any(|record| record.uuid() == uuid) {
            return Ok(Outcome::Missing);
        }
        records
            .retain(|record| record.uuid() != uuid || record.validity().from.as_deref().is_none_or(|from| from < to));
        for record in records.iter_mut().filter(|record| record.uuid() == uuid) {
            let validity = record.validity_mut();
            if validity.to.as_deref().is_none_or(|end| end > to) {
                validity.to = Some(to.to_owned());
            }
        }
        Ok(Outcome::Terminated)
    }
}

/// The query's window: the day `today` when it gives none.
fn window(query: &Query, today: &str) -> Result<Validity, CallError> {
    let Some(window) = &query.window else {
        let tomorrow = Date::parse(today).expect("TestHost::today takes only dates").next_day();
        return Ok(Validity { from: Some(today.to_owned()), to: Some(tomorrow.to_string()) });
    };
    for date in [&window.from, &window.to].into_iter().flatten() {
        if Date::parse(date).is_none() {
            return Err(CallError::Invalid(format!("query window date `{date}` is not a date like 2026-01-31")));
        }
    }
    if let (Some(from), Some(to)) = (&window.from, &window.to)
        && from >= to
    {
        return Err(CallError::Invalid(format!("query window from {from} to {to} is empty: `to` is exclusive")));
    }
    Ok(window.clone())
}

/// Whether two validities share a day; `to` is exclusive, `None` open-ended, and dates in
/// `YYYY-MM-DD` order as text.
fn overlaps(a: &Validity, b: &Validity) -> bool {
    let starts_before_end = |v: &Validity, w: &Validity| match (&v.from, &w.to) {
        (Some(from), Some(to)) => from < to,
        _ => true,
    };
    starts_before_end(a, b) && starts_before_end(b, a)
}

/// The parts of `record` outside `validity`, which an update of the object keeps.
fn outside<T: Record>(record: &T, validity: &Validity) -> Vec<T> {
    let old = record.validity();
    let mut parts = Vec::new();
    if let Some(start) = &validity.from
        && old.from.as_ref().is_none_or(|from| from < start)
    {
        let mut before = record.clone();
        before.validity_mut().to = Some(old.to.as_ref().map_or(start, |to| to.min(start)).clone());
        parts.push(before);
    }
    if let Some(end) = &validity.to
        && old.to.as_ref().is_none_or(|to| to > end)
    {
        let mut after = record.clone();
        after.validity_mut().from = Some(old.from.as_ref().map_or(end, |from| from.max(end)).clone());
        parts.push(after);
    }
    parts
}

/// Refuses what the host refuses: dates other than `YYYY-MM-DD`, and empty validities.
fn check_dates(kind: &str, uuid: &str, from: Option<&str>, to: Option<&str>) -> Result<(), CallError> {
    if let Some(date) = [from, to].into_iter().flatten().find(|date| Date::parse(date).is_none()) {
        return Err(CallError::Invalid(format!("{kind} {uuid}: `{date}` is not a date like 2026-01-31")));
    }
    match (from, to) {
        (Some(from), Some(to)) if from >= to => Err(CallError::Invalid(format!(
            "{kind} {uuid}: the validity from {from} to {to} is empty: `to` is exclusive"
        ))),
        _ => Ok(()),
    }
}

/// The order `mo-read` hands records out in: by uuid, then by start.
fn order<T: Record>(records: &mut [T]) {
    records.sort_by(|a, b| (a.uuid(), &a.validity().from).cmp(&(b.uuid(), &b.validity().from)));
}

/// A record of one of MO's collections, as far as reading and writing need to know it.
pub(crate) trait Record: Clone {
    /// The collection's name in messages.
    const COLLECTION: &'static str;
    /// One object of the collection, in messages ("org unit").
    const KIND: &'static str;
    /// Whether records belong to org units, so `under_org_units` applies.
    const TIED_TO_UNITS: bool;

    fn collection(data: &MoData) -> &Vec<Self>;
    fn collection_mut(data: &mut MoData) -> &mut Vec<Self>;
    fn uuid(&self) -> &str;
    fn validity(&self) -> &Validity;
    fn validity_mut(&mut self) -> &mut Validity;
    /// The unit the record belongs to; an org unit belongs to itself.
    fn org_unit(&self) -> Option<&str>;
    /// Classes: their facet's user key.
    fn facet_user_key(&self) -> Option<&str>;
}

macro_rules! record {
    ($ty:ident in $collection:ident, $kind:literal, tied_to_units: $tied:literal, org_unit: $unit:expr, facet: $facet:expr) => {
        impl Record for $ty {
            const COLLECTION: &'static str = stringify!($collection);
            const KIND: &'static str = $kind;
            const TIED_TO_UNITS: bool = $tied;

            fn collection(data: &MoData) -> &Vec<Self> {
                &data.$collection
            }
            fn collection_mut(data: &mut MoData) -> &mut Vec<Self> {
                &mut data.$collection
            }
            fn uuid(&self) -> &str {
                &self.uuid
            }
            fn validity(&self) -> &Validity {
                &self.validity
            }
            fn validity_mut(&mut self) -> &mut Validity {
                &mut self.validity
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
    };
}

record!(Facet in facets, "facet", tied_to_units: false, org_unit: |_| None, facet: |_| None);
record!(Class in classes, "class", tied_to_units: false, org_unit: |_| None, facet: |c| Some(&c.facet_user_key));
record!(ItSystem in it_systems, "IT system", tied_to_units: false, org_unit: |_| None, facet: |_| None);
record!(OrgUnit in org_units, "org unit", tied_to_units: true, org_unit: |u| Some(&u.uuid), facet: |_| None);
record!(Employee in employees, "employee", tied_to_units: false, org_unit: |_| None, facet: |_| None);
record!(Engagement in engagements, "engagement", tied_to_units: true, org_unit: |e| Some(&e.org_unit), facet: |_| None);
record!(Manager in managers, "manager", tied_to_units: true, org_unit: |m| Some(&m.org_unit), facet: |_| None);
record!(Address in addresses, "address", tied_to_units: true, org_unit: |a| a.org_unit.as_deref(), facet: |_| None);
record!(ItUser in it_users, "IT user", tied_to_units: false, org_unit: |_| None, facet: |_| None);
