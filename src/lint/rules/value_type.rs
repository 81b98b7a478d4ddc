use super::declare_lint;
use crate::lint::query_checks;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    ValueType,
    "RF625",
    "value-type",
    Error,
    "Each comparison in an EQL or KQL query suits the type of its field (the type in the \
schemas RF604 checks against, the newest ECS first): Elasticsearch rejects the search, or the \
comparison can never match, otherwise.\n\n\
- a string operation (EQL `:`, `like`, `regex`, `startsWith`, `wildcard`…, a KQL wildcard \
value) on a number, boolean or `ip` field;\n\
- EQL `cidrMatch` on a field that is not `ip`;\n\
- a number field compared with a string (in KQL: a value that is not a number), a string field \
compared with a number (EQL), a boolean field with anything but `true`/`false`;\n\
- an `ip` field compared with a value that is not an address or CIDR block.\n\n\
```\nnetwork where destination.port : \"44*\" and cidrMatch(process.name, \"10.0.0.0/8\")\n```\n\n\
Fix: compare with a value of the field's type (`destination.port in (443, 4443)`), or query \
the field that has the type you need. Fields of type `alias`, `object`, `date` and unknown \
fields (RF604) are not checked. `metadata.query_schema_validation = false` turns the check off \
for a rule."
);

impl Lint for ValueType {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, _rule: &Rule, cx: &mut Context<'_>) {
        let Some(parsed) = cx.checked_query() else {
            return;
        };
        let findings = query_checks::value_types(parsed);
        cx.report_query_findings(findings);
    }
}
