//! `mo-write` over GraphQL v30: read the objects a batch names, work out what the batch makes of
//! them (with the write rules the snapshot uses), and send what takes MO there (`plan`), as
//! aliased mutators in requests of at most `mutations_per_request`. MO runs one request in one
//! transaction, so a batch that fits one request is all or nothing; a larger one that fails
//! midway keeps its earlier requests, and running it again sends only what is still missing.

use super::collections as gql;
use super::plan::{self, Mutation};
use super::{GraphqlError, GraphqlSource, Kept};
use crate::snapshot::SnapshotFile;
use moport_types::CallError;
use moport_types::mo::{Change, ObjectKind, Organisation, Outcome};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Works out the batch and, unless `dry_run`, sends it.
pub async fn apply(source: &GraphqlSource, changes: &[Change], dry_run: bool) -> Result<Vec<Outcome>, CallError> {
    let mo = existing(source, changes).await?;
    let mut wanted = mo.clone();
    let outcomes = moport_mo_rules::apply_net(&mut wanted, changes)?;
    let mutations = plan::mutations(&mo, &wanted);
    if dry_run || mutations.is_empty() {
        return Ok(outcomes);
    }
    let per_request = source.client.settings().mutations_per_request;
    let requests = mutations.len().div_ceil(per_request);
    let bar = moport_progress::begin("MO writes", Some(mutations.len() as u64));
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
        // Every mutation says what the object should be in its window, so a retry after a lost
        // answer writes the same state again.
        let sent = source.client.execute::<Value>("Apply", &document, Value::Object(variables)).await;
        // Even a failed request may have reached MO; either way, what was fetched may be stale.
        source.wrote();
        if let Err(err) = sent {
            drop(bar);
            if number > 0 {
                tracing::error!(
                    "MO took {number} of the batch's {requests} requests ({} of {} mutations) before this one failed",
                    number * per_request,
                    mutations.len()
                );
            }
            return Err(name_objects(err, chunk).into());
        }
        source.client.traffic.mutations.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        bar.advance(chunk.len() as u64);
    }
    drop(bar);
    tracing::info!(mutations = mutations.len(), requests, "wrote to MO");
    Ok(outcomes)
}

/// MO names a failed mutation by its alias (`m72`): name the object instead.
fn name_objects(err: GraphqlError, chunk: &[Mutation]) -> GraphqlError {
    match err {
        GraphqlError::Graphql { operation, messages } => {
            let messages = (0..chunk.len()).rev().fold(messages, |text, n| {
                text.replace(&format!("(at m{n})"), &format!("(writing {})", chunk[n].object))
            });
            GraphqlError::Graphql { operation, messages }
        }
        other => other,
    }
}

/// The objects the batch names, every validity, as MO holds them now.
async fn existing(source: &GraphqlSource, changes: &[Change]) -> Result<SnapshotFile, GraphqlError> {
    let mut uuids: Vec<(ObjectKind, BTreeSet<String>)> = Vec::new();
    for change in changes {
        let (kind, uuid) = moport_mo_rules::named(change);
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
