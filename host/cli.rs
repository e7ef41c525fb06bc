//! The `moport` command line.

use crate::fixture::FixtureError;
use crate::logging::{self, LogFormat};
use crate::template::TemplateError;
use clap::{CommandFactory, Parser, Subcommand};
use moport_caps::Failing;
use moport_caps::log::{MAX_MESSAGE_BYTES, cut_to, printable};
use moport_caps::state::{StateError, StateStore};
use moport_manifest::{Manifest, ManifestError, MoAccess, MoSourceSpec, PluginSpec};
use moport_mo::demo::{self, DemoSpec};
use moport_mo::graphql::{GraphqlSource, Mode};
use moport_mo::snapshot::Snapshot;
use moport_mo::{MoError, MoSource};
use moport_runtime::cache::{CacheOutcome, ComponentCache};
use moport_runtime::contract::{self, Capability};
use moport_runtime::{ExitStatus, Host, LoadedPlugin, RunError, RunOptions, RunOutcome};
use moport_types::mo::Outcome;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

mod jobs;
mod show;

use jobs::{Recorder, describe_outcome, describe_runs, job_result, outcome_json};
use show::{inspect, inspect_json, list, list_json, show_state};

const AFTER_HELP: &str = "\
Examples:
  moport list                          the plugins in ./plugins.toml
  moport inspect hello                 world, WIT version, grants and limits of a plugin
  moport run hello                     run a plugin
  moport run hello --dry-run           compute everything, change nothing
  moport check plan2learn --mo demo    what a run would reach (MO, remote targets), writing nothing
  moport run plan2learn --mo demo       read MO from the built-in demo municipality
  moport run plan2learn --mo snapshot:mo.json   read MO from a snapshot file
  moport demo generate --persons 50000 --out mo-50k.json   a bigger made-up municipality
  moport load demo --mo graphql        the demo municipality into an empty test MO
  moport state show aarhus-los         what a plugin remembers between runs
  moport test plan2learn --fixture plugins/plan2learn/fixture   the plugin against a fixture
  moport --config /etc/moport/plugins.toml --log-format json run plan2learn

Exit codes:
  0  success
  1  internal error in moport
  2  wrong command line
  3  configuration error (plugins.toml, settings, grants, missing or incompatible component)
  4  the plugin reported a failure (bad data, a defect in the plugin)
  5  the plugin hit a limit (memory, time, output) or crashed
  6  a service the plugin depends on failed (MO, a remote target, the output folder)
  7  the plugin is already running (another `moport run` of it; `--wait` waits for it)
  130, 143  stopped by SIGINT or SIGTERM (the run going on is recorded as stopped)

Environment:
  MOPORT_CONFIG     plugins.toml to use (as --config)
  MOPORT_CACHE_DIR  folder for precompiled plugins (as --cache-dir)
  MOPORT_CACHE_KEY  the key that proves this host wrote them [default: ~/.config/moport/cache.key]
  MOPORT_LOG        log filter, e.g. `debug` or `moport=info,plugin=trace`
  NO_COLOR          if set and not empty, log lines on a terminal are not coloured";

#[derive(Debug, Parser)]
#[command(name = "moport", version, about = "Runs sandboxed WebAssembly plugins for OS2mo", after_help = AFTER_HELP)]
struct Cli {
    /// The plugins.toml that lists the plugins, their grants, limits and settings.
    #[arg(long, global = true, env = "MOPORT_CONFIG", default_value = "plugins.toml")]
    config: PathBuf,
    /// How log lines on stderr look; `json` also makes `run` print its result as JSON.
    #[arg(long, global = true, value_enum, default_value = "human")]
    log_format: LogFormat,
    /// How `list`, `inspect`, `check`, `state show` and `runs` print their answer: `text` for
    /// people, `json` for scripts.
    #[arg(long, global = true, value_enum, default_value = "text")]
    output: Output,
    /// More log detail: -v for debug, -vv for trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Folder for precompiled plugins [default: $XDG_CACHE_HOME/moport or ~/.cache/moport].
    #[arg(long, global = true, env = "MOPORT_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile plugins on every start instead of using the precompiled cache.
    #[arg(long, global = true)]
    no_cache: bool,
    #[command(subcommand)]
    command: Command,
}

/// How a command's answer is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the plugins in plugins.toml.
    #[command(after_help = "Examples:\n  moport list\n  moport list --config /etc/moport/plugins.toml")]
    List,
    /// Show a plugin's world, WIT version, capabilities, grants, limits and settings.
    #[command(
        after_help = "Examples:\n  moport inspect plan2learn\n  moport inspect aarhus-los --config /etc/moport/plugins.toml"
    )]
    Inspect {
        /// The plugin's name in plugins.toml.
        plugin: String,
    },
    /// Run a plugin, or several one after another as one job. Each run is recorded in the run
    /// ledger (`moport runs`) as it starts and ends and, with `[host] metrics` or
    /// `pushgateway`, in Prometheus metrics. SIGTERM or Ctrl-C stops the run, recorded as
    /// stopped (exit 143 or 130).
    #[command(
        after_help = "Examples:\n  moport run plan2learn --mo demo\n  moport run aarhus-los --mo demo --dry-run\n  \
                      moport run plan2learn --mo graphql:/opt/dipex/settings/settings.json --today 2026-11-30\n  \
                      moport run aarhus-los plan2learn               a nightly job: the import, then the export\n  \
                      moport run aarhus-los plan2learn --keep-going  the export runs even if the import fails"
    )]
    Run {
        /// The plugins' names in plugins.toml, run in this order. In a job of several, the exit
        /// code is that of the first one that failed.
        #[arg(required = true, value_name = "PLUGIN")]
        plugins: Vec<String>,
        /// In a job of several plugins, run the rest after one fails (otherwise they are not run).
        #[arg(long)]
        keep_going: bool,
        /// Compute everything but change nothing (the plugin is told; importers plan only).
        #[arg(long)]
        dry_run: bool,
        /// Where plugins granted `mo` read MO from: `demo` (the built-in demo municipality),
        /// `snapshot:FILE`, `graphql` (a live MO; settings from the environment) or
        /// `graphql:SETTINGS_JSON` (DIPEX's settings.json); overrides `[host] mo` in plugins.toml.
        #[arg(long, value_name = "SOURCE")]
        mo: Option<String>,
        /// For a `graphql` source: fetch each collection once (`cache`, the default) or query MO on
        /// every plugin call (`direct`); overrides `[host] mo_mode`.
        #[arg(long, value_name = "MO_MODE", value_parser = mo_mode())]
        mo_mode: Option<Mode>,
        /// The run's date (YYYY-MM-DD) instead of today in Copenhagen: what the plugin is told
        /// and what "valid today" means for its MO reads, e.g. to re-run a past night; overrides
        /// `[host] today`.
        #[arg(long, value_name = "DATE", env = "MOPORT_TODAY", value_parser = moport_manifest::parse_date)]
        today: Option<chrono::NaiveDate>,
        /// If another run of the plugin is going on, wait for it to end (without this: exit 7).
        #[arg(long)]
        wait: bool,
    },
    /// Show the run ledger: each `moport run` of a plugin, newest last.
    #[command(after_help = "Examples:\n  moport runs\n  moport runs plan2learn --last 7\n  moport runs --output json")]
    Runs {
        /// Only this plugin's runs.
        plugin: Option<String>,
        /// How many runs to show.
        #[arg(long, default_value_t = 20)]
        last: usize,
    },
    /// Check what a run of the plugin would reach, writing nothing: its component and grants, its
    /// MO source (with a live MO, a token and one object of each collection) and each granted
    /// remote target (a login and a listing).
    #[command(
        after_help = "Examples:\n  moport check plan2learn --mo demo\n  moport check plan2learn --mo graphql:/opt/dipex/settings/settings.json"
    )]
    Check {
        /// The plugin's name in plugins.toml.
        plugin: String,
        /// As for `run`.
        #[arg(long, value_name = "SOURCE")]
        mo: Option<String>,
        /// As for `run`.
        #[arg(long, value_name = "MO_MODE", value_parser = mo_mode())]
        mo_mode: Option<Mode>,
    },
    /// Run a plugin against a fixture folder (MO, settings, remote files in; expected files out)
    /// instead of the world, and show how its output differs. Exit code 0 when it matches, 1
    /// when it does not.
    #[command(after_help = "Examples:\n  \
        moport test plan2learn --fixture plugins/plan2learn/fixture\n  \
        moport test org-chart --fixture plugins/examples/org-chart/fixture --update   make the fixture expect this output\n\n\
        The fixture folder is described in docs/writing-plugins.md.")]
    Test {
        /// The plugin's name in plugins.toml (its component, grants, limits and settings are used).
        plugin: String,
        /// The fixture folder.
        #[arg(long, value_name = "DIR")]
        fixture: PathBuf,
        /// Instead of comparing, write what the plugin did as the fixture's expected output.
        #[arg(long)]
        update: bool,
    },
    /// Print a shell's completion script for moport.
    #[command(after_help = "Examples:\n  \
        moport completions bash > /etc/bash_completion.d/moport\n  \
        moport completions zsh > ~/.zfunc/_moport\n  \
        moport completions fish > ~/.config/fish/completions/moport.fish")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write moport's manual pages (moport.1, and moport-run.1 and so on for each command).
    #[command(after_help = "Examples:\n  \
        moport manual --out /usr/local/share/man/man1\n  \
        moport manual --out man && man -l man/moport-run.1")]
    Manual {
        /// The folder the pages go in (made if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Make a new plugin crate from a template that builds, tests and runs as made, and add it
    /// to plugins.toml.
    #[command(after_help = "Examples:\n  \
        moport new acme-units                      an exporter in plugins/acme-units\n  \
        moport new acme-import --world importer    an importer that reads units.csv from a folder\n\n\
        Then: cargo build; cargo test -p <name>; moport test <name> --fixture plugins/<name>/fixture;\n\
        moport run <name> --mo demo. docs/writing-plugins.md goes on from there.")]
    New {
        /// The plugin's name: lower-case letters, digits and `-`.
        name: String,
        /// An `exporter` reads MO; an `importer` may also write it.
        #[arg(long, value_enum, default_value = "exporter")]
        world: crate::template::World,
        /// The folder the crate's own folder (`DIR/NAME`) is made in. Inside the moport
        /// repository, `plugins` (the crate becomes a workspace member); anywhere else the crate
        /// is a workspace of its own, depending on the SDK by path.
        #[arg(long, value_name = "DIR", default_value = "plugins")]
        dir: PathBuf,
        /// The guest SDK a crate outside the moport repository depends on: `plugins/sdk` of a
        /// moport checkout, or below a folder `moport sdk --out` wrote [default: that of the
        /// checkout DIR lies in, else the SDK this moport carries, written to
        /// $XDG_DATA_HOME/moport/sdk/VERSION or ~/.local/share/moport/sdk/VERSION].
        #[arg(long, value_name = "DIR", env = "MOPORT_SDK")]
        sdk: Option<PathBuf>,
    },
    /// Write the guest SDK this moport carries (its source, the crates it builds on and the WIT
    /// contract) to a folder, for plugin crates built where there is no moport checkout.
    #[command(after_help = "Examples:\n  \
        moport sdk --out vendor/moport                         then depend on vendor/moport/plugins/sdk\n  \
        moport sdk --out vendor/moport && moport new acme-units --dir . --sdk vendor/moport/plugins/sdk\n\n\
        `moport new` does this by itself when it finds no SDK; a plugin's CI without moport's\n\
        source can run this to get the SDK its crate names.")]
    Sdk {
        /// The folder the SDK goes in (made if missing); its crate is DIR/plugins/sdk.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Read a live MO whole into a snapshot file (written atomically).
    #[command(after_help = "Examples:\n  \
        moport snapshot --mo graphql:/opt/dipex/settings/settings.json --out mo.json\n  \
        MORA_BASE=https://mo.kommune.dk AUTH_SERVER=https://mo.kommune.dk/auth CLIENT_ID=moport \\\n    \
        CLIENT_SECRET=... moport snapshot --mo graphql --out mo.json\n  \
        moport run plan2learn --mo snapshot:mo.json")]
    Snapshot {
        /// The MO to read: `graphql` or `graphql:SETTINGS_JSON`.
        #[arg(long, value_name = "SOURCE", default_value = "graphql")]
        mo: String,
        /// The snapshot file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write a snapshot into a live MO: every object in every validity, parents before children,
    /// in requests of at most `moport.mutations_per_request` mutations. An MO that already holds
    /// organisation data is refused unless --into-non-empty says otherwise. Run again after a
    /// failure: what MO already holds is not sent again.
    #[command(after_help = "Examples:\n  \
        moport load demo --mo graphql                 the demo municipality into a test MO\n  \
        moport load mo.json --mo graphql:/opt/dipex/settings/settings.json   a production snapshot into a test MO\n  \
        moport load mo.json --mo graphql --dry-run    count what would be written\n\n\
        Never point it at a production MO: it writes every object of the snapshot.")]
    Load {
        /// The snapshot to write: `demo` (the built-in demo municipality) or a snapshot file.
        snapshot: String,
        /// The MO to write: `graphql` or `graphql:SETTINGS_JSON`.
        #[arg(long, value_name = "SOURCE", default_value = "graphql")]
        mo: String,
        /// Write even if MO already holds org units, persons or other objects: those the
        /// snapshot names become as it says, the rest stay as they are.
        #[arg(long)]
        into_non_empty: bool,
        /// Read MO and count what would be written, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The made-up demo municipality.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// A plugin's persistent state (what it remembers between runs, such as the last import).
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// Print the plugin's state: where it is kept, then one `key = value` line per key.
    #[command(after_help = "Examples:\n  moport state show aarhus-los")]
    Show {
        /// The plugin's name in plugins.toml.
        plugin: String,
    },
    /// Forget the plugin's state, so its next run starts afresh (an importer then reads every
    /// file again). Asks first, unless --yes.
    #[command(
        after_help = "Examples:\n  moport state clear aarhus-los\n  moport state clear aarhus-los --yes   (from a script)"
    )]
    Clear {
        /// The plugin's name in plugins.toml.
        plugin: String,
        /// Do not ask; needed where nobody can answer (scripts, cron).
        #[arg(long)]
        yes: bool,
    },
    /// Set one key by hand, such as an importer's bookmark after a bad delivery. The plugin
    /// checks the value on its next run.
    #[command(after_help = "Examples:\n  moport state set aarhus-los last_import 2026-11-30T22:00:00Z")]
    Set {
        /// The plugin's name in plugins.toml.
        plugin: String,
        /// The key (see `moport state show PLUGIN`).
        key: String,
        /// The new value.
        value: String,
    },
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Write a made-up municipality as an MO snapshot file. The same persons, seed and date give
    /// the same file, byte for byte; every seed keeps the organisation, the classes and the top
    /// unit the shipped plugins.toml names.
    #[command(after_help = "Examples:\n  \
        moport demo generate --out demo/mo-snapshot.json   the built-in demo (300 persons, seed 1)\n  \
        moport demo generate --persons 100000 --seed 7 --out mo-100k.json\n  \
        moport run <plugin> --mo snapshot:mo-100k.json")]
    Generate {
        /// How many persons.
        #[arg(long, default_value_t = demo::built_in_spec().persons)]
        persons: usize,
        /// Seed of the random choices.
        #[arg(long, default_value_t = demo::built_in_spec().seed)]
        seed: u64,
        /// The date the data is current on: what is ended or future is relative to it.
        #[arg(long, value_name = "YYYY-MM-DD", default_value_t = demo::built_in_spec().as_of)]
        as_of: chrono::NaiveDate,
        /// The snapshot file to write (atomically).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// What a command can fail with: a run's error, or one of the commands' own.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("plugin `{plugin}` did not do what the fixture expects ({differences} differences, shown above)")]
    FixtureMismatch { plugin: String, differences: usize },
    #[error("`moport check {plugin}` found problems (see the lines above)")]
    CheckFailed { plugin: String, status: ExitStatus },
    #[error("the job failed: {}{}", failed.join(", "), if not_run.is_empty() { String::new() } else { format!("; not run: {}", not_run.join(", ")) })]
    JobFailed { failed: Vec<String>, not_run: Vec<String>, status: ExitStatus },
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("cannot write the manual pages in {}: {source}", folder.display())]
    Manual { folder: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Sdk(#[from] crate::sdk::SdkError),
}

impl CliError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            CliError::Run(err) => err.exit_status(),
            CliError::Fixture(FixtureError::Run(err)) => err.exit_status(),
            CliError::Fixture(_) | CliError::Template(_) => ExitStatus::Config,
            CliError::FixtureMismatch { .. } => ExitStatus::Internal,
            CliError::CheckFailed { status, .. } | CliError::JobFailed { status, .. } => *status,
            CliError::Ledger(_) | CliError::Manual { .. } => ExitStatus::Io,
            CliError::Sdk(crate::sdk::SdkError::Write { .. }) => ExitStatus::Io,
            CliError::Sdk(_) => ExitStatus::Usage,
        }
    }
}

as_run_error!(CliError: ManifestError, MoError, StateError);

/// The exit code of a check line's failure.
fn check_status(failing: Failing) -> ExitStatus {
    match failing {
        Failing::Config => ExitStatus::Config,
        Failing::Service => ExitStatus::Io,
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => tracing::Level::WARN,
        (false, 0) => tracing::Level::INFO,
        (false, 1) => tracing::Level::DEBUG,
        (false, _) => tracing::Level::TRACE,
    };
    logging::init(cli.log_format, level);
    let format = cli.log_format;
    // A job of several plugins prints each one's failure itself.
    let running = match &cli.command {
        Command::Run { plugins, .. } if plugins.len() == 1 => plugins.first().cloned(),
        _ => None,
    };
    let status = match execute(cli) {
        Ok(()) => ExitStatus::Success,
        Err(err) => {
            print_failure(format, running.as_deref(), &err, err.exit_status());
            err.exit_status()
        }
    };
    ExitCode::from(status as u8)
}

/// An error on stderr; under `--log-format json` also, for a plugin's run, its result object
/// on stdout, as a scheduler reading stdout wants one for a failed run too.
fn print_failure(format: LogFormat, plugin: Option<&str>, err: &dyn std::fmt::Display, status: ExitStatus) {
    match format {
        LogFormat::Human => logging::eprint_around_bars(&format!("error: {err}\n")),
        LogFormat::Json => {
            tracing::error!(exit_code = status as u8, "{err}");
            if let Some(plugin) = plugin {
                let error = moport_manifest::secret::redact(&err.to_string()).into_owned();
                say!("{}", serde_json::json!({"plugin": plugin, "exit_code": status as u8, "error": error}));
            }
        }
    }
}

/// Asks on the terminal; refuses where nobody can answer.
fn confirmed(question: &str, plugin: &str) -> Result<bool, RunError> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(StateError::NotConfirmed { plugin: plugin.to_owned() }.into());
    }
    say_part!("{question}");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes" | "j" | "ja"))
}

fn execute(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Demo(DemoCommand::Generate { persons, seed, as_of, out }) => {
            let file = demo::generate(&DemoSpec { persons: *persons, seed: *seed, as_of: *as_of });
            file.save(out).map_err(MoError::from)?;
            tracing::info!(persons, path = %out.display(), "wrote the demo municipality");
            return Ok(());
        }
        Command::Snapshot { mo, out } => return Ok(snapshot(mo, out)?),
        Command::Load { snapshot, mo, into_non_empty, dry_run } => {
            return Ok(load(snapshot, mo, *into_non_empty, *dry_run)?);
        }
        Command::New { name, world, dir, sdk } => {
            return new_plugin(name, *world, dir, sdk.as_deref(), &cli.config);
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "moport", &mut script);
            say_part!("{}", String::from_utf8_lossy(&script));
            return Ok(());
        }
        Command::Manual { out } => {
            let written = std::fs::create_dir_all(out).and_then(|()| clap_mangen::generate_to(Cli::command(), out));
            return written.map_err(|source| CliError::Manual { folder: out.clone(), source });
        }
        Command::Sdk { out } => {
            let sdk = crate::sdk::write_sdk(out)?;
            let sdk = std::path::absolute(&sdk).unwrap_or(sdk);
            say!("wrote moport's SDK to {}; a plugin crate depends on it as", out.display());
            say!("  moport-sdk = {{ path = {:?} }}", sdk.display().to_string());
            say!("(`moport new NAME --sdk {}` makes a crate that depends on it)", sdk.display());
            return Ok(());
        }
        _ => {}
    }
    let manifest = Manifest::load(&cli.config, crate::built_plugins())?;
    match cli.command {
        Command::Demo(_)
        | Command::Snapshot { .. }
        | Command::Load { .. }
        | Command::New { .. }
        | Command::Completions { .. }
        | Command::Manual { .. }
        | Command::Sdk { .. } => {
            unreachable!("handled before plugins.toml is read")
        }
        Command::State(command) => {
            let plugin = match &command {
                StateCommand::Show { plugin }
                | StateCommand::Clear { plugin, .. }
                | StateCommand::Set { plugin, .. } => plugin,
            };
            manifest.plugin(plugin)?;
            let store = StateStore::new(&manifest.state_dir, plugin);
            match &command {
                StateCommand::Show { .. } => match cli.output {
                    Output::Text => say_part!("{}", show_state(&store)?),
                    Output::Json => say!(
                        "{:#}",
                        serde_json::json!({"plugin": plugin, "path": store.path(), "values": store.load()?})
                    ),
                },
                StateCommand::Clear { yes, .. } => {
                    let _lock = moport_runtime::runner::run_lock(&manifest.state_dir, plugin, false)?;
                    if !store.path().exists() {
                        say!("`{plugin}` has no state ({} does not exist)", store.path().display());
                    } else if *yes || confirmed(&format!("{}forget all of this? [y/N] ", show_state(&store)?), plugin)?
                    {
                        store.clear()?;
                        say!("cleared the state of `{plugin}` ({} removed)", store.path().display());
                    } else {
                        say!("kept the state of `{plugin}`");
                    }
                }
                StateCommand::Set { key, value, .. } => {
                    let _lock = moport_runtime::runner::run_lock(&manifest.state_dir, plugin, false)?;
                    let before = store.set(key, value)?;
                    let was = before.map_or_else(|| "it had no value".to_owned(), |before| format!("was {before:?}"));
                    say!("set `{key}` of `{plugin}` to {value:?} ({was}); its next run starts from it");
                }
            }
            Ok(())
        }
        Command::List => {
            match cli.output {
                Output::Text => say_part!("{}", list(&manifest)),
                Output::Json => say!("{:#}", list_json(&manifest)),
            }
            Ok(())
        }
        Command::Inspect { plugin } => {
            let host = Host::new(manifest, cache(cli.cache_dir, cli.no_cache))?;
            let loaded = host.load(&plugin)?;
            match cli.output {
                Output::Text => say_part!("{}", inspect(&loaded)),
                Output::Json => say!("{:#}", inspect_json(&loaded)),
            }
            Ok(())
        }
        Command::Check { plugin, mo, mo_mode } => {
            let spec = mo_spec(mo, mo_mode, &manifest)?;
            let mut host = Host::new(manifest, cache(cli.cache_dir, cli.no_cache))?;
            if let Some(spec) = spec {
                host = host.with_mo_spec(spec);
            }
            let lines = runtime(&plugin)?.block_on(host.check(&plugin));
            let failed =
                lines.iter().find_map(|line| line.result.as_ref().err().map(|(failing, _)| check_status(*failing)));
            // What a server answered is shown, and a server may echo a credential.
            let redact = |text: &str| moport_manifest::secret::redact(text).into_owned();
            match cli.output {
                Output::Text => {
                    for line in &lines {
                        match &line.result {
                            Ok(found) => say!("ok      {}: {}", line.what, redact(found)),
                            Err((_, problem)) => say!("FAILED  {}: {}", line.what, redact(problem)),
                        }
                    }
                }
                Output::Json => {
                    let checks: Vec<_> = lines
                        .iter()
                        .map(|line| match &line.result {
                            Ok(found) => serde_json::json!({"what": line.what, "ok": true, "found": redact(found)}),
                            Err((failing, problem)) => serde_json::json!({
                                "what": line.what, "ok": false, "problem": redact(problem),
                                "exit_code": check_status(*failing) as u8,
                            }),
                        })
                        .collect();
                    let exit_code = failed.unwrap_or(ExitStatus::Success) as u8;
                    say!("{:#}", serde_json::json!({"plugin": plugin, "checks": checks, "exit_code": exit_code}));
                }
            }
            match failed {
                None => Ok(()),
                Some(status) => Err(CliError::CheckFailed { plugin, status }),
            }
        }
        Command::Test { plugin, fixture, update } => {
            let cache = cache(cli.cache_dir, cli.no_cache);
            let verdict =
                runtime(&plugin)?.block_on(crate::fixture::test(&manifest, &plugin, &fixture, cache, update))?;
            say_part!("{}", describe_verdict(&plugin, &fixture, &verdict));
            match verdict.mismatches.len() {
                0 => Ok(()),
                differences => Err(CliError::FixtureMismatch { plugin, differences }),
            }
        }
        Command::Run { plugins, keep_going, dry_run, mo, mo_mode, today, wait } => {
            // Every name is checked first: a typo at the end of a job must not let half of it run.
            for plugin in &plugins {
                manifest.plugin(plugin)?;
            }
            let spec = mo_spec(mo, mo_mode, &manifest)?;
            let recorder = Recorder::new(crate::metrics::Publisher::new(&manifest));
            let mut host = Host::new(manifest, cache(cli.cache_dir, cli.no_cache))?;
            if let Some(spec) = spec {
                host = host.with_mo_spec(spec);
            }
            let runtime = runtime(&plugins[0])?;
            recorder.stop_on_signals().map_err(|err| RunError::Internal {
                plugin: plugins[0].clone(),
                message: format!("cannot listen for SIGTERM and SIGINT: {err}"),
            })?;
            let options = RunOptions { dry_run, today, wait_for_other_run: wait, ..RunOptions::default() };
            let mut ended: Vec<(&str, ExitStatus)> = Vec::new();
            let mut single_failure = None;
            for plugin in &plugins {
                let failed = ended.iter().any(|(_, status)| *status != ExitStatus::Success);
                if recorder.stopped_by().is_some() || !keep_going && failed {
                    break;
                }
                match recorder.run(&runtime, &host, plugin, &options) {
                    Ok(outcome) => {
                        match cli.log_format {
                            LogFormat::Human => say_part!("{}", describe_outcome(plugin, &outcome)),
                            LogFormat::Json => say!("{}", outcome_json(plugin, &outcome)),
                        }
                        ended.push((plugin, ExitStatus::Success));
                    }
                    Err(err) => {
                        ended.push((plugin, err.exit_status()));
                        match plugins.len() {
                            1 => single_failure = Some(err),
                            _ => print_failure(cli.log_format, Some(plugin), &err, err.exit_status()),
                        }
                    }
                }
            }
            if let Some(err) = single_failure {
                return Err(err.into());
            }
            job_result(cli.log_format, &plugins, &ended, recorder.stopped_by())
        }
        Command::Runs { plugin, last } => {
            let (runs, unreadable) = crate::ledger::read(&manifest.state_dir, plugin.as_deref())?;
            if unreadable > 0 {
                let path = crate::ledger::path(&manifest.state_dir);
                tracing::warn!("{unreadable} lines of {} are not runs and are passed over", path.display());
            }
            let shown = &runs[runs.len().saturating_sub(last)..];
            match cli.output {
                Output::Json => {
                    let shown: Vec<serde_json::Value> = shown.iter().map(crate::ledger::Run::to_json).collect();
                    say!("{}", serde_json::to_string_pretty(&shown).expect("JSON values serialise"));
                }
                Output::Text => say_part!("{}", describe_runs(shown, plugin.as_deref())),
            }
            Ok(())
        }
    }
}

/// `--mo-mode`: `cache` or `direct`, each described in `--help`.
fn mo_mode() -> impl clap::builder::TypedValueParser<Value = Mode> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new([
        PossibleValue::new("cache").help("Each collection fetched whole once, then filtered in memory"),
        PossibleValue::new("direct").help("One filtered query per plugin call"),
    ])
    .map(|mode| if mode == "direct" { Mode::Direct } else { Mode::Cache })
}

/// The MO source `--mo` and `--mo-mode` name, if any (plugins.toml's otherwise).
fn mo_spec(mo: Option<String>, mo_mode: Option<Mode>, manifest: &Manifest) -> Result<Option<MoSourceSpec>, RunError> {
    Ok(match (mo, mo_mode) {
        (Some(text), mode) => Some(
            MoSourceSpec::parse(&text, std::path::Path::new(""), mode.unwrap_or_default())
                .map_err(|problem| RunError::MoSourceSpec { problem: format!("--mo: {problem}") })?,
        ),
        (None, Some(mode)) => match manifest.mo.clone() {
            Some(MoSourceSpec::Graphql { settings_json, .. }) => Some(MoSourceSpec::Graphql { settings_json, mode }),
            _ => {
                return Err(RunError::MoSourceSpec {
                    problem: "--mo-mode applies to a `graphql` source; name one with --mo or `mo` under [host]"
                        .to_owned(),
                });
            }
        },
        (None, None) => None,
    })
}

fn runtime(plugin: &str) -> Result<tokio::runtime::Runtime, RunError> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|err| RunError::Internal {
        plugin: plugin.to_owned(),
        message: format!("cannot start the async runtime: {err}"),
    })
}

/// The live MO `--mo` names for a command that needs one.
fn live_mo(command: &str, mo: &str) -> Result<std::sync::Arc<GraphqlSource>, RunError> {
    let spec = MoSourceSpec::parse(mo, std::path::Path::new(""), Mode::Cache)
        .map_err(|problem| RunError::MoSourceSpec { problem: format!("--mo: {problem}") })?;
    match MoSource::open(&spec)? {
        MoSource::Graphql(source) => Ok(source),
        MoSource::Snapshot(_) => Err(RunError::MoSourceSpec {
            problem: format!(
                "`moport {command}` needs a live MO: write `graphql` or `graphql:SETTINGS_JSON`, not `{mo}`"
            ),
        }),
    }
}

/// `moport load`: a snapshot into a live MO, as creates the writer puts in dependency order.
fn load(snapshot: &str, mo: &str, into_non_empty: bool, dry_run: bool) -> Result<(), RunError> {
    let file = match snapshot {
        "demo" => demo::built_in().file().clone(),
        path => Snapshot::load(std::path::Path::new(path)).map_err(MoError::from)?.file().clone(),
    };
    let source = live_mo("load", mo)?;
    let started = std::time::Instant::now();
    let changes = file.as_creates();
    let outcomes = runtime("-")?.block_on(async {
        if !into_non_empty {
            let mut holding = Vec::new();
            for (collection, read) in source.probe().await {
                if read.map_err(MoError::from)? > 0 {
                    holding.push(collection);
                }
            }
            if !holding.is_empty() {
                return Err(MoError::NotEmpty { url: source.client().endpoint(), holding: holding.join(", ") });
            }
        }
        moport_mo::graphql::mutations::apply(&source, &changes, dry_run)
            .await
            .map_err(|err| MoError::Load { problem: err.to_string() })
    })?;
    let count = |wanted: Outcome| outcomes.iter().filter(|outcome| **outcome == wanted).count();
    let verb = if dry_run { "would write" } else { "wrote" };
    say!(
        "{verb} {} validities of {} into MO at {}: {} created, {} updated, {} already as the snapshot says",
        changes.len(),
        file.organisation.name,
        source.client().endpoint(),
        count(Outcome::Created),
        count(Outcome::Updated),
        count(Outcome::Unchanged),
    );
    let traffic = &source.client().traffic;
    tracing::info!(
        requests = traffic.requests.load(std::sync::atomic::Ordering::Relaxed),
        seconds = started.elapsed().as_secs_f64(),
        "loaded the snapshot"
    );
    Ok(())
}

/// `moport snapshot`: the whole MO into one file, or nothing written at all.
fn snapshot(mo: &str, out: &std::path::Path) -> Result<(), RunError> {
    let source = live_mo("snapshot", mo)?;
    let started = std::time::Instant::now();
    let file = runtime("-")?.block_on(source.snapshot()).map_err(MoError::from)?;
    // Checked as a load would check it, so a file moport writes is one moport reads.
    let snapshot = Snapshot::new(out, file).map_err(MoError::from)?;
    let file = snapshot.file();
    file.save(out).map_err(MoError::from)?;
    let traffic = &source.client().traffic;
    tracing::info!(
        path = %out.display(),
        employees = file.employees.len(),
        org_units = file.org_units.len(),
        requests = traffic.requests.load(std::sync::atomic::Ordering::Relaxed),
        retries = traffic.retries.load(std::sync::atomic::Ordering::Relaxed),
        seconds = started.elapsed().as_secs_f64(),
        "wrote the MO snapshot"
    );
    Ok(())
}

/// `moport new`: the crate, and its plugins.toml entry.
fn new_plugin(
    name: &str,
    world: crate::template::World,
    dir: &std::path::Path,
    sdk: Option<&std::path::Path>,
    config: &std::path::Path,
) -> Result<(), CliError> {
    // Inside the moport workspace (its members include `plugins/*`) the crate takes the
    // workspace's SDK; elsewhere it names the SDK's folder.
    let parent = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let in_workspace = parent.ends_with("plugins") && parent.parent().is_some_and(is_moport_workspace);
    // Before an SDK is written anywhere: a crate that cannot be made needs none.
    crate::template::check(name, &parent, config)?;
    let sdk = match (in_workspace, sdk) {
        (true, _) => None,
        (false, Some(sdk)) => {
            let sdk = std::path::absolute(sdk).unwrap_or_else(|_| sdk.to_owned());
            if !crate::sdk::is_sdk(&sdk) {
                return Err(crate::sdk::SdkError::NotAnSdk { folder: sdk }.into());
            }
            Some(sdk)
        }
        (false, None) => match checkout_sdk(&parent) {
            Some(sdk) => Some(sdk),
            None => {
                let folder = crate::sdk::user_sdk_folder()?;
                let sdk = crate::sdk::write_sdk(&folder)?;
                say!("wrote   moport's SDK to {} (the crate depends on it by path)", folder.display());
                Some(sdk)
            }
        },
    };
    let made = crate::template::generate(name, world, &parent, config, sdk.as_deref())?;
    for file in &made.files {
        say!("wrote   {}", file.display());
    }
    say!(
        "\nNext:\n  cargo build{}\n  cargo test{}\n  moport test {name} --fixture {}\n  moport run {name} --mo demo{}",
        if in_workspace {
            String::new()
        } else {
            format!(" --manifest-path {}/Cargo.toml --release --target wasm32-wasip2", made.crate_dir.display())
        },
        if in_workspace {
            format!(" -p {name}")
        } else {
            format!(" --manifest-path {}/Cargo.toml", made.crate_dir.display())
        },
        made.crate_dir.join("fixture").display(),
        if world == crate::template::World::Importer { " --dry-run" } else { "" },
    );
    Ok(())
}

/// Whether `root` is a moport checkout's workspace, whose members may take the SDK as
/// `moport-sdk.workspace = true` (a folder `moport sdk --out` wrote is not: it has no such key).
fn is_moport_workspace(root: &std::path::Path) -> bool {
    std::fs::read_to_string(root.join("Cargo.toml")).ok().and_then(|text| text.parse::<toml::Table>().ok()).is_some_and(
        |manifest| {
            manifest.get("workspace").and_then(|w| w.get("dependencies")).and_then(|d| d.get("moport-sdk")).is_some()
        },
    )
}

/// `plugins/sdk` of the moport checkout `folder` lies in, if it lies in one.
fn checkout_sdk(folder: &std::path::Path) -> Option<PathBuf> {
    folder.ancestors().map(|dir| dir.join(crate::sdk::SDK_CRATE)).find(|sdk| crate::sdk::is_sdk(sdk))
}

fn describe_verdict(plugin: &str, fixture: &std::path::Path, verdict: &crate::fixture::Verdict) -> String {
    use crate::fixture::Mismatch;
    let mut out = String::new();
    for mismatch in &verdict.mismatches {
        match mismatch {
            Mismatch::Missing(name) => {
                let _ = writeln!(out, "MISSING     {name}: expected, not written");
            }
            Mismatch::Unexpected(name) => {
                let _ = writeln!(out, "UNEXPECTED  {name}: written, not expected");
            }
            Mismatch::Differs(name, diff) => {
                let _ = writeln!(out, "DIFFERS     {name}:\n{diff}");
            }
        }
    }
    for path in &verdict.updated {
        let _ = writeln!(out, "updated     {}", path.display());
    }
    let _ = writeln!(
        out,
        "{plugin}: {} against {} ({})",
        match verdict.mismatches.len() {
            0 => "ok".to_owned(),
            n => format!("{n} differences"),
        },
        fixture.display(),
        verdict.outcome.report.summary
    );
    out
}

fn cache(dir: Option<PathBuf>, disabled: bool) -> ComponentCache {
    ComponentCache::new(if disabled { None } else { dir.or_else(ComponentCache::default_dir) })
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn a_signal_sets_a_job_s_exit_code_only_where_it_cut_the_job_short() {
        use super::{CliError, ExitStatus, LogFormat, job_result};
        let plugins = ["aarhus-los".to_owned(), "plan2learn".to_owned()];
        let status = |result: Result<(), CliError>| result.err().map(|err| err.exit_status());
        let (ok, failed) = (ExitStatus::Success, ExitStatus::PluginFailed);
        // Between the two: the second is not run.
        let between = job_result(LogFormat::Human, &plugins, &[("aarhus-los", ok)], Some("SIGTERM"));
        assert_eq!(status(between), Some(ExitStatus::Terminated));
        // During the second, which stopped: the stop's code, not the first failure's.
        let during = [("aarhus-los", failed), ("plan2learn", ExitStatus::Interrupted)];
        assert_eq!(
            status(job_result(LogFormat::Human, &plugins, &during, Some("SIGINT"))),
            Some(ExitStatus::Interrupted)
        );
        // During the second, which finished anyway: the runs' own codes.
        let finished = [("aarhus-los", ok), ("plan2learn", ok)];
        assert_eq!(status(job_result(LogFormat::Human, &plugins, &finished, Some("SIGTERM"))), None);
        let finished = [("aarhus-los", failed), ("plan2learn", ok)];
        assert_eq!(status(job_result(LogFormat::Human, &plugins, &finished, Some("SIGTERM"))), Some(failed));
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_s_help_shows_examples() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            let subcommands: Vec<_> = command.get_subcommands().filter(|sub| sub.get_name() != "help").collect();
            if subcommands.is_empty() {
                let help = command.get_after_help().map(ToString::to_string).unwrap_or_default();
                if !help.contains("Examples:") {
                    missing.push(path.clone());
                }
            }
            for sub in subcommands {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no examples in the help of: {missing:?}");
    }
}
