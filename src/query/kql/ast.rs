//! The KQL syntax tree. It keeps what was written (quoting, wildcards, spans) so diagnostics can
//! point at it; meaning per field type is decided later by [`super::compile`].

use std::ops::Range;

/// Byte range in the source text.
pub type Span = Range<usize>;

/// One piece of an unquoted value: literal text or the wildcard `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// Unescaped `*`: any run of characters.
    Star,
}

/// What a literal denotes once escapes are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiteralValue {
    /// Quoted text, or unquoted text without an unescaped `*`. Numbers stay strings: the
    /// field's mapping decides how to read them.
    Str(String),
    /// Unquoted text with at least one unescaped `*`.
    Wildcard(Vec<Part>),
    /// The bare words `true` / `false`.
    Bool(bool),
    /// The bare word `null`.
    Null,
}

/// A field name or value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub value: LiteralValue,
    pub quoted: bool,
    pub span: Span,
}

impl Literal {
    /// The text of the literal, with `*` for each wildcard and keywords spelled out. Used for
    /// field names and for the string form of `true`/`false`/`null`.
    pub fn text(&self) -> String {
        match &self.value {
            LiteralValue::Str(s) => s.clone(),
            LiteralValue::Wildcard(parts) => parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.as_str(),
                    Part::Star => "*",
                })
                .collect(),
            LiteralValue::Bool(b) => b.to_string(),
            LiteralValue::Null => "null".to_string(),
        }
    }

    /// True for the lone wildcard `*` (existence test in `f:*`, match-all in `*:*`).
    pub fn is_lone_star(&self) -> bool {
        matches!(&self.value, LiteralValue::Wildcard(p) if p.iter().all(|p| *p == Part::Star))
    }
}

/// Range operators of `f < v`, `f <= v`, `f > v`, `f >= v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl RangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            RangeOp::Lt => "<",
            RangeOp::Lte => "<=",
            RangeOp::Gt => ">",
            RangeOp::Gte => ">=",
        }
    }
}

/// A node of the query tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// `a or b or c` (two or more).
    Or(Vec<Node>),
    /// `a and b and c` (two or more).
    And(Vec<Node>),
    /// `not a`.
    Not(Box<Node>),
    /// `field: values` where values may be a list with its own boolean structure.
    Is { field: Literal, values: ValueNode },
    /// `field op value`.
    Range {
        field: Literal,
        op: RangeOp,
        value: Literal,
    },
    /// `path:{ query }`: the inner fields are relative to `path`.
    Nested { path: Literal, query: Box<Node> },
    /// A value without a field: searched in every field.
    FreeText(Literal),
}

/// The right-hand side of `field:` — a value or a parenthesised list of values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueNode {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    Or(Vec<ValueNode>),
    And(Vec<ValueNode>),
    Not(Box<ValueNode>),
    Value(Literal),
}
