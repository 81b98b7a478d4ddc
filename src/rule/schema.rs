//! The detection-rules TOML schema as data: which keys each table accepts, of which TOML type,
//! which are required, and for which rule types. Checking a tree against it yields every schema
//! finding at once, each with the span of the offending key or value.

use super::tree::{Kind, Node};
use crate::diag::Diagnostic;

/// Rule types as a bit set, so a key can be limited to some of them.
pub type Types = u8;
pub const QUERY: Types = 1;
pub const EQL: Types = 2;
pub const ESQL: Types = 4;
pub const THRESHOLD: Types = 8;
pub const NEW_TERMS: Types = 16;
pub const THREAT_MATCH: Types = 32;
pub const ML: Types = 64;
pub const ALL: Types = 127;
const WITH_QUERY: Types = ALL & !ML;
const WITH_INDEX: Types = ALL & !ML & !ESQL;

pub fn type_bit(name: &str) -> Option<Types> {
    Some(match name {
        "query" => QUERY,
        "eql" => EQL,
        "esql" => ESQL,
        "threshold" => THRESHOLD,
        "new_terms" => NEW_TERMS,
        "threat_match" => THREAT_MATCH,
        "machine_learning" => ML,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    Int,
    Bool,
    StrArray,
    /// A string or an array of strings (`metadata.integration`, `threshold.field`).
    StrOrArray,
    Table(&'static [Field]),
    TableArray(&'static [Field]),
    /// Free-form: any value of that TOML shape, not checked further.
    AnyTable,
    AnyTableArray,
    /// `transform.investigate[].providers`: array of arrays of provider tables.
    Providers,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// Rule types that accept the key (only meaningful in `[rule]`).
    pub types: Types,
}

const fn opt(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        ty,
        required: false,
        types: ALL,
    }
}
const fn req(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        ty,
        required: true,
        types: ALL,
    }
}
const fn only(key: &'static str, ty: Ty, types: Types) -> Field {
    Field {
        key,
        ty,
        required: false,
        types,
    }
}

pub const TOP: &[Field] = &[
    req("metadata", Ty::Table(METADATA)),
    opt("transform", Ty::Table(TRANSFORM)),
    req("rule", Ty::Table(RULE)),
];

pub const METADATA: &[Field] = &[
    req("creation_date", Ty::Str),
    req("updated_date", Ty::Str),
    opt("deprecation_date", Ty::Str),
    opt("maturity", Ty::Str),
    opt("integration", Ty::StrOrArray),
    opt("min_stack_version", Ty::Str),
    opt("min_stack_comments", Ty::Str),
    opt("bypass_bbr_timing", Ty::Bool),
    opt("comments", Ty::Str),
    opt("os_type_list", Ty::StrArray),
    opt("query_schema_validation", Ty::Bool),
    opt("related_endpoint_rules", Ty::StrArray),
    opt("promotion", Ty::Bool),
    opt("extended", Ty::AnyTable),
    // Only on deprecated rules; `rule::build` rejects it on any other.
    opt("deprecated_reason", Ty::Str),
];

const REF: &[Field] = &[
    req("id", Ty::Str),
    req("name", Ty::Str),
    req("reference", Ty::Str),
];
const TECHNIQUE: &[Field] = &[
    req("id", Ty::Str),
    req("name", Ty::Str),
    req("reference", Ty::Str),
    opt("subtechnique", Ty::TableArray(REF)),
];
pub const THREAT: &[Field] = &[
    req("framework", Ty::Str),
    req("tactic", Ty::Table(REF)),
    opt("technique", Ty::TableArray(TECHNIQUE)),
];
const THREAT_MAPPINGS: &[Field] = &[
    req("framework", Ty::Str),
    req("version", Ty::Str),
    req("threat", Ty::TableArray(THREAT)),
];
const DURATION: &[Field] = &[req("unit", Ty::Str), req("value", Ty::Int)];
const SUPPRESSION: &[Field] = &[
    opt("group_by", Ty::StrArray),
    opt("missing_fields_strategy", Ty::Str),
    opt("duration", Ty::Table(DURATION)),
];
const CARDINALITY: &[Field] = &[req("field", Ty::Str), req("value", Ty::Int)];
const THRESHOLD_T: &[Field] = &[
    req("field", Ty::StrOrArray),
    req("value", Ty::Int),
    opt("cardinality", Ty::TableArray(CARDINALITY)),
];
const WINDOW: &[Field] = &[req("field", Ty::Str), req("value", Ty::Str)];
const NEW_TERMS_T: &[Field] = &[
    req("field", Ty::Str),
    req("value", Ty::StrArray),
    req("history_window_start", Ty::TableArray(WINDOW)),
];
const MAPPING_ENTRY: &[Field] = &[
    req("field", Ty::Str),
    req("type", Ty::Str),
    req("value", Ty::Str),
    opt("negate", Ty::Bool),
];
const THREAT_MAPPING: &[Field] = &[req("entries", Ty::TableArray(MAPPING_ENTRY))];
const INVESTIGATION_FIELDS: &[Field] = &[req("field_names", Ty::StrArray)];
const EXCEPTION_REF: &[Field] = &[
    req("id", Ty::Str),
    req("list_id", Ty::Str),
    req("namespace_type", Ty::Str),
    req("type", Ty::Str),
];
const RISK_MAPPING: &[Field] = &[
    req("field", Ty::Str),
    opt("operator", Ty::Str),
    opt("value", Ty::Str),
];
const SEVERITY_MAPPING: &[Field] = &[
    req("field", Ty::Str),
    opt("operator", Ty::Str),
    opt("value", Ty::Str),
    opt("severity", Ty::Str),
];
const RELATED_INTEGRATION: &[Field] = &[
    req("package", Ty::Str),
    req("version", Ty::Str),
    opt("integration", Ty::Str),
];
const REQUIRED_FIELD: &[Field] = &[
    req("name", Ty::Str),
    req("type", Ty::Str),
    req("ecs", Ty::Bool),
];

pub const RULE: &[Field] = &[
    req("name", Ty::Str),
    req("rule_id", Ty::Str),
    req("type", Ty::Str),
    req("author", Ty::StrArray),
    req("description", Ty::Str),
    req("risk_score", Ty::Int),
    req("severity", Ty::Str),
    opt("license", Ty::Str),
    opt("from", Ty::Str),
    opt("to", Ty::Str),
    opt("interval", Ty::Str),
    only("index", Ty::StrArray, WITH_INDEX),
    only("data_view_id", Ty::Str, WITH_INDEX),
    opt("tags", Ty::StrArray),
    opt("references", Ty::StrArray),
    opt("false_positives", Ty::StrArray),
    opt("note", Ty::Str),
    opt("setup", Ty::Str),
    opt("timestamp_override", Ty::Str),
    opt("max_signals", Ty::Int),
    opt("building_block_type", Ty::Str),
    opt("enabled", Ty::Bool),
    opt("investigation_fields", Ty::Table(INVESTIGATION_FIELDS)),
    opt("exceptions_list", Ty::TableArray(EXCEPTION_REF)),
    only("filters", Ty::AnyTableArray, WITH_QUERY),
    opt("meta", Ty::AnyTable),
    opt("actions", Ty::AnyTableArray),
    opt("response_actions", Ty::AnyTableArray),
    opt("throttle", Ty::Str),
    opt("risk_score_mapping", Ty::TableArray(RISK_MAPPING)),
    opt("severity_mapping", Ty::TableArray(SEVERITY_MAPPING)),
    opt("rule_name_override", Ty::Str),
    opt("timeline_id", Ty::Str),
    opt("timeline_title", Ty::Str),
    opt("threat", Ty::TableArray(THREAT)),
    opt("threat_mappings", Ty::TableArray(THREAT_MAPPINGS)),
    opt("related_integrations", Ty::TableArray(RELATED_INTEGRATION)),
    opt("required_fields", Ty::TableArray(REQUIRED_FIELD)),
    // Never authored; present only with `bypass_version_lock` (reported by RF125).
    opt("version", Ty::Int),
    opt("revision", Ty::Int),
    only("language", Ty::Str, WITH_QUERY),
    only("query", Ty::Str, WITH_QUERY),
    opt("alert_suppression", Ty::Table(SUPPRESSION)),
    only("timestamp_field", Ty::Str, EQL),
    only("event_category_override", Ty::Str, EQL),
    only("tiebreaker_field", Ty::Str, EQL),
    only("threshold", Ty::Table(THRESHOLD_T), THRESHOLD),
    only("new_terms", Ty::Table(NEW_TERMS_T), NEW_TERMS),
    only("threat_index", Ty::StrArray, THREAT_MATCH),
    only(
        "threat_mapping",
        Ty::TableArray(THREAT_MAPPING),
        THREAT_MATCH,
    ),
    only("threat_query", Ty::Str, THREAT_MATCH),
    only("threat_language", Ty::Str, THREAT_MATCH),
    only("threat_filters", Ty::AnyTableArray, THREAT_MATCH),
    only("threat_indicator_path", Ty::Str, THREAT_MATCH),
    only("concurrent_searches", Ty::Int, THREAT_MATCH),
    only("items_per_search", Ty::Int, THREAT_MATCH),
    only("anomaly_threshold", Ty::Int, ML),
    only("machine_learning_job_id", Ty::StrOrArray, ML),
];

const OSQUERY: &[Field] = &[
    req("label", Ty::Str),
    req("query", Ty::Str),
    opt("ecs_mapping", Ty::AnyTable),
];
const INVESTIGATE: &[Field] = &[
    req("label", Ty::Str),
    opt("description", Ty::Str),
    req("providers", Ty::Providers),
    opt("relativeFrom", Ty::Str),
    opt("relativeTo", Ty::Str),
];
const PROVIDER: &[Field] = &[
    req("excluded", Ty::Bool),
    req("field", Ty::Str),
    req("queryType", Ty::Str),
    req("value", Ty::Str),
    req("valueType", Ty::Str),
];
pub const TRANSFORM: &[Field] = &[
    opt("osquery", Ty::TableArray(OSQUERY)),
    opt("investigate", Ty::TableArray(INVESTIGATE)),
];

/// Checks `root` (the whole file) against the schema. `rule_type` limits type-specific keys in
/// `[rule]`; `None` when the type itself is missing or invalid (reported elsewhere).
pub fn check(root: &Node, rule_type: Option<Types>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut cx = Checker {
        out: &mut out,
        rule_type,
    };
    cx.table(root, TOP, "");
    out
}

struct Checker<'a> {
    out: &'a mut Vec<Diagnostic>,
    rule_type: Option<Types>,
}

impl Checker<'_> {
    fn table(&mut self, node: &Node, fields: &'static [Field], path: &str) {
        let Kind::Table(entries) = &node.kind else {
            return;
        };
        let in_rule = path == "rule";
        for entry in entries {
            let Some(field) = fields.iter().find(|f| f.key == entry.key) else {
                let (code, what) = if path.is_empty() {
                    ("RF102", "top-level key".to_string())
                } else {
                    ("RF103", format!("key in [{path}]"))
                };
                let expected: Vec<&str> = fields.iter().map(|f| f.key).collect();
                self.out.push(
                    Diagnostic::error(code, format!("unknown {what}: `{}`", entry.key))
                        .with_span(entry.key_span.clone())
                        .with_help(suggest(&entry.key, &expected)),
                );
                continue;
            };
            if in_rule {
                if let Some(t) = self.rule_type {
                    if field.types & t == 0 {
                        self.out.push(
                            Diagnostic::error(
                                "RF103",
                                format!("key `{}` is not valid for this rule type", entry.key),
                            )
                            .with_span(entry.key_span.clone())
                            .with_help(format!(
                                "`{}` applies to: {}",
                                entry.key,
                                type_names(field.types)
                            )),
                        );
                        continue;
                    }
                }
            }
            let child = if path.is_empty() {
                entry.key.clone()
            } else {
                format!("{path}.{}", entry.key)
            };
            self.value(&entry.value, field.ty, &child);
        }
        for field in fields.iter().filter(|f| f.required) {
            if !entries.iter().any(|e| e.key == field.key) {
                let where_ = if path.is_empty() {
                    "the file".to_string()
                } else {
                    format!("[{path}]")
                };
                let code = if path.is_empty() { "RF102" } else { "RF105" };
                // Point at the table header / start of the table.
                let span = node.span.start..node.span.start;
                self.out.push(
                    Diagnostic::error(
                        code,
                        format!("{where_} is missing required key `{}`", field.key),
                    )
                    .with_span(span),
                );
            }
        }
    }

    fn value(&mut self, node: &Node, ty: Ty, path: &str) {
        let ok = match (ty, &node.kind) {
            (Ty::Str, Kind::Str(_)) | (Ty::Int, Kind::Int(_)) | (Ty::Bool, Kind::Bool(_)) => true,
            (Ty::StrOrArray, Kind::Str(_)) => true,
            (Ty::StrArray | Ty::StrOrArray, Kind::Array(items)) => {
                for item in items {
                    if !matches!(item.kind, Kind::Str(_)) {
                        self.mismatch(item, "string", &format!("{path}[]"));
                    }
                }
                true
            }
            (Ty::Table(fields), Kind::Table(_)) => {
                self.table(node, fields, path);
                true
            }
            (Ty::AnyTable, Kind::Table(_)) => true,
            (Ty::TableArray(fields), Kind::Array(items)) => {
                for item in items {
                    if item.is_table() {
                        self.table(item, fields, path);
                    } else {
                        self.mismatch(item, "table", &format!("{path}[]"));
                    }
                }
                true
            }
            (Ty::AnyTableArray, Kind::Array(items)) => {
                for item in items.iter().filter(|i| !i.is_table()) {
                    self.mismatch(item, "table", &format!("{path}[]"));
                }
                true
            }
            (Ty::Providers, Kind::Array(groups)) => {
                for group in groups {
                    match &group.kind {
                        Kind::Array(items) => {
                            for item in items {
                                if item.is_table() {
                                    self.table(item, PROVIDER, path);
                                } else {
                                    self.mismatch(item, "table", path);
                                }
                            }
                        }
                        _ => self.mismatch(group, "array of provider tables", path),
                    }
                }
                true
            }
            _ => false,
        };
        if !ok {
            let expected = match ty {
                Ty::Str => "string",
                Ty::Int => "integer",
                Ty::Bool => "boolean",
                Ty::StrArray => "array of strings",
                Ty::StrOrArray => "string or array of strings",
                Ty::Table(_) | Ty::AnyTable => "table",
                Ty::TableArray(_) | Ty::AnyTableArray => "array of tables",
                Ty::Providers => "array of arrays of provider tables",
            };
            self.mismatch(node, expected, path);
        }
    }

    fn mismatch(&mut self, node: &Node, expected: &str, path: &str) {
        self.out.push(
            Diagnostic::error(
                "RF132",
                format!(
                    "`{path}` must be {} {expected}, found {}",
                    if expected.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    },
                    node.kind.type_name()
                ),
            )
            .with_span(node.span.clone()),
        );
    }
}

fn type_names(types: Types) -> String {
    [
        (QUERY, "query"),
        (EQL, "eql"),
        (ESQL, "esql"),
        (THRESHOLD, "threshold"),
        (NEW_TERMS, "new_terms"),
        (THREAT_MATCH, "threat_match"),
        (ML, "machine_learning"),
    ]
    .iter()
    .filter(|(bit, _)| types & bit != 0)
    .map(|(_, n)| *n)
    .collect::<Vec<_>>()
    .join(", ")
}

/// "did you mean" for typos: the closest known key by edit distance.
fn suggest(key: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= 3 && d < key.len() => format!("did you mean `{k}`?"),
        _ => format!("allowed keys: {}", known.join(", ")),
    }
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::tree::parse;

    const MINIMAL: &str = r#"
[metadata]
creation_date = "2026/01/01"
updated_date = "2026/01/01"

[rule]
author = ["x"]
description = "d"
name = "Rule Name"
risk_score = 21
rule_id = "00000000-0000-4000-8000-000000000000"
severity = "low"
type = "eql"
language = "eql"
query = "process where true"
"#;

    #[test]
    fn minimal_rule_passes() {
        let root = parse(MINIMAL).unwrap();
        assert_eq!(check(&root, Some(EQL)), vec![]);
    }

    #[test]
    fn unknown_key_is_reported_once_with_its_span_and_a_suggestion() {
        let text = MINIMAL.replace("severity = ", "severty = \"low\"\nseverity = ");
        let root = parse(&text).unwrap();
        let diags = check(&root, Some(EQL));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "RF103");
        assert_eq!(&text[diags[0].span.clone().unwrap()], "severty");
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `severity`?"));
    }

    #[test]
    fn type_specific_key_on_the_wrong_type_is_rejected() {
        let text = format!("{MINIMAL}\n[rule.threshold]\nfield = [\"a\"]\nvalue = 3\n");
        let root = parse(&text).unwrap();
        let diags = check(&root, Some(EQL));
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("threshold"));
        assert!(check(&root, Some(THRESHOLD)).is_empty());
    }

    #[test]
    fn wrong_value_type_and_missing_required_key() {
        let text = MINIMAL
            .replace("risk_score = 21", "risk_score = \"21\"")
            .replace("rule_id = \"00000000-0000-4000-8000-000000000000\"\n", "");
        let root = parse(&text).unwrap();
        let codes: Vec<_> = check(&root, Some(EQL)).iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["RF132", "RF105"]);
    }
}
