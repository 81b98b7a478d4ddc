//! The syntax tree of an ES|QL query, with byte spans into the source.

use std::ops::Range;

/// Byte offsets into the query source.
pub type Span = Range<usize>;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    /// An integer literal as written (it may not fit a `long`).
    Int(String),
    Decimal(f64),
    Str(String),
    /// `1 hour`, `7 days`: a count and its unit as written.
    Span(i64, String),
    /// `[1, 2, 3]`.
    List(Vec<Literal>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    /// `=~`: case-insensitive equality.
    EqIgnoreCase,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "==",
            BinOp::Neq => "!=",
            BinOp::Lt => "<",
            BinOp::Lte => "<=",
            BinOp::Gt => ">",
            BinOp::Gte => ">=",
            BinOp::EqIgnoreCase => "=~",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A column reference (`event.action`, `` `a b` ``).
    Field(String),
    /// `*` as the argument of `COUNT(*)`.
    Star,
    Call {
        name: String,
        args: Vec<Expr>,
    },
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        patterns: Vec<Expr>,
        negated: bool,
        regex: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    Cast {
        expr: Box<Expr>,
        to: String,
    },
    /// `field : "query"` (full-text match).
    Match {
        field: String,
        query: Box<Expr>,
    },
}

/// `name = expr`, or a bare `expr` named after its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub expr: Expr,
    /// For `STATS … agg WHERE cond`.
    pub filter: Option<Expr>,
    /// Where the name is written (the expression's span for an unnamed field).
    pub name_span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    /// `None`: the default (nulls last ascending, first descending).
    pub nulls_first: Option<bool>,
}

/// A name or a wildcard pattern (`emp*`, `*`).
#[derive(Debug, Clone, PartialEq)]
pub struct NamePattern {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    From {
        sources: Vec<String>,
        metadata: Vec<String>,
    },
    Row(Vec<Field>),
    Where(Expr),
    Eval(Vec<Field>),
    Stats {
        aggs: Vec<Field>,
        by: Vec<Field>,
        inline: bool,
    },
    Keep(Vec<NamePattern>),
    Drop(Vec<NamePattern>),
    Rename(Vec<(NamePattern, NamePattern)>),
    Sort(Vec<SortKey>),
    Limit(usize),
    MvExpand(NamePattern),
    Grok {
        input: Expr,
        pattern: String,
    },
    Dissect {
        input: Expr,
        pattern: String,
        append_separator: Option<String>,
    },
    /// A command this engine does not run (`COMPLETION`, `ENRICH`, …): parsed over, rejected
    /// by name when the query runs.
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub kind: CommandKind,
    pub span: Span,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self.kind {
            CommandKind::From { .. } => "FROM",
            CommandKind::Row(_) => "ROW",
            CommandKind::Where(_) => "WHERE",
            CommandKind::Eval(_) => "EVAL",
            CommandKind::Stats { inline: false, .. } => "STATS",
            CommandKind::Stats { inline: true, .. } => "INLINE STATS",
            CommandKind::Keep(_) => "KEEP",
            CommandKind::Drop(_) => "DROP",
            CommandKind::Rename(_) => "RENAME",
            CommandKind::Sort(_) => "SORT",
            CommandKind::Limit(_) => "LIMIT",
            CommandKind::MvExpand(_) => "MV_EXPAND",
            CommandKind::Grok { .. } => "GROK",
            CommandKind::Dissect { .. } => "DISSECT",
            CommandKind::Unsupported(_) => "unsupported command",
        }
    }
}

/// A whole query: the source command and the processing commands after it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryAst {
    pub commands: Vec<Command>,
    /// `SET name = value;` statements before the query.
    pub settings: Vec<(String, Literal)>,
}
