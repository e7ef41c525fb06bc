//! The `graphql` backend against the MO stand-in: the same plugin output as from a snapshot in
//! both modes, retries, token renewal, MO's errors, and `moport snapshot`.

use crate::support::mo_standin;

use mo_standin::{CLIENT_SECRET, Fault, MoStandin, dar_table_of, quick_retries, records};
use moport::BUILT_PLUGINS_DIR;
use moport_manifest::Manifest;
use moport_mo::MoSource;
use moport_mo::demo;
use moport_mo::graphql::collections as gql;
use moport_mo::graphql::{GraphqlSource, Mode};
use moport_mo::snapshot::{Snapshot, SnapshotFile};
use moport_runtime::cache::ComponentCache;
use moport_runtime::{ExitStatus, Host, RunError, RunOptions};
use moport_types::mo::Collection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// An administration of the demo municipality: a subtree with areas and departments below it.
fn demo_root() -> String {
    let demo = demo::built_in();
    demo.org_units().iter().find(|unit| unit.user_key == "F1").expect("the demo has administration F1").uuid.clone()
}

fn manifest(dir: &Path) -> PathBuf {
    let path = dir.join("plugins.toml");
    let out = dir.join("out");
    std::fs::write(
        &path,
        format!(
            "[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n[plugins.reader]\ncomponent = \"mo-reader.wasm\"\n\
             grants = {{ mo = \"read\", files = {out:?} }}\nsettings = {{ root = \"{}\", dump = true }}\n",
            demo_root()
        ),
    )
    .unwrap();
    path
}

/// Runs the reader over `source`; returns what it dumped and its report.
async fn read_all(source: MoSource) -> Result<(String, Vec<(String, u64)>), RunError> {
    let dir = tempfile::tempdir().unwrap();
    let host =
        Host::new(Manifest::load(&manifest(dir.path()), moport::built_plugins()).unwrap(), ComponentCache::new(None))?
            .with_mo(source);
    let outcome = host.run("reader", &RunOptions::default()).await?;
    let dump = std::fs::read_to_string(dir.path().join("out/mo.txt")).unwrap();
    Ok((dump, outcome.report.counts))
}

/// A GraphQL source on the stand-in, looking DAR addresses up in a table of the demo's own (MO's
/// resolver is never asked: moport's provider fills in what MO would).
fn graphql(standin: &MoStandin, mode: Mode) -> (Arc<GraphqlSource>, MoSource) {
    let source = Arc::new(GraphqlSource::new(standin.settings(), mode, quick_retries()).unwrap());
    source.use_dar(dar_table_of(demo::built_in().file()));
    (source.clone(), MoSource::Graphql(source))
}

/// The demo as a read of MO without a DAR provider sees it: DAR addresses keep their id as text.
fn without_dar_fields(file: &SnapshotFile) -> SnapshotFile {
    let mut file = file.clone();
    for address in file.addresses.iter_mut().filter(|a| a.dar.is_some()) {
        address.dar = None;
        address.name = address.value.clone();
    }
    file
}

#[tokio::test]
async fn snapshot_graphql_cache_and_graphql_direct_give_the_same_plugin_output() {
    let demo = demo::built_in();
    let (expected, counts) = read_all(MoSource::in_memory(demo::built_in())).await.unwrap();
    assert!(counts.iter().any(|(name, n)| name == "units under root" && *n > 3), "{counts:?}");

    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    let (_, source) = graphql(&standin, Mode::Cache);
    let (cached, cached_counts) = read_all(source).await.unwrap();
    assert_eq!(cached_counts, counts);
    assert!(cached == expected, "graphql cache differs from the snapshot");
    // Cache mode reads each collection once, however often the plugin asks (engagements: twice).
    let operations = standin.operations();
    assert_eq!(operations["Engagements"], 1, "{operations:?}");
    assert_eq!(operations["OrgUnits"], 1, "{operations:?}");

    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    let (_, source) = graphql(&standin, Mode::Direct);
    let (direct, direct_counts) = read_all(source).await.unwrap();
    assert_eq!(direct_counts, counts);
    assert!(direct == expected, "graphql direct differs from the snapshot");
    // Direct mode asks MO on every call.
    assert_eq!(standin.operations()["Engagements"], 2);
}

#[tokio::test]
async fn failing_requests_are_retried_and_the_output_is_unchanged() {
    let demo = demo::built_in();
    let (expected, _) = read_all(MoSource::in_memory(demo::built_in())).await.unwrap();
    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    standin.faults.next.lock().unwrap().extend([Fault::Status(502), Fault::Garbled, Fault::Hang, Fault::Status(503)]);
    let (source, mo) = graphql(&standin, Mode::Cache);
    let (dump, _) = read_all(mo).await.unwrap();
    assert!(dump == expected, "the output after retries differs");
    assert_eq!(source.client().traffic.retries.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_persistent_failure_ends_the_run_with_the_cause() {
    let demo = demo::built_in();
    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    *standin.faults.always.lock().unwrap() = Some(Fault::Status(503));
    let (_, mo) = graphql(&standin, Mode::Cache);
    let err = read_all(mo).await.unwrap_err();
    assert_eq!(err.exit_status(), ExitStatus::Io);
    let message = err.to_string();
    assert!(
        message.contains("did not answer") && message.contains("after 5 tries") && message.contains("HTTP 503"),
        "{message}"
    );
    assert_eq!(standin.counters.graphql_requests.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn collections_asked_for_ahead_are_fetched_side_by_side_and_once() {
    let demo = demo::built_in();
    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    *standin.faults.latency.lock().unwrap() = Duration::from_millis(50);
    let requests = || standin.counters.graphql_requests.load(Ordering::SeqCst);
    let (one_by_one, _) = graphql(&standin, Mode::Cache);
    one_by_one.all::<gql::Addresses>().await.unwrap();
    one_by_one.all::<gql::Engagements>().await.unwrap();
    one_by_one.all::<gql::OrgUnits>().await.unwrap();
    assert_eq!(standin.counters.most_in_flight.load(Ordering::SeqCst), 1, "reads alone go one after another");
    let sequential = requests();

    let (ahead, _) = graphql(&standin, Mode::Cache);
    let wanted = [Collection::Addresses, Collection::Engagements, Collection::OrgUnits, Collection::Addresses];
    assert_eq!(ahead.prefetch(&wanted).len(), 3, "one fetch per collection, however often it is named");
    assert!(ahead.prefetch(&wanted).is_empty(), "a collection on its way is not fetched again");
    let fetched = ahead.all::<gql::Addresses>().await.unwrap();
    ahead.all::<gql::Engagements>().await.unwrap();
    ahead.all::<gql::OrgUnits>().await.unwrap();
    assert_eq!(fetched.len(), one_by_one.all::<gql::Addresses>().await.unwrap().len());
    assert!(standin.counters.most_in_flight.load(Ordering::SeqCst) >= 3, "the three are fetched side by side");
    assert_eq!(requests() - sequential, sequential, "each collection is fetched once, ahead or not");
    assert!(ahead.prefetch(&wanted).is_empty(), "nothing is fetched again once fetched");

    let (direct, _) = graphql(&standin, Mode::Direct);
    assert!(direct.prefetch(&wanted).is_empty(), "direct mode asks MO per read, so it fetches nothing ahead");
}

#[tokio::test]
async fn a_failed_fetch_ahead_is_reported_by_the_next_read_without_fetching_again() {
    let demo = demo::built_in();
    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    *standin.faults.always.lock().unwrap() = Some(Fault::Status(503));
    let (source, _) = graphql(&standin, Mode::Cache);
    assert_eq!(source.prefetch(&[Collection::OrgUnits]).len(), 1);
    let message = source.all::<gql::OrgUnits>().await.unwrap_err().to_string();
    assert!(message.contains("after 5 tries") && message.contains("HTTP 503"), "{message}");
    assert_eq!(standin.counters.graphql_requests.load(Ordering::SeqCst), 5, "the read waited for the prefetch");
    // Reported once: a read after that asks MO again.
    *standin.faults.always.lock().unwrap() = None;
    assert_eq!(source.all::<gql::OrgUnits>().await.unwrap().len(), demo.org_units().len());
}

#[tokio::test]
async fn graphql_errors_on_http_200_fail_with_mos_error_key() {
    let demo = demo::built_in();
    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    standin
        .faults
        .next
        .lock()
        .unwrap()
        .push_back(Fault::GraphqlError { key: "E_INVALID_INPUT", message: "Invalid filter" });
    let (source, mo) = graphql(&standin, Mode::Cache);
    let message = read_all(mo).await.unwrap_err().to_string();
    assert!(
        message.contains("MO reported errors for")
            && message.contains("ErrorCodes.E_INVALID_INPUT: Invalid filter (at page)"),
        "{message}"
    );
    assert_eq!(source.client().traffic.retries.load(Ordering::SeqCst), 0, "a GraphQL error is not retried");
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    let demo = demo::built_in();
    let standin = MoStandin::start(demo.file(), Duration::from_secs(1)).await;
    *standin.faults.latency.lock().unwrap() = Duration::from_millis(150);
    let (_, mo) = graphql(&standin, Mode::Direct);
    read_all(mo).await.unwrap();
    let tokens = standin.counters.token_requests.load(Ordering::SeqCst);
    let requests = standin.counters.graphql_requests.load(Ordering::SeqCst);
    assert!(tokens >= 2, "one token lived longer than it should");
    assert!(tokens * 2 < requests, "a token is reused until it is due: {tokens} tokens for {requests} requests");
    assert_eq!(standin.counters.refused_tokens.load(Ordering::SeqCst), 0, "no request went out with a stale token");
}

#[tokio::test]
async fn a_token_mo_stops_accepting_is_replaced_once() {
    let standin = MoStandin::start(demo::built_in().file(), Duration::from_secs(300)).await;
    standin.faults.next.lock().unwrap().extend([Fault::Pass, Fault::Unauthorized]);
    let (source, mo) = graphql(&standin, Mode::Cache);
    read_all(mo).await.unwrap();
    assert_eq!(standin.counters.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(source.client().traffic.retries.load(Ordering::SeqCst), 1);

    // A token Keycloak has just issued and MO refuses will not improve: stop at once.
    let standin = MoStandin::start(demo::built_in().file(), Duration::from_secs(300)).await;
    *standin.faults.always.lock().unwrap() = Some(Fault::Unauthorized);
    let (_, mo) = graphql(&standin, Mode::Cache);
    let message = read_all(mo).await.unwrap_err().to_string();
    assert!(message.contains("MO refused a token Keycloak had just issued to the client `moport`"), "{message}");
    assert!(message.contains("check that MO trusts this Keycloak realm"), "{message}");
    assert_eq!(standin.counters.graphql_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn wrong_credentials_name_keycloak_and_the_settings() {
    let demo = demo::built_in();
    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    let mut settings = standin.settings();
    settings.client_secret = moport_manifest::secret::Secret::new("forkert");
    let source = GraphqlSource::new(settings, Mode::Cache, quick_retries()).unwrap();
    let message = read_all(MoSource::Graphql(Arc::new(source))).await.unwrap_err().to_string();
    assert!(message.contains("/auth/realms/mo/protocol/openid-connect/token gave no token"), "{message}");
    assert!(!message.contains("forkert"), "the secret is in the message: {message}");
    assert!(message.contains("check crontab.CLIENT_ID and crontab.CLIENT_SECRET"), "{message}");
    assert_eq!(standin.counters.token_requests.load(Ordering::SeqCst), 1, "refused credentials are not retried");
}

fn moport(args: &[&str], env: &[(&'static str, String)], dir: &Path) -> std::process::Output {
    crate::support::moport_cli::command(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn moport_snapshot_writes_what_mo_holds_or_nothing() {
    let demo = demo::built_in();
    let standin = MoStandin::start(demo.file(), Duration::from_secs(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let (env, path) = (standin.env(), dir.path().to_owned());
    let out =
        tokio::task::spawn_blocking(move || moport(&["snapshot", "--mo", "graphql", "--out", "mo.json"], &env, &path))
            .await
            .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(CLIENT_SECRET), "the secret leaked: {stderr}");
    let taken = Snapshot::load(&dir.path().join("mo.json")).unwrap();
    let served = without_dar_fields(demo.file());
    assert!(records(taken.file()) == records(&served), "the snapshot of the stand-in differs from what it serves");

    // A persistent failure leaves no file behind, not even a partial one.
    *standin.faults.always.lock().unwrap() = Some(Fault::Status(500));
    let (env, path) = (standin.env(), dir.path().to_owned());
    let out = tokio::task::spawn_blocking(move || {
        moport(&["snapshot", "--mo", "graphql", "--out", "again.json"], &env, &path)
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("did not answer") && stderr.contains("HTTP 500"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, [std::ffi::OsString::from("mo.json")]);
}

#[tokio::test]
async fn an_mo_that_is_not_there_is_named_with_the_cause() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let env: std::collections::HashMap<_, _> = [
        ("MORA_BASE", format!("http://{closed}")),
        ("AUTH_SERVER", format!("http://{closed}/auth")),
        ("CLIENT_ID", "moport".to_owned()),
        ("CLIENT_SECRET", "x".to_owned()),
    ]
    .into_iter()
    .collect();
    let settings = moport_mo::graphql::settings::GraphqlSettings::load(None, |var| env.get(var).cloned()).unwrap();
    let source = GraphqlSource::new(settings, Mode::Cache, quick_retries()).unwrap();
    let message = source.snapshot().await.unwrap_err().to_string();
    assert!(message.contains(&format!("MO at http://{closed}/graphql/v30 did not answer")), "{message}");
    assert!(message.contains("after 5 tries") && message.contains("cannot connect"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_reads_a_live_mo_in_both_modes() {
    let standin = MoStandin::start(demo::built_in().file(), Duration::from_secs(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = manifest(dir.path());
    for mode in ["cache", "direct"] {
        let (env, path, config) = (standin.env(), dir.path().to_owned(), config.clone());
        let args =
            ["--config", config.to_str().unwrap(), "--no-cache", "run", "reader", "--mo", "graphql", "--mo-mode", mode]
                .map(str::to_owned);
        let out = tokio::task::spawn_blocking(move || {
            moport(&args.iter().map(String::as_str).collect::<Vec<_>>(), &env, &path)
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{mode}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("reader: read MO of Demo Kommune") && stdout.contains("employees: 300"), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_are_a_configuration_error_for_run_and_snapshot_alike() {
    let standin = MoStandin::start(demo::built_in().file(), Duration::from_secs(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = manifest(dir.path()).to_str().unwrap().to_owned();
    let mut env = standin.env();
    env.retain(|(name, _)| *name != "CLIENT_SECRET");
    env.push(("CLIENT_SECRET", "forkert".to_owned()));
    let commands = [
        vec!["--config", &config, "--no-cache", "run", "reader", "--mo", "graphql"],
        vec!["--config", &config, "snapshot", "--mo", "graphql", "--out", "mo.json"],
    ];
    for args in commands {
        let owned: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        let (env, path) = (env.clone(), dir.path().to_owned());
        let out = tokio::task::spawn_blocking(move || {
            moport(&owned.iter().map(String::as_str).collect::<Vec<_>>(), &env, &path)
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("gave no token") && stderr.contains("crontab.CLIENT_SECRET"), "{args:?}: {stderr}");
    }
}
