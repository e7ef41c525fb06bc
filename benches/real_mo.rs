//! moport against a real OS2mo 66 (MO's own server, set up as the tests set it up:
//! tests/support/real_mo.rs). For the demo municipality and a generated one of
//! MOPORT_BENCH_REAL_MO_PERSONS persons (2,000 unless set; MOPORT_BENCH_REAL_MO_ROUNDS rounds of
//! each plan2learn figure, 3 unless set): loading it into an empty MO with
//! moport's writer (time, validities and requests), then plan2learn over GraphQL in `cache` and
//! `direct` mode (wall time, requests, and the time spent waiting for MO's answers); and the LOS
//! import into an empty MO, of the demo files and of generated ones (MOPORT_BENCH_LOS_UNITS units
//! with two periods each and MOPORT_BENCH_LOS_PERSONS persons, 500 and 2,400 unless set: a tenth
//! of the size `benches/aarhus_los.rs` plans). Units' postal (DAR) addresses are left out: MO
//! checks them against DAWA, which is closed (docs/mo-write.md).
//!
//! `cargo bench --bench real_mo` runs every part; `cargo bench --bench real_mo -- los` only the
//! parts whose name holds one of the words given (`demo`, `generated`, `los`).

#[path = "../tests/support/http.rs"]
mod http;
#[path = "support/los_files.rs"]
mod los_files;
#[path = "support/plan2learn_setup.rs"]
mod plan2learn_setup;
#[path = "../tests/support/real_mo.rs"]
mod real_mo;
#[path = "support/stats.rs"]
mod stats;
#[path = "../tests/support/token_issuer.rs"]
mod token_issuer;

use moport::BUILT_PLUGINS_DIR;
use moport_manifest::Manifest;
use moport_mo::MoSource;
use moport_mo::demo::{self, DemoSpec};
use moport_mo::graphql::{GraphqlSource, Mode, mutations};
use moport_mo::snapshot::SnapshotFile;
use moport_runtime::cache::ComponentCache;
use moport_runtime::{Host, RunOptions};
use real_mo::{READER, RealMo, WRITER};
use stats::{env_count, ms, sample, stats};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Rounds per figure unless MOPORT_BENCH_REAL_MO_ROUNDS says otherwise (a 10,000-person MO
/// takes minutes a round).
fn rounds() -> usize {
    env_count("MOPORT_BENCH_REAL_MO_ROUNDS", 3)
}

fn main() {
    // `cargo bench` hands the binary `--bench`; the other arguments choose parts.
    let words: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    let chosen = |part: &str| words.is_empty() || words.iter().any(|word| part.contains(word.as_str()));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let Some(mo) = RealMo::get() else { return };
    let persons = env_count("MOPORT_BENCH_REAL_MO_PERSONS", 2_000);
    println!("moport against a real OS2mo 66.1.2 on this machine (median [min .. max] of {})", rounds());
    let municipalities: [(&str, String, &dyn Fn() -> SnapshotFile); 2] = [
        ("demo municipality", "the demo (300 persons)".to_owned(), &|| demo::built_in().file().clone()),
        ("generated municipality", format!("{persons} persons"), &|| {
            demo::generate(&DemoSpec { persons, ..demo::built_in_spec() })
        }),
    ];
    for (_, label, make) in municipalities.into_iter().filter(|(part, ..)| chosen(part)) {
        let mut file = make();
        file.addresses.retain(|address| address.scope != "DAR");
        runtime.block_on(mo.reset());
        load(&runtime, mo, &label, &file);
        plan2learn(&runtime, mo, &file);
    }
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if chosen("demo los") {
        los_import(&runtime, mo, "demo LOS files", &repo.join("demo/los"));
    }
    if chosen("generated los") {
        let (units, persons) = (env_count("MOPORT_BENCH_LOS_UNITS", 500), env_count("MOPORT_BENCH_LOS_PERSONS", 2_400));
        let work = tempfile::tempdir().expect("a temporary folder");
        let los = work.path().join("los");
        let (unit_rows, person_rows) = los_files::generate(&los, &work.path().join("dar.csv"), units, persons);
        let label = format!("generated LOS files ({unit_rows} unit rows, {person_rows} person rows)");
        los_import(&runtime, mo, &label, &los);
    }
}

fn load(runtime: &tokio::runtime::Runtime, mo: &RealMo, label: &str, file: &SnapshotFile) {
    let source = GraphqlSource::new(mo.settings(WRITER), Mode::Cache, Default::default()).expect("a source");
    let changes = file.as_creates();
    let started = Instant::now();
    runtime.block_on(mutations::apply(&source, &changes, false)).expect("the load succeeds");
    let seconds = started.elapsed().as_secs_f64();
    let requests = source.client().traffic.requests.load(Ordering::SeqCst);
    println!(
        "{label}: load into an empty MO     {seconds:.1} s for {} validities ({:.0} a second), {requests} requests",
        changes.len(),
        changes.len() as f64 / seconds
    );
}

fn plan2learn(runtime: &tokio::runtime::Runtime, mo: &RealMo, file: &SnapshotFile) {
    let work = tempfile::tempdir().expect("a temporary folder");
    plan2learn_setup::write_manifest(work.path(), file);
    let manifest =
        Manifest::load(&work.path().join("plugins.toml"), moport::built_plugins()).expect("the bench manifest");
    let cache = || ComponentCache::new(Some(work.path().join("cache")));
    Host::new(manifest.clone(), cache()).expect("a host").load("plan2learn").expect("the plugin compiles");
    for mode in [Mode::Cache, Mode::Direct] {
        let (mut requests, mut waiting) = (Vec::new(), Vec::new());
        let runs = sample(rounds(), || {
            let source = Arc::new(GraphqlSource::new(mo.settings(READER), mode, Default::default()).expect("a source"));
            let host = Host::new(manifest.clone(), cache()).expect("a host").with_mo(MoSource::Graphql(source.clone()));
            let started = Instant::now();
            runtime.block_on(host.run("plan2learn", &RunOptions::default())).expect("the plugin runs");
            let elapsed = started.elapsed();
            let traffic = &source.client().traffic;
            requests.push(traffic.requests.load(Ordering::SeqCst) as f64);
            waiting.push(100.0 * traffic.waiting_micros.load(Ordering::SeqCst) as f64 / elapsed.as_micros() as f64);
            elapsed
        });
        println!("  plan2learn over graphql {mode:?}   {}", ms(&runs));
        println!(
            "    GraphQL requests per run  {}; waiting for MO {} % of the run",
            stats(&requests, 0),
            stats(&waiting, 0)
        );
    }
}

/// The shipped aarhus-los set-up on the LOS files in `los`, into an empty MO, without DAR
/// look-ups (MO cannot check a DAR address: DAWA is closed).
fn los_import(runtime: &tokio::runtime::Runtime, mo: &RealMo, label: &str, los: &std::path::Path) {
    runtime.block_on(mo.reset());
    let work = tempfile::tempdir().expect("a temporary folder");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("plugins.toml")).expect("the shipped plugins.toml");
    let text = text
        .replace("[host]\n", &format!("[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n"))
        .replace("dar = \"table:demo/dar-table.csv\"", "dar = \"off\"")
        .replace("time = \"30m\"", "time = \"4h\"")
        .replace("path = \"demo/los\"", &format!("path = {los:?}"));
    std::fs::write(work.path().join("plugins.toml"), text).expect("plugins.toml written");
    let manifest = Manifest::load(&work.path().join("plugins.toml"), moport::built_plugins()).expect("the manifest");
    let source = Arc::new(GraphqlSource::new(mo.settings(WRITER), Mode::Cache, Default::default()).expect("a source"));
    let host = Host::new(manifest, ComponentCache::new(Some(work.path().join("cache"))))
        .expect("a host")
        .with_mo(MoSource::Graphql(source.clone()));
    host.load("aarhus-los").expect("the plugin compiles");
    let started = Instant::now();
    let outcome = runtime.block_on(host.run("aarhus-los", &RunOptions::default())).expect("the import runs");
    let seconds = started.elapsed().as_secs_f64();
    let traffic = &source.client().traffic;
    let mutations = traffic.mutations.load(Ordering::SeqCst);
    println!(
        "{label}: LOS import into an empty MO   {seconds:.1} s, {} requests, {mutations} mutations \
         ({:.0} a second), waiting for MO {:.0} % of the run: {}",
        traffic.requests.load(Ordering::SeqCst),
        mutations as f64 / seconds,
        100.0 * traffic.waiting_micros.load(Ordering::SeqCst) as f64 / (seconds * 1e6),
        outcome.report.summary
    );
}
