//! `mo-write` over GraphQL v30: read the objects a batch names, work out what each change really
//! does (as the snapshot would), and send only the creates, updates and terminations that
//! change something, as aliased mutators in requests of at most `mutations_per_request`. MO runs
//! one request in one transaction, so a batch that fits one request is all or nothing; a larger
//! one that fails midway keeps its earlier requests, and running it again converges, as every
//! mutation states what the object should be.

use super::collections as gql;
use super::{GraphqlError, GraphqlSource, Kept};
use crate::bindings::moport::host::mo_read::Organisation;
use crate::bindings::moport::host::mo_write::{Change, Object, ObjectKind, Outcome};
use crate::caps::mo::snapshot::SnapshotFile;
use crate::caps::mo::write::{self, identify};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Works out the batch and, unless `dry_run`, sends it.
pub async fn apply(
    source: &GraphqlSource,
    changes: &[Change],
    dry_run: bool,
) -> Result<Vec<Outcome>, crate::bindings::moport::host::types::CallError> {
    let mut existing = existing(source, changes).await?;
    let outcomes = write::apply_net(&mut existing, changes)?;
    let mutations: Vec<Mutation> =
        changes.iter().zip(&outcomes).filter_map(|(change, outcome)| mutation(change, *outcome)).collect();
    if dry_run || mutations.is_empty() {
        return Ok(outcomes);
    }
    let per_request = source.client.settings().mutations_per_request;
    let requests = mutations.len().div_ceil(per_request);
    for (number, chunk) in mutations.chunks(per_request).enumerate() {
        let mut declarations = Vec::new();
        let mut selections = Vec::new();
        let mut variables = serde_json::Map::new();
        for (n, m) in chunk.iter().enumerate() {
            declarations.push(format!("$v{n}: {}!", m.input_type));
            selections.push(format!("  m{n}: {}(input: $v{n}) {{ uuid }}", m.mutator));
            variables.insert(format!("v{n}"), m.input.clone());
        }
        let document = format!("mutation Apply({}) {{\n{}\n}}\n", declarations.join(", "), selections.join("\n"));
        // Creates, updates and terminations all say what the object should be, so a retry after
        // a lost answer writes the same state again.
        let sent = source.client.execute::<Value>("Apply", &document, Value::Object(variables)).await;
        // Even a failed request may have reached MO; either way, what was fetched may be stale.
        source.wrote();
        if let Err(err) = sent {
            if number > 0 {
                tracing::error!(
                    "MO took {number} of the batch's {requests} requests ({} of {} changes) before this one failed",
                    number * per_request,
                    mutations.len()
                );
            }
            return Err(err.into());
        }
    }
    Ok(outcomes)
}

/// The objects the batch names, every validity, as MO holds them now.
async fn existing(source: &GraphqlSource, changes: &[Change]) -> Result<SnapshotFile, GraphqlError> {
    let mut uuids: Vec<(ObjectKind, BTreeSet<String>)> = Vec::new();
    for change in changes {
        let (kind, uuid) = match change {
            Change::Create(object) | Change::Update(object) => identify(object),
            Change::Terminate(termination) => (termination.kind, termination.uuid.as_str()),
        };
        match uuids.iter_mut().find(|(known, _)| *known == kind) {
            Some((_, set)) => {
                set.insert(uuid.to_owned());
            }
            None => uuids.push((kind, BTreeSet::from([uuid.to_owned()]))),
        }
    }
    let nobody = Organisation { uuid: String::new(), name: String::new(), user_key: String::new() };
    let mut file = SnapshotFile::empty(nobody, String::new(), source.client.endpoint());
    for (kind, uuids) in uuids {
        let uuids: Vec<String> = uuids.into_iter().collect();
        match kind {
            ObjectKind::Facet => file.facets = current::<gql::Facets>(source, uuids).await?,
            ObjectKind::Class => file.classes = current::<gql::Classes>(source, uuids).await?,
            ObjectKind::ItSystem => file.it_systems = current::<gql::ItSystems>(source, uuids).await?,
            ObjectKind::OrgUnit => file.org_units = current::<gql::OrgUnits>(source, uuids).await?,
            ObjectKind::Employee => file.employees = current::<gql::Employees>(source, uuids).await?,
            ObjectKind::Engagement => file.engagements = current::<gql::Engagements>(source, uuids).await?,
            ObjectKind::Manager => file.managers = current::<gql::Managers>(source, uuids).await?,
            ObjectKind::Address => file.addresses = current::<gql::Addresses>(source, uuids).await?,
            ObjectKind::ItUser => file.it_users = current::<gql::ItUsers>(source, uuids).await?,
        }
    }
    Ok(file)
}

/// Some objects, every validity, as MO holds them now.
async fn current<C: Kept>(source: &GraphqlSource, uuids: Vec<String>) -> Result<Vec<C::Record>, GraphqlError> {
    let filter = json!({"uuids": uuids, "from_date": null, "to_date": null});
    let records = source.fetch_with::<C>(filter, Value::Null, Value::Null).await?;
    C::complete(source, records).await
}

struct Mutation {
    mutator: String,
    input_type: String,
    input: Value,
}

/// The v30 names of a kind: the mutator prefix and the input type prefix.
fn names(kind: ObjectKind) -> (&'static str, &'static str) {
    match kind {
        ObjectKind::Facet => ("facet", "Facet"),
        ObjectKind::Class => ("class", "Class"),
        ObjectKind::ItSystem => ("itsystem", "ITSystem"),
        ObjectKind::OrgUnit => ("org_unit", "OrganisationUnit"),
        ObjectKind::Employee => ("employee", "Employee"),
        ObjectKind::Engagement => ("engagement", "Engagement"),
        ObjectKind::Manager => ("manager", "Manager"),
        ObjectKind::Address => ("address", "Address"),
        ObjectKind::ItUser => ("ituser", "ITUser"),
    }
}

/// What to send for a change, given what it turned out to do.
fn mutation(change: &Change, outcome: Outcome) -> Option<Mutation> {
    let (verb, kind, input) = match (change, outcome) {
        (_, Outcome::Unchanged | Outcome::Missing) => return None,
        (Change::Terminate(t), _) => ("terminate", t.kind, json!({"uuid": t.uuid, "to": t.to})),
        (Change::Create(object) | Change::Update(object), Outcome::Created) => {
            ("create", identify(object).0, input(object, true))
        }
        (Change::Create(object) | Change::Update(object), _) => ("update", identify(object).0, input(object, false)),
    };
    let (mutator, input_type) = names(kind);
    let capitalised = format!("{}{}", verb[..1].to_uppercase(), &verb[1..]);
    Some(Mutation {
        mutator: format!("{mutator}_{verb}"),
        input_type: format!("{input_type}{capitalised}Input"),
        input,
    })
}

/// The input of a create or an update: the complete desired state in the record's window, in
/// MO's input names (which differ from the read model's: `org_unit_type`, `facet_uuid`, ...).
fn input(object: &Object, create: bool) -> Value {
    let validity = |v: &crate::bindings::moport::host::types::Validity| json!({"from": v.from, "to": v.to});
    match object {
        Object::Facet(r) => json!({"uuid": r.uuid, "user_key": r.user_key, "published": "Publiceret",
                                   "validity": validity(&r.validity)}),
        Object::Class(r) => json!({"uuid": r.uuid, "user_key": r.user_key, "name": r.name, "facet_uuid": r.facet,
                                   "scope": r.scope, "parent_uuid": r.parent, "published": "Publiceret",
                                   "validity": validity(&r.validity)}),
        Object::ItSystem(r) => json!({"uuid": r.uuid, "user_key": r.user_key, "name": r.name,
                                      "validity": validity(&r.validity)}),
        Object::OrgUnit(r) => json!({"uuid": r.uuid, "user_key": r.user_key, "name": r.name, "parent": r.parent,
                                     "org_unit_type": r.unit_type, "org_unit_level": r.unit_level,
                                     "org_unit_hierarchy": r.hierarchy,
                                     "validity": validity(&r.validity)}),
        Object::Employee(r) => {
            let mut input = json!({"uuid": r.uuid, "given_name": r.given_name, "surname": r.surname,
                                   "cpr_number": r.cpr_number, "nickname_given_name": r.nickname_given_name,
                                   "nickname_surname": r.nickname_surname});
            // MO derives a new person's validity from the CPR number; an update names its window.
            if !create {
                input["validity"] = validity(&r.validity);
            }
            input
        }
        Object::Engagement(r) => {
            let mut input = json!({"uuid": r.uuid, "user_key": r.user_key, "person": r.person, "org_unit": r.org_unit,
                                   "job_function": r.job_function, "engagement_type": r.engagement_type,
                                   "primary": r.primary, "validity": validity(&r.validity)});
            for (n, extension) in r.extensions.iter().enumerate() {
                input[format!("extension_{}", n + 1)] = json!(extension);
            }
            input
        }
        Object::Manager(r) => json!({"uuid": r.uuid, "person": r.person, "org_unit": r.org_unit,
                                     "manager_type": r.manager_type, "manager_level": r.manager_level,
                                     "responsibility": r.responsibilities, "validity": validity(&r.validity)}),
        Object::Address(r) => json!({"uuid": r.uuid, "value": r.value, "address_type": r.address_type,
                                     "visibility": r.visibility, "person": r.person, "org_unit": r.org_unit,
                                     "engagement": r.engagement, "validity": validity(&r.validity)}),
        Object::ItUser(r) => json!({"uuid": r.uuid, "user_key": r.user_key, "itsystem": r.it_system,
                                    "person": r.person, "engagement": r.engagement,
                                    "validity": validity(&r.validity)}),
    }
}
