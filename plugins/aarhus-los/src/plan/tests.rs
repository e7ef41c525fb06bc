//! The golden examples of §15 and the acceptance tests of §14 that apply to a plan.

use super::*;
use crate::select::{Listed, select};
use serde_json::json;

const A: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const P: &str = "aaaaaaaa-0000-0000-0000-000000000000";
const T: &str = "cccccccc-0000-0000-0000-000000000001";
const D: &str = "dddddddd-0000-0000-0000-000000000001";
const E1: &str = "eeeeeeee-0000-0000-0000-000000000001";
const E2: &str = "eeeeeeee-0000-0000-0000-000000000002";
const MO_PERSON: &str = "ffffffff-0000-0000-0000-000000000001";
const CPR: &str = "0101011234";
const ANDERS: &str = "312c77ec-1e1c-4f87-1d99-066171a60577";
const ORG_HEADER: &str = "BrugervendtNøgle;OrgEnhedsNavn;OrgUUID;ParentUUID;OrgEnhedsTypeUUID;Med-i-LinjeOrg;LOSID;CVR;EAN;P-Nr;SE-Nr;IntDebitor-Nr;MagID;PostAdresse;StartDato;SlutDato";
const PERSON_HEADER: &str = "UUID;BrugervendtNøgle;CPR;CPRNavn;StartTid;SlutTid;Email;PrimærAnsættelse;OrgenhedUUID;EngagementTypeUUID;AZID;StillingsBetegnelseUUID";
const MANAGER_HEADER: &str = "OrgUUID;CPR;LedertypeUUID;LederniveauUUID;LederansvarUUID";

/// Reads a file as the run would: kind and name date from the name, rows from the text.
fn file(name: &str, text: &str) -> ParsedFile {
    let listed = [Listed { name: name.to_owned(), modified: Some("2030-01-01T00:00:00Z".to_owned()) }];
    let selected = select(&listed, None).unwrap().remove(0);
    ParsedFile::parse(&selected, text.as_bytes()).unwrap()
}

fn settings() -> Settings {
    Settings::read(|key| (key == crate::settings::SOURCE).then(|| json!("aak"))).unwrap()
}

/// MO with the organisation and every facet the seed needs.
fn mo() -> MoView {
    let facets = uuids::DEFAULT_FACETS.iter().chain(uuids::ON_DEMAND_FACETS.iter());
    MoView {
        organisation: Some("00000000-0000-0000-0000-00000000000a".to_owned()),
        facets: facets.map(|facet| ((*facet).to_owned(), format!("facet:{facet}"))).collect(),
        ..MoView::default()
    }
}

fn day(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn no_dar() -> HashMap<String, Option<String>> {
    HashMap::new()
}

fn run(files: &[ParsedFile], mo: &MoView, dar: &HashMap<String, Option<String>>) -> Plan {
    plan(files, mo, dar, &settings(), day("2023-03-05")).unwrap()
}

/// The changes of the batch named after `file`, one line each.
fn batch(plan: &Plan, file: &str) -> Vec<String> {
    let batch = plan.batches.iter().find(|batch| batch.name == file).unwrap_or_else(|| panic!("no batch {file}"));
    batch.changes.iter().map(show).collect()
}

/// A change on one line with every field, known uuids by name.
fn show(change: &Change) -> String {
    let text = match change {
        Change::Create(object) => format!("create {}", show_object(object)),
        Change::Update(object) => format!("update {}", show_object(object)),
        Change::Terminate(end) => {
            format!("terminate {:?} {} to {}", end.kind, end.uuid, end.to).replace("ObjectKind::", "")
        }
    };
    let names = [
        (A, "A"),
        (P, "P"),
        (T, "T"),
        (D, "D"),
        (E1, "E1"),
        (E2, "E2"),
        (MO_PERSON, "MO_PERSON"),
        (ANDERS, "ANDERS"),
        (uuids::LINJE_ORG_HIERARCHY, "LINJE"),
        (uuids::PRIMARY, "PRIMARY"),
        (uuids::NOT_PRIMARY, "NOT_PRIMARY"),
        (uuids::AZID_SYSTEM, "AZ"),
        (uuids::UNIT_LOS, "UNIT_LOS"),
        (uuids::UNIT_CVR, "UNIT_CVR"),
        (uuids::UNIT_EAN, "UNIT_EAN"),
        (uuids::UNIT_POSTADDR, "UNIT_POSTADDR"),
        (uuids::PERSON_EMAIL, "PERSON_EMAIL"),
    ];
    names.iter().fold(text, |text, (uuid, name)| text.replace(uuid, name))
}

fn opt(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("-")
}

fn period(validity: &Validity) -> String {
    format!("{}..{}", opt(&validity.from), opt(&validity.to))
}

fn show_object(object: &Object) -> String {
    match object {
        Object::OrgUnit(u) => format!(
            "unit {} key={} name={} parent={} type={} level={} hierarchy={} {}",
            u.uuid,
            u.user_key,
            u.name,
            opt(&u.parent),
            opt(&u.unit_type),
            opt(&u.unit_level),
            opt(&u.hierarchy),
            period(&u.validity)
        ),
        Object::Address(a) => format!(
            "address {} value={} name={} type={} scope={} visibility={} person={} unit={} engagement={} dar={} {}",
            a.uuid,
            a.value,
            a.name,
            a.address_type,
            a.scope,
            opt(&a.visibility),
            opt(&a.person),
            opt(&a.org_unit),
            opt(&a.engagement),
            a.dar.is_some(),
            period(&a.validity)
        ),
        Object::Employee(e) => format!(
            "employee {} cpr={} given={} surname={} nickname={}/{} {}",
            e.uuid,
            opt(&e.cpr_number),
            e.given_name,
            e.surname,
            opt(&e.nickname_given_name),
            opt(&e.nickname_surname),
            period(&e.validity)
        ),
        Object::Engagement(e) => format!(
            "engagement {} key={} person={} unit={} job={} type={} primary={} is_primary={} extensions={} {}",
            e.uuid,
            e.user_key,
            e.person,
            e.org_unit,
            opt(&e.job_function),
            opt(&e.engagement_type),
            opt(&e.primary),
            e.is_primary,
            e.extensions.iter().filter(|x| x.is_none()).count(),
            period(&e.validity)
        ),
        Object::ItUser(i) => format!(
            "it_user {} key={} system={} person={} engagement={} {}",
            i.uuid,
            i.user_key,
            i.it_system,
            opt(&i.person),
            opt(&i.engagement),
            period(&i.validity)
        ),
        Object::Manager(m) => format!(
            "manager {} person={} unit={} type={} level={} responsibilities={} {}",
            m.uuid,
            opt(&m.person),
            m.org_unit,
            opt(&m.manager_type),
            opt(&m.manager_level),
            m.responsibilities.join(","),
            period(&m.validity)
        ),
        Object::Class(c) => format!(
            "class {} key={} name={} facet={} facet_key={} scope={} parent={} {}",
            c.uuid,
            c.user_key,
            c.name,
            c.facet,
            c.facet_user_key,
            opt(&c.scope),
            opt(&c.parent),
            period(&c.validity)
        ),
        Object::Facet(f) => format!("facet {} key={} {}", f.uuid, f.user_key, period(&f.validity)),
        Object::ItSystem(s) => {
            format!("it_system {} key={} name={} {}", s.uuid, s.user_key, s.name, period(&s.validity))
        }
    }
}

fn g1() -> ParsedFile {
    let address = "Testvej 1, 8000 Aarhus C";
    file(
        "Org_inital_20210101_000000.csv",
        &format!(
            "{ORG_HEADER}\n\
             1001;Enhed A;{A};{P};{T};1;L1;;;;;;;{address};01-01-2020;31-12-2020\n\
             1001;Enhed A;{A};{P};{T};1;L1;;;;;;;{address};01-01-2021;31-12-2021\n\
             1001;Enhed A2;{A};{P};{T};1;L1;;;;;;;{address};01-01-2022;31-12-9999\n\
             1000;Rod;{P};{P};{T};0;L0;12345678;;;;;;Ukendtvej 99;01-01-2020;31-12-9999\n"
        ),
    )
}

fn g1_dar() -> HashMap<String, Option<String>> {
    HashMap::from([("Testvej 1, 8000 Aarhus C".to_owned(), Some(D.to_owned())), ("Ukendtvej 99".to_owned(), None)])
}

#[test]
fn g1_org_initial_merges_history_creates_heads_and_updates_tails() {
    let files = [g1()];
    assert_eq!(
        addresses_to_look_up(&files),
        BTreeSet::from(["Testvej 1, 8000 Aarhus C".to_owned(), "Ukendtvej 99".to_owned()])
    );
    let plan = run(&files, &mo(), &g1_dar());
    assert_eq!(
        batch(&plan, "Org_inital_20210101_000000.csv"),
        [
            "create unit A key=1001 name=Enhed A parent=P type=T level=- hierarchy=LINJE 2020-01-01..2022-01-01",
            "create unit P key=1000 name=Rod parent=- type=T level=- hierarchy=- 2020-01-01..-",
            "create address f57b89d1-b3ec-eeaf-9aa2-e54907daf750 value=L1 name=L1 type=UNIT_LOS scope=TEXT visibility=- person=- unit=A engagement=- dar=false 2020-01-01..-",
            "create address 710a2b8e-7323-b967-9f70-4e2d513d12c5 value=L0 name=L0 type=UNIT_LOS scope=TEXT visibility=- person=- unit=P engagement=- dar=false 2020-01-01..-",
            "create address 3952647a-0134-cc8d-0086-b694e3e9dac7 value=12345678 name=12345678 type=UNIT_CVR scope=TEXT visibility=- person=- unit=P engagement=- dar=false 2020-01-01..-",
            "create address 66710ce2-c91b-4927-c34e-a77d21c66d75 value=D name=D type=UNIT_POSTADDR scope=DAR visibility=- person=- unit=A engagement=- dar=false 2020-01-01..-",
            "update unit A key=1001 name=Enhed A2 parent=P type=T level=- hierarchy=LINJE 2022-01-01..-",
        ]
    );
    assert_eq!(
        plan.failed_addresses,
        [FailedAddresses {
            file_name: "failed_addr_Org_inital_20210101_000000.csv".to_owned(),
            rows: vec![(P.to_owned(), "Ukendtvej 99".to_owned())],
        }]
    );
    assert_eq!(
        crate::csv::failed_addresses_csv(&plan.failed_addresses[0].rows),
        format!("org_uuid#post_address\r\n{P}#Ukendtvej 99\r\n").into_bytes()
    );
}

fn unit_in_mo(uuid: &str, name: &str) -> OrgUnit {
    OrgUnit {
        uuid: uuid.to_owned(),
        user_key: "1001".to_owned(),
        name: name.to_owned(),
        parent: Some(P.to_owned()),
        unit_type: Some(T.to_owned()),
        unit_level: Some("level".to_owned()),
        hierarchy: Some(uuids::LINJE_ORG_HIERARCHY.to_owned()),
        validity: Validity { from: Some("2020-01-01".to_owned()), to: None },
    }
}

#[test]
fn g2_org_change_updates_what_exists_from_the_file_date_and_creates_the_rest() {
    let files = [file(
        "Org_ret_20230215_120000.csv",
        &format!("{ORG_HEADER}\n1001;Enhed A ny;{A};{P};;0;L1;;5790000000000;;;;;;01-01-2020;31-12-2030\n"),
    )];
    assert!(addresses_to_look_up(&files).is_empty());
    let mut mo = mo();
    mo.org_units.insert(A.to_owned(), unit_in_mo(A, "Enhed A"));
    mo.existing.extend([A.to_owned(), aak(&format!("{A}los"))]);
    let plan = run(&files, &mo, &no_dar());
    // What the row leaves empty (type, hierarchy) MO keeps, as DIPEX's edit left the keys out.
    assert_eq!(
        batch(&plan, "Org_ret_20230215_120000.csv"),
        [
            "update unit A key=1001 name=Enhed A ny parent=P type=T level=level hierarchy=LINJE 2023-02-15..-",
            "update address f57b89d1-b3ec-eeaf-9aa2-e54907daf750 value=L1 name=L1 type=UNIT_LOS scope=TEXT visibility=- person=- unit=A engagement=- dar=false 2023-02-15..-",
            "create address 38722f5e-ef3d-5bce-2073-845a67a960ec value=5790000000000 name=5790000000000 type=UNIT_EAN scope=EAN visibility=- person=- unit=A engagement=- dar=false 2020-01-01..2031-01-01",
        ]
    );
    assert!(plan.failed_addresses.is_empty());
}

fn anders_rows() -> String {
    format!(
        "{PERSON_HEADER}\n\
         {E1};K1;{CPR};Anders And;2021-03-01 00:00:00;9999-12-31 00:00:00;anders@aarhus.dk;Ja;{A};{T};AZ12345;{T}\n\
         {E2};K2;{CPR};Anders And;2021-05-01 00:00:00;2021-12-31 00:00:00;;Nej;{A};{T};;{T}\n"
    )
}

const ANDERS_EMAIL: &str = "20ff0df3-484f-e487-407a-d5223c9240e9";
const ANDERS_AZ: &str = "3e10adf1-4db0-9c87-e2c8-3a0bcc90d21c";

#[test]
fn g3_new_persons_create_employee_engagements_email_and_it_user() {
    let files = [file("Pers_nye_20210301_010000.csv", &anders_rows())];
    assert_eq!(
        detail_uuids(&files),
        BTreeSet::from([E1.to_owned(), E2.to_owned(), ANDERS_EMAIL.to_owned(), ANDERS_AZ.to_owned()])
    );
    let plan = run(&files, &mo(), &no_dar());
    assert_eq!(
        batch(&plan, "Pers_nye_20210301_010000.csv"),
        [
            "create employee ANDERS cpr=0101011234 given=Anders surname=And nickname=-/- 2021-03-01..-",
            "create engagement E1 key=K1 person=ANDERS unit=A job=T type=T primary=PRIMARY is_primary=true extensions=10 2021-03-01..-",
            "create engagement E2 key=K2 person=ANDERS unit=A job=T type=T primary=NOT_PRIMARY is_primary=false extensions=10 2021-05-01..2022-01-01",
            "create address 20ff0df3-484f-e487-407a-d5223c9240e9 value=anders@aarhus.dk name=anders@aarhus.dk type=PERSON_EMAIL scope=EMAIL visibility=- person=ANDERS unit=- engagement=- dar=false 2021-03-01..-",
            "create it_user 3e10adf1-4db0-9c87-e2c8-3a0bcc90d21c key=AZ12345 system=AZ person=ANDERS engagement=- 2021-03-01..-",
        ]
    );
}

#[test]
fn g4_person_changes_update_existing_details_from_the_file_date() {
    let files = [file("Pers_ret_20210401_010000.csv", &anders_rows())];
    let mut mo = mo();
    mo.employees_by_cpr.insert(CPR.to_owned(), ANDERS.to_owned());
    mo.existing.insert(E1.to_owned());
    let plan = run(&files, &mo, &no_dar());
    assert_eq!(
        batch(&plan, "Pers_ret_20210401_010000.csv"),
        [
            "update employee ANDERS cpr=0101011234 given=Anders surname=And nickname=-/- 2021-04-01..-",
            "update engagement E1 key=K1 person=ANDERS unit=A job=T type=T primary=PRIMARY is_primary=true extensions=10 2021-04-01..-",
            "create engagement E2 key=K2 person=ANDERS unit=A job=T type=T primary=NOT_PRIMARY is_primary=false extensions=10 2021-05-01..2022-01-01",
            "create address 20ff0df3-484f-e487-407a-d5223c9240e9 value=anders@aarhus.dk name=anders@aarhus.dk type=PERSON_EMAIL scope=EMAIL visibility=- person=ANDERS unit=- engagement=- dar=false 2021-04-01..-",
            "create it_user 3e10adf1-4db0-9c87-e2c8-3a0bcc90d21c key=AZ12345 system=AZ person=ANDERS engagement=- 2021-04-01..-",
        ]
    );
}

#[test]
fn g5_person_end_terminates_the_engagement_after_the_file_date() {
    let files = [file("Pers_luk_20210601_010000.csv", &format!("UUID;CPR;CPRNavn\n{E1};{CPR};Anders And\n"))];
    let plan = run(&files, &mo(), &no_dar());
    // DIPEX's inclusive last day 2021-06-01 is moport's exclusive 2021-06-02.
    assert_eq!(batch(&plan, "Pers_luk_20210601_010000.csv"), ["terminate Engagement E1 to 2021-06-02"]);
}

#[test]
fn g6_manager_changes_update_existing_and_create_missing_from_the_file_date() {
    let files = [file(
        "Leder_ret_20230301_000000.csv",
        &format!("{MANAGER_HEADER}\n{A};{CPR};{T};{T};{T}\n{P};{CPR};{T};{T};{T}\n"),
    )];
    let mut mo = mo();
    mo.employees_by_cpr.insert(CPR.to_owned(), MO_PERSON.to_owned());
    mo.existing.insert("bab1c428-d3eb-b4ac-843f-1d1a3724d3de".to_owned());
    let plan = run(&files, &mo, &no_dar());
    assert_eq!(
        batch(&plan, "Leder_ret_20230301_000000.csv"),
        [
            "update manager bab1c428-d3eb-b4ac-843f-1d1a3724d3de person=MO_PERSON unit=A type=T level=T responsibilities=T 2023-03-01..-",
            // DIPEX: from the day of the run.
            "create manager c2af67b9-0599-00e9-7068-f0b92a8804ff person=MO_PERSON unit=P type=T level=T responsibilities=T 2023-03-01..-",
        ]
    );
}

#[test]
fn manager_files_create_from_the_file_date_and_end_after_it() {
    let rows = format!("{MANAGER_HEADER}\n{A};{CPR};{T};{T};{T}\n");
    let mut mo = mo();
    mo.employees_by_cpr.insert(CPR.to_owned(), MO_PERSON.to_owned());
    let manager = "bab1c428-d3eb-b4ac-843f-1d1a3724d3de";
    let created =
        format!("create manager {manager} person=MO_PERSON unit=A type=T level=T responsibilities=T 2023-03-01..-");
    // §14 test_handle_create and test_handle_edit_creates_new_detail.
    for name in ["Leder_nye_20230301_000000.csv", "Leder_ret_20230301_000000.csv"] {
        assert_eq!(batch(&run(&[file(name, &rows)], &mo, &no_dar()), name), std::slice::from_ref(&created), "{name}");
    }
    let ends = [file("Leder_luk_20230301_000000.csv", &format!("OrgUUID;CPR\n{A};{CPR}\n"))];
    assert_eq!(
        batch(&run(&ends, &mo, &no_dar()), "Leder_luk_20230301_000000.csv"),
        [format!("terminate Manager {manager} to 2023-03-02")]
    );
}

#[test]
fn an_unknown_manager_cpr_is_an_error_showing_at_most_six_digits() {
    let files = [file(
        "Leder_nye_20230301_000000.csv",
        &format!("{MANAGER_HEADER}\n{A};{CPR};{T};{T};{T}\n{P};2412249999;{T};{T};{T}\n"),
    )];
    let Err(PlanError::Data(errors)) = plan(&files, &mo(), &no_dar(), &settings(), day("2023-03-05")) else { panic!() };
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 2);
    assert!(shown[0].starts_with("Leder_nye_20230301_000000.csv:2:2 (CPR): no person in MO or in this run's person files has the CPR number 010101…"), "{}", shown[0]);
    assert!(shown[1].starts_with("Leder_nye_20230301_000000.csv:3:2 (CPR)"));
    assert!(shown.iter().all(|line| !line.contains(CPR) && !line.contains("2412249999")));
}

#[test]
fn managers_find_persons_this_run_creates() {
    // §14 test_cache_cpr: DIPEX re-read MO's employees after the person import.
    let files = [
        file("Pers_nye_20210301_010000.csv", &anders_rows()),
        file("Leder_nye_20230301_000000.csv", &format!("{MANAGER_HEADER}\n{A};{CPR};{T};{T};{T}\n")),
    ];
    let plan = run(&files, &mo(), &no_dar());
    assert!(batch(&plan, "Leder_nye_20230301_000000.csv")[0].contains("person=ANDERS"));
}

#[test]
fn persons_known_to_mo_keep_their_uuid_everywhere() {
    // §14 test_handle_create_uses_correct_person_uuid / test_handle_edit_uses_correct_person_uuid.
    for name in ["Pers_nye_20210301_010000.csv", "Pers_ret_20210301_010000.csv"] {
        let mut mo = mo();
        mo.employees_by_cpr.insert(CPR.to_owned(), MO_PERSON.to_owned());
        mo.existing.insert(ANDERS_EMAIL.to_owned());
        let changes = batch(&run(&[file(name, &anders_rows())], &mo, &no_dar()), name);
        assert_eq!(changes.len(), 5);
        assert!(
            changes[0].starts_with("create employee MO_PERSON") || changes[0].starts_with("update employee MO_PERSON")
        );
        assert!(changes[1..].iter().all(|change| change.contains("person=MO_PERSON")), "{changes:#?}");
        assert!(changes.iter().all(|change| !change.contains("ANDERS")));
    }
}

#[test]
fn same_uuid_rows_in_one_person_file_keep_the_last_and_say_so() {
    let rows = format!(
        "{PERSON_HEADER}\n\
         {E1};K1;{CPR};Anders And;2021-03-01 00:00;9999-12-31 00:00;a@aarhus.dk;Ja;{A};{T};AZ1;{T}\n\
         {E2};K2;{CPR};Anders And;2021-03-01 00:00;2021-12-31 00:00;b@aarhus.dk;Nej;{A};{T};AZ2;{T}\n"
    );
    let plan = run(&[file("Pers_nye_20210301_010000.csv", &rows)], &mo(), &no_dar());
    let changes = batch(&plan, "Pers_nye_20210301_010000.csv");
    assert_eq!(changes.len(), 5, "one employee, two engagements, one e-mail, one IT user");
    assert!(changes[3].contains("value=b@aarhus.dk") && changes[3].ends_with("2021-03-01..2022-01-01"));
    assert!(changes[4].contains("key=AZ2"));
    assert!(plan.notes.contains(&format!(
        "Pers_nye_20210301_010000.csv: lines 2, 3 all give the e-mail address {ANDERS_EMAIL}; line 3 is used"
    )));
    assert!(plan.notes.iter().all(|note| !note.contains(CPR)));
}

#[test]
fn an_email_of_an_engagement_ended_before_the_file_date_is_left_out() {
    let rows = format!(
        "{PERSON_HEADER}\n{E2};K2;{CPR};Anders And;2021-01-01 00:00;2021-01-31 00:00;a@aarhus.dk;Nej;{A};{T};;{T}\n"
    );
    let plan = run(&[file("Pers_nye_20210301_010000.csv", &rows)], &mo(), &no_dar());
    assert_eq!(batch(&plan, "Pers_nye_20210301_010000.csv").len(), 2);
    assert!(
        plan.notes
            .iter()
            .any(|note| note.starts_with("Pers_nye_20210301_010000.csv:2: the engagement ended on 2021-01-31, before the file date 2021-03-01; its e-mail address"))
    );
}

#[test]
fn handle_initial_with_only_required_columns_gives_exactly_one_unit() {
    // §14 test_handle_initial: DIPEX sent the unit without a name; moport takes MO's name.
    let files = [file(
        "Org_inital_20210101_000000.csv",
        &format!("BrugervendtNøgle;OrgUUID;ParentUUID;StartDato;SlutDato\n1001;{A};{P};01-01-2020;31-12-2020\n"),
    )];
    let mut mo = mo();
    mo.org_units.insert(A.to_owned(), unit_in_mo(A, "Enhed A"));
    assert_eq!(
        batch(&run(&files, &mo, &no_dar()), "Org_inital_20210101_000000.csv"),
        ["create unit A key=1001 name=Enhed A parent=P type=T level=level hierarchy=LINJE 2020-01-01..2021-01-01"]
    );
    // A unit MO does not have needs a name (§16.21).
    let Err(PlanError::Data(errors)) = plan(&files, &self::mo(), &no_dar(), &settings(), day("2023-03-05")) else {
        panic!()
    };
    assert_eq!(
        errors[0].to_string(),
        format!(
            "Org_inital_20210101_000000.csv:2: the unit {A} is not in MO and the row gives it no name; fill in OrgEnhedsNavn"
        )
    );
}

#[test]
fn a_name_missing_in_a_later_row_comes_from_the_unit_planned_before() {
    let files = [
        file(
            "Org_nye_20210101_000000.csv",
            &format!("{ORG_HEADER}\n1001;Ny;{A};{P};;;;;;;;;;;01-01-2021;31-12-9999\n"),
        ),
        file("Org_ret_20210201_000000.csv", &format!("{ORG_HEADER}\n1001b;;{A};{P};;;;;;;;;;;01-01-2021;31-12-9999\n")),
    ];
    let plan = run(&files, &mo(), &no_dar());
    assert_eq!(
        batch(&plan, "Org_nye_20210101_000000.csv"),
        ["create unit A key=1001 name=Ny parent=P type=- level=- hierarchy=- 2021-01-01..-"]
    );
    assert_eq!(
        batch(&plan, "Org_ret_20210201_000000.csv"),
        ["update unit A key=1001b name=Ny parent=P type=- level=- hierarchy=- 2021-02-01..-"]
    );
}

#[test]
fn org_change_of_a_unit_mo_lacks_creates_it_and_looks_its_address_up() {
    let files = [file(
        "Org_ret_20230215_120000.csv",
        &format!("{ORG_HEADER}\n1001;Enhed A;{A};{P};;;;;;;;;;Testvej 1, 8000 Aarhus C;01-01-2020;31-12-9999\n"),
    )];
    assert_eq!(addresses_to_look_up(&files).len(), 1);
    let plan = run(&files, &mo(), &g1_dar());
    assert_eq!(
        batch(&plan, "Org_ret_20230215_120000.csv"),
        [
            "create unit A key=1001 name=Enhed A parent=P type=- level=- hierarchy=- 2020-01-01..-",
            "create address 66710ce2-c91b-4927-c34e-a77d21c66d75 value=D name=D type=UNIT_POSTADDR scope=DAR visibility=- person=- unit=A engagement=- dar=false 2020-01-01..-",
        ]
    );
}

#[test]
fn an_open_period_followed_by_another_in_org_initial_is_a_data_error() {
    let files = [file(
        "Org_inital_20210101_000000.csv",
        &format!(
            "{ORG_HEADER}\n1001;A;{A};{P};;;;;;;;;;;01-01-2020;31-12-9999\n1001;A;{A};{P};;;;;;;;;;;01-01-2022;31-12-9999\n"
        ),
    )];
    let Err(PlanError::Data(errors)) = plan(&files, &mo(), &no_dar(), &settings(), day("2023-03-05")) else { panic!() };
    assert_eq!((errors[0].file.as_str(), errors[0].line), ("Org_inital_20210101_000000.csv", 3));
    assert!(errors[0].message.contains("give line 2 a SlutDato before 2022-01-01"));
}

#[test]
fn the_seed_creates_missing_facets_the_classes_and_the_az_system() {
    let empty = MoView { organisation: Some("o".to_owned()), ..MoView::default() };
    let fresh = run(&[], &empty, &no_dar());
    let seed = batch(&fresh, "seed");
    assert_eq!(seed.len(), 19 + 25 + 1);
    assert_eq!(
        seed[0],
        format!("create facet {} key=org_unit_address_type 1930-01-01..-", aarhus_los("org_unit_address_type"))
    );
    assert_eq!(
        seed[18],
        "create facet b544fe51-503d-ce5f-b8c0-9c57a81cbf79 key=engagement_job_function_bvn 1930-01-01..-"
    );
    assert_eq!(
        seed[19],
        format!(
            "create class UNIT_POSTADDR key=AddressMailUnit name=Postadresse facet={} facet_key=org_unit_address_type scope=DAR parent=- 1910-01-01..-",
            aarhus_los("org_unit_address_type")
        )
    );
    let non_primary =
        format!("key=non-primary name=Ikke-primær facet={} facet_key=primary_type scope=0", aarhus_los("primary_type"));
    assert!(seed.iter().any(|change| change.starts_with("create class NOT_PRIMARY") && change.contains(&non_primary)));
    assert_eq!(seed[44], "create it_system AZ key=AZ name=AZ 1930-01-01..-");

    // With MO's facets, only the classes and the AZ system; with a custom AZ system, not that.
    let custom = Settings { azid_it_system: E1.to_owned(), ..settings() };
    let customised = plan(&[], &mo(), &no_dar(), &custom, day("2023-03-05")).unwrap();
    let seed = batch(&customised, "seed");
    assert_eq!(seed.len(), 25);
    assert!(seed[0].contains("facet=facet:org_unit_address_type"));
    assert_eq!(
        customised.notes,
        [format!("AZ IT users go to the configured IT system {E1}; DIPEX's own AZ system is not created")]
    );
}

#[test]
fn the_az_system_mo_has_is_left_under_the_name_it_has() {
    let mut mo = mo();
    mo.it_systems = vec![ItSystem {
        uuid: uuids::AZID_SYSTEM.to_owned(),
        user_key: "AZ".to_owned(),
        name: "AZ-ident".to_owned(),
        validity: Validity { from: None, to: None },
    }];
    let plan = run(&[], &mo, &no_dar());
    let seed = batch(&plan, "seed");
    assert_eq!(seed.len(), 25, "the classes only: {seed:?}");
    assert!(seed.iter().all(|change| change.starts_with("create class")));
}

#[test]
fn without_an_organisation_nothing_is_planned() {
    let error = plan(&[], &MoView::default(), &no_dar(), &settings(), day("2023-03-05")).unwrap_err();
    assert_eq!(error, PlanError::NoOrganisation);
    assert!(error.to_string().contains("moport cannot create one"));
}

fn class_in_mo(uuid: &str, facet: &str, to: Option<&str>) -> Class {
    Class {
        uuid: uuid.to_owned(),
        user_key: "old".to_owned(),
        name: "old".to_owned(),
        facet: format!("facet:{facet}"),
        facet_user_key: facet.to_owned(),
        scope: None,
        parent: None,
        validity: Validity { from: Some("1910-01-01".to_owned()), to: to.map(str::to_owned) },
    }
}

#[test]
fn stam_classes_are_created_and_classes_missing_from_the_file_end_today() {
    let name = "STAM_UUID_Enhedstype.csv";
    let files = [file(name, &format!("EnhedstypeUUID;Enhedstype\n{T};Afdeling\n"))];
    assert_eq!(class_facets(&files), BTreeSet::from(["org_unit_type"]));
    let mut mo = mo();
    mo.classes = vec![
        class_in_mo(T, "org_unit_type", None),
        class_in_mo(E1, "org_unit_type", None),
        class_in_mo(E2, "org_unit_type", Some("2020-01-01")),
        class_in_mo(D, "engagement_type", None),
    ];
    let plan = run(&files, &mo, &no_dar());
    assert_eq!(
        batch(&plan, name),
        [
            "create class T key=Afdeling name=Afdeling facet=facet:org_unit_type facet_key=org_unit_type scope=TEXT parent=- 1910-01-01..-",
            "terminate Class E1 to 2023-03-05",
        ]
    );
    // A header-only file ends nothing (DIPEX unpublished the whole facet).
    let plan = run(&[file(name, "EnhedstypeUUID;Enhedstype\n")], &mo, &no_dar());
    assert!(plan.batches.iter().all(|batch| batch.name != name));
    assert_eq!(plan.notes, [format!("{name}: no rows; the classes of `org_unit_type` are left as they are")]);
}

#[test]
fn stam_it_systems_are_created_and_others_only_noted() {
    let name = "STAM_UUID_ITSystem.csv";
    let mut mo = mo();
    mo.it_systems = vec![ItSystem {
        uuid: D.to_owned(),
        user_key: "old".to_owned(),
        name: "Gammelt".to_owned(),
        validity: Validity { from: None, to: None },
    }];
    let plan = run(&[file(name, &format!("ITSystemUUID;Name;Userkey\n{T};Active Directory;AD\n"))], &mo, &no_dar());
    // No validity, as DIPEX sent none: MO makes such a system valid always.
    assert_eq!(batch(&plan, name), ["create it_system T key=AD name=Active Directory -..-"]);
    assert_eq!(
        plan.notes,
        [format!("{name}: MO's IT system \"Gammelt\" ({D}) is not in the file; it is left as it is")]
    );
}

#[test]
fn the_uuid_sets_the_adapter_asks_mo_about() {
    let files = [
        g1(),
        file("Leder_luk_20230301_000000.csv", &format!("OrgUUID;CPR\n{A};{CPR}\n")),
        file("Org_nye_20210101_000000.csv", &format!("{ORG_HEADER}\n1;N;{D};{P};;;;;;;;;;;01-01-2021;31-12-9999\n")),
    ];
    assert_eq!(org_unit_uuids(&files), BTreeSet::from([A.to_owned(), P.to_owned(), D.to_owned()]));
    let details = detail_uuids(&files);
    for uuid in [
        "f57b89d1-b3ec-eeaf-9aa2-e54907daf750",
        "66710ce2-c91b-4927-c34e-a77d21c66d75",
        "710a2b8e-7323-b967-9f70-4e2d513d12c5",
        "3952647a-0134-cc8d-0086-b694e3e9dac7",
        "bab1c428-d3eb-b4ac-843f-1d1a3724d3de",
    ] {
        assert!(details.contains(uuid), "{uuid}");
    }
    assert_eq!(details.len(), 6, "a postal address counts whenever there is text; D has none: {details:?}");
}

#[test]
fn planning_is_deterministic() {
    let files = [
        g1(),
        file("Pers_nye_20210301_010000.csv", &anders_rows()),
        file("Leder_nye_20230301_000000.csv", &format!("{MANAGER_HEADER}\n{A};{CPR};{T};{T};{T}\n")),
    ];
    let render = |plan: &Plan| -> Vec<String> {
        plan.batches
            .iter()
            .flat_map(|batch| std::iter::once(batch.name.clone()).chain(batch.changes.iter().map(show)))
            .collect()
    };
    let first = run(&files, &mo(), &g1_dar());
    let second = run(&files, &mo(), &g1_dar());
    assert_eq!(render(&first), render(&second));
    assert_eq!(first.notes, second.notes);
    let names: Vec<&str> = first.batches.iter().map(|batch| batch.name.as_str()).collect();
    assert_eq!(
        names,
        ["seed", "Org_inital_20210101_000000.csv", "Pers_nye_20210301_010000.csv", "Leder_nye_20230301_000000.csv"]
    );
}

#[test]
fn a_person_starts_with_their_earliest_engagement_in_the_file() {
    let rows = format!(
        "{PERSON_HEADER}\n\
         {E2};K2;{CPR};Anders And;2021-05-01 00:00;9999-12-31 00:00;;Nej;{A};{T};;{T}\n\
         {E1};K1;{CPR};Anders B. And;2021-03-01 00:00;9999-12-31 00:00;;Ja;{A};{T};;{T}\n"
    );
    let changes =
        batch(&run(&[file("Pers_nye_20210301_010000.csv", &rows)], &mo(), &no_dar()), "Pers_nye_20210301_010000.csv");
    assert_eq!(changes[0], "create employee ANDERS cpr=0101011234 given=Anders surname=And nickname=-/- 2021-03-01..-");
}

#[test]
fn fields_the_files_do_not_carry_keep_mos_values() {
    let files = [file("Pers_ret_20210401_010000.csv", &anders_rows())];
    let mut mo = mo();
    mo.employees_by_cpr.insert(CPR.to_owned(), ANDERS.to_owned());
    mo.existing.extend([E1.to_owned(), ANDERS_EMAIL.to_owned(), ANDERS_AZ.to_owned()]);
    let validity = Validity { from: Some("2020-01-01".into()), to: None };
    mo.employees.insert(
        ANDERS.to_owned(),
        Employee {
            uuid: ANDERS.into(),
            cpr_number: Some(CPR.into()),
            given_name: "Anders".into(),
            surname: "And".into(),
            nickname_given_name: Some("Andy".into()),
            nickname_surname: None,
            validity: validity.clone(),
        },
    );
    let mut extensions = vec![None; 10];
    extensions[1] = Some("Lønklasse 31".to_owned());
    mo.engagements.insert(
        E1.to_owned(),
        Engagement {
            uuid: E1.into(),
            user_key: "K1".into(),
            person: ANDERS.into(),
            org_unit: A.into(),
            job_function: None,
            engagement_type: None,
            primary: None,
            is_primary: true,
            extensions: extensions.clone(),
            validity: validity.clone(),
        },
    );
    let plan = run(&files, &mo, &no_dar());
    let objects: Vec<&Object> = plan
        .batches
        .iter()
        .flat_map(|batch| &batch.changes)
        .filter_map(|change| match change {
            Change::Create(object) | Change::Update(object) => Some(object),
            Change::Terminate(_) => None,
        })
        .collect();
    let employee = objects.iter().find_map(|o| if let Object::Employee(e) = o { Some(e) } else { None }).unwrap();
    assert_eq!(employee.nickname_given_name.as_deref(), Some("Andy"), "an update sends the whole record");
    let engagement =
        objects.iter().find_map(|o| if let Object::Engagement(e) = o { (e.uuid == E1).then_some(e) } else { None });
    assert_eq!(engagement.unwrap().extensions, extensions);
}
