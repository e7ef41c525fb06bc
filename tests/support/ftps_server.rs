//! An FTPS server on 127.0.0.1 (libunftp; TLS required on control and data, with a
//! certificate made here by rcgen), serving a folder to one user.

use libunftp::options::FtpsRequired;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, Principal};

/// An FTPS server serving `root`, with its certificate's PEM file for clients to trust.
pub struct FtpsServer {
    pub port: u16,
    pub ca_file: PathBuf,
    task: tokio::task::JoinHandle<()>,
    _certificates: tempfile::TempDir,
}

impl Drop for FtpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts one user and password, and counts the logins tried.
#[derive(Debug, Default)]
pub struct OneUser {
    pub tries: AtomicU64,
}

#[async_trait::async_trait]
impl Authenticator for OneUser {
    async fn authenticate(&self, user: &str, creds: &Credentials) -> Result<Principal, AuthenticationError> {
        self.tries.fetch_add(1, Ordering::SeqCst);
        match (user, creds.password.as_deref()) {
            ("kommune", Some("hemmelig-ftp")) => Ok(Principal { username: user.to_owned() }),
            ("kommune", _) => Err(AuthenticationError::BadPassword),
            _ => Err(AuthenticationError::BadUser),
        }
    }
}

impl FtpsServer {
    /// `passive` must differ between tests running at once.
    pub async fn start(root: &Path, passive: RangeInclusive<u16>) -> FtpsServer {
        FtpsServer::start_with(root, passive, Arc::new(OneUser::default()), true).await
    }

    /// With `tls` false, a plain FTP server (for tests that must see the commands).
    pub async fn start_with(root: &Path, passive: RangeInclusive<u16>, users: Arc<OneUser>, tls: bool) -> FtpsServer {
        let certificates = tempfile::tempdir().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (cert, key) = (certificates.path().join("cert.pem"), certificates.path().join("key.pem"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let root = root.to_path_buf();
        let (cert_path, key_path) = (cert.clone(), key.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let root = root.clone();
                let storage = Box::new(move || unftp_sbe_fs::Filesystem::new(root.clone()).unwrap());
                let mut builder =
                    libunftp::ServerBuilder::with_authenticator(storage, users.clone()).passive_ports(passive.clone());
                if tls {
                    builder = builder
                        .ftps(cert_path.clone(), key_path.clone())
                        .ftps_required(FtpsRequired::All, FtpsRequired::All);
                }
                let server = builder.build().unwrap();
                tokio::spawn(async move {
                    let _ = server.service(socket).await;
                });
            }
        });
        FtpsServer { port, ca_file: cert, task, _certificates: certificates }
    }

    /// plugins.toml lines of an FTPS target for this server.
    pub fn target(&self, name: &str, trust: &str) -> String {
        format!(
            "[targets.{name}]\nkind = \"ftps\"\nhost = \"localhost\"\nport = {}\nuser = \"kommune\"\npassword = \"hemmelig-ftp\"\n{trust}\n",
            self.port
        )
    }
}
