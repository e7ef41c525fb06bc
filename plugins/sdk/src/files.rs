//! Files in the plugin's own output folder. Paths are relative, use `/`, and may not contain
//! `..`.

use crate::CallError;

capabilities! { files:
    /// Writes a whole file atomically, replacing an earlier one.
    pub fn write(path: &str, contents: &[u8]) -> Result<(), CallError>;
    pub fn read(path: &str) -> Result<Vec<u8>, CallError>;
    /// Names in a folder ("" for the output folder), sorted; folders end in `/`.
    pub fn list(dir: &str) -> Result<Vec<String>, CallError>;
    pub fn remove(path: &str) -> Result<(), CallError>;
}
