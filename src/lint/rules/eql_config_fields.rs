use super::declare_lint;
use crate::lint::schema::FieldSchema;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    EqlConfigFields,
    "RF607",
    "eql-config-fields",
    Error,
    "The fields an EQL rule names in `timestamp_field`, `event_category_override` and \
`tiebreaker_field` exist. Elasticsearch fails the EQL search when the timestamp or category \
field is unknown, so a typo there stops the rule from running at all. ruleforge checks them \
against the same field schemas as RF604 (the union of ECS, beats, endgame, endpoint, non-ECS and \
integration fields; upstream requires ECS of the rule's min stack). Fix: correct the name (the \
finding suggests one a single edit away)."
);

impl Lint for EqlConfigFields {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if rule.rule_type != Some(crate::rule::RuleType::Eql) {
            return;
        }
        let schema = FieldSchema::builtin();
        for key in [
            "timestamp_field",
            "event_category_override",
            "tiebreaker_field",
        ] {
            let path = format!("rule.{key}");
            let Some(name) = rule.tree.str_at(&path) else {
                continue;
            };
            if schema.accepts(name) {
                continue;
            }
            let suggestion = schema.suggest(name);
            let d = cx.report(
                format!("`{key}` names an unknown field `{name}`"),
                rule.span_of(&path),
            );
            if let Some(s) = suggestion {
                d.help = Some(format!("did you mean `{s}`?"));
            }
        }
    }
}
