use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    VersionNotAuthored,
    "RF125",
    "version-not-authored",
    Error,
    "`version` and `revision` are not written by hand: the version comes from \
`etc/version.lock.json` at export time. Remove the key."
);

impl Lint for VersionNotAuthored {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        for key in ["version", "revision"] {
            if let Some(span) = rule.key_span_of(&format!("rule.{key}")) {
                cx.report(
                    format!("`{key}` must not be authored; it comes from the version lock"),
                    span,
                );
            }
        }
    }
}
