//! moport's integration tests, in one binary: every test binary links wasmtime and the rest of
//! the host, so one link serves them all. Each module holds what one file held before.

#[path = "../support/mod.rs"]
mod support;

mod aarhus_los;
mod cli;
mod dar;
mod deploy;
mod host_memory;
mod mo_graphql;
mod mo_read;
mod mo_write;
mod new_plugin;
mod plan2learn;
mod real_mo;
mod remote;
mod sandbox;
