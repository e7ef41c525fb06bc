//! Aarhus LOS importer figures on generated LOS files: 10,000 org-unit rows (5,000 units with two
//! periods each) and 30,000 person rows (24,000 persons) unless MOPORT_BENCH_LOS_UNITS and
//! MOPORT_BENCH_LOS_PERSONS say otherwise. `cargo bench --bench aarhus_los` prints:
//!
//! - the plan worked out natively (select, read, plan: the pure library), median of 5;
//! - the compiled plugin run through the host against the MO stand-in over GraphQL v30: a dry
//!   run, the first import, a second run (nothing new), and a replay of every file after
//!   `state clear`, each with its time, GraphQL requests and mutation requests.

#[path = "../tests/support/http.rs"]
mod http;
#[path = "../tests/support/mo_standin.rs"]
mod mo_standin;
#[path = "support/stats.rs"]
mod stats;

use aarhus_los::dates::Date;
use aarhus_los::plan::{self, MoView};
use aarhus_los::rows::ParsedFile;
use aarhus_los::select::{self, Listed};
use aarhus_los::settings::Settings;
use moport::caps::mo::MoSource;
use moport::caps::mo::graphql::{GraphqlSource, Mode};
use moport::caps::mo::snapshot::Snapshot;
use moport::caps::state::StateStore;
use moport::engine::cache::ComponentCache;
use moport::manifest::Manifest;
use moport::{Host, RunOptions, RunOutcome};
use stats::{ms, sample};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

const ROUNDS: usize = 5;
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

fn main() {
    let units = env_count("MOPORT_BENCH_LOS_UNITS", 5_000);
    let persons = env_count("MOPORT_BENCH_LOS_PERSONS", 24_000);
    let work = tempfile::tempdir().expect("a temporary folder");
    let los = work.path().join("los");
    let (unit_rows, person_rows) = generate(&los, &work.path().join("dar.csv"), units, persons);
    println!(
        "Aarhus LOS importer figures: {unit_rows} org-unit rows ({units} units), {person_rows} person rows \
         ({persons} persons), median [min .. max]"
    );

    let (plan_ms, changes) = native_plan(&los);
    println!("plan, natively (select, read, plan)     {} for {changes} changes", ms(&plan_ms));

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let empty = Snapshot::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini-mo.json"))
        .expect("the fixture loads");
    let standin = runtime.block_on(mo_standin::MoStandin::start(empty.file(), std::time::Duration::from_secs(3600)));
    let source = GraphqlSource::new(standin.settings(), Mode::Cache, mo_standin::quick_retries())
        .expect("the stand-in's settings");
    write_manifest(work.path());
    let host = Host::new(
        Manifest::load(&work.path().join("plugins.toml")).expect("the bench manifest"),
        ComponentCache::new(Some(work.path().join("cache"))),
    )
    .expect("a host")
    .with_mo(MoSource::Graphql(Arc::new(source)));
    let store = StateStore::new(&work.path().join("state"), "aarhus-los");

    let run = |label: &str, dry_run: bool| {
        let counters = &standin.counters;
        let (requests, mutations, micros) =
            (&counters.graphql_requests, &counters.mutation_requests, &counters.mutation_micros);
        let (requests_before, mutations_before, micros_before) =
            (requests.load(Ordering::SeqCst), mutations.load(Ordering::SeqCst), micros.load(Ordering::SeqCst));
        let started = Instant::now();
        let outcome: RunOutcome = runtime
            .block_on(host.run("aarhus-los", &RunOptions { dry_run, ..RunOptions::default() }))
            .expect("the import runs");
        let standin_ms = (micros.load(Ordering::SeqCst) - micros_before) as f64 / 1000.0;
        println!(
            "{label:40} {:>7.0} ms (the stand-in applying mutations: {standin_ms:.0} ms), {} GraphQL requests \
             ({} mutation requests)\n    {}",
            started.elapsed().as_secs_f64() * 1000.0,
            requests.load(Ordering::SeqCst) - requests_before,
            mutations.load(Ordering::SeqCst) - mutations_before,
            outcome.report.summary
        );
    };
    run("plugin, dry run (plan, nothing written)", true);
    run("plugin, first import", false);
    run("plugin, second run (no new files)", false);
    store.clear().expect("the state is cleared");
    run("plugin, replay of every file", false);
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The pure library on the files, as the plugin uses it, against an empty MO.
fn native_plan(los: &Path) -> (Vec<f64>, usize) {
    let settings = Settings::read(|key| (key == "source").then(|| "los".into())).expect("settings");
    let mo = MoView { organisation: Some("00000000-0000-4000-8000-000000000001".into()), ..MoView::default() };
    let today = Date::parse("2026-11-25").expect("a date");
    let mut changes = 0;
    let times = sample(ROUNDS, || {
        let started = Instant::now();
        let listed: Vec<Listed> = std::fs::read_dir(los)
            .expect("the folder")
            .map(|entry| {
                let entry = entry.expect("an entry");
                Listed {
                    name: entry.file_name().to_string_lossy().into_owned(),
                    modified: Some("2026-11-01T00:00:00Z".into()),
                }
            })
            .collect();
        let selected = select::select(&listed, None).expect("the names are good");
        let files: Vec<ParsedFile> = selected
            .iter()
            .map(|file| ParsedFile::parse(file, &std::fs::read(los.join(&file.name)).expect("read")).expect("parsed"))
            .collect();
        let dar: HashMap<String, Option<String>> =
            plan::addresses_to_look_up(&files).into_iter().map(|text| (text, None)).collect();
        let plan = plan::plan(&files, &mo, &dar, &settings, today).expect("a plan");
        changes = plan.batches.iter().map(|batch| batch.changes.len()).sum();
        started.elapsed()
    });
    (times, changes)
}

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
fn generate(los: &Path, dar_table: &Path, units: usize, persons: usize) -> (usize, usize) {
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
        let cpr = format!("{:02}{:02}{:02}{:04}", person % 28 + 1, person % 12 + 1, 50 + person % 50, person % 10_000);
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

fn write_manifest(work: &Path) {
    let manifest = "[host]\ndar = \"table:dar.csv\"\n\n\
        [plugins.aarhus-los]\ncomponent = \"aarhus-los.wasm\"\n\
        [plugins.aarhus-los.grants]\nfiles = \"out\"\nmo = \"write\"\nremote = [\"los\"]\ndar = true\nstate = true\n\
        [plugins.aarhus-los.limits]\ntime = \"30m\"\n\
        [plugins.aarhus-los.settings]\nsource = \"los\"\ndar_failures_folder = \"\"\n\n\
        [targets.los]\nkind = \"local\"\npath = \"los\"\n";
    std::fs::write(work.join("plugins.toml"), manifest).expect("written");
}
