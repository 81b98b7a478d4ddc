use super::declare_lint;
use crate::lint::query_checks;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    UnknownField,
    "RF604",
    "unknown-field",
    Error,
    "Every field an EQL or KQL query names exists in the field schemas Elastic's `validate-rule` \
checks against: ECS (every version of the supported stacks, with multi-fields such as \
`process.name.text`), the beats, endgame and Elastic Defend endpoint schemas, the non-ECS fields \
declared per index, and the integration packages' fields. A misspelled field never matches, so \
the rule loads, replays and ships without ever alerting.\n\n\
```\nprocess where process.nmae in (\"cmd.exe\", \"powershell.exe\")\n```\n\n\
Fix: correct the name (the finding suggests a known field one edit away, e.g. `process.name`). \
EQL optional fields (`?field`) are accepted unknown, as Elasticsearch does; KQL field names with \
`*` are not checked; fields under an `object`/`flattened` field are accepted. \
`metadata.query_schema_validation = false` turns the check off for a rule. \
ruleforge checks against the union of all those schemas, so it can only miss misspellings, \
never reject a field upstream accepts; RF629 adds the per-stack part (an ECS field the rule's \
older supported stacks lack) and RF630 the per-package-version part (a package field or data \
stream that no version the rule's `related_integrations` constraint allows has)."
);

impl Lint for UnknownField {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, _rule: &Rule, cx: &mut Context<'_>) {
        let Some(parsed) = cx.checked_query() else {
            return;
        };
        let findings = query_checks::unknown_fields(parsed);
        cx.report_query_findings(findings);
    }
}
