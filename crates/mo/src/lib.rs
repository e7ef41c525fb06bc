//! MO for the host, without wasm: where plugins read it from and write it to. One module per
//! backend: a snapshot file (or the built-in demo) held in memory, or a live MO over GraphQL
//! v30; both apply MO's rules from `moport-mo-rules`. Also what `moport snapshot`, `load` and
//! `demo generate` and the benchmarks use.

pub mod demo;
pub mod graphql;
pub mod snapshot;

use graphql::{GraphqlError, GraphqlSource};
use moport_manifest::MoSourceSpec;
use std::sync::Arc;
use thiserror::Error;

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

impl MoError {
    /// Whether MO, or the file that holds it, failed (what may work on the next try), rather than
    /// what the operator configured.
    pub fn is_service_failure(&self) -> bool {
        match self {
            MoError::Snapshot(snapshot::SnapshotError::Write { .. }) | MoError::Load { .. } => true,
            MoError::Graphql(err) => err.is_service_failure(),
            MoError::Snapshot(_) | MoError::NotEmpty { .. } => false,
        }
    }
}

/// Where a run reads MO from.
#[derive(Clone)]
pub enum MoSource {
    Snapshot(Arc<snapshot::SnapshotStore>),
    Graphql(Arc<GraphqlSource>),
}

impl MoSource {
    /// Opens the source `spec` names.
    pub fn open(spec: &MoSourceSpec) -> Result<MoSource, MoError> {
        Ok(match spec {
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

    /// What has been sent to a live MO so far; nothing for a snapshot.
    pub fn traffic(&self) -> MoTraffic {
        match self {
            MoSource::Snapshot(_) => MoTraffic::default(),
            MoSource::Graphql(mo) => mo.traffic(),
        }
    }
}

/// Requests sent to a live MO, and the mutations in those it took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoTraffic {
    pub requests: u64,
    pub mutations: u64,
}

impl std::ops::Sub for MoTraffic {
    type Output = MoTraffic;

    fn sub(self, before: MoTraffic) -> MoTraffic {
        MoTraffic {
            requests: self.requests.saturating_sub(before.requests),
            mutations: self.mutations.saturating_sub(before.mutations),
        }
    }
}
