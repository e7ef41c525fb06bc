//! The compiled plan2learn component: the §14 golden scenario through the real host (from a
//! snapshot file and from MO over GraphQL, via the stand-in), and the README's main job.

use crate::support::mo_standin;

use mo_standin::{MoStandin, dar_table_of, quick_retries};
use moport::BUILT_PLUGINS_DIR;
use moport_manifest::Manifest;
use moport_manifest::MoSourceSpec;
use moport_mo::MoSource;
use moport_mo::graphql::{GraphqlSource, Mode};
use moport_mo::snapshot::Snapshot;
use moport_runtime::cache::ComponentCache;
use moport_runtime::{Host, RunOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const FILES: [&str; 5] = ["organisation.csv", "bruger.csv", "engagement.csv", "stillingskode.csv", "leder.csv"];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/plan2learn/tests/golden")
}

fn id(n: u32) -> String {
    format!("00000000-0000-0000-0000-{n:012}")
}

/// A plugins.toml with the golden scenario's settings for both variants. Neither is told to
/// ship; `viborg` may (to a local outbox), `rsd` has no remote target granted, as shipping is
/// optional.
fn host(dir: &Path) -> Host {
    let mut text = format!(
        "[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n[targets.outbox]\nkind = \"local\"\npath = \"outbox\"\ncreate = true\n"
    );
    for variant in ["RSD", "Viborg"] {
        let name = variant.to_lowercase();
        let remote = if variant == "Viborg" { ", remote = [\"outbox\"]" } else { "" };
        text.push_str(&format!(
            "[plugins.{name}]\ncomponent = \"plan2learn.wasm\"\n\
             grants = {{ mo = \"read\", files = {:?}{remote} }}\n[plugins.{name}.settings]\n\
             \"exporters.plan2learn.variant\" = \"{variant}\"\n\
             \"exporters.plan2learn.root_unit\" = \"{}\"\n\
             \"exporters.plan2learn.allowed_engagement_types\" = [\"{}\", \"{}\"]\n\
             \"integrations.SD_Lon.import.too_deep\" = [\"Afdelings-niveau\"]\n\
             \"plan2learn.phone.priority\" = [\"{}\", \"{}\"]\n\
             \"plan2learn.email.priority\" = [\"{}\"]\n",
            dir.join(&name),
            id(1),
            id(10),
            id(11),
            id(42),
            id(43),
            id(40)
        ));
    }
    let path = dir.join("plugins.toml");
    std::fs::write(&path, text).unwrap();
    Host::new(Manifest::load(&path, moport::built_plugins()).unwrap(), ComponentCache::new(None)).unwrap()
}

/// Runs both variants and compares every file, byte for byte, with the golden files.
async fn assert_golden(host: &Host, dir: &Path) {
    for variant in ["rsd", "viborg"] {
        let outcome = host.run(variant, &RunOptions::default()).await.unwrap();
        assert!(outcome.report.summary.starts_with("wrote the five plan2learn files"), "{}", outcome.report.summary);
        for name in FILES {
            let written = std::fs::read(dir.join(variant).join(name)).unwrap();
            let expected = std::fs::read(golden_dir().join(variant).join(name)).unwrap();
            assert!(written == expected, "{variant}/{name} differs from the golden file");
        }
    }
}

#[tokio::test]
async fn the_compiled_component_writes_the_golden_files_from_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path()).with_mo_spec(MoSourceSpec::Snapshot(golden_dir().join("mo.json")));
    assert_golden(&host, dir.path()).await;
}

#[tokio::test]
async fn the_compiled_component_writes_the_golden_files_from_mo_over_graphql() {
    let snapshot = Snapshot::load(&golden_dir().join("mo.json")).unwrap();
    let standin = MoStandin::start(snapshot.file(), Duration::from_secs(300)).await;
    // With latency, requests sent side by side are seen to overlap.
    *standin.faults.latency.lock().unwrap() = Duration::from_millis(30);
    for mode in [Mode::Cache, Mode::Direct] {
        let dir = tempfile::tempdir().unwrap();
        let source = GraphqlSource::new(standin.settings(), mode, quick_retries()).unwrap();
        source.use_dar(dar_table_of(snapshot.file()));
        let host = host(dir.path()).with_mo(MoSource::Graphql(Arc::new(source)));
        let before = standin.operations();
        assert_golden(&host, dir.path()).await;
        let asked: Vec<(String, u64)> = standin
            .operations()
            .into_iter()
            .map(|(operation, count)| (operation.clone(), count - before.get(&operation).copied().unwrap_or(0)))
            .filter(|(_, count)| *count > 0)
            .collect();
        match mode {
            // The plugin names its collections ahead: fetched side by side, each once.
            Mode::Cache => {
                let most = standin.counters.most_in_flight.load(Ordering::SeqCst);
                assert!(most >= 3, "at most {most} requests at a time");
                assert!(asked.iter().all(|(_, count)| *count == 1), "{asked:?}");
            }
            // All classes are read once per run (two variants): the addresses' scopes come from
            // that read, not from a fetch of their own.
            Mode::Direct => {
                assert!(asked.contains(&("Classes".to_owned(), 2)), "{asked:?}");
            }
        }
    }
}

/// The moport binary run with `args` in a fresh folder holding the shipped plugins.toml.
fn shipped_moport(args: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins.toml"), dir.path().join("plugins.toml")).unwrap();
    let out = crate::support::moport_cli::command(dir.path()).args(args).output().unwrap();
    (dir, out)
}

#[test]
fn the_readme_main_job_exports_the_demo_and_ships_it_to_the_outbox() {
    let (dir, out) = shipped_moport(&["run", "plan2learn", "--mo", "demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("shipped them to `plan2learn`"), "{stdout}");
    for name in FILES {
        let bytes = std::fs::read(dir.path().join("output/plan2learn").join(name)).unwrap();
        assert!(stdout.contains(name), "{stdout}");
        assert!(bytes.ends_with(b"\r\n") && bytes.starts_with(b"\""), "{name}");
        let shipped = std::fs::read(dir.path().join("output/plan2learn-outbox").join(name)).unwrap();
        assert!(shipped == bytes, "{name}: the shipped file differs from the written one");
    }
    let bruger = std::fs::read_to_string(dir.path().join("output/plan2learn/bruger.csv")).unwrap();
    assert!(bruger.lines().count() > 200, "the demo has a few hundred persons:\n{bruger}");
}

#[test]
fn moport_check_reaches_mo_and_the_target_and_writes_nothing() {
    let (dir, out) = shipped_moport(&["check", "plan2learn", "--mo", "demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for line in
        ["ok      component: exporter world", "ok      MO: Demo Kommune: 300 employees", "ok      target `plan2learn`"]
    {
        assert!(stdout.contains(line), "{line} in:\n{stdout}");
    }
    assert!(!dir.path().join("output").exists(), "check wrote something");
}
