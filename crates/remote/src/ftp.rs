//! FTP and explicit FTPS targets (suppaftp over rustls): AUTH TLS, PBSZ 0, PROT P, passive mode,
//! binary transfers. One connection per operation, as plan2learn's server wants; transient
//! failures are tried again.

use super::Failure;
use moport_fs::{is_partial, partial_name};
use moport_manifest::FtpSpec;
use moport_types::{CallError, Entry};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use suppaftp::list::ListParser;
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::tokio_rustls::rustls;
use suppaftp::types::FileType;
use suppaftp::{FtpError, Status};
use tokio::io::AsyncReadExt;

/// How long a polite QUIT may take; the connection is dropped either way.
const QUIT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct FtpTarget {
    name: String,
    spec: FtpSpec,
    tls: OnceLock<Result<Arc<rustls::ClientConfig>, String>>,
}

impl FtpTarget {
    pub fn new(name: &str, spec: FtpSpec) -> FtpTarget {
        FtpTarget { name: name.to_owned(), spec, tls: OnceLock::new() }
    }

    pub fn spec(&self) -> &FtpSpec {
        &self.spec
    }

    /// Where the target is: for the operator, never for a plugin.
    pub fn address(&self) -> String {
        let scheme = if self.spec.tls { "ftps" } else { "ftp" };
        format!("{scheme}://{}@{}:{}", self.spec.user, self.spec.host, self.spec.port)
    }

    fn place(&self) -> String {
        format!("target `{}` ({})", self.name, self.address())
    }

    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, Failure> {
        self.tls
            .get_or_init(|| tls_config(&self.spec))
            .clone()
            .map_err(|problem| Failure::Fatal(CallError::Unavailable(format!("{}: {problem}", self.place()))))
    }

    /// A logged-in connection in the target's folder.
    async fn connect(&self) -> Result<AsyncRustlsFtpStream, Failure> {
        let timeout = self.spec.timeout;
        let address = (self.spec.host.as_str(), self.spec.port);
        let connected = tokio::time::timeout(timeout, AsyncRustlsFtpStream::connect(address))
            .await
            .map_err(|_| Failure::Transient(format!("no connection within {timeout:?}")))?;
        let mut stream = connected.map_err(|err| self.classify(err, "connect"))?;
        // Use the control connection's address for data, as Python's ftplib does: a server behind
        // NAT may announce a private one, and a hostile one could send the upload elsewhere.
        stream.set_passive_nat_workaround(true);
        if self.spec.tls {
            if self.spec.insecure_skip_verify {
                tracing::warn!(
                    remote = self.name.as_str(),
                    "the server's certificate is not verified (insecure_skip_verify)"
                );
            }
            let connector = AsyncRustlsConnector::from(suppaftp::tokio_rustls::TlsConnector::from(self.tls_config()?));
            stream =
                stream.into_secure(connector, &self.spec.host).await.map_err(|err| self.classify(err, "AUTH TLS"))?;
        }
        stream
            .login(self.spec.user.as_str(), self.spec.password.expose())
            .await
            .map_err(|err| self.classify(err, "login"))?;
        stream.transfer_type(FileType::Binary).await.map_err(|err| self.classify(err, "TYPE I"))?;
        if !self.spec.folder.is_empty() {
            stream.cwd(&self.spec.folder).await.map_err(|err| self.classify(err, "CWD"))?;
        }
        Ok(stream)
    }

    /// Sorts a failure: lost connections, timeouts and 4xx replies pass; the rest do not.
    fn classify(&self, err: FtpError, step: &str) -> Failure {
        match err {
            FtpError::ConnectionError(io) => Failure::Transient(format!("{step}: {io}")),
            FtpError::BadResponse => Failure::Transient(format!("{step}: a garbled reply")),
            FtpError::UnexpectedResponse(reply) => {
                let code = reply.status.code();
                let text = reply.as_string().unwrap_or_default().trim().to_owned();
                if (400..500).contains(&code) {
                    Failure::Transient(format!("{step}: {text}"))
                } else if reply.status == Status::NotLoggedIn {
                    Failure::Fatal(CallError::Denied(format!(
                        "{}: the server refused the login ({text}); check the user and password",
                        self.place()
                    )))
                } else if reply.status == Status::FileUnavailable {
                    Failure::Fatal(CallError::NotFound(format!("{}: {step}: {text}", self.place())))
                } else {
                    Failure::Fatal(CallError::Unavailable(format!("{}: {step}: {text}", self.place())))
                }
            }
            // A TLS stream garbled on the way (rustls's "received corrupt message") is like a
            // garbled reply: a fresh connection usually gets a good one. Certificate errors stay final.
            FtpError::SecureError(text) if text.contains("received corrupt message") => {
                Failure::Transient(format!("{step}: {text}"))
            }
            other => Failure::Fatal(CallError::Unavailable(format!("{}: {step}: {other}", self.place()))),
        }
    }

    /// Runs one operation on a fresh connection, trying again after transient failures.
    async fn with_retries<T, F, Fut>(&self, what: &str, attempt: F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        super::with_retries(&self.name, &self.place(), what, self.spec.timeout, attempt).await
    }

    pub async fn list(&self, dir: &str) -> Result<Vec<Entry>, CallError> {
        self.with_retries(&super::listing(dir), || async {
            let mut stream = self.connect().await?;
            let lines =
                stream.list((!dir.is_empty()).then_some(dir)).await.map_err(|err| self.classify(err, "LIST"))?;
            quit(stream).await;
            entries(&lines).map_err(|problem| {
                Failure::Fatal(CallError::Unavailable(format!("{}: {}: {problem}", self.place(), super::listing(dir))))
            })
        })
        .await
    }

    /// At most `max + 1` bytes of the file: more than `max` means it is larger than that, and the
    /// transfer is dropped there.
    pub async fn read(&self, path: &str, max: u64) -> Result<Option<Vec<u8>>, CallError> {
        self.with_retries(&format!("reading `{path}`"), || async {
            let mut stream = self.connect().await?;
            let mut transfer = stream.retr_as_stream(path).await.map_err(|err| self.classify(err, "RETR"))?;
            let mut bytes = Vec::new();
            (&mut transfer)
                .take(max + 1)
                .read_to_end(&mut bytes)
                .await
                .map_err(|err| Failure::Transient(format!("RETR: {err}")))?;
            if bytes.len() as u64 > max {
                // Larger than the reader may hold: the rest is not fetched.
                return Ok(None);
            }
            transfer.finish().await.map_err(|err| self.classify(err, "RETR"))?;
            quit(stream).await;
            Ok(Some(bytes))
        })
        .await
    }

    /// Stores under a hidden temporary name, then renames into place: a reader never sees half a
    /// file under the final name, whatever happens to the connection. The rename goes over a new
    /// connection, as some servers stop answering after an upload.
    pub async fn write(&self, path: &str, contents: &[u8]) -> Result<(), CallError> {
        let partial = partial_name(path);
        self.with_retries(&format!("uploading `{path}`"), || async {
            let mut stream = self.connect().await?;
            let mut reader = contents;
            stream.put_file(&partial, &mut reader).await.map_err(|err| self.classify(err, "STOR"))?;
            quit(stream).await;
            let mut stream = self.connect().await?;
            let placed = self.rename_replacing(&mut stream, &partial, path).await;
            if placed.is_err() {
                // Best effort: the uploaded bytes are of no use under the temporary name.
                let _ = stream.rm(partial.as_str()).await;
            }
            quit(stream).await;
            placed
        })
        .await
    }

    pub async fn rename(&self, from: &str, to: &str) -> Result<(), CallError> {
        self.with_retries(&format!("renaming `{from}` to `{to}`"), || async {
            let mut stream = self.connect().await?;
            self.rename_replacing(&mut stream, from, to).await?;
            quit(stream).await;
            Ok(())
        })
        .await
    }

    /// Renames `from` to `to`, replacing a file at `to`. A server that will not rename onto an
    /// existing file says so with 550/553: only then is the old file removed and the rename tried
    /// once more.
    async fn rename_replacing(&self, stream: &mut AsyncRustlsFtpStream, from: &str, to: &str) -> Result<(), Failure> {
        let Err(first) = stream.rename(from, to).await else { return Ok(()) };
        let refused_target = matches!(&first, FtpError::UnexpectedResponse(reply)
            if matches!(reply.status.code(), 550 | 553));
        match refused_target && stream.rm(to).await.is_ok() {
            true => stream.rename(from, to).await.map_err(|err| self.classify(err, "RNFR/RNTO")),
            false => Err(self.classify(first, "RNFR/RNTO")),
        }
    }

    pub async fn remove(&self, path: &str) -> Result<(), CallError> {
        self.with_retries(&format!("removing `{path}`"), || async {
            let mut stream = self.connect().await?;
            stream.rm(path).await.map_err(|err| self.classify(err, "DELE"))?;
            quit(stream).await;
            Ok(())
        })
        .await
    }
}

/// Ends a session politely if the server still answers.
async fn quit(mut stream: AsyncRustlsFtpStream) {
    let _ = tokio::time::timeout(QUIT_TIMEOUT, stream.quit()).await;
}

/// The TLS client settings of a target: the system's trusted certificates, the target's own CA
/// file, or (explicitly) none.
fn tls_config(spec: &FtpSpec) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let config = if spec.insecure_skip_verify {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        rustls::ClientConfig::builder()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else if let Some(file) = &spec.ca_file {
        let mut roots = rustls::RootCertStore::empty();
        let certificates = CertificateDer::pem_file_iter(file)
            .map_err(|err| format!("cannot read the CA file {}: {err}", file.display()))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|err| format!("the CA file {}: {err}", file.display()))?;
            roots.add(certificate).map_err(|err| format!("the CA file {}: {err}", file.display()))?;
        }
        if roots.is_empty() {
            return Err(format!("the CA file {} holds no certificate", file.display()));
        }
        rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth()
    } else {
        use rustls_platform_verifier::ConfigVerifierExt;
        rustls::ClientConfig::with_platform_verifier()
            .map_err(|err| format!("cannot load the system's certificates: {err}"))?
    };
    Ok(Arc::new(config))
}

/// Accepts any server certificate, still checking the handshake signatures: for servers with a
/// self-signed certificate, when the operator says `insecure_skip_verify = true`.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The files and folders (`name/`) of a LIST answer, sorted, symbolic links among the files (the
/// server follows them). A line that cannot be read fails the listing: skipping it would let an
/// importer's bookmark pass a file it never saw.
fn entries(lines: &[String]) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for line in lines.iter().map(|line| line.trim_end()) {
        let is_total = line.strip_prefix("total ").is_some_and(|n| n.trim().chars().all(|c| c.is_ascii_digit()));
        if line.is_empty() || is_total {
            continue;
        }
        // LIST answers in the Unix or the DOS form; the MLSx parser that `File::from_str` also
        // tries takes nearly any text as a file name, so it is not asked.
        let file = ListParser::parse_posix(line)
            .or_else(|_| ListParser::parse_dos(line))
            .map_err(|_| format!("the server listed a line moport cannot read as a file or folder: {line:?}"))?;
        if matches!(file.name(), "." | "..") || is_partial(file.name()) {
            continue;
        }
        let modified = chrono::DateTime::<chrono::Utc>::from(file.modified());
        let (name, size) = match file.is_directory() {
            true => (format!("{}/", file.name()), 0),
            false => (file.name().to_owned(), file.size() as u64),
        };
        entries.push(Entry { name, size, modified: Some(modified.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_holds_files_folders_and_links_and_a_line_it_cannot_read_fails_it() {
        let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
        let listing = lines(
            "total 12\n\
             -rw-r--r-- 1 ftp ftp  120 Mar 01  2026 Org_nye_20260301_000000.csv\n\
             drwxr-xr-x 2 ftp ftp 4096 Mar 01  2026 archive\n\
             lrwxrwxrwx 1 ftp ftp   30 Mar 02  2026 Pers_nye_20260302_000000.csv -> ../in/p.csv\n\
             -rw-r--r-- 1 ftp ftp    5 Mar 02  2026 .a.csv.moport-partial\n",
        );
        let names: Vec<_> = entries(&listing).unwrap().into_iter().map(|entry| entry.name).collect();
        assert_eq!(names, ["Org_nye_20260301_000000.csv", "Pers_nye_20260302_000000.csv", "archive/"]);
        let garbled = lines("-rw-r--r-- 1 ftp ftp 120 Mar 01  2026 a.csv\nsomething odd here\n");
        let err = entries(&garbled).unwrap_err();
        assert!(err.contains("\"something odd here\""), "{err}");
    }

    #[test]
    fn a_garbled_tls_stream_is_tried_again_and_a_bad_certificate_is_not() {
        let target = FtpTarget::new(
            "p2l",
            FtpSpec {
                tls: true,
                host: "localhost".into(),
                port: 21,
                user: "kommune".into(),
                password: moport_manifest::secret::Secret::new("ftp-unit-test-password-51aa"),
                folder: String::new(),
                ca_file: None,
                insecure_skip_verify: false,
                timeout: Duration::from_secs(5),
            },
        );
        let garbled = FtpError::SecureError("received corrupt message of type InvalidContentType".into());
        assert!(matches!(target.classify(garbled, "AUTH TLS"), Failure::Transient(_)));
        let untrusted = FtpError::SecureError("invalid peer certificate: UnknownIssuer".into());
        assert!(matches!(target.classify(untrusted, "AUTH TLS"), Failure::Fatal(CallError::Unavailable(_))));
    }
}
