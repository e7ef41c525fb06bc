//! The `moport` binary as an operator runs it: in a work folder, with an environment, its own
//! cache of precompiled plugins there, and no log filter from the caller's shell.

use std::path::Path;

/// Runs `moport ARGS` in `dir` with `env`, off the async runtime; exit code, stdout, stderr.
pub async fn moport(dir: &Path, env: Vec<(&'static str, String)>, args: &[&str]) -> (i32, String, String) {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_moport"))
            .current_dir(&dir)
            .env("MOPORT_CACHE_DIR", dir.join("cache"))
            .env("MOPORT_CACHE_KEY", dir.join("cache.key"))
            .env_remove("MOPORT_LOG")
            .envs(env)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}
