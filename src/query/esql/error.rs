//! Typed errors with byte spans into the query source.

use std::ops::Range;

/// What went wrong, coarsely; the message says precisely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EsqlErrorKind {
    /// A character or token that cannot start anything (an unterminated string, a stray `$`).
    Lex,
    /// Tokens in an order the grammar does not accept.
    Syntax,
    /// Nesting deeper than the parser's limit (hostile or generated input).
    NestingLimit,
    /// Parses, but Elasticsearch rejects it (unknown column, wrong argument types).
    Verification,
    /// Valid ES|QL that this engine does not run (`COMPLETION`, `ENRICH`, an unknown function).
    Unsupported,
    /// A failure while running the query.
    Runtime,
}

/// An ES|QL error: its kind, a message and the byte span in the query source.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EsqlError {
    pub kind: EsqlErrorKind,
    pub message: String,
    /// Byte offsets in the query source (`0..0` when not tied to text).
    pub span: Range<usize>,
}

impl EsqlError {
    pub fn new(kind: EsqlErrorKind, message: impl Into<String>, span: Range<usize>) -> Self {
        EsqlError {
            kind,
            message: message.into(),
            span,
        }
    }
    pub(crate) fn lex(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(EsqlErrorKind::Lex, message, span)
    }
    pub(crate) fn syntax(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(EsqlErrorKind::Syntax, message, span)
    }
    pub(crate) fn verify(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(EsqlErrorKind::Verification, message, span)
    }
    pub(crate) fn unsupported(message: impl Into<String>, span: Range<usize>) -> Self {
        Self::new(EsqlErrorKind::Unsupported, message, span)
    }
}
