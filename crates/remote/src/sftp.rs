//! SFTP targets (russh + russh-sftp): the server's host key is checked against the one
//! plugins.toml pins (no trust on first use); login with a password or a private key. One
//! connection per operation; transient failures are tried again.

use super::Failure;
use moport_fs::{is_partial, partial_name};
use moport_manifest::SftpSpec;
use moport_types::{CallError, Entry};
use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::{FileType, StatusCode};
use std::future::Future;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct SftpTarget {
    name: String,
    spec: SftpSpec,
}

/// The pinned host key, and what the server showed when it did not match.
struct HostKeyCheck {
    pinned: String,
    seen: Arc<std::sync::Mutex<Option<String>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(&mut self, offered: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let key = offered.public_key();
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let matches = if self.pinned.starts_with("SHA256:") {
            self.pinned.trim_end_matches('=') == fingerprint
        } else {
            PublicKey::from_openssh(self.pinned.trim()).is_ok_and(|pinned| pinned.key_data() == key.key_data())
        };
        if !matches {
            *self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(fingerprint);
        }
        Ok(matches)
    }
}

/// A logged-in session, closed when dropped.
struct Session {
    sftp: SftpSession,
    handle: client::Handle<HostKeyCheck>,
}

impl SftpTarget {
    pub fn new(name: &str, spec: SftpSpec) -> SftpTarget {
        SftpTarget { name: name.to_owned(), spec }
    }

    pub fn spec(&self) -> &SftpSpec {
        &self.spec
    }

    /// Where the target is: for the operator, never for a plugin.
    pub fn address(&self) -> String {
        format!("sftp://{}@{}:{}", self.spec.user, self.spec.host, self.spec.port)
    }

    fn place(&self) -> String {
        format!("target `{}` ({})", self.name, self.address())
    }

    fn path(&self, path: &str) -> String {
        match (self.spec.folder.is_empty(), path.is_empty()) {
            (true, true) => ".".to_owned(),
            (true, false) => path.to_owned(),
            (false, true) => self.spec.folder.clone(),
            (false, false) => format!("{}/{path}", self.spec.folder),
        }
    }

    async fn connect(&self) -> Result<Session, Failure> {
        let config = Arc::new(client::Config { inactivity_timeout: Some(self.spec.timeout * 2), ..Default::default() });
        let seen = Arc::new(std::sync::Mutex::new(None));
        let check = HostKeyCheck { pinned: self.spec.host_key.clone(), seen: seen.clone() };
        let address = (self.spec.host.as_str(), self.spec.port);
        let connected = tokio::time::timeout(self.spec.timeout, client::connect(config, address, check))
            .await
            .map_err(|_| Failure::Transient(format!("no connection within {:?}", self.spec.timeout)))?;
        let mut handle =
            connected.map_err(|err| match seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
                Some(fingerprint) => Failure::Fatal(CallError::Denied(format!(
                    "{}: the server's host key {fingerprint} is not the one `host_key` pins; if the server's key \
                     really changed, put the new one in plugins.toml",
                    self.place()
                ))),
                None => Failure::Transient(format!("connect: {err}")),
            })?;
        let login = |err: russh::Error| Failure::Transient(format!("login: {err}"));
        let mut authenticated = false;
        if let Some(file) = &self.spec.private_key {
            let key = russh::keys::load_secret_key(file, None).map_err(|err| {
                Failure::Fatal(CallError::Unavailable(format!(
                    "{}: cannot read the private key {}: {err}",
                    self.place(),
                    file.display()
                )))
            })?;
            let hash = handle.best_supported_rsa_hash().await.map_err(login)?;
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash.flatten());
            authenticated = handle.authenticate_publickey(&self.spec.user, key).await.map_err(login)?.success();
        }
        if let (false, Some(password)) = (authenticated, &self.spec.password) {
            authenticated =
                handle.authenticate_password(&self.spec.user, password.expose()).await.map_err(login)?.success();
        }
        if !authenticated {
            return Err(Failure::Fatal(CallError::Denied(format!(
                "{}: the server refused the login; check the user and the password or key",
                self.place()
            ))));
        }
        let channel =
            handle.channel_open_session().await.map_err(|err| Failure::Transient(format!("session: {err}")))?;
        channel.request_subsystem(true, "sftp").await.map_err(|err| Failure::Transient(format!("sftp: {err}")))?;
        let sftp =
            SftpSession::new(channel.into_stream()).await.map_err(|err| Failure::Transient(format!("sftp: {err}")))?;
        Ok(Session { sftp, handle })
    }

    fn classify(&self, err: russh_sftp::client::error::Error, step: &str) -> Failure {
        use russh_sftp::client::error::Error;
        match err {
            Error::Status(status) if status.status_code == StatusCode::NoSuchFile => {
                Failure::Fatal(CallError::NotFound(format!("{}: {step}: no such file", self.place())))
            }
            Error::Status(status) if status.status_code == StatusCode::PermissionDenied => {
                Failure::Fatal(CallError::Denied(format!("{}: {step}: permission denied", self.place())))
            }
            Error::Status(status) => {
                Failure::Fatal(CallError::Unavailable(format!("{}: {step}: {}", self.place(), status.error_message)))
            }
            other => Failure::Transient(format!("{step}: {other}")),
        }
    }

    async fn with_retries<T, F, Fut>(&self, what: &str, attempt: F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        super::with_retries(&self.name, &self.place(), what, self.spec.timeout, attempt).await
    }

    pub async fn list(&self, dir: &str) -> Result<Vec<Entry>, CallError> {
        self.with_retries(&super::listing(dir), || async {
            let session = self.connect().await?;
            let listing = session.sftp.read_dir(self.path(dir)).await.map_err(|err| self.classify(err, "list"))?;
            // Symbolic links are listed as files (the server follows them); a folder's name ends in `/`.
            let mut entries: Vec<Entry> = listing
                .filter(|entry| !matches!(entry.file_name().as_str(), "." | "..") && !is_partial(&entry.file_name()))
                .filter_map(|entry| {
                    let meta = entry.metadata();
                    // The type exactly: a link's mode bits include a regular file's.
                    let (name, size) = match meta.file_type() {
                        FileType::Dir => (format!("{}/", entry.file_name()), 0),
                        FileType::File | FileType::Symlink => (entry.file_name(), meta.len()),
                        FileType::Other => return None,
                    };
                    let modified = meta.mtime.and_then(|seconds| {
                        chrono::DateTime::from_timestamp(i64::from(seconds), 0)
                            .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    });
                    Some(Entry { name, size, modified })
                })
                .collect();
            session.close().await;
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(entries)
        })
        .await
    }

    /// At most `max + 1` bytes of the file: more than `max` means it is larger than that.
    pub async fn read(&self, path: &str, max: u64) -> Result<Option<Vec<u8>>, CallError> {
        self.with_retries(&format!("reading `{path}`"), || async {
            let session = self.connect().await?;
            let file = session.sftp.open(self.path(path)).await.map_err(|err| self.classify(err, "open"))?;
            let mut bytes = Vec::new();
            file.take(max + 1)
                .read_to_end(&mut bytes)
                .await
                .map_err(|err| Failure::Transient(format!("read: {err}")))?;
            session.close().await;
            Ok((bytes.len() as u64 <= max).then_some(bytes))
        })
        .await
    }

    /// Writes a hidden temporary file and renames it into place.
    pub async fn write(&self, path: &str, contents: &[u8]) -> Result<(), CallError> {
        let (partial, target) = (self.path(&partial_name(path)), self.path(path));
        self.with_retries(&format!("uploading `{path}`"), || async {
            let session = self.connect().await?;
            let mut file = session.sftp.create(&partial).await.map_err(|err| self.classify(err, "create"))?;
            file.write_all(contents).await.map_err(|err| Failure::Transient(format!("write: {err}")))?;
            file.shutdown().await.map_err(|err| Failure::Transient(format!("write: {err}")))?;
            let placed = self.rename_replacing(&session, &partial, &target).await;
            if placed.is_err() {
                // Best effort: the uploaded bytes are of no use under the temporary name.
                let _ = session.sftp.remove_file(&partial).await;
            }
            session.close().await;
            placed
        })
        .await
    }

    pub async fn rename(&self, from: &str, to: &str) -> Result<(), CallError> {
        self.with_retries(&format!("renaming `{from}` to `{to}`"), || async {
            let session = self.connect().await?;
            self.rename_replacing(&session, &self.path(from), &self.path(to)).await?;
            session.close().await;
            Ok(())
        })
        .await
    }

    /// Renames `from` to `to`, replacing a file at `to`: SFTP v3 will not rename onto an
    /// existing file on every server, so it is removed first.
    async fn rename_replacing(&self, session: &Session, from: &str, to: &str) -> Result<(), Failure> {
        if session.sftp.try_exists(to).await.unwrap_or(false) {
            session.sftp.remove_file(to).await.map_err(|err| self.classify(err, "remove the old file"))?;
        }
        session.sftp.rename(from, to).await.map_err(|err| self.classify(err, "rename"))
    }

    pub async fn remove(&self, path: &str) -> Result<(), CallError> {
        self.with_retries(&format!("removing `{path}`"), || async {
            let session = self.connect().await?;
            session.sftp.remove_file(self.path(path)).await.map_err(|err| self.classify(err, "remove"))?;
            session.close().await;
            Ok(())
        })
        .await
    }
}

impl Session {
    async fn close(self) {
        let _ = self.sftp.close().await;
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    }
}
