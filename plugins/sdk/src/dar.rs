//! Danish addresses (DAR), granted with `dar = true`. The operator picks the provider
//! (Adressevask, an offline table, or off); answers are cached for the run.

use crate::CallError;
pub use crate::bindings::moport::host::dar::Address;

capabilities! { dar:
    /// The DAR address for free text; `None` when there is no confident match.
    pub fn lookup_text(text: &str) -> Result<Option<Address>, CallError>;
    /// The address with this DAR id (a UUID).
    pub fn get(id: &str) -> Result<Option<Address>, CallError>;
}
