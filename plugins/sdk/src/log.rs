//! Logging and progress, shown under the plugin's name.

pub use crate::bindings::moport::host::log::Level;

capabilities! { log:
    /// Whether a message at `level` would be shown.
    pub fn enabled(level: Level) -> bool;
    pub fn log(level: Level, message: &str);
    /// Reports `done` of `total` steps of the task called `label`.
    pub fn progress(label: &str, done: u64, total: u64);
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
