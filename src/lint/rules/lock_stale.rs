use super::declare_lint;
use crate::export::{QueryFacts, VersionSource, export_rule};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    LockStale,
    "RF712",
    "lock-stale",
    Warning,
    "A released production rule whose content hash differs from its version-lock entry: the \
rule changed since that version was locked, so the next release ships it as the locked version \
+ 1. This is expected on a branch that changes a rule; it is a finding so that the pending bump \
is seen, and so that a lock update is not forgotten before the release.\n\n\
The hash is the one the export computes (`rule-format.md` §12): the Kibana object without \
`version`, with and without `related_integrations`; the entry is the rule's fork in `previous` \
when its stack has one, else the top-level entry.\n\n\
Fix: run `ruleforge version-lock` to record the new hash and version (CI: `ruleforge \
version-lock --check`). Silent without a version lock; production rules only. Hashing every \
rule costs about as much as the rest of the lint, so a full `ruleforge lint` runs this check \
only when it is selected by name (`--select RF712`); a `--changed-since` run always does."
);

impl Lint for LockStale {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let Some(export) = cx.env.export.as_ref().filter(|_| cx.env.lock_hashes) else {
            return;
        };
        if rule.maturity.as_deref() != Some("production") {
            return;
        }
        // Exporting is the costly part: only rules the lock knows.
        if export
            .version_lock()
            .and_then(|l| l.get(&rule.rule_id))
            .is_none()
        {
            return;
        }
        // The EQL query is already parsed for the other lints: reuse it.
        let fields = match cx.eql() {
            Some(Ok(q)) => Some(q.fields_as_written()),
            _ => crate::replay::export_fields(rule),
        };
        let facts = QueryFacts {
            fields,
            datasets: None,
        };
        // A rule the export refuses has its own findings (schema, type); no hash to compare.
        let Ok(exported) = export_rule(&rule.to_json(), &facts, export) else {
            return;
        };
        if exported.version_source != VersionSource::Dirty {
            return;
        }
        let d = cx.report(
            format!(
                "the rule changed since version {} was locked: the release will ship version {}",
                exported.version - 1,
                exported.version
            ),
            rule.span_of("rule.rule_id"),
        );
        d.help = Some("run `ruleforge version-lock` to record the new hash".into());
    }
}
