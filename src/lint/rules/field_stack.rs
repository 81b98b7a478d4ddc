use super::declare_lint;
use crate::export::semver::Version;
use crate::lint::query_checks::Parsed;
use crate::lint::schema::{EcsFieldStacks, eql_fields, kql_fields};
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    FieldStack,
    "RF629",
    "field-not-in-stack",
    Error,
    "A field the query uses exists on every stack the rule supports: from its \
`min_stack_version` (or the lowest stack of `stack-schema-map.yaml`) up to the newest, each \
stack validates with its own ECS version (8.19 with ECS 8.17.0, 9.3 with ECS 9.3.0, …), as \
Elastic's `validate-rule` does stack by stack. A field added in a later ECS version, and \
defined by no beats, endgame, endpoint, non-ECS or integration schema, does not exist in the \
older stacks' indices: the rule would be shipped to them and never match there.\n\n\
```toml\n[metadata]\n# no min_stack_version: the rule ships to 8.19, whose ECS is 8.17.0\n[rule]\nquery = 'process where process.some_new_field == \"x\"'\n```\n\n\
Fix: raise `min_stack_version` to the first stack whose ECS has the field (and say why in \
`min_stack_comments`), or use a field every supported stack has. EQL and KQL queries; \
`metadata.query_schema_validation = false` turns it off."
);

impl Lint for FieldStack {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let table = EcsFieldStacks::builtin();
        let Some(lowest) = cx
            .env
            .export
            .as_ref()
            .map(|e| e.lowest_supported_stack().clone())
            .or_else(|| table.lowest_stack().cloned())
        else {
            return;
        };
        let min = rule
            .tree
            .str_at("metadata.min_stack_version")
            .and_then(Version::parse)
            .filter(|v| *v > lowest)
            .unwrap_or(lowest);
        let refs = match cx.checked_query() {
            Some(Parsed::Eql(q)) => eql_fields(q),
            Some(Parsed::Kql(q)) => kql_fields(q),
            None => return,
        };
        let mut findings = Vec::new();
        for (name, span) in refs {
            let Some(have) = table.versions(&name) else {
                continue;
            };
            let missing = table
                .stacks_from(&min)
                .find(|(_, ecs)| !have.iter().any(|h| &**h == *ecs));
            let Some((stack, ecs)) = missing else {
                continue;
            };
            let first = table
                .stacks_from(&min)
                .find(|(_, ecs)| have.iter().any(|h| &**h == *ecs))
                .map(|(s, _)| s.major_minor());
            findings.push(crate::lint::query_checks::QueryFinding {
                code: "RF629",
                message: format!(
                    "`{name}` is not in ECS {ecs}, the schema of stack {} that the rule supports",
                    stack.major_minor()
                ),
                span,
                help: Some(match first {
                    Some(f) => format!(
                        "raise `min_stack_version` to {f}.0 (ECS has the field from that stack), or use a field every supported stack has"
                    ),
                    None => "use a field every supported stack has".into(),
                }),
            });
        }
        cx.report_query_findings(findings);
    }
}
