//! `log`: plugin messages under the plugin's name, and progress bars.

use super::HostState;
use moport_wit::moport::host::log::{Host, Level};
use std::collections::HashMap;
use std::time::Instant;

/// Longest message kept; longer ones are cut so a runaway plugin cannot flood the log.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Log lines one run may write; past this, one notice and no more.
pub const MAX_LINES: u64 = 100_000;
/// Log bytes one run may write; past this, one notice and no more.
pub const MAX_BYTES: u64 = 32 << 20;
/// Lines a run may log at once, and then each second: a plugin logging in a tight loop would
/// otherwise fill the operator's log as fast as the disk takes it.
pub const BURST_LINES: f64 = 10_000.0;
pub const LINES_PER_SECOND: f64 = 1_000.0;
/// Progress bars one run may have open at once; labels past this are not shown (each bar the
/// host draws costs it memory).
pub const MAX_BARS: usize = 16;
/// Longest progress label or report counter name shown.
pub const MAX_LABEL_BYTES: usize = 200;

pub struct PluginLog {
    plugin: String,
    bars: HashMap<String, Box<dyn moport_progress::Shown>>,
    lines: u64,
    bytes: u64,
    /// Lines the rate allows now, and when that was worked out.
    allowance: f64,
    allowance_at: Instant,
    /// Lines not shown, by the rate or the caps.
    dropped: u64,
    /// Whether the operator was told that lines are left out for their rate, and that the
    /// plugin's lines are no longer shown at all.
    rate_noticed: bool,
    silenced: bool,
}

impl PluginLog {
    pub fn new(plugin: &str) -> Self {
        PluginLog {
            plugin: plugin.to_owned(),
            bars: HashMap::new(),
            lines: 0,
            bytes: 0,
            allowance: BURST_LINES,
            allowance_at: Instant::now(),
            dropped: 0,
            rate_noticed: false,
            silenced: false,
        }
    }

    /// Counts a line of `bytes`, logged at `now`, against the run's rate and caps: whether it
    /// may be shown.
    fn admits(&mut self, bytes: usize, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.allowance_at).as_secs_f64();
        self.allowance = (self.allowance + elapsed * LINES_PER_SECOND).min(BURST_LINES);
        self.allowance_at = now;
        if self.allowance < 1.0 {
            self.dropped += 1;
            if !self.rate_noticed {
                self.rate_noticed = true;
                tracing::warn!(
                    target: "plugin",
                    plugin = self.plugin.as_str(),
                    "the plugin logs faster than {LINES_PER_SECOND} lines a second; lines past that are left out, \
                     and counted when the run ends"
                );
            }
            return false;
        }
        self.allowance -= 1.0;
        self.lines += 1;
        self.bytes += bytes as u64;
        if self.lines <= MAX_LINES && self.bytes <= MAX_BYTES {
            return true;
        }
        self.dropped += 1;
        if !self.silenced {
            self.silenced = true;
            tracing::warn!(
                target: "plugin",
                plugin = self.plugin.as_str(),
                "the plugin has logged more than {MAX_LINES} lines or {} MiB in this run; its further lines are not shown",
                MAX_BYTES >> 20
            );
        }
        false
    }

    /// Removes any bar a plugin left open (it stopped early or never reached `total`), and
    /// says how many of its lines were left out.
    pub fn finish(&mut self) {
        self.bars.clear();
        let dropped = std::mem::take(&mut self.dropped);
        if dropped > 0 {
            tracing::warn!(
                target: "plugin",
                plugin = self.plugin.as_str(),
                "{dropped} of the plugin's log lines were left out (more than {LINES_PER_SECOND} a second, or past \
                 {MAX_LINES} lines or {} MiB in the run)",
                MAX_BYTES >> 20
            );
        }
    }
}

impl Drop for PluginLog {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Host for HostState {
    async fn enabled(&mut self, level: Level) -> wasmtime::Result<bool> {
        Ok(shown(level))
    }

    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let message = cut_to(&message, MAX_MESSAGE_BYTES);
        if !shown(level) || !self.log.admits(message.len(), Instant::now()) {
            return Ok(());
        }
        // A newline or an escape sequence in a message would forge a log line or drive the
        // operator's terminal.
        let message = printable(&message);
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
        let label = printable(&cut_to(&label, MAX_LABEL_BYTES)).into_owned();
        let finished = done >= total;
        let bar = match self.log.bars.get(&label) {
            Some(bar) => bar,
            None if finished || self.log.bars.len() >= MAX_BARS => return Ok(()),
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

/// Whether lines of `level` from plugins are shown.
fn shown(level: Level) -> bool {
    match level {
        Level::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
        Level::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
        Level::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
        Level::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
        Level::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
    }
}

/// `text` as it may be printed on a terminal or in a log line: control characters (newlines,
/// escape sequences, carriage returns) shown escaped, as `\n` or `\u{1b}`.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect::<String>()
        .into()
}

/// `text` cut to at most `max` bytes at a character boundary, marked when cut.
pub fn cut_to(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let end = (0..=max).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!("{}… [{} more bytes cut]", &text[..end], text.len() - end).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(cut_to("æøå", 100), "æøå");
        assert_eq!(cut_to("æøå", 3), "æ… [4 more bytes cut]");
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(printable("rows 1–3 ok"), "rows 1–3 ok");
        assert_eq!(printable("done\nERROR forged"), "done\\nERROR forged");
        assert_eq!(printable("\u{1b}]0;title\u{7}x\r"), "\\u{1b}]0;title\\u{7}x\\r");
    }

    #[test]
    fn a_run_s_lines_are_capped_with_one_notice() {
        let mut log = PluginLog::new("flood");
        let start = Instant::now();
        // One line a millisecond: within the rate.
        let at = |n: u64| start + std::time::Duration::from_millis(n);
        assert!((0..MAX_LINES).all(|n| log.admits(10, at(n))));
        assert!(!log.admits(10, at(MAX_LINES)));
        assert!(log.silenced);
        assert_eq!(log.dropped, 1);
        let mut big = PluginLog::new("flood");
        assert!(big.admits(MAX_BYTES as usize, start));
        assert!(!big.admits(1, start));
    }

    #[test]
    fn lines_past_the_rate_are_left_out_and_counted() {
        let mut log = PluginLog::new("burst");
        let start = Instant::now();
        let burst = BURST_LINES as u64;
        assert!((0..burst).all(|_| log.admits(10, start)), "a burst is shown whole");
        assert!(!log.admits(10, start), "past the burst at once");
        assert!(log.rate_noticed);
        let later = start + std::time::Duration::from_millis(10);
        assert!((0..10).all(|_| log.admits(10, later)), "ten lines in 10 ms at 1,000 a second");
        assert!(!log.admits(10, later));
        assert_eq!(log.dropped, 2);
        assert!(!log.silenced, "the rate does not end the run's lines");
    }
}
