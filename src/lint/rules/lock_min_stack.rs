use super::declare_lint;
use crate::export::semver::Version;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    LockMinStack,
    "RF716",
    "lock-min-stack",
    Warning,
    "A rule's supported stack (its `min_stack_version`, or the lowest stack of \
`etc/stack-schema-map.yaml` if that is higher) agrees with its version-lock entry: the entry's \
`min_stack_version`, or one of its `previous` forks, names the same `major.minor`, and no \
`stack_emit` row is for a stack below it.\n\n\
`min_stack_version` is metadata, outside the content hash, so changing it alone does not make \
the rule dirty and its version would not bump: the lock and the package disagree on which \
stacks get the rule until the next lock update forks the entry (upstream moves the old entry to \
`previous` and adds 100 to the version). A `stack_emit` row below the rule's stack can never \
apply.\n\n\
Fix: run the lock update (`build-release --update-version-lock` upstream) after changing \
`min_stack_version`, or restore the locked value. Silent without a version lock."
);

/// `major.minor` of max(the rule's `min_stack_version`, the lowest supported stack).
pub fn rule_supported_stack(rule: &Rule, lowest: &Version) -> String {
    crate::export::supported_stack(rule.tree.str_at("metadata.min_stack_version"), lowest)
}

impl Lint for LockMinStack {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let Some(export) = cx.env.export.as_ref() else {
            return;
        };
        let Some(entry) = export.version_lock().and_then(|l| l.get(&rule.rule_id)) else {
            return;
        };
        let lowest = export.lowest_supported_stack();
        let stack = rule_supported_stack(rule, lowest);
        let locked = crate::export::supported_stack(entry.min_stack_version.as_deref(), lowest);
        let span = match rule.tree.path("metadata.min_stack_version") {
            Some(n) => n.span.clone(),
            None => rule.span_of("rule.rule_id"),
        };
        if stack != locked && !entry.previous.contains_key(&stack) {
            let d = cx.report(
                format!(
                    "the rule targets stack {stack} and up, the version lock {locked} and up (version {})",
                    entry.top.version
                ),
                span.clone(),
            );
            d.help = Some(
                "update the version lock (the entry forks), or restore the locked `min_stack_version`"
                    .into(),
            );
        }
        let Some(own) = Version::parse(&stack) else {
            return;
        };
        for epoch in entry.stack_emit.keys() {
            if Version::parse(epoch).is_some_and(|v| v < own) {
                let d = cx.report(
                    format!("the version lock has a `stack_emit` row for {epoch}, below the rule's stack {stack}"),
                    span.clone(),
                );
                d.help = Some("update the version lock; the row can never apply".into());
            }
        }
    }
}
