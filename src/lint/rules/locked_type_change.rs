use super::declare_lint;
use super::lock_min_stack::rule_supported_stack;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    LockedTypeChange,
    "RF710",
    "locked-type-change",
    Error,
    "A rule in the version lock (`etc/version.lock.json`) keeps the `type` it was released with, \
unless its `min_stack_version` was raised past the locked one (a new fork): Kibana cannot \
update an installed rule to another type, so users would keep the old rule.\n\n\
Fix: keep the type, or raise `min_stack_version` so the release forks the rule, or give the \
new rule its own `rule_id` and deprecate the old one. Silent without a version lock."
);

impl Lint for LockedTypeChange {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let (Some(export), Some(ty)) = (cx.env.export.as_ref(), rule.rule_type) else {
            return;
        };
        let Some(entry) = export.version_lock().and_then(|l| l.get(&rule.rule_id)) else {
            return;
        };
        if entry.rule_type.is_empty() || entry.rule_type == ty.as_str() {
            return;
        }
        let lowest = export.lowest_supported_stack();
        let locked = crate::export::supported_stack(entry.min_stack_version.as_deref(), lowest);
        if rule_supported_stack(rule, lowest) != locked {
            return; // a fork: the new type ships to the new stacks only
        }
        let span = rule.span_of("rule.type");
        let d = cx.report(
            format!(
                "`type` is `{}` but version {} was released as `{}`",
                ty.as_str(),
                entry.top.version,
                entry.rule_type
            ),
            span,
        );
        d.help =
            Some("keep the locked type, or fork the rule by raising `min_stack_version`".into());
    }
}
