//! The whole import as a plan of MO changes, worked out from the files and what MO holds:
//! DIPEX's payloads (§7-§11) as moport's create/update/terminate changes, file by file.
//!
//! moport's writes differ from DIPEX's in three ways that shape this module. A create of an
//! existing object is an update (so the seed and re-runs change nothing). An update replaces
//! every field in its period, so fields a row leaves empty are filled from MO, as DIPEX's
//! "missing key leaves MO's value" did. And `to` is exclusive, where DIPEX's last days are
//! inclusive ([`exclusive_end`]).

use crate::consolidate::{Period, consolidate};
use crate::dates::{Date, exclusive_end};
use crate::error::RowError;
use crate::rows::{
    ClassRow, ItSystemRow, ManagerEndRow, ManagerRow, OrgUnitRow, ParsedFile, PersonEndRow, PersonRow, Rows,
};
use crate::select::FileKind;
use crate::settings::Settings;
use crate::uuids::{self, aak, aarhus_los};
use moport_sdk::dates::valid_on;
use moport_sdk::mo::write::{Change, Object, ObjectKind, Termination};
use moport_sdk::mo::{Address, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit, Validity};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

/// What the plan needs to know about MO; the adapter reads it with the uuid sets below.
#[derive(Debug, Clone, Default)]
pub struct MoView {
    /// MO's root organisation; moport cannot create one.
    pub organisation: Option<String>,
    /// Facet user key -> uuid, for every facet MO has.
    pub facets: BTreeMap<String, String>,
    /// The classes of the facets the STAM files fill ([`class_facets`]).
    pub classes: Vec<Class>,
    pub it_systems: Vec<ItSystem>,
    /// CPR number -> person uuid, for every MO employee with a CPR number.
    pub employees_by_cpr: HashMap<String, String>,
    /// The current record of each unit in [`org_unit_uuids`] MO has.
    pub org_units: HashMap<String, OrgUnit>,
    /// The uuids of [`org_unit_uuids`] and [`detail_uuids`] MO has in any validity.
    pub existing: HashSet<String>,
    /// MO's latest record of the persons and details the files name, for the fields the files
    /// do not carry (nicknames, extensions, visibility, an IT user's engagement).
    pub employees: HashMap<String, Employee>,
    pub engagements: HashMap<String, Engagement>,
    pub addresses: HashMap<String, Address>,
    pub it_users: HashMap<String, ItUser>,
}

/// The changes one file (or the seed data) makes; the adapter applies all batches as one
/// `mo::write::apply` call, so they are judged together.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `seed`, or the file the changes come from.
    pub name: String,
    pub changes: Vec<Change>,
}

/// A DAR failure list to write (§5.7), one row (unit uuid, address text) per input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAddresses {
    /// `failed_addr_<input file>`.
    pub file_name: String,
    pub rows: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub batches: Vec<Batch>,
    pub failed_addresses: Vec<FailedAddresses>,
    /// For the log. Never holds more of a CPR number than its first 6 digits.
    pub notes: Vec<String>,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    NoOrganisation,
    /// Rows whose data MO cannot take; every one found is listed.
    Data(Vec<RowError>),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::NoOrganisation => f.write_str(
                "MO has no root organisation, and moport cannot create one; create it in MO (DIPEX's first run did) and run again",
            ),
            PlanError::Data(errors) => {
                let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                f.write_str(&lines.join("\n"))
            }
        }
    }
}

/// The date DIPEX's seed classes start on.
const CLASSES_FROM: (i32, u32, u32) = (1910, 1, 1);
/// The date DIPEX's facets and its AZ IT system start on.
const FACETS_FROM: (i32, u32, u32) = (1930, 1, 1);

fn fixed_date((year, month, day): (i32, u32, u32)) -> Date {
    Date::new(year, month, day).expect("a fixed date is a real date")
}

fn org_rows(files: &[ParsedFile]) -> impl Iterator<Item = &OrgUnitRow> {
    files.iter().flat_map(|file| match &file.rows {
        Rows::OrgUnits(rows) => rows.as_slice(),
        _ => &[],
    })
}

/// The units the files name: the adapter reads these units (current record) and which exist.
pub fn org_unit_uuids(files: &[ParsedFile]) -> BTreeSet<String> {
    org_rows(files).map(|row| row.uuid.clone()).collect()
}

/// Every address, engagement, IT user and manager uuid the files can produce, so that the
/// adapter asks MO which of just these exist.
pub fn detail_uuids(files: &[ParsedFile]) -> BTreeSet<String> {
    let mut uuids = BTreeSet::new();
    for file in files {
        match &file.rows {
            Rows::OrgUnits(rows) => {
                for row in rows {
                    let postal = row.post_address.as_ref().map(|_| "postaddr");
                    let kinds = unit_addresses(row).into_iter().filter(|(_, _, value)| value.is_some());
                    uuids.extend(
                        kinds.map(|(suffix, _, _)| suffix).chain(postal).map(|suffix| unit_address_uuid(row, suffix)),
                    );
                }
            }
            Rows::Persons(rows) => {
                for row in rows {
                    uuids.insert(row.engagement.clone());
                    uuids.extend(row.email.as_ref().map(|_| aak(&format!("{}email", row.cpr))));
                    uuids.extend(row.azid.as_ref().map(|_| aak(&format!("{}azid", row.cpr))));
                }
            }
            Rows::Managers(rows) => uuids.extend(rows.iter().map(|row| manager_uuid(&row.org_unit, &row.cpr))),
            Rows::ManagerEnds(rows) => uuids.extend(rows.iter().map(|row| manager_uuid(&row.org_unit, &row.cpr))),
            Rows::Classes { .. } | Rows::ItSystems(_) | Rows::PersonEnds(_) => {}
        }
    }
    uuids
}

/// The postal addresses to look up in DAR: every non-empty `PostAdresse` of every Org file.
// DIPEX asked DAR about "" too (§16.9) and never about Org_ret addresses (§16.7); moport
// skips empty text and looks ret addresses up as well.
pub fn addresses_to_look_up(files: &[ParsedFile]) -> BTreeSet<String> {
    org_rows(files).filter_map(|row| row.post_address.clone()).collect()
}

/// The facets whose classes the adapter should read into [`MoView::classes`].
pub fn class_facets(files: &[ParsedFile]) -> BTreeSet<&'static str> {
    files
        .iter()
        .filter_map(|file| match &file.rows {
            Rows::Classes { facet, .. } => Some(*facet),
            _ => None,
        })
        .collect()
}

/// Works out every change of the run: the seed batch, then one batch per file in the order given
/// (processing order, [`crate::select::select`]). `dar` maps address text to its DAR uuid
/// (`None`: no match). Nothing is planned if any row is bad.
pub fn plan(
    files: &[ParsedFile],
    mo: &MoView,
    dar: &HashMap<String, Option<String>>,
    settings: &Settings,
    today: Date,
) -> Result<Plan, PlanError> {
    if mo.organisation.is_none() {
        return Err(PlanError::NoOrganisation);
    }
    let mut planner = Planner {
        mo,
        dar,
        settings,
        today,
        created: HashSet::new(),
        planned_units: HashMap::new(),
        planned_persons: HashMap::new(),
        plan: Plan { batches: Vec::new(), failed_addresses: Vec::new(), notes: Vec::new() },
        errors: Vec::new(),
    };
    planner.seed();
    for file in files {
        let changes = match &file.rows {
            Rows::Classes { facet, rows } => planner.classes(file, facet, rows),
            Rows::ItSystems(rows) => planner.it_systems(file, rows),
            Rows::OrgUnits(rows) => planner.org_units(file, rows),
            Rows::Persons(rows) => planner.persons(file, rows),
            Rows::PersonEnds(rows) => planner.person_ends(file, rows),
            Rows::Managers(rows) => planner.managers(file, rows),
            Rows::ManagerEnds(rows) => planner.manager_ends(file, rows),
        };
        planner.push(&file.name, changes);
    }
    if !planner.errors.is_empty() {
        return Err(PlanError::Data(planner.errors));
    }
    let mut plan = planner.plan;
    for change in plan.batches.iter_mut().flat_map(|batch| batch.changes.iter_mut()) {
        keep_unmodelled_fields(change, mo);
    }
    Ok(plan)
}

/// Fields the LOS files say nothing about keep MO's values. An update sends the whole record,
/// so leaving them empty would erase what others set (DIPEX's REST edits left them alone).
fn keep_unmodelled_fields(change: &mut Change, mo: &MoView) {
    let (Change::Create(object) | Change::Update(object)) = change else { return };
    match object {
        Object::Employee(employee) => {
            if let Some(known) = mo.employees.get(&employee.uuid) {
                employee.nickname_given_name.clone_from(&known.nickname_given_name);
                employee.nickname_surname.clone_from(&known.nickname_surname);
            }
        }
        Object::Engagement(engagement) => {
            if let Some(known) = mo.engagements.get(&engagement.uuid) {
                engagement.extensions.clone_from(&known.extensions);
            }
        }
        Object::Address(address) => {
            if let Some(known) = mo.addresses.get(&address.uuid) {
                address.visibility.clone_from(&known.visibility);
            }
        }
        Object::ItUser(it_user) => {
            if let Some(known) = mo.it_users.get(&it_user.uuid) {
                it_user.engagement.clone_from(&known.engagement);
            }
        }
        _ => {}
    }
}

/// The date a delta file takes effect; `select` gives every delta file one.
fn filedate(file: &ParsedFile) -> Date {
    file.filedate.expect("a delta file has a name date")
}

fn validity(from: Date, to: Option<Date>) -> Validity {
    Validity { from: Some(from.to_string()), to: to.map(|to| to.to_string()) }
}

fn object_uuid(object: &Object) -> &str {
    match object {
        Object::Facet(facet) => &facet.uuid,
        Object::Class(class) => &class.uuid,
        Object::ItSystem(system) => &system.uuid,
        Object::OrgUnit(unit) => &unit.uuid,
        Object::Employee(employee) => &employee.uuid,
        Object::Engagement(engagement) => &engagement.uuid,
        Object::Manager(manager) => &manager.uuid,
        Object::Address(address) => &address.uuid,
        Object::ItUser(user) => &user.uuid,
    }
}

/// An org-unit address of a row: (uuid suffix, address type, value), in DIPEX's order.
fn unit_addresses(row: &OrgUnitRow) -> [(&'static str, &'static str, Option<&str>); 7] {
    [
        ("los", uuids::UNIT_LOS, row.los_id.as_deref()),
        ("cvr", uuids::UNIT_CVR, row.cvr.as_deref()),
        ("ean", uuids::UNIT_EAN, row.ean.as_deref()),
        ("pnr", uuids::UNIT_PNR, row.p_number.as_deref()),
        ("senr", uuids::UNIT_SENR, row.se_number.as_deref()),
        ("debitornr", uuids::UNIT_DEBITORNR, row.int_debitor_number.as_deref()),
        ("mag_id", uuids::UNIT_MAG_ID, row.mag_id.as_deref()),
    ]
}

fn unit_address_uuid(row: &OrgUnitRow, suffix: &str) -> String {
    aak(&format!("{}{suffix}", row.uuid))
}

fn manager_uuid(org_unit: &str, cpr: &str) -> String {
    aak(&format!("{org_unit}{cpr}manager"))
}

/// The first 6 digits of a CPR number (the birth date), as much as DIPEX logged.
fn cpr_prefix(cpr: &str) -> String {
    format!("{}…", cpr.chars().take(6).collect::<String>())
}

/// An org file row as DIPEX's payloads compare it: everything but the validity.
#[derive(Debug, Clone, PartialEq)]
enum OrgPayload {
    Unit {
        uuid: String,
        user_key: String,
        name: Option<String>,
        parent: String,
        unit_type: Option<String>,
        line_org: bool,
    },
    Address {
        uuid: String,
        value: String,
        address_type: &'static str,
        org_unit: String,
    },
}

impl OrgPayload {
    fn uuid(&self) -> &str {
        match self {
            OrgPayload::Unit { uuid, .. } | OrgPayload::Address { uuid, .. } => uuid,
        }
    }
}

/// How an existing or new detail is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// `*_nye`: create; the host makes it an update when the object exists.
    Create,
    /// `*_ret`: an existing object is updated from the file date on (DIPEX dropped the row's end,
    /// §16.8, and so does moport); a missing one is created with the row's own validity.
    ChangeFrom(Date),
}

impl Write {
    /// Whether to update, and over which validity.
    fn choose(self, exists: bool, full: Validity) -> (bool, Validity) {
        match self {
            Write::ChangeFrom(filedate) if exists => (true, validity(filedate, None)),
            _ => (false, full),
        }
    }
}

struct Planner<'a> {
    mo: &'a MoView,
    dar: &'a HashMap<String, Option<String>>,
    settings: &'a Settings,
    today: Date,
    /// Objects created by earlier batches of this plan.
    created: HashSet<String>,
    /// The latest record planned for each unit, to fill in what later rows leave empty.
    planned_units: HashMap<String, OrgUnit>,
    /// CPR -> person uuid of the persons in this run's person files.
    planned_persons: HashMap<String, String>,
    plan: Plan,
    errors: Vec<RowError>,
}

impl Planner<'_> {
    fn push(&mut self, name: &str, changes: Vec<Change>) {
        for change in &changes {
            if let Change::Create(object) = change {
                self.created.insert(object_uuid(object).to_owned());
            }
        }
        if !changes.is_empty() {
            self.plan.batches.push(Batch { name: name.to_owned(), changes });
        }
    }

    fn note(&mut self, note: String) {
        self.plan.notes.push(note);
    }

    fn exists(&self, uuid: &str) -> bool {
        self.mo.existing.contains(uuid) || self.created.contains(uuid)
    }

    /// `Create` with `full`, or, for a change file and an existing object, `Update` from the
    /// file date.
    fn write(how: Write, exists: bool, full: Validity, object: impl FnOnce(Validity) -> Object) -> Change {
        let (update, validity) = how.choose(exists, full);
        if update { Change::Update(object(validity)) } else { Change::Create(object(validity)) }
    }

    fn facet_uuid(&self, user_key: &str) -> String {
        self.mo.facets.get(user_key).cloned().unwrap_or_else(|| aarhus_los(user_key))
    }

    fn class(&self, uuid: &str, user_key: &str, name: &str, scope: &str, facet: &str) -> Change {
        Change::Create(Object::Class(Class {
            uuid: uuid.to_owned(),
            user_key: user_key.to_owned(),
            name: name.to_owned(),
            facet: self.facet_uuid(facet),
            facet_user_key: facet.to_owned(),
            scope: Some(scope.to_owned()),
            parent: None,
            validity: validity(fixed_date(CLASSES_FROM), None),
        }))
    }

    fn it_system(uuid: &str, user_key: &str, name: &str, validity: Validity) -> Change {
        Change::Create(Object::ItSystem(ItSystem {
            uuid: uuid.to_owned(),
            user_key: user_key.to_owned(),
            name: name.to_owned(),
            validity,
        }))
    }

    /// §7, every run: the facets, the 25 classes and the AZ IT system. Creates of what MO already
    /// holds come back `unchanged`.
    fn seed(&mut self) {
        let mut changes = Vec::new();
        let facets = uuids::DEFAULT_FACETS.iter().chain(uuids::ON_DEMAND_FACETS.iter());
        let mut seen = HashSet::new();
        for facet in facets.filter(|facet| seen.insert(**facet)) {
            if !self.mo.facets.contains_key(*facet) {
                // DIPEX's first run gave the default facets random uuids; moport uses the
                // on-demand rule for all, so a re-created facet gets the same uuid every time.
                changes.push(Change::Create(Object::Facet(Facet {
                    uuid: aarhus_los(facet),
                    user_key: (*facet).to_owned(),
                    validity: validity(fixed_date(FACETS_FROM), None),
                })));
            }
        }
        for class in uuids::SEED_CLASSES {
            changes.push(self.class(class.uuid, class.user_key, class.name, class.scope, class.facet));
        }
        if self.settings.uses_default_az_system() {
            // DIPEX re-wrote it every run, renaming back an AZ system that STAM_UUID_ITSystem
            // names otherwise; moport only creates it, and the file's name stays.
            if !self.mo.it_systems.iter().any(|system| system.uuid == uuids::AZID_SYSTEM) {
                let from_1930 = validity(fixed_date(FACETS_FROM), None);
                changes.push(Planner::it_system(uuids::AZID_SYSTEM, "AZ", "AZ", from_1930));
            }
        } else {
            self.note(format!(
                "AZ IT users go to the configured IT system {}; DIPEX's own AZ system is not created",
                self.settings.azid_it_system
            ));
        }
        self.push("seed", changes);
    }

    /// §8.1: every row is a class of the facet; the facet's other current classes end today.
    fn classes(&mut self, file: &ParsedFile, facet: &str, rows: &[ClassRow]) -> Vec<Change> {
        let mut changes: Vec<Change> =
            rows.iter().map(|row| self.class(&row.uuid, &row.text, &row.text, "TEXT", facet)).collect();
        if rows.is_empty() {
            // DIPEX unpublished the whole facet on a header-only file (§16.12); moport ends nothing.
            self.note(format!("{}: no rows; the classes of `{facet}` are left as they are", file.name));
            return changes;
        }
        let facet_uuid = self.facet_uuid(facet);
        let listed: HashSet<&str> = rows.iter().map(|row| row.uuid.as_str()).collect();
        let today = self.today.to_string();
        let ended: BTreeSet<&str> = self
            .mo
            .classes
            .iter()
            .filter(|class| class.facet_user_key == facet || class.facet == facet_uuid)
            .filter(|class| valid_on(&class.validity, &today) && !listed.contains(class.uuid.as_str()))
            .map(|class| class.uuid.as_str())
            .collect();
        changes.extend(ended.into_iter().map(|uuid| {
            Change::Terminate(Termination { kind: ObjectKind::Class, uuid: uuid.to_owned(), to: today.clone() })
        }));
        changes
    }

    /// §8.2: every row is an IT system; MO's other IT systems are left alone, as DIPEX left them.
    fn it_systems(&mut self, file: &ParsedFile, rows: &[ItSystemRow]) -> Vec<Change> {
        let listed: HashSet<&str> = rows.iter().map(|row| row.uuid.as_str()).collect();
        // One note per system, however many validities MO has for it.
        let mut seen = HashSet::new();
        let unlisted: Vec<&ItSystem> = self
            .mo
            .it_systems
            .iter()
            .filter(|s| !listed.contains(s.uuid.as_str()) && seen.insert(s.uuid.as_str()))
            .collect();
        let notes: Vec<String> = unlisted
            .iter()
            .map(|system| {
                format!(
                    "{}: MO's IT system {:?} ({}) is not in the file; it is left as it is",
                    file.name, system.name, system.uuid
                )
            })
            .collect();
        self.plan.notes.extend(notes);
        // DIPEX created and renamed them with no validity, which MO makes "always".
        let always = || Validity { from: None, to: None };
        rows.iter().map(|row| Planner::it_system(&row.uuid, &row.user_key, &row.name, always())).collect()
    }

    /// §9: units and their addresses.
    fn org_units(&mut self, file: &ParsedFile, rows: &[OrgUnitRow]) -> Vec<Change> {
        self.dar_failures(file, rows);
        let periods = self.org_periods(rows);
        match file.kind {
            FileKind::OrgInitial => self.org_initial(file, periods),
            FileKind::OrgNew => {
                periods.iter().filter_map(|period| self.org_change(file, period, Write::Create)).collect()
            }
            _ => {
                let filedate = filedate(file);
                periods.iter().filter_map(|period| self.org_change(file, period, Write::ChangeFrom(filedate))).collect()
            }
        }
    }

    /// Every unit, then every address kind in DIPEX's order (§9.1). A postal address is made only
    /// when DAR found the text.
    fn org_periods(&self, rows: &[OrgUnitRow]) -> Vec<Period<OrgPayload>> {
        let period = |row: &OrgUnitRow, value| Period {
            value,
            from: row.start,
            to: exclusive_end(row.last_day),
            line: row.line,
        };
        let units = rows.iter().map(|row| {
            period(
                row,
                OrgPayload::Unit {
                    uuid: row.uuid.clone(),
                    user_key: row.user_key.clone(),
                    name: row.name.clone(),
                    parent: row.parent.clone(),
                    unit_type: row.unit_type.clone(),
                    line_org: row.in_line_organisation,
                },
            )
        });
        let address = |row: &OrgUnitRow, suffix: &str, address_type, value: &str| {
            period(
                row,
                OrgPayload::Address {
                    uuid: unit_address_uuid(row, suffix),
                    value: value.to_owned(),
                    address_type,
                    org_unit: row.uuid.clone(),
                },
            )
        };
        let mut periods: Vec<Period<OrgPayload>> = units.collect();
        for kind in 0..7 {
            for row in rows {
                let (suffix, address_type, value) = unit_addresses(row)[kind];
                periods.extend(value.map(|value| address(row, suffix, address_type, value)));
            }
        }
        for row in rows {
            let found = row.post_address.as_ref().and_then(|text| self.dar.get(text).cloned().flatten());
            periods.extend(found.map(|dar_uuid| address(row, "postaddr", uuids::UNIT_POSTADDR, &dar_uuid)));
        }
        periods
    }

    /// §9.5: rows whose postal address DAR did not find, in row order.
    fn dar_failures(&mut self, file: &ParsedFile, rows: &[OrgUnitRow]) {
        let failed: Vec<(String, String)> = rows
            .iter()
            .filter_map(|row| row.post_address.as_ref().map(|text| (row, text)))
            .filter(|(_, text)| !matches!(self.dar.get(*text), Some(Some(_))))
            .map(|(row, text)| (row.uuid.clone(), text.clone()))
            .collect();
        if !failed.is_empty() {
            let file_name = format!("failed_addr_{}", file.name);
            self.note(format!(
                "{}: DAR did not find {} postal address(es); listed in {file_name}",
                file.name,
                failed.len()
            ));
            self.plan.failed_addresses.push(FailedAddresses { file_name, rows: failed });
        }
    }

    /// §9.2: consolidated history; each object's first period is created, the later ones are
    /// updates with their own validity, one layer after another.
    fn org_initial(&mut self, file: &ParsedFile, periods: Vec<Period<OrgPayload>>) -> Vec<Change> {
        let buckets = match consolidate(&file.name, periods, OrgPayload::uuid) {
            Ok(buckets) => buckets,
            Err(mut errors) => {
                self.errors.append(&mut errors);
                return Vec::new();
            }
        };
        let mut changes: Vec<Change> =
            buckets.iter().filter_map(|bucket| self.org_change(file, &bucket[0], Write::Create)).collect();
        let layers = buckets.iter().map(Vec::len).max().unwrap_or_default();
        for layer in 1..layers {
            for period in buckets.iter().filter_map(|bucket| bucket.get(layer)) {
                let full = validity(period.from, period.to);
                if let Some(object) = self.org_object(file, period, full) {
                    changes.push(Change::Update(object));
                }
            }
        }
        changes
    }

    fn org_change(&mut self, file: &ParsedFile, period: &Period<OrgPayload>, how: Write) -> Option<Change> {
        let uuid = period.value.uuid();
        let full = validity(period.from, period.to);
        // DIPEX always edited units in Org_ret files, crashing on new ones (§16.10); moport
        // creates what MO does not have.
        let exists = self.exists(uuid) || self.mo.org_units.contains_key(uuid);
        let (update, validity) = how.choose(exists, full);
        let object = self.org_object(file, period, validity)?;
        Some(if update { Change::Update(object) } else { Change::Create(object) })
    }

    fn org_object(&mut self, file: &ParsedFile, period: &Period<OrgPayload>, validity: Validity) -> Option<Object> {
        match &period.value {
            OrgPayload::Unit { uuid, user_key, name, parent, unit_type, line_org } => {
                let known = self.planned_units.get(uuid).or_else(|| self.mo.org_units.get(uuid));
                let Some(name) = name.clone().or_else(|| known.map(|unit| unit.name.clone())) else {
                    self.errors.push(RowError::new(
                        &file.name,
                        period.line,
                        file.column("OrgEnhedsNavn"),
                        format!("the unit {uuid} is not in MO and the row gives it no name; fill in OrgEnhedsNavn"),
                    ));
                    return None;
                };
                let unit = OrgUnit {
                    uuid: uuid.clone(),
                    user_key: user_key.clone(),
                    name,
                    // DIPEX hung root units under its organisation ORG_UUID; in moport a unit
                    // without a parent is a root unit of MO's organisation.
                    parent: (parent != uuid).then(|| parent.clone()),
                    unit_type: unit_type.clone().or_else(|| known.and_then(|unit| unit.unit_type.clone())),
                    // The files have no level; keep MO's, as DIPEX's payloads never touched it.
                    unit_level: known.and_then(|unit| unit.unit_level.clone()),
                    hierarchy: if *line_org {
                        Some(uuids::LINJE_ORG_HIERARCHY.to_owned())
                    } else {
                        known.and_then(|unit| unit.hierarchy.clone())
                    },
                    validity,
                };
                self.planned_units.insert(uuid.clone(), unit.clone());
                Some(Object::OrgUnit(unit))
            }
            OrgPayload::Address { uuid, value, address_type, org_unit } => {
                Some(Object::Address(address(uuid, value, address_type, Owner::Unit(org_unit), validity)))
            }
        }
    }

    fn person_uuid(&self, cpr: &str) -> String {
        self.mo.employees_by_cpr.get(cpr).cloned().unwrap_or_else(|| aak(cpr))
    }

    /// §10: employees (first row per CPR), engagements, e-mails and AZ IT users, in that order.
    fn persons(&mut self, file: &ParsedFile, rows: &[PersonRow]) -> Vec<Change> {
        let filedate = filedate(file);
        let how = if file.kind == FileKind::PersChange { Write::ChangeFrom(filedate) } else { Write::Create };
        let mut changes = Vec::new();
        // DIPEX sent no validity; moport starts a person with their earliest engagement in the
        // file, so that no engagement starts before its person.
        let mut starts: HashMap<&str, Date> = HashMap::new();
        for row in rows {
            starts.entry(row.cpr.as_str()).and_modify(|start| *start = (*start).min(row.start)).or_insert(row.start);
        }
        let mut seen = HashSet::new();
        for row in rows.iter().filter(|row| seen.insert(row.cpr.as_str())) {
            let uuid = self.person_uuid(&row.cpr);
            self.planned_persons.insert(row.cpr.clone(), uuid.clone());
            let start = starts[row.cpr.as_str()];
            let (given_name, surname) = row.name.rsplit_once(' ').unwrap_or((&row.name, ""));
            let employee = |validity| {
                Object::Employee(Employee {
                    uuid: uuid.clone(),
                    cpr_number: Some(row.cpr.clone()),
                    given_name: given_name.to_owned(),
                    surname: surname.to_owned(),
                    nickname_given_name: None,
                    nickname_surname: None,
                    validity,
                })
            };
            // DIPEX always edited persons in Pers_ret files (§16.10); moport creates missing ones.
            let exists = self.exists(&uuid) || self.mo.employees_by_cpr.contains_key(&row.cpr);
            changes.push(Planner::write(how, exists, validity(start, None), employee));
        }
        let engagements = self.keep_last(
            file,
            "engagement",
            rows.iter().map(|row| (row.line, row.engagement.clone(), row)).collect(),
        );
        for (_, uuid, row) in engagements {
            let engagement = |validity| {
                Object::Engagement(Engagement {
                    uuid: uuid.clone(),
                    user_key: row.user_key.clone(),
                    person: self.planned_persons[&row.cpr].clone(),
                    org_unit: row.org_unit.clone(),
                    job_function: Some(row.job_function.clone()),
                    engagement_type: Some(row.engagement_type.clone()),
                    primary: Some(if row.primary { uuids::PRIMARY } else { uuids::NOT_PRIMARY }.to_owned()),
                    is_primary: row.primary,
                    extensions: vec![None; 10],
                    validity,
                })
            };
            let full = validity(row.start, exclusive_end(row.last_day));
            changes.push(Planner::write(how, self.exists(&uuid), full, engagement));
        }
        let emails = rows.iter().filter_map(|row| {
            row.email.as_ref().map(|email| (row.line, aak(&format!("{}email", row.cpr)), (row, email)))
        });
        for (_, uuid, (row, email)) in self.keep_last(file, "e-mail address", emails.collect()) {
            let person = self.planned_persons[&row.cpr].clone();
            let write = |validity| {
                Object::Address(address(&uuid, email, uuids::PERSON_EMAIL, Owner::Person(&person), validity))
            };
            changes.extend(self.starting_on_filedate(file, row, "e-mail address", how, &uuid, write));
        }
        let azids = rows
            .iter()
            .filter_map(|row| row.azid.as_ref().map(|azid| (row.line, aak(&format!("{}azid", row.cpr)), (row, azid))));
        for (_, uuid, (row, azid)) in self.keep_last(file, "AZ IT user", azids.collect()) {
            let (person, it_system) = (self.planned_persons[&row.cpr].clone(), self.settings.azid_it_system.clone());
            let it_user = |validity| {
                Object::ItUser(ItUser {
                    uuid: uuid.clone(),
                    user_key: azid.clone(),
                    it_system,
                    person: Some(person),
                    engagement: None,
                    validity,
                })
            };
            changes.extend(self.starting_on_filedate(file, row, "AZ IT user", how, &uuid, it_user));
        }
        changes
    }

    /// E-mails and AZ IT users start on the file date (DIPEX since 99337b60) and end with the row.
    fn starting_on_filedate(
        &mut self,
        file: &ParsedFile,
        row: &PersonRow,
        what: &str,
        how: Write,
        uuid: &str,
        object: impl FnOnce(Validity) -> Object,
    ) -> Option<Change> {
        let filedate = filedate(file);
        let to = exclusive_end(row.last_day);
        let change = Planner::write(how, self.exists(uuid), validity(filedate, to), object);
        // DIPEX sent an end before the start to MO; moport leaves such a detail out.
        if matches!(change, Change::Create(_)) && to.is_some_and(|to| to <= filedate) {
            self.note(format!(
                "{}:{}: the engagement ended on {}, before the file date {filedate}; its {what} {uuid} is not written",
                file.name, row.line, row.last_day
            ));
            return None;
        }
        Some(change)
    }

    /// Same-uuid rows in one file (§16.15): DIPEX sent them all at once, so which won was chance;
    /// moport keeps the last row's, in the first row's place, and says so.
    fn keep_last<T>(
        &mut self,
        file: &ParsedFile,
        what: &str,
        items: Vec<(usize, String, T)>,
    ) -> Vec<(usize, String, T)> {
        let mut position: HashMap<String, usize> = HashMap::new();
        let mut lines: Vec<Vec<usize>> = Vec::new();
        let mut kept: Vec<(usize, String, T)> = Vec::new();
        for (line, uuid, item) in items {
            match position.get(&uuid) {
                Some(&index) => {
                    lines[index].push(line);
                    kept[index] = (line, uuid, item);
                }
                None => {
                    position.insert(uuid.clone(), kept.len());
                    lines.push(vec![line]);
                    kept.push((line, uuid, item));
                }
            }
        }
        for ((_, uuid, _), lines) in kept.iter().zip(&lines).filter(|(_, lines)| lines.len() > 1) {
            let shown: Vec<String> = lines.iter().map(ToString::to_string).collect();
            self.plan.notes.push(format!(
                "{}: lines {} all give the {what} {uuid}; line {} is used",
                file.name,
                shown.join(", "),
                lines[lines.len() - 1]
            ));
        }
        kept
    }

    /// §10.4: the engagement is valid up to and including the file date.
    fn person_ends(&mut self, file: &ParsedFile, rows: &[PersonEndRow]) -> Vec<Change> {
        let to = filedate(file).next_day().to_string();
        rows.iter()
            .map(|row| {
                Change::Terminate(Termination {
                    kind: ObjectKind::Engagement,
                    uuid: row.engagement.clone(),
                    to: to.clone(),
                })
            })
            .collect()
    }

    /// §11: one manager per (unit, CPR), created and changed from the file date.
    // DIPEX created managers from the day of the run; moport from the file date, so that the same
    // files give the same MO whenever they are imported (a rerun writes nothing) and a manager
    // ended in a later file has started before its end.
    fn managers(&mut self, file: &ParsedFile, rows: &[ManagerRow]) -> Vec<Change> {
        let how = match file.kind {
            FileKind::LederChange => Write::ChangeFrom(filedate(file)),
            _ => Write::Create,
        };
        let mut found = Vec::new();
        for row in rows {
            let person = self.mo.employees_by_cpr.get(&row.cpr).or_else(|| self.planned_persons.get(&row.cpr));
            match person {
                Some(person) => found.push((row.line, manager_uuid(&row.org_unit, &row.cpr), (row, person.clone()))),
                // DIPEX sent person "None" to MO (§16.10); moport stops before writing anything.
                None => self.errors.push(RowError::new(
                    &file.name,
                    row.line,
                    file.column("CPR"),
                    format!(
                        "no person in MO or in this run's person files has the CPR number {}; add the person (Pers_nye) before making them a manager",
                        cpr_prefix(&row.cpr)
                    ),
                )),
            }
        }
        let start = filedate(file);
        self.keep_last(file, "manager", found)
            .into_iter()
            .map(|(_, uuid, (row, person))| {
                let manager = |validity| {
                    Object::Manager(Manager {
                        uuid: uuid.clone(),
                        person: Some(person),
                        org_unit: row.org_unit.clone(),
                        manager_type: Some(row.manager_type.clone()),
                        manager_level: Some(row.manager_level.clone()),
                        responsibilities: vec![row.responsibility.clone()],
                        validity,
                    })
                };
                Planner::write(how, self.exists(&uuid), validity(start, None), manager)
            })
            .collect()
    }

    fn manager_ends(&mut self, file: &ParsedFile, rows: &[ManagerEndRow]) -> Vec<Change> {
        let to = filedate(file).next_day().to_string();
        rows.iter()
            .map(|row| {
                Change::Terminate(Termination {
                    kind: ObjectKind::Manager,
                    uuid: manager_uuid(&row.org_unit, &row.cpr),
                    to: to.clone(),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy)]
enum Owner<'a> {
    Unit(&'a str),
    Person(&'a str),
}

fn address(uuid: &str, value: &str, address_type: &str, owner: Owner, validity: Validity) -> Address {
    let (org_unit, person) = match owner {
        Owner::Unit(unit) => (Some(unit.to_owned()), None),
        Owner::Person(person) => (None, Some(person.to_owned())),
    };
    Address {
        uuid: uuid.to_owned(),
        value: value.to_owned(),
        // MO works the name out itself; the host does not compare it.
        name: value.to_owned(),
        address_type: address_type.to_owned(),
        scope: uuids::seed_scope(address_type).to_owned(),
        visibility: None,
        person,
        org_unit,
        engagement: None,
        dar: None,
        validity,
    }
}

#[cfg(test)]
mod tests;
