//! A DAWA-compatible address service: `GET {base}/datavask/adresser?betegnelse=TEXT&struktur=mini`
//! washes free text into an address, `GET {base}/adresser/{id}?struktur=mini` reads one. DAWA
//! itself closed on 2026-08-17; the base URL names whichever service took its API over.

use crate::bindings::moport::host::dar::Address;
use crate::bindings::moport::host::types::CallError;
use serde::Deserialize;
use std::time::Duration;

/// Tries per request, the first included; DAWA's successors limit requests per second, so a
/// 429 or a 5xx is worth a wait and another try.
const ATTEMPTS: u32 = 4;
const FIRST_DELAY: Duration = Duration::from_millis(250);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Dawa {
    base: String,
    http: reqwest::Client,
}

/// `struktur=mini` fields; `dør` as DAWA spells it.
#[derive(Deserialize)]
struct MiniAddress {
    id: String,
    vejnavn: String,
    husnr: String,
    etage: Option<String>,
    #[serde(rename = "dør")]
    door: Option<String>,
    postnr: String,
    postnrnavn: String,
    betegnelse: Option<String>,
}

#[derive(Deserialize)]
struct Wash {
    kategori: String,
    resultater: Vec<WashResult>,
}

#[derive(Deserialize)]
struct WashResult {
    adresse: MiniAddress,
}

impl Dawa {
    pub fn new(base: &str) -> Dawa {
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("a TLS backend is compiled in");
        Dawa { base: base.to_owned(), http }
    }

    /// The address for free text when the wash is confident: category A (exact) or B (small
    /// spelling differences). Category C is a guess, and a wrong address is worse than none.
    pub async fn wash(&self, text: &str) -> Result<Option<Address>, CallError> {
        let url = format!("{}/datavask/adresser", self.base);
        let Some(wash) = self.get_json::<Wash>(&url, &[("betegnelse", text), ("struktur", "mini")]).await? else {
            return Ok(None);
        };
        let confident = matches!(wash.kategori.as_str(), "A" | "B");
        Ok(wash.resultater.into_iter().next().filter(|_| confident).map(|result| result.adresse.into()))
    }

    pub async fn address(&self, id: &str) -> Result<Option<Address>, CallError> {
        let url = format!("{}/adresser/{}", self.base, id);
        Ok(self.get_json::<MiniAddress>(&url, &[("struktur", "mini")]).await?.map(Into::into))
    }

    /// `None` on 404.
    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<T>, CallError> {
        let request_url = reqwest::Url::parse_with_params(url, query)
            .map_err(|err| CallError::Invalid(format!("DAR base URL `{}`: {err}", self.base)))?;
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
                    if !(status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS) {
                        return Err(CallError::Unavailable(format!("DAR at {url} answered {status}")));
                    }
                    format!("answered {status}")
                }
                // reqwest's message repeats the URL with its query, which holds the address text.
                Err(err) => err.without_url().to_string(),
            };
            if attempt >= ATTEMPTS {
                return Err(CallError::Unavailable(format!("DAR at {url}: {failure} ({attempt} tries)")));
            }
            tracing::debug!(url, attempt, failure, "DAR request failed; trying again");
            tokio::time::sleep(delay).await;
            delay *= 2;
            attempt += 1;
        }
    }
}

impl From<MiniAddress> for Address {
    fn from(a: MiniAddress) -> Address {
        let text = a.betegnelse.clone().unwrap_or_else(|| {
            let mut line = format!("{} {}", a.vejnavn, a.husnr);
            match (&a.etage, &a.door) {
                (Some(floor), Some(door)) => line.push_str(&format!(", {floor}. {door}")),
                (Some(floor), None) => line.push_str(&format!(", {floor}.")),
                _ => {}
            }
            format!("{line}, {} {}", a.postnr, a.postnrnavn)
        });
        Address {
            id: a.id,
            street: a.vejnavn,
            house_number: a.husnr,
            floor: a.etage,
            door: a.door,
            postcode: a.postnr,
            city: a.postnrnavn,
            text,
        }
    }
}
