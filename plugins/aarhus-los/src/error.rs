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
    pub fn new(file: &str, line: usize, column: Option<(usize, String)>, message: impl Into<String>) -> RowError {
        RowError { file: file.to_owned(), line, column, message: message.into() }
    }
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
