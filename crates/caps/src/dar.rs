//! `dar`: Danish addresses (DAR) for plugins granted `dar = true`, from the provider the host
//! was given (`[host] dar` in plugins.toml, `moport-dar`). Answers are cached for the run, so a
//! plugin may ask about the same text as often as its rows repeat it.

use crate::{CheckLine, Failing, HostState};
use moport_dar::{DarProvider, is_dar_id, not_a_dar_id};
use moport_manifest::DarSpec;
use moport_types::{CallError, DarAddress as Address};
use moport_wit::moport::host::{dar, types};
use std::collections::HashMap;

/// The address `moport check` washes: Copenhagen's city hall, which every DAR provider knows.
pub const CHECK_ADDRESS: &str = "Rådhuspladsen 1, 1550 København V";

/// What `moport check` says of the provider plugins.toml names (`spec`): off, how many
/// addresses a table holds, or what Adressevask washes [`CHECK_ADDRESS`] to (token, washing
/// codes and fields at once).
pub async fn check(provider: &DarProvider, spec: &DarSpec) -> CheckLine {
    let result = match provider {
        DarProvider::Off => Ok("off: every look-up answers \"no match\"".to_owned()),
        DarProvider::Table(table) if table.is_empty() => Err((Failing::Config, format!("{spec} holds no addresses"))),
        DarProvider::Table(table) => Ok(format!("{spec} ({} addresses)", table.len())),
        DarProvider::Adressevask(service) => match service.wash(CHECK_ADDRESS).await {
            Ok(Some(found)) => Ok(format!("{spec} washed \"{CHECK_ADDRESS}\" to {} ({})", found.id, found.text)),
            Ok(None) => Err((
                Failing::Service,
                format!(
                    "{spec} answered, but found no accepted match for \"{CHECK_ADDRESS}\" (see `accept` under \
                     [host.adressevask])"
                ),
            )),
            Err(err) => Err((Failing::Service, err.to_string())),
        },
    };
    CheckLine::new("DAR", result)
}

/// One run's DAR access, with its cache.
pub struct PluginDar {
    provider: DarProvider,
    by_text: HashMap<String, Option<Address>>,
    by_id: HashMap<String, Option<Address>>,
}

impl PluginDar {
    pub fn new(provider: DarProvider) -> PluginDar {
        if matches!(provider, DarProvider::Off) {
            tracing::warn!("DAR is off ([host] dar in plugins.toml): every address look-up answers \"no match\"");
        }
        PluginDar { provider, by_text: HashMap::new(), by_id: HashMap::new() }
    }

    async fn lookup_text(&mut self, text: String) -> Result<Option<Address>, CallError> {
        if let Some(found) = self.by_text.get(&text) {
            return Ok(found.clone());
        }
        let found = self.provider.lookup_text(&text).await?;
        if let Some(found) = &found {
            self.by_id.insert(found.id.clone(), Some(found.clone()));
        }
        self.by_text.insert(text, found.clone());
        Ok(found)
    }

    async fn get(&mut self, id: String) -> Result<Option<Address>, CallError> {
        if !is_dar_id(&id) {
            return Err(not_a_dar_id(&id));
        }
        if let Some(found) = self.by_id.get(&id) {
            return Ok(found.clone());
        }
        let found = self.provider.address(&id).await?;
        self.by_id.insert(id, found.clone());
        Ok(found)
    }
}

fn not_granted() -> CallError {
    CallError::Denied("the `dar` capability is not granted: add `dar = true` under the plugin's [grants]".into())
}

/// What a plugin is handed.
type Answer = Result<Option<dar::Address>, types::CallError>;

fn answer(found: Result<Option<Address>, CallError>) -> Answer {
    found.map(|address| address.map(Into::into)).map_err(Into::into)
}

impl dar::Host for HostState {
    async fn lookup_text(&mut self, text: String) -> wasmtime::Result<Answer> {
        Ok(answer(match self.dar.as_mut() {
            Some(dar) => dar.lookup_text(text).await,
            None => Err(not_granted()),
        }))
    }

    async fn get(&mut self, id: String) -> wasmtime::Result<Answer> {
        Ok(answer(match self.dar.as_mut() {
            Some(dar) => dar.get(id).await,
            None => Err(not_granted()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_uuid_is_asked_about() {
        let err = PluginDar::new(DarProvider::Off).get("../x".into()).await.unwrap_err();
        assert!(matches!(&err, CallError::Invalid(m) if m.contains("is not a DAR id")), "{err:?}");
    }
}
