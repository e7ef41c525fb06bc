//! The wasmtime engine and linker shared by all runs in a process, and the epoch ticker that
//! enforces time limits on code that never calls the host.

use moport_caps::HostState;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine};

/// How often the epoch advances; a time limit is enforced to within about one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Guest stack; deep enough for real plugins, small enough that runaway recursion traps fast.
const MAX_WASM_STACK: usize = 1 << 20;

pub struct PluginEngine {
    engine: Engine,
    linker: Linker<HostState>,
    /// Held for its `Drop`, which stops the thread.
    _ticker: EpochTicker,
}

impl PluginEngine {
    pub fn new() -> wasmtime::Result<PluginEngine> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.max_wasm_stack(MAX_WASM_STACK);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        // Rust guests import wasi:cli and wasi:io even when unused. The WASI context of each
        // run hands out nothing: no preopened folder, no environment, no arguments, no sockets.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        moport_caps::add_to_linker(&mut linker)?;
        let ticker = EpochTicker::start(engine.clone());
        Ok(PluginEngine { engine, linker, _ticker: ticker })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// Epoch ticks that cover `limit`, plus one for the tick in progress.
    pub fn deadline_ticks(limit: Duration) -> u64 {
        (limit.as_millis() / EPOCH_TICK.as_millis()) as u64 + 1
    }
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("moport-epoch".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("the epoch thread starts");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
