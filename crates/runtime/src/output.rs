//! A plugin's stdout and stderr: the first bytes kept for the log and for panic messages, the
//! rest counted and dropped. A plugin may print as much as it likes without failing (a full pipe
//! must not crash it) and without making the host hold more than the cap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// How much a single write is offered: a plugin writes in chunks of at most this.
const WRITE_PERMIT: usize = 64 * 1024;

/// One captured stream; clones share it.
#[derive(Clone)]
pub struct CapturedOutput {
    capacity: usize,
    kept: Arc<Mutex<Vec<u8>>>,
    dropped: Arc<AtomicU64>,
}

impl CapturedOutput {
    /// Keeps the first `capacity` bytes written.
    pub fn new(capacity: usize) -> CapturedOutput {
        CapturedOutput { capacity, kept: Arc::default(), dropped: Arc::default() }
    }

    /// What was kept.
    pub fn contents(&self) -> Vec<u8> {
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// How many bytes were written past the cap, and dropped.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn take(&self, bytes: &[u8]) {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let room = self.capacity.saturating_sub(kept.len()).min(bytes.len());
        kept.extend_from_slice(&bytes[..room]);
        self.dropped.fetch_add((bytes.len() - room) as u64, Ordering::Relaxed);
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.take(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.take(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_are_kept_and_the_rest_counted() {
        let mut out = CapturedOutput::new(10);
        for _ in 0..3 {
            OutputStream::write(&mut out, bytes::Bytes::from_static(b"12345678")).unwrap();
        }
        assert_eq!(out.contents(), b"1234567812");
        assert_eq!(out.dropped(), 14);
        assert!(OutputStream::check_write(&mut out).unwrap() > 0, "a full capture still takes writes");
    }
}
