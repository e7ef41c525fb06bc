//! Files in the plugin's own output folder.

use crate::CallError;
use crate::bindings::moport::host::files as host;

/// Writes a whole file atomically, replacing an earlier one.
pub fn write(path: &str, contents: &[u8]) -> Result<(), CallError> {
    host::write(path, contents)
}

pub fn read(path: &str) -> Result<Vec<u8>, CallError> {
    host::read(path)
}

/// Names in a folder ("" for the output folder), sorted; folders end in `/`.
pub fn list(dir: &str) -> Result<Vec<String>, CallError> {
    host::list(dir)
}

pub fn remove(path: &str) -> Result<(), CallError> {
    host::remove(path)
}
