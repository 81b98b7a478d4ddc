use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::{Rule, RuleType};

declare_lint!(
    TimestampOverride,
    "RF707",
    "timestamp-override",
    Error,
    "KQL rules and non-sequence EQL rules set `timestamp_override = \"event.ingested\"`, so that \
events that arrive late are still searched (the rule window follows ingestion, not the event's \
own clock). Sequences are exempt: they order events by `@timestamp`."
);

/// Whether an EQL query is a sequence, by parsing it; an unparseable query is not judged here
/// (RF603 reports it).
pub(crate) fn is_sequence(query: &str) -> Option<bool> {
    crate::query::eql::parse(query)
        .ok()
        .map(|q| q.is_sequence())
}

impl Lint for TimestampOverride {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let applies = match (rule.rule_type, rule.language.as_deref()) {
            (Some(RuleType::Eql), _) => {
                rule.query.as_ref().and_then(|q| is_sequence(&q.text)) == Some(false)
            }
            (Some(_), Some("kuery")) => true,
            _ => false,
        };
        if !applies {
            return;
        }
        match rule.tree.str_at("rule.timestamp_override") {
            Some("event.ingested") => {}
            Some(other) => {
                cx.report(
                    format!("timestamp_override is `{other}`, expected `event.ingested`"),
                    rule.span_of("rule.timestamp_override"),
                );
            }
            None => {
                cx.report(
                    "missing `timestamp_override = \"event.ingested\"`",
                    rule.span_of("rule.type"),
                );
            }
        }
    }
}
