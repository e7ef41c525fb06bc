//! Generated LOS files for the benchmarks: `units` units with two periods each under one root
//! (ten children a unit), and `persons` persons, one in four with a second engagement, placed in
//! random units; the same files on every run.

use std::fmt::Write as _;
use std::path::Path;

const STREETS: [&str; 10] = [
    "Vestergade",
    "Østergade",
    "Nørregade",
    "Søndergade",
    "Parkvej",
    "Skolevej",
    "Kirkevej",
    "Møllevej",
    "Havnegade",
    "Bakken",
];

/// A small deterministic generator (xorshift), so every run plans the same files.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn uuid(kind: u32, n: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

/// LOS files in `los`, and a DAR table knowing 9 of every 10 addresses; the row counts.
pub fn generate(los: &Path, dar_table: &Path, units: usize, persons: usize) -> (usize, usize) {
    std::fs::create_dir_all(los).expect("a folder");
    let mut random = Random(0x5eed);
    let write = |name: &str, text: String| std::fs::write(los.join(name), text).expect("written");
    let stam = |name: &str, header: &str, kind: u32, count: usize, loadtime: bool| {
        let mut text = format!("{header}{}\r\n", if loadtime { ";Loadtime" } else { "" });
        for n in 0..count {
            let _ = write!(
                text,
                "{};{name} {n}{}\r\n",
                uuid(kind, n),
                if loadtime { ";2026-01-02 06:00:00.000" } else { "" }
            );
        }
        text
    };
    write("STAM_UUID_Enhedstype.csv", stam("Enhedstype", "EnhedstypeUUID;Enhedstype", 1, 4, false));
    write("STAM_UUID_Engagementstype.csv", stam("Engagementstype", "EngagementstypeUUID;Engagementstype", 2, 3, false));
    write("STAM_UUID_Stillingsbetegnelse.csv", stam("Stilling", "StillingBetUUID;Stillingsbetegnelse", 3, 40, false));

    let addresses: Vec<String> = (0..units / 5)
        .map(|n| format!("{} {}, 8000 Aarhus C", STREETS[n % STREETS.len()], n / STREETS.len() + 1))
        .collect();
    let mut table = String::from("text;id;street;house_number;floor;door;postcode;city\n");
    for (n, text) in addresses.iter().enumerate().filter(|(n, _)| n % 10 != 0) {
        let (street, rest) = text.split_once(", ").unwrap();
        let (name, number) = street.rsplit_once(' ').unwrap();
        let _ = writeln!(table, "{text};{};{name};{number};;;{};Aarhus C", uuid(9, n), &rest[..4]);
    }
    std::fs::write(dar_table, table).expect("written");

    let mut org = String::from(
        "BrugervendtNøgle;OrgEnhedsNavn;OrgUUID;ParentUUID;OrgEnhedsTypeUUID;Med-i-LinjeOrg;LOSID;CVR;EAN;P-Nr;SE-Nr;IntDebitor-Nr;MagID;PostAdresse;StartDato;SlutDato\r\n",
    );
    for n in 0..units {
        let parent = if n == 0 { 0 } else { n / 10 };
        let address = &addresses[random.below(addresses.len())];
        let ean = if n % 3 == 0 { format!("57980{n:08}") } else { String::new() };
        for (name, from, to) in
            [(format!("Enhed {n}"), "01-01-2015", "31-12-2019"), (format!("Enheden {n}"), "01-01-2020", "31-12-9999")]
        {
            let _ = write!(
                org,
                "{n};{name};{};{};{};1;LOS{n};;{ean};;;;;{address};{from};{to}\r\n",
                uuid(10, n),
                uuid(10, parent),
                uuid(1, n % 4)
            );
        }
    }
    write("Org_inital_20260105_060000.csv", org);

    let mut pers = String::from(
        "UUID;BrugervendtNøgle;CPR;CPRNavn;StartTid;SlutTid;Email;PrimærAnsættelse;OrgenhedUUID;EngagementTypeUUID;AZID;ADITSystemUUID;ADkonto;ADkontoUUID;StillingsBetegnelseUUID\r\n",
    );
    let mut rows = 0;
    for person in 0..persons {
        // A sequence number below 4000 dates the birth in the 1900s: MO starts a person at the
        // CPR's birth date, and a birth after the engagement's start is refused.
        let cpr = format!("{:02}{:02}{:02}{:04}", person % 28 + 1, person % 12 + 1, 50 + person % 50, person % 4_000);
        // One in four has a second engagement.
        let engagements = if person % 4 == 0 { 2 } else { 1 };
        for e in 0..engagements {
            let primary = if e == 0 { "Ja" } else { "Nej" };
            let _ = write!(
                pers,
                "{};AAK-{person}-{e};{cpr};Person {person} Efternavn;2020-01-01 00:00:00;9999-12-31 00:00:00;p{person}@aarhus.dk;{primary};{};{};AZ{person};;;;{}\r\n",
                uuid(20 + e as u32, person),
                uuid(10, random.below(units)),
                uuid(2, person % 3),
                uuid(3, person % 40)
            );
            rows += 1;
        }
    }
    write("Pers_nye_20260302_070000.csv", pers);
    (units * 2, rows)
}
