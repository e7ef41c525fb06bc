//! Where plugins read MO from, as the operator names it.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// How plugin calls reach a live MO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Each collection fetched whole once, then filtered in memory.
    #[default]
    Cache,
    /// One filtered query per plugin call.
    Direct,
}

/// An MO source as the operator names it, with `--mo` or `[host] mo` in plugins.toml. There is
/// deliberately no implicit default: a run that reads MO says where from, so demo data never
/// ships by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoSourceSpec {
    /// The demo municipality built into moport (docs/demo.md).
    Demo,
    /// A snapshot file (docs/snapshot-format.md).
    Snapshot(PathBuf),
    /// A live MO, with DIPEX's settings.json when given (docs/mo-graphql.md).
    Graphql { settings_json: Option<PathBuf>, mode: Mode },
}

impl MoSourceSpec {
    pub const SYNTAX: &'static str = "`demo` (the built-in demo municipality), `snapshot:FILE` (a snapshot file), \
        `graphql` (a live MO, settings from the environment) or `graphql:SETTINGS_JSON` (DIPEX's settings.json)";

    /// Reads `demo`, `snapshot:FILE`, `graphql` or `graphql:FILE`; a relative FILE is taken
    /// from `base`. `mode` applies to `graphql` only.
    pub fn parse(text: &str, base: &Path, mode: Mode) -> Result<MoSourceSpec, String> {
        match text.split_once(':') {
            None if text == "demo" => Ok(MoSourceSpec::Demo),
            None if text == "graphql" => Ok(MoSourceSpec::Graphql { settings_json: None, mode }),
            Some(("snapshot", path)) if !path.is_empty() => Ok(MoSourceSpec::Snapshot(base.join(path))),
            Some(("graphql", path)) if !path.is_empty() => {
                Ok(MoSourceSpec::Graphql { settings_json: Some(base.join(path)), mode })
            }
            _ => Err(format!("`{text}` is not an MO source; write {}", Self::SYNTAX)),
        }
    }
}

impl std::fmt::Display for MoSourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MoSourceSpec::Demo => f.write_str("demo"),
            MoSourceSpec::Snapshot(path) => write!(f, "snapshot:{}", path.display()),
            MoSourceSpec::Graphql { settings_json: None, mode } => write!(f, "graphql ({mode:?} mode)"),
            MoSourceSpec::Graphql { settings_json: Some(path), mode } => {
                write!(f, "graphql:{} ({mode:?} mode)", path.display())
            }
        }
    }
}
