//! The wasm side: lists and reads the LOS files on the remote target, asks MO and DAR what the
//! plan needs, applies the plan and moves the last-import time on. All decisions are in the
//! pure modules; this file only moves data between them and the host.

use crate::csv::failed_addresses_csv;
use crate::dates::{Date, Instant, parse_dipex_state};
use crate::plan::{self, MoView, Plan};
use crate::rows::ParsedFile;
use crate::select::{self, FileKind, Listed};
use crate::settings::Settings;
use moport_sdk::dates::valid_on;
use moport_sdk::mo::write::{self, Change, Object, ObjectKind, Outcome};
use moport_sdk::mo::{self, Query, Validity};
use moport_sdk::{CallError, Plugin, PluginError, Report, RunContext, dar, files, log, remote, state};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The state key of the last successful run's start (RFC 3339); files modified after it are new.
pub const LAST_IMPORT: &str = "last_import";

/// Row errors shown in the run's error; the rest are counted (all are in the log).
const ERRORS_SHOWN: usize = 50;
/// Notes logged at info; a large file can give thousands (a person per row with one e-mail).
const NOTES_SHOWN: usize = 20;

struct AarhusLos;

impl Plugin for AarhusLos {
    fn run(ctx: RunContext) -> Result<Report, PluginError> {
        let settings = Settings::read(|key| moport_sdk::settings::get_json(key).ok().flatten())
            .map_err(|err| PluginError::Config(err.0))?;
        let today = Date::parse(&ctx.today)
            .ok_or_else(|| PluginError::Internal(format!("the host's date {:?} is not a date", ctx.today)))?;
        let last_import = last_import()?;
        let files = read_new_files(&settings, last_import.as_deref())?;
        let lacking = warn_of_missing_columns(&files);
        let view = read_mo(&files, &ctx.today)?;
        let addresses = look_up_addresses(&files)?;
        let plan = plan::plan(&files, &view, &addresses, &settings, today).map_err(|err| match err {
            plan::PlanError::NoOrganisation => PluginError::Data(err.to_string()),
            plan::PlanError::Data(errors) => data_errors(&errors),
        })?;
        log_notes(&plan.notes);
        write_failure_lists(&plan, &settings, ctx.dry_run);
        let (changes, outcomes) = apply(plan.batches)?;
        if !ctx.dry_run {
            state::set(LAST_IMPORT, &next_last_import(&ctx.started_at)?)?;
        }
        Ok(report(&files, &changes, &outcomes, ctx.dry_run, lacking))
    }
}

moport_sdk::export_plugin!(AarhusLos);

/// The whole plan as one `mo-write` batch: the host judges each change after the ones before it
/// and sends only the net effect, so replaying files MO already holds writes nothing, and a dry
/// run sees what every file does. The host sends a large batch in several MO transactions; if MO
/// fails midway, the last-import time stays, and the rerun takes the same files and finds the
/// first part already done.
fn apply(batches: Vec<plan::Batch>) -> Result<(Vec<Change>, Vec<Outcome>), PluginError> {
    let changes: Vec<Change> = batches.into_iter().flat_map(|batch| batch.changes).collect();
    if changes.is_empty() {
        return Ok((changes, Vec::new()));
    }
    let outcomes = write::apply(&changes).map_err(|err| match err {
        CallError::Denied(message) => PluginError::Denied(message),
        other => PluginError::Io(format!(
            "MO refused the import: {}; the last-import time did not move, so the next run takes the same files again",
            other.message()
        )),
    })?;
    Ok((changes, outcomes))
}

/// Warns of each optional column a file lacks; the number of such files.
fn warn_of_missing_columns(files: &[ParsedFile]) -> u64 {
    let mut lacking = 0;
    for file in files {
        let missing = file.missing_optional_columns();
        if missing.is_empty() {
            continue;
        }
        lacking += 1;
        let named: Vec<String> = missing.iter().map(|column| format!("`{column}`")).collect();
        log::warn(&format!(
            "{}: the optional column{} {} {} missing, so every row is read as if it were empty; \
             if the column is there under another name, correct the header",
            file.name,
            if missing.len() == 1 { "" } else { "s" },
            named.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
        ));
    }
    lacking
}

/// The first notes for the operator, the rest at debug level.
fn log_notes(notes: &[String]) {
    for (index, note) in notes.iter().enumerate() {
        if index < NOTES_SHOWN {
            log::info(note);
        } else {
            log::debug(note);
        }
    }
    if notes.len() > NOTES_SHOWN {
        log::info(&format!("... and {} more notes (run with -v to see them)", notes.len() - NOTES_SHOWN));
    }
}

/// The time files must be modified after to be new next run: this run's start, less a second.
/// The host gives the start in whole seconds and servers often keep whole-second times, so a
/// file written in the second the run started counts as new again (taking it twice is harmless;
/// the second time writes nothing). Kept by the host only if the run ends well.
fn next_last_import(started_at: &str) -> Result<String, PluginError> {
    let start = Instant::parse_rfc3339(started_at)
        .ok_or_else(|| PluginError::Internal(format!("the host's start time {started_at:?} is not RFC 3339")))?;
    Ok(start.plus_seconds(-1).to_rfc3339_utc())
}

/// The start of the last successful run, or DIPEX's last import time taken over through
/// `migrate_state`; `None` on the first run.
fn last_import() -> Result<Option<String>, PluginError> {
    let Some(text) = state::get(LAST_IMPORT)? else { return Ok(None) };
    if Instant::parse_rfc3339(&text).is_some() {
        return Ok(Some(text));
    }
    parse_dipex_state(&text).map(Some).map_err(|problem| {
        PluginError::Config(format!(
            "the state `{LAST_IMPORT}` is neither a time moport wrote nor DIPEX's state file format ({problem}); \
             see it with `moport state show aarhus-los`, or run `moport state clear aarhus-los` to import every file again"
        ))
    })
}

/// The files modified since the last import, read and parsed; every bad row of every file is
/// reported, and nothing is imported if there is one.
fn read_new_files(settings: &Settings, last_import: Option<&str>) -> Result<Vec<ParsedFile>, PluginError> {
    let listing = remote::list(&settings.source, &settings.ftp_folder).map_err(|err| {
        PluginError::Io(format!("listing the LOS files on the target `{}`: {}", settings.source, err.message()))
    })?;
    let listed: Vec<Listed> =
        listing.into_iter().map(|entry| Listed { name: entry.name, modified: entry.modified }).collect();
    let selected = select::select(&listed, last_import)
        .map_err(|errors| PluginError::Data(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")))?;
    log::info(&format!(
        "{} new of {} files on `{}` (last import: {})",
        selected.len(),
        listed.iter().filter(|file| !file.name.ends_with('/')).count(),
        settings.source,
        last_import.unwrap_or("never")
    ));
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for (done, file) in selected.iter().enumerate() {
        log::progress("reading LOS files", done as u64, selected.len() as u64);
        let path = match settings.ftp_folder.as_str() {
            "" => file.name.clone(),
            folder => format!("{folder}/{}", file.name),
        };
        let bytes = remote::read(&settings.source, &path).map_err(|err| {
            PluginError::Io(format!("reading {} from the target `{}`: {}", file.name, settings.source, err.message()))
        })?;
        match ParsedFile::parse(file, &bytes) {
            Ok(parsed) => files.push(parsed),
            Err(bad) => errors.extend(bad),
        }
    }
    log::progress("reading LOS files", selected.len() as u64, selected.len() as u64);
    if !errors.is_empty() {
        return Err(data_errors(&errors));
    }
    Ok(files)
}

/// Every row error in the log, and the first ones in the run's error.
fn data_errors(errors: &[crate::error::RowError]) -> PluginError {
    for error in errors {
        log::error(&error.to_string());
    }
    let mut message = format!(
        "{} bad rows; nothing was imported and the last-import time did not move. Fix the files and run again:\n",
        errors.len()
    );
    let shown: Vec<String> = errors.iter().take(ERRORS_SHOWN).map(ToString::to_string).collect();
    message.push_str(&shown.join("\n"));
    if errors.len() > ERRORS_SHOWN {
        message.push_str(&format!("\n... and {} more (all are in the log)", errors.len() - ERRORS_SHOWN));
    }
    PluginError::Data(message)
}

/// What the plan needs of MO, read with few calls: whole collections where the plan needs them
/// all (facets, IT systems, employees by CPR), the named objects otherwise.
fn read_mo(files: &[ParsedFile], today: &str) -> Result<MoView, PluginError> {
    let organisation = match mo::root_organisation() {
        Ok(organisation) => Some(organisation.uuid),
        Err(CallError::NotFound(_)) => None,
        Err(err) => return Err(err.into()),
    };
    let facets = mo::facets(&Query::today())?.into_iter().map(|facet| (facet.user_key, facet.uuid)).collect();
    let class_facets: Vec<&str> = plan::class_facets(files).into_iter().collect();
    let classes =
        if class_facets.is_empty() { Vec::new() } else { mo::classes(&Query::today().in_facets(&class_facets))? };
    let it_systems = mo::it_systems(&Query::today())?;
    // Every employee, to match CPR numbers: only when a file names persons by CPR.
    let names_persons = files.iter().any(|file| {
        matches!(file.kind, FileKind::PersNew | FileKind::PersChange | FileKind::LederNew | FileKind::LederChange)
    });
    let employees = match names_persons {
        true => current(mo::employees(&all_history(Vec::new()))?, |e| (&e.uuid, &e.validity), today),
        false => HashMap::new(),
    };
    let employees_by_cpr =
        employees.values().filter_map(|e| e.cpr_number.clone().map(|cpr| (cpr, e.uuid.clone()))).collect();

    let org_units = current(named(&plan::org_unit_uuids(files), mo::org_units)?, |u| (&u.uuid, &u.validity), today);
    let details = plan::detail_uuids(files);
    let addresses = current(named(&details, mo::addresses)?, |a| (&a.uuid, &a.validity), today);
    let engagements = current(named(&details, mo::engagements)?, |e| (&e.uuid, &e.validity), today);
    let it_users = current(named(&details, mo::it_users)?, |i| (&i.uuid, &i.validity), today);
    let managers = named(&details, mo::managers)?;
    let existing = (org_units.keys().chain(addresses.keys()).chain(engagements.keys()).chain(it_users.keys()))
        .cloned()
        .chain(managers.into_iter().map(|manager| manager.uuid))
        .collect();
    Ok(MoView {
        organisation,
        facets,
        classes,
        it_systems,
        employees_by_cpr,
        org_units,
        existing,
        employees,
        engagements,
        addresses,
        it_users,
    })
}

/// One record per object: the one valid `today`, else the latest.
fn current<T>(records: Vec<T>, key: impl Fn(&T) -> (&String, &Validity), today: &str) -> HashMap<String, T> {
    let mut kept: HashMap<String, T> = HashMap::new();
    for record in records {
        let (uuid, _) = key(&record);
        let keep_old = kept.get(uuid).is_some_and(|old| valid_on(key(old).1, today));
        if !keep_old {
            kept.insert(uuid.clone(), record);
        }
    }
    kept
}

fn all_history(uuids: Vec<String>) -> Query {
    Query { uuids, ..Query::window(None, None) }
}

/// Every record of these objects, in all their history; none asked, none read (an empty uuid
/// list would mean "all").
fn named<T>(
    uuids: &BTreeSet<String>,
    read: impl Fn(&Query) -> Result<Vec<T>, CallError>,
) -> Result<Vec<T>, PluginError> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(read(&all_history(uuids.iter().cloned().collect()))?)
}

/// DAR ids of the units' postal addresses; `None` where DAR has no confident match.
fn look_up_addresses(files: &[ParsedFile]) -> Result<HashMap<String, Option<String>>, PluginError> {
    let texts = plan::addresses_to_look_up(files);
    let total = texts.len() as u64;
    let mut found = HashMap::new();
    for (done, text) in texts.into_iter().enumerate() {
        log::progress("looking addresses up in DAR", done as u64, total);
        let id = dar::lookup_text(&text)
            .map_err(|err| PluginError::Io(format!("looking up an address in DAR: {}", err.message())))?
            .map(|address| address.id);
        found.insert(text, id);
    }
    log::progress("looking addresses up in DAR", total, total);
    Ok(found)
}

/// DIPEX's `failed_addr_<file>` lists: always in the output folder, and on the LOS server's
/// `dar_failures_folder` when set. As in DIPEX, a list that cannot be written is logged and the
/// import goes on: the lists are for people, the import is what matters.
fn write_failure_lists(plan: &Plan, settings: &Settings, dry_run: bool) {
    for list in &plan.failed_addresses {
        log::warn(&format!("{}: {} addresses DAR does not know", list.file_name, list.rows.len()));
        if dry_run {
            continue;
        }
        let contents = failed_addresses_csv(&list.rows);
        if let Err(err) = files::write(&list.file_name, &contents) {
            log::error(&format!("could not write {} to the output folder: {}", list.file_name, err.message()));
        }
        if let Some(path) = settings.failure_list_path(&list.file_name)
            && let Err(err) = remote::write(&settings.source, &path, &contents)
        {
            // Nothing makes the folder: DIPEX's FTP code did not either, and AAK's server has it.
            log::error(&format!("could not write {path} to the target `{}`: {}", settings.source, err.message()));
        }
    }
}

fn kind_label(change: &Change) -> &'static str {
    let kind = match change {
        Change::Create(object) | Change::Update(object) => match object {
            Object::Facet(_) => ObjectKind::Facet,
            Object::Class(_) => ObjectKind::Class,
            Object::ItSystem(_) => ObjectKind::ItSystem,
            Object::OrgUnit(_) => ObjectKind::OrgUnit,
            Object::Employee(_) => ObjectKind::Employee,
            Object::Engagement(_) => ObjectKind::Engagement,
            Object::Manager(_) => ObjectKind::Manager,
            Object::Address(_) => ObjectKind::Address,
            Object::ItUser(_) => ObjectKind::ItUser,
        },
        Change::Terminate(termination) => termination.kind,
    };
    match kind {
        ObjectKind::Facet => "facets",
        ObjectKind::Class => "classes",
        ObjectKind::ItSystem => "IT systems",
        ObjectKind::OrgUnit => "org units",
        ObjectKind::Employee => "employees",
        ObjectKind::Engagement => "engagements",
        ObjectKind::Manager => "managers",
        ObjectKind::Address => "addresses",
        ObjectKind::ItUser => "IT users",
    }
}

/// Per kind of object, how many were created, updated and terminated, and a summary line.
fn report(files: &[ParsedFile], changes: &[Change], outcomes: &[Outcome], dry_run: bool, lacking: u64) -> Report {
    let mut by_kind: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    let (mut unchanged, mut missing) = (0, 0);
    for (change, outcome) in changes.iter().zip(outcomes) {
        let slot = match outcome {
            Outcome::Created => 0,
            Outcome::Updated => 1,
            Outcome::Terminated => 2,
            Outcome::Unchanged => {
                unchanged += 1;
                continue;
            }
            // DIPEX logged MO's 404 and went on; so does moport, counting them.
            Outcome::Missing => {
                if let Change::Terminate(termination) = change {
                    log::warn(&format!(
                        "{}: {} is not in MO, so it was not ended",
                        kind_label(change),
                        termination.uuid
                    ));
                }
                missing += 1;
                continue;
            }
        };
        by_kind.entry(kind_label(change)).or_default()[slot] += 1;
    }
    let total = |slot: usize| by_kind.values().map(|counts| counts[slot]).sum::<u64>();
    let (created, updated, terminated) = (total(0), total(1), total(2));
    let summary = match dry_run {
        true => format!(
            "planned from {} files: would create {created}, update {updated} and terminate {terminated} objects \
             ({unchanged} already as planned); dry run: nothing written, last-import time unchanged",
            files.len()
        ),
        false => format!(
            "imported {} files: created {created}, updated {updated} and terminated {terminated} objects \
             ({unchanged} already as planned)",
            files.len()
        ),
    };
    let summary = match lacking {
        0 => summary,
        1 => format!("{summary}; 1 file lacks optional columns (see the warning)"),
        n => format!("{summary}; {n} files lack optional columns (see the warnings)"),
    };
    let mut report = Report::new(summary).count("files", files.len() as u64);
    for (kind, [created, updated, terminated]) in by_kind {
        for (verb, count) in [("created", created), ("updated", updated), ("terminated", terminated)] {
            if count > 0 {
                report = report.count(format!("{kind} {verb}"), count);
            }
        }
    }
    report
        .count("unchanged", unchanged)
        .count("ends of objects MO does not have", missing)
        .count("files lacking optional columns", lacking)
}
