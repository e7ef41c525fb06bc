//! The importer's settings. DIPEX's keys (`integrations.aarhus_los.*`) are kept where the meaning
//! is the same; the server, login and key live in the host's remote target, which `source` names.

use crate::uuids::AZID_SYSTEM;
use moport_sdk::uuid;
use serde_json::Value;
use std::fmt;

/// The remote target (in the host's settings) the LOS files are read from.
pub const SOURCE: &str = "source";
/// The folder on that target; empty is the target's own folder.
pub const FTP_FOLDER: &str = "integrations.aarhus_los.ftp_folder";
pub const AZID_IT_SYSTEM: &str = "integrations.aarhus_los.azid_it_system_uuid";
/// Where on the target the DAR failure lists go, relative to the folder above.
pub const DAR_FAILURES_FOLDER: &str = "dar_failures_folder";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub source: String,
    pub ftp_folder: String,
    /// The IT system of the AZ IT users; DIPEX's own AZ system unless set.
    pub azid_it_system: String,
    pub dar_failures_folder: String,
}

/// A setting that is missing or unusable; the message names the key and what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Settings {
    /// Reads the settings through `get` (the plugin's settings, key by key).
    pub fn read(get: impl Fn(&str) -> Option<Value>) -> Result<Settings, ConfigError> {
        let text = |key: &str| -> Result<Option<String>, ConfigError> {
            match get(key) {
                Some(Value::String(text)) => Ok(Some(text.trim().to_owned())),
                Some(Value::Null) | None => Ok(None),
                Some(other) => Err(ConfigError(format!("setting `{key}` must be text, found {other}"))),
            }
        };
        let source = text(SOURCE)?.filter(|name| !name.is_empty()).ok_or_else(|| {
            ConfigError(format!(
                "setting `{SOURCE}` is required: the name of the remote target (in the host's settings) the LOS files are read from"
            ))
        })?;
        let azid_it_system = match text(AZID_IT_SYSTEM)? {
            None => AZID_SYSTEM.to_owned(),
            Some(uuid) => uuid::normalize(&uuid).ok_or_else(|| {
                ConfigError(format!(
                    "setting `{AZID_IT_SYSTEM}`: {uuid:?} is not a UUID; write the IT system's UUID as 8-4-4-4-12 hex digits, or leave the setting out for DIPEX's AZ system {AZID_SYSTEM}"
                ))
            })?,
        };
        // A folder the target cannot take would only show as an ERROR line after the import;
        // refused here, before any work.
        let folder = |key: &str, default: &str| -> Result<String, ConfigError> {
            let folder = text(key)?.unwrap_or_else(|| default.to_owned());
            let escapes = folder.split('/').any(|part| part == "..");
            if folder.starts_with('/') || folder.contains('\\') || escapes {
                return Err(ConfigError(format!(
                    "setting `{key}`: {folder:?} must be a folder inside the target, written relative to it \
                     with `/` and without `..` (for example \"DARfejlliste\")"
                )));
            }
            Ok(folder.trim_end_matches('/').to_owned())
        };
        Ok(Settings {
            source,
            ftp_folder: folder(FTP_FOLDER, "")?,
            azid_it_system,
            dar_failures_folder: folder(DAR_FAILURES_FOLDER, "DARfejlliste")?,
        })
    }

    /// Where a DAR failure list goes on the target (DIPEX: `DARfejlliste` inside `ftp_folder`);
    /// `None` when `dar_failures_folder` is empty.
    pub fn failure_list_path(&self, file_name: &str) -> Option<String> {
        let folder = self.dar_failures_folder.as_str();
        match (self.ftp_folder.as_str(), folder) {
            (_, "") => None,
            ("", folder) => Some(format!("{folder}/{file_name}")),
            (base, folder) => Some(format!("{base}/{folder}/{file_name}")),
        }
    }

    /// DIPEX creates its AZ IT system only when the setting is left at its default.
    pub fn uses_default_az_system(&self) -> bool {
        self.azid_it_system == AZID_SYSTEM
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, Value)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, Value> = pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        Settings::read(|key| map.get(key).cloned())
    }

    #[test]
    fn defaults_are_dipex_defaults() {
        let read = settings(&[(SOURCE, json!("aak-sftp"))]).unwrap();
        assert_eq!(
            read,
            Settings {
                source: "aak-sftp".to_owned(),
                ftp_folder: String::new(),
                azid_it_system: AZID_SYSTEM.to_owned(),
                dar_failures_folder: "DARfejlliste".to_owned(),
            }
        );
        assert!(read.uses_default_az_system());
    }

    #[test]
    fn every_setting_can_be_set() {
        let read = settings(&[
            (SOURCE, json!("aak")),
            (FTP_FOLDER, json!("TEST")),
            (AZID_IT_SYSTEM, json!("AAAAAAAA-0000-0000-0000-000000000001")),
            (DAR_FAILURES_FOLDER, json!("fejl")),
        ])
        .unwrap();
        assert_eq!(read.azid_it_system, "aaaaaaaa-0000-0000-0000-000000000001");
        assert!(!read.uses_default_az_system());
        assert_eq!((read.ftp_folder.as_str(), read.dar_failures_folder.as_str()), ("TEST", "fejl"));
        assert_eq!(read.failure_list_path("failed_addr_x.csv").as_deref(), Some("TEST/fejl/failed_addr_x.csv"));
        let no_lists = settings(&[(SOURCE, json!("aak")), (DAR_FAILURES_FOLDER, json!(""))]).unwrap();
        assert_eq!(no_lists.failure_list_path("failed_addr_x.csv"), None);
    }

    #[test]
    fn errors_name_the_key_and_what_is_expected() {
        assert!(settings(&[]).unwrap_err().0.contains("setting `source` is required: the name of the remote target"));
        assert!(settings(&[(SOURCE, json!(""))]).unwrap_err().0.contains("`source` is required"));
        let bad_uuid = settings(&[(SOURCE, json!("aak")), (AZID_IT_SYSTEM, json!("AZ"))]).unwrap_err();
        assert!(
            bad_uuid.0.contains("`integrations.aarhus_los.azid_it_system_uuid`: \"AZ\" is not a UUID"),
            "{bad_uuid}"
        );
        for escaping in ["../../escape", "/srv/los", "a/../../b", "a\\b"] {
            let refused = settings(&[(SOURCE, json!("aak")), (DAR_FAILURES_FOLDER, json!(escaping))]).unwrap_err();
            assert!(refused.0.contains("`dar_failures_folder`") && refused.0.contains("without `..`"), "{refused}");
        }
        assert!(settings(&[(SOURCE, json!("aak")), (FTP_FOLDER, json!("/TEST"))]).is_err());
        let not_text = settings(&[(SOURCE, json!("aak")), (FTP_FOLDER, json!(7))]).unwrap_err();
        assert_eq!(not_text.0, "setting `integrations.aarhus_los.ftp_folder` must be text, found 7");
    }
}
