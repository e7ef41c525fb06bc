//! `dar`: Danish addresses (DAR) for plugins granted `dar = true`. The provider is the host's
//! choice (`[host] dar` in plugins.toml): Klimadatastyrelsen's Adressevask (`adressevask`, set
//! up under `[host.adressevask]`), an offline table file (`table:FILE`), or `off`. Answers are
//! cached for the run, so a plugin may ask about the same text as often as its rows repeat it.

pub mod adressevask;
pub mod table;

use super::HostState;
use crate::bindings::moport::host::dar::{Address, Host};
use crate::bindings::moport::host::types::CallError;
use crate::secret::Secret;
pub use adressevask::{Adressevask, AdressevaskSpec, TokenSource};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
pub use table::{Table, TableError};

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

/// A provider that cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum DarError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(
        "[host] dar = \"adressevask\" needs a token: the environment variable {0} is not set (or give \
         `token` or `token_env` under [host.adressevask])"
    )]
    NoToken(String),
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

    pub fn open(&self) -> Result<DarProvider, DarError> {
        Ok(match self {
            DarSpec::Off => DarProvider::Off,
            DarSpec::Adressevask(spec) => {
                let token = match &spec.token {
                    TokenSource::Given(token) => token.clone(),
                    TokenSource::Environment(name) => match std::env::var(name) {
                        Ok(token) if !token.is_empty() => Secret::new(token),
                        _ => return Err(DarError::NoToken(name.clone())),
                    },
                };
                DarProvider::Adressevask(Arc::new(Adressevask::new(&spec.url, token, spec.accepted.clone())))
            }
            DarSpec::Table(path) => DarProvider::Table(Arc::new(Table::load(path)?)),
        })
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

/// An opened provider, shared by the runs of one process.
#[derive(Clone)]
pub enum DarProvider {
    Off,
    Adressevask(Arc<Adressevask>),
    Table(Arc<Table>),
}

impl DarProvider {
    /// The address with this DAR id, asked of the provider (no cache).
    pub async fn address(&self, id: &str) -> Result<Option<Address>, CallError> {
        match self {
            DarProvider::Off => Ok(None),
            // The id goes into a URL path: only a UUID may (a plugin's, or an MO address's value).
            DarProvider::Adressevask(_) if !is_dar_id(id) => Err(not_a_dar_id(id)),
            DarProvider::Adressevask(service) => service.address(id).await,
            DarProvider::Table(table) => Ok(table.by_id(id)),
        }
    }

    /// The addresses with these DAR ids that the provider knows (no cache); ids that are not
    /// UUIDs are not asked about.
    pub async fn addresses(&self, ids: &[&str]) -> Result<HashMap<String, Address>, CallError> {
        match self {
            DarProvider::Off => Ok(HashMap::new()),
            DarProvider::Adressevask(service) => {
                let ids: Vec<&str> = ids.iter().copied().filter(|id| is_dar_id(id)).collect();
                service.addresses(&ids).await
            }
            DarProvider::Table(table) => {
                Ok(ids.iter().filter_map(|id| table.by_id(id)).map(|found| (found.id.clone(), found)).collect())
            }
        }
    }
}

/// An address as the fields of an MO address record: the street with its number, floor and door
/// as Danish addresses write them (`Rådhuspladsen 2, 3. tv`).
pub fn mo_fields(address: &Address) -> crate::bindings::moport::host::mo_read::DarFields {
    let mut street = format!("{} {}", address.street, address.house_number).trim().to_owned();
    match (address.floor.as_deref().filter(|f| !f.is_empty()), address.door.as_deref().filter(|d| !d.is_empty())) {
        (Some(floor), Some(door)) => street.push_str(&format!(", {floor}. {door}")),
        (Some(floor), None) => street.push_str(&format!(", {floor}.")),
        (None, Some(door)) => street.push_str(&format!(", {door}")),
        (None, None) => {}
    }
    crate::bindings::moport::host::mo_read::DarFields {
        id: address.id.clone(),
        street,
        postcode: address.postcode.clone(),
        city: address.city.clone(),
    }
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
        let found = match &self.provider {
            DarProvider::Off => None,
            DarProvider::Adressevask(service) => service.wash(&text).await?,
            DarProvider::Table(table) => table.by_text(&text),
        };
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

/// Whether `id` is a UUID, as every DAR id is.
fn is_dar_id(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

fn not_a_dar_id(id: &str) -> CallError {
    CallError::Invalid(format!("{id:?} is not a DAR id (a UUID)"))
}

fn not_granted() -> CallError {
    CallError::Denied("the `dar` capability is not granted: add `dar = true` under the plugin's [grants]".into())
}

impl Host for HostState {
    async fn lookup_text(&mut self, text: String) -> wasmtime::Result<Result<Option<Address>, CallError>> {
        Ok(match self.dar.as_mut() {
            Some(dar) => dar.lookup_text(text).await,
            None => Err(not_granted()),
        })
    }

    async fn get(&mut self, id: String) -> wasmtime::Result<Result<Option<Address>, CallError>> {
        Ok(match self.dar.as_mut() {
            Some(dar) => dar.get(id).await,
            None => Err(not_granted()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_uuid_goes_into_a_dar_services_url_whoever_asks() {
        let service = Adressevask::new("http://127.0.0.1:9", Secret::new("dar-unit-test-token-4e1b"), vec![1000]);
        let err = DarProvider::Adressevask(Arc::new(service)).address("../../adresser?x=1").await.unwrap_err();
        assert!(matches!(&err, CallError::Invalid(m) if m.contains("is not a DAR id")), "{err:?}");
        let err = PluginDar::new(DarProvider::Off).get("../x".into()).await.unwrap_err();
        assert!(matches!(&err, CallError::Invalid(m) if m.contains("is not a DAR id")), "{err:?}");
    }

    #[test]
    fn an_address_becomes_mo_fields_with_floor_and_door() {
        let address = Address {
            id: "0a3f50a0-75eb-32b8-e044-0003ba298018".into(),
            street: "Rådhuspladsen".into(),
            house_number: "2".into(),
            floor: Some("3".into()),
            door: Some("tv".into()),
            postcode: "8000".into(),
            city: "Aarhus C".into(),
            text: "Rådhuspladsen 2, 3. tv, 8000 Aarhus C".into(),
        };
        let fields = mo_fields(&address);
        assert_eq!((fields.street.as_str(), fields.postcode.as_str()), ("Rådhuspladsen 2, 3. tv", "8000"));
        let ground = mo_fields(&Address { floor: None, door: None, ..address });
        assert_eq!(ground.street, "Rådhuspladsen 2");
    }

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

    #[test]
    fn a_missing_token_names_the_variable_and_the_keys() {
        let spec = AdressevaskSpec {
            token: TokenSource::Environment("MOPORT_TEST_NO_SUCH_TOKEN".into()),
            ..AdressevaskSpec::default()
        };
        let Err(err) = DarSpec::Adressevask(spec).open() else { panic!("opened without a token") };
        let message = err.to_string();
        assert!(message.contains("MOPORT_TEST_NO_SUCH_TOKEN is not set") && message.contains("token_env"), "{message}");
    }
}
