//! Host-side bindings of the WIT contract in `wit/`, generated for the `importer` world (the
//! superset of both worlds). Each capability module implements its interface's `Host` trait.

wasmtime::component::bindgen!({
    world: "importer",
    path: "wit",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::moport::host::types::{CallError, PluginError, Report, RunContext};
