//! Aarhus LOS importer figures on generated LOS files: 10,000 org-unit rows (5,000 units with two
//! periods each) and 30,000 person rows (24,000 persons) unless MOPORT_BENCH_LOS_UNITS and
//! MOPORT_BENCH_LOS_PERSONS say otherwise. `cargo bench --bench aarhus_los` prints:
//!
//! - the plan worked out natively (select, read, plan: the pure library), median of 5;
//! - the compiled plugin run through the host against the MO stand-in over GraphQL v30: a dry
//!   run, the first import, a second run (nothing new), and a replay of every file after
//!   `state clear`, each with its time, GraphQL requests and mutation requests.

#[path = "../tests/support/http.rs"]
mod http;
#[path = "support/los_files.rs"]
mod los_files;
#[path = "../tests/support/mo_standin.rs"]
mod mo_standin;
#[path = "support/stats.rs"]
mod stats;

use aarhus_los::dates::Date;
use aarhus_los::plan::{self, MoView};
use aarhus_los::rows::ParsedFile;
use aarhus_los::select::{self, Listed};
use aarhus_los::settings::Settings;
use moport_caps::state::StateStore;
use moport_manifest::Manifest;
use moport_mo::MoSource;
use moport_mo::graphql::{GraphqlSource, Mode};
use moport_mo::snapshot::Snapshot;
use moport_runtime::cache::ComponentCache;
use moport_runtime::{Host, RunOptions, RunOutcome};
use stats::{env_count, ms, sample};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

const ROUNDS: usize = 5;

fn main() {
    let units = env_count("MOPORT_BENCH_LOS_UNITS", 5_000);
    let persons = env_count("MOPORT_BENCH_LOS_PERSONS", 24_000);
    let work = tempfile::tempdir().expect("a temporary folder");
    let los = work.path().join("los");
    let (unit_rows, person_rows) = los_files::generate(&los, &work.path().join("dar.csv"), units, persons);
    println!(
        "Aarhus LOS importer figures: {unit_rows} org-unit rows ({units} units), {person_rows} person rows \
         ({persons} persons), median [min .. max]"
    );

    let (plan_ms, changes) = native_plan(&los);
    println!("plan, natively (select, read, plan)     {} for {changes} changes", ms(&plan_ms));

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let empty = Snapshot::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini-mo.json"))
        .expect("the fixture loads");
    let standin = runtime.block_on(mo_standin::MoStandin::start(empty.file(), std::time::Duration::from_secs(3600)));
    let source = GraphqlSource::new(standin.settings(), Mode::Cache, mo_standin::quick_retries())
        .expect("the stand-in's settings");
    write_manifest(work.path());
    let host = Host::new(
        Manifest::load(&work.path().join("plugins.toml"), moport::built_plugins()).expect("the bench manifest"),
        ComponentCache::new(Some(work.path().join("cache"))),
    )
    .expect("a host")
    .with_mo(MoSource::Graphql(Arc::new(source)));
    let store = StateStore::new(&work.path().join("state"), "aarhus-los");

    let run = |label: &str, dry_run: bool| {
        let counters = &standin.counters;
        let (requests, mutations, micros) =
            (&counters.graphql_requests, &counters.mutation_requests, &counters.mutation_micros);
        let (requests_before, mutations_before, micros_before) =
            (requests.load(Ordering::SeqCst), mutations.load(Ordering::SeqCst), micros.load(Ordering::SeqCst));
        let started = Instant::now();
        let outcome: RunOutcome = runtime
            .block_on(host.run("aarhus-los", &RunOptions { dry_run, ..RunOptions::default() }))
            .expect("the import runs");
        let standin_ms = (micros.load(Ordering::SeqCst) - micros_before) as f64 / 1000.0;
        println!(
            "{label:40} {:>7.0} ms (the stand-in applying mutations: {standin_ms:.0} ms), {} GraphQL requests \
             ({} mutation requests)\n    {}",
            started.elapsed().as_secs_f64() * 1000.0,
            requests.load(Ordering::SeqCst) - requests_before,
            mutations.load(Ordering::SeqCst) - mutations_before,
            outcome.report.summary
        );
    };
    run("plugin, dry run (plan, nothing written)", true);
    run("plugin, first import", false);
    run("plugin, second run (no new files)", false);
    store.clear().expect("the state is cleared");
    run("plugin, replay of every file", false);
}

/// The pure library on the files, as the plugin uses it, against an empty MO.
fn native_plan(los: &Path) -> (Vec<f64>, usize) {
    let settings = Settings::read(|key| (key == "source").then(|| "los".into())).expect("settings");
    let mo = MoView { organisation: Some("00000000-0000-4000-8000-000000000001".into()), ..MoView::default() };
    let today = Date::parse("2026-11-25").expect("a date");
    let mut changes = 0;
    let times = sample(ROUNDS, || {
        let started = Instant::now();
        let listed: Vec<Listed> = std::fs::read_dir(los)
            .expect("the folder")
            .map(|entry| {
                let entry = entry.expect("an entry");
                Listed {
                    name: entry.file_name().to_string_lossy().into_owned(),
                    modified: Some("2026-11-01T00:00:00Z".into()),
                }
            })
            .collect();
        let selected = select::select(&listed, None).expect("the names are good");
        let files: Vec<ParsedFile> = selected
            .iter()
            .map(|file| ParsedFile::parse(file, &std::fs::read(los.join(&file.name)).expect("read")).expect("parsed"))
            .collect();
        let dar: HashMap<String, Option<String>> =
            plan::addresses_to_look_up(&files).into_iter().map(|text| (text, None)).collect();
        let plan = plan::plan(&files, &mo, &dar, &settings, today).expect("a plan");
        changes = plan.batches.iter().map(|batch| batch.changes.len()).sum();
        started.elapsed()
    });
    (times, changes)
}

fn write_manifest(work: &Path) {
    let manifest = "[host]\ndar = \"table:dar.csv\"\n\n\
        [plugins.aarhus-los]\ncomponent = \"aarhus-los.wasm\"\n\
        [plugins.aarhus-los.grants]\nfiles = \"out\"\nmo = \"write\"\nremote = [\"los\"]\ndar = true\nstate = true\n\
        [plugins.aarhus-los.limits]\ntime = \"30m\"\n\
        [plugins.aarhus-los.settings]\nsource = \"los\"\ndar_failures_folder = \"\"\n\n\
        [targets.los]\nkind = \"local\"\npath = \"los\"\n";
    std::fs::write(work.join("plugins.toml"), manifest).expect("written");
}
