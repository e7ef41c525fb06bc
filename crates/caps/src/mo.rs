//! `mo-read` and `mo-write`: MO's collections, filtered as MO filters them, and writes judged by
//! MO's rules, from the source the run was given (`moport-mo`).

use crate::{CheckLine, Failing, HostState};
use moport_mo::MoSource;
use moport_mo::graphql::{self, GraphqlError, collections as gql};
use moport_mo::snapshot;
use moport_mo_rules::Filter;
use moport_types::CallError;
use moport_types::mo::{Change, Collection, Organisation, Outcome, Query};
use moport_wit::moport::host::{mo_read, mo_write, types};

/// Changes a dry run lists at info level; a large import plans tens of thousands.
const PLAN_LINES_SHOWN: usize = 200;

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
    prefetching: Vec<tokio::task::AbortHandle>,
    /// When the run's time is up: a batch worked out after it is not written.
    deadline: std::time::Instant,
}

impl MoAccess {
    /// One run's access to `source` on the date `today`; writes only when `write` (granted
    /// `mo = "write"` and imported), worked out but not made under `dry_run`.
    pub fn new(
        source: MoSource,
        today: chrono::NaiveDate,
        write: bool,
        dry_run: bool,
        deadline: std::time::Instant,
    ) -> MoAccess {
        MoAccess { source, today, write, dry_run, prefetching: Vec::new(), deadline }
    }
}

/// What `moport check` says of MO: what a snapshot holds; of a live MO, that a token was given
/// and the organisation read, and, as MO answers the organisation even where every read then
/// fails, one object of each collection.
pub async fn check(source: &MoSource) -> Vec<CheckLine> {
    let mo = match source {
        MoSource::Snapshot(store) => {
            let snapshot = store.current();
            let held = format!(
                "{}: {} employees, {} org units",
                snapshot.organisation().name,
                snapshot.employees().len(),
                snapshot.org_units().len()
            );
            return vec![CheckLine::new("MO", Ok(held))];
        }
        MoSource::Graphql(mo) => mo,
    };
    let failed = |err: GraphqlError| {
        let failing = if err.is_service_failure() { Failing::Service } else { Failing::Config };
        (failing, err.to_string())
    };
    let organisation = mo.organisation().await;
    let mut collections = Vec::new();
    if organisation.is_ok() {
        for (collection, read) in mo.probe().await {
            let result = read.map(|n| if n == 0 { "readable, empty" } else { "readable" }.to_owned());
            collections.push(CheckLine::new(format!("MO {collection}"), result.map_err(failed)));
        }
    }
    let answered = organisation
        .map(|org| format!("{} at {} (token and query answered)", org.name, mo.client().endpoint()))
        .map_err(failed);
    let mut lines = vec![CheckLine::new("MO", answered)];
    lines.append(&mut collections);
    lines
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
        let (result, changes) = match &self.source {
            // Worked out off the async executor, so the run's time limit holds while it works; a
            // batch done after the limit is not written.
            MoSource::Snapshot(store) => {
                let (store, dry_run, deadline) = (store.clone(), self.dry_run, self.deadline);
                tokio::task::spawn_blocking(move || (store.apply(&changes, dry_run, Some(deadline)), changes))
                    .await
                    .map_err(|err| CallError::Unavailable(format!("working the batch out failed: {err}")))?
            }
            MoSource::Graphql(mo) => (graphql::mutations::apply(mo, &changes, self.dry_run).await, changes),
        };
        match &result {
            Ok(outcomes) => {
                // Each change that does something, at info under a dry run (the plan is what the
                // operator asked to see) up to a screenful, at debug otherwise and after that.
                let mut shown = 0;
                for (change, outcome) in changes.iter().zip(outcomes) {
                    let (kind, uuid) = moport_mo_rules::named(change);
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
                    let kind = moport_mo_rules::kind_name(kind);
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
                tracing::error!("MO refused a batch of {} changes: {err}", changes.len());
            }
        }
        result
    }
}

fn not_granted() -> CallError {
    CallError::Denied("reading MO is not granted: add `mo = \"read\"` under the plugin's [grants]".into())
}

/// What a plugin is handed: the records, or why not.
fn answer<T: Into<W>, W>(result: Result<T, CallError>) -> Result<W, types::CallError> {
    result.map(Into::into).map_err(Into::into)
}

/// A list of records as a plugin is handed it.
fn records<T: Into<W>, W>(result: Result<Vec<T>, CallError>) -> Result<Vec<W>, types::CallError> {
    result.map(|rows| rows.into_iter().map(Into::into).collect()).map_err(Into::into)
}

macro_rules! collection {
    ($($method:ident -> $ty:ident, $collection:ty;)*) => {$(
        async fn $method(&mut self, query: mo_read::Query) -> wasmtime::Result<Result<Vec<mo_read::$ty>, types::CallError>> {
            Ok(records(match &self.mo {
                Some(access) => access.select::<$collection>(&query.into(), |snapshot| snapshot.$method()).await,
                None => Err(not_granted()),
            }))
        }
    )*};
}

impl mo_write::Host for HostState {
    async fn apply(
        &mut self,
        changes: Vec<mo_write::Change>,
    ) -> wasmtime::Result<Result<Vec<mo_write::Outcome>, types::CallError>> {
        Ok(records(match &self.mo {
            Some(access) if access.write => access.apply(changes.into_iter().map(Into::into).collect()).await,
            _ => Err(CallError::Denied(
                "writing MO is not granted: set `mo = \"write\"` under the plugin's [grants]".into(),
            )),
        }))
    }
}

impl mo_read::Host for HostState {
    async fn prefetch(
        &mut self,
        collections: Vec<mo_read::Collection>,
    ) -> wasmtime::Result<Result<(), types::CallError>> {
        Ok(answer(match &mut self.mo {
            Some(access) => {
                let collections: Vec<Collection> = collections.into_iter().map(Into::into).collect();
                access.prefetch(&collections);
                Ok(())
            }
            None => Err(not_granted()),
        }))
    }

    async fn root_organisation(&mut self) -> wasmtime::Result<Result<mo_read::Organisation, types::CallError>> {
        Ok(answer(match &self.mo {
            Some(access) => access.organisation().await,
            None => Err(not_granted()),
        }))
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
