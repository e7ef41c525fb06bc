//! Files on remote targets that plugins.toml names (`[targets.NAME]`, granted with
//! `remote = ["NAME"]`). The host holds the address and the credentials; writes appear whole or
//! not at all.

pub use crate::bindings::moport::host::remote::{Entry, list, read, remove, rename, write};
