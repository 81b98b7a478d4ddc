use super::declare_lint;
use crate::lint::attack::{Attack, attack_entries, str_field};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    TacticIdName,
    "RF504",
    "tactic-id-name",
    Error,
    "The `[rule.threat.tactic]` of an ATT&CK entry names a MITRE ATT&CK v18.1 enterprise tactic \
and its `id` is that tactic's id (`Discovery` is `TA0007`). Kibana shows the name and links the \
id, so a mismatch sends readers to another tactic. Fix: correct the id (the finding gives it) \
or the name."
);

impl Lint for TacticIdName {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let attack = Attack::builtin();
        for entry in attack_entries(rule) {
            let Some(node) = entry.tactic else { continue };
            let Some((name, name_span)) = str_field(node, "name") else {
                continue;
            };
            let Some(expected) = attack.tactic_by_name(name) else {
                let d = cx.report(
                    format!("`{name}` is not a MITRE ATT&CK v18.1 enterprise tactic"),
                    name_span,
                );
                if let Some((id, _)) = str_field(node, "id") {
                    if let Some(t) = attack.tactic_by_id(id) {
                        d.help = Some(format!("`{id}` is `{}`", t.name));
                    }
                }
                continue;
            };
            if let Some((id, id_span)) = str_field(node, "id") {
                if id != expected.id {
                    let d = cx.report(
                        format!("tactic `{name}` has id `{}`, not `{id}`", expected.id),
                        id_span,
                    );
                    d.help = Some(format!("write `id = \"{}\"`", expected.id));
                }
            }
        }
    }
}
