//! The demo's LOS files, and LOS files delivered after them (tests/fixtures/los-after-demo), where moport differs
//! from DIPEX on purpose (docs/aarhus-los.md): an `Org_nye` row for a unit MO has and a
//! `Pers_nye` row for a CPR number MO has, under new names from 2026-06-01 (DIPEX overwrote
//! their whole history, moport keeps it before that day; the CPR has spaces around it), and a
//! `STAM_UUID_ITSystem.csv` that renames the AZ system and changes only the user key of another
//! (DIPEX renamed the AZ system back on every run and ignored the user key).

use moport_mo::snapshot::SnapshotFile;
use std::path::Path;

const FILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/los-after-demo");
const UNIT: &str = "2ed91635-f70f-5c77-8d30-9df999433a7a";
const CPR: &str = "0101701234";
const AZ_SYSTEM: &str = "c750b872-3760-6f4a-f599-7b3b8ef5255c";
const OPUS_SYSTEM: &str = "1636e9f0-2a1f-5df3-8f4d-9191d4aa452f";

/// Copies the demo's LOS files into `folder`, delivered an hour before the run, as a night's
/// files are: a file modified in the second a run starts counts as new on the next run too
/// (adapter.rs), which would make a second run that follows within a second import it again.
pub fn deliver_demo(folder: &Path) {
    let delivered = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/los")).unwrap() {
        let entry = entry.unwrap();
        let copy = folder.join(entry.file_name());
        std::fs::copy(entry.path(), &copy).unwrap();
        std::fs::File::options().write(true).open(&copy).unwrap().set_modified(delivered).unwrap();
    }
}

/// Copies the files into the LOS folder `los` (replacing its `STAM_UUID_ITSystem.csv`), modified
/// now, and waits until the second they were written is over, so that the next run takes them
/// and the run after it does not.
pub fn deliver(los: &Path) {
    for entry in std::fs::read_dir(FILES).unwrap() {
        let entry = entry.unwrap();
        std::fs::write(los.join(entry.file_name()), std::fs::read(entry.path()).unwrap()).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(2100));
}

/// (from, to, value) of each validity, in order of start.
fn history<T>(
    records: impl Iterator<Item = T>,
    shown: impl Fn(&T) -> (Option<String>, Option<String>, String),
) -> Vec<(Option<String>, Option<String>, String)> {
    let mut rows: Vec<_> = records.map(|record| shown(&record)).collect();
    rows.sort();
    rows
}

/// What MO holds after the demo's files and these, as moport writes them.
pub fn assert_history_kept(mo: &SnapshotFile) {
    let june = Some("2026-06-01".to_owned());
    let unit = history(mo.org_units.iter().filter(|u| u.uuid == UNIT), |u| {
        (u.validity.from.clone(), u.validity.to.clone(), u.name.clone())
    });
    let names: Vec<(&Option<String>, &str)> = unit.iter().map(|(from, _, name)| (from, name.as_str())).collect();
    assert_eq!(
        names,
        [(&Some("2026-03-01".to_owned()), "Dagtilbud Syd"), (&june, "Dagtilbud Syd og Vest")],
        "Org_nye renames the unit from its StartDato and keeps what it was before: {unit:?}"
    );
    assert_eq!(unit[0].1, june);

    let person = history(mo.employees.iter().filter(|e| e.cpr_number.as_deref() == Some(CPR)), |e| {
        (e.validity.from.clone(), e.validity.to.clone(), format!("{} {}", e.given_name, e.surname))
    });
    let last_two: Vec<(&Option<String>, &str)> =
        person.iter().rev().take(2).rev().map(|(_, to, name)| (to, name.as_str())).collect();
    assert_eq!(
        last_two,
        [(&june, "Mette Frederiksen Holm"), (&None, "Mette Holm")],
        "Pers_nye renames the person (found by the CPR without its spaces) from StartTid on: {person:?}"
    );
    assert_eq!(person.last().unwrap().0, june);
    assert!(
        mo.employees.iter().all(|e| e.cpr_number.as_deref().is_none_or(|cpr| cpr.trim() == cpr)),
        "no CPR number is stored with spaces"
    );

    let system = |uuid: &str| mo.it_systems.iter().find(|s| s.uuid == uuid).unwrap_or_else(|| panic!("{uuid}"));
    let (az, opus) = (system(AZ_SYSTEM), system(OPUS_SYSTEM));
    assert_eq!((az.name.as_str(), az.user_key.as_str()), ("AZ-ident", "AZ"), "the file's name stays");
    assert_eq!((opus.name.as_str(), opus.user_key.as_str()), ("OPUS Løn", "OPUS-LØN"), "a new user key is written");
    for listed in [az, opus] {
        assert_eq!((&listed.validity.from, &listed.validity.to), (&None, &None), "{listed:?} is valid always");
    }
    assert_eq!(mo.it_systems.iter().filter(|s| s.uuid == AZ_SYSTEM || s.uuid == OPUS_SYSTEM).count(), 2);
}
