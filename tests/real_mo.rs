//! moport against a real OS2mo 66 (GraphQL v30): MO's own server on its own PostgreSQL, behind a
//! counting proxy, trusting the tests' token issuer (tests/support/real_mo.rs). These tests are
//! the truth the MO stand-in is held to. Without MO's source they skip, saying how to run them;
//! under `CI=true` they fail instead.

#[path = "support/mo_proxy.rs"]
mod mo_proxy;
#[path = "support/real_mo.rs"]
mod real_mo;
#[path = "support/token_issuer.rs"]
mod token_issuer;

use mo_proxy::MoProxy;
use moport::caps::mo::graphql::{GraphqlSource, Mode};
use moport::manifest::BUILT_PLUGINS_DIR;
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
        let mut env = self.session.mo.env(client);
        env.retain(|(name, _)| *name != "MORA_BASE");
        env.push(("MORA_BASE", self.proxy.url()));
        let dir = self.work.path().to_owned();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_moport"))
                .current_dir(&dir)
                .env("MOPORT_CACHE_DIR", dir.join("cache"))
                .env_remove("MOPORT_LOG")
                .envs(env)
                .args(&args)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    async fn moport(&self, args: &[&str]) -> (i32, String, String) {
        self.moport_as(WRITER, args).await
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }
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
