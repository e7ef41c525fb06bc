//! A DAWA-compatible DAR stand-in on 127.0.0.1: `/datavask/adresser?betegnelse=TEXT` answers
//! category A for the addresses it knows and C (with a guess) for the rest, `/adresser/{id}` the
//! address or 404; the first requests can be made to fail with 503.

#![allow(dead_code)] // each test binary uses its own part of it

use super::http;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct DarStandin {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

struct State {
    /// Address text -> DAR id.
    known: HashMap<String, String>,
    failures_left: Mutex<u64>,
    requests: AtomicU64,
}

impl Drop for DarStandin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DarStandin {
    /// Knows these (text, DAR id) pairs.
    pub async fn start(known: &[(&str, &str)]) -> DarStandin {
        let state = Arc::new(State {
            known: known.iter().map(|(text, id)| ((*text).to_owned(), (*id).to_owned())).collect(),
            failures_left: Mutex::new(0),
            requests: AtomicU64::new(0),
        });
        let served = state.clone();
        let (addr, task) = http::serve(move |request| {
            let state = served.clone();
            async move { Ok::<_, std::convert::Infallible>(serve(&state, request)) }
        })
        .await;
        DarStandin { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `n` requests answer 503.
    pub fn fail_next(&self, n: u64) {
        *self.state.failures_left.lock().unwrap() = n;
    }

    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }
}

fn serve(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    {
        let mut failures = state.failures_left.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return answer(StatusCode::SERVICE_UNAVAILABLE, json!({"type": "ServiceUnavailable"}));
        }
    }
    let url = reqwest::Url::parse(&format!("http://dar{}", request.uri())).unwrap();
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let path = request.uri().path();
    if path == "/datavask/adresser" {
        let text = query.get("betegnelse").cloned().unwrap_or_default();
        return match state.known.get(&text) {
            Some(id) => answer(StatusCode::OK, json!({"kategori": "A", "resultater": [{"adresse": mini(id, &text)}]})),
            // DAWA always offers its best guess; category C says not to trust it.
            None => answer(
                StatusCode::OK,
                json!({"kategori": "C", "resultater": [{"adresse": mini("00000000-0000-0000-0000-00000000dead", "Gæt 1, 9999 Gætby")}]}),
            ),
        };
    }
    if let Some(id) = path.strip_prefix("/adresser/") {
        return match state.known.iter().find(|(_, known)| *known == id) {
            Some((text, id)) => answer(StatusCode::OK, mini(id, text)),
            None => answer(StatusCode::NOT_FOUND, json!({"type": "ResourceNotFoundError"})),
        };
    }
    answer(StatusCode::NOT_FOUND, json!({"type": "ResourceNotFoundError"}))
}

/// `struktur=mini` fields, made from text like "Testvej 1, 8000 Aarhus C".
fn mini(id: &str, text: &str) -> Value {
    let (street_part, city_part) = text.split_once(", ").unwrap_or((text, "0000 Ukendt"));
    let (street, number) = street_part.rsplit_once(' ').unwrap_or((street_part, ""));
    let (postcode, city) = city_part.split_once(' ').unwrap_or((city_part, ""));
    json!({"id": id, "vejnavn": street, "husnr": number, "etage": null, "dør": null,
           "postnr": postcode, "postnrnavn": city, "betegnelse": text})
}

fn answer(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}
