//! An MO stand-in on 127.0.0.1: a Keycloak token endpoint and the GraphQL v30 operations the
//! host sends, served from a snapshot file with MO's paging and filters, with faults on demand
//! (latency, HTTP errors, hung requests, garbled bodies, GraphQL errors).
//!
//! It speaks MO's wire format (datetimes with a Copenhagen offset, `*_response { uuid }`
//! references, `resolve` for DAR), written here from the MO API notes and independent of the
//! host's decoding, so the tests check one against the other.

#![allow(dead_code)] // a benchmark that takes this file in uses only part of it

use super::http::{self, Reply};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use moport_mo::snapshot::SnapshotFile;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "moport";
pub const CLIENT_SECRET: &str = "hemmelig-klient-hemmelighed";

/// What a request can be made to suffer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers as usual (to place a fault later in `Faults::next`).
    Pass,
    /// HTTP 401, as for a token MO no longer accepts.
    Unauthorized,
    Status(u16),
    /// Never answers (until the client gives up).
    Hang,
    /// HTTP 200 with a body that is not JSON.
    Garbled,
    /// HTTP 200 with a GraphQL `errors` entry carrying MO's error key.
    GraphqlError {
        key: &'static str,
        message: &'static str,
    },
}

#[derive(Default)]
pub struct Faults {
    /// Applied to the next GraphQL requests, one each, in order.
    pub next: Mutex<VecDeque<Fault>>,
    /// Applied to every GraphQL request while set.
    pub always: Mutex<Option<Fault>>,
    /// Added before every answer.
    pub latency: Mutex<Duration>,
    /// Makes every mutation request fail (a `GraphqlError`), changing nothing.
    pub mutations: Mutex<Option<Fault>>,
    /// While set, this many more mutation requests succeed; the ones after fail with a
    /// GraphQL error, changing nothing (MO going away in the middle of an import).
    pub mutations_allowed: Mutex<Option<u64>>,
}

#[derive(Default)]
pub struct Counters {
    pub graphql_requests: AtomicU64,
    /// Mutation requests answered, failed ones included.
    pub mutation_requests: AtomicU64,
    /// Time spent applying mutations, in microseconds: the stand-in's own cost, which
    /// benchmarks subtract to show the host's.
    pub mutation_micros: AtomicU64,
    /// Mutators applied, in requests that succeeded.
    pub mutations: AtomicU64,
    pub token_requests: AtomicU64,
    /// Requests that came with a missing, unknown or expired token.
    pub refused_tokens: AtomicU64,
    /// GraphQL operations answered, by name.
    pub operations: Mutex<HashMap<String, u64>>,
    /// Requests being answered now, and the most at any one time.
    pub in_flight: AtomicU64,
    pub most_in_flight: AtomicU64,
}

/// GraphQL collection fields and the snapshot collections they serve.
const FIELDS: [(&str, &str); 9] = [
    ("facets", "facets"),
    ("classes", "classes"),
    ("org_units", "org_units"),
    ("persons", "employees"),
    ("engagements", "engagements"),
    ("managers", "managers"),
    ("addresses", "addresses"),
    ("itsystems", "it_systems"),
    ("itusers", "it_users"),
];

pub struct MoStandin {
    pub addr: SocketAddr,
    pub faults: Arc<Faults>,
    pub counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MoStandin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    /// Collections by GraphQL field name, each ordered by uuid, records as the snapshot holds them.
    collections: Mutex<HashMap<&'static str, Vec<Value>>>,
    organisation: Value,
    token_lifetime: Duration,
    tokens: Mutex<HashMap<String, Instant>>,
    faults: Arc<Faults>,
    counters: Arc<Counters>,
}

impl MoStandin {
    /// Serves `snapshot`; tokens live `token_lifetime`.
    pub async fn start(snapshot: &SnapshotFile, token_lifetime: Duration) -> MoStandin {
        let file = serde_json::to_value(snapshot).unwrap();
        let mut collections = HashMap::new();
        for (field, key) in FIELDS {
            let mut records = file[key].as_array().cloned().unwrap_or_default();
            records.sort_by(|a, b| a["uuid"].as_str().cmp(&b["uuid"].as_str()));
            collections.insert(field, records);
        }
        let faults = Arc::new(Faults::default());
        let counters = Arc::new(Counters::default());
        let state = Arc::new(State {
            collections: Mutex::new(collections),
            organisation: file["organisation"].clone(),
            token_lifetime,
            tokens: Mutex::default(),
            faults: faults.clone(),
            counters: counters.clone(),
        });
        let (addr, task) = http::serve(move |request| serve(state.clone(), request)).await;
        MoStandin { addr, faults, counters, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment `--mo graphql` reads its settings from.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MORA_BASE", self.url()),
            ("AUTH_SERVER", format!("{}/auth", self.url())),
            ("CLIENT_ID", CLIENT_ID.to_owned()),
            ("CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ]
    }

    pub fn settings(&self) -> moport_mo::graphql::settings::GraphqlSettings {
        let env: HashMap<_, _> = self.env().into_iter().collect();
        moport_mo::graphql::settings::GraphqlSettings::load(None, |var| env.get(var).cloned()).unwrap()
    }

    pub fn operations(&self) -> HashMap<String, u64> {
        self.counters.operations.lock().unwrap().clone()
    }
}

/// Quick retries, so a test of several failures takes milliseconds.
pub fn quick_retries() -> moport_mo::graphql::client::RetryPolicy {
    moport_mo::graphql::client::RetryPolicy {
        attempts: 5,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        request_timeout: Duration::from_secs(2),
    }
}

/// The DAR service, as far as the addresses of `file` go: an offline table of their DAR ids with
/// the text and fields the file gives them (the street line whole). A GraphQL read of the
/// stand-in given it fills in what the file holds.
pub fn dar_table_of(file: &SnapshotFile) -> moport_dar::DarProvider {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dar.csv");
    std::fs::write(&path, dar_table_text(file)).unwrap();
    moport_dar::DarProvider::Table(Arc::new(moport_dar::Table::load(&path).unwrap()))
}

/// [`dar_table_of`] as the text of a `table:` file.
pub fn dar_table_text(file: &SnapshotFile) -> String {
    let mut text = format!("{}\n", moport_dar::table::HEADER);
    for address in &file.addresses {
        if let Some(dar) = &address.dar {
            text.push_str(&format!("{};{};{};;;;{};{}\n", address.name, dar.id, dar.street, dar.postcode, dar.city));
        }
    }
    text
}

/// The records of a snapshot, without where and when it was taken, to compare two.
pub fn records(file: &SnapshotFile) -> Value {
    let mut value = serde_json::to_value(file).unwrap();
    for envelope in ["taken_at", "source"] {
        value.as_object_mut().unwrap().remove(envelope);
    }
    value
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    Response::builder().status(status).header("content-type", "application/json").body(Full::new(body.into())).unwrap()
}

async fn serve(state: Arc<State>, request: Request<Incoming>) -> Result<Reply, std::convert::Infallible> {
    let path = request.uri().path().to_owned();
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let now = state.counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.counters.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let latency = *state.faults.latency.lock().unwrap();
    tokio::time::sleep(latency).await;
    let answer = match path.as_str() {
        "/auth/realms/mo/protocol/openid-connect/token" => token(&state, &body),
        "/graphql/v30" => graphql(&state, bearer, &body).await,
        _ => reply(StatusCode::NOT_FOUND, "{\"detail\": \"Not Found\"}"),
    };
    state.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
    Ok(answer)
}

fn token(state: &State, body: &[u8]) -> Reply {
    let n = state.counters.token_requests.fetch_add(1, Ordering::SeqCst);
    let form = http::form_fields(body);
    let valid = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
    if !valid {
        return reply(
            StatusCode::UNAUTHORIZED,
            r#"{"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"}"#,
        );
    }
    let access_token = format!("token-{n}");
    state.tokens.lock().unwrap().insert(access_token.clone(), Instant::now() + state.token_lifetime);
    let grant = json!({"access_token": access_token, "expires_in": state.token_lifetime.as_secs(),
                       "refresh_expires_in": 0, "token_type": "Bearer", "scope": "email profile"});
    reply(StatusCode::OK, grant.to_string())
}

async fn graphql(state: &State, bearer: Option<String>, body: &[u8]) -> Reply {
    state.counters.graphql_requests.fetch_add(1, Ordering::SeqCst);
    let token_valid = bearer
        .and_then(|t| state.tokens.lock().unwrap().get(&t).copied())
        .is_some_and(|expires| Instant::now() < expires);
    if !token_valid {
        state.counters.refused_tokens.fetch_add(1, Ordering::SeqCst);
        return not_authenticated();
    }
    let fault = state.faults.next.lock().unwrap().pop_front().or_else(|| state.faults.always.lock().unwrap().clone());
    match fault {
        Some(Fault::Unauthorized) => return not_authenticated(),
        Some(Fault::Status(code)) => {
            return reply(StatusCode::from_u16(code).unwrap(), "<html><body>Bad Gateway</body></html>");
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Some(Fault::Garbled) => return reply(StatusCode::OK, "{\"data\": {\"page\": {\"objects\": [{\"uu"),
        Some(Fault::GraphqlError { key, message }) => {
            let body = json!({"data": null, "errors": [{"message": format!("ErrorCodes.{key}"), "path": ["page"],
                "extensions": {"error_context": {"error": true, "error_key": key, "status": 400, "description": message}}}]});
            return reply(StatusCode::OK, body.to_string());
        }
        None | Some(Fault::Pass) => {}
    }
    let request: Value = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(err) => return reply(StatusCode::BAD_REQUEST, json!({"detail": err.to_string()}).to_string()),
    };
    let operation = request["operationName"].as_str().unwrap_or_default().to_owned();
    *state.counters.operations.lock().unwrap().entry(operation.clone()).or_default() += 1;
    let variables = &request["variables"];
    if request["query"].as_str().unwrap_or_default().starts_with("mutation") {
        state.counters.mutation_requests.fetch_add(1, Ordering::SeqCst);
        let mut fault = state.faults.mutations.lock().unwrap().clone();
        if let Some(allowed) = state.faults.mutations_allowed.lock().unwrap().as_mut() {
            match allowed.checked_sub(1) {
                Some(left) => *allowed = left,
                None => fault = Some(Fault::GraphqlError { key: "E_UNKNOWN", message: "MO went away in the middle" }),
            }
        }
        let started = Instant::now();
        let applied = fault.map(Err).unwrap_or_else(|| mutate(state, &request));
        state.counters.mutation_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::SeqCst);
        let body = match applied {
            Ok(data) => {
                let mutators = variables.as_object().map_or(0, |inputs| inputs.len());
                state.counters.mutations.fetch_add(mutators as u64, Ordering::SeqCst);
                json!({"data": data})
            }
            Err(Fault::GraphqlError { key, message }) => json!({"data": null, "errors": [{
                "message": format!("ErrorCodes.{key}"),
                "extensions": {"error_context": {"error": true, "error_key": key, "status": 400, "description": message}}}]}),
            Err(other) => panic!("mutations fail with GraphQL errors only, not {other:?}"),
        };
        return reply(StatusCode::OK, body.to_string());
    }
    // A field is answered only when the document asks for it, as in GraphQL.
    let fields = named_fields(request["query"].as_str().unwrap_or_default());
    let page = |state: &State, field: &str, variables: &Value, row: fn(&Value) -> Value| {
        let selected = |record: &Value| {
            let mut answer = row(record);
            answer.as_object_mut().unwrap().retain(|name, _| fields.contains(name));
            answer
        };
        page(state, field, variables, &selected)
    };
    let data = match operation.as_str() {
        "Organisation" => Ok(json!({"org": state.organisation})),
        "Facets" => page(state, "facets", variables, facet_row),
        "Classes" => page(state, "classes", variables, class_row),
        "OrgUnits" => page(state, "org_units", variables, org_unit_row),
        "Employees" => page(state, "persons", variables, employee_row),
        "Engagements" => page(state, "engagements", variables, engagement_row),
        "Managers" => page(state, "managers", variables, manager_row),
        "Addresses" => page(state, "addresses", variables, address_row),
        "ITSystems" => page(state, "itsystems", variables, it_system_row),
        "ITUsers" => page(state, "itusers", variables, it_user_row),
        other => Err(format!("Unknown operation named \"{other}\".")),
    };
    let body = match data {
        Ok(data) => json!({"data": data}),
        Err(message) => json!({"data": null, "errors": [{"message": message}]}),
    };
    reply(StatusCode::OK, body.to_string())
}

/// As MO 66 answers a missing, expired or untrusted token: HTTP 200, not 401.
fn not_authenticated() -> Reply {
    reply(StatusCode::OK, r#"{"data": null, "errors": [{"message": "User is not authenticated"}]}"#)
}

/// A window `[from, to)` of ISO dates; `None` is unbounded.
#[derive(Clone, Copy)]
struct Window<'a> {
    from: Option<&'a str>,
    to: Option<&'a str>,
}

impl<'a> Window<'a> {
    fn of(from: &'a Value, to: &'a Value) -> Window<'a> {
        Window { from: from.as_str(), to: to.as_str() }
    }

    fn overlaps(&self, record: &Value) -> bool {
        let (from, to) = (record["validity"]["from"].as_str(), record["validity"]["to"].as_str());
        let starts_before_end = match (from, self.to) {
            (Some(from), Some(end)) => from < end,
            _ => true,
        };
        let ends_after_start = match (to, self.from) {
            (Some(to), Some(start)) => to > start,
            _ => true,
        };
        starts_before_end && ends_after_start
    }
}

fn strings(value: &Value) -> Option<HashSet<String>> {
    value.as_array().map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
}

/// The units in the subtrees of an `ancestor` filter, the roots included.
fn subtree(collections: &HashMap<&'static str, Vec<Value>>, ancestor: &Value) -> HashSet<String> {
    let window = Window::of(&ancestor["from_date"], &ancestor["to_date"]);
    let mut found = strings(&ancestor["uuids"]).unwrap_or_default();
    loop {
        let before = found.len();
        for unit in collections["org_units"].iter().filter(|u| window.overlaps(u)) {
            if unit["parent"].as_str().is_some_and(|p| found.contains(p)) {
                found.insert(unit["uuid"].as_str().unwrap().to_owned());
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

/// The names a GraphQL document mentions: enough to tell which fields of a record it selects.
fn named_fields(document: &str) -> HashSet<String> {
    document
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

fn page(state: &State, field: &str, variables: &Value, row: &dyn Fn(&Value) -> Value) -> Result<Value, String> {
    let collections = state.collections.lock().unwrap();
    let facet_key_of: HashMap<&str, &str> =
        collections["facets"].iter().map(|f| (f["uuid"].as_str().unwrap(), f["user_key"].as_str().unwrap())).collect();
    let filter = &variables["filter"];
    for key in filter.as_object().map(Map::keys).into_iter().flatten() {
        if !["uuids", "from_date", "to_date", "registration_time", "ancestor", "org_unit", "facet"]
            .contains(&key.as_str())
        {
            return Err(format!("the stand-in does not know the filter `{key}`"));
        }
    }
    let objects_window = Window::of(&filter["from_date"], &filter["to_date"]);
    let validities_window = Window::of(&variables["start"], &variables["end"]);
    let uuids = strings(&filter["uuids"]);
    let units = match (&filter["ancestor"], &filter["org_unit"]["ancestor"]) {
        (Value::Object(_), _) => Some(subtree(&collections, &filter["ancestor"])),
        (_, Value::Object(_)) => Some(subtree(&collections, &filter["org_unit"]["ancestor"])),
        _ => None,
    };
    let unit_key = if field == "org_units" { "uuid" } else { "org_unit" };
    let facet_keys = strings(&filter["facet"]["user_keys"]);
    let limit = variables["limit"].as_u64().map_or(usize::MAX, |l| l as usize);
    let after = variables["cursor"].as_str().map(|c| c.strip_prefix("cursor:").unwrap_or(c).to_owned());

    let passes = |records: &[&Value]| {
        records.iter().any(|r| objects_window.overlaps(r))
            && units
                .as_ref()
                .is_none_or(|units| records.iter().any(|r| r[unit_key].as_str().is_some_and(|u| units.contains(u))))
            && facet_keys.as_ref().is_none_or(|keys| {
                records
                    .iter()
                    .any(|r| r["facet"].as_str().and_then(|f| facet_key_of.get(f)).is_some_and(|k| keys.contains(*k)))
            })
    };
    // Records are ordered by uuid: start after the cursor and group the validities of each
    // object until the page is full, as MO's keyset paging does.
    let records = &collections[field];
    let start = after.as_deref().map_or(0, |after| records.partition_point(|r| r["uuid"].as_str().unwrap() <= after));
    let mut selected: Vec<(&str, Vec<&Value>)> = Vec::new();
    let mut group: Vec<&Value> = Vec::new();
    for record in records[start..].iter().chain(std::iter::once(&Value::Null)) {
        let uuid = record["uuid"].as_str();
        if let Some(first) = group.first()
            && uuid != first["uuid"].as_str()
        {
            let object = first["uuid"].as_str().unwrap();
            if uuids.as_ref().is_none_or(|uuids| uuids.contains(object)) && passes(&group) {
                // One more than the page, to know whether another page follows, as MO does.
                selected.push((object, std::mem::take(&mut group)));
                if selected.len() > limit {
                    break;
                }
            }
            group.clear();
        }
        if uuid.is_some() {
            group.push(record);
        }
    }
    let more = limit > 0 && selected.len() > limit;
    selected.truncate(limit);
    let next_cursor = more.then(|| format!("cursor:{}", selected.last().unwrap().0));
    // MO 66 cannot read two or more objects at a registration time.
    if filter["registration_time"].is_string() && selected.len() > 1 {
        return Err("ErrorCodes.E_INVALID_INPUT: Multiple uuid parameters passed to search operation. Only one uuid \
                    parameter is supported."
            .to_owned());
    }
    let objects: Vec<Value> = selected
        .iter()
        .map(|(uuid, records)| {
            let validities: Vec<Value> =
                records.iter().filter(|r| validities_window.overlaps(r)).map(|r| row(r)).collect();
            json!({"uuid": uuid, "validities": validities})
        })
        .collect();
    Ok(json!({"page": {"objects": objects, "page_info": {"next_cursor": next_cursor}}}))
}

/// MO writes validity bounds as midnight in Copenhagen.
fn mo_validity(record: &Value) -> Value {
    // Midnight in Copenhagen, with that day's offset (+02:00 in summer), as MO writes it.
    let at_midnight = |v: &Value| {
        v.as_str().map(|d| {
            let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
            let midnight = date.and_hms_opt(0, 0, 0).unwrap().and_local_timezone(chrono_tz::Europe::Copenhagen);
            midnight.single().unwrap().format("%Y-%m-%dT%H:%M:%S%:z").to_string()
        })
    };
    json!({"from": at_midnight(&record["validity"]["from"]), "to": at_midnight(&record["validity"]["to"])})
}

fn reference(value: &Value) -> Value {
    match value.as_str() {
        Some(uuid) => json!({"uuid": uuid}),
        None => Value::Null,
    }
}

fn facet_row(r: &Value) -> Value {
    json!({"user_key": r["user_key"], "validity": mo_validity(r)})
}

fn class_row(r: &Value) -> Value {
    json!({"user_key": r["user_key"], "name": r["name"], "scope": r["scope"], "facet_response": reference(&r["facet"]),
           "parent_response": reference(&r["parent"]), "validity": mo_validity(r)})
}

fn org_unit_row(r: &Value) -> Value {
    json!({"user_key": r["user_key"], "name": r["name"], "parent_response": reference(&r["parent"]),
           "unit_type_response": reference(&r["unit_type"]), "unit_level_response": reference(&r["unit_level"]),
           "unit_hierarchy_response": reference(&r["hierarchy"]), "validity": mo_validity(r)})
}

fn employee_row(r: &Value) -> Value {
    // MO answers "" for unset nickname parts.
    let or_empty = |v: &Value| if v.is_null() { json!("") } else { v.clone() };
    json!({"cpr_number": r["cpr_number"], "given_name": r["given_name"], "surname": r["surname"],
           "nickname_given_name": or_empty(&r["nickname_given_name"]), "nickname_surname": or_empty(&r["nickname_surname"]),
           "validity": mo_validity(r)})
}

fn engagement_row(r: &Value) -> Value {
    let mut row = json!({"user_key": r["user_key"], "person_response": reference(&r["person"]),
        "org_unit_response": reference(&r["org_unit"]), "job_function_response": reference(&r["job_function"]),
        "engagement_type_response": reference(&r["engagement_type"]), "primary_response": reference(&r["primary"]),
        "is_primary": r["is_primary"],
        "validity": mo_validity(r)});
    for n in 1..=10 {
        row[format!("extension_{n}")] = r["extensions"].get(n - 1).cloned().unwrap_or(Value::Null);
    }
    row
}

fn manager_row(r: &Value) -> Value {
    let responsibilities: Vec<Value> =
        r["responsibilities"].as_array().into_iter().flatten().map(|uuid| json!({"uuid": uuid})).collect();
    json!({"person_response": reference(&r["person"]), "org_unit_response": reference(&r["org_unit"]),
           "manager_type_response": reference(&r["manager_type"]), "manager_level_response": reference(&r["manager_level"]),
           "responsibilities_response": {"objects": responsibilities}, "validity": mo_validity(r)})
}

fn address_row(r: &Value) -> Value {
    let resolve = match r["dar"].as_object() {
        Some(dar) => {
            let street = dar["street"].as_str().unwrap_or_default();
            let (road, number) = street.rsplit_once(' ').unwrap_or((street, ""));
            json!({"__typename": "DARAddress", "value": r["value"], "road_name": road, "house_number": number,
                   "floor": null, "door": null, "zip_code": dar["postcode"], "zip_code_name": dar["city"]})
        }
        None => json!({"__typename": "DefaultAddress", "value": r["value"]}),
    };
    json!({"value": r["value"], "name": r["name"], "address_type_response": reference(&r["address_type"]),
           "visibility_response": reference(&r["visibility"]), "person_response": reference(&r["person"]),
           "org_unit_response": reference(&r["org_unit"]), "engagement_response": reference(&r["engagement"]),
           "resolve": resolve, "validity": mo_validity(r)})
}

fn it_system_row(r: &Value) -> Value {
    json!({"user_key": r["user_key"], "name": r["name"], "validity": mo_validity(r)})
}

fn it_user_row(r: &Value) -> Value {
    json!({"user_key": r["user_key"], "itsystem_response": reference(&r["it_system"]),
           "person_response": reference(&r["person"]), "engagement_response": reference(&r["engagement"]),
           "validity": mo_validity(r)})
}

/// A mutation request: aliased mutators run in order on a copy, kept only when all succeed,
/// as MO runs one request in one transaction.
fn mutate(state: &State, request: &Value) -> Result<Value, Fault> {
    let document = request["query"].as_str().unwrap_or_default();
    let mut collections = state.collections.lock().unwrap().clone();
    // The collections this request writes, grouped by uuid while it runs, so that a request of
    // hundreds of mutations does not scan a collection for each.
    let mut grouped: HashMap<&'static str, HashMap<String, Vec<Value>>> = HashMap::new();
    let mut data = serde_json::Map::new();
    // Lines like `  m0: org_unit_create(input: $v0) { uuid }`.
    for (alias, call) in document.lines().filter_map(|line| line.trim().split_once(": ")) {
        let Some((mutator, rest)) = call.split_once("(input: $") else { continue };
        let variable = rest.split(')').next().unwrap_or_default();
        let input = &request["variables"][variable];
        let (kind, verb) = mutator.rsplit_once('_').unwrap();
        let (field, mut record, given) = record_of(kind, input, &collections, &grouped);
        let uuid = input["uuid"].as_str().unwrap().to_owned();
        let objects = grouped.entry(field).or_insert_with(|| {
            let mut objects: HashMap<String, Vec<Value>> = HashMap::new();
            for row in std::mem::take(collections.get_mut(field).unwrap()) {
                objects.entry(row["uuid"].as_str().unwrap().to_owned()).or_default().push(row);
            }
            objects
        });
        let rows = objects.entry(uuid.clone()).or_default();
        let exists = !rows.is_empty();
        match verb {
            "create" => {
                // MO derives a new person's validity from the birth date in the CPR number.
                record["validity"] =
                    if kind == "employee" { birth_validity(&input["cpr_number"]) } else { input["validity"].clone() };
                // As MO: a create with an existing uuid overwrites the object, history and all.
                *rows = vec![record];
            }
            "update" if !exists => return Err(Fault::GraphqlError { key: "E_NOT_FOUND", message: "no such object" }),
            "update" => {
                record["validity"] = input["validity"].clone();
                update(rows, &uuid, record, &given, kind == "org_unit" && given.contains("hierarchy"));
            }
            "terminate" => {
                let (from, to) = match input["from"].as_str() {
                    Some(from) => (Some(from), input["to"].as_str()),
                    None => (input["to"].as_str(), None),
                };
                clip(rows, &uuid, from, to);
            }
            other => panic!("the stand-in does not know mutator verb `{other}`"),
        }
        data.insert(alias.to_owned(), json!({"uuid": uuid}));
    }
    for (field, objects) in grouped {
        let rows = collections.get_mut(field).unwrap();
        rows.extend(objects.into_values().flatten());
        rows.sort_by(|a, b| {
            (a["uuid"].as_str(), a["validity"]["from"].as_str())
                .cmp(&(b["uuid"].as_str(), b["validity"]["from"].as_str()))
        });
    }
    *state.collections.lock().unwrap() = collections;
    Ok(Value::Object(data))
}

/// The record a create or update input describes, its collection, and the record fields the
/// input gives: MO keeps the others per validity on update. `""` clears a text field (MO reads
/// it back as null); a class is written whole, as MO's class update does.
fn record_of(
    kind: &str,
    input: &Value,
    collections: &HashMap<&'static str, Vec<Value>>,
    grouped: &HashMap<&'static str, HashMap<String, Vec<Value>>>,
) -> (&'static str, Value, HashSet<&'static str>) {
    let (field, pairs): (&'static str, &[(&'static str, &str)]) = match kind {
        "facet" => ("facets", &[("user_key", "user_key")]),
        "class" => (
            "classes",
            &[
                ("user_key", "user_key"),
                ("name", "name"),
                ("facet", "facet_uuid"),
                ("scope", "scope"),
                ("parent", "parent_uuid"),
            ],
        ),
        "itsystem" => ("itsystems", &[("user_key", "user_key"), ("name", "name")]),
        "org_unit" => (
            "org_units",
            &[
                ("user_key", "user_key"),
                ("name", "name"),
                ("parent", "parent"),
                ("unit_type", "org_unit_type"),
                ("unit_level", "org_unit_level"),
                ("hierarchy", "org_unit_hierarchy"),
            ],
        ),
        "employee" => (
            "persons",
            &[
                ("cpr_number", "cpr_number"),
                ("given_name", "given_name"),
                ("surname", "surname"),
                ("nickname_given_name", "nickname_given_name"),
                ("nickname_surname", "nickname_surname"),
            ],
        ),
        "engagement" => (
            "engagements",
            &[
                ("user_key", "user_key"),
                ("person", "person"),
                ("org_unit", "org_unit"),
                ("job_function", "job_function"),
                ("engagement_type", "engagement_type"),
                ("primary", "primary"),
            ],
        ),
        "manager" => (
            "managers",
            &[
                ("person", "person"),
                ("org_unit", "org_unit"),
                ("manager_type", "manager_type"),
                ("manager_level", "manager_level"),
                ("responsibilities", "responsibility"),
            ],
        ),
        "address" => (
            "addresses",
            &[
                ("value", "value"),
                ("name", "value"),
                ("address_type", "address_type"),
                ("visibility", "visibility"),
                ("person", "person"),
                ("org_unit", "org_unit"),
                ("engagement", "engagement"),
            ],
        ),
        "ituser" => (
            "itusers",
            &[("user_key", "user_key"), ("it_system", "itsystem"), ("person", "person"), ("engagement", "engagement")],
        ),
        other => panic!("the stand-in does not know mutator kind `{other}`"),
    };
    let cleared = |value: &Value| if value.as_str() == Some("") { Value::Null } else { value.clone() };
    let mut record = json!({"uuid": input["uuid"]});
    let mut given = HashSet::new();
    for (key, input_key) in pairs {
        let value = &input[*input_key];
        record[*key] = cleared(value);
        // A null keeps the old value, except where MO treats it as a value: a unit's parent
        // (the root), a manager's person (vacant), and every field of a class.
        if !value.is_null()
            || kind == "class"
            || (*key == "parent" && input.get("parent").is_some())
            || (kind == "manager" && *key == "person")
        {
            given.insert(*key);
        }
    }
    match kind {
        "class" => record["facet_user_key"] = json!(""),
        "address" => {
            record["scope"] = json!("");
            record["dar"] = Value::Null;
            given.extend(["scope", "dar"]);
        }
        "engagement" => {
            let extensions: Vec<Value> = (1..=10).map(|n| cleared(&input[format!("extension_{n}")])).collect();
            if (1..=10).any(|n| !input[format!("extension_{n}")].is_null()) {
                given.insert("extensions");
            }
            record["extensions"] = json!(extensions);
            // As MO (`is_class_primary`): primary when the primary class's scope is a number of
            // at least 3000.
            let classes: Vec<&Value> = match grouped.get("classes") {
                Some(classes) => classes.values().flatten().collect(),
                None => collections["classes"].iter().collect(),
            };
            let is_primary = classes.iter().any(|class| {
                class["uuid"] == input["primary"]
                    && class["scope"]
                        .as_str()
                        .and_then(|scope| scope.parse::<i64>().ok())
                        .is_some_and(|scope| scope >= 3000)
            });
            record["is_primary"] = json!(is_primary);
            if given.contains("primary") {
                given.insert("is_primary");
            }
        }
        "ituser" if input["engagements"].as_array().is_some_and(Vec::is_empty) => {
            record["engagement"] = Value::Null;
            given.insert("engagement");
        }
        _ => {}
    }
    (field, record, given)
}

/// An update as MO applies it: in `[from, to)` the given fields replace MO's, validity by
/// validity; the rest keep their values; outside the window nothing changes, except that MO
/// clears a unit's hierarchy everywhere else when an update sets it (`wipe_hierarchy`).
fn update(rows: &mut Vec<Value>, uuid: &str, record: Value, given: &HashSet<&str>, wipe_hierarchy: bool) {
    let (from, to) =
        (record["validity"]["from"].as_str().map(str::to_owned), record["validity"]["to"].as_str().map(str::to_owned));
    let window = json!({"validity": {"from": from, "to": to}});
    let window = Window::of(&window["validity"]["from"], &window["validity"]["to"]);
    let mut inside: Vec<Value> = Vec::new();
    for row in rows.iter().filter(|r| r["uuid"] == uuid && window.overlaps(r)) {
        let mut part = row.clone();
        for key in given {
            part[*key] = record[*key].clone();
        }
        let start = [row["validity"]["from"].as_str(), from.as_deref()].into_iter().flatten().max();
        let end = match (row["validity"]["to"].as_str(), to.as_deref()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        part["validity"] = json!({"from": start, "to": end});
        inside.push(part);
    }
    if inside.is_empty() {
        // A window where MO holds nothing: the update makes the object valid there.
        let mut part = rows.iter().rev().find(|r| r["uuid"] == uuid).cloned().unwrap_or_else(|| record.clone());
        for key in given {
            part[*key] = record[*key].clone();
        }
        part["validity"] = record["validity"].clone();
        inside.push(part);
    }
    clip(rows, uuid, from.as_deref(), to.as_deref());
    if wipe_hierarchy {
        for row in rows.iter_mut().filter(|r| r["uuid"] == uuid) {
            row["hierarchy"] = Value::Null;
        }
    }
    rows.extend(inside);
}

/// Cuts the validities of `uuid` out of `[from, to)` (`None` unbounded), keeping what lies outside.
fn clip(rows: &mut Vec<Value>, uuid: &str, from: Option<&str>, to: Option<&str>) {
    let mut kept = Vec::new();
    for row in rows.iter().filter(|r| r["uuid"] == uuid) {
        let (start, end) = (row["validity"]["from"].as_str(), row["validity"]["to"].as_str());
        if let Some(from) = from
            && start.is_none_or(|start| start < from)
        {
            let mut before = row.clone();
            before["validity"]["to"] = json!(end.map_or(from, |end| end.min(from)));
            kept.push(before);
        }
        if let Some(to) = to
            && end.is_none_or(|end| end > to)
        {
            let mut after = row.clone();
            after["validity"]["from"] = json!(start.map_or(to, |start| start.max(to)));
            kept.push(after);
        }
    }
    rows.retain(|r| r["uuid"] != uuid);
    rows.extend(kept);
}

/// The birth date in a CPR number, as MO sets a new person's validity from it: the seventh digit
/// says the century (MO's `mora.util.get_cpr_birthdate`).
fn birth_validity(cpr: &Value) -> Value {
    let from = cpr.as_str().filter(|c| c.len() == 10).map(|c| {
        let year: u32 = c[4..6].parse().unwrap();
        let century = match c.as_bytes()[6] {
            b'0'..=b'3' => 1900,
            b'4' | b'9' if year <= 36 => 2000,
            b'4' | b'9' => 1900,
            _ if year <= 57 => 2000,
            _ => 1800,
        };
        format!("{}-{}-{}", century + year, &c[2..4], &c[0..2])
    });
    json!({"from": from, "to": null})
}
