//! The lint catalogue. One lint per file under `rules/`, each with a stable code, a name, a
//! default severity and its user documentation (shown by `ruleforge lint --explain CODE`, with
//! the codes reported outside lints, see `crate::codes`).
//! Adding a lint: write the file, add it to [`LINTS`].

pub mod attack;
pub mod comparisons;
pub mod markdown;
pub mod package_versions;
pub mod query_checks;
pub mod rules;
pub mod schema;

use crate::diag::{Diagnostic, Severity, Span};
use crate::rule::{Collection, Rule};

/// Static description of a lint.
#[derive(Debug)]
pub struct LintInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// What it checks, why, an example and the fix. Markdown.
    pub doc: &'static str,
}

/// A check. Per-rule lints implement `check`; collection lints implement `check_collection`.
pub trait Lint: Sync {
    fn info(&self) -> &'static LintInfo;
    fn check(&self, _rule: &Rule, _cx: &mut Context<'_>) {}
    fn check_collection(&self, _rules: &[Rule], _cx: &mut CollectionContext<'_>) {}
}

/// What several lints derive from one rule, computed once on first use.
#[derive(Default)]
pub struct Facts {
    note_headings: std::sync::OnceLock<Vec<markdown::Heading>>,
    note_code_spans: std::sync::OnceLock<Vec<(String, std::ops::Range<usize>)>>,
    eql: std::sync::OnceLock<Option<Result<crate::query::eql::Query, crate::query::eql::EqlError>>>,
    kql: std::sync::OnceLock<Option<crate::query::kql::Query>>,
}

/// What lints know beyond the rules themselves.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The repository's `etc/` as the exporter reads it (version lock, lowest supported stack);
    /// `None` without a `version.lock.json`, and then the lock lints (RF71x) are silent.
    pub export: Option<crate::export::ExportContext>,
    /// True when the collection is every configured rule folder (not `lint PATH`), so that a
    /// lock entry without a rule file means the file is gone.
    pub complete: bool,
    /// Compute every locked rule's content hash (RF712): about as costly as the rest of the
    /// lint together, so only when asked for (`--select RF712`) or on a `--changed-since` run.
    pub lock_hashes: bool,
}

impl Environment {
    /// The version lock, when there is one.
    pub fn lock(&self) -> Option<&crate::export::VersionLock> {
        self.export.as_ref()?.version_lock()
    }
}

/// Collects findings of one lint on one rule.
pub struct Context<'a> {
    info: &'static LintInfo,
    rule: &'a Rule,
    pub env: &'a Environment,
    facts: &'a Facts,
    out: &'a mut Vec<Diagnostic>,
}

impl Context<'_> {
    /// Headings of the rule's `note` (empty without a note).
    pub fn note_headings(&self) -> &[markdown::Heading] {
        self.facts.note_headings.get_or_init(|| {
            self.rule
                .note
                .as_deref()
                .map(markdown::headings)
                .unwrap_or_default()
        })
    }

    /// Inline code spans of the rule's `note`.
    pub fn note_code_spans(&self) -> &[(String, std::ops::Range<usize>)] {
        self.facts.note_code_spans.get_or_init(|| {
            self.rule
                .note
                .as_deref()
                .map(markdown::code_spans)
                .unwrap_or_default()
        })
    }

    /// The rule's EQL query parsed, when it is an EQL rule with a query.
    pub fn eql(&self) -> Option<&Result<crate::query::eql::Query, crate::query::eql::EqlError>> {
        self.facts
            .eql
            .get_or_init(|| {
                let q = self.rule.query.as_ref()?;
                (self.rule.rule_type == Some(crate::rule::RuleType::Eql)
                    && self.rule.language.as_deref() == Some("eql"))
                .then(|| crate::query::eql::parse(&q.text))
            })
            .as_ref()
    }

    /// The rule's KQL query parsed, when it is a `kuery` rule whose query parses.
    pub fn kql(&self) -> Option<&crate::query::kql::Query> {
        self.facts
            .kql
            .get_or_init(|| {
                let q = self.rule.query.as_ref()?;
                (self.rule.language.as_deref() == Some("kuery"))
                    .then(|| crate::query::kql::parse(&q.text).ok())
                    .flatten()
            })
            .as_ref()
    }

    /// The rule's query for the field and value checks (RF604, RF624, RF625): `None` when it
    /// is neither EQL nor KQL, does not parse, or `metadata.query_schema_validation = false`.
    pub fn checked_query(&self) -> Option<query_checks::Parsed<'_>> {
        if !self.query_schema_validation() {
            return None;
        }
        match self.rule.language.as_deref() {
            Some("eql") => match self.eql() {
                Some(Ok(q)) => Some(query_checks::Parsed::Eql(q)),
                _ => None,
            },
            Some("kuery") => self.kql().map(query_checks::Parsed::Kql),
            _ => None,
        }
    }

    /// False when `metadata.query_schema_validation = false` turns the field checks off.
    pub fn query_schema_validation(&self) -> bool {
        !matches!(
            self.rule
                .tree
                .path("metadata.query_schema_validation")
                .map(|n| &n.kind),
            Some(crate::rule::tree::Kind::Bool(false))
        )
    }

    /// Reports findings of the shared query checks, mapped into the rule file.
    pub fn report_query_findings(&mut self, findings: Vec<query_checks::QueryFinding>) {
        let Some(q) = &self.rule.query else { return };
        let spans: Vec<Span> = findings.iter().map(|f| q.file_span(&f.span)).collect();
        for (f, span) in findings.into_iter().zip(spans) {
            let d = self.report(f.message, span);
            d.help = f.help;
        }
    }

    pub fn report(&mut self, message: impl Into<String>, span: Span) -> &mut Diagnostic {
        let d = Diagnostic {
            code: self.info.code,
            severity: self.info.severity,
            message: message.into(),
            file: Some(self.rule.path.clone()),
            span: Some(span),
            help: None,
        };
        self.out.push(d);
        self.out.last_mut().expect("just pushed")
    }
}

pub struct CollectionContext<'a> {
    info: &'static LintInfo,
    pub env: &'a Environment,
    out: &'a mut Vec<Diagnostic>,
}

impl CollectionContext<'_> {
    pub fn report(
        &mut self,
        rule: &Rule,
        message: impl Into<String>,
        span: Span,
    ) -> &mut Diagnostic {
        self.out.push(Diagnostic {
            code: self.info.code,
            severity: self.info.severity,
            message: message.into(),
            file: Some(rule.path.clone()),
            span: Some(span),
            help: None,
        });
        self.out.last_mut().expect("just pushed")
    }

    pub fn report_global(&mut self, message: impl Into<String>) {
        self.out.push(Diagnostic {
            code: self.info.code,
            severity: self.info.severity,
            message: message.into(),
            file: None,
            span: None,
            help: None,
        });
    }
}

/// Which lints run, and at which severity.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Codes or code prefixes to run exclusively (empty = all).
    pub select: Vec<String>,
    /// Codes or code prefixes to skip.
    pub ignore: Vec<String>,
    /// Codes whose findings become warnings.
    pub warn: Vec<String>,
}

impl Selection {
    pub fn enabled(&self, code: &str) -> bool {
        let hit = |list: &[String]| list.iter().any(|p| code.starts_with(p.as_str()));
        (self.select.is_empty() || hit(&self.select)) && !hit(&self.ignore)
    }

    fn adjust(&self, d: &mut Diagnostic) {
        if self.warn.iter().any(|p| d.code.starts_with(p.as_str())) {
            d.severity = Severity::Warning;
        }
    }
}

/// Runs every selected lint over the collection. Load findings (schema, syntax) come first,
/// then per-rule lints in catalogue order, then collection lints. Deprecated rules get load-level
/// checks only, as upstream raw-loads them.
pub fn run(collection: &Collection, selection: &Selection) -> Vec<Diagnostic> {
    run_with(collection, selection, &Environment::default(), None)
}

/// [`run`] with what the repository's `etc/` provides (the lock lints need it), and the per-rule
/// lints limited to the rule files in `only` when given (a changed-only run); collection lints
/// (duplicates) still see every rule.
pub fn run_with(
    collection: &Collection,
    selection: &Selection,
    env: &Environment,
    only: Option<&std::collections::HashSet<std::path::PathBuf>>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for failed in &collection.failed {
        out.extend(failed.diagnostics());
    }
    let per_rule = crate::parallel::map(&collection.rules, |rule| {
        if only.is_some_and(|o| !o.contains(&rule.path)) {
            return Vec::new();
        }
        let mut out = rule.load_diagnostics.clone();
        if rule.is_deprecated() {
            return out;
        }
        let facts = Facts::default();
        for lint in rules::LINTS {
            let info = lint.info();
            if !selection.enabled(info.code) {
                continue;
            }
            let mut cx = Context {
                info,
                rule,
                env,
                facts: &facts,
                out: &mut out,
            };
            lint.check(rule, &mut cx);
        }
        out
    });
    out.extend(per_rule.into_iter().flatten());
    for lint in rules::LINTS {
        let info = lint.info();
        if !selection.enabled(info.code) {
            continue;
        }
        let mut cx = CollectionContext {
            info,
            env,
            out: &mut out,
        };
        lint.check_collection(&collection.rules, &mut cx);
    }
    out.retain(|d| selection.enabled(d.code));
    for d in &mut out {
        selection.adjust(d);
    }
    out
}

/// Findings counted per code, for `lint --statistics` (as ruff's): one line per code with its
/// count, severity and name, the most frequent first (ties by code).
pub fn statistics(diags: &[Diagnostic]) -> String {
    let mut counts: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
    for d in diags {
        *counts.entry((d.code, d.severity.as_str())).or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let width = rows.first().map_or(1, |r| r.1.to_string().len());
    rows.iter()
        .map(|((code, severity), n)| {
            let name = crate::codes::explain(code).map_or("", |i| i.name);
            let line = format!("{n:>width$}  {code:<6} {severity:<7} {name}");
            format!("{}\n", line.trim_end())
        })
        .collect()
}

/// Every lint, for `--explain` and the docs.
pub fn catalogue() -> impl Iterator<Item = &'static LintInfo> {
    rules::LINTS.iter().map(|l| l.info())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(code: &'static str, severity: Severity) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message: String::new(),
            file: None,
            span: None,
            help: None,
        }
    }

    #[test]
    fn statistics_count_per_code_most_frequent_first() {
        let diags = [
            d("RF505", Severity::Error),
            d("RF604", Severity::Error),
            d("RF604", Severity::Error),
            d("RF603", Severity::Warning),
        ];
        assert_eq!(
            statistics(&diags),
            "2  RF604  error   unknown-field\n1  RF505  error   technique-id-name\n1  RF603  warning eql-syntax\n"
        );
        assert_eq!(statistics(&[]), "");
    }
}
