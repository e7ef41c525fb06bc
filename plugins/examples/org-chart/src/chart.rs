//! The chart itself: a pure function of MO data and settings, so all of it is tested natively
//! without a host.

use moport_sdk::csv::CsvFile;
use moport_sdk::mo::{Employee, Manager, OrgUnit};
use moport_sdk::{PluginError, uuid};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};

/// The setting naming the chart's top unit; without it the chart is the whole organisation.
pub const ROOT_UNIT: &str = "root_unit";
/// The setting choosing the files: `csv`, `json` or `both`.
pub const FORMAT: &str = "format";
pub const CSV_FILE: &str = "org-chart.csv";
pub const JSON_FILE: &str = "org-chart.json";
const CSV_HEADER: [&str; 5] = ["UUID", "Navn", "Forælder", "Niveau", "Leder"];

/// What the chart is drawn from: MO as it is on the run's day.
#[derive(Debug, Clone, Default)]
pub struct OrgData {
    /// The root organisation's name, at the top of the JSON file.
    pub organisation: String,
    /// Units valid today: every unit, or the root unit and those below it.
    pub org_units: Vec<OrgUnit>,
    /// Managers of those units, valid today.
    pub managers: Vec<Manager>,
    /// The managers' persons, valid today.
    pub employees: Vec<Employee>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The chart's top unit (a lowercase uuid); `None` charts the whole organisation.
    pub root_unit: Option<String>,
    pub format: Format,
}

/// Which files a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Both,
}

impl Settings {
    /// Reads the settings through `get_str` (a text setting by key: the host's
    /// `moport_sdk::settings::get_str`, or a map in tests).
    pub fn read(get_str: impl Fn(&str) -> Result<Option<String>, PluginError>) -> Result<Settings, PluginError> {
        let root_unit = match get_str(ROOT_UNIT)? {
            None => None,
            Some(text) => Some(uuid::normalize(&text).ok_or_else(|| {
                PluginError::Config(format!(
                    "setting `{ROOT_UNIT}` is `{text}`, which is not a UUID; write the uuid of the chart's top \
                     unit (like 6d3ca4ad-7d7e-4a4b-9a5d-2c8f3e1b0f9a), or leave the setting out to chart the whole \
                     organisation"
                ))
            })?),
        };
        let format = match get_str(FORMAT)?.as_deref() {
            None | Some("both") => Format::Both,
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            Some(other) => {
                return Err(PluginError::Config(format!(
                    "setting `{FORMAT}` is `{other}`; write `csv`, `json` or `both` (the default)"
                )));
            }
        };
        Ok(Settings { root_unit, format })
    }
}

/// A unit of the chart: its managers' names in name order, and the units below it in name order.
struct ChartUnit<'a> {
    unit: &'a OrgUnit,
    managers: Vec<String>,
    children: Vec<ChartUnit<'a>>,
}

/// The files of a run, named as they are written, and the counts for the run's report.
#[derive(Debug)]
pub struct Chart {
    pub files: Vec<(&'static str, Vec<u8>)>,
    pub units: u64,
    /// Managers shown, unit by unit: a person managing two units counts twice.
    pub managers: u64,
}

/// The chart's files as the settings ask for them.
pub fn build(data: &OrgData, settings: &Settings) -> Result<Chart, PluginError> {
    let tops = tree(data, settings.root_unit.as_deref(), &manager_names(data))?;
    let rows = in_tree_order(&tops);
    let mut files = Vec::new();
    if matches!(settings.format, Format::Csv | Format::Both) {
        files.push((CSV_FILE, csv(&rows)));
    }
    if matches!(settings.format, Format::Json | Format::Both) {
        files.push((JSON_FILE, json(&data.organisation, &tops)));
    }
    Ok(Chart { files, units: rows.len() as u64, managers: rows.iter().map(|row| row.unit.managers.len() as u64).sum() })
}

/// Per unit, the full names ("given surname") of its managers, sorted, each person once. A vacant
/// post (no person), or a person MO has no employee for today, names nobody.
fn manager_names(data: &OrgData) -> HashMap<&str, Vec<String>> {
    let persons: HashMap<&str, &Employee> = data.employees.iter().map(|p| (p.uuid.as_str(), p)).collect();
    // By name, then person: two people of one name both appear, in a stable order.
    let mut by_unit: HashMap<&str, BTreeSet<(String, &str)>> = HashMap::new();
    for manager in &data.managers {
        if let Some(person) = manager.person.as_deref().and_then(|uuid| persons.get(uuid)) {
            let name = format!("{} {}", person.given_name, person.surname).trim().to_owned();
            by_unit.entry(&manager.org_unit).or_default().insert((name, &person.uuid));
        }
    }
    by_unit.into_iter().map(|(unit, names)| (unit, names.into_iter().map(|(name, _)| name).collect())).collect()
}

/// The chart's top units, each with everything below it. With a root unit that is the one top;
/// without, the tops are the units whose parent is not in the data (MO's top units have none).
fn tree<'a>(
    data: &'a OrgData,
    root_unit: Option<&str>,
    managers: &HashMap<&str, Vec<String>>,
) -> Result<Vec<ChartUnit<'a>>, PluginError> {
    let known: HashSet<&str> = data.org_units.iter().map(|unit| unit.uuid.as_str()).collect();
    let mut children: HashMap<&str, Vec<&OrgUnit>> = HashMap::new();
    let mut tops = Vec::new();
    for unit in &data.org_units {
        match unit.parent.as_deref().filter(|parent| known.contains(parent)) {
            Some(parent) => children.entry(parent).or_default().push(unit),
            None => tops.push(unit),
        }
    }
    if let Some(root) = root_unit {
        let unit = data.org_units.iter().find(|unit| unit.uuid == root).ok_or_else(|| {
            PluginError::Config(format!(
                "setting `{ROOT_UNIT}` names the unit {root}, which is not an org unit valid today; write the uuid \
                 of a unit MO has today, or leave the setting out to chart the whole organisation"
            ))
        })?;
        tops = vec![unit];
    }
    tops.sort_by(by_name);
    for siblings in children.values_mut() {
        siblings.sort_by(by_name);
    }
    let mut placed = HashSet::new();
    Ok(tops.into_iter().filter_map(|top| grow(top, &children, managers, &mut placed)).collect())
}

/// Siblings by name, then by uuid so that two units of one name keep one order.
fn by_name(a: &&OrgUnit, b: &&OrgUnit) -> Ordering {
    (&a.name, &a.uuid).cmp(&(&b.name, &b.uuid))
}

/// `unit` with everything below it, or `None` when it is already in the chart. MO refuses a unit
/// below itself, but a snapshot file is not checked for it: `placed` keeps such a cycle from
/// recursing until the plugin runs out of stack.
fn grow<'a>(
    unit: &'a OrgUnit,
    children: &HashMap<&str, Vec<&'a OrgUnit>>,
    managers: &HashMap<&str, Vec<String>>,
    placed: &mut HashSet<&'a str>,
) -> Option<ChartUnit<'a>> {
    if !placed.insert(&unit.uuid) {
        return None;
    }
    let below = children.get(unit.uuid.as_str()).map(Vec::as_slice).unwrap_or_default();
    Some(ChartUnit {
        unit,
        managers: managers.get(unit.uuid.as_str()).cloned().unwrap_or_default(),
        children: below.iter().filter_map(|child| grow(child, children, managers, placed)).collect(),
    })
}

/// A unit in tree order, with what the CSV row needs besides the unit.
struct Row<'c, 'a> {
    unit: &'c ChartUnit<'a>,
    /// 0 for a top unit.
    depth: usize,
    /// `None` for a top unit: its parent, if any, is not in the chart.
    parent: Option<&'a str>,
}

/// Depth first: each unit, then everything below it, before its next sibling.
fn in_tree_order<'c, 'a>(tops: &'c [ChartUnit<'a>]) -> Vec<Row<'c, 'a>> {
    fn visit<'c, 'a>(unit: &'c ChartUnit<'a>, depth: usize, parent: Option<&'a str>, rows: &mut Vec<Row<'c, 'a>>) {
        rows.push(Row { unit, depth, parent });
        for child in &unit.children {
            visit(child, depth + 1, Some(&unit.unit.uuid), rows);
        }
    }
    let mut rows = Vec::new();
    for top in tops {
        visit(top, 0, None, &mut rows);
    }
    rows
}

fn csv(rows: &[Row]) -> Vec<u8> {
    let mut file = CsvFile::new(&CSV_HEADER);
    for row in rows {
        let level = row.depth.to_string();
        let managers = row.unit.managers.join(", ");
        file.row(&[
            Some(row.unit.unit.uuid.as_str()),
            Some(row.unit.unit.name.as_str()),
            row.parent,
            Some(level.as_str()),
            Some(managers.as_str()),
        ]);
    }
    file.into_bytes()
}

fn json(organisation: &str, tops: &[ChartUnit]) -> Vec<u8> {
    fn unit_json(unit: &ChartUnit) -> Json {
        Json::Object(vec![
            ("uuid", Json::Text(unit.unit.uuid.clone())),
            ("name", Json::Text(unit.unit.name.clone())),
            ("managers", Json::List(unit.managers.iter().cloned().map(Json::Text).collect())),
            ("children", Json::List(unit.children.iter().map(unit_json).collect())),
        ])
    }
    let document = Json::Object(vec![
        ("organisation", Json::Text(organisation.to_owned())),
        ("units", Json::List(tops.iter().map(unit_json).collect())),
    ]);
    let mut text = String::new();
    document.write_pretty(0, &mut text);
    text.push('\n');
    text.into_bytes()
}

/// JSON whose objects keep their keys in the order given. `serde_json::Value` (without its
/// `preserve_order` feature, which would be a new dependency) sorts keys, and a unit reading
/// `children` before its `name` is hard to follow.
enum Json {
    Text(String),
    List(Vec<Json>),
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    /// Written as `serde_json::to_string_pretty` writes: two spaces per level, `[]` when empty.
    fn write_pretty(&self, depth: usize, out: &mut String) {
        let (open, close, members): (char, char, Vec<(Option<&str>, &Json)>) = match self {
            Json::Text(text) => {
                out.push_str(&serde_json::Value::from(text.as_str()).to_string());
                return;
            }
            Json::List(items) => ('[', ']', items.iter().map(|item| (None, item)).collect()),
            Json::Object(fields) => ('{', '}', fields.iter().map(|(key, value)| (Some(*key), value)).collect()),
        };
        out.push(open);
        for (index, (key, value)) in members.iter().enumerate() {
            out.push_str(if index == 0 { "\n" } else { ",\n" });
            out.push_str(&"  ".repeat(depth + 1));
            if let Some(key) = key {
                out.push_str(&serde_json::Value::from(*key).to_string());
                out.push_str(": ");
            }
            value.write_pretty(depth + 1, out);
        }
        if !members.is_empty() {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
        out.push(close);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moport_sdk::mo::Validity;

    fn always() -> Validity {
        Validity { from: None, to: None }
    }

    fn unit(uuid: &str, name: &str, parent: Option<&str>) -> OrgUnit {
        OrgUnit {
            uuid: uuid.into(),
            user_key: uuid.into(),
            name: name.into(),
            parent: parent.map(Into::into),
            unit_type: None,
            unit_level: None,
            hierarchy: None,
            validity: always(),
        }
    }

    fn manager(uuid: &str, unit: &str, person: Option<&str>) -> Manager {
        Manager {
            uuid: uuid.into(),
            person: person.map(Into::into),
            org_unit: unit.into(),
            manager_type: None,
            manager_level: None,
            responsibilities: Vec::new(),
            validity: always(),
        }
    }

    fn person(uuid: &str, given_name: &str, surname: &str) -> Employee {
        Employee {
            uuid: uuid.into(),
            cpr_number: None,
            given_name: given_name.into(),
            surname: surname.into(),
            nickname_given_name: None,
            nickname_surname: None,
            validity: always(),
        }
    }

    /// A root with two children and a grandchild, and a unit whose parent is not in the data.
    /// "Børn og Unge" has two managers (one of them with two posts there), "Administration" a
    /// vacant post, and "Skole Nord" a manager MO has no person for today.
    fn data() -> OrgData {
        OrgData {
            organisation: "Testkommune".into(),
            org_units: vec![
                unit("root", "Kommune", None),
                unit("bu", "Børn og Unge", Some("root")),
                unit("adm", "Administration", Some("root")),
                unit("skole", "Skole Nord", Some("bu")),
                unit("ekstern", "Ekstern afdeling", Some("outside")),
            ],
            managers: vec![
                manager("m1", "root", Some("anne")),
                manager("m2", "bu", Some("bo")),
                manager("m3", "bu", Some("anne")),
                manager("m4", "bu", Some("anne")),
                manager("m5", "adm", None),
                manager("m6", "skole", Some("gone")),
            ],
            employees: vec![person("bo", "Bo", "Hansen"), person("anne", "Anne", "Jensen")],
        }
    }

    fn settings(root_unit: Option<&str>, format: Format) -> Settings {
        Settings { root_unit: root_unit.map(Into::into), format }
    }

    fn file<'c>(chart: &'c Chart, name: &str) -> &'c str {
        let (_, bytes) = chart.files.iter().find(|(file, _)| *file == name).expect("the file is written");
        std::str::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn the_csv_lists_units_depth_first_with_level_parent_and_managers_in_name_order() {
        let chart = build(&data(), &settings(None, Format::Csv)).unwrap();
        assert_eq!(
            file(&chart, CSV_FILE),
            concat!(
                "\"UUID\";\"Navn\";\"Forælder\";\"Niveau\";\"Leder\"\r\n",
                // A unit whose parent is outside the data is a top unit, with no parent in the file.
                "\"ekstern\";\"Ekstern afdeling\";\"\";\"0\";\"\"\r\n",
                "\"root\";\"Kommune\";\"\";\"0\";\"Anne Jensen\"\r\n",
                "\"adm\";\"Administration\";\"root\";\"1\";\"\"\r\n",
                "\"bu\";\"Børn og Unge\";\"root\";\"1\";\"Anne Jensen, Bo Hansen\"\r\n",
                "\"skole\";\"Skole Nord\";\"bu\";\"2\";\"\"\r\n",
            )
        );
        assert_eq!((chart.units, chart.managers), (5, 3));
        assert_eq!(chart.files.len(), 1, "only the CSV file");
    }

    #[test]
    fn the_json_nests_the_root_unit_and_those_below_it() {
        let chart = build(&data(), &settings(Some("bu"), Format::Json)).unwrap();
        assert_eq!(
            file(&chart, JSON_FILE),
            r#"{
  "organisation": "Testkommune",
  "units": [
    {
      "uuid": "bu",
      "name": "Børn og Unge",
      "managers": [
        "Anne Jensen",
        "Bo Hansen"
      ],
      "children": [
        {
          "uuid": "skole",
          "name": "Skole Nord",
          "managers": [],
          "children": []
        }
      ]
    }
  ]
}
"#
        );
        assert_eq!((chart.units, chart.managers), (2, 2));
        assert_eq!(chart.files.len(), 1, "only the JSON file");
    }

    #[test]
    fn both_files_by_default_and_siblings_of_one_name_by_uuid() {
        let mut data = data();
        data.org_units.push(unit("adm-2", "Administration", Some("root")));
        let chart = build(&data, &Settings::read(|_| Ok(None)).unwrap()).unwrap();
        let names: Vec<&str> = chart.files.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, [CSV_FILE, JSON_FILE]);
        let csv = file(&chart, CSV_FILE);
        assert!(csv.find("\"adm\";").unwrap() < csv.find("\"adm-2\";").unwrap(), "{csv}");
    }

    #[test]
    fn a_root_unit_not_valid_today_is_a_configuration_error_naming_the_setting() {
        let err = build(&data(), &settings(Some("closed"), Format::Both)).unwrap_err();
        assert!(
            matches!(&err, PluginError::Config(m) if m.contains("`root_unit` names the unit closed, which is not an org unit valid today")),
            "{err:?}"
        );
    }

    #[test]
    fn a_cycle_under_the_root_unit_ends() {
        let data =
            OrgData { org_units: vec![unit("a", "A", Some("b")), unit("b", "B", Some("a"))], ..OrgData::default() };
        let chart = build(&data, &settings(Some("a"), Format::Csv)).unwrap();
        assert_eq!(chart.units, 2);
    }

    #[test]
    fn settings_name_the_key_and_what_to_write() {
        let read = |root_unit: Option<&str>, format: Option<&str>| {
            Settings::read(|key| {
                Ok(match key {
                    ROOT_UNIT => root_unit.map(Into::into),
                    FORMAT => format.map(Into::into),
                    _ => None,
                })
            })
        };
        assert_eq!(read(None, None).unwrap(), settings(None, Format::Both));
        assert_eq!(
            read(Some("6D3CA4AD-7D7E-4A4B-9A5D-2C8F3E1B0F9A"), Some("csv")).unwrap(),
            settings(Some("6d3ca4ad-7d7e-4a4b-9a5d-2c8f3e1b0f9a"), Format::Csv),
            "a uuid in capitals matches MO's lowercase one"
        );
        assert_eq!(read(None, Some("json")).unwrap().format, Format::Json);
        let err = read(None, Some("xml")).unwrap_err();
        assert!(
            matches!(&err, PluginError::Config(m) if m.contains("`format` is `xml`; write `csv`, `json` or `both`"))
        );
        let err = read(Some("Børn og Unge"), None).unwrap_err();
        assert!(
            matches!(&err, PluginError::Config(m) if m.contains("`root_unit` is `Børn og Unge`, which is not a UUID"))
        );
    }

    #[test]
    fn json_is_written_as_serde_json_pretty_prints_it() {
        let document = Json::Object(vec![
            ("a", Json::List(vec![])),
            ("b", Json::List(vec![Json::Text("\"æ\"\n".into()), Json::Object(vec![])])),
            ("c", Json::Object(vec![("d", Json::Text(String::new()))])),
        ]);
        let mut text = String::new();
        document.write_pretty(0, &mut text);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(text, serde_json::to_string_pretty(&parsed).unwrap());
    }
}
