use crate::{CallError, PluginError};

impl CallError {
    /// The host's message, without the case.
    pub fn message(&self) -> &str {
        match self {
            CallError::Denied(m) | CallError::Invalid(m) | CallError::NotFound(m) | CallError::Unavailable(m) => m,
        }
    }
}

/// `?` on a capability call: a refusal stays a refusal, anything else is an I/O failure.
impl From<CallError> for PluginError {
    fn from(err: CallError) -> Self {
        match err {
            CallError::Denied(m) => PluginError::Denied(m),
            other => PluginError::Io(other.message().to_owned()),
        }
    }
}
