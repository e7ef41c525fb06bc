//! The CSV dialect plan2learn reads, as DIPEX writes it: `;` between fields, every field in
//! double quotes with `"` doubled inside, CRLF after every record, UTF-8 without BOM, and the
//! header even when there are no rows.

/// A file being written: a header, then rows of the same width.
pub struct CsvFile {
    columns: usize,
    bytes: Vec<u8>,
}

impl CsvFile {
    pub fn new(header: &[&str]) -> CsvFile {
        let mut file = CsvFile { columns: header.len(), bytes: Vec::new() };
        file.record(header);
        file
    }

    /// Appends one row; `None` and `""` are both written as `""`.
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
}
