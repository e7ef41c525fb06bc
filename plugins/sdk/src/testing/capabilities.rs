//! The capabilities as the test host serves them: one module per WIT interface, holding that
//! interface's functions with the running [`Session`] as their first argument. The SDK's
//! capability functions call these natively (see `capabilities!` in lib.rs).

use super::Session;
use crate::CallError;
use std::collections::BTreeMap;

pub(crate) mod log {
    use super::Session;
    use crate::log::Level;

    /// True for every level, so a test sees every message.
    pub(crate) fn enabled(_: &mut Session, _level: Level) -> bool {
        true
    }

    pub(crate) fn log(session: &mut Session, level: Level, message: &str) {
        session.host.logs.push((level, message.to_owned()));
    }

    /// Not recorded: progress is for the operator's eyes only.
    pub(crate) fn progress(_: &mut Session, _label: &str, _done: u64, _total: u64) {}
}

pub(crate) mod settings {
    use super::Session;

    pub(crate) fn get(session: &mut Session, key: &str) -> Option<String> {
        session.host.settings.get(key).map(ToString::to_string)
    }
}

pub(crate) mod files {
    use super::{CallError, Session, folder};

    pub(crate) fn write(session: &mut Session, path: &str, contents: &[u8]) -> Result<(), CallError> {
        check(path)?;
        session.host.files.insert(path.to_owned(), contents.to_vec());
        Ok(())
    }

    pub(crate) fn read(session: &mut Session, path: &str) -> Result<Vec<u8>, CallError> {
        check(path)?;
        session.host.files.get(path).cloned().ok_or_else(|| not_found(path))
    }

    pub(crate) fn list(session: &mut Session, dir: &str) -> Result<Vec<String>, CallError> {
        if !dir.is_empty() {
            check(dir)?;
        }
        let entries = folder(&session.host.files, dir).ok_or_else(|| not_found(dir))?;
        let mut names: Vec<String> = entries
            .into_iter()
            .map(|(name, file)| if file.is_some() { name.to_owned() } else { format!("{name}/") })
            .collect();
        names.sort();
        Ok(names)
    }

    pub(crate) fn remove(session: &mut Session, path: &str) -> Result<(), CallError> {
        check(path)?;
        session.host.files.remove(path).map(drop).ok_or_else(|| not_found(path))
    }

    /// Refuses what the host refuses (the contract's rule, `moport_types::paths`).
    fn check(path: &str) -> Result<(), CallError> {
        moport_types::paths::output_path(path, false).map(drop).map_err(|err| crate::testing::call_error(&err))
    }

    fn not_found(path: &str) -> CallError {
        CallError::NotFound(format!("`{path}` does not exist in the output folder"))
    }
}

pub(crate) mod remote {
    use super::{BTreeMap, CallError, Session, folder, remote_path};
    use crate::remote::Entry;

    pub(crate) fn list(session: &mut Session, target: &str, dir: &str) -> Result<Vec<Entry>, CallError> {
        let dir = remote_path(dir, true)?;
        let entries = folder(files(session, target)?, &dir).ok_or_else(|| not_found(target, &dir))?;
        let mut entries: Vec<Entry> = entries
            .into_iter()
            .map(|(name, file)| match file {
                Some(contents) => Entry { name: name.to_owned(), size: contents.len() as u64, modified: None },
                None => Entry { name: format!("{name}/"), size: 0, modified: None },
            })
            .collect();
        // By the names as given, `/` included, as the host sorts them.
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    pub(crate) fn read(session: &mut Session, target: &str, path: &str) -> Result<Vec<u8>, CallError> {
        let path = remote_path(path, false)?;
        files(session, target)?.get(&path).cloned().ok_or_else(|| not_found(target, &path))
    }

    /// Makes the target if the test gave it no file.
    pub(crate) fn write(session: &mut Session, target: &str, path: &str, contents: &[u8]) -> Result<(), CallError> {
        let path = remote_path(path, false)?;
        session.host.remote.entry(target.to_owned()).or_default().insert(path, contents.to_vec());
        Ok(())
    }

    pub(crate) fn rename(session: &mut Session, target: &str, from: &str, to: &str) -> Result<(), CallError> {
        let (from, to) = (remote_path(from, false)?, remote_path(to, false)?);
        let files = files(session, target)?;
        let contents = files.remove(&from).ok_or_else(|| not_found(target, &from))?;
        files.insert(to, contents);
        Ok(())
    }

    pub(crate) fn remove(session: &mut Session, target: &str, path: &str) -> Result<(), CallError> {
        let path = remote_path(path, false)?;
        files(session, target)?.remove(&path).map(drop).ok_or_else(|| not_found(target, &path))
    }

    fn files<'a>(session: &'a mut Session, target: &str) -> Result<&'a mut BTreeMap<String, Vec<u8>>, CallError> {
        session.host.remote.get_mut(target).ok_or_else(|| {
            CallError::Denied(format!(
                "the test host has no remote target `{target}`: give it a file with \
                 `TestHost::remote(\"{target}\", path, contents)`"
            ))
        })
    }

    fn not_found(target: &str, path: &str) -> CallError {
        CallError::NotFound(format!("`{path}` does not exist on the remote target `{target}`"))
    }
}

pub(crate) mod state {
    use super::{CallError, Session};

    pub(crate) fn get(session: &mut Session, key: &str) -> Result<Option<String>, CallError> {
        Ok(session.state.get(key).cloned())
    }

    pub(crate) fn set(session: &mut Session, key: &str, value: &str) -> Result<(), CallError> {
        session.state.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    pub(crate) fn remove(session: &mut Session, key: &str) -> Result<(), CallError> {
        session.state.remove(key);
        Ok(())
    }

    pub(crate) fn keys(session: &mut Session) -> Result<Vec<String>, CallError> {
        Ok(session.state.keys().cloned().collect())
    }
}

pub(crate) mod dar {
    use super::{CallError, Session, dar_key};
    use crate::dar::Address;

    pub(crate) fn lookup_text(session: &mut Session, text: &str) -> Result<Option<Address>, CallError> {
        Ok(session.host.dar.get(&dar_key(text)).cloned())
    }

    /// By id, ignoring case, as DAR ids are UUIDs.
    pub(crate) fn get(session: &mut Session, id: &str) -> Result<Option<Address>, CallError> {
        Ok(session.host.dar.values().find(|address| address.id.eq_ignore_ascii_case(id.trim())).cloned())
    }
}

pub(crate) mod mo_read {
    use super::{CallError, Session};
    use crate::mo::{
        Address, Class, Collection, Employee, Engagement, Facet, ItSystem, ItUser, Manager, OrgUnit, Organisation,
        Query,
    };

    /// The test host holds its MO in memory: there is nothing to fetch ahead.
    pub(crate) fn prefetch(_session: &mut Session, _collections: &[Collection]) -> Result<(), CallError> {
        Ok(())
    }

    pub(crate) fn root_organisation(session: &mut Session) -> Result<Organisation, CallError> {
        session.host.mo.organisation.clone().ok_or_else(|| {
            CallError::NotFound(
                "the test host's MO has no organisation: give the snapshot an `organisation`, or set \
                 `MoData::organisation`"
                    .to_owned(),
            )
        })
    }

    /// One reader per collection, all alike: the collection follows from the return type.
    macro_rules! readers {
        ($($name:ident -> $record:ty;)*) => {
            $(
                pub(crate) fn $name(session: &mut Session, query: &Query) -> Result<Vec<$record>, CallError> {
                    session.host.mo.read(query, &session.host.today)
                }
            )*
        };
    }

    readers! {
        facets -> Facet;
        classes -> Class;
        org_units -> OrgUnit;
        employees -> Employee;
        engagements -> Engagement;
        managers -> Manager;
        addresses -> Address;
        it_systems -> ItSystem;
        it_users -> ItUser;
    }
}

pub(crate) mod mo_write {
    use super::{CallError, Session};
    use crate::mo::write::{Change, Outcome};

    /// One all-or-nothing batch; under a dry run MO stays as it was.
    pub(crate) fn apply(session: &mut Session, changes: &[Change]) -> Result<Vec<Outcome>, CallError> {
        let host = &mut session.host;
        let (outcomes, after) = host.mo.apply(changes, host.dry_run)?;
        if let Some(after) = after {
            host.mo = after;
        }
        host.applied.extend_from_slice(changes);
        Ok(outcomes)
    }
}

/// A path inside a remote target as the host takes it (the contract's rule,
/// `moport_types::paths`): relative, `/`-separated, without `..`; empty and `.` parts are
/// dropped. `""`, the target's top folder, only where `folder` is true.
pub(crate) fn remote_path(path: &str, folder: bool) -> Result<String, CallError> {
    moport_types::paths::remote_path(path, folder).map_err(|err| super::call_error(&err))
}

/// The key of the DAR table: text compared ignoring case and runs of spaces.
pub(crate) fn dar_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The entries directly in the folder `dir` of `/`-separated paths, by name: a file's contents,
/// or `None` for a folder. `None` when the folder does not exist: a folder exists while a file
/// lies in it, and `""` (the top) always.
fn folder<'a>(paths: &'a BTreeMap<String, Vec<u8>>, dir: &str) -> Option<BTreeMap<&'a str, Option<&'a [u8]>>> {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut entries = BTreeMap::new();
    for (path, contents) in paths {
        let Some(inside) = path.strip_prefix(&prefix) else { continue };
        match inside.split_once('/') {
            Some((subfolder, _)) => entries.insert(subfolder, None),
            None => entries.insert(inside, Some(contents.as_slice())),
        };
    }
    (dir.is_empty() || !entries.is_empty()).then_some(entries)
}
