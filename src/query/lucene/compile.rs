//! Lucene tree → the shared matcher of [`crate::query::kql`]. Boolean queries follow Lucene
//! (`MUST` clauses required, `SHOULD` clauses optional once something is required, a purely
//! negative query matches everything else, as Elasticsearch rewrites it); terms follow
//! `query_string` per mapping type, with `analyze_wildcard` approximated per token.

use super::ast::{Field, Node, NodeKind, Occur, TermPart, parts_text};
use crate::query::kql::compile::{
    At, Ctx, FieldRef, finish, fixed_field, or_of, validate, warn_date_math,
};
use crate::query::kql::glob::{Glob, GlobPart};
use crate::query::kql::matcher::{Lit, Matcher, Sem, Test};
use crate::query::kql::types::{FieldType, Resolved};
use crate::query::kql::{Compiled, FieldTypes, KqlError, KqlErrorKind, RangeOp};

pub(super) fn compile(root: Option<&Node>, types: &FieldTypes) -> Result<Compiled, KqlError> {
    let mut ctx = Ctx::new(types);
    let root = match root {
        None => Matcher::All,
        Some(n) => node(n, &mut ctx)?,
    };
    Ok(finish(root, ctx))
}

fn node(n: &Node, ctx: &mut Ctx) -> Result<Matcher, KqlError> {
    let span = n.span.clone();
    Ok(match &n.kind {
        NodeKind::Bool(clauses) => {
            let (mut must, mut should, mut not) = (Vec::new(), Vec::new(), Vec::new());
            for (occur, c) in clauses {
                let m = node(c, ctx)?;
                match occur {
                    Occur::Must => must.push(m),
                    Occur::Should => should.push(m),
                    Occur::MustNot => not.push(m),
                }
            }
            let mut all = must;
            if all.is_empty() && !should.is_empty() {
                all.push(or_of(should));
            }
            if !not.is_empty() {
                all.push(Matcher::Not(Box::new(or_of(not))));
            }
            match all.len() {
                1 => all.pop().expect("one"),
                _ => Matcher::And(all),
            }
        }
        NodeKind::MatchAll => Matcher::All,
        NodeKind::Exists(f) => leaf(&Some(f.clone()), Test::Exists, None, span, ctx)?,
        NodeKind::Term { field, parts } => {
            let lit = if parts.iter().all(|p| matches!(p, TermPart::Text(_))) {
                Lit::plain(parts_text(parts), false)
            } else {
                let gp: Vec<GlobPart> = parts.iter().map(TermPart::to_glob).collect();
                Lit::pattern(&gp, false)
            };
            let text = parts_text(parts);
            leaf(
                field,
                Test::Is(Box::new(lit.clone())),
                Some((&text, &lit, None)),
                span,
                ctx,
            )?
        }
        NodeKind::Phrase { field, text, slop } => {
            let mut lit = Lit::plain(text.clone(), true);
            lit.slop = *slop;
            leaf(
                field,
                Test::Is(Box::new(lit.clone())),
                Some((text, &lit, None)),
                span,
                ctx,
            )?
        }
        NodeKind::Fuzzy {
            field,
            text,
            distance,
        } => {
            let lit = Lit::plain(text.clone(), false);
            string_only(field, "fuzzy", span.clone(), ctx)?;
            leaf(
                field,
                Test::Fuzzy(Box::new(lit), *distance),
                None,
                span,
                ctx,
            )?
        }
        NodeKind::Regex { field, pattern } => {
            let re = translate_regex(pattern)
                .map_err(|m| KqlError::new(KqlErrorKind::InvalidValue, m, span.clone()))?;
            let re = regex::RegexBuilder::new(&re)
                .size_limit(1 << 22)
                .build()
                .map_err(|e| {
                    KqlError::new(
                        KqlErrorKind::InvalidValue,
                        format!("invalid regular expression: {e}"),
                        span.clone(),
                    )
                })?;
            string_only(field, "regular expression", span.clone(), ctx)?;
            leaf(field, Test::Regex(Box::new(re)), None, span, ctx)?
        }
        NodeKind::Range {
            field,
            lower,
            upper,
            include_lower,
            include_upper,
        } => {
            let mut parts = Vec::new();
            if let Some(l) = lower {
                let op = if *include_lower {
                    RangeOp::Gte
                } else {
                    RangeOp::Gt
                };
                let lit = Lit::plain(l.clone(), false);
                parts.push(leaf(
                    field,
                    Test::Range(op, Box::new(lit.clone())),
                    Some((l, &lit, Some(op))),
                    span.clone(),
                    ctx,
                )?);
            }
            if let Some(u) = upper {
                let op = if *include_upper {
                    RangeOp::Lte
                } else {
                    RangeOp::Lt
                };
                let lit = Lit::plain(u.clone(), false);
                parts.push(leaf(
                    field,
                    Test::Range(op, Box::new(lit.clone())),
                    Some((u, &lit, Some(op))),
                    span.clone(),
                    ctx,
                )?);
            }
            match parts.len() {
                0 => leaf(field, Test::Exists, None, span, ctx)?,
                1 => parts.pop().expect("one"),
                _ => Matcher::And(parts),
            }
        }
    })
}

fn field_ref(field: &Field, span: std::ops::Range<usize>, ctx: &mut Ctx) -> FieldRef {
    match field.as_deref() {
        None | Some("*") => FieldRef::Pattern(None),
        Some(f) if f.contains('*') => {
            let mut parts = Vec::new();
            for (i, piece) in f.split('*').enumerate() {
                if i > 0 {
                    parts.push(GlobPart::Star);
                }
                parts.push(GlobPart::Lit(piece.to_string()));
            }
            FieldRef::Pattern(Some(Glob::new(&parts)))
        }
        Some(f) => fixed_field(f.to_string(), span, ctx),
    }
}

/// Regex and fuzzy queries only work on string fields.
fn string_only(
    field: &Field,
    what: &str,
    span: std::ops::Range<usize>,
    ctx: &mut Ctx,
) -> Result<(), KqlError> {
    if let FieldRef::Fixed { resolved, full, .. } = field_ref(field, span.clone(), ctx) {
        let sem = Sem::of(resolved);
        if !matches!(
            sem,
            Sem::Keyword | Sem::Caseless | Sem::WildcardLike | Sem::Text | Sem::Dynamic
        ) {
            return Err(KqlError::new(
                KqlErrorKind::Unsupported,
                format!("Elasticsearch rejects a {what} query on non-string field `{full}`"),
                span,
            ));
        }
    }
    Ok(())
}

/// A leaf on a field (or on every field for the default field). `check` validates the literal
/// for a named field, as Elasticsearch would (the default field is lenient).
fn leaf(
    field: &Field,
    test: Test,
    check: Option<(&str, &Lit, Option<RangeOp>)>,
    span: std::ops::Range<usize>,
    ctx: &mut Ctx,
) -> Result<Matcher, KqlError> {
    match field_ref(field, span.clone(), ctx) {
        FieldRef::Pattern(pattern) => {
            if field.is_none() {
                ctx.warn(
                    "a term without a field searches every field of the event (query_string's \
                     default field `*`, approximated per field type)"
                        .to_string(),
                    span,
                );
            }
            Ok(Matcher::Fields {
                pattern,
                prefix: String::new(),
                test,
                qs: false,
            })
        }
        FieldRef::Fixed {
            path,
            resolved,
            full,
        } => {
            let sem = Sem::of(resolved);
            if let Some((text, lit, range)) = check {
                validate(sem, &full, &At(text, span.clone()), lit, range)?;
                warn_date_math(sem, lit, span, ctx);
            }
            let deep = matches!(resolved, Resolved::Typed(FieldType::Flattened))
                || (matches!(test, Test::Exists)
                    && matches!(
                        resolved,
                        Resolved::Typed(FieldType::Nested | FieldType::Object)
                    ));
            Ok(Matcher::Field {
                path,
                sem,
                deep,
                test,
            })
        }
    }
}

/// Lucene `RegExp` syntax → an anchored Rust regex. Supported: literals, `.`, `?`, `+`, `*`,
/// `{n,m}`, `|`, groups, classes `[a-z]` `[^…]`, `"literal strings"`, `\` escapes, `@` (any
/// string) and `#` (empty language). Complement `~`, intersection `&` and numeric intervals
/// `<n-m>` are rejected.
pub(crate) fn translate_regex(src: &str) -> Result<String, String> {
    let mut out = String::from("^(?s:");
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => out.push_str(&regex::escape(&n.to_string())),
                None => return Err("regular expression ends with a backslash".into()),
            },
            '.' | '?' | '+' | '*' | '|' | '(' | ')' | '{' | '}' => out.push(c),
            '@' => out.push_str(".*"),
            '#' => out.push_str("[^\\s\\S]"),
            '"' => {
                let mut lit = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(ch) => lit.push(ch),
                        None => return Err("unterminated \"…\" in regular expression".into()),
                    }
                }
                out.push_str(&regex::escape(&lit));
            }
            '[' => {
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                let mut closed = false;
                while let Some(ch) = chars.next() {
                    match ch {
                        ']' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some(n) => out.push_str(&regex::escape(&n.to_string())),
                            None => return Err("unterminated character class".into()),
                        },
                        '-' => out.push('-'),
                        ch if ch.is_alphanumeric() => out.push(ch),
                        ch => {
                            out.push('\\');
                            out.push(ch);
                        }
                    }
                }
                if !closed {
                    return Err("unterminated character class `[`".into());
                }
                out.push(']');
            }
            '~' | '&' | '<' | '>' => {
                return Err(format!(
                    "the Lucene regular-expression operator `{c}` is not supported offline"
                ));
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push_str(")$");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{FieldTypes, parse};
    use super::translate_regex;
    use crate::query::kql::KqlErrorKind;
    use serde_json::json;

    fn m(q: &str, e: serde_json::Value) -> bool {
        parse(q)
            .unwrap()
            .compile(&FieldTypes::ecs())
            .unwrap()
            .matches(&e)
    }

    #[test]
    fn boolean_rules() {
        let e = |n: &str| json!({"process": {"name": n}});
        // Default operator OR.
        assert!(m("process.name:a process.name:b", e("b")));
        // `a OR b AND c` = a optional, +b +c.
        assert!(!m(
            "process.name:a OR process.name:b AND user.name:c",
            e("a")
        ));
        // Purely negative: everything else.
        assert!(m("-process.name:a", e("b")) && !m("-process.name:a", e("a")));
        assert!(m("NOT process.name:a", json!({})));
        // `+` requires, plain clauses become optional.
        assert!(m("+process.name:a process.name:zzz", e("a")));
        // Lower-case `or` is a term.
        assert!(m("process.name:(x or y)", e("or")));
    }

    #[test]
    fn terms_and_ranges() {
        assert!(m("process.args:g+s", json!({"process.args": ["g+s"]})));
        assert!(m("process.pid:[1 TO 5]", json!({"process.pid": 5})));
        assert!(!m("process.pid:[1 TO 5}", json!({"process.pid": 5})));
        assert!(m("process.pid:{* TO 5}", json!({"process.pid": 4})));
        assert!(m("process.pid:>=5", json!({"process.pid": 5})));
        assert!(!m("process.pid:>5", json!({"process.pid": 5})));
        assert!(m("_exists_:process.pid", json!({"process.pid": 5})));
        assert!(m("process.name:ba?h", json!({"process.name": "bash"})));
        assert!(m(
            "process.name:/ba[a-z]h/",
            json!({"process.name": "bash"})
        ));
        assert!(!m("process.name:/ba/", json!({"process.name": "bash"})));
        assert!(m("process.name:bsah~1", json!({"process.name": "bash"})));
        assert!(!m("process.name:bxxh~1", json!({"process.name": "bash"})));
        assert!(m(
            "message:\"quick fox\"~1",
            json!({"message": "the quick brown fox"})
        ));
        assert!(!m(
            "message:\"quick fox\"",
            json!({"message": "the quick brown fox"})
        ));
        assert!(m("process.name:bash^2", json!({"process.name": "bash"})));
    }

    #[test]
    fn errors() {
        let kind = |q: &str| {
            parse(q)
                .and_then(|p| p.compile(&FieldTypes::ecs()))
                .expect_err(q)
                .kind
        };
        assert_eq!(kind("process.name:\"a"), KqlErrorKind::UnterminatedString);
        assert_eq!(kind("AND a"), KqlErrorKind::UnexpectedToken);
        assert_eq!(kind("(a"), KqlErrorKind::UnexpectedEnd);
        assert_eq!(kind("a)"), KqlErrorKind::UnexpectedToken);
        assert_eq!(kind("process.pid:abc"), KqlErrorKind::InvalidValue);
        assert_eq!(kind("process.pid:/1/"), KqlErrorKind::Unsupported);
        assert_eq!(kind("process.*:x"), KqlErrorKind::UnexpectedToken);
        assert_eq!(kind("a\\"), KqlErrorKind::InvalidEscape);
        let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(kind(&deep), KqlErrorKind::TooDeep);
    }

    /// Random input never panics: parse, compile and match whatever parses.
    #[test]
    fn no_panics_on_random_input() {
        let alphabet = [
            "a",
            "f",
            ":",
            " ",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "\"",
            "\\",
            "*",
            "?",
            "<",
            ">",
            "=",
            "TO",
            "AND",
            "OR",
            "NOT",
            "&&",
            "||",
            "!",
            "+",
            "-",
            "~",
            "^",
            "/",
            "é",
            "\u{3000}",
            "process.pid",
            "_exists_",
            "1",
            "2.5",
            ".",
            "@",
            "#",
            "&",
        ];
        let types = FieldTypes::ecs();
        let event = json!({"a": ["x", 1, null, {"b": true}], "process": {"pid": 3}});
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let src: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            match parse(&src) {
                Ok(q) => {
                    let _ = q.fields();
                    if let Ok(c) = q.compile(&types) {
                        let _ = c.matches(&event);
                    }
                }
                Err(e) => {
                    assert!(
                        e.span.start <= e.span.end && e.span.end <= src.len(),
                        "{src:?}"
                    );
                    assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end));
                }
            }
        }
    }

    #[test]
    fn regex_translation() {
        assert_eq!(translate_regex("2[0-9]{3}").unwrap(), "^(?s:2[0-9]{3})$");
        assert!(translate_regex("a~b").is_err());
        assert_eq!(translate_regex("\"a.b\"c").unwrap(), "^(?s:a\\.bc)$");
    }
}
