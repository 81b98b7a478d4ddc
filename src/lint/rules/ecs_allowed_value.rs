use super::declare_lint;
use crate::lint::query_checks;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    EcsAllowedValue,
    "RF624",
    "ecs-allowed-value",
    Warning,
    "A value an EQL or KQL query compares with one of ECS's categorization fields \
(`event.kind`, `event.category`, `event.type`, `event.outcome`) is one of the values ECS allows \
for that field, in some ECS version detection-rules ships. Integrations only ever write those \
values, so any other one (a typo, a plural, a wrong case in a case-sensitive comparison) never \
matches. An EQL event category (`process where …`) is a value of `event.category` too, unless \
the rule sets `event_category_override`. A wildcard or `like` pattern must match at least one \
allowed value.\n\n\
```\nprocess where event.type == \"started\" and process.name == \"curl\"\n```\n\n\
Fix: use the allowed value (the finding suggests the closest, here `start`; `ruleforge lint \
--explain RF624` lists nothing more, the help line lists every allowed value when none is \
close). `metadata.query_schema_validation = false` turns the check off for a rule. Elastic's \
tooling does not check values, so this is a ruleforge addition.\n\n\
A warning, not an error: some data sources write values ECS does not allow, and rules for them \
rightly query those (in Elastic's corpus: `event.outcome` `Success` from Azure logs, \
`event.type` `process_started` and the `network_traffic` and `dns` categories of legacy beats and \
Endgame data)."
);

impl Lint for EcsAllowedValue {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let Some(parsed) = cx.checked_query() else {
            return;
        };
        let category_is_event_category = rule
            .event_category_override
            .as_deref()
            .is_none_or(|f| f == "event.category");
        let findings = query_checks::allowed_values(parsed, category_is_event_category);
        cx.report_query_findings(findings);
    }
}
