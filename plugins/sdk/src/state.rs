//! The plugin's persistent key/value state (granted with `state = true`). What a run sets is
//! kept only when the run succeeds, and never under `--dry-run`: a failed run leaves the state
//! as it was, so the next run starts from the same point.

pub use crate::bindings::moport::host::state::{get, keys, remove, set};
