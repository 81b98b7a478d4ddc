use super::declare_lint;
use super::index_implies_integration::EXEMPT_RULE_IDS;
use super::integration_has_index::integrations;
use super::integration_matches_datasets::{derived_packages, in_scope};
use crate::export::NON_DATASET_PACKAGES;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    NonDatasetIndexIntegration,
    "RF206",
    "non-dataset-index-needs-integration",
    Error,
    "A rule whose index patterns read the data of a package that rules name without a dataset \
in the query (`apm`, `auditd_manager`, `cloud_defend`, `corelight`, `endpoint`, `jamf_protect`, \
`network_traffic`, `pfsense`, `system`, `windows`, `sentinel_one_cloud_funnel`, \
`ti_rapid7_threat_command`, `m365_defender`, `panw`, `crowdstrike`, and `winlog`) sets \
`metadata.integration`: for those packages the metadata is the only source of the exported \
`related_integrations`, so without it Kibana cannot tell users which integration the rule \
needs.\n\n\
The test is upstream's: the package name appears anywhere in an index pattern, in any case. \
Machine-learning rules and upstream's allow-listed rule ids are exempt. Production rules with \
`index` only.\n\n\
```toml\n[rule]\nindex = [\"logs-endpoint.events.process-*\"]   # and no metadata.integration\n```\n\n\
Fix: add the package, e.g. `integration = [\"endpoint\"]` under `[metadata]`."
);

impl Lint for NonDatasetIndexIntegration {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if !in_scope(rule)
            || EXEMPT_RULE_IDS.contains(&rule.rule_id.as_str())
            || !integrations(rule).is_empty()
            // Datasets in the query: RF202 reports the missing metadata.
            || !derived_packages(rule, &[]).is_empty()
        {
            return;
        }
        let packages = NON_DATASET_PACKAGES.iter().copied().chain(["winlog"]);
        let hit = packages.into_iter().find_map(|p| {
            rule.index
                .iter()
                .find(|i| i.to_lowercase().contains(p))
                .map(|i| (p, i))
        });
        let Some((package, index)) = hit else { return };
        let d = cx.report(
            format!(
                "index pattern `{index}` reads `{package}` data, but the rule sets no `metadata.integration`"
            ),
            rule.span_of("rule.index"),
        );
        let suggestion = if package == "winlog" {
            "windows"
        } else {
            package
        };
        d.help = Some(format!(
            "add `integration = [\"{suggestion}\"]` under `[metadata]`"
        ));
    }
}
