//! Files on remote targets that plugins.toml names (`[targets.NAME]`, granted with
//! `remote = ["NAME"]`). The host holds the address and the credentials; writes appear whole or
//! not at all.

use crate::CallError;
pub use crate::bindings::moport::host::remote::Entry;

capabilities! { remote:
    /// The files in a folder of the target ("" for its top folder).
    pub fn list(target: &str, dir: &str) -> Result<Vec<Entry>, CallError>;
    pub fn read(target: &str, path: &str) -> Result<Vec<u8>, CallError>;
    /// Uploads under a temporary name and renames into place.
    pub fn write(target: &str, path: &str, contents: &[u8]) -> Result<(), CallError>;
    pub fn rename(target: &str, from: &str, to: &str) -> Result<(), CallError>;
    pub fn remove(target: &str, path: &str) -> Result<(), CallError>;
}
