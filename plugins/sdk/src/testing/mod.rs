//! Runs a plugin's `run` natively, under plain `cargo test`, against a test double of the host:
//! MO data in memory, the output folder and remote targets in memory, settings, state, a DAR
//! table and a fixed clock. Natively every capability function of the SDK is served by the
//! [`TestHost`] running the plugin on the current thread; outside [`TestHost::run`] they panic.
//!
//! ```
//! use moport_sdk::mo::{self, Query};
//! use moport_sdk::testing::TestHost;
//! use moport_sdk::{Plugin, PluginError, Report, RunContext, files, settings};
//!
//! struct UnitCount;
//!
//! impl Plugin for UnitCount {
//!     fn run(ctx: RunContext) -> Result<Report, PluginError> {
//!         let file = settings::require_str("file")?;
//!         let units = mo::org_units(&Query::today())?;
//!         if !ctx.dry_run {
//!             files::write(&file, format!("{} units on {}\n", units.len(), ctx.today).as_bytes())?;
//!         }
//!         Ok(Report::new("counted").count("units", units.len() as u64))
//!     }
//! }
//!
//! let mut host = TestHost::new().today("2026-11-23").setting("file", "units.txt").mo_snapshot_json(
//!     r#"{"format": "moport-snapshot", "version": 1, "org_units": [
//!         {"uuid": "a1", "user_key": "K", "name": "Kommune", "validity": {"from": "2007-01-01"}},
//!         {"uuid": "a2", "user_key": "G", "name": "Gammel", "validity": {"from": "2007-01-01", "to": "2020-01-01"}}
//!     ]}"#,
//! );
//! let report = host.run::<UnitCount>().expect("the run succeeds");
//! assert_eq!(report.counts, [("units".to_owned(), 1)]);
//! assert_eq!(host.file("units.txt"), Some(&b"1 units on 2026-11-23\n"[..]));
//! ```
//!
//! [`TestHost::run_with`] runs a closure the same way, to test one function of a plugin that
//! calls the host. A host outlives its runs: a second run sees the files, remote files,
//! committed state and MO the first one left, so a test can check what a re-run does. An
//! importer's test can compare [`TestHost::mo`] with an expected snapshot read by
//! [`MoData::from_snapshot_json`].
//!
//! What the double serves:
//! - MO reads and writes go through `moport-mo-rules`, the rules the host applies to a snapshot
//!   file: reads honour every [`Query`](crate::mo::Query) filter (uuids, the window with `to`
//!   exclusive and today when none is given, `under_org_units` following parents valid in the
//!   window, `facet_user_keys` for classes) and return records ordered by uuid and then start.
//!   mo-write batches are judged as the host judges them (docs/mo-write.md): all or nothing, by
//!   their net effect, `Unchanged` for what MO already holds; fields MO works out (a class's
//!   `facet_user_key`, an address's `scope`) are joined in and an engagement has its ten
//!   extensions, as the host's snapshot loader puts them, also for the MO a test starts with.
//!   Under a dry run the outcomes are worked out and MO stays as it was.
//! - Files and remote files are kept in memory, refusing paths the host refuses (`..`, absolute
//!   paths, names beginning `.moport-`); writing to a remote target makes it. A run that fails
//!   leaves the output folder as it was, as the host publishes a run's files only when the run
//!   succeeds (remote writes are not undone). Files are written under a dry run too: the real
//!   host leaves it to the plugin not to write then, and the test can check that it does not.
//!
//! What it does not model, so what `moport test NAME --fixture DIR` on the compiled component
//! still checks:
//! - grants and limits: every capability is available and nothing is metered;
//! - a live MO's own answers (docs/mo-graphql.md): the records are what the rules make of them;
//! - log levels and progress: [`crate::log::enabled`] is true for every level, and progress is
//!   not recorded; remote entries have no `modified` time.

pub(crate) mod capabilities;
mod mo;
#[cfg(test)]
mod tests;

pub use mo::MoData;

use crate::dar::Address as DarAddress;
use crate::dates::Date;
use crate::log::Level;
use crate::mo::write::Change;
use crate::{Plugin, PluginError, Report, RunContext};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// A refusal of the rules the host and this test host share (`moport-types`,
/// `moport-mo-rules`), as a plugin gets it.
pub(crate) fn call_error(err: &moport_types::CallError) -> crate::CallError {
    match err.clone() {
        moport_types::CallError::Denied(m) => crate::CallError::Denied(m),
        moport_types::CallError::Invalid(m) => crate::CallError::Invalid(m),
        moport_types::CallError::NotFound(m) => crate::CallError::NotFound(m),
        moport_types::CallError::Unavailable(m) => crate::CallError::Unavailable(m),
    }
}

/// A stubbed host: build it with what the host holds before the run, [`run`](TestHost::run) a
/// plugin, then inspect what the run left behind.
#[derive(Debug, Clone)]
pub struct TestHost {
    today: String,
    started_at: String,
    dry_run: bool,
    settings: BTreeMap<String, serde_json::Value>,
    /// As the host's snapshot loader puts MO: the builder tidies it and writes keep it so.
    mo: MoData,
    files: BTreeMap<String, Vec<u8>>,
    /// Target name, then path in the target.
    remote: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// As the last successful run left it.
    state: BTreeMap<String, String>,
    /// Addresses by their text as [`capabilities::dar`] matches it.
    dar: BTreeMap<String, DarAddress>,
    logs: Vec<(Level, String)>,
    applied: Vec<Change>,
}

impl Default for TestHost {
    fn default() -> Self {
        TestHost::new()
    }
}

impl TestHost {
    /// An empty host on a fixed clock: today is 2026-01-01 and the run starts at its midnight
    /// UTC; not a dry run.
    pub fn new() -> TestHost {
        TestHost {
            today: "2026-01-01".to_owned(),
            started_at: "2026-01-01T00:00:00Z".to_owned(),
            dry_run: false,
            settings: BTreeMap::new(),
            mo: MoData::default(),
            files: BTreeMap::new(),
            remote: BTreeMap::new(),
            state: BTreeMap::new(),
            dar: BTreeMap::new(),
            logs: Vec::new(),
            applied: Vec::new(),
        }
    }

    /// The run's date (`YYYY-MM-DD`), which is also what MO reads take as today. The run then
    /// starts at its midnight UTC; set [`started_at`](TestHost::started_at) after this to
    /// change that.
    ///
    /// # Panics
    ///
    /// When `day` is not a date like `2026-11-23`.
    pub fn today(mut self, day: &str) -> TestHost {
        assert!(Date::parse(day).is_some(), "TestHost::today: `{day}` is not a date like 2026-11-23");
        self.today = day.to_owned();
        self.started_at = format!("{day}T00:00:00Z");
        self
    }

    /// When the run starts, RFC 3339 in UTC, as [`RunContext::started_at`] hands it over.
    pub fn started_at(mut self, timestamp: &str) -> TestHost {
        self.started_at = timestamp.to_owned();
        self
    }

    /// Runs as `moport run --dry-run` would: [`RunContext::dry_run`] is set, mo-write changes
    /// nothing and state is not kept. Files and remote writes are captured all the same, as the
    /// real host leaves it to the plugin not to write under a dry run.
    pub fn dry_run(mut self, dry_run: bool) -> TestHost {
        self.dry_run = dry_run;
        self
    }

    /// A plugin setting, as under `[plugins.NAME.settings]` in plugins.toml.
    pub fn setting(mut self, key: &str, value: impl Into<serde_json::Value>) -> TestHost {
        self.settings.insert(key.to_owned(), value.into());
        self
    }

    /// MO as these collections hold it, put as the host's snapshot loader puts it.
    ///
    /// # Panics
    ///
    /// When the host would refuse the collections (two validities of one object overlap, a
    /// date that is no date, more than ten extensions), with the reason.
    pub fn mo_data(mut self, data: MoData) -> TestHost {
        self.mo = data.tidied().unwrap_or_else(|reason| panic!("TestHost::mo_data: {reason}"));
        self
    }

    /// MO from a snapshot file's text (docs/snapshot-format.md), such as a fixture's `mo.json`
    /// through `include_str!`.
    ///
    /// # Panics
    ///
    /// When the text is not a version 1 snapshot the host would take, with the reason.
    pub fn mo_snapshot_json(mut self, json: &str) -> TestHost {
        self.mo =
            MoData::from_snapshot_json(json).unwrap_or_else(|reason| panic!("TestHost::mo_snapshot_json: {reason}"));
        self
    }

    /// A file on the remote target `target` before the run; the target then exists.
    ///
    /// # Panics
    ///
    /// When `path` is not a relative path without `..`.
    pub fn remote(mut self, target: &str, path: &str, contents: impl Into<Vec<u8>>) -> TestHost {
        let path = capabilities::remote_path(path, false).unwrap_or_else(|err| panic!("TestHost::remote: {err}"));
        self.remote.entry(target.to_owned()).or_default().insert(path, contents.into());
        self
    }

    /// A value in the plugin's state before the run.
    pub fn state(mut self, key: &str, value: &str) -> TestHost {
        self.state.insert(key.to_owned(), value.to_owned());
        self
    }

    /// A DAR address, found by [`crate::dar::lookup_text`] for `text` (ignoring case and runs
    /// of spaces, as the host's offline table does) and by [`crate::dar::get`] for its `id`.
    pub fn dar_address(mut self, text: &str, address: DarAddress) -> TestHost {
        self.dar.insert(capabilities::dar_key(text), address);
        self
    }

    /// Runs plugin `P` once, as the host would: with a [`RunContext`] for the plugin `test` on
    /// this host's clock, and every capability call served by this host. Logs and
    /// [`applied`](TestHost::applied) changes start empty for each run; files, remote files, MO
    /// and state carry over from earlier runs.
    ///
    /// State set during the run is committed only when the run returns `Ok` and is not a dry
    /// run, as the real host does; a panic in the plugin commits nothing either.
    pub fn run<P: Plugin>(&mut self) -> Result<Report, PluginError> {
        self.run_with(P::run)
    }

    /// Runs `body` as [`run`](TestHost::run) runs a plugin, for testing a function of a plugin
    /// that calls the host (`host.run_with(|_ctx| read_mo(...))`) without running all of it.
    pub fn run_with<T, E>(&mut self, body: impl FnOnce(RunContext) -> Result<T, E>) -> Result<T, E> {
        let dry_run = self.dry_run;
        let ctx = RunContext {
            plugin: "test".to_owned(),
            dry_run,
            started_at: self.started_at.clone(),
            today: self.today.clone(),
        };
        self.logs.clear();
        self.applied.clear();
        let mut installed = Installed::new(self);
        let result = body(ctx);
        installed.succeeded = result.is_ok();
        installed.commit_state = result.is_ok() && !dry_run;
        drop(installed);
        result
    }

    /// A file the plugin left in its output folder.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Every file in the output folder, by path.
    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    /// A file on a remote target, as given to [`remote`](TestHost::remote) or written by the
    /// plugin.
    pub fn remote_file(&self, target: &str, path: &str) -> Option<&[u8]> {
        let path = capabilities::remote_path(path, false).ok()?;
        self.remote.get(target)?.get(&path).map(Vec::as_slice)
    }

    /// A value of the committed state: what the host would keep for the next run. A run that
    /// failed, panicked or was a dry run leaves it as it was before.
    pub fn state_value(&self, key: &str) -> Option<&str> {
        self.state.get(key).map(String::as_str)
    }

    /// The last run's log messages, in order.
    pub fn logs(&self) -> &[(Level, String)] {
        &self.logs
    }

    /// The changes the last run passed to [`crate::mo::write::apply`] in batches the host
    /// accepted, in order. Under a dry run too: MO is then left as it was, but the plan is here,
    /// as the real host logs it.
    pub fn applied(&self) -> &[Change] {
        &self.applied
    }

    /// MO as the runs left it, every collection ordered by uuid and then start.
    pub fn mo(&self) -> &MoData {
        &self.mo
    }
}

/// A run in progress: the host, and the state as the run sees it until it is committed.
pub(crate) struct Session {
    host: TestHost,
    state: BTreeMap<String, String>,
}

thread_local! {
    /// The session of the plugin running on this thread. The test harness runs each test on a
    /// thread of its own, so parallel tests never share a host.
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// Serves one capability call from the running session.
///
/// # Panics
///
/// Outside [`TestHost::run`], at the plugin's line that made the call.
#[track_caller]
pub(crate) fn serve<R>(call: impl FnOnce(&mut Session) -> R) -> R {
    match SESSION.with_borrow_mut(|session| session.as_mut().map(call)) {
        Some(answer) => answer,
        None => panic!(
            "a moport host capability was called natively outside `TestHost::run`: run the plugin with \
             `moport_sdk::testing::TestHost::new().run::<YourPlugin>()`, or test a function that makes no host calls"
        ),
    }
}

/// The host installed in [`SESSION`] for one run. Dropping it puts the host back, also when the
/// plugin panics, so the test can still inspect it.
struct Installed<'a> {
    host: &'a mut TestHost,
    /// The output folder before the run: a run that fails leaves it so, as the host publishes
    /// a run's files only when the run succeeds.
    files_before: BTreeMap<String, Vec<u8>>,
    succeeded: bool,
    commit_state: bool,
}

impl<'a> Installed<'a> {
    fn new(host: &'a mut TestHost) -> Installed<'a> {
        let running = SESSION.with_borrow(Option::is_some);
        assert!(!running, "TestHost::run was called inside a run: a plugin run cannot start another");
        let state = host.state.clone();
        let files_before = host.files.clone();
        SESSION.set(Some(Session { host: std::mem::take(host), state }));
        Installed { host, files_before, succeeded: false, commit_state: false }
    }
}

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        if let Some(session) = SESSION.take() {
            *self.host = session.host;
            if !self.succeeded {
                self.host.files = std::mem::take(&mut self.files_before);
            }
            if self.commit_state {
                self.host.state = session.state;
            }
        }
    }
}
