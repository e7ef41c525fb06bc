//! `mo-write` through the compiled mo-writer importer: on a snapshot file and on MO over GraphQL
//! (the stand-in), with the same outcomes and the same resulting MO; re-runs send nothing;
//! dry runs and refused batches change nothing.

#[path = "support/http.rs"]
mod http;
#[path = "support/mo_standin.rs"]
mod mo_standin;

use mo_standin::{Fault, MoStandin, dar_table_of, quick_retries, records};
use moport::caps::mo::graphql::{GraphqlSource, Mode};
use moport::caps::mo::snapshot::{Snapshot, SnapshotFile};
use moport::caps::mo::{MoSource, MoSourceSpec, demo};
use moport::engine::cache::ComponentCache;
use moport::manifest::{BUILT_PLUGINS_DIR, Manifest};
use moport::{ExitStatus, Host, RunError, RunOptions};
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
    std::fs::write(&path, text).unwrap();
    Host::new(Manifest::load(&path).unwrap(), ComponentCache::new(None)).unwrap()
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
