//! Per-run resource limits: memory through wasmtime's `ResourceLimiter`, time through epoch
//! interruption plus a timeout around the run, output bytes in the `files` capability.

use moport_manifest::{ByteSize, Span};
use thiserror::Error;
use wasmtime::ResourceLimiter;

/// A limit a plugin ran into. Raised as a trap, it ends the run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LimitExceeded {
    #[error(
        "memory limit of {limit} (limits.memory) reached: its memories and tables together asked for {requested} \
         bytes"
    )]
    Memory { limit: ByteSize, requested: u64 },
    #[error("memory limit of {limit} (limits.memory) reached: {what} is larger than that, and was not read")]
    Read { limit: ByteSize, what: String },
    #[error(
        "memory limit of {limit} (limits.memory) reached: one call handed the host more than that at once, and \
         the host stopped copying it"
    )]
    Call { limit: ByteSize },
    #[error("time limit of {limit} (limits.time) reached")]
    Time { limit: Span },
    #[error(
        "output limit of {limit} (limits.output) reached: writing {what} would bring this run's output to {would_be} \
         bytes"
    )]
    Output { limit: ByteSize, what: String, would_be: u64 },
    #[error("a run may write at most {limit} {what} (files in its output folder and in folders there)")]
    Count { limit: usize, what: &'static str },
}

/// What one run may write, to its output folder and to remote targets together (`limits.output`).
pub struct OutputBudget {
    limit: ByteSize,
    written: u64,
}

impl OutputBudget {
    pub fn new(limit: ByteSize) -> OutputBudget {
        OutputBudget { limit, written: 0 }
    }

    /// Whether `bytes` more, written to `what`, stay within the limit.
    pub fn allows(&self, what: impl FnOnce() -> String, bytes: usize) -> Result<(), LimitExceeded> {
        let would_be = self.written + bytes as u64;
        match would_be > self.limit.0 {
            true => Err(LimitExceeded::Output { limit: self.limit, what: what(), would_be }),
            false => Ok(()),
        }
    }

    /// Counts `bytes` written.
    pub fn spend(&mut self, bytes: usize) {
        self.written += bytes as u64;
    }
}

/// Linear memories one run may make: a Rust plugin has one; each further one is how a hostile
/// component multiplies its memory.
const MAX_MEMORIES: usize = 8;
/// Tables one run may make.
const MAX_TABLES: usize = 32;
/// Core instances one run may make (a component's modules and the shims between them).
const MAX_INSTANCES: usize = 64;
/// Elements one table may have; no sane plugin needs more function references than this.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;
/// What one table element costs the host (a function reference and its bookkeeping).
const TABLE_ELEMENT_BYTES: u64 = 16;

/// Holds one run to its memory limit across every linear memory and table it makes, and to a
/// number of memories, tables and instances; growing past the limit traps with
/// [`LimitExceeded::Memory`].
pub struct RunLimiter {
    memory: ByteSize,
    /// Bytes of every memory and table of the run, as grown so far.
    in_use: u64,
    /// What the growth being made adds, given back if it fails after all.
    pending: u64,
}

impl RunLimiter {
    pub fn new(memory: ByteSize) -> Self {
        RunLimiter { memory, in_use: 0, pending: 0 }
    }

    /// The limit that bounds what one host call may hand the plugin at once.
    pub fn memory(&self) -> ByteSize {
        self.memory
    }

    fn grow(&mut self, current_bytes: u64, desired_bytes: u64) -> wasmtime::Result<bool> {
        let added = desired_bytes.saturating_sub(current_bytes);
        let requested = self.in_use.saturating_add(added);
        if requested > self.memory.0 {
            return Err(LimitExceeded::Memory { limit: self.memory, requested }.into());
        }
        self.in_use = requested;
        self.pending = added;
        Ok(true)
    }

    fn grow_failed(&mut self) {
        self.in_use -= std::mem::take(&mut self.pending);
    }
}

impl ResourceLimiter for RunLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.grow(current as u64, desired as u64)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.grow_failed();
        Ok(())
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.grow(current as u64 * TABLE_ELEMENT_BYTES, desired as u64 * TABLE_ELEMENT_BYTES)
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.grow_failed();
        Ok(())
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn every_memory_and_table_counts_against_one_limit() {
        let mut limiter = RunLimiter::new(ByteSize(256 * MIB as u64));
        // Two memories of 100 MiB fit; a third does not, though each alone would.
        assert!(limiter.memory_growing(0, 100 * MIB, None).unwrap());
        assert!(limiter.memory_growing(0, 100 * MIB, None).unwrap());
        let err = limiter.memory_growing(0, 100 * MIB, None).unwrap_err();
        assert_eq!(
            err.downcast_ref::<LimitExceeded>(),
            Some(&LimitExceeded::Memory { limit: ByteSize(256 * MIB as u64), requested: 300 * MIB as u64 })
        );
        // A table of a million elements is 16 MiB of the same budget.
        assert!(limiter.table_growing(0, 1_000_000, None).unwrap());
        assert!(limiter.table_growing(0, 4_000_000, None).is_ok_and(|grown| !grown), "one table's own cap");
        assert!(limiter.table_growing(0, 1_000_000, None).unwrap());
        assert!(limiter.table_growing(0, 1_000_000, None).unwrap());
        assert!(limiter.table_growing(0, 1_000_000, None).is_err(), "248 MiB in use, 16 MiB more will not fit");
    }

    /// A module with eight memories of 200 MiB each, as a hostile component would carry.
    fn many_memories() -> Vec<u8> {
        let memories = "(memory 3200)".repeat(8);
        wat::parse_str(format!("(module {memories})")).expect("the text is a module")
    }

    #[test]
    fn a_module_s_memories_together_are_held_to_the_limit_when_it_is_made() {
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::new(&engine, many_memories()).unwrap();
        let mut store = wasmtime::Store::new(&engine, RunLimiter::new(ByteSize(256 * MIB as u64)));
        store.limiter(|limiter| limiter);
        let err = wasmtime::Instance::new(&mut store, &module, &[]).unwrap_err();
        assert!(
            matches!(err.downcast_ref::<LimitExceeded>(), Some(LimitExceeded::Memory { requested, .. })
                if *requested == 400 * MIB as u64),
            "the second memory of 200 MiB passes 256 MiB: {err:?}"
        );
        // Under a limit that takes them all, the same module is made.
        let mut roomy = wasmtime::Store::new(&engine, RunLimiter::new(ByteSize(2000 * MIB as u64)));
        roomy.limiter(|limiter| limiter);
        wasmtime::Instance::new(&mut roomy, &module, &[]).expect("eight memories fit 2000 MiB");
    }

    #[test]
    fn a_growth_that_fails_gives_its_bytes_back() {
        let mut limiter = RunLimiter::new(ByteSize(100 * MIB as u64));
        assert!(limiter.memory_growing(0, 60 * MIB, None).unwrap());
        limiter.memory_grow_failed(wasmtime::format_err!("the system had no memory")).unwrap();
        assert!(limiter.memory_growing(0, 60 * MIB, None).unwrap());
        assert!(limiter.memory_growing(60 * MIB, 90 * MIB, None).unwrap(), "growing one memory counts the growth");
    }
}
