//! `[targets.NAME]`: remote places plugins write files to and read them from. The host holds
//! addresses and credentials; a plugin only names a target its grants list.

use super::units::Span;
use crate::secret::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A target, as plugins.toml describes it, with paths resolved and the password read.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// A folder on this machine (or a share mounted on it); with `create`, made when missing,
    /// else a missing folder is an error (an unmounted share must not fill the local disk).
    Local { path: PathBuf, create: bool },
    /// An FTP server; with `tls`, explicit FTPS (AUTH TLS, PBSZ 0, PROT P).
    Ftp(FtpSpec),
    /// An SFTP server, its host key pinned.
    Sftp(SftpSpec),
}

#[derive(Debug, Clone)]
pub struct SftpSpec {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Log in with this private key (OpenSSH format, without a passphrase), then, if the server
    /// asks for more or there is no key, with this password (as DIPEX's LOS importer sends both).
    pub password: Option<Secret>,
    pub private_key: Option<PathBuf>,
    /// The server's host key: an OpenSSH public key line (`ssh-ed25519 AAAA...`) or its
    /// `SHA256:...` fingerprint. There is no trust on first use.
    pub host_key: String,
    pub folder: String,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct FtpSpec {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    /// Folder on the server, relative to the login folder; empty for the login folder.
    pub folder: String,
    /// Trust these certificates (PEM) instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate (for a self-signed one); warned about on every connection.
    pub insecure_skip_verify: bool,
    pub timeout: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub(super) enum TargetEntry {
    Local {
        path: PathBuf,
        #[serde(default)]
        create: bool,
    },
    Ftp(ServerEntry),
    Ftps(ServerEntry),
    Sftp(ServerEntry),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServerEntry {
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    /// The password, in plugins.toml itself (keep that file private), or ...
    password: Option<Secret>,
    /// ... the environment variable that holds it.
    password_env: Option<String>,
    #[serde(default)]
    folder: String,
    ca_file: Option<PathBuf>,
    #[serde(default)]
    insecure_skip_verify: bool,
    timeout: Option<Span>,
    /// sftp: a private key file to log in with instead of a password.
    private_key: Option<PathBuf>,
    /// sftp: the server's public key line or `SHA256:` fingerprint.
    host_key: Option<String>,
    /// Host, user and password from DIPEX's settings.json, by key; values in plugins.toml and
    /// `password_env` win.
    settings_from: Option<SettingsKeys>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingsKeys {
    file: PathBuf,
    host: Option<String>,
    user: Option<String>,
    password: Option<String>,
}

impl TargetEntry {
    /// Resolves paths against `base` and reads the password; errors name the target and the key.
    pub(super) fn resolve(
        self,
        name: &str,
        base: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<TargetSpec, String> {
        let (kind, entry) = match self {
            TargetEntry::Local { path, create } => return Ok(TargetSpec::Local { path: base.join(path), create }),
            TargetEntry::Ftp(entry) => ("ftp", entry),
            TargetEntry::Ftps(entry) => ("ftps", entry),
            TargetEntry::Sftp(entry) => ("sftp", entry),
        };
        let from_file = match &entry.settings_from {
            Some(keys) => {
                let file = base.join(&keys.file);
                let values =
                    super::read_json(&file).map_err(|problem| format!("[targets.{name}] settings_from: {problem}"))?;
                let get = |key: &Option<String>, field: &str| -> Result<Option<String>, String> {
                    let Some(key) = key else { return Ok(None) };
                    match super::lookup(&values, key) {
                        Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
                        Some(_) => {
                            Err(format!("[targets.{name}] settings_from: `{key}` in {} is not text", file.display()))
                        }
                        None => Err(format!(
                            "[targets.{name}] settings_from: {} has no `{key}` (for the target's {field})",
                            file.display()
                        )),
                    }
                };
                (get(&keys.host, "host")?, get(&keys.user, "user")?, get(&keys.password, "password")?)
            }
            None => (None, None, None),
        };
        let password = match (entry.password, entry.password_env) {
            (Some(_), Some(_)) => return Err(format!("[targets.{name}]: give `password` or `password_env`, not both")),
            (Some(password), None) => Some(password),
            (None, Some(var)) => {
                Some(Secret::new(env(&var).ok_or_else(|| {
                    format!("[targets.{name}] password_env: the environment variable {var} is not set")
                })?))
            }
            (None, None) => from_file.2.map(Secret::new),
        };
        let host = entry.host.or(from_file.0).ok_or_else(|| format!("[targets.{name}]: `host` is required"))?;
        let user = entry.user.or(from_file.1).ok_or_else(|| format!("[targets.{name}]: `user` is required"))?;
        let folder = entry.folder.trim_matches('/').to_owned();
        let timeout = entry.timeout.map_or(Duration::from_secs(30), |span| span.0);
        if kind == "sftp" {
            if entry.ca_file.is_some() || entry.insecure_skip_verify {
                return Err(format!(
                    "[targets.{name}]: `ca_file` and `insecure_skip_verify` apply to kind = \"ftps\" only"
                ));
            }
            if password.is_none() && entry.private_key.is_none() {
                return Err(format!(
                    "[targets.{name}]: give a password (`password`, `password_env`, `settings_from`), a `private_key`, or both"
                ));
            }
            let host_key = entry.host_key.ok_or_else(|| {
                format!("[targets.{name}]: `host_key` is required: the server's public key line (`ssh-ed25519 AAAA...`) or its `SHA256:...` fingerprint, as `ssh-keyscan` or the server's administrator gives it")
            })?;
            return Ok(TargetSpec::Sftp(SftpSpec {
                host,
                port: entry.port.unwrap_or(22),
                user,
                password,
                private_key: entry.private_key.map(|file| base.join(file)),
                host_key,
                folder,
                timeout,
            }));
        }
        if entry.private_key.is_some() || entry.host_key.is_some() {
            return Err(format!("[targets.{name}]: `private_key` and `host_key` apply to kind = \"sftp\" only"));
        }
        let tls = kind == "ftps";
        let password = password.ok_or_else(|| {
            format!("[targets.{name}]: `password`, `password_env` or a `settings_from` password key is required")
        })?;
        if !tls && (entry.ca_file.is_some() || entry.insecure_skip_verify) {
            return Err(format!(
                "[targets.{name}]: `ca_file` and `insecure_skip_verify` apply to kind = \"ftps\" only"
            ));
        }
        if entry.ca_file.is_some() && entry.insecure_skip_verify {
            return Err(format!("[targets.{name}]: give `ca_file` or `insecure_skip_verify`, not both"));
        }
        Ok(TargetSpec::Ftp(FtpSpec {
            tls,
            host,
            port: entry.port.unwrap_or(21),
            user,
            password,
            folder,
            ca_file: entry.ca_file.map(|file| base.join(file)),
            insecure_skip_verify: entry.insecure_skip_verify,
            timeout,
        }))
    }
}
