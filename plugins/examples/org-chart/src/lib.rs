//! org-chart: an example exporter written only against moport's SDK, as a third party would
//! write one. It charts MO's units with their managers, as `org-chart.csv` (the CSV dialect of
//! DIPEX's exporters) and `org-chart.json` (a nested tree); see README.md.
//!
//! [`chart`] is the whole chart as a pure function of MO data and settings, tested natively; this
//! file only reads the settings and MO through the host and writes the files. tests/fixture.rs
//! runs [`OrgChart`] natively on the fixture through `moport_sdk::testing::TestHost`.

pub mod chart;

use chart::{OrgData, Settings};
use moport_sdk::mo::{self, Query};
use moport_sdk::{Plugin, PluginError, Report, RunContext, files, log, settings};
use std::collections::BTreeSet;

/// The plugin; public so tests can run it with `moport_sdk::testing::TestHost::run`.
pub struct OrgChart;

impl Plugin for OrgChart {
    fn run(ctx: RunContext) -> Result<Report, PluginError> {
        let settings = Settings::read(settings::get_str)?;
        let data = read_mo(settings.root_unit.as_deref())?;
        let chart = chart::build(&data, &settings)?;
        for (name, bytes) in &chart.files {
            if !ctx.dry_run {
                files::write(name, bytes)?;
            }
            log::debug(&format!("{name}: {} bytes", bytes.len()));
        }
        let names: Vec<&str> = chart.files.iter().map(|(name, _)| *name).collect();
        let summary = match ctx.dry_run {
            true => format!("worked out {} (dry run: nothing written)", names.join(" and ")),
            false => format!("wrote {}", names.join(" and ")),
        };
        Ok(Report::new(summary).count("units", chart.units).count("managers", chart.managers))
    }
}

moport_sdk::export_plugin!(OrgChart);

/// What the chart needs, as MO is today, in four calls whatever the size of the organisation.
fn read_mo(root_unit: Option<&str>) -> Result<OrgData, PluginError> {
    let today = match root_unit {
        Some(root) => Query::today().under(&[root]),
        None => Query::today(),
    };
    let organisation = mo::root_organisation()?.name;
    let org_units = mo::org_units(&today)?;
    let managers = mo::managers(&today)?;
    let persons: BTreeSet<&str> = managers.iter().filter_map(|m| m.person.as_deref()).collect();
    // No uuids in a query means every employee, so with no managers there is nothing to ask for.
    let employees = match persons.is_empty() {
        true => Vec::new(),
        false => mo::employees(&Query { uuids: persons.into_iter().map(str::to_owned).collect(), ..Query::today() })?,
    };
    Ok(OrgData { organisation, org_units, managers, employees })
}
