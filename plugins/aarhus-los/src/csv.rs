//! The CSV dialects of the LOS files: Python's `csv` module as DIPEX used it.
//!
//! Reading: `;` between cells, `"` quotes with `""` inside, quoted cells may hold `;` and line
//! breaks, CRLF or LF line ends, blank lines skipped, the first line the header. Writing (the DAR
//! failure list): `#` between cells, CRLF, quotes only where needed (Python's QUOTE_MINIMAL).

use crate::error::RowError;

/// A file read into header and records, each record knowing the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based physical line the record starts on (the header is line 1).
    pub line: usize,
    pub cells: Vec<String>,
}

/// One cell of a record, by column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell<'a> {
    /// 1-based.
    pub column: usize,
    pub header: &'a str,
    /// `None` when the cell is exactly empty or the record is shorter than the header: DIPEX
    /// drops empty cells before validation, so they count as absent. Whitespace is kept.
    pub text: Option<&'a str>,
}

impl Table {
    /// The 0-based index of the column with exactly this header.
    pub fn column(&self, header: &str) -> Option<usize> {
        self.header.iter().position(|name| name == header)
    }

    pub fn cell<'a>(&'a self, record: &'a Record, index: usize) -> Cell<'a> {
        Cell {
            column: index + 1,
            header: &self.header[index],
            text: record.cells.get(index).map(String::as_str).filter(|text| !text.is_empty()),
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The longest cell a LOS file has a use for (names, addresses and e-mails are far shorter): a
/// longer one is a broken file, not a unit name to write to MO.
pub const MAX_CELL_CHARS: usize = 1000;
/// More columns than any LOS file has.
pub const MAX_COLUMNS: usize = 100;

/// Each cell longer than [`MAX_CELL_CHARS`], as a row error naming its column.
fn overlong_cells(file: &str, line: usize, cells: &[String], header: &[String]) -> Vec<RowError> {
    cells
        .iter()
        .enumerate()
        .filter_map(|(index, cell)| {
            let length = cell.chars().count();
            (length > MAX_CELL_CHARS).then(|| {
                let name = header.get(index).map_or_else(|| format!("column {}", index + 1), Clone::clone);
                RowError::new(
                    file,
                    line,
                    Some((index + 1, name)),
                    format!(
                        "the cell holds {length} characters; a LOS cell holds at most {MAX_CELL_CHARS} \
                         (is a quote missing its end?)"
                    ),
                )
            })
        })
        .collect()
}

/// Reads a whole file. Every line that is not UTF-8 is reported; otherwise every record with
/// more cells than the header, and an unterminated quote (which swallows the rest of the file).
pub fn read(file: &str, bytes: &[u8]) -> Result<Table, Vec<RowError>> {
    // DIPEX read a BOM as part of the first header name and then failed; moport skips it.
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let text = decode(file, bytes)?;
    let mut rows = split_records(file, text)?.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(vec![RowError::new(file, 1, None, "the file is empty; expected a header line first")]);
    };
    if header.len() > MAX_COLUMNS {
        let message = format!("the header has {} columns; a LOS file has at most {MAX_COLUMNS}", header.len());
        return Err(vec![RowError::new(file, 1, None, message)]);
    }
    let mut errors = overlong_cells(file, 1, &header, &header);
    let mut records = Vec::new();
    for (line, cells) in rows {
        let overlong = overlong_cells(file, line, &cells, &header);
        if !overlong.is_empty() {
            errors.extend(overlong);
        } else if cells.len() > header.len() {
            errors.push(RowError::new(
                file,
                line,
                None,
                format!(
                    "{} cells but the header has {} columns; quote a cell that contains `;`",
                    cells.len(),
                    header.len()
                ),
            ));
        } else {
            records.push(Record { line, cells });
        }
    }
    if errors.is_empty() { Ok(Table { header, records }) } else { Err(errors) }
}

fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, Vec<RowError>> {
    std::str::from_utf8(bytes).map_err(|_| {
        bytes
            .split(|byte| *byte == b'\n')
            .enumerate()
            .filter(|(_, line)| std::str::from_utf8(line).is_err())
            .map(|(index, _)| RowError::new(file, index + 1, None, "the line is not UTF-8; save the file as UTF-8"))
            .collect()
    })
}

/// Splits text into records of cells, each with the line it starts on; blank lines are skipped
/// as Python's `csv.DictReader` skips them.
fn split_records(file: &str, text: &str) -> Result<Vec<(usize, Vec<String>)>, Vec<RowError>> {
    #[derive(PartialEq)]
    enum State {
        /// At the start of a cell.
        CellStart,
        Unquoted,
        Quoted,
        /// After the closing quote: Python appends anything up to the delimiter as it is.
        AfterQuote,
    }
    let mut records = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut state = State::CellStart;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if state == State::Quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => state = State::AfterQuote,
                other => {
                    line += usize::from(other == '\n');
                    cell.push(other);
                }
            }
            continue;
        }
        match c {
            ';' => {
                cells.push(std::mem::take(&mut cell));
                state = State::CellStart;
            }
            '"' if state == State::CellStart => state = State::Quoted,
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                let blank = cells.is_empty() && cell.is_empty() && state == State::CellStart;
                if !blank {
                    cells.push(std::mem::take(&mut cell));
                    records.push((record_line, std::mem::take(&mut cells)));
                }
                state = State::CellStart;
                line += 1;
                record_line = line;
            }
            other => {
                if state == State::CellStart {
                    state = State::Unquoted;
                }
                cell.push(other);
            }
        }
    }
    if state == State::Quoted {
        return Err(vec![RowError::new(
            file,
            record_line,
            None,
            "a quoted cell is never closed; end it with `\"` (write `\"\"` for a quote inside it)",
        )]);
    }
    if !(cells.is_empty() && cell.is_empty() && state == State::CellStart) {
        cells.push(cell);
        records.push((record_line, cells));
    }
    Ok(records)
}

/// The DAR failure list (§5.7): header `org_uuid#post_address`, one row per (unit, address).
pub fn failed_addresses_csv(rows: &[(String, String)]) -> Vec<u8> {
    let mut text = String::from("org_uuid#post_address\r\n");
    for (org_uuid, address) in rows {
        text.push_str(&minimal_quote(org_uuid));
        text.push('#');
        text.push_str(&minimal_quote(address));
        text.push_str("\r\n");
    }
    text.into_bytes()
}

fn minimal_quote(field: &str) -> String {
    if field.contains(['#', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(table: &Table) -> Vec<(usize, Vec<&str>)> {
        table.records.iter().map(|r| (r.line, r.cells.iter().map(String::as_str).collect())).collect()
    }

    #[test]
    fn an_overlong_cell_or_header_is_refused_where_it_is() {
        let long = "x".repeat(MAX_CELL_CHARS + 1);
        let errors = read("f.csv", format!("A;B\n1;{long}\n2;ok\n").as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1);
        let shown = errors[0].to_string();
        assert!(
            shown.starts_with("f.csv:2:2 (B)") && shown.contains("1001 characters; a LOS cell holds at most 1000"),
            "{shown}"
        );
        assert!(read("f.csv", format!("A;B\n1;{}\n", "x".repeat(MAX_CELL_CHARS)).as_bytes()).is_ok());
        let wide = vec!["C"; MAX_COLUMNS + 1].join(";");
        let errors = read("f.csv", format!("{wide}\n").as_bytes()).unwrap_err();
        assert!(errors[0].to_string().contains("101 columns; a LOS file has at most 100"), "{}", errors[0]);
    }

    #[test]
    fn quoted_cells_hold_delimiters_quotes_and_line_breaks() {
        let table =
            read("f.csv", b"A;B;C\r\n1;\"x;y\";\"say \"\"hi\"\"\"\r\n\r\n2;\"two\r\nlines\";\n3;;\"\"").unwrap();
        assert_eq!(table.header, ["A", "B", "C"]);
        assert_eq!(
            cells(&table),
            [(2, vec!["1", "x;y", "say \"hi\""]), (4, vec!["2", "two\r\nlines", ""]), (6, vec!["3", "", ""])]
        );
        let third = &table.records[2];
        assert_eq!(table.cell(third, 1), Cell { column: 2, header: "B", text: None });
    }

    #[test]
    fn python_quirks_a_quote_inside_a_cell_and_text_after_a_closing_quote_are_kept() {
        let table = read("f.csv", b"A;B\na\"b;\"c\"d\n").unwrap();
        assert_eq!(cells(&table), [(2, vec!["a\"b", "cd"])]);
    }

    #[test]
    fn a_short_record_has_absent_cells_and_whitespace_is_not_empty() {
        let table = read("f.csv", b"A;B;C\n \n").unwrap();
        let record = &table.records[0];
        assert_eq!(table.cell(record, 0).text, Some(" "));
        assert_eq!(table.cell(record, 2).text, None);
    }

    #[test]
    fn a_bom_is_skipped() {
        assert_eq!(read("f.csv", b"\xEF\xBB\xBFA;B\n1;2\n").unwrap().header, ["A", "B"]);
    }

    #[test]
    fn structural_errors_name_the_line() {
        let errors = read("f.csv", b"A;B\n1;2;3\n1;2\n4;5;6\n").unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 4]);
        assert!(errors[0].to_string().starts_with("f.csv:2: 3 cells but the header has 2 columns"));
        let errors = read("f.csv", b"A;B\n1;2\n3;\"open\n4;5\n").unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "f.csv:3: a quoted cell is never closed; end it with `\"` (write `\"\"` for a quote inside it)"
        );
        let errors = read("f.csv", b"A;B\n1;2\n\xff;2\n3;\xc3\n").unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
        assert!(errors[0].message.contains("not UTF-8"));
        assert_eq!(read("f.csv", b"").unwrap_err()[0].line, 1);
    }

    #[test]
    fn the_failure_list_is_quoted_minimally_with_crlf() {
        let rows = [
            ("aaaaaaaa-0000-0000-0000-000000000000".to_owned(), "Ukendtvej 99".to_owned()),
            ("u".to_owned(), "Vej #2, \"B\"".to_owned()),
        ];
        assert_eq!(
            String::from_utf8(failed_addresses_csv(&rows)).unwrap(),
            "org_uuid#post_address\r\naaaaaaaa-0000-0000-0000-000000000000#Ukendtvej 99\r\nu#\"Vej #2, \"\"B\"\"\"\r\n"
        );
    }
}
