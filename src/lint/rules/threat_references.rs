use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;
use crate::rule::tree::Node;
use regex::Regex;
use std::sync::LazyLock;

/// Every (kind, node) of the threat mapping: tactic, technique, subtechnique entries.
fn entries(rule: &Rule) -> Vec<(&'static str, &Node, Option<&Node>)> {
    let mut out = Vec::new();
    for t in rule
        .tree
        .path("rule.threat")
        .and_then(Node::as_array)
        .unwrap_or_default()
    {
        if let Some(tactic) = t.get("tactic") {
            out.push(("tactic", tactic, None));
        }
        for tech in t
            .get("technique")
            .and_then(Node::as_array)
            .unwrap_or_default()
        {
            out.push(("technique", tech, None));
            for sub in tech
                .get("subtechnique")
                .and_then(Node::as_array)
                .unwrap_or_default()
            {
                out.push(("subtechnique", sub, Some(tech)));
            }
        }
    }
    out
}

static TACTIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(https://attack\.mitre\.org/tactics/TA[0-9]+/|https://atlas\.mitre\.org/tactics/AML\.TA[0-9]+/)$")
        .expect("valid regex")
});
static TECHNIQUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(https://attack\.mitre\.org/techniques/T[0-9]+/|https://atlas\.mitre\.org/techniques/AML\.T[0-9]+/)$")
        .expect("valid regex")
});
static SUBTECHNIQUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(https://attack\.mitre\.org/techniques/T[0-9]+/[0-9]+/|https://atlas\.mitre\.org/techniques/AML\.T[0-9]+\.[0-9]+/)$",
    )
    .expect("valid regex")
});

declare_lint!(
    ThreatUrlFormat,
    "RF501",
    "threat-url-format",
    Error,
    "Tactic, technique and subtechnique `reference` URLs point at the ATT&CK (or ATLAS) page of \
that entry: `https://attack.mitre.org/tactics/TA0007/`, `…/techniques/T1082/`, \
`…/techniques/T1003/008/`. A missing trailing `/` is tolerated, as upstream appends it."
);

impl Lint for ThreatUrlFormat {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        for (kind, node, _) in entries(rule) {
            let Some(r) = node.get("reference") else {
                continue;
            };
            let Some(url) = r.as_str() else { continue };
            let url = if url.ends_with('/') {
                url.to_string()
            } else {
                format!("{url}/")
            };
            let re = match kind {
                "tactic" => &*TACTIC,
                "technique" => &*TECHNIQUE,
                _ => &*SUBTECHNIQUE,
            };
            if !re.is_match(&url) {
                cx.report(
                    format!("{kind} reference {url:?} is not a {kind} URL"),
                    r.span.clone(),
                );
            }
        }
    }
}

declare_lint!(
    ReferenceId,
    "RF506",
    "reference-id",
    Error,
    "The id in a threat entry's URL equals its `id` (for subtechniques, the last two path \
segments joined by `.`): a copy-pasted URL that points at another technique is caught."
);

impl Lint for ReferenceId {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        for (kind, node, _) in entries(rule) {
            let (Some(id), Some(r)) = (node.str_at("id"), node.get("reference")) else {
                continue;
            };
            let Some(url) = r.as_str() else { continue };
            let segs: Vec<&str> = url.trim_end_matches('/').rsplit('/').take(2).collect();
            let from_url = match (kind, segs.as_slice()) {
                ("subtechnique", [last, parent]) => format!("{parent}.{last}"),
                (_, [last, ..]) => last.to_string(),
                _ => continue,
            };
            if from_url != id {
                cx.report(
                    format!("{kind} id `{id}` does not match its URL ({from_url})"),
                    r.span.clone(),
                );
            }
        }
    }
}

declare_lint!(
    SubtechniqueParent,
    "RX112",
    "subtechnique-parent",
    Error,
    "A subtechnique id starts with its parent technique id and a dot (`T1003.008` under \
`T1003`). Upstream checks names and URLs but not the parent."
);

impl Lint for SubtechniqueParent {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        for (_, node, parent) in entries(rule) {
            let (Some(parent), Some(id)) = (parent, node.get("id")) else {
                continue;
            };
            let (Some(pid), Some(sid)) = (parent.str_at("id"), id.as_str()) else {
                continue;
            };
            if !sid.starts_with(&format!("{pid}.")) {
                cx.report(
                    format!("subtechnique `{sid}` is not under technique `{pid}`"),
                    id.span.clone(),
                );
            }
        }
    }
}
