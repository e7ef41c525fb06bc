//! What `list`, `inspect` and `state show` print, for people and as JSON.

use super::*;

pub(super) fn show_state(store: &StateStore) -> Result<String, RunError> {
    let values = store.load()?;
    let mut out = format!("# {}\n", store.path().display());
    if values.is_empty() {
        out.push_str("# (empty: the plugin has not saved anything yet)\n");
    }
    for (key, value) in values {
        let _ = writeln!(out, "{key} = {value}");
    }
    Ok(out)
}

pub(super) fn list(manifest: &Manifest) -> String {
    if manifest.plugins.is_empty() {
        return format!("no plugins in {}\n", manifest.path.display());
    }
    let width = manifest.plugins.keys().map(String::len).max().unwrap_or(0).max(6);
    let mut out = format!("{:width$}  {:9}  DESCRIPTION\n", "PLUGIN", "COMPONENT");
    for (name, spec) in &manifest.plugins {
        let state = match (spec.builtin, spec.component.is_file()) {
            (Some(_), _) => "built-in",
            (None, true) => "built",
            (None, false) => "missing",
        };
        let _ = writeln!(out, "{name:width$}  {state:9}  {}", spec.description);
    }
    if manifest.plugins.values().any(|spec| spec.builtin.is_none() && !spec.component.is_file()) {
        out.push_str(
            "\nmissing components: build them (`cargo build` in the moport repository), or fix `component` or \
             [host] `components` in plugins.toml.\n",
        );
    }
    out
}

pub(super) fn inspect(loaded: &LoadedPlugin) -> String {
    let spec = &loaded.spec;
    let contract = &loaded.contract;
    let host_version = contract::host_wit_version();
    let mut out = String::new();
    let mut line = |key: &str, value: String| {
        let _ = writeln!(out, "{key:12} {value}");
    };
    line("plugin", spec.name.clone());
    if !spec.description.is_empty() {
        line("description", spec.description.clone());
    }
    let component = match spec.builtin {
        Some(_) => format!("{}, built into moport", file_name(&spec.component)),
        None => spec.component.display().to_string(),
    };
    line("component", format!("{component} ({} bytes, sha256 {})", loaded.wasm_bytes, &loaded.wasm_sha256[..16]));
    line("world", contract.world.to_string());
    line("WIT", format!("{}@{} (this moport provides {host_version})", contract::WIT_PACKAGE, contract.wit_version));
    let uses = |capability: Capability| {
        let mark = if capability.is_granted(&spec.grants) { "" } else { " (NOT GRANTED)" };
        format!("{capability}{mark}")
    };
    line("uses", contract.capabilities.iter().map(|&c| uses(c)).collect::<Vec<_>>().join(", "));
    line("grants", grants_summary(spec));
    line("limits", format!("memory {}, time {}, output {}", spec.limits.memory, spec.limits.time, spec.limits.output));
    let keys: Vec<&str> = spec.settings.keys().map(String::as_str).collect();
    line("settings", if keys.is_empty() { "(none)".to_owned() } else { keys.join(", ") });
    line(
        "load",
        format!(
            "{:.1} ms ({})",
            loaded.load_time.as_secs_f64() * 1000.0,
            match loaded.cache {
                CacheOutcome::Hit => "precompiled cache hit",
                CacheOutcome::Miss => "compiled, now cached",
                CacheOutcome::Disabled => "compiled, cache off",
            }
        ),
    );
    if let Err(err) = contract::check_grants(&spec.name, contract, &spec.grants) {
        let _ = writeln!(out, "\nthis plugin cannot run as configured: {err}");
    }
    out
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A component's file, or the name of the built-in one.
fn component_json(spec: &PluginSpec) -> serde_json::Value {
    match spec.builtin {
        Some(_) => serde_json::json!(file_name(&spec.component)),
        None => serde_json::json!(spec.component),
    }
}

pub(super) fn list_json(manifest: &Manifest) -> serde_json::Value {
    let plugins: Vec<_> = manifest
        .plugins
        .iter()
        .map(|(name, spec)| {
            serde_json::json!({
                "plugin": name, "description": spec.description, "component": component_json(spec),
                "built": spec.builtin.is_some() || spec.component.is_file(),
            })
        })
        .collect();
    serde_json::Value::Array(plugins)
}

pub(super) fn inspect_json(loaded: &LoadedPlugin) -> serde_json::Value {
    let (spec, contract) = (&loaded.spec, &loaded.contract);
    let grants = &spec.grants;
    let uses: Vec<_> = contract
        .capabilities
        .iter()
        .map(|c| serde_json::json!({"capability": c.to_string(), "granted": c.is_granted(grants)}))
        .collect();
    let mo = grants.mo.map(|access| if access == MoAccess::Write { "write" } else { "read" });
    serde_json::json!({
        "plugin": spec.name,
        "description": spec.description,
        "component": {"path": component_json(spec), "built_in": spec.builtin.is_some(), "bytes": loaded.wasm_bytes,
            "sha256": loaded.wasm_sha256},
        "world": contract.world.to_string(),
        "wit_version": contract.wit_version.to_string(),
        "host_wit_version": contract::host_wit_version().to_string(),
        "uses": uses,
        "grants": {"files": grants.files, "mo": mo, "remote": grants.remote, "dar": grants.dar, "state": grants.state},
        "limits": {
            "memory_bytes": spec.limits.memory.0, "time_seconds": spec.limits.time.0.as_secs_f64(),
            "output_bytes": spec.limits.output.0, "component_bytes": spec.limits.component.0,
        },
        "settings": spec.settings.keys().collect::<Vec<_>>(),
        "load_ms": loaded.load_time.as_secs_f64() * 1000.0,
        "cache": match loaded.cache {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Disabled => "off",
        },
        "refused": contract::check_grants(&spec.name, contract, grants).err().map(|err| err.to_string()),
    })
}

fn grants_summary(spec: &PluginSpec) -> String {
    let grants = &spec.grants;
    let mut parts = Vec::new();
    if let Some(dir) = &grants.files {
        parts.push(format!("files -> {}", dir.display()));
    }
    match grants.mo {
        Some(MoAccess::Read) => parts.push("mo read".to_owned()),
        Some(MoAccess::Write) => parts.push("mo read+write".to_owned()),
        None => {}
    }
    if !grants.remote.is_empty() {
        parts.push(format!("remote {}", grants.remote.join(", ")));
    }
    if grants.dar {
        parts.push("dar".to_owned());
    }
    if grants.state {
        parts.push("state".to_owned());
    }
    if parts.is_empty() { "none beyond log and settings".to_owned() } else { parts.join("; ") }
}
