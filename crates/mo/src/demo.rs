//! A made-up municipality for demos, tests and benchmarks. The same persons count, seed and
//! reference date always give the same snapshot, byte for byte.
//!
//! It has what the shipped plugins look at: a unit tree with levels (administration, area,
//! department), DAR addresses on units, persons with CPR numbers, e-mail and phone addresses
//! with every visibility, engagements that are current, ended or not yet started, and managers
//! (some posts vacant).

use crate::snapshot::{Snapshot, SnapshotFile};
use chrono::{Datelike, Duration, NaiveDate};
use moport_types::Validity;
use moport_types::mo::{Address, Class, DarFields, Employee, Engagement, Facet, Manager, OrgUnit, Organisation};
use std::path::Path;

/// `demo/mo-snapshot.json`, the demo municipality that ships with moport (`--mo demo`).
const BUILT_IN_JSON: &[u8] = include_bytes!("../../../demo/mo-snapshot.json");

/// How `demo/mo-snapshot.json` was generated; a test keeps the two in step.
pub fn built_in_spec() -> DemoSpec {
    DemoSpec { persons: 300, seed: 1, as_of: NaiveDate::from_ymd_opt(2026, 11, 23).expect("a valid date") }
}

/// The built-in demo municipality, loaded.
pub fn built_in() -> Snapshot {
    Snapshot::from_json(Path::new("demo/mo-snapshot.json (built in)"), BUILT_IN_JSON)
        .expect("the built-in demo snapshot is valid; a unit test loads it")
}

/// How the municipality is drawn.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub persons: usize,
    pub seed: u64,
    /// "Today" for the data: what is current, ended and future is relative to this date.
    pub as_of: NaiveDate,
}

/// SplitMix64: small, fast, and the same on every platform and version, unlike library RNGs
/// whose streams may change between releases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with the given chance in percent.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A version-4 style UUID.
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | (b >> 48 & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

const GIVEN_NAMES: &[&str] = &[
    "Anne",
    "Mette",
    "Hanne",
    "Susanne",
    "Lene",
    "Marianne",
    "Camilla",
    "Louise",
    "Maria",
    "Ida",
    "Emma",
    "Sofie",
    "Jens",
    "Peter",
    "Michael",
    "Lars",
    "Henrik",
    "Thomas",
    "Søren",
    "Niels",
    "Rasmus",
    "Mads",
    "Frederik",
    "Mikkel",
    "Kirsten",
    "Bente",
    "Pia",
    "Tina",
    "Jesper",
    "Morten",
    "Anders",
    "Christian",
    "Ole",
    "Kasper",
    "Jonas",
    "Line",
];
const SURNAMES: &[&str] = &[
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Christiansen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Knudsen",
    "Jakobsen",
    "Lund",
    "Holm",
    "Schmidt",
    "Eriksen",
    "Kjær",
    "Østergaard",
];
const JOB_FUNCTIONS: &[&str] = &[
    "Pædagog",
    "Pædagogmedhjælper",
    "Lærer",
    "Skoleleder",
    "Sygeplejerske",
    "Social- og sundhedshjælper",
    "Social- og sundhedsassistent",
    "Socialrådgiver",
    "Ergoterapeut",
    "Fysioterapeut",
    "Kontorfuldmægtig",
    "Administrativ medarbejder",
    "IT-konsulent",
    "HR-konsulent",
    "Økonom",
    "Jurist",
    "Ingeniør",
    "Tekniker",
    "Rengøringsassistent",
    "Chauffør",
    "Leder",
    "Afdelingsleder",
];
const ADMINISTRATIONS: &[&str] = &[
    "Borgmesterens Afdeling",
    "Børn og Unge",
    "Sociale Forhold og Beskæftigelse",
    "Sundhed og Omsorg",
    "Teknik og Miljø",
    "Kultur og Borgerservice",
];
const AREA_KINDS: &[&str] = &["Distrikt", "Område", "Center"];
const UNIT_KINDS: &[&str] =
    &["Skole", "Børnehus", "Plejecenter", "Sekretariat", "Team", "Afdeling", "Bibliotek", "Hjemmepleje"];
const PLACES: &[&str] = &[
    "Nord",
    "Syd",
    "Øst",
    "Vest",
    "Midt",
    "Skovvangen",
    "Åby",
    "Viby",
    "Tilst",
    "Risskov",
    "Hasle",
    "Brabrand",
    "Lystrup",
    "Tranbjerg",
    "Højbjerg",
    "Egå",
];
const STREETS: &[&str] = &[
    "Rådhuspladsen",
    "Park Allé",
    "Søndergade",
    "Vestergade",
    "Skolevej",
    "Kirkevej",
    "Grønnegade",
    "Nørregade",
    "Bakkevej",
    "Skovvej",
    "Møllevej",
    "Engvej",
];
const POSTCODES: &[(&str, &str)] = &[
    ("8000", "Aarhus C"),
    ("8200", "Aarhus N"),
    ("8210", "Aarhus V"),
    ("8220", "Brabrand"),
    ("8240", "Risskov"),
    ("8260", "Viby J"),
    ("8270", "Højbjerg"),
    ("8310", "Tranbjerg J"),
    ("8381", "Tilst"),
    ("8520", "Lystrup"),
];

/// Generates the municipality.
pub fn generate(spec: &DemoSpec) -> SnapshotFile {
    Generator::new(spec).run()
}

struct Generator<'a> {
    spec: &'a DemoSpec,
    rng: Rng,
    file: SnapshotFile,
    classes: Classes,
    /// When each unit opened: MO refuses an engagement that starts before its unit.
    opened: std::collections::HashMap<String, NaiveDate>,
    /// The CPR numbers given out: MO refuses a second person with one (`V_EXISTING_CPR`).
    cprs: std::collections::HashSet<String>,
}

/// The classes the data refers to, by meaning.
#[derive(Default)]
struct Classes {
    job_functions: Vec<String>,
    engagement_types: Vec<String>,
    unit_levels: Vec<String>,
    unit_type: String,
    email: String,
    phone: String,
    unit_postal: String,
    visibilities: Vec<String>,
    manager_types: Vec<String>,
    manager_levels: Vec<String>,
    responsibilities: Vec<String>,
}

fn always() -> Validity {
    Validity { from: None, to: None }
}

fn from(date: NaiveDate) -> Validity {
    Validity { from: Some(date.to_string()), to: None }
}

/// `validity`, starting no earlier than `earliest` (MO checks an engagement against its unit
/// and person); one that would end before it then runs a month from it.
fn within(validity: Validity, earliest: NaiveDate) -> Validity {
    let earliest_text = earliest.to_string();
    match validity.from.as_deref() {
        Some(start) if start >= earliest_text.as_str() => validity,
        _ => match validity.to.as_deref() {
            Some(end) if end <= earliest_text.as_str() => {
                Validity { from: Some(earliest_text), to: Some((earliest + Duration::days(30)).to_string()) }
            }
            _ => Validity { from: Some(earliest_text), to: validity.to },
        },
    }
}

/// The seed of the demo's frame, whatever the spec's seed: the organisation, the classes and the
/// top unit, whose uuids the shipped plugins.toml names, so a municipality of any seed runs with
/// it. The rest of the municipality follows the spec's seed (for the built-in seed, the frame is
/// simply where its choices begin).
const FRAME_SEED: u64 = 1;

impl<'a> Generator<'a> {
    fn new(spec: &'a DemoSpec) -> Self {
        let mut rng = Rng(FRAME_SEED);
        let organisation = Organisation { uuid: rng.uuid(), name: "Demo Kommune".into(), user_key: "demo".into() };
        let file = SnapshotFile::empty(
            organisation,
            format!("{}T06:00:00Z", spec.as_of),
            format!("moport demo generate --persons {} --seed {} --as-of {}", spec.persons, spec.seed, spec.as_of),
        );
        Generator { spec, rng, file, classes: Classes::default(), opened: Default::default(), cprs: Default::default() }
    }

    fn run(mut self) -> SnapshotFile {
        self.make_classes();
        let units = self.make_units();
        self.make_persons(&units);
        self.mark_primary();
        self.file.sort();
        self.file
    }

    /// Each person's first engagement is primary, by its primary class, as MO tells: a class of
    /// `primary_type` whose scope is 3000 or more. Made last, so the rest of the municipality is
    /// the same as before this facet existed.
    fn mark_primary(&mut self) {
        let classes = self
            .facet("primary_type", &[("primary", "Primær", Some("3000")), ("non-primary", "Ikke-primær", Some("0"))]);
        for engagement in &mut self.file.engagements {
            engagement.primary = Some(classes[usize::from(!engagement.is_primary)].clone());
        }
    }

    /// Adds a facet with classes `(user_key, name, scope)`; returns the class uuids in order.
    fn facet(&mut self, user_key: &str, classes: &[(&str, &str, Option<&str>)]) -> Vec<String> {
        let facet = self.rng.uuid();
        self.file.facets.push(Facet { uuid: facet.clone(), user_key: user_key.into(), validity: always() });
        classes
            .iter()
            .map(|(class_key, name, scope)| {
                let uuid = self.rng.uuid();
                self.file.classes.push(Class {
                    uuid: uuid.clone(),
                    user_key: (*class_key).into(),
                    name: (*name).into(),
                    facet: facet.clone(),
                    facet_user_key: user_key.into(),
                    scope: scope.map(Into::into),
                    parent: None,
                    validity: always(),
                });
                uuid
            })
            .collect()
    }

    fn make_classes(&mut self) {
        let jobs: Vec<(String, &str)> =
            JOB_FUNCTIONS.iter().map(|name| (name.to_lowercase().replace(' ', "_"), *name)).collect();
        let jobs: Vec<(&str, &str, Option<&str>)> =
            jobs.iter().map(|(key, name)| (key.as_str(), *name, None)).collect();
        self.classes.job_functions = self.facet("engagement_job_function", &jobs);
        self.classes.engagement_types = self.facet(
            "engagement_type",
            &[("ansat", "Ansat", None), ("timeloennet", "Timelønnet", None), ("elev", "Elev", None)],
        );
        self.classes.unit_levels = self.facet(
            "org_unit_level",
            &[("forvaltning", "Forvaltning", None), ("omraade", "Område", None), ("afdeling", "Afdeling", None)],
        );
        self.classes.unit_type = self.facet("org_unit_type", &[("enhed", "Enhed", None)]).remove(0);
        let employee_types = self.facet(
            "employee_address_type",
            &[("EmailEmployee", "Email", Some("EMAIL")), ("PhoneEmployee", "Telefon", Some("PHONE"))],
        );
        (self.classes.email, self.classes.phone) = (employee_types[0].clone(), employee_types[1].clone());
        self.classes.unit_postal =
            self.facet("org_unit_address_type", &[("AddressMailUnit", "Postadresse", Some("DAR"))]).remove(0);
        self.classes.visibilities = self.facet(
            "visibility",
            &[
                ("Public", "Må vises eksternt", Some("PUBLIC")),
                ("Internal", "Må vises internt", Some("INTERNAL")),
                ("Secret", "Hemmelig", Some("SECRET")),
            ],
        );
        self.classes.manager_types = self.facet(
            "manager_type",
            &[("direktoer", "Direktør", None), ("chef", "Chef", None), ("leder", "Leder", None)],
        );
        self.classes.manager_levels = self.facet(
            "manager_level",
            &[("niveau1", "Niveau 1", None), ("niveau2", "Niveau 2", None), ("niveau3", "Niveau 3", None)],
        );
        self.classes.responsibilities = self.facet(
            "responsibility",
            &[
                ("personale", "Personaleledelse", None),
                ("budget", "Budgetansvar", None),
                ("arbejdsmiljoe", "Arbejdsmiljø", None),
            ],
        );
    }

    /// The unit tree; returns the departments (where people work) and the managed units by level.
    fn make_units(&mut self) -> Vec<String> {
        let founded = NaiveDate::from_ymd_opt(2007, 1, 1).expect("a valid date");
        let root = self.unit("Demo Kommune", "KOMMUNE", None, None, founded);
        if self.spec.seed != FRAME_SEED {
            self.rng = Rng(self.spec.seed);
        }
        let departments_wanted = (self.spec.persons / 12).max(3);
        let areas_per_administration = (departments_wanted / (ADMINISTRATIONS.len() * 4)).clamp(1, 40);
        let mut departments = Vec::new();
        let mut department_number = 0;
        for (a, administration) in ADMINISTRATIONS.iter().enumerate() {
            let admin = self.unit(administration, &format!("F{a}"), Some(&root), Some(0), founded);
            for b in 0..areas_per_administration {
                let kind = *self.rng.pick(AREA_KINDS);
                let place = *self.rng.pick(PLACES);
                let area = self.unit(&format!("{kind} {place}"), &format!("F{a}O{b}"), Some(&admin), Some(1), founded);
                let count = departments_wanted.div_ceil(ADMINISTRATIONS.len() * areas_per_administration);
                for _ in 0..count {
                    department_number += 1;
                    let kind = *self.rng.pick(UNIT_KINDS);
                    let place = *self.rng.pick(PLACES);
                    let opened = founded + Duration::days(self.rng.below(3650) as i64);
                    let name = format!("{kind} {place}");
                    let department =
                        self.unit(&name, &format!("A{department_number:05}"), Some(&area), Some(2), opened);
                    departments.push(department);
                }
            }
        }
        departments
    }

    fn unit(
        &mut self,
        name: &str,
        user_key: &str,
        parent: Option<&str>,
        level: Option<usize>,
        opened: NaiveDate,
    ) -> String {
        let uuid = self.rng.uuid();
        self.opened.insert(uuid.clone(), opened);
        self.file.org_units.push(OrgUnit {
            uuid: uuid.clone(),
            user_key: user_key.into(),
            name: name.into(),
            parent: parent.map(Into::into),
            unit_type: Some(self.classes.unit_type.clone()),
            unit_level: level.map(|l| self.classes.unit_levels[l].clone()),
            hierarchy: None,
            validity: from(opened),
        });
        let street = *self.rng.pick(STREETS);
        let number = 1 + self.rng.below(120);
        let (postcode, city) = *self.rng.pick(POSTCODES);
        let dar = self.rng.uuid();
        self.file.addresses.push(Address {
            uuid: self.rng.uuid(),
            value: dar.clone(),
            name: format!("{street} {number}, {postcode} {city}"),
            address_type: self.classes.unit_postal.clone(),
            scope: "DAR".into(),
            visibility: None,
            person: None,
            org_unit: Some(uuid.clone()),
            engagement: None,
            dar: Some(DarFields {
                id: dar,
                street: format!("{street} {number}"),
                postcode: postcode.into(),
                city: city.into(),
            }),
            validity: from(opened),
        });
        if parent.is_some() && self.rng.chance(92) {
            let rank = level.unwrap_or(0).min(2);
            let manager = Manager {
                uuid: self.rng.uuid(),
                person: None, // filled in once persons exist
                org_unit: uuid.clone(),
                manager_type: Some(self.classes.manager_types[rank].clone()),
                manager_level: Some(self.classes.manager_levels[rank].clone()),
                responsibilities: self.responsibilities(),
                validity: from(opened),
            };
            self.file.managers.push(manager);
        }
        uuid
    }

    fn responsibilities(&mut self) -> Vec<String> {
        let all = &self.classes.responsibilities;
        let mut chosen = vec![all[0].clone()];
        if self.rng.chance(60) {
            chosen.push(all[1].clone());
        }
        if self.rng.chance(30) {
            chosen.push(all[2].clone());
        }
        chosen
    }

    fn make_persons(&mut self, departments: &[String]) {
        let as_of = self.spec.as_of;
        let mut staff_of: std::collections::HashMap<String, Vec<String>> = Default::default();
        for number in 0..self.spec.persons {
            let person = self.rng.uuid();
            let given = *self.rng.pick(GIVEN_NAMES);
            let surname = *self.rng.pick(SURNAMES);
            let born = NaiveDate::from_ymd_opt(
                1950 + self.rng.below(55) as i32,
                1 + self.rng.below(12) as u32,
                1 + self.rng.below(28) as u32,
            )
            .expect("a valid date");
            // The seventh digit tells the century (MO reads a person's birth date from it): 0-3
            // for 1900-1999, 4-9 for 2000-2036. Drawn again when taken (about three times in
            // 10,000 persons), so the rest of a seed's data stays as it was.
            let cpr = loop {
                let serial = self.rng.below(10_000);
                let century_digit = if born.year() < 2000 { serial / 1000 % 4 } else { 4 + serial / 1000 % 6 };
                let cpr = format!(
                    "{:02}{:02}{:02}{century_digit}{:03}",
                    born.day(),
                    born.month(),
                    born.year() % 100,
                    serial % 1000
                );
                if self.cprs.insert(cpr.clone()) {
                    break cpr;
                }
            };
            self.file.employees.push(Employee {
                uuid: person.clone(),
                cpr_number: self.rng.chance(98).then_some(cpr),
                given_name: given.into(),
                surname: surname.into(),
                nickname_given_name: None,
                nickname_surname: None,
                validity: from(born),
            });
            let engagements = if self.rng.chance(10) { 2 } else { 1 };
            for index in 0..engagements {
                let unit = self.rng.pick(departments).clone();
                let validity = within(self.engagement_period(as_of), self.opened[&unit].max(born));
                let job = self.rng.pick(&self.classes.job_functions).clone();
                let kind = if self.rng.chance(85) { 0 } else { 1 + self.rng.below(2) };
                let title = JOB_FUNCTIONS[self.classes.job_functions.iter().position(|j| *j == job).unwrap_or(0)];
                let is_current = validity.from.as_deref() <= Some(&as_of.to_string()[..]) && validity.to.is_none();
                if is_current {
                    staff_of.entry(unit.clone()).or_default().push(person.clone());
                }
                self.file.engagements.push(Engagement {
                    uuid: self.rng.uuid(),
                    user_key: format!("{:05}", number * 2 + index),
                    person: person.clone(),
                    org_unit: unit,
                    job_function: Some(job),
                    engagement_type: Some(self.classes.engagement_types[kind].clone()),
                    primary: None,
                    is_primary: index == 0,
                    extensions: std::iter::once(Some(title.to_owned())).chain(std::iter::repeat_n(None, 9)).collect(),
                    validity,
                });
            }
            self.person_addresses(&person, given, surname, number);
        }
        // A manager is someone working in the unit; posts in units without staff stay vacant.
        let mut managers = std::mem::take(&mut self.file.managers);
        for manager in &mut managers {
            if let Some(staff) = staff_of.get(&manager.org_unit).filter(|_| self.rng.chance(95)) {
                manager.person = Some(self.rng.pick(staff).clone());
            }
        }
        self.file.managers = managers;
    }

    /// Mostly current; some ended, some not yet started.
    fn engagement_period(&mut self, as_of: NaiveDate) -> Validity {
        let roll = self.rng.below(100);
        let days = |rng: &mut Rng, max: usize| Duration::days(1 + rng.below(max) as i64);
        if roll < 6 {
            let ended = as_of - days(&mut self.rng, 700);
            Validity { from: Some((ended - days(&mut self.rng, 3000)).to_string()), to: Some(ended.to_string()) }
        } else if roll < 10 {
            from(as_of + days(&mut self.rng, 180))
        } else {
            from(as_of - days(&mut self.rng, 7000))
        }
    }

    fn person_addresses(&mut self, person: &str, given: &str, surname: &str, number: usize) {
        let visibility = |rng: &mut Rng, classes: &Classes| {
            let roll = rng.below(100);
            classes.visibilities[if roll < 60 {
                0
            } else if roll < 90 {
                1
            } else {
                2
            }]
            .clone()
        };
        if self.rng.chance(90) {
            let mail = format!("{}.{}{}@demo-kommune.dk", given.to_lowercase(), surname.to_lowercase(), number)
                .replace('ø', "oe")
                .replace('æ', "ae")
                .replace('å', "aa");
            let visibility = visibility(&mut self.rng, &self.classes);
            self.person_address(person, &self.classes.email.clone(), "EMAIL", mail, visibility);
        }
        for _ in 0..[0, 1, 1, 2][self.rng.below(4)] {
            let phone = format!("{}{:07}", [2, 3, 4, 5, 6, 7, 8][self.rng.below(7)], self.rng.below(10_000_000));
            let visibility = visibility(&mut self.rng, &self.classes);
            self.person_address(person, &self.classes.phone.clone(), "PHONE", phone, visibility);
        }
    }

    fn person_address(&mut self, person: &str, address_type: &str, scope: &str, value: String, visibility: String) {
        let since = self.spec.as_of - Duration::days(1 + self.rng.below(2000) as i64);
        self.file.addresses.push(Address {
            uuid: self.rng.uuid(),
            name: value.clone(),
            value,
            address_type: address_type.into(),
            scope: scope.into(),
            visibility: Some(visibility),
            person: Some(person.into()),
            org_unit: None,
            engagement: None,
            dar: None,
            validity: from(since),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(persons: usize, seed: u64) -> DemoSpec {
        DemoSpec { persons, seed, as_of: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap() }
    }

    fn json(spec: &DemoSpec) -> String {
        serde_json::to_string(&generate(spec)).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
        assert_eq!(json(&spec(200, 7)), json(&spec(200, 7)));
        assert_ne!(json(&spec(200, 7)), json(&spec(200, 8)));
    }

    #[test]
    fn every_seed_has_the_frame_the_shipped_plugins_toml_names() {
        let frame = |seed: u64| {
            let file = generate(&spec(60, seed));
            let top = file.org_units.iter().find(|unit| unit.parent.is_none()).unwrap().uuid.clone();
            let mut classes: Vec<_> = file
                .classes
                .iter()
                .filter(|class| class.facet_user_key != "primary_type")
                .map(|class| (class.user_key.clone(), class.uuid.clone()))
                .collect();
            classes.sort();
            (file.organisation.uuid.clone(), top, classes)
        };
        let built_in = frame(1);
        assert_eq!(built_in.1, "62db179c-a848-4c5a-a633-46a69dd14426", "the top unit plugins.toml names");
        assert_eq!(frame(7), built_in);
    }

    #[test]
    fn the_committed_demo_snapshot_is_what_the_generator_makes() {
        assert!(
            generate(&built_in_spec()).to_json() == BUILT_IN_JSON,
            "demo/mo-snapshot.json is stale: regenerate it with `cargo run -- demo generate --out demo/mo-snapshot.json`"
        );
        assert_eq!(built_in().employees().len(), built_in_spec().persons);
    }

    #[test]
    fn every_person_has_a_cpr_number_of_their_own() {
        let file = generate(&spec(20_000, 1));
        let cprs: Vec<&str> = file.employees.iter().filter_map(|e| e.cpr_number.as_deref()).collect();
        let distinct: std::collections::HashSet<&str> = cprs.iter().copied().collect();
        assert!(cprs.len() > 19_000);
        assert_eq!(distinct.len(), cprs.len(), "MO refuses a second person with a CPR number");
    }

    #[test]
    fn the_municipality_has_what_the_plugins_look_at() {
        let file = generate(&spec(600, 1));
        let snapshot = Snapshot::new(Path::new("demo"), file).expect("a generated snapshot is valid");
        let as_of = "2026-11-23".to_owned();
        assert_eq!(snapshot.employees().len(), 600);
        let engagements = snapshot.engagements();
        assert!(engagements.iter().any(|e| e.validity.to.as_ref().is_some_and(|to| *to <= as_of)), "ended");
        assert!(engagements.iter().any(|e| e.validity.from.as_ref().is_some_and(|from| *from > as_of)), "future");
        let levels: std::collections::HashSet<_> =
            snapshot.org_units().iter().filter_map(|u| u.unit_level.clone()).collect();
        assert_eq!(levels.len(), 3);
        assert!(snapshot.addresses().iter().any(|a| a.dar.is_some() && a.org_unit.is_some()));
        for scope in ["EMAIL", "PHONE"] {
            assert!(snapshot.addresses().iter().any(|a| a.scope == scope && a.person.is_some()));
        }
        let visibilities: std::collections::HashSet<_> =
            snapshot.addresses().iter().filter_map(|a| a.visibility.clone()).collect();
        assert_eq!(visibilities.len(), 3, "public, internal and secret");
        assert!(snapshot.managers().iter().any(|m| m.person.is_some()));
        assert!(snapshot.managers().iter().any(|m| m.person.is_none()), "some posts are vacant");
        let units: std::collections::HashSet<_> = snapshot.org_units().iter().map(|u| u.uuid.as_str()).collect();
        assert!(engagements.iter().all(|e| units.contains(e.org_unit.as_str())));
    }
}
