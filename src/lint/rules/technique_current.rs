use super::declare_lint;
use crate::lint::attack::{Attack, attack_entries, str_field};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    TechniqueCurrent,
    "RF502",
    "technique-current",
    Error,
    "No ATT&CK technique id in `[[rule.threat]]` is revoked or deprecated in \
MITRE ATT&CK v18.1. A revoked id no longer appears in the matrix, so the rule's coverage is \
mapped to nothing. The finding names the replacement from detection-rules' technique redirects \
when there is one (`T1066` → `T1070`). Fix: map the rule to the replacement technique (and its \
name and reference). Subtechnique ids are not checked here, as upstream does not: `T1547.011` (revoked in favour of `T1647`) is still mapped by two Elastic rules."
);

impl Lint for TechniqueCurrent {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let attack = Attack::builtin();
        // Technique ids only, as upstream's test: subtechniques are checked for versioned
        // mappings (RF509), and the corpus still maps a subtechnique revoked in v18.1.
        let techniques = attack_entries(rule).into_iter().flat_map(|e| e.techniques);
        for (tech, _) in techniques {
            let Some((id, span)) = str_field(tech, "id") else {
                continue;
            };
            let Some(t) = attack.technique(id) else {
                continue;
            };
            if t.status == "current" {
                continue;
            }
            let d = cx.report(
                format!(
                    "technique `{id}` ({}) is {} in MITRE ATT&CK v18.1",
                    t.name, t.status
                ),
                span,
            );
            d.help = Some(match &t.replacement {
                Some(r) => match attack.technique(r) {
                    Some(rt) => format!("use `{r}` ({})", rt.name),
                    None => format!("use `{r}`"),
                },
                None => "remove it or map the rule to a current technique".to_string(),
            });
        }
    }
}
