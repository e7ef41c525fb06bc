//! Human-readable sizes ("64MiB") and durations ("30s") for plugin limits.

use serde::{Deserialize, Deserializer, de};
use std::fmt;
use std::time::Duration;

/// A number of bytes, written in plugins.toml as `512KiB`, `64MiB`, `1GiB` or plain bytes `4096B`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

const BYTE_UNITS: &[(&str, u64)] = &[("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)];

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (number, unit) = split_number(text);
        let factor = BYTE_UNITS.iter().find(|(name, _)| *name == unit).map(|(_, factor)| *factor).ok_or_else(|| {
            format!("`{text}` is not a size: write a whole number and one of B, KiB, MiB, GiB, like `64MiB`")
        })?;
        let number: u64 =
            number.parse().map_err(|_| format!("`{text}` is not a size: `{number}` is not a whole number"))?;
        number.checked_mul(factor).map(ByteSize).ok_or_else(|| format!("`{text}` is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, factor) = BYTE_UNITS
            .iter()
            .find(|(_, factor)| self.0 >= *factor && self.0.is_multiple_of(*factor))
            .copied()
            .unwrap_or(("B", 1));
        write!(f, "{}{unit}", self.0 / factor)
    }
}

/// A wall-clock span, written as `500ms`, `30s`, `10m` or `2h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

const TIME_UNITS: &[(&str, u64)] = &[("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

impl std::str::FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (number, unit) = split_number(text);
        let millis = TIME_UNITS.iter().find(|(name, _)| *name == unit).map(|(_, millis)| *millis).ok_or_else(|| {
            format!("`{text}` is not a duration: write a whole number and one of ms, s, m, h, like `30s`")
        })?;
        let number: u64 =
            number.parse().map_err(|_| format!("`{text}` is not a duration: `{number}` is not a whole number"))?;
        match number.checked_mul(millis) {
            Some(0) => Err(format!("`{text}`: a time limit must be above zero")),
            Some(total) => Ok(Span(Duration::from_millis(total))),
            None => Err(format!("`{text}` is too long")),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis() as u64;
        let (unit, factor) =
            TIME_UNITS.iter().rev().find(|(_, factor)| millis.is_multiple_of(*factor)).copied().unwrap_or(("ms", 1));
        write!(f, "{}{unit}", millis / factor)
    }
}

fn split_number(text: &str) -> (&str, &str) {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    (&text[..digits], text[digits..].trim())
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
