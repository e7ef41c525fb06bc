//! The transport to MO's GraphQL v30: a Keycloak client-credentials token renewed before it
//! expires, retries with backoff on what can pass (5xx, timeouts, lost connections, a garbled
//! body), GraphQL `errors` read even on HTTP 200, and cursor paging.

use super::GraphqlError;
use super::settings::GraphqlSettings;
use moport_manifest::secret::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How hard the client tries before it gives up on a request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// How long one request may take. MO cancels its own statements after 5 minutes.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
        }
    }
}

/// Objects per page. MO's keyset pages are cheap to serve, and fewer round trips matter more
/// than page size over a municipal WAN.
pub const PAGE_SIZE: usize = 1000;

/// What the client did, for the run's log and for benchmarks.
#[derive(Debug, Default)]
pub struct Traffic {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub tokens: AtomicU64,
    /// Mutations in requests MO took.
    pub mutations: AtomicU64,
    /// Wall time in which at least one request was waiting for MO's answer (overlapping
    /// requests count once): the part of a run that MO sets.
    pub waiting_micros: AtomicU64,
    /// Requests in flight, and since when there has been one.
    in_flight: std::sync::Mutex<(u32, Option<Instant>)>,
}

impl Traffic {
    fn sent(&self) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if in_flight.0 == 0 {
            in_flight.1 = Some(Instant::now());
        }
        in_flight.0 += 1;
    }

    fn answered(&self) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        in_flight.0 = in_flight.0.saturating_sub(1);
        if in_flight.0 == 0
            && let Some(since) = in_flight.1.take()
        {
            self.waiting_micros.fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
    }
}

struct Token {
    bearer: Secret,
    renew_at: Instant,
}

pub struct MoClient {
    http: reqwest::Client,
    settings: GraphqlSettings,
    retry: RetryPolicy,
    token: tokio::sync::Mutex<Option<Token>>,
    pub traffic: Traffic,
}

/// One object of a paged collection with its validities.
#[derive(Debug, Deserialize)]
pub struct Object<T> {
    pub uuid: String,
    pub validities: Vec<T>,
}

#[derive(Deserialize)]
struct PageData<T> {
    page: Page<T>,
}

#[derive(Deserialize)]
struct Page<T> {
    objects: Vec<Object<T>>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
struct PageInfo {
    next_cursor: Option<String>,
}

/// Why one try failed, and whether another may succeed.
enum Failure {
    Transient(String),
    /// This token was refused: drop it, fetch a new one and try again.
    Unauthorized {
        bearer: Secret,
    },
    Fatal(GraphqlError),
}

impl MoClient {
    pub fn settings(&self) -> &GraphqlSettings {
        &self.settings
    }

    pub fn new(settings: GraphqlSettings, retry: RetryPolicy) -> Result<MoClient, GraphqlError> {
        let http = reqwest::Client::builder()
            .timeout(retry.request_timeout)
            .connect_timeout(Duration::from_secs(20))
            .user_agent(concat!("moport/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| GraphqlError::Settings { problem: format!("cannot set up HTTPS: {err}") })?;
        Ok(MoClient { http, settings, retry, token: Default::default(), traffic: Traffic::default() })
    }

    pub fn endpoint(&self) -> String {
        self.settings.endpoint()
    }

    /// Runs one GraphQL operation and returns its `data`, decoded straight from the body.
    pub async fn execute<T: DeserializeOwned>(
        &self,
        operation: &str,
        document: &str,
        variables: Value,
    ) -> Result<T, GraphqlError> {
        let body = json!({"query": document, "variables": variables, "operationName": operation});
        let mut last = String::new();
        for attempt in 1..=self.retry.attempts {
            if attempt > 1 {
                self.traffic.retries.fetch_add(1, Ordering::Relaxed);
                let delay = self.retry.first_delay.saturating_mul(1 << (attempt - 2).min(16)).min(self.retry.max_delay);
                tracing::warn!(operation, attempt, "MO request failed ({last}); trying again in {delay:?}");
                tokio::time::sleep(delay).await;
            }
            match self.try_once(operation, &body).await {
                Ok(data) => return Ok(data),
                Err(Failure::Fatal(err)) => return Err(err),
                Err(Failure::Unauthorized { bearer }) => {
                    // Only this token: another request may have renewed it meanwhile.
                    let mut token = self.token.lock().await;
                    if token.as_ref().is_some_and(|t| t.bearer == bearer) {
                        *token = None;
                    }
                    last = "MO refused the token".to_owned();
                }
                Err(Failure::Transient(problem)) => last = problem,
            }
        }
        Err(GraphqlError::Unavailable {
            url: self.settings.endpoint(),
            operation: operation.to_owned(),
            attempts: self.retry.attempts,
            last,
        })
    }

    async fn try_once<T: DeserializeOwned>(&self, operation: &str, body: &Value) -> Result<T, Failure> {
        let (bearer, fresh) = self.bearer().await?;
        self.traffic.requests.fetch_add(1, Ordering::Relaxed);
        self.traffic.sent();
        let answer = async {
            let response = self
                .http
                .post(self.settings.endpoint())
                .bearer_auth(bearer.expose())
                .json(body)
                .send()
                .await
                .map_err(transient)?;
            let status = response.status();
            Ok::<_, Failure>((status, response.bytes().await.map_err(transient)?))
        }
        .await;
        self.traffic.answered();
        let (status, bytes) = answer?;
        // MO 66 answers a token it does not accept with HTTP 200 and "User is not authenticated";
        // a proxy in front of it may answer 401.
        if status == reqwest::StatusCode::UNAUTHORIZED || mentions(&bytes, NOT_AUTHENTICATED) {
            // A token Keycloak has just issued will not do better on the next try.
            if fresh {
                return Err(Failure::Fatal(GraphqlError::Auth {
                    url: self.settings.endpoint(),
                    problem: format!(
                        "MO refused a token Keycloak had just issued to the client `{}` ({}); check that MO \
                         trusts this Keycloak realm (MO's KEYCLOAK_HOST, KEYCLOAK_REALM) and that the clocks agree",
                        self.settings.client_id,
                        excerpt(&bytes)
                    ),
                }));
            }
            return Err(Failure::Unauthorized { bearer });
        }
        if mentions(&bytes, NO_POLICY) {
            return Err(Failure::Fatal(GraphqlError::Forbidden {
                operation: operation.to_owned(),
                client: self.settings.client_id.clone(),
                roles: roles_for(operation),
            }));
        }
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::Transient(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(Failure::Fatal(GraphqlError::Refused {
                url: self.settings.endpoint(),
                operation: operation.to_owned(),
                status: status.as_u16(),
                body: excerpt(&bytes),
            }));
        }
        #[derive(Deserialize)]
        struct Reply<T> {
            data: Option<T>,
            #[serde(default)]
            errors: Vec<Value>,
        }
        let graphql_errors = |errors: &[Value]| {
            Failure::Fatal(GraphqlError::Graphql {
                operation: operation.to_owned(),
                messages: errors.iter().map(describe_graphql_error).collect::<Vec<_>>().join("; "),
            })
        };
        let decode_error =
            |problem: String| Failure::Fatal(GraphqlError::Decode { operation: operation.to_owned(), problem });
        match serde_json::from_slice::<Reply<T>>(&bytes) {
            Ok(reply) if !reply.errors.is_empty() => Err(graphql_errors(&reply.errors)),
            Ok(Reply { data: Some(data), .. }) => Ok(data),
            Ok(_) => Err(decode_error("the reply has neither `data` nor `errors`".to_owned())),
            // Not the expected shape: errors next to partial data, something else entirely, or a
            // body a proxy or a restarting MO garbled (the next try usually gets a good one).
            Err(shape) => match serde_json::from_slice::<Value>(&bytes) {
                Err(err) => Err(Failure::Transient(format!("malformed JSON from MO ({err}): {}", excerpt(&bytes)))),
                Ok(reply) => match reply.get("errors").and_then(Value::as_array).filter(|e| !e.is_empty()) {
                    Some(errors) => Err(graphql_errors(errors)),
                    None => Err(decode_error(shape.to_string())),
                },
            },
        }
    }

    /// The current token, fetched anew when it is missing or about to expire.
    /// The token to send, and whether it was fetched for this request.
    async fn bearer(&self) -> Result<(Secret, bool), Failure> {
        let mut token = self.token.lock().await;
        if let Some(current) = token.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok((current.bearer.clone(), false));
        }
        let fresh = self.fetch_token().await?;
        let bearer = fresh.bearer.clone();
        *token = Some(fresh);
        Ok((bearer, true))
    }

    async fn fetch_token(&self) -> Result<Token, Failure> {
        #[derive(Deserialize)]
        struct Grant {
            access_token: String,
            expires_in: u64,
        }
        let url = self.settings.token_url();
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            form_encode(&self.settings.client_id),
            form_encode(self.settings.client_secret.expose())
        );
        self.traffic.tokens.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|err| Failure::Transient(format!("token request to {url}: {}", transport_problem(&err))))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transient)?;
        if status.is_server_error() {
            return Err(Failure::Transient(format!("token request to {url}: HTTP {status}")));
        }
        let auth = |problem: String| Failure::Fatal(GraphqlError::Auth { url: url.clone(), problem });
        if !status.is_success() {
            return Err(auth(format!(
                "HTTP {status}: {}; check crontab.CLIENT_ID and crontab.CLIENT_SECRET",
                excerpt(&bytes)
            )));
        }
        let grant: Grant = serde_json::from_slice(&bytes)
            .map_err(|err| auth(format!("the reply is not a token ({err}): {}", excerpt(&bytes))))?;
        // Renew with a margin, so a token never expires in the middle of a request.
        let lifetime = Duration::from_secs(grant.expires_in);
        let renew_after = lifetime.saturating_sub(Duration::from_secs(30)).max(lifetime / 2);
        tracing::debug!(expires_in = grant.expires_in, "got an MO token");
        Ok(Token { bearer: Secret::new(grant.access_token), renew_at: Instant::now() + renew_after })
    }

    /// One page of at most `limit` objects after `cursor`, and the cursor of the next page
    /// (`None` after the last). `variables` hold the filter and validity window.
    pub async fn page<T: DeserializeOwned>(
        &self,
        operation: &str,
        document: &str,
        mut variables: Value,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Object<T>>, Option<String>), GraphqlError> {
        variables["limit"] = json!(limit);
        variables["cursor"] = json!(cursor);
        let PageData { page } = self.execute::<PageData<T>>(operation, document, variables).await?;
        let next = page.page_info.next_cursor;
        // Keyset cursors only move forward; the same one again would loop for ever.
        if let Some(next) = next.as_deref().filter(|next| Some(*next) == cursor) {
            return Err(GraphqlError::Decode {
                operation: operation.to_owned(),
                problem: format!("MO answered the cursor `{next}` with itself; paging cannot go on"),
            });
        }
        Ok((page.objects, next))
    }

    /// Every object of a collection, page by page; `on_page` hears the running count.
    pub async fn fetch_all<T: DeserializeOwned>(
        &self,
        operation: &str,
        document: &str,
        variables: Value,
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<Object<T>>, GraphqlError> {
        let mut objects = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) =
                self.page::<T>(operation, document, variables.clone(), cursor.as_deref(), PAGE_SIZE).await?;
            objects.extend(page);
            on_page(objects.len());
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(objects),
            }
        }
    }
}

/// MO's message for a request whose token it does not accept.
const NOT_AUTHENTICATED: &str = "User is not authenticated";
/// MO's message for a token without the role a field needs.
const NO_POLICY: &str = "No policy approved the access";

/// Whether a reply's GraphQL errors include `message`.
fn mentions(body: &[u8], message: &str) -> bool {
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<Value>,
    }
    serde_json::from_slice::<Errors>(body)
        .is_ok_and(|reply| reply.errors.iter().any(|e| e.get("message").and_then(Value::as_str) == Some(message)))
}

/// The MO role a read needs (MO's `mora/graphapi/permissions.py`); a write needs several.
fn roles_for(operation: &str) -> String {
    let collection = match operation {
        "Organisation" => "org",
        "Facets" => "facet",
        "Classes" => "class",
        "OrgUnits" => "org_unit",
        "Employees" => "employee",
        "Engagements" => "engagement",
        "Managers" => "manager",
        "Addresses" => "address",
        "ITSystems" => "itsystem",
        "ITUsers" => "ituser",
        _ => {
            return "create_<collection>, update_<collection> and terminate_<collection> for each collection \
                    the plugin writes (and read_<collection> for each it reads)"
                .to_owned();
        }
    };
    format!("read_{collection}")
}

fn transient(err: reqwest::Error) -> Failure {
    Failure::Transient(transport_problem(&err))
}

/// What went wrong on the way to an HTTP server, in a few words (also the host's Pushgateway
/// pushes').
pub fn transport_problem(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "no answer in time".to_owned()
    } else if err.is_connect() {
        format!("cannot connect: {}", root_cause(err))
    } else {
        root_cause(err)
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// MO puts its machine-readable error key (e.g. `V_EXISTING_CPR`) and a description in
/// `extensions.error_context`; outside mutators, some errors carry `extensions.error_key`.
fn describe_graphql_error(error: &Value) -> String {
    let message = error.get("message").and_then(Value::as_str).unwrap_or("(no message)");
    let path = error.get("path").and_then(Value::as_array).map(|path| {
        path.iter().map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned)).collect::<Vec<_>>().join(".")
    });
    let key = error
        .pointer("/extensions/error_context/error_key")
        .or_else(|| error.pointer("/extensions/error_key"))
        .and_then(Value::as_str);
    let description = error.pointer("/extensions/error_context/description").and_then(Value::as_str);
    let mut text = match description {
        Some(description) if description != message => format!("{message}: {description}"),
        _ => message.to_owned(),
    };
    // MO's context fields say which dates and objects the rule was checked against.
    let context: Vec<String> = error
        .pointer("/extensions/error_context")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(key, _)| !["error", "error_key", "status", "description"].contains(&key.as_str()))
        .map(|(key, value)| format!("{key}: {}", value.as_str().map_or_else(|| value.to_string(), str::to_owned)))
        .collect();
    if !context.is_empty() {
        text.push_str(&format!(" [{}]", context.join(", ")));
    }
    if let Some(key) = key.filter(|key| !message.contains(key)) {
        text = format!("{key}: {text}");
    }
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        text.push_str(&format!(" (at {path})"));
    }
    text
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None if text.is_empty() => "(empty body)".to_owned(),
        None => text.to_owned(),
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_requests_count_their_waiting_once() {
        let traffic = Traffic::default();
        let started = Instant::now();
        traffic.sent();
        traffic.sent();
        std::thread::sleep(Duration::from_millis(20));
        traffic.answered();
        std::thread::sleep(Duration::from_millis(20));
        traffic.answered();
        let wall = started.elapsed().as_micros() as u64;
        let waited = traffic.waiting_micros.load(Ordering::SeqCst);
        // Summed per request it would be some 60 ms of 40.
        assert!((40_000..=wall).contains(&waited), "waited {waited} us of {wall}");
    }

    #[test]
    fn graphql_errors_show_mos_error_key_and_path() {
        let error = json!({"message": "Org unit not found", "path": ["org_units", 0],
                           "extensions": {"error_key": "E_ORG_UNIT_NOT_FOUND"}});
        assert_eq!(describe_graphql_error(&error), "E_ORG_UNIT_NOT_FOUND: Org unit not found (at org_units.0)");
        // A mutator's business-rule error, as MO sends it.
        let error = json!({"message": "ErrorCodes.V_MISSING_REQUIRED_VALUE", "path": ["address_update"],
                           "extensions": {"error_context": {"error": true, "error_key": "V_MISSING_REQUIRED_VALUE",
                                          "status": 400, "description": "Missing address_type"}}});
        assert_eq!(
            describe_graphql_error(&error),
            "ErrorCodes.V_MISSING_REQUIRED_VALUE: Missing address_type (at address_update)"
        );
        // With the dates and objects MO checked against.
        let error = json!({"message": "ErrorCodes.V_DATE_OUTSIDE_ORG_UNIT_RANGE", "path": ["m3"],
                           "extensions": {"error_context": {"error": true, "error_key": "V_DATE_OUTSIDE_ORG_UNIT_RANGE",
                                          "status": 400, "description": "Date range exceeds validity range of the organisation unit.",
                                          "org_unit_uuid": ["u1"], "valid_from": "2020-01-01", "valid_to": null}}});
        assert_eq!(
            describe_graphql_error(&error),
            "ErrorCodes.V_DATE_OUTSIDE_ORG_UNIT_RANGE: Date range exceeds validity range of the organisation unit. \
             [org_unit_uuid: [\"u1\"], valid_from: 2020-01-01, valid_to: null] (at m3)"
        );
    }

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(form_encode("a b&c=d/æ"), "a%20b%26c%3Dd%2F%C3%A6");
    }
}
