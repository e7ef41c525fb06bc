//! A plugin built against `moport:host@0.9.0`, which this host does not provide.

wit_bindgen::generate!({ world: "exporter", path: "wit" });

struct Future;

impl exports::moport::host::plugin::Guest for Future {
    fn run(ctx: moport::host::types::RunContext) -> Result<String, String> {
        Ok(format!("{} ran", ctx.plugin))
    }
}

#[cfg(target_arch = "wasm32")]
export!(Future);
