//! Klimadatastyrelsen's Adressevask, the successor of DAWA's address washing:
//! `GET {url}/vask/?adresse=TEXT&token=T` washes free text into one DAR id (or none), and
//! `GET {url}/adresser/{id}?token=T` reads one address; `GET {url}/adresser/?id_lokalids=A,B&token=T`
//! reads up to `IDS_PER_REQUEST` at once (the ids travel in the request line, and the service
//! answers 431 to a long one). The token goes in every URL, so no URL with its query is ever
//! logged or put in an error.

use moport_manifest::secret::Secret;
use moport_types::CallError;
use moport_types::DarAddress as Address;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// Tries per request, the first included: the service limits requests per second, so a 429 or
/// a 5xx is worth a wait and another try.
const ATTEMPTS: u32 = 4;
const FIRST_DELAY: Duration = Duration::from_millis(250);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Ids per batch read; the service took 300 in one request line and refused 500.
pub const IDS_PER_REQUEST: usize = 100;
/// The DAR status of a closed (nedlagt) address: it no longer exists, so it is no match.
const CLOSED: &str = "4";
pub struct Adressevask {
    url: String,
    token: Secret,
    accepted: Vec<i32>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Washed {
    vaskestatus: WashStatus,
    vaskeresultat: Option<WashResult>,
}

#[derive(Deserialize)]
struct WashStatus {
    kode: i32,
    #[serde(default)]
    tekst: String,
}

#[derive(Deserialize)]
struct WashResult {
    #[serde(default)]
    adresse_id_lokalid: String,
    /// A number here, text in `/adresser`.
    status: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OneAddress {
    status: String,
    #[serde(default)]
    beskrivelse: String,
    adresse: Option<UnitAddress>,
}

#[derive(Deserialize)]
struct SomeAddresses {
    status: String,
    #[serde(default)]
    beskrivelse: String,
    #[serde(default)]
    adresser: Vec<UnitAddress>,
}

#[derive(Deserialize)]
struct UnitAddress {
    id_lokalid: String,
    adressebetegnelse: String,
    etagebetegnelse: Option<String>,
    doerbetegnelse: Option<String>,
    status: Option<serde_json::Value>,
    husnummer: HouseNumber,
}

#[derive(Deserialize)]
struct HouseNumber {
    vejnavn: String,
    husnummertekst: String,
    postnummer: PostalCode,
}

#[derive(Deserialize)]
struct PostalCode {
    postnr: String,
    navn: String,
}

impl Adressevask {
    pub fn new(url: &str, token: Secret, accepted: Vec<i32>) -> Adressevask {
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("a TLS backend is compiled in");
        Adressevask { url: url.to_owned(), token, accepted, http }
    }

    /// The address for free text when the wash is confident (its code is an accepted one) and
    /// the address still exists.
    pub async fn wash(&self, text: &str) -> Result<Option<Address>, CallError> {
        let Some(washed) = self.get_json::<Washed>("/vask/", &[("adresse", text)]).await? else {
            return Ok(None);
        };
        let Some(result) = washed.vaskeresultat.filter(|result| !result.adresse_id_lokalid.is_empty()) else {
            tracing::debug!(code = washed.vaskestatus.kode, status = washed.vaskestatus.tekst, "Adressevask: no match");
            return Ok(None);
        };
        if !self.accepted.contains(&washed.vaskestatus.kode) || is_closed(&result.status) {
            tracing::debug!(
                code = washed.vaskestatus.kode,
                status = washed.vaskestatus.tekst,
                "Adressevask: a match not accepted ([host.adressevask] accept)"
            );
            return Ok(None);
        }
        self.address(&result.adresse_id_lokalid).await
    }

    /// One address by its DAR id (a UUID: the caller checks); `None` where the service does
    /// not know it.
    pub async fn address(&self, id: &str) -> Result<Option<Address>, CallError> {
        let Some(answer) = self.get_json::<OneAddress>(&format!("/adresser/{id}"), &[]).await? else {
            return Ok(None);
        };
        if answer.status != "ok" {
            return Err(refused(&answer.status, &answer.beskrivelse));
        }
        Ok(answer.adresse.filter(|address| !is_closed(&address.status)).map(Into::into))
    }

    /// Addresses by DAR id (UUIDs: the caller checks), `IDS_PER_REQUEST` a request; an id the
    /// service does not know is missing from the answer.
    pub async fn addresses(&self, ids: &[&str]) -> Result<HashMap<String, Address>, CallError> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(IDS_PER_REQUEST) {
            let joined = chunk.join(",");
            let answer = self.get_json::<SomeAddresses>("/adresser/", &[("id_lokalids", &joined)]).await?;
            let Some(answer) = answer else { continue };
            if answer.status != "ok" {
                return Err(refused(&answer.status, &answer.beskrivelse));
            }
            for address in answer.adresser.into_iter().filter(|address| !is_closed(&address.status)) {
                found.insert(address.id_lokalid.clone(), address.into());
            }
        }
        Ok(found)
    }

    /// `None` on 404. `path` is named in errors; the query (with the token) never is.
    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<T>, CallError> {
        let mut pairs = query.to_vec();
        pairs.push(("token", self.token.expose()));
        let request_url = reqwest::Url::parse_with_params(&format!("{}{path}", self.url), &pairs)
            .map_err(|err| CallError::Invalid(format!("Adressevask URL `{}`: {err}", self.url)))?;
        let named = format!("Adressevask at {}{path}", self.url);
        let mut delay = FIRST_DELAY;
        let mut attempt = 1;
        loop {
            let failure = match self.http.get(request_url.clone()).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::NOT_FOUND => return Ok(None),
                Ok(response) if response.status().is_success() => {
                    let body = response.bytes().await.map_err(|err| err.without_url().to_string());
                    match body.and_then(|body| {
                        serde_json::from_slice::<T>(&body).map_err(|err| format!("unexpected answer: {err}"))
                    }) {
                        Ok(value) => return Ok(Some(value)),
                        Err(problem) => problem,
                    }
                }
                Ok(response) => {
                    let status = response.status();
                    if matches!(status.as_u16(), 401 | 403) {
                        return Err(CallError::Unavailable(format!(
                            "{named} refused the token ({status}): check `token` or `token_env` under [host.adressevask]"
                        )));
                    }
                    if !(status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS) {
                        return Err(CallError::Unavailable(format!("{named} answered {status}")));
                    }
                    format!("answered {status}")
                }
                // reqwest's message repeats the URL with its query: the address text and the token.
                Err(err) => err.without_url().to_string(),
            };
            if attempt >= ATTEMPTS {
                return Err(CallError::Unavailable(format!("{named}: {failure} ({attempt} tries)")));
            }
            tracing::debug!(service = named, attempt, failure, "DAR request failed; trying again");
            tokio::time::sleep(delay).await;
            delay *= 2;
            attempt += 1;
        }
    }
}

/// An `/adresser` answer whose `status` is not `ok`.
fn refused(status: &str, description: &str) -> CallError {
    CallError::Unavailable(format!("Adressevask /adresser answered status {status:?}: {description}"))
}

/// Whether a DAR status (a number or its text) says the address is closed.
fn is_closed(status: &Option<serde_json::Value>) -> bool {
    match status {
        Some(serde_json::Value::Number(number)) => number.to_string() == CLOSED,
        Some(serde_json::Value::String(text)) => text == CLOSED,
        _ => false,
    }
}

impl From<UnitAddress> for Address {
    fn from(a: UnitAddress) -> Address {
        let present = |text: Option<String>| text.filter(|text| !text.is_empty());
        Address {
            id: a.id_lokalid,
            street: a.husnummer.vejnavn,
            house_number: a.husnummer.husnummertekst,
            floor: present(a.etagebetegnelse),
            door: present(a.doerbetegnelse),
            postcode: a.husnummer.postnummer.postnr,
            city: a.husnummer.postnummer.navn,
            text: a.adressebetegnelse,
        }
    }
}
