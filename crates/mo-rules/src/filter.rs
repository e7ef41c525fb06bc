//! MO's filter semantics over in-memory collections: uuids, a validity window (`to` exclusive,
//! "today" when none is given), a unit subtree, and facet user keys for classes.

use crate::record::Record;
use chrono::NaiveDate;
use moport_types::mo::{Class, OrgUnit, Query};
use moport_types::{CallError, Validity};
use std::collections::{HashMap, HashSet};

/// A query made ready to apply.
pub struct Filter {
    uuids: Option<HashSet<String>>,
    window_from: Option<String>,
    window_to: Option<String>,
    /// The units named in `under-org-units` and every unit below them.
    units: Option<HashSet<String>>,
    facet_user_keys: Option<HashSet<String>>,
}

impl Filter {
    /// `org_units` is the whole unit collection, to find the subtrees.
    pub fn new(query: &Query, today: NaiveDate, org_units: &[OrgUnit]) -> Result<Filter, CallError> {
        let (window_from, window_to) = match &query.window {
            None => (Some(today.to_string()), Some(today.succ_opt().unwrap_or(today).to_string())),
            Some(window) => (date(window.from.as_deref())?, date(window.to.as_deref())?),
        };
        if let (Some(from), Some(to)) = (&window_from, &window_to)
            && from >= to
        {
            return Err(CallError::Invalid(format!("query window from {from} to {to} is empty: `to` is exclusive")));
        }
        let set = |items: &[String]| (!items.is_empty()).then(|| items.iter().cloned().collect::<HashSet<_>>());
        let mut filter = Filter {
            uuids: set(&query.uuids),
            window_from,
            window_to,
            units: None,
            facet_user_keys: set(&query.facet_user_keys),
        };
        if !query.under_org_units.is_empty() {
            filter.units = Some(filter.subtree(&query.under_org_units, org_units));
        }
        Ok(filter)
    }

    /// The validity window `[from, to)`, `None` open-ended.
    pub fn window(&self) -> (Option<&str>, Option<&str>) {
        (self.window_from.as_deref(), self.window_to.as_deref())
    }

    /// The records that pass, in the collection's order.
    pub fn select<T: Record + Clone>(&self, rows: &[T]) -> Result<Vec<T>, CallError> {
        if self.units.is_some() && !T::TIED_TO_UNITS {
            return Err(CallError::Invalid(format!("`under-org-units` does not apply to {}", T::COLLECTION)));
        }
        if self.facet_user_keys.is_some() && T::COLLECTION != <Class as Record>::COLLECTION {
            return Err(CallError::Invalid(format!("`facet-user-keys` does not apply to {}", T::COLLECTION)));
        }
        // Counted first: a large selection then has one allocation instead of a dozen
        // reallocations, each copying every record chosen so far.
        let mut selected = Vec::with_capacity(rows.iter().filter(|row| self.passes(*row)).count());
        selected.extend(rows.iter().filter(|row| self.passes(*row)).cloned());
        Ok(selected)
    }

    fn passes<T: Record>(&self, row: &T) -> bool {
        self.uuids.as_ref().is_none_or(|uuids| uuids.contains(row.uuid()))
            && self.overlaps(row.validity())
            && self.units.as_ref().is_none_or(|units| row.org_unit().is_some_and(|unit| units.contains(unit)))
            && self
                .facet_user_keys
                .as_ref()
                .is_none_or(|keys| row.facet_user_key().is_some_and(|key| keys.contains(key)))
    }

    /// `[from, to)` against the window; ISO dates compare correctly as text.
    fn overlaps(&self, validity: &Validity) -> bool {
        let starts_before_end = match (&validity.from, &self.window_to) {
            (Some(from), Some(end)) => from < end,
            _ => true,
        };
        let ends_after_start = match (&validity.to, &self.window_from) {
            (Some(to), Some(start)) => to > start,
            _ => true,
        };
        starts_before_end && ends_after_start
    }

    /// The roots and all their descendants, following parents valid in the window.
    fn subtree(&self, roots: &[String], org_units: &[OrgUnit]) -> HashSet<String> {
        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for unit in org_units.iter().filter(|unit| self.overlaps(&unit.validity)) {
            if let Some(parent) = &unit.parent {
                children.entry(parent.as_str()).or_default().push(unit.uuid.as_str());
            }
        }
        let mut found: HashSet<String> = roots.iter().cloned().collect();
        let mut pending: Vec<&str> = roots.iter().map(String::as_str).collect();
        while let Some(unit) = pending.pop() {
            for &child in children.get(unit).into_iter().flatten() {
                if found.insert(child.to_owned()) {
                    pending.push(child);
                }
            }
        }
        found
    }
}

fn date(text: Option<&str>) -> Result<Option<String>, CallError> {
    text.map(|text| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| d.to_string())
            .map_err(|_| CallError::Invalid(format!("query window date `{text}` is not a date like 2026-01-31")))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use moport_types::mo::Employee;

    fn validity(from: Option<&str>, to: Option<&str>) -> Validity {
        Validity { from: from.map(Into::into), to: to.map(Into::into) }
    }

    fn unit(uuid: &str, parent: Option<&str>, from: Option<&str>, to: Option<&str>) -> OrgUnit {
        OrgUnit {
            uuid: uuid.into(),
            user_key: uuid.into(),
            name: uuid.into(),
            parent: parent.map(Into::into),
            unit_type: None,
            unit_level: None,
            hierarchy: None,
            validity: validity(from, to),
        }
    }

    fn query() -> Query {
        Query { uuids: vec![], window: None, under_org_units: vec![], facet_user_keys: vec![] }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn uuids(units: &[OrgUnit]) -> Vec<&str> {
        units.iter().map(|u| u.uuid.as_str()).collect()
    }

    /// root > a > a1, root > b; `old` ended, `new` starts next year.
    fn tree() -> Vec<OrgUnit> {
        vec![
            unit("a", Some("root"), Some("2020-01-01"), None),
            unit("a1", Some("a"), None, None),
            unit("b", Some("root"), Some("2020-01-01"), None),
            unit("new", Some("root"), Some("2027-01-01"), None),
            unit("old", Some("root"), Some("2019-01-01"), Some("2026-11-23")),
            unit("root", None, None, None),
        ]
    }

    #[test]
    fn no_window_means_valid_today_and_to_is_exclusive() {
        let units = tree();
        let filter = Filter::new(&query(), today(), &units).unwrap();
        assert_eq!(uuids(&filter.select(&units).unwrap()), ["a", "a1", "b", "root"]);
    }

    #[test]
    fn open_windows_add_the_future_or_all_history() {
        let units = tree();
        let future = Query { window: Some(validity(Some("2026-11-23"), None)), ..query() };
        let all = Query { window: Some(validity(None, None)), ..query() };
        let filter = Filter::new(&future, today(), &units).unwrap();
        assert_eq!(uuids(&filter.select(&units).unwrap()), ["a", "a1", "b", "new", "root"]);
        let filter = Filter::new(&all, today(), &units).unwrap();
        assert_eq!(filter.select(&units).unwrap().len(), 6);
    }

    #[test]
    fn a_subtree_holds_the_roots_and_everything_below() {
        let units = tree();
        let under_a = Query { under_org_units: vec!["a".into()], ..query() };
        let filter = Filter::new(&under_a, today(), &units).unwrap();
        assert_eq!(uuids(&filter.select(&units).unwrap()), ["a", "a1"]);
    }

    #[test]
    fn uuids_narrow_and_bad_queries_are_refused_with_the_reason() {
        let units = tree();
        let two = Query { uuids: vec!["b".into(), "a1".into()], ..query() };
        assert_eq!(uuids(&Filter::new(&two, today(), &units).unwrap().select(&units).unwrap()), ["a1", "b"]);

        let bad_date = Query { window: Some(validity(Some("23-11-2026"), None)), ..query() };
        assert!(
            matches!(Filter::new(&bad_date, today(), &units), Err(CallError::Invalid(m)) if m.contains("`23-11-2026`"))
        );
        let empty = Query { window: Some(validity(Some("2026-01-01"), Some("2026-01-01"))), ..query() };
        assert!(matches!(Filter::new(&empty, today(), &units), Err(CallError::Invalid(m)) if m.contains("is empty")));
        let employees_under = Query { under_org_units: vec!["a".into()], ..query() };
        let filter = Filter::new(&employees_under, today(), &units).unwrap();
        assert!(matches!(filter.select::<Employee>(&[]), Err(CallError::Invalid(m)) if m.contains("employees")));
    }
}
