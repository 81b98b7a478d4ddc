use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::{Rule, RuleType};

declare_lint!(
    IntegrationHasIndex,
    "RF203",
    "integration-has-index",
    Error,
    "Each package in `metadata.integration` is read by one of the rule's index patterns \
(`logs-<package>…`): the package decides `related_integrations`, the setup Kibana shows, and the \
integration folder, so a package the rule does not query misleads users into installing the \
wrong integration (or hides the one they need).\n\n\
Exceptions, as upstream's `test_integration_tag`: `windows` with a `winlog` index, `apm` with \
`apm-*-transaction*` or `traces-apm*`, rules with a machine-learning package (`lmd`, `dga`, \
`ded`, `problemchild`, `beaconing`, `pad`), `threat_match` rules, rules whose only index is \
`.alerts-security.*`, and rules without `index` (ES|QL, ML). Production rules only.\n\n\
Fix: add the package's index pattern, or remove the package from `metadata.integration`."
);

const ML_PACKAGES: &[&str] = &["lmd", "dga", "ded", "problemchild", "beaconing", "pad"];

/// The `metadata.integration` entries (a string or an array of strings).
pub fn integrations(rule: &Rule) -> Vec<&str> {
    rule.tree
        .get("metadata")
        .map(|m| m.strings("integration"))
        .unwrap_or_default()
}

impl Lint for IntegrationHasIndex {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if rule.maturity.as_deref() != Some("production")
            || rule.index.is_empty()
            || rule.rule_type == Some(RuleType::ThreatMatch)
            || rule.index == [".alerts-security.*"]
        {
            return;
        }
        let packages = integrations(rule);
        if packages.iter().any(|p| ML_PACKAGES.contains(p)) {
            return;
        }
        for package in packages {
            let prefix = format!("logs-{package}");
            let read = rule.index.iter().any(|i| i.contains(&prefix))
                || (package == "windows" && rule.index.iter().any(|i| i.contains("winlog")))
                || (package == "apm"
                    && rule
                        .index
                        .iter()
                        .any(|i| i == "apm-*-transaction*" || i == "traces-apm*"));
            if read {
                continue;
            }
            let d = cx.report(
                format!("integration `{package}` is read by no index pattern of the rule"),
                rule.span_of("metadata.integration"),
            );
            d.help = Some(format!(
                "add an index such as `logs-{package}*`, or remove `{package}` from `metadata.integration`"
            ));
        }
    }
}
