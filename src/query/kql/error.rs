//! Errors of the KQL front end and compiler: a kind, a message and a byte span.

use std::ops::Range;

/// What went wrong. Each variant names one class of failure so callers can react without
/// parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KqlErrorKind {
    /// A `"` string runs to the end of the input, e.g. `f:"abc`.
    UnterminatedString,
    /// A backslash escape that KQL does not allow outside quotes, e.g. `f:C:\Windows`
    /// (`\W` is not an escape), or a `\u` escape that is not four hex digits.
    InvalidEscape,
    /// Something appeared where the grammar does not allow it, e.g. `f:(a or )`, `not not a`,
    /// `f: cannot login` (the literal stops before the keyword `not `).
    UnexpectedToken,
    /// The input ended where more was required, e.g. `f:` or `a and`.
    UnexpectedEnd,
    /// Parentheses, `not`s or nested `{}` deeper than [`super::MAX_DEPTH`].
    TooDeep,
    /// A literal that the field's mapping type cannot take, e.g. `process.pid:abc` (long) or
    /// `source.ip:foo` (ip); Elasticsearch would fail the whole search.
    InvalidValue,
    /// A query Elasticsearch rejects for the field's mapping type, or that cannot be replayed
    /// offline, e.g. a wildcard against an `ip` field or date math (`now-1d`).
    Unsupported,
}

/// A typed error with the byte range of `src` it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KqlError {
    pub kind: KqlErrorKind,
    pub message: String,
    pub span: Range<usize>,
}

impl KqlError {
    pub(crate) fn new(kind: KqlErrorKind, message: impl Into<String>, span: Range<usize>) -> Self {
        KqlError {
            kind,
            message: message.into(),
            span,
        }
    }
}
