//! Typed rows of every LOS file kind (§5.1-§5.6), read with the field rules DIPEX's pydantic
//! models apply, and every bad cell of every row reported with file, line and column.

use crate::csv::{self, Cell, Record, Table};
use crate::dates::{BadDate, Date, parse_org_date, parse_pydantic_datetime};
use crate::error::RowError;
use crate::select::{FileKind, SelectedFile, Stam};
use moport_sdk::uuid;

/// A row of a STAM class file: the class UUID and its text (user key and name alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRow {
    pub line: usize,
    pub uuid: String,
    pub text: String,
}

/// A row of `STAM_UUID_ITSystem.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItSystemRow {
    pub line: usize,
    pub uuid: String,
    pub name: String,
    pub user_key: String,
}

/// A row of `Org_inital`, `Org_nye` and `Org_ret` files: one validity of a unit and its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnitRow {
    pub line: usize,
    pub user_key: String,
    pub name: Option<String>,
    pub uuid: String,
    pub parent: String,
    pub unit_type: Option<String>,
    /// `Med-i-LinjeOrg`: the unit belongs to the line organisation.
    pub in_line_organisation: bool,
    pub los_id: Option<String>,
    pub cvr: Option<String>,
    pub ean: Option<String>,
    pub p_number: Option<String>,
    pub se_number: Option<String>,
    pub int_debitor_number: Option<String>,
    pub mag_id: Option<String>,
    pub post_address: Option<String>,
    pub start: Date,
    /// Inclusive last day; 9999-12-31 is the open end.
    pub last_day: Date,
}

/// A row of `Pers_nye` and `Pers_ret` files: one engagement of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub line: usize,
    pub engagement: String,
    pub user_key: String,
    /// As written: DIPEX derives UUIDs from the raw text.
    pub cpr: String,
    pub name: String,
    pub start: Date,
    /// Inclusive last day; 9999-12-31 is the open end.
    pub last_day: Date,
    pub email: Option<String>,
    pub primary: bool,
    pub org_unit: String,
    pub engagement_type: String,
    pub azid: Option<String>,
    pub job_function: String,
}

/// A row of a `Pers_luk` file: the engagement to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonEndRow {
    pub line: usize,
    pub engagement: String,
}

/// A row of `Leder_nye` and `Leder_ret` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerRow {
    pub line: usize,
    pub org_unit: String,
    pub cpr: String,
    pub manager_type: String,
    pub manager_level: String,
    pub responsibility: String,
}

/// A row of a `Leder_luk` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerEndRow {
    pub line: usize,
    pub org_unit: String,
    pub cpr: String,
}

/// The rows of one file; the variant follows from the file's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rows {
    /// A STAM class file and the facet it fills.
    Classes {
        facet: &'static str,
        rows: Vec<ClassRow>,
    },
    ItSystems(Vec<ItSystemRow>),
    OrgUnits(Vec<OrgUnitRow>),
    Persons(Vec<PersonRow>),
    PersonEnds(Vec<PersonEndRow>),
    Managers(Vec<ManagerRow>),
    ManagerEnds(Vec<ManagerEndRow>),
}

/// A selected file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub name: String,
    pub kind: FileKind,
    pub filedate: Option<Date>,
    pub header: Vec<String>,
    pub rows: Rows,
}

impl ParsedFile {
    /// Reads `bytes` as the kind of file `file` is. Every bad row is reported, not just the first.
    pub fn parse(file: &SelectedFile, bytes: &[u8]) -> Result<ParsedFile, Vec<RowError>> {
        let name = file.name.as_str();
        let (header, rows) = match file.kind {
            FileKind::Stam(stam) => match (stam.facet(), class_columns(stam)) {
                (Some(facet), Some((uuid_column, text_column, with_loadtime))) => {
                    let required = [uuid_column, text_column, LOADTIME];
                    let required = if with_loadtime { &required[..] } else { &required[..2] };
                    read(name, bytes, required, |f| {
                        let (uuid, text) = (f.uuid(uuid_column), f.text(text_column));
                        // Required by DIPEX's model though never used; a bad one still stops the file.
                        let loadtime = if with_loadtime { f.datetime(LOADTIME).map(|_| ()) } else { Some(()) };
                        loadtime?;
                        Some(ClassRow { line: f.line(), uuid: uuid?, text: text? })
                    })
                    .map(|(header, rows)| (header, Rows::Classes { facet, rows }))?
                }
                _ => read(name, bytes, &["ITSystemUUID", "Name", "Userkey"], |f| {
                    let (uuid, name, user_key) = (f.uuid("ITSystemUUID"), f.text("Name"), f.text("Userkey"));
                    Some(ItSystemRow { line: f.line(), uuid: uuid?, name: name?, user_key: user_key? })
                })
                .map(|(header, rows)| (header, Rows::ItSystems(rows)))?,
            },
            FileKind::OrgInitial | FileKind::OrgNew | FileKind::OrgChange => {
                read(name, bytes, &ORG_REQUIRED, org_unit_row).map(|(header, rows)| (header, Rows::OrgUnits(rows)))?
            }
            FileKind::PersNew | FileKind::PersChange => {
                read(name, bytes, &PERSON_REQUIRED, person_row).map(|(header, rows)| (header, Rows::Persons(rows)))?
            }
            FileKind::PersEnd => read(name, bytes, &["UUID", "CPR", "CPRNavn"], |f| {
                let (engagement, cpr, name) = (f.uuid("UUID"), f.text("CPR"), f.text("CPRNavn"));
                cpr.and(name)?;
                Some(PersonEndRow { line: f.line(), engagement: engagement? })
            })
            .map(|(header, rows)| (header, Rows::PersonEnds(rows)))?,
            FileKind::LederNew | FileKind::LederChange => read(name, bytes, &MANAGER_REQUIRED, manager_row)
                .map(|(header, rows)| (header, Rows::Managers(rows)))?,
            FileKind::LederEnd => read(name, bytes, &["OrgUUID", "CPR"], |f| {
                let (org_unit, cpr) = (f.uuid("OrgUUID"), f.cpr("CPR"));
                Some(ManagerEndRow { line: f.line(), org_unit: org_unit?, cpr: cpr? })
            })
            .map(|(header, rows)| (header, Rows::ManagerEnds(rows)))?,
        };
        Ok(ParsedFile { name: file.name.clone(), kind: file.kind, filedate: file.filedate, header, rows })
    }

    /// The optional columns this file lacks: every row reads them as empty, as DIPEX read them,
    /// which an operator should hear about (a renamed `Email` column ends every e-mail update).
    pub fn missing_optional_columns(&self) -> Vec<&'static str> {
        let optional: &[&str] = match self.kind {
            FileKind::OrgInitial | FileKind::OrgNew | FileKind::OrgChange => &ORG_OPTIONAL,
            FileKind::PersNew | FileKind::PersChange => &PERSON_OPTIONAL,
            _ => &[],
        };
        optional.iter().copied().filter(|column| !self.header.iter().any(|name| name == column)).collect()
    }

    /// The column (1-based number and name) with this header, to point errors found later at.
    pub fn column(&self, header: &str) -> Option<(usize, String)> {
        self.header.iter().position(|name| name == header).map(|index| (index + 1, header.to_owned()))
    }
}

const LOADTIME: &str = "Loadtime";

/// The UUID column, the text column and whether `Loadtime` is required, per class file.
fn class_columns(stam: Stam) -> Option<(&'static str, &'static str, bool)> {
    Some(match stam {
        Stam::EngagementType => ("EngagementstypeUUID", "Engagementstype", false),
        Stam::UnitType => ("EnhedstypeUUID", "Enhedstype", false),
        Stam::JobFunction => ("StillingBetUUID", "Stillingsbetegnelse", false),
        Stam::JobFunctionBvn => ("BVNStillingBetUUID", "BVNStillingsbetegnelse", false),
        Stam::Responsibility => ("LederansvarUUID", "Lederansvar", true),
        Stam::ManagerLevel => ("LederniveauUUID", "Lederniveau", true),
        Stam::ManagerType => ("LedertypeUUID", "Ledertype", true),
        Stam::AssociationType => ("TilknytningsrolleUUID", "Tilknytningsrolle", true),
        Stam::ItSystem => return None,
    })
}

const ORG_REQUIRED: [&str; 5] = ["BrugervendtNøgle", "OrgUUID", "ParentUUID", "StartDato", "SlutDato"];
const ORG_OPTIONAL: [&str; 11] = [
    "OrgEnhedsNavn",
    "OrgEnhedsTypeUUID",
    "Med-i-LinjeOrg",
    "LOSID",
    "CVR",
    "EAN",
    "P-Nr",
    "SE-Nr",
    "IntDebitor-Nr",
    "MagID",
    "PostAdresse",
];
const PERSON_OPTIONAL: [&str; 2] = ["Email", "AZID"];

fn org_unit_row(f: &mut Fields) -> Option<OrgUnitRow> {
    let user_key = f.text("BrugervendtNøgle");
    let name = f.optional("OrgEnhedsNavn");
    let uuid = f.uuid("OrgUUID");
    let parent = f.uuid("ParentUUID");
    let unit_type = f.optional_uuid("OrgEnhedsTypeUUID");
    // A wrongly cased header (`Med-i-Linjeorg`) is an unknown column, hence false, as in DIPEX.
    let in_line_organisation = f.flag("Med-i-LinjeOrg");
    let start = f.org_date("StartDato");
    let last_day = f.org_date("SlutDato");
    let last_day = f.ends_after_start(start, last_day, "SlutDato", "StartDato")?;
    Some(OrgUnitRow {
        line: f.line(),
        user_key: user_key?,
        name,
        uuid: uuid?,
        parent: parent?,
        unit_type: unit_type?,
        in_line_organisation: in_line_organisation?,
        los_id: f.optional("LOSID"),
        cvr: f.optional("CVR"),
        ean: f.optional("EAN"),
        p_number: f.optional("P-Nr"),
        se_number: f.optional("SE-Nr"),
        int_debitor_number: f.optional("IntDebitor-Nr"),
        mag_id: f.optional("MagID"),
        post_address: f.optional("PostAdresse"),
        start: start?,
        last_day: last_day?,
    })
}

const PERSON_REQUIRED: [&str; 10] = [
    "UUID",
    "BrugervendtNøgle",
    "CPR",
    "CPRNavn",
    "StartTid",
    "SlutTid",
    "PrimærAnsættelse",
    "OrgenhedUUID",
    "EngagementTypeUUID",
    "StillingsBetegnelseUUID",
];

fn person_row(f: &mut Fields) -> Option<PersonRow> {
    let engagement = f.uuid("UUID");
    let user_key = f.text("BrugervendtNøgle");
    let cpr = f.cpr("CPR");
    let name = f.text("CPRNavn");
    let start = f.datetime("StartTid");
    let last_day = f.datetime("SlutTid");
    let primary = f.yes_no("PrimærAnsættelse");
    let org_unit = f.uuid("OrgenhedUUID");
    let engagement_type = f.uuid("EngagementTypeUUID");
    let job_function = f.uuid("StillingsBetegnelseUUID");
    let last_day = f.ends_after_start(start, last_day, "SlutTid", "StartTid")?;
    Some(PersonRow {
        line: f.line(),
        engagement: engagement?,
        user_key: user_key?,
        cpr: cpr?,
        name: name?,
        start: start?,
        last_day: last_day?,
        email: f.optional("Email"),
        primary: primary?,
        org_unit: org_unit?,
        engagement_type: engagement_type?,
        azid: f.optional("AZID"),
        job_function: job_function?,
    })
}

const MANAGER_REQUIRED: [&str; 5] = ["OrgUUID", "CPR", "LedertypeUUID", "LederniveauUUID", "LederansvarUUID"];

fn manager_row(f: &mut Fields) -> Option<ManagerRow> {
    let org_unit = f.uuid("OrgUUID");
    let cpr = f.cpr("CPR");
    let manager_type = f.uuid("LedertypeUUID");
    let manager_level = f.uuid("LederniveauUUID");
    let responsibility = f.uuid("LederansvarUUID");
    Some(ManagerRow {
        line: f.line(),
        org_unit: org_unit?,
        cpr: cpr?,
        manager_type: manager_type?,
        manager_level: manager_level?,
        responsibility: responsibility?,
    })
}

/// Reads the table, checks the required headers, and builds every record with `build`, which
/// reads every field before giving up so that all bad cells of a row are reported.
fn read<T>(
    file: &str,
    bytes: &[u8],
    required: &[&str],
    build: impl Fn(&mut Fields) -> Option<T>,
) -> Result<(Vec<String>, Vec<T>), Vec<RowError>> {
    let table = csv::read(file, bytes)?;
    let missing: Vec<&str> = required.iter().copied().filter(|name| table.column(name).is_none()).collect();
    if !missing.is_empty() {
        let quoted =
            |names: &mut dyn Iterator<Item = &str>| names.map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
        return Err(vec![RowError::new(
            file,
            1,
            None,
            format!(
                "the header lacks the required column {}; the header has {}; names must match exactly, case and æøå included",
                quoted(&mut missing.iter().copied()),
                quoted(&mut table.header.iter().map(String::as_str)),
            ),
        )]);
    }
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for record in &table.records {
        let mut fields = Fields { file, table: &table, record, errors: Vec::new() };
        let row = build(&mut fields);
        match (row, fields.errors.is_empty()) {
            (Some(row), true) => rows.push(row),
            _ => errors.append(&mut fields.errors),
        }
    }
    if errors.is_empty() { Ok((table.header.clone(), rows)) } else { Err(errors) }
}

/// The cells of one record, read by header name; each reader notes what is wrong with its cell.
struct Fields<'a> {
    file: &'a str,
    table: &'a Table,
    record: &'a Record,
    errors: Vec<RowError>,
}

const BOOLEAN_FORMS: &str =
    "1/0, true/false, t/f, yes/no, y/n, on/off or ja/nej (any case), or an empty cell for false";
const ORG_DATE_FORMS: &str = "DD-MM-YYYY (e.g. 31-12-2020) or YYYY-MM-DD HH:MM:SS.ffffff";
const DATETIME_FORMS: &str = "YYYY-MM-DD HH:MM[:SS] (e.g. 2021-03-01 00:00:00, `T` also allowed) or a Unix timestamp";

impl<'a> Fields<'a> {
    fn line(&self) -> usize {
        self.record.line
    }

    fn cell(&self, header: &str) -> Option<Cell<'a>> {
        self.table.column(header).map(|index| self.table.cell(self.record, index))
    }

    fn refuse(&mut self, cell: &Cell, message: String) {
        self.errors.push(RowError::new(
            self.file,
            self.record.line,
            Some((cell.column, cell.header.to_owned())),
            message,
        ));
    }

    fn optional(&self, header: &str) -> Option<String> {
        self.cell(header).and_then(|cell| cell.text).map(str::to_owned)
    }

    /// A cell the row cannot do without: absent or empty is an error saying what belongs there.
    fn required(&mut self, header: &str, expected: &str) -> Option<(Cell<'a>, &'a str)> {
        let cell = self.cell(header)?;
        match cell.text {
            Some(text) => Some((cell, text)),
            None => {
                self.refuse(&cell, format!("the cell is empty; expected {expected}"));
                None
            }
        }
    }

    fn text(&mut self, header: &str) -> Option<String> {
        self.required(header, "a value").map(|(_, text)| text.to_owned())
    }

    /// MO takes a CPR number of exactly ten digits. Spaces around them (DIPEX kept them, and made
    /// the person's uuid from them) are dropped, so the person is the one the same digits give
    /// without spaces. A bad one is described, never shown: the report may not hold a CPR number.
    fn cpr(&mut self, header: &str) -> Option<String> {
        let (cell, text) = self.required(header, "a CPR number of ten digits")?;
        let digits = text.trim();
        if digits.len() == 10 && digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Some(digits.to_owned());
        }
        let (length, numerals) = (digits.chars().count(), digits.chars().filter(char::is_ascii_digit).count());
        self.refuse(
            &cell,
            format!(
                "not a CPR number: {length} characters, {numerals} of them digits; expected ten digits (DDMMYYNNNN)"
            ),
        );
        None
    }

    fn check_uuid(&mut self, cell: &Cell, text: &str) -> Option<String> {
        let uuid = uuid::normalize(text);
        if uuid.is_none() {
            self.refuse(cell, format!("{text:?} is not a UUID; expected 8-4-4-4-12 hex digits"));
        }
        uuid
    }

    fn uuid(&mut self, header: &str) -> Option<String> {
        let (cell, text) = self.required(header, "a UUID (8-4-4-4-12 hex digits)")?;
        self.check_uuid(&cell, text)
    }

    /// `Some(None)` for an empty cell, `None` for a bad one.
    fn optional_uuid(&mut self, header: &str) -> Option<Option<String>> {
        match self.cell(header) {
            Some(cell @ Cell { text: Some(text), .. }) => self.check_uuid(&cell, text).map(Some),
            _ => Some(None),
        }
    }

    /// pydantic v1's booleans, plus the Danish words the files would naturally hold.
    fn flag(&mut self, header: &str) -> Option<bool> {
        let Some(cell @ Cell { text: Some(text), .. }) = self.cell(header) else { return Some(false) };
        // DIPEX refused `ja`/`nej`; moport reads them, as any Danish user would expect.
        match text.to_lowercase().as_str() {
            "1" | "true" | "t" | "yes" | "y" | "on" | "ja" => Some(true),
            "0" | "false" | "f" | "no" | "n" | "off" | "nej" => Some(false),
            _ => {
                self.refuse(&cell, format!("{text:?} is not true or false; expected {BOOLEAN_FORMS}"));
                None
            }
        }
    }

    /// `PrimærAnsættelse`: DIPEX looked `Ja`/`Nej` up exactly and crashed on anything else.
    fn yes_no(&mut self, header: &str) -> Option<bool> {
        let (cell, text) = self.required(header, "Ja or Nej")?;
        // DIPEX: exactly `Ja`/`Nej`, else a KeyError crash; moport: any case, else a row error.
        match text.to_lowercase().as_str() {
            "ja" => Some(true),
            "nej" => Some(false),
            _ => {
                self.refuse(&cell, format!("{text:?} is neither Ja nor Nej; expected Ja (primary engagement) or Nej"));
                None
            }
        }
    }

    fn date_with(&mut self, header: &str, forms: &str, parse: fn(&str) -> Result<Date, BadDate>) -> Option<Date> {
        let (cell, text) = self.required(header, forms)?;
        match parse(text) {
            Ok(date) => Some(date),
            Err(BadDate::Shape) => {
                self.refuse(&cell, format!("{text:?} is not a date in a form DIPEX reads; expected {forms}"));
                None
            }
            Err(BadDate::NotInCalendar) => {
                self.refuse(
                    &cell,
                    format!("{text:?} names a day or time that does not exist; expected a real one, {forms}"),
                );
                None
            }
        }
    }

    /// A period's last day may not come before its first: MO cannot hold such a validity.
    /// `None` when either date is bad (already reported) or the order is wrong.
    fn ends_after_start(
        &mut self,
        start: Option<Date>,
        last_day: Option<Date>,
        end: &str,
        begin: &str,
    ) -> Option<Option<Date>> {
        match (start, last_day) {
            (Some(start), Some(last_day)) if last_day < start => {
                let cell = self.cell(end)?;
                self.refuse(&cell, format!("the period ends on {last_day}, before {begin} {start}; expected a last day on or after the first"));
                None
            }
            _ => Some(last_day),
        }
    }

    fn org_date(&mut self, header: &str) -> Option<Date> {
        self.date_with(header, ORG_DATE_FORMS, parse_org_date)
    }

    fn datetime(&mut self, header: &str) -> Option<Date> {
        self.date_with(header, DATETIME_FORMS, parse_pydantic_datetime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG_HEADER: &str = "BrugervendtNøgle;OrgEnhedsNavn;OrgUUID;ParentUUID;OrgEnhedsTypeUUID;Med-i-LinjeOrg;LOSID;CVR;EAN;P-Nr;SE-Nr;IntDebitor-Nr;MagID;PostAdresse;StartDato;SlutDato";
    const PERSON_HEADER: &str = "UUID;BrugervendtNøgle;CPR;CPRNavn;StartTid;SlutTid;Email;PrimærAnsættelse;OrgenhedUUID;EngagementTypeUUID;AZID;StillingsBetegnelseUUID";
    const MANAGER_HEADER: &str = "OrgUUID;CPR;LedertypeUUID;LederniveauUUID;LederansvarUUID";
    const A: &str = "aaaaaaaa-0000-0000-0000-000000000001";
    const P: &str = "aaaaaaaa-0000-0000-0000-000000000000";
    const T: &str = "cccccccc-0000-0000-0000-000000000001";

    fn selected(name: &str, kind: FileKind) -> SelectedFile {
        SelectedFile { name: name.to_owned(), kind, filedate: Date::parse("2024-01-02") }
    }

    fn kind_of(name: &str) -> FileKind {
        crate::select::select(
            &[crate::select::Listed { name: name.to_owned(), modified: Some("2024-01-02T00:00:00Z".into()) }],
            None,
        )
        .unwrap()[0]
            .kind
    }

    fn parse(name: &str, text: &str) -> Result<ParsedFile, Vec<RowError>> {
        ParsedFile::parse(&selected(name, kind_of(name)), text.as_bytes())
    }

    fn org_row(cells: &str) -> String {
        format!("{ORG_HEADER}\n{cells}\n")
    }

    fn person_row(primary: &str, start: &str, end: &str) -> String {
        format!("{PERSON_HEADER}\n{A};K1;0101011234;Anders And;{start};{end};;{primary};{A};{T};;{T}\n")
    }

    #[test]
    fn good_rows_of_every_kind_parse() {
        let org = parse(
            "Org_nye_20240102_080000.csv",
            &org_row(&format!("1001;Enhed A;{};{P};;1;L1;;;;;;;Testvej 1;1-1-2020;31-12-9999", A.to_uppercase())),
        )
        .unwrap();
        let Rows::OrgUnits(rows) = &org.rows else { panic!("{org:?}") };
        assert_eq!(rows[0].uuid, A, "UUIDs are normalised to lower case");
        assert!(rows[0].in_line_organisation);
        assert_eq!((rows[0].unit_type.as_deref(), rows[0].cvr.as_deref()), (None, None));
        assert_eq!(rows[0].last_day, crate::dates::end_of_time());
        assert_eq!(org.column("PostAdresse"), Some((14, "PostAdresse".to_owned())));

        let persons =
            parse("Pers_nye_20240102_080000.csv", &person_row("nej", "2021-03-01 00:00:00", "1640908800")).unwrap();
        let Rows::Persons(rows) = &persons.rows else { panic!() };
        assert!(!rows[0].primary);
        assert_eq!(rows[0].last_day.to_string(), "2021-12-31");

        let stam = parse(
            "STAM_UUID_Lederansvar.csv",
            &format!("LederansvarUUID;Lederansvar;Loadtime\n{A};Personale;2023-04-01 14:37:22.643\n"),
        )
        .unwrap();
        assert_eq!(
            stam.rows,
            Rows::Classes {
                facet: "responsibility",
                rows: vec![ClassRow { line: 2, uuid: A.into(), text: "Personale".into() }]
            }
        );
        let systems =
            parse("STAM_UUID_ITSystem.csv", &format!("ITSystemUUID;Name;Userkey\n{A};Active Directory;AD\n")).unwrap();
        assert_eq!(
            systems.rows,
            Rows::ItSystems(vec![ItSystemRow {
                line: 2,
                uuid: A.into(),
                name: "Active Directory".into(),
                user_key: "AD".into()
            }])
        );
        let ends =
            parse("Pers_luk_20210601_010000.csv", &format!("UUID;CPR;CPRNavn\n{A};0101011234;Anders And\n")).unwrap();
        assert_eq!(ends.rows, Rows::PersonEnds(vec![PersonEndRow { line: 2, engagement: A.into() }]));
        let managers =
            parse("Leder_nye_20230301_000000.csv", &format!("{MANAGER_HEADER}\n{A};0101011234;{T};{T};{T}\n")).unwrap();
        let Rows::Managers(rows) = &managers.rows else { panic!() };
        assert_eq!(rows[0].cpr, "0101011234");
        let manager_ends = parse("Leder_luk_20230301_000000.csv", &format!("OrgUUID;CPR\n{A};0101011234\n")).unwrap();
        assert_eq!(
            manager_ends.rows,
            Rows::ManagerEnds(vec![ManagerEndRow { line: 2, org_unit: A.into(), cpr: "0101011234".into() }])
        );
    }

    #[test]
    fn spaces_around_a_cpr_number_are_dropped_so_the_person_is_the_same() {
        let spaced =
            person_row("Ja", "2021-03-01 00:00", "9999-12-31 00:00:00").replace(";0101011234;", "; 0101011234\t;");
        let persons = parse("Pers_nye_20210301_010000.csv", &spaced).unwrap();
        let Rows::Persons(rows) = &persons.rows else { panic!() };
        assert_eq!(rows[0].cpr, "0101011234");
        let managers =
            parse("Leder_nye_20230301_000000.csv", &format!("{MANAGER_HEADER}\n{A}; 0101011234 ;{T};{T};{T}\n"))
                .unwrap();
        let Rows::Managers(rows) = &managers.rows else { panic!() };
        assert_eq!(rows[0].cpr, "0101011234");
    }

    #[test]
    fn the_optional_columns_a_file_lacks_are_named() {
        let full =
            parse("Pers_nye_20210301_010000.csv", &person_row("Ja", "2021-03-01 00:00", "9999-12-31 00:00")).unwrap();
        assert!(full.missing_optional_columns().is_empty());
        let text = person_row("Ja", "2021-03-01 00:00", "9999-12-31 00:00").replacen(";Email;", ";E-mail;", 1);
        let renamed = parse("Pers_nye_20210301_010000.csv", &text).unwrap();
        assert_eq!(renamed.missing_optional_columns(), ["Email"]);
        let org = parse("Org_nye_20240102_080000.csv", &format!("{}\n", ORG_REQUIRED.join(";"))).unwrap();
        assert_eq!(org.missing_optional_columns(), ORG_OPTIONAL);
    }

    #[test]
    fn a_bom_and_a_wrongly_cased_line_org_header_are_accepted() {
        let text = org_row(&format!("1001;Enhed A;{A};{P};;1;;;;;;;;;01-01-2020;31-12-2020"))
            .replace("Med-i-LinjeOrg", "Med-i-Linjeorg");
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let parsed = ParsedFile::parse(&selected("Org_nye_20240102_080000.csv", FileKind::OrgNew), &bytes).unwrap();
        let Rows::OrgUnits(rows) = &parsed.rows else { panic!() };
        // DIPEX reads the unknown column as absent, hence false; so does moport.
        assert!(!rows[0].in_line_organisation);
        assert_eq!(parsed.header[0], "BrugervendtNøgle");
    }

    /// (file name, file text, where: `file:line[:column (header)]`, message fragment)
    fn malformed() -> Vec<(&'static str, String, &'static str, &'static str)> {
        let org = "Org_nye_20240102_080000.csv";
        let org_cells = |parent: &str, flag: &str, start: &str, end: &str| {
            org_row(&format!("1001;Enhed A;{A};{parent};;{flag};;;;;;;;;{start};{end}"))
        };
        let ok_org = |start: &str| org_cells(P, "", start, "31-12-9999");
        let pers = "Pers_ret_20240102_080000.csv";
        let ok_pers = |start: &str| person_row("Ja", start, "9999-12-31 00:00:00");
        vec![
            (
                org,
                org_cells("xyz", "", "01-01-2020", "31-12-2020"),
                "Org_nye_20240102_080000.csv:2:4 (ParentUUID)",
                "\"xyz\" is not a UUID; expected 8-4-4-4-12 hex digits",
            ),
            (
                org,
                org_cells("aaaaaaaa-0000-0000-0000-00000000000", "", "01-01-2020", "31-12-2020"),
                ":2:4 (ParentUUID)",
                "is not a UUID",
            ),
            (
                org,
                org_cells(&format!(" {P}"), "", "01-01-2020", "31-12-2020"),
                ":2:4 (ParentUUID)",
                "\" aaaaaaaa-0000-0000-0000-000000000000\" is not a UUID",
            ),
            (
                org,
                org_cells("gggggggg-0000-0000-0000-000000000000", "", "01-01-2020", "31-12-2020"),
                ":2:4 (ParentUUID)",
                "is not a UUID",
            ),
            (
                org,
                org_cells(&P.replace('-', ""), "", "01-01-2020", "31-12-2020"),
                ":2:4 (ParentUUID)",
                "expected 8-4-4-4-12",
            ),
            (
                org,
                org_cells(P, "Måske", "01-01-2020", "31-12-2020"),
                ":2:6 (Med-i-LinjeOrg)",
                "\"Måske\" is not true or false; expected 1/0",
            ),
            (org, org_cells(P, "J", "01-01-2020", "31-12-2020"), ":2:6 (Med-i-LinjeOrg)", "ja/nej (any case)"),
            (org, org_cells(P, " 1", "01-01-2020", "31-12-2020"), ":2:6 (Med-i-LinjeOrg)", "not true or false"),
            (
                org,
                ok_org("2020-01-01"),
                ":2:15 (StartDato)",
                "\"2020-01-01\" is not a date in a form DIPEX reads; expected DD-MM-YYYY",
            ),
            (
                org,
                ok_org("2020-01-01 00:00:00"),
                ":2:15 (StartDato)",
                "expected DD-MM-YYYY (e.g. 31-12-2020) or YYYY-MM-DD HH:MM:SS.ffffff",
            ),
            (org, ok_org("01/01/2020"), ":2:15 (StartDato)", "not a date in a form"),
            (org, ok_org("01-01-20"), ":2:15 (StartDato)", "not a date in a form"),
            (org, ok_org("30-02-2021"), ":2:15 (StartDato)", "\"30-02-2021\" names a day or time that does not exist"),
            (org, ok_org("2021-13-01 00:00:00.0"), ":2:15 (StartDato)", "does not exist"),
            (org, org_cells(P, "", "01-01-2020", ""), ":2:16 (SlutDato)", "the cell is empty; expected DD-MM-YYYY"),
            (
                org,
                org_row(&format!(";Enhed A;{A};{P};;;;;;;;;;;01-01-2020;31-12-2020")),
                ":2:1 (BrugervendtNøgle)",
                "the cell is empty; expected a value",
            ),
            (org, org_row(&format!("1001;Enhed A;{A};{P}")), ":2:15 (StartDato)", "the cell is empty"),
            (
                org,
                org_row(&format!("1001;Enhed A;{A};{P};x;;;;;;;;;;01-01-2020;31-12-2020")),
                ":2:5 (OrgEnhedsTypeUUID)",
                "\"x\" is not a UUID",
            ),
            (
                org,
                format!("{}\n", ORG_HEADER.replace("ParentUUID", "parentUUID")),
                "Org_nye_20240102_080000.csv:1: ",
                "the header lacks the required column \"ParentUUID\"; the header has \"BrugervendtNøgle\"",
            ),
            (
                org,
                format!("{ORG_HEADER}\n1001;\"Enhed A;{A}\n"),
                "Org_nye_20240102_080000.csv:2: ",
                "a quoted cell is never closed",
            ),
            (
                org,
                org_row(&format!("1001;Enhed A;{A};{P};;;;;;;;;;;01-01-2020;31-12-2020;extra")),
                "Org_nye_20240102_080000.csv:2: ",
                "17 cells but the header has 16 columns",
            ),
            (
                pers,
                person_row("Måske", "2021-03-01 00:00:00", "9999-12-31 00:00:00"),
                "Pers_ret_20240102_080000.csv:2:8 (PrimærAnsættelse)",
                "\"Måske\" is neither Ja nor Nej; expected Ja (primary engagement) or Nej",
            ),
            (
                pers,
                person_row("", "2021-03-01 00:00:00", "9999-12-31 00:00:00"),
                ":2:8 (PrimærAnsættelse)",
                "the cell is empty; expected Ja or Nej",
            ),
            (
                pers,
                ok_pers("2021-03-01"),
                ":2:5 (StartTid)",
                "\"2021-03-01\" is not a date in a form DIPEX reads; expected YYYY-MM-DD HH:MM[:SS]",
            ),
            (pers, ok_pers("01-03-2021"), ":2:5 (StartTid)", "or a Unix timestamp"),
            (pers, ok_pers("01-03-2021 00:00:00"), ":2:5 (StartTid)", "not a date in a form"),
            (pers, ok_pers("2021-02-30 00:00:00"), ":2:5 (StartTid)", "does not exist"),
            (pers, ok_pers("2021-03-01 25:00"), ":2:5 (StartTid)", "does not exist"),
            (pers, ok_pers("2021-03-01 00:00:00+25:00"), ":2:5 (StartTid)", "does not exist"),
            (pers, ok_pers("2021-03-01 00:00:00 CET"), ":2:5 (StartTid)", "not a date in a form"),
            (
                pers,
                person_row("Ja", "2021-03-01 00:00", "").replace(";Anders And;", ";;"),
                ":2:4 (CPRNavn)",
                "the cell is empty; expected a value",
            ),
            (
                pers,
                ok_pers("2021-03-01 00:00").replacen(";AZID", "", 1),
                "Pers_ret_20240102_080000.csv:2: ",
                "12 cells but the header has 11 columns",
            ),
            (
                pers,
                format!("{}\n", PERSON_HEADER.replace("Ansættelse", "Ansaettelse")),
                "Pers_ret_20240102_080000.csv:1: ",
                "lacks the required column \"PrimærAnsættelse\"",
            ),
            (
                pers,
                person_row("Ja", "2021-03-01 00:00", "9999-12-31 00:00:00").replace(";0101011234;", ";010101-1234;"),
                ":2:3 (CPR)",
                "not a CPR number: 11 characters, 10 of them digits; expected ten digits (DDMMYYNNNN)",
            ),
            (
                pers,
                person_row("Ja", "2021-03-01 00:00", "9999-12-31 00:00:00").replace(";0101011234;", ";010101123;"),
                ":2:3 (CPR)",
                "not a CPR number: 9 characters, 9 of them digits",
            ),
            ("Pers_luk_20240102_080000.csv", "UUID;CPR\n".to_owned(), ":1: ", "the required column \"CPRNavn\""),
            (
                "Leder_luk_20240102_080000.csv",
                format!("OrgUUID;CPR\n{A};01010112345\n"),
                ":2:2 (CPR)",
                "not a CPR number: 11 characters, 11 of them digits",
            ),
            (
                "Leder_nye_20240102_080000.csv",
                format!("{MANAGER_HEADER}\n{A};0101011234;{T};;{T}\n"),
                "Leder_nye_20240102_080000.csv:2:4 (LederniveauUUID)",
                "the cell is empty; expected a UUID",
            ),
            (
                "Leder_luk_20240102_080000.csv",
                "OrgUUID;CPR\nnot-a-uuid;0101011234\n".to_owned(),
                ":2:1 (OrgUUID)",
                "\"not-a-uuid\" is not a UUID",
            ),
            (
                "STAM_UUID_Ledertype.csv",
                format!("LedertypeUUID;Ledertype;Loadtime\n{A};Leder;2023-04-01\n"),
                "STAM_UUID_Ledertype.csv:2:3 (Loadtime)",
                "not a date in a form",
            ),
            (
                "STAM_UUID_Ledertype.csv",
                format!("LedertypeUUID;Ledertype\n{A};Leder\n"),
                "STAM_UUID_Ledertype.csv:1: ",
                "the required column \"Loadtime\"",
            ),
            (
                "STAM_UUID_Enhedstype.csv",
                format!("EnhedstypeUUID;Enhedstype\n{A};\n"),
                ":2:2 (Enhedstype)",
                "the cell is empty",
            ),
            (
                "STAM_UUID_ITSystem.csv",
                "ITSystemUUID;Name;Userkey\n{x};AD;AD\n".to_owned(),
                ":2:1 (ITSystemUUID)",
                "\"{x}\" is not a UUID",
            ),
            (
                "STAM_UUID_Enhedstype.csv",
                "EnhedstypeUUID;Enhedstype\n\u{0}".to_owned() + "x;\u{fffd}\n",
                ":2:1 (EnhedstypeUUID)",
                "is not a UUID",
            ),
        ]
    }

    #[test]
    fn every_malformed_input_is_reported_where_it_is_with_what_was_expected() {
        let cases = malformed();
        assert!(cases.len() >= 30);
        for (name, text, place, fragment) in cases {
            let errors = parse(name, &text).expect_err(&format!("{name}: {text}"));
            let shown = errors[0].to_string();
            assert!(
                shown.contains(place) && shown.contains(fragment),
                "{name}: {text:?}\n  got {shown}\n  want {place} … {fragment}"
            );
            assert!(shown.starts_with(name), "{shown}");
            assert!(!shown.contains("010101123"), "a report never shows a CPR number: {shown}");
        }
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut bytes = format!("{ORG_HEADER}\n").into_bytes();
        bytes.extend_from_slice(b"1001;Enhed \xe6;x\n");
        let errors = ParsedFile::parse(&selected("Org_nye_20240102_080000.csv", FileKind::OrgNew), &bytes).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "Org_nye_20240102_080000.csv:2: the line is not UTF-8; save the file as UTF-8"
        );
    }

    #[test]
    fn every_bad_cell_of_every_bad_row_is_reported() {
        let text = format!(
            "{ORG_HEADER}\n1001;A;{A};{P};;;;;;;;;;;01-01-2020;31-12-2020\n1002;B;xyz;{P};;;;;;;;;;;2020-01-01;31-12-2020\n\"1003\nmulti\";C;{A};{P};;;;;;;;;;;01-01-2020;31-12-2020\n1004;D;{A};{P};;kanske;;;;;;;;;01-01-2020;31-02-2020\n"
        );
        let errors = parse("Org_ret_20240102_080000.csv", &text).unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let places: Vec<(usize, Option<usize>)> =
            errors.iter().map(|e| (e.line, e.column.as_ref().map(|c| c.0))).collect();
        assert_eq!(places, [(3, Some(3)), (3, Some(15)), (6, Some(6)), (6, Some(16))], "{shown:#?}");
    }

    #[test]
    fn booleans_and_yes_no_take_any_case() {
        for (text, expected) in
            [("TRUE", true), ("Yes", true), ("JA", true), ("on", true), ("Nej", false), ("off", false), ("0", false)]
        {
            let parsed = parse(
                "Org_nye_20240102_080000.csv",
                &org_row(&format!("1;N;{A};{P};;{text};;;;;;;;;01-01-2020;31-12-2020")),
            )
            .unwrap();
            let Rows::OrgUnits(rows) = parsed.rows else { panic!() };
            assert_eq!(rows[0].in_line_organisation, expected, "{text}");
        }
        for (text, expected) in [("Ja", true), ("JA", true), ("nej", false)] {
            let parsed =
                parse("Pers_nye_20240102_080000.csv", &person_row(text, "2021-03-01T00:00", "2021-12-31T00:00"))
                    .unwrap();
            let Rows::Persons(rows) = parsed.rows else { panic!() };
            assert_eq!(rows[0].primary, expected, "{text}");
        }
    }
}
