//! Credentials held by the host: never shown in logs, errors or debug output, never handed to a
//! plugin. Every secret the process holds is also blanked out of every log line
//! ([`redact`]), whoever logs it: the FTP library, for one, logs the commands it sends.

use std::borrow::Cow;
use std::sync::RwLock;

/// A password, client secret or similar.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// The texts [`redact`] blanks: each secret as it is and as a JSON string holds it.
static HELD: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// What a secret becomes in a log line.
pub const BLANKED: &str = "***";

/// Shorter secrets are not blanked: they would blank ordinary words in every line (a password
/// of three letters is no secret anyway).
pub const MIN_BLANKED_CHARS: usize = 4;

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        if value.chars().count() >= MIN_BLANKED_CHARS {
            let as_json = serde_json::to_string(&value).expect("a string serialises");
            let as_json = as_json[1..as_json.len() - 1].to_owned();
            let mut held = HELD.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for form in [value.clone(), as_json] {
                if !held.contains(&form) {
                    held.push(form);
                }
            }
            // The longest first, so a secret inside another is not blanked halfway.
            held.sort_by_key(|form| std::cmp::Reverse(form.len()));
        }
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `text` with every secret the process holds replaced by [`BLANKED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let held = HELD.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut text = Cow::Borrowed(text);
    for secret in held.iter() {
        if text.contains(secret.as_str()) {
            text = Cow::Owned(text.replace(secret.as_str(), BLANKED));
        }
    }
    text
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Read from configuration as text; a value of another type is refused without repeating it.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Secret;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("text in quotes")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Secret, E> {
                Ok(Secret::new(text))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(E::custom("a secret must be text in quotes"))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(E::custom("a secret must be text in quotes"))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(E::custom("a secret must be text in quotes"))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(E::custom("a secret must be text in quotes"))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_held_is_blanked_from_a_log_line_as_text_and_as_json() {
        let _held = Secret::new("pa\"ss-7f3e");
        assert_eq!(redact("CC OUT: PASS pa\"ss-7f3e"), "CC OUT: PASS ***");
        assert_eq!(redact(r#"{"message":"CC OUT: PASS pa\"ss-7f3e"}"#), r#"{"message":"CC OUT: PASS ***"}"#);
        assert!(matches!(redact("nothing secret"), Cow::Borrowed("nothing secret")));
    }
}
