//! The fixture's MO snapshot, read into the records the host hands the plugin and filtered as
//! `Query::today()` filters on the fixture's day: a record missing a field, or a fixture that no
//! longer shows what it is for, fails here natively, before `moport test` runs it.

use moport_sdk::dates::valid_on;
use moport_sdk::mo::{Employee, Manager, OrgUnit};
use org_chart::chart::{CSV_FILE, Format, OrgData, Settings, build};

fn fixture_data() -> OrgData {
    let today = include_str!("../fixture/fixture.toml")
        .lines()
        .find_map(|line| line.strip_prefix("today = "))
        .expect("fixture.toml sets `today`")
        .trim_matches('"');
    let snapshot: serde_json::Value = serde_json::from_str(include_str!("../fixture/mo.json")).expect("JSON");
    let collection = |name: &str| snapshot[name].clone();
    let mut org_units: Vec<OrgUnit> = serde_json::from_value(collection("org_units")).expect("org units");
    let mut managers: Vec<Manager> = serde_json::from_value(collection("managers")).expect("managers");
    let mut employees: Vec<Employee> = serde_json::from_value(collection("employees")).expect("employees");
    org_units.retain(|unit| valid_on(&unit.validity, today));
    managers.retain(|manager| valid_on(&manager.validity, today));
    employees.retain(|person| valid_on(&person.validity, today));
    let organisation = snapshot["organisation"]["name"].as_str().expect("the organisation's name").to_owned();
    OrgData { organisation, org_units, managers, employees }
}

#[test]
fn the_fixture_charts_three_levels_with_a_renamed_unit_two_managers_and_an_ended_one() {
    let chart = build(&fixture_data(), &Settings { root_unit: None, format: Format::Csv }).unwrap();
    let (_, csv) = chart.files.iter().find(|(name, _)| *name == CSV_FILE).unwrap();
    let csv = String::from_utf8(csv.clone()).unwrap();
    let row = |name: &str| csv.lines().find(|line| line.contains(&format!(";\"{name}\";"))).map(str::to_owned);
    assert_eq!((chart.units, chart.managers), (7, 4), "{csv}");
    assert!(row("Skole Syd").is_some_and(|r| r.contains(";\"2\";")), "the renamed unit, under its name today: {csv}");
    assert_eq!(row("Sydskolen"), None, "the old name is history");
    assert_eq!(row("Affald og Genbrug"), None, "the closed unit is left out");
    assert!(row("Skole Nord").is_some_and(|r| r.ends_with("\"Carsten Mikkelsen, Dorte Larsen\"")), "{csv}");
    assert!(row("Teknik og Miljø").is_some_and(|r| r.ends_with(";\"\"")), "its manager left in 2024: {csv}");
}
