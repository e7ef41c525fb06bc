//! Progress of long work (fetching MO page by page, writing a batch, a plugin's own
//! `log.progress`), reported without knowing how it is shown: the program installs a [`Display`]
//! once (the `moport` CLI draws bars on a terminal); without one, progress goes nowhere.

use std::sync::OnceLock;

/// Shows progress: the program's choice.
pub trait Display: Send + Sync {
    /// Begins showing one piece of work of `total` steps, or a running count when the total is
    /// not known.
    fn begin(&self, label: &str, total: Option<u64>) -> Box<dyn Shown>;
}

/// One piece of work being shown; it disappears when dropped.
pub trait Shown: Send + Sync {
    fn set_total(&self, total: u64);
    fn set_done(&self, done: u64);
    fn advance(&self, steps: u64);
}

static DISPLAY: OnceLock<Box<dyn Display>> = OnceLock::new();

/// Shows progress this way from now on; the first call decides.
pub fn install(display: Box<dyn Display>) {
    let _ = DISPLAY.set(display);
}

/// Work of `total` steps (a count when `None`) under `label`, shown as the installed display
/// shows it.
pub fn begin(label: &str, total: Option<u64>) -> Box<dyn Shown> {
    match DISPLAY.get() {
        Some(display) => display.begin(label, total),
        None => Box::new(Unshown),
    }
}

/// Progress nobody shows.
struct Unshown;

impl Shown for Unshown {
    fn set_total(&self, _total: u64) {}
    fn set_done(&self, _done: u64) {}
    fn advance(&self, _steps: u64) {}
}
