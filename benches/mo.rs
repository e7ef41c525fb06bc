//! MO figures at benchmark size: a generated municipality (50,000 persons unless
//! MOPORT_BENCH_PERSONS says otherwise), loading its snapshot file (time and peak memory, each
//! load in a fresh process), and a full `graphql cache` read of the same data through the MO
//! stand-in, as is and with 20 ms added to every answer (requests and time); and the plan2learn
//! plugin run over GraphQL in `cache` mode (each collection fetched once) and `direct` mode (one
//! query per plugin call), with and without the latency; and the host's write step for a batch
//! of 3,000 and 30,000 updates of one person. Run with `cargo bench --bench mo`; it
//! prints medians with min and max.

#[path = "../tests/support/http.rs"]
mod http;
#[path = "../tests/support/mo_standin.rs"]
mod mo_standin;
#[path = "support/plan2learn_setup.rs"]
mod plan2learn_setup;
#[path = "support/stats.rs"]
mod stats;

use chrono::{Days, NaiveDate};
use moport_manifest::Manifest;
use moport_mo::MoSource;
use moport_mo::demo::{self, DemoSpec};
use moport_mo::graphql::client::PAGE_SIZE;
use moport_mo::graphql::{GraphqlSource, Mode, plan};
use moport_mo::snapshot::{Snapshot, SnapshotFile};
use moport_mo_rules::Record;
use moport_runtime::cache::ComponentCache;
use moport_runtime::{Host, RunOptions};
use moport_types::Validity;
use moport_types::mo::{Change, Employee, Object};
use stats::{ms, sample, stats};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Set in the child process that loads one snapshot and reports.
const LOAD_ONLY: &str = "MOPORT_BENCH_LOAD_ONLY";
const LOAD_ROUNDS: usize = 5;
const FETCH_ROUNDS: usize = 3;
const LATENCY: Duration = Duration::from_millis(20);

fn main() {
    if let Ok(path) = std::env::var(LOAD_ONLY) {
        return load_and_report(&path);
    }
    let persons: usize = std::env::var("MOPORT_BENCH_PERSONS").ok().and_then(|p| p.parse().ok()).unwrap_or(50_000);
    let work = tempfile::tempdir().expect("a temporary folder");
    let path = work.path().join("mo.json");
    let spec = DemoSpec { persons, ..demo::built_in_spec() };
    let started = Instant::now();
    let file = demo::generate(&spec);
    file.save(&path).expect("the snapshot is written");
    let generated = started.elapsed();
    let bytes = std::fs::metadata(&path).expect("the snapshot exists").len();
    println!("moport MO figures, {persons} persons (median [min .. max])");
    println!(
        "generated municipality            {} org units, {} engagements, {} addresses; {:.1} MB; generate+save {:.0} ms",
        file.org_units.len(),
        file.engagements.len(),
        file.addresses.len(),
        bytes as f64 / 1e6,
        generated.as_secs_f64() * 1000.0
    );

    let mut peaks = Vec::new();
    let mut baselines = Vec::new();
    let loads = sample(LOAD_ROUNDS, || {
        let child = std::process::Command::new(std::env::current_exe().expect("the bench binary"))
            .env(LOAD_ONLY, &path)
            .output()
            .expect("the load child runs");
        let report = String::from_utf8_lossy(&child.stdout).into_owned();
        let field = |name: &str| -> f64 {
            report
                .split_whitespace()
                .find_map(|pair| pair.strip_prefix(name))
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("the load child reported no {name}: {report}"))
        };
        peaks.push(field("peak_rss_mib="));
        baselines.push(field("baseline_rss_mib="));
        Duration::from_secs_f64(field("load_ms=") / 1000.0)
    });
    println!("snapshot load (parse, check, sort) {}", ms(&loads));
    println!(
        "  peak RSS of the loading process {} MiB (before loading: {} MiB)",
        stats(&peaks, 0),
        stats(&baselines, 0)
    );

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let standin = runtime.block_on(mo_standin::MoStandin::start(&file, Duration::from_secs(300)));
    let objects = objects(&file);
    // MO pages by object, each collection by itself: the fewest pages a full read can take.
    let fewest_pages: usize = objects.iter().map(|(_, count)| count.div_ceil(PAGE_SIZE)).sum();
    let total: usize = objects.iter().map(|(_, count)| count).sum();
    println!(
        "objects to fetch                  {total} ({}); pages of {PAGE_SIZE}: at least {fewest_pages}",
        objects.iter().map(|(name, count)| format!("{name} {count}")).collect::<Vec<_>>().join(", ")
    );
    // Without latency the figure is the work of the stand-in and the host; the injected
    // latency shows what round trips to a distant MO add on top.
    for latency in [Duration::ZERO, LATENCY] {
        *standin.faults.latency.lock().unwrap() = latency;
        let mut requests = Vec::new();
        let fetches = sample(FETCH_ROUNDS, || {
            let count = || {
                standin.counters.graphql_requests.load(Ordering::SeqCst)
                    + standin.counters.token_requests.load(Ordering::SeqCst)
            };
            let before = count();
            let source = GraphqlSource::new(standin.settings(), Mode::Cache, Default::default()).expect("a source");
            let started = Instant::now();
            let fetched = runtime.block_on(source.snapshot()).expect("the stand-in answers");
            let elapsed = started.elapsed();
            assert_eq!(fetched.employees.len(), file.employees.len(), "the fetch is complete");
            requests.push((count() - before) as f64);
            elapsed
        });
        println!("graphql cache, full fetch, {:>2} ms latency  {}", latency.as_millis(), ms(&fetches));
        println!("  HTTP requests per fetch (token included)  {}", stats(&requests, 0));
        println!("  target: requests <= ceil({total} / {PAGE_SIZE}) + 10 = {}", total.div_ceil(PAGE_SIZE) + 10);
    }

    // The plan2learn plugin itself over GraphQL, a fresh source per run so nothing is reused.
    plan2learn_setup::write_manifest(work.path(), &file);
    let manifest =
        Manifest::load(&work.path().join("plugins.toml"), moport::built_plugins()).expect("the bench manifest");
    let cache = || ComponentCache::new(Some(work.path().join("cache")));
    // Compiled once into the cache, so no run below pays for compiling.
    Host::new(manifest.clone(), cache()).expect("a host").load("plan2learn").expect("the plugin compiles");
    for latency in [Duration::ZERO, LATENCY] {
        *standin.faults.latency.lock().unwrap() = latency;
        for mode in [Mode::Cache, Mode::Direct] {
            let mut requests = Vec::new();
            let runs = sample(FETCH_ROUNDS, || {
                let source = GraphqlSource::new(standin.settings(), mode, Default::default()).expect("a source");
                let host =
                    Host::new(manifest.clone(), cache()).expect("a host").with_mo(MoSource::Graphql(Arc::new(source)));
                let before = standin.counters.graphql_requests.load(Ordering::SeqCst);
                let started = Instant::now();
                runtime.block_on(host.run("plan2learn", &RunOptions::default())).expect("the plugin runs");
                let elapsed = started.elapsed();
                requests.push((standin.counters.graphql_requests.load(Ordering::SeqCst) - before) as f64);
                elapsed
            });
            println!("plan2learn over graphql {mode:?}, {:>2} ms latency  {}", latency.as_millis(), ms(&runs));
            println!("  GraphQL requests per run  {}", stats(&requests, 0));
        }
    }
    many_changes_to_one_person(&file);
}

/// The host's write step for one batch of many changes to one person (one-day renames, each
/// a validity of its own): working out the batch against the person's history, and the
/// mutations that take MO there.
fn many_changes_to_one_person(file: &SnapshotFile) {
    let person = file.employees.first().expect("the municipality has persons").clone();
    let mut mo = SnapshotFile::empty(file.organisation.clone(), String::new(), String::new());
    mo.employees =
        vec![Employee { validity: Validity { from: Some("2000-01-01".into()), to: None }, ..person.clone() }];
    for changes in [3_000, 30_000] {
        let batch: Vec<Change> = (0..changes)
            .map(|n| {
                let from = NaiveDate::from_ymd_opt(2001, 1, 1).expect("a date") + Days::new(n);
                let validity = Validity { from: Some(from.to_string()), to: Some((from + Days::new(1)).to_string()) };
                Change::Update(Object::Employee(Employee {
                    given_name: format!("Navn {n}"),
                    validity,
                    ..person.clone()
                }))
            })
            .collect();
        let mut wanted = mo.clone();
        let applied = sample(FETCH_ROUNDS, || {
            wanted = mo.clone();
            let started = Instant::now();
            moport_mo_rules::apply_net(&mut wanted, &batch).expect("the batch applies");
            started.elapsed()
        });
        let mut sent = 0;
        let planned = sample(FETCH_ROUNDS, || {
            let started = Instant::now();
            sent = plan::mutations(&mo, &wanted).len();
            started.elapsed()
        });
        println!("{changes} updates of one person: batch worked out  {}", ms(&applied));
        println!("  mutations planned ({sent})  {}", ms(&planned));
    }
}

/// The number of objects (distinct uuids) in each collection of a full read.
fn objects(file: &SnapshotFile) -> Vec<(&'static str, usize)> {
    fn distinct<T: Record>(rows: &[T]) -> (&'static str, usize) {
        (T::COLLECTION, rows.iter().map(Record::uuid).collect::<HashSet<_>>().len())
    }
    vec![
        distinct(&file.facets),
        distinct(&file.classes),
        distinct(&file.org_units),
        distinct(&file.employees),
        distinct(&file.engagements),
        distinct(&file.managers),
        distinct(&file.addresses),
        distinct(&file.it_systems),
        distinct(&file.it_users),
    ]
}

/// The child: loads the snapshot once and prints its time and memory.
fn load_and_report(path: &str) {
    let baseline = rss_mib("VmRSS:");
    let started = Instant::now();
    let snapshot = Snapshot::load(std::path::Path::new(path)).expect("the snapshot loads");
    let elapsed = started.elapsed();
    println!(
        "load_ms={} peak_rss_mib={} baseline_rss_mib={} employees={}",
        elapsed.as_secs_f64() * 1000.0,
        rss_mib("VmHWM:"),
        baseline,
        snapshot.employees().len()
    );
}

/// A memory figure of this process from /proc, in MiB.
fn rss_mib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("the field is in /proc/self/status");
    kib / 1024
}
