//! `log`: plugin messages under the plugin's name, and progress bars.

use super::HostState;
use moport_wit::moport::host::log::{Host, Level};
use std::collections::HashMap;

/// Longest message kept; longer ones are cut so a runaway plugin cannot flood the log.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

pub struct PluginLog {
    plugin: String,
    bars: HashMap<String, Box<dyn moport_progress::Shown>>,
}

impl PluginLog {
    pub fn new(plugin: &str) -> Self {
        PluginLog { plugin: plugin.to_owned(), bars: HashMap::new() }
    }

    /// Removes any bar a plugin left open (it stopped early or never reached `total`).
    pub fn finish(&mut self) {
        self.bars.clear();
    }
}

impl Drop for PluginLog {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Host for HostState {
    async fn enabled(&mut self, level: Level) -> wasmtime::Result<bool> {
        Ok(match level {
            Level::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
            Level::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
            Level::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
            Level::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
            Level::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
        })
    }

    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let message = cut_to(&message, MAX_MESSAGE_BYTES);
        let plugin = self.log.plugin.as_str();
        match level {
            Level::Trace => tracing::trace!(target: "plugin", plugin, "{message}"),
            Level::Debug => tracing::debug!(target: "plugin", plugin, "{message}"),
            Level::Info => tracing::info!(target: "plugin", plugin, "{message}"),
            Level::Warn => tracing::warn!(target: "plugin", plugin, "{message}"),
            Level::Error => tracing::error!(target: "plugin", plugin, "{message}"),
        }
        Ok(())
    }

    async fn progress(&mut self, label: String, done: u64, total: u64) -> wasmtime::Result<()> {
        let label = cut_to(&label, 200).into_owned();
        let finished = done >= total;
        let bar = match self.log.bars.get(&label) {
            Some(bar) => bar,
            None if finished => return Ok(()),
            None => {
                tracing::debug!(target: "plugin", plugin = self.log.plugin.as_str(), "{label}: {done} of {total}");
                self.log.bars.entry(label.clone()).or_insert_with(|| moport_progress::begin(&label, Some(total)))
            }
        };
        bar.set_total(total);
        bar.set_done(done.min(total));
        if finished && self.log.bars.remove(&label).is_some() {
            tracing::debug!(target: "plugin", plugin = self.log.plugin.as_str(), "{label}: done ({total})");
        }
        Ok(())
    }
}

/// `text` cut to at most `max` bytes at a character boundary, marked when cut.
fn cut_to(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let end = (0..=max).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!("{}… [{} more bytes cut]", &text[..end], text.len() - end).into()
}

#[cfg(test)]
mod tests {
    use super::cut_to;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(cut_to("æøå", 100), "æøå");
        assert_eq!(cut_to("æøå", 3), "æ… [4 more bytes cut]");
    }
}
