//! MO in memory: the collections of a snapshot, read and changed by `moport-mo-rules`, the rules
//! the host itself applies to a snapshot file, so a plugin's unit tests see what the host would
//! do (docs/mo-write.md).

use super::call_error;
use crate::CallError;
use crate::mo::write::{Change, Outcome};
use crate::mo::{Address, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit, Organisation, Query};
use moport_mo_rules as rules;
use moport_types::mo as plain;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// MO for a [`TestHost`](super::TestHost): the collections of a snapshot file
/// (docs/snapshot-format.md) as the SDK's records. A record is one validity of an object, so an
/// object valid in several periods has several records with the same `uuid`. Build one with
/// `..MoData::default()` for the collections a test does not need; the test host puts it as the
/// host's snapshot loader does (ordered by uuid and then start, an engagement's ten extensions,
/// the fields MO works out joined in) and refuses what the loader refuses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoData {
    /// What [`crate::mo::root_organisation`] returns; without one it answers `NotFound`.
    pub organisation: Option<Organisation>,
    pub facets: Vec<Facet>,
    pub classes: Vec<Class>,
    pub org_units: Vec<OrgUnit>,
    pub employees: Vec<Employee>,
    pub engagements: Vec<Engagement>,
    pub managers: Vec<Manager>,
    pub addresses: Vec<Address>,
    pub it_systems: Vec<ItSystem>,
    pub it_users: Vec<ItUser>,
}

/// MO's collections as the rules take them.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct Collections {
    facets: Vec<plain::Facet>,
    classes: Vec<plain::Class>,
    org_units: Vec<plain::OrgUnit>,
    employees: Vec<plain::Employee>,
    engagements: Vec<plain::Engagement>,
    managers: Vec<plain::Manager>,
    addresses: Vec<plain::Address>,
    it_systems: Vec<plain::ItSystem>,
    it_users: Vec<plain::ItUser>,
}
rules::holds_collections!(Collections);

impl MoData {
    /// The collections of a snapshot file's text (docs/snapshot-format.md), put as the host's
    /// loader puts them; `Err` says what is wrong. Also for comparing
    /// [`TestHost::mo`](super::TestHost::mo) with an expected `mo.json`.
    pub fn from_snapshot_json(json: &str) -> Result<MoData, String> {
        let mut snapshot: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|err| format!("not a JSON object: {err}"))?;
        let format = snapshot.remove("format").unwrap_or_default();
        let version = snapshot.remove("version").unwrap_or_default();
        if format != "moport-snapshot" || version != 1 {
            return Err(format!(
                "`format` is {format} and `version` {version}, but a snapshot has \"moport-snapshot\" and 1"
            ));
        }
        // Where the snapshot came from: nothing a plugin sees.
        snapshot.remove("taken_at");
        snapshot.remove("source");
        let data: MoData = serde_json::from_value(serde_json::Value::Object(snapshot))
            .map_err(|err| format!("a collection does not hold the SDK's records: {err}"))?;
        data.tidied()
    }

    /// As the host's snapshot loader puts MO, or what it refuses.
    pub(crate) fn tidied(self) -> Result<MoData, String> {
        let organisation = self.organisation.clone();
        let mut collections: Collections = convert(&self);
        rules::tidy(&mut collections).map_err(|problem| refusal(&problem))?;
        Ok(MoData::from_collections(&collections, organisation))
    }

    fn from_collections(collections: &Collections, organisation: Option<Organisation>) -> MoData {
        MoData { organisation, ..convert(collections) }
    }

    /// The records of `T`'s collection that `query` selects, on `today` when it gives no
    /// window, in the collection's order.
    pub(crate) fn read<T: Record>(&self, query: &Query, today: &str) -> Result<Vec<T>, CallError> {
        let today = rules::NaiveDate::parse_from_str(today, "%Y-%m-%d").expect("TestHost::today takes only dates");
        let units: Vec<plain::OrgUnit> = convert(&self.org_units);
        let rows: Vec<T::Plain> = convert(T::collection(self));
        let selected = rules::Filter::new(&convert(query), today, &units)
            .and_then(|filter| filter.select(&rows))
            .map_err(|err| call_error(&err))?;
        Ok(convert(&selected))
    }

    /// Works `changes` out in order on a copy, as one all-or-nothing batch judged by its net
    /// effect, as the host does: their outcomes, and MO after them unless this is a dry run or
    /// nothing changes.
    pub(crate) fn apply(&self, changes: &[Change], dry_run: bool) -> Result<(Vec<Outcome>, Option<MoData>), CallError> {
        let mut collections: Collections = convert(self);
        let changes: Vec<plain::Change> = convert(changes);
        let outcomes = rules::apply_net(&mut collections, &changes).map_err(|err| call_error(&err))?;
        let changed = outcomes.iter().any(|outcome| {
            matches!(outcome, plain::Outcome::Created | plain::Outcome::Updated | plain::Outcome::Terminated)
        });
        if dry_run || !changed {
            return Ok((convert(&outcomes), None));
        }
        rules::tidy(&mut collections).map_err(|problem| CallError::Invalid(refusal(&problem)))?;
        Ok((convert(&outcomes), Some(MoData::from_collections(&collections, self.organisation.clone()))))
    }
}

/// The SDK's records and the rules' plain ones hold the same fields under the same names (both
/// mirror the WIT): one is the other through their JSON form.
fn convert<A: Serialize + ?Sized, B: DeserializeOwned>(from: &A) -> B {
    serde_json::to_value(from)
        .and_then(serde_json::from_value)
        .expect("the SDK's records and moport-types' are the same records")
}

fn refusal(problem: &rules::RecordProblem) -> String {
    format!("{} {}: {}", problem.kind, problem.uuid, problem.problem)
}

/// A record of one of MO's collections, and the rules' form of it.
pub(crate) trait Record: Serialize + DeserializeOwned {
    type Plain: rules::Record + Clone + Serialize + DeserializeOwned;

    fn collection(data: &MoData) -> &Vec<Self>;
}

macro_rules! record {
    ($($ty:ident in $collection:ident;)*) => {$(
        impl Record for $ty {
            type Plain = plain::$ty;

            fn collection(data: &MoData) -> &Vec<Self> {
                &data.$collection
            }
        }
    )*};
}

record! {
    Facet in facets;
    Class in classes;
    OrgUnit in org_units;
    Employee in employees;
    Engagement in engagements;
    Manager in managers;
    Address in addresses;
    ItSystem in it_systems;
    ItUser in it_users;
}
