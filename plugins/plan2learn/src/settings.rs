//! The exporter's settings, under DIPEX's settings.json keys, and the rules a variant fills in.
//!
//! DIPEX's two customers run the code with different rules (`exporters.plan2learn.variant` =
//! `RSD` or `Viborg`); `standard` follows the original design document. Each rule is a setting of
//! its own (`rules.*`), so a municipality can take a preset and change one rule.

use serde_json::Value;

pub const ROOT_UNIT: &str = "exporters.plan2learn.root_unit";
pub const ALLOWED_ENGAGEMENT_TYPES: &str = "exporters.plan2learn.allowed_engagement_types";
pub const TOO_DEEP: &str = "integrations.SD_Lon.import.too_deep";
pub const PHONE_PRIORITY: &str = "plan2learn.phone.priority";
pub const EMAIL_PRIORITY: &str = "plan2learn.email.priority";
pub const VARIANT: &str = "exporters.plan2learn.variant";

/// Everything the export needs to know besides MO.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub root_unit: String,
    pub allowed_engagement_types: Vec<String>,
    /// Names of unit levels whose units are left out of organisation, engagement and leder.
    pub too_deep: Vec<String>,
    pub phone_priority: Vec<String>,
    pub email_priority: Vec<String>,
    pub rules: Rules,
}

/// The rules on which the variants differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub primary: PrimaryRule,
    pub start_date: StartDateRule,
    pub title: TitleRule,
    /// AktivStatus of an engagement that has not started yet: DIPEX writes 1 for all.
    pub future_engagements_active: bool,
    pub managers: ManagerRule,
}

/// engagement.csv `Primær`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrimaryRule {
    /// 1 for MO's primary engagement, else 0 (Viborg).
    IsPrimary,
    /// Always 0 (RSD today: DIPEX's condition names only Viborg).
    AlwaysZero,
}

/// engagement.csv `StartdatoEngagement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartDateRule {
    /// Empty for a started engagement, else its start date `YYYY-MM-DD` (Viborg).
    FutureOnly,
    /// The first start in the engagement's whole history, as MO writes a datetime:
    /// `2015-03-01T00:00:00+01:00` (RSD).
    OriginalStart,
}

/// bruger.csv `Stilling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleRule {
    /// `extension_1` of the person's current engagement with the lowest `user_key[3:]` (RSD).
    LowestUserKeyExtension1,
    /// From a primary engagement in an exported unit: `extension_3`, else the job function (Viborg).
    PrimaryExtension3,
    /// From a primary engagement in an exported unit: `extension_2`, else the job function
    /// (the design document).
    PrimaryExtension2,
}

/// leder.csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagerRule {
    /// At most one row per unit; title `Personale: ansættelse/afskedigelse` if held, else the last
    /// responsibility, else `Intet ansvar` (Viborg).
    OnePerUnit,
    /// One row per manager, title the first responsibility, plus `OrganisationsfunktionsUUID` (RSD).
    EveryManager,
}

/// The presets, by the names DIPEX's `exporters.plan2learn.variant` takes.
pub fn preset(variant: &str) -> Option<Rules> {
    match variant {
        "RSD" | "rsd" => Some(Rules {
            primary: PrimaryRule::AlwaysZero,
            start_date: StartDateRule::OriginalStart,
            title: TitleRule::LowestUserKeyExtension1,
            future_engagements_active: true,
            managers: ManagerRule::EveryManager,
        }),
        "Viborg" | "viborg" => Some(Rules {
            primary: PrimaryRule::IsPrimary,
            start_date: StartDateRule::FutureOnly,
            title: TitleRule::PrimaryExtension3,
            future_engagements_active: true,
            managers: ManagerRule::OnePerUnit,
        }),
        "standard" => Some(Rules {
            primary: PrimaryRule::IsPrimary,
            start_date: StartDateRule::FutureOnly,
            title: TitleRule::PrimaryExtension2,
            future_engagements_active: false,
            managers: ManagerRule::OnePerUnit,
        }),
        _ => None,
    }
}

/// A setting the export cannot use, or MO data a setting names that is not there; the message
/// names the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Settings {
    /// Reads the settings through `get` (the plugin's settings, key by key).
    pub fn read(get: impl Fn(&str) -> Option<Value>) -> Result<Settings, ConfigError> {
        let text = |key: &str| -> Result<String, ConfigError> {
            match get(key) {
                Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
                Some(Value::String(_)) | None => Err(missing(key)),
                Some(other) => Err(ConfigError(format!("setting `{key}` must be text, found {other}"))),
            }
        };
        let list = |key: &str| -> Result<Vec<String>, ConfigError> {
            match get(key) {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| match item {
                        // As given: DIPEX compares `too_deep` names with level names exactly.
                        Value::String(text) => Ok(text.clone()),
                        other => Err(ConfigError(format!("setting `{key}` must be a list of text, found {other}"))),
                    })
                    .collect(),
                Some(other) => Err(ConfigError(format!("setting `{key}` must be a list, found {other}"))),
                None => Err(missing(key)),
            }
        };
        // DIPEX reads these as UUIDs: case does not matter, and a malformed one stops the run.
        let uuid = |key: &str, text: String| -> Result<String, ConfigError> {
            moport_sdk::uuid::normalize(&text).ok_or_else(|| {
                ConfigError(format!(
                    "setting `{key}`: `{text}` is not a UUID like 6d3ca4ad-7d7e-4a4b-9a5d-2c8f3e1b0f9a"
                ))
            })
        };
        let uuids = |key: &str| -> Result<Vec<String>, ConfigError> {
            list(key)?.into_iter().map(|text| uuid(key, text.trim().to_owned())).collect()
        };
        let variant = text(VARIANT)?;
        let mut rules = preset(&variant).ok_or_else(|| {
            ConfigError(format!("setting `{VARIANT}` is `{variant}`; write `RSD`, `Viborg` or `standard`"))
        })?;
        override_rules(&mut rules, &get)?;
        Ok(Settings {
            root_unit: uuid(ROOT_UNIT, text(ROOT_UNIT)?)?,
            allowed_engagement_types: uuids(ALLOWED_ENGAGEMENT_TYPES)?,
            too_deep: list(TOO_DEEP)?,
            phone_priority: uuids(PHONE_PRIORITY)?,
            email_priority: uuids(EMAIL_PRIORITY)?,
            rules,
        })
    }
}

fn missing(key: &str) -> ConfigError {
    ConfigError(format!(
        "setting `{key}` is required but not set; add it under the plugin's [settings] (as DIPEX's settings.json names it)"
    ))
}

/// `rules.*` settings change one rule of the preset.
fn override_rules(rules: &mut Rules, get: &impl Fn(&str) -> Option<Value>) -> Result<(), ConfigError> {
    fn choose<T: Copy>(
        get: &impl Fn(&str) -> Option<Value>,
        key: &str,
        options: &[(&str, T)],
    ) -> Result<Option<T>, ConfigError> {
        let Some(value) = get(key) else { return Ok(None) };
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        value
            .as_str()
            .and_then(|text| options.iter().find(|(name, _)| *name == text))
            .map(|(_, rule)| Some(*rule))
            .ok_or_else(|| ConfigError(format!("setting `{key}` is {value}; write one of: {}", names.join(", "))))
    }
    if let Some(rule) =
        choose(get, "rules.primary", &[("is-primary", PrimaryRule::IsPrimary), ("always-0", PrimaryRule::AlwaysZero)])?
    {
        rules.primary = rule;
    }
    if let Some(rule) = choose(
        get,
        "rules.start_date",
        &[("future-only", StartDateRule::FutureOnly), ("original-start", StartDateRule::OriginalStart)],
    )? {
        rules.start_date = rule;
    }
    if let Some(rule) = choose(
        get,
        "rules.title",
        &[
            ("lowest-user-key-extension-1", TitleRule::LowestUserKeyExtension1),
            ("primary-extension-3", TitleRule::PrimaryExtension3),
            ("primary-extension-2", TitleRule::PrimaryExtension2),
        ],
    )? {
        rules.title = rule;
    }
    if let Some(active) = get("rules.future_engagements_active") {
        rules.future_engagements_active = active.as_bool().ok_or_else(|| {
            ConfigError(format!("setting `rules.future_engagements_active` must be true or false, found {active}"))
        })?;
    }
    if let Some(rule) = choose(
        get,
        "rules.managers",
        &[("one-per-unit", ManagerRule::OnePerUnit), ("every-manager", ManagerRule::EveryManager)],
    )? {
        rules.managers = rule;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, Value)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, Value> = pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        Settings::read(|key| map.get(key).cloned())
    }

    const ROOT: &str = "6d3ca4ad-7d7e-4a4b-9a5d-2c8f3e1b0f9a";
    const TYPE: &str = "0b2f3e1a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

    fn complete() -> Vec<(&'static str, Value)> {
        vec![
            (ROOT_UNIT, json!(ROOT)),
            (ALLOWED_ENGAGEMENT_TYPES, json!([TYPE.to_uppercase()])),
            (TOO_DEEP, json!([])),
            (PHONE_PRIORITY, json!([])),
            (EMAIL_PRIORITY, json!([])),
            (VARIANT, json!("Viborg")),
        ]
    }

    #[test]
    fn a_preset_fills_the_rules_and_a_rule_setting_changes_one() {
        let viborg = settings(&complete()).unwrap();
        assert_eq!(viborg.rules, preset("Viborg").unwrap());
        assert_eq!(viborg.allowed_engagement_types, [TYPE], "UUIDs compare in lower case");
        let mut pairs = complete();
        pairs.push(("rules.future_engagements_active", json!(false)));
        let changed = settings(&pairs).unwrap();
        assert!(!changed.rules.future_engagements_active);
        assert_eq!(changed.rules.title, TitleRule::PrimaryExtension3);
    }

    #[test]
    fn too_deep_names_are_kept_exactly_as_dipex_compares_them() {
        let mut pairs: Vec<_> =
            complete().into_iter().filter(|(k, _)| ![TOO_DEEP, ALLOWED_ENGAGEMENT_TYPES].contains(k)).collect();
        pairs.push((TOO_DEEP, json!(["Afsnit ", "Niveau"])));
        pairs.push((ALLOWED_ENGAGEMENT_TYPES, json!([format!(" {TYPE} ")])));
        let read = settings(&pairs).unwrap();
        assert_eq!(read.too_deep, ["Afsnit ", "Niveau"]);
        assert_eq!(read.allowed_engagement_types, [TYPE], "a UUID is read around its spaces");
    }

    #[test]
    fn errors_name_the_key_and_what_to_write() {
        let pairs: Vec<_> = complete().into_iter().filter(|(k, _)| *k != EMAIL_PRIORITY).collect();
        assert!(settings(&pairs).unwrap_err().0.contains("`plan2learn.email.priority` is required"));
        let mut pairs = complete();
        pairs.retain(|(k, _)| *k != VARIANT);
        pairs.push((VARIANT, json!("Aarhus")));
        assert!(settings(&pairs).unwrap_err().0.contains("is `Aarhus`; write `RSD`, `Viborg` or `standard`"));
        let mut pairs = complete();
        pairs.push(("rules.managers", json!("all")));
        assert!(
            settings(&pairs)
                .unwrap_err()
                .0
                .contains("`rules.managers` is \"all\"; write one of: one-per-unit, every-manager")
        );
        let mut pairs = complete();
        pairs.retain(|(k, _)| *k != PHONE_PRIORITY);
        pairs.push((PHONE_PRIORITY, json!(["mobil"])));
        assert!(settings(&pairs).unwrap_err().0.contains("`plan2learn.phone.priority`: `mobil` is not a UUID"));
        let mut pairs = complete();
        pairs.retain(|(k, _)| *k != TOO_DEEP);
        pairs.push((TOO_DEEP, json!("Afdelings-niveau")));
        assert!(settings(&pairs).unwrap_err().0.contains("must be a list"));
    }
}
