//! `moport new` as a third party meets it, outside the moport repository: the generated crates
//! build for wasm32-wasip2, pass their own unit tests, pass `moport test` on their fixture, and
//! run on the demo municipality, exactly as generated.

use std::path::Path;
use std::process::{Command, Output};

/// A moport checkout's SDK, as a third party who has one names it.
const SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/sdk");

fn moport(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_moport"))
        .current_dir(dir)
        .env("MOPORT_SDK", SDK)
        .env("MOPORT_CACHE_DIR", dir.join("cache"))
        .env("MOPORT_CACHE_KEY", dir.join("cache.key"))
        .env_remove("MOPORT_CONFIG")
        .env_remove("MOPORT_LOG")
        .args(args)
        .output()
        .unwrap()
}

/// cargo as a user runs it on the crate: none of this test's own cargo settings leak in, and
/// the two crates share one target folder (their dependencies are the same), offline.
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (var, _) in std::env::vars_os() {
        let var = var.to_string_lossy().into_owned();
        if var.starts_with("CARGO_") && var != "CARGO_HOME" || var == "RUSTFLAGS" {
            command.env_remove(var);
        }
    }
    command.current_dir(dir).env("CARGO_TARGET_DIR", target).args(args).arg("--offline").output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_new_exporter_and_importer_build_test_and_run_as_made() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let target = dir.join("target");
    // Outside a moport checkout, and with no SDK named, moport says what to name.
    let unnamed = Command::new(env!("CARGO_BIN_EXE_moport"))
        .current_dir(dir)
        .env_remove("MOPORT_SDK")
        .args(["new", "acme-units"])
        .output()
        .unwrap();
    assert_eq!(unnamed.status.code(), Some(2), "{}", text(&unnamed));
    assert!(text(&unnamed).contains("pass `--sdk DIR` (or set MOPORT_SDK)"), "{}", text(&unnamed));
    assert!(!dir.join("plugins").exists(), "nothing is made");
    for (name, world, run) in [
        ("acme-units", "exporter", vec!["run", "acme-units", "--mo", "demo"]),
        ("acme-import", "importer", vec!["run", "acme-import", "--mo", "demo", "--dry-run"]),
    ] {
        let made = moport(dir, &["new", name, "--world", world]);
        assert!(made.status.success(), "{}", text(&made));
        assert!(text(&made).contains(&format!("moport test {name} --fixture")), "{}", text(&made));
        let entry = std::fs::read_to_string(dir.join("plugins.toml")).unwrap();
        assert!(entry.contains("`cargo build --release --target wasm32-wasip2 --manifest-path "), "{entry}");
        let manifest = dir.join("plugins").join(name).join("Cargo.toml");
        let manifest = manifest.to_str().unwrap();

        let tested = cargo(dir, &target, &["test", "--manifest-path", manifest]);
        assert!(tested.status.success(), "{name}: cargo test\n{}", text(&tested));
        assert!(text(&tested).contains("test result: ok. 1 passed"), "{}", text(&tested));
        let built =
            cargo(dir, &target, &["build", "--release", "--target", "wasm32-wasip2", "--manifest-path", manifest]);
        assert!(built.status.success(), "{name}: cargo build\n{}", text(&built));
        // plugins.toml names the component in the crate's own target folder, where a plain
        // `cargo build` of the crate puts it; this test built into a shared folder.
        let component = format!("{}.wasm", name.replace('-', "_"));
        let placed = dir.join("plugins").join(name).join("target/wasm32-wasip2/release");
        std::fs::create_dir_all(&placed).unwrap();
        std::fs::copy(target.join("wasm32-wasip2/release").join(&component), placed.join(&component)).unwrap();

        let fixture = format!("plugins/{name}/fixture");
        let checked = moport(dir, &["test", name, "--fixture", &fixture]);
        assert_eq!(checked.status.code(), Some(0), "{name}: moport test\n{}", text(&checked));
        assert!(text(&checked).contains(&format!("{name}: ok against")), "{}", text(&checked));
        let ran = moport(dir, &run);
        assert_eq!(ran.status.code(), Some(0), "{name}: moport run\n{}", text(&ran));
    }

    // A change the fixture does not expect fails `moport test` with a diff and exit code 1.
    let expected = dir.join("plugins/acme-units/fixture/expected/files/units.csv");
    let edited = std::fs::read_to_string(&expected).unwrap().replace("Skolen", "Skolen X");
    std::fs::write(&expected, edited).unwrap();
    let failed = moport(dir, &["test", "acme-units", "--fixture", "plugins/acme-units/fixture"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    assert!(
        text(&failed).contains("-\"10000000-0000-4000-8000-000000000002\";\"SKOLE\";\"Skolen X\""),
        "{}",
        text(&failed)
    );

    // A name that is taken is refused, naming it.
    let again = moport(dir, &["new", "acme-units"]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert!(text(&again).contains("already exists"), "{}", text(&again));
}
