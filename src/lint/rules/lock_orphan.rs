use super::declare_lint;
use crate::lint::{CollectionContext, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    LockOrphan,
    "RF715",
    "lock-orphan",
    Warning,
    "Every entry of the version lock (`etc/version.lock.json`) has a rule file, active or \
deprecated. An entry without one is a released rule that was deleted instead of deprecated: \
installed copies keep running and never get the deprecation, and the lock keeps a dead entry.\n\n\
Fix: restore the rule as deprecated (`rules/_deprecated/`, `maturity = \"deprecated\"`), or \
remove the entry when the deletion is intended. Checked only when the whole repository is \
linted (not `lint PATH`), and silent without a version lock."
);

impl Lint for LockOrphan {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_collection(&self, rules: &[Rule], cx: &mut CollectionContext<'_>) {
        if !cx.env.complete {
            return;
        }
        let Some(lock) = cx.env.lock() else { return };
        let ids: std::collections::HashSet<&str> =
            rules.iter().map(|r| r.rule_id.as_str()).collect();
        let mut orphans: Vec<(&String, &crate::export::LockEntry)> = lock
            .entries
            .iter()
            .filter(|(id, _)| !ids.contains(id.as_str()))
            .collect();
        orphans.sort_by(|a, b| a.0.cmp(b.0));
        for (id, entry) in orphans {
            cx.report_global(format!(
                "version.lock.json: `{id}` (\"{}\", version {}) has no rule file",
                entry.rule_name, entry.top.version
            ));
        }
    }
}
