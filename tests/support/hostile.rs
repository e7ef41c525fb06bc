//! Hostile components written as text, for what a Rust plugin cannot express (many memories,
//! imports of another shape, bytes that are no UTF-8).

use std::path::{Path, PathBuf};

/// The component `text` describes, saved in `dir` where a plugins.toml entry can name it.
pub fn component(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_str(text).expect("the text is a component")).unwrap();
    path
}

/// A component that exports `moport:host/plugin` with a `run` of the wrong shape (no context,
/// no result), after `body`: it passes the contract check, and what `body` does while the
/// instance is made happens before the host looks at `run`.
pub fn misshapen_plugin(body: &str) -> String {
    format!(
        r#"(component
            {body}
            (core module $m (func (export "run")))
            (core instance $i (instantiate $m))
            (func $run (canon lift (core func $i "run")))
            (instance $plugin (export "run" (func $run)))
            (export "moport:host/plugin@0.1.0" (instance $plugin)))"#
    )
}
