//! UUIDs as MO writes them. Settings that name MO objects (a root unit, address types) hold
//! UUIDs an operator has copied from somewhere; checking them up front turns a typo into a
//! configuration error naming the setting, instead of an empty export or a refused MO query.
//!
//! ```
//! use moport_sdk::uuid;
//!
//! assert_eq!(
//!     uuid::normalize("6D3CA4AD-7D7E-4A4B-9A5D-2C8F3E1B0F9A").as_deref(),
//!     Some("6d3ca4ad-7d7e-4a4b-9a5d-2c8f3e1b0f9a"),
//! );
//! assert_eq!(uuid::normalize("Borgmesterens Afdeling"), None);
//! ```

/// `text` in MO's form, lowercase `8-4-4-4-12` hex digits, or `None` when it is not a UUID.
/// Lowercase because the host compares UUIDs as text and MO writes them in lowercase, so a UUID
/// copied in capitals would otherwise match nothing.
pub fn normalize(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let group_lengths: Vec<usize> = lower.split('-').map(str::len).collect();
    let shaped = group_lengths == [8, 4, 4, 4, 12] && lower.chars().all(|c| c == '-' || c.is_ascii_hexdigit());
    shaped.then_some(lower)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn only_hex_in_groups_of_8_4_4_4_12_is_a_uuid() {
        assert_eq!(normalize("00000000-0000-4000-8000-00000000000a").unwrap(), "00000000-0000-4000-8000-00000000000a");
        for not_a_uuid in [
            "",
            "00000000000040008000000000000000",
            "00000000-0000-4000-8000-00000000000",
            "00000000-0000-4000-8000-00000000000g",
            " 00000000-0000-4000-8000-00000000000a",
            "{00000000-0000-4000-8000-00000000000a}",
        ] {
            assert_eq!(normalize(not_a_uuid), None, "{not_a_uuid}");
        }
    }
}
