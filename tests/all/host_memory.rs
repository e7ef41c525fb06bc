//! What a hostile plugin can make the host hold: each attack runs in a `moport` process of its
//! own, beside the same plugin run harmlessly, and the host's peak memory (its maximum resident
//! set, as the kernel counts it) must stay within what the plugin's `memory` limit allows.

use crate::support::hostile::{self, misshapen_plugin};
use moport::BUILT_PLUGINS_DIR;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

const MIB: u64 = 1 << 20;
/// The plugins' memory limit here.
const LIMIT: u64 = 16 * MIB;
/// What the host may hold beyond a harmless run of the same plugin: the plugin's own memory, one
/// call's copy of it (both bounded by the limit), and room for what the host keeps beside a copy
/// (a `String` of 24 bytes for each string of a list, the allocator's rounding). Measured on
/// the machine that wrote these tests: 16 MiB above a harmless run for the copy, nothing for the
/// others; without the bounds 130 MiB (wasmtime's own 128 MiB a call) and 3.4 GiB (the labels).
const ALLOWED_ABOVE_HARMLESS: u64 = 2 * LIMIT + 48 * MIB;

struct Measured {
    code: i32,
    stderr: String,
    peak: u64,
}

/// Runs `moport run PLUGIN` over `dir`'s plugins.toml, in a process of its own so that its peak
/// memory is its own (`wait4` reports the child's maximum resident set).
#[expect(clippy::zombie_processes, reason = "the child is reaped by wait4, which also tells its peak memory")]
fn run(dir: &Path, plugin: &str, extra: &[&str]) -> Measured {
    let mut child = crate::support::moport_cli::command(dir)
        .args(["run", plugin])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        pipe.read_to_string(&mut text).unwrap();
        text
    });
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose status nobody else collects.
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    assert!(libc::WIFEXITED(status), "moport ended by a signal: {status}");
    // Linux counts the resident set in KiB.
    let peak = u64::try_from(usage.ru_maxrss).unwrap() * 1024;
    Measured { code: libc::WEXITSTATUS(status), stderr: stderr.join().unwrap(), peak }
}

fn manifest(dir: &Path, entries: &str) {
    let text = format!("[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n{entries}");
    std::fs::write(dir.join("plugins.toml"), text).unwrap();
}

fn entry(name: &str, component: &str, grants: &str, settings: &str) -> String {
    format!(
        "[plugins.{name}]\ncomponent = \"{component}\"\ngrants = {{ {grants} }}\n\
         limits = {{ memory = \"{}MiB\", time = \"120s\" }}\nsettings = {{ {settings} }}\n",
        LIMIT / MIB
    )
}

/// `component` run harmlessly and as told by `hostile` (its settings), each in a process of its
/// own after a first run that compiles it, so that neither is measured compiling.
fn harmless_then_hostile(
    dir: &Path,
    component: &str,
    grants: &str,
    settings: [&str; 2],
    extra: &[&str],
) -> [Measured; 2] {
    let [harmless, hostile] = settings;
    manifest(
        dir,
        &[entry("harmless", component, grants, harmless), entry("hostile", component, grants, hostile)].concat(),
    );
    assert_eq!(run(dir, "harmless", extra).code, 0);
    ["harmless", "hostile"].map(|plugin| run(dir, plugin, extra))
}

/// The hostile run stopped as `cause` with exit 5, holding no more than allowed above the
/// harmless run.
fn assert_bounded(harmless: &Measured, hostile: &Measured, cause: &str) {
    assert_eq!(harmless.code, 0, "the harmless run: {}", harmless.stderr);
    assert_eq!(hostile.code, 5, "{}", hostile.stderr);
    assert!(hostile.stderr.contains(cause), "does not name `{cause}`: {}", hostile.stderr);
    let above = hostile.peak.saturating_sub(harmless.peak);
    assert!(
        above <= ALLOWED_ABOVE_HARMLESS,
        "the host held {} MiB more than in a harmless run ({} MiB), more than the {} MiB a {} MiB limit allows",
        above / MIB,
        harmless.peak / MIB,
        ALLOWED_ABOVE_HARMLESS / MIB,
        LIMIT / MIB
    );
}

#[test]
fn a_call_asking_the_host_to_copy_more_than_the_plugin_holds_is_stopped_at_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let grants = format!("mo = \"read\", files = {:?}", dir.path().join("out"));
    // 300,000 strings of 1 KiB that share their bytes: 300 MiB asked for from 16 MiB.
    let settings = ["aliased_uuids = 1", "aliased_uuids = 300000"];
    let [harmless, hostile] = harmless_then_hostile(dir.path(), "mo-reader.wasm", &grants, settings, &["--mo", "demo"]);
    assert_bounded(&harmless, &hostile, "one call handed the host more than that at once");
}

#[test]
fn a_flood_of_progress_labels_holds_sixteen_bars() {
    let dir = tempfile::tempdir().unwrap();
    let grants = format!("files = {:?}", dir.path().join("out"));
    // 1,000,000 distinct labels of 190 bytes: some 200 MiB of text, and a bar each.
    let settings = ["mode = \"labels\", labels = 1", "mode = \"labels\", labels = 1000000"];
    let [harmless, hostile] = harmless_then_hostile(dir.path(), "probe.wasm", &grants, settings, &[]);
    // Not a limit: the bars past sixteen are not drawn, and the run ends well.
    assert_eq!(hostile.code, 0, "{}", hostile.stderr);
    let above = hostile.peak.saturating_sub(harmless.peak);
    assert!(above <= ALLOWED_ABOVE_HARMLESS, "the host held {} MiB more than in a harmless run", above / MIB);
}

#[test]
fn a_file_larger_than_the_plugin_may_hold_is_not_read_into_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("small.bin"), b"small").unwrap();
    // 3 GiB, sparse: nothing on disk, all of it there to read.
    std::fs::File::create(out.join("big.bin")).unwrap().set_len(3 << 30).unwrap();
    let grants = format!("files = {out:?}");
    let settings = ["mode = \"read\", path = \"small.bin\"", "mode = \"read\", path = \"big.bin\""];
    let [harmless, hostile] = harmless_then_hostile(dir.path(), "probe.wasm", &grants, settings, &[]);
    assert_bounded(&harmless, &hostile, "`big.bin` in the output folder is larger than that, and was not read");
}

/// Instances of `count` copies of `module`, each made (and its start code run) as the
/// component is instantiated.
fn instances_of(module: &str, count: usize) -> String {
    (0..count).map(|n| format!("(core module $hog{n} {module}) (core instance (instantiate $hog{n}))\n")).collect()
}

#[test]
fn many_memories_and_tables_share_one_budget() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = LIMIT - MIB;
    let pages = bytes / 65536;
    // Each memory nearly the whole limit, and filled, so that each would be resident.
    let memory = format!(
        "(memory {pages}) (func $fill (memory.fill (i32.const 0) (i32.const 1) (i32.const {bytes}))) (start $fill)"
    );
    let memories = hostile::component(dir.path(), "memories", &misshapen_plugin(&instances_of(&memory, 8)));
    // A million function references a table: 16 MB a table as the host counts them.
    let table = "(table 1000000 funcref) (func $f) (elem declare func $f) \
                 (func $fill (table.fill (i32.const 0) (ref.func $f) (i32.const 1000000))) (start $fill)";
    let tables = hostile::component(dir.path(), "tables", &misshapen_plugin(&instances_of(table, 16)));
    let grants = format!("files = {:?}", dir.path().join("out"));
    manifest(
        dir.path(),
        &[
            entry("harmless", "probe.wasm", &grants, "mode = \"ok\""),
            entry("memories", &memories.display().to_string(), "", ""),
            entry("tables", &tables.display().to_string(), "", ""),
        ]
        .concat(),
    );
    // The first runs compile the components; the measured ones take them from the cache.
    for plugin in ["harmless", "memories", "tables"] {
        run(dir.path(), plugin, &[]);
    }
    let harmless = run(dir.path(), "harmless", &[]);
    for plugin in ["memories", "tables"] {
        let hostile = run(dir.path(), plugin, &[]);
        assert_bounded(&harmless, &hostile, "memory limit of 16MiB (limits.memory) reached");
    }
}
