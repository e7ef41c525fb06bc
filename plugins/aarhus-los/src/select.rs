//! Which files on the server a run imports, and in what order (§3.5).
//!
//! A file is new when the server modified it after the last successful run; STAM files have fixed
//! names, delta files carry a date in their name (`Org_nye_20210128_123742.csv`), which orders
//! them and is the date their changes take effect.

/// DIPEX's state file, for taking over from DIPEX: its last import as an RFC 3339 UTC time.
pub use crate::dates::parse_dipex_state;
use crate::dates::{Date, Instant};
use std::fmt;

/// The nine STAM files, in the order they are imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stam {
    EngagementType,
    UnitType,
    JobFunction,
    JobFunctionBvn,
    Responsibility,
    ManagerLevel,
    ManagerType,
    AssociationType,
    ItSystem,
}

impl Stam {
    pub const ALL: [Stam; 9] = [
        Stam::EngagementType,
        Stam::UnitType,
        Stam::JobFunction,
        Stam::JobFunctionBvn,
        Stam::Responsibility,
        Stam::ManagerLevel,
        Stam::ManagerType,
        Stam::AssociationType,
        Stam::ItSystem,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Stam::EngagementType => "STAM_UUID_Engagementstype.csv",
            Stam::UnitType => "STAM_UUID_Enhedstype.csv",
            Stam::JobFunction => "STAM_UUID_Stillingsbetegnelse.csv",
            Stam::JobFunctionBvn => "STAM_UUID_BVN_Stillingsbetegnelse.csv",
            Stam::Responsibility => "STAM_UUID_Lederansvar.csv",
            Stam::ManagerLevel => "STAM_UUID_Lederniveau.csv",
            Stam::ManagerType => "STAM_UUID_Ledertype.csv",
            Stam::AssociationType => "STAM_UUID_Tilknytningsrolle.csv",
            Stam::ItSystem => "STAM_UUID_ITSystem.csv",
        }
    }

    /// The facet a class file fills; `None` for the IT system file.
    pub fn facet(self) -> Option<&'static str> {
        match self {
            Stam::EngagementType => Some("engagement_type"),
            Stam::UnitType => Some("org_unit_type"),
            Stam::JobFunction => Some("engagement_job_function"),
            Stam::JobFunctionBvn => Some("engagement_job_function_bvn"),
            Stam::Responsibility => Some("responsibility"),
            Stam::ManagerLevel => Some("manager_level"),
            Stam::ManagerType => Some("manager_type"),
            Stam::AssociationType => Some("association_type"),
            Stam::ItSystem => None,
        }
    }
}

/// What a file holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Stam(Stam),
    OrgInitial,
    OrgNew,
    OrgChange,
    PersNew,
    PersChange,
    PersEnd,
    LederNew,
    LederChange,
    LederEnd,
}

/// The delta-file prefixes in processing order; DIPEX matches them with a case-sensitive
/// `startswith` and nothing else (`Org_inital` is DIPEX's spelling).
pub const PREFIXES: [(&str, FileKind); 9] = [
    ("Org_inital", FileKind::OrgInitial),
    ("Org_nye", FileKind::OrgNew),
    ("Org_ret", FileKind::OrgChange),
    ("Pers_nye", FileKind::PersNew),
    ("Pers_ret", FileKind::PersChange),
    ("Pers_luk", FileKind::PersEnd),
    ("Leder_nye", FileKind::LederNew),
    ("Leder_ret", FileKind::LederChange),
    ("Leder_luk", FileKind::LederEnd),
];

impl FileKind {
    /// Position in the run: STAM files first, then the delta kinds grouped as DIPEX groups them.
    fn rank(self) -> usize {
        match self {
            FileKind::Stam(stam) => stam as usize,
            delta => {
                Stam::ALL.len()
                    + PREFIXES.iter().position(|(_, kind)| *kind == delta).expect("every delta kind has a prefix")
            }
        }
    }

    fn of(name: &str) -> Option<(FileKind, Option<&'static str>)> {
        if let Some(stam) = Stam::ALL.into_iter().find(|stam| stam.file_name() == name) {
            return Some((FileKind::Stam(stam), None));
        }
        PREFIXES.into_iter().find(|(prefix, _)| name.starts_with(prefix)).map(|(prefix, kind)| (kind, Some(prefix)))
    }
}

/// A file as the remote target lists it (a folder's name ends in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    /// The server's modification time, RFC 3339 with any offset.
    pub modified: Option<String>,
}

/// A file to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedFile {
    pub name: String,
    pub kind: FileKind,
    /// The date in a delta file's name (its time of day only orders files); `None` for STAM files.
    /// Displays as `YYYY-MM-DD`.
    pub filedate: Option<Date>,
}

/// A listing the run cannot go on with; the message names the file and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectError(pub String);

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The files modified after `last_import` (RFC 3339; `None` on the first run: all files), in
/// processing order. Files and folders of no known kind are ignored; a folder named as a LOS
/// file is an error, as the run would otherwise pass it by. Every problem is reported.
pub fn select(listed: &[Listed], last_import: Option<&str>) -> Result<Vec<SelectedFile>, Vec<SelectError>> {
    let mut errors = Vec::new();
    let last_import = match last_import.map(|text| (text, Instant::parse_rfc3339(text))) {
        Some((text, None)) => {
            return Err(vec![SelectError(format!(
                "the last import time {text:?} is not an RFC 3339 time like 2024-01-02T08:00:00Z; clear the plugin's state to import every file again"
            ))]);
        }
        Some((_, instant)) => instant,
        None => None,
    };
    let mut selected = Vec::new();
    for file in listed {
        if let Some(folder) = file.name.strip_suffix('/') {
            if FileKind::of(folder).is_some() {
                errors.push(SelectError(format!(
                    "{folder}: a folder, not a file; the LOS files must lie directly in the import folder"
                )));
            }
            continue;
        }
        let Some((kind, prefix)) = FileKind::of(&file.name) else { continue };
        // DIPEX parsed the name of every prefixed file, new or not, and stopped on a bad one.
        let name_time = match prefix.map(|prefix| (prefix, name_date(&file.name))) {
            Some((prefix, None)) => {
                errors.push(SelectError(format!(
                    "{}: the name does not end in a date and time; expected {prefix}_YYYYMMDD_HHMMSS.csv",
                    file.name
                )));
                continue;
            }
            Some((_, date)) => date,
            None => None,
        };
        let modified = match &file.modified {
            None => {
                errors.push(SelectError(format!(
                    "{}: the server gives no modification time, which decides whether the file is new",
                    file.name
                )));
                continue;
            }
            Some(text) => match Instant::parse_rfc3339(text) {
                Some(instant) => instant,
                None => {
                    errors.push(SelectError(format!(
                        "{}: the modification time {text:?} is not an RFC 3339 time like 2024-01-02T08:00:00Z",
                        file.name
                    )));
                    continue;
                }
            },
        };
        // DIPEX compared naive local times with UTC FTP times (§16.2); these are instants.
        if last_import.is_none_or(|last| modified > last) {
            selected.push((
                kind.rank(),
                name_time,
                SelectedFile { name: file.name.clone(), kind, filedate: name_time.map(|(date, _)| date) },
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Stable, as Python's sort: equal name dates keep the listing order.
    selected.sort_by_key(|(rank, name_time, _)| (*rank, *name_time));
    Ok(selected.into_iter().map(|(_, _, file)| file).collect())
}

/// The `%Y%m%d_%H%M%S` just before a 4-character extension: `name[-19:-4]` in DIPEX.
fn name_date(name: &str) -> Option<(Date, u32)> {
    let stamp = name.get(name.len().checked_sub(19)?..name.len() - 4)?.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = stamp.get(range)?;
        digits.iter().all(u8::is_ascii_digit).then(|| std::str::from_utf8(digits).ok()?.parse().ok())?
    };
    if stamp.get(8) != Some(&b'_') {
        return None;
    }
    let date = Date::new(number(0..4)? as i32, number(4..6)?, number(6..8)?)?;
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    (hour < 24 && minute < 60 && second < 60).then_some((date, hour * 3600 + minute * 60 + second))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str, modified: &str) -> Listed {
        Listed { name: name.to_owned(), modified: Some(modified.to_owned()) }
    }

    fn names(files: &[SelectedFile]) -> Vec<&str> {
        files.iter().map(|file| file.name.as_str()).collect()
    }

    const LAST_IMPORT: &str = "2020-06-01T00:00:00Z";

    #[test]
    fn only_exact_prefixes_are_selected() {
        let files = [
            listed("xxxxOrg_nye_20210128_123742.csv", "2021-01-28T12:37:42Z"),
            listed("Org_nye_20210128_123742.csv", "2021-01-28T12:37:42Z"),
            listed("garbagebagasdasdads", "2021-01-28T12:37:42Z"),
            listed("org_nye_20210128_123742.csv", "2021-01-28T12:37:42Z"),
        ];
        let selected = select(&files, Some(LAST_IMPORT)).unwrap();
        assert_eq!(names(&selected), ["Org_nye_20210128_123742.csv"]);
        assert_eq!(selected[0].kind, FileKind::OrgNew);
        assert_eq!(selected[0].filedate.unwrap().to_string(), "2021-01-28");
    }

    #[test]
    fn the_modification_time_decides_and_the_name_date_is_returned() {
        // §14 test_filters_dates_correctly, one file at a time.
        let cases = [
            ("Org_nye_20200128_123742.csv", "2020-01-28T12:37:42Z", None),
            ("Org_nye_20201028_123742.csv", "2020-10-28T12:37:42Z", Some("2020-10-28")),
            ("Org_nye_20210128_123742.csv", "2021-01-28T12:37:42Z", Some("2021-01-28")),
            ("Org_nye_20210128_123742.csv", "2020-01-28T12:37:42Z", None),
            ("Org_nye_20200128_123742.csv", "2021-01-28T12:37:42Z", Some("2020-01-28")),
        ];
        for (name, modified, expected) in cases {
            let selected = select(&[listed(name, modified)], Some(LAST_IMPORT)).unwrap();
            let filedate = selected.first().map(|file| file.filedate.unwrap().to_string());
            assert_eq!(filedate.as_deref(), expected, "{name} modified {modified}");
        }
    }

    #[test]
    fn newer_means_strictly_later_as_instants_in_any_offset() {
        let name = "Leder_nye_20200101_000001.csv";
        assert!(select(&[listed(name, "2020-01-01T00:00:00Z")], Some("2020-01-01T00:00:00Z")).unwrap().is_empty());
        assert!(select(&[listed(name, "2020-01-01T01:00:00+01:00")], Some("2020-01-01T00:00:00Z")).unwrap().is_empty());
        assert_eq!(
            select(&[listed(name, "2020-01-01T01:00:01+01:00")], Some("2020-01-01T00:00:00Z")).unwrap().len(),
            1
        );
        assert_eq!(select(&[listed(name, "1999-01-01T00:00:00Z")], None).unwrap().len(), 1, "a first run takes all");
    }

    #[test]
    fn files_come_grouped_by_kind_then_sorted_by_name_date() {
        let modified = "2022-01-01T00:00:00Z";
        let files = [
            listed("Org_nye_20210101_000000.csv", modified),
            listed("Pers_nye_20180101_000000.csv", modified),
            listed("Org_nye_20190101_000000.csv", modified),
            listed("Org_ret_20180101_000000.csv", modified),
            listed("Org_nye_20200101_000000.csv", modified),
            listed("Org_nye_20180101_000000.csv", modified),
            listed("Leder_luk_20170101_000000.csv", modified),
            listed("STAM_UUID_ITSystem.csv", modified),
            listed("Org_inital_20220101_000000.csv", modified),
            listed("STAM_UUID_Enhedstype.csv", modified),
            listed("Org_nye_20190101_000000_b.csv", modified),
        ];
        let selected = select(&files, None);
        // The last name has no date where DIPEX looks for one.
        assert_eq!(
            selected.unwrap_err(),
            [SelectError(
                "Org_nye_20190101_000000_b.csv: the name does not end in a date and time; expected Org_nye_YYYYMMDD_HHMMSS.csv"
                    .to_owned()
            )]
        );
        let selected = select(&files[..10], None).unwrap();
        assert_eq!(
            names(&selected),
            [
                "STAM_UUID_Enhedstype.csv",
                "STAM_UUID_ITSystem.csv",
                "Org_inital_20220101_000000.csv",
                "Org_nye_20180101_000000.csv",
                "Org_nye_20190101_000000.csv",
                "Org_nye_20200101_000000.csv",
                "Org_nye_20210101_000000.csv",
                "Org_ret_20180101_000000.csv",
                "Pers_nye_20180101_000000.csv",
                "Leder_luk_20170101_000000.csv",
            ]
        );
        assert_eq!(selected[0].filedate, None);
    }

    #[test]
    fn equal_name_dates_keep_the_listing_order_and_the_time_of_day_orders() {
        let modified = "2022-01-01T00:00:00Z";
        let files = [
            listed("Pers_ret_20210101_120000.csv", modified),
            listed("Pers_ret_20210101_080000.csv", modified),
            listed("Pers_ret_b_20210101_080000.csv", modified),
        ];
        let selected = select(&files, None).unwrap();
        assert_eq!(
            names(&selected),
            ["Pers_ret_20210101_080000.csv", "Pers_ret_b_20210101_080000.csv", "Pers_ret_20210101_120000.csv"]
        );
    }

    #[test]
    fn stam_files_are_filtered_by_modification_time_only() {
        let files = [
            listed("STAM_UUID_Lederansvar.csv", "2020-01-02T00:00:00Z"),
            listed("STAM_UUID_Lederniveau.csv", "2020-01-01T00:00:00Z"),
            listed("STAM_UUID_Ledertype_old.csv", "2020-01-02T00:00:00Z"),
        ];
        let selected = select(&files, Some("2020-01-01T00:00:00Z")).unwrap();
        assert_eq!(names(&selected), ["STAM_UUID_Lederansvar.csv"]);
        assert_eq!(selected[0].kind, FileKind::Stam(Stam::Responsibility));
    }

    #[test]
    fn a_folder_named_as_a_los_file_is_an_error_and_other_folders_are_passed_by() {
        let files = [
            listed("archive/", "2021-01-28T12:37:42Z"),
            listed("Org_nye_20210128_123742.csv/", "2021-01-28T12:37:42Z"),
            listed("STAM_UUID_Enhedstype.csv/", "2021-01-28T12:37:42Z"),
            listed("Pers_nye_20210128_123742.csv", "2021-01-28T12:37:42Z"),
        ];
        let errors: Vec<String> = select(&files, None).unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("Org_nye_20210128_123742.csv: a folder, not a file"), "{errors:?}");
        assert!(errors[1].starts_with("STAM_UUID_Enhedstype.csv: a folder"), "{errors:?}");
        let names_only = [
            listed("archive/", "2021-01-28T12:37:42Z"),
            listed("Pers_nye_20210128_123742.csv", "2021-01-28T12:37:42Z"),
        ];
        assert_eq!(names(&select(&names_only, None).unwrap()), ["Pers_nye_20210128_123742.csv"]);
    }

    #[test]
    fn listing_problems_name_the_file_and_are_all_reported() {
        let files = [
            Listed { name: "Pers_luk_20210601_010000.csv".to_owned(), modified: None },
            listed("Leder_ret_2023-03-01.csv", "2023-03-01T00:00:00Z"),
            listed("Leder_nye_20230230_000000.csv", "2023-03-01T00:00:00Z"),
            listed("STAM_UUID_ITSystem.csv", "yesterday"),
        ];
        let errors: Vec<String> = select(&files, None).unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 4);
        assert!(errors[0].starts_with("Pers_luk_20210601_010000.csv: the server gives no modification time"));
        assert!(errors[1].contains("expected Leder_ret_YYYYMMDD_HHMMSS.csv"));
        assert!(errors[2].contains("expected Leder_nye_YYYYMMDD_HHMMSS.csv"), "30 February");
        assert!(errors[3].contains("\"yesterday\" is not an RFC 3339 time"));
        assert!(select(&[], Some("2020-01-01")).unwrap_err()[0].0.contains("clear the plugin's state"));
    }

    #[test]
    fn dipex_state_converts_to_a_last_import_that_selects_later_files() {
        let last_import = parse_dipex_state("2023-03-07T11:57:32.123456").unwrap();
        assert_eq!(last_import, "2023-03-07T10:57:32.123456Z");
        let name = "Org_ret_20230307_115800.csv";
        assert!(select(&[listed(name, "2023-03-07T10:57:32Z")], Some(&last_import)).unwrap().is_empty());
        assert_eq!(select(&[listed(name, "2023-03-07T11:58:00+01:00")], Some(&last_import)).unwrap().len(), 1);
        assert_eq!(parse_dipex_state("2023-08-07T11:57:32").unwrap(), "2023-08-07T09:57:32Z");
    }
}
