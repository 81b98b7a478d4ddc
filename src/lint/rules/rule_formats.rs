//! Format checks on single scalar values (patterns and ranges).

use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;
use crate::rule::tree::Node;
use regex::Regex;
use std::sync::LazyLock;

fn check_pattern(rule: &Rule, cx: &mut Context<'_>, path: &str, re: &Regex, what: &str) {
    if let Some(node) = rule.tree.path(path) {
        if let Some(s) = node.as_str() {
            if !re.is_match(s) {
                cx.report(format!("`{path}` = {s:?} is not {what}"), node.span.clone());
            }
        }
    }
}

declare_lint!(
    EnumValue,
    "RF108",
    "enum-value",
    Error,
    "Keys with a fixed set of values: `severity` (low, medium, high, critical), `maturity` \
(development, experimental, beta, production, deprecated), `building_block_type` (default), \
`threat[].framework` (MITRE ATT&CK, MITRE ATLAS), `os_type_list[]` (windows, linux, macos)."
);

impl Lint for EnumValue {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let mut one = |node: Option<&Node>, name: &str, allowed: &[&str]| {
            if let Some(n) = node {
                if let Some(v) = n.as_str() {
                    if !allowed.contains(&v) {
                        cx.report(
                            format!("`{name}` = {v:?} is not one of: {}", allowed.join(", ")),
                            n.span.clone(),
                        );
                    }
                }
            }
        };
        one(
            rule.tree.path("rule.severity"),
            "severity",
            &["low", "medium", "high", "critical"],
        );
        one(
            rule.tree.path("metadata.maturity"),
            "maturity",
            &[
                "development",
                "experimental",
                "beta",
                "production",
                "deprecated",
            ],
        );
        one(
            rule.tree.path("rule.building_block_type"),
            "building_block_type",
            &["default"],
        );
        for t in rule
            .tree
            .path("rule.threat")
            .and_then(Node::as_array)
            .unwrap_or_default()
        {
            one(
                t.get("framework"),
                "threat.framework",
                &["MITRE ATT&CK", "MITRE ATLAS"],
            );
        }
        for os in rule
            .tree
            .path("metadata.os_type_list")
            .and_then(Node::as_array)
            .unwrap_or_default()
        {
            one(Some(os), "os_type_list", &["windows", "linux", "macos"]);
        }
    }
}

declare_lint!(
    RuleIdFormat,
    "RF109",
    "rule-id-format",
    Error,
    "`rule_id` is a lower-case UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`). Kibana keys rules by \
it; a malformed id breaks upgrades."
);

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        .expect("valid regex")
});
// The two historic malformed ids of the upstream collection, which upstream allow-lists.
const ALLOWED_IDS: &[&str] = &[
    "119c8877-8613-416d-a98a-96b6664ee73a5",
    "7eb54028-ca72-4eb7-8185-b6864572347db",
];

impl Lint for RuleIdFormat {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if ALLOWED_IDS.contains(&rule.rule_id.as_str()) {
            return;
        }
        check_pattern(rule, cx, "rule.rule_id", &UUID, "a lower-case UUID");
    }
}

declare_lint!(
    RuleNameFormat,
    "RF110",
    "rule-name-format",
    Error,
    "A rule name starts with a letter or digit, has at least three characters, and ends with a \
letter, digit, bracket or parenthesis (no trailing period)."
);

static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9].+?[a-zA-Z0-9\[\]()]$").expect("valid regex"));

impl Lint for RuleNameFormat {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        check_pattern(rule, cx, "rule.name", &NAME, "a valid rule name");
    }
}

declare_lint!(
    DateFormat,
    "RF111",
    "date-format",
    Error,
    "`creation_date`, `updated_date` and `deprecation_date` are written `YYYY/MM/DD`."
);

static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{4}/\d{2}/\d{2}$").expect("valid regex"));

impl Lint for DateFormat {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        for key in ["creation_date", "updated_date", "deprecation_date"] {
            check_pattern(
                rule,
                cx,
                &format!("metadata.{key}"),
                &DATE,
                "a YYYY/MM/DD date",
            );
        }
    }
}

declare_lint!(
    IntervalFormat,
    "RF113",
    "interval-format",
    Error,
    "`interval` is a number followed by s, m, h or d (`5m`)."
);

static INTERVAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d+[mshd]$").expect("valid regex"));

impl Lint for IntervalFormat {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        check_pattern(
            rule,
            cx,
            "rule.interval",
            &INTERVAL,
            "an interval like `5m`",
        );
    }
}

declare_lint!(
    FromFormat,
    "RF703",
    "from-format",
    Error,
    "`from` is Elasticsearch date math relative to now with one unit: `now-9m`, `now-1h`."
);

static FROM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^now-\d+[yMwdhHms]$").expect("valid regex"));

impl Lint for FromFormat {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        check_pattern(rule, cx, "rule.from", &FROM, "date math like `now-9m`");
    }
}

declare_lint!(
    RiskScoreRange,
    "RF114",
    "risk-score-range",
    Error,
    "`risk_score` is an integer from 0 to 100."
);

impl Lint for RiskScoreRange {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if let Some(score) = rule.risk_score {
            if !(0..=100).contains(&score) {
                cx.report(
                    format!("risk_score {score} is outside 0..=100"),
                    rule.span_of("rule.risk_score"),
                );
            }
        }
    }
}
