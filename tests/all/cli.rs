//! The `moport` binary as an operator uses it: the shipped plugins.toml, exit codes, log formats.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A copy of the shipped plugins.toml in a fresh folder, so runs write there and not in the repo.
struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn shipped() -> Workdir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(Path::new(REPO).join("plugins.toml"), dir.path().join("plugins.toml")).unwrap();
        Workdir { dir }
    }

    fn with_manifest(text: &str) -> Workdir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plugins.toml"), text).unwrap();
        Workdir { dir }
    }

    /// Runs `moport ARGS`, which must end with exit code `code`; what it printed on stderr.
    fn ends_with(&self, args: &[&str], code: i32) -> String {
        let out = self.moport(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        stderr
    }

    /// Rewrites the shipped plugins.toml with `edit`, which must change it.
    fn edit_shipped(&self, edit: impl Fn(&str) -> String) {
        let shipped = std::fs::read_to_string(Path::new(REPO).join("plugins.toml")).unwrap();
        let edited = edit(&shipped);
        assert_ne!(edited, shipped, "the edit changes plugins.toml");
        std::fs::write(self.path("plugins.toml"), edited).unwrap();
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn moport(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `moport ARGS` in this folder, with a component cache of its own, to run or to spawn.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = crate::support::moport_cli::command(self.dir.path());
        command.args(args);
        command
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_hello_writes_its_file_and_says_where() {
    let work = Workdir::shipped();
    let out = work.moport(&["run", "hello"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("hello: wrote hello.txt"), "{stdout}");
    let folder = work.path("output/hello");
    assert!(stdout.contains(&format!("files in {}", folder.display())), "{stdout}");
    let written = std::fs::read_to_string(folder.join("hello.txt")).unwrap();
    assert!(written.starts_with("Hej, Aarhus Kommune! ("), "{written}");
    assert!(text(&out.stderr).contains("Hej, Aarhus Kommune!"), "the plugin's log line is shown");
}

#[test]
fn a_dry_run_writes_nothing() {
    let work = Workdir::shipped();
    let out = work.moport(&["run", "hello", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("hello: would write hello.txt"));
    assert!(!work.path("output/hello/hello.txt").exists());
}

#[test]
fn inspect_shows_world_wit_version_grants_and_limits() {
    let work = Workdir::shipped();
    let first = text(&work.moport(&["inspect", "hello"]).stdout);
    for expected in [
        "world        exporter",
        "WIT          moport:host@0.1.0 (this moport provides 0.1.0)",
        "uses         log, settings, files",
        &format!("grants       files -> {}", work.path("output/hello").display()),
        "limits       memory 64MiB, time 10s, output 1MiB",
        "settings     greeting, recipient",
        "compiled, now cached",
    ] {
        assert!(first.contains(expected), "missing `{expected}` in:\n{first}");
    }
    let second = text(&work.moport(&["inspect", "hello"]).stdout);
    assert!(second.contains("precompiled cache hit"), "{second}");
}

#[test]
fn list_shows_the_shipped_plugins() {
    let out = Workdir::shipped().moport(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("hello ") && l.contains("built")), "{stdout}");
}

#[test]
fn json_logs_and_result_are_machine_readable() {
    let work = Workdir::shipped();
    let out = work.moport(&["--log-format", "json", "run", "hello"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["plugin"], "hello");
    assert_eq!(result["files"][0]["path"], "hello.txt");
    let lines: Vec<serde_json::Value> =
        text(&out.stderr).lines().map(|l| serde_json::from_str(l).expect("every log line is JSON")).collect();
    assert!(lines.iter().any(|l| l["plugin"] == "hello" && l["message"].as_str().unwrap().starts_with("Hej")));
    assert_eq!(result["exit_code"], 0);
}

#[test]
fn verbosity_raises_moports_own_lines_and_the_plugins_not_the_libraries() {
    let work = Workdir::shipped();
    let out = work.moport(&["--log-format", "json", "-vv", "run", "plan2learn", "--mo", "demo", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> =
        text(&out.stderr).lines().map(|l| serde_json::from_str(l).expect("every log line is JSON")).collect();
    assert!(lines.iter().any(|l| l["level"] == "DEBUG" && l["target"] == "plugin"), "-vv shows the plugin's detail");
    for line in &lines {
        let target = line["target"].as_str().unwrap_or_default();
        // moport's crates are `moport` and `moport_*`.
        let own = target.split("::").next().is_some_and(|krate| krate == "moport" || krate.starts_with("moport_"))
            || target == "plugin";
        assert!(own || line["level"] == "WARN" || line["level"] == "ERROR", "a library's line: {line}");
    }
}

#[test]
fn a_target_that_cannot_be_used_stops_only_the_plugins_granted_it() {
    let work = Workdir::shipped();
    let unusable = "\n[targets.elsewhere]\nkind = \"ftps\"\nhost = \"ftp.example\"\nuser = \"u\"\n\
                    password_env = \"MOPORT_TEST_UNSET_PASSWORD\"\n";
    work.edit_shipped(|text| format!("{text}{unusable}"));
    assert_eq!(work.moport(&["list"]).status.code(), Some(0));
    let out = work.moport(&["run", "hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    work.edit_shipped(|text| {
        format!("{text}{unusable}").replace("remote = [\"plan2learn\"]", "remote = [\"elsewhere\"]")
    });
    let stderr = work.ends_with(&["run", "plan2learn", "--mo", "demo"], 3);
    assert!(stderr.contains("the environment variable MOPORT_TEST_UNSET_PASSWORD is not set"), "{stderr}");
    assert!(!work.path("output/plan2learn").exists(), "refused before any work");
    let out = work.moport(&["check", "plan2learn", "--mo", "demo"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("FAILED  target `elsewhere`: [targets.elsewhere] password_env"), "{stdout}");
}

#[test]
fn a_ship_to_target_that_is_not_granted_is_refused_before_any_file_is_written() {
    let work = Workdir::shipped();
    work.edit_shipped(|text| text.replace("ship_to = \"plan2learn\"", "ship_to = \"elsewhere\""));
    let stderr = work.ends_with(&["run", "plan2learn", "--mo", "demo"], 3);
    assert!(stderr.contains("setting `ship_to`: the remote target `elsewhere` is not granted"), "{stderr}");
    assert!(!work.path("output/plan2learn/organisation.csv").exists(), "nothing was written");
}

#[test]
fn a_dry_run_leaves_no_output_folder_behind() {
    let work = Workdir::shipped();
    let out = work.moport(&["run", "plan2learn", "--mo", "demo", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!work.path("output/plan2learn").exists(), "no empty output folder");
    std::fs::create_dir_all(work.path("output")).unwrap();
    std::fs::write(work.path("output/plan2learn"), "a file where the folder should be").unwrap();
    let stderr = work.ends_with(&["run", "plan2learn", "--mo", "demo"], 6);
    assert!(stderr.contains("cannot use its output folder") && stderr.contains("not a folder"), "{stderr}");
}

#[test]
fn a_failed_run_gives_a_json_result_too() {
    let work = Workdir::with_manifest(&failing_manifest());
    let out = work.moport(&["--log-format", "json", "run", "picky"]);
    assert_eq!(out.status.code(), Some(4));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a result object on stdout");
    assert_eq!((&result["plugin"], &result["exit_code"]), (&serde_json::json!("picky"), &serde_json::json!(4)));
    assert!(result["error"].as_str().unwrap().contains("probe was told to fail"), "{result}");
}

/// One plugins.toml entry per failure kind, to check the exit code of each. The time limits of
/// the plugins that must run to their end leave room for compiling the component, which counts
/// against them.
fn failing_manifest() -> String {
    let built = moport::BUILT_PLUGINS_DIR;
    let probe = |name: &str, mode: &str, extra: &str, time: &str| {
        format!(
            "[plugins.{name}]\ncomponent = \"probe.wasm\"\ngrants = {{ files = \"out\" }}\n\
             limits = {{ time = \"{time}\", memory = \"32MiB\" }}\nsettings = {{ mode = \"{mode}\" {extra} }}\n"
        )
    };
    format!(
        "[host]\ncomponents = {built:?}\n{}{}{}{}",
        probe("spin", "loop", "", "300ms"),
        probe("picky", "fail", "", "3s"),
        probe("escape", "write", ", path = \"../x\"", "3s"),
        "[plugins.future]\ncomponent = \"future-wit.wasm\"\n",
    )
}

#[test]
fn each_kind_of_failure_has_its_exit_code_and_a_clear_message() {
    let work = Workdir::with_manifest(&failing_manifest());
    let cases = [
        (&["run", "spin"][..], 5, "error: plugin `spin` was stopped: time limit of 300ms (limits.time) reached"),
        (&["run", "picky"][..], 4, "error: plugin `picky` failed with data error: probe was told to fail"),
        (&["run", "escape"][..], 4, "path `../x` refused: `..` would leave the output folder"),
        (&["run", "future"][..], 3, "was built against moport:host@0.9.0"),
        (&["run", "nosuch"][..], 3, "no plugin named `nosuch`"),
        (&["--config", "missing.toml", "list"][..], 3, "cannot read missing.toml"),
        (&["run"][..], 2, "required"),
    ];
    for (args, code, message) in cases {
        let out = work.moport(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "moport {args:?}: {stderr}");
        assert!(stderr.contains(message), "moport {args:?}: expected `{message}` in:\n{stderr}");
    }
}

#[test]
fn a_bad_plugins_toml_names_the_file_line_and_key() {
    let work = Workdir::with_manifest("[plugins.x]\ncomponent = \"x.wasm\"\ncolour = \"blue\"\n");
    let stderr = work.ends_with(&["list"], 3);
    assert!(
        stderr.contains("plugins.toml: TOML parse error at line 3") && stderr.contains("unknown field `colour`"),
        "{stderr}"
    );
}

#[test]
fn help_has_examples_and_exit_codes() {
    let out = Workdir::shipped().moport(&["--help"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Examples:\n  moport list") && stdout.contains("Exit codes:"), "{stdout}");
}

#[test]
fn an_import_into_the_in_memory_demo_moves_no_bookmark() {
    // The shipped set-up in a folder of its own, with the demo's LOS files and DAR table.
    let work = Workdir::shipped();
    std::fs::create_dir_all(work.path("demo/los")).unwrap();
    std::fs::copy(Path::new(REPO).join("demo/dar-table.csv"), work.path("demo/dar-table.csv")).unwrap();
    for entry in std::fs::read_dir(Path::new(REPO).join("demo/los")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), work.path("demo/los").join(entry.file_name())).unwrap();
    }
    let out = work.moport(&["run", "aarhus-los", "--mo", "demo", "--today", "2026-06-01"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(text(&out.stdout).contains("imported 16 files"), "{}", text(&out.stdout));
    assert!(stderr.contains("state not saved: this run's MO is held in memory only"), "{stderr}");
    let shown = text(&work.moport(&["state", "show", "aarhus-los"]).stdout);
    assert!(shown.contains("(empty"), "{shown}");
}

#[test]
fn a_local_target_whose_folder_is_missing_is_refused_unless_it_may_make_it() {
    let work = Workdir::shipped();
    let out = work.moport(&["check", "plan2learn", "--mo", "demo"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("ok      target `plan2learn`: folder ") && stdout.contains("will be made by the first write")
    );
    assert!(
        stdout.contains("ok      output folder: ") && stdout.contains("will be made by the first run ("),
        "{stdout}"
    );

    work.edit_shipped(|text| text.replace("create = true\n", ""));
    let out = work.moport(&["check", "plan2learn", "--mo", "demo"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{stdout}");
    assert!(
        stdout.contains("FAILED  target `plan2learn`: ") && stdout.contains("its folder does not exist ("),
        "{stdout}"
    );
    assert!(stdout.contains("set `create = true` under [targets.plan2learn]"), "{stdout}");
    let stderr = work.ends_with(&["run", "plan2learn", "--mo", "demo"], 6);
    assert!(stderr.contains("target `plan2learn`: its folder does not exist; mount or create it"), "{stderr}");
    assert!(!work.path("output/plan2learn-outbox").exists(), "no folder was made in its place");
}

#[test]
fn a_second_run_of_a_plugin_while_one_runs_is_refused_or_waits() {
    let work = Workdir::shipped();
    std::fs::create_dir_all(work.path("state")).unwrap();
    // Another moport's run, as far as the lock goes: this process holds it.
    let held = std::fs::File::create(work.path("state/hello.lock")).unwrap();
    held.lock().unwrap();
    let stderr = work.ends_with(&["run", "hello"], 7);
    assert!(stderr.contains("plugin `hello` is already running") && stderr.contains("--wait"), "{stderr}");
    assert!(!work.path("output/hello/hello.txt").exists(), "the refused run did nothing");

    let mut waiting = work
        .command(&["run", "hello", "--wait"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let go only once it says it waits.
    let mut stderr = std::io::BufReader::new(waiting.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("waiting for the other run of the plugin to end") {
        let read = std::io::BufRead::read_line(&mut stderr, &mut said).unwrap();
        assert!(read > 0, "it ended without waiting: {said}");
    }
    assert!(!work.path("output/hello/hello.txt").exists(), "it waits");
    drop(held);
    std::io::Read::read_to_string(&mut stderr, &mut said).unwrap();
    assert_eq!(waiting.wait().unwrap().code(), Some(0), "{said}");
    assert!(work.path("output/hello/hello.txt").exists());
}

#[test]
fn the_shipped_plugins_pass_their_fixtures() {
    let work = Workdir::shipped();
    for (plugin, fixture) in [
        ("plan2learn", "plugins/plan2learn/fixture"),
        ("aarhus-los", "plugins/aarhus-los/fixture"),
        ("org-chart", "plugins/examples/org-chart/fixture"),
    ] {
        let fixture = Path::new(REPO).join(fixture);
        let config = Path::new(REPO).join("plugins.toml");
        let out = work.moport(&[
            "--config",
            config.to_str().unwrap(),
            "test",
            plugin,
            "--fixture",
            fixture.to_str().unwrap(),
        ]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{plugin}: {stdout}\n{stderr}");
        assert!(stdout.contains(&format!("{plugin}: ok against")), "{stdout}");
        // A fixture's MO and state are the test's own: no real state is touched.
        assert!(!stderr.contains("state saved"), "{plugin}: {stderr}");
    }
}

#[test]
fn the_runs_date_comes_from_today_the_environment_or_plugins_toml_and_a_bad_one_is_named() {
    let work = Workdir::shipped();
    let written = |work: &Workdir| std::fs::read_to_string(work.path("output/hello/hello.txt")).unwrap();
    let out = work.moport(&["run", "hello", "--today", "2026-11-30"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(written(&work).ends_with("(2026-11-30)\n"), "{}", written(&work));
    let out = work.command(&["run", "hello"]).env("MOPORT_TODAY", "2025-02-28").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(written(&work).ends_with("(2025-02-28)\n"), "{}", written(&work));

    let shipped = std::fs::read_to_string(Path::new(REPO).join("plugins.toml")).unwrap();
    let fixed = Workdir::with_manifest(&shipped.replace("[host]\n", "[host]\ntoday = \"2024-06-01\"\n"));
    let out = fixed.moport(&["run", "hello"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(written(&fixed).ends_with("(2024-06-01)\n"), "{}", written(&fixed));
    let out = fixed.moport(&["run", "hello", "--today", "2026-12-01"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(written(&fixed).ends_with("(2026-12-01)\n"), "--today wins over plugins.toml");

    let stderr = work.ends_with(&["run", "hello", "--today", "30-11-2026"], 2);
    assert!(stderr.contains("\"30-11-2026\" is not a date; write the run's date as YYYY-MM-DD"), "{stderr}");
    let bad = Workdir::with_manifest(&shipped.replace("[host]\n", "[host]\ntoday = \"2026-02-30\"\n"));
    let out = bad.moport(&["list"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("[host] today: \"2026-02-30\" is not a date"), "{stderr}");
}

#[test]
fn adressevask_settings_are_checked_and_dawa_is_refused_with_its_successor_named() {
    let shipped = std::fs::read_to_string(Path::new(REPO).join("plugins.toml")).unwrap();
    let with = |host_lines: &str| {
        let manifest = shipped.replace("dar = \"table:demo/dar-table.csv\"\n", host_lines);
        let out = Workdir::with_manifest(&manifest).moport(&["list"]);
        (out.status.code(), text(&out.stderr))
    };
    let (code, stderr) = with("dar = \"dawa:https://api.dataforsyningen.dk\"\n");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("[host] dar: `dawa:https://api.dataforsyningen.dk`: DAWA has closed; use `adressevask`"));
    let (code, stderr) = with("dar = \"adressevask\"\n\n[host.adressevask]\ntoken = \"a\"\ntoken_env = \"B\"\n");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("[host.adressevask]: give `token` or `token_env`, not both"), "{stderr}");
    let (code, stderr) = with("dar = \"adressevask\"\n\n[host.adressevask]\naccept = [1000, -300]\n");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("accept = [1000, -300]: list the washing codes"), "{stderr}");
    let (code, stderr) = with("dar = \"adressevask\"\n\n[host.adressevask]\nurl = \"adressevaelger.dk\"\n");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("url `adressevaelger.dk` is not an http:// or https:// address"), "{stderr}");
}

#[test]
fn test_update_writes_and_names_the_folder_the_fixture_points_at() {
    let work = Workdir::shipped();
    let fixture = work.path("hello-fixture");
    std::fs::create_dir_all(&fixture).unwrap();
    std::fs::write(fixture.join("fixture.toml"), "today = \"2026-11-23\"\nexpected_files = \"want/out\"\n").unwrap();
    let out = work.moport(&["test", "hello", "--fixture", "hello-fixture", "--update"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    let folder = fixture.join("want/out");
    assert!(stdout.contains("updated     hello-fixture/want/out\n"), "{stdout}");
    assert!(!stdout.contains("expected/files"), "{stdout}");
    assert!(std::fs::read_to_string(folder.join("hello.txt")).unwrap().ends_with("(2026-11-23)\n"));
    let out = work.moport(&["test", "hello", "--fixture", "hello-fixture"]);
    assert_eq!(out.status.code(), Some(0), "the updated fixture passes: {}", text(&out.stdout));
}

#[test]
fn what_a_plugin_prints_cannot_drive_the_terminal_forge_a_line_or_flood_it() {
    let built = moport::BUILT_PLUGINS_DIR;
    let garish = |name: &str, fail: bool| {
        format!(
            "[plugins.{name}]\ncomponent = \"probe.wasm\"\ngrants = {{ files = \"out/{name}\" }}\n\
             limits = {{ memory = \"64MiB\" }}\nsettings = {{ mode = \"garish\", fail = {fail} }}\n"
        )
    };
    let work = Workdir::with_manifest(&format!(
        "[host]\ncomponents = {built:?}\n{}{}",
        garish("loud", false),
        garish("rude", true)
    ));
    let ok = work.moport(&["run", "loud"]);
    let failed = work.moport(&["run", "rude"]);
    assert_eq!((ok.status.code(), failed.status.code()), (Some(0), Some(4)), "{}", text(&failed.stderr));
    for out in [&ok, &failed] {
        for printed in [text(&out.stdout), text(&out.stderr)] {
            assert!(
                !printed.contains(['\u{1b}', '\u{7}', '\r']),
                "a control character was printed raw:\n{printed:.2000}"
            );
            assert!(printed.lines().all(|line| !line.starts_with("ERROR forged")), "a line was forged");
            assert!(printed.len() < 256 << 10, "{} bytes printed", printed.len());
        }
    }
    let report = text(&ok.stdout);
    assert!(
        report.contains("\\u{1b}]0;owned\\u{7}\\r\\u{1b}[2Kshipped\\nERROR forged"),
        "shown escaped:\n{report:.2000}"
    );
    assert!(report.contains("more bytes cut]"), "the summary is cut");
    assert_eq!(report.lines().filter(|line| line.contains("ERROR forged ")).count(), 1_000, "1,000 counters are kept");
    assert!(text(&ok.stderr).contains("the report's counters past the first 1000 are left out"));
    assert!(text(&failed.stderr).contains("more bytes cut]"), "the error is cut");
}

#[test]
fn a_generated_municipality_of_any_seed_runs_with_the_shipped_plugins_toml() {
    let work = Workdir::shipped();
    work.ends_with(&["demo", "generate", "--persons", "50", "--seed", "7", "--out", "mo-7.json"], 0);
    work.ends_with(&["run", "plan2learn", "--mo", "snapshot:mo-7.json"], 0);
    let organisation = std::fs::read_to_string(work.path("output/plan2learn/organisation.csv")).unwrap();
    assert!(organisation.lines().count() > 10, "the seed's units are exported:\n{organisation}");
}

#[test]
fn log_lines_on_a_terminal_are_coloured_unless_no_color_is_set() {
    let work = Workdir::shipped();
    // `script` gives moport a terminal (a pseudo-terminal) and copies what it shows.
    let on_a_terminal = |no_color: Option<&str>| {
        let command = format!("{} run hello", env!("CARGO_BIN_EXE_moport"));
        let mut script = Command::new("script");
        script.args(["-qec", &command, "/dev/null"]).current_dir(work.path(""));
        script.env("MOPORT_CACHE_DIR", work.path("cache")).env("MOPORT_CACHE_KEY", work.path("cache.key"));
        script.env_remove("MOPORT_LOG").env_remove("NO_COLOR");
        if let Some(value) = no_color {
            script.env("NO_COLOR", value);
        }
        let out = script.output().expect("`script` (Debian's bsdutils) runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let coloured = on_a_terminal(None);
    assert!(coloured.contains("\u{1b}[") && coloured.contains("Hej"), "colour at a terminal:\n{coloured}");
    assert!(on_a_terminal(Some("")).contains("\u{1b}["), "an empty NO_COLOR asks for nothing");
    let plain = on_a_terminal(Some("1"));
    assert!(!plain.contains('\u{1b}') && plain.contains("Hej"), "no colour under NO_COLOR:\n{plain}");
}

#[test]
fn a_job_runs_its_plugins_in_order_and_the_ledger_and_metrics_record_each_run() {
    let work = Workdir::with_manifest(&failing_manifest().replacen(
        "[host]\n",
        "[host]\nmetrics = \"metrics/moport.prom\"\n",
        1,
    ));
    // A name that is not in plugins.toml stops the job before anything runs.
    work.ends_with(&["run", "picky", "nosuch"], 3);
    assert!(!work.path("state/runs.jsonl").exists(), "nothing ran");

    let out = work.moport(&["run", "picky", "spin"]);
    assert_eq!(out.status.code(), Some(4), "the first failure's exit code");
    let summary = text(&out.stdout);
    assert!(summary.contains("picky: failed (exit 4)") && summary.contains("spin: not run"), "{summary}");
    assert!(text(&out.stderr).contains("the job failed: picky (exit 4); not run: spin"), "{}", text(&out.stderr));

    let out = work.moport(&["--log-format", "json", "run", "picky", "spin", "--keep-going"]);
    assert_eq!(out.status.code(), Some(4));
    let last_line = text(&out.stdout).lines().last().unwrap().to_owned();
    let job: serde_json::Value = serde_json::from_str(&last_line).unwrap();
    assert_eq!(
        job["job"],
        serde_json::json!([{"plugin": "picky", "exit_code": 4}, {"plugin": "spin", "exit_code": 5}])
    );
    assert_eq!(job["exit_code"], 4);

    let runs = work.moport(&["runs", "--output", "json"]);
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&runs.stdout).unwrap();
    let recorded: Vec<_> =
        runs.iter().map(|run| (run["plugin"].as_str().unwrap(), run["exit_code"].as_u64().unwrap())).collect();
    assert_eq!(recorded, [("picky", 4), ("picky", 4), ("spin", 5)]);
    assert!(runs[0]["error"].as_str().unwrap().contains("probe was told to fail"));
    let table = text(&work.moport(&["runs", "spin"]).stdout);
    assert!(table.contains("spin") && !table.contains("picky") && table.contains("time limit"), "{table}");

    let metrics = std::fs::read_to_string(work.path("metrics/moport.prom")).unwrap();
    assert!(metrics.contains("mo_return_code{job=\"picky\"} 4\n"), "{metrics}");
    assert!(metrics.contains("mo_return_code{job=\"spin\"} 5\n"), "{metrics}");
    assert!(metrics.contains("# TYPE mo_end_time gauge\n"), "{metrics}");
}

#[test]
fn a_job_that_succeeds_exits_0_and_says_so() {
    let work = Workdir::shipped();
    let out = work.moport(&["run", "hello", "plan2learn", "--mo", "demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(summary.contains("job of 2 plugins:\n  hello: ok\n  plan2learn: ok\n"), "{summary}");
    let table = text(&work.moport(&["runs", "plan2learn"]).stdout);
    assert!(table.lines().nth(1).is_some_and(|line| line.contains("plan2learn") && line.contains(" 0 ")), "{table}");
}

#[test]
fn a_ledger_or_metrics_file_that_cannot_be_written_is_a_warning_not_a_failed_run() {
    let work = Workdir::shipped();
    work.edit_shipped(|text| text.replacen("[host]\n", "[host]\nmetrics = \"moport.prom\"\n", 1));
    // A folder where the file goes: it cannot be written.
    std::fs::create_dir_all(work.path("state/runs.jsonl")).unwrap();
    let stderr = work.ends_with(&["run", "hello"], 0);
    assert!(
        stderr.contains("runs.jsonl: Is a directory") && stderr.contains("the run itself is not affected"),
        "{stderr}"
    );
    std::fs::remove_dir(work.path("state/runs.jsonl")).unwrap();
    std::fs::create_dir_all(work.path("moport.prom")).unwrap();
    let stderr = work.ends_with(&["run", "hello"], 0);
    assert!(
        stderr
            .contains(&format!("cannot write the metrics file {}: Is a directory", work.path("moport.prom").display()))
            && stderr.contains("the run itself is not affected"),
        "{stderr}"
    );
}

/// Spawns `command`, waits until it logs that its plugin starts and then until `ready`, sends
/// it `signal`, and returns its exit code and all it printed on stderr.
fn stop_midway(mut command: Command, mut ready: impl FnMut() -> bool, signal: libc::c_int) -> (Option<i32>, String) {
    use std::io::BufRead;
    let mut child = command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("INFO starting plugin=") {
        assert!(stderr.read_line(&mut said).unwrap() > 0, "it ended before its plugin started: {said}");
    }
    let began = std::time::Instant::now();
    while !ready() {
        assert!(began.elapsed().as_secs() < 60, "never ready: {said}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: kill(2) on a child this test started and has not yet waited for.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    std::io::Read::read_to_string(&mut stderr, &mut said).unwrap();
    (child.wait().unwrap().code(), said)
}

#[test]
fn sigterm_stops_a_run_waiting_on_the_host_unpublished_and_recorded_and_the_job_goes_no_further() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let standin = runtime.block_on(crate::support::mo_standin::MoStandin::start(
        moport_mo::demo::built_in().file(),
        std::time::Duration::from_secs(300),
    ));
    // MO answers nothing for a minute: plan2learn waits in its first read.
    *standin.faults.latency.lock().unwrap() = std::time::Duration::from_secs(60);
    let work = Workdir::shipped();
    work.edit_shipped(|text| text.replacen("[host]\n", "[host]\nmetrics = \"moport.prom\"\n", 1));
    std::fs::create_dir_all(work.path("demo")).unwrap();
    std::fs::copy(Path::new(REPO).join("demo/dar-table.csv"), work.path("demo/dar-table.csv")).unwrap();
    let mut command = work.command(&["run", "plan2learn", "hello", "--mo", "graphql"]);
    command.envs(standin.env());
    let began = std::time::Instant::now();
    // Stopped while it waits for MO's answer.
    let asked = || standin.counters.in_flight.load(std::sync::atomic::Ordering::SeqCst) > 0;
    let (code, stderr) = stop_midway(command, asked, libc::SIGTERM);
    assert_eq!(code, Some(143), "{stderr}");
    assert!(began.elapsed().as_secs() < 30, "it stopped without waiting for MO: {stderr}");
    assert!(stderr.contains("SIGTERM: moport stops; the run going on ends when it next waits on the host"), "{stderr}");
    assert!(stderr.contains("the job failed: plan2learn (exit 143), moport was stopped by SIGTERM; not run: hello"));
    assert!(!stderr.contains("did not stop in time"), "{stderr}");
    let published: Vec<_> = std::fs::read_dir(work.path("output/plan2learn"))
        .map(|entries| entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    assert!(published.iter().all(|name| name.starts_with('.')), "nothing is published: {published:?}");
    let runs: Vec<serde_json::Value> =
        serde_json::from_slice(&work.moport(&["runs", "--output", "json"]).stdout).unwrap();
    assert_eq!(runs.len(), 1, "hello never ran: {runs:?}");
    assert_eq!(runs[0]["exit_code"], 143, "{runs:?}");
    assert!(runs[0]["error"].as_str().unwrap().contains("was stopped by SIGTERM before it ended"), "{runs:?}");
    let metrics = std::fs::read_to_string(work.path("moport.prom")).unwrap();
    assert!(metrics.contains("mo_return_code{job=\"plan2learn\"} 143\n"), "{metrics}");
    assert!(metrics.contains("moport_run_unfinished{job=\"plan2learn\"} 0\n"), "{metrics}");
}

#[test]
fn a_run_computing_without_waiting_on_the_host_is_given_up_on_after_the_grace_and_still_recorded() {
    let work = Workdir::with_manifest(&format!(
        "[host]\ncomponents = {:?}\nmetrics = \"moport.prom\"\n\
         [plugins.sleepy]\ncomponent = \"probe.wasm\"\ngrants = {{ files = \"out\" }}\n\
         limits = {{ time = \"120s\", memory = \"32MiB\" }}\nsettings = {{ mode = \"loop\" }}\n",
        moport::BUILT_PLUGINS_DIR
    ));
    // Signalled once it has looped for a while, its start recorded.
    let metrics = work.path("moport.prom");
    let looping = || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        std::fs::read_to_string(&metrics).is_ok_and(|text| text.contains("moport_run_unfinished{job=\"sleepy\"} 1\n"))
    };
    let (code, stderr) = stop_midway(work.command(&["run", "sleepy"]), looping, libc::SIGINT);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("SIGINT: the run did not stop in time; moport ends without it"), "{stderr}");
    let runs: Vec<serde_json::Value> =
        serde_json::from_slice(&work.moport(&["runs", "--output", "json"]).stdout).unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["exit_code"], 130, "{runs:?}");
    assert_eq!(runs[0]["error"], "stopped by SIGINT before it ended (it did not stop in time)");
    let metrics = std::fs::read_to_string(work.path("moport.prom")).unwrap();
    assert!(metrics.contains("mo_return_code{job=\"sleepy\"} 130\n"), "{metrics}");
}

/// The value of `family` for `job` in what a Pushgateway serves.
fn pushed_value(served: &str, family: &str, job: &str) -> Option<String> {
    let labels = format!("{family}{{instance=\"\",job=\"{job}\"}} ");
    served.lines().find_map(|line| line.strip_prefix(&labels)).map(str::to_owned)
}

#[test]
fn runs_reach_a_real_pushgateway_as_they_start_and_end_and_a_killed_run_stays_unfinished() {
    let gateway = crate::support::pushgateway::Pushgateway::start();
    let manifest = |pushgateway: &str| {
        format!(
            "[host]\ncomponents = {:?}\nmetrics = \"moport.prom\"\npushgateway = \"{pushgateway}\"\n\
             [plugins.hello]\ncomponent = \"hello.wasm\"\ngrants = {{ files = \"out\" }}\n\
             settings = {{ recipient = \"Viborg\" }}\n\
             [plugins.sleepy]\ncomponent = \"probe.wasm\"\ngrants = {{ files = \"out\" }}\n\
             limits = {{ time = \"120s\", memory = \"32MiB\" }}\nsettings = {{ mode = \"loop\" }}\n",
            moport::BUILT_PLUGINS_DIR
        )
    };
    let work = Workdir::with_manifest(&manifest(&gateway.url()));
    let stderr = work.ends_with(&["run", "hello"], 0);
    assert!(!stderr.contains("WARN"), "{stderr}");
    let served = gateway.metrics();
    assert_eq!(pushed_value(&served, "mo_return_code", "hello").as_deref(), Some("0"), "{served}");
    assert_eq!(pushed_value(&served, "moport_run_unfinished", "hello").as_deref(), Some("0"), "{served}");
    assert!(pushed_value(&served, "mo_end_time", "hello").is_some(), "{served}");

    // A run killed midway: its start was recorded and pushed, its end never comes.
    let mut sleepy = work.command(&["run", "sleepy"]).stdout(std::process::Stdio::null()).spawn().unwrap();
    let began = std::time::Instant::now();
    while pushed_value(&gateway.metrics(), "moport_run_unfinished", "sleepy").as_deref() != Some("1") {
        assert!(began.elapsed().as_secs() < 60, "the start was not pushed: {}", gateway.metrics());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // A second start while it runs is refused, and is not the job's run: the start stays.
    let started = pushed_value(&gateway.metrics(), "mo_start_time", "sleepy").unwrap();
    let stderr = work.ends_with(&["run", "sleepy"], 7);
    assert!(stderr.contains("plugin `sleepy` is already running"), "{stderr}");
    let served = gateway.metrics();
    assert_eq!(pushed_value(&served, "mo_start_time", "sleepy").as_deref(), Some(started.as_str()), "{served}");
    assert_eq!(pushed_value(&served, "moport_run_unfinished", "sleepy").as_deref(), Some("1"), "{served}");
    sleepy.kill().unwrap();
    sleepy.wait().unwrap();
    let served = gateway.metrics();
    assert_eq!(pushed_value(&served, "mo_return_code", "sleepy"), None, "no run of it has ended: {served}");
    let table = text(&work.moport(&["runs", "sleepy"]).stdout);
    assert!(table.contains("did not end: still running, or killed"), "{table}");
    let runs: Vec<serde_json::Value> =
        serde_json::from_slice(&work.moport(&["runs", "--output", "json"]).stdout).unwrap();
    let recorded: Vec<_> = runs.iter().map(|run| (run["plugin"].as_str(), run["exit_code"].as_u64())).collect();
    assert_eq!(recorded, [(Some("hello"), Some(0)), (Some("sleepy"), None), (Some("sleepy"), Some(7))]);
    let file = std::fs::read_to_string(work.path("moport.prom")).unwrap();
    assert!(file.contains("moport_run_unfinished{job=\"sleepy\"} 1\n"), "{file}");
    assert!(file.contains("mo_return_code{job=\"hello\"} 0\n") && !file.contains("mo_return_code{job=\"sleepy\"}"));

    // A Pushgateway that refuses, or is not there, is a warning naming it; the run is not failed.
    let refusing = format!("{}/nope", gateway.url());
    std::fs::write(work.path("plugins.toml"), manifest(&refusing)).unwrap();
    let stderr = work.ends_with(&["run", "hello"], 0);
    let said = format!("cannot push the metrics of `hello` to the Pushgateway at {refusing}: it answered 404");
    assert!(stderr.contains(&said) && stderr.contains("the run itself is not affected"), "{stderr}");
    let url = gateway.url();
    drop(gateway);
    std::fs::write(work.path("plugins.toml"), manifest(&url)).unwrap();
    let stderr = work.ends_with(&["run", "hello"], 0);
    assert!(stderr.contains(&format!("to the Pushgateway at {url}: cannot connect")), "{stderr}");
}

#[test]
fn a_reader_that_goes_away_is_not_a_failure() {
    let work = Workdir::shipped();
    work.ends_with(&["run", "hello"], 0);
    for args in [&["completions", "bash"][..], &["list"], &["runs"], &["inspect", "hello"], &["run", "hello"]] {
        // `moport ... | head -0`: the pipe's reading end is closed before moport writes.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = work.command(args).stdout(writer).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn completions_and_manual_pages_cover_every_command() {
    let work = Workdir::with_manifest("");
    for shell in ["bash", "zsh", "fish"] {
        let out = work.moport(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(["runs", "keep-going", "inspect"].iter().all(|word| script.contains(word)), "{shell}:\n{script:.1000}");
    }
    work.ends_with(&["manual", "--out", "man"], 0);
    for page in ["moport.1", "moport-run.1", "moport-runs.1", "moport-state-clear.1"] {
        let text = std::fs::read_to_string(work.path("man").join(page)).unwrap();
        assert!(text.contains(".TH moport"), "{page} is a manual page:\n{text:.300}");
    }
    // A file where the folder would go.
    std::fs::write(work.path("taken"), "").unwrap();
    let stderr = work.ends_with(&["manual", "--out", "taken"], 6);
    assert!(stderr.contains("cannot write the manual pages in taken"), "{stderr}");
}

#[test]
fn list_inspect_check_and_state_show_answer_in_json_for_scripts() {
    let work = Workdir::shipped();
    let json = |args: &[&str]| -> serde_json::Value {
        let out = work.moport(&[&["--output", "json"], args].concat());
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|err| panic!("{args:?}: {err}: {}", text(&out.stdout)))
    };
    let listed = json(&["list"]);
    let hello = listed.as_array().unwrap().iter().find(|p| p["plugin"] == "hello").unwrap();
    assert_eq!(hello["built"], true);
    let inspected = json(&["inspect", "plan2learn"]);
    assert_eq!(
        (&inspected["world"], &inspected["grants"]["mo"]),
        (&serde_json::json!("exporter"), &serde_json::json!("read"))
    );
    assert_eq!(inspected["refused"], serde_json::Value::Null);
    let checked = json(&["check", "hello", "--mo", "demo"]);
    assert_eq!(checked["exit_code"], 0);
    assert!(checked["checks"].as_array().unwrap().iter().all(|line| line["ok"] == true), "{checked}");
    work.ends_with(&["state", "set", "aarhus-los", "last_import", "2026-11-30T22:00:00Z"], 0);
    let state = json(&["state", "show", "aarhus-los"]);
    assert_eq!(state["values"], serde_json::json!({"last_import": "2026-11-30T22:00:00Z"}));
}

#[test]
fn an_installed_moport_runs_the_shipped_plugins_with_nothing_of_the_build_machine() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_moport")).unwrap();
    let checkout_sdk = format!("{REPO}/plugins/sdk");
    for path in [moport::BUILT_PLUGINS_DIR, checkout_sdk.as_str()] {
        assert!(!binary.windows(path.len()).any(|bytes| bytes == path.as_bytes()), "the binary holds {path}");
    }
    // `cargo install` puts the binary alone in PREFIX/bin; the operator's plugins.toml names
    // a shipped component and no folder of components.
    let prefix = tempfile::tempdir().unwrap();
    let installed = prefix.path().join("bin/moport");
    std::fs::create_dir_all(installed.parent().unwrap()).unwrap();
    std::fs::write(&installed, &binary).unwrap();
    std::fs::set_permissions(&installed, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let work = Workdir::with_manifest(
        "[plugins.hello]\ncomponent = \"hello.wasm\"\ngrants = { files = \"out\" }\nsettings = { recipient = \"Viborg\" }\n",
    );
    let run = |args: &[&str]| {
        let out = Command::new(&installed)
            .current_dir(work.path(""))
            .env("MOPORT_CACHE_DIR", work.path("cache"))
            .env("MOPORT_CACHE_KEY", work.path("cache.key"))
            .env_remove("MOPORT_CONFIG")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    run(&["run", "hello"]);
    assert!(std::fs::read_to_string(work.path("out/hello.txt")).unwrap().contains("Viborg"));
    assert!(run(&["inspect", "hello"]).contains("hello.wasm, built into moport"));
    // A component installed beside it, in PREFIX/lib/moport/plugins, is used instead.
    let beside = prefix.path().join("lib/moport/plugins");
    std::fs::create_dir_all(&beside).unwrap();
    std::fs::copy(Path::new(moport::BUILT_PLUGINS_DIR).join("hello.wasm"), beside.join("hello.wasm")).unwrap();
    let inspected = run(&["inspect", "hello"]);
    assert!(inspected.contains(&beside.join("hello.wasm").display().to_string()), "{inspected}");
    // It hands out the SDK it carries (tests/all/new_plugin.rs builds plugins on it).
    run(&["sdk", "--out", "sdk"]);
    let carried = std::fs::read(work.path("sdk/plugins/sdk/src/lib.rs")).unwrap();
    assert_eq!(carried, std::fs::read(format!("{checkout_sdk}/src/lib.rs")).unwrap());
}
