//! Compiling a KQL tree into a [`Matcher`]: field paths resolved once, literals read once per
//! mapping type and checked as Elasticsearch would, keyword value lists hashed, wildcards
//! lowered to [`Glob`]s.

use std::collections::HashSet;

use super::ast::{Literal, LiteralValue, Node, NodeKind, Part, RangeOp, ValueKind, ValueNode};
use super::error::{KqlError, KqlErrorKind};
use super::glob::{Glob, GlobPart};
use super::matcher::{Compiled, KqlWarning, Lit, Matcher, Sem, Test};
use super::types::{FieldType, FieldTypes, Resolved};
use super::values::is_date_math;
use crate::query::FieldPath;

pub(crate) struct Ctx<'t> {
    pub(crate) types: &'t FieldTypes,
    /// Full path of the enclosing nested field plus `.`, or empty.
    pub(crate) prefix: String,
    pub(crate) warnings: Vec<KqlWarning>,
    pub(crate) warned_fields: HashSet<String>,
}

impl<'t> Ctx<'t> {
    pub(crate) fn new(types: &'t FieldTypes) -> Self {
        Ctx {
            types,
            prefix: String::new(),
            warnings: Vec::new(),
            warned_fields: HashSet::new(),
        }
    }

    pub(crate) fn warn(&mut self, message: String, span: std::ops::Range<usize>) {
        self.warnings.push(KqlWarning { message, span });
    }
}

pub(crate) fn compile_root(root: Option<&Node>, types: &FieldTypes) -> Result<Compiled, KqlError> {
    let mut ctx = Ctx::new(types);
    let root = match root {
        None => Matcher::All,
        Some(node) => compile_node(node, &mut ctx)?,
    };
    Ok(finish(root, ctx))
}

/// Resolves date math against the system clock and wraps up a compiled query.
pub(crate) fn finish(mut root: Matcher, ctx: Ctx) -> Compiled {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    root.resolve_now(now);
    let mut uses_now = false;
    root.for_each_lit(&mut |l| uses_now |= l.date_math.is_some());
    Compiled {
        root,
        types: ctx.types.clone(),
        warnings: ctx.warnings,
        uses_now,
    }
}

fn compile_node(node: &Node, ctx: &mut Ctx) -> Result<Matcher, KqlError> {
    Ok(match &node.kind {
        NodeKind::Or(items) => {
            let ms = items
                .iter()
                .map(|n| compile_node(n, ctx))
                .collect::<Result<Vec<_>, _>>()?;
            or_of(ms)
        }
        NodeKind::And(items) => Matcher::And(
            items
                .iter()
                .map(|n| compile_node(n, ctx))
                .collect::<Result<_, _>>()?,
        ),
        NodeKind::Not(inner) => Matcher::Not(Box::new(compile_node(inner, ctx)?)),
        NodeKind::Is { field, values } => compile_values(field, values, ctx)?,
        NodeKind::Range { field, op, value } => compile_range(field, *op, value, ctx)?,
        NodeKind::Nested { path, query } => compile_nested(path, query, ctx)?,
        NodeKind::FreeText(lit) => compile_free_text(lit, node, ctx)?,
    })
}

fn compile_free_text(lit: &Literal, node: &Node, ctx: &mut Ctx) -> Result<Matcher, KqlError> {
    if lit.is_lone_star() {
        return Ok(Matcher::All);
    }
    if lit.value == LiteralValue::Null {
        return Err(null_error(lit));
    }
    ctx.warn(
        format!(
            "`{}` has no field: it is searched in every field of the event (Kibana's \
             multi_match over all fields, approximated per field type)",
            lit.text()
        ),
        node.span.clone(),
    );
    Ok(Matcher::Fields {
        pattern: None,
        prefix: ctx.prefix.clone(),
        test: Test::Is(Box::new(lit_of(lit))),
        qs: true,
    })
}

fn null_error(lit: &Literal) -> KqlError {
    KqlError::new(
        KqlErrorKind::Unsupported,
        "the bare word `null` is sent to Elasticsearch as a JSON null, which it rejects; \
         quote it (`\"null\"`) to search for the text, or use `not f:*` for a missing field",
        lit.span.clone(),
    )
}

pub(crate) fn lit_of(lit: &Literal) -> Lit {
    match &lit.value {
        LiteralValue::Wildcard(parts) => {
            let parts: Vec<GlobPart> = parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => GlobPart::Lit(t.clone()),
                    Part::Star => GlobPart::Star,
                })
                .collect();
            Lit::pattern(&parts, true)
        }
        _ => Lit::plain(lit.text(), lit.quoted),
    }
}

/// Or of matchers, merging exact keyword values (and keyword globs) on one field into a hash
/// set.
pub(crate) fn or_of(items: Vec<Matcher>) -> Matcher {
    let mut out: Vec<Matcher> = Vec::with_capacity(items.len());
    for m in items {
        let merged = match &m {
            Matcher::Field {
                path,
                sem: sem @ (Sem::Keyword | Sem::WildcardLike),
                deep: false,
                test: Test::Is(lit),
            } if lit.glob.is_none() || *sem == Sem::Keyword => {
                let target = out.iter_mut().find(
                    |o| matches!(o, Matcher::Set { path: p, sem: s, .. } if p == path && s == sem),
                );
                let value = |exact: &mut HashSet<String>, globs: &mut Vec<Glob>| match &lit.glob {
                    Some((g, _)) => globs.push(g.clone()),
                    None => {
                        exact.insert(lit.text.clone());
                    }
                };
                match target {
                    Some(Matcher::Set { exact, globs, .. }) => {
                        value(exact, globs);
                    }
                    _ => {
                        let mut exact = HashSet::new();
                        let mut globs = Vec::new();
                        value(&mut exact, &mut globs);
                        out.push(Matcher::Set {
                            path: path.clone(),
                            sem: *sem,
                            exact,
                            globs,
                        });
                    }
                }
                true
            }
            _ => false,
        };
        if !merged {
            out.push(m);
        }
    }
    if out.len() == 1 {
        out.pop().expect("one")
    } else {
        Matcher::Or(out)
    }
}

/// A field reference resolved for compilation.
pub(crate) enum FieldRef {
    /// `*` or a name with `*`.
    Pattern(Option<Glob>),
    Fixed {
        path: FieldPath,
        resolved: Resolved,
        full: String,
    },
}

fn field_ref(field: &Literal, ctx: &mut Ctx) -> FieldRef {
    if let LiteralValue::Wildcard(parts) = &field.value {
        if field.is_lone_star() {
            return FieldRef::Pattern(None);
        }
        let gp: Vec<GlobPart> = parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => GlobPart::Lit(t.clone()),
                Part::Star => GlobPart::Star,
            })
            .collect();
        return FieldRef::Pattern(Some(Glob::new(&gp)));
    }
    fixed_field(field.text(), field.span.clone(), ctx)
}

/// A field named without wildcards: its type, and the path its values are read from.
pub(crate) fn fixed_field(name: String, span: std::ops::Range<usize>, ctx: &mut Ctx) -> FieldRef {
    let full = format!("{}{}", ctx.prefix, name);
    let resolved = ctx.types.resolve(&full);
    if resolved == Resolved::Unknown && ctx.warned_fields.insert(full.clone()) {
        ctx.warn(
            format!(
                "field `{full}` is not in the field-type table: its type is taken from each \
                 event's JSON value (string = keyword); add an override if it is text, ip or date"
            ),
            span,
        );
    }
    // A multi-field (`process.name.text`) is indexed from its parent's value.
    let source = match ctx.types.source_field(&full) {
        Some(parent) => match parent.strip_prefix(ctx.prefix.as_str()) {
            Some(rel) if !rel.is_empty() => rel.to_string(),
            _ => name,
        },
        None => name,
    };
    FieldRef::Fixed {
        path: FieldPath::new(&source),
        resolved,
        full,
    }
}

fn compile_values(field: &Literal, values: &ValueNode, ctx: &mut Ctx) -> Result<Matcher, KqlError> {
    let fref = field_ref(field, ctx);
    compile_value_tree(&fref, values, ctx)
}

fn compile_value_tree(
    fref: &FieldRef,
    values: &ValueNode,
    ctx: &mut Ctx,
) -> Result<Matcher, KqlError> {
    Ok(match &values.kind {
        ValueKind::Or(items) => or_of(
            items
                .iter()
                .map(|v| compile_value_tree(fref, v, ctx))
                .collect::<Result<_, _>>()?,
        ),
        ValueKind::And(items) => Matcher::And(
            items
                .iter()
                .map(|v| compile_value_tree(fref, v, ctx))
                .collect::<Result<_, _>>()?,
        ),
        ValueKind::Not(inner) => Matcher::Not(Box::new(compile_value_tree(fref, inner, ctx)?)),
        ValueKind::Value(lit) => compile_is(fref, lit, ctx)?,
    })
}

fn type_error(kind: KqlErrorKind, field: &str, ty: Sem, msg: &str, at: &At) -> KqlError {
    KqlError::new(
        kind,
        format!("`{}` against {} field `{field}`: {msg}", at.0, sem_name(ty)),
        at.1.clone(),
    )
}

/// A literal's text and span, for messages.
pub(crate) struct At<'a>(pub(crate) &'a str, pub(crate) std::ops::Range<usize>);

fn sem_name(s: Sem) -> &'static str {
    match s {
        Sem::Keyword | Sem::KeywordQs => "keyword",
        Sem::Caseless => "caseless keyword",
        Sem::WildcardLike => "wildcard-type",
        Sem::Text => "text",
        Sem::Integer => "integer",
        Sem::Float | Sem::Double => "floating-point",
        Sem::Date => "date",
        Sem::Boolean => "boolean",
        Sem::Ip => "ip",
        Sem::Geo => "geo",
        Sem::Dynamic => "untyped",
    }
}

/// Checks that a literal suits a field type the way Elasticsearch would (it fails the whole
/// search otherwise), for `f:v` (`range == None`) and `f op v`.
pub(crate) fn validate(
    sem: Sem,
    full: &str,
    lit: &At,
    l: &Lit,
    range: Option<RangeOp>,
) -> Result<(), KqlError> {
    use KqlErrorKind::{InvalidValue, Unsupported};
    let wildcard = l.glob.is_some();
    let numeric = matches!(sem, Sem::Integer | Sem::Float | Sem::Double);
    if wildcard
        && range.is_none()
        && matches!(
            sem,
            Sem::Integer | Sem::Float | Sem::Double | Sem::Date | Sem::Boolean | Sem::Ip
        )
    {
        return Err(type_error(
            Unsupported,
            full,
            sem,
            "Elasticsearch rejects wildcard queries on this field type",
            lit,
        ));
    }
    match sem {
        Sem::Geo => Err(type_error(
            Unsupported,
            full,
            sem,
            "only `field:*` can be replayed on geo fields",
            lit,
        )),
        _ if numeric && l.number.is_none() => Err(type_error(
            InvalidValue,
            full,
            sem,
            "not a number (Elasticsearch would fail the search)",
            lit,
        )),
        Sem::Date if is_date_math(&l.text) && l.date_math.is_none() => Err(type_error(
            InvalidValue,
            full,
            sem,
            "not valid date math (expected e.g. `now-30d/d`)",
            lit,
        )),
        Sem::Date if l.date_math.is_some() => Ok(()),
        Sem::Date if l.date.is_none() => Err(type_error(
            InvalidValue,
            full,
            sem,
            "not a date in strict_date_optional_time or epoch_millis format",
            lit,
        )),
        Sem::Boolean if l.boolean.is_none() => Err(type_error(
            InvalidValue,
            full,
            sem,
            "a boolean field takes `true` or `false`",
            lit,
        )),
        Sem::Ip if range.is_none() && l.ip.is_none() => Err(type_error(
            InvalidValue,
            full,
            sem,
            "not an IP address or CIDR block",
            lit,
        )),
        Sem::Ip if range.is_some() && l.ip_addr.is_none() => Err(type_error(
            InvalidValue,
            full,
            sem,
            "not an IP address",
            lit,
        )),
        _ => Ok(()),
    }
}

pub(crate) fn warn_date_math(sem: Sem, l: &Lit, span: std::ops::Range<usize>, ctx: &mut Ctx) {
    if sem == Sem::Date && l.date_math.is_some() {
        ctx.warn(
            format!(
                "date math `{}` is resolved against the execution time (the system clock unless \
                 set with `Compiled::with_now`)",
                l.text
            ),
            span,
        );
    }
}

fn compile_is(fref: &FieldRef, lit: &Literal, ctx: &mut Ctx) -> Result<Matcher, KqlError> {
    if lit.value == LiteralValue::Null {
        return Err(null_error(lit));
    }
    if lit.is_lone_star() {
        return Ok(match fref {
            FieldRef::Pattern(None) => Matcher::All,
            FieldRef::Pattern(Some(g)) => Matcher::Fields {
                pattern: Some(g.clone()),
                prefix: ctx.prefix.clone(),
                test: Test::Exists,
                qs: false,
            },
            FieldRef::Fixed { path, resolved, .. } => Matcher::Field {
                path: path.clone(),
                sem: Sem::of(*resolved),
                deep: *resolved == Resolved::Typed(FieldType::Flattened)
                    || *resolved == Resolved::Typed(FieldType::Nested)
                    || *resolved == Resolved::Typed(FieldType::Object),
                test: Test::Exists,
            },
        });
    }
    let l = lit_of(lit);
    Ok(match fref {
        FieldRef::Pattern(pattern) => Matcher::Fields {
            pattern: pattern.clone(),
            prefix: ctx.prefix.clone(),
            test: Test::Is(Box::new(l)),
            // Field patterns (`*` included) expand to one clause per field, so keyword
            // fields keep their `wildcard` query unless the translation is untyped.
            qs: ctx.types.is_untyped(),
        },
        FieldRef::Fixed {
            path,
            resolved,
            full,
        } => {
            let mut sem = Sem::of(*resolved);
            let text = lit.text();
            validate(sem, full, &At(&text, lit.span.clone()), &l, None)?;
            warn_date_math(sem, &l, lit.span.clone(), ctx);
            if sem == Sem::Keyword && ctx.types.is_untyped() {
                sem = Sem::KeywordQs;
            }
            Matcher::Field {
                path: path.clone(),
                sem,
                deep: *resolved == Resolved::Typed(FieldType::Flattened),
                test: Test::Is(Box::new(l)),
            }
        }
    })
}

fn compile_range(
    field: &Literal,
    op: RangeOp,
    value: &Literal,
    ctx: &mut Ctx,
) -> Result<Matcher, KqlError> {
    if value.value == LiteralValue::Null {
        return Err(null_error(value));
    }
    let fref = field_ref(field, ctx);
    // A `*` in a range value is an ordinary character.
    let l = Lit::plain(value.text(), value.quoted);
    Ok(match fref {
        FieldRef::Pattern(pattern) => Matcher::Fields {
            pattern,
            prefix: ctx.prefix.clone(),
            test: Test::Range(op, Box::new(l)),
            qs: false,
        },
        FieldRef::Fixed {
            path,
            resolved,
            full,
        } => {
            let sem = Sem::of(resolved);
            let text = value.text();
            validate(sem, &full, &At(&text, value.span.clone()), &l, Some(op))?;
            warn_date_math(sem, &l, value.span.clone(), ctx);
            Matcher::Field {
                path,
                sem,
                deep: resolved == Resolved::Typed(FieldType::Flattened),
                test: Test::Range(op, Box::new(l)),
            }
        }
    })
}

fn compile_nested(path: &Literal, query: &Node, ctx: &mut Ctx) -> Result<Matcher, KqlError> {
    if matches!(path.value, LiteralValue::Wildcard(_)) {
        return Err(KqlError::new(
            KqlErrorKind::Unsupported,
            "a nested query needs a literal path, not a wildcard",
            path.span.clone(),
        ));
    }
    let name = path.text();
    let full = format!("{}{}", ctx.prefix, name);
    match ctx.types.resolve(&full) {
        Resolved::Typed(FieldType::Nested)
        | Resolved::Unknown
        | Resolved::Typed(FieldType::Other) => {}
        Resolved::Typed(t) => {
            return Err(KqlError::new(
                KqlErrorKind::Unsupported,
                format!(
                    "`{full}` is mapped `{}`, not `nested`: Elasticsearch rejects a nested query on it",
                    t.name()
                ),
                path.span.clone(),
            ));
        }
        Resolved::FlattenedKey => {
            return Err(KqlError::new(
                KqlErrorKind::Unsupported,
                format!("`{full}` is inside a flattened field, not `nested`"),
                path.span.clone(),
            ));
        }
    }
    let saved = std::mem::replace(&mut ctx.prefix, format!("{full}."));
    let inner = compile_node(query, ctx);
    ctx.prefix = saved;
    Ok(Matcher::Nested {
        path: FieldPath::new(&name),
        inner: Box::new(inner?),
    })
}
