//! plan2learn exporter: MO's units, persons, engagements, job functions and managers as the five
//! CSV files plan2learn imports (organisation, bruger, engagement, stillingskode, leder).
//!
//! The export itself ([`export::export`]) is a pure function of MO data and settings, tested
//! natively; this file only fetches MO through `mo-read` and writes the files through `files`.
//! What differs from DIPEX is listed in docs/plan2learn.md.

pub mod export;
pub mod settings;

use export::MoData;
use moport_sdk::mo::{self, Query};
use moport_sdk::{CallError, Plugin, PluginError, Report, RunContext, files, log, remote, settings as host_settings};
use settings::{Settings, StartDateRule};

/// The setting that names the remote target (in plugins.toml) the files are shipped to.
pub const SHIP_TO: &str = "ship_to";
/// The order DIPEX ships the files in.
const SHIP_ORDER: [&str; 5] = ["bruger.csv", "leder.csv", "engagement.csv", "organisation.csv", "stillingskode.csv"];

struct Plan2learn;

impl Plugin for Plan2learn {
    fn run(ctx: RunContext) -> Result<Report, PluginError> {
        let settings = Settings::read(|key| host_settings::get_json(key).ok().flatten())
            .map_err(|err| PluginError::Config(err.0))?;
        if settings.allowed_engagement_types.is_empty() {
            log::warn("no engagement types are allowed: bruger.csv and engagement.csv will be empty");
        }
        let ship_to = host_settings::get_str(SHIP_TO)?;
        if let Some(target) = &ship_to {
            reach(target)?;
        }
        let data = read_mo(&ctx.today, &settings)?;
        let export = export::export(&data, &settings).map_err(|err| PluginError::Config(err.0))?;
        let mut report = Report::new(match (&ship_to, ctx.dry_run) {
            (_, true) => "worked out the five plan2learn files (dry run: nothing written or shipped)".to_owned(),
            (Some(target), false) => format!("wrote the five plan2learn files and shipped them to `{target}`"),
            (None, false) => {
                format!("wrote the five plan2learn files; not shipped, as no FTPS target is set (setting `{SHIP_TO}`)")
            }
        });
        for (name, bytes) in &export.files {
            if !ctx.dry_run {
                files::write(name, bytes)?;
            }
            log::debug(&format!("{name}: {} bytes", bytes.len()));
        }
        if let Some(target) = ship_to.filter(|_| !ctx.dry_run) {
            // As a set, renamed into place in DIPEX's order: plan2learn never picks up today's
            // bruger.csv beside yesterday's engagement.csv.
            let set: Vec<(&str, &[u8])> = SHIP_ORDER
                .iter()
                .map(|name| {
                    let (_, bytes) =
                        export.files.iter().find(|(file, _)| file == name).expect("the export writes every file");
                    (*name, bytes.as_slice())
                })
                .collect();
            remote::write_set(&target, &set)
                .map_err(|err| PluginError::Io(format!("shipping the files to the target `{target}`: {err}")))?;
            report = report.count("files shipped", SHIP_ORDER.len() as u64);
        }
        for (name, count) in export.counts {
            report = report.count(name, count);
        }
        Ok(report)
    }
}

moport_sdk::export_plugin!(Plan2learn);

/// The target `ship_to` names, reached before any work: one not granted, or not there, would
/// otherwise fail the run only after the files are written.
fn reach(target: &str) -> Result<(), PluginError> {
    remote::list(target, "").map(|_| ()).map_err(|err| match err {
        CallError::Denied(message) => PluginError::Config(format!("setting `{SHIP_TO}`: {message}")),
        other => PluginError::Io(format!("reaching the target `{target}` before the export: {}", other.message())),
    })
}

/// One consistent read of what the export needs: whole collections, a few calls in all.
fn read_mo(today: &str, settings: &Settings) -> Result<MoData, PluginError> {
    let from_today = Query::window(Some(today), None);
    use mo::Collection;
    mo::prefetch(&[
        Collection::OrgUnits,
        Collection::Classes,
        Collection::Employees,
        Collection::Engagements,
        Collection::Addresses,
        Collection::Managers,
    ])?;
    let step = |done: u64| log::progress("reading MO", done, 7);
    step(0);
    let org_units = mo::org_units(&Query::today().under(&[&settings.root_unit]))?;
    step(1);
    let classes = mo::classes(&Query::window(None, None))?;
    step(2);
    let employees = mo::employees(&Query::today())?;
    step(3);
    let engagements = mo::engagements(&from_today)?;
    step(4);
    let engagement_history = match settings.rules.start_date {
        StartDateRule::OriginalStart => mo::engagements(&Query::window(None, None))?,
        StartDateRule::FutureOnly => Vec::new(),
    };
    step(5);
    let addresses = mo::addresses(&from_today)?;
    step(6);
    let managers = mo::managers(&Query::today())?;
    step(7);
    Ok(MoData {
        today: today.to_owned(),
        org_units,
        classes,
        employees,
        engagements,
        engagement_history,
        addresses,
        managers,
    })
}
