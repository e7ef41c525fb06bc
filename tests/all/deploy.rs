//! The recipes in deploy/ (docs/deploy.md), checked as far as this machine allows: the systemd
//! units by systemd itself, the cron line's command by running it, with the paths it names
//! moved into a temporary folder.

use std::path::Path;
use std::process::Command;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const MOPORT: &str = env!("CARGO_BIN_EXE_moport");

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(REPO).join("deploy").join(name)).unwrap()
}

#[test]
fn the_systemd_units_pass_systemd_s_own_check() {
    let dir = tempfile::tempdir().unwrap();
    // systemd checks that the program exists: the test build stands in for the installed one.
    let service = deploy_file("moport-nightly.service").replace("/usr/local/bin/moport", MOPORT);
    assert!(service.contains(&format!("ExecStart={MOPORT} --log-format json run aarhus-los plan2learn")));
    std::fs::write(dir.path().join("moport-nightly.service"), service).unwrap();
    std::fs::write(dir.path().join("moport-nightly.timer"), deploy_file("moport-nightly.timer")).unwrap();
    let out = Command::new("systemd-analyze")
        .current_dir(dir.path())
        .args(["verify", "moport-nightly.service", "moport-nightly.timer"])
        .output()
        .expect("systemd-analyze (Debian's systemd, tests/os2mo/install-deps) runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
}

#[test]
fn the_cron_line_runs_the_job_from_its_secrets_and_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = |path: &str| dir.path().join(path).display().to_string();
    std::fs::create_dir_all(at("etc")).unwrap();
    std::fs::create_dir_all(at("log")).unwrap();
    // The job of the recipe, with plugins that need no MO or servers here: what matters is how
    // cron starts it.
    let entry = |name: &str, out: &str| {
        format!(
            "[plugins.{name}]\ncomponent = \"hello.wasm\"\ngrants = {{ files = \"out/{out}\" }}\n\
             settings = {{ recipient = \"cron\" }}\n"
        )
    };
    let manifest = entry("aarhus-los", "a") + &entry("plan2learn", "b");
    std::fs::write(at("etc/plugins.toml"), manifest).unwrap();
    std::fs::write(at("etc/secrets.env"), "MOPORT_CONFIG_CHECK=from-secrets\n").unwrap();
    let line = deploy_file("crontab").lines().find(|line| line.starts_with("30 2 ")).unwrap().to_owned();
    // `30 2 * * * moport COMMAND`: the schedule's five fields and the user.
    let command = line.splitn(7, ' ').nth(6).unwrap();
    let command = command
        .replace("/etc/moport/secrets.env", &at("etc/secrets.env"))
        .replace("/var/lib/moport/nightly.lock", &at("nightly.lock"))
        .replace("/var/log/moport/nightly.log", &at("log/nightly.log"))
        .replace("/usr/local/bin/moport", MOPORT);
    let out = Command::new("sh")
        .args(["-c", &format!("{command} && test \"$MOPORT_CONFIG_CHECK\" = from-secrets")])
        .current_dir(dir.path())
        .env("MOPORT_CONFIG", at("etc/plugins.toml"))
        .env("MOPORT_CACHE_DIR", at("cache"))
        .env("MOPORT_CACHE_KEY", at("cache.key"))
        .env_remove("MOPORT_LOG")
        .output()
        .unwrap();
    let log = std::fs::read_to_string(at("log/nightly.log")).unwrap_or_default();
    assert!(out.status.success(), "the cron command failed: {}\n{log}", String::from_utf8_lossy(&out.stderr));
    assert!(log.contains("job of 2 plugins:\n  aarhus-los: ok\n  plan2learn: ok\n"), "{log}");
    assert!(Path::new(&at("etc/out/a/hello.txt")).is_file() && Path::new(&at("etc/out/b/hello.txt")).is_file());
}

#[test]
fn the_release_tarball_unpacks_to_an_installed_moport_with_its_manual_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    let packed = Command::new("bash")
        .arg(Path::new(REPO).join("deploy/tarball"))
        .args(["--binary", MOPORT, "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(packed.status.success(), "{}", String::from_utf8_lossy(&packed.stderr));
    let tarball = String::from_utf8(packed.stdout).unwrap().trim().to_owned();
    let prefix = dir.path().join("prefix");
    std::fs::create_dir(&prefix).unwrap();
    let unpacked =
        Command::new("tar").args(["-xzf", &tarball, "--strip-components=1", "-C"]).arg(&prefix).status().unwrap();
    assert!(unpacked.success());
    for file in [
        "share/man/man1/moport-run.1",
        "share/bash-completion/completions/moport",
        "share/zsh/site-functions/_moport",
        "share/fish/vendor_completions.d/moport.fish",
        "share/doc/moport/docs/deploy.md",
    ] {
        assert!(prefix.join(file).is_file(), "{file} is in the tarball");
    }
    assert!(prefix.join("lib/moport/plugins").is_dir());
    // The example plugins.toml runs from where it was unpacked, with the built-in components.
    let out = Command::new(prefix.join("bin/moport"))
        .args(["--config", "share/doc/moport/plugins.toml", "run", "hello"])
        .current_dir(&prefix)
        .env("MOPORT_CACHE_DIR", dir.path().join("cache"))
        .env("MOPORT_CACHE_KEY", dir.path().join("cache.key"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(prefix.join("share/doc/moport/output/hello/hello.txt").is_file());
}
