use super::declare_lint;
use crate::lint::schema::{FieldSchema, eql_fields};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    EqlTextField,
    "RF605",
    "eql-text-field",
    Error,
    "An EQL query does not use a `text` (or `match_only_text`) field: Elasticsearch's EQL \
cannot compare analyzed text, so the search fails when the rule runs. The usual culprit is a \
multi-field such as `process.command_line.text`.\n\n\
```\nprocess where process.command_line.text : \"*curl*\"\n```\n\n\
Fix: query the keyword field (`process.command_line`). The type is the field's type in the \
schemas RF604 checks against (the newest ECS first); `metadata.query_schema_validation = false` \
turns the check off."
);

impl Lint for EqlTextField {
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
        let (Some(q), Some(Ok(parsed))) = (&rule.query, cx.eql()) else {
            return;
        };
        let schema = FieldSchema::builtin();
        for (name, span) in eql_fields(parsed) {
            let Some(ty @ ("text" | "match_only_text")) = schema.field_type(&name) else {
                continue;
            };
            let d = cx.report(
                format!("EQL cannot query `{name}`: it is a `{ty}` field"),
                q.file_span(&span),
            );
            if let Some(keyword) = name.strip_suffix(".text").filter(|k| schema.contains(k)) {
                d.help = Some(format!("query the keyword field `{keyword}`"));
            }
        }
    }
}
