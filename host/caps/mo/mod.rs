//! `mo-read`: MO's collections, filtered as MO filters them. The backends hand out whole
//! collections; one module per backend.

pub mod demo;
pub mod filter;
pub mod snapshot;

use super::HostState;
use crate::bindings::moport::host::mo_read::{
    Address, Class, Employee, Engagement, Facet, Host, ItSystem, ItUser, Manager, OrgUnit, Organisation, Query,
};
use crate::bindings::moport::host::types::CallError;
use filter::Filter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a run reads MO from.
#[derive(Clone)]
pub enum MoSource {
    Snapshot(Arc<snapshot::Snapshot>),
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
}

impl MoSourceSpec {
    pub const SYNTAX: &'static str = "`demo` for the built-in demo municipality or `snapshot:FILE` for a snapshot file";

    /// Reads `demo` or `snapshot:FILE`; a relative FILE is taken from `base`.
    pub fn parse(text: &str, base: &Path) -> Result<MoSourceSpec, String> {
        match text.split_once(':') {
            None if text == "demo" => Ok(MoSourceSpec::Demo),
            Some(("snapshot", path)) if !path.is_empty() => Ok(MoSourceSpec::Snapshot(base.join(path))),
            _ => Err(format!("`{text}` is not an MO source; write {}", Self::SYNTAX)),
        }
    }

    pub fn open(&self) -> Result<MoSource, snapshot::SnapshotError> {
        let snapshot = match self {
            MoSourceSpec::Demo => demo::built_in(),
            MoSourceSpec::Snapshot(path) => snapshot::Snapshot::load(path)?,
        };
        Ok(MoSource::Snapshot(Arc::new(snapshot)))
    }
}

impl std::fmt::Display for MoSourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MoSourceSpec::Demo => f.write_str("demo"),
            MoSourceSpec::Snapshot(path) => write!(f, "snapshot:{}", path.display()),
        }
    }
}

/// The plugin's read access: the source and the run's date, which "valid today" refers to.
pub struct MoAccess {
    pub source: MoSource,
    pub today: chrono::NaiveDate,
}

impl MoAccess {
    fn select<T: filter::Record + Clone>(
        &self,
        query: &Query,
        rows: impl Fn(&snapshot::Snapshot) -> &[T],
    ) -> Result<Vec<T>, CallError> {
        match &self.source {
            MoSource::Snapshot(snapshot) => {
                let filter = Filter::new(query, self.today, snapshot.org_units())?;
                filter.select(rows(snapshot))
            }
        }
    }
}

fn not_granted() -> CallError {
    CallError::Denied("reading MO is not granted: add `mo = \"read\"` under the plugin's [grants]".into())
}

macro_rules! collection {
    ($($method:ident -> $ty:ty;)*) => {$(
        async fn $method(&mut self, query: Query) -> wasmtime::Result<Result<Vec<$ty>, CallError>> {
            Ok(match &self.mo {
                Some(access) => access.select(&query, |snapshot| snapshot.$method()),
                None => Err(not_granted()),
            })
        }
    )*};
}

impl Host for HostState {
    async fn root_organisation(&mut self) -> wasmtime::Result<Result<Organisation, CallError>> {
        Ok(match &self.mo {
            Some(MoAccess { source: MoSource::Snapshot(snapshot), .. }) => Ok(snapshot.organisation().clone()),
            None => Err(not_granted()),
        })
    }

    collection! {
        facets -> Facet;
        classes -> Class;
        org_units -> OrgUnit;
        employees -> Employee;
        engagements -> Engagement;
        managers -> Manager;
        addresses -> Address;
        it_systems -> ItSystem;
        it_users -> ItUser;
    }
}
