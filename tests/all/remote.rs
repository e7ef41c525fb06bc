//! The `remote` capability against real servers on 127.0.0.1: an in-process FTPS server
//! (libunftp, TLS required on control and data, a certificate made here with rcgen) and a local
//! folder; and plan2learn shipping its files end to end.

use crate::support::{ftps_server, mo_standin, moport_cli, sftp_server};

use ftps_server::{FtpsServer, OneUser};
use moport::BUILT_PLUGINS_DIR;
use moport_manifest::MoSourceSpec;
use moport_manifest::{Manifest, TargetSpec};
use moport_remote::Target;
use moport_runtime::cache::ComponentCache;
use moport_runtime::{ExitStatus, Host, RunOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn target(manifest: &str, name: &str) -> Target {
    let manifest = Manifest::parse(Path::new("plugins.toml"), manifest, moport::built_plugins()).unwrap();
    Target::new(name, &manifest.targets[name])
}

/// write, list, read, rename and remove on a target, checked on the folder behind it.
async fn round_trip(target: &Target, folder: &Path) {
    target.write("a.csv", b"\"x\";\"y\"\r\n").await.unwrap();
    target.write("a.csv", b"second\r\n").await.unwrap(); // replaces
    let listed = target.list("").await.unwrap();
    assert_eq!(listed.iter().map(|e| (e.name.as_str(), e.size)).collect::<Vec<_>>(), [("a.csv", 8)]);
    assert!(listed[0].modified.is_some());
    std::fs::create_dir(folder.join("archive")).unwrap();
    let listed = target.list("").await.unwrap();
    assert_eq!(listed.iter().map(|e| (e.name.as_str(), e.size)).collect::<Vec<_>>(), [("a.csv", 8), ("archive/", 0)]);
    std::fs::remove_dir(folder.join("archive")).unwrap();
    assert_eq!(target.read("a.csv", 1 << 20).await.unwrap().unwrap(), b"second\r\n");
    // A file larger than the reader may hold is not handed over (nor read further than one byte
    // past what the reader may hold).
    assert_eq!(target.read("a.csv", 3).await.unwrap(), None, "larger than the reader may hold");
    target.rename("a.csv", "b.csv").await.unwrap();
    assert_eq!(std::fs::read(folder.join("b.csv")).unwrap(), b"second\r\n");
    target.write("c.csv", b"third\r\n").await.unwrap();
    target.rename("c.csv", "b.csv").await.unwrap(); // replaces, on every kind of target
    assert_eq!(std::fs::read(folder.join("b.csv")).unwrap(), b"third\r\n");
    target.remove("b.csv").await.unwrap();
    let left: Vec<_> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing left behind, no temporary file either: {left:?}");
    let err = target.read("../etc/passwd", 1 << 20).await.unwrap_err();
    assert!(format!("{err:?}").contains("must be relative to the target"), "{err:?}");
}

#[tokio::test]
async fn a_local_folder_target() {
    let folder = tempfile::tempdir().unwrap();
    let target = Target::new("archive", &TargetSpec::Local { path: folder.path().to_owned(), create: false });
    round_trip(&target, folder.path()).await;
}

#[tokio::test]
async fn a_local_folder_target_holds_files_only_and_a_missing_folder_is_made_only_if_it_may_be() {
    let folder = tempfile::tempdir().unwrap();
    let target = Target::new("los", &TargetSpec::Local { path: folder.path().to_owned(), create: false });
    std::fs::write(folder.path().join("Org_nye_20260101_000000.csv"), "x").unwrap();
    std::os::unix::fs::symlink("/nowhere/Pers_nye.csv", folder.path().join("Pers_nye_20260101_000000.csv")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", folder.path().join("passwd.csv")).unwrap();
    let listing = format!("{:?}", target.list("").await.unwrap_err());
    assert!(listing.contains("is a symbolic link; a target's folder holds files only"), "{listing}");
    let read = format!("{:?}", target.read("passwd.csv", 1 << 20).await.unwrap_err());
    assert!(read.contains("`passwd.csv` is a symbolic link"), "{read}");

    let missing = folder.path().join("share");
    let unmounted = Target::new("share", &TargetSpec::Local { path: missing.clone(), create: false });
    for err in [unmounted.list("").await.unwrap_err(), unmounted.write("a.csv", b"x").await.unwrap_err()] {
        assert!(format!("{err:?}").contains("its folder does not exist"), "{err:?}");
    }
    assert!(!missing.exists(), "no folder is made in place of a share");
    let made = Target::new("share", &TargetSpec::Local { path: missing.clone(), create: true });
    assert!(made.list("").await.unwrap().is_empty());
    made.write("a.csv", b"x").await.unwrap();
    assert_eq!(std::fs::read(missing.join("a.csv")).unwrap(), b"x");
}

#[tokio::test]
async fn an_ftps_target_verifies_the_certificate_and_writes_atomically() {
    let folder = tempfile::tempdir().unwrap();
    let server = FtpsServer::start(folder.path(), 52100..=52199).await;
    let trusted = target(&server.target("p2l", &format!("ca_file = {:?}", server.ca_file)), "p2l");
    round_trip(&trusted, folder.path()).await;

    // The system does not trust a self-signed certificate.
    let untrusted = target(&server.target("p2l", ""), "p2l");
    let err = format!("{:?}", untrusted.write("c.csv", b"x").await.unwrap_err());
    assert!(err.contains("target `p2l` (ftps://kommune@localhost:") && err.contains("AUTH TLS"), "{err}");
    assert!(!err.contains("hemmelig-ftp"), "the password is not in the error: {err}");
    assert!(!folder.path().join("c.csv").exists());

    // Unless the target says so, explicitly.
    let insecure = target(&server.target("p2l", "insecure_skip_verify = true"), "p2l");
    insecure.write("c.csv", b"x").await.unwrap();
    assert_eq!(std::fs::read(folder.path().join("c.csv")).unwrap(), b"x");
}

const FILES: [&str; 5] = ["organisation.csv", "bruger.csv", "engagement.csv", "stillingskode.csv", "leder.csv"];

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/plan2learn/tests/golden")
}

/// plugins.toml for plan2learn on the golden scenario (RSD), shipping to `server` as `p2l`; DAR
/// addresses read from MO are looked up in a table of the scenario's own.
fn plan2learn_manifest(work: &Path, server: &FtpsServer) -> PathBuf {
    let id = |n: u32| format!("00000000-0000-0000-0000-{n:012}");
    let scenario = moport_mo::snapshot::Snapshot::load(&golden().join("mo.json")).unwrap();
    std::fs::write(work.join("dar.csv"), mo_standin::dar_table_text(scenario.file())).unwrap();
    let manifest = format!(
        "[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\ndar = \"table:dar.csv\"\n[plugins.plan2learn]\ncomponent = \"plan2learn.wasm\"\n\
         grants = {{ mo = \"read\", files = {:?}, remote = [\"p2l\"] }}\n[plugins.plan2learn.settings]\n\
         \"exporters.plan2learn.variant\" = \"RSD\"\n\"exporters.plan2learn.root_unit\" = \"{}\"\n\
         \"exporters.plan2learn.allowed_engagement_types\" = [\"{}\", \"{}\"]\n\
         \"integrations.SD_Lon.import.too_deep\" = [\"Afdelings-niveau\"]\n\
         \"plan2learn.phone.priority\" = [\"{}\", \"{}\"]\n\"plan2learn.email.priority\" = [\"{}\"]\n\
         ship_to = \"p2l\"\n{}",
        work.join("out"),
        id(1),
        id(10),
        id(11),
        id(42),
        id(43),
        id(40),
        server.target("p2l", &format!("ca_file = {:?}", server.ca_file)),
    );
    std::fs::write(work.join("plugins.toml"), manifest).unwrap();
    work.join("plugins.toml")
}

/// The five files on the server equal the local ones and the golden RSD files; nothing else is there.
fn assert_shipped(work: &Path, server_folder: &Path) {
    for name in FILES {
        let local = std::fs::read(work.join("out").join(name)).unwrap();
        let on_server = std::fs::read(server_folder.join(name)).unwrap();
        assert!(on_server == local, "{name}: the bytes on the server differ from the local file");
        assert!(local == std::fs::read(golden().join("rsd").join(name)).unwrap(), "{name}");
    }
    assert_eq!(std::fs::read_dir(server_folder).unwrap().count(), 5, "five files and no temporary ones");
}

#[tokio::test]
async fn a_wrong_password_fails_at_once_without_the_password_in_the_error() {
    let folder = tempfile::tempdir().unwrap();
    let users = Arc::new(OneUser::default());
    let server = FtpsServer::start_with(folder.path(), 52400..=52499, users.clone(), true).await;
    let lines =
        server.target("p2l", &format!("ca_file = {:?}", server.ca_file)).replace("hemmelig-ftp", "forkert-kodeord");
    let err = format!("{:?}", target(&lines, "p2l").write("a.csv", b"x").await.unwrap_err());
    assert!(err.contains("Denied") && err.contains("the server refused the login"), "{err}");
    assert!(!err.contains("forkert-kodeord"), "the password is in the error: {err}");
    assert_eq!(users.tries.load(Ordering::SeqCst), 1, "a refused login is not tried again");
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);

    // `moport check` says so, as a configuration problem.
    let work = tempfile::tempdir().unwrap();
    let config = plan2learn_manifest(work.path(), &server);
    let text = std::fs::read_to_string(&config).unwrap().replace("hemmelig-ftp", "forkert-kodeord");
    std::fs::write(&config, text).unwrap();
    let host = Host::new(Manifest::load(&config, moport::built_plugins()).unwrap(), ComponentCache::new(None))
        .unwrap()
        .with_mo_spec(MoSourceSpec::Snapshot(golden().join("mo.json")));
    let lines = host.check("plan2learn").await;
    let target = lines.iter().find(|line| line.what == "target `p2l`").unwrap();
    let (failing, problem) = target.result.as_ref().unwrap_err();
    assert_eq!(*failing, moport_caps::Failing::Config, "a refused login is the operator's to fix (exit 3)");
    assert!(problem.contains("the server refused the login"), "{problem}");
    assert!(lines.iter().filter(|line| line.what != "target `p2l`").all(|line| line.result.is_ok()), "{lines:?}");
}

#[tokio::test]
async fn plan2learn_ships_its_files_over_ftps() {
    let server_folder = tempfile::tempdir().unwrap();
    let server = FtpsServer::start(server_folder.path(), 52200..=52299).await;
    let work = tempfile::tempdir().unwrap();
    let host = Host::new(
        Manifest::load(&plan2learn_manifest(work.path(), &server), moport::built_plugins()).unwrap(),
        ComponentCache::new(None),
    )
    .unwrap()
    .with_mo_spec(MoSourceSpec::Snapshot(golden().join("mo.json")));
    let outcome = host.run("plan2learn", &RunOptions::default()).await.unwrap();
    assert!(outcome.report.summary.contains("shipped them to `p2l`"), "{}", outcome.report.summary);
    assert_shipped(work.path(), server_folder.path());

    // A server that does not answer fails the run before the export, naming the target.
    drop(server);
    let err = host.run("plan2learn", &RunOptions::default()).await.unwrap_err();
    assert_eq!(err.exit_status(), ExitStatus::Io, "{err}");
    let message = err.to_string();
    assert!(message.contains("reaching the target `p2l` before the export"), "{message}");
    assert!(message.contains("listing its folder failed after 3 tries"), "{message}");
}

#[tokio::test]
async fn a_file_that_cannot_be_shipped_leaves_the_last_set_on_the_server_and_in_the_output_folder() {
    let server_folder = tempfile::tempdir().unwrap();
    for name in FILES {
        std::fs::write(server_folder.path().join(name), "yesterday's").unwrap();
    }
    // engagement.csv, the third file shipped, cannot be uploaded under its staged name: a
    // folder is in the way.
    std::fs::create_dir_all(server_folder.path().join(".engagement.csv.moport-staged/in-the-way")).unwrap();
    let server = FtpsServer::start(server_folder.path(), 52600..=52699).await;
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("out")).unwrap();
    std::fs::write(work.path().join("out/bruger.csv"), "yesterday's").unwrap();
    let host = Host::new(
        Manifest::load(&plan2learn_manifest(work.path(), &server), moport::built_plugins()).unwrap(),
        ComponentCache::new(None),
    )
    .unwrap()
    .with_mo_spec(MoSourceSpec::Snapshot(golden().join("mo.json")));
    let err = host.run("plan2learn", &RunOptions::default()).await.unwrap_err();
    assert_eq!(err.exit_status(), ExitStatus::Io, "{err}");
    let message = err.to_string();
    assert!(message.contains("shipping the files to the target `p2l`: engagement.csv:"), "{message}");
    assert!(message.contains("no file of the set was placed"), "{message}");
    for name in FILES {
        assert_eq!(std::fs::read(server_folder.path().join(name)).unwrap(), b"yesterday's", "{name} on the server");
    }
    let mut left: Vec<_> = std::fs::read_dir(server_folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let mut expected: Vec<String> = FILES.iter().map(|name| (*name).to_owned()).collect();
    expected.push(".engagement.csv.moport-staged".to_owned());
    expected.sort();
    assert_eq!(left, expected, "the staged bruger.csv and leder.csv are removed, and no temporary file is left");
    let local: Vec<_> = std::fs::read_dir(work.path().join("out")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(local, ["bruger.csv"], "the failed run publishes none of its files");
    assert_eq!(std::fs::read(work.path().join("out/bruger.csv")).unwrap(), b"yesterday's");
}

#[tokio::test(flavor = "multi_thread")]
async fn moport_run_plan2learn_reads_mo_over_graphql_and_ships_over_ftps() {
    let snapshot = moport_mo::snapshot::Snapshot::load(&golden().join("mo.json")).unwrap();
    let mo = mo_standin::MoStandin::start(snapshot.file(), std::time::Duration::from_secs(300)).await;
    let server_folder = tempfile::tempdir().unwrap();
    let server = FtpsServer::start(server_folder.path(), 52300..=52399).await;
    let work = tempfile::tempdir().unwrap();
    let config = plan2learn_manifest(work.path(), &server);
    let args = ["--config", config.to_str().unwrap(), "run", "plan2learn", "--mo", "graphql"];
    let (code, stdout, stderr) = moport_cli::moport(work.path(), mo.env(), &args).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("shipped them to `p2l`"), "{stdout}");
    assert!(!stderr.contains("hemmelig"), "a password in the log: {stderr}");
    assert_shipped(work.path(), server_folder.path());
    // The run ledger counts the requests MO answered.
    let args = ["--config", config.to_str().unwrap(), "runs", "--output", "json"];
    let (code, runs, _) = moport_cli::moport(work.path(), Vec::new(), &args).await;
    assert_eq!(code, 0);
    let runs: serde_json::Value = serde_json::from_str(&runs).unwrap();
    let answered: u64 = mo.operations().values().sum();
    assert!(answered > 0);
    assert_eq!((runs[0]["mo_requests"].as_u64(), runs[0]["files"].as_u64()), (Some(answered), Some(5)), "{runs}");
}

/// A proxy for an FTP control connection that cuts the first connection on which the client
/// sends STOR, a moment after passing the command on: an upload that dies midway.
async fn cutting_proxy(server_port: u16) -> (u16, Arc<AtomicU64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let cuts = Arc::new(AtomicU64::new(0));
    let counter = cuts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { continue };
            let server = tokio::net::TcpStream::connect(("127.0.0.1", server_port)).await.unwrap();
            let cut_this_one = counter.load(Ordering::SeqCst) == 0;
            let counter = counter.clone();
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let to_client = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
                let mut buffer = vec![0; 4096];
                while let Ok(n) = client_read.read(&mut buffer).await {
                    if n == 0 || server_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                    if cut_this_one && String::from_utf8_lossy(&buffer[..n]).starts_with("STOR ") {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        counter.fetch_add(1, Ordering::SeqCst);
                        break; // dropping both halves cuts the control connection mid-upload
                    }
                }
                to_client.abort();
            });
        }
    });
    (port, cuts)
}

#[tokio::test]
async fn an_upload_cut_midway_is_tried_again_and_no_partial_file_gets_the_final_name() {
    let folder = tempfile::tempdir().unwrap();
    let server = FtpsServer::start_with(folder.path(), 52500..=52599, Arc::new(OneUser::default()), false).await;
    let (proxy_port, cuts) = cutting_proxy(server.port).await;
    let lines = format!(
        "[targets.plain]\nkind = \"ftp\"\nhost = \"127.0.0.1\"\nport = {proxy_port}\nuser = \"kommune\"\npassword = \"hemmelig-ftp\"\n"
    );
    let contents: Vec<u8> = (0..2_000_000u32).flat_map(|n| n.to_le_bytes()).collect();
    target(&lines, "plain").write("big.bin", &contents).await.unwrap();
    assert_eq!(cuts.load(Ordering::SeqCst), 1, "the first upload was cut");
    assert!(std::fs::read(folder.path().join("big.bin")).unwrap() == contents, "the final file is whole");
    let names: Vec<_> = std::fs::read_dir(folder.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, [std::ffi::OsString::from("big.bin")], "no temporary file is left");
}

fn sftp_target(server: &sftp_server::SftpServer, host_key: &str, password: &str) -> Target {
    let lines = format!(
        "[targets.s]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npassword = \"{password}\"\nhost_key = \"{host_key}\"\n",
        server.port,
        sftp_server::USER
    );
    target(&lines, "s")
}

#[tokio::test]
async fn an_sftp_target_with_the_pinned_host_key_or_fingerprint() {
    let folder = tempfile::tempdir().unwrap();
    let server = sftp_server::SftpServer::start(folder.path()).await;
    round_trip(&sftp_target(&server, &server.host_key, sftp_server::PASSWORD), folder.path()).await;
    round_trip(&sftp_target(&server, &server.fingerprint, sftp_server::PASSWORD), folder.path()).await;
}

#[tokio::test]
async fn an_sftp_server_with_another_host_key_or_a_wrong_password_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let server = sftp_server::SftpServer::start(folder.path()).await;
    let other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let err =
        format!("{:?}", sftp_target(&server, other, sftp_server::PASSWORD).write("a.csv", b"x").await.unwrap_err());
    assert!(
        err.contains("Denied") && err.contains(&server.fingerprint) && err.contains("is not the one `host_key` pins"),
        "{err}"
    );
    let err = format!(
        "{:?}",
        sftp_target(&server, &server.fingerprint, "forkert-kodeord").write("a.csv", b"x").await.unwrap_err()
    );
    assert!(err.contains("Denied") && err.contains("the server refused the login"), "{err}");
    assert!(!err.contains("forkert-kodeord"), "{err}");
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0, "nothing was written");
}

#[tokio::test]
async fn an_sftp_target_logs_in_with_a_private_key() {
    let folder = tempfile::tempdir().unwrap();
    let server = sftp_server::SftpServer::start(folder.path()).await;
    let keys = tempfile::tempdir().unwrap();
    std::fs::write(keys.path().join("id_ed25519"), &server.client_key).unwrap();
    let lines = format!(
        "[targets.s]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\nprivate_key = {:?}\nhost_key = \"{}\"\n",
        server.port,
        sftp_server::USER,
        keys.path().join("id_ed25519"),
        server.fingerprint
    );
    round_trip(&target(&lines, "s"), folder.path()).await;
}
