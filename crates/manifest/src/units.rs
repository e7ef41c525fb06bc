//! Human-readable sizes ("64MiB") and durations ("30s") for plugin limits, and a run's date.

use serde::{Deserialize, Deserializer, de};
use std::fmt;
use std::time::Duration;

/// A run's date, written `YYYY-MM-DD` (plugins.toml, `--today`, fixtures).
pub fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|date| date.format("%Y-%m-%d").to_string() == text)
        .ok_or_else(|| format!("{text:?} is not a date; write the run's date as YYYY-MM-DD, e.g. \"2026-11-30\""))
}

/// A number of bytes, written in plugins.toml as `512KiB`, `64MiB`, `1GiB` or plain bytes `4096B`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

const BYTE_UNITS: &[(&str, u64)] = &[("B", 1), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)];

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        parse_scaled(text, BYTE_UNITS, "size", "64MiB").map(ByteSize)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0, BYTE_UNITS))
    }
}

/// A wall-clock span, written as `500ms`, `30s`, `10m` or `2h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

const TIME_UNITS: &[(&str, u64)] = &[("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

impl std::str::FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match parse_scaled(text, TIME_UNITS, "duration", "30s")? {
            0 => Err(format!("`{text}`: a time limit must be above zero")),
            millis => Ok(Span(Duration::from_millis(millis))),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0.as_millis() as u64, TIME_UNITS))
    }
}

/// A whole number followed by one of `units` (smallest first), in the smallest unit.
fn parse_scaled(text: &str, units: &[(&str, u64)], what: &str, example: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    let (number, unit) = (&trimmed[..digits], trimmed[digits..].trim());
    let Some(&(_, factor)) = units.iter().find(|(name, _)| *name == unit) else {
        let names: Vec<&str> = units.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "`{text}` is not a {what}: write a whole number and one of {}, like `{example}`",
            names.join(", ")
        ));
    };
    let number: u64 =
        number.parse().map_err(|_| format!("`{text}` is not a {what}: `{number}` is not a whole number"))?;
    number.checked_mul(factor).ok_or_else(|| format!("`{text}` is too large"))
}

/// `value` (in the smallest unit) in the largest of `units` that divides it.
fn format_scaled(value: u64, units: &[(&str, u64)]) -> String {
    let (name, factor) = units
        .iter()
        .rev()
        .find(|(_, factor)| value >= *factor && value.is_multiple_of(*factor))
        .copied()
        .unwrap_or(units[0]);
    format!("{}{name}", value / factor)
}

macro_rules! deserialize_from_str {
    ($($ty:ty),*) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer)?.parse().map_err(de::Error::custom)
            }
        }
    )*};
}
deserialize_from_str!(ByteSize, Span);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print_in_their_largest_whole_unit() {
        assert_eq!("64MiB".parse::<ByteSize>().unwrap(), ByteSize(64 << 20));
        assert_eq!("4096B".parse::<ByteSize>().unwrap().to_string(), "4KiB");
        assert_eq!(" 1 GiB ".parse::<ByteSize>().unwrap(), ByteSize(1 << 30));
        assert_eq!(ByteSize(1500).to_string(), "1500B");
    }

    #[test]
    fn size_errors_name_the_value_and_the_units() {
        let err = "64MB".parse::<ByteSize>().unwrap_err();
        assert!(err.contains("`64MB`") && err.contains("MiB"), "{err}");
        assert!("MiB".parse::<ByteSize>().unwrap_err().contains("not a whole number"));
        assert!("99999999999GiB".parse::<ByteSize>().unwrap_err().contains("too large"));
    }

    #[test]
    fn spans_parse_and_print() {
        assert_eq!("30s".parse::<Span>().unwrap(), Span(Duration::from_secs(30)));
        assert_eq!("1500ms".parse::<Span>().unwrap().to_string(), "1500ms");
        assert_eq!("120m".parse::<Span>().unwrap().to_string(), "2h");
        assert!("0s".parse::<Span>().unwrap_err().contains("above zero"));
        assert!("10 minutes".parse::<Span>().unwrap_err().contains("ms, s, m, h"));
    }
}
