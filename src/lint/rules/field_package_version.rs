use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::declare_lint;
use crate::diag::Span;
use crate::export::semver::Version;
use crate::lint::comparisons::{self, Value};
use crate::lint::package_versions::{FieldVersions, allowed_versions, describe_runs, package_rows};
use crate::lint::query_checks::{Parsed, QueryFinding};
use crate::lint::schema::{EcsFieldStacks, IntegrationOnly, eql_fields, kql_fields};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    FieldPackageVersion,
    "RF630",
    "field-not-in-package-version",
    Error,
    "A package field or data stream the query names exists in a version of the package the \
rule may run against. Those versions are the ones its `related_integrations` constraint allows \
(as authored, or, when absent, as the exporter computes it for the package stack, e.g. \
`>=2.41.0`), among those whose Fleet `conditions.kibana.version` accepts a stack the rule \
supports (`min_stack_version`, or the lowest stack, up to the package stack). A field or data \
stream added in a later version, or removed before the allowed ones, is not in the indices the \
rule reads there, so the condition never holds.\n\n\
```toml\n[[rule.related_integrations]]\npackage = \"aws\"\nversion = \"^2.0.0\"   # 2.0.0–2.45.2\n\
# query: event.dataset : \"aws.config\"   (the config data stream is in aws 3.4.0 and later)\n```\n\n\
Fix: widen the constraint (and `min_stack_version` if the newer package needs a newer stack), \
or use what the allowed versions define. A constraint that allows no version at all on the \
supported stacks is reported at the constraint. Only fields that integration packages alone \
define are checked (ECS and the other schemas hold the rest); EQL optional fields (`?field`) \
are not checked. In the snapshot of detection-rules' integration schemas the field lists of \
every version of a package are the same, so today only data streams differ between versions."
);

/// [`allowed_versions`] of a built-in package, memoised: most corpus rules repeat a few
/// (package, constraint, stacks) triples, and each computation parses every manifest row's
/// Kibana condition once per stack.
fn allowed_cached(
    package: &str,
    rows: &'static [crate::export::ManifestRow],
    constraint: &str,
    stacks: &[Version],
) -> Vec<&'static crate::export::ManifestRow> {
    type Key = (String, String, Vec<(u64, u64, u64)>);
    static MEMO: OnceLock<Mutex<HashMap<Key, Vec<usize>>>> = OnceLock::new();
    let key: Key = (
        package.to_string(),
        constraint.to_string(),
        stacks.iter().map(|s| (s.major, s.minor, s.patch)).collect(),
    );
    let memo = MEMO.get_or_init(Default::default);
    if let Some(hit) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit.into_iter().filter_map(|i| rows.get(i)).collect();
    }
    let allowed = allowed_versions(rows, constraint, stacks);
    let indexes = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| allowed.iter().any(|a| std::ptr::eq(*a, *r)))
        .map(|(i, _)| i)
        .collect();
    if let Ok(mut m) = memo.lock() {
        m.insert(key, indexes);
    }
    allowed
}

/// A package and the version constraint the rule gives it, with where it was written.
struct Constraint {
    package: String,
    version: String,
    /// The authored `version` value; `None` when computed as the exporter would.
    span: Option<Span>,
}

/// Authored `related_integrations` rows, else the rows the exporter would compute.
fn constraints(rule: &Rule, stack: &Version) -> Vec<Constraint> {
    if let Some(rows) = rule
        .tree
        .path("rule.related_integrations")
        .and_then(|n| n.as_array())
    {
        return rows
            .iter()
            .filter_map(|row| {
                let version = row.get("version")?;
                Some(Constraint {
                    package: row.get("package")?.as_str()?.to_string(),
                    version: version.as_str()?.to_string(),
                    span: Some(version.span.clone()),
                })
            })
            .collect();
    }
    let meta: Vec<String> = super::integration_has_index::integrations(rule)
        .into_iter()
        .map(str::to_string)
        .collect();
    let (Some(q), Some(language)) = (&rule.query, rule.language.as_deref()) else {
        return Vec::new();
    };
    let tables = crate::export::Tables::builtin();
    let datasets = crate::export::scan_datasets(&q.text, language);
    let candidates = crate::export::integration_candidates(&meta, "query", &datasets, tables);
    let Ok(rows) = crate::export::resolve_integrations(&candidates, tables, stack) else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|r| {
            Some(Constraint {
                package: r.get("package")?.as_str()?.to_string(),
                version: r.get("version")?.as_str()?.to_string(),
                span: None,
            })
        })
        .collect()
}

/// The stacks the rule supports, from its minimum up to the package stack.
fn supported_stacks(rule: &Rule, cx: &Context<'_>, package_stack: &Version) -> Vec<Version> {
    let table = EcsFieldStacks::builtin();
    let lowest = cx
        .env
        .export
        .as_ref()
        .map(|e| e.lowest_supported_stack().clone())
        .or_else(|| table.lowest_stack().cloned())
        .unwrap_or_else(|| package_stack.clone());
    let min = rule
        .tree
        .str_at("metadata.min_stack_version")
        .and_then(Version::parse)
        .filter(|v| *v > lowest)
        .unwrap_or(lowest);
    let mut out: Vec<Version> = table
        .stacks_from(&min)
        .map(|(s, _)| s.clone())
        .filter(|s| s <= package_stack)
        .collect();
    if out.is_empty() {
        out.push(package_stack.clone());
    }
    out
}

impl Lint for FieldPackageVersion {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if cx.checked_query().is_none() {
            return;
        }
        let package_stack = cx
            .env
            .export
            .as_ref()
            .and_then(|e| Version::parse(e.package_stack()))
            .unwrap_or_else(|| Version::new(9, 6, 0));
        let stacks = supported_stacks(rule, cx, &package_stack);
        let stack_names = match (stacks.first(), stacks.last()) {
            (Some(a), Some(b)) if a != b => format!("{}–{}", a.major_minor(), b.major_minor()),
            (Some(a), _) => a.major_minor(),
            _ => String::new(),
        };
        let mut windows = Vec::new();
        for c in constraints(rule, &package_stack) {
            let Some(rows) = package_rows(&c.package) else {
                continue;
            };
            let allowed = allowed_cached(&c.package, rows, &c.version, &stacks);
            if allowed.is_empty() {
                if let Some(span) = &c.span {
                    let d = cx.report(
                        format!(
                            "no version of `{}` satisfies `{}` on the stacks the rule supports ({stack_names})",
                            c.package, c.version
                        ),
                        span.clone(),
                    );
                    d.help = Some(format!(
                        "`{}` has versions {}",
                        c.package,
                        describe_runs(rows, |_| true)
                    ));
                }
                continue;
            }
            windows.push((c, rows, allowed));
        }
        if windows.is_empty() {
            return;
        }
        let window_text = |c: &Constraint,
                           rows: &[crate::export::ManifestRow],
                           allowed: &[&crate::export::ManifestRow]| {
            format!(
                "`{}` allows {} of `{}` on stacks {stack_names}",
                c.version,
                describe_runs(rows, |r| allowed.iter().any(|a| a.version == r.version)),
                c.package
            )
        };
        let Some(parsed) = cx.checked_query() else {
            return;
        };
        let mut findings = Vec::new();
        // Data streams named by `event.dataset`/`data_stream.dataset` values.
        let comps = match parsed {
            Parsed::Eql(q) => comparisons::eql(q),
            Parsed::Kql(q) => comparisons::kql(q),
        };
        for comp in comps {
            let ("event.dataset" | "data_stream.dataset", Value::Str(v)) =
                (comp.field.as_str(), &comp.value)
            else {
                continue;
            };
            let Some((package, stream)) = v.split_once('.') else {
                continue;
            };
            if stream.contains(['*', '?', '.']) {
                continue;
            }
            for (c, rows, allowed) in windows.iter().filter(|w| w.0.package == package) {
                let has = |r: &crate::export::ManifestRow| {
                    r.data_streams
                        .as_ref()
                        .is_some_and(|s| s.iter().any(|x| x == stream))
                };
                if !rows.iter().any(has) || allowed.iter().any(|r| has(r)) {
                    continue;
                }
                findings.push(QueryFinding {
                    code: "RF630",
                    message: format!(
                        "data stream `{stream}` is in `{package}` {} only; {}",
                        describe_runs(rows, has),
                        window_text(c, rows, allowed)
                    ),
                    span: comp.value_span.clone(),
                    help: Some(
                        "widen the package constraint (and min_stack_version if needed)".into(),
                    ),
                });
            }
        }
        let refs = match parsed {
            Parsed::Eql(q) => eql_fields(q),
            Parsed::Kql(q) => kql_fields(q),
        };
        let owners = IntegrationOnly::builtin();
        let versions = FieldVersions::builtin();
        for (name, span) in refs {
            let Some(pkgs) = owners.packages(&name) else {
                continue;
            };
            let own: Vec<_> = windows
                .iter()
                .filter(|w| pkgs.iter().any(|p| **p == *w.0.package))
                .collect();
            let mut missing = None;
            let mut found = own.is_empty();
            for (c, rows, allowed) in &own {
                let Some(ranges) = versions.ranges(&c.package, &name) else {
                    found = true;
                    break;
                };
                let has = |r: &crate::export::ManifestRow| {
                    ranges.iter().any(|(a, b)| *a <= r.semver && r.semver <= *b)
                };
                if allowed.iter().any(|r| has(r)) {
                    found = true;
                    break;
                }
                missing.get_or_insert_with(|| {
                    format!(
                        "`{name}` is in `{}` {} only; {}",
                        c.package,
                        describe_runs(rows, has),
                        window_text(c, rows, allowed)
                    )
                });
            }
            if let (false, Some(message)) = (found, missing) {
                findings.push(QueryFinding {
                    code: "RF630",
                    message,
                    span,
                    help: Some(
                        "widen the package constraint, or use a field the allowed versions define"
                            .into(),
                    ),
                });
            }
        }
        cx.report_query_findings(findings);
    }
}
