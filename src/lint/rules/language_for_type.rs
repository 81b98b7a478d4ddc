use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::{Rule, RuleType};

declare_lint!(
    LanguageForType,
    "RF107",
    "language-for-type",
    Error,
    "`type = \"eql\"` needs `language = \"eql\"`, `esql` needs `esql`, and the query-family types \
(query, threshold, new_terms, threat_match) use `kuery` or `lucene`. Upstream's schema also lets \
a `query` rule say `eql`; Kibana does not, so ruleforge is stricter."
);

impl Lint for LanguageForType {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let (Some(t), Some(lang)) = (rule.rule_type, rule.language.as_deref()) else {
            return;
        };
        let allowed: &[&str] = match t {
            RuleType::Eql => &["eql"],
            RuleType::Esql => &["esql"],
            RuleType::Query | RuleType::Threshold | RuleType::NewTerms | RuleType::ThreatMatch => {
                &["kuery", "lucene"]
            }
            RuleType::MachineLearning => return,
        };
        if !allowed.contains(&lang) {
            cx.report(
                format!("language `{lang}` is not valid for a `{}` rule", t.as_str()),
                rule.span_of("rule.language"),
            )
            .help = Some(format!("use {}", allowed.join(" or ")));
        }
    }
}
