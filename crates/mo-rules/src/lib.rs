//! MO v30's rules for MO held in memory, in one place for everything that holds it: the host's
//! snapshot file and built-in demo, the host's planning of writes to a live MO, and the SDK's
//! test host, so a plugin's unit tests see what the host would do.
//!
//! - [`Filter`]: which records a [`Query`](moport_types::mo::Query) selects (uuids, a validity
//!   window with `to` exclusive and today when none is given, a unit subtree, facet user keys).
//! - [`History`] and [`apply_net`]: what a batch of changes does to each object's validities, as
//!   MO applies creates, updates and terminations, and which changes a batch undoes.
//! - [`tidy`]: the fields MO works out itself (a class's facet user key, an address's scope),
//!   the ten engagement extensions, the order of records, and validities that must not overlap.

mod collections;
mod filter;
mod history;
mod record;

pub use chrono::NaiveDate;
pub use collections::{
    Collections, EXTENSIONS, Holds, RecordProblem, as_creates, fill_facet_user_keys, fill_scopes, sort_all, tidy,
};
pub use filter::Filter;
pub use history::{
    History, Step, apply_all, apply_net, cannot_end_a_person, end_cmp, fields_of, kind_name, named, start_cmp,
};
pub use record::{Record, Writable, sort_records};

#[doc(hidden)]
pub use moport_types as __types;
