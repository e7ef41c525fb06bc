//! `mo-read` over the snapshot backend, through the compiled mo-reader plugin and through the CLI.

use moport::BUILT_PLUGINS_DIR;
use moport_manifest::Manifest;
use moport_manifest::MoSourceSpec;
use moport_mo::MoSource;
use moport_mo::snapshot::Snapshot;
use moport_runtime::cache::ComponentCache;
use moport_runtime::contract::{Capability, ContractError};
use moport_runtime::{ExitStatus, Host, RunError, RunOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SKOLE: &str = "a0000000-0000-4000-8000-00000000000b";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini-mo.json")
}

/// The reader always gets an output folder (it can dump what it read); `grants` adds to it.
fn manifest(dir: &Path, grants: &str) -> PathBuf {
    let path = dir.join("plugins.toml");
    let grants = format!("files = {:?}, {grants}", dir.join("out"));
    std::fs::write(
        &path,
        format!(
            "[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n[plugins.reader]\ncomponent = \"mo-reader.wasm\"\n\
             grants = {{ {grants} }}\nsettings = {{ root = \"{SKOLE}\" }}\n"
        ),
    )
    .unwrap();
    path
}

fn host(dir: &Path, grants: &str) -> Host {
    let manifest = Manifest::load(&manifest(dir, grants), moport::built_plugins()).unwrap();
    Host::new(manifest, ComponentCache::new(None)).unwrap()
}

#[tokio::test]
async fn a_plugin_reads_mo_from_a_snapshot_with_mo_filters() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = Snapshot::load(&fixture()).unwrap();
    let host = host(dir.path(), "mo = \"read\"").with_mo(MoSource::in_memory(snapshot));
    let outcome = host.run("reader", &RunOptions::default()).await.unwrap();
    assert_eq!(outcome.report.summary, "read MO of Testkommune");
    let counts: BTreeMap<_, _> = outcome.report.counts.into_iter().collect();
    // Under "Børn og Unge" today: itself and SFO Nord; the closed unit ended in 2020.
    assert_eq!(counts["units under root"], 2);
    // The SFO engagement is current; the secretary starts in 2099.
    assert_eq!(counts["engagements today"], 1);
    assert_eq!(counts["engagements today and later"], 2);
    // Every validity of every unit: Børn og Unge was renamed in 2015, so it has two.
    assert_eq!(counts["unit validities ever"], 6);
    // "Leder" ended in 2010.
    assert_eq!(counts["job functions"], 1);
    assert_eq!(counts["employees"], 2);
}

#[tokio::test]
async fn reading_mo_needs_a_grant_and_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let err = host(dir.path(), "dar = false").run("reader", &RunOptions::default()).await.unwrap_err();
    assert!(
        matches!(&err, RunError::Contract(ContractError::NotGranted { capability: Capability::MoRead, .. })),
        "{err:?}"
    );
    let err = host(dir.path(), "mo = \"read\"").run("reader", &RunOptions::default()).await.unwrap_err();
    assert!(matches!(&err, RunError::NoMoSource { .. }), "{err:?}");
    assert!(err.to_string().contains("pass `--mo demo` or `--mo snapshot:FILE`"), "{err}");
    assert_eq!(err.exit_status(), ExitStatus::Config);
}

#[test]
fn the_cli_reads_the_snapshot_named_by_mo() {
    let dir = tempfile::tempdir().unwrap();
    let config = manifest(dir.path(), "mo = \"read\"");
    let moport = |mo: &str| {
        crate::support::moport_cli::command(dir.path())
            .args(["--config", config.to_str().unwrap(), "--no-cache", "run", "reader", "--mo", mo])
            .output()
            .unwrap()
    };
    let out = moport(&format!("snapshot:{}", fixture().display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("reader: read MO of Testkommune") && stdout.contains("units under root: 2"), "{stdout}");

    let out = moport("snapshot:/nonexistent/mo.json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr.contains("cannot read MO snapshot /nonexistent/mo.json"), "{stderr}");
    let out = moport("http://mo.example");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--mo: `http://mo.example` is not an MO source; write `demo`"), "{stderr}");

    let out = moport("demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("read MO of Demo Kommune") && stdout.contains("employees: 300"), "{stdout}");
}

#[tokio::test]
async fn plugins_toml_names_the_source_relative_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(), dir.path().join("mo.json")).unwrap();
    let path = manifest(dir.path(), "mo = \"read\"");
    let text = std::fs::read_to_string(&path).unwrap().replacen("[host]\n", "[host]\nmo = \"snapshot:mo.json\"\n", 1);
    std::fs::write(&path, text).unwrap();
    let manifest = Manifest::load(&path, moport::built_plugins()).unwrap();
    assert_eq!(manifest.mo, Some(MoSourceSpec::Snapshot(dir.path().join("mo.json"))));
    let host = Host::new(manifest, ComponentCache::new(None)).unwrap();
    let outcome = host.run("reader", &RunOptions::default()).await.unwrap();
    assert_eq!(outcome.report.summary, "read MO of Testkommune");
    // The command line wins over plugins.toml.
    let outcome = host.with_mo_spec(MoSourceSpec::Demo).run("reader", &RunOptions::default()).await.unwrap();
    assert_eq!(outcome.report.summary, "read MO of Demo Kommune");
}
