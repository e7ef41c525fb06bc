//! The plugin's persistent key/value state (granted with `state = true`). What a run sets is
//! kept only when the run succeeds, and never under `--dry-run`: a failed run leaves the state
//! as it was, so the next run starts from the same point.

use crate::CallError;

capabilities! { state:
    /// The value as this run sees it: as the last successful run left it, with this run's own
    /// changes.
    pub fn get(key: &str) -> Result<Option<String>, CallError>;
    pub fn set(key: &str, value: &str) -> Result<(), CallError>;
    pub fn remove(key: &str) -> Result<(), CallError>;
    /// Every key, sorted.
    pub fn keys() -> Result<Vec<String>, CallError>;
}
