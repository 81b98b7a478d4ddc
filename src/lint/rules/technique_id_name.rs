use super::declare_lint;
use crate::lint::attack::{Attack, attack_entries, str_field};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;
use crate::rule::tree::Node;

declare_lint!(
    TechniqueIdName,
    "RF505",
    "technique-id-name",
    Error,
    "Every technique and subtechnique `id` of an ATT&CK entry exists in MITRE ATT&CK v18.1 and \
its `name` is the name of that id (`T1003.001` is `LSASS Memory`). A typo in the id maps the \
rule to another technique, or to none. Fix: correct the id, or write the name the finding gives."
);

impl Lint for TechniqueIdName {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        for entry in attack_entries(rule) {
            for (tech, subs) in &entry.techniques {
                check_one(tech, "technique", cx);
                for sub in subs {
                    check_one(sub, "subtechnique", cx);
                }
            }
        }
    }
}

fn check_one(node: &Node, kind: &str, cx: &mut Context<'_>) {
    let Some((id, id_span)) = str_field(node, "id") else {
        return;
    };
    let Some(t) = Attack::builtin().technique(id) else {
        cx.report(
            format!("{kind} id `{id}` does not exist in MITRE ATT&CK v18.1"),
            id_span,
        );
        return;
    };
    if let Some((name, name_span)) = str_field(node, "name") {
        if name != t.name {
            let d = cx.report(
                format!("{kind} `{id}` is named `{}`, not `{name}`", t.name),
                name_span,
            );
            d.help = Some(format!("write `name = \"{}\"`", t.name));
        }
    }
}
