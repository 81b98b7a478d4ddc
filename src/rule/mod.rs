//! The rule model: one detection-rules TOML file, loaded with spans.
//!
//! Loading never stops at the first problem: the TOML is parsed into a spanned tree
//! ([`tree::Node`]), checked against the schema ([`schema`]), and the typed view is read from
//! the same tree. Every finding is a [`Diagnostic`] with the file and span.

pub mod schema;
pub mod tree;

use crate::diag::{Diagnostic, LineIndex, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tree::Node;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleType {
    Query,
    Eql,
    Esql,
    Threshold,
    NewTerms,
    ThreatMatch,
    MachineLearning,
}

impl RuleType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "query" => RuleType::Query,
            "eql" => RuleType::Eql,
            "esql" => RuleType::Esql,
            "threshold" => RuleType::Threshold,
            "new_terms" => RuleType::NewTerms,
            "threat_match" => RuleType::ThreatMatch,
            "machine_learning" => RuleType::MachineLearning,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleType::Query => "query",
            RuleType::Eql => "eql",
            RuleType::Esql => "esql",
            RuleType::Threshold => "threshold",
            RuleType::NewTerms => "new_terms",
            RuleType::ThreatMatch => "threat_match",
            RuleType::MachineLearning => "machine_learning",
        }
    }
}

/// Where the rule lives in a detection-rules layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    Rules,
    BuildingBlock,
    Deprecated,
}

/// A query string with where its text starts in the file (when offsets map 1:1).
#[derive(Debug, Clone)]
pub struct QueryText {
    pub text: String,
    pub span: Span,
    pub content_offset: Option<usize>,
}

impl QueryText {
    /// Maps a byte span inside the query text onto the file.
    pub fn file_span(&self, inner: &Span) -> Span {
        // "Found end of query" errors sit after trailing whitespace; point at the last token.
        let end = self.text.trim_end().len();
        let start = inner.start.min(end);
        let stop = inner.end.clamp(start, end.max(start));
        match self.content_offset {
            Some(off) => off + start..off + stop.max(start),
            None => self.span.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub fields: Vec<String>,
    pub value: i64,
    pub cardinality: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTerms {
    pub fields: Vec<String>,
    pub history_window_start: String,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub lines: LineIndex,
    pub tree: Node,
    pub placement: Placement,
    pub rule_id: String,
    pub name: String,
    /// `None` when `type` is missing or not one of the supported types (RF104).
    pub rule_type: Option<RuleType>,
    pub language: Option<String>,
    pub query: Option<QueryText>,
    pub maturity: Option<String>,
    pub severity: String,
    pub risk_score: Option<i64>,
    pub tags: Vec<String>,
    pub index: Vec<String>,
    pub from: Option<String>,
    pub interval: Option<String>,
    pub note: Option<String>,
    pub setup: Option<String>,
    pub description: String,
    pub author: Vec<String>,
    pub threshold: Option<Threshold>,
    pub new_terms: Option<NewTerms>,
    pub timestamp_field: Option<String>,
    pub tiebreaker_field: Option<String>,
    pub event_category_override: Option<String>,
    /// Schema and load findings. A rule with any error here is not replayed.
    pub load_diagnostics: Vec<Diagnostic>,
}

impl Rule {
    /// The file stem, e.g. `discovery_kernel_unpacking`.
    pub fn stem(&self) -> &str {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
    }

    pub fn is_deprecated(&self) -> bool {
        self.maturity.as_deref() == Some("deprecated") || self.placement == Placement::Deprecated
    }

    pub fn loaded_cleanly(&self) -> bool {
        !self
            .load_diagnostics
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error)
    }

    /// Span of a value by dotted path, or the file start when absent.
    pub fn span_of(&self, path: &str) -> Span {
        self.tree.path(path).map(|n| n.span.clone()).unwrap_or(0..0)
    }

    /// Span in the file of byte range `inner` of the string value at `path` (e.g. a heading in
    /// `rule.note`); the whole value when escapes make the mapping inexact.
    pub fn inner_span(&self, path: &str, inner: &Span) -> Span {
        let value = self.span_of(path);
        match tree::string_content_offset(&self.text, &value) {
            Some(off) => off + inner.start..off + inner.end,
            None => value,
        }
    }

    /// Span of a key (not its value) by dotted path.
    pub fn key_span_of(&self, path: &str) -> Option<Span> {
        let (parent, key) = match path.rsplit_once('.') {
            Some((p, k)) => (self.tree.path(p)?, k),
            None => (&self.tree, path),
        };
        parent.entry(key).map(|e| e.key_span.clone())
    }

    /// The file as JSON (`{"metadata": …, "transform": …, "rule": …}`), for export and templates.
    pub fn to_json(&self) -> serde_json::Value {
        self.tree.to_json()
    }

    /// Does `reference` (a rule_id, file stem or rule name) name this rule?
    pub fn is_named(&self, reference: &str) -> bool {
        self.rule_id == reference || self.stem() == reference || self.name == reference
    }
}

/// Why a file could not be loaded at all (it has no rule to lint).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid TOML")]
    Syntax {
        path: PathBuf,
        text: Arc<str>,
        diagnostics: Vec<Diagnostic>,
    },
    #[error("{path}: a symlink; ruleforge does not follow symlinks in rule folders")]
    Symlink { path: PathBuf },
}

impl LoadError {
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            LoadError::Io { path, source } => {
                vec![
                    Diagnostic::error("RF101", format!("cannot read file: {source}"))
                        .at(path, None),
                ]
            }
            LoadError::Syntax { diagnostics, .. } => diagnostics.clone(),
            LoadError::Symlink { path } => vec![symlink_diagnostic(path)],
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            LoadError::Io { path, .. }
            | LoadError::Syntax { path, .. }
            | LoadError::Symlink { path } => path,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            LoadError::Syntax { text, .. } => Some(text),
            LoadError::Io { .. } | LoadError::Symlink { .. } => None,
        }
    }
}

/// Largest rule file accepted; the biggest upstream rule is under 100 KiB.
pub const MAX_RULE_BYTES: u64 = 8 * 1024 * 1024;

pub fn load_file(path: &Path, placement: Placement) -> Result<Rule, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > MAX_RULE_BYTES {
        return Err(io(std::io::Error::other(format!(
            "file is {} bytes, larger than the {} byte limit for a rule",
            meta.len(),
            MAX_RULE_BYTES
        ))));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        ))
    })?;
    load_str(path, text, placement)
}

pub fn load_str(path: &Path, text: String, placement: Placement) -> Result<Rule, LoadError> {
    let text: Arc<str> = text.into();
    let tree = match tree::parse(&text) {
        Ok(tree) => tree,
        Err(mut errors) => {
            // The parser recovers and keeps reporting; past the first few, errors are echoes of
            // an earlier one (an unclosed array swallows the rest of the file).
            const SHOWN: usize = 3;
            errors.sort_by_key(|e| e.span.as_ref().map_or(0, |s| s.start));
            let more = errors.len().saturating_sub(SHOWN);
            let mut diagnostics: Vec<Diagnostic> = errors
                .into_iter()
                .take(SHOWN)
                .map(|e| {
                    Diagnostic::error("RF101", format!("TOML syntax: {}", e.message))
                        .at(path, e.span)
                })
                .collect();
            if more > 0 {
                if let Some(last) = diagnostics.last_mut() {
                    last.help = Some(format!(
                        "{more} further syntax errors follow, probably caused by the ones above"
                    ));
                }
            }
            return Err(LoadError::Syntax {
                path: path.to_path_buf(),
                text,
                diagnostics,
            });
        }
    };
    Ok(build(path, text, tree, placement))
}

fn build(path: &Path, text: Arc<str>, tree: Node, placement: Placement) -> Rule {
    let s = |p: &str| tree.str_at(p).map(str::to_string);
    let strings = |p: &str| -> Vec<String> {
        match p.rsplit_once('.') {
            Some((parent, key)) => tree
                .path(parent)
                .map(|n| n.strings(key).into_iter().map(String::from).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        }
    };
    let maturity = s("metadata.maturity");
    let deprecated = maturity.as_deref() == Some("deprecated");
    let type_str = s("rule.type");
    let rule_type = type_str.as_deref().and_then(RuleType::parse);

    let mut diags = Vec::new();
    // Deprecated rules are loaded as raw tables upstream: no schema check.
    if !deprecated {
        if tree.get("rule").is_some() {
            if let Some(t) = &type_str {
                if rule_type.is_none() {
                    let span = tree.path("rule.type").map(|n| n.span.clone());
                    diags.push(
                        Diagnostic::error("RF104", format!("unsupported rule type `{t}`"))
                            .with_help("one of: query, eql, esql, threshold, new_terms, threat_match, machine_learning")
                            .at(path, span),
                    );
                }
            }
        }
        let bit = rule_type.and_then(|t| schema::type_bit(t.as_str()));
        diags.extend(schema::check(&tree, bit).into_iter().map(|d| {
            let span = d.span.clone();
            d.at(path, span)
        }));
        if let Some(e) = tree
            .get("metadata")
            .and_then(|m| m.entry("deprecated_reason"))
        {
            diags.push(
                Diagnostic::error("RF103", "unknown key in [metadata]: `deprecated_reason`")
                    .with_help("only deprecated rules (maturity = \"deprecated\") carry a deprecated_reason")
                    .at(path, Some(e.key_span.clone())),
            );
        }
    } else {
        // Upstream loads deprecated rules without a schema: report what the schema would say,
        // as warnings (RF909), so nothing is silently ignored and nothing blocks.
        let bit = rule_type.and_then(|t| schema::type_bit(t.as_str()));
        diags.extend(schema::check(&tree, bit).into_iter().map(|d| {
            let span = d.span.clone();
            let mut w = Diagnostic::warning(
                "RF909",
                format!(
                    "deprecated rule (not schema-checked upstream): {} [{}]",
                    d.message, d.code
                ),
            )
            .at(path, span);
            w.help = d.help;
            w
        }));
    }

    let query = tree.path("rule.query").and_then(|n| {
        n.as_str().map(|q| QueryText {
            text: q.to_string(),
            span: n.span.clone(),
            content_offset: tree::string_content_offset(&text, &n.span),
        })
    });
    let threshold = tree.path("rule.threshold").map(|t| Threshold {
        fields: t.strings("field").into_iter().map(String::from).collect(),
        value: t.get("value").and_then(Node::as_int).unwrap_or(0),
        cardinality: t
            .get("cardinality")
            .and_then(Node::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| Some((c.str_at("field")?.to_string(), c.get("value")?.as_int()?)))
            .collect(),
    });
    let new_terms = tree.path("rule.new_terms").map(|t| NewTerms {
        fields: t.strings("value").into_iter().map(String::from).collect(),
        history_window_start: t
            .get("history_window_start")
            .and_then(Node::as_array)
            .and_then(|a| a.first())
            .and_then(|w| w.str_at("value"))
            .unwrap_or_default()
            .to_string(),
    });

    Rule {
        path: path.to_path_buf(),
        lines: LineIndex::new(&text),
        placement,
        rule_id: s("rule.rule_id").unwrap_or_default(),
        name: s("rule.name").unwrap_or_default(),
        rule_type,
        language: s("rule.language"),
        query,
        maturity,
        severity: s("rule.severity").unwrap_or_default(),
        risk_score: tree.path("rule.risk_score").and_then(Node::as_int),
        tags: strings("rule.tags"),
        index: strings("rule.index"),
        from: s("rule.from"),
        interval: s("rule.interval"),
        note: s("rule.note"),
        setup: s("rule.setup"),
        description: s("rule.description").unwrap_or_default(),
        author: strings("rule.author"),
        threshold,
        new_terms,
        timestamp_field: s("rule.timestamp_field"),
        tiebreaker_field: s("rule.tiebreaker_field"),
        event_category_override: s("rule.event_category_override"),
        load_diagnostics: diags,
        tree,
        text,
    }
}

/// FX008: a symlink where ruleforge expects a file or folder of the repository.
pub fn symlink_diagnostic(path: &Path) -> Diagnostic {
    Diagnostic::error(
        "FX008",
        "symlink not followed: ruleforge reads only regular files and folders inside the repository",
    )
    .at(path, None)
    .with_help("replace the symlink with the file or folder itself")
}

/// What a recursive walk of a folder found, each list sorted by path.
#[derive(Debug, Default)]
pub struct Listing {
    /// Regular `*.toml` files.
    pub toml: Vec<PathBuf>,
    /// Other regular files.
    pub other: Vec<PathBuf>,
    /// Symlinks (to files or folders): never followed, always reported by the caller.
    pub symlinks: Vec<PathBuf>,
}

/// Walks `dir` recursively without following symlinks.
pub fn list_dir(dir: &Path) -> std::io::Result<Listing> {
    let mut out = Listing::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let ft = entry.file_type()?;
            if ft.is_symlink() {
                out.symlinks.push(path);
            } else if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() && path.extension().is_some_and(|e| e == "toml") {
                out.toml.push(path);
            } else {
                out.other.push(path);
            }
        }
    }
    out.toml.sort();
    out.other.sort();
    out.symlinks.sort();
    Ok(out)
}

/// Every `*.toml` under `dir`, recursively, sorted by path (upstream's collection order).
/// Symlinks are not followed; [`Collection::load_dirs`] reports them.
pub fn collect_toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    Ok(list_dir(dir)?.toml)
}

/// Placement from a path inside a detection-rules layout.
pub fn placement_of(path: &Path) -> Placement {
    let comps: Vec<_> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    if comps.iter().any(|c| c == "_deprecated") {
        Placement::Deprecated
    } else if comps.iter().any(|c| c == "rules_building_block") {
        Placement::BuildingBlock
    } else {
        Placement::Rules
    }
}

/// Loaded rules plus the files that could not be loaded at all.
#[derive(Debug, Default)]
pub struct Collection {
    pub rules: Vec<Rule>,
    pub failed: Vec<LoadError>,
}

impl Collection {
    /// Loads every rule under `dirs`. Symlinks found there are load failures (FX008), so that
    /// nothing in a rule folder is silently skipped.
    pub fn load_dirs(dirs: &[PathBuf]) -> Result<Collection, LoadError> {
        let mut files = Vec::new();
        let mut symlinks = Vec::new();
        for dir in dirs {
            let listing = list_dir(dir).map_err(|source| LoadError::Io {
                path: dir.clone(),
                source,
            })?;
            files.extend(listing.toml);
            symlinks.extend(listing.symlinks);
        }
        let mut c = Self::load_files(&files);
        c.failed
            .extend(symlinks.into_iter().map(|path| LoadError::Symlink { path }));
        Ok(c)
    }

    /// Loads files in parallel (one chunk per core), keeping the given order.
    pub fn load_files(files: &[PathBuf]) -> Collection {
        let results = crate::parallel::map(files, |f| load_file(f, placement_of(f)));
        let mut c = Collection::default();
        for r in results {
            match r {
                Ok(rule) => c.rules.push(rule),
                Err(e) => c.failed.push(e),
            }
        }
        c
    }

    /// File stems of the rule files that failed to load: their rules exist, they just do not
    /// load, so neither a reference to them nor their snapshot is "unknown".
    pub fn failed_stems(&self) -> std::collections::HashSet<String> {
        self.failed
            .iter()
            .filter_map(|f| f.path().file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    /// Finds the rule a fixture manifest or CLI flag names (rule_id, file stem or name).
    pub fn find(&self, reference: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.is_named(reference))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;

    const DEPRECATED: &str = r#"
[metadata]
creation_date = "2020/01/01"
deprecation_date = "2024/01/01"
deprecated_reason = "replaced"
maturity = "deprecated"
updated_date = "2024/01/01"
surprise = 1

[rule]
name = "Old Rule"
rule_id = "00000000-0000-4000-8000-000000000001"
type = "query"
"#;

    #[test]
    fn deprecated_rules_get_schema_findings_as_warnings_only() {
        let rule = load_str(
            Path::new("rules/_deprecated/old.toml"),
            DEPRECATED.into(),
            Placement::Deprecated,
        )
        .unwrap();
        assert!(rule.loaded_cleanly());
        assert!(!rule.load_diagnostics.is_empty());
        assert!(
            rule.load_diagnostics
                .iter()
                .all(|d| d.code == "RF909" && d.severity == Severity::Warning)
        );
        assert!(
            rule.load_diagnostics
                .iter()
                .any(|d| d.message.contains("surprise"))
        );
        assert!(
            !rule
                .load_diagnostics
                .iter()
                .any(|d| d.message.contains("deprecated_reason"))
        );
    }

    #[test]
    fn the_same_problems_on_an_active_rule_are_errors() {
        let text = DEPRECATED.replace("maturity = \"deprecated\"", "maturity = \"production\"");
        let rule = load_str(Path::new("rules/x.toml"), text, Placement::Rules).unwrap();
        assert!(!rule.loaded_cleanly());
        assert!(
            rule.load_diagnostics
                .iter()
                .any(|d| d.code == "RF103" && d.message.contains("surprise"))
        );
    }
}
