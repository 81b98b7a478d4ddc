use super::declare_lint;
use crate::lint::{CollectionContext, Lint, LintInfo};
use crate::rule::Rule;
use std::collections::HashMap;

fn dupes<'r>(
    rules: &'r [Rule],
    key: impl Fn(&'r Rule) -> Option<&'r str>,
    mut report: impl FnMut(&'r Rule, &'r Rule, &'r str),
) {
    let mut first: HashMap<&str, &Rule> = HashMap::new();
    for r in rules {
        let Some(k) = key(r).filter(|k| !k.is_empty()) else {
            continue;
        };
        match first.get(k) {
            Some(prev) => report(r, prev, k),
            None => {
                first.insert(k, r);
            }
        }
    }
}

declare_lint!(
    DuplicateRuleId,
    "RF801",
    "duplicate-rule-id",
    Error,
    "Every rule has its own `rule_id`, across active and deprecated rules: Kibana overwrites a \
rule with the same id on import."
);

impl Lint for DuplicateRuleId {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_collection(&self, rules: &[Rule], cx: &mut CollectionContext<'_>) {
        dupes(
            rules,
            |r| Some(r.rule_id.as_str()),
            |r, prev, k| {
                cx.report(
                    r,
                    format!("rule_id {k} is also used by {}", prev.path.display()),
                    r.span_of("rule.rule_id"),
                );
            },
        );
    }
}

declare_lint!(
    DuplicateName,
    "RF802",
    "duplicate-name",
    Error,
    "Rule names are unique among active rules, so that alerts can be told apart."
);

impl Lint for DuplicateName {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_collection(&self, rules: &[Rule], cx: &mut CollectionContext<'_>) {
        dupes(
            rules,
            |r| (!r.is_deprecated()).then_some(r.name.as_str()),
            |r, prev, k| {
                cx.report(
                    r,
                    format!("rule name {k:?} is also used by {}", prev.path.display()),
                    r.span_of("rule.name"),
                );
            },
        );
    }
}

declare_lint!(
    DuplicateBasename,
    "RF804",
    "duplicate-basename",
    Error,
    "Two rule files never share a file name, wherever they are: fixtures, snapshots and docs \
pages are keyed by it."
);

impl Lint for DuplicateBasename {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_collection(&self, rules: &[Rule], cx: &mut CollectionContext<'_>) {
        dupes(
            rules,
            // Deprecated copies keep their old file name upstream; they are not published.
            |r| {
                (!r.is_deprecated())
                    .then(|| r.path.file_name().and_then(|n| n.to_str()))
                    .flatten()
            },
            |r, prev, k| {
                cx.report(
                    r,
                    format!("file name {k} is also used by {}", prev.path.display()),
                    0..0,
                );
            },
        );
    }
}

declare_lint!(
    NoRules,
    "RF805",
    "no-rules",
    Error,
    "A run that loads zero rules is a failure, not a pass: check the rule directories in \
`ruleforge.toml` or on the command line."
);

impl Lint for NoRules {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_collection(&self, rules: &[Rule], cx: &mut CollectionContext<'_>) {
        if rules.is_empty() {
            cx.report_global("no rules were loaded");
        }
    }
}
