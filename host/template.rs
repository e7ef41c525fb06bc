//! `moport new`: a plugin crate that builds, tests and runs as generated, for a third party to
//! start from. The exporter lists MO's org units as CSV; the importer reads units from a CSV
//! file on a remote target and creates or updates them in MO. Each comes with a native unit
//! test, a fixture for `moport test`, and a plugins.toml entry.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum World {
    Exporter,
    Importer,
}

#[derive(Debug, Error)]
pub enum TemplateError {
    #[error("`{0}` is not a plugin name: use lower-case letters, digits and `-`, starting with a letter")]
    BadName(String),
    #[error("{} already exists; pick another name or remove it", .0.display())]
    Exists(PathBuf),
    #[error("plugins.toml already has a plugin `{0}`; pick another name")]
    Listed(String),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// What `moport new` made.
pub struct Generated {
    pub crate_dir: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Whether the crate `<parent>/<name>` can be made and listed in the plugins.toml at
/// `manifest`: a valid name, no such folder, no such entry. Returns plugins.toml's text (empty
/// if there is none yet).
pub fn check(name: &str, parent: &Path, manifest: &Path) -> Result<String, TemplateError> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(TemplateError::BadName(name.to_owned()));
    }
    let crate_dir = parent.join(name);
    if crate_dir.exists() {
        return Err(TemplateError::Exists(crate_dir));
    }
    let manifest_text = match std::fs::read_to_string(manifest) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(TemplateError::Io { path: manifest.to_owned(), source }),
    };
    if manifest_text.contains(&format!("[plugins.{name}]")) {
        return Err(TemplateError::Listed(name.to_owned()));
    }
    Ok(manifest_text)
}

/// Writes the crate `<parent>/<name>` and appends its entry to the plugins.toml at `manifest`.
/// `sdk` is the SDK dependency line's path; `None` inside the moport workspace, whose members
/// include `plugins/*`.
pub fn generate(
    name: &str,
    world: World,
    parent: &Path,
    manifest: &Path,
    sdk: Option<&Path>,
) -> Result<Generated, TemplateError> {
    let manifest_text = check(name, parent, manifest)?;
    let crate_dir = parent.join(name);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TemplateError::Io { path, source }
    };
    let type_name: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    let sdk_line = match sdk {
        // An SDK kept beside the crate (`moport sdk --out`) is named relative to it, so the two
        // move together; any other by its full path.
        Some(path) => {
            let named = match path.strip_prefix(parent) {
                Ok(beside) => Path::new("..").join(beside),
                Err(_) => path.to_owned(),
            };
            format!("moport-sdk = {{ path = {:?} }}", named.display().to_string())
        }
        None => "moport-sdk.workspace = true".to_owned(),
    };
    // A crate outside the moport workspace is a workspace of its own.
    let own_workspace = if sdk.is_some() { "\n[workspace]\n" } else { "" };
    let cargo_toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [lib]\n# A component for moport (cdylib) and a library for native tests (rlib).\n\
         crate-type = [\"cdylib\", \"rlib\"]\n\n[dependencies]\n{sdk_line}\n{own_workspace}"
    );
    // In the workspace, `cargo build` at the root builds the component into target/plugins/;
    // a crate of its own builds it in its own target folder.
    let component = match sdk {
        None => format!("{name}.wasm"),
        Some(_) => std::path::absolute(&crate_dir)
            .unwrap_or_else(|_| crate_dir.clone())
            .join(format!("target/wasm32-wasip2/release/{}.wasm", name.replace('-', "_")))
            .display()
            .to_string(),
    };
    let build = match sdk {
        None => "cargo build".to_owned(),
        Some(_) => format!(
            "cargo build --release --target wasm32-wasip2 --manifest-path {}",
            std::path::absolute(&crate_dir).unwrap_or_else(|_| crate_dir.clone()).join("Cargo.toml").display()
        ),
    };
    let (lib_rs, fixture, entry) = match world {
        World::Exporter => exporter(name, &type_name, &component, &build),
        World::Importer => importer(name, &type_name, &crate_dir, manifest, &component, &build),
    };
    let mut files = vec![(crate_dir.join("Cargo.toml"), cargo_toml), (crate_dir.join("src/lib.rs"), lib_rs)];
    files.extend(fixture.into_iter().map(|(path, text)| (crate_dir.join("fixture").join(path), text)));
    for (path, text) in &files {
        std::fs::create_dir_all(path.parent().expect("files are in folders")).map_err(io(path))?;
        std::fs::write(path, text).map_err(io(path))?;
    }
    let separator = if manifest_text.is_empty() || manifest_text.ends_with("\n\n") { "" } else { "\n" };
    let appended = format!(
        "{manifest_text}{}{separator}{entry}",
        if manifest_text.ends_with('\n') || manifest_text.is_empty() { "" } else { "\n" }
    );
    std::fs::write(manifest, appended).map_err(io(manifest))?;
    let mut written: Vec<PathBuf> = files.into_iter().map(|(path, _)| path).collect();
    written.push(manifest.to_owned());
    if sdk.is_none() {
        let workspace = parent.parent().unwrap_or(Path::new(".")).join("Cargo.toml");
        add_member(&workspace, &format!("plugins/{name}")).map_err(io(&workspace))?;
        written.push(workspace);
    }
    Ok(Generated { crate_dir, files: written })
}

/// Adds `member` to the `members` list of the workspace's Cargo.toml.
fn add_member(workspace: &Path, member: &str) -> std::io::Result<()> {
    let text = std::fs::read_to_string(workspace)?;
    let Some(start) = text.find("members = [") else {
        return Err(std::io::Error::other("no `members = [` list to add the crate to; add it by hand"));
    };
    let end = start + text[start..].find(']').ok_or_else(|| std::io::Error::other("`members = [` is not closed"))?;
    let updated = format!("{}    \"{member}\",\n{}", &text[..end], &text[end..]);
    std::fs::write(workspace, updated)
}

/// Three units, as the generated fixtures' MO: a root and two children.
const FIXTURE_MO: &str = r#"{
  "format": "moport-snapshot",
  "version": 1,
  "taken_at": "2026-01-01T00:00:00Z",
  "source": "moport new",
  "organisation": {"uuid": "00000000-0000-4000-8000-000000000001", "name": "Eksempel Kommune", "user_key": "eksempel"},
  "org_units": [
    {"uuid": "10000000-0000-4000-8000-000000000001", "user_key": "ROOT", "name": "Eksempel Kommune",
     "parent": null, "validity": {"from": "2010-01-01", "to": null}},
    {"uuid": "10000000-0000-4000-8000-000000000002", "user_key": "SKOLE", "name": "Skolen",
     "parent": "10000000-0000-4000-8000-000000000001", "validity": {"from": "2015-08-01", "to": null}},
    {"uuid": "10000000-0000-4000-8000-000000000003", "user_key": "GAMMEL", "name": "Lukket afdeling",
     "parent": "10000000-0000-4000-8000-000000000001", "validity": {"from": "2010-01-01", "to": "2020-01-01"}}
  ]
}
"#;

/// [`FIXTURE_MO`] after the generated importer's fixture run: one unit new, one renamed from
/// the run's date (its user key then the uuid, as the importer sets it).
const FIXTURE_MO_IMPORTED: &str = r#"{
  "format": "moport-snapshot",
  "version": 1,
  "taken_at": "",
  "source": "moport new",
  "organisation": {"uuid": "00000000-0000-4000-8000-000000000001", "name": "Eksempel Kommune", "user_key": "eksempel"},
  "org_units": [
    {"uuid": "10000000-0000-4000-8000-000000000001", "user_key": "ROOT", "name": "Eksempel Kommune",
     "parent": null, "validity": {"from": "2010-01-01", "to": null}},
    {"uuid": "10000000-0000-4000-8000-000000000002", "user_key": "SKOLE", "name": "Skolen",
     "parent": "10000000-0000-4000-8000-000000000001", "validity": {"from": "2015-08-01", "to": "2026-11-23"}},
    {"uuid": "10000000-0000-4000-8000-000000000002", "user_key": "10000000-0000-4000-8000-000000000002",
     "name": "Skolen (omdøbt)", "parent": "10000000-0000-4000-8000-000000000001",
     "validity": {"from": "2026-11-23", "to": null}},
    {"uuid": "10000000-0000-4000-8000-000000000003", "user_key": "GAMMEL", "name": "Lukket afdeling",
     "parent": "10000000-0000-4000-8000-000000000001", "validity": {"from": "2010-01-01", "to": "2020-01-01"}},
    {"uuid": "20000000-0000-4000-8000-000000000001", "user_key": "20000000-0000-4000-8000-000000000001",
     "name": "Ny afdeling", "parent": "10000000-0000-4000-8000-000000000001",
     "validity": {"from": "2026-11-23", "to": null}}
  ]
}
"#;

fn relative_to_manifest(path: &Path, manifest: &Path) -> String {
    let base = manifest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_owned());
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    path.strip_prefix(&base).map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

type Fixture = Vec<(String, String)>;

/// The crate, fixture and plugins.toml entry of an exporter; `build` is the command that builds
/// its component, for the entry's comment.
fn exporter(name: &str, type_name: &str, component: &str, build: &str) -> (String, Fixture, String) {
    let lib = format!(
        r#"//! {name}: an exporter made with `moport new`. It writes MO's org units valid on the run's
//! date to `units.csv` in its output folder. Change `units_csv` (and its test) to export what you
//! need; see docs/writing-plugins.md in the moport repository.

use moport_sdk::csv::CsvFile;
use moport_sdk::mo::{{self, OrgUnit, Query}};
use moport_sdk::{{Plugin, PluginError, Report, RunContext, files, log}};

/// The file the plugin writes in its output folder.
pub const OUTPUT_FILE: &str = "units.csv";

struct {type_name};

impl Plugin for {type_name} {{
    fn run(ctx: RunContext) -> Result<Report, PluginError> {{
        let units = mo::org_units(&Query::today())?;
        log::info(&format!("{{}} org units valid on {{}}", units.len(), ctx.today));
        let csv = units_csv(&units);
        if ctx.dry_run {{
            return Ok(Report::new(format!("would write {{OUTPUT_FILE}} ({{}} units)", units.len())));
        }}
        files::write(OUTPUT_FILE, &csv)?;
        Ok(Report::new(format!("wrote {{OUTPUT_FILE}}")).count("org units", units.len() as u64))
    }}
}}

moport_sdk::export_plugin!({type_name});

/// The units as CSV (DIPEX's dialect): uuid, user key, name and parent, in MO's order.
pub fn units_csv(units: &[OrgUnit]) -> Vec<u8> {{
    let mut csv = CsvFile::new(&["UUID", "Nøgle", "Navn", "Forælder"]);
    for unit in units {{
        csv.row(&[Some(unit.uuid.as_str()), Some(&unit.user_key), Some(&unit.name), unit.parent.as_deref()]);
    }}
    csv.into_bytes()
}}

#[cfg(test)]
mod tests {{
    use super::*;
    use moport_sdk::mo::Validity;

    #[test]
    fn one_row_per_unit_after_the_header() {{
        let unit = OrgUnit {{
            uuid: "u1".into(),
            user_key: "SKOLE".into(),
            name: "Skolen".into(),
            parent: None,
            unit_type: None,
            unit_level: None,
            hierarchy: None,
            validity: Validity {{ from: Some("2015-08-01".into()), to: None }},
        }};
        let text = String::from_utf8(units_csv(&[unit])).unwrap();
        assert_eq!(text, "\"UUID\";\"Nøgle\";\"Navn\";\"Forælder\"\r\n\"u1\";\"SKOLE\";\"Skolen\";\"\"\r\n");
    }}
}}
"#
    );
    let expected = "\"UUID\";\"Nøgle\";\"Navn\";\"Forælder\"\r\n\
        \"10000000-0000-4000-8000-000000000001\";\"ROOT\";\"Eksempel Kommune\";\"\"\r\n\
        \"10000000-0000-4000-8000-000000000002\";\"SKOLE\";\"Skolen\";\"10000000-0000-4000-8000-000000000001\"\r\n";
    let fixture = vec![
        (
            "fixture.toml".to_owned(),
            "# `moport test` runs the plugin on mo.json as of this date.\ntoday = \"2026-11-23\"\n".to_owned(),
        ),
        ("mo.json".to_owned(), FIXTURE_MO.to_owned()),
        ("expected/files/units.csv".to_owned(), expected.to_owned()),
    ];
    // plugins.toml's relative paths start at its own folder.
    let output = format!("output/{name}");
    let mut entry = String::new();
    let _ = write!(
        entry,
        "# Made by `moport new {name}`: `{build}`, then `moport run {name} --mo demo`.\n\
         [plugins.{name}]\ncomponent = {component:?}\ndescription = \"Writes MO's org units to units.csv\"\n\n\
         [plugins.{name}.grants]\nfiles = {output:?}\nmo = \"read\"\n"
    );
    (lib, fixture, entry)
}

fn importer(
    name: &str,
    type_name: &str,
    crate_dir: &Path,
    manifest: &Path,
    component: &str,
    build: &str,
) -> (String, Fixture, String) {
    let lib = format!(
        r#"//! {name}: an importer made with `moport new`. It reads `units.csv` (`uuid;name;parent`, an empty
//! parent for a top unit) from the remote target the setting `source` names, and creates or
//! updates those org units in MO from the run's date. Change `plan` (and its test) to import what
//! you need; see docs/writing-plugins.md in the moport repository.

use moport_sdk::mo::write::{{self, Change, Object, Outcome}};
use moport_sdk::mo::{{OrgUnit, Validity}};
use moport_sdk::{{Plugin, PluginError, Report, RunContext, log, remote, settings}};

/// The file the plugin reads from its source target.
pub const INPUT_FILE: &str = "units.csv";

struct {type_name};

impl Plugin for {type_name} {{
    fn run(ctx: RunContext) -> Result<Report, PluginError> {{
        let source = settings::require_str("source")?;
        let bytes = remote::read(&source, INPUT_FILE)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| PluginError::Data(format!("{{INPUT_FILE}} on `{{source}}` is not UTF-8 text")))?;
        let changes = plan(&text, &ctx.today).map_err(PluginError::Data)?;
        log::info(&format!("{{}} units in {{INPUT_FILE}}", changes.len()));
        let outcomes = write::apply(&changes)?;
        let count = |wanted: Outcome| outcomes.iter().filter(|o| **o == wanted).count() as u64;
        let verb = if ctx.dry_run {{ "would create" }} else {{ "created" }};
        Ok(Report::new(format!("{{verb}} {{}} and updated {{}} org units", count(Outcome::Created), count(Outcome::Updated)))
            .count("created", count(Outcome::Created))
            .count("updated", count(Outcome::Updated)))
    }}
}}

moport_sdk::export_plugin!({type_name});

/// One create per line of `uuid;name;parent`, valid from `today`; a bad line is an error naming
/// its line number.
pub fn plan(text: &str, today: &str) -> Result<Vec<Change>, String> {{
    let mut changes = Vec::new();
    for (index, line) in text.lines().enumerate().skip(1).filter(|(_, line)| !line.trim().is_empty()) {{
        let fields: Vec<&str> = line.split(';').collect();
        let [uuid, name, parent] = fields[..] else {{
            return Err(format!("{{INPUT_FILE}}, line {{}}: {{}} fields; write uuid;name;parent", index + 1, fields.len()));
        }};
        changes.push(Change::Create(Object::OrgUnit(OrgUnit {{
            uuid: uuid.trim().to_owned(),
            user_key: uuid.trim().to_owned(),
            name: name.trim().to_owned(),
            parent: Some(parent.trim()).filter(|p| !p.is_empty()).map(str::to_owned),
            unit_type: None,
            unit_level: None,
            hierarchy: None,
            validity: Validity {{ from: Some(today.to_owned()), to: None }},
        }})));
    }}
    Ok(changes)
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn each_line_is_a_unit_from_today_and_a_bad_line_is_named() {{
        let changes = plan("uuid;name;parent\nu1;Skolen;\n", "2026-11-23").unwrap();
        let [Change::Create(Object::OrgUnit(unit))] = &changes[..] else {{ panic!("one unit") }};
        assert_eq!((unit.name.as_str(), unit.parent.as_deref()), ("Skolen", None));
        assert_eq!(unit.validity.from.as_deref(), Some("2026-11-23"));
        assert_eq!(plan("uuid;name;parent\nu1;Skolen\n", "2026-11-23").unwrap_err(), "units.csv, line 2: 2 fields; write uuid;name;parent");
    }}
}}
"#
    );
    let units = "uuid;name;parent\n\
        20000000-0000-4000-8000-000000000001;Ny afdeling;10000000-0000-4000-8000-000000000001\n\
        10000000-0000-4000-8000-000000000002;Skolen (omdøbt);10000000-0000-4000-8000-000000000001\n";
    let fixture = vec![
        (
            "fixture.toml".to_owned(),
            format!(
                "# `moport test` runs the plugin on mo.json and remote/{name}-inbox as of this date.\ntoday = \"2026-11-23\"\n"
            ),
        ),
        ("mo.json".to_owned(), FIXTURE_MO.to_owned()),
        (format!("remote/{name}-inbox/units.csv"), units.to_owned()),
        ("expected/mo.json".to_owned(), FIXTURE_MO_IMPORTED.to_owned()),
    ];
    // The fixture's inbox doubles as the target's folder, so `moport run` has a file to read.
    let inbox = relative_to_manifest(&crate_dir.join(format!("fixture/remote/{name}-inbox")), manifest);
    let entry = format!(
        "# Made by `moport new {name} --world importer`: `{build}`, then `moport run {name} --mo demo --dry-run`.\n\
         [plugins.{name}]\ncomponent = {component:?}\ndescription = \"Creates or updates org units from units.csv\"\n\n\
         [plugins.{name}.grants]\nmo = \"write\"\nremote = [\"{name}-inbox\"]\n\n\
         [plugins.{name}.settings]\nsource = \"{name}-inbox\"\n\n\
         [targets.{name}-inbox]\nkind = \"local\"\npath = {inbox:?}\n"
    );
    (lib, fixture, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_a_workspace_the_crate_becomes_a_member_and_plugins_toml_gains_its_entry() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("Cargo.toml"), "[workspace]\nmembers = [\n    \".\",\n]\n").unwrap();
        std::fs::write(root.path().join("plugins.toml"), "[plugins.hello]\ncomponent = \"hello.wasm\"\n").unwrap();
        let plugins = root.path().join("plugins");
        let made = generate("acme-units", World::Exporter, &plugins, &root.path().join("plugins.toml"), None).unwrap();
        assert_eq!(made.crate_dir, plugins.join("acme-units"));
        let workspace = std::fs::read_to_string(root.path().join("Cargo.toml")).unwrap();
        assert!(workspace.contains("    \".\",\n    \"plugins/acme-units\",\n]"), "{workspace}");
        let crate_toml = std::fs::read_to_string(plugins.join("acme-units/Cargo.toml")).unwrap();
        assert!(crate_toml.contains("moport-sdk.workspace = true") && !crate_toml.contains("[workspace]"));
        let manifest = std::fs::read_to_string(root.path().join("plugins.toml")).unwrap();
        assert!(manifest.starts_with("[plugins.hello]"), "{manifest}");
        assert!(manifest.contains("[plugins.acme-units]\ncomponent = \"acme-units.wasm\""), "{manifest}");
        assert!(
            moport_manifest::Manifest::parse(&root.path().join("plugins.toml"), &manifest, crate::built_plugins())
                .is_ok()
        );

        let taken = generate("acme-units", World::Importer, &plugins, &root.path().join("plugins.toml"), None);
        assert!(matches!(taken, Err(TemplateError::Exists(_))));
        let bad = generate("Acme", World::Exporter, &plugins, &root.path().join("plugins.toml"), None);
        assert!(matches!(bad, Err(TemplateError::BadName(_))));
    }

    #[test]
    fn outside_a_workspace_an_sdk_beside_the_crate_is_named_relative_to_it_any_other_in_full() {
        let root = tempfile::tempdir().unwrap();
        let manifest = root.path().join("plugins.toml");
        let beside = root.path().join("vendor/moport/plugins/sdk");
        generate("acme-units", World::Exporter, root.path(), &manifest, Some(&beside)).unwrap();
        let crate_toml = std::fs::read_to_string(root.path().join("acme-units/Cargo.toml")).unwrap();
        assert!(crate_toml.contains(r#"moport-sdk = { path = "../vendor/moport/plugins/sdk" }"#), "{crate_toml}");
        assert!(crate_toml.ends_with("\n[workspace]\n"), "a workspace of its own: {crate_toml}");
        let elsewhere = Path::new("/opt/moport-sdk/plugins/sdk");
        generate("acme-import", World::Importer, root.path(), &manifest, Some(elsewhere)).unwrap();
        let crate_toml = std::fs::read_to_string(root.path().join("acme-import/Cargo.toml")).unwrap();
        assert!(crate_toml.contains(r#"moport-sdk = { path = "/opt/moport-sdk/plugins/sdk" }"#), "{crate_toml}");
    }
}
