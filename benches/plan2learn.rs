//! plan2learn export figures on generated municipalities of 5,000, 20,000, 50,000 and 100,000
//! persons (MOPORT_BENCH_SIZES="5000,20000" to choose), snapshot backend: the compiled plugin run
//! through the host, and the same export logic run natively on the same data, side by side; the
//! time and peak memory of a whole `moport`-style run in a fresh process; and how each grows
//! with size (the exponent b of time ~ persons^b, fitted on all sizes).
//! `cargo bench --bench plan2learn`.
//!
//! Both sides do the same work: select MO records as the plugin's queries ask (the host does it
//! for the plugin), build the five files and write them. The plugin side adds what the sandbox
//! costs: compiled wasm, and copying every record across the component boundary.

#[path = "support/plan2learn_setup.rs"]
mod plan2learn_setup;
#[path = "support/stats.rs"]
mod stats;

use moport_manifest::Manifest;
use moport_manifest::MoSourceSpec;
use moport_mo::MoSource;
use moport_mo::demo::{self, DemoSpec};
use moport_mo::snapshot::Snapshot;
use moport_mo_rules::Filter;
use moport_runtime::cache::ComponentCache;
use moport_runtime::{Host, RunOptions};
use moport_types::Validity;
use moport_types::mo::Query;
use plan2learn_setup::{settings, write_manifest};
use serde_json::Value;
use stats::{median, ms, sample, stats};
use std::path::Path;
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
/// Set in the child process that makes one whole run and reports its memory.
const ONE_RUN: &str = "MOPORT_BENCH_ONE_RUN";

/// One size's medians, for the growth fit.
struct SizeFigures {
    persons: usize,
    plugin_ms: f64,
    native_ms: f64,
    whole_ms: f64,
}

fn main() {
    if let Ok(dir) = std::env::var(ONE_RUN) {
        return one_run(Path::new(&dir));
    }
    let sizes: Vec<usize> = std::env::var("MOPORT_BENCH_SIZES")
        .unwrap_or_else(|_| "5000,20000,50000,100000".to_owned())
        .split(',')
        .map(|size| size.trim().parse().expect("MOPORT_BENCH_SIZES lists person counts, e.g. 5000,20000"))
        .collect();
    let figures: Vec<SizeFigures> = sizes.into_iter().map(measure).collect();
    if figures.len() < 2 {
        return; // a growth needs two sizes
    }
    println!("\ngrowth, time ~ persons^b fitted on {} sizes (b = 1 is linear)", figures.len());
    for (what, pick) in [
        ("plugin run", (|f: &SizeFigures| f.plugin_ms) as fn(&SizeFigures) -> f64),
        ("native export", |f| f.native_ms),
        ("whole run, fresh process", |f| f.whole_ms),
    ] {
        let points: Vec<(f64, f64)> = figures.iter().map(|f| (f.persons as f64, pick(f))).collect();
        let doublings: Vec<String> = points
            .windows(2)
            .map(|pair| format!("{:.2}x for {:.1}x persons", pair[1].1 / pair[0].1, pair[1].0 / pair[0].0))
            .collect();
        println!("  {what:26} b = {:.2}; {}", exponent(&points), doublings.join(", "));
    }
}

/// The least-squares slope of log(time) on log(persons).
fn exponent(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
    let n = logs.len() as f64;
    let (mean_x, mean_y) = (logs.iter().map(|p| p.0).sum::<f64>() / n, logs.iter().map(|p| p.1).sum::<f64>() / n);
    let covariance: f64 = logs.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let variance: f64 = logs.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    covariance / variance
}

fn measure(persons: usize) -> SizeFigures {
    let work = tempfile::tempdir().expect("a temporary folder");
    let file = demo::generate(&DemoSpec { persons, ..demo::built_in_spec() });
    file.save(&work.path().join("mo.json")).expect("the snapshot is written");
    write_manifest(work.path(), &file);
    let settings = settings(&file);
    let today = chrono::Local::now().date_naive();
    let snapshot = Snapshot::new(Path::new("generated"), file).expect("a generated snapshot is valid");
    println!("plan2learn export figures, {persons} persons, snapshot backend (median [min .. max] of {ROUNDS})");

    let host = Host::new(
        Manifest::load(&work.path().join("plugins.toml"), moport::built_plugins()).expect("the bench manifest"),
        ComponentCache::new(Some(work.path().join("cache"))),
    )
    .expect("a host")
    .with_mo(MoSource::in_memory(Snapshot::new(Path::new("generated"), snapshot.file().clone()).expect("valid")));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let native_out = work.path().join("native");
    std::fs::create_dir_all(&native_out).expect("a folder");
    let data = mo_data(&snapshot, &settings, today);
    runtime.block_on(host.run("plan2learn", &RunOptions::default())).expect("the plugin runs"); // compiles, caches
    // Rounds alternate, so drift in the machine (other tenants, the heap) falls on both sides.
    let (mut plugin, mut native) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let started = Instant::now();
        runtime.block_on(host.run("plan2learn", &RunOptions::default())).expect("the plugin runs");
        plugin.push(started.elapsed().as_secs_f64() * 1000.0);
        native.push(native_export(&snapshot, &data, &settings, today, &native_out).as_secs_f64() * 1000.0);
    }
    for name in ["organisation.csv", "bruger.csv", "engagement.csv", "stillingskode.csv", "leder.csv"] {
        let plugin_bytes = std::fs::read(work.path().join("out").join(name)).expect("the plugin wrote it");
        let native_bytes = std::fs::read(native_out.join(name)).expect("the native export wrote it");
        assert!(plugin_bytes == native_bytes, "{name}: the plugin and the native export differ");
    }
    println!("export as a wasm plugin (host run)   {}", ms(&plugin));
    println!("the same export natively            {}", ms(&native));
    println!("  ratio plugin / native              {:.2}x", median(&plugin) / median(&native));

    let mut peaks = Vec::new();
    let whole = sample(ROUNDS, || {
        let started = Instant::now();
        let child = std::process::Command::new(std::env::current_exe().expect("the bench binary"))
            .env(ONE_RUN, work.path())
            .output()
            .expect("the child runs");
        let elapsed = started.elapsed();
        let report = String::from_utf8_lossy(&child.stdout).into_owned();
        let peak = report
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix("peak_rss_mib="))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| {
                panic!("the child reported no peak: {report} {}", String::from_utf8_lossy(&child.stderr))
            });
        peaks.push(peak);
        elapsed
    });
    println!("whole run in a fresh process (load the snapshot file, run the cached plugin)  {}", ms(&whole));
    println!("  peak RSS of that process           {} MiB", stats(&peaks, 0));
    SizeFigures { persons, plugin_ms: median(&plugin), native_ms: median(&native), whole_ms: median(&whole) }
}

/// The child: one run as `moport run plan2learn --mo snapshot:FILE` makes it, then its peak memory.
fn one_run(dir: &Path) {
    let host = Host::new(
        Manifest::load(&dir.join("plugins.toml"), moport::built_plugins()).expect("the bench manifest"),
        ComponentCache::new(Some(dir.join("cache"))),
    )
    .expect("a host")
    .with_mo_spec(MoSourceSpec::Snapshot(dir.join("mo.json")));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(host.run("plan2learn", &RunOptions::default())).expect("the plugin runs");
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmHWM");
    println!("peak_rss_mib={}", kib / 1024);
}

/// The queries the plugin makes with the Viborg preset, as (collection, query).
fn queries(root: &str, today: chrono::NaiveDate) -> [(&'static str, Query); 6] {
    let day = today.to_string();
    let query = |window: Option<Validity>, under: Vec<String>| Query {
        uuids: vec![],
        window,
        under_org_units: under,
        facet_user_keys: vec![],
    };
    let from_today = || Some(Validity { from: Some(day.clone()), to: None });
    [
        ("org_units", query(None, vec![root.to_owned()])),
        ("classes", query(Some(Validity { from: None, to: None }), vec![])),
        ("employees", query(None, vec![])),
        ("engagements", query(from_today(), vec![])),
        ("addresses", query(from_today(), vec![])),
        ("managers", query(None, vec![])),
    ]
}

/// The records the host hands the plugin, in the SDK's types (the same fields), made once: the
/// conversion stands for the copy across the component boundary and is not timed.
fn mo_data(snapshot: &Snapshot, settings: &Value, today: chrono::NaiveDate) -> plan2learn::export::MoData {
    fn convert<T: serde::Serialize, U: serde::de::DeserializeOwned>(rows: Vec<T>) -> Vec<U> {
        serde_json::from_value(serde_json::to_value(rows).expect("records serialise")).expect("the same fields")
    }
    let root = settings["exporters.plan2learn.root_unit"].as_str().expect("a root").to_owned();
    let [units, classes, employees, engagements, addresses, managers] = queries(&root, today).map(|(_, q)| q);
    let units_all = snapshot.org_units();
    let pick = |q: &Query| Filter::new(q, today, units_all).expect("a valid query");
    plan2learn::export::MoData {
        today: today.to_string(),
        org_units: convert(pick(&units).select(snapshot.org_units()).expect("selects")),
        classes: convert(pick(&classes).select(snapshot.classes()).expect("selects")),
        employees: convert(pick(&employees).select(snapshot.employees()).expect("selects")),
        engagements: convert(pick(&engagements).select(snapshot.engagements()).expect("selects")),
        engagement_history: Vec::new(), // Viborg does not need it
        addresses: convert(pick(&addresses).select(snapshot.addresses()).expect("selects")),
        managers: convert(pick(&managers).select(snapshot.managers()).expect("selects")),
    }
}

/// What the plugin does, natively: the host's selection for the same queries, the same export,
/// the same files.
fn native_export(
    snapshot: &Snapshot,
    data: &plan2learn::export::MoData,
    settings: &Value,
    today: chrono::NaiveDate,
    out: &Path,
) -> Duration {
    let started = Instant::now();
    let settings = plan2learn::settings::Settings::read(|key| settings.get(key).cloned()).expect("valid settings");
    let mut selected = 0;
    for (collection, query) in queries(&settings.root_unit, today) {
        let filter = Filter::new(&query, today, snapshot.org_units()).expect("a valid query");
        selected += match collection {
            "org_units" => filter.select(snapshot.org_units()).map(|r| r.len()),
            "classes" => filter.select(snapshot.classes()).map(|r| r.len()),
            "employees" => filter.select(snapshot.employees()).map(|r| r.len()),
            "engagements" => filter.select(snapshot.engagements()).map(|r| r.len()),
            "addresses" => filter.select(snapshot.addresses()).map(|r| r.len()),
            _ => filter.select(snapshot.managers()).map(|r| r.len()),
        }
        .expect("selects");
    }
    std::hint::black_box(selected);
    let export = plan2learn::export::export(data, &settings).expect("the export works");
    for (name, bytes) in export.files {
        std::fs::write(out.join(name), bytes).expect("a file written");
    }
    started.elapsed()
}
