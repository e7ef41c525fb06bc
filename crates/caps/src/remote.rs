//! `remote`: files on the named targets a plugin's grants list (`moport-remote`). The host holds
//! each target's address and credentials and never hands them over.

use crate::{CheckLine, Failing, HostState};
use moport_manifest::TargetSpec;
use moport_remote::Target;
use moport_types::CallError;
use moport_wit::moport::host::{remote, types};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What `moport check` says of each target in `granted`: that it cannot be used as written
/// (`unusable`, with why), or a login and a listing (a local folder: that it takes a file).
pub async fn check(
    granted: &[String],
    targets: &BTreeMap<String, TargetSpec>,
    unusable: &BTreeMap<String, String>,
) -> Vec<CheckLine> {
    let reachable = PluginTargets::new(granted, targets, false);
    let mut lines = Vec::new();
    for name in granted {
        let result = match (unusable.get(name), reachable.target(name)) {
            (Some(problem), _) => Err((Failing::Config, problem.clone())),
            (None, Ok(target)) => target.probe().await.map_err(|err| (failing(&err), err.to_string())),
            (None, Err(err)) => Err((failing(&err), err.to_string())),
        };
        lines.push(CheckLine::new(format!("target `{name}`"), result));
    }
    lines
}

/// A refusal is the operator's to fix; a target that is missing or does not answer, a service's.
fn failing(err: &CallError) -> Failing {
    match err {
        CallError::Denied(_) | CallError::Invalid(_) => Failing::Config,
        CallError::NotFound(_) | CallError::Unavailable(_) => Failing::Service,
    }
}

/// The targets one run may use: those its grants name.
#[derive(Default)]
pub struct PluginTargets {
    targets: BTreeMap<String, Arc<Target>>,
    /// `--dry-run`: the plugin may list and read, but what it would change on a target is only
    /// logged, whatever the plugin does with its run context's flag.
    dry_run: bool,
}

impl PluginTargets {
    pub fn new(granted: &[String], all: &BTreeMap<String, TargetSpec>, dry_run: bool) -> PluginTargets {
        let targets = granted
            .iter()
            .filter_map(|name| all.get(name).map(|spec| (name.clone(), Arc::new(Target::new(name, spec)))))
            .collect();
        PluginTargets { targets, dry_run }
    }

    /// Under a dry run, the plugin's answer to `change` on `target`, which is logged and not
    /// made (a target not granted is refused as without a dry run); `None` otherwise.
    fn held_back(&self, target: &str, change: std::fmt::Arguments) -> Option<Result<(), types::CallError>> {
        if !self.dry_run {
            return None;
        }
        if let Err(err) = self.target(target) {
            return Some(Err(err.into()));
        }
        tracing::info!(remote = target, "dry run: would {change}; the target is left as it is");
        Some(Ok(()))
    }

    /// A granted target by name.
    pub fn target(&self, name: &str) -> Result<Arc<Target>, CallError> {
        self.targets.get(name).cloned().ok_or_else(|| {
            CallError::Denied(format!(
                "the remote target `{name}` is not granted: add it to `remote = [...]` under the plugin's [grants]"
            ))
        })
    }

    /// Runs a plugin's `call` on the granted target `name`; what goes wrong reaches the plugin
    /// without the target's address ([`Target::for_plugin`]).
    async fn on_target<T, Fut>(&self, name: &str, call: impl FnOnce(Arc<Target>) -> Fut) -> Result<T, CallError>
    where
        Fut: std::future::Future<Output = Result<T, CallError>>,
    {
        let target = self.target(name)?;
        call(target.clone()).await.map_err(|err| {
            tracing::debug!(remote = name, "as the operator sees it: {err}");
            target.for_plugin(err)
        })
    }
}

/// What a plugin is handed.
fn answer<T: Into<W>, W>(result: Result<T, CallError>) -> Result<W, types::CallError> {
    result.map(Into::into).map_err(Into::into)
}

impl remote::Host for HostState {
    async fn list(
        &mut self,
        target: String,
        dir: String,
    ) -> wasmtime::Result<Result<Vec<remote::Entry>, types::CallError>> {
        let listed = self.remote.on_target(&target, |t| async move { t.list(&dir).await }).await;
        Ok(listed.map(|entries| entries.into_iter().map(Into::into).collect()).map_err(Into::into))
    }

    /// A file larger than the plugin may hold is not brought in: the run stops at the limit.
    async fn read(&mut self, target: String, path: String) -> wasmtime::Result<Result<Vec<u8>, types::CallError>> {
        let max = self.limiter.memory();
        let (name, at) = (&target, &path);
        match self.remote.on_target(name, |t| async move { t.read(at, max.0).await }).await {
            Ok(None) => {
                let what = format!("`{path}` on the target `{target}`");
                Err(crate::limits::LimitExceeded::Read { limit: max, what }.into())
            }
            Ok(Some(bytes)) => Ok(Ok(bytes)),
            Err(err) => Ok(Err(err.into())),
        }
    }

    async fn write(
        &mut self,
        target: String,
        path: String,
        contents: Vec<u8>,
    ) -> wasmtime::Result<Result<(), types::CallError>> {
        // Uploads count against the run's output limit as files written do, under a dry run too.
        self.output.allows(|| format!("`{path}` to the target `{target}`"), contents.len())?;
        let held = self.remote.held_back(&target, format_args!("upload `{path}` ({} bytes)", contents.len()));
        let result = match held {
            Some(told) => {
                if told.is_ok() {
                    self.output.spend(contents.len());
                }
                return Ok(told);
            }
            None => {
                let (to, bytes) = (&path, &contents);
                self.remote.on_target(&target, |t| async move { t.write(to, bytes).await }).await
            }
        };
        if result.is_ok() {
            self.output.spend(contents.len());
        }
        match &result {
            Ok(()) => tracing::info!(remote = target.as_str(), path, bytes = contents.len(), "uploaded"),
            Err(err) => tracing::error!(remote = target.as_str(), path, "upload failed: {err}"),
        }
        Ok(answer(result))
    }

    async fn rename(
        &mut self,
        target: String,
        from: String,
        to: String,
    ) -> wasmtime::Result<Result<(), types::CallError>> {
        if let Some(told) = self.remote.held_back(&target, format_args!("rename `{from}` to `{to}`")) {
            return Ok(told);
        }
        Ok(answer(self.remote.on_target(&target, |t| async move { t.rename(&from, &to).await }).await))
    }

    async fn remove(&mut self, target: String, path: String) -> wasmtime::Result<Result<(), types::CallError>> {
        if let Some(told) = self.remote.held_back(&target, format_args!("remove `{path}`")) {
            return Ok(told);
        }
        Ok(answer(self.remote.on_target(&target, |t| async move { t.remove(&path).await }).await))
    }
}
