//! `mo-read`: MO's collections, filtered as MO filters them. The backends hand out whole
//! collections; one module per backend.

pub mod filter;
pub mod snapshot;

use super::HostState;
use crate::bindings::moport::host::mo_read::{
    Address, Class, Employee, Engagement, Facet, Host, ItSystem, ItUser, Manager, OrgUnit, Organisation, Query,
};
use crate::bindings::moport::host::types::CallError;
use filter::Filter;
use std::sync::Arc;

/// Where a run reads MO from.
#[derive(Clone)]
pub enum MoSource {
    Snapshot(Arc<snapshot::Snapshot>),
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
