//! Typed errors with byte spans into the query source.
//!
//! Every error carries the byte range of the offending text so that a caller embedding the query
//! in a larger file (a TOML rule) can translate it to `file:line:column`.

use std::ops::Range;

/// What went wrong, coarsely; the message says precisely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EqlErrorKind {
    /// A character or token that cannot start anything (`'single'`, a stray `$`, a bad escape).
    Lex,
    /// Tokens in an order the grammar does not accept (`a < b <= c`, `process where`).
    Syntax,
    /// Nesting deeper than the parser's limit (hostile or generated input).
    NestingLimit,
    /// Parses, but Elasticsearch rejects it (field-vs-field comparison, wrong argument types).
    Verification,
    /// Valid EQL that Elasticsearch does not support (`| count`, `join`, array indexes).
    Unsupported,
    /// An index mapping that cannot be read.
    Mapping,
    /// A failure while running the query (a function raising an error, as in Elasticsearch).
    Runtime,
}

/// An EQL error: its kind, a human-readable message and the byte span in the query source.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EqlError {
    pub kind: EqlErrorKind,
    pub message: String,
    /// Byte offsets in the query source (empty at the end of input; `0..0` when not tied to text).
    pub span: Range<usize>,
}

impl EqlError {
    pub fn new(kind: EqlErrorKind, message: impl Into<String>, span: Range<usize>) -> Self {
        EqlError {
            kind,
            message: message.into(),
            span,
        }
    }

    pub(crate) fn lex(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(EqlErrorKind::Lex, message, span)
    }

    pub(crate) fn syntax(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(EqlErrorKind::Syntax, message, span)
    }

    pub(crate) fn verify(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(EqlErrorKind::Verification, message, span)
    }

    pub(crate) fn unsupported(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(EqlErrorKind::Unsupported, message, span)
    }
}
