//! `mo-write` through the compiled mo-writer importer: on a snapshot file and on MO over GraphQL
//! (the stand-in), with the same outcomes and the same resulting MO; re-runs send nothing;
//! dry runs and refused batches change nothing. And the SDK's test host reads and writes MO as
//! the host does.

use crate::support::mo_standin;

use mo_standin::{Fault, MoStandin, dar_table_of, quick_retries, records};
use moport::BUILT_PLUGINS_DIR;
use moport_caps::limits::LimitExceeded;
use moport_manifest::Manifest;
use moport_manifest::MoSourceSpec;
use moport_mo::graphql::{GraphqlSource, Mode};
use moport_mo::snapshot::{Snapshot, SnapshotFile, SnapshotStore};
use moport_mo::{MoSource, demo};
use moport_runtime::cache::ComponentCache;
use moport_runtime::{ExitStatus, Host, RunError, RunOptions};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn demo_root() -> String {
    demo::built_in().org_units().iter().find(|unit| unit.user_key == "F1").unwrap().uuid.clone()
}

fn host(dir: &Path) -> Host {
    let path = dir.join("plugins.toml");
    let mut text = format!("[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n");
    for phase in ["create", "change", "bad"] {
        text.push_str(&format!(
            "[plugins.{phase}]\ncomponent = \"mo-writer.wasm\"\ngrants = {{ mo = \"write\" }}\n\
             settings = {{ root = \"{}\", phase = \"{phase}\" }}\n",
            demo_root()
        ));
    }
    for (name, updates, time) in [("many", 1_000, "60s"), ("runaway", 200_000, "2s")] {
        text.push_str(&format!(
            "[plugins.{name}]\ncomponent = \"mo-writer.wasm\"\ngrants = {{ mo = \"write\" }}\n\
             limits = {{ time = \"{time}\", memory = \"1GiB\" }}\n\
             settings = {{ root = \"{}\", phase = \"many\", updates = {updates} }}\n",
            demo_root()
        ));
    }
    std::fs::write(&path, text).unwrap();
    Host::new(Manifest::load(&path, moport::built_plugins()).unwrap(), ComponentCache::new(None)).unwrap()
}

async fn run(host: &Host, phase: &str, dry_run: bool) -> Result<BTreeMap<String, u64>, RunError> {
    let outcome = host.run(phase, &RunOptions { dry_run, ..RunOptions::default() }).await?;
    Ok(outcome.report.counts.into_iter().filter(|(_, n)| *n > 0).collect())
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(name, n)| ((*name).to_owned(), *n)).collect()
}

/// The demo municipality as a snapshot file in `dir`.
fn demo_file(dir: &Path) -> PathBuf {
    let path = dir.join("mo.json");
    demo::generate(&demo::built_in_spec()).save(&path).unwrap();
    path
}

#[tokio::test]
async fn a_snapshot_file_takes_writes_atomically_and_reruns_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_file(dir.path());
    let host = host(dir.path()).with_mo_spec(MoSourceSpec::Snapshot(path.clone()));
    let before = std::fs::read(&path).unwrap();

    assert_eq!(run(&host, "create", true).await.unwrap(), counts(&[("created", 9)]));
    assert!(std::fs::read(&path).unwrap() == before, "a dry run changed the file");

    assert_eq!(run(&host, "create", false).await.unwrap(), counts(&[("created", 9)]));
    let created = std::fs::read(&path).unwrap();
    let snapshot = Snapshot::load(&path).unwrap();
    assert!(snapshot.engagements().iter().any(|e| e.user_key == "T-0001"));
    assert_eq!(run(&host, "create", false).await.unwrap(), counts(&[("unchanged", 9)]));
    assert!(std::fs::read(&path).unwrap() == created, "an unchanged batch rewrote the file");

    let refused = run(&host, "bad", false).await.unwrap_err().to_string();
    assert!(refused.contains("change 2: org unit 5e1f0000-0000-4000-8000-0000000000ff does not exist"), "{refused}");
    assert!(std::fs::read(&path).unwrap() == created, "a refused batch changed the file");

    let changed = counts(&[("updated", 1), ("terminated", 1), ("missing", 1)]);
    assert_eq!(run(&host, "change", false).await.unwrap(), changed);
    assert_eq!(run(&host, "change", false).await.unwrap(), counts(&[("unchanged", 2), ("missing", 1)]));
    let snapshot = Snapshot::load(&path).unwrap();
    let names: Vec<_> =
        snapshot.org_units().iter().filter(|u| u.user_key == "TEST-1").map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["Ny afdeling", "Ny afdeling (omdøbt)"]);
    let ended = snapshot.engagements().iter().find(|e| e.user_key == "T-0001").unwrap();
    assert_eq!(ended.validity.to.as_deref(), Some("2026-12-01"));
    let mut leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    leftovers.sort();
    // `state` holds the plugin's run lock.
    assert_eq!(leftovers, ["mo.json", "plugins.toml", "state"], "no temporary file is left: {leftovers:?}");
}

#[tokio::test]
async fn a_batch_the_run_s_time_is_up_inside_is_stopped_at_the_limit_and_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_file(dir.path());
    let host = host(dir.path()).with_mo_spec(MoSourceSpec::Snapshot(path.clone()));
    let before = std::fs::read(&path).unwrap();
    // A batch of its size is worked out whole, in order, each rename a validity of its own.
    assert_eq!(run(&host, "many", false).await.unwrap(), counts(&[("updated", 1_000)]));
    let renamed = std::fs::read(&path).unwrap();
    assert!(renamed != before);
    // 200,000 renames take this machine some 5 s to work out in a test build; the limit
    // falls inside the host's work on the batch.
    let err = run(&host, "runaway", false).await.unwrap_err();
    assert!(matches!(&err, RunError::Limit { limit: LimitExceeded::Time { .. }, .. }), "{err:?}");
    assert_eq!(err.exit_status(), ExitStatus::LimitOrCrash);
    assert!(std::fs::read(&path).unwrap() == renamed, "the batch was written after the run's time was up");
}

fn graphql(standin: &MoStandin) -> Arc<GraphqlSource> {
    Arc::new(GraphqlSource::new(standin.settings(), Mode::Cache, quick_retries()).unwrap())
}

/// What MO holds, read through the host's own GraphQL backend, DAR addresses looked up in the
/// demo's (what the DAR service would answer).
async fn holdings(standin: &MoStandin) -> SnapshotFile {
    let source = GraphqlSource::new(standin.settings(), Mode::Cache, quick_retries()).unwrap();
    source.use_dar(dar_table_of(demo::built_in().file()));
    source.snapshot().await.unwrap()
}

fn applied(standin: &MoStandin) -> u64 {
    standin.operations().get("Apply").copied().unwrap_or(0)
}

#[tokio::test]
async fn mo_over_graphql_ends_up_as_the_snapshot_does_and_is_sent_only_what_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_file(dir.path());
    let on_file = host(dir.path()).with_mo_spec(MoSourceSpec::Snapshot(path.clone()));
    for phase in ["create", "change"] {
        run(&on_file, phase, false).await.unwrap();
    }

    let standin = MoStandin::start(demo::built_in().file(), Duration::from_secs(300)).await;
    let source = graphql(&standin);
    let on_mo = host(dir.path()).with_mo(MoSource::Graphql(source.clone()));
    assert_eq!(run(&on_mo, "create", true).await.unwrap(), counts(&[("created", 9)]));
    assert_eq!(applied(&standin), 0, "a dry run sent mutations");

    assert_eq!(run(&on_mo, "create", false).await.unwrap(), counts(&[("created", 9)]));
    assert_eq!(applied(&standin), 1, "one batch, one request");
    assert_eq!(run(&on_mo, "create", false).await.unwrap(), counts(&[("unchanged", 9)]));
    assert_eq!(applied(&standin), 1, "an unchanged batch sent mutations");

    let refused = run(&on_mo, "bad", false).await.unwrap_err();
    // The SDK reports a refused capability call as an I/O failure of the plugin.
    assert_eq!(refused.exit_status(), ExitStatus::Io, "{refused}");
    assert_eq!(applied(&standin), 1, "a batch the host refuses is not sent");

    let changed = counts(&[("updated", 1), ("terminated", 1), ("missing", 1)]);
    assert_eq!(run(&on_mo, "change", false).await.unwrap(), changed);
    assert_eq!(applied(&standin), 2);
    let taken = standin.counters.mutations.load(Ordering::SeqCst);
    assert!(taken > 9, "nine creates and a change took {taken} mutations");
    assert_eq!(
        source.client().traffic.mutations.load(Ordering::SeqCst),
        taken,
        "the host counts the mutations MO took"
    );

    let expected = Snapshot::load(&path).unwrap();
    assert!(records(&holdings(&standin).await) == records(expected.file()), "MO and the snapshot file differ");
}

#[tokio::test]
async fn a_batch_mo_refuses_fails_the_run_with_mos_error() {
    let standin = MoStandin::start(demo::built_in().file(), Duration::from_secs(300)).await;
    *standin.faults.mutations.lock().unwrap() =
        Some(Fault::GraphqlError { key: "V_DATE_OUTSIDE_ORG_UNIT_RANGE", message: "Date outside the unit's range" });
    let dir = tempfile::tempdir().unwrap();
    let err = run(&host(dir.path()).with_mo(MoSource::Graphql(graphql(&standin))), "create", false).await.unwrap_err();
    assert_eq!(err.exit_status(), ExitStatus::Io, "{err}");
    let message = err.to_string();
    assert!(message.contains("V_DATE_OUTSIDE_ORG_UNIT_RANGE") && message.contains("Date outside"), "{message}");
}

/// What a test compares of MO: its collections as JSON, whoever holds them.
fn collections(holder: &impl serde::Serialize) -> Value {
    let mut value = serde_json::to_value(holder).unwrap();
    let fields = value.as_object_mut().unwrap();
    for header in ["format", "version", "taken_at", "source", "organisation"] {
        fields.remove(header);
    }
    value
}

#[test]
fn the_sdk_test_host_reads_and_writes_mo_as_the_host_does() {
    use moport_sdk::mo as sdk_mo;
    let demo = demo::built_in();
    let json = String::from_utf8(demo.file().to_json()).unwrap();
    let today = "2026-06-01";
    let mut sdk = moport_sdk::testing::TestHost::new().today(today).mo_snapshot_json(&json);
    let store = SnapshotStore::new(Snapshot::from_json(Path::new("demo"), json.as_bytes()).unwrap(), None);
    assert_eq!(collections(store.current().file()), collections(sdk.mo()), "the loaders put MO alike");

    let root = demo_root();
    let day = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap();
    let queries = [
        json!({"uuids": [], "window": null, "under_org_units": [], "facet_user_keys": []}),
        json!({"uuids": [], "window": {"from": null, "to": null}, "under_org_units": [root], "facet_user_keys": []}),
        json!({"uuids": [], "window": {"from": today, "to": null}, "under_org_units": [], "facet_user_keys": []}),
        json!({"uuids": [root], "window": {"from": "2020-01-01", "to": "2021-01-01"}, "under_org_units": [],
            "facet_user_keys": []}),
        json!({"uuids": [], "window": null, "under_org_units": [], "facet_user_keys": ["engagement_job_function"]}),
        json!({"uuids": [], "window": {"from": "2026-13-01", "to": null}, "under_org_units": [], "facet_user_keys": []}),
        json!({"uuids": [], "window": {"from": today, "to": today}, "under_org_units": [], "facet_user_keys": []}),
    ];
    for query in &queries {
        let host_query: moport_types::mo::Query = serde_json::from_value(query.clone()).unwrap();
        let sdk_query: sdk_mo::Query = serde_json::from_value(query.clone()).unwrap();
        let snapshot = store.current();
        let filter = moport_mo_rules::Filter::new(&host_query, day, snapshot.org_units());
        let host_reads = json!([
            filter.as_ref().map_err(Clone::clone).and_then(|f| f.select(snapshot.org_units())),
            filter.as_ref().map_err(Clone::clone).and_then(|f| f.select(snapshot.engagements())),
            filter.as_ref().map_err(Clone::clone).and_then(|f| f.select(snapshot.classes())),
            filter.as_ref().map_err(Clone::clone).and_then(|f| f.select(snapshot.employees())),
        ]);
        let sdk_reads = sdk.run_with(|_| -> Result<Value, std::convert::Infallible> {
            Ok(json!([
                sdk_mo::org_units(&sdk_query),
                sdk_mo::engagements(&sdk_query),
                sdk_mo::classes(&sdk_query),
                sdk_mo::employees(&sdk_query),
            ]))
        });
        assert_eq!(host_reads, sdk_reads.unwrap(), "{query}");
    }

    let person = demo.employees()[0].uuid.clone();
    let engagement = demo.engagements()[0].uuid.clone();
    let email = demo.classes().iter().find(|class| class.scope.as_deref() == Some("EMAIL")).unwrap().uuid.clone();
    let unit = |name: &str, from: &str, to: Option<&str>| {
        json!({"OrgUnit": {"uuid": "5a2e6c1e-0000-4000-8000-00000000a001", "user_key": "NY", "name": name,
            "parent": root, "unit_type": null, "unit_level": null, "hierarchy": null,
            "validity": {"from": from, "to": to}}})
    };
    // Each batch with what it does.
    let batches = [
        (json!([{"Create": unit("Ny enhed", "2026-01-01", None)}]), json!({"Ok": ["Created"]})),
        (json!([{"Create": unit("Ny enhed", "2026-01-01", None)}]), json!({"Ok": ["Unchanged"]})),
        (json!([{"Update": unit("Nyere enhed", "2026-07-01", None)}]), json!({"Ok": ["Updated"]})),
        // A replay of both: nothing changes.
        (
            json!([{"Create": unit("Ny enhed", "2026-01-01", None)}, {"Update": unit("Nyere enhed", "2026-07-01", None)}]),
            json!({"Ok": ["Unchanged", "Unchanged"]}),
        ),
        (json!([{"Update": unit("Ny enhed", "2026-03-01", Some("2026-04-01"))}]), json!({"Ok": ["Unchanged"]})),
        // The scope and name MO works out are not the plugin's to give.
        (
            json!([{"Create": {"Address": {"uuid": "5a2e6c1e-0000-4000-8000-00000000a002", "value": "a@b.dk",
                "name": "", "address_type": email, "scope": "", "visibility": null, "person": person,
                "org_unit": null, "engagement": null, "dar": null, "validity": {"from": "2026-01-01", "to": null}}}}]),
            json!({"Ok": ["Created"]}),
        ),
        (
            json!([{"Terminate": {"kind": "Engagement", "uuid": engagement, "to": "2026-09-01"}}]),
            json!({"Ok": ["Terminated"]}),
        ),
        (
            json!([{"Terminate": {"kind": "Engagement", "uuid": engagement, "to": "2026-09-01"}}]),
            json!({"Ok": ["Unchanged"]}),
        ),
        (
            json!([{"Terminate": {"kind": "Engagement", "uuid": "5a2e6c1e-0000-4000-8000-00000000a003", "to": "2026-09-01"}}]),
            json!({"Ok": ["Missing"]}),
        ),
        (
            json!([{"Update": {"OrgUnit": {"uuid": "5a2e6c1e-0000-4000-8000-00000000a004", "user_key": "X", "name": "X",
                "parent": null, "unit_type": null, "unit_level": null, "hierarchy": null,
                "validity": {"from": "2026-01-01", "to": null}}}}]),
            json!("NotFound"),
        ),
        (json!([{"Terminate": {"kind": "Employee", "uuid": person, "to": "2026-09-01"}}]), json!("Invalid")),
        (json!([{"Create": unit("Ny enhed", "2026-1-1", None)}]), json!("Invalid")),
        (json!([{"Create": unit("Ny enhed", "2026-02-01", Some("2026-02-01"))}]), json!("Invalid")),
    ];
    for (batch, does) in &batches {
        let host_changes: Vec<moport_types::mo::Change> = serde_json::from_value(batch.clone()).unwrap();
        let sdk_changes: Vec<sdk_mo::write::Change> = serde_json::from_value(batch.clone()).unwrap();
        let host_outcomes = serde_json::to_value(store.apply(&host_changes, false, None)).unwrap();
        let sdk_outcomes = sdk.run_with(|_| Ok::<_, std::convert::Infallible>(sdk_mo::write::apply(&sdk_changes)));
        assert_eq!(host_outcomes, serde_json::to_value(sdk_outcomes.unwrap()).unwrap(), "{batch}");
        match &host_outcomes["Err"] {
            Value::Null => assert_eq!(&host_outcomes, does, "{batch}"),
            refused => assert!(refused.get(does.as_str().unwrap()).is_some(), "{batch}: {refused}"),
        }
        assert_eq!(collections(store.current().file()), collections(sdk.mo()), "MO after {batch}");
    }
}
