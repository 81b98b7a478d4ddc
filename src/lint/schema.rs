//! The field schema RF604 checks query fields against: the union of the schemas detection-rules
//! validates with (ECS of every supported stack, beats, endgame, endpoint, non-ECS per index,
//! every integration package), generated into `data/field_schema.tsv` by
//! `tools/gen_field_schema.rs` and decoded once per process.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::query::eql::ExprKind;
use crate::query::kql::{self, Node, NodeKind};

/// The embedded table (front-coded, see the generator).
pub const FIELD_SCHEMA_TSV: &str = include_str!("../../data/field_schema.tsv");

/// Fields production Elastic rules query that no schema in detection-rules' snapshot declares:
/// the PowerShell script-block metrics Elastic's Windows ingest pipeline computes
/// (`defense_evasion_posh_compressed`, `defense_evasion_posh_high_entropy`). Accepted by name so
/// that an upstream schema gap is not reported as the rule's error.
pub const UNDECLARED_UPSTREAM: &[&str] = &[
    "powershell.file.script_block_entropy_bits",
    "powershell.file.script_block_length",
    "powershell.file.script_block_surprisal_stdev",
];

/// Known field names and their types.
#[derive(Debug, Default)]
pub struct FieldSchema {
    types: HashMap<Box<str>, Box<str>>,
    /// Names with `*` segments (integration schemas declare e.g. `o365.audit.Parameters.*`),
    /// split on `.`, with their type.
    patterns: Vec<(Vec<Box<str>>, Box<str>)>,
    /// Every character used in a known name, for generating spelling neighbours.
    alphabet: Vec<char>,
    /// Lower-cased name → the alphabetically first known name with that spelling, so that a
    /// case-only misspelling is found without scanning every name.
    lower: HashMap<Box<str>, Box<str>>,
}

impl FieldSchema {
    /// The built-in schema, decoded on first use.
    pub fn builtin() -> &'static FieldSchema {
        static SCHEMA: OnceLock<FieldSchema> = OnceLock::new();
        SCHEMA.get_or_init(|| FieldSchema::parse(FIELD_SCHEMA_TSV))
    }

    /// Decodes the table text; malformed lines are skipped.
    pub fn parse(text: &str) -> FieldSchema {
        let mut types: HashMap<Box<str>, Box<str>> = HashMap::new();
        let mut chars = HashSet::new();
        let mut prev = String::new();
        for line in text.lines() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut cols = line.splitn(3, '\t');
            let (Some(shared), Some(rest), Some(ty)) = (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let Some(prefix) = shared.parse::<usize>().ok().and_then(|n| prev.get(..n)) else {
                continue;
            };
            let name = format!("{prefix}{rest}");
            chars.extend(rest.chars());
            types.insert(name.as_str().into(), ty.into());
            prev = name;
        }
        let mut alphabet: Vec<char> = chars.into_iter().collect();
        alphabet.sort_unstable();
        let patterns = types
            .iter()
            .filter(|(k, _)| k.contains('*'))
            .map(|(k, t)| (k.split('.').map(Box::from).collect(), t.clone()))
            .collect();
        let mut lower: HashMap<Box<str>, Box<str>> = HashMap::new();
        for k in types.keys() {
            let entry = lower
                .entry(k.to_lowercase().into())
                .or_insert_with(|| k.clone());
            if k < entry {
                *entry = k.clone();
            }
        }
        FieldSchema {
            types,
            patterns,
            alphabet,
            lower,
        }
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// True when `name` is a known field.
    pub fn contains(&self, name: &str) -> bool {
        self.types.contains_key(name)
    }

    /// The type of a known field.
    pub fn field_type(&self, name: &str) -> Option<&str> {
        self.types.get(name).map(|t| &**t)
    }

    /// True when `name` is known, or lies under an `object`/`flattened` field whose keys are
    /// free-form (e.g. `winlog.event_data.*` in some schemas).
    pub fn accepts(&self, name: &str) -> bool {
        if self.contains(name) || UNDECLARED_UPSTREAM.contains(&name) {
            return true;
        }
        if name
            .match_indices('.')
            .any(|(i, _)| matches!(self.field_type(&name[..i]), Some("object" | "flattened")))
        {
            return true;
        }
        let parts: Vec<&str> = name.split('.').collect();
        self.patterns
            .iter()
            .any(|(pat, ty)| pattern_accepts(pat, ty, &parts))
    }

    /// A known field one edit away (insertion, deletion, substitution or swap of two adjacent
    /// characters), or differing only in letter case; the alphabetically first if several.
    /// Neighbours are generated and looked up, so the cost does not grow with the schema.
    pub fn suggest(&self, name: &str) -> Option<String> {
        let chars: Vec<char> = name.chars().collect();
        let mut best: Option<String> = None;
        let mut consider = |cand: String| {
            if self.contains(&cand) && best.as_ref().is_none_or(|b| cand < *b) {
                best = Some(cand);
            }
        };
        let at = |v: &[char]| v.iter().collect::<String>();
        for i in 0..chars.len() {
            let mut v = chars.clone();
            v.remove(i);
            consider(at(&v));
            if i + 1 < chars.len() {
                let mut v = chars.clone();
                v.swap(i, i + 1);
                consider(at(&v));
            }
            for &c in &self.alphabet {
                if c != chars[i] {
                    let mut v = chars.clone();
                    v[i] = c;
                    consider(at(&v));
                }
            }
        }
        for i in 0..=chars.len() {
            for &c in &self.alphabet {
                let mut v = chars.clone();
                v.insert(i, c);
                consider(at(&v));
            }
        }
        if best.is_none() {
            best = self
                .lower
                .get(name.to_lowercase().as_str())
                .map(|k| k.to_string());
        }
        best
    }
}

/// The embedded table of ECS allowed values (see `tools/gen_ecs_allowed_values.rs`).
pub const ECS_ALLOWED_VALUES_TSV: &str = include_str!("../../data/ecs_allowed_values.tsv");

/// ECS's allowed values of the categorization fields (`event.kind`, `event.category`,
/// `event.type`, `event.outcome`), in any ECS version detection-rules ships.
#[derive(Debug, Default)]
pub struct AllowedValues {
    /// Field → its allowed values, sorted.
    fields: HashMap<Box<str>, Vec<Box<str>>>,
}

impl AllowedValues {
    /// The built-in table, decoded on first use.
    pub fn builtin() -> &'static AllowedValues {
        static VALUES: OnceLock<AllowedValues> = OnceLock::new();
        VALUES.get_or_init(|| AllowedValues::parse(ECS_ALLOWED_VALUES_TSV))
    }

    /// Decodes `<field><TAB><value><TAB><versions>` lines; malformed lines are skipped.
    pub fn parse(text: &str) -> AllowedValues {
        let mut fields: HashMap<Box<str>, Vec<Box<str>>> = HashMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut cols = line.split('\t');
            if let (Some(field), Some(value)) = (cols.next(), cols.next()) {
                if !field.is_empty() && !value.is_empty() {
                    fields.entry(field.into()).or_default().push(value.into());
                }
            }
        }
        for values in fields.values_mut() {
            values.sort_unstable();
        }
        AllowedValues { fields }
    }

    /// True when ECS fixes the values of `field`.
    pub fn restricts(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// True when `value` is allowed for `field` (always for fields ECS does not restrict).
    pub fn allows(&self, field: &str, value: &str) -> bool {
        self.fields
            .get(field)
            .is_none_or(|vs| vs.binary_search_by(|v| (**v).cmp(value)).is_ok())
    }

    /// The allowed values of `field`, sorted.
    pub fn values(&self, field: &str) -> &[Box<str>] {
        self.fields.get(field).map_or(&[], Vec::as_slice)
    }

    /// The allowed value closest to `value`: equal ignoring case, else one edit away
    /// (insertion, deletion, substitution or adjacent swap), else a prefix either way.
    pub fn suggest(&self, field: &str, value: &str) -> Option<&str> {
        let values = self.values(field);
        let lower = value.to_lowercase();
        values
            .iter()
            .find(|v| v.to_lowercase() == lower)
            .or_else(|| values.iter().find(|v| within_one_edit(&lower, v)))
            .or_else(|| {
                values.iter().find(|v| {
                    lower.len() >= 3 && (v.starts_with(lower.as_str()) || lower.starts_with(&***v))
                })
            })
            .map(|v| &**v)
    }
}

/// True when `a` and `b` differ by at most one insertion, deletion, substitution or swap of
/// two adjacent characters.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match (ra.len(), rb.len()) {
        (0, 0) => true,
        (x, y) if x == y => {
            ra[1..] == rb[1..] || (x >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        (x, y) if x + 1 == y => ra == &rb[1..],
        (x, y) if y + 1 == x => &ra[1..] == rb,
        _ => false,
    }
}

/// The embedded table of integration-only fields (see `tools/gen_field_schema.rs`).
pub const INTEGRATION_ONLY_TSV: &str = include_str!("../../data/integration_only_fields.tsv");

/// Fields that only integration packages define, with the packages that do (RF626).
#[derive(Debug, Default)]
pub struct IntegrationOnly {
    owners: HashMap<Box<str>, Box<[Box<str>]>>,
}

impl IntegrationOnly {
    /// The built-in table, decoded on first use.
    pub fn builtin() -> &'static IntegrationOnly {
        static TABLE: OnceLock<IntegrationOnly> = OnceLock::new();
        TABLE.get_or_init(|| IntegrationOnly::parse(INTEGRATION_ONLY_TSV))
    }

    /// Decodes the front-coded `<shared><TAB><rest><TAB><packages>` lines; malformed lines are
    /// skipped.
    pub fn parse(text: &str) -> IntegrationOnly {
        let mut owners = HashMap::new();
        let mut prev = String::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let mut cols = line.splitn(3, '\t');
            let (Some(shared), Some(rest), Some(packages)) =
                (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let Some(prefix) = shared.parse::<usize>().ok().and_then(|n| prev.get(..n)) else {
                continue;
            };
            let name = format!("{prefix}{rest}");
            let list: Box<[Box<str>]> = packages.split(',').map(Box::from).collect();
            owners.insert(name.as_str().into(), list);
            prev = name;
        }
        IntegrationOnly { owners }
    }

    /// The packages defining `field`, when only integration packages do.
    pub fn packages(&self, field: &str) -> Option<&[Box<str>]> {
        self.owners.get(field).map(|p| &**p)
    }

    pub fn len(&self) -> usize {
        self.owners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }
}

/// The embedded table of ECS fields some stacks lack (see `tools/gen_field_schema.rs`).
pub const ECS_FIELD_STACKS_TSV: &str = include_str!("../../data/ecs_field_stacks.tsv");

/// Which supported stacks know which ECS fields (RF629): the stacks of `stack-schema-map.yaml`
/// with their ECS version, and the ECS fields that some ECS version lacks and that no other
/// schema defines.
#[derive(Debug, Default)]
pub struct EcsFieldStacks {
    /// (stack, its ECS version), in stack order.
    stacks: Vec<(crate::export::semver::Version, Box<str>)>,
    /// Field → the ECS versions that have it.
    fields: HashMap<Box<str>, Box<[Box<str>]>>,
}

impl EcsFieldStacks {
    /// The built-in table, decoded on first use.
    pub fn builtin() -> &'static EcsFieldStacks {
        static TABLE: OnceLock<EcsFieldStacks> = OnceLock::new();
        TABLE.get_or_init(|| EcsFieldStacks::parse(ECS_FIELD_STACKS_TSV))
    }

    /// Decodes the table text; malformed lines are skipped.
    pub fn parse(text: &str) -> EcsFieldStacks {
        let mut out = EcsFieldStacks::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            if let Some(rest) = line.strip_prefix('=') {
                let mut cols = rest.split('\t');
                if let (Some(stack), Some(ecs)) = (cols.next(), cols.next()) {
                    if let Some(v) = crate::export::semver::Version::parse(stack) {
                        out.stacks.push((v, ecs.into()));
                    }
                }
            } else if let Some((name, versions)) = line.split_once('\t') {
                let list = versions.split(',').map(Box::from).collect();
                out.fields.insert(name.into(), list);
            }
        }
        out.stacks.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The stacks from `min` up, each with its ECS version.
    pub fn stacks_from(
        &self,
        min: &crate::export::semver::Version,
    ) -> impl Iterator<Item = (&crate::export::semver::Version, &str)> {
        self.stacks
            .iter()
            .filter(move |(v, _)| v >= min)
            .map(|(v, e)| (v, &**e))
    }

    /// The lowest stack of the table.
    pub fn lowest_stack(&self) -> Option<&crate::export::semver::Version> {
        self.stacks.first().map(|(v, _)| v)
    }

    /// The ECS versions that have `field`, when some lack it (`None`: every version has it, or
    /// another schema defines it).
    pub fn versions(&self, field: &str) -> Option<&[Box<str>]> {
        self.fields.get(field).map(|v| &**v)
    }
}

/// Required (non-`?`) field references of an EQL query, with their spans in the query text.
pub fn eql_fields(q: &crate::query::eql::Query) -> Vec<(String, crate::query::eql::Span)> {
    let mut out = Vec::new();
    for e in q.statement().exprs() {
        e.walk(&mut |x| {
            if let ExprKind::Field {
                name,
                optional: false,
            } = &x.kind
            {
                out.push((name.clone(), x.span.clone()));
            }
        });
    }
    out
}

/// Field references of a KQL query (full names inside `f:{ … }`), with the span of the name as
/// written; names containing `*` are left out.
pub fn kql_fields(q: &kql::Query) -> Vec<(String, kql::Span)> {
    let mut out = Vec::new();
    // Explicit stack: KQL depth is bounded by the parser, but no recursion is needed here.
    let mut stack: Vec<(&Node, String)> = q.root.iter().map(|n| (n, String::new())).collect();
    while let Some((node, prefix)) = stack.pop() {
        match &node.kind {
            NodeKind::Or(items) | NodeKind::And(items) => {
                stack.extend(items.iter().rev().map(|n| (n, prefix.clone())));
            }
            NodeKind::Not(inner) => stack.push((inner, prefix)),
            NodeKind::Is { field, .. } | NodeKind::Range { field, .. } => {
                let name = field.text();
                if !name.contains('*') {
                    out.push((format!("{prefix}{name}"), field.span.clone()));
                }
            }
            NodeKind::Nested { path, query } => {
                let p = format!("{prefix}{}.", path.text());
                stack.push((query, p));
            }
            NodeKind::FreeText(_) => {}
        }
    }
    out
}

/// `*` stands for one name segment; an `object`/`flattened` pattern also covers the names
/// below it.
fn pattern_accepts(pat: &[Box<str>], ty: &str, parts: &[&str]) -> bool {
    let open = matches!(ty, "object" | "flattened");
    if parts.len() < pat.len() || (parts.len() > pat.len() && !open) {
        return false;
    }
    pat.iter()
        .zip(parts)
        .all(|(p, part)| &**p == "*" || &**p == *part)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "# test\n0\tprocess.name\tkeyword\n8\tparent.name\tkeyword\n0\twinlog.event_data\tobject\n";

    #[test]
    fn decodes_front_coding() {
        let s = FieldSchema::parse(TABLE);
        assert_eq!(s.len(), 3);
        assert!(s.contains("process.name"));
        assert!(s.contains("process.parent.name"));
        assert_eq!(s.field_type("winlog.event_data"), Some("object"));
    }

    #[test]
    fn wildcard_names_match_segments() {
        let s = FieldSchema::parse("0\to365.audit.Parameters.*\tobject\n0\tm.*.rate\tlong\n");
        assert!(s.accepts("o365.audit.Parameters.AccessRights"));
        assert!(s.accepts("o365.audit.Parameters.A.B"));
        assert!(s.accepts("m.x.rate"));
        assert!(!s.accepts("m.x.y.rate"));
        assert!(!s.accepts("o365.audit.Parameter.X"));
    }

    #[test]
    fn object_fields_accept_any_key() {
        let s = FieldSchema::parse(TABLE);
        assert!(s.accepts("winlog.event_data.TargetUserName"));
        assert!(!s.accepts("process.name.foo"));
    }

    #[test]
    fn suggests_one_edit_away() {
        let s = FieldSchema::parse(TABLE);
        assert_eq!(s.suggest("process.nmae").as_deref(), Some("process.name"));
        assert_eq!(s.suggest("process.nam").as_deref(), Some("process.name"));
        assert_eq!(s.suggest("process.namex").as_deref(), Some("process.name"));
        assert_eq!(s.suggest("Process.Name").as_deref(), Some("process.name"));
        assert_eq!(s.suggest("host.name"), None);
    }

    #[test]
    fn ecs_field_stacks_decode() {
        let t = EcsFieldStacks::parse(
            "# t\n=8.19.0\t8.17.0\n=9.3.0\t9.3.0\n+8.17.0\n+9.3.0\nprocess.new\t9.3.0\n",
        );
        let min = crate::export::semver::Version::parse("9.0").unwrap();
        let from: Vec<&str> = t.stacks_from(&min).map(|(_, e)| e).collect();
        assert_eq!(from, ["9.3.0"]);
        assert_eq!(
            t.lowest_stack().map(|v| v.major_minor()),
            Some("8.19".into())
        );
        assert_eq!(t.versions("process.new").map(|v| v.len()), Some(1));
        assert!(t.versions("process.name").is_none());
    }

    #[test]
    fn integration_only_decodes_front_coding() {
        let t = IntegrationOnly::parse(
            "# t\n0\taws.cloudtrail.user\taws\n15\tevent\taws,aws_bedrock\n",
        );
        assert_eq!(t.len(), 2);
        let p = t.packages("aws.cloudtrail.event").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(&*p[1], "aws_bedrock");
        assert!(t.packages("process.name").is_none());
    }

    #[test]
    fn allowed_values_and_suggestions() {
        let v = AllowedValues::parse(
            "# t\nevent.type\tstart\t9.5.0\nevent.type\tend\t9.5.0\nevent.category\tprocess\t9.5.0\n",
        );
        assert!(v.allows("event.type", "start"));
        assert!(!v.allows("event.type", "Start"));
        assert!(v.allows("process.name", "anything"));
        assert_eq!(v.suggest("event.type", "Start"), Some("start"));
        assert_eq!(v.suggest("event.type", "strat"), Some("start"));
        assert_eq!(v.suggest("event.type", "started"), Some("start"));
        assert_eq!(v.suggest("event.category", "proces"), Some("process"));
        assert_eq!(v.suggest("event.type", "creation"), None);
        assert!(within_one_edit("abc", "acb"));
        assert!(!within_one_edit("abcd", "badc"));
    }
}
