//! A small OpenID Connect token issuer on 127.0.0.1, standing where Keycloak stands for MO: a
//! client-credentials token endpoint that signs RS256 JWTs, and the JWKS that MO fetches to check
//! them (`/auth/realms/mo/protocol/openid-connect/{token,certs}`). Real MO checks the signature,
//! `exp` (with 5 s leeway), `azp` and `realm_access.roles` (see MO's `mora/auth/keycloak/`), so
//! moport's own Keycloak code path is what a test against real MO exercises.

#![allow(dead_code)] // a benchmark that takes this file in uses only part of it

use super::http::{self, Reply};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The key id in every token header and in the JWKS.
const KEY_ID: &str = "moport-test-key";

/// A client the issuer knows.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: String,
    /// MO's permission roles (`read_org_unit`, `create_engagement`, ...), in `realm_access.roles`.
    pub roles: Vec<String>,
    /// The token's `exp`, from issue.
    pub lifetime: Duration,
    /// What the token endpoint says in `expires_in`: longer than `lifetime` makes a token that
    /// MO refuses before the client expects it to (as after a clock skew or a revoked session).
    pub advertised_lifetime: Duration,
}

impl Client {
    pub fn new(id: &str, secret: &str, roles: Vec<String>) -> Client {
        Client {
            id: id.to_owned(),
            secret: secret.to_owned(),
            roles,
            lifetime: Duration::from_secs(300),
            advertised_lifetime: Duration::from_secs(300),
        }
    }
}

/// Every role MO 66 knows for the collections moport reads and writes: `{read,create,update,
/// terminate,delete}_{collection}`, as in MO's `mora/graphapi/permissions.py`.
pub fn all_roles() -> Vec<String> {
    let collections = [
        "address",
        "class",
        "employee",
        "engagement",
        "facet",
        "itsystem",
        "ituser",
        "manager",
        "org",
        "org_unit",
        "version",
        "registration",
        "configuration",
        "health",
    ];
    let verbs = ["read", "create", "update", "terminate", "delete"];
    verbs.iter().flat_map(|verb| collections.iter().map(move |c| format!("{verb}_{c}"))).collect()
}

/// The reading half of [`all_roles`].
pub fn read_roles() -> Vec<String> {
    all_roles().into_iter().filter(|role| role.starts_with("read_")).collect()
}

pub struct TokenIssuer {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    key: RsaKeyPair,
    jwks: String,
    clients: Mutex<HashMap<String, Client>>,
    issued: Mutex<HashMap<String, u64>>,
    /// Where it serves, for the tokens' `iss`.
    addr: std::sync::OnceLock<SocketAddr>,
    requests: AtomicU64,
}

impl TokenIssuer {
    /// Serves on a free loopback port, on the current tokio runtime.
    pub async fn start(clients: Vec<Client>) -> TokenIssuer {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
        let public = key.public_key();
        let encode = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let jwks = json!({"keys": [{
            "kid": KEY_ID, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": encode(public.modulus().big_endian_without_leading_zero()),
            "e": encode(public.exponent().big_endian_without_leading_zero()),
        }]})
        .to_string();
        let state = Arc::new(State {
            key,
            jwks,
            clients: Mutex::new(clients.into_iter().map(|c| (c.id.clone(), c)).collect()),
            issued: Mutex::default(),
            addr: std::sync::OnceLock::new(),
            requests: AtomicU64::new(0),
        });
        let served = state.clone();
        let (addr, task) = http::serve(move |request| serve(served.clone(), request)).await;
        state.addr.set(addr).expect("set once");
        TokenIssuer { addr, state, task }
    }

    /// Keycloak's base URL as DIPEX's `crontab.AUTH_SERVER` names it (with `/auth`).
    pub fn auth_server(&self) -> String {
        format!("http://{}/auth", self.addr)
    }

    /// Adds a client, or replaces the one with its id.
    pub fn add_client(&self, client: Client) {
        self.state.clients.lock().unwrap().insert(client.id.clone(), client);
    }

    /// Tokens issued to a client so far.
    pub fn issued(&self, client_id: &str) -> u64 {
        self.state.issued.lock().unwrap().get(client_id).copied().unwrap_or(0)
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    Response::builder().status(status).header("content-type", "application/json").body(Full::new(body.into())).unwrap()
}

async fn serve(state: Arc<State>, request: Request<Incoming>) -> Result<Reply, std::convert::Infallible> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let path = request.uri().path().to_owned();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Ok(match path.as_str() {
        "/auth/realms/mo/protocol/openid-connect/token" => token(&state, &body),
        "/auth/realms/mo/protocol/openid-connect/certs" => reply(StatusCode::OK, state.jwks.clone()),
        _ => reply(StatusCode::NOT_FOUND, r#"{"error": "not found"}"#),
    })
}

fn token(state: &State, body: &[u8]) -> Reply {
    let form = http::form_fields(body);
    let field = |name: &str| form.get(name).map(String::as_str);
    let client = state.clients.lock().unwrap().get(field("client_id").unwrap_or_default()).cloned();
    let client = match client {
        Some(client)
            if field("grant_type") == Some("client_credentials") && field("client_secret") == Some(&client.secret) =>
        {
            client
        }
        // Keycloak's own answer to a wrong client or secret.
        _ => {
            return reply(
                StatusCode::UNAUTHORIZED,
                r#"{"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"}"#,
            );
        }
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let n = {
        let mut issued = state.issued.lock().unwrap();
        let n = issued.entry(client.id.clone()).or_default();
        *n += 1;
        *n
    };
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": KEY_ID});
    let claims = json!({
        "iss": format!("http://{}/auth/realms/mo", state.addr.get().expect("set at start")),
        "azp": client.id,
        "typ": "Bearer",
        "iat": now,
        "exp": now + client.lifetime.as_secs(),
        "jti": format!("{}-{n}", client.id),
        "preferred_username": format!("service-account-{}", client.id),
        "realm_access": {"roles": client.roles},
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut signature = vec![0; state.key.public_modulus_len()];
    state
        .key
        .sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), signing_input.as_bytes(), &mut signature)
        .expect("RS256 signing");
    let access_token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
    let grant = json!({"access_token": access_token, "expires_in": client.advertised_lifetime.as_secs(),
                       "refresh_expires_in": 0, "token_type": "Bearer", "scope": "email profile"});
    reply(StatusCode::OK, grant.to_string())
}
