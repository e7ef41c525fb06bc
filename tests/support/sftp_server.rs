//! An SFTP server on 127.0.0.1 for the tests: russh with an ed25519 host key made here, one
//! user with a password, and an SFTP subsystem serving a local folder.

use russh::server::{Auth, Msg, Server as _, Session};
use russh::{Channel, ChannelId};
use russh_sftp::protocol::{Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version};
use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

pub const USER: &str = "kommune";
pub const PASSWORD: &str = "hemmelig-sftp";

pub struct SftpServer {
    pub port: u16,
    /// A client key the server accepts for USER, as an OpenSSH private key file's text.
    pub client_key: String,
    /// The host key as an OpenSSH public key line, and its `SHA256:` fingerprint.
    pub host_key: String,
    pub fingerprint: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SftpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SftpServer {
    pub async fn start(root: &Path) -> SftpServer {
        let key = russh::keys::PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
        let host_key = key.public_key().to_openssh().unwrap();
        let fingerprint = key.public_key().fingerprint(russh::keys::HashAlg::Sha256).to_string();
        let config = Arc::new(russh::server::Config {
            keys: vec![key],
            auth_rejection_time: Duration::from_millis(10),
            auth_rejection_time_initial: Some(Duration::ZERO),
            inactivity_timeout: Some(Duration::from_secs(30)),
            ..Default::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = russh::keys::PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
        let client_key = client.to_openssh(russh::keys::ssh_key::LineEnding::LF).unwrap().to_string();
        let mut server = Folder { root: root.to_owned(), authorized: client.public_key().clone() };
        let task = tokio::spawn(async move {
            let _ = server.run_on_socket(config, &listener).await;
        });
        SftpServer { port, client_key, host_key, fingerprint, task }
    }
}

#[derive(Clone)]
struct Folder {
    root: PathBuf,
    authorized: russh::keys::PublicKey,
}

impl russh::server::Server for Folder {
    type Handler = Connection;
    fn new_client(&mut self, _: Option<std::net::SocketAddr>) -> Connection {
        Connection { root: self.root.clone(), authorized: self.authorized.clone(), channels: HashMap::new() }
    }
}

struct Connection {
    root: PathBuf,
    authorized: russh::keys::PublicKey,
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(if user == USER && password == PASSWORD { Auth::Accept } else { Auth::reject() })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let known = user == USER && key.public_key.key_data() == self.authorized.key_data();
        Ok(if known { Auth::Accept } else { Auth::reject() })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        session.close(channel)
    }

    async fn subsystem_request(&mut self, id: ChannelId, name: &str, session: &mut Session) -> Result<(), Self::Error> {
        match (name, self.channels.remove(&id)) {
            ("sftp", Some(channel)) => {
                session.channel_success(id)?;
                russh_sftp::server::run(channel.into_stream(), Files::new(self.root.clone())).await;
            }
            _ => session.channel_failure(id)?,
        }
        Ok(())
    }
}

/// The SFTP side: files and folders below `root`.
struct Files {
    root: PathBuf,
    next: u64,
    files: HashMap<String, tokio::fs::File>,
    dirs: HashMap<String, Option<Vec<File>>>,
}

impl Files {
    fn new(root: PathBuf) -> Files {
        Files { root, next: 0, files: HashMap::new(), dirs: HashMap::new() }
    }

    fn resolve(&self, path: &str) -> Result<PathBuf, StatusCode> {
        let mut out = self.root.clone();
        for part in Path::new(path).components() {
            match part {
                Component::Normal(name) => out.push(name),
                Component::RootDir | Component::CurDir => {}
                _ => return Err(StatusCode::PermissionDenied),
            }
        }
        Ok(out)
    }

    fn handle(&mut self) -> String {
        self.next += 1;
        self.next.to_string()
    }
}

fn status(err: std::io::Error) -> StatusCode {
    match err.kind() {
        std::io::ErrorKind::NotFound => StatusCode::NoSuchFile,
        std::io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    }
}

fn ok(id: u32) -> Status {
    Status { id, status_code: StatusCode::Ok, error_message: "Ok".into(), language_tag: "en-US".into() }
}

impl russh_sftp::server::Handler for Files {
    type Error = StatusCode;

    fn unimplemented(&self) -> StatusCode {
        StatusCode::OpUnsupported
    }

    async fn init(&mut self, _: u32, _: HashMap<String, String>) -> Result<Version, StatusCode> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, StatusCode> {
        let full = self.resolve(&path)?;
        let relative = full.strip_prefix(&self.root).unwrap().to_string_lossy().into_owned();
        Ok(Name { id, files: vec![File::dummy(format!("/{relative}"))] })
    }

    async fn open(&mut self, id: u32, name: String, flags: OpenFlags, _: FileAttributes) -> Result<Handle, StatusCode> {
        let options: tokio::fs::OpenOptions = std::fs::OpenOptions::from(flags).into();
        let file = options.open(self.resolve(&name)?).await.map_err(status)?;
        let handle = self.handle();
        self.files.insert(handle.clone(), file);
        Ok(Handle { id, handle })
    }

    async fn read(&mut self, id: u32, handle: String, offset: u64, len: u32) -> Result<Data, StatusCode> {
        let file = self.files.get_mut(&handle).ok_or(StatusCode::Failure)?;
        file.seek(SeekFrom::Start(offset)).await.map_err(status)?;
        let mut data = vec![0; len as usize];
        let n = file.read(&mut data).await.map_err(status)?;
        if n == 0 {
            return Err(StatusCode::Eof);
        }
        data.truncate(n);
        Ok(Data { id, data })
    }

    async fn write(&mut self, id: u32, handle: String, offset: u64, data: Vec<u8>) -> Result<Status, StatusCode> {
        let file = self.files.get_mut(&handle).ok_or(StatusCode::Failure)?;
        file.seek(SeekFrom::Start(offset)).await.map_err(status)?;
        file.write_all(&data).await.map_err(status)?;
        file.flush().await.map_err(status)?;
        Ok(ok(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, StatusCode> {
        if let Some(mut file) = self.files.remove(&handle) {
            file.flush().await.map_err(status)?;
        }
        self.dirs.remove(&handle);
        Ok(ok(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, StatusCode> {
        let mut listing = tokio::fs::read_dir(self.resolve(&path)?).await.map_err(status)?;
        let mut files = Vec::new();
        while let Some(entry) = listing.next_entry().await.map_err(status)? {
            let meta = entry.metadata().await.map_err(status)?;
            files.push(File::new(entry.file_name().to_string_lossy().into_owned(), FileAttributes::from(&meta)));
        }
        let handle = self.handle();
        self.dirs.insert(handle.clone(), Some(files));
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, StatusCode> {
        match self.dirs.get_mut(&handle) {
            Some(slot) => slot.take().map(|files| Name { id, files }).ok_or(StatusCode::Eof),
            None => Err(StatusCode::Failure),
        }
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, StatusCode> {
        let meta = tokio::fs::metadata(self.resolve(&path)?).await.map_err(status)?;
        Ok(Attrs { id, attrs: FileAttributes::from(&meta) })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, StatusCode> {
        let meta = tokio::fs::symlink_metadata(self.resolve(&path)?).await.map_err(status)?;
        Ok(Attrs { id, attrs: FileAttributes::from(&meta) })
    }

    async fn remove(&mut self, id: u32, name: String) -> Result<Status, StatusCode> {
        tokio::fs::remove_file(self.resolve(&name)?).await.map_err(status)?;
        Ok(ok(id))
    }

    async fn rename(&mut self, id: u32, from: String, to: String) -> Result<Status, StatusCode> {
        tokio::fs::rename(self.resolve(&from)?, self.resolve(&to)?).await.map_err(status)?;
        Ok(ok(id))
    }
}
