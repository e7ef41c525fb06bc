//! `mo-read`: MO's collections, filtered as MO filters them. One module per backend: a snapshot
//! file (or the built-in demo) held in memory, or a live MO over GraphQL v30.

pub mod demo;
pub mod filter;
pub mod graphql;
pub mod snapshot;
pub mod write;

use super::HostState;
use crate::bindings::moport::host::mo_read::{
    Address, Class, Collection, Employee, Engagement, Facet, Host, ItSystem, ItUser, Manager, OrgUnit, Organisation,
    Query,
};
use crate::bindings::moport::host::mo_write::{self, Change, Outcome};
use crate::bindings::moport::host::types::CallError;
use filter::Filter;
use graphql::collections as gql;
use graphql::{GraphqlError, GraphqlSource, Mode};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Changes a dry run lists at info level; a large import plans tens of thousands.
const PLAN_LINES_SHOWN: usize = 200;

#[derive(Debug, Error)]
pub enum MoError {
    #[error(transparent)]
    Snapshot(#[from] snapshot::SnapshotError),
    #[error(transparent)]
    Graphql(#[from] GraphqlError),
    #[error(
        "MO at {url} already holds {holding}; `moport load` writes into an empty MO unless given \
         --into-non-empty"
    )]
    NotEmpty { url: String, holding: String },
    #[error("MO refused the load: {problem}; what MO took is kept, and running the load again sends only the rest")]
    Load { problem: String },
}

/// Where a run reads MO from.
#[derive(Clone)]
pub enum MoSource {
    Snapshot(Arc<snapshot::SnapshotStore>),
    Graphql(Arc<GraphqlSource>),
}

impl MoSource {
    /// A snapshot held in memory only: writes last as long as the source.
    pub fn in_memory(snapshot: snapshot::Snapshot) -> MoSource {
        MoSource::Snapshot(Arc::new(snapshot::SnapshotStore::new(snapshot, None)))
    }

    /// Whether what is written outlasts this process (not so for `--mo demo`, nor for the MO of
    /// `moport test`).
    pub fn keeps_writes(&self) -> bool {
        match self {
            MoSource::Snapshot(store) => store.keeps_writes(),
            MoSource::Graphql(_) => true,
        }
    }
}

/// An MO source as the operator names it, with `--mo` or `[host] mo` in plugins.toml. There is
/// deliberately no implicit default: a run that reads MO says where from, so demo data never
/// ships by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoSourceSpec {
    /// The demo municipality built into moport (docs/demo.md).
    Demo,
    /// A snapshot file (docs/snapshot-format.md).
    Snapshot(PathBuf),
    /// A live MO, with DIPEX's settings.json when given (docs/mo-graphql.md).
    Graphql { settings_json: Option<PathBuf>, mode: Mode },
}

impl MoSourceSpec {
    pub const SYNTAX: &'static str = "`demo` (the built-in demo municipality), `snapshot:FILE` (a snapshot file), \
        `graphql` (a live MO, settings from the environment) or `graphql:SETTINGS_JSON` (DIPEX's settings.json)";

    /// Reads `demo`, `snapshot:FILE`, `graphql` or `graphql:FILE`; a relative FILE is taken
    /// from `base`. `mode` applies to `graphql` only.
    pub fn parse(text: &str, base: &Path, mode: Mode) -> Result<MoSourceSpec, String> {
        match text.split_once(':') {
            None if text == "demo" => Ok(MoSourceSpec::Demo),
            None if text == "graphql" => Ok(MoSourceSpec::Graphql { settings_json: None, mode }),
            Some(("snapshot", path)) if !path.is_empty() => Ok(MoSourceSpec::Snapshot(base.join(path))),
            Some(("graphql", path)) if !path.is_empty() => {
                Ok(MoSourceSpec::Graphql { settings_json: Some(base.join(path)), mode })
            }
            _ => Err(format!("`{text}` is not an MO source; write {}", Self::SYNTAX)),
        }
    }

    pub fn open(&self) -> Result<MoSource, MoError> {
        Ok(match self {
            MoSourceSpec::Demo => MoSource::in_memory(demo::built_in()),
            MoSourceSpec::Snapshot(path) => MoSource::Snapshot(Arc::new(snapshot::SnapshotStore::new(
                snapshot::Snapshot::load(path)?,
                Some(path.clone()),
            ))),
            MoSourceSpec::Graphql { settings_json, mode } => {
                let settings =
                    graphql::settings::GraphqlSettings::load(settings_json.as_deref(), |var| std::env::var(var).ok())?;
                MoSource::Graphql(Arc::new(GraphqlSource::new(settings, *mode, Default::default())?))
            }
        })
    }
}

impl std::fmt::Display for MoSourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MoSourceSpec::Demo => f.write_str("demo"),
            MoSourceSpec::Snapshot(path) => write!(f, "snapshot:{}", path.display()),
            MoSourceSpec::Graphql { settings_json: None, mode } => write!(f, "graphql ({mode:?} mode)"),
            MoSourceSpec::Graphql { settings_json: Some(path), mode } => {
                write!(f, "graphql:{} ({mode:?} mode)", path.display())
            }
        }
    }
}

/// A plugin's access to MO in one run.
pub struct MoAccess {
    pub source: MoSource,
    /// The run's date, which "valid today" refers to.
    pub today: chrono::NaiveDate,
    /// Granted `mo = "write"`.
    pub write: bool,
    /// `--dry-run`: writes are worked out and logged, not made.
    pub dry_run: bool,
    /// Fetches the plugin asked for ahead of its reads, stopped when the run ends.
    pub prefetching: Vec<tokio::task::AbortHandle>,
}

impl Drop for MoAccess {
    fn drop(&mut self) {
        for fetch in &self.prefetching {
            fetch.abort();
        }
    }
}

impl MoAccess {
    async fn select<C: graphql::Kept>(
        &self,
        query: &Query,
        rows: impl Fn(&snapshot::Snapshot) -> &[C::Record],
    ) -> Result<Vec<C::Record>, CallError> {
        let result = match &self.source {
            MoSource::Snapshot(store) => {
                let snapshot = store.current();
                Filter::new(query, self.today, snapshot.org_units()).and_then(|filter| filter.select(rows(&snapshot)))
            }
            MoSource::Graphql(mo) => mo.select::<C>(query, self.today).await,
        };
        if let Err(CallError::Unavailable(problem)) = &result {
            tracing::error!("{problem}");
        }
        result
    }

    fn prefetch(&mut self, collections: &[Collection]) {
        if let MoSource::Graphql(mo) = &self.source {
            // The source starts at most one fetch per collection, however often it is asked.
            self.prefetching.retain(|fetch| !fetch.is_finished());
            self.prefetching.extend(mo.prefetch(collections));
        }
    }

    async fn organisation(&self) -> Result<Organisation, CallError> {
        match &self.source {
            MoSource::Snapshot(store) => Ok(store.current().organisation().clone()),
            MoSource::Graphql(mo) => mo.organisation().await.map_err(|err| {
                tracing::error!("{err}");
                CallError::from(err)
            }),
        }
    }
}

impl MoAccess {
    async fn apply(&self, changes: Vec<Change>) -> Result<Vec<Outcome>, CallError> {
        let result = match &self.source {
            MoSource::Snapshot(store) => store.apply(&changes, self.dry_run),
            MoSource::Graphql(mo) => graphql::mutations::apply(mo, &changes, self.dry_run).await,
        };
        match &result {
            Ok(outcomes) => {
                // Each change that does something, at info under a dry run (the plan is what the
                // operator asked to see) up to a screenful, at debug otherwise and after that.
                let mut shown = 0;
                for (change, outcome) in changes.iter().zip(outcomes) {
                    let (kind, uuid) = write::named(change);
                    if matches!(outcome, Outcome::Unchanged | Outcome::Missing) {
                        continue;
                    }
                    let verb = match (outcome, self.dry_run) {
                        (Outcome::Created, true) => "would create",
                        (Outcome::Updated, true) => "would update",
                        (_, true) => "would terminate",
                        (Outcome::Created, false) => "created",
                        (Outcome::Updated, false) => "updated",
                        (_, false) => "terminated",
                    };
                    let kind = write::kind_name(kind);
                    if self.dry_run && shown < PLAN_LINES_SHOWN {
                        tracing::info!("{verb} {kind} {uuid}");
                        shown += 1;
                    } else {
                        tracing::debug!("{verb} {kind} {uuid}");
                    }
                }
                let doing = outcomes.iter().filter(|o| !matches!(o, Outcome::Unchanged | Outcome::Missing)).count();
                if self.dry_run && doing > shown {
                    tracing::info!("... and {} more changes (-v lists them all)", doing - shown);
                }
                let count = |wanted: Outcome| outcomes.iter().filter(|o| **o == wanted).count();
                tracing::info!(
                    dry_run = self.dry_run,
                    created = count(Outcome::Created),
                    updated = count(Outcome::Updated),
                    terminated = count(Outcome::Terminated),
                    unchanged = count(Outcome::Unchanged),
                    missing = count(Outcome::Missing),
                    "{} {} changes to MO",
                    if self.dry_run { "worked out (dry run, nothing written)" } else { "applied" },
                    changes.len()
                );
            }
            Err(err) => {
                tracing::error!(
                    "MO refused a batch of {} changes: {}",
                    changes.len(),
                    crate::caps::describe_call_error(err)
                );
            }
        }
        result
    }
}

fn not_granted() -> CallError {
    CallError::Denied("reading MO is not granted: add `mo = \"read\"` under the plugin's [grants]".into())
}

macro_rules! collection {
    ($($method:ident -> $ty:ty, $collection:ty;)*) => {$(
        async fn $method(&mut self, query: Query) -> wasmtime::Result<Result<Vec<$ty>, CallError>> {
            Ok(match &self.mo {
                Some(access) => access.select::<$collection>(&query, |snapshot| snapshot.$method()).await,
                None => Err(not_granted()),
            })
        }
    )*};
}

impl mo_write::Host for HostState {
    async fn apply(&mut self, changes: Vec<Change>) -> wasmtime::Result<Result<Vec<Outcome>, CallError>> {
        Ok(match &self.mo {
            Some(access) if access.write => access.apply(changes).await,
            _ => Err(CallError::Denied(
                "writing MO is not granted: set `mo = \"write\"` under the plugin's [grants]".into(),
            )),
        })
    }
}

impl Host for HostState {
    async fn prefetch(&mut self, collections: Vec<Collection>) -> wasmtime::Result<Result<(), CallError>> {
        Ok(match &mut self.mo {
            Some(access) => {
                access.prefetch(&collections);
                Ok(())
            }
            None => Err(not_granted()),
        })
    }

    async fn root_organisation(&mut self) -> wasmtime::Result<Result<Organisation, CallError>> {
        Ok(match &self.mo {
            Some(access) => access.organisation().await,
            None => Err(not_granted()),
        })
    }

    collection! {
        facets -> Facet, gql::Facets;
        classes -> Class, gql::Classes;
        org_units -> OrgUnit, gql::OrgUnits;
        employees -> Employee, gql::Employees;
        engagements -> Engagement, gql::Engagements;
        managers -> Manager, gql::Managers;
        addresses -> Address, gql::Addresses;
        it_systems -> ItSystem, gql::ItSystems;
        it_users -> ItUser, gql::ItUsers;
    }
}
