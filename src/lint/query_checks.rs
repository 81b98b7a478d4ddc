//! The field and value checks of one query, shared by the lints (RF604 unknown-field, RF624
//! ecs-allowed-value, RF625 value-type) and by `eval`, which reports them as warnings on an
//! ad-hoc query. Spans are byte ranges in the query text.

use std::collections::HashSet;
use std::ops::Range;

use super::comparisons::{self, Comparison, Op, Value};
use super::schema::{AllowedValues, FieldSchema, eql_fields, kql_fields};
use crate::query::{eql, esql, kql};

/// A finding on a query, located in the query text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFinding {
    pub code: &'static str,
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

/// A parsed query.
#[derive(Clone, Copy)]
pub enum Parsed<'a> {
    Eql(&'a eql::Query),
    Kql(&'a kql::Query),
}

impl Parsed<'_> {
    fn comparisons(self) -> Vec<Comparison> {
        match self {
            Parsed::Eql(q) => comparisons::eql(q),
            Parsed::Kql(q) => comparisons::kql(q),
        }
    }
}

/// RF604: fields no schema knows, with a suggestion one edit away.
pub fn unknown_fields(parsed: Parsed<'_>) -> Vec<QueryFinding> {
    let refs = match parsed {
        Parsed::Eql(q) => eql_fields(q),
        Parsed::Kql(q) => kql_fields(q),
    };
    let schema = FieldSchema::builtin();
    refs.into_iter()
        .filter(|(name, _)| !schema.accepts(name))
        .map(|(name, span)| QueryFinding {
            code: "RF604",
            help: Some(match schema.suggest(&name) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "check the spelling against the rule's index schemas, or mark an EQL field optional with `?`".to_string(),
            }),
            message: format!("unknown field `{name}`: not in the ECS, beats, endgame, endpoint, non-ECS or integration schemas"),
            span,
        })
        .collect()
}

/// RF628: ES|QL columns a command reads that no schema knows and no earlier command
/// created (`EVAL`, `STATS`, `RENAME`, `GROK`/`DISSECT` keys, `FROM … METADATA`). After a
/// command whose columns cannot be known (one the parser skips over, such as `ENRICH`), nothing
/// more is checked: a column it may create must not be reported.
pub fn esql_unknown_fields(q: &esql::Query) -> Vec<QueryFinding> {
    let schema = FieldSchema::builtin();
    let mut created: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for command in &q.ast.commands {
        let flow = command.column_flow();
        // `EVAL a = …, b = a + 1` reads a column the same command created.
        let own: HashSet<&str> = match (&command.kind, &flow.creates) {
            (esql::CommandKind::Eval(_) | esql::CommandKind::Row(_), Some(names)) => {
                names.iter().map(String::as_str).collect()
            }
            _ => HashSet::new(),
        };
        for (name, span) in flow.reads {
            if created.contains(&name) || own.contains(name.as_str()) || schema.accepts(&name) {
                continue;
            }
            out.push(QueryFinding {
                code: "RF628",
                help: Some(match schema.suggest(&name) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "check the spelling against the index schemas, or create the column first (EVAL, STATS, RENAME, GROK, DISSECT)".to_string(),
                }),
                message: format!("unknown field `{name}`: not in the field schemas, and no earlier command creates it"),
                span,
            });
        }
        match flow.creates {
            Some(names) => created.extend(names),
            None => break,
        }
    }
    out
}

/// A `*`/`?` wildcard match of a short text, by dynamic programming (no backtracking).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // row[j]: pattern prefix matches text prefix of length j.
    let mut row = vec![false; t.len() + 1];
    row[0] = true;
    for &pc in &p {
        let mut next = vec![false; t.len() + 1];
        if pc == '*' {
            let mut any = false;
            for j in 0..=t.len() {
                any |= row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=t.len() {
                next[j] = row[j - 1] && (pc == '?' || pc == t[j - 1]);
            }
        }
        row = next;
    }
    row[t.len()]
}

fn allowed_value_finding(
    allowed: &AllowedValues,
    field: &str,
    value: &str,
    span: Range<usize>,
    pattern: bool,
    insensitive: bool,
) -> Option<QueryFinding> {
    let fold = |s: &str| {
        if insensitive {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let v = fold(value);
    let ok = allowed.values(field).iter().any(|a| {
        let a = fold(a);
        if pattern { glob(&v, &a) } else { v == a }
    });
    if ok {
        return None;
    }
    let help = match allowed.suggest(field, value).filter(|_| !pattern) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let all: Vec<&str> = allowed.values(field).iter().map(|v| &**v).collect();
            format!("ECS allows: {}", all.join(", "))
        }
    };
    let what = if pattern { "matches no" } else { "is not an" };
    Some(QueryFinding {
        code: "RF624",
        message: format!("`{field}` value `{value}` {what} ECS allowed value"),
        span,
        help: Some(help),
    })
}

/// RF624: values of `event.kind`/`event.category`/`event.type`/`event.outcome` outside ECS's
/// allowed values, and EQL event categories (`proces where`) when the category field is
/// `event.category`.
pub fn allowed_values(parsed: Parsed<'_>, category_is_event_category: bool) -> Vec<QueryFinding> {
    let allowed = AllowedValues::builtin();
    let mut out = Vec::new();
    if let (Parsed::Eql(q), true) = (parsed, category_is_event_category) {
        for (cat, span) in eql_categories(q) {
            out.extend(allowed_value_finding(
                allowed,
                "event.category",
                cat,
                span.clone(),
                false,
                false,
            ));
        }
    }
    for c in parsed.comparisons() {
        let Value::Str(v) = &c.value else { continue };
        if !allowed.restricts(&c.field) {
            continue;
        }
        let pattern = match c.op {
            Op::Equals => false,
            Op::Wildcard | Op::Like => true,
            _ => continue,
        };
        out.extend(allowed_value_finding(
            allowed,
            &c.field,
            v,
            c.value_span.clone(),
            pattern,
            c.insensitive,
        ));
    }
    out
}

/// The event categories of an EQL query's (stage) filters, `any` excluded.
fn eql_categories(q: &eql::Query) -> Vec<(&str, &Range<usize>)> {
    use crate::query::eql::QueryAst;
    let s = q.statement();
    let queries: Vec<&eql::ast::EventQuery> = match &s.query {
        QueryAst::Event(e) => vec![e],
        QueryAst::Sequence(seq) => seq
            .stages
            .iter()
            .chain(seq.until.iter())
            .map(|st| &st.query)
            .collect(),
        QueryAst::Sample(smp) => smp.stages.iter().map(|st| &st.query).collect(),
    };
    queries
        .into_iter()
        .filter_map(|e| e.category.as_ref())
        .map(|(c, span)| (c.as_str(), span))
        .collect()
}

/// The family of a mapping type, for RF625.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Number,
    Str,
    Ip,
    Bool,
    Other,
}

fn family(ty: &str) -> Family {
    match ty {
        "long" | "integer" | "short" | "byte" | "double" | "float" | "half_float"
        | "scaled_float" | "unsigned_long" | "number" => Family::Number,
        "keyword" | "wildcard" | "constant_keyword" | "text" | "match_only_text" => Family::Str,
        "ip" => Family::Ip,
        "boolean" => Family::Bool,
        _ => Family::Other,
    }
}

fn is_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok_and(f64::is_finite)
}

fn is_ip_or_cidr(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    addr.parse::<std::net::IpAddr>().is_ok()
        && prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|n| n <= 128))
}

/// Why `c` cannot work on a field of family `f` (`None` when it can).
fn mismatch(c: &Comparison, f: Family, kql: bool) -> Option<String> {
    let string_op = matches!(
        c.op,
        Op::Wildcard | Op::Like | Op::Regex | Op::StringFunction
    ) || (!kql && c.operator == ":");
    if string_op && matches!(f, Family::Number | Family::Bool | Family::Ip) {
        let what = match c.op {
            Op::Wildcard if kql => "a wildcard value".to_string(),
            _ => format!("`{}`", c.operator),
        };
        return Some(format!("{what} needs a string field"));
    }
    if c.op == Op::Cidr && f != Family::Ip {
        return Some("`cidrMatch` needs an `ip` field".into());
    }
    if !matches!(c.op, Op::Equals | Op::Range) {
        return None;
    }
    match (&c.value, f) {
        (Value::Str(s), Family::Number) if kql && is_number(s) => None,
        (Value::Str(_), Family::Number) => Some("a number field compared with a string".into()),
        (Value::Int(_) | Value::Float(_), Family::Str) => {
            Some("a string field compared with a number".into())
        }
        (Value::Int(_) | Value::Float(_) | Value::Bool(_), Family::Ip) => {
            Some("an `ip` field compared with a non-address".into())
        }
        (Value::Str(s), Family::Ip) if !is_ip_or_cidr(s) => {
            Some(format!("`{s}` is not an IP address or CIDR block"))
        }
        (Value::Str(s), Family::Bool) if !(kql && matches!(s.as_str(), "true" | "false")) => {
            Some("a boolean field compared with a string".into())
        }
        (Value::Int(_) | Value::Float(_), Family::Bool) => {
            Some("a boolean field compared with a number".into())
        }
        _ => None,
    }
}

/// RF625: a value or operator the field's type cannot take (a wildcard or `like` on a number,
/// `cidrMatch` on a non-ip, a number compared with a keyword, …).
pub fn value_types(parsed: Parsed<'_>) -> Vec<QueryFinding> {
    let schema = FieldSchema::builtin();
    let kql = matches!(parsed, Parsed::Kql(_));
    let mut out = Vec::new();
    for c in parsed.comparisons() {
        let Some(ty) = schema.field_type(&c.field) else {
            continue;
        };
        let Some(why) = mismatch(&c, family(ty), kql) else {
            continue;
        };
        let span = if matches!(c.op, Op::StringFunction | Op::Cidr) || c.value == Value::Null {
            c.field_span.clone()
        } else {
            c.value_span.clone()
        };
        out.push(QueryFinding {
            code: "RF625",
            message: format!("{why}: `{}` is `{ty}`", c.field),
            span,
            help: Some(match family(ty) {
                _ if c.op == Op::Cidr => {
                    "`cidrMatch` takes an `ip` field (e.g. `source.ip`, `destination.ip`)".into()
                }
                Family::Number => "compare with a number (`==`, `<`, `in (1, 2)`)".into(),
                Family::Ip => "compare with an address, or use `cidrMatch` for a block".into(),
                Family::Bool => "compare with `true` or `false`".into(),
                _ => "compare with a quoted string".into(),
            }),
        });
    }
    out
}

/// Every check above on an ad-hoc query (`eval`); `None` when the query does not parse or the
/// language is not EQL/KQL.
pub fn check_text(
    language: &str,
    text: &str,
    category_is_event_category: bool,
) -> Option<Vec<QueryFinding>> {
    let mut out = Vec::new();
    match language {
        "eql" => {
            let q = eql::parse(text).ok()?;
            let p = Parsed::Eql(&q);
            out.extend(unknown_fields(p));
            out.extend(allowed_values(p, category_is_event_category));
            out.extend(value_types(p));
        }
        "kuery" | "kql" => {
            let q = kql::parse(text).ok()?;
            let p = Parsed::Kql(&q);
            out.extend(unknown_fields(p));
            out.extend(allowed_values(p, false));
            out.extend(value_types(p));
        }
        "esql" => {
            let q = esql::parse(text).ok()?;
            out.extend(esql_unknown_fields(&q));
        }
        _ => return None,
    }
    out.sort_by_key(|f| f.span.start);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(lang: &str, q: &str) -> Vec<(&'static str, String)> {
        check_text(lang, q, true)
            .unwrap()
            .into_iter()
            .map(|f| (f.code, q[f.span].to_string()))
            .collect()
    }

    #[test]
    fn esql_columns_are_followed_through_the_query() {
        let unknown =
            |q: &str| -> Vec<String> { codes("esql", q).into_iter().map(|(_, s)| s).collect() };
        // Misspelt source fields, in WHERE and STATS BY; the BY group is a column afterwards.
        assert_eq!(
            unknown(
                "FROM logs-* | WHERE process.nmae == \"x\" | STATS n = COUNT(*) BY host.nmae | KEEP n, host.nmae"
            ),
            vec!["process.nmae", "host.nmae"]
        );
        // EVAL, STATS, RENAME, DISSECT, GROK and METADATA create columns used later.
        assert!(
            unknown(
                "FROM logs-* METADATA _id, _index | EVAL a = process.name, b = a | \
                 DISSECT process.command_line \"%{exe} %{arg}\" | \
                 GROK message \"%{IP:src_ip} (?<port>[0-9]+)\" | \
                 RENAME b AS c | STATS n = COUNT(*) BY c, exe, arg, src_ip, port, _index | \
                 WHERE n > 1 | KEEP n, c"
            )
            .is_empty()
        );
        // A column used before the command creating it is unknown there.
        assert_eq!(
            unknown("FROM logs-* | WHERE Esql.count > 1 | EVAL Esql.count = 1"),
            vec!["Esql.count"]
        );
        // After a command whose columns cannot be known, nothing is reported.
        assert!(
            unknown("FROM logs-* | ENRICH policy ON host.name | WHERE enriched.x == 1").is_empty()
        );
    }

    #[test]
    fn glob_matches_without_backtracking() {
        assert!(glob("st*", "start"));
        assert!(glob("?tart", "start"));
        assert!(!glob("x*", "start"));
        assert!(glob("*", ""));
        assert!(!glob(&"*a".repeat(40), "aaaa"));
    }

    #[test]
    fn eql_values_and_types() {
        assert_eq!(
            codes(
                "eql",
                r#"process where event.type == "started" and process.pid : "12*""#
            ),
            vec![("RF624", "\"started\"".into()), ("RF625", "\"12*\"".into())]
        );
        assert_eq!(
            codes(
                "eql",
                r#"proces where cidrMatch(process.name, "10.0.0.0/8")"#
            ),
            vec![("RF624", "proces".into()), ("RF625", "process.name".into())]
        );
        assert_eq!(
            codes(
                "eql",
                r#"network where destination.port == "http" and process.name == 4"#
            ),
            vec![("RF625", "\"http\"".into()), ("RF625", "4".into())]
        );
        assert!(codes("eql", r#"process where event.type : ("start", "end*") and process.pid == 4 and cidrMatch(source.ip, "10.0.0.0/8")"#).is_empty());
    }

    #[test]
    fn kql_values_and_types() {
        assert_eq!(
            codes(
                "kuery",
                r#"event.category:proces and destination.port:http* and source.ip:foo"#
            ),
            vec![
                ("RF624", "proces".into()),
                ("RF625", "http*".into()),
                ("RF625", "foo".into())
            ]
        );
        assert!(codes("kuery", r#"event.category:(process or network) and destination.port:(80 or 443) and source.ip:10.0.0.0/8 and event.outcome:succ*"#).is_empty());
    }
}
