use super::declare_lint;
use super::risk_matches_severity::band;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    RiskScoreCanonical,
    "RF211",
    "risk-score-canonical",
    Warning,
    "By convention each severity uses one score: low 21, medium 47, high 73, critical 99."
);

impl Lint for RiskScoreCanonical {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let (Some(score), Some((lo, hi, canonical))) = (rule.risk_score, band(&rule.severity))
        else {
            return;
        };
        if (lo..=hi).contains(&score) && score != canonical {
            cx.report(
                format!(
                    "severity `{}` conventionally uses risk_score {canonical}, not {score}",
                    rule.severity
                ),
                rule.span_of("rule.risk_score"),
            );
        }
    }
}
