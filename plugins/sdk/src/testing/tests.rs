use super::TestHost;
use crate::log::Level;
use crate::mo::write::{self, Change, Object, ObjectKind, Outcome, Termination};
use crate::mo::{self as mo_read, OrgUnit, Query, Validity};
use crate::remote::Entry;
use crate::{CallError, PluginError, Report, dar, files, log, remote, settings, state};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A root unit with a renamed child and its child, a closed and a future unit, another top
/// unit, and records tied to them.
const SNAPSHOT: &str = r#"{
  "format": "moport-snapshot", "version": 1, "source": "the test host's tests",
  "organisation": {"uuid": "0a", "name": "Testkommune", "user_key": "test"},
  "classes": [
    {"uuid": "c2", "user_key": "afd", "name": "Afdeling", "facet": "f2", "facet_user_key": "org_unit_type",
     "validity": {}},
    {"uuid": "c1", "user_key": "pæd", "name": "Pædagog", "facet": "f1", "facet_user_key": "engagement_job_function",
     "validity": {}}
  ],
  "org_units": [
    {"uuid": "a0", "user_key": "R", "name": "Root", "validity": {"from": "2000-01-01"}},
    {"uuid": "a1", "user_key": "C", "name": "New", "parent": "a0", "validity": {"from": "2020-01-01"}},
    {"uuid": "a1", "user_key": "C", "name": "Old", "parent": "a0", "validity": {"from": "2000-01-01", "to": "2020-01-01"}},
    {"uuid": "a2", "user_key": "G", "name": "Grandchild", "parent": "a1", "validity": {"from": "2000-01-01"}},
    {"uuid": "a3", "user_key": "O", "name": "Other top", "validity": {"from": "2000-01-01"}},
    {"uuid": "a4", "user_key": "X", "name": "Closed", "parent": "a0", "validity": {"from": "2000-01-01", "to": "2010-01-01"}},
    {"uuid": "a5", "user_key": "F", "name": "Future", "parent": "a1", "validity": {"from": "2027-01-01"}}
  ],
  "employees": [{"uuid": "p1", "given_name": "Anne", "surname": "Jensen", "validity": {}}],
  "engagements": [
    {"uuid": "e1", "user_key": "1", "person": "p1", "org_unit": "a2", "is_primary": true, "extensions": [],
     "validity": {"from": "2020-01-01"}},
    {"uuid": "e2", "user_key": "2", "person": "p1", "org_unit": "a3", "is_primary": false, "extensions": [],
     "validity": {"from": "2020-01-01"}}
  ],
  "managers": [{"uuid": "m1", "person": "p1", "org_unit": "a1", "responsibilities": [], "validity": {}}],
  "addresses": [
    {"uuid": "d1", "value": "a2@kommune.dk", "name": "a2@kommune.dk", "address_type": "t", "scope": "EMAIL",
     "org_unit": "a2", "validity": {}},
    {"uuid": "d2", "value": "p1@kommune.dk", "name": "p1@kommune.dk", "address_type": "t", "scope": "EMAIL",
     "person": "p1", "validity": {}}
  ]
}"#;

fn host() -> TestHost {
    TestHost::new().today("2026-11-23").mo_snapshot_json(SNAPSHOT)
}

/// What a read returned: each record's uuid and start.
fn read<T: serde::Serialize>(
    host: &mut TestHost,
    read: impl FnOnce() -> Result<Vec<T>, CallError>,
) -> Vec<(String, String)> {
    let records = host.run_with(|_| read()).expect("the read succeeds");
    let record = |r: &T| serde_json::to_value(r).expect("a record serialises");
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    records.iter().map(record).map(|r| (text(&r["uuid"]), text(&r["validity"]["from"]))).collect()
}

fn uuids<T: serde::Serialize>(host: &mut TestHost, read: impl FnOnce() -> Result<Vec<T>, CallError>) -> Vec<String> {
    self::read(host, read).into_iter().map(|(uuid, _)| uuid).collect()
}

fn refusal<T>(host: &mut TestHost, read: impl FnOnce() -> Result<Vec<T>, CallError>) -> String {
    match host.run_with(|_| read()) {
        Err(CallError::Invalid(message)) => message,
        Err(other) => panic!("refused, but not as invalid: {other:?}"),
        Ok(_) => panic!("the query was not refused"),
    }
}

fn unit(uuid: &str, name: &str, from: &str) -> OrgUnit {
    OrgUnit {
        uuid: uuid.to_owned(),
        user_key: uuid.to_uppercase(),
        name: name.to_owned(),
        parent: Some("a0".to_owned()),
        unit_type: None,
        unit_level: None,
        hierarchy: None,
        validity: Validity { from: Some(from.to_owned()), to: None },
    }
}

type Span = (String, Option<String>, String);

fn span(from: &str, to: Option<&str>, name: &str) -> Span {
    (from.to_owned(), to.map(str::to_owned), name.to_owned())
}

/// The names of an org unit over time.
fn history(host: &TestHost, uuid: &str) -> Vec<Span> {
    let records = host.mo().org_units.iter().filter(|u| u.uuid == uuid);
    records.map(|u| (u.validity.from.clone().unwrap_or_default(), u.validity.to.clone(), u.name.clone())).collect()
}

#[test]
fn no_window_means_valid_today_with_to_exclusive() {
    let mut host = host();
    assert_eq!(uuids(&mut host, || mo_read::org_units(&Query::today())), ["a0", "a1", "a2", "a3"]);
    let mut host = host.today("2020-01-01");
    assert_eq!(uuids(&mut host, || mo_read::org_units(&Query::today())), ["a0", "a1", "a2", "a3"]);
    assert_eq!(
        read(&mut host, || mo_read::org_units(&Query { uuids: vec!["a1".into()], ..Query::today() })),
        [("a1".to_owned(), "2020-01-01".to_owned())],
        "the old name ends where the new one starts"
    );
}

#[test]
fn windows_add_the_future_or_all_history_ordered_by_uuid_then_start() {
    let mut host = host();
    assert_eq!(
        uuids(&mut host, || mo_read::org_units(&Query::window(Some("2026-11-23"), None))),
        ["a0", "a1", "a2", "a3", "a5"]
    );
    let all = read(&mut host, || mo_read::org_units(&Query::window(None, None)));
    let a1: Vec<&str> = all.iter().filter(|(uuid, _)| uuid == "a1").map(|(_, from)| from.as_str()).collect();
    assert_eq!(all.len(), 7);
    assert_eq!(a1, ["2000-01-01", "2020-01-01"]);
    assert_eq!(
        uuids(&mut host, || mo_read::org_units(&Query::window(Some("2005-01-01"), Some("2010-01-01")))),
        ["a0", "a1", "a2", "a3", "a4"]
    );
}

#[test]
fn under_org_units_takes_the_subtree_and_what_is_tied_to_it() {
    let mut host = host();
    let under = Query::today().under(&["a1"]);
    assert_eq!(uuids(&mut host, || mo_read::org_units(&under)), ["a1", "a2"]);
    assert_eq!(uuids(&mut host, || mo_read::engagements(&under)), ["e1"]);
    assert_eq!(uuids(&mut host, || mo_read::managers(&under)), ["m1"]);
    assert_eq!(uuids(&mut host, || mo_read::addresses(&under)), ["d1"], "not the person's address");
    let with_future = Query::window(Some("2026-11-23"), None).under(&["a0"]);
    assert_eq!(uuids(&mut host, || mo_read::org_units(&with_future)), ["a0", "a1", "a2", "a5"]);
    assert!(refusal(&mut host, || mo_read::employees(&under)).contains("employees"));
}

#[test]
fn uuids_and_facets_narrow_and_bad_queries_are_refused() {
    let mut host = host();
    let query = Query { uuids: vec!["a3".into(), "a2".into()], ..Query::today() };
    assert_eq!(uuids(&mut host, || mo_read::org_units(&query)), ["a2", "a3"]);
    assert_eq!(uuids(&mut host, || mo_read::classes(&Query::today().in_facets(&["org_unit_type"]))), ["c2"]);
    assert_eq!(uuids(&mut host, || mo_read::classes(&Query::today())), ["c1", "c2"]);
    assert!(refusal(&mut host, || mo_read::org_units(&Query::today().in_facets(&["x"]))).contains("facet-user-keys"));
    assert!(refusal(&mut host, || mo_read::org_units(&Query::window(Some("23-11-2026"), None))).contains("23-11"));
    let empty = Query::window(Some("2026-01-01"), Some("2026-01-01"));
    assert!(refusal(&mut host, || mo_read::org_units(&empty)).contains("is empty"));
    assert_eq!(host.run_with(|_| mo_read::root_organisation()).unwrap().name, "Testkommune");
    let no_organisation = TestHost::new().run_with(|_| mo_read::root_organisation());
    assert!(matches!(no_organisation, Err(CallError::NotFound(m)) if m.contains("organisation")));
}

#[test]
fn creates_insert_new_objects_and_update_existing_ones_keeping_their_history() {
    let mut host = host();
    let changes = [
        Change::Create(Object::OrgUnit(unit("a9", "Nine", "2026-01-01"))),
        Change::Create(Object::OrgUnit(unit("a1", "Newest", "2025-01-01"))),
        Change::Update(Object::OrgUnit(unit("a9", "Nine renamed", "2026-06-01"))),
    ];
    let outcomes = host.run_with(|_| write::apply(&changes)).unwrap();
    assert_eq!(outcomes, [Outcome::Created, Outcome::Updated, Outcome::Updated]);
    assert_eq!(host.applied(), changes);
    assert_eq!(
        history(&host, "a1"),
        [
            span("2000-01-01", Some("2020-01-01"), "Old"),
            span("2020-01-01", Some("2025-01-01"), "New"),
            span("2025-01-01", None, "Newest")
        ]
    );
    assert_eq!(
        history(&host, "a9"),
        [span("2026-01-01", Some("2026-06-01"), "Nine"), span("2026-06-01", None, "Nine renamed")]
    );
}

#[test]
fn a_batch_with_an_update_of_a_missing_object_changes_nothing() {
    let mut host = host();
    let before = host.mo().clone();
    let changes = [
        Change::Create(Object::OrgUnit(unit("a9", "Nine", "2026-01-01"))),
        Change::Update(Object::OrgUnit(unit("a8", "Eight", "2026-01-01"))),
    ];
    let result = host.run_with(|_| write::apply(&changes));
    assert!(matches!(result, Err(CallError::NotFound(m)) if m.contains("org unit a8 does not exist")));
    assert_eq!(host.mo(), &before);
    assert!(host.applied().is_empty());
    let bad_date = [Change::Create(Object::OrgUnit(unit("a9", "Nine", "1.1.2026")))];
    assert!(matches!(host.run_with(|_| write::apply(&bad_date)), Err(CallError::Invalid(m)) if m.contains("1.1.2026")));
}

#[test]
fn terminations_cap_every_validity_and_miss_absent_objects() {
    let mut host = host();
    let end = |kind, uuid: &str, to: &str| Change::Terminate(Termination { kind, uuid: uuid.into(), to: to.into() });
    let changes = [end(ObjectKind::OrgUnit, "a1", "2010-01-01"), end(ObjectKind::Manager, "m9", "2026-01-01")];
    assert_eq!(host.run_with(|_| write::apply(&changes)).unwrap(), [Outcome::Terminated, Outcome::Missing]);
    assert_eq!(history(&host, "a1"), [span("2000-01-01", Some("2010-01-01"), "Old")]);
    let person = [end(ObjectKind::Employee, "p1", "2026-01-01")];
    let refused = host.run_with(|_| write::apply(&person));
    assert!(matches!(&refused, Err(CallError::Invalid(m)) if m.contains("MO cannot end a person")), "{refused:?}");
}

#[test]
fn a_dry_run_works_outcomes_out_and_lists_the_changes_but_changes_no_mo() {
    let mut host = host().dry_run(true);
    let before = host.mo().clone();
    let changes = [Change::Create(Object::OrgUnit(unit("a9", "Nine", "2026-01-01")))];
    let report = host.run_with(|ctx| {
        assert!(ctx.dry_run);
        write::apply(&changes)
    });
    assert_eq!(report.unwrap(), [Outcome::Created]);
    assert_eq!(host.mo(), &before);
    assert_eq!(host.applied(), changes);
}

#[test]
fn state_is_committed_only_by_a_successful_real_run() {
    let mut host = host().state("last", "1");
    let set = |value: &'static str| {
        move |_: crate::RunContext| -> Result<Option<String>, CallError> {
            let seen = state::get("last")?;
            state::set("last", value)?;
            assert_eq!(state::get("last")?.as_deref(), Some(value), "a run sees its own changes");
            Ok(seen)
        }
    };
    assert_eq!(host.run_with(set("2")).unwrap().as_deref(), Some("1"));
    assert_eq!(host.state_value("last"), Some("2"));

    let failed = host.run_with(|ctx| set("3")(ctx).and(Err::<(), _>(CallError::Unavailable("MO is down".into()))));
    assert!(failed.is_err());
    assert_eq!(host.state_value("last"), Some("2"), "a failed run keeps nothing");

    let panicked = catch_unwind(AssertUnwindSafe(|| {
        host.run_with(|ctx| -> Result<(), CallError> {
            set("4")(ctx)?;
            panic!("plugin bug")
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(host.state_value("last"), Some("2"), "a panicked run keeps nothing, and the host is back");

    let mut host = host.dry_run(true);
    host.run_with(set("5")).unwrap();
    assert_eq!(host.state_value("last"), Some("2"), "a dry run keeps nothing");
    let keys = host.run_with(|_| state::remove("last").and_then(|()| state::keys())).unwrap();
    assert!(keys.is_empty());
}

#[test]
fn files_are_captured_and_paths_leaving_the_folder_refused() {
    let mut host = TestHost::new();
    let listing = host.run_with(|_| {
        files::write("a/b.txt", b"b")?;
        files::write("c.txt", b"c")?;
        files::write("gone.txt", b"")?;
        files::remove("gone.txt")?;
        Ok::<_, CallError>((files::list("")?, files::list("a")?, files::read("a/b.txt")?))
    });
    assert_eq!(listing.unwrap(), (vec!["a/".to_owned(), "c.txt".to_owned()], vec!["b.txt".to_owned()], b"b".to_vec()));
    assert_eq!(host.file("c.txt"), Some(&b"c"[..]));
    assert_eq!(host.files().keys().map(String::as_str).collect::<Vec<_>>(), ["a/b.txt", "c.txt"]);
    for bad in ["../x", "a/../b", "/etc/passwd", "", "a//b", ".moport-staging-x/a"] {
        assert!(matches!(host.run_with(|_| files::write(bad, b"x")), Err(CallError::Invalid(_))), "{bad}");
    }
    assert!(
        matches!(host.run_with(|_| files::read("nope.txt")), Err(CallError::NotFound(m)) if m.contains("nope.txt"))
    );
}

#[test]
fn a_failed_run_leaves_the_output_folder_as_the_last_successful_run_left_it() {
    let mut host = TestHost::new();
    host.run_with(|_| files::write("a.csv", b"first")).unwrap();
    let failed = host.run_with(|_| {
        files::write("a.csv", b"second")?;
        files::write("b.csv", b"second")?;
        assert_eq!(files::read("a.csv")?, b"second", "the run sees its own writes");
        Err::<(), _>(PluginError::Io("the last file failed".into()))
    });
    assert!(failed.is_err());
    assert_eq!(host.files().len(), 1);
    assert_eq!(host.file("a.csv"), Some(&b"first"[..]));
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        host.run_with(|_| -> Result<(), CallError> {
            files::remove("a.csv")?;
            panic!("the plugin panics");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(host.file("a.csv"), Some(&b"first"[..]));
}

#[test]
fn a_set_of_remote_files_is_placed_whole_or_not_at_all() {
    let mut host = TestHost::new().remote("ftp", "a.csv", "old a").remote("ftp", "b.csv", "old b");
    let set: [(&str, &[u8]); 2] = [("a.csv", b"new a"), ("sub/b.csv", b"new b")];
    host.run_with(|_| remote::write_set("ftp", &set)).unwrap();
    assert_eq!(host.remote_file("ftp", "a.csv"), Some(&b"new a"[..]));
    assert_eq!(host.remote_file("ftp", "sub/b.csv"), Some(&b"new b"[..]));
    let names = |host: &mut TestHost| -> Vec<String> {
        host.run_with(|_| remote::list("ftp", "")).unwrap().into_iter().map(|entry| entry.name).collect()
    };
    assert_eq!(names(&mut host), ["a.csv", "b.csv", "sub/"], "no staged file is left");

    // The second file cannot be uploaded: the first, uploaded under its staged name, is removed
    // and the target keeps its earlier files.
    let bad: [(&str, &[u8]); 2] = [("a.csv", b"newer a"), ("../b.csv", b"newer b")];
    let err = host.run_with(|_| remote::write_set("ftp", &bad)).unwrap_err();
    assert_eq!(err.file, "../b.csv");
    assert!(err.placed.is_empty());
    assert!(err.to_string().contains("no file of the set was placed"), "{err}");
    assert_eq!(host.remote_file("ftp", "a.csv"), Some(&b"new a"[..]));
    assert_eq!(names(&mut host), ["a.csv", "b.csv", "sub/"]);
}

#[test]
fn remote_targets_hold_given_and_written_files() {
    let mut host = TestHost::new().remote("ftp", "in/2026.csv", "a;b").remote("ftp", "in/old/2025.csv", "");
    let entries = host.run_with(|_| remote::list("ftp", "in")).unwrap();
    let folder = Entry { name: "old/".into(), size: 0, modified: None };
    assert_eq!(entries, [Entry { name: "2026.csv".into(), size: 3, modified: None }, folder], "a folder ends in /");
    let moved = host.run_with(|_| {
        remote::write("sftp", "out/result.csv", b"ok")?;
        remote::rename("ftp", "in/2026.csv", "done/2026.csv")?;
        remote::read("ftp", "./done//2026.csv")
    });
    assert_eq!(moved.unwrap(), b"a;b");
    assert_eq!(host.remote_file("sftp", "out/result.csv"), Some(&b"ok"[..]));
    assert_eq!(host.remote_file("ftp", "in/2026.csv"), None);
    assert!(matches!(host.run_with(|_| remote::read("ftp", "in/2027.csv")), Err(CallError::NotFound(_))));
    assert!(matches!(host.run_with(|_| remote::list("ftp", "nowhere")), Err(CallError::NotFound(_))));
    assert!(matches!(host.run_with(|_| remote::read("ftp", "../x")), Err(CallError::Invalid(_))));
    assert!(matches!(host.run_with(|_| remote::list("nas", "")), Err(CallError::Denied(m)) if m.contains("`nas`")));
}

#[test]
fn settings_logs_dar_and_the_clock_are_served() {
    let address = dar::Address {
        id: "0a3f50a0-0000-4000-8000-000000000001".into(),
        street: "Rådhuspladsen".into(),
        house_number: "1".into(),
        floor: None,
        door: None,
        postcode: "1550".into(),
        city: "København V".into(),
        text: "Rådhuspladsen 1, 1550 København V".into(),
    };
    let mut host = TestHost::new()
        .today("2026-11-23")
        .setting("rows", 3)
        .setting("name", "x")
        .dar_address("Rådhuspladsen 1, 1550 København V", address.clone());
    let run = host.run_with(|ctx| -> Result<Report, PluginError> {
        assert_eq!((ctx.plugin.as_str(), ctx.today.as_str()), ("test", "2026-11-23"));
        assert_eq!(ctx.started_at, "2026-11-23T00:00:00Z");
        assert_eq!(settings::get_i64("rows")?, Some(3));
        assert!(settings::get_i64("name").is_err(), "a text is not a number");
        assert_eq!(settings::get_str("missing")?, None);
        assert_eq!(dar::lookup_text("rådhuspladsen  1, 1550 københavn v")?, Some(address.clone()));
        assert_eq!(dar::get(&address.id.to_uppercase())?.map(|a| a.postcode), Some("1550".into()));
        assert_eq!(dar::lookup_text("Nowhere 1")?, None);
        log::warn("careful");
        Ok(Report::new("done"))
    });
    assert_eq!(run.unwrap(), Report::new("done"));
    assert_eq!(host.logs(), [(Level::Warn, "careful".to_owned())]);
}

#[test]
#[should_panic(expected = "outside `TestHost::run`")]
fn capabilities_outside_a_run_panic_saying_what_to_do() {
    let _ = files::read("x");
}

#[test]
#[should_panic(expected = "`format` is \"moport\"")]
fn a_file_that_is_not_a_snapshot_is_refused() {
    let _ = TestHost::new().mo_snapshot_json(r#"{"format": "moport", "version": 1}"#);
}
