//! Files on named remote targets (a local folder, FTP, FTPS, SFTP), for the host: each target
//! knows its address and credentials and tells a plugin neither. One module per backend.

pub mod ftp;
pub mod local;
pub mod sftp;

use moport_manifest::TargetSpec;
use moport_types::paths::remote_path;
use moport_types::{CallError, Entry};

/// One target, ready to use.
pub enum Target {
    Local(local::LocalTarget),
    Ftp(ftp::FtpTarget),
    Sftp(sftp::SftpTarget),
}

impl Target {
    pub fn new(name: &str, spec: &TargetSpec) -> Target {
        match spec {
            TargetSpec::Local { path, create } => Target::Local(local::LocalTarget::new(name, path.clone(), *create)),
            TargetSpec::Ftp(spec) => Target::Ftp(ftp::FtpTarget::new(name, spec.clone())),
            TargetSpec::Sftp(spec) => Target::Sftp(sftp::SftpTarget::new(name, spec.clone())),
        }
    }

    /// Where the target is (a URL without the password, or a folder).
    pub fn address(&self) -> String {
        match self {
            Target::Local(target) => target.address(),
            Target::Ftp(target) => target.address(),
            Target::Sftp(target) => target.address(),
        }
    }

    /// What of the target only the operator may see: where it is and who logs in to it, and
    /// the host's files it uses (CA file, private key).
    fn operator_only(&self) -> Vec<String> {
        let file = |path: &Option<std::path::PathBuf>| path.as_ref().map(|path| path.display().to_string());
        // A TLS library names the host in a certificate error; a bare name without a dot
        // (`localhost`, `ftp`) is left, as it could stand for an ordinary word.
        let host = |host: &str| (host.contains('.') || host.contains(':')).then(|| host.to_owned());
        let mut hidden = vec![self.address()];
        hidden.extend(
            match self {
                Target::Local(_) => vec![],
                Target::Ftp(target) => vec![host(&target.spec().host), file(&target.spec().ca_file)],
                Target::Sftp(target) => vec![host(&target.spec().host), file(&target.spec().private_key)],
            }
            .into_iter()
            .flatten(),
        );
        hidden.retain(|text| !text.is_empty());
        hidden
    }

    /// `err` as a plugin may see it: naming the target and the path inside it, not where the
    /// target is, who logs in to it, or the host's files it uses (`check` and the log show
    /// the operator all of it).
    pub fn for_plugin(&self, err: CallError) -> CallError {
        let hidden = self.operator_only();
        let hide = |mut message: String| {
            for text in &hidden {
                message = message.replace(&format!(" ({text})"), "").replace(text, "(not shown)");
            }
            message
        };
        match err {
            CallError::Denied(message) => CallError::Denied(hide(message)),
            CallError::Invalid(message) => CallError::Invalid(hide(message)),
            CallError::NotFound(message) => CallError::NotFound(hide(message)),
            CallError::Unavailable(message) => CallError::Unavailable(hide(message)),
        }
    }

    /// What `moport check` says of the target: logged in, or the folder writable.
    pub async fn probe(&self) -> Result<String, CallError> {
        match self {
            Target::Local(target) => target.probe(),
            Target::Ftp(_) | Target::Sftp(_) => {
                let files = |entries: Vec<Entry>| entries.iter().filter(|entry| !entry.name.ends_with('/')).count();
                self.list("").await.map(|entries| format!("logged in, {} files in its folder", files(entries)))
            }
        }
    }

    pub async fn list(&self, dir: &str) -> Result<Vec<Entry>, CallError> {
        let dir = remote_path(dir, true)?;
        match self {
            Target::Local(target) => target.list(&dir),
            Target::Ftp(target) => target.list(&dir).await,
            Target::Sftp(target) => target.list(&dir).await,
        }
    }

    /// The file, or `None` if it holds more than `max` bytes: a file larger than the reader
    /// may hold is never brought in whole (a local one not at all, a remote one no further
    /// than `max + 1` bytes).
    pub async fn read(&self, path: &str, max: u64) -> Result<Option<Vec<u8>>, CallError> {
        let path = remote_path(path, false)?;
        match self {
            Target::Local(target) => target.read(&path, max),
            Target::Ftp(target) => target.read(&path, max).await,
            Target::Sftp(target) => target.read(&path, max).await,
        }
    }

    /// Writes under a temporary name and renames it into place.
    pub async fn write(&self, path: &str, contents: &[u8]) -> Result<(), CallError> {
        let path = remote_path(path, false)?;
        match self {
            Target::Local(target) => target.write(&path, contents),
            Target::Ftp(target) => target.write(&path, contents).await,
            Target::Sftp(target) => target.write(&path, contents).await,
        }
    }

    pub async fn rename(&self, from: &str, to: &str) -> Result<(), CallError> {
        let (from, to) = (remote_path(from, false)?, remote_path(to, false)?);
        match self {
            Target::Local(target) => target.rename(&from, &to),
            Target::Ftp(target) => target.rename(&from, &to).await,
            Target::Sftp(target) => target.rename(&from, &to).await,
        }
    }

    pub async fn remove(&self, path: &str) -> Result<(), CallError> {
        let path = remote_path(path, false)?;
        match self {
            Target::Local(target) => target.remove(&path),
            Target::Ftp(target) => target.remove(&path).await,
            Target::Sftp(target) => target.remove(&path).await,
        }
    }
}

/// Why one try of an operation failed, and whether another may succeed.
pub enum Failure {
    Transient(String),
    Fatal(CallError),
}

/// Tries per operation, the first included, and the wait after the first failure (doubling).
const ATTEMPTS: u32 = 3;
const FIRST_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// One try of an operation may take this many times the target's (connect) timeout: a server
/// that stops answering mid-transfer is given up on and tried again.
const TRY_TIMEOUT_FACTOR: u32 = 10;

/// Runs `attempt` until it succeeds, fails for good, or has failed `ATTEMPTS` times; each try
/// may take `TRY_TIMEOUT_FACTOR` times the target's timeout. `place` names the target in the
/// final error.
pub async fn with_retries<T, F, Fut>(
    target: &str,
    place: &str,
    what: &str,
    timeout: std::time::Duration,
    mut attempt: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let try_limit = timeout * TRY_TIMEOUT_FACTOR;
    let mut last = String::new();
    for n in 1..=ATTEMPTS {
        if n > 1 {
            let delay = FIRST_DELAY * 2u32.pow(n - 2);
            // `remote`, not `target`: a JSON log line has a `target` of its own.
            tracing::warn!(remote = target, "{what} failed ({last}); trying again in {delay:?}");
            tokio::time::sleep(delay).await;
        }
        match tokio::time::timeout(try_limit, attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(Failure::Fatal(err))) => return Err(err),
            Ok(Err(Failure::Transient(problem))) => last = problem,
            Err(_) => last = format!("no answer within {try_limit:?}"),
        }
    }
    Err(CallError::Unavailable(format!("{place}: {what} failed after {ATTEMPTS} tries; the last failure: {last}")))
}

/// What listing `dir` is called in a failure.
pub fn listing(dir: &str) -> String {
    if dir.is_empty() { "listing its folder".to_owned() } else { format!("listing `{dir}`") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_is_told_the_target_and_the_path_not_where_the_target_is() {
        let spec = moport_manifest::targets::FtpSpec {
            tls: true,
            host: "ftp.example.dk".into(),
            port: 21,
            user: "kommune".into(),
            password: moport_manifest::secret::Secret::new("remote-unit-test-password-9c2d"),
            folder: String::new(),
            ca_file: None,
            insecure_skip_verify: false,
            timeout: std::time::Duration::from_secs(5),
        };
        let ftps = Target::Ftp(ftp::FtpTarget::new("los", spec));
        let told = ftps.for_plugin(CallError::Unavailable(
            "target `los` (ftps://kommune@ftp.example.dk:21): reading `a.csv` failed after 3 tries".into(),
        ));
        assert!(
            matches!(&told, CallError::Unavailable(m) if m == "target `los`: reading `a.csv` failed after 3 tries")
        );
        let spec = moport_manifest::targets::FtpSpec {
            ca_file: Some("/etc/moport/los-ca.pem".into()),
            ..match &ftps {
                Target::Ftp(target) => target.spec().clone(),
                _ => unreachable!(),
            }
        };
        let with_ca = Target::Ftp(ftp::FtpTarget::new("los", spec));
        let told = with_ca.for_plugin(CallError::Unavailable(
            "target `los` (ftps://kommune@ftp.example.dk:21): cannot read the CA file /etc/moport/los-ca.pem: \
             No such file or directory (os error 2)"
                .into(),
        ));
        let CallError::Unavailable(message) = told else { panic!("still unavailable") };
        assert_eq!(
            message,
            "target `los`: cannot read the CA file (not shown): No such file or directory (os error 2)"
        );
        let told = with_ca.for_plugin(CallError::Unavailable(
            "target `los` (ftps://kommune@ftp.example.dk:21): AUTH TLS: invalid peer certificate: certificate \
             not valid for name \"ftp.example.dk\""
                .into(),
        ));
        let CallError::Unavailable(message) = told else { panic!("still unavailable") };
        assert!(!message.contains("example"), "{message}");

        let folder = tempfile::tempdir().unwrap();
        let local = local::LocalTarget::new("archive", folder.path().to_owned(), false);
        let Err(CallError::NotFound(message)) = local.read("missing.csv", 1024) else { panic!("it is missing") };
        assert_eq!(message, "target `archive`: `missing.csv` does not exist");
    }
}
