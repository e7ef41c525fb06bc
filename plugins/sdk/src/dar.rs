//! Danish addresses (DAR), granted with `dar = true`. The operator picks the provider (a
//! DAWA-compatible service, an offline table, or off); answers are cached for the run.

pub use crate::bindings::moport::host::dar::{Address, get, lookup_text};
