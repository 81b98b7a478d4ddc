use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;
use crate::rule::tree::Node;

declare_lint!(
    TacticOnce,
    "RF507",
    "tactic-once",
    Error,
    "Each tactic appears in one `[[rule.threat]]` entry only; list all its techniques there."
);

impl Lint for TacticOnce {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let mut seen: Vec<&str> = Vec::new();
        for t in rule
            .tree
            .path("rule.threat")
            .and_then(Node::as_array)
            .unwrap_or_default()
        {
            let Some(id) = t.path("tactic.id") else {
                continue;
            };
            let Some(s) = id.as_str() else { continue };
            if seen.contains(&s) {
                cx.report(
                    format!("tactic `{s}` appears in more than one threat entry"),
                    id.span.clone(),
                );
            }
            seen.push(s);
        }
    }
}
