use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    TagsRequiredByIndex,
    "RF306",
    "tags-required-by-index",
    Error,
    "A rule that reads a well-known index carries the `Data Source:` / `Domain:` tags of that \
data source, so that Kibana's rule filters and the docs group it with its integration. The \
index entry must equal the key (no glob matching):\n\n\
| index entry | required tags |\n|---|---|\n\
| `logs-endpoint.events.*` | `Domain: Endpoint`, `Data Source: Elastic Defend` |\n\
| `logs-endpoint.alerts-*` | `Data Source: Elastic Defend` |\n\
| `endgame-*` | `Data Source: Elastic Endgame` |\n\
| `logs-aws*` | `Data Source: AWS`, `Data Source: Amazon Web Services`, `Domain: Cloud` |\n\
| `logs-azure*` | `Data Source: Azure`, `Domain: Cloud` |\n\
| `logs-o365*` | `Data Source: Microsoft 365`, `Domain: Cloud` |\n\
| `logs-okta*` | `Data Source: Okta` |\n\
| `logs-gcp*` | `Data Source: Google Cloud Platform`, `Data Source: GCP`, `Domain: Cloud` |\n\
| `logs-google_workspace*` | `Data Source: Google Workspace`, `Domain: Cloud` |\n\
| `logs-cloud_defend*`, `logs-cloud_defend.alerts-*` | `Data Source: Elastic Defend for Containers`, `Domain: Container` |\n\
| `logs-kubernetes.*` | `Data Source: Kubernetes` |\n\
| `apm-*-transaction*`, `traces-apm*` | `Data Source: APM` |\n\
| `.alerts-security.*` | `Rule Type: Higher-Order Rule` |\n\
| `logs-cyberarkpas.audit*` | `Data Source: CyberArk PAS` |\n\
| `logs-windows.sysmon_operational-*` | `Data Source: Sysmon` |\n\
| `logs-windows.powershell*` | `Data Source: PowerShell Logs` |\n\
| `logs-system.security*`, `logs-system.forwarded*` | `Data Source: Windows Security Event Logs` |\n\
| `logs-system.system*` | `Data Source: Windows System Event Logs` |\n\
| `logs-sentinel_one_cloud_funnel.*` | `Data Source: SentinelOne` |\n\
| `logs-fim.event-*` | `Data Source: File Integrity Monitoring` |\n\
| `logs-m365_defender.event-*` | `Data Source: Microsoft Defender XDR` |\n\
| `logs-crowdstrike.fdr*` | `Data Source: Crowdstrike` |\n\n\
Fix: add the missing tags. As upstream (`test_required_tags`), production rules only."
);

/// Index entry → the tags it requires.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "logs-endpoint.events.*",
        &["Domain: Endpoint", "Data Source: Elastic Defend"],
    ),
    ("endgame-*", &["Data Source: Elastic Endgame"]),
    (
        "logs-aws*",
        &[
            "Data Source: AWS",
            "Data Source: Amazon Web Services",
            "Domain: Cloud",
        ],
    ),
    ("logs-azure*", &["Data Source: Azure", "Domain: Cloud"]),
    (
        "logs-o365*",
        &["Data Source: Microsoft 365", "Domain: Cloud"],
    ),
    ("logs-okta*", &["Data Source: Okta"]),
    (
        "logs-gcp*",
        &[
            "Data Source: Google Cloud Platform",
            "Data Source: GCP",
            "Domain: Cloud",
        ],
    ),
    (
        "logs-google_workspace*",
        &["Data Source: Google Workspace", "Domain: Cloud"],
    ),
    (
        "logs-cloud_defend.alerts-*",
        &[
            "Data Source: Elastic Defend for Containers",
            "Domain: Container",
        ],
    ),
    (
        "logs-cloud_defend*",
        &[
            "Data Source: Elastic Defend for Containers",
            "Domain: Container",
        ],
    ),
    ("logs-kubernetes.*", &["Data Source: Kubernetes"]),
    ("apm-*-transaction*", &["Data Source: APM"]),
    ("traces-apm*", &["Data Source: APM"]),
    (".alerts-security.*", &["Rule Type: Higher-Order Rule"]),
    ("logs-cyberarkpas.audit*", &["Data Source: CyberArk PAS"]),
    ("logs-endpoint.alerts-*", &["Data Source: Elastic Defend"]),
    (
        "logs-windows.sysmon_operational-*",
        &["Data Source: Sysmon"],
    ),
    (
        "logs-windows.powershell*",
        &["Data Source: PowerShell Logs"],
    ),
    (
        "logs-system.security*",
        &["Data Source: Windows Security Event Logs"],
    ),
    (
        "logs-system.forwarded*",
        &["Data Source: Windows Security Event Logs"],
    ),
    (
        "logs-system.system*",
        &["Data Source: Windows System Event Logs"],
    ),
    (
        "logs-sentinel_one_cloud_funnel.*",
        &["Data Source: SentinelOne"],
    ),
    (
        "logs-fim.event-*",
        &["Data Source: File Integrity Monitoring"],
    ),
    (
        "logs-m365_defender.event-*",
        &["Data Source: Microsoft Defender XDR"],
    ),
    ("logs-crowdstrike.fdr*", &["Data Source: Crowdstrike"]),
];

impl Lint for TagsRequiredByIndex {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if rule.maturity.as_deref() != Some("production") {
            return;
        }
        let mut missing: Vec<(&str, &str)> = Vec::new();
        for index in &rule.index {
            for (_, tags) in REQUIRED.iter().filter(|(key, _)| key == index) {
                for tag in tags.iter() {
                    if !rule.tags.iter().any(|t| t == tag) && !missing.iter().any(|m| m.1 == *tag) {
                        missing.push((index, tag));
                    }
                }
            }
        }
        if missing.is_empty() {
            return;
        }
        let span = match rule.tree.path("rule.tags") {
            Some(n) => n.span.clone(),
            None => rule.span_of("rule.index"),
        };
        let list: Vec<String> = missing.iter().map(|(_, t)| format!("`{t}`")).collect();
        let from: Vec<&str> = missing.iter().map(|(i, _)| *i).collect();
        let mut from = from;
        from.dedup();
        let d = cx.report(
            format!(
                "missing tag(s) {} required by index `{}`",
                list.join(", "),
                from.join("`, `")
            ),
            span,
        );
        d.help = Some(format!("add {} to `tags`", list.join(", ")));
    }
}
