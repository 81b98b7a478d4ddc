use super::declare_lint;
use super::integration_has_index::integrations;
use super::integration_matches_datasets::in_scope;
use crate::export::ML_ANALYTIC_PACKAGES;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::{Rule, RuleType};

declare_lint!(
    IndexImpliesIntegration,
    "RF205",
    "index-implies-integration",
    Error,
    "Each index pattern names the integration that ships its data, and that integration is in \
`metadata.integration`: the package is the first word after the first `-` \
(`logs-okta*` → `okta`, `logs-endpoint.events.process-*` → `endpoint`, and \
`apm-*-transaction*` → `apm`). Without it the exported rule lacks the `related_integrations` \
entry Kibana uses to tell users which integration to install, and the rule sits in the wrong \
integration folder.\n\n\
Generic patterns are exempt (`.alerts-security.*`, `logs-*`, `metrics-*`, `traces-*`, \
`endgame-*`, `filebeat-*`, `packetbeat-*`, `auditbeat-*`, `winlogbeat-*`), as are rules with a \
machine-learning package, `threat_match` rules and the nine rule ids upstream's \
`test_integration_tag` allow-lists. Production rules with `index` only.\n\n\
```toml\n[metadata]\nintegration = [\"aws\"]\n[rule]\nindex = [\"logs-okta*\"]   # okta is missing\n```\n\n\
Fix: add the package to `metadata.integration` (or correct the index pattern)."
);

/// Patterns that name no single integration (upstream `IGNORE_INDICES`).
const GENERIC_INDICES: &[&str] = &[
    ".alerts-security.*",
    "logs-*",
    "metrics-*",
    "traces-*",
    "endgame-*",
    "filebeat-*",
    "packetbeat-*",
    "auditbeat-*",
    "winlogbeat-*",
];

/// Rules upstream exempts from the index ↔ integration checks (upstream `IGNORE_IDS`).
pub const EXEMPT_RULE_IDS: &[&str] = &[
    "eb079c62-4481-4d6e-9643-3ca499df7aaa",
    "699e9fdb-b77c-4c01-995c-1c15019b9c43",
    "0c9a14d9-d65d-486f-9b5b-91e4e6b22bd0",
    "a198fbbd-9413-45ec-a269-47ae4ccf59ce",
    "0c41e478-5263-4c69-8f9e-7dfd2c22da64",
    "aab184d3-72b3-4639-b242-6597c99d8bca",
    "a61809f3-fb5b-465c-8bff-23a8a068ac60",
    "f3e22c8b-ea47-45d1-b502-b57b6de950b3",
    "fcf18de8-ad7d-4d01-b3f7-a11d5b3883af",
];

/// The integration an index pattern implies: the first run of word characters after the first
/// `-` (before it when there is no `-`).
pub fn implied_integration(index: &str) -> Option<&str> {
    if index == "apm-*-transaction*" {
        return Some("apm");
    }
    let part = match index.split_once('-') {
        Some((_, rest)) if !rest.is_empty() => rest,
        Some((first, _)) => first,
        None => index,
    };
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let start = part.find(word)?;
    let rest = &part[start..];
    let end = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
    Some(&rest[..end])
}

impl Lint for IndexImpliesIntegration {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if !in_scope(rule)
            || rule.rule_type == Some(RuleType::ThreatMatch)
            || EXEMPT_RULE_IDS.contains(&rule.rule_id.as_str())
        {
            return;
        }
        let listed = integrations(rule);
        if listed.iter().any(|p| ML_ANALYTIC_PACKAGES.contains(p)) {
            return;
        }
        let mut missing: Vec<&str> = Vec::new();
        for index in &rule.index {
            if GENERIC_INDICES.contains(&index.as_str()) {
                continue;
            }
            if let Some(package) = implied_integration(index) {
                if !listed.contains(&package) && !missing.contains(&package) {
                    missing.push(package);
                }
            }
        }
        for package in missing {
            let d = cx.report(
                format!("index pattern implies integration `{package}`, which `metadata.integration` does not list"),
                rule.span_of("rule.index"),
            );
            d.help = Some(format!("add `{package}` to `metadata.integration`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::implied_integration;

    #[test]
    fn integration_is_the_first_word_after_the_first_dash() {
        assert_eq!(implied_integration("logs-okta*"), Some("okta"));
        assert_eq!(
            implied_integration("logs-endpoint.events.process-*"),
            Some("endpoint")
        );
        assert_eq!(
            implied_integration("logs-windows.sysmon_operational-*"),
            Some("windows")
        );
        assert_eq!(implied_integration("apm-*-transaction*"), Some("apm"));
        assert_eq!(implied_integration("traces-apm*"), Some("apm"));
        assert_eq!(implied_integration("logs-*"), None);
        assert_eq!(implied_integration("winlogbeat-*"), None);
    }
}
