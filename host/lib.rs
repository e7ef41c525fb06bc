//! moport: runs sandboxed WebAssembly component plugins for OS2mo.
//!
//! The host owns every side effect; a plugin is pure logic that reaches MO, files and the
//! network only through the WIT capabilities in `wit/`, as far as plugins.toml grants them.
//! This crate is the `moport` program: its commands, logging and progress bars, `moport test`'s
//! fixtures and `moport new`'s template, over the runtime (`moport-runtime`) and the crates
//! under it (see docs/architecture.md).

/// `From` each of `$error` for `$target` through its `Run` variant: errors a command meets
/// where a run would, shown and coded as that run's error.
macro_rules! as_run_error {
    ($target:ident: $($error:ty),*) => {$(
        impl From<$error> for $target {
            fn from(err: $error) -> $target {
                $target::Run(err.into())
            }
        }
    )*};
}

pub mod cli;
pub mod fixture;
pub mod ledger;
pub mod logging;
pub mod template;

/// Where `cargo build` placed the components of this workspace's plugin crates (`build.rs`): the
/// components plugins.toml names are taken from here unless `[host] components` says otherwise.
pub const BUILT_PLUGINS_DIR: &str = env!("MOPORT_BUILT_PLUGINS");

/// [`BUILT_PLUGINS_DIR`] as a path, for [`moport_manifest::Manifest::load`].
pub fn built_plugins() -> &'static std::path::Path {
    std::path::Path::new(BUILT_PLUGINS_DIR)
}

/// The allocator of every program built on the host: `moport`, its tests and its benchmarks, so
/// the benchmarks measure what operators run. With glibc's malloc, over half the native
/// export's profile was the allocator; BENCHMARKS.md has the figures with and without.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
