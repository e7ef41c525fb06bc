//! moport against a real OS2mo 66 (GraphQL v30): MO's own server on its own PostgreSQL, behind a
//! counting proxy, trusting the tests' token issuer (tests/support/real_mo.rs). These tests are
//! the truth the MO stand-in is held to. Without MO's source they skip, saying how to run them;
//! under `CI=true` they fail instead.

use crate::support::{los_after_demo, mo_proxy, mo_standin, moport_cli, real_mo, token_issuer};

use mo_proxy::MoProxy;
use moport::BUILT_PLUGINS_DIR;
use moport_mo::graphql::{GraphqlSource, Mode};
use moport_mo::snapshot::{Snapshot, SnapshotFile};
use real_mo::{NO_ROLES, RealMo, Session, WRITER};
use std::path::{Path, PathBuf};
use std::time::Duration;
use token_issuer::{Client, read_roles};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A work folder with a plugins.toml, and moport pointed at the real MO through a proxy.
struct World {
    session: Session,
    proxy: MoProxy,
    work: tempfile::TempDir,
}

impl World {
    async fn new(manifest: &str) -> Option<World> {
        let session = RealMo::session().await?;
        let proxy = MoProxy::start(&session.mo.url).await;
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("plugins.toml"), manifest).unwrap();
        Some(World { session, proxy, work })
    }

    /// Runs `moport ARGS` in the work folder as `client`; exit code, stdout, stderr.
    async fn moport_as(&self, client: (&str, &str), args: &[&str]) -> (i32, String, String) {
        self.moport_with(self.env_as(client), args).await
    }

    /// Runs `moport ARGS` in the work folder with `env` (an MO's settings, and more).
    async fn moport_with(&self, env: Vec<(&'static str, String)>, args: &[&str]) -> (i32, String, String) {
        moport_cli::moport(self.work.path(), env, args).await
    }

    /// What MO holds now, read with `moport snapshot` into `name`, as [`as_mo_keeps_it`] compares it.
    async fn holdings(&self, env: Vec<(&'static str, String)>, name: &str) -> serde_json::Value {
        let (code, _, stderr) = self.moport_with(env, &["snapshot", "--mo", "graphql", "--out", name]).await;
        assert_eq!(code, 0, "{stderr}");
        as_mo_keeps_it(Snapshot::load(&self.path(name)).unwrap().file())
    }

    /// The real MO's settings for the writing client, through the proxy.
    fn real_env(&self) -> Vec<(&'static str, String)> {
        self.env_as(WRITER)
    }

    /// The real MO's settings for `client`, through the proxy.
    fn env_as(&self, client: (&str, &str)) -> Vec<(&'static str, String)> {
        let mut env = self.session.mo.env(client);
        env.retain(|(name, _)| *name != "MORA_BASE");
        env.push(("MORA_BASE", self.proxy.url()));
        env
    }

    async fn moport(&self, args: &[&str]) -> (i32, String, String) {
        self.moport_as(WRITER, args).await
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }
}

/// The shipped plugins.toml, with its paths made absolute (components, the demo's DAR table and
/// LOS files), so it runs from the work folder.
fn shipped_manifest() -> String {
    let text = std::fs::read_to_string(repo().join("plugins.toml")).unwrap();
    let demo = repo().join("demo");
    let replaced = text
        .replace("[host]\n", &format!("[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n"))
        .replace("\"table:demo/dar-table.csv\"", &format!("\"table:{}\"", demo.join("dar-table.csv").display()))
        .replace("path = \"demo/los\"", &format!("path = {:?}", demo.join("los")));
    assert!(replaced.contains("dar-table.csv") && replaced.contains(&demo.join("los").display().to_string()));
    replaced
}

const PLAN2LEARN_FILES: [&str; 5] =
    ["organisation.csv", "bruger.csv", "engagement.csv", "stillingskode.csv", "leder.csv"];

/// A snapshot's records, without where and when it was taken, and with what real MO does not
/// keep as written taken out (docs/mo-graphql.md): a person starts on the CPR birth date, and a
/// read without a DAR provider gives a DAR address its id as text.
fn as_mo_keeps_it(file: &SnapshotFile) -> serde_json::Value {
    let mut file = file.clone();
    for address in file.addresses.iter_mut().filter(|a| a.dar.is_some() || a.scope == "DAR") {
        address.dar = None;
        address.name = address.value.clone();
    }
    let mut persons: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (n, person) in file.employees.iter().enumerate() {
        persons.entry(person.uuid.clone()).or_default().push(n);
    }
    for rows in persons.values() {
        let first =
            rows.iter().copied().min_by(|a, b| file.employees[*a].validity.from.cmp(&file.employees[*b].validity.from));
        if let Some(first) = first {
            file.employees[first].validity.from = None;
        }
    }
    let mut value = serde_json::to_value(&file).unwrap();
    for envelope in ["taken_at", "source", "organisation"] {
        value.as_object_mut().unwrap().remove(envelope);
    }
    value
}

/// The first difference between two JSON values, as a path and both sides.
fn first_difference(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x
            .keys()
            .chain(y.keys())
            .find_map(|k| first_difference(&format!("{path}.{k}"), &x[k], y.get(k).unwrap_or(&Value::Null)))
            .or_else(|| {
                x.keys()
                    .chain(y.keys())
                    .find(|k| !x.contains_key(*k) || !y.contains_key(*k))
                    .map(|k| format!("{path}.{k}: only one side"))
            }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(n, (p, q))| first_difference(&format!("{path}[{n}]"), p, q))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {} against {}", excerpt(a), excerpt(b))),
    }
}

fn excerpt(value: &serde_json::Value) -> String {
    let text = value.to_string();
    text.chars().take(400).collect()
}

/// A plugins.toml with the test plugin that reads every collection.
fn reader_manifest(out: &Path) -> String {
    format!(
        "[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n[plugins.reader]\ncomponent = \"mo-reader.wasm\"\n\
         grants = {{ mo = \"read\", files = {out:?} }}\nsettings = {{ dump = true }}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reads_one_object_of_each_collection_and_names_missing_roles() {
    let Some(world) = World::new(&reader_manifest(Path::new("out"))).await else { return };
    let (code, stdout, stderr) = world.moport(&["check", "reader", "--mo", "graphql"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("ok      MO: root at "), "{stdout}");
    for collection in ["Facets", "Classes", "OrgUnits", "Employees", "Engagements", "Managers", "Addresses", "ITUsers"]
    {
        assert!(stdout.contains(&format!("ok      MO {collection}: readable")), "{collection}: {stdout}");
    }

    // Without roles, MO refuses even the organisation, and moport names the role and the client.
    let (code, stdout, stderr) = world.moport_as(NO_ROLES, &["check", "reader", "--mo", "graphql"]).await;
    assert_eq!(code, 3, "a client without roles is a configuration error: {stdout}\n{stderr}");
    let refused = format!("MO refused Organisation to the client `{}`: no policy approved the access", NO_ROLES.0);
    assert!(stdout.contains(&refused) && stdout.contains("role read_org in Keycloak"), "{stdout}");

    // A client that may read the organisation only: `check` reads each collection and says which fail.
    let org_only = ("moport-kun-org", "kun-org-hemmelighed");
    world.session.mo.issuer.add_client(Client::new(org_only.0, org_only.1, vec!["read_org".to_owned()]));
    let (code, stdout, stderr) = world.moport_as(org_only, &["check", "reader", "--mo", "graphql"]).await;
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stdout.contains("ok      MO: root at "), "{stdout}");
    assert!(
        stdout.contains("FAILED  MO OrgUnits: MO refused OrgUnits") && stdout.contains("read_org_unit"),
        "{stdout}"
    );
    assert!(stdout.contains("FAILED  MO Employees: MO refused Employees"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_mo_stops_accepting_is_renewed_once() {
    let Some(session) = RealMo::session().await else { return };
    // MO refuses the token after its `exp` (and 5 s of leeway), while the token endpoint promised
    // five minutes: the client learns it only from MO's "User is not authenticated".
    let client = ("moport-kort-token", "kort-hemmelighed");
    session
        .mo
        .issuer
        .add_client(Client { lifetime: Duration::from_secs(1), ..Client::new(client.0, client.1, read_roles()) });
    let source = GraphqlSource::new(session.mo.settings(client), Mode::Cache, Default::default()).unwrap();
    let organisation = source.organisation().await.unwrap();
    assert_eq!(organisation.name, "root");
    tokio::time::sleep(Duration::from_secs(7)).await;
    for (collection, read) in source.probe().await {
        assert!(read.is_ok(), "{collection}: {read:?}");
    }
    assert_eq!(session.mo.issuer.issued(client.0), 2, "one renewal, then every read passed");
}

/// MO 66 checks every DAR address it is given against DAWA (its DAR client names
/// api.dataforsyningen.dk), which closed on 1 October 2026 and which no test can reach: the
/// demo without its units' postal addresses, written into `path`.
fn demo_without_dar_addresses(path: &Path) -> SnapshotFile {
    let mut file = moport_mo::demo::built_in().file().clone();
    file.addresses.retain(|address| address.scope != "DAR");
    file.save(path).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_loads_into_an_empty_mo_reads_back_and_plan2learn_gives_the_same_files_every_way() {
    let Some(world) = World::new(&shipped_manifest()).await else { return };
    // The whole demo: MO refuses its first DAR address, and the error names it and MO's cause.
    let (code, _, stderr) = world.moport(&["load", "demo", "--mo", "graphql"]).await;
    assert_eq!(code, 6, "{stderr}");
    assert!(stderr.contains("(writing address ") && stderr.contains("api.dataforsyningen.dk"), "{stderr}");
    assert!(stderr.contains("running the load again sends only the rest"), "{stderr}");

    let demo = demo_without_dar_addresses(&world.path("demo.json"));
    let (code, stdout, stderr) = world.moport(&["load", "demo.json", "--mo", "graphql"]).await;
    assert!(code == 3 && stderr.contains("already holds"), "what the first load wrote is kept: {stdout}\n{stderr}");
    let (code, stdout, stderr) = world.moport(&["load", "demo.json", "--mo", "graphql", "--into-non-empty"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("wrote ") && stdout.contains("into MO at"), "{stdout}");
    let written = world.proxy.mutations();
    assert!(written > 1000, "every object of the demo: {written} mutations");

    // Loaded again, MO already holds every object exactly: nothing is sent.
    let (code, stdout, stderr) = world.moport(&["load", "demo.json", "--mo", "graphql", "--into-non-empty"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(world.proxy.mutations(), written, "MO already holds the demo exactly: {stdout}");

    // What MO holds is the demo, but for what MO decides itself.
    let (code, _, stderr) = world.moport(&["snapshot", "--mo", "graphql", "--out", "mo.json"]).await;
    assert_eq!(code, 0, "{stderr}");
    let taken = Snapshot::load(&world.path("mo.json")).unwrap();
    let (held, expected) = (as_mo_keeps_it(taken.file()), as_mo_keeps_it(&demo));
    assert!(held == expected, "MO differs from the demo: {:?}", first_difference("", &held, &expected));

    // The same load into an empty MO stand-in makes the same MO as real MO, field for field.
    let empty = SnapshotFile::empty(demo.organisation.clone(), "2026-01-01T00:00:00Z".into(), "empty".into());
    let standin = mo_standin::MoStandin::start(&empty, Duration::from_secs(300)).await;
    let (code, stdout, stderr) = world.moport_with(standin.env(), &["load", "demo.json", "--mo", "graphql"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let on_standin = world.holdings(standin.env(), "standin.json").await;
    assert!(held == on_standin, "real MO and the stand-in differ: {:?}", first_difference("", &held, &on_standin));

    // plan2learn over GraphQL in both modes, and on the snapshot of the same MO: the same bytes.
    let mut outputs = Vec::new();
    for source in [
        &["--mo", "graphql", "--mo-mode", "cache"][..],
        &["--mo", "graphql", "--mo-mode", "direct"],
        &["--mo", "snapshot:mo.json"],
    ] {
        let mut args = vec!["run", "plan2learn"];
        args.extend_from_slice(source);
        let (code, stdout, stderr) = world.moport(&args).await;
        assert_eq!(code, 0, "{source:?}: {stdout}\n{stderr}");
        let files: Vec<Vec<u8>> = PLAN2LEARN_FILES
            .iter()
            .map(|name| std::fs::read(world.path("output/plan2learn").join(name)).unwrap())
            .collect();
        outputs.push((source.join(" "), files));
    }
    for (source, files) in &outputs[1..] {
        for (n, name) in PLAN2LEARN_FILES.iter().enumerate() {
            assert!(files[n] == outputs[0].1[n], "{name} from {source} differs from {}", outputs[0].0);
        }
    }
    let bruger = String::from_utf8_lossy(&outputs[0].1[1]).lines().count();
    assert!(bruger > 200, "the demo's persons are exported: {bruger} lines");
}

/// Puts `request` (a GraphQL body) to the MO at `base` with `token`; status and answer.
async fn ask_graphql(base: &str, token: &str, request: &serde_json::Value) -> (u16, serde_json::Value) {
    let answer = reqwest::Client::new()
        .post(format!("{base}/graphql/v30"))
        .bearer_auth(token)
        .json(request)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap_or_default())
}

/// A client-credentials token from the Keycloak (or stand-in) at `auth_server`.
async fn token_from(auth_server: &str, (client_id, client_secret): (&str, &str)) -> String {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{auth_server}/realms/mo/protocol/openid-connect/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

/// The first difference between the stand-in's answer and real MO's. Cursors are each server's
/// own: they agree when both are null or both are not, and the stand-in's is remembered for the
/// request that sends real MO's back.
fn answers_differ(
    path: &str,
    standin: &serde_json::Value,
    real: &serde_json::Value,
    cursors: &mut std::collections::HashMap<String, String>,
) -> Option<String> {
    use serde_json::Value;
    match (standin, real) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|key| {
                let (a, b) = (x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null));
                match (key.as_str(), a, b) {
                    ("next_cursor", Value::String(mine), Value::String(theirs)) => {
                        cursors.insert(theirs.clone(), mine.clone());
                        None
                    }
                    _ if x.contains_key(key) != y.contains_key(key) => Some(format!("{path}.{key}: only one side")),
                    _ => answers_differ(&format!("{path}.{key}"), a, b, cursors),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(n, (a, b))| answers_differ(&format!("{path}[{n}]"), a, b, cursors))
        }
        _ if standin == real => None,
        _ => Some(format!("{path}: the stand-in says {} where real MO says {}", excerpt(standin), excerpt(real))),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stand_in_answers_every_request_moport_sent_real_mo_as_real_mo_did() {
    let manifest = shipped_manifest();
    let dar = manifest.lines().find(|line| line.starts_with("dar = ")).unwrap().to_owned();
    let Some(world) = World::new(&manifest.replace(&dar, "dar = \"off\"")).await else { return };
    demo_without_dar_addresses(&world.path("demo.json"));
    // What moport sends in its main jobs, each from an empty MO: a load (reads of what the
    // batches name, then creates, parents first), the same load again, a snapshot, and plan2learn
    // in both modes (whole collections, and filtered queries); the LOS import (creates, updates
    // and terminations over sixteen files) and its replay.
    let phases: [&[&[&str]]; 2] = [
        &[
            &["load", "demo.json", "--mo", "graphql"],
            &["load", "demo.json", "--mo", "graphql", "--into-non-empty"],
            &["snapshot", "--mo", "graphql", "--out", "mo.json"],
            &["run", "plan2learn", "--mo", "graphql", "--mo-mode", "cache"],
            &["run", "plan2learn", "--mo", "graphql", "--mo-mode", "direct"],
        ],
        &[
            &["run", "aarhus-los", "--mo", "graphql"],
            &["state", "clear", "aarhus-los", "--yes"],
            &["run", "aarhus-los", "--mo", "graphql"],
        ],
    ];
    for commands in phases {
        world.session.mo.reset().await;
        world.proxy.counters.exchanges.lock().unwrap().clear();
        for args in commands {
            let (code, stdout, stderr) = world.moport(args).await;
            assert_eq!(code, 0, "{args:?}: {stdout}\n{stderr}");
        }
        let exchanges = world.proxy.exchanges();
        let mutating = exchanges.iter().filter(|e| e.request["query"].as_str().unwrap().starts_with("mutation"));
        let mutations: usize = mutating.map(|e| e.request["variables"].as_object().unwrap().len()).sum();
        assert!(exchanges.len() > 20 && mutations > 100, "{} requests, {mutations} mutations", exchanges.len());
        replay_on_the_standin(&exchanges).await;
    }
}

/// Puts every request real MO was sent, in order, to an MO stand-in that starts as real MO did
/// (empty, with its organisation), and requires the same status and answer from it.
async fn replay_on_the_standin(exchanges: &[mo_proxy::Exchange]) {
    let organisation = exchanges
        .iter()
        .find(|e| e.request["operationName"] == "Organisation")
        .map(|e| serde_json::from_value(e.answer["data"]["org"].clone()).unwrap())
        .expect("moport asked MO for its organisation");
    let empty = SnapshotFile::empty(organisation, "2026-01-01T00:00:00Z".into(), "empty".into());
    let standin = mo_standin::MoStandin::start(&empty, Duration::from_secs(300)).await;
    let token =
        token_from(&format!("{}/auth", standin.url()), (mo_standin::CLIENT_ID, mo_standin::CLIENT_SECRET)).await;
    let mut cursors = std::collections::HashMap::new();
    for (n, exchange) in exchanges.iter().enumerate() {
        let mut request = exchange.request.clone();
        if let Some(cursor) = request["variables"]["cursor"].as_str() {
            let mine = cursors.get(cursor).unwrap_or_else(|| panic!("request {n}: a cursor real MO never gave"));
            request["variables"]["cursor"] = serde_json::json!(mine);
        }
        let (status, answer) = ask_graphql(&standin.url(), &token, &request).await;
        let operation = &request["operationName"];
        assert_eq!(status, exchange.status, "request {n} ({operation}): HTTP status");
        if let Some(difference) = answers_differ("", &answer, &exchange.answer, &mut cursors) {
            panic!(
                "request {n} of {} ({operation}): {difference}\nvariables: {}",
                exchanges.len(),
                excerpt(&request["variables"])
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_los_import_into_an_empty_mo_then_replays_send_nothing() {
    // DAR off: MO would check each postal address against DAWA (see above); they go on the
    // failure list instead.
    let manifest = shipped_manifest();
    let dar = manifest.lines().find(|line| line.starts_with("dar = ")).unwrap().to_owned();
    let Some(world) = World::new(&manifest.replace(&dar, "dar = \"off\"")).await else { return };
    let (code, stdout, stderr) = world.moport(&["run", "aarhus-los", "--mo", "graphql"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("imported 16 files"), "{stdout}");
    let written = world.proxy.mutation_requests();
    assert!(written > 0);

    let (code, stdout, stderr) = world.moport(&["run", "aarhus-los", "--mo", "graphql"]).await;
    assert!(code == 0 && stdout.contains("imported 0 files"), "{stdout}\n{stderr}");
    assert_eq!(world.proxy.mutation_requests(), written, "a second run sends nothing");

    let (code, _, _) = world.moport(&["state", "clear", "aarhus-los", "--yes"]).await;
    assert_eq!(code, 0);
    let (_, _, plan) = world.moport(&["-v", "run", "aarhus-los", "--mo", "graphql", "--dry-run"]).await;
    let (code, stdout, stderr) = world.moport(&["run", "aarhus-los", "--mo", "graphql"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("imported 16 files: created 0, updated 0 and terminated 0 objects"), "{stdout}\n{plan}");
    assert_eq!(world.proxy.mutation_requests(), written, "a replay of every file sends nothing");

    // The same import into an empty snapshot file, and into the MO stand-in, makes the same MO,
    // but for what MO decides itself.
    let held = world.holdings(world.real_env(), "mo.json").await;
    let organisation = moport_types::mo::Organisation {
        uuid: "00000000-0000-0000-0000-00000000000a".into(),
        name: "root".into(),
        user_key: "root".into(),
    };
    let empty = SnapshotFile::empty(organisation, "2026-01-01T00:00:00Z".into(), "empty".into());
    empty.save(&world.path("empty.json")).unwrap();
    world.moport(&["state", "clear", "aarhus-los", "--yes"]).await;
    let (code, stdout, stderr) = world.moport(&["run", "aarhus-los", "--mo", "snapshot:empty.json"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let on_file = as_mo_keeps_it(Snapshot::load(&world.path("empty.json")).unwrap().file());
    assert!(held == on_file, "real MO and the snapshot file differ: {:?}", first_difference("", &held, &on_file));

    let standin = mo_standin::MoStandin::start(&empty, Duration::from_secs(300)).await;
    world.moport(&["state", "clear", "aarhus-los", "--yes"]).await;
    let (code, stdout, stderr) = world.moport_with(standin.env(), &["run", "aarhus-los", "--mo", "graphql"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let on_standin = world.holdings(standin.env(), "standin.json").await;
    assert!(held == on_standin, "real MO and the stand-in differ: {:?}", first_difference("", &held, &on_standin));
}

#[tokio::test(flavor = "multi_thread")]
async fn later_los_files_keep_what_real_mo_held_before_them_and_a_replay_sends_nothing() {
    let manifest = shipped_manifest();
    let dar = manifest.lines().find(|line| line.starts_with("dar = ")).unwrap().to_owned();
    let los = repo().join("demo/los");
    let manifest = manifest.replace(&dar, "dar = \"off\"").replace(&format!("path = {los:?}"), "path = \"los\"");
    let Some(world) = World::new(&manifest).await else { return };
    std::fs::create_dir(world.path("los")).unwrap();
    los_after_demo::deliver_demo(&world.path("los"));
    let import = ["run", "aarhus-los", "--mo", "graphql"];
    let (code, stdout, stderr) = world.moport(&import).await;
    assert!(code == 0 && stdout.contains("imported 16 files"), "{stdout}\n{stderr}");

    los_after_demo::deliver(&world.path("los"));
    let (code, stdout, stderr) = world.moport(&import).await;
    assert!(code == 0 && stdout.contains("imported 3 files"), "{stdout}\n{stderr}");
    let (code, _, stderr) = world.moport(&["snapshot", "--mo", "graphql", "--out", "after.json"]).await;
    assert_eq!(code, 0, "{stderr}");
    los_after_demo::assert_history_kept(Snapshot::load(&world.path("after.json")).unwrap().file());

    let written = world.proxy.mutation_requests();
    let (code, stdout, stderr) = world.moport(&import).await;
    assert!(code == 0 && stdout.contains("imported 0 files"), "{stdout}\n{stderr}");
    assert_eq!(world.proxy.mutation_requests(), written, "a run without new files sends nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_mo_fails_in_the_middle_of_keeps_the_state_and_the_rerun_reaches_the_same_mo() {
    let manifest = shipped_manifest();
    let dar = manifest.lines().find(|line| line.starts_with("dar = ")).unwrap().to_owned();
    let Some(world) = World::new(&manifest.replace(&dar, "dar = \"off\"")).await else { return };
    // Small requests, so the import takes several and MO can go away between them.
    let env = || {
        let mut env = world.real_env();
        env.push(("MOPORT_MUTATIONS_PER_REQUEST", "20".to_owned()));
        env
    };
    let import = ["run", "aarhus-los", "--mo", "graphql"];
    let (code, stdout, stderr) = world.moport_with(env(), &import).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let requests = world.proxy.mutation_requests();
    assert!(requests >= 4, "the import takes several requests: {requests}");
    let uninterrupted = world.holdings(world.real_env(), "uninterrupted.json").await;

    world.session.mo.reset().await;
    world.moport(&["state", "clear", "aarhus-los", "--yes"]).await;
    *world.proxy.mutations_allowed.lock().unwrap() = Some(requests / 2);
    let (code, stdout, stderr) = world.moport_with(env(), &import).await;
    assert_eq!(code, 6, "MO going away is a failure of a service: {stdout}\n{stderr}");
    assert!(stderr.contains("did not answer") && stderr.contains("HTTP 503"), "{stderr}");
    let (_, shown, _) = world.moport(&["state", "show", "aarhus-los"]).await;
    assert!(shown.contains("(empty"), "the last-import time did not move: {shown}");

    *world.proxy.mutations_allowed.lock().unwrap() = None;
    let (code, stdout, stderr) = world.moport_with(env(), &import).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let rerun = world.holdings(world.real_env(), "rerun.json").await;
    assert!(rerun == uninterrupted, "{:?}", first_difference("", &rerun, &uninterrupted));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_mo_cannot_resolve_does_not_fail_the_read() {
    let Some(world) = World::new(&reader_manifest(Path::new("out"))).await else { return };
    // A unit and its postal address, written as text: MO checks a DAR address against DAWA when
    // it is written, never when its type becomes DAR later.
    let demo = moport_mo::demo::built_in();
    let mut file = demo.file().clone();
    let root = file.org_units.iter().find(|unit| unit.parent.is_none()).unwrap().clone();
    let address = file.addresses.iter().find(|a| a.org_unit.as_deref() == Some(&root.uuid)).unwrap().clone();
    let postal = file.classes.iter().find(|c| c.uuid == address.address_type).unwrap().clone();
    file.org_units = vec![root];
    file.addresses = vec![address.clone()];
    file.classes.retain(|class| class.facet == postal.facet);
    file.facets.retain(|facet| facet.uuid == postal.facet);
    file.employees.clear();
    file.engagements.clear();
    file.managers.clear();
    let as_text = |scope: &str| {
        let mut file = file.clone();
        for class in file.classes.iter_mut().filter(|class| class.uuid == postal.uuid) {
            class.scope = Some(scope.to_owned());
        }
        file
    };
    as_text("TEXT").save(&world.path("as-text.json")).unwrap();
    as_text("DAR").save(&world.path("as-dar.json")).unwrap();
    let (code, stdout, stderr) = world.moport(&["load", "as-text.json", "--mo", "graphql"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = world.moport(&["load", "as-dar.json", "--mo", "graphql", "--into-non-empty"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    // MO's own resolver cannot look the address up, and fails the whole query for it.
    let token = token_from(&world.session.mo.issuer.auth_server(), WRITER).await;
    let query = serde_json::json!({"query": "{ addresses { objects { validities { value name } } } }"});
    let (_, reply) = ask_graphql(&world.session.mo.url, &token, &query).await;
    assert!(reply["errors"].as_array().is_some_and(|errors| !errors.is_empty()), "MO resolved it after all: {reply}");

    // moport's read does not ask MO to resolve: the address keeps its DAR id as its text.
    let (code, stdout, stderr) = world.moport(&["check", "reader", "--mo", "graphql"]).await;
    assert!(code == 0 && stdout.contains("ok      MO Addresses: readable"), "{stdout}\n{stderr}");
    let held = world.holdings(world.real_env(), "mo.json").await;
    let addresses = held["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 1);
    assert_eq!(
        (addresses[0]["value"].as_str(), addresses[0]["scope"].as_str()),
        (Some(address.value.as_str()), Some("DAR"))
    );
}
