//! `Org_inital` files hold the whole history of each unit, one row per period; identical
//! consecutive periods are merged so that MO gets one validity where nothing changed (§9.2).

use crate::dates::Date;
use crate::error::RowError;
use std::collections::HashMap;

/// One object's content over `[from, to)`; `to: None` is open-ended. `line` is the row it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period<T> {
    pub value: T,
    pub from: Date,
    pub to: Option<Date>,
    pub line: usize,
}

/// Buckets periods by object (buckets in order of first appearance), sorts each bucket by start
/// (stably), and merges neighbours that are equal and adjacent (earlier `to` == later `from`).
/// Each bucket comes back non-empty; its first period is the object's creation.
pub fn consolidate<T: PartialEq>(
    file: &str,
    periods: Vec<Period<T>>,
    uuid: impl Fn(&T) -> &str,
) -> Result<Vec<Vec<Period<T>>>, Vec<RowError>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut buckets: Vec<Vec<Period<T>>> = Vec::new();
    for period in periods {
        let key = uuid(&period.value).to_owned();
        match index.get(&key) {
            Some(&position) => buckets[position].push(period),
            None => {
                index.insert(key, buckets.len());
                buckets.push(vec![period]);
            }
        }
    }
    let mut errors = Vec::new();
    let merged = buckets
        .into_iter()
        .map(|mut bucket| {
            bucket.sort_by_key(|period| period.from);
            let mut merged: Vec<Period<T>> = Vec::with_capacity(bucket.len());
            for period in bucket {
                let Some(previous) = merged.last_mut() else {
                    merged.push(period);
                    continue;
                };
                match previous.to {
                    // DIPEX crashes here (TypeError); moport names the rows to fix.
                    None => errors.push(RowError::new(
                        file,
                        period.line,
                        None,
                        format!(
                            "{} is open-ended from {} (line {}), so no later period can start on {}; give line {} a SlutDato before {}",
                            uuid(&period.value),
                            previous.from,
                            previous.line,
                            period.from,
                            previous.line,
                            period.from
                        ),
                    )),
                    Some(to) if to == period.from && previous.value == period.value => {
                        // The merged period ends as its last row does: blame that row if it is open.
                        previous.to = period.to;
                        previous.line = period.line;
                    }
                    Some(_) => merged.push(period),
                }
            }
            merged
        })
        .collect();
    if errors.is_empty() { Ok(merged) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payload as §14's tests write them: `{uuid, val[, val2]}`.
    #[derive(Debug, Clone, PartialEq)]
    struct Payload {
        uuid: &'static str,
        val: u32,
        val2: Option<u32>,
    }

    fn year(val: u32, year: i32) -> Period<Payload> {
        year_of("u", val, year)
    }

    fn year_of(uuid: &'static str, val: u32, year: i32) -> Period<Payload> {
        Period {
            value: Payload { uuid, val, val2: None },
            from: Date::new(year, 1, 1).unwrap(),
            // DIPEX's inclusive 31 December is moport's exclusive 1 January.
            to: Some(Date::new(year + 1, 1, 1).unwrap()),
            line: year as usize - 2000,
        }
    }

    fn run(periods: Vec<Period<Payload>>) -> Vec<(u32, String, String)> {
        let buckets = consolidate("f.csv", periods, |payload| payload.uuid).unwrap();
        buckets
            .into_iter()
            .flatten()
            .map(|p| (p.value.val, p.from.to_string(), p.to.map_or("open".to_owned(), |to| to.to_string())))
            .collect()
    }

    fn span(val: u32, from: &str, to: &str) -> (u32, String, String) {
        (val, from.to_owned(), to.to_owned())
    }

    #[test]
    fn identical_consecutive_periods_merge() {
        let periods = (2010..=2014).map(|y| year(123, y)).collect();
        assert_eq!(run(periods), [span(123, "2010-01-01", "2015-01-01")]);
    }

    #[test]
    fn non_identical_or_non_consecutive_periods_stay_apart() {
        assert_eq!(
            run(vec![year(123, 2010), year(456, 2011)]),
            [span(123, "2010-01-01", "2011-01-01"), span(456, "2011-01-01", "2012-01-01")]
        );
        assert_eq!(
            run(vec![year(123, 2010), year(123, 2012)]),
            [span(123, "2010-01-01", "2011-01-01"), span(123, "2012-01-01", "2013-01-01")]
        );
    }

    #[test]
    fn mixed_runs_merge_run_by_run() {
        let periods = vec![year(123, 2010), year(123, 2011), year(456, 2012), year(789, 2013), year(789, 2014)];
        assert_eq!(
            run(periods),
            [
                span(123, "2010-01-01", "2012-01-01"),
                span(456, "2012-01-01", "2013-01-01"),
                span(789, "2013-01-01", "2015-01-01")
            ]
        );
    }

    #[test]
    fn a_key_present_in_one_only_makes_them_differ() {
        let mut second = year(123, 2011);
        second.value.val2 = Some(1);
        assert_eq!(run(vec![year(123, 2010), second]).len(), 2);
    }

    #[test]
    fn single_and_empty_inputs_come_back_unchanged() {
        assert_eq!(run(vec![year(123, 2010)]), [span(123, "2010-01-01", "2011-01-01")]);
        assert!(run(Vec::new()).is_empty());
    }

    #[test]
    fn buckets_keep_first_appearance_order_and_sort_by_start() {
        let periods = vec![year_of("b", 2, 2012), year_of("a", 1, 2011), year_of("b", 2, 2011)];
        let buckets = consolidate("f.csv", periods, |payload| payload.uuid).unwrap();
        let shape: Vec<(&str, usize, String)> =
            buckets.iter().map(|b| (b[0].value.uuid, b.len(), b[0].to.unwrap().to_string())).collect();
        assert_eq!(shape, [("b", 1, "2013-01-01".to_owned()), ("a", 1, "2012-01-01".to_owned())]);
    }

    #[test]
    fn an_open_period_followed_by_another_is_an_error_naming_the_rows() {
        let mut open = year(123, 2010);
        open.to = None;
        let errors =
            consolidate("Org_inital_20210101_000000.csv", vec![year(123, 2012), open], |p| p.uuid).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "Org_inital_20210101_000000.csv:12: u is open-ended from 2010-01-01 (line 10), so no later period can start on 2012-01-01; give line 10 a SlutDato before 2012-01-01"
        );
    }
}
