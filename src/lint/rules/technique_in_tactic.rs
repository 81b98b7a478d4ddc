use super::declare_lint;
use crate::lint::attack::{Attack, attack_entries, str_field};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    TechniqueInTactic,
    "RF503",
    "technique-in-tactic",
    Error,
    "Every technique of a `[[rule.threat]]` entry belongs to that entry's tactic in the MITRE \
ATT&CK v18.1 enterprise matrix (e.g. `T1082 System Information Discovery` is under Discovery, \
not Execution). A technique filed under the wrong tactic puts the rule in the wrong column of \
Kibana's coverage views. Fix: move the technique to a `[[rule.threat]]` entry of one of the \
tactics the finding lists. Revoked and unknown ids are left to RF502 and RF505."
);

impl Lint for TechniqueInTactic {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let attack = Attack::builtin();
        for entry in attack_entries(rule) {
            let Some(tactic) = entry
                .tactic
                .and_then(|t| str_field(t, "name"))
                .and_then(|(name, _)| attack.tactic_by_name(name))
            else {
                continue;
            };
            for (tech, _) in &entry.techniques {
                let Some((id, span)) = str_field(tech, "id") else {
                    continue;
                };
                let Some(t) = attack.technique(id) else {
                    continue;
                };
                if t.status != "current" || t.tactics.contains(&tactic.shortname) {
                    continue;
                }
                let homes: Vec<String> = t
                    .tactics
                    .iter()
                    .filter_map(|s| attack.tactics_by_shortname(s))
                    .map(|x| format!("{} ({})", x.name, x.id))
                    .collect();
                let d = cx.report(
                    format!(
                        "technique `{id}` ({}) is not in tactic {} ({}) in MITRE ATT&CK v18.1",
                        t.name, tactic.name, tactic.id
                    ),
                    span,
                );
                d.help = Some(format!("it belongs to: {}", homes.join(", ")));
            }
        }
    }
}
