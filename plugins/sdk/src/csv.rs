//! CSV in the dialect DIPEX's exporters write, which the systems they feed (plan2learn and
//! others) read: `;` between fields, every field in double quotes with `"` doubled inside, CRLF
//! after every record, UTF-8 without a byte order mark, and the header even when there are no
//! rows. A plugin that replaces a DIPEX exporter writes this so the receiving side sees the same
//! bytes as before.
//!
//! Quoting every field means a field may hold `;`, quotes and line breaks unchanged, and an
//! empty field (`""`) can never be mistaken for a missing column.
//!
//! ```
//! use moport_sdk::csv::CsvFile;
//!
//! let mut file = CsvFile::new(&["UUID", "Navn", "Forælder"]);
//! file.row(&[Some("1"), Some("Skole \"Nord\""), None]);
//! assert_eq!(
//!     String::from_utf8(file.into_bytes()).unwrap(),
//!     "\"UUID\";\"Navn\";\"Forælder\"\r\n\"1\";\"Skole \"\"Nord\"\"\";\"\"\r\n",
//! );
//! ```

/// A file being written in memory: a header, then rows of the same width. Write the finished
/// bytes with [`crate::files::write`] or [`crate::remote::write`].
pub struct CsvFile {
    columns: usize,
    bytes: Vec<u8>,
}

impl CsvFile {
    /// A file holding only its header row.
    pub fn new(header: &[&str]) -> CsvFile {
        let mut file = CsvFile { columns: header.len(), bytes: Vec::new() };
        file.record(header);
        file
    }

    /// Appends one row; `None` and `""` are both written as `""`, as DIPEX writes a missing
    /// value.
    ///
    /// # Panics
    ///
    /// When the row has another number of fields than the header: a defect in the plugin, which
    /// would otherwise shift every later column for the reader.
    pub fn row<S: AsRef<str>>(&mut self, fields: &[Option<S>]) {
        let texts: Vec<&str> = fields.iter().map(|f| f.as_ref().map_or("", AsRef::as_ref)).collect();
        self.record(&texts);
    }

    fn record(&mut self, fields: &[&str]) {
        assert_eq!(fields.len(), self.columns, "a row has as many fields as the header");
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                self.bytes.push(b';');
            }
            self.bytes.push(b'"');
            self.bytes.extend_from_slice(field.replace('"', "\"\"").as_bytes());
            self.bytes.push(b'"');
        }
        self.bytes.extend_from_slice(b"\r\n");
    }

    /// The file's bytes: UTF-8, no byte order mark.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_quoted_quotes_doubled_and_records_end_in_crlf() {
        let mut file = CsvFile::new(&["AfdelingsID", "Afdelingsnavn"]);
        file.row(&[Some("1"), Some("Sko\"le; Nord\nA")]);
        file.row::<&str>(&[None, None]);
        assert_eq!(
            String::from_utf8(file.into_bytes()).unwrap(),
            "\"AfdelingsID\";\"Afdelingsnavn\"\r\n\"1\";\"Sko\"\"le; Nord\nA\"\r\n\"\";\"\"\r\n"
        );
    }

    #[test]
    fn an_empty_file_is_its_header() {
        assert_eq!(CsvFile::new(&["Primær"]).into_bytes(), "\"Primær\"\r\n".as_bytes());
    }

    #[test]
    #[should_panic(expected = "as many fields as the header")]
    fn a_row_of_another_width_is_refused() {
        CsvFile::new(&["A", "B"]).row(&[Some("only one")]);
    }
}
