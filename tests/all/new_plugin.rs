//! `moport new` as a third party meets it, outside the moport repository: the generated crates
//! build for wasm32-wasip2, pass their own unit tests, pass `moport test` on their fixture, and
//! run on the demo municipality, exactly as generated; one on the SDK moport carries, one on a
//! checkout's.

use std::path::Path;
use std::process::{Command, Output};

/// A moport checkout's SDK, as a third party who has one names it.
const CHECKOUT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/sdk");

/// moport in `dir`, with a home of its own below `dir` and no SDK named unless `sdk` is.
fn moport_with(dir: &Path, sdk: Option<&str>, args: &[&str]) -> Output {
    let mut command = crate::support::moport_cli::command(dir);
    command.env("HOME", dir.join("home")).env_remove("XDG_DATA_HOME").args(args);
    match sdk {
        Some(sdk) => command.env("MOPORT_SDK", sdk),
        None => command.env_remove("MOPORT_SDK"),
    };
    command.output().unwrap()
}

fn moport(dir: &Path, args: &[&str]) -> Output {
    moport_with(dir, None, args)
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
    // A crate that cannot be made needs no SDK: none is written for it.
    let bad_name = moport(dir, &["new", "Acme"]);
    assert_eq!(bad_name.status.code(), Some(3), "{}", text(&bad_name));
    assert!(!dir.join("home/.local/share/moport").exists(), "no SDK was written");
    // A folder that is not an SDK is refused, naming it, and nothing is made.
    let wrong = moport_with(dir, Some("/"), &["new", "acme-units"]);
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(text(&wrong).contains("/ is not moport's SDK"), "{}", text(&wrong));
    assert!(!dir.join("acme-units").exists() && !dir.join("plugins").exists(), "nothing is made");
    // The exporter is made outside any checkout with no SDK named: moport writes the SDK it
    // carries to the user's data folder. The importer names a checkout's.
    let carried_sdk = dir.join("home/.local/share/moport/sdk").join(env!("CARGO_PKG_VERSION"));
    for (name, world, sdk, run) in [
        ("acme-units", "exporter", None, vec!["run", "acme-units", "--mo", "demo"]),
        ("acme-import", "importer", Some(CHECKOUT_SDK), vec!["run", "acme-import", "--mo", "demo", "--dry-run"]),
    ] {
        let made = moport_with(dir, sdk, &["new", name, "--world", world]);
        assert!(made.status.success(), "{}", text(&made));
        let crate_toml = std::fs::read_to_string(dir.join("plugins").join(name).join("Cargo.toml")).unwrap();
        let depends_on = match sdk {
            Some(sdk) => sdk.to_owned(),
            None => {
                let written = format!("wrote   moport's SDK to {}", carried_sdk.display());
                assert!(text(&made).contains(&written), "{}", text(&made));
                carried_sdk.join("plugins/sdk").display().to_string()
            }
        };
        assert!(crate_toml.contains(&format!("moport-sdk = {{ path = {depends_on:?} }}")), "{crate_toml}");
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

    // `moport sdk --out` writes the same SDK anywhere, and says how a crate names it.
    let vendored = moport(dir, &["sdk", "--out", "vendor/moport"]);
    assert_eq!(vendored.status.code(), Some(0), "{}", text(&vendored));
    let named = format!("moport-sdk = {{ path = {:?} }}", dir.join("vendor/moport/plugins/sdk").display().to_string());
    assert!(text(&vendored).contains(&named), "{}", text(&vendored));
    assert_eq!(files_below(&dir.join("vendor/moport")), files_below(&carried_sdk));
}

/// Each file below `folder`, by its path relative to it, with its bytes.
fn files_below(folder: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut folders = vec![folder.to_owned()];
    while let Some(next) = folders.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push((path.strip_prefix(folder).unwrap().to_owned(), std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    assert!(found.len() > 10, "an SDK of {} files", found.len());
    found
}
