//! `mo-write` changes worked out against the validities of MO objects, as MO v30 applies them:
//! an update replaces the fields in `[from, to)` and keeps the history around it, a termination
//! ends every validity at `to`. Every holder of MO in memory uses this: a snapshot applies it to
//! its file, the GraphQL backend to the objects it read from MO to learn what to send, the SDK's
//! test host to its collections.

use crate::collections::{Collections, Holds};
use crate::record::{Record, Writable};
use moport_types::mo::{
    Address, Change, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, Object, ObjectKind, OrgUnit,
    Outcome, Termination,
};
use moport_types::{CallError, Validity};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;

/// A kind of object as messages name it ("org unit").
pub fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Facet => Facet::KIND,
        ObjectKind::Class => Class::KIND,
        ObjectKind::ItSystem => ItSystem::KIND,
        ObjectKind::OrgUnit => OrgUnit::KIND,
        ObjectKind::Employee => Employee::KIND,
        ObjectKind::Engagement => Engagement::KIND,
        ObjectKind::Manager => Manager::KIND,
        ObjectKind::Address => Address::KIND,
        ObjectKind::ItUser => ItUser::KIND,
    }
}

/// The kind and uuid of the object a create or update names.
fn identify(object: &Object) -> (ObjectKind, &str) {
    match object {
        Object::Facet(r) => (ObjectKind::Facet, &r.uuid),
        Object::Class(r) => (ObjectKind::Class, &r.uuid),
        Object::ItSystem(r) => (ObjectKind::ItSystem, &r.uuid),
        Object::OrgUnit(r) => (ObjectKind::OrgUnit, &r.uuid),
        Object::Employee(r) => (ObjectKind::Employee, &r.uuid),
        Object::Engagement(r) => (ObjectKind::Engagement, &r.uuid),
        Object::Manager(r) => (ObjectKind::Manager, &r.uuid),
        Object::Address(r) => (ObjectKind::Address, &r.uuid),
        Object::ItUser(r) => (ObjectKind::ItUser, &r.uuid),
    }
}

/// One change to the validities of one object.
pub enum Step<T> {
    Create(T),
    Update(T),
    Terminate { uuid: String, to: String },
}

/// Applies each change in order to the collections of `mo`; the outcomes say what each did.
/// Stops at the first change that cannot be applied, naming it by its place in the batch.
/// The collections come back in no particular order.
pub fn apply_all<C: Collections>(mo: &mut C, changes: &[Change]) -> Result<Vec<Outcome>, CallError> {
    let mut objects = Objects::take(mo, changes);
    let outcomes = objects.apply_all(changes);
    objects.put_back(mo);
    outcomes
}

/// As [`apply_all`], but judged by the batch's net effect: a change to an object that ends the
/// batch as it began (a later change undid it, as when an importer replays files it imported
/// before) is `unchanged`, so nothing needs to be sent for it.
pub fn apply_net<C: Collections>(mo: &mut C, changes: &[Change]) -> Result<Vec<Outcome>, CallError> {
    let mut objects = Objects::take(mo, changes);
    let before = objects.clone();
    let mut outcomes = match objects.apply_all(changes) {
        Ok(outcomes) => outcomes,
        Err(err) => {
            objects.put_back(mo);
            return Err(err);
        }
    };
    let mut settled: HashMap<(&str, &str), bool> = HashMap::new();
    for (change, outcome) in changes.iter().zip(outcomes.iter_mut()) {
        if matches!(outcome, Outcome::Unchanged | Outcome::Missing) {
            continue;
        }
        let (kind, uuid) = named(change);
        let unmoved = *settled
            .entry((kind_name(kind), uuid))
            .or_insert_with(|| before.history(kind, uuid) == objects.history(kind, uuid));
        if unmoved {
            *outcome = Outcome::Unchanged;
        }
    }
    objects.put_back(mo);
    Ok(outcomes)
}

/// Why a termination of a person is refused: MO v30's `employee_terminate` ends the functions
/// tied to the person (`mora/graphapi/employee.py`), not the person, so it would end more than
/// the batch says and leave what it says undone.
pub fn cannot_end_a_person(uuid: &str) -> String {
    format!(
        "employee {uuid}: MO cannot end a person (its employee_terminate ends all the person's engagements, \
         addresses, managers and IT users and keeps the person); terminate those instead"
    )
}

/// The kind and uuid of the object a change names.
pub fn named(change: &Change) -> (ObjectKind, &str) {
    match change {
        Change::Create(object) | Change::Update(object) => identify(object),
        Change::Terminate(termination) => (termination.kind, termination.uuid.as_str()),
    }
}

/// An object's validities as MO would show them: computed fields left out, with neighbours that
/// touch and agree joined (splitting and rejoining a period changes nothing).
fn history_of<T: Writable>(history: Option<&History<T>>) -> Vec<serde_json::Value> {
    let mut joined: Vec<(serde_json::Value, Validity)> = Vec::new();
    for row in history.into_iter().flat_map(History::rows) {
        let fields = fields_of(row, T::COMPUTED);
        match joined.last_mut() {
            Some((last, validity)) if *last == fields && validity.to == row.validity().from => {
                validity.to = row.validity().to.clone();
            }
            _ => joined.push((fields, row.validity().clone())),
        }
    }
    joined.into_iter().map(|(fields, validity)| serde_json::json!([fields, validity.from, validity.to])).collect()
}

macro_rules! objects {
    ($($variant:ident => $field:ident: $ty:ty),* $(,)?) => {
        /// The records of the objects a batch names, taken out of their collections and
        /// grouped by object, so each change touches one object's few records rather than
        /// scanning a collection (a large import names tens of thousands of objects).
        #[derive(Clone, Default)]
        struct Objects {
            $($field: HashMap<String, History<$ty>>,)*
        }

        impl Objects {
            fn take<C: Collections>(mo: &mut C, changes: &[Change]) -> Objects {
                let mut named_uuids: HashMap<&'static str, HashSet<&str>> = HashMap::new();
                for change in changes {
                    let (kind, uuid) = named(change);
                    named_uuids.entry(kind_name(kind)).or_default().insert(uuid);
                }
                let mut objects = Objects::default();
                $(
                    if let Some(uuids) = named_uuids.get(<$ty as Record>::KIND) {
                        let rows = Holds::<$ty>::rows_mut(mo);
                        let (mine, rest): (Vec<$ty>, Vec<$ty>) =
                            std::mem::take(rows).into_iter().partition(|row| uuids.contains(row.uuid()));
                        *rows = rest;
                        let mut grouped: HashMap<String, Vec<$ty>> = HashMap::new();
                        for row in mine {
                            grouped.entry(row.uuid().to_owned()).or_default().push(row);
                        }
                        objects.$field =
                            grouped.into_iter().map(|(uuid, rows)| (uuid, History::from_rows(rows))).collect();
                    }
                )*
                objects
            }

            fn put_back<C: Collections>(self, mo: &mut C) {
                $(Holds::<$ty>::rows_mut(mo).extend(self.$field.into_values().flat_map(History::into_rows));)*
            }

            fn apply_all(&mut self, changes: &[Change]) -> Result<Vec<Outcome>, CallError> {
                changes
                    .iter()
                    .enumerate()
                    .map(|(index, change)| {
                        self.apply(change.clone()).map_err(|err| match err {
                            CallError::NotFound(m) => CallError::NotFound(format!("change {}: {m}", index + 1)),
                            CallError::Invalid(m) => CallError::Invalid(format!("change {}: {m}", index + 1)),
                            other => other,
                        })
                    })
                    .collect()
            }

            fn apply(&mut self, change: Change) -> Result<Outcome, CallError> {
                if let Change::Terminate(Termination { kind: ObjectKind::Employee, uuid, .. }) = &change {
                    return Err(CallError::Invalid(cannot_end_a_person(uuid)));
                }
                match change {
                    Change::Create(object) => match object {
                        $(Object::$variant(record) => {
                            self.$field.entry(record.uuid.clone()).or_default().step(Step::Create(record))
                        })*
                    },
                    Change::Update(object) => match object {
                        $(Object::$variant(record) => {
                            self.$field.entry(record.uuid.clone()).or_default().step(Step::Update(record))
                        })*
                    },
                    Change::Terminate(Termination { kind, uuid, to }) => match kind {
                        $(ObjectKind::$variant => {
                            self.$field.entry(uuid.clone()).or_default().step(Step::<$ty>::Terminate { uuid, to })
                        })*
                    },
                }
            }

            fn history(&self, kind: ObjectKind, uuid: &str) -> Vec<serde_json::Value> {
                match kind {
                    $(ObjectKind::$variant => history_of(self.$field.get(uuid)),)*
                }
            }
        }
    };
}
objects! {
    Facet => facets: Facet,
    Class => classes: Class,
    ItSystem => it_systems: ItSystem,
    OrgUnit => org_units: OrgUnit,
    Employee => employees: Employee,
    Engagement => engagements: Engagement,
    Manager => managers: Manager,
    Address => addresses: Address,
    ItUser => it_users: ItUser,
}

/// One object's validities by start. MO never lets two of an object's validities overlap, and
/// no step below makes them overlap, so the validity a date falls in is found by its start in
/// O(log n): a batch of many changes to one object stays O(n log n).
#[derive(Clone)]
pub struct History<T> {
    by_start: BTreeMap<Option<String>, T>,
}

impl<T> Default for History<T> {
    fn default() -> Self {
        History { by_start: BTreeMap::new() }
    }
}

impl<T: Writable> History<T> {
    /// The validities of one object, as read. Where two overlap (MO never has them, and a
    /// snapshot file with them is refused), the one that starts later wins.
    pub fn from_rows(mut rows: Vec<T>) -> History<T> {
        rows.sort_by(|a, b| start_cmp(&a.validity().from, &b.validity().from));
        let mut history = History::<T>::default();
        for row in rows {
            if let Some(mut last) = history.by_start.last_entry()
                && start_vs_end(&row.validity().from, &last.get().validity().to) == Ordering::Less
            {
                last.get_mut().validity_mut().to = row.validity().from.clone();
                if empty(last.get().validity()) {
                    last.remove();
                }
            }
            history.by_start.insert(row.validity().from.clone(), row);
        }
        history
    }

    /// The validities in date order.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.by_start.values()
    }

    pub fn into_rows(self) -> impl Iterator<Item = T> {
        self.by_start.into_values()
    }

    /// Applies one step to the object.
    pub fn step(&mut self, step: Step<T>) -> Result<Outcome, CallError> {
        let kind = T::KIND;
        // Dates are compared as text below, which is right only for ISO dates.
        let (uuid, dates) = match &step {
            Step::Create(record) | Step::Update(record) => {
                (record.uuid(), vec![record.validity().from.as_deref(), record.validity().to.as_deref()])
            }
            Step::Terminate { uuid, to } => (uuid.as_str(), vec![Some(to.as_str())]),
        };
        for date in dates.into_iter().flatten() {
            if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map(|d| d.to_string()).as_deref() != Ok(date) {
                return Err(CallError::Invalid(format!("{kind} {uuid}: `{date}` is not a date like 2026-01-31")));
            }
        }
        match step {
            Step::Create(record) | Step::Update(record) if empty(record.validity()) => {
                Err(CallError::Invalid(format!(
                    "{kind} {}: validity from {} to {} is empty (`to` is exclusive)",
                    record.uuid(),
                    show(&record.validity().from),
                    show(&record.validity().to)
                )))
            }
            Step::Create(record) if self.by_start.is_empty() => {
                self.by_start.insert(record.validity().from.clone(), record);
                Ok(Outcome::Created)
            }
            Step::Update(record) if self.by_start.is_empty() => Err(CallError::NotFound(format!(
                "{kind} {} does not exist, so it cannot be updated; create it instead",
                record.uuid()
            ))),
            Step::Create(record) | Step::Update(record) => Ok(self.replace(record)),
            Step::Terminate { to, .. } => Ok(self.terminate(to)),
        }
    }

    /// Puts `record` in its window, cutting the validities it overlaps; unchanged when one
    /// validity with the same fields already covers the window.
    fn replace(&mut self, record: T) -> Outcome {
        let (from, to) = (record.validity().from.clone(), record.validity().to.clone());
        if self.covers(&record) {
            return Outcome::Unchanged;
        }
        let below_to = match &to {
            Some(_) => Bound::Excluded(&to),
            None => Bound::Unbounded,
        };
        // Validities do not overlap, so their ends grow with their starts: walking back from
        // the last one starting before `to`, the overlapping ones end where one ends by `from`.
        let overlapping: Vec<Option<String>> = self
            .by_start
            .range::<Option<String>, _>((Bound::Unbounded, below_to))
            .rev()
            .take_while(|(_, row)| start_vs_end(&from, &row.validity().to) == Ordering::Less)
            .map(|(start, _)| start.clone())
            .collect();
        for start in overlapping {
            let row = self.by_start.remove(&start).expect("the key was just found");
            if to.is_some() && end_cmp(&row.validity().to, &to) == Ordering::Greater {
                let mut after = row.clone();
                after.validity_mut().from = to.clone();
                self.by_start.insert(to.clone(), after);
            }
            if start_cmp(&row.validity().from, &from) == Ordering::Less {
                let mut before = row;
                before.validity_mut().to = from.clone();
                self.by_start.insert(start, before);
            }
        }
        self.by_start.insert(from, record);
        Outcome::Updated
    }

    /// Whether the validity `record`'s window starts in covers the window with the same fields.
    fn covers(&self, record: &T) -> bool {
        let (from, to) = (&record.validity().from, &record.validity().to);
        self.by_start.range::<Option<String>, _>((Bound::Unbounded, Bound::Included(from))).next_back().is_some_and(
            |(_, row)| {
                end_cmp(&row.validity().to, to) != Ordering::Less
                    && fields_of(row, T::COMPUTED) == fields_of(record, T::COMPUTED)
            },
        )
    }

    /// Ends every validity at `to`.
    fn terminate(&mut self, to: String) -> Outcome {
        let to = Some(to);
        let Some(last) = self.by_start.values().next_back() else { return Outcome::Missing };
        if end_cmp(&last.validity().to, &to) != Ordering::Greater {
            return Outcome::Unchanged;
        }
        drop(self.by_start.split_off(&to));
        if let Some(mut last) = self.by_start.last_entry()
            && end_cmp(&last.get().validity().to, &to) == Ordering::Greater
        {
            last.get_mut().validity_mut().to = to;
        }
        Outcome::Terminated
    }
}

/// Everything but the validity and the computed fields, to tell whether a write changes anything.
pub fn fields_of<T: Serialize>(record: &T, computed: &[&str]) -> serde_json::Value {
    let mut value = serde_json::to_value(record).expect("records always serialise");
    if let Some(fields) = value.as_object_mut() {
        fields.remove("validity");
        for field in computed {
            fields.remove(*field);
        }
    }
    value
}

/// Starts compare with `None` as the beginning of time.
pub fn start_cmp(a: &Option<String>, b: &Option<String>) -> Ordering {
    a.cmp(b)
}

/// Ends compare with `None` as the end of time.
pub fn end_cmp(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => a.cmp(b),
    }
}

/// A start against an end: `None` is minus infinity on the left, plus infinity on the right.
fn start_vs_end(start: &Option<String>, end: &Option<String>) -> Ordering {
    match (start, end) {
        (_, None) | (None, _) => Ordering::Less,
        (Some(start), Some(end)) => start.cmp(end),
    }
}

fn empty(validity: &Validity) -> bool {
    start_vs_end(&validity.from, &validity.to) != Ordering::Less
}

fn show(date: &Option<String>) -> &str {
    date.as_deref().unwrap_or("(open)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, from: Option<&str>, to: Option<&str>) -> OrgUnit {
        OrgUnit {
            uuid: "u".into(),
            user_key: "U".into(),
            name: name.into(),
            parent: None,
            unit_type: None,
            unit_level: None,
            hierarchy: None,
            validity: Validity { from: from.map(Into::into), to: to.map(Into::into) },
        }
    }

    fn periods<'a>(rows: impl IntoIterator<Item = &'a OrgUnit>) -> Vec<(String, Option<String>, Option<String>)> {
        let mut periods: Vec<_> =
            rows.into_iter().map(|r| (r.name.clone(), r.validity.from.clone(), r.validity.to.clone())).collect();
        periods.sort_by(|a, b| a.1.cmp(&b.1));
        periods
    }

    /// MO's collections and nothing else.
    #[derive(Clone, Default)]
    struct Mo {
        facets: Vec<Facet>,
        classes: Vec<Class>,
        org_units: Vec<OrgUnit>,
        employees: Vec<Employee>,
        engagements: Vec<Engagement>,
        managers: Vec<Manager>,
        addresses: Vec<Address>,
        it_systems: Vec<ItSystem>,
        it_users: Vec<ItUser>,
    }
    crate::holds_collections!(Mo);

    fn empty_file() -> Mo {
        Mo::default()
    }

    fn p(name: &str, from: Option<&str>, to: Option<&str>) -> (String, Option<String>, Option<String>) {
        (name.into(), from.map(Into::into), to.map(Into::into))
    }

    #[test]
    fn validities_read_overlapping_give_way_to_the_later_start() {
        let history = History::from_rows(vec![
            unit("C", Some("2022-01-01"), None),
            unit("A", Some("2020-01-01"), Some("2023-01-01")),
            unit("B", Some("2020-01-01"), Some("2021-01-01")),
        ]);
        let kept = periods(history.rows());
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert_eq!(kept[1], p("C", Some("2022-01-01"), None));
        assert_eq!(kept[0].1.as_deref(), Some("2020-01-01"));
    }

    #[test]
    fn many_changes_to_one_object_keep_every_validity_in_order() {
        let mut history = History::default();
        let day =
            |n: u32| (chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(n.into())).to_string();
        history.step(Step::Create(unit("0", Some(&day(0)), None))).unwrap();
        // Open-ended renames one day apart, then every other day put back as it was.
        for n in 1..3_000 {
            history.step(Step::Update(unit(&n.to_string(), Some(&day(n)), None))).unwrap();
        }
        for n in (1..2_999).step_by(2) {
            history.step(Step::Update(unit(&(n - 1).to_string(), Some(&day(n)), Some(&day(n + 1))))).unwrap();
        }
        let kept = periods(history.rows());
        assert_eq!(kept.len(), 3_000);
        for (n, (name, from, to)) in kept.iter().enumerate() {
            let n = n as u32;
            let expected = if n % 2 == 1 && n < 2_999 { n - 1 } else { n };
            assert_eq!((name.as_str(), from.as_deref()), (expected.to_string().as_str(), Some(day(n).as_str())));
            assert_eq!(to.as_deref(), (n < 2_999).then(|| day(n + 1)).as_deref());
        }
        assert_eq!(history.step(Step::Terminate { uuid: "u".into(), to: day(10) }).unwrap(), Outcome::Terminated);
        assert_eq!(history.rows().count(), 10);
        assert_eq!(history.rows().next_back().unwrap().validity.to.as_deref(), Some(day(10).as_str()));
    }

    #[test]
    fn create_then_the_same_create_again_changes_nothing() {
        let mut rows = History::default();
        assert_eq!(rows.step(Step::Create(unit("Skole", Some("2020-01-01"), None))).unwrap(), Outcome::Created);
        assert_eq!(rows.step(Step::Create(unit("Skole", Some("2020-01-01"), None))).unwrap(), Outcome::Unchanged);
        // A later window inside an unchanged validity is covered too.
        assert_eq!(rows.step(Step::Update(unit("Skole", Some("2024-01-01"), None))).unwrap(), Outcome::Unchanged);
        assert_eq!(rows.rows().count(), 1);
    }

    #[test]
    fn an_update_keeps_the_history_around_its_window() {
        let mut rows = History::from_rows(vec![unit("Skole", Some("2020-01-01"), None)]);
        let outcome = rows.step(Step::Update(unit("Skolen", Some("2022-01-01"), Some("2023-01-01")))).unwrap();
        assert_eq!(outcome, Outcome::Updated);
        assert_eq!(
            periods(rows.rows()),
            [
                p("Skole", Some("2020-01-01"), Some("2022-01-01")),
                p("Skolen", Some("2022-01-01"), Some("2023-01-01")),
                p("Skole", Some("2023-01-01"), None)
            ]
        );
        // An open-ended update replaces everything from its start.
        rows.step(Step::Update(unit("Den nye skole", Some("2021-06-01"), None))).unwrap();
        assert_eq!(
            periods(rows.rows()),
            [p("Skole", Some("2020-01-01"), Some("2021-06-01")), p("Den nye skole", Some("2021-06-01"), None)]
        );
    }

    #[test]
    fn creating_an_existing_object_with_other_fields_updates_it() {
        let mut rows = History::from_rows(vec![unit("Skole", Some("2020-01-01"), None)]);
        assert_eq!(rows.step(Step::Create(unit("Skolen", Some("2020-01-01"), None))).unwrap(), Outcome::Updated);
        assert_eq!(periods(rows.rows()), [p("Skolen", Some("2020-01-01"), None)]);
    }

    #[test]
    fn a_batch_that_ends_an_object_as_it_began_is_unchanged_for_it() {
        let mut file = empty_file();
        file.org_units =
            vec![unit("Team A", Some("2021-01-01"), Some("2026-04-02")), unit("Team B", Some("2026-04-02"), None)];
        // A replay: the first file sets the old name throughout, the second renames again.
        let replay = [
            Change::Create(Object::OrgUnit(unit("Team A", Some("2021-01-01"), None))),
            Change::Update(Object::OrgUnit(unit("Team B", Some("2026-04-02"), None))),
        ];
        assert_eq!(apply_all(&mut file.clone(), &replay).unwrap(), [Outcome::Updated, Outcome::Updated]);
        assert_eq!(apply_net(&mut file.clone(), &replay).unwrap(), [Outcome::Unchanged, Outcome::Unchanged]);
        let rename = [replay[0].clone(), Change::Update(Object::OrgUnit(unit("Team C", Some("2026-04-02"), None)))];
        assert_eq!(apply_net(&mut file, &rename).unwrap(), [Outcome::Updated, Outcome::Updated]);
        assert_eq!(
            periods(&file.org_units),
            [p("Team A", Some("2021-01-01"), Some("2026-04-02")), p("Team C", Some("2026-04-02"), None)]
        );
    }

    #[test]
    fn a_person_is_not_terminated_as_mo_cannot_end_one() {
        let mut file = empty_file();
        let end =
            Change::Terminate(Termination { kind: ObjectKind::Employee, uuid: "p".into(), to: "2026-01-01".into() });
        let err = apply_all(&mut file, &[end]).unwrap_err();
        assert!(
            matches!(&err, CallError::Invalid(m) if m.starts_with("change 1: employee p: MO cannot end a person")),
            "{err:?}"
        );
    }

    #[test]
    fn terminate_ends_every_validity_and_is_idempotent() {
        let mut rows = History::from_rows(vec![
            unit("Skole", Some("2020-01-01"), Some("2022-01-01")),
            unit("Skolen", Some("2022-01-01"), None),
        ]);
        let end = |to: &str| Step::Terminate { uuid: "u".into(), to: to.into() };
        assert_eq!(rows.step(end("2021-01-01")).unwrap(), Outcome::Terminated);
        assert_eq!(periods(rows.rows()), [p("Skole", Some("2020-01-01"), Some("2021-01-01"))]);
        assert_eq!(rows.step(end("2021-01-01")).unwrap(), Outcome::Unchanged);
        assert_eq!(rows.step(end("2025-01-01")).unwrap(), Outcome::Unchanged);
        assert_eq!(History::<OrgUnit>::default().step(end("2025-01-01")).unwrap(), Outcome::Missing);
    }

    #[test]
    fn fields_mo_computes_are_not_a_change() {
        let address = Address {
            uuid: "a".into(),
            value: "x@y.dk".into(),
            name: "x@y.dk".into(),
            address_type: "t".into(),
            scope: "EMAIL".into(),
            visibility: None,
            person: Some("p".into()),
            org_unit: None,
            engagement: None,
            dar: None,
            validity: Validity { from: Some("2020-01-01".into()), to: None },
        };
        let mut addresses = History::from_rows(vec![address.clone()]);
        let as_a_plugin_writes_it = Address { scope: String::new(), name: String::new(), ..address };
        assert_eq!(addresses.step(Step::Create(as_a_plugin_writes_it)).unwrap(), Outcome::Unchanged);
    }

    #[test]
    fn refusals_name_the_object() {
        let err = History::default().step(Step::Update(unit("Skole", Some("2020-01-01"), None))).unwrap_err();
        assert!(matches!(&err, CallError::NotFound(m) if m.contains("org unit u does not exist")), "{err:?}");
        let err =
            History::default().step(Step::Create(unit("Skole", Some("2020-01-01"), Some("2020-01-01")))).unwrap_err();
        assert!(matches!(&err, CallError::Invalid(m) if m.contains("is empty")), "{err:?}");
        let err = History::<OrgUnit>::default().step(Step::Terminate { uuid: "u".into(), to: "2026-2-1".into() });
        assert!(matches!(&err, Err(CallError::Invalid(m)) if m.contains("`2026-2-1` is not a date")), "{err:?}");
    }
}
