//! The five files, from MO data in memory. Behaviour as docs/plan2learn.md states it: DIPEX's,
//! rule by rule, except where DIPEX crashes or leaks (listed there).

use crate::settings::{ConfigError, ManagerRule, PrimaryRule, Settings, StartDateRule, TitleRule};
use moport_sdk::csv::CsvFile;
use moport_sdk::dates::{copenhagen_midnight, has_started, valid_on};
use moport_sdk::mo::{Address, Class, Employee, Engagement, Manager, OrgUnit};
use std::collections::{HashMap, HashSet};

/// The facet whose classes are job functions (stillingskoder).
pub const JOB_FUNCTION_FACET: &str = "engagement_job_function";
/// The responsibility a one-per-unit manager row prefers as its title.
pub const STAFF_RESPONSIBILITY: &str = "Personale: ansættelse/afskedigelse";
/// The title of a one-per-unit manager row without responsibilities.
pub const NO_RESPONSIBILITY: &str = "Intet ansvar";

/// What the export reads from MO.
#[derive(Debug, Clone, Default)]
pub struct MoData {
    /// The run's date, `YYYY-MM-DD`.
    pub today: String,
    /// Units valid today: the root and everything below it.
    pub org_units: Vec<OrgUnit>,
    /// Every class, every validity (for names, scopes and facets).
    pub classes: Vec<Class>,
    /// Persons valid today.
    pub employees: Vec<Employee>,
    /// Engagement validities overlapping `[today, ∞)`.
    pub engagements: Vec<Engagement>,
    /// Every validity of every engagement, for the original start date; empty when the rules
    /// do not need it.
    pub engagement_history: Vec<Engagement>,
    /// Address validities overlapping `[today, ∞)`.
    pub addresses: Vec<Address>,
    /// Managers valid today.
    pub managers: Vec<Manager>,
}

/// The files, named as plan2learn's server expects them, with the counts for the run's report.
#[derive(Debug)]
pub struct Export {
    pub files: Vec<(&'static str, Vec<u8>)>,
    pub counts: Vec<(&'static str, u64)>,
}

/// Classes by uuid, each as it is today (or as it was last, for an ended class).
struct Classes<'a>(HashMap<&'a str, &'a Class>);

impl<'a> Classes<'a> {
    fn new(classes: &'a [Class], today: &str) -> Classes<'a> {
        let mut index: HashMap<&str, &Class> = HashMap::new();
        for class in classes {
            let better = match index.get(class.uuid.as_str()) {
                None => true,
                Some(known) => {
                    !valid_on(&known.validity, today)
                        && (valid_on(&class.validity, today) || class.validity.from > known.validity.from)
                }
            };
            if better {
                index.insert(&class.uuid, class);
            }
        }
        Classes(index)
    }

    fn name(&self, uuid: &str) -> Option<&'a str> {
        self.0.get(uuid).map(|class| class.name.as_str())
    }
}

pub fn export(mo: &MoData, settings: &Settings) -> Result<Export, ConfigError> {
    let classes = Classes::new(&mo.classes, &mo.today);
    let tree = tree(&mo.org_units, &settings.root_unit)?;
    let exported: Vec<&OrgUnit> = tree
        .iter()
        .copied()
        .filter(|unit| {
            let level = unit.unit_level.as_deref().and_then(|level| classes.name(level)).unwrap_or("");
            !settings.too_deep.iter().any(|name| name == level)
        })
        .collect();
    let exported_uuids: HashSet<&str> = exported.iter().map(|unit| unit.uuid.as_str()).collect();
    let persons: HashMap<&str, &Employee> = mo.employees.iter().map(|p| (p.uuid.as_str(), p)).collect();
    let allowed: HashSet<&str> = settings.allowed_engagement_types.iter().map(String::as_str).collect();
    let is_allowed = |e: &Engagement| e.engagement_type.as_deref().is_some_and(|t| allowed.contains(t));

    // Engagement validities from today on, by engagement in start order: each engagement's
    // first is the one in effect today, or the earliest future one.
    let mut validities: Vec<&Engagement> = mo.engagements.iter().collect();
    validities.sort_by(|a, b| (&a.uuid, &a.validity.from).cmp(&(&b.uuid, &b.validity.from)));

    let organisation = organisation_file(&exported, &mo.addresses, &mo.today);
    let (mut bruger, bruger_index) = bruger_rows(mo, settings, &tree, &persons, &classes, &is_allowed);
    let mut engagement = CsvFile::new(&[
        "EngagementId",
        "BrugerId",
        "AfdelingsId",
        "AktivStatus",
        "StillingskodeId",
        "Primær",
        "Engagementstype",
        "StartdatoEngagement",
    ]);
    let first_starts = first_starts(&mo.engagement_history);
    let mut job_functions: HashSet<&str> = HashSet::new();
    let mut engagement_rows = 0;
    // Person by person (in uuid order), each person's engagements in uuid order.
    let mut firsts: Vec<&Engagement> = validities.chunk_by(|a, b| a.uuid == b.uuid).map(|same| same[0]).collect();
    firsts.sort_by(|a, b| (&a.person, &a.uuid).cmp(&(&b.person, &b.uuid)));
    for e in firsts {
        if !persons.contains_key(e.person.as_str()) {
            continue; // not a person today: DIPEX's universe is the current persons
        }
        if !exported_uuids.contains(e.org_unit.as_str()) || !is_allowed(e) {
            continue;
        }
        let started = has_started(&e.validity, &mo.today);
        let start = match settings.rules.start_date {
            StartDateRule::FutureOnly => (!started).then(|| e.validity.from.clone().unwrap_or_default()),
            StartDateRule::OriginalStart => match first_starts.get(e.uuid.as_str()) {
                Some(start) => Some(start.clone()),
                None => continue, // as DIPEX: an engagement MO has no history for is left out
            },
        };
        let primary = match settings.rules.primary {
            PrimaryRule::IsPrimary => e.is_primary,
            PrimaryRule::AlwaysZero => false,
        };
        let active = started || settings.rules.future_engagements_active;
        if let Some(job_function) = e.job_function.as_deref() {
            job_functions.insert(job_function);
        }
        engagement.row(&[
            Some(e.uuid.as_str()),
            Some(e.person.as_str()),
            Some(e.org_unit.as_str()),
            Some(if active { "1" } else { "0" }),
            e.job_function.as_deref(),
            Some(if primary { "1" } else { "0" }),
            e.engagement_type.as_deref().and_then(|t| classes.name(t)),
            start.as_deref(),
        ]);
        engagement_rows += 1;
        // The primary engagement names the person's title (the last one processed wins);
        // without an extension or a job function the title is empty, where DIPEX crashes.
        let from_primary = match settings.rules.title {
            TitleRule::PrimaryExtension3 => Some(3),
            TitleRule::PrimaryExtension2 => Some(2),
            TitleRule::LowestUserKeyExtension1 => None,
        };
        if let Some(n) = from_primary.filter(|_| primary)
            && let Some(&row) = bruger_index.get(e.person.as_str())
        {
            let title = extension(e, n).or_else(|| e.job_function.as_deref().and_then(|j| classes.name(j)));
            bruger[row].5 = title.map(str::to_owned);
        }
    }

    let mut stillingskode = CsvFile::new(&["StillingskodeID", "AktivStatus", "Stillingskode", "Stillingskode#"]);
    let mut job_function_rows = 0;
    let mut seen = HashSet::new();
    for class in
        mo.classes.iter().filter(|c| c.facet_user_key == JOB_FUNCTION_FACET && valid_on(&c.validity, &mo.today))
    {
        if job_functions.contains(class.uuid.as_str()) && seen.insert(class.uuid.as_str()) {
            stillingskode.row(&[
                Some(class.uuid.as_str()),
                Some("1"),
                Some(class.name.as_str()),
                Some(class.uuid.as_str()),
            ]);
            job_function_rows += 1;
        }
    }

    let (leder, manager_rows) = leder_file(&exported, &mo.managers, settings.rules.managers, &classes);

    let mut bruger_file = CsvFile::new(&["BrugerId", "CPR", "Navn", "E-mail", "Mobil", "Stilling"]);
    for (uuid, cpr, name, email, phone, title) in &bruger {
        bruger_file.row(&[
            Some(uuid.as_str()),
            cpr.as_deref(),
            Some(name.as_str()),
            email.as_deref(),
            phone.as_deref(),
            title.as_deref(),
        ]);
    }
    Ok(Export {
        counts: vec![
            ("units", exported.len() as u64),
            ("persons", bruger.len() as u64),
            ("engagements", engagement_rows),
            ("job functions", job_function_rows),
            ("managers", manager_rows),
        ],
        files: vec![
            ("organisation.csv", organisation),
            ("engagement.csv", engagement.into_bytes()),
            ("stillingskode.csv", stillingskode.into_bytes()),
            ("leder.csv", leder),
            ("bruger.csv", bruger_file.into_bytes()),
        ],
    })
}

/// The root and every unit below it, in pre-order; children in uuid order (MO's order).
fn tree<'a>(units: &'a [OrgUnit], root: &str) -> Result<Vec<&'a OrgUnit>, ConfigError> {
    let mut children: HashMap<&str, Vec<&OrgUnit>> = HashMap::new();
    let mut root_unit = None;
    for unit in units {
        if unit.uuid == root {
            root_unit = Some(unit);
        } else if let Some(parent) = unit.parent.as_deref() {
            children.entry(parent).or_default().push(unit);
        }
    }
    let root_unit = root_unit.ok_or_else(|| {
        ConfigError(format!(
            "the root unit `{root}` (setting `{}`) is not an org unit valid today",
            crate::settings::ROOT_UNIT
        ))
    })?;
    for list in children.values_mut() {
        list.sort_by(|a, b| a.uuid.cmp(&b.uuid));
    }
    let mut order = Vec::new();
    let mut pending = vec![root_unit];
    while let Some(unit) = pending.pop() {
        order.push(unit);
        pending.extend(children.get(unit.uuid.as_str()).into_iter().flatten().rev());
    }
    Ok(order)
}

fn organisation_file(exported: &[&OrgUnit], addresses: &[Address], today: &str) -> Vec<u8> {
    // A unit's postal address: a DAR address valid today; with several, the last by uuid (as DIPEX
    // takes the last in its cache order).
    let mut postal: HashMap<&str, &Address> = HashMap::new();
    for address in addresses.iter().filter(|a| a.scope == "DAR" && valid_on(&a.validity, today)) {
        if let Some(unit) = address.org_unit.as_deref() {
            postal.insert(unit, address);
        }
    }
    let mut file = CsvFile::new(&["AfdelingsID", "Afdelingsnavn", "Parentid", "Gade", "Postnr", "By"]);
    for unit in exported {
        // From MO's structured DAR fields, not by splitting the address text as DIPEX does.
        let dar = postal.get(unit.uuid.as_str()).and_then(|a| a.dar.as_ref());
        file.row(&[
            Some(unit.uuid.as_str()),
            Some(unit.name.as_str()),
            unit.parent.as_deref(),
            dar.map(|d| d.street.as_str()),
            dar.map(|d| d.postcode.as_str()),
            dar.map(|d| d.city.as_str()),
        ]);
    }
    file.into_bytes()
}

type BrugerRow = (String, Option<String>, String, Option<String>, Option<String>, Option<String>);

/// bruger.csv rows and, per person, the index of the person's row.
fn bruger_rows<'a>(
    mo: &'a MoData,
    settings: &Settings,
    tree: &[&OrgUnit],
    persons: &HashMap<&str, &'a Employee>,
    classes: &Classes,
    is_allowed: &impl Fn(&Engagement) -> bool,
) -> (Vec<BrugerRow>, HashMap<&'a str, usize>) {
    let mut by_unit: HashMap<&str, Vec<&Engagement>> = HashMap::new();
    for e in mo.engagements.iter().filter(|e| is_allowed(e)) {
        by_unit.entry(&e.org_unit).or_default().push(e);
    }
    for list in by_unit.values_mut() {
        list.sort_by(|a, b| (&a.uuid, &a.validity.from).cmp(&(&b.uuid, &b.validity.from)));
    }
    let mut addresses: HashMap<&str, Vec<&Address>> = HashMap::new();
    for address in &mo.addresses {
        if let Some(person) = address.person.as_deref() {
            addresses.entry(person).or_default().push(address);
        }
    }
    let mut current_engagements: HashMap<&str, Vec<&Engagement>> = HashMap::new();
    for e in mo.engagements.iter().filter(|e| valid_on(&e.validity, &mo.today)) {
        current_engagements.entry(&e.person).or_default().push(e);
    }

    let mut rows = Vec::new();
    let mut index = HashMap::new();
    let mut used_cprs = HashSet::new();
    // Every unit of the tree, too deep or not, and every validity from today on.
    for unit in tree {
        for e in by_unit.get(unit.uuid.as_str()).into_iter().flatten() {
            let Some(&person) = persons.get(e.person.as_str()) else { continue };
            if index.contains_key(person.uuid.as_str()) {
                continue;
            }
            // One row per CPR number, as DIPEX; persons without one are not collapsed into one.
            if let Some(cpr) = person.cpr_number.as_deref()
                && !used_cprs.insert(cpr)
            {
                continue;
            }
            let mine = addresses.get(person.uuid.as_str()).map(Vec::as_slice).unwrap_or_default();
            let title = match settings.rules.title {
                TitleRule::LowestUserKeyExtension1 => current_engagements
                    .get(person.uuid.as_str())
                    .and_then(|list| list.iter().min_by(|a, b| user_key_tail(a).cmp(user_key_tail(b))))
                    .and_then(|e| extension(e, 1))
                    .map(str::to_owned),
                _ => None, // set from the primary engagement, with the engagement rows
            };
            index.insert(person.uuid.as_str(), rows.len());
            rows.push((
                person.uuid.clone(),
                person.cpr_number.clone(),
                python_strip(&format!("{} {}", person.given_name, person.surname)).to_owned(),
                choose_email(&candidates(mine, "EMAIL"), &settings.email_priority, classes).map(|a| a.value.clone()),
                choose_phone(&candidates(mine, "PHONE"), &settings.phone_priority, classes).map(|a| a.value.clone()),
                title,
            ));
        }
    }
    (rows, index)
}

/// `text` without what Python's `str.strip()` takes off its ends, as MO makes a person's name
/// (`f"{givenname} {surname}".strip()`): Unicode white space and the four separator controls
/// U+001C..U+001F, which Rust's `trim` keeps.
pub fn python_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// `user_key` without its first three characters (DIPEX's keys look like `AB-1234`).
fn user_key_tail(e: &Engagement) -> &str {
    e.user_key.char_indices().nth(3).map_or("", |(at, _)| &e.user_key[at..])
}

/// `extension_n`, when set and not empty.
fn extension(e: &Engagement, n: usize) -> Option<&str> {
    e.extensions.get(n - 1).and_then(Option::as_deref).filter(|text| !text.is_empty())
}

/// A person's addresses of one scope, every validity from today on, newest start first.
pub fn candidates<'a>(addresses: &[&'a Address], scope: &str) -> Vec<&'a Address> {
    let mut found: Vec<&Address> = addresses.iter().copied().filter(|a| a.scope == scope).collect();
    found.sort_by(|a, b| b.validity.from.cmp(&a.validity.from));
    found
}

/// Mobil: the first candidate of the best-placed type in the priority list; types outside the
/// list are never used. Unlike DIPEX, a SECRET number is never exported, nor one whose
/// visibility class MO does not have (it may have been SECRET).
pub fn choose_phone<'a>(
    candidates: &[&'a Address],
    priority: &[String],
    classes: &impl ClassScopes,
) -> Option<&'a Address> {
    candidates
        .iter()
        .copied()
        .filter(|a| !matches!(classes.marking(a), Marking::Scope("SECRET") | Marking::UnknownClass))
        .filter_map(|a| priority.iter().position(|p| *p == a.address_type).map(|rank| (rank, a)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, a)| a)
}

/// E-mail: among public or unmarked candidates, the one of the best-placed type in the priority
/// list (types outside it come last), then the lowest address uuid; the newest validity of an
/// address wins.
pub fn choose_email<'a>(
    candidates: &[&'a Address],
    priority: &[String],
    classes: &impl ClassScopes,
) -> Option<&'a Address> {
    let public = |a: &&Address| matches!(classes.marking(a), Marking::Unmarked | Marking::Scope("PUBLIC"));
    candidates.iter().copied().filter(public).min_by(|a, b| {
        let rank = |a: &Address| priority.iter().position(|p| *p == a.address_type).unwrap_or(priority.len());
        (rank(a), &a.uuid).cmp(&(rank(b), &b.uuid))
    })
}

/// How an address's visibility marks it, as far as the address choosers care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marking<'a> {
    /// No visibility, or a visibility class without a scope: DIPEX exports both as public.
    Unmarked,
    /// The scope of its visibility class (`PUBLIC`, `SECRET`, `INTERNAL`, ...).
    Scope(&'a str),
    /// A visibility class MO does not have (DIPEX crashed on it): never taken as public.
    UnknownClass,
}

/// What the address choosers need of classes: how an address's visibility marks it.
pub trait ClassScopes {
    fn marking(&self, address: &Address) -> Marking<'_>;
}

impl ClassScopes for Classes<'_> {
    fn marking(&self, address: &Address) -> Marking<'_> {
        let Some(visibility) = address.visibility.as_deref() else { return Marking::Unmarked };
        match self.0.get(visibility) {
            None => Marking::UnknownClass,
            Some(class) => class.scope.as_deref().map_or(Marking::Unmarked, Marking::Scope),
        }
    }
}

/// Each engagement's first start in its whole history, as MO writes a validity start: midnight
/// in Copenhagen with its UTC offset (`2015-03-01T00:00:00+01:00`).
fn first_starts(history: &[Engagement]) -> HashMap<&str, String> {
    let mut first: HashMap<&str, Option<&str>> = HashMap::new();
    for e in history {
        let entry = first.entry(&e.uuid).or_insert(e.validity.from.as_deref());
        if e.validity.from.as_deref() < *entry {
            *entry = e.validity.from.as_deref();
        }
    }
    first.into_iter().filter_map(|(uuid, from)| Some((uuid, copenhagen_midnight(from?)?))).collect()
}

fn leder_file(exported: &[&OrgUnit], managers: &[Manager], rule: ManagerRule, classes: &Classes) -> (Vec<u8>, u64) {
    let mut by_unit: HashMap<&str, Vec<&Manager>> = HashMap::new();
    for manager in managers.iter().filter(|m| m.person.as_deref().is_some_and(|p| !p.is_empty())) {
        by_unit.entry(&manager.org_unit).or_default().push(manager);
    }
    let mut rows = 0;
    let file = match rule {
        ManagerRule::EveryManager => {
            let mut file =
                CsvFile::new(&["BrugerId", "AfdelingsID", "AktivStatus", "Titel", "OrganisationsfunktionsUUID"]);
            for unit in exported {
                for m in by_unit.get(unit.uuid.as_str()).into_iter().flatten() {
                    let title = m.responsibilities.first().and_then(|r| classes.name(r));
                    file.row(&[m.person.as_deref(), Some(unit.uuid.as_str()), Some("1"), title, Some(m.uuid.as_str())]);
                    rows += 1;
                }
            }
            file
        }
        ManagerRule::OnePerUnit => {
            let mut file = CsvFile::new(&["BrugerId", "AfdelingsID", "AktivStatus", "Titel"]);
            for unit in exported {
                // With several managers, the last one (as DIPEX, which warns about it).
                let Some(m) = by_unit.get(unit.uuid.as_str()).and_then(|list| list.last()) else { continue };
                let names: Vec<&str> = m.responsibilities.iter().filter_map(|r| classes.name(r)).collect();
                let title = if names.contains(&STAFF_RESPONSIBILITY) {
                    STAFF_RESPONSIBILITY
                } else {
                    names.last().copied().unwrap_or(NO_RESPONSIBILITY)
                };
                file.row(&[m.person.as_deref(), Some(unit.uuid.as_str()), Some("1"), Some(title)]);
                rows += 1;
            }
            file
        }
    };
    (file.into_bytes(), rows)
}

#[cfg(test)]
mod tests {
    use super::python_strip;

    #[test]
    fn names_are_stripped_of_what_python_strips() {
        // Every character Python 3's str.isspace() is true for.
        let python_space = "\t\n\u{b}\u{c}\r\u{1c}\u{1d}\u{1e}\u{1f} \u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\
                            \u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\
                            \u{205f}\u{3000}";
        for space in python_space.chars() {
            assert_eq!(python_strip(&format!("{space}Anna Berg{space}")), "Anna Berg", "U+{:04X}", space as u32);
        }
        assert_eq!(python_strip("Anna Berg\u{1f}"), "Anna Berg");
        assert_eq!(python_strip("\u{200b}Anna\u{1f}Berg\u{200b}"), "\u{200b}Anna\u{1f}Berg\u{200b}", "not white space");
    }
}
