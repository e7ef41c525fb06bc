//! An offline DAR table: a UTF-8 text file, one address per line, fields separated by `;`:
//!
//! ```text
//! text;id;street;house_number;floor;door;postcode;city
//! Testvej 1, 8000 Aarhus C;0a3f50a0-75eb-32b8-e044-0003ba298018;Testvej;1;;;8000;Aarhus C
//! ```
//!
//! `text` is what a plugin looks up; case and runs of spaces do not matter. Empty `floor` and
//! `door` mean none.

use moport_types::DarAddress as Address;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub const HEADER: &str = "text;id;street;house_number;floor;door;postcode;city";

#[derive(Debug, Error)]
pub enum TableError {
    #[error("cannot read the DAR table {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("DAR table {}, line {line}: {message}", path.display())]
    Line { path: PathBuf, line: usize, message: String },
}

pub struct Table {
    by_text: HashMap<String, Address>,
    by_id: HashMap<String, Address>,
}

/// Text as compared: lower case, one space between words.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Table {
    pub fn load(path: &Path) -> Result<Table, TableError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TableError::Read { path: path.to_owned(), source })?;
        Table::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Table, TableError> {
        let error = |line: usize, message: String| TableError::Line { path: path.to_owned(), line, message };
        let mut lines = text.trim_start_matches('\u{feff}').lines().enumerate();
        match lines.next() {
            Some((_, header)) if header.trim_end() == HEADER => {}
            other => {
                return Err(error(
                    1,
                    format!("the header is `{}`; it must be `{HEADER}`", other.map_or("", |(_, h)| h)),
                ));
            }
        }
        let mut table = Table { by_text: HashMap::new(), by_id: HashMap::new() };
        for (index, line) in lines.filter(|(_, line)| !line.trim().is_empty()) {
            let fields: Vec<&str> = line.split(';').collect();
            let [text, id, street, house_number, floor, door, postcode, city] = fields[..] else {
                return Err(error(index + 1, format!("{} fields; a line has the 8 of the header", fields.len())));
            };
            if text.trim().is_empty() || id.trim().is_empty() {
                return Err(error(index + 1, "`text` and `id` must not be empty".into()));
            }
            let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
            let address = Address {
                id: id.trim().to_lowercase(),
                street: street.into(),
                house_number: house_number.into(),
                floor: optional(floor),
                door: optional(door),
                postcode: postcode.into(),
                city: city.into(),
                text: text.trim().into(),
            };
            table.by_id.insert(address.id.clone(), address.clone());
            table.by_text.insert(normalise(text), address);
        }
        Ok(table)
    }

    /// How many addresses the table holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn by_text(&self, text: &str) -> Option<Address> {
        self.by_text.get(&normalise(text)).cloned()
    }

    pub fn by_id(&self, id: &str) -> Option<Address> {
        self.by_id.get(&id.trim().to_lowercase()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_by_text_ignoring_case_and_spaces_and_by_id() {
        let text = format!(
            "{HEADER}\nTestvej 1, 8000 Aarhus C;0A3F50A0-75eb-32b8-e044-0003ba298018;Testvej;1;;;8000;Aarhus C\n\n"
        );
        let table = Table::parse(Path::new("dar.csv"), &text).unwrap();
        let found = table.by_text("  testvej 1,   8000 AARHUS C").unwrap();
        assert_eq!((found.id.as_str(), found.floor), ("0a3f50a0-75eb-32b8-e044-0003ba298018", None));
        assert!(table.by_id("0a3f50a0-75eb-32b8-e044-0003ba298018").is_some());
        assert!(table.by_text("Ukendtvej 99").is_none());
    }

    #[test]
    fn errors_name_the_line() {
        let err = Table::parse(Path::new("dar.csv"), "text;id\n").err().unwrap().to_string();
        assert!(err.contains("dar.csv, line 1") && err.contains(HEADER), "{err}");
        let err = Table::parse(Path::new("dar.csv"), &format!("{HEADER}\na;b;c\n")).err().unwrap().to_string();
        assert!(err.contains("line 2: 3 fields"), "{err}");
    }
}
