use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::{Rule, RuleType};

declare_lint!(
    TypeRequiredKeys,
    "RF106",
    "type-required-keys",
    Error,
    "Each rule type needs its own keys: `language` and `query` for query-family types, \
`[rule.threshold]` for threshold rules, `[rule.new_terms]` for new_terms, `threat_index` and \
`threat_mapping` for threat_match, `anomaly_threshold` and `machine_learning_job_id` for \
machine_learning. Without them Kibana rejects the import.\n\nFix: add the missing key."
);

impl Lint for TypeRequiredKeys {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let Some(t) = rule.rule_type else { return };
        let required: &[&str] = match t {
            RuleType::Query | RuleType::Eql | RuleType::Esql => &["language", "query"],
            RuleType::Threshold => &["language", "query", "threshold"],
            RuleType::NewTerms => &["language", "query", "new_terms"],
            RuleType::ThreatMatch => &["language", "query", "threat_index", "threat_mapping"],
            RuleType::MachineLearning => &["anomaly_threshold", "machine_learning_job_id"],
        };
        let table = rule.tree.get("rule");
        for key in required {
            if table.and_then(|t| t.get(key)).is_none() {
                cx.report(
                    format!("a `{}` rule needs `{key}`", t.as_str()),
                    rule.span_of("rule.type"),
                );
            }
        }
    }
}
