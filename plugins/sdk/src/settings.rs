//! The plugin's own settings from plugins.toml.

use crate::PluginError;

capabilities! { settings:
    /// The setting as JSON text.
    fn get(key: &str) -> Option<String>;
}

/// The raw JSON value of a setting.
pub fn get_json(key: &str) -> Result<Option<serde_json::Value>, PluginError> {
    get(key)
        .map(|text| {
            serde_json::from_str(&text)
                .map_err(|err| PluginError::Internal(format!("setting `{key}`: host sent invalid JSON: {err}")))
        })
        .transpose()
}

/// A text setting; a value of another type is a configuration error naming the key.
pub fn get_str(key: &str) -> Result<Option<String>, PluginError> {
    match get_json(key)? {
        None => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(wrong_type(key, "text", &other)),
    }
}

/// A whole-number setting.
pub fn get_i64(key: &str) -> Result<Option<i64>, PluginError> {
    match get_json(key)? {
        None => Ok(None),
        Some(serde_json::Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(other) => Err(wrong_type(key, "a whole number", &other)),
    }
}

/// A true/false setting.
pub fn get_bool(key: &str) -> Result<Option<bool>, PluginError> {
    match get_json(key)? {
        None => Ok(None),
        Some(serde_json::Value::Bool(b)) => Ok(Some(b)),
        Some(other) => Err(wrong_type(key, "true or false", &other)),
    }
}

/// A text setting that must be present.
pub fn require_str(key: &str) -> Result<String, PluginError> {
    get_str(key)?.ok_or_else(|| missing(key))
}

/// The configuration error for a required setting that is not set.
pub fn missing(key: &str) -> PluginError {
    PluginError::Config(format!("setting `{key}` is required but not set; add it under the plugin's [settings]"))
}

fn wrong_type(key: &str, expected: &str, found: &serde_json::Value) -> PluginError {
    PluginError::Config(format!("setting `{key}` must be {expected}, found {found}"))
}
