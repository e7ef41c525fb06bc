//! Per-run resource limits: memory through wasmtime's `ResourceLimiter`, time through epoch
//! interruption plus a timeout around the run, output bytes in the `files` capability.

use moport_manifest::{ByteSize, Span};
use thiserror::Error;
use wasmtime::ResourceLimiter;

/// A limit a plugin ran into. Raised as a trap, it ends the run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LimitExceeded {
    #[error("memory limit of {limit} (limits.memory) reached: it asked for {requested} bytes of memory")]
    Memory { limit: ByteSize, requested: u64 },
    #[error("time limit of {limit} (limits.time) reached")]
    Time { limit: Span },
    #[error(
        "output limit of {limit} (limits.output) reached: writing `{path}` would bring this run's output to {would_be} bytes"
    )]
    Output { limit: ByteSize, path: String, would_be: u64 },
}

/// Caps a store's linear memory; growing past the cap traps with [`LimitExceeded::Memory`].
pub struct RunLimiter {
    memory: ByteSize,
}

/// Tables hold function references; no sane plugin needs more than this many entries.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

impl RunLimiter {
    pub fn new(memory: ByteSize) -> Self {
        RunLimiter { memory }
    }
}

impl ResourceLimiter for RunLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory.0 {
            return Err(LimitExceeded::Memory { limit: self.memory, requested: desired as u64 }.into());
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
