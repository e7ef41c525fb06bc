//! A test plugin that reads MO through `mo-read`: the units under the `root` setting and what
//! hangs on them, with several windows and filters. With `dump = true` it also writes all it
//! read to `mo.txt`, so tests can compare backends record by record. Never listed in plugins.toml.

use moport_sdk::{Plugin, PluginError, Report, RunContext, files, mo, settings};

struct MoReader;

impl Plugin for MoReader {
    fn run(ctx: RunContext) -> Result<Report, PluginError> {
        if let Some(copies) = settings::get_i64("aliased_uuids")? {
            return ask_with_aliased_uuids(copies as usize);
        }
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

/// Hostile: a query whose `copies` uuids all point at the same 1 KiB of this plugin's memory, so
/// the call asks the host to copy far more than the plugin holds. The strings share their bytes,
/// so none may be freed: the query is leaked.
fn ask_with_aliased_uuids(copies: usize) -> Result<Report, PluginError> {
    let shared: &'static mut str = "u".repeat(1024).leak();
    let (ptr, len) = (shared.as_mut_ptr(), shared.len());
    // SAFETY: each String aliases `shared`, which is leaked and never written; the strings are
    // never dropped or changed, only read by the canonical ABI's lowering.
    let uuids = (0..copies).map(|_| unsafe { String::from_raw_parts(ptr, len, len) }).collect();
    let query = std::mem::ManuallyDrop::new(mo::Query { uuids, ..mo::Query::today() });
    let units = mo::org_units(&query)?;
    Ok(Report::new("asked with aliased uuids").count("units", units.len() as u64))
}

moport_sdk::export_plugin!(MoReader);
