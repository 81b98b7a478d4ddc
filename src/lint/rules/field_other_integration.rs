use std::collections::BTreeSet;

use super::declare_lint;
use super::integration_has_index::integrations;
use crate::lint::comparisons::{self, Value};
use crate::lint::query_checks::Parsed;
use crate::lint::schema::{IntegrationOnly, eql_fields, kql_fields};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    FieldOtherIntegration,
    "RF626",
    "field-other-integration",
    Warning,
    "A field the query names that only integration packages define (in no ECS, beats, \
endgame, endpoint or non-ECS schema) belongs to one of the rule's own packages: those of \
`metadata.integration`, of its index patterns (`logs-aws.cloudtrail-*` → `aws`) and of the \
`event.dataset`/`data_stream.dataset` values it compares. A field of another package is never \
present in the indices the rule reads, so the condition never holds; Elastic's validation, \
which checks a rule against its own packages' schemas, rejects it.\n\n\
```\n# index = [\"logs-okta*\"], integration = [\"okta\"]\n\
okta.target.display_name : \"x\" and aws.cloudtrail.user_identity.arn : \"y\"\n```\n\n\
Fix: query the field of the rule's own data source, or add the package (and its index) when \
the rule really reads it. Rules whose packages cannot be told (no `metadata.integration`, \
generic index patterns such as `logs-*`) are not checked; EQL optional fields (`?field`) are \
not checked. The package lists cover every package version detection-rules ships (not yet the \
exact versions a rule allows: RF630 does that)."
);

/// The packages a rule reads: `metadata.integration`, `logs-<package>…` index patterns and
/// the datasets compared in the query.
fn rule_packages(rule: &Rule, parsed: Parsed<'_>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = integrations(rule).into_iter().map(str::to_string).collect();
    for index in &rule.index {
        let index = index.split_once(':').map_or(index.as_str(), |(_, i)| i);
        for prefix in ["logs-", "metrics-", "traces-"] {
            if let Some(rest) = index.strip_prefix(prefix) {
                let package = rest.split(['.', '-', '*']).next().unwrap_or("");
                if !package.is_empty() {
                    out.insert(package.to_string());
                }
            }
        }
    }
    let comps = match parsed {
        Parsed::Eql(q) => comparisons::eql(q),
        Parsed::Kql(q) => comparisons::kql(q),
    };
    for c in comps {
        if let ("event.dataset" | "data_stream.dataset", Value::Str(v)) =
            (c.field.as_str(), &c.value)
        {
            let package = v.split(['.', '*', '?']).next().unwrap_or("");
            if !package.is_empty() {
                out.insert(package.to_string());
            }
        }
    }
    out
}

impl Lint for FieldOtherIntegration {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let Some(parsed) = cx.checked_query() else {
            return;
        };
        let packages = rule_packages(rule, parsed);
        if packages.is_empty() {
            return;
        }
        let refs = match parsed {
            Parsed::Eql(q) => eql_fields(q),
            Parsed::Kql(q) => kql_fields(q),
        };
        let table = IntegrationOnly::builtin();
        let Some(query) = &rule.query else { return };
        for (name, span) in refs {
            let Some(owners) = table.packages(&name) else {
                continue;
            };
            if owners.iter().any(|o| packages.contains(&**o)) {
                continue;
            }
            let owners: Vec<String> = owners.iter().map(|o| format!("`{o}`")).collect();
            let own: Vec<String> = packages.iter().map(|p| format!("`{p}`")).collect();
            let d = cx.report(
                format!(
                    "`{name}` is a field of {} only; the rule reads {}",
                    owners.join(", "),
                    own.join(", ")
                ),
                query.file_span(&span),
            );
            d.help = Some(
                "query a field of the rule's own data source, or add the package and its index"
                    .into(),
            );
        }
    }
}
