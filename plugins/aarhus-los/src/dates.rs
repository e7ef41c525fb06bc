//! Calendar dates, instants and the date texts the LOS files and DIPEX's state file hold, without
//! a date library: the plugin needs only day arithmetic, UTC instants and Copenhagen's offset.

/// Why a date text was refused: the wrong shape, or a day the calendar does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadDate {
    Shape,
    NotInCalendar,
}

pub use moport_sdk::dates::Date;

/// DIPEX's "open end": `SlutDato`/`SlutTid` 9999-12-31 means no end.
pub fn end_of_time() -> Date {
    Date::new(9999, 12, 31).expect("a real date")
}

/// The exclusive end moport writes for DIPEX's inclusive last day; the open end is `None`.
pub fn exclusive_end(last_day: Date) -> Option<Date> {
    (last_day != end_of_time()).then(|| last_day.next_day())
}

fn last_sunday(year: i32, month: u32) -> Date {
    let next_month = if month == 12 { Date::new(year + 1, 1, 1) } else { Date::new(year, month + 1, 1) };
    let last = next_month.expect("the first of a month").days_since_epoch() - 1;
    // 1970-01-01 was a Thursday: (days + 4) % 7 counts from Sunday = 0.
    Date::from_days_since_epoch(last - (last + 4).rem_euclid(7))
}

/// A moment in time: seconds and nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    seconds: i64,
    nanos: u32,
}

impl Instant {
    fn at(date: Date, time: TimeOfDay, offset_seconds: i64) -> Instant {
        let local = date.days_since_epoch() * 86_400 + i64::from(time.seconds_of_day);
        Instant { seconds: local - offset_seconds, nanos: time.nanos }
    }

    /// RFC 3339 with any offset: `2024-01-02T08:00:00Z`, `2024-01-02 09:00:00.5+01:00`.
    pub fn parse_rfc3339(text: &str) -> Option<Instant> {
        let mut scan = Scan::new(text);
        let date = scan.iso_date(2, 2).ok()?;
        scan.one_of(&['T', 't', ' '])?;
        let time = scan.time(TimeShape::Rfc3339).ok()?;
        let offset = if scan.one_of(&['Z', 'z']).is_some() {
            0
        } else {
            let sign = if scan.one_of(&['+', '-'])? == '-' { -1 } else { 1 };
            let hours = scan.number(2, 2).filter(|h| *h < 24)?;
            scan.expect(':')?;
            let minutes = scan.number(2, 2).filter(|m| *m < 60)?;
            sign * i64::from(hours * 3600 + minutes * 60)
        };
        scan.done().then(|| Instant::at(date, time, offset))
    }

    /// This instant moved by whole seconds (negative: earlier).
    pub fn plus_seconds(self, seconds: i64) -> Instant {
        Instant { seconds: self.seconds + seconds, nanos: self.nanos }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the fraction without trailing zeros.
    pub fn to_rfc3339_utc(self) -> String {
        let date = Date::from_days_since_epoch(self.seconds.div_euclid(86_400));
        let second_of_day = self.seconds.rem_euclid(86_400);
        let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
        let fraction = match self.nanos {
            0 => String::new(),
            nanos => format!(".{:09}", nanos).trim_end_matches('0').to_owned(),
        };
        format!("{date}T{hour:02}:{minute:02}:{second:02}{fraction}Z")
    }

    /// The instant a Copenhagen wall-clock reading names. EU summer time (UTC+2) runs from the
    /// last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC; otherwise UTC+1.
    /// The hour that repeats in October is read as its first (summer) occurrence, and a reading
    /// in the hour skipped in March as winter time.
    fn copenhagen(date: Date, time: TimeOfDay) -> Instant {
        let summer_starts = Instant::at(last_sunday(date.year(), 3), TimeOfDay::hour(1), 0);
        let summer_ends = Instant::at(last_sunday(date.year(), 10), TimeOfDay::hour(1), 0);
        let if_summer = Instant::at(date, time, 2 * 3600);
        if (summer_starts..summer_ends).contains(&if_summer) { if_summer } else { Instant::at(date, time, 3600) }
    }
}

/// DIPEX's state file: one naive local datetime as Python's `isoformat()` writes it
/// (`2023-03-07T11:57:32.123456`, or `0001-01-01T00:00:00` after a first run). DIPEX wrote
/// Copenhagen wall-clock time, so that is how it is read. Returns the instant in RFC 3339 UTC.
pub fn parse_dipex_state(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let parsed = (|| {
        let mut scan = Scan::new(trimmed);
        let date = scan.iso_date(2, 2).ok()?;
        let time = if scan.done() {
            TimeOfDay::hour(0)
        } else {
            scan.one_of(&['T', ' '])?;
            scan.time(TimeShape::Naive).ok()?
        };
        scan.done().then(|| Instant::copenhagen(date, time).to_rfc3339_utc())
    })();
    parsed.ok_or_else(|| {
        // Not shown: a file that is not a state file may hold anything, a password too.
        format!(
            "DIPEX's state file holds {} characters that are not a local date and time; expected one like \
             2023-03-07T11:57:32.123456",
            trimmed.chars().count()
        )
    })
}

/// The DIPEX Org files' `StartDato`/`SlutDato`: Python `strptime` with `%d-%m-%Y`
/// (`1-1-2020`, `01-01-2020`) or `%Y-%m-%d %H:%M:%S.%f` (1-6 fraction digits); the time is dropped.
pub fn parse_org_date(text: &str) -> Result<Date, BadDate> {
    let mut scan = Scan::new(text);
    if let (Some(day), Some(_), Some(month), Some(_), Some(year)) =
        (scan.number(1, 2), scan.expect('-'), scan.number(1, 2), scan.expect('-'), scan.number(4, 4))
        && scan.done()
    {
        return Date::new(year as i32, month, day).ok_or(BadDate::NotInCalendar);
    }
    let mut scan = Scan::new(text);
    let date = scan.iso_date(1, 2)?;
    scan.expect(' ').ok_or(BadDate::Shape)?;
    scan.time(TimeShape::Strptime)?;
    if scan.done() { Ok(date) } else { Err(BadDate::Shape) }
}

/// The Person files' `StartTid`/`SlutTid` (and STAM `Loadtime`), read as pydantic v1 reads a
/// datetime: `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]` with an optional `Z` or `±HH[:MM]` offset, or a
/// Unix timestamp (seconds, or milliseconds when larger than 2·10¹⁰), which is a UTC instant.
/// Returns the calendar date of the value as written (an offset does not move the date).
pub fn parse_pydantic_datetime(text: &str) -> Result<Date, BadDate> {
    if let Some(seconds) = unix_timestamp(text) {
        return Ok(unix_date(seconds));
    }
    let mut scan = Scan::new(text);
    let date = scan.iso_date(1, 2)?;
    scan.one_of(&['T', ' ']).ok_or(BadDate::Shape)?;
    scan.time(TimeShape::Pydantic)?;
    if scan.one_of(&['Z']).is_none() && scan.one_of(&['+', '-']).is_some() {
        let hours = scan.number(2, 2).ok_or(BadDate::Shape)?;
        let minutes = if scan.done() {
            0
        } else {
            scan.eat(':');
            scan.number(2, 2).ok_or(BadDate::Shape)?
        };
        if hours * 60 + minutes >= 24 * 60 {
            return Err(BadDate::NotInCalendar);
        }
    }
    if scan.done() { Ok(date) } else { Err(BadDate::Shape) }
}

/// A plain decimal number (pydantic v1 reads any number as a Unix timestamp).
fn unix_timestamp(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    (digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty())).then(|| text.parse().ok())?
}

fn unix_date(mut seconds: f64) -> Date {
    // pydantic v1: beyond ±3·10²⁰ is datetime.max/min; above 2·10¹⁰ the number is milliseconds.
    if seconds > 3e20 {
        return end_of_time();
    }
    if seconds < -3e20 {
        return Date::new(1, 1, 1).expect("a real date");
    }
    while seconds.abs() > 2e10 {
        seconds /= 1000.0;
    }
    Date::from_days_since_epoch((seconds / 86_400.0).floor() as i64)
}

#[derive(Debug, Clone, Copy)]
struct TimeOfDay {
    seconds_of_day: u32,
    nanos: u32,
}

impl TimeOfDay {
    fn hour(hour: u32) -> TimeOfDay {
        TimeOfDay { seconds_of_day: hour * 3600, nanos: 0 }
    }
}

/// The time-of-day grammars the files and the state use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeShape {
    /// `%H:%M:%S.%f`: 1-2 digit fields, a fraction of 1-6 digits required.
    Strptime,
    /// `HH:MM[:SS[.f{1,6}]]` with 1-2 digit fields; up to 6 more fraction digits are ignored.
    Pydantic,
    /// `HH:MM:SS[.f+]`, two digits each.
    Rfc3339,
    /// `HH:MM[:SS[.f+]]`, two digits each (Python's `isoformat()` and close relatives).
    Naive,
}

/// A cursor over date text.
struct Scan<'a> {
    rest: &'a str,
}

impl<'a> Scan<'a> {
    fn new(text: &'a str) -> Scan<'a> {
        Scan { rest: text }
    }

    fn done(&self) -> bool {
        self.rest.is_empty()
    }

    /// Between `min` and `max` ASCII digits, as many as there are.
    fn digits(&mut self, min: usize, max: usize) -> Option<&'a str> {
        let count = self.rest.bytes().take(max).take_while(u8::is_ascii_digit).count();
        (count >= min).then(|| {
            let (digits, rest) = self.rest.split_at(count);
            self.rest = rest;
            digits
        })
    }

    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        self.digits(min, max)?.parse().ok()
    }

    fn one_of(&mut self, chars: &[char]) -> Option<char> {
        let next = self.rest.chars().next().filter(|c| chars.contains(c))?;
        self.rest = &self.rest[next.len_utf8()..];
        Some(next)
    }

    fn expect(&mut self, c: char) -> Option<()> {
        self.one_of(&[c]).map(|_| ())
    }

    fn eat(&mut self, c: char) -> bool {
        self.expect(c).is_some()
    }

    /// `YYYY-M-D` with 4 year digits and `min`..=`max` digits for month and day.
    fn iso_date(&mut self, min: usize, max: usize) -> Result<Date, BadDate> {
        let (Some(year), Some(_), Some(month), Some(_), Some(day)) =
            (self.number(4, 4), self.expect('-'), self.number(min, max), self.expect('-'), self.number(min, max))
        else {
            return Err(BadDate::Shape);
        };
        Date::new(year as i32, month, day).ok_or(BadDate::NotInCalendar)
    }

    fn time(&mut self, shape: TimeShape) -> Result<TimeOfDay, BadDate> {
        let (min, max) = match shape {
            TimeShape::Strptime | TimeShape::Pydantic => (1, 2),
            TimeShape::Rfc3339 | TimeShape::Naive => (2, 2),
        };
        let hour = self.number(min, max).ok_or(BadDate::Shape)?;
        self.expect(':').ok_or(BadDate::Shape)?;
        let minute = self.number(min, max).ok_or(BadDate::Shape)?;
        let seconds_required = matches!(shape, TimeShape::Strptime | TimeShape::Rfc3339);
        let mut second = 0;
        let mut nanos = 0;
        if seconds_required || self.rest.starts_with(':') {
            self.expect(':').ok_or(BadDate::Shape)?;
            second = self.number(min, max).ok_or(BadDate::Shape)?;
            if self.eat('.') {
                let (min_fraction, max_fraction) = match shape {
                    TimeShape::Strptime => (1, 6),
                    TimeShape::Pydantic => (1, 12),
                    TimeShape::Rfc3339 | TimeShape::Naive => (1, 9),
                };
                let fraction = self.digits(min_fraction, max_fraction).ok_or(BadDate::Shape)?;
                let nine: String = fraction.chars().chain(std::iter::repeat('0')).take(9).collect();
                nanos = nine.parse().map_err(|_| BadDate::Shape)?;
            } else if shape == TimeShape::Strptime {
                return Err(BadDate::Shape);
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(BadDate::NotInCalendar);
        }
        Ok(TimeOfDay { seconds_of_day: hour * 3600 + minute * 60 + second, nanos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn day_arithmetic_crosses_months_years_and_leap_days() {
        assert_eq!(date("2020-02-28").next_day(), date("2020-02-29"));
        assert_eq!(date("2021-02-28").next_day(), date("2021-03-01"));
        assert_eq!(date("2021-12-31").next_day(), date("2022-01-01"));
        assert_eq!(date("1970-01-01").days_since_epoch(), 0);
        assert_eq!(Date::from_days_since_epoch(-1), date("1969-12-31"));
        assert_eq!(exclusive_end(date("2021-12-31")), Some(date("2022-01-01")));
        assert_eq!(exclusive_end(end_of_time()), None);
        assert_eq!(Date::parse("2021-02-29"), None);
        assert_eq!(Date::parse("2021-2-01"), None);
    }

    #[test]
    fn org_dates_take_the_two_strptime_forms_only() {
        assert_eq!(parse_org_date("01-01-2020"), Ok(date("2020-01-01")));
        assert_eq!(parse_org_date("1-1-2020"), Ok(date("2020-01-01")));
        assert_eq!(parse_org_date("2020-01-01 00:00:00.000"), Ok(date("2020-01-01")));
        assert_eq!(parse_org_date("2020-1-1 7:05:09.123456"), Ok(date("2020-01-01")));
        assert_eq!(parse_org_date("2020-01-01"), Err(BadDate::Shape));
        assert_eq!(parse_org_date("2020-01-01 00:00:00"), Err(BadDate::Shape));
        assert_eq!(parse_org_date("2020-01-01 00:00:00.1234567"), Err(BadDate::Shape));
        assert_eq!(parse_org_date("30-02-2021"), Err(BadDate::NotInCalendar));
        assert_eq!(parse_org_date("2021-01-01 24:00:00.0"), Err(BadDate::NotInCalendar));
    }

    #[test]
    fn person_datetimes_follow_pydantic_v1() {
        let ok = |text: &str, expected: &str| assert_eq!(parse_pydantic_datetime(text), Ok(date(expected)), "{text}");
        ok("2021-03-01 00:00", "2021-03-01");
        ok("2021-03-01T08:30:15", "2021-03-01");
        ok("2021-3-1 8:3:1.123456789", "2021-03-01");
        ok("2021-03-01T23:30:00+02:00", "2021-03-01");
        ok("2021-03-01T23:30:00-0100", "2021-03-01");
        ok("2021-03-01T23:30:00Z", "2021-03-01");
        ok("1614556800", "2021-03-01");
        ok("1614556800000", "2021-03-01");
        ok("-86400.5", "1969-12-30");
        for bad in ["2021-03-01", "01-03-2021", "2021-03-01 08", "2021-03-01t08:00", "", "2021-03-01 08:00 "] {
            assert_eq!(parse_pydantic_datetime(bad), Err(BadDate::Shape), "{bad}");
        }
        assert_eq!(parse_pydantic_datetime("2021-02-30 00:00"), Err(BadDate::NotInCalendar));
        assert_eq!(parse_pydantic_datetime("2021-02-01 00:00+24:00"), Err(BadDate::NotInCalendar));
    }

    #[test]
    fn rfc3339_instants_compare_across_offsets() {
        let utc = Instant::parse_rfc3339("2024-01-02T08:00:00Z").unwrap();
        let copenhagen = Instant::parse_rfc3339("2024-01-02T09:00:00+01:00").unwrap();
        assert_eq!(utc, copenhagen);
        assert!(Instant::parse_rfc3339("2024-01-02T08:00:00.000001Z").unwrap() > utc);
        assert_eq!(
            Instant::parse_rfc3339("2024-01-02T08:00:00.5-00:30").unwrap().to_rfc3339_utc(),
            "2024-01-02T08:30:00.5Z"
        );
        assert_eq!(Instant::parse_rfc3339("2024-01-02T08:00:00"), None, "an offset is required");
        assert_eq!(Instant::parse_rfc3339("2024-01-02"), None);
    }

    #[test]
    fn dipex_state_is_copenhagen_wall_clock_time() {
        assert_eq!(parse_dipex_state("2023-03-07T11:57:32.123456\n").unwrap(), "2023-03-07T10:57:32.123456Z");
        assert_eq!(parse_dipex_state("2023-07-07T11:57:32").unwrap(), "2023-07-07T09:57:32Z");
        // 2023: summer time from 26 March 01:00 UTC to 29 October 01:00 UTC.
        assert_eq!(parse_dipex_state("2023-03-26T01:59:59").unwrap(), "2023-03-26T00:59:59Z");
        assert_eq!(parse_dipex_state("2023-03-26T03:00:00").unwrap(), "2023-03-26T01:00:00Z");
        assert_eq!(parse_dipex_state("2023-10-29T02:30:00").unwrap(), "2023-10-29T00:30:00Z");
        assert_eq!(parse_dipex_state("2023-10-29T03:00:00").unwrap(), "2023-10-29T02:00:00Z");
        assert_eq!(parse_dipex_state("0001-01-01T00:00:00").unwrap(), "0000-12-31T23:00:00Z");
        let refused = parse_dipex_state("hunter2-password").unwrap_err();
        assert!(refused.contains("16 characters that are not a local date and time; expected one like"), "{refused}");
        assert!(!refused.contains("hunter2"), "{refused}");
    }
}
