//! A test plugin that reads MO through `mo-read`: the units under the `root` setting and what
//! hangs on them, with several windows and filters. With `dump = true` it also writes all it
//! read to `mo.txt`, so tests can compare backends record by record. Never listed in plugins.toml.

use moport_sdk::{Plugin, PluginError, Report, RunContext, files, mo, settings};

struct MoReader;

impl Plugin for MoReader {
    fn run(ctx: RunContext) -> Result<Report, PluginError> {
        let root = settings::require_str("root")?;
        let organisation = mo::root_organisation()?;
        let under_root = mo::Query::today().under(&[&root]);
        let units = mo::org_units(&under_root)?;
        let engagements = mo::engagements(&under_root)?;
        let current_and_future = mo::engagements(&mo::Query::window(Some(&ctx.today), None).under(&[&root]))?;
        let history = mo::org_units(&mo::Query::window(None, None))?;
        let job_functions = mo::classes(&mo::Query::today().in_facets(&["engagement_job_function"]))?;
        let employees = mo::employees(&mo::Query::today())?;
        if settings::get_bool("dump")?.unwrap_or(false) {
            let everything = mo::Query::window(None, None);
            let dump = format!(
                "{organisation:#?}\n{units:#?}\n{engagements:#?}\n{current_and_future:#?}\n{history:#?}\n\
                 {job_functions:#?}\n{employees:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n",
                mo::managers(&everything)?,
                mo::addresses(&everything)?,
                mo::facets(&everything)?,
                mo::it_systems(&everything)?,
                mo::it_users(&everything)?,
            );
            files::write("mo.txt", dump.as_bytes())?;
        }
        Ok(Report::new(format!("read MO of {}", organisation.name))
            .count("units under root", units.len() as u64)
            .count("engagements today", engagements.len() as u64)
            .count("engagements today and later", current_and_future.len() as u64)
            .count("unit validities ever", history.len() as u64)
            .count("job functions", job_functions.len() as u64)
            .count("employees", employees.len() as u64))
    }
}

moport_sdk::export_plugin!(MoReader);
