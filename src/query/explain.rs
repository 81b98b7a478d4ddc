//! Why an event matches a query or not, in any query language: the query as a tree of
//! clauses, each with its value on the event and the field values it read, the clause that
//! decided the outcome, and for a near miss the smallest change that would flip it. The EQL and
//! KQL explainers build the tree; this module finds the deciding clause and renders it.

use serde_json::Value;
use std::ops::Range;

/// Byte span in the query source.
pub type Span = Range<usize>;

/// What a clause is, for the deciding-clause search and for rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseKind {
    /// `a and b and …` (the whole query is one: category and condition).
    All,
    /// `a or b or …`.
    Any,
    /// `not a`.
    Not,
    /// A list test (`in`, `like`, `:`, `regex`) split into its elements; `negated` for
    /// `not in`.
    List { negated: bool },
    /// One element of a list test, as the positive test `field == "x"`.
    Member,
    /// Any other test (a comparison, a function call, a script).
    Leaf,
}

/// One clause of the query, evaluated on one event.
#[derive(Debug, Clone)]
pub struct Clause {
    pub kind: ClauseKind,
    /// The clause as written (whitespace collapsed), or synthesized for list members.
    pub text: String,
    pub span: Span,
    /// The clause's value on the event, in query context (a missing field fails a test).
    pub holds: bool,
    /// Fields the clause reads and their values on the event (leaves and lists only).
    pub reads: Vec<(String, Vec<Value>)>,
    pub children: Vec<Clause>,
}

/// The explanation of one event against an event query (or one sequence stage).
#[derive(Debug, Clone)]
pub struct EventExplanation {
    pub matched: bool,
    /// `All` of the category filter and the condition's top-level conjuncts.
    pub root: Clause,
    /// Path (child indexes from the root) of the clause that decided the outcome, when one
    /// clause alone did.
    pub deciding: Option<Vec<usize>>,
    /// Top-level clauses that would have to change for the outcome to flip (0 when matched).
    pub failing: usize,
    /// For a near miss (one failing top-level clause): what would flip the outcome.
    pub flip: Option<String>,
}

impl EventExplanation {
    /// The explanation of a tree whose root is the `All` of the query's top-level clauses:
    /// the outcome, the deciding clause and, for a near miss, what would flip it.
    pub fn from_root(root: Clause) -> EventExplanation {
        let matched = root.holds;
        let failing = root.children.iter().filter(|c| !c.holds).count();
        let deciding = if matched {
            None
        } else {
            Some(deciding_path(&root)).filter(|p| !p.is_empty())
        };
        let mut x = EventExplanation {
            matched,
            root,
            deciding,
            failing,
            flip: None,
        };
        if failing == 1 {
            x.flip = x.deciding_clause().map(flip_text);
        }
        x
    }

    /// The deciding clause, if any.
    pub fn deciding_clause(&self) -> Option<&Clause> {
        let path = self.deciding.as_ref()?;
        let mut c = &self.root;
        for &i in path {
            c = c.children.get(i)?;
        }
        Some(c)
    }

    /// The value of the clause at `span` on this event, if the tree has one there.
    pub fn holds_at(&self, span: &Span) -> Option<bool> {
        let mut stack = vec![&self.root];
        while let Some(c) = stack.pop() {
            if &c.span == span {
                return Some(c.holds);
            }
            stack.extend(c.children.iter());
        }
        None
    }

    /// The explanation as an indented tree, one clause a line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let deciding = self.deciding.as_deref();
        render_clause(&self.root, &mut Vec::new(), deciding, 0, &mut out);
        match self.deciding_clause() {
            Some(c) => {
                out.push_str(&format!("deciding clause: {}", c.text));
                if let Some(r) = reads_text(c) {
                    out.push_str(&format!(" ({r})"));
                }
                out.push('\n');
            }
            None if self.matched => out.push_str("every clause held\n"),
            None => out.push_str(&format!(
                "{} top-level clauses failed; no single clause decided\n",
                self.failing
            )),
        }
        if let Some(f) = &self.flip {
            out.push_str(&format!("near miss: {f}\n"));
        }
        out
    }
}

fn reads_text(c: &Clause) -> Option<String> {
    if c.reads.is_empty() {
        return None;
    }
    let parts: Vec<String> = c
        .reads
        .iter()
        .map(|(f, vals)| match vals.as_slice() {
            [] => format!("{f} missing"),
            [v] => format!("{f} = {v}"),
            vs => {
                let shown: Vec<String> = vs.iter().take(8).map(|v| v.to_string()).collect();
                let more = if vs.len() > 8 { ", …" } else { "" };
                format!("{f} = [{}{more}]", shown.join(", "))
            }
        })
        .collect();
    Some(parts.join("; "))
}

fn render_clause(
    c: &Clause,
    path: &mut Vec<usize>,
    deciding: Option<&[usize]>,
    depth: usize,
    out: &mut String,
) {
    let mark = if c.holds { "true " } else { "false" };
    let label = match c.kind {
        ClauseKind::All if depth == 0 => "all of:".to_string(),
        ClauseKind::All => format!("all of: {}", c.text),
        ClauseKind::Any => format!("any of: {}", c.text),
        _ => c.text.clone(),
    };
    out.push_str(&format!("{}[{mark}] {label}", "  ".repeat(depth)));
    if !matches!(c.kind, ClauseKind::All | ClauseKind::Any | ClauseKind::Not)
        && let Some(r) = reads_text(c)
    {
        out.push_str(&format!("  <- {r}"));
    }
    if deciding == Some(path.as_slice()) {
        out.push_str("  <== deciding");
    }
    out.push('\n');
    for (i, k) in c.children.iter().enumerate() {
        path.push(i);
        render_clause(k, path, deciding, depth + 1, out);
        path.pop();
    }
}

/// Follows the single clause responsible for the outcome down the tree: a false `and` is
/// decided by its only false part, a true `or` by its only true part, a `not` by its operand,
/// a list by its only element that held.
fn deciding_path(root: &Clause) -> Vec<usize> {
    let mut path = Vec::new();
    let mut c = root;
    loop {
        let pick: Vec<usize> = match c.kind {
            ClauseKind::All if !c.holds => indexes(c, false),
            ClauseKind::Any if c.holds => indexes(c, true),
            ClauseKind::Not => vec![0],
            ClauseKind::List { negated } if c.holds != negated => indexes(c, true),
            _ => Vec::new(),
        };
        match pick.as_slice() {
            [i] if *i < c.children.len() => {
                path.push(*i);
                c = &c.children[*i];
            }
            _ => return path,
        }
    }
}

fn indexes(c: &Clause, holds: bool) -> Vec<usize> {
    (0..c.children.len())
        .filter(|&i| c.children[i].holds == holds)
        .collect()
}

/// What would flip a near miss whose single failing top-level clause leads to `c`.
fn flip_text(c: &Clause) -> String {
    let field = c.reads.first().map(|(f, _)| f.as_str());
    let want = if c.holds { "false" } else { "true" };
    let mut s = format!("the event would match if `{}` were {want}", c.text);
    if c.kind == ClauseKind::Member
        && c.holds
        && let Some(f) = field
    {
        s.push_str(&format!(
            " (an exclusion: removing it from the query, or another value of {f}, makes the event alert)"
        ));
    }
    s
}
