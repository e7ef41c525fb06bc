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

/// `println!` for what a command answers on stdout, except that a reader gone away (`moport runs
/// | head`) is not moport's failure: the rest is dropped, where `println!` would panic. A run's
/// work is done or recorded before it prints, and a job goes on to its next plugin.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` as [`say!`] is `println!`.
macro_rules! say_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

pub mod cli;
pub mod fixture;
pub mod ledger;
pub mod logging;
pub mod metrics;
pub mod sdk;
pub mod template;

/// Where `cargo build` placed the components of this workspace's plugin crates (`build.rs`),
/// the tests' own among them, for tests and benchmarks that name it as `[host] components`.
/// Nothing in the `moport` binary looks there: an installed moport must not depend on the
/// machine it was built on.
pub const BUILT_PLUGINS_DIR: &str = env!("MOPORT_BUILT_PLUGINS");

/// The shipped plugins' components, built by build.rs and carried in the binary.
pub static SHIPPED_COMPONENTS: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/shipped_components.rs"));

/// Where a component plugins.toml names without `[host] components` is found: in
/// `<prefix>/lib/moport/plugins/` beside an installed `<prefix>/bin/moport` (a release
/// tarball's layout), else built into moport.
pub fn built_plugins() -> &'static moport_manifest::BuiltComponents {
    static BUILT: std::sync::OnceLock<moport_manifest::BuiltComponents> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        // Never a relative folder: that would be the working folder's, anyone's.
        let prefix = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.to_owned()));
        moport_manifest::BuiltComponents {
            folder: prefix.filter(|prefix| prefix.is_absolute()).map(|prefix| prefix.join("lib/moport/plugins")),
            builtin: SHIPPED_COMPONENTS,
        }
    })
}

/// The allocator of every program built on the host: `moport`, its tests and its benchmarks, so
/// the benchmarks measure what operators run. With glibc's malloc, over half the native
/// export's profile was the allocator; BENCHMARKS.md has the figures with and without.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
