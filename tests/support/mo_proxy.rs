//! A loopback HTTP proxy in front of a real MO: it counts what moport sends (GraphQL requests,
//! mutation requests, mutations), keeps every GraphQL request with MO's answer (so a test can
//! put the same requests to the MO stand-in), and can make MO go away after a number of mutation
//! requests, so a test sees what really reached MO and how an import cut off midway ends.

use super::http::{self, Reply};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Counters {
    pub graphql_requests: AtomicU64,
    pub mutation_requests: AtomicU64,
    /// Mutations (aliased mutator calls) in the mutation requests that reached MO.
    pub mutations: AtomicU64,
    /// Every GraphQL request that reached MO, with MO's answer, in order.
    pub exchanges: Mutex<Vec<Exchange>>,
}

/// One GraphQL request as moport sent it and MO's answer.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub request: serde_json::Value,
    pub status: u16,
    pub answer: serde_json::Value,
}

pub struct MoProxy {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    /// Mutation requests still passed on to MO; `None` is no limit. Past it, MO is "down":
    /// every request gets HTTP 503 until the limit is lifted.
    pub mutations_allowed: Arc<Mutex<Option<u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MoProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    upstream: String,
    http: reqwest::Client,
    counters: Arc<Counters>,
    mutations_allowed: Arc<Mutex<Option<u64>>>,
}

impl MoProxy {
    /// Passes everything to `upstream` (MO's base URL), on the current tokio runtime.
    pub async fn start(upstream: &str) -> MoProxy {
        let counters = Arc::new(Counters::default());
        let mutations_allowed = Arc::new(Mutex::new(None));
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            counters: counters.clone(),
            mutations_allowed: mutations_allowed.clone(),
        });
        let (addr, task) = http::serve(move |request| forward(state.clone(), request)).await;
        MoProxy { addr, counters, mutations_allowed, task }
    }

    /// The base URL to give moport as `mora.base`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn mutation_requests(&self) -> u64 {
        self.counters.mutation_requests.load(Ordering::SeqCst)
    }

    pub fn mutations(&self) -> u64 {
        self.counters.mutations.load(Ordering::SeqCst)
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.counters.exchanges.lock().unwrap().clone()
    }
}

async fn forward(state: Arc<State>, request: Request<Incoming>) -> Result<Reply, std::convert::Infallible> {
    let path = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let method = request.method().clone();
    let headers = request.headers().clone();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let graphql = path.starts_with("/graphql");
    if graphql {
        state.counters.graphql_requests.fetch_add(1, Ordering::SeqCst);
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let query = parsed["query"].as_str().unwrap_or_default();
        if query.trim_start().starts_with("mutation") {
            let mut allowed = state.mutations_allowed.lock().unwrap();
            if let Some(left) = allowed.as_mut() {
                match left.checked_sub(1) {
                    Some(fewer) => *left = fewer,
                    None => return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, "MO is down for the test")),
                }
            }
            drop(allowed);
            state.counters.mutation_requests.fetch_add(1, Ordering::SeqCst);
            let calls = parsed["variables"].as_object().map_or(0, |variables| variables.len() as u64);
            state.counters.mutations.fetch_add(calls, Ordering::SeqCst);
        }
    }
    let mut upstream = state.http.request(method, format!("{}{path}", state.upstream)).body(body.clone());
    for (name, value) in headers.iter().filter(|(name, _)| *name != hyper::header::HOST) {
        upstream = upstream.header(name, value);
    }
    let answer = match upstream.send().await {
        Ok(answer) => answer,
        Err(err) => return Ok(plain(StatusCode::BAD_GATEWAY, &format!("the real MO did not answer: {err}"))),
    };
    let status = answer.status();
    let content_type = answer.headers().get(hyper::header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    if graphql {
        state.counters.exchanges.lock().unwrap().push(Exchange {
            request: serde_json::from_slice(&body).unwrap_or_default(),
            status: status.as_u16(),
            answer: serde_json::from_slice(&bytes).unwrap_or_default(),
        });
    }
    let mut reply = Response::builder().status(status.as_u16());
    if let Some(content_type) = content_type {
        reply = reply.header(hyper::header::CONTENT_TYPE, content_type);
    }
    Ok(reply.body(Full::new(bytes)).unwrap())
}

fn plain(status: StatusCode, text: &str) -> Reply {
    Response::builder().status(status).body(Full::new(Bytes::from(text.to_owned()))).unwrap()
}
