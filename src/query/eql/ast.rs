//! The faithful syntax tree: what the user wrote, with byte spans, before any rewriting.

use std::ops::Range;

pub type Span = Range<usize>;

/// A whole statement: the query and its pipes.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub query: QueryAst,
    pub pipes: Vec<Pipe>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryAst {
    Event(EventQuery),
    Sequence(SequenceAst),
    Sample(SampleAst),
}

/// `<category> where <condition>`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventQuery {
    /// `None` for `any`.
    pub category: Option<(String, Span)>,
    pub condition: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SequenceAst {
    pub by: Vec<Expr>,
    /// Milliseconds, and the span of the duration text.
    pub maxspan: Option<(i64, Span)>,
    pub stages: Vec<Stage>,
    pub until: Option<Stage>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SampleAst {
    pub by: Vec<Expr>,
    pub stages: Vec<Stage>,
    pub span: Span,
}

/// One bracketed filter of a sequence or sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub query: EventQuery,
    pub by: Vec<Expr>,
    /// `with runs=N`, and its span.
    pub runs: Option<(i64, Span)>,
    /// `![ … ]`: an event that must not occur.
    pub missing: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeKind {
    Head,
    Tail,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipe {
    pub kind: PipeKind,
    pub count: i64,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator after swapping operands (`1 < x` is `x > 1`).
    pub fn mirror(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    /// The logical inverse (`not (x < 1)` is `x >= 1`).
    pub fn negate(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Neq,
            CmpOp::Neq => CmpOp::Eq,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Le => CmpOp::Gt,
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Ge => CmpOp::Lt,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Neq => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// `:`, `like`, `regex` (with `insensitive` for `like~`, `regex~`; `:` is always insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Seq,
    Like,
    Regex,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Field {
        name: String,
        optional: bool,
    },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        insensitive: bool,
    },
    Match {
        expr: Box<Expr>,
        kind: MatchKind,
        insensitive: bool,
        patterns: Vec<Expr>,
    },
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Neg(Box<Expr>),
    Call {
        name: String,
        name_span: Span,
        insensitive: bool,
        args: Vec<Expr>,
    },
}

impl Expr {
    /// Direct sub-expressions, left to right.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Field { .. } => Vec::new(),
            ExprKind::Not(x) | ExprKind::Neg(x) => vec![x],
            ExprKind::And(xs) | ExprKind::Or(xs) => xs.iter().collect(),
            ExprKind::Cmp { left, right, .. } | ExprKind::Arith { left, right, .. } => {
                vec![left, right]
            }
            ExprKind::In { expr, list, .. } => std::iter::once(&**expr).chain(list).collect(),
            ExprKind::Match { expr, patterns, .. } => {
                std::iter::once(&**expr).chain(patterns).collect()
            }
            ExprKind::Call { args, .. } => args.iter().collect(),
        }
    }

    /// Calls `f` on every node, parents first, without recursion on the Rust stack.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            let mut kids = e.children();
            kids.reverse();
            stack.extend(kids);
        }
    }

    /// Depth of the tree (a leaf is 1), computed without recursion.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((e, d)) = stack.pop() {
            max = max.max(d);
            stack.extend(e.children().into_iter().map(|c| (c, d + 1)));
        }
        max
    }

    pub fn as_field(&self) -> Option<(&str, bool)> {
        match &self.kind {
            ExprKind::Field { name, optional } => Some((name, *optional)),
            _ => None,
        }
    }
}

impl Statement {
    /// Every expression in the statement (conditions and join keys), for walking.
    pub fn exprs(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        match &self.query {
            QueryAst::Event(q) => out.push(&q.condition),
            QueryAst::Sequence(s) => {
                out.extend(s.by.iter());
                for st in s.stages.iter().chain(s.until.iter()) {
                    out.push(&st.query.condition);
                    out.extend(st.by.iter());
                }
            }
            QueryAst::Sample(s) => {
                out.extend(s.by.iter());
                for st in &s.stages {
                    out.push(&st.query.condition);
                    out.extend(st.by.iter());
                }
            }
        }
        out
    }
}
