//! Where MO and its Keycloak are, and the client's credentials: DIPEX's settings.json, with the
//! environment taking precedence key by key, as the DIPEX jobs read them.

use super::GraphqlError;
use moport_manifest::secret::Secret;
use std::path::Path;

/// The settings.json keys, and the environment variables that override them.
const MO_URL: (&str, &str) = ("mora.base", "MORA_BASE");
const AUTH_SERVER: (&str, &str) = ("crontab.AUTH_SERVER", "AUTH_SERVER");
const CLIENT_ID: (&str, &str) = ("crontab.CLIENT_ID", "CLIENT_ID");
const CLIENT_SECRET: (&str, &str) = ("crontab.CLIENT_SECRET", "CLIENT_SECRET");
const AUTH_REALM: (&str, &str) = ("crontab.AUTH_REALM", "AUTH_REALM");
const MUTATIONS_PER_REQUEST: (&str, &str) = ("moport.mutations_per_request", "MOPORT_MUTATIONS_PER_REQUEST");

/// Mutations in one request: MO runs a request in one transaction and cancels statements after
/// five minutes, so a large import goes in several requests of this size.
pub const DEFAULT_MUTATIONS_PER_REQUEST: usize = 500;

/// Everything the `graphql` backend needs to reach MO.
#[derive(Clone)]
pub struct GraphqlSettings {
    /// MO's base URL, e.g. `https://mo.kommune.dk`; the host adds `/graphql/v30`.
    pub mo_url: String,
    /// Keycloak's base URL including `/auth`, e.g. `https://mo.kommune.dk/auth`.
    pub auth_server: String,
    pub realm: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub mutations_per_request: usize,
}

impl std::fmt::Debug for GraphqlSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphqlSettings")
            .field("mo_url", &self.mo_url)
            .field("auth_server", &self.auth_server)
            .field("realm", &self.realm)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("mutations_per_request", &self.mutations_per_request)
            .finish()
    }
}

impl GraphqlSettings {
    /// The v30 endpoint: MO retires old versions, and programs must name theirs.
    pub fn endpoint(&self) -> String {
        format!("{}/graphql/v30", self.mo_url.trim_end_matches('/'))
    }

    pub fn token_url(&self) -> String {
        format!("{}/realms/{}/protocol/openid-connect/token", self.auth_server.trim_end_matches('/'), self.realm)
    }

    /// Reads DIPEX's settings.json (when given) and the environment, which wins key by key.
    pub fn load(settings_json: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, GraphqlError> {
        let file = match settings_json {
            Some(path) => read_settings_json(path)?,
            None => serde_json::Map::new(),
        };
        let origin = settings_json.map_or_else(|| "the environment".to_owned(), |p| p.display().to_string());
        let get = |(key, var): (&str, &str)| -> Option<String> {
            env(var).filter(|v| !v.is_empty()).or_else(|| {
                file.get(key).and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string())))
            })
        };
        let require = |pair: (&str, &str)| {
            get(pair).ok_or_else(|| GraphqlError::Settings {
                problem: format!(
                    "`{}` is not set: put it in {} or set the environment variable {}",
                    pair.0,
                    if settings_json.is_some() { origin.as_str() } else { "DIPEX's settings.json" },
                    pair.1
                ),
            })
        };
        let settings = GraphqlSettings {
            mo_url: require(MO_URL)?,
            auth_server: require(AUTH_SERVER)?,
            realm: get(AUTH_REALM).unwrap_or_else(|| "mo".to_owned()),
            client_id: require(CLIENT_ID)?,
            client_secret: Secret::new(require(CLIENT_SECRET)?),
            mutations_per_request: match get(MUTATIONS_PER_REQUEST) {
                None => DEFAULT_MUTATIONS_PER_REQUEST,
                Some(text) => text.parse().ok().filter(|n| *n > 0).ok_or_else(|| GraphqlError::Settings {
                    problem: format!(
                        "`{}` (or {}) is `{text}`; write a whole number of at least 1",
                        MUTATIONS_PER_REQUEST.0, MUTATIONS_PER_REQUEST.1
                    ),
                })?,
            },
        };
        for (url, key) in [(&settings.mo_url, MO_URL.0), (&settings.auth_server, AUTH_SERVER.0)] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(GraphqlError::Settings {
                    problem: format!("`{key}` is `{url}`, which is not an http:// or https:// URL"),
                });
            }
        }
        Ok(settings)
    }
}

fn read_settings_json(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, GraphqlError> {
    let problem = |problem: String| GraphqlError::Settings { problem };
    let text = std::fs::read(path).map_err(|err| problem(format!("cannot read {}: {err}", path.display())))?;
    serde_json::from_slice(&text).map_err(|err| {
        problem(format!("{}, line {}, column {}: not a JSON object: {err}", path.display(), err.line(), err.column()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_and_the_secret_never_prints() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(
            &path,
            r#"{"mora.base": "https://mo.example", "crontab.AUTH_SERVER": "https://mo.example/auth",
                "crontab.CLIENT_ID": "dipex", "crontab.CLIENT_SECRET": "hemmelig-123"}"#,
        )
        .unwrap();
        let env = |var: &str| (var == "CLIENT_ID").then(|| "moport".to_owned());
        let settings = GraphqlSettings::load(Some(&path), env).unwrap();
        assert_eq!(settings.client_id, "moport");
        assert_eq!(settings.endpoint(), "https://mo.example/graphql/v30");
        assert_eq!(settings.token_url(), "https://mo.example/auth/realms/mo/protocol/openid-connect/token");
        assert!(!format!("{settings:?}").contains("hemmelig"));
    }

    #[test]
    fn a_missing_key_names_the_key_the_file_and_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"mora.base": "https://mo.example"}"#).unwrap();
        let err = GraphqlSettings::load(Some(&path), |_| None).unwrap_err().to_string();
        assert!(err.contains("`crontab.AUTH_SERVER` is not set") && err.contains("AUTH_SERVER"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        std::fs::write(&path, "{\n  \"mora.base\": }").unwrap();
        let err = GraphqlSettings::load(Some(&path), |_| None).unwrap_err().to_string();
        assert!(err.contains("line 2, column"), "{err}");
    }
}
