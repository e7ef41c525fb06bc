//! Aarhus LOS importer: Aarhus Kommune's LOS files (STAM classes, org units, persons and
//! managers) into MO, as DIPEX's `integrations/aarhus` importer did, with the same deterministic
//! UUIDs so that moport takes over MO data DIPEX made.
//!
//! Everything here is pure and tested natively: which files are new ([`select`]), reading them
//! ([`csv`], [`rows`]), and the changes to make in MO ([`plan`]). The wasm adapter only lists and
//! reads files, asks MO and DAR what the plan needs, and applies the whole plan as one batch.

mod adapter;
pub mod consolidate;
pub mod csv;
pub mod dates;
pub mod error;
pub mod plan;
pub mod rows;
pub mod select;
pub mod settings;
pub mod uuids;
