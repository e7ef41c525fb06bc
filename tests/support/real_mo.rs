//! A real OS2mo for the tests: MO's own server (the source in `MOPORT_OS2MO_SRC`, by default the
//! tarball in `../shared/os2mo/`), on its own PostgreSQL, trusting a [`TokenIssuer`] on loopback,
//! started once per test binary and reset between tests. Everything runs as this process's
//! children and dies with it.
//!
//! Set-up, all by this file (see `../shared/os2mo/README.md` for why each step is there):
//! - the source is unpacked into the target folder once per tarball;
//! - a Python venv with exactly the "main" pins of MO's `poetry.lock` is built once per lock
//!   (`tests/os2mo/lock_requirements.py`), under the target folder;
//! - PostgreSQL (Debian's binaries, 14 or newer) gets a fresh cluster in a temporary folder on a
//!   free port, with durability off for speed;
//! - MO's migrations run, then uvicorn serves MO on another free port.
//!
//! Without the source, [`RealMo::get`] says how to get it and the test returns early; under
//! `CI=true` a missing or broken MO fails the test instead.

#![allow(dead_code)] // a benchmark that takes this file in uses only part of it

use super::token_issuer::{Client, TokenIssuer, all_roles, read_roles};
use sha2::Digest;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The client with every role an importer needs.
pub const WRITER: (&str, &str) = ("moport", "moport-klient-hemmelighed");
/// A client with only the read roles.
pub const READER: (&str, &str) = ("moport-reader", "laeser-hemmelighed");
/// A client MO knows nothing good about: no roles at all.
pub const NO_ROLES: (&str, &str) = ("moport-uden-roller", "uden-roller-hemmelighed");

pub struct RealMo {
    /// MO's base URL (`mora.base`).
    pub url: String,
    pub issuer: TokenIssuer,
    /// Where MO's and PostgreSQL's logs are, for a failing test to point at.
    pub logs: PathBuf,
    /// Serialises the tests of a binary: they share one database.
    turn: tokio::sync::Mutex<()>,
}

/// One test's use of the real MO, with an empty database. Tests take turns.
pub struct Session {
    pub mo: &'static RealMo,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

static STARTED: OnceLock<Result<RealMo, String>> = OnceLock::new();

impl RealMo {
    /// The real MO, started on first use, or `None` (with the reason printed) where its source
    /// is not on this machine. Panics under `CI=true`, where a test must not skip.
    pub fn get() -> Option<&'static RealMo> {
        match STARTED.get_or_init(start) {
            Ok(mo) => Some(mo),
            Err(problem) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
                panic!("the real OS2mo is needed under CI=true: {problem}")
            }
            Err(problem) => {
                eprintln!("skipped: no real OS2mo: {problem}");
                None
            }
        }
    }

    /// Waits for this test's turn and empties MO's database.
    pub async fn session() -> Option<Session> {
        let mo = RealMo::get()?;
        let turn = mo.turn.lock().await;
        mo.reset().await;
        Some(Session { mo, _turn: turn })
    }

    /// Empties MO's database through its testing API (the root organisation gets a new uuid).
    pub async fn reset(&self) {
        let response = reqwest::Client::new()
            .post(format!("{}/testing/database/reset", self.url))
            .send()
            .await
            .unwrap_or_else(|err| panic!("cannot reset the real MO ({err}); its log: {}", self.logs.display()));
        assert!(response.status().is_success(), "resetting the real MO: HTTP {}", response.status());
    }

    /// The environment `--mo graphql` reads its settings from, for one of the clients.
    pub fn env(&self, (client_id, secret): (&str, &str)) -> Vec<(&'static str, String)> {
        vec![
            ("MORA_BASE", self.url.clone()),
            ("AUTH_SERVER", self.issuer.auth_server()),
            ("CLIENT_ID", client_id.to_owned()),
            ("CLIENT_SECRET", secret.to_owned()),
        ]
    }

    pub fn settings(&self, client: (&str, &str)) -> moport_mo::graphql::settings::GraphqlSettings {
        let env: HashMap<_, _> = self.env(client).into_iter().collect();
        moport_mo::graphql::settings::GraphqlSettings::load(None, |var| env.get(var).cloned()).unwrap()
    }
}

/// Starts everything on a thread of its own that lives as long as the process: the children
/// are told to die with the thread that started them, and the token issuer needs a runtime
/// that outlives each test's.
fn start() -> Result<RealMo, String> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("real-mo".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            let clients = vec![
                Client::new(WRITER.0, WRITER.1, all_roles()),
                Client::new(READER.0, READER.1, read_roles()),
                Client::new(NO_ROLES.0, NO_ROLES.1, Vec::new()),
            ];
            let issuer = runtime.block_on(TokenIssuer::start(clients));
            let started = launch(issuer.addr.port()).map(|(url, logs)| RealMo {
                url,
                issuer,
                logs,
                turn: tokio::sync::Mutex::const_new(()),
            });
            let _ = sender.send(started);
            loop {
                std::thread::park();
            }
        })
        .map_err(|err| format!("cannot start a thread: {err}"))?;
    receiver.recv().map_err(|_| "the real-MO thread died while starting".to_owned())?
}

/// Sets up and starts PostgreSQL and MO; returns MO's URL and the folder of their logs.
fn launch(issuer_port: u16) -> Result<(String, PathBuf), String> {
    let began = Instant::now();
    let source = source()?;
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("os2mo");
    let source = unpacked(&source, &work)?;
    let venv = venv(&source, &work)?;
    let run = fresh_run_dir(&work)?;
    let pg_port = free_port()?;
    start_postgres(&run, pg_port)?;
    let mo_env = mo_environment(&source, pg_port, issuer_port);
    std::fs::create_dir_all("/queries").map_err(|err| {
        format!("MO's migrations list the folder /queries (a volume in MO's image), which cannot be made here: {err}")
    })?;
    let migrated = Command::new(venv.join("bin/alembic"))
        .args(["upgrade", "head"])
        .current_dir(&source)
        .envs(mo_env.iter().map(|(k, v)| (k, v)))
        .output()
        .map_err(|err| format!("cannot run MO's alembic: {err}"))?;
    if !migrated.status.success() {
        return Err(format!("MO's migrations failed: {}", tail(&migrated.stderr)));
    }
    let mo_port = free_port()?;
    let log = run.join("mo.log");
    let mut mo = spawn_child(
        Command::new(venv.join("bin/uvicorn"))
            .args(["--factory", "mora.app:create_app", "--host", "127.0.0.1", "--port", &mo_port.to_string()])
            .current_dir(&source)
            .envs(mo_env.iter().map(|(k, v)| (k, v))),
        &log,
        None,
    )?;
    let url = format!("http://127.0.0.1:{mo_port}");
    wait_until(Duration::from_secs(180), "MO to answer /health/ready", &log, &mut mo, || {
        http_request(mo_port, "GET", "/health/ready", Duration::from_secs(5)).is_some_and(|(status, _)| status == 204)
    })?;
    // The template `reset` copies: MO's migrations applied to an empty database.
    let setup =
        http_request(mo_port, "POST", "/testing/database/setup", Duration::from_secs(120)).map(|(status, _)| status);
    if setup != Some(204) {
        return Err(format!("MO's testing API made no empty template (HTTP {setup:?}); see {}", log.display()));
    }
    // The child is killed with this thread; nothing waits for it.
    std::mem::forget(mo);
    eprintln!("real OS2mo at {url}, ready after {:.1} s; logs in {}", began.elapsed().as_secs_f64(), run.display());
    Ok((url, run))
}

/// MO's source: `MOPORT_OS2MO_SRC` (a folder or a tarball), else the tarball in ../shared/os2mo.
fn source() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("MOPORT_OS2MO_SRC") {
        let path = PathBuf::from(path);
        return match path.exists() {
            true => Ok(path),
            false => Err(format!("MOPORT_OS2MO_SRC names {}, which does not exist", path.display())),
        };
    }
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/os2mo");
    let tarball = std::fs::read_dir(&shared).ok().and_then(|entries| {
        entries
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".tar.gz")))
    });
    tarball.ok_or_else(|| {
        format!(
            "MO's source is not in {} and MOPORT_OS2MO_SRC is not set; set it to an OS2mo 66 backend \
             folder or tarball to run the tests against a real MO",
            shared.display()
        )
    })
}

/// The source as a folder: a tarball is unpacked once into `work`.
fn unpacked(source: &Path, work: &Path) -> Result<PathBuf, String> {
    if source.is_dir() {
        return Ok(source.to_owned());
    }
    let name = source.file_name().unwrap_or_default().to_string_lossy().trim_end_matches(".tar.gz").to_owned();
    let folder = work.join(format!("src-{name}"));
    if folder.join("mora").is_dir() {
        return Ok(folder);
    }
    let partial = work.join(format!("src-{name}.partial-{}", std::process::id()));
    std::fs::create_dir_all(&partial).map_err(|err| format!("cannot make {}: {err}", partial.display()))?;
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(source)
        .arg("-C")
        .arg(&partial)
        .output()
        .map_err(|err| format!("cannot run tar: {err}"))?;
    if !untar.status.success() {
        return Err(format!("cannot unpack {}: {}", source.display(), tail(&untar.stderr)));
    }
    // The tarball holds the tree itself, or one folder with it.
    let root = match partial.join("mora").is_dir() {
        true => partial.clone(),
        false => std::fs::read_dir(&partial)
            .ok()
            .and_then(|mut entries| entries.find_map(|e| e.ok().map(|e| e.path()).filter(|p| p.join("mora").is_dir())))
            .ok_or_else(|| format!("{} holds no OS2mo backend (no mora/ folder)", source.display()))?,
    };
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::rename(&root, &folder).map_err(|err| format!("cannot move the unpacked source into place: {err}"))?;
    let _ = std::fs::remove_dir_all(&partial);
    Ok(folder)
}

/// A venv with the pins of MO's lock file, built once per lock. A venv's scripts name its folder,
/// so it is built where it stays; a stamp file marks it complete.
fn venv(source: &Path, work: &Path) -> Result<PathBuf, String> {
    let lock = std::fs::read(source.join("poetry.lock")).map_err(|err| format!("MO's poetry.lock: {err}"))?;
    let short: String = sha2::Sha256::digest(&lock).iter().take(6).map(|b| format!("{b:02x}")).collect();
    let venv = work.join(format!("venv-{short}"));
    let complete = venv.join("moport-complete");
    if complete.exists() {
        return Ok(venv);
    }
    let _ = std::fs::remove_dir_all(&venv);
    let python = std::env::var("MOPORT_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let run = |command: &mut Command, what: &str| -> Result<Vec<u8>, String> {
        let output = command.output().map_err(|err| format!("cannot {what}: {err}"))?;
        match output.status.success() {
            true => Ok(output.stdout),
            false => Err(format!("cannot {what}: {}", tail(&[output.stdout, output.stderr].concat()))),
        }
    };
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv), &format!("make a venv with {python} (3.11 or newer)"))?;
    let requirements = run(
        Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/os2mo/lock_requirements.py"))
            .arg(source.join("poetry.lock")),
        "read MO's lock file",
    )?;
    std::fs::write(venv.join("requirements.txt"), requirements).map_err(|err| err.to_string())?;
    eprintln!("installing MO's Python packages into {} (once per lock file, about a minute)", venv.display());
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--no-deps", "--disable-pip-version-check", "-r"])
            .arg(venv.join("requirements.txt")),
        "install MO's Python packages from PyPI",
    )?;
    std::fs::write(&complete, "").map_err(|err| err.to_string())?;
    Ok(venv)
}

/// A folder for this process's database and logs; those of processes that are gone are removed.
fn fresh_run_dir(work: &Path) -> Result<PathBuf, String> {
    if let Ok(entries) = std::fs::read_dir(work) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("run-")
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let run = work.join(format!("run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run);
    std::fs::create_dir_all(&run).map_err(|err| format!("cannot make {}: {err}", run.display()))?;
    Ok(run)
}

pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|err| format!("no free port: {err}"))?;
    Ok(listener.local_addr().map_err(|err| err.to_string())?.port())
}

/// The folder of PostgreSQL's server programs: `MOPORT_PG_BIN`, else the newest Debian one.
fn postgres_bin() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("MOPORT_PG_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(version, bin)| *version >= 14 && bin.join("postgres").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "PostgreSQL 14 or newer is not installed (apt-get install postgresql-15 postgresql-contrib), \
         or set MOPORT_PG_BIN to the folder of its `postgres` and `initdb`"
            .to_owned()
    })
}

/// PostgreSQL will not run as root: as root, the server runs as the user `postgres`.
fn postgres_user() -> Result<Option<(u32, u32)>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    // SAFETY: a NUL-terminated name; the returned record is read before any other call.
    let user = unsafe { libc::getpwnam(c"postgres".as_ptr()) };
    if user.is_null() {
        return Err(
            "running as root, PostgreSQL needs the user `postgres` (Debian's postgresql package makes it)".into()
        );
    }
    // SAFETY: checked non-null above.
    let user = unsafe { &*user };
    Ok(Some((user.pw_uid, user.pw_gid)))
}

fn start_postgres(run: &Path, port: u16) -> Result<(), String> {
    let bin = postgres_bin()?;
    let user = postgres_user()?;
    let data = run.join("pgdata");
    std::fs::create_dir_all(&data).map_err(|err| err.to_string())?;
    if let Some((uid, gid)) = user {
        for folder in [run, data.as_path()] {
            std::os::unix::fs::chown(folder, Some(uid), Some(gid))
                .map_err(|err| format!("chown {}: {err}", folder.display()))?;
        }
    }
    let initdb = as_user(Command::new(bin.join("initdb")).arg("-D").arg(&data), user)
        .args(["-U", "mo", "--auth=trust", "--no-sync", "-E", "UTF8"])
        .output()
        .map_err(|err| format!("cannot run initdb: {err}"))?;
    if !initdb.status.success() {
        return Err(format!("initdb failed: {}", tail(&initdb.stderr)));
    }
    let log = run.join("postgres.log");
    let mut server = spawn_child(
        Command::new(bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(run)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=200"]),
        &log,
        user,
    )?;
    let createdb = bin.join("createdb");
    wait_until(Duration::from_secs(60), "PostgreSQL to accept connections", &log, &mut server, || {
        Command::new(&createdb)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "mo", "mo"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })?;
    std::mem::forget(server);
    Ok(())
}

fn as_user(command: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command
}

/// Starts a server that is killed when the thread that started it ends (so with the test binary).
pub fn spawn_child(command: &mut Command, log: &Path, user: Option<(u32, u32)>) -> Result<Child, String> {
    use std::os::unix::process::CommandExt;
    let out = std::fs::File::create(log).map_err(|err| format!("cannot make {}: {err}", log.display()))?;
    let err = out.try_clone().map_err(|err| err.to_string())?;
    let command = as_user(command, user).stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: prctl is async-signal-safe; it runs in the child after the uid change (which
    // would otherwise clear the death signal).
    unsafe {
        command.pre_exec(|| match libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
    command.spawn().map_err(|err| format!("cannot start {:?}: {err}", command.get_program()))
}

pub fn wait_until(
    limit: Duration,
    what: &str,
    log: &Path,
    child: &mut Child,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    let began = Instant::now();
    loop {
        if ready() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read(log).unwrap_or_default();
            return Err(format!("gave up waiting for {what}: it ended ({status}): {}", tail(&text)));
        }
        if began.elapsed() > limit {
            return Err(format!("gave up waiting for {what} after {limit:?}; see {}", log.display()));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The environment MO reads its settings from.
fn mo_environment(source: &Path, pg_port: u16, issuer_port: u16) -> Vec<(String, String)> {
    [
        ("DB_HOST", "127.0.0.1".to_owned()),
        ("DB_NAME", "mo".to_owned()),
        ("DB_USER", "mo".to_owned()),
        ("DB_PASSWORD", "mo".to_owned()),
        // MO builds its database URL without DB_PORT; libpq's variable reaches it.
        ("PGPORT", pg_port.to_string()),
        ("AMQP_ENABLE", "false".to_owned()),
        // Otherwise MO looks addresses up in a public service.
        ("ENABLE_DAR", "false".to_owned()),
        ("ENVIRONMENT", "production".to_owned()),
        ("INSECURE_ENABLE_TESTING_API", "true".to_owned()),
        ("KEYCLOAK_SCHEMA", "http".to_owned()),
        ("KEYCLOAK_HOST", "127.0.0.1".to_owned()),
        ("KEYCLOAK_PORT", issuer_port.to_string()),
        ("KEYCLOAK_REALM", "mo".to_owned()),
        ("ALEMBIC_CONFIG", source.join("alembic.ini").display().to_string()),
        ("PYTHONPATH", source.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The status of a bodiless request to MO on loopback, or `None` without an answer.
/// An HTTP/1.0 request without a body on loopback: the answer's status and body (also the
/// Pushgateway's helper's).
pub fn http_request(port: u16, method: &str, path: &str, timeout: Duration) -> Option<(u16, String)> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_owned();
    Some((status, body))
}

/// The last lines of a program's output, for an error message.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
