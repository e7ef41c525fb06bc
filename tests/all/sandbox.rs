//! Hostile and misbehaving plugins: each is stopped with an error that names the plugin and the
//! cause, and a well-behaved plugin then runs in the same host, in the same process.
//!
//! The `probe` and `future-wit` components come from tests/plugins/, built by build.rs; they are
//! not in the shipped plugins.toml.

use crate::support::hostile::{self, misshapen_plugin};
use moport::BUILT_PLUGINS_DIR;
use moport_caps::limits::LimitExceeded;
use moport_manifest::Manifest;
use moport_runtime::cache::ComponentCache;
use moport_runtime::contract::{Capability, ContractError};
use moport_runtime::{ExitStatus, Host, RunError, RunOptions};
use std::path::{Path, PathBuf};

/// A host over a plugins.toml in a fresh folder with a `good` probe and the given entries.
struct Sandbox {
    dir: tempfile::TempDir,
    host: Host,
}

impl Sandbox {
    fn new(entries: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let text =
            format!("[host]\ncomponents = {:?}\n\n{}\n{entries}", BUILT_PLUGINS_DIR, probe("good", "ok", "", ""));
        let path = dir.path().join("plugins.toml");
        std::fs::write(&path, &text).unwrap();
        let manifest = Manifest::load(&path, moport::built_plugins()).unwrap();
        let cache = ComponentCache::with_key_file(Some(dir.path().join("cache")), dir.path().join("cache.key"));
        let host = Host::new(manifest, cache).unwrap();
        // Every probe is the same component: compiled once here, each run takes it from the
        // cache, so a tight time limit is spent running, not compiling.
        host.load("good").unwrap();
        Sandbox { dir, host }
    }

    fn out(&self, plugin: &str) -> PathBuf {
        self.dir.path().join("out").join(plugin)
    }

    async fn run(&self, plugin: &str) -> Result<moport_runtime::RunOutcome, RunError> {
        self.host.run(plugin, &RunOptions::default()).await
    }

    /// The host survived: a well-behaved plugin still runs in it.
    async fn assert_still_works(&self) {
        let outcome = self.run("good").await.expect("a good plugin runs after a hostile one");
        assert_eq!(outcome.report.summary, "probe ok");
        assert_eq!(std::fs::read(self.out("good").join("ok.txt")).unwrap(), b"ok\n");
    }
}

/// A plugins.toml entry for the probe plugin with tight limits.
fn probe(name: &str, mode: &str, settings: &str, limits: &str) -> String {
    format!(
        r#"
[plugins.{name}]
component = "probe.wasm"
[plugins.{name}.grants]
files = "out/{name}"
[plugins.{name}.limits]
memory = "32MiB"
time = "5s"
output = "1MiB"
{limits}
[plugins.{name}.settings]
mode = "{mode}"
{settings}
"#
    )
}

fn assert_names(err: &RunError, plugin: &str, cause: &str) {
    let message = err.to_string();
    assert!(message.contains(&format!("plugin `{plugin}`")), "does not name the plugin: {message}");
    assert!(message.contains(cause), "does not name the cause `{cause}`: {message}");
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_time_limit() {
    let sandbox = Sandbox::new(&probe("spin", "loop", "", "").replace("time = \"5s\"", "time = \"300ms\""));
    let err = sandbox.run("spin").await.unwrap_err();
    assert!(matches!(&err, RunError::Limit { limit: LimitExceeded::Time { .. }, .. }), "{err:?}");
    assert_names(&err, "spin", "time limit of 300ms (limits.time)");
    assert_eq!(err.exit_status(), ExitStatus::LimitOrCrash);
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_by_the_memory_limit() {
    let sandbox = Sandbox::new(&probe("hog", "memory", "", ""));
    let err = sandbox.run("hog").await.unwrap_err();
    assert!(matches!(&err, RunError::Limit { limit: LimitExceeded::Memory { .. }, .. }), "{err:?}");
    assert_names(&err, "hog", "memory limit of 32MiB (limits.memory)");
    assert_eq!(err.exit_status(), ExitStatus::LimitOrCrash);
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn paths_that_escape_the_output_folder_are_refused() {
    let cases = [
        ("dotdot", "../escape.txt", "`..` would leave the output folder"),
        ("absolute", "/tmp/moport-escape.txt", "absolute paths are not allowed"),
        ("link", "link/escape.txt", "`link` is a symbolic link"),
    ];
    let entries: String =
        cases.iter().map(|(name, path, _)| probe(name, "write", &format!("path = {path:?}"), "")).collect();
    let sandbox = Sandbox::new(&entries);
    std::fs::create_dir_all(sandbox.out("link")).unwrap();
    let outside = sandbox.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, sandbox.out("link").join("link")).unwrap();

    for (name, _, cause) in cases {
        let err = sandbox.run(name).await.unwrap_err();
        assert!(matches!(&err, RunError::Plugin { kind: "internal", .. }), "{name}: {err:?}");
        assert_names(&err, name, cause);
    }
    assert!(!sandbox.dir.path().join("out/escape.txt").exists());
    assert!(!Path::new("/tmp/moport-escape.txt").exists());
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "nothing was written through the link");
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_plugin_importing_an_ungranted_capability_is_refused_before_it_runs() {
    let entry = probe("nofiles", "ok", "", "").replace("[plugins.nofiles.grants]\nfiles = \"out/nofiles\"\n", "");
    let sandbox = Sandbox::new(&entry);
    let err = sandbox.run("nofiles").await.unwrap_err();
    assert!(
        matches!(&err, RunError::Contract(ContractError::NotGranted { capability: Capability::Files, .. })),
        "{err:?}"
    );
    assert_names(&err, "nofiles", "add `files = \"output/<plugin>\"` under [plugins.nofiles.grants]");
    assert_eq!(err.exit_status(), ExitStatus::Config);
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn oversized_output_is_refused_stops_the_run_and_publishes_none_of_its_files() {
    let sandbox = Sandbox::new(&probe("flood", "output", "", ""));
    // What the last successful run left.
    std::fs::create_dir_all(sandbox.out("flood")).unwrap();
    std::fs::write(sandbox.out("flood").join("chunk-0.bin"), "from the last run").unwrap();
    let err = sandbox.run("flood").await.unwrap_err();
    assert!(matches!(&err, RunError::Limit { limit: LimitExceeded::Output { .. }, .. }), "{err:?}");
    assert_names(&err, "flood", "output limit of 1MiB (limits.output)");
    let left: Vec<_> = std::fs::read_dir(sandbox.out("flood")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["chunk-0.bin"], "the chunk that fitted is not published, and nothing hidden is left");
    assert_eq!(std::fs::read(sandbox.out("flood").join("chunk-0.bin")).unwrap(), b"from the last run");
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_panic_is_reported_with_its_message() {
    let sandbox = Sandbox::new(&probe("boom", "panic", "", ""));
    let err = sandbox.run("boom").await.unwrap_err();
    assert!(matches!(&err, RunError::Crash { .. }), "{err:?}");
    assert_names(&err, "boom", "probe was told to panic");
    assert_eq!(err.exit_status(), ExitStatus::LimitOrCrash);
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn under_a_dry_run_the_host_makes_no_change_whatever_the_plugin_does() {
    let target = "[targets.outbox]\nkind = \"local\"\npath = \"outbox\"\n";
    let entry = probe("eager", "effects", "", "")
        .replace("[plugins.eager.grants]\n", "[plugins.eager.grants]\nremote = [\"outbox\"]\n");
    let sandbox = Sandbox::new(&format!("{entry}\n{target}"));
    let outbox = sandbox.dir.path().join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::write(outbox.join("old.txt"), "old\n").unwrap();
    let dry = RunOptions { dry_run: true, ..RunOptions::default() };
    let outcome = sandbox.host.run("eager", &dry).await.expect("a dry run answers every change as made");
    assert!(!outcome.published);
    assert_eq!(outcome.files, [("made.txt".to_owned(), 5)], "what the plugin wrote is reported");
    assert!(!sandbox.out("eager").exists(), "nothing is put in the output folder");
    let left: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["old.txt"], "the target is left as it was");
    // The same plugin without a dry run changes both.
    sandbox.run("eager").await.unwrap();
    assert!(sandbox.out("eager").join("made.txt").exists());
    assert!(outbox.join("made.txt").exists() && outbox.join("renamed.txt").exists());
}

#[tokio::test]
async fn uploads_count_against_the_output_limit() {
    let target = "[targets.outbox]\nkind = \"local\"\npath = \"outbox\"\ncreate = true\n";
    let entry = probe("sender", "upload", "", "")
        .replace("[plugins.sender.grants]\n", "[plugins.sender.grants]\nremote = [\"outbox\"]\n");
    let sandbox = Sandbox::new(&format!("{entry}\n{target}"));
    let err = sandbox.run("sender").await.unwrap_err();
    assert!(matches!(&err, RunError::Limit { limit: LimitExceeded::Output { .. }, .. }), "{err:?}");
    assert_names(
        &err,
        "sender",
        "output limit of 1MiB (limits.output) reached: writing `big.bin` to the target `outbox`",
    );
    assert!(!sandbox.dir.path().join("outbox/big.bin").exists());
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_file_larger_than_the_plugin_may_hold_is_not_read() {
    let sandbox = Sandbox::new(&probe("reader", "read", "path = \"big.bin\"", ""));
    std::fs::create_dir_all(sandbox.out("reader")).unwrap();
    let big = std::fs::File::create(sandbox.out("reader").join("big.bin")).unwrap();
    big.set_len(40 << 20).unwrap();
    let err = sandbox.run("reader").await.unwrap_err();
    assert!(matches!(&err, RunError::Limit { limit: LimitExceeded::Read { .. }, .. }), "{err:?}");
    assert_names(&err, "reader", "memory limit of 32MiB (limits.memory) reached: `big.bin` in the output folder");
    assert_eq!(err.exit_status(), ExitStatus::LimitOrCrash);
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_component_larger_than_its_limit_is_refused_before_it_is_compiled() {
    let sandbox = Sandbox::new(&probe("bulky", "ok", "", "component = \"16KiB\""));
    let err = sandbox.run("bulky").await.unwrap_err();
    assert!(matches!(&err, RunError::ComponentTooLarge { .. }), "{err:?}");
    assert_names(&err, "bulky", "is larger than its limit of 16KiB (limits.component), so it is not compiled");
    assert_eq!(err.exit_status(), ExitStatus::Config);
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn compiling_counts_against_the_time_limit() {
    let entry = probe("slow-start", "ok", "", "").replace("time = \"5s\"", "time = \"1ms\"");
    let sandbox = Sandbox::new(&entry);
    // Without the cache the component is compiled for the run, which takes longer than 1 ms.
    let host = Host::new(sandbox.host.manifest().clone(), ComponentCache::new(None)).unwrap();
    let err = host.run("slow-start", &RunOptions::default()).await.unwrap_err();
    assert!(matches!(&err, RunError::Limit { limit: LimitExceeded::Time { .. }, .. }), "{err:?}");
    assert_names(&err, "slow-start", "time limit of 1ms (limits.time)");
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_plugin_may_print_more_than_the_host_keeps() {
    let sandbox = Sandbox::new(&probe("chatty", "print", "", ""));
    let outcome = sandbox.run("chatty").await.expect("printing past what is kept does not end the run");
    assert_eq!(outcome.report.summary, "printed 2 MiB");
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_plugin_that_exits_the_process_it_thinks_it_has_is_stopped_as_a_crash() {
    let sandbox = Sandbox::new(&probe("quitter", "exit", "", ""));
    let err = sandbox.run("quitter").await.unwrap_err();
    assert!(matches!(&err, RunError::Crash { .. }), "{err:?}");
    assert_names(&err, "quitter", "it exited with status 0 instead of returning from `run`");
    assert_eq!(err.exit_status(), ExitStatus::LimitOrCrash);
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn runaway_recursion_crashes_the_plugin_not_the_host() {
    let sandbox = Sandbox::new(&probe("deep", "stack", "", ""));
    let err = sandbox.run("deep").await.unwrap_err();
    assert!(matches!(&err, RunError::Crash { .. }), "{err:?}");
    assert_names(&err, "deep", "usually a stack overflow from deep recursion");
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_plugin_built_against_another_wit_version_is_refused_naming_both() {
    let sandbox = Sandbox::new("[plugins.future]\ncomponent = \"future-wit.wasm\"\n");
    let err = sandbox.run("future").await.unwrap_err();
    assert!(matches!(&err, RunError::Contract(ContractError::IncompatibleVersion { .. })), "{err:?}");
    assert_names(&err, "future", "built against moport:host@0.9.0");
    assert!(err.to_string().contains("this moport provides moport:host@0.1.0"), "{err}");
    assert_eq!(err.exit_status(), ExitStatus::Config);
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_failure_the_plugin_reports_keeps_its_kind_and_message() {
    let sandbox = Sandbox::new(&probe("picky", "fail", "", ""));
    let err = sandbox.run("picky").await.unwrap_err();
    assert_names(&err, "picky", "data error: probe was told to fail: row 3 is bad");
    assert_eq!(err.exit_status(), ExitStatus::PluginFailed);
}

#[tokio::test]
async fn a_missing_setting_is_a_config_error_naming_the_key() {
    let sandbox = Sandbox::new("[plugins.unset]\ncomponent = \"probe.wasm\"\ngrants = { files = \"out/unset\" }\n");
    let err = sandbox.run("unset").await.unwrap_err();
    assert_names(&err, "unset", "setting `mode` is required but not set");
    assert_eq!(err.exit_status(), ExitStatus::Config);
}

#[tokio::test]
async fn the_sandbox_hands_out_no_environment_files_or_network() {
    // A real listener on loopback: a connection would succeed if the sandbox allowed sockets.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sandbox = Sandbox::new(&probe("nosy", "ambient", &format!("port = {port}"), ""));
    assert!(std::env::vars_os().count() > 0, "the host process has an environment to leak");
    let outcome = sandbox.run("nosy").await.unwrap();
    let counts: std::collections::BTreeMap<_, _> = outcome.report.counts.into_iter().collect();
    assert_eq!(counts["environment variables"], 0);
    assert_eq!(counts["arguments"], 0);
    assert_eq!(counts["root folder readable"], 0);
    assert_eq!(counts["current folder readable"], 0);
    assert_eq!(counts["tcp connected"], 0);
}

#[tokio::test]
async fn components_the_host_cannot_link_are_refused_before_they_run_naming_why() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("wrong-export", misshapen_plugin(""), "its `moport:host/plugin` export (`run`) is not what this moport calls"),
        (
            "unknown-wasi",
            misshapen_plugin(r#"(import "wasi:frobnicate/things@0.2.6" (instance (export "frob" (func))))"#),
            "wasi:frobnicate/things@0.2.6",
        ),
        (
            "wrong-import",
            misshapen_plugin(
                r#"(import "moport:host/log@0.1.0" (instance (export "log" (func (param "message" u32)))))"#,
            ),
            "moport:host/log@0.1.0",
        ),
    ];
    let entries: String = cases
        .iter()
        .map(|(name, text, _)| {
            let component = hostile::component(dir.path(), name, text);
            format!("[plugins.{name}]\ncomponent = {component:?}\n")
        })
        .collect();
    let sandbox = Sandbox::new(&entries);
    for (name, _, named) in &cases {
        let err = sandbox.run(name).await.unwrap_err();
        assert!(matches!(&err, RunError::BadComponent { .. }), "{name}: {err:?}");
        assert_names(&err, name, "it cannot be linked to this moport");
        assert_names(&err, name, named);
        assert_eq!(err.exit_status(), ExitStatus::Config, "{name}");
    }
    sandbox.assert_still_works().await;
}

#[tokio::test]
async fn a_string_that_is_no_utf8_handed_to_the_host_is_the_plugin_s_crash() {
    let dir = tempfile::tempdir().unwrap();
    // Its start code logs two bytes that are no UTF-8, before `run` is ever looked at.
    let imports = r#"
        (import "moport:host/log@0.1.0" (instance $log
            (type $l (enum "trace" "debug" "info" "warn" "error"))
            (export "level" (type $level (eq $l)))
            (export "log" (func (param "level" $level) (param "message" string)))))
        (core module $bytes (memory (export "memory") 1) (data (i32.const 0) "\ff\fe"))
        (core instance $bytes (instantiate $bytes))
        (alias core export $bytes "memory" (core memory $memory))
        (alias export $log "log" (func $log))
        (core func $lowered (canon lower (func $log) (memory $memory)))
        (core module $start
            (import "host" "log" (func $log (param i32 i32 i32)))
            (func $start (call $log (i32.const 2) (i32.const 0) (i32.const 2)))
            (start $start))
        (core instance (instantiate $start (with "host" (instance (export "log" (func $lowered))))))"#;
    let component = hostile::component(dir.path(), "garbled", &misshapen_plugin(imports));
    let sandbox = Sandbox::new(&format!("[plugins.garbled]\ncomponent = {component:?}\n"));
    let err = sandbox.run("garbled").await.unwrap_err();
    assert!(matches!(&err, RunError::Crash { .. }), "{err:?}");
    assert_names(&err, "garbled", "it handed the host what the component model refuses");
    assert_names(&err, "garbled", "utf-8");
    assert_eq!(err.exit_status(), ExitStatus::LimitOrCrash);
    sandbox.assert_still_works().await;
}
