//! Host figures: plugin start with and without the precompiled cache, and the cost of one
//! guest -> host call. Run with `cargo bench --bench host`; it prints medians with min and max.
//!
//! "Start" is everything from reading the component to the plugin's `run` returning, for the
//! probe plugin in its `ok` mode (one small file write): what an operator waits for besides the
//! plugin's own work.

#[path = "support/stats.rs"]
mod stats;

use moport::BUILT_PLUGINS_DIR;
use moport_manifest::Manifest;
use moport_runtime::cache::ComponentCache;
use moport_runtime::{Host, RunOptions};
use stats::{median, ms, sample, stats};
use std::time::Instant;

const ROUNDS: usize = 5;
const CALLS: u64 = 1_000_000;

fn main() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let manifest_path = work.path().join("plugins.toml");
    std::fs::write(
        &manifest_path,
        format!(
            "[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n\
             [plugins.start]\ncomponent = \"probe.wasm\"\ngrants = {{ files = \"out\" }}\nsettings = {{ mode = \"ok\" }}\n\
             [plugins.idle]\ncomponent = \"probe.wasm\"\ngrants = {{ files = \"out\" }}\nsettings = {{ mode = \"calls\", calls = 0 }}\n\
             [plugins.calls]\ncomponent = \"probe.wasm\"\ngrants = {{ files = \"out\" }}\nsettings = {{ mode = \"calls\", calls = {CALLS} }}\n"
        ),
    )
    .expect("plugins.toml written");
    let manifest = Manifest::load(&manifest_path, moport::built_plugins()).expect("the bench manifest parses");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");

    let uncached = Host::new(manifest.clone(), ComponentCache::new(None)).expect("a host");
    let cached = Host::new(manifest, ComponentCache::new(Some(work.path().join("cache")))).expect("a host");
    let run = |host: &Host, plugin: &str| {
        let started = Instant::now();
        runtime.block_on(host.run(plugin, &RunOptions::default())).expect("the probe runs");
        started.elapsed()
    };

    run(&cached, "start"); // fills the cache
    let without_cache = sample(ROUNDS, || run(&uncached, "start"));
    let with_cache = sample(ROUNDS, || run(&cached, "start"));
    let idle = sample(ROUNDS, || run(&cached, "idle"));
    let calls = sample(ROUNDS, || run(&cached, "calls"));

    println!("moport host figures ({ROUNDS} rounds each; median [min .. max])");
    println!("plugin start, no cache (compile)  {}", ms(&without_cache));
    println!("plugin start, precompiled cache   {}", ms(&with_cache));
    println!("  ratio no cache / cache          {:.1}x", median(&without_cache) / median(&with_cache));
    let per_call: Vec<f64> = calls.iter().zip(&idle).map(|(c, i)| (c - i) * 1e6 / CALLS as f64).collect();
    println!(
        "guest -> host call (log.enabled)  {} ns per call ({CALLS} calls, idle run subtracted)",
        stats(&per_call, 0)
    );
}
