//! Diagnostics: what every layer reports to the user, with a stable code and a source span.
//!
//! Spans are byte offsets into the file's text; line and column are computed only when printing
//! (see [`LineIndex`]).

use std::ops::Range;
use std::path::{Path, PathBuf};

pub type Span = Range<usize>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding. `code` is stable (e.g. `RF103`); `span` points into `file` when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: Option<PathBuf>,
    pub span: Option<Span>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: None,
            span: None,
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, file: &Path, span: Option<Span>) -> Self {
        self.file = Some(file.to_path_buf());
        self.span = span;
        self
    }

    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// 1-based line and column (column counted in characters) of byte offsets in a text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// (line, column), both 1-based. Offsets past the end clamp to the end.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).map(|e| e - 1).unwrap_or(text.len());
        text.get(start..end.max(start)).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "ab\né\nxyz";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        // 'é' is two bytes; the offset after it is column 2.
        assert_eq!(idx.line_col(text, 5), (2, 2));
        assert_eq!(idx.line_col(text, 8), (3, 3));
        assert_eq!(idx.line_text(text, 3), "xyz");
        assert_eq!(idx.line_text(text, 1), "ab");
        assert_eq!(idx.line_text(text, 9), "");
    }
}

/// Text from rule files and recordings made safe for a terminal or a line-oriented file:
/// control characters (ANSI escapes, carriage returns, newlines), DEL, C1 controls and Unicode
/// direction overrides are written as `\n`, `\t`, `\u{1b}`…, so a value can neither recolour the
/// terminal nor forge a line (`fixture: … (benign)`) in a snapshot. Backslashes stay as they are:
/// Windows paths must stay readable, and a literal `\n` cannot break a line.
pub fn escape_control(s: &str) -> std::borrow::Cow<'_, str> {
    escape_inner(s, false)
}

/// Like [`escape_control`], but keeps newlines and tabs: for multi-line text (diffs, details) whose lines
/// come from sources that were escaped already or are ours.
pub fn escape_control_lines(s: &str) -> std::borrow::Cow<'_, str> {
    escape_inner(s, true)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape_inner(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let special = |c: char| needs_escape(c) && !(keep_newlines && matches!(c, '\n' | '\t'));
    if !s.chars().any(special) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\t' if keep_newlines => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if special(c) => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    #[test]
    fn control_characters_and_line_breaks_cannot_forge_output() {
        let forged = "x\n\nfixture: fixtures/a (benign)\x1b[2K\r\u{202e}";
        let e = escape_control(forged);
        assert!(!e.contains('\n') && !e.contains('\x1b') && !e.contains('\r'));
        assert_eq!(
            e,
            "x\\n\\nfixture: fixtures/a (benign)\\u{1b}[2K\\r\\u{202e}"
        );
        assert_eq!(escape_control("C:\\Windows\\x.exe"), "C:\\Windows\\x.exe");
        assert!(matches!(
            escape_control("plain text"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(escape_control_lines("a\n\tb\x1bc"), "a\n\tb\\u{1b}c");
    }
}
