//! The wasmtime side of moport: one engine per process, components compiled or taken from the
//! cache, what a component asks of the host read from its type, and one plugin run from start
//! to end within its limits, with the capabilities of `moport-caps`.

pub mod cache;
pub mod contract;
pub mod engine;
mod output;
pub mod runner;

pub use runner::{CheckLine, ExitStatus, Host, LoadedPlugin, RunError, RunOptions, RunOutcome};
