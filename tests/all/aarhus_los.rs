//! The Aarhus LOS importer end to end: the `moport` binary reads the demo LOS files from a real
//! FTPS server (libunftp on 127.0.0.1), looks addresses up in an Adressevask stand-in and writes to the
//! MO stand-in over GraphQL; the stand-in's final state is then read back with `moport snapshot`.

use crate::support::{dar_standin, ftps_server, los_after_demo, mo_standin, moport_cli};

use dar_standin::DarStandin;
use ftps_server::FtpsServer;
use los_after_demo::deliver_demo;
use mo_standin::MoStandin;
use moport_mo::snapshot::{Snapshot, SnapshotFile};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

const ORG_INITIAL: &str = "Org_inital_20260105_060000.csv";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The (text, DAR id) pairs of the demo's offline table.
fn demo_addresses() -> Vec<(String, String)> {
    let table = std::fs::read_to_string(repo().join("demo/dar-table.csv")).unwrap();
    table.lines().skip(1).map(|line| line.split(';').collect::<Vec<_>>()).map(|f| (f[0].into(), f[1].into())).collect()
}

/// The MO, LOS server and DAR the importer talks to, and a work folder with its plugins.toml.
struct World {
    mo: MoStandin,
    dar: DarStandin,
    ftps_root: tempfile::TempDir,
    _ftps: FtpsServer,
    work: tempfile::TempDir,
}

impl World {
    /// `plugin_lines` go under [plugins.aarhus-los], `settings_lines` under its settings.
    async fn start(passive: RangeInclusive<u16>, plugin_lines: &str, settings_lines: &str) -> World {
        let snapshot = Snapshot::load(&repo().join("tests/fixtures/mini-mo.json")).unwrap();
        let mo = MoStandin::start(snapshot.file(), std::time::Duration::from_secs(300)).await;
        // The demo's addresses, and the one `moport check` washes.
        let mut pairs = demo_addresses();
        pairs.push((moport_caps::dar::CHECK_ADDRESS.into(), "0a3f507a-ba4c-32b8-e044-0003ba298018".into()));
        let known: Vec<(&str, &str)> = pairs.iter().map(|(t, i)| (t.as_str(), i.as_str())).collect();
        let dar = DarStandin::start(&known).await;
        let ftps_root = tempfile::tempdir().unwrap();
        deliver_demo(ftps_root.path());
        std::fs::create_dir(ftps_root.path().join("DARfejlliste")).unwrap();
        let ftps = FtpsServer::start(ftps_root.path(), passive).await;
        let work = tempfile::tempdir().unwrap();
        let manifest = format!(
            "[host]\ndar = \"adressevask\"\n[host.adressevask]\nurl = \"{dar}\"\n\n\
             [plugins.aarhus-los]\ncomponent = \"aarhus-los.wasm\"\n{plugin_lines}\n\
             [plugins.aarhus-los.grants]\nfiles = \"out\"\nmo = \"write\"\nremote = [\"los\"]\ndar = true\nstate = true\n\
             [plugins.aarhus-los.settings]\nsource = \"los\"\ndar_failures_folder = \"DARfejlliste\"\n{settings_lines}\n\n{target}",
            dar = dar.url(),
            target = ftps.target("los", &format!("ca_file = {:?}", ftps.ca_file)),
        );
        std::fs::write(work.path().join("plugins.toml"), manifest).unwrap();
        World { mo, dar, ftps_root, _ftps: ftps, work }
    }

    /// Runs `moport ARGS` in the work folder against the MO stand-in; exit code, stdout, stderr.
    async fn moport(&self, args: &[&str]) -> (i32, String, String) {
        self.moport_with(Vec::new(), args).await
    }

    /// [`World::moport`] with `extra` in the environment too.
    async fn moport_with(&self, extra: Vec<(&'static str, String)>, args: &[&str]) -> (i32, String, String) {
        let mut env = self.mo.env();
        env.extend(extra);
        // Small requests, so the import takes several and MO can fail between them.
        env.push(("MOPORT_MUTATIONS_PER_REQUEST", "20".to_owned()));
        env.push(("MOPORT_ADRESSEVASK_TOKEN", dar_standin::TOKEN.to_owned()));
        moport_cli::moport(self.work.path(), env, args).await
    }

    async fn import(&self, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec!["run", "aarhus-los", "--mo", "graphql"];
        args.extend_from_slice(extra);
        self.moport(&args).await
    }

    /// MO as the stand-in holds it now, read back through `moport snapshot`.
    async fn mo_state(&self) -> SnapshotFile {
        let (code, _, stderr) = self.moport(&["snapshot", "--mo", "graphql", "--out", "mo-now.json"]).await;
        assert_eq!(code, 0, "{stderr}");
        let mut file = Snapshot::load(&self.work.path().join("mo-now.json")).unwrap().file().clone();
        file.taken_at = String::new();
        file
    }

    fn mutation_requests(&self) -> u64 {
        self.mo.counters.mutation_requests.load(Ordering::SeqCst)
    }
}

/// The demo files' uuids: made from names with uuid5 (see demo/los); read from the files here.
fn unit_uuid(user_key: &str) -> String {
    ["Org_inital_20260105_060000.csv", "Org_nye_20260302_060000.csv"]
        .iter()
        .map(|file| std::fs::read_to_string(repo().join("demo/los").join(file)).unwrap())
        .find_map(|text| {
            let row = text.lines().find(|line| line.starts_with(&format!("{user_key};")))?;
            Some(row.split(';').nth(2).unwrap().to_owned())
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_the_los_files_from_ftps_into_mo_and_a_second_run_writes_nothing() {
    let world = World::start(53100..=53199, "", "").await;
    let (code, stdout, stderr) = world.import(&[]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("imported 16 files"), "{stdout}");
    let mo = world.mo_state().await;

    // Org_inital: 1100's two identical periods are one; its rename starts a second validity.
    let unit = |key: &str| mo.org_units.iter().filter(|u| u.user_key == key).collect::<Vec<_>>();
    let periods: Vec<_> =
        unit("1100").iter().map(|u| (u.name.clone(), u.validity.from.clone(), u.validity.to.clone())).collect();
    assert_eq!(
        periods,
        [
            ("Børn og Unge".to_owned(), Some("2010-01-01".to_owned()), Some("2020-01-01".to_owned())),
            ("Børn og Unge-forvaltningen".to_owned(), Some("2020-01-01".to_owned()), None),
        ]
    );
    let root = unit("1000");
    assert_eq!((root.len(), root[0].parent.as_deref()), (1, None), "a unit that is its own parent is a root");
    assert_eq!(unit("1100")[0].parent.as_deref(), Some(unit_uuid("1000").as_str()));
    // Org_ret renamed 1211 from its file date on.
    let team: Vec<_> = unit("1211").iter().map(|u| (u.name.clone(), u.validity.from.clone())).collect();
    assert_eq!(
        team,
        [
            ("Team Ungeindsats".to_owned(), Some("2021-03-01".to_owned())),
            ("Team Unge og Uddannelse".to_owned(), Some("2026-04-02".to_owned()))
        ]
    );
    let los_keys = ["1000", "1100", "1110", "1111", "1120", "1200", "1210", "1211", "1300"];
    for key in los_keys {
        let records = unit(key);
        assert!(!records.is_empty() && records.iter().all(|u| u.uuid == unit_uuid(key)), "unit {key}: {records:?}");
    }

    // Postal addresses carry the DAR id; the one DAR does not know is on the failure list.
    let postal: Vec<_> =
        mo.addresses.iter().filter(|a| a.address_type == "f20299dd-a57b-0b47-ce79-6f11e8a0362f").collect();
    let ids: std::collections::BTreeSet<&str> = postal.iter().map(|a| a.value.as_str()).collect();
    let expected: std::collections::BTreeSet<String> = demo_addresses().into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, expected.iter().map(String::as_str).collect());
    let failures =
        std::fs::read_to_string(world.ftps_root.path().join("DARfejlliste").join(format!("failed_addr_{ORG_INITIAL}")))
            .unwrap();
    assert_eq!(failures, format!("org_uuid#post_address\r\n{}#Ukendt Gade 999, 8000 Aarhus C\r\n", unit_uuid("1300")));
    assert!(world.dar.requests() >= 7, "every distinct address was asked about");

    // Persons: one employee per CPR, the CPR-derived uuid; Pers_luk ended Birgitte Dahl's job
    // with her last day, 1 May 2026.
    assert_eq!(mo.employees.iter().filter(|e| e.cpr_number.as_deref() == Some("2007951414")).count(), 1);
    let birgitte = mo.employees.iter().find(|e| e.cpr_number.as_deref() == Some("2502882020")).unwrap();
    assert_eq!((birgitte.given_name.as_str(), birgitte.surname.as_str()), ("Birgitte", "Dahl"));
    let ended: Vec<_> = mo.engagements.iter().filter(|e| e.person == birgitte.uuid).collect();
    assert_eq!(ended.last().unwrap().validity.to.as_deref(), Some("2026-05-02"));
    let primary: Vec<_> = mo.engagements.iter().filter(|e| e.user_key == "AAK-10005").collect();
    assert_eq!(primary[0].primary.as_deref(), Some("b871a5d2-e75b-596e-ee81-3e4e9609823c"), "Nej: not primary");

    // Managers: Leder_luk ended the manager of 1300 at the file date.
    let managers_1300: Vec<_> = mo.managers.iter().filter(|m| m.org_unit == unit_uuid("1300")).collect();
    assert_eq!(managers_1300.last().unwrap().validity.to.as_deref(), Some("2026-05-02"));

    // The same files again: nothing is new, nothing is written, and the state says why.
    let writes = world.mutation_requests();
    let (code, stdout, stderr) = world.import(&[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("imported 0 files"), "{stdout}");
    assert_eq!(world.mutation_requests(), writes, "a second run writes nothing");
    let (_, shown, _) = world.moport(&["state", "show", "aarhus-los"]).await;
    assert!(shown.contains("last_import = 20"), "{shown}");

    // Forgetting the state asks first; where nobody can answer, it takes --yes.
    let (code, _, stderr) = world.moport(&["state", "clear", "aarhus-los"]).await;
    assert!(code == 2 && stderr.contains("add --yes"), "{stderr}");
    let (_, shown, _) = world.moport(&["state", "show", "aarhus-los"]).await;
    assert!(shown.contains("last_import = 20"), "kept: {shown}");
    // A bookmark moved by hand is where the next run starts.
    let (code, set, stderr) =
        world.moport(&["state", "set", "aarhus-los", "last_import", "2026-03-01T00:00:00Z"]).await;
    assert!(code == 0 && set.contains("to \"2026-03-01T00:00:00Z\" (was \"20"), "{set}\n{stderr}");
    let (code, stdout, stderr) = world.import(&[]).await;
    assert!(code == 0 && stdout.contains("imported 16 files"), "every file is newer: {stdout}\n{stderr}");
    assert_eq!(world.mutation_requests(), writes, "and MO holds them all");

    // Forgetting the state makes every file new again; MO already holds it all.
    let (code, cleared, _) = world.moport(&["state", "clear", "aarhus-los", "--yes"]).await;
    assert!(code == 0 && cleared.contains("cleared the state of `aarhus-los`"), "{cleared}");
    let (code, stdout, stderr) = world.import(&[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("imported 16 files: created 0, updated 0 and terminated 0 objects"), "{stdout}");
    assert_eq!(world.mutation_requests(), writes, "the same files again write nothing");
    assert_eq!(mo_standin::records(&world.mo_state().await), mo_standin::records(&mo));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let world = World::start(53200..=53299, "", "").await;
    let before = world.mo_state().await;
    let (code, stdout, stderr) = world.import(&["--dry-run"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("planned from 16 files: would create"), "{stdout}");
    assert!(stderr.contains(&format!("would create org unit {}", unit_uuid("1100"))), "{stderr}");
    assert!(stderr.contains("would terminate engagement"), "{stderr}");
    assert_eq!(world.mutation_requests(), 0);
    assert_eq!(mo_standin::records(&world.mo_state().await), mo_standin::records(&before));
    assert!(!world.work.path().join("state/aarhus-los.json").exists(), "a dry run saves no state");
    assert!(!world.ftps_root.path().join("DARfejlliste").join(format!("failed_addr_{ORG_INITIAL}")).exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_cut_off_halfway_converges_on_the_rerun() {
    let reference = World::start(53300..=53399, "", "").await;
    let (code, _, stderr) = reference.import(&[]).await;
    assert_eq!(code, 0, "{stderr}");
    let requests = reference.mutation_requests();
    assert!(requests >= 2, "the import takes several mutation requests ({requests})");
    let expected = reference.mo_state().await;

    let world = World::start(53400..=53499, "", "").await;
    *world.mo.faults.mutations_allowed.lock().unwrap() = Some(requests / 2);
    let (code, _, stderr) = world.import(&[]).await;
    assert_eq!(code, 6, "MO failing is an I/O failure: {stderr}");
    let (_, shown, _) = world.moport(&["state", "show", "aarhus-los"]).await;
    assert!(shown.contains("(empty"), "the last-import time did not move: {shown}");

    *world.mo.faults.mutations_allowed.lock().unwrap() = None;
    let (code, stdout, stderr) = world.import(&[]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(mo_standin::records(&world.mo_state().await), mo_standin::records(&expected));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_rows_are_all_reported_and_nothing_is_written() {
    let world = World::start(53500..=53599, "", "").await;
    let pers = world.ftps_root.path().join("Pers_nye_20260302_070000.csv");
    let text = std::fs::read_to_string(&pers).unwrap();
    let broken = text.replacen(";Ja;", ";Måske;", 1).replacen("2015-01-01 00:00:00", "01-01-2015", 1);
    std::fs::write(&pers, broken).unwrap();
    let (code, stdout, stderr) = world.import(&[]).await;
    assert_eq!(code, 4, "bad data: {stdout}\n{stderr}");
    assert!(stderr.contains("2 bad rows; nothing was imported"), "{stderr}");
    assert!(stderr.contains("Pers_nye_20260302_070000.csv:2:8 (PrimærAnsættelse)"), "{stderr}");
    assert!(stderr.contains("Pers_nye_20260302_070000.csv:3:5 (StartTid)"), "{stderr}");
    assert_eq!(world.mutation_requests(), 0);
    assert!(!world.work.path().join("state/aarhus-los.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn dipex_state_file_is_taken_over_while_moport_has_none() {
    let dipex = tempfile::tempdir().unwrap();
    // DIPEX wrote Copenhagen local time; every demo file is older than this.
    std::fs::write(dipex.path().join("los-state"), "2999-01-01T00:00:00.000001\n").unwrap();
    let world = World::start(
        53600..=53699,
        "migrate_state = { last_import = \"integrations.aarhus_los.state_file\" }",
        &format!("\"integrations.aarhus_los.state_file\" = {:?}", dipex.path().join("los-state")),
    )
    .await;
    let (code, stdout, stderr) = world.import(&[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("imported 0 files"), "DIPEX's last import time counts: {stdout}");
    let (_, shown, _) = world.moport(&["state", "show", "aarhus-los"]).await;
    assert!(shown.contains("last_import = 20") && !shown.contains("2999"), "moport's own time now: {shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reaches_mo_dar_the_state_and_the_los_server_and_writes_nothing() {
    let world = World::start(53700..=53799, "", "").await;
    let (code, stdout, stderr) = world.moport(&["check", "aarhus-los", "--mo", "graphql"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for line in
        ["ok      component: importer world", "ok      MO: Testkommune", "ok      DAR: adressevask at http://127.0.0.1"]
    {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(stdout.contains("washed \"Rådhuspladsen 1, 1550 København V\" to 0a3f507a-ba4c-32b8"), "{stdout}");
    assert!(stdout.contains("ok      state: ") && stdout.contains("empty: the next run is a first run"), "{stdout}");
    assert!(stdout.contains("ok      target `los`: logged in, 16 files in its folder"), "{stdout}");
    assert_eq!(world.mutation_requests(), 0);
}

/// Every file under `folder`, whatever it holds.
fn files_under(folder: &std::path::Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { found.extend(files_under(&path)) } else { found.push(path) }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_is_printed_or_written_at_any_log_level_in_any_format() {
    let world = World::start(53800..=53899, "", "").await;
    // The FTPS password, the Keycloak client secret, the Adressevask token, MO's access tokens.
    let secrets = ["hemmelig-ftp", mo_standin::CLIENT_SECRET, dar_standin::TOKEN, "token-1", "token-2"];
    let levels: [(&[&str], Option<&str>); 4] = [(&[], None), (&["-v"], None), (&["-vv"], None), (&[], Some("trace"))];
    let mut printed = String::new();
    for format in ["human", "json"] {
        for (flags, filter) in levels {
            for command in [["check", "aarhus-los", "--mo", "graphql"], ["run", "aarhus-los", "--mo", "graphql"]] {
                let mut args = vec!["--log-format", format];
                args.extend_from_slice(flags);
                args.extend_from_slice(&command);
                let env = filter.map(|filter| vec![("MOPORT_LOG", filter.to_owned())]).unwrap_or_default();
                let (code, stdout, stderr) = world.moport_with(env, &args).await;
                assert_eq!(code, 0, "{args:?}: {stdout}\n{stderr}");
                for secret in secrets {
                    assert!(!stdout.contains(secret) && !stderr.contains(secret), "{args:?} {filter:?} shows {secret}");
                }
                for line in stderr.lines().filter(|_| format == "json") {
                    assert!(line.matches("\"target\":").count() <= 1, "a key twice: {line}");
                    assert!(!line.contains("CallError::"), "Rust debug text: {line}");
                }
                printed.push_str(&stderr);
            }
        }
    }
    assert!(printed.contains("PASS ***"), "the FTP library's login line is there, blanked");
    for file in files_under(world.work.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in secrets.iter().filter(|secret| **secret != "hemmelig-ftp") {
            let found = bytes.windows(secret.len()).any(|window| window == secret.as_bytes());
            assert!(!found, "{} holds {secret}", file.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn later_files_keep_what_mo_held_before_them_and_a_renamed_az_system_stays_renamed() {
    // A local-folder LOS server and a snapshot file for MO: the host's own write rules, which
    // tests/all/real_mo.rs holds to real MO with the same files.
    let work = tempfile::tempdir().unwrap();
    let los = work.path().join("los");
    std::fs::create_dir(&los).unwrap();
    deliver_demo(&los);
    std::fs::copy(repo().join("tests/fixtures/mini-mo.json"), work.path().join("mo.json")).unwrap();
    let manifest = "[host]\ndar = \"off\"\n\n[plugins.aarhus-los]\ncomponent = \"aarhus-los.wasm\"\n\n\
        [plugins.aarhus-los.grants]\nfiles = \"out\"\nmo = \"write\"\nremote = [\"los\"]\ndar = true\nstate = true\n\n\
        [plugins.aarhus-los.settings]\nsource = \"los\"\ndar_failures_folder = \"\"\n\n\
        [targets.los]\nkind = \"local\"\npath = \"los\"\n";
    std::fs::write(work.path().join("plugins.toml"), manifest).unwrap();
    let import = || moport_cli::moport(work.path(), Vec::new(), &["run", "aarhus-los", "--mo", "snapshot:mo.json"]);

    let (code, stdout, stderr) = import().await;
    assert!(code == 0 && stdout.contains("imported 16 files"), "{stdout}\n{stderr}");
    los_after_demo::deliver(&los);
    let (code, stdout, stderr) = import().await;
    assert!(code == 0 && stdout.contains("imported 3 files"), "{stdout}\n{stderr}");
    los_after_demo::assert_history_kept(Snapshot::load(&work.path().join("mo.json")).unwrap().file());

    let (code, stdout, stderr) = import().await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("imported 0 files: created 0, updated 0 and terminated 0 objects"), "{stdout}\n{stderr}");
}
