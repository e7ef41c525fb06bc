//! DIPEX's deterministic UUIDs, byte for byte, so that moport finds the objects DIPEX made;
//! the fixed UUIDs of `uuids.py`; and the seed data of `initial_classes.py`.

use md5::{Digest, Md5};

/// fastramqpi's `generate_uuid` (`gen` is a reserved word in Rust 2024): the MD5 of `base` read as a UUID, its hyphenated lower-case
/// text with `value` appended, and the MD5 of that read as a UUID. No version or variant bits.
pub fn generate(base: &str, value: &str) -> String {
    let base_uuid = hyphenated(&Md5::digest(base.as_bytes()));
    hyphenated(&Md5::digest(format!("{base_uuid}{value}").as_bytes()))
}

/// Per-object UUIDs (`los_org.py`, `los_pers.py`, `los_leder.py`). Any UUID inside `value`
/// must be in canonical lower-case form; CPR numbers go in exactly as the file writes them.
pub fn aak(value: &str) -> String {
    generate("AAK", value)
}

/// The constants of `uuids.py` and the facets DIPEX creates on demand.
pub fn aarhus_los(value: &str) -> String {
    generate("aarhus-los", value)
}

fn hyphenated(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// DIPEX's organisation (`aarhus_los("ORG_UUID")`). moport hangs root units directly under MO's
/// root organisation, so this is kept only for reference and tests.
pub const ORG_UUID: &str = "266a7532-40d2-8de3-cd0f-1a94de5ad1fb";
/// The default AZ IT system (`aarhus_los("AZID_SYSTEM")`).
pub const AZID_SYSTEM: &str = "c750b872-3760-6f4a-f599-7b3b8ef5255c";
pub const UNIT_POSTADDR: &str = "f20299dd-a57b-0b47-ce79-6f11e8a0362f";
pub const UNIT_LOS: &str = "00aab355-193d-9cd2-7b34-b484a36ea27b";
pub const UNIT_CVR: &str = "1a959cf5-41eb-61d3-6696-485f46c42dc6";
pub const UNIT_EAN: &str = "764434ae-4d40-b2b9-6d0b-3e4829e0b88d";
pub const UNIT_PNR: &str = "d14e2ace-60db-156e-4a8a-e5f55af6cd63";
pub const UNIT_SENR: &str = "01968602-1cb8-4d7e-4958-51997c6c0614";
pub const UNIT_DEBITORNR: &str = "b3566d2e-6df5-04a4-ee60-a72d01cf2d59";
pub const UNIT_WWW: &str = "0d5c351f-bcfd-e7fa-0978-29b7a4911f66";
pub const UNIT_HOURS: &str = "ccf8ab70-8f5e-77e1-056d-5ebcb83054bc";
pub const UNIT_PHONEHOURS: &str = "239a5cab-8855-7df2-8afb-0f3c030e3145";
pub const UNIT_PHONE: &str = "20208029-5e61-9dab-1b5e-39b4d7a00ba9";
pub const UNIT_FAX: &str = "5c9707c6-689f-49b5-de6f-7bb6397e2c22";
pub const UNIT_EMAIL: &str = "6999f325-709b-1015-8856-c2c899e970a9";
pub const UNIT_MAG_ID: &str = "4d7bd449-7dff-175a-258f-fe42851418e9";
pub const UNIT_NAME_ALT: &str = "566c7ee5-b854-5926-949c-3ef13dcf0039";
pub const PERSON_PHONE: &str = "f2c9e01a-ea0e-d98c-997a-7534cafe0881";
pub const PERSON_EMAIL: &str = "057039f1-7b73-7449-21fc-93473893373d";
pub const PERSON_ROOM: &str = "bb351602-e848-9acc-d653-7613849637df";
pub const PERSON_JOB_TITLE_ALT: &str = "baef389c-bdcd-604f-718c-d8447a9d1369";
pub const PRIMARY: &str = "84d8c1a2-63aa-9fcb-fef9-ad71d2145951";
pub const NOT_PRIMARY: &str = "b871a5d2-e75b-596e-ee81-3e4e9609823c";
pub const LINJE_ORG_HIERARCHY: &str = "4cb165f1-3997-3e43-c964-6bdd8ce39844";
pub const SIKKERHEDS_ORG_HIERARCHY: &str = "30949753-9fef-d61a-f25e-40dda2c8147e";
/// Hard-coded (not generated) in `initial_classes.py`.
pub const ROLE_TYPE_PLACEHOLDER: &str = "964c31a2-6267-4388-bff5-42d6f3c5f708";
pub const LEAVE_TYPE_PLACEHOLDER: &str = "d2892fa6-bc56-4c14-bd24-74ae0c71fa3a";

/// A class the importer makes sure exists on every run (`initial_classes.CLASSES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedClass {
    pub uuid: &'static str,
    /// LoRa's `brugervendtnoegle`.
    pub user_key: &'static str,
    /// LoRa's `titel`.
    pub name: &'static str,
    /// LoRa's `omfang`; for address types MO's address scope.
    pub scope: &'static str,
    pub facet: &'static str,
}

const fn seed(
    name: &'static str,
    facet: &'static str,
    scope: &'static str,
    user_key: &'static str,
    uuid: &'static str,
) -> SeedClass {
    SeedClass { uuid, user_key, name, scope, facet }
}

const UNIT_ADDRESS: &str = "org_unit_address_type";
const PERSON_ADDRESS: &str = "employee_address_type";

/// In `initial_classes.py`'s order and with its arguments' order (title, facet, scope, bvn, uuid).
pub const SEED_CLASSES: [SeedClass; 25] = [
    seed("Postadresse", UNIT_ADDRESS, "DAR", "AddressMailUnit", UNIT_POSTADDR),
    seed("LOS ID", UNIT_ADDRESS, "TEXT", "LOSID", UNIT_LOS),
    seed("CVR nummer", UNIT_ADDRESS, "TEXT", "CVRUnit", UNIT_CVR),
    seed("EAN nummer", UNIT_ADDRESS, "EAN", "EANUnit", UNIT_EAN),
    seed("P-nummer", UNIT_ADDRESS, "PNUMBER", "PNumber", UNIT_PNR),
    seed("SE-nummer", UNIT_ADDRESS, "TEXT", "SENumber", UNIT_SENR),
    seed("IntDebitor-Nr", UNIT_ADDRESS, "TEXT", "intdebit", UNIT_DEBITORNR),
    seed("WWW", UNIT_ADDRESS, "WWW", "UnitWeb", UNIT_WWW),
    seed("Ekspeditionstid", UNIT_ADDRESS, "TEXT", "UnitHours", UNIT_HOURS),
    seed("Telefontid", UNIT_ADDRESS, "TEXT", "UnitPhoneHours", UNIT_PHONEHOURS),
    seed("Telefon", UNIT_ADDRESS, "PHONE", "UnitPhone", UNIT_PHONE),
    seed("Fax", UNIT_ADDRESS, "PHONE", "UnitFax", UNIT_FAX),
    seed("Email", UNIT_ADDRESS, "EMAIL", "UnitEmail", UNIT_EMAIL),
    seed("Magkort", UNIT_ADDRESS, "TEXT", "UnitMagID", UNIT_MAG_ID),
    seed("Alternativt navn", UNIT_ADDRESS, "TEXT", "UnitNameAlt", UNIT_NAME_ALT),
    seed("Phone", PERSON_ADDRESS, "PHONE", "PhoneEmployee", PERSON_PHONE),
    seed("Email", PERSON_ADDRESS, "EMAIL", "EmailEmployee", PERSON_EMAIL),
    seed("Lokale", PERSON_ADDRESS, "TEXT", "RoomEmployee", PERSON_ROOM),
    seed("Primær", "primary_type", "100000", "primary", PRIMARY),
    seed("Ikke-primær", "primary_type", "0", "non-primary", NOT_PRIMARY),
    seed("Linjeorganisation", "org_unit_hierarchy", "TEXT", "linjeorg", LINJE_ORG_HIERARCHY),
    seed("Sikkerhedsorganisation", "org_unit_hierarchy", "TEXT", "sikkerhedsorg", SIKKERHEDS_ORG_HIERARCHY),
    seed("Rolletype", "role_type", "TEXT", "role_type", ROLE_TYPE_PLACEHOLDER),
    seed("Orlovstype", "leave_type", "TEXT", "leave_type", LEAVE_TYPE_PLACEHOLDER),
    seed("Alternativ stillingsbetegnelse", PERSON_ADDRESS, "TEXT", "AltJobTitle", PERSON_JOB_TITLE_ALT),
];

/// The scope of a seed address type (what MO validates the value as).
pub fn seed_scope(class_uuid: &str) -> &'static str {
    SEED_CLASSES.iter().find(|class| class.uuid == class_uuid).map_or("TEXT", |class| class.scope)
}

/// The 18 facets ImportHelper made on DIPEX's first run (`create_defaults=True`).
pub const DEFAULT_FACETS: [&str; 18] = [
    "org_unit_address_type",
    "employee_address_type",
    "manager_address_type",
    "address_property",
    "engagement_job_function",
    "org_unit_type",
    "engagement_type",
    "association_type",
    "role_type",
    "leave_type",
    "manager_type",
    "responsibility",
    "manager_level",
    "visibility",
    "time_planning",
    "org_unit_level",
    "primary_type",
    "org_unit_hierarchy",
];

/// The facets the STAM files fill, which DIPEX created as `aarhus_los(user_key)` when missing.
pub const ON_DEMAND_FACETS: [&str; 8] = [
    "engagement_type",
    "org_unit_type",
    "engagement_job_function",
    "engagement_job_function_bvn",
    "responsibility",
    "manager_level",
    "manager_type",
    "association_type",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bases_are_the_documented_ones() {
        assert_eq!(hyphenated(&Md5::digest(b"aarhus-los")), "9088a61b-bd6b-7365-f30d-3ad2ea30ed41");
        assert_eq!(hyphenated(&Md5::digest(b"AAK")), "63ebc13f-9639-1e60-c489-c95c12e9ddb0");
    }

    #[test]
    fn every_constant_is_generated_from_its_name() {
        let constants = [
            ("ORG_UUID", ORG_UUID),
            ("AZID_SYSTEM", AZID_SYSTEM),
            ("UNIT_POSTADDR", UNIT_POSTADDR),
            ("UNIT_LOS", UNIT_LOS),
            ("UNIT_CVR", UNIT_CVR),
            ("UNIT_EAN", UNIT_EAN),
            ("UNIT_PNR", UNIT_PNR),
            ("UNIT_SENR", UNIT_SENR),
            ("UNIT_DEBITORNR", UNIT_DEBITORNR),
            ("UNIT_WWW", UNIT_WWW),
            ("UNIT_HOURS", UNIT_HOURS),
            ("UNIT_PHONEHOURS", UNIT_PHONEHOURS),
            ("UNIT_PHONE", UNIT_PHONE),
            ("UNIT_FAX", UNIT_FAX),
            ("UNIT_EMAIL", UNIT_EMAIL),
            ("UNIT_MAG_ID", UNIT_MAG_ID),
            ("UNIT_NAME_ALT", UNIT_NAME_ALT),
            ("PERSON_PHONE", PERSON_PHONE),
            ("PERSON_EMAIL", PERSON_EMAIL),
            ("PERSON_ROOM", PERSON_ROOM),
            ("PERSON_JOB_TITLE_ALT", PERSON_JOB_TITLE_ALT),
            ("PRIMARY", PRIMARY),
            ("NOT_PRIMARY", NOT_PRIMARY),
            ("LINJE_ORG_HIERARCHY", LINJE_ORG_HIERARCHY),
            ("SIKKERHEDS_ORG_HIERARCHY", SIKKERHEDS_ORG_HIERARCHY),
        ];
        for (name, uuid) in constants {
            assert_eq!(aarhus_los(name), uuid, "{name}");
        }
    }

    #[test]
    fn on_demand_facets_match_section_6_2() {
        let expected = [
            ("engagement_type", "d4e006c8-a6be-a9ed-4781-ac407f8c527a"),
            ("org_unit_type", "48483a96-3d3b-6aaa-df92-bc67229eaed6"),
            ("engagement_job_function", "477fcc0d-bbed-21eb-4e47-e963dcb84b63"),
            ("engagement_job_function_bvn", "b544fe51-503d-ce5f-b8c0-9c57a81cbf79"),
            ("responsibility", "f3d1fd59-5a75-112e-2757-5ef9773cd450"),
            ("manager_level", "965d23e9-3f74-459c-397f-e0fabbf4e0fb"),
            ("manager_type", "48a84e22-6776-a508-b3e4-51fe30c99a38"),
            ("association_type", "706c7cb0-4873-0005-bd9a-3227e3c4b33f"),
        ];
        assert_eq!(ON_DEMAND_FACETS, expected.map(|(facet, _)| facet));
        for (facet, uuid) in expected {
            assert_eq!(aarhus_los(facet), uuid, "{facet}");
        }
    }

    #[test]
    fn per_object_uuids_match_sections_6_3_and_15() {
        let unit_a = "aaaaaaaa-0000-0000-0000-000000000001";
        let unit_p = "aaaaaaaa-0000-0000-0000-000000000000";
        let cpr = "0101011234";
        let vectors = [
            (cpr.to_owned(), "312c77ec-1e1c-4f87-1d99-066171a60577"),
            (format!("{cpr}email"), "20ff0df3-484f-e487-407a-d5223c9240e9"),
            (format!("{cpr}azid"), "3e10adf1-4db0-9c87-e2c8-3a0bcc90d21c"),
            (format!("{unit_a}los"), "f57b89d1-b3ec-eeaf-9aa2-e54907daf750"),
            (format!("{unit_a}cvr"), "13dbe941-8bc2-597e-7915-3c302695bcce"),
            (format!("{unit_a}ean"), "38722f5e-ef3d-5bce-2073-845a67a960ec"),
            (format!("{unit_a}pnr"), "8f7120c5-581a-fe56-e3cc-42b8f3744991"),
            (format!("{unit_a}senr"), "11d5051d-1a0b-bf9f-1683-5db8a981719c"),
            (format!("{unit_a}debitornr"), "0a18bdea-b032-b0e0-d051-5347cd020b7d"),
            (format!("{unit_a}mag_id"), "4ce56589-ccf0-ccb4-9eb3-9d3be5112596"),
            (format!("{unit_a}postaddr"), "66710ce2-c91b-4927-c34e-a77d21c66d75"),
            (format!("{unit_a}{cpr}manager"), "bab1c428-d3eb-b4ac-843f-1d1a3724d3de"),
            // §15 G1 and G6: the root unit P.
            (format!("{unit_p}los"), "710a2b8e-7323-b967-9f70-4e2d513d12c5"),
            (format!("{unit_p}cvr"), "3952647a-0134-cc8d-0086-b694e3e9dac7"),
            (format!("{unit_p}{cpr}manager"), "c2af67b9-0599-00e9-7068-f0b92a8804ff"),
        ];
        for (value, uuid) in vectors {
            assert_eq!(aak(&value), uuid, "{value}");
        }
    }

    #[test]
    fn the_seed_is_25_classes_with_unique_uuids_in_known_facets() {
        let mut uuids: Vec<&str> = SEED_CLASSES.iter().map(|class| class.uuid).collect();
        uuids.sort();
        uuids.dedup();
        assert_eq!(uuids.len(), 25);
        assert!(SEED_CLASSES.iter().all(|class| DEFAULT_FACETS.contains(&class.facet)));
        assert_eq!(seed_scope(UNIT_EAN), "EAN");
        assert_eq!(seed_scope(PERSON_EMAIL), "EMAIL");
    }
}
