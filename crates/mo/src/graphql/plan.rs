//! From what MO holds to what a batch wants: the v30 mutations that get there, as MO 66 really
//! applies them (docs/mo-write.md has the findings this follows, each seen on a real MO).
//!
//! Per object, both histories are cut into slices at every validity boundary of either. A slice
//! whose desired fields differ from MO's becomes part of an update whose window is exactly that
//! run of slices, with every field the record models (MO keeps, spreads or resets the fields an
//! update leaves out). A slice MO holds and the batch does not becomes a termination. Where MO
//! offers no update that gets there (clearing an org unit's type or level, an engagement's job
//! function or primary class, an address's visibility, a manager's level, any change of an org
//! unit's hierarchy, which MO keeps as one interval), the object is written anew: a create with
//! its uuid replaces its whole history, then an update per further validity.
//!
//! Objects are written parents first (facets, classes, IT systems, org units top-down, persons,
//! engagements, addresses, managers, IT users), as MO checks each mutation against its owners'
//! validity at the moment it runs; terminations come last, in the reverse order, as MO refuses to
//! end a unit whose children or roles are still active.

use crate::snapshot::SnapshotFile;
use moport_mo_rules::{Record, Writable, end_cmp, fields_of, start_cmp};
use moport_types::Validity;
use moport_types::mo::{Address, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit};
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// One aliased mutator call of a request.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// `org_unit_update`
    pub mutator: String,
    /// `OrganisationUnitUpdateInput`
    pub input_type: String,
    pub input: Value,
    /// The object, as errors name it: `org unit 5c3e… (user key 1100)`.
    pub object: String,
}

/// A record type and the v30 mutators that write it.
pub trait Mutable: Writable {
    /// The mutator prefix (`org_unit`) and the input type prefix (`OrganisationUnit`).
    const NAMES: (&'static str, &'static str);
    /// Where the kind comes in the order of writing.
    const RANK: u8;

    /// Every modelled field and the record's window, as a create (`create`) or update input.
    fn input(&self, create: bool) -> Value;

    /// Whether one slice cannot go from `mo` to `wanted` by an update.
    fn needs_rewrite(mo: &Self, wanted: &Self) -> bool {
        let _ = (mo, wanted);
        false
    }

    /// The object's parent of the same kind, written before it (org units, classes).
    fn parent(&self) -> Option<&str> {
        None
    }

    /// How errors name the object.
    fn describe(&self) -> String {
        format!("{} {}", Self::KIND, self.uuid())
    }
}

fn window(validity: &Validity) -> Value {
    json!({"from": validity.from, "to": validity.to})
}

/// Sets `key` in `input` unless `value` is `None`: MO reads a null as "keep" for most fields,
/// and crashes on some (`org_unit_type`).
fn set_some(input: &mut Value, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        input[key] = json!(value);
    }
}

/// An optional text: set, or cleared with `""` on update (null would keep the old value).
fn text_or_clear(value: &Option<String>, create: bool) -> Value {
    match (value, create) {
        (Some(text), _) => json!(text),
        (None, true) => Value::Null,
        (None, false) => json!(""),
    }
}

/// `from` losing a value that an update cannot remove.
fn lost(mo: &Option<String>, wanted: &Option<String>) -> bool {
    mo.is_some() && wanted.is_none()
}

impl Mutable for Facet {
    const NAMES: (&'static str, &'static str) = ("facet", "Facet");
    const RANK: u8 = 0;
    fn input(&self, _create: bool) -> Value {
        json!({"uuid": self.uuid, "user_key": self.user_key, "published": "Publiceret", "validity": window(&self.validity)})
    }
    fn describe(&self) -> String {
        format!("facet {} (user key {})", self.uuid, self.user_key)
    }
}

impl Mutable for Class {
    const NAMES: (&'static str, &'static str) = ("class", "Class");
    const RANK: u8 = 1;
    /// MO writes a class's whole state in the window: a parent left out is cleared.
    fn input(&self, create: bool) -> Value {
        json!({"uuid": self.uuid, "user_key": self.user_key, "name": self.name, "facet_uuid": self.facet,
               "scope": text_or_clear(&self.scope, create), "parent_uuid": self.parent, "published": "Publiceret",
               "validity": window(&self.validity)})
    }
    fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }
    fn describe(&self) -> String {
        format!("class {} (user key {})", self.uuid, self.user_key)
    }
}

impl Mutable for ItSystem {
    const NAMES: (&'static str, &'static str) = ("itsystem", "ITSystem");
    const RANK: u8 = 2;
    fn input(&self, _create: bool) -> Value {
        json!({"uuid": self.uuid, "user_key": self.user_key, "name": self.name, "validity": window(&self.validity)})
    }
    fn describe(&self) -> String {
        format!("IT system {} (user key {})", self.uuid, self.user_key)
    }
}

impl Mutable for OrgUnit {
    const NAMES: (&'static str, &'static str) = ("org_unit", "OrganisationUnit");
    const RANK: u8 = 3;
    /// Name and user key always: an update without them copies the last overlapping validity's
    /// over the whole window. `parent: null` makes a root unit. The hierarchy only on create: an
    /// update that sets it clears it in every other validity.
    fn input(&self, create: bool) -> Value {
        let mut input = json!({"uuid": self.uuid, "user_key": self.user_key, "name": self.name,
                               "parent": self.parent, "validity": window(&self.validity)});
        set_some(&mut input, "org_unit_type", &self.unit_type);
        set_some(&mut input, "org_unit_level", &self.unit_level);
        if create {
            set_some(&mut input, "org_unit_hierarchy", &self.hierarchy);
        }
        input
    }
    fn needs_rewrite(mo: &OrgUnit, wanted: &OrgUnit) -> bool {
        lost(&mo.unit_type, &wanted.unit_type)
            || lost(&mo.unit_level, &wanted.unit_level)
            || mo.hierarchy != wanted.hierarchy
    }
    fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }
    fn describe(&self) -> String {
        format!("org unit {} (user key {})", self.uuid, self.user_key)
    }
}

impl Mutable for Employee {
    const NAMES: (&'static str, &'static str) = ("employee", "Employee");
    const RANK: u8 = 4;
    /// A create takes no window: MO starts the person on the CPR birth date.
    fn input(&self, create: bool) -> Value {
        let mut input = json!({"uuid": self.uuid, "given_name": self.given_name, "surname": self.surname,
                               "nickname_given_name": text_or_clear(&self.nickname_given_name, create),
                               "nickname_surname": text_or_clear(&self.nickname_surname, create)});
        set_some(&mut input, "cpr_number", &self.cpr_number);
        if !create {
            input["validity"] = window(&self.validity);
        }
        input
    }
}

impl Mutable for Engagement {
    const NAMES: (&'static str, &'static str) = ("engagement", "Engagement");
    const RANK: u8 = 5;
    fn input(&self, create: bool) -> Value {
        let mut input = json!({"uuid": self.uuid, "user_key": self.user_key, "person": self.person,
                               "org_unit": self.org_unit, "validity": window(&self.validity)});
        set_some(&mut input, "job_function", &self.job_function);
        set_some(&mut input, "engagement_type", &self.engagement_type);
        set_some(&mut input, "primary", &self.primary);
        for (n, extension) in self.extensions.iter().enumerate() {
            input[format!("extension_{}", n + 1)] = text_or_clear(extension, create);
        }
        input
    }
    fn needs_rewrite(mo: &Engagement, wanted: &Engagement) -> bool {
        lost(&mo.job_function, &wanted.job_function)
            || lost(&mo.primary, &wanted.primary)
            || lost(&mo.engagement_type, &wanted.engagement_type)
    }
    fn describe(&self) -> String {
        format!("engagement {} (user key {})", self.uuid, self.user_key)
    }
}

impl Mutable for Address {
    const NAMES: (&'static str, &'static str) = ("address", "Address");
    const RANK: u8 = 6;
    /// Value, type and visibility together: MO ignores a visibility sent without the other two.
    fn input(&self, _create: bool) -> Value {
        let mut input = json!({"uuid": self.uuid, "value": self.value, "address_type": self.address_type,
                               "validity": window(&self.validity)});
        set_some(&mut input, "visibility", &self.visibility);
        set_some(&mut input, "person", &self.person);
        set_some(&mut input, "org_unit", &self.org_unit);
        set_some(&mut input, "engagement", &self.engagement);
        input
    }
    fn needs_rewrite(mo: &Address, wanted: &Address) -> bool {
        lost(&mo.visibility, &wanted.visibility) || lost(&mo.engagement, &wanted.engagement)
    }
}

impl Mutable for Manager {
    const NAMES: (&'static str, &'static str) = ("manager", "Manager");
    const RANK: u8 = 7;
    /// Every field: MO vacates a manager whose update leaves out the person, and fills in the
    /// first level and every responsibility it ever had for those left out.
    fn input(&self, _create: bool) -> Value {
        let mut input = json!({"uuid": self.uuid, "person": self.person, "org_unit": self.org_unit,
                               "responsibility": self.responsibilities, "validity": window(&self.validity)});
        set_some(&mut input, "manager_type", &self.manager_type);
        set_some(&mut input, "manager_level", &self.manager_level);
        input
    }
    fn needs_rewrite(mo: &Manager, wanted: &Manager) -> bool {
        lost(&mo.manager_level, &wanted.manager_level)
            || lost(&mo.manager_type, &wanted.manager_type)
            || (wanted.responsibilities.is_empty() && !mo.responsibilities.is_empty())
    }
}

impl Mutable for ItUser {
    const NAMES: (&'static str, &'static str) = ("ituser", "ITUser");
    const RANK: u8 = 8;
    /// An engagement is cleared with `engagements: []` (null keeps it).
    fn input(&self, create: bool) -> Value {
        let mut input = json!({"uuid": self.uuid, "user_key": self.user_key, "itsystem": self.it_system,
                               "validity": window(&self.validity)});
        set_some(&mut input, "person", &self.person);
        match (&self.engagement, create) {
            (Some(engagement), _) => input["engagement"] = json!(engagement),
            (None, false) => input["engagements"] = json!([]),
            (None, true) => {}
        }
        input
    }
    fn describe(&self) -> String {
        format!("IT user {} (user key {})", self.uuid, self.user_key)
    }
}

/// The mutations of one object, and where they go in the order of writing.
struct Planned {
    rank: u8,
    depth: usize,
    uuid: String,
    build: Vec<Mutation>,
    shrink: Vec<Mutation>,
}

/// The mutations that take MO from `mo` to `wanted` (both hold the objects a batch names), in
/// the order they must be sent.
pub fn mutations(mo: &SnapshotFile, wanted: &SnapshotFile) -> Vec<Mutation> {
    let mut planned = Vec::new();
    plan_kind(&mo.facets, &wanted.facets, &mut planned);
    plan_kind(&mo.classes, &wanted.classes, &mut planned);
    plan_kind(&mo.it_systems, &wanted.it_systems, &mut planned);
    plan_kind(&mo.org_units, &wanted.org_units, &mut planned);
    plan_kind(&mo.employees, &wanted.employees, &mut planned);
    plan_kind(&mo.engagements, &wanted.engagements, &mut planned);
    plan_kind(&mo.addresses, &wanted.addresses, &mut planned);
    plan_kind(&mo.managers, &wanted.managers, &mut planned);
    plan_kind(&mo.it_users, &wanted.it_users, &mut planned);
    planned.sort_by(|a, b| (a.rank, a.depth, &a.uuid).cmp(&(b.rank, b.depth, &b.uuid)));
    let mut ordered: Vec<Mutation> = planned.iter_mut().flat_map(|p| std::mem::take(&mut p.build)).collect();
    ordered.extend(planned.iter_mut().rev().flat_map(|p| std::mem::take(&mut p.shrink)));
    ordered
}

fn plan_kind<T: Mutable>(mo: &[T], wanted: &[T], planned: &mut Vec<Planned>) {
    let (mo, wanted) = (by_object(mo), by_object(wanted));
    let depth = depths(wanted.values().chain(mo.values()).flatten().copied());
    let uuids: std::collections::BTreeSet<&str> = mo.keys().chain(wanted.keys()).copied().collect();
    for uuid in uuids {
        let before = mo.get(uuid).map(Vec::as_slice).unwrap_or_default();
        let (build, shrink) = match wanted.get(uuid) {
            Some(rows) => object(before, rows),
            None => (Vec::new(), ended_before_start(before)),
        };
        if !build.is_empty() || !shrink.is_empty() {
            planned.push(Planned {
                rank: T::RANK,
                depth: depth.get(uuid).copied().unwrap_or(0),
                uuid: uuid.to_owned(),
                build,
                shrink,
            });
        }
    }
}

fn by_object<T: Record>(rows: &[T]) -> BTreeMap<&str, Vec<&T>> {
    let mut objects: BTreeMap<&str, Vec<&T>> = BTreeMap::new();
    for row in rows {
        objects.entry(row.uuid()).or_default().push(row);
    }
    objects
}

/// How far below a root each object is, by the parents its validities name.
fn depths<'a, T: Mutable + 'a>(rows: impl Iterator<Item = &'a T>) -> HashMap<&'a str, usize> {
    let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
    for row in rows {
        let entry = parents.entry(row.uuid()).or_default();
        entry.extend(row.parent().filter(|parent| *parent != row.uuid()));
    }
    let mut depth: HashMap<&str, usize> = HashMap::new();
    for uuid in parents.keys() {
        depth_of(uuid, &parents, &mut depth, 0);
    }
    depth
}

fn depth_of<'a>(
    uuid: &'a str,
    parents: &HashMap<&'a str, Vec<&'a str>>,
    depth: &mut HashMap<&'a str, usize>,
    guard: usize,
) -> usize {
    if let Some(known) = depth.get(uuid) {
        return *known;
    }
    // A cycle in the parents (MO refuses one) must not recurse for ever.
    if guard > parents.len() {
        return 0;
    }
    let mine = parents
        .get(uuid)
        .into_iter()
        .flatten()
        .map(|parent| 1 + depth_of(parent, parents, depth, guard + 1))
        .max()
        .unwrap_or(0);
    depth.insert(uuid, mine);
    mine
}

/// One span of time in which neither history changes, and the validity of each that covers it
/// (an index into its history).
struct Slice {
    from: Option<String>,
    to: Option<String>,
    mo: Option<usize>,
    wanted: Option<usize>,
}

fn covers(validity: &Validity, from: &Option<String>, to: &Option<String>) -> bool {
    start_cmp(&validity.from, from) != Ordering::Greater && end_cmp(&validity.to, to) != Ordering::Less
}

/// Both histories cut at every boundary of either. Each is in date order without overlaps (as
/// MO keeps an object's validities), so one pass finds the validity of each slice.
fn slices<T: Record>(mo: &[&T], wanted: &[&T]) -> Vec<Slice> {
    let mut points: Vec<&str> = mo
        .iter()
        .chain(wanted)
        .flat_map(|row| [row.validity().from.as_deref(), row.validity().to.as_deref()])
        .flatten()
        .collect();
    points.sort_unstable();
    points.dedup();
    let starts = std::iter::once(None).chain(points.iter().map(|p| Some((*p).to_owned())));
    let ends = points.iter().map(|p| Some((*p).to_owned())).chain(std::iter::once(None));
    let (mut mo_at, mut wanted_at) = (0, 0);
    starts
        .zip(ends)
        .map(|(from, to)| {
            let find = |rows: &[&T], at: &mut usize| {
                while rows.get(*at).is_some_and(|row| ends_by(&row.validity().to, &from)) {
                    *at += 1;
                }
                rows.get(*at).filter(|row| covers(row.validity(), &from, &to)).map(|_| *at)
            };
            Slice { mo: find(mo, &mut mo_at), wanted: find(wanted, &mut wanted_at), from, to }
        })
        .collect()
}

/// Whether a validity ending at `end` is over by `start`.
fn ends_by(end: &Option<String>, start: &Option<String>) -> bool {
    matches!((end, start), (Some(end), Some(start)) if end <= start)
}

fn call<T: Mutable>(verb: &str, record: &T, input: Value) -> Mutation {
    let (mutator, input_type) = T::NAMES;
    let capitalised = format!("{}{}", verb[..1].to_uppercase(), &verb[1..]);
    Mutation {
        mutator: format!("{mutator}_{verb}"),
        input_type: format!("{input_type}{capitalised}Input"),
        input,
        object: record.describe(),
    }
}

/// The record for one window of a wanted validity.
fn in_window<T: Mutable>(record: &T, from: &Option<String>, to: &Option<String>) -> T {
    let mut part = record.clone();
    *part.validity_mut() = Validity { from: from.clone(), to: to.clone() };
    part
}

/// One object's writes: those that build (creates, updates) and those that shrink (terminations).
fn object<T: Mutable>(mo: &[&T], wanted: &[&T]) -> (Vec<Mutation>, Vec<Mutation>) {
    let wanted = by_start(wanted);
    if mo.is_empty() {
        return written_anew(&wanted);
    }
    let mo = by_start(mo);
    let slices = slices(&mo, &wanted);
    let fields = |rows: &[&T]| rows.iter().map(|row| fields_of(*row, T::COMPUTED)).collect::<Vec<_>>();
    let (mo_fields, wanted_fields) = (fields(&mo), fields(&wanted));
    let same = |m: usize, w: usize| mo_fields[m] == wanted_fields[w];
    let cannot_update = slices.iter().any(|slice| match (slice.mo, slice.wanted) {
        (Some(m), Some(w)) => !same(m, w) && T::needs_rewrite(mo[m], wanted[w]),
        // MO cannot cut a history that starts at the beginning of time.
        (Some(_), None) => slice.from.is_none(),
        _ => false,
    });
    if cannot_update {
        tracing::info!(object = %wanted[0].describe(), "writing the object anew: MO cannot make this change by an update");
        return written_anew(&wanted);
    }
    let (mut build, mut shrink) = (Vec::new(), Vec::new());
    let mut index = 0;
    while index < slices.len() {
        let slice = &slices[index];
        let changed = match (slice.mo, slice.wanted) {
            (m, Some(w)) => m.is_none_or(|m| !same(m, w)),
            (Some(_), None) => true,
            (None, None) => false,
        };
        if !changed {
            index += 1;
            continue;
        }
        // The run of changed slices of the same wanted validity (or the same gap) is one write.
        let mut end = index;
        while end + 1 < slices.len() {
            let next = &slices[end + 1];
            let same_target = match (slice.wanted, next.wanted) {
                (Some(a), Some(b)) => a == b && next.mo.is_none_or(|m| !same(m, b)),
                (None, None) => next.mo.is_some(),
                _ => false,
            };
            if !same_target {
                break;
            }
            end += 1;
        }
        let (from, to) = (slice.from.clone(), slices[end].to.clone());
        match slice.wanted {
            Some(w) => {
                let wanted = wanted[w];
                tracing::debug!(
                    object = %wanted.describe(),
                    from = from.as_deref().unwrap_or("-"),
                    to = to.as_deref().unwrap_or("-"),
                    fields = %slice.mo.map_or_else(|| "the object is not valid there".to_owned(), |m| changed_fields(mo[m], wanted)),
                    "update"
                );
                build.push(call("update", wanted, in_window(wanted, &from, &to).input(false)));
            }
            None => {
                let record = mo[slice.mo.expect("a changed slice without a wanted validity has MO's")];
                let input = match &to {
                    None => json!({"uuid": record.uuid(), "to": from}),
                    Some(_) => json!({"uuid": record.uuid(), "from": from, "to": to}),
                };
                shrink.push(call("terminate", record, input));
            }
        }
        index = end + 1;
    }
    (build, shrink)
}

/// One object's validities in date order.
fn by_start<'a, T: Record>(rows: &[&'a T]) -> Vec<&'a T> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| start_cmp(&a.validity().from, &b.validity().from));
    rows
}

/// An object the batch ends before it began: MO drops every validity of an object terminated at
/// its start.
fn ended_before_start<T: Mutable>(mo: &[&T]) -> Vec<Mutation> {
    let start = mo.iter().map(|row| &row.validity().from).min_by(|a, b| start_cmp(a, b));
    match (mo.first(), start) {
        (Some(record), Some(Some(start))) => {
            vec![call("terminate", *record, json!({"uuid": record.uuid(), "to": start}))]
        }
        (Some(record), _) => {
            tracing::warn!(object = %record.describe(), "MO cannot end an object valid since the beginning of time; left as it is");
            Vec::new()
        }
        (None, _) => Vec::new(),
    }
}

/// The names of the fields that differ between two validities of an object.
fn changed_fields<T: Mutable>(mo: &T, wanted: &T) -> String {
    let (mo, wanted) = (fields_of(mo, T::COMPUTED), fields_of(wanted, T::COMPUTED));
    let names: Vec<&str> = wanted
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, value)| mo.get(key.as_str()) != Some(*value))
        .map(|(key, _)| key.as_str())
        .collect();
    names.join(", ")
}

/// The object written from nothing (a create with its uuid replaces whatever MO holds): a create
/// over its whole span with the first validity's fields, an update per further validity, and a
/// termination per gap. The create spans everything because MO carries an org unit's hierarchy
/// only into updates that overlap what the object already has.
fn written_anew<T: Mutable>(wanted: &[&T]) -> (Vec<Mutation>, Vec<Mutation>) {
    let (Some(first), Some(last)) = (wanted.first(), wanted.last()) else { return (Vec::new(), Vec::new()) };
    let whole = in_window(*first, &first.validity().from, &last.validity().to);
    let mut build = vec![call("create", *first, whole.input(true))];
    let mut shrink = Vec::new();
    for pair in wanted.windows(2) {
        let (before, next) = (pair[0].validity(), pair[1].validity());
        build.push(call("update", pair[1], pair[1].input(false)));
        if let (Some(end), Some(start)) = (&before.to, &next.from)
            && end < start
        {
            shrink.push(call("terminate", pair[0], json!({"uuid": pair[0].uuid(), "from": end, "to": start})));
        }
    }
    (build, shrink)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, from: &str, to: Option<&str>) -> OrgUnit {
        OrgUnit {
            uuid: "u".into(),
            user_key: "U".into(),
            name: name.into(),
            parent: None,
            unit_type: Some("t".into()),
            unit_level: None,
            hierarchy: None,
            validity: Validity { from: Some(from.into()), to: to.map(Into::into) },
        }
    }

    fn shown(mutations: &[Mutation]) -> Vec<String> {
        mutations
            .iter()
            .map(|m| {
                let v = &m.input["validity"];
                let name = m.input["name"].as_str().unwrap_or("-");
                match m.mutator.ends_with("terminate") {
                    true => format!("{} {} {}", m.mutator, m.input["from"], m.input["to"]),
                    false => format!("{} {name} {} {}", m.mutator, v["from"], v["to"]),
                }
            })
            .collect()
    }

    fn file(units: Vec<OrgUnit>) -> SnapshotFile {
        let org = moport_types::mo::Organisation { uuid: "o".into(), name: "O".into(), user_key: "o".into() };
        let mut file = SnapshotFile::empty(org, String::new(), String::new());
        file.org_units = units;
        file
    }

    #[test]
    fn the_same_history_sends_nothing() {
        let history = vec![unit("A", "2020-01-01", Some("2022-01-01")), unit("B", "2022-01-01", None)];
        assert!(mutations(&file(history.clone()), &file(history)).is_empty());
    }

    #[test]
    fn a_new_object_with_a_gap_is_terminated_in_the_gap() {
        let wanted = vec![unit("A", "2020-01-01", Some("2021-01-01")), unit("A", "2022-01-01", Some("2023-01-01"))];
        assert_eq!(
            shown(&mutations(&file(vec![]), &file(wanted))),
            [
                r#"org_unit_create A "2020-01-01" "2023-01-01""#,
                r#"org_unit_update A "2022-01-01" "2023-01-01""#,
                r#"org_unit_terminate "2021-01-01" "2022-01-01""#
            ]
        );
    }

    #[test]
    fn a_new_object_is_created_over_its_whole_span_then_updated_per_further_validity() {
        let wanted = vec![unit("B", "2022-01-01", None), unit("A", "2020-01-01", Some("2022-01-01"))];
        assert_eq!(
            shown(&mutations(&file(vec![]), &file(wanted))),
            [r#"org_unit_create A "2020-01-01" null"#, r#"org_unit_update B "2022-01-01" null"#]
        );
    }

    #[test]
    fn only_the_changed_slices_are_updated_and_what_mo_has_beyond_is_terminated() {
        let mo = vec![unit("A", "2020-01-01", None)];
        let wanted = vec![unit("A", "2020-01-01", Some("2022-01-01")), unit("B", "2022-01-01", Some("2024-01-01"))];
        assert_eq!(
            shown(&mutations(&file(mo), &file(wanted))),
            [r#"org_unit_update B "2022-01-01" "2024-01-01""#, r#"org_unit_terminate null "2024-01-01""#]
        );
        let mo = vec![unit("A", "2020-01-01", None)];
        let wanted = vec![unit("A", "2020-01-01", Some("2021-01-01")), unit("A", "2022-01-01", None)];
        assert_eq!(shown(&mutations(&file(mo), &file(wanted))), [r#"org_unit_terminate "2021-01-01" "2022-01-01""#]);
    }

    #[test]
    fn what_mo_cannot_clear_by_update_is_written_anew() {
        let mo = vec![unit("A", "2020-01-01", None)];
        let mut untyped = unit("A", "2021-01-01", None);
        untyped.unit_type = None;
        let wanted = vec![unit("A", "2020-01-01", Some("2021-01-01")), untyped];
        assert_eq!(
            shown(&mutations(&file(mo), &file(wanted))),
            [r#"org_unit_create A "2020-01-01" null"#, r#"org_unit_update A "2021-01-01" null"#]
        );
        let update = mutations(&file(vec![unit("A", "2020-01-01", None)]), &file(vec![unit("B", "2020-01-01", None)]));
        assert!(update[0].input.get("org_unit_hierarchy").is_none(), "an update never sets the hierarchy");
        assert_eq!(update[0].input["user_key"], "U", "name and user key always");
    }

    #[test]
    fn parents_are_written_before_children_and_ended_after_them() {
        let mut child = unit("C", "2020-01-01", None);
        child.uuid = "c".into();
        child.parent = Some("u".into());
        let mut grandchild = unit("G", "2020-01-01", None);
        grandchild.uuid = "a-grandchild".into();
        grandchild.parent = Some("c".into());
        let built =
            mutations(&file(vec![]), &file(vec![grandchild.clone(), child.clone(), unit("P", "2020-01-01", None)]));
        let order: Vec<&str> = built.iter().map(|m| m.input["uuid"].as_str().unwrap()).collect();
        assert_eq!(order, ["u", "c", "a-grandchild"]);
        let ended = |mut unit: OrgUnit| {
            unit.validity.to = Some("2025-01-01".into());
            unit
        };
        let shrunk = mutations(
            &file(vec![grandchild.clone(), child.clone(), unit("P", "2020-01-01", None)]),
            &file(vec![ended(grandchild), ended(child), ended(unit("P", "2020-01-01", None))]),
        );
        let order: Vec<&str> = shrunk.iter().map(|m| m.input["uuid"].as_str().unwrap()).collect();
        assert_eq!(order, ["a-grandchild", "c", "u"]);
    }
}
