//! The `graphql` backend: MO v30 over HTTPS. In `cache` mode (the default) each collection a
//! plugin asks for is fetched whole once, indexed and filtered in memory like a snapshot; in
//! `direct` mode every plugin call becomes its own filtered query, as the original's two modes
//! did, so the two can be cross-checked against one MO.

pub mod client;
pub mod collections;
pub mod mutations;
pub mod plan;
pub mod settings;

use super::snapshot::{FORMAT, SnapshotFile, VERSION};
use client::{MoClient, RetryPolicy};
use collections::{Collection, UnitFilter};
use moport_dar::DarProvider;
pub use moport_manifest::Mode;
use moport_mo_rules::{Filter, Record, fill_facet_user_keys, fill_scopes, sort_records};
use moport_types::CallError;
use moport_types::mo::{
    self as mo_read, Address, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit, Organisation,
    Query,
};
use serde::Deserialize;
use serde_json::{Value, json};
use settings::GraphqlSettings;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use thiserror::Error;
use tokio::sync::OnceCell;

#[derive(Debug, Clone, Error)]
pub enum GraphqlError {
    #[error("MO settings: {problem}")]
    Settings { problem: String },
    #[error("MO's Keycloak at {url} gave no token: {problem}")]
    Auth { url: String, problem: String },
    #[error("MO at {url} did not answer {operation} after {attempts} tries; the last failure: {last}")]
    Unavailable { url: String, operation: String, attempts: u32, last: String },
    #[error(
        "MO refused {operation} to the client `{client}`: no policy approved the access; give the client \
         MO's role {roles} in Keycloak"
    )]
    Forbidden { operation: String, client: String, roles: String },
    #[error("MO at {url} refused {operation} with HTTP {status}: {body}")]
    Refused { url: String, operation: String, status: u16, body: String },
    #[error("MO reported errors for {operation}: {messages}")]
    Graphql { operation: String, messages: String },
    #[error("MO's reply to {operation} is not what moport expects: {problem}")]
    Decode { operation: String, problem: String },
}

impl GraphqlError {
    /// Whether MO failed (what may work on the next try), rather than what the operator must
    /// fix in MO's settings or Keycloak.
    pub fn is_service_failure(&self) -> bool {
        match self {
            GraphqlError::Settings { .. } | GraphqlError::Auth { .. } | GraphqlError::Forbidden { .. } => false,
            GraphqlError::Unavailable { .. }
            | GraphqlError::Refused { .. }
            | GraphqlError::Graphql { .. }
            | GraphqlError::Decode { .. } => true,
        }
    }
}

/// What the operator must fix is `denied` (exit code 3, as from `moport snapshot`); what may
/// work on the next try is `unavailable` (exit code 6).
impl From<GraphqlError> for CallError {
    fn from(err: GraphqlError) -> CallError {
        match err.is_service_failure() {
            true => CallError::Unavailable(err.to_string()),
            false => CallError::Denied(err.to_string()),
        }
    }
}

/// Collections fetched whole, kept for the rest of the process.
#[derive(Default)]
pub struct Fetched {
    facets: Slot<Facet>,
    classes: Slot<Class>,
    org_units: Slot<OrgUnit>,
    employees: Slot<Employee>,
    engagements: Slot<Engagement>,
    managers: Slot<Manager>,
    addresses: Slot<Address>,
    it_systems: Slot<ItSystem>,
    it_users: Slot<ItUser>,
    organisation: OnceCell<Organisation>,
}

/// One collection fetched whole.
pub struct Slot<R> {
    records: std::sync::OnceLock<Arc<Vec<R>>>,
    /// Held by whoever is fetching the collection, so the others wait for that fetch instead
    /// of starting their own. A prefetch takes it before it returns to the plugin.
    fetching: Arc<tokio::sync::Mutex<()>>,
    /// A prefetch's failure, for the first read after it to report (rather than fetch again).
    failed: std::sync::Mutex<Option<GraphqlError>>,
}

impl<R> Default for Slot<R> {
    fn default() -> Self {
        Slot { records: Default::default(), fetching: Default::default(), failed: Default::default() }
    }
}

impl<R> Slot<R> {
    fn failure(&self) -> std::sync::MutexGuard<'_, Option<GraphqlError>> {
        self.failed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Boxed, because completing classes fetches facets through the same generic code: an unboxed
/// future would contain itself.
pub type Completing<'a, T> = Pin<Box<dyn Future<Output = Result<Vec<T>, GraphqlError>> + Send + 'a>>;

/// A collection that the backend can fetch whole and keep.
pub trait Kept: Collection<Record: Record + Clone + Send + Sync + 'static> {
    fn slot(fetched: &Fetched) -> &Slot<Self::Record>;
    /// Other collections' records join this one in (classes for an address's scope, facets for
    /// a class's facet key): a read of all of it in `direct` mode is kept for them, so the
    /// join does not fetch it again.
    const JOINED: bool = false;
    /// Fills in what MO's reply leaves to joins (a class's facet key, an address's scope).
    fn complete(source: &GraphqlSource, records: Vec<Self::Record>) -> Completing<'_, Self::Record> {
        let _ = source;
        Box::pin(async move { Ok(records) })
    }
}

macro_rules! kept {
    ($($collection:ident => $field:ident;)*) => {$(
        impl Kept for collections::$collection {
            fn slot(fetched: &Fetched) -> &Slot<Self::Record> {
                &fetched.$field
            }
        }
    )*};
}
kept! {
    OrgUnits => org_units;
    Employees => employees;
    Engagements => engagements;
    Managers => managers;
    ItSystems => it_systems;
    ItUsers => it_users;
}

impl Kept for collections::Facets {
    const JOINED: bool = true;
    fn slot(fetched: &Fetched) -> &Slot<Facet> {
        &fetched.facets
    }
}

impl Kept for collections::Classes {
    const JOINED: bool = true;
    fn slot(fetched: &Fetched) -> &Slot<Class> {
        &fetched.classes
    }

    fn complete(source: &GraphqlSource, mut records: Vec<Class>) -> Completing<'_, Class> {
        Box::pin(async move {
            fill_facet_user_keys(&mut records, &source.all::<collections::Facets>().await?);
            Ok(records)
        })
    }
}

impl Kept for collections::Addresses {
    fn slot(fetched: &Fetched) -> &Slot<Self::Record> {
        &fetched.addresses
    }

    fn complete(source: &GraphqlSource, mut records: Vec<Self::Record>) -> Completing<'_, Self::Record> {
        Box::pin(async move {
            fill_scopes(&mut records, &source.all::<collections::Classes>().await?);
            source.fill_dar(&mut records).await;
            Ok(records)
        })
    }
}

/// MO read over GraphQL v30.
pub struct GraphqlSource {
    client: MoClient,
    mode: Mode,
    /// What was fetched whole. A write drops it, so a plugin reads what it wrote.
    fetched: std::sync::Mutex<Arc<Fetched>>,
    /// Where DAR addresses get their text and fields (MO's own look-up fails whole queries).
    dar: std::sync::OnceLock<DarProvider>,
    /// Collections fetched side by side (by `snapshot` and `prefetch`): enough to hide round
    /// trips, few enough to be gentle with MO's database.
    parallel: Arc<tokio::sync::Semaphore>,
}

impl GraphqlSource {
    pub fn new(settings: GraphqlSettings, mode: Mode, retry: RetryPolicy) -> Result<GraphqlSource, GraphqlError> {
        Ok(GraphqlSource {
            client: MoClient::new(settings, retry)?,
            mode,
            fetched: Default::default(),
            dar: Default::default(),
            parallel: Arc::new(tokio::sync::Semaphore::new(PARALLEL_COLLECTIONS)),
        })
    }

    /// Requests sent to MO so far, and the mutations in those MO took.
    pub fn traffic(&self) -> crate::MoTraffic {
        let traffic = &self.client.traffic;
        crate::MoTraffic {
            requests: traffic.requests.load(std::sync::atomic::Ordering::Relaxed),
            mutations: traffic.mutations.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Looks DAR addresses up with `provider` (the host's `[host] dar`); the first one set stays.
    pub fn use_dar(&self, provider: DarProvider) {
        let _ = self.dar.set(provider);
    }

    /// A DAR address's text and fields, from the provider; without one, or where it does not
    /// know the address, the address keeps its value as text and has no fields.
    async fn fill_dar(&self, addresses: &mut [Address]) {
        let Some(provider) = self.dar.get() else { return };
        let ids: std::collections::BTreeSet<&str> =
            addresses.iter().filter(|a| a.scope == "DAR").map(|a| a.value.as_str()).collect();
        if ids.is_empty() {
            return;
        }
        let ids: Vec<&str> = ids.into_iter().collect();
        let known = provider.addresses(&ids).await.unwrap_or_else(|err| {
            tracing::warn!(
                addresses = ids.len(),
                "DAR could not look MO's DAR addresses up; they keep their id as text: {err}"
            );
            Default::default()
        });
        let mut unknown = 0;
        for address in addresses.iter_mut().filter(|a| a.scope == "DAR") {
            match known.get(&address.value) {
                Some(found) => {
                    address.name = found.text.clone();
                    address.dar = Some(moport_dar::mo_fields(found));
                }
                None => unknown += 1,
            }
        }
        if unknown > 0 {
            tracing::info!(addresses = unknown, "DAR addresses the DAR provider does not know keep their id as text");
        }
    }

    fn fetched(&self) -> Arc<Fetched> {
        self.fetched.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// After a write: later reads fetch MO anew.
    fn wrote(&self) {
        *self.fetched.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::default();
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn client(&self) -> &MoClient {
        &self.client
    }

    pub async fn organisation(&self) -> Result<Organisation, GraphqlError> {
        #[derive(Deserialize)]
        struct Org {
            org: Organisation,
        }
        let fetched = self.fetched();
        let organisation = fetched.organisation.get_or_try_init(|| async {
            let reply: Org = self.client.execute("Organisation", collections::ORGANISATION, json!({})).await?;
            Ok::<_, GraphqlError>(reply.org)
        });
        Ok(organisation.await?.clone())
    }

    /// Reads one object of every collection, as `moport check` does: MO answers the organisation
    /// even where a collection then fails (a missing role, an object it cannot decode).
    pub async fn probe(&self) -> Vec<(&'static str, Result<usize, GraphqlError>)> {
        use collections::*;
        let probes = tokio::join!(
            self.probe_one::<Facets>(),
            self.probe_one::<Classes>(),
            self.probe_one::<OrgUnits>(),
            self.probe_one::<Employees>(),
            self.probe_one::<Engagements>(),
            self.probe_one::<Managers>(),
            self.probe_one::<Addresses>(),
            self.probe_one::<ItSystems>(),
            self.probe_one::<ItUsers>(),
        );
        vec![probes.0, probes.1, probes.2, probes.3, probes.4, probes.5, probes.6, probes.7, probes.8]
    }

    async fn probe_one<C: Collection>(&self) -> (&'static str, Result<usize, GraphqlError>) {
        let variables = json!({"filter": {"from_date": null, "to_date": null}, "start": null, "end": null});
        let page = self.client.page::<C::Row>(C::OPERATION, C::DOCUMENT, variables, None, 1).await;
        (C::OPERATION, page.map(|(objects, _)| objects.len()))
    }

    /// Every record of a collection, in every validity, fetched once (until the next write).
    pub async fn all<C: Kept>(&self) -> Result<Arc<Vec<C::Record>>, GraphqlError> {
        self.whole::<C>(&self.fetched(), None).await
    }

    /// The collection in `fetched`, fetching it unless someone has; `prefetch` is the fetch lock
    /// a prefetch took, whose failure is then kept for the first read.
    async fn whole<C: Kept>(
        &self,
        fetched: &Fetched,
        prefetch: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Result<Arc<Vec<C::Record>>, GraphqlError> {
        let slot = C::slot(fetched);
        if let Some(records) = slot.records.get() {
            return Ok(records.clone());
        }
        let prefetching = prefetch.is_some();
        let _fetching = match prefetch {
            Some(lock) => lock,
            None => slot.fetching.clone().lock_owned().await,
        };
        if let Some(records) = slot.records.get() {
            return Ok(records.clone());
        }
        if let Some(failure) = slot.failure().take() {
            return Err(failure);
        }
        let filter = json!({"from_date": null, "to_date": null});
        let records = async {
            let records = self.fetch_with::<C>(filter, Value::Null, Value::Null).await?;
            C::complete(self, records).await
        }
        .await;
        match records {
            Ok(records) => Ok(slot.records.get_or_init(|| Arc::new(records)).clone()),
            Err(failure) => {
                if prefetching {
                    *slot.failure() = Some(failure.clone());
                }
                Err(failure)
            }
        }
    }

    /// Starts fetching these collections whole, side by side, in `cache` mode (in `direct` mode
    /// every read is its own query, so there is nothing to fetch ahead); a collection fetched or
    /// on its way already is left alone. The handles abort the fetches still running when the
    /// run that asked for them ends.
    pub fn prefetch(self: &Arc<Self>, wanted: &[mo_read::Collection]) -> Vec<tokio::task::AbortHandle> {
        use mo_read::Collection as C;
        if self.mode != Mode::Cache {
            return Vec::new();
        }
        let fetched = self.fetched();
        // The big collections first: paging is sequential within a collection, so the time is
        // that of the longest chain of pages.
        let order = [
            C::Addresses,
            C::Engagements,
            C::Employees,
            C::OrgUnits,
            C::Managers,
            C::ItUsers,
            C::Classes,
            C::Facets,
            C::ItSystems,
        ];
        order
            .into_iter()
            .filter(|collection| wanted.contains(collection))
            .filter_map(|collection| match collection {
                C::Facets => self.spawn_prefetch::<collections::Facets>(&fetched),
                C::Classes => self.spawn_prefetch::<collections::Classes>(&fetched),
                C::OrgUnits => self.spawn_prefetch::<collections::OrgUnits>(&fetched),
                C::Employees => self.spawn_prefetch::<collections::Employees>(&fetched),
                C::Engagements => self.spawn_prefetch::<collections::Engagements>(&fetched),
                C::Managers => self.spawn_prefetch::<collections::Managers>(&fetched),
                C::Addresses => self.spawn_prefetch::<collections::Addresses>(&fetched),
                C::ItSystems => self.spawn_prefetch::<collections::ItSystems>(&fetched),
                C::ItUsers => self.spawn_prefetch::<collections::ItUsers>(&fetched),
            })
            .collect()
    }

    fn spawn_prefetch<C: Kept<Row: Send> + 'static>(
        self: &Arc<Self>,
        fetched: &Arc<Fetched>,
    ) -> Option<tokio::task::AbortHandle> {
        let slot = C::slot(fetched);
        if slot.records.get().is_some() {
            return None;
        }
        // Taken here, before the plugin's next read, so that read waits for this fetch.
        let lock = slot.fetching.clone().try_lock_owned().ok()?;
        let (source, fetched) = (Arc::clone(self), Arc::clone(fetched));
        let task = tokio::spawn(async move {
            if let Err(err) = gated(&source.parallel, source.whole::<C>(&fetched, Some(lock))).await {
                tracing::debug!(operation = C::OPERATION, "fetching ahead failed; the read reports it: {err}");
            }
        });
        Some(task.abort_handle())
    }

    /// The records a plugin call asks for.
    pub async fn select<C: Kept>(&self, query: &Query, today: chrono::NaiveDate) -> Result<Vec<C::Record>, CallError> {
        match self.mode {
            Mode::Cache => {
                let records = self.all::<C>().await?;
                let units = match query.under_org_units.is_empty() {
                    true => Arc::default(),
                    false => self.all::<collections::OrgUnits>().await?,
                };
                Filter::new(query, today, &units)?.select(&records)
            }
            Mode::Direct => {
                // Checked with the same rules as the other backends, so a bad query fails alike.
                let checked = Filter::new(query, today, &[])?;
                checked.select::<C::Record>(&[])?;
                // Always both bounds: an omitted one means "now" to MO, while moport's "today" is
                // the run's date.
                let (start, end) = checked.window();
                let (start, end) = (json!(start), json!(end));
                let mut filter = json!({"from_date": start, "to_date": end});
                if !query.uuids.is_empty() {
                    filter["uuids"] = json!(query.uuids);
                }
                if !query.under_org_units.is_empty() {
                    let ancestor =
                        json!({"ancestor": {"uuids": query.under_org_units, "from_date": start, "to_date": end}});
                    match C::UNIT_FILTER {
                        UnitFilter::Ancestor => filter["ancestor"] = ancestor["ancestor"].clone(),
                        UnitFilter::OrgUnitAncestor => filter["org_unit"] = ancestor,
                        UnitFilter::None => unreachable!("the filter refuses a unit subtree for {}", C::OPERATION),
                    }
                }
                if !query.facet_user_keys.is_empty() {
                    filter["facet"] = json!({"user_keys": query.facet_user_keys});
                }
                let records = self.fetch_with::<C>(filter, start, end).await?;
                let mut records = C::complete(self, records).await?;
                sort_records(&mut records);
                let everything = query.uuids.is_empty()
                    && query.under_org_units.is_empty()
                    && query.facet_user_keys.is_empty()
                    && query.window.as_ref().is_some_and(|w| w.from.is_none() && w.to.is_none());
                if C::JOINED && everything {
                    let _ = C::slot(&self.fetched()).records.set(Arc::new(records.clone()));
                }
                Ok(records)
            }
        }
    }

    /// The objects `filter` selects, with their validities in `[start, end)` (`null`: open).
    async fn fetch_with<C: Collection>(
        &self,
        filter: Value,
        start: Value,
        end: Value,
    ) -> Result<Vec<C::Record>, GraphqlError> {
        let bar = moport_progress::begin(&format!("MO {}", C::OPERATION), None);
        let variables = json!({"filter": filter, "start": start, "end": end});
        let objects = self
            .client
            .fetch_all::<C::Row>(C::OPERATION, C::DOCUMENT, variables, |count| bar.set_done(count as u64))
            .await;
        drop(bar);
        let objects = objects?;
        tracing::debug!(operation = C::OPERATION, objects = objects.len(), "fetched from MO");
        let mut records = Vec::new();
        for object in objects {
            records.extend(object.validities.into_iter().map(|row| C::record(&object.uuid, row)));
        }
        Ok(records)
    }

    /// Everything, as one snapshot file: what `moport snapshot` writes.
    pub async fn snapshot(&self) -> Result<SnapshotFile, GraphqlError> {
        use collections::*;
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        // Paging is sequential within a collection, so the time is that of the longest chain
        // of pages: start the big collections first and let a few run at once.
        let gate = &self.parallel;
        let (
            addresses,
            engagements,
            employees,
            org_units,
            managers,
            classes,
            facets,
            it_users,
            it_systems,
            organisation,
        ) = tokio::try_join!(
            gated(gate, self.all::<Addresses>()),
            gated(gate, self.all::<Engagements>()),
            gated(gate, self.all::<Employees>()),
            gated(gate, self.all::<OrgUnits>()),
            gated(gate, self.all::<Managers>()),
            gated(gate, self.all::<Classes>()),
            gated(gate, self.all::<Facets>()),
            gated(gate, self.all::<ItUsers>()),
            gated(gate, self.all::<ItSystems>()),
            gated(gate, self.organisation()),
        )?;
        Ok(SnapshotFile {
            format: FORMAT.to_owned(),
            version: VERSION,
            taken_at: started,
            source: self.client.endpoint(),
            organisation,
            facets: facets.to_vec(),
            classes: classes.to_vec(),
            org_units: org_units.to_vec(),
            employees: employees.to_vec(),
            engagements: engagements.to_vec(),
            managers: managers.to_vec(),
            addresses: addresses.to_vec(),
            it_systems: it_systems.to_vec(),
            it_users: it_users.to_vec(),
        })
    }
}

/// Collections fetched side by side.
const PARALLEL_COLLECTIONS: usize = 4;

async fn gated<T>(gate: &tokio::sync::Semaphore, work: impl Future<Output = T>) -> T {
    let _permit = gate.acquire().await.expect("the gate is never closed");
    work.await
}
