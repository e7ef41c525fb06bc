//! A test plugin that does what its `mode` setting says, well-behaved or hostile. The host's
//! tests use it to show that limits, grants and the sandbox hold. Never listed in plugins.toml.

use moport_sdk::log::Level;
use moport_sdk::{Plugin, PluginError, Report, RunContext, files, log, remote, settings};
use std::hint::black_box;

struct Probe;

impl Plugin for Probe {
    fn run(_ctx: RunContext) -> Result<Report, PluginError> {
        let mode = settings::require_str("mode")?;
        match mode.as_str() {
            "ok" => {
                files::write("ok.txt", b"ok\n")?;
                Ok(Report::new("probe ok").count("files written", 1))
            }
            // Guest -> host call cost: `calls` cheap host calls.
            "calls" => {
                let calls = settings::get_i64("calls")?.unwrap_or(0);
                let mut shown = 0;
                for _ in 0..calls {
                    shown += u64::from(log::enabled(Level::Trace));
                }
                Ok(Report::new("calls made").count("calls", calls as u64).count("trace enabled", shown))
            }
            "write" => {
                let path = settings::require_str("path")?;
                let size = settings::get_i64("size")?.unwrap_or(16) as usize;
                files::write(&path, &vec![b'x'; size])?;
                Ok(Report::new(format!("wrote {path}")))
            }
            // Changes everything it can, ignoring its run context's dry-run flag.
            "effects" => {
                files::write("made.txt", b"made\n")?;
                remote::write("outbox", "made.txt", b"made\n")?;
                remote::rename("outbox", "old.txt", "renamed.txt")?;
                Ok(Report::new("changed what it could"))
            }
            // More to a remote target than its output limit.
            "upload" => {
                remote::write("outbox", "big.bin", &vec![b'x'; 2 << 20])?;
                Ok(Report::new("uploaded 2 MiB"))
            }
            "read" => {
                let path = settings::require_str("path")?;
                let bytes = files::read(&path)?;
                Ok(Report::new(format!("read {path}")).count("bytes", bytes.len() as u64))
            }
            // Many files that add up past the output limit.
            "output" => {
                let chunk = vec![b'x'; 1 << 20];
                for i in 0..64 {
                    files::write(&format!("chunk-{i}.bin"), &chunk)?;
                }
                Ok(Report::new("wrote 64 MiB"))
            }
            "loop" => loop {
                black_box(0u64);
            },
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 8 << 20]));
                }
            }
            // A progress bar for every one of `labels` distinct labels, none finished.
            "labels" => {
                let labels = settings::get_i64("labels")?.unwrap_or(0);
                for n in 0..labels {
                    log::progress(&format!("{n:0>190}"), 0, 10);
                }
                Ok(Report::new("labelled").count("labels", labels as u64))
            }
            "panic" => panic!("probe was told to panic"),
            "exit" => std::process::exit(0),
            // Far more on stdout and stderr than the host keeps.
            "print" => {
                let line = "x".repeat(1023);
                for _ in 0..1024 {
                    println!("{line}");
                    eprintln!("{line}");
                }
                Ok(Report::new("printed 2 MiB"))
            }
            "stack" => Ok(Report::new(format!("{}", recurse(black_box(1))))),
            // What the sandbox hands out: environment, arguments, files, sockets.
            "ambient" => {
                let port = settings::get_i64("port")?.unwrap_or(9);
                let tcp = std::net::TcpStream::connect(("127.0.0.1", port as u16)).is_ok();
                Ok(Report::new("ambient authority probed")
                    .count("environment variables", std::env::vars_os().count() as u64)
                    .count("arguments", std::env::args_os().count() as u64)
                    .count("root folder readable", u64::from(std::fs::read_dir("/").is_ok()))
                    .count("current folder readable", u64::from(std::fs::read_dir(".").is_ok()))
                    .count("tcp connected", u64::from(tcp)))
            }
            "fail" => Err(PluginError::Data("probe was told to fail: row 3 is bad".into())),
            // What a hostile plugin prints to drive the operator's terminal or forge lines: a
            // window title, a cleared line, a line of its own, and far too much of it.
            "garish" => {
                let forged = "\u{1b}]0;owned\u{7}\r\u{1b}[2Kshipped\nERROR forged";
                files::write(&format!("x{forged}.csv"), b"x")?;
                if settings::get_bool("fail")?.unwrap_or(false) {
                    return Err(PluginError::Data(format!("{forged}{}", "x".repeat(1 << 20))));
                }
                let counted = (0..2_000).fold(Report::new(format!("{forged}{}", "y".repeat(1 << 20))), |report, n| {
                    report.count(format!("{forged} {n}"), n)
                });
                Ok(counted)
            }
            other => Err(PluginError::Config(format!("setting `mode`: unknown mode `{other}`"))),
        }
    }
}

// Deliberately unbounded: the host must stop it with a stack-overflow trap.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    recurse(depth + 1) + frame[63]
}

moport_sdk::export_plugin!(Probe);
