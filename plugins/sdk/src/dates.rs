//! Dates as MO and the host write them (`YYYY-MM-DD`), and the few calculations plugins need on
//! them, without a date library: every kilobyte of a plugin is compiled on every run.
//!
//! Such dates order as text, so the validity helpers ([`valid_on`], [`has_started`],
//! [`has_ended`]) compare the text MO sends without parsing it. [`Date`] is for what text cannot
//! do: checking a date from a setting or a file, and stepping to the next day.
//!
//! ```
//! use moport_sdk::dates::{Date, valid_on};
//! use moport_sdk::mo::Validity;
//!
//! let today = Date::parse("2026-12-31").expect("a date");
//! assert_eq!(today.next_day().to_string(), "2027-01-01");
//!
//! // MO's `to` is exclusive: this validity ends when 2027 begins.
//! let this_year = Validity { from: Some("2026-01-01".into()), to: Some("2027-01-01".into()) };
//! assert!(valid_on(&this_year, "2026-12-31"));
//! assert!(!valid_on(&this_year, &today.next_day().to_string()));
//! ```

use crate::mo::Validity;
use std::fmt;

/// A calendar day in the Gregorian calendar (which MO uses for all its dates). Dates order by
/// time; `Display` writes `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    // In this order, so the derived ordering is the order in time.
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// The date, or `None` when the month or the day does not exist (`2026-02-29`).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let exists = (1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day);
        exists.then_some(Date { year, month, day })
    }

    /// Exactly `YYYY-MM-DD`, as MO writes dates; `None` for anything else, including dates
    /// that do not exist. Leading and trailing spaces are refused too: trim a setting first.
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        // Digits only: `str::parse` would also take a sign ("+1").
        let number = |from: usize, to: usize| -> Option<u32> {
            let digits = text.get(from..to)?;
            if digits.bytes().all(|b| b.is_ascii_digit()) { digits.parse().ok() } else { None }
        };
        Date::new(i32::try_from(number(0, 4)?).ok()?, number(5, 7)?, number(8, 10)?)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1 for January .. 12 for December.
    pub fn month(self) -> u32 {
        self.month
    }

    pub fn day(self) -> u32 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it): day arithmetic and weekdays.
    pub fn days_since_epoch(self) -> i64 {
        let (month, day) = (i64::from(self.month), i64::from(self.day));
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01 (before it when negative).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let days = days + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let shifted_month = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
        let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Date { year: year as i32, month, day }
    }

    /// The day after: what to pass as an exclusive `to` to cover this date and no later one.
    pub fn next_day(self) -> Date {
        if self.day < days_in_month(self.year, self.month) {
            Date { day: self.day + 1, ..self }
        } else if self.month < 12 {
            Date { month: self.month + 1, day: 1, ..self }
        } else {
            Date { year: self.year + 1, month: 1, day: 1 }
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Whether `validity` holds on `day` (`YYYY-MM-DD`): `from` is inclusive, `to` exclusive (as in
/// MO v30), and a missing date is open-ended.
pub fn valid_on(validity: &Validity, day: &str) -> bool {
    has_started(validity, day) && !has_ended(validity, day)
}

/// Whether `validity` has begun by `day`: it has no start, or starts on or before `day`.
pub fn has_started(validity: &Validity, day: &str) -> bool {
    validity.from.as_deref().is_none_or(|from| from <= day)
}

/// Whether `validity` is over by `day`. `to` is exclusive, so a validity to `2027-01-01` is
/// already over on that day.
pub fn has_ended(validity: &Validity, day: &str) -> bool {
    validity.to.as_deref().is_some_and(|to| to <= day)
}

/// Midnight at the start of `date` (`YYYY-MM-DD`) in Europe/Copenhagen with its UTC offset, as
/// MO writes the start of a validity as a datetime: `2015-03-01T00:00:00+01:00` in winter and
/// `2024-06-01T00:00:00+02:00` in summer. `None` for text that is not a date.
///
/// ```
/// use moport_sdk::dates::copenhagen_midnight;
///
/// assert_eq!(copenhagen_midnight("2026-03-30").as_deref(), Some("2026-03-30T00:00:00+02:00"));
/// assert_eq!(copenhagen_midnight("30.03.2026"), None);
/// ```
pub fn copenhagen_midnight(date: &str) -> Option<String> {
    let date = Date::parse(date)?;
    let offset = if summer_time_at_midnight(date) { "+02:00" } else { "+01:00" };
    Some(format!("{date}T00:00:00{offset}"))
}

/// Denmark's summer time before 1980, from the tz database's Europe/Copenhagen with its own
/// history (as Debian's tzdata, and so MO and DIPEX, have it): the first day whose midnight is
/// summer time, and the first day after the period. 1940-1942 is one period (the occupation).
const SUMMER_BEFORE_1980: [(Date, Date); 8] = [
    (Date { year: 1916, month: 5, day: 15 }, Date { year: 1916, month: 10, day: 1 }),
    (Date { year: 1940, month: 5, day: 16 }, Date { year: 1942, month: 11, day: 3 }),
    (Date { year: 1943, month: 3, day: 30 }, Date { year: 1943, month: 10, day: 5 }),
    (Date { year: 1944, month: 4, day: 4 }, Date { year: 1944, month: 10, day: 3 }),
    (Date { year: 1945, month: 4, day: 3 }, Date { year: 1945, month: 8, day: 16 }),
    (Date { year: 1946, month: 5, day: 2 }, Date { year: 1946, month: 9, day: 2 }),
    (Date { year: 1947, month: 5, day: 5 }, Date { year: 1947, month: 8, day: 11 }),
    (Date { year: 1948, month: 5, day: 10 }, Date { year: 1948, month: 8, day: 9 }),
];

/// Danish summer time: before 1980 as `SUMMER_BEFORE_1980` lists; since 1996 (EU rules) from
/// the last Sunday of March to the last Sunday of October; 1981-1995 it ended on the last Sunday
/// of September; in 1980 it ran from the first Sunday of April (6 April) to the last Sunday of
/// September. The clocks change at night, after midnight, so midnight of the first day is still
/// winter time and midnight of the last day still summer time.
fn summer_time_at_midnight(date: Date) -> bool {
    let end_month = match date.year {
        ..1980 => return SUMMER_BEFORE_1980.iter().any(|(first, after)| date >= *first && date < *after),
        1980..1996 => 9,
        _ => 10,
    };
    let start = match date.year {
        1980 => (4, 6),
        _ => (3, last_sunday(date.year, 3)),
    };
    let end = (end_month, last_sunday(date.year, end_month));
    let day = (date.month, date.day);
    day > start && day <= end
}

fn last_sunday(year: i32, month: u32) -> u32 {
    let last = days_in_month(year, month);
    last - weekday_from_sunday(year, month, last)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// 0 for Sunday .. 6 for Saturday (Sakamoto's method).
fn weekday_from_sunday(year: i32, month: u32, day: u32) -> u32 {
    const OFFSETS: [i64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let year = i64::from(if month < 3 { year - 1 } else { year });
    let weekday = year + year / 4 - year / 100 + year / 400 + OFFSETS[month as usize - 1] + i64::from(day);
    weekday.rem_euclid(7) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validity(from: Option<&str>, to: Option<&str>) -> Validity {
        Validity { from: from.map(Into::into), to: to.map(Into::into) }
    }

    #[test]
    fn days_since_the_epoch_count_both_ways_across_leap_days() {
        let day = |text: &str| Date::parse(text).unwrap();
        assert_eq!(day("1970-01-01").days_since_epoch(), 0);
        assert_eq!(day("1969-12-31").days_since_epoch(), -1);
        assert_eq!(day("2024-03-01").days_since_epoch() - day("2024-02-28").days_since_epoch(), 2);
        for text in ["0001-01-01", "1900-02-28", "2000-02-29", "2026-11-25", "9999-12-31"] {
            assert_eq!(Date::from_days_since_epoch(day(text).days_since_epoch()), day(text), "{text}");
        }
    }

    #[test]
    fn parse_takes_exactly_existing_iso_dates() {
        assert_eq!(Date::parse("2024-02-29"), Date::new(2024, 2, 29));
        assert_eq!(Date::parse("2024-02-29").map(|d| (d.year(), d.month(), d.day())), Some((2024, 2, 29)));
        for not_a_date in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-1-01",
            "+026-01-01",
            "2026-01-+1",
        ] {
            assert_eq!(Date::parse(not_a_date), None, "{not_a_date}");
        }
        for not_a_date in ["", "2026-01-01 ", "2026/01/01", "2026-01-01T00:00:00", "20é-01-01"] {
            assert_eq!(Date::parse(not_a_date), None, "{not_a_date}");
        }
        assert!(Date::parse("2000-02-29").is_some(), "a leap year: divisible by 400");
    }

    #[test]
    fn display_writes_what_parse_reads() {
        for text in ["0001-01-01", "1999-12-31", "2026-11-23", "9999-12-31"] {
            assert_eq!(Date::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn next_day_rolls_over_months_years_and_leap_days() {
        let next = |text: &str| Date::parse(text).unwrap().next_day().to_string();
        assert_eq!(next("2026-11-23"), "2026-11-24");
        assert_eq!(next("2026-04-30"), "2026-05-01");
        assert_eq!(next("2026-02-28"), "2026-03-01");
        assert_eq!(next("2024-02-28"), "2024-02-29");
        assert_eq!(next("2024-02-29"), "2024-03-01");
        assert_eq!(next("2026-12-31"), "2027-01-01");
    }

    #[test]
    fn dates_order_by_time() {
        let mut dates: Vec<Date> =
            ["2026-11-23", "2025-12-31", "2026-02-01", "2026-01-31"].iter().map(|t| Date::parse(t).unwrap()).collect();
        dates.sort();
        let sorted: Vec<String> = dates.iter().map(Date::to_string).collect();
        assert_eq!(sorted, ["2025-12-31", "2026-01-31", "2026-02-01", "2026-11-23"]);
    }

    #[test]
    fn from_is_inclusive_to_exclusive_and_none_open() {
        let year = validity(Some("2026-01-01"), Some("2027-01-01"));
        assert!(!valid_on(&year, "2025-12-31"));
        assert!(valid_on(&year, "2026-01-01"));
        assert!(valid_on(&year, "2026-12-31"));
        assert!(!valid_on(&year, "2027-01-01"));
        assert!(valid_on(&validity(None, None), "0001-01-01"));
        assert!(valid_on(&validity(None, Some("2027-01-01")), "1900-01-01"));
        assert!(valid_on(&validity(Some("2026-01-01"), None), "9999-12-31"));
        assert!(!has_started(&year, "2025-12-31") && has_started(&year, "2026-01-01"));
        assert!(!has_ended(&year, "2026-12-31") && has_ended(&year, "2027-01-01"));
        assert!(!has_ended(&validity(None, None), "9999-12-31"));
    }

    #[test]
    fn offsets_follow_danish_summer_time() {
        assert_eq!(copenhagen_midnight("2015-03-01").unwrap(), "2015-03-01T00:00:00+01:00");
        assert_eq!(copenhagen_midnight("2024-06-01").unwrap(), "2024-06-01T00:00:00+02:00");
        // 2026: summer time from Sunday 29 March to Sunday 25 October.
        assert_eq!(copenhagen_midnight("2026-03-29").unwrap(), "2026-03-29T00:00:00+01:00");
        assert_eq!(copenhagen_midnight("2026-03-30").unwrap(), "2026-03-30T00:00:00+02:00");
        assert_eq!(copenhagen_midnight("2026-10-25").unwrap(), "2026-10-25T00:00:00+02:00");
        assert_eq!(copenhagen_midnight("2026-10-26").unwrap(), "2026-10-26T00:00:00+01:00");
        assert_eq!(copenhagen_midnight("1990-10-01").unwrap(), "1990-10-01T00:00:00+01:00");
        assert_eq!(copenhagen_midnight("1980-04-06").unwrap(), "1980-04-06T00:00:00+01:00");
        assert_eq!(copenhagen_midnight("1980-04-07").unwrap(), "1980-04-07T00:00:00+02:00");
        assert_eq!(copenhagen_midnight("1980-03-31").unwrap(), "1980-03-31T00:00:00+01:00");
        assert_eq!(copenhagen_midnight("2099-01-01").unwrap(), "2099-01-01T00:00:00+01:00");
        // Before 1980, as Python's zoneinfo (MO, DIPEX) gives it: RSD's 1947-06-01 among them.
        assert_eq!(copenhagen_midnight("1947-06-01").unwrap(), "1947-06-01T00:00:00+02:00");
        assert_eq!(copenhagen_midnight("1949-06-01").unwrap(), "1949-06-01T00:00:00+01:00");
        assert_eq!(copenhagen_midnight("1941-12-24").unwrap(), "1941-12-24T00:00:00+02:00");
        for (first, after) in SUMMER_BEFORE_1980 {
            let before = |date: Date| Date::from_days_since_epoch(date.days_since_epoch() - 1);
            let offset = |date: Date| copenhagen_midnight(&date.to_string()).unwrap()[19..].to_owned();
            assert_eq!(offset(before(first)), "+01:00", "the day before {first}");
            assert_eq!((offset(first), offset(before(after))), ("+02:00".into(), "+02:00".into()), "{first}..{after}");
            assert_eq!(offset(after), "+01:00", "{after}");
        }
        assert_eq!(copenhagen_midnight("2026-13-01"), None);
    }
}
