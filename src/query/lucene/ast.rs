//! The Lucene query-string syntax tree.

use crate::query::kql::glob::GlobPart;

pub use crate::query::kql::Span;

/// How a clause takes part in its boolean query (Lucene `Occur`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occur {
    /// `+a`, or either side of `AND`.
    Must,
    /// The default operator (`OR`): optional when some clause is required.
    Should,
    /// `-a`, `!a`, `NOT a`.
    MustNot,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

/// A field as written: `None` is the default field (every field).
pub type Field = Option<String>;

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A clause list with its occurrences; Lucene's boolean query.
    Bool(Vec<(Occur, Node)>),
    /// `*:*` or a lone `*` on the default field.
    MatchAll,
    /// `_exists_:f` or `f:*`.
    Exists(String),
    /// A term: plain, or with `*`/`?` wildcards.
    Term { field: Field, parts: Vec<TermPart> },
    /// `"a phrase"` with optional `~slop`.
    Phrase {
        field: Field,
        text: String,
        slop: u32,
    },
    /// `term~N`.
    Fuzzy {
        field: Field,
        text: String,
        distance: u32,
    },
    /// `/regex/`.
    Regex { field: Field, pattern: String },
    /// `[a TO b]`, `{a TO b}`, mixed, `*` for an open end; also `f:>=5` and friends.
    Range {
        field: Field,
        lower: Option<String>,
        upper: Option<String>,
        include_lower: bool,
        include_upper: bool,
    },
}

/// One piece of a term: text, `*` or `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermPart {
    Text(String),
    Star,
    One,
}

impl TermPart {
    pub(crate) fn to_glob(&self) -> GlobPart {
        match self {
            TermPart::Text(t) => GlobPart::Lit(t.clone()),
            TermPart::Star => GlobPart::Star,
            TermPart::One => GlobPart::One,
        }
    }
}

/// The text of term parts with `*` and `?` spelled out.
pub(crate) fn parts_text(parts: &[TermPart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            TermPart::Text(t) => t.as_str(),
            TermPart::Star => "*",
            TermPart::One => "?",
        })
        .collect()
}
