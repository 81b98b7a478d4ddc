use super::declare_lint;
use super::integration_has_index::integrations;
use crate::export::{ML_ANALYTIC_PACKAGES, NON_DATASET_PACKAGES, Tables, parse_datasets};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::{Rule, RuleType};

declare_lint!(
    IntegrationMatchesDatasets,
    "RF202",
    "integration-matches-datasets",
    Error,
    "When the query names datasets (`event.dataset` / `data_stream.dataset` values such as \
`okta.system`), `metadata.integration` lists exactly the packages the export derives: the \
packages of those datasets (when the integration manifests know them), plus the listed \
packages that rules name without a dataset (`endpoint`, `windows`, `system`, … see RF206) or \
machine-learning packages. The derived set becomes `related_integrations`; a package listed in \
the metadata but not queried is dropped from it silently, and a queried one missing from the \
metadata puts the rule in the wrong folder. An indicator-match rule may also list the \
indicator packages its `threat_index` reads (`ti_util` with `logs-ti_*`).\n\n\
```toml\n[metadata]\nintegration = [\"aws\"]\n[rule]\nquery = 'event.dataset:okta.system and …'   # derives [\"okta\"]\n```\n\n\
Fix: make `metadata.integration` the packages the query reads. Query-family rules with `index` \
(not Lucene), production only, as upstream's `test_integration_tag`."
);

/// The packages the export derives for a rule's `related_integrations`: the packages of the
/// query's datasets known to the manifests, and the listed packages that need no dataset.
/// Sorted and unique.
pub fn derived_packages(rule: &Rule, listed: &[&str]) -> Vec<String> {
    let (Some(q), Some(lang)) = (&rule.query, rule.language.as_deref()) else {
        return Vec::new();
    };
    let datasets = crate::export::scan_datasets(&q.text, lang);
    let mut out: Vec<String> = parse_datasets(&datasets, Tables::builtin())
        .into_iter()
        .map(|(package, _)| package)
        .collect();
    out.extend(
        listed
            .iter()
            .filter(|p| NON_DATASET_PACKAGES.contains(p) || ML_ANALYTIC_PACKAGES.contains(p))
            .map(|p| p.to_string()),
    );
    // An indicator-match rule reads its indicator package through `threat_index`, not the query.
    if rule.rule_type == Some(RuleType::ThreatMatch) {
        let threat_index = rule
            .tree
            .path("rule")
            .map(|r| r.strings("threat_index"))
            .unwrap_or_default();
        out.extend(
            listed
                .iter()
                .filter(|p| threat_index.iter().any(|t| reads_package(t, p)))
                .map(|p| p.to_string()),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// True when index pattern `index` covers `logs-<package>…` (`logs-ti_*` covers `ti_util`).
fn reads_package(index: &str, package: &str) -> bool {
    let logs = format!("logs-{package}");
    match index.strip_suffix('*') {
        Some(prefix) => logs.starts_with(prefix) || prefix.starts_with(&logs),
        None => index.starts_with(&logs),
    }
}

/// Rules the integration ↔ index lints (RF202, RF205, RF206) consider: production, with
/// `index`, and a KQL/EQL query (upstream's query-family rule data, not Lucene).
pub fn in_scope(rule: &Rule) -> bool {
    rule.maturity.as_deref() == Some("production")
        && !rule.index.is_empty()
        && rule.rule_type != Some(RuleType::MachineLearning)
        && rule.language.as_deref() != Some("lucene")
}

impl Lint for IntegrationMatchesDatasets {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if !in_scope(rule) {
            return;
        }
        let listed = integrations(rule);
        let derived = derived_packages(rule, &listed);
        if derived.is_empty() {
            return;
        }
        let mut sorted: Vec<&str> = listed.clone();
        sorted.sort_unstable();
        if sorted == derived.iter().map(String::as_str).collect::<Vec<_>>() {
            return;
        }
        let span = match rule.tree.path("metadata.integration") {
            Some(n) => n.span.clone(),
            None => rule.span_of("rule.query"),
        };
        let d = cx.report(
            format!(
                "`metadata.integration` is [{}] but the query's datasets make it [{}]",
                sorted.join(", "),
                derived.join(", ")
            ),
            span,
        );
        d.help = Some(format!(
            "set `integration = [{}]`, or query the datasets of the listed packages",
            derived
                .iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::reads_package;

    #[test]
    fn threat_index_patterns_cover_their_packages() {
        assert!(reads_package("logs-ti_*", "ti_util"));
        assert!(reads_package("logs-ti_util.threat*", "ti_util"));
        assert!(reads_package("logs-ti_util-default", "ti_util"));
        assert!(!reads_package("logs-ti_abusech*", "ti_util"));
        assert!(!reads_package("filebeat-*", "ti_util"));
    }
}
