//! The one error shape for everything wrong in the input files: where it is and what to write
//! instead, so the operator can fix the file without reading code.

use std::fmt;

/// A problem in an input file, at a line and (when one cell is to blame) a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// 1-based physical line; the header is line 1.
    pub line: usize,
    /// 1-based column number and the header name of that column.
    pub column: Option<(usize, String)>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl RowError {
    /// A message quoting a cell may quote a CPR number (a shifted row puts it under another
    /// header): runs of ten digits show only their first six, the birth date, as DIPEX logged them.
    pub fn new(file: &str, line: usize, column: Option<(usize, String)>, message: impl Into<String>) -> RowError {
        RowError { file: file.to_owned(), line, column, message: mask_cpr_numbers(&message.into()) }
    }
}

fn mask_cpr_numbers(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, masked: &mut String| {
        if digits.len() == 10 {
            masked.push_str(&digits[..6]);
            masked.push_str("****");
        } else {
            masked.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut masked);
            masked.push(c);
        }
    }
    flush(&mut digits, &mut masked);
    masked
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some((number, header)) => write!(f, "{}:{}:{number} ({header}): {}", self.file, self.line, self.message),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.message),
        }
    }
}

impl std::error::Error for RowError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_digit_runs_show_six() {
        let error = RowError::new("Leder_nye.csv", 2, None, "\"0101011234\" is not a UUID; 12345678901 and 2024 stay");
        assert_eq!(error.message, "\"010101****\" is not a UUID; 12345678901 and 2024 stay");
    }
}
