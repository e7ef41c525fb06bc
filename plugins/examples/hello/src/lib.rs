//! The smallest useful moport plugin: reads its settings, logs, and writes a greeting file.

use moport_sdk::{Plugin, PluginError, Report, RunContext, files, log, settings};

/// The file the plugin writes in its output folder.
pub const OUTPUT_FILE: &str = "hello.txt";

struct Hello;

impl Plugin for Hello {
    fn run(ctx: RunContext) -> Result<Report, PluginError> {
        let greeting = settings::get_str("greeting")?.unwrap_or_else(|| "Hello".to_owned());
        let recipient = settings::require_str("recipient")?;
        let text = greeting_text(&greeting, &recipient, &ctx.today);
        log::info(text.trim_end());
        if ctx.dry_run {
            return Ok(Report::new(format!("would write {OUTPUT_FILE} ({} bytes)", text.len())));
        }
        files::write(OUTPUT_FILE, text.as_bytes())?;
        Ok(Report::new(format!("wrote {OUTPUT_FILE} ({} bytes)", text.len())).count("files written", 1))
    }
}

moport_sdk::export_plugin!(Hello);

/// The greeting line, dated.
pub fn greeting_text(greeting: &str, recipient: &str, today: &str) -> String {
    format!("{greeting}, {recipient}! ({today})\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use moport_sdk::log::Level;
    use moport_sdk::testing::TestHost;

    #[test]
    fn greeting_names_recipient_and_date() {
        assert_eq!(greeting_text("Hej", "Aarhus", "2026-11-23"), "Hej, Aarhus! (2026-11-23)\n");
    }

    #[test]
    fn a_run_writes_and_logs_the_greeting() {
        let mut host = TestHost::new().today("2026-11-23").setting("greeting", "Hej").setting("recipient", "Aarhus");
        let report = host.run::<Hello>().unwrap();
        assert_eq!(report.counts, [("files written".to_owned(), 1)]);
        assert_eq!(host.file(OUTPUT_FILE), Some(&b"Hej, Aarhus! (2026-11-23)\n"[..]));
        assert_eq!(host.logs(), [(Level::Info, "Hej, Aarhus! (2026-11-23)".to_owned())]);
    }

    #[test]
    fn a_dry_run_writes_nothing() {
        let mut host = TestHost::new().dry_run(true).setting("recipient", "Aarhus");
        let report = host.run::<Hello>().unwrap();
        assert_eq!(report.summary, "would write hello.txt (28 bytes)");
        assert!(host.files().is_empty());
    }

    #[test]
    fn without_a_recipient_the_run_stops_naming_the_setting() {
        let err = TestHost::new().run::<Hello>().unwrap_err();
        assert!(matches!(&err, PluginError::Config(m) if m.contains("`recipient`")), "{err:?}");
    }
}
