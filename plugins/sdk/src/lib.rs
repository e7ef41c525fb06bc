//! The guest SDK for moport plugins.
//!
//! A plugin implements [`Plugin`] and calls [`export_plugin!`]; it reaches the host only through
//! the capability modules here ([`log`], [`settings`], [`files`], [`mo`], [`remote`],
//! [`state`], [`dar`]). The WIT bindings underneath are
//! generated for the `importer` world, the superset of both worlds; a component imports only the
//! interfaces it calls, so a plugin that never writes to MO is an exporter.
//!
//! Beside them are helpers that need no host, so a plugin's logic can use them in native unit
//! tests: [`csv`] (the CSV dialect DIPEX's exporters write), [`dates`] (MO's dates and
//! validities, and Copenhagen midnight as MO writes it) and [`uuid`] (checking UUIDs from
//! settings).
//!
//! Natively (`cargo test`) the capability modules are served by [`testing::TestHost`], a test
//! double of the host that runs a plugin's whole `run` on in-memory MO, files, remote targets,
//! settings, state and a fixed clock.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "importer",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "__export_moport_bindings",
        default_bindings_module: "moport_sdk::bindings",
        // MO records read from and written to JSON fixtures in plugin tests, in the snapshot
        // format's field names; `PartialEq` so tests can compare records, changes and errors.
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    });
}

/// Declares capability functions with the signatures of the WIT imports of `$interface`. In a
/// component each calls its import. Natively, where wit-bindgen's imports are `unreachable!()`,
/// each is served by the [`testing::TestHost`] running the plugin, through the same-named
/// function of `testing::capabilities`; they track the caller there, so a call outside a test
/// run panics naming the plugin's line rather than the SDK's.
macro_rules! capabilities {
    ($interface:ident: $($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;)*) => {
        $(
            $(#[$attr])*
            #[cfg_attr(not(target_arch = "wasm32"), track_caller)]
            $vis fn $name($($arg: $ty),*) $(-> $ret)? {
                #[cfg(target_arch = "wasm32")]
                {
                    crate::bindings::moport::host::$interface::$name($($arg),*)
                }
                #[cfg(not(target_arch = "wasm32"))]
                {
                    crate::testing::serve(|session| crate::testing::capabilities::$interface::$name(session, $($arg),*))
                }
            }
        )*
    };
}

pub mod csv;
pub mod dar;
pub mod dates;
mod error;
pub mod files;
pub mod log;
pub mod mo;
pub mod remote;
pub mod settings;
pub mod state;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod uuid;

pub use bindings::moport::host::types::{CallError, PluginError, Report, RunContext};

/// A moport plugin: the host calls `run` once per run.
pub trait Plugin {
    fn run(ctx: RunContext) -> Result<Report, PluginError>;
}

impl<T: Plugin> bindings::exports::moport::host::plugin::Guest for T {
    fn run(ctx: RunContext) -> Result<Report, PluginError> {
        <T as Plugin>::run(ctx)
    }
}

/// Exports a [`Plugin`] implementation as the component's entry point. On native targets it
/// exports nothing: native builds exist for unit tests, which call the plugin's logic directly or
/// run it with [`testing::TestHost::run`] (and a native linker refuses the component export
/// names, which contain `:` and `@`).
///
/// The plugin type is a unit struct: the host keeps no plugin value between calls.
///
/// ```
/// use moport_sdk::{Plugin, PluginError, Report, RunContext};
///
/// struct Hello;
///
/// impl Plugin for Hello {
///     fn run(ctx: RunContext) -> Result<Report, PluginError> {
///         Ok(Report::new(format!("hello from {}", ctx.plugin)))
///     }
/// }
///
/// moport_sdk::export_plugin!(Hello);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_moport_bindings!($plugin with_types_in $crate::bindings);
        // Natively nothing calls the plugin through the export; name it so it is not dead code.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = $plugin;
        };
    };
}

impl Report {
    /// A report with a summary line and no counters.
    pub fn new(summary: impl Into<String>) -> Self {
        Report { summary: summary.into(), counts: Vec::new() }
    }

    /// Adds a named counter.
    pub fn count(mut self, name: impl Into<String>, value: u64) -> Self {
        self.counts.push((name.into(), value));
        self
    }
}
