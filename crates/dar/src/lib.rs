//! DAR, Denmark's address register, for the host: the providers plugins.toml can name
//! (Klimadatastyrelsen's Adressevask, an offline table file, or off), each asked without a
//! cache; one file per provider.

pub mod adressevask;
pub mod table;

pub use adressevask::Adressevask;
use moport_manifest::{DarSpec, Secret, TokenSource};
use moport_types::{CallError, DarAddress as Address};
use std::collections::HashMap;
use std::sync::Arc;
pub use table::{Table, TableError};

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

/// An opened provider, shared by the runs of one process.
#[derive(Clone)]
pub enum DarProvider {
    Off,
    Adressevask(Arc<Adressevask>),
    Table(Arc<Table>),
}

impl DarProvider {
    /// Opens the provider `spec` names; an Adressevask token is read from the environment now.
    pub fn open(spec: &DarSpec) -> Result<DarProvider, DarError> {
        Ok(match spec {
            DarSpec::Off => DarProvider::Off,
            DarSpec::Adressevask(service) => {
                let token = match &service.token {
                    TokenSource::Given(token) => token.clone(),
                    TokenSource::Environment(name) => match std::env::var(name) {
                        Ok(token) if !token.is_empty() => Secret::new(token),
                        _ => return Err(DarError::NoToken(name.clone())),
                    },
                };
                DarProvider::Adressevask(Arc::new(Adressevask::new(&service.url, token, service.accepted.clone())))
            }
            DarSpec::Table(path) => DarProvider::Table(Arc::new(Table::load(path)?)),
        })
    }

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

    /// The address `text` washes to, asked of the provider (no cache).
    pub async fn lookup_text(&self, text: &str) -> Result<Option<Address>, CallError> {
        match self {
            DarProvider::Off => Ok(None),
            DarProvider::Adressevask(service) => service.wash(text).await,
            DarProvider::Table(table) => Ok(table.by_text(text)),
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
pub fn mo_fields(address: &Address) -> moport_types::mo::DarFields {
    let mut street = format!("{} {}", address.street, address.house_number).trim().to_owned();
    match (address.floor.as_deref().filter(|f| !f.is_empty()), address.door.as_deref().filter(|d| !d.is_empty())) {
        (Some(floor), Some(door)) => street.push_str(&format!(", {floor}. {door}")),
        (Some(floor), None) => street.push_str(&format!(", {floor}.")),
        (None, Some(door)) => street.push_str(&format!(", {door}")),
        (None, None) => {}
    }
    moport_types::mo::DarFields {
        id: address.id.clone(),
        street,
        postcode: address.postcode.clone(),
        city: address.city.clone(),
    }
}

/// Whether `id` is a UUID, as every DAR id is.
pub fn is_dar_id(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

pub fn not_a_dar_id(id: &str) -> CallError {
    CallError::Invalid(format!("{id:?} is not a DAR id (a UUID)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_uuid_goes_into_a_dar_services_url_whoever_asks() {
        let service = Adressevask::new("http://127.0.0.1:9", Secret::new("dar-unit-test-token-4e1b"), vec![1000]);
        let err = DarProvider::Adressevask(Arc::new(service)).address("../../adresser?x=1").await.unwrap_err();
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
    fn a_missing_token_names_the_variable_and_the_keys() {
        let spec = moport_manifest::AdressevaskSpec {
            token: TokenSource::Environment("MOPORT_TEST_NO_SUCH_TOKEN".into()),
            ..moport_manifest::AdressevaskSpec::default()
        };
        let Err(err) = DarProvider::open(&DarSpec::Adressevask(spec)) else { panic!("opened without a token") };
        let message = err.to_string();
        assert!(message.contains("MOPORT_TEST_NO_SUCH_TOKEN is not set") && message.contains("token_env"), "{message}");
    }
}
