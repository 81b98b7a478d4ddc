use super::declare_lint;
use crate::lint::schema::FieldSchema;
use crate::lint::schema::{eql_fields, kql_fields};
use crate::lint::{Context, Lint, LintInfo};
use crate::query::kql;
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
ruleforge checks against the union of all those schemas (not yet per stack and per integration \
package as upstream does), so it can only miss misspellings, never reject a field upstream accepts."
);

impl Lint for UnknownField {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if matches!(
            rule.tree
                .path("metadata.query_schema_validation")
                .map(|n| &n.kind),
            Some(crate::rule::tree::Kind::Bool(false))
        ) {
            return;
        }
        let Some(q) = &rule.query else {
            return;
        };
        let refs = match rule.language.as_deref() {
            Some("eql") => match cx.eql() {
                Some(Ok(parsed)) => eql_fields(parsed),
                _ => return,
            },
            Some("kuery") => match kql::parse(&q.text) {
                Ok(parsed) => kql_fields(&parsed),
                Err(_) => return,
            },
            _ => return,
        };
        let schema = FieldSchema::builtin();
        for (name, span) in refs {
            if schema.accepts(&name) {
                continue;
            }
            let suggestion = schema.suggest(&name);
            let d = cx.report(
                format!("unknown field `{name}`: not in the ECS, beats, endgame, endpoint, non-ECS or integration schemas"),
                q.file_span(&span),
            );
            d.help = Some(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "check the spelling against the rule's index schemas, or mark an EQL field optional with `?`".to_string(),
            });
        }
    }
}
