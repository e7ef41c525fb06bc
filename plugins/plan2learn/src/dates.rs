//! Dates as MO writes validity starts: midnight in Copenhagen with its UTC offset, e.g.
//! `2015-03-01T00:00:00+01:00` in winter and `2024-06-01T00:00:00+02:00` in summer.

/// Midnight of `date` (`YYYY-MM-DD`) in Europe/Copenhagen; `None` for text that is not a date.
pub fn copenhagen_midnight(date: &str) -> Option<String> {
    let (year, month, day) = parse(date)?;
    let offset = if summer_time_at_midnight(year, month, day) { "+02:00" } else { "+01:00" };
    Some(format!("{date}T00:00:00{offset}"))
}

fn parse(date: &str) -> Option<(i64, u32, u32)> {
    let mut parts = date.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok().filter(|m| (1..=12).contains(m))?;
    let day = parts.next()?.parse().ok().filter(|d| (1..=31).contains(d))?;
    (date.len() == 10).then_some((year, month, day))
}

/// Danish summer time: since 1996 (EU rules) from the last Sunday of March to the last Sunday
/// of October; 1981-1995 it ended on the last Sunday of September; in 1980 it ran from the
/// first Sunday of April (6 April) to the last Sunday of September. The clocks change at night,
/// after midnight, so midnight of the first day is still winter time and midnight of the last
/// day still summer time.
fn summer_time_at_midnight(year: i64, month: u32, day: u32) -> bool {
    let end_month = match year {
        ..1980 => return false,
        1980..1996 => 9,
        _ => 10,
    };
    let start = match year {
        1980 => (4, 6),
        _ => (3, last_sunday(year, 3)),
    };
    let end = (end_month, last_sunday(year, end_month));
    (month, day) > start && (month, day) <= end
}

fn last_sunday(year: i64, month: u32) -> u32 {
    let last = match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    last - weekday_from_sunday(year, month, last)
}

/// 0 for Sunday .. 6 for Saturday (Sakamoto's method).
fn weekday_from_sunday(year: i64, month: u32, day: u32) -> u32 {
    const OFFSETS: [i64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let year = if month < 3 { year - 1 } else { year };
    ((year + year / 4 - year / 100 + year / 400 + OFFSETS[month as usize - 1] + day as i64).rem_euclid(7)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(copenhagen_midnight("2026-13-01"), None);
    }
}
