//! Builds every plugin crate of the workspace for `wasm32-wasip2`, so that one `cargo build` or
//! `cargo test` at the root yields the host and its plugins.
//!
//! Plugin crates are the workspace members under `plugins/` and `tests/plugins/` whose `[lib]`
//! is a `cdylib`. They are compiled in release by a nested cargo with its own target directory
//! (`<target>/wasm`), so it never waits on the lock of the build that runs this script. The
//! components land in `<target>/plugins/<package>.wasm`; the tests learn that folder through the
//! `MOPORT_BUILT_PLUGINS` compile-time variable. The shipped plugins' components (not the tests'
//! own) are also carried in the host library (`$OUT_DIR/shipped_components.rs`), so that an
//! installed `moport` runs them with no folder of components beside it.
//!
//! The guest SDK is carried too, as source (`$OUT_DIR/carried_sdk.rs`): the SDK crate, the two
//! crates it builds on natively, the WIT files, and a workspace manifest holding only the
//! workspace fields they inherit, so `moport new` and `moport sdk` can hand a plugin author a
//! buildable SDK on a machine with no moport checkout.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip2";
const PLUGIN_ROOTS: &[&str] = &["plugins", "plugins/examples", "tests/plugins"];
/// The crates of the carried SDK, at the paths they have in the repository, so that their
/// manifests and the SDK's `wit` path hold unchanged.
const SDK_CRATES: &[&str] = &["plugins/sdk", "crates/types", "crates/mo-rules"];

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = cargo_target_dir(&out_dir);
    let components_dir = target_dir.join("plugins");

    for watched in ["wit", "Cargo.lock", "Cargo.toml"].iter().chain(PLUGIN_ROOTS).chain(SDK_CRATES) {
        println!("cargo:rerun-if-changed={watched}");
    }
    println!("cargo:rustc-env=MOPORT_BUILT_PLUGINS={}", components_dir.display());
    write_carried_sdk(&root, &out_dir);

    let plugins = find_plugin_crates(&root);
    let shipped_list = out_dir.join("shipped_components.rs");
    if plugins.is_empty() {
        write_shipped(&shipped_list, &components_dir, &[]);
        return;
    }
    require_wasm_target();

    let wasm_target_dir = target_dir.join("wasm");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&root)
        .args(["build", "--release", "--target", WASM_TARGET, "--target-dir"])
        .arg(&wasm_target_dir);
    for plugin in &plugins {
        build.args(["-p", &plugin.package]);
    }
    // Settings meant for the outer build (flags for the host target, clippy's wrapper) must not
    // leak into the wasm build; the jobserver (CARGO_MAKEFLAGS) is shared on purpose.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        build.env_remove(var);
    }
    let status = build.status().unwrap_or_else(|err| panic!("could not start cargo to build the plugins: {err}"));
    if !status.success() {
        panic!(
            "building the plugins for {WASM_TARGET} failed ({status}); the compiler's messages are above. \
             Plugins: {}",
            plugins.iter().map(|p| p.package.as_str()).collect::<Vec<_>>().join(", ")
        );
    }

    fs::create_dir_all(&components_dir)
        .unwrap_or_else(|err| panic!("could not create {}: {err}", components_dir.display()));
    for plugin in &plugins {
        let built = wasm_target_dir
            .join(WASM_TARGET)
            .join("release")
            .join(format!("{}.wasm", plugin.package.replace('-', "_")));
        let placed = components_dir.join(format!("{}.wasm", plugin.package));
        copy_if_changed(&built, &placed);
    }
    write_shipped(&shipped_list, &components_dir, &plugins);
}

/// Writes the list of the shipped components, each a file name and its bytes.
fn write_shipped(list: &Path, components_dir: &Path, plugins: &[PluginCrate]) {
    let mut text = String::from("&[\n");
    for plugin in plugins.iter().filter(|plugin| plugin.shipped) {
        let file = components_dir.join(format!("{}.wasm", plugin.package));
        text.push_str(&format!("    ({:?}, include_bytes!({:?})),\n", format!("{}.wasm", plugin.package), file));
    }
    text.push_str("]\n");
    write_if_changed(list, &text);
}

/// Writes the list of the carried SDK's files, each a path below the SDK's folder and its
/// bytes: the source and manifest of each of `SDK_CRATES`, `wit/*.wit`, and a `Cargo.toml`
/// that makes them a workspace of their own. An empty list where the SDK is not in the source
/// tree (a package of the host alone).
fn write_carried_sdk(root: &Path, out_dir: &Path) {
    let list = out_dir.join("carried_sdk.rs");
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if root.join("plugins/sdk/Cargo.toml").is_file() {
        let workspace_manifest = out_dir.join("carried_sdk_workspace.toml");
        write_if_changed(&workspace_manifest, &sdk_workspace_manifest(root));
        files.push(("Cargo.toml".to_owned(), workspace_manifest));
        for krate in SDK_CRATES {
            files.push((format!("{krate}/Cargo.toml"), root.join(krate).join("Cargo.toml")));
            collect_files(root, &root.join(krate).join("src"), &mut files);
        }
        collect_files(root, &root.join("wit"), &mut files);
    }
    let mut text = String::from("&[\n");
    for (name, file) in &files {
        text.push_str(&format!("    ({name:?}, include_bytes!({file:?})),\n"));
    }
    text.push_str("]\n");
    write_if_changed(&list, &text);
}

/// The carried SDK's workspace manifest: this workspace's `[workspace.package]`, and those of
/// its `[workspace.dependencies]` the SDK's crates name. A path dependency among them must be
/// one of the carried crates, else the SDK would not build where it is written.
fn sdk_workspace_manifest(root: &Path) -> String {
    let read = |path: &Path| -> toml::Table {
        let text = fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
        text.parse().unwrap_or_else(|err| panic!("{} is not valid TOML: {err}", path.display()))
    };
    let workspace = read(&root.join("Cargo.toml"));
    let workspace = workspace.get("workspace").and_then(|w| w.as_table()).expect("the root Cargo.toml has [workspace]");
    let all_dependencies = workspace.get("dependencies").and_then(|d| d.as_table()).cloned().unwrap_or_default();
    let mut named = toml::Table::new();
    for krate in SDK_CRATES {
        let manifest = read(&root.join(krate).join("Cargo.toml"));
        // Only `Cargo.toml` and `src/` of each crate are carried.
        let package = manifest.get("package").and_then(|p| p.as_table());
        for key in ["build", "readme", "license-file", "include"] {
            assert!(
                package.is_none_or(|package| !package.contains_key(key)),
                "{krate}/Cargo.toml names `{key}`, a file the carried SDK (build.rs) does not carry"
            );
        }
        assert!(!root.join(krate).join("build.rs").exists(), "{krate}/build.rs is not carried (build.rs)");
        let mut tables: Vec<&toml::Table> = Vec::new();
        for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
            tables.extend(manifest.get(key).and_then(|t| t.as_table()));
        }
        if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
            for target in targets.values().filter_map(|t| t.as_table()) {
                for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                    tables.extend(target.get(key).and_then(|t| t.as_table()));
                }
            }
        }
        for (name, _) in tables.iter().flat_map(|table| table.iter()) {
            let Some(spec) = all_dependencies.get(name) else { continue };
            if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
                assert!(
                    SDK_CRATES.contains(&path),
                    "{krate} depends on `{name}` at {path}, which the carried SDK (build.rs SDK_CRATES) lacks"
                );
            }
            named.insert(name.clone(), spec.clone());
        }
    }
    let mut manifest = toml::Table::new();
    let mut carried = toml::Table::new();
    carried.insert("resolver".into(), workspace.get("resolver").cloned().unwrap_or_else(|| "3".into()));
    carried.insert(
        "members".into(),
        toml::Value::Array(SDK_CRATES.iter().map(|krate| toml::Value::from(*krate)).collect()),
    );
    if let Some(package) = workspace.get("package") {
        carried.insert("package".into(), package.clone());
    }
    carried.insert("dependencies".into(), named.into());
    manifest.insert("workspace".into(), carried.into());
    let body = toml::to_string(&manifest).expect("a TOML table serialises");
    format!(
        "# moport's guest SDK, as moport {} carries it (`moport sdk --out DIR`): the SDK crate\n\
         # (plugins/sdk), the crates its test host builds on, and the WIT contract.\n\n{body}",
        env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION")
    )
}

/// Every file below `folder`, in a stable order, named relative to `root`.
fn collect_files(root: &Path, folder: &Path, files: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(folder)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", folder.display()))
        .map(|entry| entry.expect("a listed entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(root, &path, files);
        } else {
            let name = path.strip_prefix(root).expect("below the root").to_str().expect("UTF-8 file names in the SDK");
            files.push((name.to_owned(), path));
        }
    }
}

fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::write(path, text).unwrap_or_else(|err| panic!("could not write {}: {err}", path.display()));
    }
}

struct PluginCrate {
    package: String,
    /// Under `plugins/`, not one of the tests' own.
    shipped: bool,
}

/// The crates directly under the plugin roots whose library is a `cdylib`.
fn find_plugin_crates(root: &Path) -> Vec<PluginCrate> {
    let mut found = Vec::new();
    for plugin_root in PLUGIN_ROOTS {
        let Ok(entries) = fs::read_dir(root.join(plugin_root)) else { continue };
        let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        dirs.sort();
        for dir in dirs {
            let manifest_path = dir.join("Cargo.toml");
            let Ok(text) = fs::read_to_string(&manifest_path) else { continue };
            let manifest: toml::Table =
                text.parse().unwrap_or_else(|err| panic!("{} is not valid TOML: {err}", manifest_path.display()));
            let is_cdylib = manifest
                .get("lib")
                .and_then(|lib| lib.get("crate-type"))
                .and_then(|types| types.as_array())
                .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("cdylib")));
            let package = manifest.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
            if let (true, Some(package)) = (is_cdylib, package) {
                let shipped = !plugin_root.starts_with("tests/");
                found.push(PluginCrate { package: package.to_owned(), shipped });
            }
        }
    }
    found
}

/// Cargo marks the root of every target directory with CACHEDIR.TAG; OUT_DIR lies below it
/// whether or not `--target`, `CARGO_TARGET_DIR` or `build.target-dir` moved it.
fn cargo_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.join("moport"))
}

/// Installs the wasm target through rustup when it is missing, so `cargo build` on a fresh
/// machine needs nothing else; without rustup, says the one command that installs it.
fn require_wasm_target() {
    let installed = || {
        let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        Command::new(rustc)
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
            // Not knowing the sysroot is no reason to stop: the plugin build will say what is wrong.
            .is_none_or(|sysroot| sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir())
    };
    if installed() {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", WASM_TARGET]);
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        rustup.arg("--toolchain").arg(toolchain);
    }
    let added = rustup.status().is_ok_and(|status| status.success());
    if added && installed() {
        println!("cargo:warning=installed the Rust target {WASM_TARGET} with rustup; the plugins need it");
        return;
    }
    panic!(
        "the Rust target {WASM_TARGET} is not installed, and the plugins need it. \
         Install it with:\n\n    rustup target add {WASM_TARGET}\n"
    );
}

/// Leaves an unchanged component untouched, so its modification time keeps meaning something.
fn copy_if_changed(from: &Path, to: &Path) {
    let bytes = fs::read(from).unwrap_or_else(|err| panic!("plugin component {} missing: {err}", from.display()));
    if fs::read(to).is_ok_and(|existing| existing == bytes) {
        return;
    }
    let staging = to.with_extension("wasm.tmp");
    fs::write(&staging, &bytes).unwrap_or_else(|err| panic!("could not write {}: {err}", staging.display()));
    fs::rename(&staging, to).unwrap_or_else(|err| panic!("could not place {}: {err}", to.display()));
}
