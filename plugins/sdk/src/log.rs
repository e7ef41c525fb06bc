//! Logging and progress, shown under the plugin's name.

use crate::bindings::moport::host::log as host;
pub use crate::bindings::moport::host::log::Level;

/// Whether a message at `level` would be shown.
pub fn enabled(level: Level) -> bool {
    host::enabled(level)
}

pub fn log(level: Level, message: &str) {
    host::log(level, message);
}

pub fn trace(message: &str) {
    log(Level::Trace, message);
}

pub fn debug(message: &str) {
    log(Level::Debug, message);
}

pub fn info(message: &str) {
    log(Level::Info, message);
}

pub fn warn(message: &str) {
    log(Level::Warn, message);
}

pub fn error(message: &str) {
    log(Level::Error, message);
}

/// Reports `done` of `total` steps of the task called `label`.
pub fn progress(label: &str, done: u64, total: u64) {
    host::progress(label, done, total);
}
