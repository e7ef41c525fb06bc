use crate::{CallError, PluginError};

impl CallError {
    /// The host's message, without the case.
    pub fn message(&self) -> &str {
        match self {
            CallError::Denied(m) | CallError::Invalid(m) | CallError::NotFound(m) | CallError::Unavailable(m) => m,
        }
    }
}

/// `?` on a capability call: a refusal stays a refusal, a refused argument is the plugin's own
/// defect, and a missing or failing resource is an I/O failure.
impl From<CallError> for PluginError {
    fn from(err: CallError) -> Self {
        match err {
            CallError::Denied(m) => PluginError::Denied(m),
            CallError::Invalid(m) => PluginError::Internal(m),
            CallError::NotFound(m) | CallError::Unavailable(m) => PluginError::Io(m),
        }
    }
}
