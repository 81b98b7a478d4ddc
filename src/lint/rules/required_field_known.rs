use super::declare_lint;
use crate::export::Tables;
use crate::lint::schema::FieldSchema;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;
use crate::rule::tree::Node;

declare_lint!(
    RequiredFieldKnown,
    "RF627",
    "required-field-known",
    Warning,
    "Authored `[[rule.required_fields]]` entries (the export keeps them as written instead of \
deriving them from the query) name fields that exist, with the right type and `ecs` flag: \
Kibana shows these entries to tell users which fields the rule needs, so a misspelled name or \
a wrong type sends them looking for data that cannot exist.\n\n\
Checked: the `name` exists in the field schemas RF604 uses (with a suggestion one edit away); \
`ecs = true` only for ECS fields, `ecs = false` not for them; the `type` of an ECS field is its \
ECS type.\n\n\
```toml\n[[rule.required_fields]]\necs = true\nname = \"process.nmae\"   # did you mean process.name?\ntype = \"keyword\"\n```\n\n\
Fix: correct the entry, or delete `required_fields` and let the export derive it from the \
query."
);

impl Lint for RequiredFieldKnown {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let Some(entries) = rule
            .tree
            .path("rule.required_fields")
            .and_then(Node::as_array)
        else {
            return;
        };
        for entry in entries {
            check_entry(entry, cx);
        }
    }
}

/// One `{name, type, ecs}` entry; entries with a missing or non-string name are the schema's
/// to report.
fn check_entry(entry: &Node, cx: &mut Context<'_>) {
    let Some(name_node) = entry.get("name") else {
        return;
    };
    let Some(name) = name_node.as_str() else {
        return;
    };
    let ecs_types = &Tables::builtin().ecs;
    let ecs_type = ecs_types.get(name).map(String::as_str);
    let schema = FieldSchema::builtin();
    if ecs_type.is_none() && !schema.accepts(name) {
        let d = cx.report(
            format!("required field `{name}` is in no field schema"),
            name_node.span.clone(),
        );
        d.help = Some(match schema.suggest(name) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "correct the name, or remove `required_fields` to have it derived".into(),
        });
        return;
    }
    if let Some(flag) = entry.get("ecs") {
        match (flag.as_bool(), ecs_type) {
            (Some(true), None) => {
                let d = cx.report(
                    format!("`{name}` is marked `ecs = true` but is not an ECS field"),
                    flag.span.clone(),
                );
                d.help = Some("set `ecs = false`".into());
            }
            (Some(false), Some(_)) => {
                let d = cx.report(
                    format!("`{name}` is an ECS field but is marked `ecs = false`"),
                    flag.span.clone(),
                );
                d.help = Some("set `ecs = true`".into());
            }
            _ => {}
        }
    }
    let (Some(expected), Some(ty_node)) = (ecs_type, entry.get("type")) else {
        return;
    };
    if let Some(ty) = ty_node.as_str().filter(|t| *t != expected) {
        let d = cx.report(
            format!("`{name}` is typed `{ty}`, ECS types it `{expected}`"),
            ty_node.span.clone(),
        );
        d.help = Some(format!("set `type = \"{expected}\"`"));
    }
}
