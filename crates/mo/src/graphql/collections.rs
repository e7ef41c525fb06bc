//! The v30 query documents the host sends, one per collection, and how their replies become the
//! records of the WIT contract. Every document takes the same variables: `$filter` (which
//! objects), `$start`/`$end` (which validities), `$limit` and `$cursor`. References are read as
//! `*_response { uuid }`, which MO answers from the stored reference without another lookup.
//!
//! No document names a registration time: MO 66 refuses one for two or more objects ("Multiple
//! uuid parameters passed to search operation"), so every read is of MO's present (see
//! docs/mo-graphql.md for the consistency that gives).

use moport_types::Validity;
use moport_types::mo::{Address, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// One MO collection as the `graphql` backend reads it.
pub trait Collection {
    type Row: DeserializeOwned;
    type Record;
    /// The GraphQL operation name, shown in errors and logs.
    const OPERATION: &'static str;
    const DOCUMENT: &'static str;
    /// How a unit subtree filter is written for this collection, when it has one.
    const UNIT_FILTER: UnitFilter;

    fn record(uuid: &str, row: Self::Row) -> Self::Record;
}

pub enum UnitFilter {
    None,
    /// `{ancestor: {...}}` on the org units themselves.
    Ancestor,
    /// `{org_unit: {ancestor: {...}}}` on what hangs on units.
    OrgUnitAncestor,
}

#[derive(Deserialize)]
pub struct Ref {
    uuid: String,
}

#[derive(Deserialize)]
pub struct MoValidity {
    from: Option<String>,
    to: Option<String>,
}

impl From<MoValidity> for Validity {
    /// MO answers with midnight in Copenhagen (`2021-01-01T00:00:00+01:00`); the contract
    /// speaks in dates.
    fn from(validity: MoValidity) -> Validity {
        let date = |text: Option<String>| text.map(|t| t.get(..10).unwrap_or(&t).to_owned());
        Validity { from: date(validity.from), to: date(validity.to) }
    }
}

fn uuid_of(reference: Option<Ref>) -> Option<String> {
    reference.map(|r| r.uuid)
}

macro_rules! document {
    ($operation:literal, $field:literal, $filter:literal, $extra_args:literal, $fields:literal) => {
        concat!(
            "query ",
            $operation,
            "($limit: int, $cursor: Cursor, $filter: ",
            $filter,
            ", $start: DateTime, $end: DateTime) {\n",
            "  page: ",
            $field,
            "(limit: $limit, cursor: $cursor, filter: $filter",
            $extra_args,
            ") {\n",
            "    objects {\n      uuid\n      validities(start: $start, end: $end) {\n",
            $fields,
            "        validity { from to }\n      }\n    }\n    page_info { next_cursor }\n  }\n}\n"
        )
    };
}

pub struct Facets;
#[derive(Deserialize)]
pub struct FacetRow {
    user_key: String,
    validity: MoValidity,
}
impl Collection for Facets {
    type Row = FacetRow;
    type Record = Facet;
    const OPERATION: &'static str = "Facets";
    const DOCUMENT: &'static str = document!("Facets", "facets", "FacetFilter", "", "        user_key\n");
    const UNIT_FILTER: UnitFilter = UnitFilter::None;
    fn record(uuid: &str, row: FacetRow) -> Facet {
        Facet { uuid: uuid.into(), user_key: row.user_key, validity: row.validity.into() }
    }
}

pub struct Classes;
#[derive(Deserialize)]
pub struct ClassRow {
    user_key: String,
    name: String,
    scope: Option<String>,
    facet_response: Option<Ref>,
    parent_response: Option<Ref>,
    validity: MoValidity,
}
impl Collection for Classes {
    type Row = ClassRow;
    type Record = Class;
    const OPERATION: &'static str = "Classes";
    const DOCUMENT: &'static str = document!(
        "Classes",
        "classes",
        "ClassFilter",
        "",
        "        user_key\n        name\n        scope\n        facet_response { uuid }\n        parent_response { uuid }\n"
    );
    const UNIT_FILTER: UnitFilter = UnitFilter::None;
    /// The facet's user key is filled in from the facets (see `GraphqlSource`).
    fn record(uuid: &str, row: ClassRow) -> Class {
        Class {
            uuid: uuid.into(),
            user_key: row.user_key,
            name: row.name,
            facet: uuid_of(row.facet_response).unwrap_or_default(),
            facet_user_key: String::new(),
            scope: row.scope,
            parent: uuid_of(row.parent_response),
            validity: row.validity.into(),
        }
    }
}

pub struct OrgUnits;
#[derive(Deserialize)]
pub struct OrgUnitRow {
    user_key: String,
    name: String,
    parent_response: Option<Ref>,
    unit_type_response: Option<Ref>,
    unit_level_response: Option<Ref>,
    unit_hierarchy_response: Option<Ref>,
    validity: MoValidity,
}
impl Collection for OrgUnits {
    type Row = OrgUnitRow;
    type Record = OrgUnit;
    const OPERATION: &'static str = "OrgUnits";
    const DOCUMENT: &'static str = document!(
        "OrgUnits",
        "org_units",
        "OrganisationUnitFilter",
        "",
        "        user_key\n        name\n        parent_response { uuid }\n        unit_type_response { uuid }\n        unit_level_response { uuid }\n        unit_hierarchy_response { uuid }\n"
    );
    const UNIT_FILTER: UnitFilter = UnitFilter::Ancestor;
    fn record(uuid: &str, row: OrgUnitRow) -> OrgUnit {
        OrgUnit {
            uuid: uuid.into(),
            user_key: row.user_key,
            name: row.name,
            parent: uuid_of(row.parent_response),
            unit_type: uuid_of(row.unit_type_response),
            unit_level: uuid_of(row.unit_level_response),
            hierarchy: uuid_of(row.unit_hierarchy_response),
            validity: row.validity.into(),
        }
    }
}

pub struct Employees;
#[derive(Deserialize)]
pub struct EmployeeRow {
    cpr_number: Option<String>,
    given_name: String,
    surname: String,
    nickname_given_name: Option<String>,
    nickname_surname: Option<String>,
    validity: MoValidity,
}
impl Collection for Employees {
    type Row = EmployeeRow;
    type Record = Employee;
    const OPERATION: &'static str = "Employees";
    const DOCUMENT: &'static str = document!(
        "Employees",
        "persons",
        "EmployeeFilter",
        "",
        "        cpr_number\n        given_name\n        surname\n        nickname_given_name\n        nickname_surname\n"
    );
    const UNIT_FILTER: UnitFilter = UnitFilter::None;
    fn record(uuid: &str, row: EmployeeRow) -> Employee {
        // MO answers "" for an unset nickname part.
        let set = |text: Option<String>| text.filter(|t| !t.is_empty());
        Employee {
            uuid: uuid.into(),
            cpr_number: set(row.cpr_number),
            given_name: row.given_name,
            surname: row.surname,
            nickname_given_name: set(row.nickname_given_name),
            nickname_surname: set(row.nickname_surname),
            validity: row.validity.into(),
        }
    }
}

pub struct Engagements;
#[derive(Deserialize)]
pub struct EngagementRow {
    user_key: String,
    person_response: Option<Ref>,
    org_unit_response: Option<Ref>,
    job_function_response: Option<Ref>,
    engagement_type_response: Option<Ref>,
    primary_response: Option<Ref>,
    is_primary: Option<bool>,
    extension_1: Option<String>,
    extension_2: Option<String>,
    extension_3: Option<String>,
    extension_4: Option<String>,
    extension_5: Option<String>,
    extension_6: Option<String>,
    extension_7: Option<String>,
    extension_8: Option<String>,
    extension_9: Option<String>,
    extension_10: Option<String>,
    validity: MoValidity,
}
impl Collection for Engagements {
    type Row = EngagementRow;
    type Record = Engagement;
    const OPERATION: &'static str = "Engagements";
    const DOCUMENT: &'static str = document!(
        "Engagements",
        "engagements",
        "EngagementFilter",
        "",
        "        user_key\n        person_response { uuid }\n        org_unit_response { uuid }\n        job_function_response { uuid }\n        engagement_type_response { uuid }\n        primary_response { uuid }\n        is_primary\n        extension_1\n        extension_2\n        extension_3\n        extension_4\n        extension_5\n        extension_6\n        extension_7\n        extension_8\n        extension_9\n        extension_10\n"
    );
    const UNIT_FILTER: UnitFilter = UnitFilter::OrgUnitAncestor;
    fn record(uuid: &str, row: EngagementRow) -> Engagement {
        let extensions = vec![
            row.extension_1,
            row.extension_2,
            row.extension_3,
            row.extension_4,
            row.extension_5,
            row.extension_6,
            row.extension_7,
            row.extension_8,
            row.extension_9,
            row.extension_10,
        ];
        Engagement {
            uuid: uuid.into(),
            user_key: row.user_key,
            person: uuid_of(row.person_response).unwrap_or_default(),
            org_unit: uuid_of(row.org_unit_response).unwrap_or_default(),
            job_function: uuid_of(row.job_function_response),
            engagement_type: uuid_of(row.engagement_type_response),
            primary: uuid_of(row.primary_response),
            is_primary: row.is_primary.unwrap_or(false),
            extensions,
            validity: row.validity.into(),
        }
    }
}

pub struct Managers;
#[derive(Deserialize)]
pub struct ManagerRow {
    person_response: Option<Ref>,
    org_unit_response: Option<Ref>,
    manager_type_response: Option<Ref>,
    manager_level_response: Option<Ref>,
    responsibilities_response: Objects,
    validity: MoValidity,
}
#[derive(Deserialize)]
pub struct Objects {
    objects: Vec<Ref>,
}
impl Collection for Managers {
    type Row = ManagerRow;
    type Record = Manager;
    const OPERATION: &'static str = "Managers";
    // `inherit: false`: a unit without a manager must not borrow its parent's. The nested
    // responsibilities get their own window: MO would otherwise drop classes not published today.
    const DOCUMENT: &'static str = document!(
        "Managers",
        "managers",
        "ManagerFilter",
        ", inherit: false",
        "        person_response { uuid }\n        org_unit_response { uuid }\n        manager_type_response { uuid }\n        manager_level_response { uuid }\n        responsibilities_response(filter: {from_date: null, to_date: null}) { objects { uuid } }\n"
    );
    const UNIT_FILTER: UnitFilter = UnitFilter::OrgUnitAncestor;
    fn record(uuid: &str, row: ManagerRow) -> Manager {
        let mut responsibilities: Vec<String> =
            row.responsibilities_response.objects.into_iter().map(|r| r.uuid).collect();
        responsibilities.sort();
        Manager {
            uuid: uuid.into(),
            person: uuid_of(row.person_response),
            org_unit: uuid_of(row.org_unit_response).unwrap_or_default(),
            manager_type: uuid_of(row.manager_type_response),
            manager_level: uuid_of(row.manager_level_response),
            responsibilities,
            validity: row.validity.into(),
        }
    }
}

pub struct Addresses;
#[derive(Deserialize)]
pub struct AddressRow {
    value: String,
    address_type_response: Option<Ref>,
    visibility_response: Option<Ref>,
    person_response: Option<Ref>,
    org_unit_response: Option<Ref>,
    engagement_response: Option<Ref>,
    validity: MoValidity,
}
impl Collection for Addresses {
    type Row = AddressRow;
    type Record = Address;
    const OPERATION: &'static str = "Addresses";
    const DOCUMENT: &'static str = document!(
        "Addresses",
        "addresses",
        "AddressFilter",
        "",
        "        value\n        address_type_response { uuid }\n        visibility_response { uuid }\n        person_response { uuid }\n        org_unit_response { uuid }\n        engagement_response { uuid }\n"
    );
    const UNIT_FILTER: UnitFilter = UnitFilter::OrgUnitAncestor;
    /// The address type's scope is filled in from the classes, a DAR address's text and fields
    /// from moport's own DAR provider (see `GraphqlSource`). MO's own DAR look-up (`resolve`,
    /// and `name`, which it formats from it) is not asked for: one address it cannot resolve
    /// fails the whole query, and it waits 30 s for an address service it cannot reach.
    fn record(uuid: &str, row: AddressRow) -> Address {
        Address {
            uuid: uuid.into(),
            name: row.value.clone(),
            value: row.value,
            address_type: uuid_of(row.address_type_response).unwrap_or_default(),
            scope: String::new(),
            visibility: uuid_of(row.visibility_response),
            person: uuid_of(row.person_response),
            org_unit: uuid_of(row.org_unit_response),
            engagement: uuid_of(row.engagement_response),
            dar: None,
            validity: row.validity.into(),
        }
    }
}

pub struct ItSystems;
#[derive(Deserialize)]
pub struct ItSystemRow {
    user_key: String,
    name: String,
    validity: MoValidity,
}
impl Collection for ItSystems {
    type Row = ItSystemRow;
    type Record = ItSystem;
    const OPERATION: &'static str = "ITSystems";
    const DOCUMENT: &'static str =
        document!("ITSystems", "itsystems", "ITSystemFilter", "", "        user_key\n        name\n");
    const UNIT_FILTER: UnitFilter = UnitFilter::None;
    fn record(uuid: &str, row: ItSystemRow) -> ItSystem {
        ItSystem { uuid: uuid.into(), user_key: row.user_key, name: row.name, validity: row.validity.into() }
    }
}

pub struct ItUsers;
#[derive(Deserialize)]
pub struct ItUserRow {
    user_key: String,
    itsystem_response: Option<Ref>,
    person_response: Option<Ref>,
    engagement_response: Option<Ref>,
    validity: MoValidity,
}
impl Collection for ItUsers {
    type Row = ItUserRow;
    type Record = ItUser;
    const OPERATION: &'static str = "ITUsers";
    const DOCUMENT: &'static str = document!(
        "ITUsers",
        "itusers",
        "ITUserFilter",
        "",
        "        user_key\n        itsystem_response { uuid }\n        person_response { uuid }\n        engagement_response { uuid }\n"
    );
    const UNIT_FILTER: UnitFilter = UnitFilter::None;
    fn record(uuid: &str, row: ItUserRow) -> ItUser {
        ItUser {
            uuid: uuid.into(),
            user_key: row.user_key,
            it_system: uuid_of(row.itsystem_response).unwrap_or_default(),
            person: uuid_of(row.person_response),
            engagement: uuid_of(row.engagement_response),
            validity: row.validity.into(),
        }
    }
}

/// The root organisation (deprecated in MO, but still the only place its name is).
pub const ORGANISATION: &str = "query Organisation {\n  org { uuid name user_key }\n}\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_declare_every_variable_they_use() {
        for document in [Facets::DOCUMENT, Classes::DOCUMENT, Managers::DOCUMENT, Addresses::DOCUMENT] {
            for variable in ["$limit", "$cursor", "$filter", "$start", "$end"] {
                assert_eq!(document.matches(variable).count(), 2, "{variable} in {document}");
            }
        }
        assert!(Managers::DOCUMENT.contains("filter: $filter, inherit: false)"));
    }

    #[test]
    fn no_document_names_a_registration_time() {
        for document in [Facets::DOCUMENT, OrgUnits::DOCUMENT, Addresses::DOCUMENT, ItUsers::DOCUMENT] {
            assert!(!document.contains("registration_time"), "{document}");
        }
    }

    #[test]
    fn mo_datetimes_become_dates() {
        let row: AddressRow = serde_json::from_value(serde_json::json!({
            "value": "0a3f50a0-75eb-32b8-e044-0003ba298018", "address_type_response": {"uuid": "t"}, "visibility_response": null, "person_response": null,
            "org_unit_response": {"uuid": "u"}, "engagement_response": null,
            "validity": {"from": "2021-01-01T00:00:00+01:00", "to": "2024-06-01T00:00:00+02:00"}
        }))
        .unwrap();
        let address = Addresses::record("a", row);
        let validity = (address.validity.from.as_deref(), address.validity.to.as_deref());
        assert_eq!(validity, (Some("2021-01-01"), Some("2024-06-01")));
        assert!(address.dar.is_none(), "DAR fields come from moport's own provider, not MO's resolver");
    }
}
