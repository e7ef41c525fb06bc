//! Host-side bindings of the WIT contract in `wit/`, generated for the `importer` world (the
//! superset of both worlds). Each capability module implements its interface's `Host` trait.

wasmtime::component::bindgen!({
    world: "importer",
    path: "wit",
    imports: { default: async | trappable },
    exports: { default: async },
    // The snapshot file format is made of these records, so the WIT stays the one contract.
    additional_derives: [serde::Serialize, serde::Deserialize],
});

pub use self::moport::host::types::{CallError, PluginError, Report, RunContext};
