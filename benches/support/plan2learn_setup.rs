//! plan2learn set up on a generated municipality, for the benchmarks that run it.

#![allow(dead_code)] // each bench uses its own part of it

use moport::BUILT_PLUGINS_DIR;
use moport_mo::snapshot::SnapshotFile;
use serde_json::{Value, json};
use std::path::Path;

/// The plan2learn settings of the shipped plugins.toml, for this generated municipality.
pub fn settings(file: &SnapshotFile) -> Value {
    let class = |key: &str| file.classes.iter().find(|c| c.user_key == key).expect("a generated class").uuid.clone();
    let root = file.org_units.iter().find(|u| u.parent.is_none()).expect("a root unit").uuid.clone();
    json!({
        "exporters.plan2learn.variant": "Viborg",
        "exporters.plan2learn.root_unit": root,
        "exporters.plan2learn.allowed_engagement_types": [class("ansat"), class("timeloennet")],
        "integrations.SD_Lon.import.too_deep": [],
        "plan2learn.phone.priority": [class("PhoneEmployee")],
        "plan2learn.email.priority": [class("EmailEmployee")],
    })
}

pub fn write_manifest(dir: &Path, file: &SnapshotFile) {
    let mut text = format!(
        "[host]\ncomponents = {BUILT_PLUGINS_DIR:?}\n[plugins.plan2learn]\ncomponent = \"plan2learn.wasm\"\n\
         grants = {{ mo = \"read\", files = \"out\", remote = [\"outbox\"] }}\nlimits = {{ memory = \"4GiB\", time = \"10m\", output = \"4GiB\" }}\n\
         [plugins.plan2learn.settings]\n"
    );
    let outbox = "[targets.outbox]\nkind = \"local\"\npath = \"outbox\"\ncreate = true\n";
    for (key, value) in settings(file).as_object().expect("an object") {
        text.push_str(&format!("{key:?} = {value}\n"));
    }
    text.push_str(outbox);
    std::fs::write(dir.join("plugins.toml"), text).expect("plugins.toml written");
}
