//! Log output on stderr: readable lines for people, one JSON object per line for machines.
//! Progress bars are drawn only for people on a terminal; log lines are printed around them.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal, Write};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

static BARS: OnceLock<MultiProgress> = OnceLock::new();

fn bars() -> &'static MultiProgress {
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::hidden()))
}

/// Sets up logging once per process. `level` applies to moport's own lines and the plugins'
/// (the libraries under them say only warnings and errors: wasmtime and cranelift alone print
/// hundreds of lines at trace), unless `MOPORT_LOG` holds a filter (tracing's syntax, e.g.
/// `debug` for everything, or `moport=info,plugin=trace,suppaftp=debug`).
pub fn init(format: LogFormat, level: tracing::Level) {
    let filter = EnvFilter::try_from_env("MOPORT_LOG")
        // A directive's target is a prefix: `moport` takes in every moport crate (`moport_mo`, ...).
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,moport={level},plugin={level}")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colour_wanted()).with_writer(AroundBars);
    let installed = match format {
        LogFormat::Human => {
            bars().set_draw_target(ProgressDrawTarget::stderr());
            builder.with_target(false).try_init()
        }
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
    };
    // A second init (several runs in one test process) keeps the first subscriber.
    drop(installed);
    moport_progress::install(Box::new(Bars));
}

/// Colour only for people at a terminal who have not asked for none (`NO_COLOR` set to
/// anything but empty, as no-color.org has it).
fn colour_wanted() -> bool {
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// moport's long work and the plugins' progress, drawn as bars where bars are shown.
struct Bars;

impl moport_progress::Display for Bars {
    fn begin(&self, label: &str, total: Option<u64>) -> Box<dyn moport_progress::Shown> {
        let bar = match total {
            Some(total) => {
                let bar = bars().add(ProgressBar::new(total));
                bar.set_style(
                    ProgressStyle::with_template("{msg:24} [{bar:40}] {pos}/{len} ({eta} left)")
                        .expect("the template is valid")
                        .progress_chars("=> "),
                );
                bar
            }
            // A running count for work of unknown length (objects fetched page by page).
            None => {
                let bar = bars().add(ProgressBar::no_length());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg:24} {pos} ({per_sec})")
                        .expect("the template is valid"),
                );
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            }
        };
        bar.set_message(label.to_owned());
        Box::new(Bar(bar))
    }
}

/// One bar; cleared when the work is dropped.
struct Bar(ProgressBar);

impl moport_progress::Shown for Bar {
    fn set_total(&self, total: u64) {
        self.0.set_length(total);
    }

    fn set_done(&self, done: u64) {
        self.0.set_position(done);
    }

    fn advance(&self, steps: u64) {
        self.0.inc(steps);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Prints on stderr without tearing the progress bars, with every secret blanked.
pub fn eprint_around_bars(text: &str) {
    let _ = AroundBars.write_all(text.as_bytes());
}

struct AroundBars;

/// Every log line goes out here, one event per write, with every secret blanked.
impl Write for AroundBars {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        let line = moport_manifest::secret::redact(&line);
        bars().suspend(|| io::stderr().write_all(line.as_bytes()))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for AroundBars {
    type Writer = AroundBars;

    fn make_writer(&'a self) -> AroundBars {
        AroundBars
    }
}
