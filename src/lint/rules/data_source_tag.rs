use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;
use crate::rule::tree::{Kind, Node};

declare_lint!(
    DataSourceTag,
    "RF318",
    "data-source-tag",
    Warning,
    "`Data Source:` tags agree with `metadata.integration`, where Elastic's own rules show a \
fixed convention: every corpus rule of the package carries the tag (`okta` → `Data Source: \
Okta`), and, for the tags marked both ways below, every rule with the tag names the package. \
The pairs were measured on the 2,066 non-deprecated rules of the elastic/detection-rules \
snapshot (packages used by at least 10 rules, the tag on 100 % of them, names that refer to \
the same product); packages whose tags vary (`endpoint`, `windows`, `system`, \
`network_traffic`, …) are not checked.\n\n\
| package | tag | both ways |\n|---|---|---|\n\
| aws | AWS | no |\n| aws_bedrock | AWS Bedrock | yes |\n| azure | Azure | no |\n\
| cloud_defend | Elastic Defend for Containers | yes |\n| fortinet_fortigate | Fortinet | yes |\n\
| gcp | GCP, Google Cloud Platform | yes |\n| github | Github | no |\n\
| google_workspace | Google Workspace | yes |\n| kubernetes | Kubernetes | no |\n\
| o365 | Microsoft 365 | no |\n| okta | Okta | yes |\n| panw | PAN-OS | no |\n\
| pfsense | pfSense | yes |\n| zeek | Zeek | yes |\n\n\
A tag without its package, or a package without its tag, usually means a rule copied from \
another data source and half edited: the tag filters in Kibana's rule list then show it under \
the wrong source.\n\n\
Fix: add the missing tag or package (or remove the stale one)."
);

/// (package, tag, whether the tag also implies the package), measured on the corpus.
const PAIRS: &[(&str, &str, bool)] = &[
    ("aws", "Data Source: AWS", false),
    ("aws_bedrock", "Data Source: AWS Bedrock", true),
    ("azure", "Data Source: Azure", false),
    (
        "cloud_defend",
        "Data Source: Elastic Defend for Containers",
        true,
    ),
    ("fortinet_fortigate", "Data Source: Fortinet", true),
    ("gcp", "Data Source: GCP", true),
    ("gcp", "Data Source: Google Cloud Platform", true),
    ("github", "Data Source: Github", false),
    ("google_workspace", "Data Source: Google Workspace", true),
    ("kubernetes", "Data Source: Kubernetes", false),
    ("o365", "Data Source: Microsoft 365", false),
    ("okta", "Data Source: Okta", true),
    ("panw", "Data Source: PAN-OS", false),
    ("pfsense", "Data Source: pfSense", true),
    ("zeek", "Data Source: Zeek", true),
];

/// String items of a string-or-array node, with their nodes.
fn items(node: Option<&Node>) -> Vec<(&str, &Node)> {
    match node.map(|n| (&n.kind, n)) {
        Some((Kind::Str(s), n)) => vec![(s.as_str(), n)],
        Some((Kind::Array(list), _)) => list
            .iter()
            .filter_map(|n| n.as_str().map(|s| (s, n)))
            .collect(),
        _ => Vec::new(),
    }
}

impl Lint for DataSourceTag {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let packages = items(rule.tree.path("metadata.integration"));
        let tags = items(rule.tree.path("rule.tags"));
        for (package, node) in &packages {
            for (_, tag, _) in PAIRS.iter().filter(|p| p.0 == *package) {
                if !tags.iter().any(|(t, _)| t == tag) {
                    let d = cx.report(
                        format!("integration `{package}` without the tag `{tag}`"),
                        node.span.clone(),
                    );
                    d.help = Some(format!(
                        "every Elastic rule of `{package}` carries `{tag}`: add it to `tags`"
                    ));
                }
            }
        }
        for (tag, node) in &tags {
            for (package, _, _) in PAIRS.iter().filter(|p| p.2 && p.1 == *tag) {
                if !packages.iter().any(|(p, _)| p == package) {
                    let d = cx.report(
                        format!("tag `{tag}` without the integration `{package}`"),
                        node.span.clone(),
                    );
                    d.help = Some(format!(
                        "add `{package}` to `metadata.integration`, or remove the tag"
                    ));
                }
            }
        }
    }
}
