use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    RiskMatchesSeverity,
    "RF210",
    "risk-matches-severity",
    Error,
    "`risk_score` agrees with `severity`: low 0–21, medium 22–47, high 48–73, critical 74–100."
);

pub(super) fn band(severity: &str) -> Option<(i64, i64, i64)> {
    Some(match severity {
        "low" => (0, 21, 21),
        "medium" => (22, 47, 47),
        "high" => (48, 73, 73),
        "critical" => (74, 100, 99),
        _ => return None,
    })
}

impl Lint for RiskMatchesSeverity {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let (Some(score), Some((lo, hi, _))) = (rule.risk_score, band(&rule.severity)) else {
            return;
        };
        if !(lo..=hi).contains(&score) {
            cx.report(
                format!(
                    "risk_score {score} does not match severity `{}` ({lo}–{hi})",
                    rule.severity
                ),
                rule.span_of("rule.risk_score"),
            );
        }
    }
}
