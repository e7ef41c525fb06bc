//! Where DAR addresses come from, as plugins.toml names it.

use crate::secret::Secret;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where addresses come from, as plugins.toml names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DarSpec {
    /// No provider: every look-up answers "no match".
    #[default]
    Off,
    /// Adressevask, as `[host.adressevask]` sets it up.
    Adressevask(AdressevaskSpec),
    /// An offline table (see docs/plugins-toml.md).
    Table(PathBuf),
}

impl DarSpec {
    /// `off`, `adressevask` (set up by `adressevask`, the `[host.adressevask]` table, or the
    /// defaults) or `table:FILE` (relative to `base`).
    pub fn parse(text: &str, base: &Path, adressevask: Option<AdressevaskSpec>) -> Result<DarSpec, String> {
        match text.split_once(':') {
            _ if text == "off" => Ok(DarSpec::Off),
            _ if text == "adressevask" => Ok(DarSpec::Adressevask(adressevask.unwrap_or_default())),
            Some(("table", file)) if !file.is_empty() => Ok(DarSpec::Table(base.join(file))),
            Some(("dawa", _)) => Err(format!(
                "`{text}`: DAWA has closed; use `adressevask` (Klimadatastyrelsen's successor, set up under \
                 [host.adressevask]) or `table:FILE`"
            )),
            _ => Err(format!("`{text}` is not a DAR provider; use `off`, `adressevask` or `table:FILE`")),
        }
    }
}

impl fmt::Display for DarSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DarSpec::Off => write!(f, "off"),
            DarSpec::Adressevask(spec) => write!(f, "adressevask at {}", spec.url),
            DarSpec::Table(path) => write!(f, "table:{}", path.display()),
        }
    }
}

/// Adressevask's own address, unless `[host.adressevask] url` names another.
pub const DEFAULT_URL: &str = "https://adressevaelger.dk";
/// Where the token is read from unless `[host.adressevask]` says otherwise.
pub const DEFAULT_TOKEN_ENV: &str = "MOPORT_ADRESSEVASK_TOKEN";
/// The washing codes that count as a match unless `[host.adressevask] accept` says otherwise:
/// an exact match and a street-name spelling variant, as DIPEX took DAWA's categories A and B.
pub const DEFAULT_ACCEPTED: [i32; 2] = [1000, 900];

/// How plugins.toml sets the service up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdressevaskSpec {
    /// The base URL, without a trailing slash.
    pub url: String,
    pub token: TokenSource,
    /// The `vaskestatus.kode` values that count as a match.
    pub accepted: Vec<i32>,
}

/// The service with every `[host.adressevask]` key left out.
impl Default for AdressevaskSpec {
    fn default() -> AdressevaskSpec {
        AdressevaskSpec {
            url: DEFAULT_URL.to_owned(),
            token: TokenSource::Environment(DEFAULT_TOKEN_ENV.to_owned()),
            accepted: DEFAULT_ACCEPTED.to_vec(),
        }
    }
}

/// Where the token comes from; it is read when the provider opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `token = "..."` in plugins.toml.
    Given(Secret),
    /// An environment variable's name.
    Environment(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_parse_and_name_the_choices_when_wrong() {
        let base = Path::new("/etc/moport");
        assert_eq!(DarSpec::parse("off", base, None).unwrap(), DarSpec::Off);
        let DarSpec::Adressevask(defaults) = DarSpec::parse("adressevask", base, None).unwrap() else { panic!() };
        assert_eq!(defaults.url, "https://adressevaelger.dk");
        assert_eq!(defaults.token, TokenSource::Environment("MOPORT_ADRESSEVASK_TOKEN".into()));
        assert_eq!(defaults.accepted, [1000, 900]);
        assert_eq!(DarSpec::parse("table:dar.csv", base, None).unwrap(), DarSpec::Table("/etc/moport/dar.csv".into()));
        let err = DarSpec::parse("dawa:https://api.dataforsyningen.dk", base, None).unwrap_err();
        assert!(err.contains("DAWA has closed; use `adressevask`"), "{err}");
        let err = DarSpec::parse("datavask", base, None).unwrap_err();
        assert!(err.contains("use `off`, `adressevask` or `table:FILE`"), "{err}");
    }
}
