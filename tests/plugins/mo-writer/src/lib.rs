//! A test importer that writes MO through `mo-write`, in the batch the `phase` setting names:
//! `create` (a new unit under `root` with a person, an engagement, an e-mail address, a manager,
//! an IT account, and a new facet, class and IT system: every kind of object),
//! `change` (a rename of the unit, the end of the engagement, and the end of a manager that never
//! existed), `bad` (a batch whose second change cannot be applied) or `many` (one batch of
//! `updates` renames of the root unit, each from a day of its own: a runaway importer's batch).
//! Never listed in plugins.toml.

use moport_sdk::mo::write::{Change, Object, ObjectKind, Outcome, Termination, apply};
use moport_sdk::mo::{
    self, Address, Class, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit, Query, Validity,
};
use moport_sdk::{Plugin, PluginError, Report, RunContext, settings};

const UNIT: &str = "5e1f0000-0000-4000-8000-000000000001";
const PERSON: &str = "5e1f0000-0000-4000-8000-000000000002";
const ENGAGEMENT: &str = "5e1f0000-0000-4000-8000-000000000003";
const EMAIL: &str = "5e1f0000-0000-4000-8000-000000000004";
const FACET: &str = "5e1f0000-0000-4000-8000-000000000005";
const CLASS: &str = "5e1f0000-0000-4000-8000-000000000006";
const IT_SYSTEM: &str = "5e1f0000-0000-4000-8000-000000000007";
const IT_USER: &str = "5e1f0000-0000-4000-8000-000000000008";
const MANAGER: &str = "5e1f0000-0000-4000-8000-000000000009";
const NEVER_CREATED: &str = "5e1f0000-0000-4000-8000-0000000000ff";

struct MoWriter;

fn since(from: &str, to: Option<&str>) -> Validity {
    Validity { from: Some(from.to_owned()), to: to.map(str::to_owned) }
}

/// The uuid of the class with this user key in this facet.
fn class(facet: &str, user_key: &str) -> Result<String, PluginError> {
    mo::classes(&Query::window(None, None).in_facets(&[facet]))?
        .into_iter()
        .find(|class| class.user_key == user_key)
        .map(|class| class.uuid)
        .ok_or_else(|| PluginError::Data(format!("MO has no class `{user_key}` in facet `{facet}`")))
}

fn unit(root: &str, unit_type: &str, name: &str, from: &str) -> OrgUnit {
    OrgUnit {
        uuid: UNIT.into(),
        user_key: "TEST-1".into(),
        name: name.into(),
        parent: Some(root.into()),
        unit_type: Some(unit_type.into()),
        unit_level: None,
        hierarchy: None,
        validity: since(from, None),
    }
}

impl Plugin for MoWriter {
    fn run(_ctx: RunContext) -> Result<Report, PluginError> {
        let root = settings::require_str("root")?;
        let unit_type = class("org_unit_type", "enhed")?;
        let phase = settings::require_str("phase")?;
        if phase == "bad" {
            apply(&[
                Change::Create(Object::OrgUnit(unit(&root, &unit_type, "Ny afdeling", "2026-01-01"))),
                Change::Update(Object::OrgUnit(OrgUnit {
                    uuid: NEVER_CREATED.into(),
                    ..unit(&root, &unit_type, "X", "2026-01-01")
                })),
            ])?;
            return Ok(Report::new("the bad batch went through"));
        }
        if phase == "many" {
            let updates = settings::get_i64("updates")?.unwrap_or(0);
            return renames_of(&root, updates as u32);
        }
        let person = Employee {
            uuid: PERSON.into(),
            cpr_number: Some("0101901234".into()),
            given_name: "Testa".into(),
            surname: "Testesen".into(),
            nickname_given_name: None,
            nickname_surname: None,
            validity: Validity { from: Some("1990-01-01".into()), to: None },
        };
        let engagement = Engagement {
            uuid: ENGAGEMENT.into(),
            user_key: "T-0001".into(),
            person: PERSON.into(),
            org_unit: UNIT.into(),
            job_function: Some(class("engagement_job_function", "pædagog")?),
            engagement_type: Some(class("engagement_type", "ansat")?),
            primary: None,
            is_primary: false,
            extensions: std::iter::once(Some("Pædagog".to_owned())).chain(std::iter::repeat_n(None, 9)).collect(),
            validity: since("2026-02-01", None),
        };
        let email = Address {
            uuid: EMAIL.into(),
            value: "testa@demo-kommune.dk".into(),
            name: "testa@demo-kommune.dk".into(),
            address_type: class("employee_address_type", "EmailEmployee")?,
            scope: "EMAIL".into(),
            visibility: None,
            person: Some(PERSON.into()),
            org_unit: None,
            engagement: None,
            dar: None,
            validity: since("2026-02-01", None),
        };
        let always = Validity { from: None, to: None };
        let facet = Facet { uuid: FACET.into(), user_key: "test_facet".into(), validity: always.clone() };
        let new_class = Class {
            uuid: CLASS.into(),
            user_key: "test_class".into(),
            name: "Testklasse".into(),
            facet: FACET.into(),
            facet_user_key: "test_facet".into(),
            scope: Some("TEXT".into()),
            parent: None,
            validity: always.clone(),
        };
        let it_system = ItSystem {
            uuid: IT_SYSTEM.into(),
            user_key: "AD".into(),
            name: "Active Directory".into(),
            validity: always,
        };
        let it_user = ItUser {
            uuid: IT_USER.into(),
            user_key: "testa".into(),
            it_system: IT_SYSTEM.into(),
            person: Some(PERSON.into()),
            engagement: None,
            validity: since("2026-02-01", None),
        };
        let manager = Manager {
            uuid: MANAGER.into(),
            person: Some(PERSON.into()),
            org_unit: UNIT.into(),
            manager_type: Some(class("manager_type", "leder")?),
            manager_level: Some(class("manager_level", "niveau3")?),
            responsibilities: vec![class("responsibility", "personale")?],
            validity: since("2026-03-01", None),
        };
        let outcomes = match phase.as_str() {
            "create" => apply(&[
                Change::Create(Object::Facet(facet)),
                Change::Create(Object::Class(new_class)),
                Change::Create(Object::ItSystem(it_system)),
                Change::Create(Object::OrgUnit(unit(&root, &unit_type, "Ny afdeling", "2026-01-01"))),
                Change::Create(Object::Employee(person)),
                Change::Create(Object::Engagement(engagement)),
                Change::Create(Object::Address(email)),
                Change::Create(Object::Manager(manager)),
                Change::Create(Object::ItUser(it_user)),
            ])?,
            "change" => apply(&[
                Change::Update(Object::OrgUnit(unit(&root, &unit_type, "Ny afdeling (omdøbt)", "2026-06-01"))),
                Change::Terminate(Termination {
                    kind: ObjectKind::Engagement,
                    uuid: ENGAGEMENT.into(),
                    to: "2026-12-01".into(),
                }),
                Change::Terminate(Termination {
                    kind: ObjectKind::Manager,
                    uuid: NEVER_CREATED.into(),
                    to: "2026-12-01".into(),
                }),
            ])?,
            other => return Err(PluginError::Config(format!("`phase` is `{other}`; write create, change or bad"))),
        };
        let count = |wanted: Outcome| outcomes.iter().filter(|o| **o == wanted).count() as u64;
        Ok(Report::new("wrote MO")
            .count("created", count(Outcome::Created))
            .count("updated", count(Outcome::Updated))
            .count("terminated", count(Outcome::Terminated))
            .count("unchanged", count(Outcome::Unchanged))
            .count("missing", count(Outcome::Missing)))
    }
}

/// One batch of `updates` renames of the unit `root`, the n-th from the n-th day after 2030-01-01
/// (in months of 28 days).
fn renames_of(root: &str, updates: u32) -> Result<Report, PluginError> {
    let unit = mo::org_units(&Query::today())?
        .into_iter()
        .find(|unit| unit.uuid == root)
        .ok_or_else(|| PluginError::Data(format!("MO has no unit {root} today")))?;
    let day = |n: u32| format!("{:04}-{:02}-{:02}", 2030 + n / 336, 1 + n / 28 % 12, 1 + n % 28);
    let changes: Vec<Change> = (0..updates)
        .map(|n| {
            let validity = since(&day(n), None);
            Change::Update(Object::OrgUnit(OrgUnit { name: format!("Navn {n}"), validity, ..unit.clone() }))
        })
        .collect();
    let outcomes = apply(&changes)?;
    Ok(Report::new("renamed").count("updated", outcomes.iter().filter(|o| **o == Outcome::Updated).count() as u64))
}

moport_sdk::export_plugin!(MoWriter);
