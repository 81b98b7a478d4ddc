use super::declare_lint;
use crate::lint::query_checks;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    EsqlUnknownField,
    "RF628",
    "esql-unknown-field",
    Warning,
    "Every column an ES|QL query reads exists: in the field schemas RF604 checks EQL and KQL \
against (ECS, beats, endgame, endpoint, non-ECS and integration fields), or created by an \
earlier command. Columns are followed from `FROM` through the query: `EVAL` and `ROW` names, \
`STATS` aggregates and `BY` groups, `RENAME … AS` targets, `GROK`/`DISSECT` keys and \
`FROM … METADATA` fields exist after their command. After a command whose columns cannot be \
known (`ENRICH`, `LOOKUP JOIN`, …) nothing more is checked. Elasticsearch rejects a query that \
reads a column no index maps, so the rule never runs.\n\n\
```\nfrom logs-endpoint.events.process-* | where process.nmae == \"sshd\"\n```\n\n\
A warning, not an error: Elastic validates ES|QL fields only against a live stack (RF621), and \
ES|QL rules read newer integration fields than the offline schemas shipped with \
detection-rules hold (113 references in the Elastic corpus, e.g. `gen_ai.*`, `Tcc.*`), so an \
unknown column here may exist on the user's stack. \
`metadata.query_schema_validation = false` turns the check off for a rule.\n\n\
Fix: correct the name (a known field one edit away is suggested), or create the column before \
using it."
);

impl Lint for EsqlUnknownField {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if rule.language.as_deref() != Some("esql") || !cx.query_schema_validation() {
            return;
        }
        let Some(q) = &rule.query else { return };
        // A query that does not parse has no columns to follow.
        if let Ok(parsed) = crate::query::esql::parse(&q.text) {
            cx.report_query_findings(query_checks::esql_unknown_fields(&parsed));
        }
    }
}
