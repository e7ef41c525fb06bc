//! An Adressevask stand-in on 127.0.0.1, in the service's format: `/vask/?adresse=TEXT` answers
//! code 1000 for the addresses it knows, 900 for one of them spelled in other case or spacing,
//! 800 (a house-number interval, with a guess) for other text with a postcode and -300 without
//! one; `/adresser/{id}` the address or 404; `/adresser/?id_lokalids=A,B` the ones it knows, and
//! 431 for more than 100 ids. Every request needs the token `TOKEN` (403 without it); the first
//! requests can be made to fail with 503.

use super::http;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The token the stand-in takes.
pub const TOKEN: &str = "standin-token-7c1f";

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
    /// Ids asked for, one entry a request, in order.
    asked: Mutex<Vec<Vec<String>>>,
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
            asked: Mutex::new(Vec::new()),
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

    /// The ids of each `/adresser` request so far.
    pub fn ids_asked(&self) -> Vec<Vec<String>> {
        self.state.asked.lock().unwrap().clone()
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
    if query.get("token").map(String::as_str) != Some(TOKEN) {
        return answer(StatusCode::FORBIDDEN, json!({"status": "fejl", "beskrivelse": "Ugyldig token"}));
    }
    let by_id = |id: &str| state.known.iter().find(|(_, known)| known.as_str() == id).map(|(text, _)| text);
    let path = request.uri().path();
    if path == "/vask/" {
        let text = query.get("adresse").cloned().unwrap_or_default();
        let squeezed = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let variant = state.known.iter().find(|(known, _)| squeezed(known) == squeezed(&text));
        let has_postcode = text.split(|c: char| !c.is_ascii_digit()).any(|digits| digits.len() == 4);
        let (code, result) = match (state.known.get(&text), variant) {
            (Some(id), _) => (1000, Some((id.as_str(), text.as_str()))),
            (None, Some((known, id))) => (900, Some((id.as_str(), known.as_str()))),
            (None, None) if has_postcode => (800, Some(("00000000-0000-4000-8000-00000000dead", "Gæt 1, 9999 Gætby"))),
            (None, None) => (-300, None),
        };
        let result = result.map(|(id, text)| json!({"adresse_id_lokalid": id, "adressebetegnelse": text, "status": 3}));
        return answer(
            StatusCode::OK,
            json!({"vaskestatus": {"kode": code, "tekst": "stand-in"}, "vaskeresultat": result}),
        );
    }
    if path == "/adresser/" {
        let ids: Vec<String> =
            query.get("id_lokalids").map(|ids| ids.split(',').map(str::to_owned).collect()).unwrap_or_default();
        if ids.len() > 100 {
            return answer(StatusCode::from_u16(431).unwrap(), json!({}));
        }
        state.asked.lock().unwrap().push(ids.clone());
        let found: Vec<Value> = ids.iter().filter_map(|id| by_id(id).map(|text| unit_address(id, text))).collect();
        return answer(StatusCode::OK, json!({"status": "ok", "adresser": found}));
    }
    if let Some(id) = path.strip_prefix("/adresser/") {
        state.asked.lock().unwrap().push(vec![id.to_owned()]);
        return match by_id(id) {
            Some(text) => answer(StatusCode::OK, json!({"status": "ok", "adresse": unit_address(id, text)})),
            None => answer(StatusCode::NOT_FOUND, json!({"status": "fejl", "beskrivelse": "Adressen findes ikke"})),
        };
    }
    answer(StatusCode::NOT_FOUND, json!({}))
}

/// An address as `/adresser` answers it, made from text like "Testvej 1, 8000 Aarhus C".
fn unit_address(id: &str, text: &str) -> Value {
    let (street_part, city_part) = text.split_once(", ").unwrap_or((text, "0000 Ukendt"));
    let (street, number) = street_part.rsplit_once(' ').unwrap_or((street_part, ""));
    let (postcode, city) = city_part.split_once(' ').unwrap_or((city_part, ""));
    json!({"id_lokalid": id, "adressebetegnelse": text, "etagebetegnelse": null, "doerbetegnelse": null,
           "status": "3", "husnummer": {"vejnavn": street, "husnummertekst": number,
                                        "postnummer": {"postnr": postcode, "navn": city}}})
}

fn answer(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}
