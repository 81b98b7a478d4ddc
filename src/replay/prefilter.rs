//! Cheap necessary conditions of a rule, for dispatch: the values some fields must take for
//! the rule to match at all (`event.category`, `host.os.type`, `process.name`, …).
//!
//! A requirement is taken only from a top-level conjunct that compares one field with plain
//! ASCII string literals (EQL `==`, `:` without wildcards, `in`, `in~`, the event category;
//! KQL `field:value` / `field:(a or b)` without wildcards). Values are compared lower-cased, a
//! superset of every one of those comparisons, so skipping a rule whose requirement an event
//! fails never loses a match; the rule's own query still decides.
//!
//! Which fields qualify: [`KEY_FIELDS`] always; any other field when the comparison is exact on
//! strings: in EQL (replayed without a mapping, so a string value is compared byte for byte)
//! every field but the rule's timestamp field; in KQL only fields ECS maps as `keyword` (a
//! `text` field matches analysed tokens, a numeric one parses the value).

use crate::query::eql::ast::{CmpOp, ExprKind, Literal, MatchKind, QueryAst};
use crate::query::{Event, FieldPath};
use crate::query::{eql, kql};
use crate::rule::Rule;
use serde_json::Value;
use std::collections::HashMap;

/// Keyword fields that split recordings broadly, most selective first; every rule set indexes
/// them, and a rule is indexed by one of them only when it compares no other field.
pub const KEY_FIELDS: &[&str] = &[
    "event.action",
    "event.dataset",
    "data_stream.dataset",
    "event.module",
    "event.category",
    "host.os.type",
    "event.type",
];

/// Fields outside [`KEY_FIELDS`] whose few values most events share: a requirement on them
/// is checked, but a rule is indexed by another when it has one.
const BROAD_FIELDS: &[&str] = &["event.kind", "event.outcome", "user.id", "user.name"];

/// The fields requirements are taken on: [`KEY_FIELDS`] first, then every other field some
/// rule of the set compares with plain strings, numbered in the order they are met.
#[derive(Debug, Clone)]
pub struct KeyFields {
    names: Vec<String>,
    paths: Vec<FieldPath>,
    by_name: HashMap<String, usize>,
    /// Per field: every value some requirement names, numbered, so that an event's value is
    /// looked up once and requirements compare numbers.
    values: Vec<HashMap<String, u32>>,
}

impl Default for KeyFields {
    fn default() -> Self {
        let mut k = KeyFields {
            names: Vec::new(),
            paths: Vec::new(),
            by_name: HashMap::new(),
            values: Vec::new(),
        };
        KEY_FIELDS.iter().for_each(|f| {
            k.intern(f);
        });
        k
    }
}

impl KeyFields {
    fn intern(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let i = self.names.len();
        self.names.push(name.to_string());
        self.paths.push(FieldPath::new(name));
        self.by_name.insert(name.to_string(), i);
        self.values.push(HashMap::new());
        i
    }

    /// A requirement on field `field` (lower-cased, sorted values), its values numbered.
    fn requirement(&mut self, field: usize, values: Vec<String>) -> Requirement {
        let dict = &mut self.values[field];
        let mut ids: Vec<u32> = values
            .iter()
            .map(|v| {
                let next = dict.len() as u32;
                *dict.entry(v.clone()).or_insert(next)
            })
            .collect();
        ids.sort_unstable();
        Requirement { field, values, ids }
    }

    /// An empty dispatch index: per field, one (empty) list per value number.
    pub fn empty_index(&self) -> Vec<Vec<Vec<u32>>> {
        self.values
            .iter()
            .map(|d| vec![Vec::new(); d.len()])
            .collect()
    }

    /// The number of a lower-cased value of `field`, if some requirement names it.
    fn value_id(&self, field: usize, v: &str) -> u32 {
        self.values[field].get(v).copied().unwrap_or(UNKNOWN)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    pub fn paths(&self) -> &[FieldPath] {
        &self.paths
    }

    /// Dispatch preference (lower first): a rule is indexed by the requirement on the field
    /// whose values split events most finely: specific fields (`process.name`,
    /// `file.extension`, …), then `event.action`, then the broad ones.
    pub fn rank(&self, field: usize) -> usize {
        let name = self.names[field].as_str();
        if let Some(k) = KEY_FIELDS.iter().position(|f| *f == name) {
            // event.action (0) before the broad non-key fields, the other key fields after.
            return if k == 0 {
                1
            } else {
                2 + BROAD_FIELDS.len() + k
            };
        }
        match BROAD_FIELDS.iter().position(|f| *f == name) {
            Some(b) => 2 + b,
            None => 0,
        }
    }

    fn sort(&self, reqs: &mut [Requirement]) {
        reqs.sort_by_key(|r| (self.rank(r.field), r.field));
    }
}

/// The event must have, in key field `field` (see [`KeyFields`]), one of `values`
/// (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub field: usize,
    pub values: Vec<String>,
    /// The values' numbers in [`KeyFields`] (sorted).
    pub ids: Vec<u32>,
}

impl Requirement {
    /// Whether the value numbered `id` is one of the values: a few are compared directly,
    /// more are searched.
    #[inline]
    fn contains(&self, id: u32) -> bool {
        if self.ids.len() <= 8 {
            self.ids.contains(&id)
        } else {
            self.ids.binary_search(&id).is_ok()
        }
    }
}

fn lowered(values: Vec<String>) -> Option<Vec<String>> {
    if values.is_empty() || !values.iter().all(|v| v.is_ascii()) {
        return None;
    }
    let mut v: Vec<String> = values.into_iter().map(|s| s.to_ascii_lowercase()).collect();
    v.sort();
    v.dedup();
    Some(v)
}

/// Requirements of a rule's query, most selective first (see [`KeyFields::rank`]); empty when
/// none is certain. Fields not yet in `keys` are added.
pub fn requirements(rule: &Rule, keys: &mut KeyFields) -> Vec<Requirement> {
    let Some(q) = &rule.query else {
        return Vec::new();
    };
    let mut out = match rule.language.as_deref() {
        Some("eql") => eql_requirements(rule, &q.text, keys),
        Some("kuery") | None => kql_requirements(&q.text, keys),
        _ => Vec::new(),
    };
    keys.sort(&mut out);
    out
}

fn eql_requirements(rule: &Rule, text: &str, keys: &mut KeyFields) -> Vec<Requirement> {
    let Ok(q) = eql::parse(text) else {
        return Vec::new();
    };
    let QueryAst::Event(e) = &q.statement().query else {
        return Vec::new();
    };
    event_query_requirements(rule, e, keys)
}

/// For a sequence rule: per stage (positive, missing and `until`), its requirements, most
/// selective first; an event that meets no stage's requirements can change nothing in the
/// sequence's state. `None` when some stage has no requirement (every event may matter).
pub fn sequence_requirements(rule: &Rule, keys: &mut KeyFields) -> Option<Vec<Vec<Requirement>>> {
    let q = eql::parse(&rule.query.as_ref()?.text).ok()?;
    let QueryAst::Sequence(s) = &q.statement().query else {
        return None;
    };
    let mut out = Vec::new();
    for st in s.stages.iter().chain(s.until.as_ref()) {
        let mut reqs = event_query_requirements(rule, &st.query, keys);
        if reqs.is_empty() {
            return None;
        }
        keys.sort(&mut reqs);
        out.push(reqs);
    }
    Some(out)
}

fn event_query_requirements(
    rule: &Rule,
    e: &eql::ast::EventQuery,
    keys: &mut KeyFields,
) -> Vec<Requirement> {
    let mut out = Vec::new();
    if rule.event_category_override.is_none() {
        if let Some((cat, _)) = &e.category {
            if let Some(values) = lowered(vec![cat.clone()]) {
                let field = keys.intern("event.category");
                out.push(keys.requirement(field, values));
            }
        }
    }
    // Replayed without a mapping, every field compares a string value byte for byte, except
    // the timestamp field, which is a date.
    let timestamp = rule.timestamp_field.as_deref().unwrap_or("@timestamp");
    let mut conjuncts = vec![&e.condition];
    while let Some(c) = conjuncts.pop() {
        match &c.kind {
            ExprKind::And(xs) => conjuncts.extend(xs),
            kind => {
                if let Some((name, values)) = eql_conjunct(kind) {
                    if name != timestamp {
                        let field = keys.intern(name);
                        out.push(keys.requirement(field, values));
                    }
                }
            }
        }
    }
    out
}

fn eql_field(e: &eql::Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Field {
            name,
            optional: false,
        } => Some(name),
        _ => None,
    }
}

fn eql_strings<'a>(items: impl Iterator<Item = &'a eql::Expr>, wild: bool) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for x in items {
        match &x.kind {
            ExprKind::Literal(Literal::Str(s)) if !(wild && s.contains(['*', '?'])) => {
                out.push(s.clone())
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The field and lower-cased values of a conjunct that requires one of them.
fn eql_conjunct(kind: &ExprKind) -> Option<(&str, Vec<String>)> {
    let (field, values) = match kind {
        ExprKind::Cmp {
            op: CmpOp::Eq,
            left,
            right,
        } => (
            eql_field(left)?,
            eql_strings(std::iter::once(&**right), false)?,
        ),
        ExprKind::In {
            expr,
            list,
            negated: false,
            ..
        } => (eql_field(expr)?, eql_strings(list.iter(), false)?),
        ExprKind::Match {
            expr,
            kind: MatchKind::Seq,
            patterns,
            ..
        } => (eql_field(expr)?, eql_strings(patterns.iter(), true)?),
        _ => return None,
    };
    Some((field, lowered(values)?))
}

/// Whether a KQL `field:value` on this field compares whole string values exactly.
fn kql_exact(name: &str) -> bool {
    static TYPES: std::sync::OnceLock<kql::FieldTypes> = std::sync::OnceLock::new();
    let types = TYPES.get_or_init(kql::FieldTypes::ecs);
    KEY_FIELDS.contains(&name)
        || (types.get(name) == Some(kql::FieldType::Keyword) && types.source_field(name).is_none())
}

fn kql_requirements(text: &str, keys: &mut KeyFields) -> Vec<Requirement> {
    let Ok(q) = kql::parse(text) else {
        return Vec::new();
    };
    let Some(root) = &q.root else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut conjuncts = vec![root];
    while let Some(n) = conjuncts.pop() {
        match &n.kind {
            kql::NodeKind::And(xs) => conjuncts.extend(xs),
            kql::NodeKind::Is { field, values } => {
                let name = field.text();
                if !kql_exact(&name) {
                    continue;
                }
                if let Some(values) = kql_values(values).and_then(lowered) {
                    let field = keys.intern(&name);
                    out.push(keys.requirement(field, values));
                }
            }
            _ => {}
        }
    }
    out
}

/// `a` or `(a or b …)` of plain strings.
fn kql_values(v: &kql::ValueNode) -> Option<Vec<String>> {
    match &v.kind {
        kql::ValueKind::Value(lit) => match &lit.value {
            kql::LiteralValue::Str(s) => Some(vec![s.clone()]),
            _ => None,
        },
        kql::ValueKind::Or(items) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(kql_values(i)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// Marks a key field whose values are not all ASCII strings: no requirement on it is trusted
/// to fail.
const NOT_PLAIN: u32 = u32::MAX;

/// The number of an event value that no requirement names.
pub const UNKNOWN: u32 = u32::MAX;

/// An event's values of every key field, as the numbers [`KeyFields`] gives the values
/// requirements name ([`UNKNOWN`] for any other), in one buffer.
#[derive(Debug, Default)]
pub struct KeyValues {
    ids: Vec<u32>,
    /// Per key field: its first value and how many (`NOT_PLAIN`: not plain strings).
    fields: Vec<(u32, u32)>,
}

impl KeyValues {
    pub fn of<E: Event + ?Sized>(keys: &KeyFields, ev: &E) -> KeyValues {
        let mut k = KeyValues {
            ids: Vec::new(),
            fields: Vec::with_capacity(keys.len()),
        };
        let mut lower = String::new();
        for (field, p) in keys.paths().iter().enumerate() {
            let first = k.ids.len();
            let mut plain = true;
            ev.visit_field(p, &mut |v| {
                match v {
                    Value::String(s) if s.is_ascii() => {
                        lower.clear();
                        lower.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
                        k.ids.push(keys.value_id(field, &lower));
                    }
                    _ => plain = false,
                }
                false
            });
            let n = if plain {
                (k.ids.len() - first) as u32
            } else {
                NOT_PLAIN
            };
            k.fields.push((first as u32, n));
        }
        k
    }

    /// Could the event meet the requirement?
    pub fn may_meet(&self, r: &Requirement) -> bool {
        match self.values(r.field) {
            None => true,
            Some(ids) => ids.iter().any(|&id| id != UNKNOWN && r.contains(id)),
        }
    }

    /// The numbers of the event's values of one key field (`None`: not plain strings).
    pub fn values(&self, field: usize) -> Option<&[u32]> {
        let (first, n) = self.fields[field];
        (n != NOT_PLAIN).then(|| &self.ids[first as usize..(first + n) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{self, Rule};
    use serde_json::json;
    use std::path::Path;

    fn rule(language: &str, query: &str) -> Rule {
        let ty = if language == "eql" { "eql" } else { "query" };
        let text = format!(
            "[metadata]\ncreation_date = \"2026/01/01\"\nmaturity = \"production\"\nupdated_date = \"2026/01/01\"\n\n[rule]\nauthor = [\"t\"]\ndescription = \"d\"\nname = \"r\"\nrisk_score = 21\nrule_id = \"r\"\nseverity = \"low\"\ntype = \"{ty}\"\nlanguage = \"{language}\"\nindex = [\"logs-*\"]\nquery = '''\n{query}\n'''\n"
        );
        let path = Path::new("rules/r.toml");
        rule::load_str(path, text, rule::placement_of(path)).unwrap()
    }

    /// The requirements as (field name, values), in dispatch order.
    fn named(rule: &Rule) -> Vec<(String, Vec<String>)> {
        let mut keys = KeyFields::default();
        let reqs = requirements(rule, &mut keys);
        let names: Vec<&str> = keys.names().collect();
        reqs.into_iter()
            .map(|r| (names[r.field].to_string(), r.values))
            .collect()
    }

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_eql_rule_is_dispatched_by_its_most_specific_literal_field() {
        let r = rule(
            "eql",
            r#"process where host.os.type == "linux" and event.action == "exec" and process.name in ("Bash", "sh") and user.id == "0""#,
        );
        assert_eq!(
            named(&r),
            vec![
                ("process.name".into(), v(&["bash", "sh"])),
                ("event.action".into(), v(&["exec"])),
                ("user.id".into(), v(&["0"])),
                ("event.category".into(), v(&["process"])),
                ("host.os.type".into(), v(&["linux"])),
            ]
        );
    }

    #[test]
    fn only_exact_string_comparisons_become_requirements() {
        // Wildcards, disjunctions, negations and the timestamp are not exact requirements.
        let r = rule(
            "eql",
            r#"any where process.name : "ba*" and (file.name == "a" or file.name == "b") and not dll.name == "x" and @timestamp == "2026-01-01""#,
        );
        assert_eq!(named(&r), vec![]);
        // KQL: `message` is text (matched by analysed tokens) and `destination.port` a number
        // ("0443" equals 443), so only the keyword field is a requirement.
        let r = rule(
            "kuery",
            "message:Foo and destination.port:443 and process.name:(Curl or wget)",
        );
        assert_eq!(
            named(&r),
            vec![("process.name".into(), v(&["curl", "wget"]))]
        );
    }

    #[test]
    fn key_values_are_lower_cased_and_non_strings_never_fail_a_requirement() {
        let mut keys = KeyFields::default();
        let r = rule(
            "eql",
            r#"any where process.name == "bash" and process.pid == "7""#,
        );
        let reqs = requirements(&r, &mut keys);
        let meets = |ev: serde_json::Value| {
            let k = KeyValues::of(&keys, &ev);
            reqs.iter().all(|r| k.may_meet(r))
        };
        assert!(meets(json!({"process": {"name": "BASH", "pid": "7"}})));
        assert!(meets(
            json!({"process.name": ["sh", "Bash"], "process": {"pid": 7}})
        ));
        assert!(!meets(json!({"process": {"name": "sh", "pid": "7"}})));
        assert!(!meets(json!({"process": {"pid": "7"}})));
        assert!(!meets(json!({"process": {"name": "bash", "pid": "07"}})));
    }
}
