//! Files in the plugin's own output folder. Paths are relative, use `/`, and may not contain
//! `..` or names beginning `.moport-`. The host publishes a run's files as a set when the run
//! succeeds; a failed run leaves the folder as the last successful run left it.

use crate::CallError;

capabilities! { files:
    /// Writes a whole file, replacing an earlier one (when the run's files are published).
    pub fn write(path: &str, contents: &[u8]) -> Result<(), CallError>;
    pub fn read(path: &str) -> Result<Vec<u8>, CallError>;
    /// Names in a folder ("" for the output folder), sorted; folders end in `/`.
    pub fn list(dir: &str) -> Result<Vec<String>, CallError>;
    pub fn remove(path: &str) -> Result<(), CallError>;
}
