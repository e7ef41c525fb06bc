//! The `moport` binary as an operator runs it: in a work folder, its own cache of precompiled
//! plugins there, and no plugins.toml or log filter from the caller's shell.

use std::path::Path;
use std::process::Command;

/// `moport` to run in `dir`, for the caller to give arguments and environment, then run or spawn.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_moport"));
    command
        .current_dir(dir)
        .env("MOPORT_CACHE_DIR", dir.join("cache"))
        .env("MOPORT_CACHE_KEY", dir.join("cache.key"))
        .env_remove("MOPORT_CONFIG")
        .env_remove("MOPORT_LOG");
    command
}

/// Runs `moport ARGS` in `dir` with `env`, off the async runtime; exit code, stdout, stderr.
pub async fn moport(dir: &Path, env: Vec<(&'static str, String)>, args: &[&str]) -> (i32, String, String) {
    let mut command = command(dir);
    command.envs(env).args(args);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}
