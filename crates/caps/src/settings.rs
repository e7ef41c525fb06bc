//! `settings`: the plugin's own settings from plugins.toml, and nothing else.

use super::HostState;
use moport_wit::moport::host::settings::Host;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct PluginSettings {
    values: Arc<BTreeMap<String, serde_json::Value>>,
}

impl PluginSettings {
    pub fn new(values: Arc<BTreeMap<String, serde_json::Value>>) -> Self {
        PluginSettings { values }
    }
}

impl Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.settings.values.get(&key).map(|value| value.to_string()))
    }

    async fn keys(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.settings.values.keys().cloned().collect())
    }
}
