//! The plugin run natively on its fixture, `fixture/mo.json` as MO on the day `fixture.toml`
//! sets, through the SDK's test host: it must write exactly `fixture/expected/files/`, as
//! `moport test org-chart --fixture plugins/examples/org-chart/fixture` requires of the compiled
//! component. A record missing a field, or a fixture that no longer shows what it is for, fails
//! here before that.

use moport_sdk::PluginError;
use moport_sdk::testing::TestHost;
use org_chart::OrgChart;
use org_chart::chart::{CSV_FILE, JSON_FILE, ROOT_UNIT};

fn fixture_host() -> TestHost {
    let today = include_str!("../fixture/fixture.toml")
        .lines()
        .find_map(|line| line.strip_prefix("today = "))
        .expect("fixture.toml sets `today`")
        .trim_matches('"');
    TestHost::new().today(today).mo_snapshot_json(include_str!("../fixture/mo.json"))
}

fn text(bytes: Option<&[u8]>) -> &str {
    std::str::from_utf8(bytes.expect("the file was written")).expect("UTF-8")
}

#[test]
fn the_plugin_writes_the_fixtures_expected_files() {
    let mut host = fixture_host();
    let report = host.run::<OrgChart>().unwrap();
    assert_eq!(report.counts, [("units".to_owned(), 7), ("managers".to_owned(), 4)]);
    assert_eq!(text(host.file(CSV_FILE)), include_str!("../fixture/expected/files/org-chart.csv"));
    assert_eq!(text(host.file(JSON_FILE)), include_str!("../fixture/expected/files/org-chart.json"));
    assert_eq!(host.files().len(), 2, "nothing else");
}

#[test]
fn the_fixture_charts_three_levels_with_a_renamed_unit_two_managers_and_an_ended_one() {
    let mut host = fixture_host().setting("format", "csv");
    host.run::<OrgChart>().unwrap();
    let csv = text(host.file(CSV_FILE));
    let row = |name: &str| csv.lines().find(|line| line.contains(&format!(";\"{name}\";")));
    assert!(row("Skole Syd").is_some_and(|r| r.contains(";\"2\";")), "the renamed unit, under its name today: {csv}");
    assert_eq!(row("Sydskolen"), None, "the old name is history");
    assert_eq!(row("Affald og Genbrug"), None, "the closed unit is left out");
    assert!(row("Skole Nord").is_some_and(|r| r.ends_with("\"Carsten Mikkelsen, Dorte Larsen\"")), "{csv}");
    assert!(row("Teknik og Miljø").is_some_and(|r| r.ends_with(";\"\"")), "its manager left in 2024: {csv}");
    assert_eq!(host.file(JSON_FILE), None, "only the format asked for");
}

#[test]
fn a_root_unit_charts_its_subtree_only() {
    let mut host = fixture_host().setting(ROOT_UNIT, "a1000000-0000-4000-8000-000000000002");
    let report = host.run::<OrgChart>().unwrap();
    assert_eq!(report.counts, [("units".to_owned(), 3), ("managers".to_owned(), 3)]);
    let csv = text(host.file(CSV_FILE));
    assert!(csv.lines().nth(1).is_some_and(|top| top.contains(";\"Børn og Unge\";\"\";\"0\";")), "{csv}");
}

#[test]
fn a_dry_run_works_the_chart_out_and_writes_nothing() {
    let mut host = fixture_host().dry_run(true);
    let report = host.run::<OrgChart>().unwrap();
    assert_eq!(report.summary, "worked out org-chart.csv and org-chart.json (dry run: nothing written)");
    assert!(host.files().is_empty());
}

#[test]
fn a_root_unit_closed_today_stops_the_run_naming_the_setting() {
    let mut host = fixture_host().setting(ROOT_UNIT, "a1000000-0000-4000-8000-000000000008");
    let err = host.run::<OrgChart>().unwrap_err();
    assert!(matches!(&err, PluginError::Config(m) if m.contains("`root_unit`")), "{err:?}");
}
