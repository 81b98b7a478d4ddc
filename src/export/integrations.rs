//! `related_integrations` (`kibana-export.md` §3.1) and integration version selection.

use serde_json::{Map, Value};

use super::pyjson::to_python_json;
use super::semver::{Version, range_satisfied, range_versions};
use super::tables::{ManifestRow, Tables};

/// Packages whose rules name them in `metadata.integration` without a dataset in the query.
pub const NON_DATASET_PACKAGES: &[&str] = &[
    "apm",
    "auditd_manager",
    "cloud_defend",
    "corelight",
    "endpoint",
    "jamf_protect",
    "network_traffic",
    "pfsense",
    "system",
    "windows",
    "sentinel_one_cloud_funnel",
    "ti_rapid7_threat_command",
    "m365_defender",
    "panw",
    "crowdstrike",
];

/// Machine-learning analytic packages (always listed when named in the metadata).
pub const ML_ANALYTIC_PACKAGES: &[&str] =
    &["lmd", "dga", "ded", "problemchild", "beaconing", "pad"];

/// The stack from which `related_integrations` versions use `>=` instead of `^`.
pub fn gte_operator_min_stack() -> Version {
    Version::new(9, 5, 0)
}

/// `{package, integration}` from dataset values (sorted, unique), keeping only packages present
/// in the manifests. `pkg.stream` → (`pkg`, `stream`); `endpoint.events.x` → (`endpoint`, `x`);
/// a value without a dot → integration `Unknown`.
pub fn parse_datasets(datasets: &[String], tables: &Tables) -> Vec<(String, String)> {
    let mut values: Vec<String> = datasets
        .iter()
        .map(|d| d.trim_matches('"').to_string())
        .collect();
    values.sort();
    values.dedup();
    let mut out = Vec::new();
    for value in values {
        let (package, integration) = match value.split_once('.') {
            Some((p, rest)) => {
                let integration = if p == "endpoint" && rest.contains("events") {
                    rest.split('.').nth(1).unwrap_or("").to_string()
                } else {
                    rest.to_string()
                };
                (p.to_string(), integration)
            }
            None => (value.clone(), "Unknown".to_string()),
        };
        if tables.manifests.contains_key(&package) {
            out.push((package, integration));
        }
    }
    out
}

/// The lowest version, in the highest major that has one, whose Kibana condition the stack
/// satisfies and which (when the integration is a named data stream and schema data exists for
/// that version) contains that data stream.
pub fn least_compatible_version<'a>(
    rows: &'a [ManifestRow],
    integration: Option<&str>,
    stack: &Version,
) -> Option<&'a ManifestRow> {
    let mut majors: Vec<u64> = rows.iter().map(|r| r.semver.major).collect();
    majors.sort_unstable();
    majors.dedup();
    for major in majors.into_iter().rev() {
        let found = rows.iter().filter(|r| r.semver.major == major).find(|r| {
            if !range_satisfied(&r.kibana, stack) {
                return false;
            }
            match (integration, &r.data_streams) {
                (Some(name), Some(streams)) if name != "Unknown" => {
                    streams.iter().any(|s| s == name)
                }
                _ => true,
            }
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Upstream's choice of the package version whose fields type non-ECS `required_fields`: the
/// newest version whose highest named Kibana version has the stack's major, or one of whose
/// named versions is ≤ the stack.
pub fn latest_compatible_version<'a>(
    rows: &'a [ManifestRow],
    stack: &Version,
) -> Option<&'a ManifestRow> {
    rows.iter().rev().find(|r| {
        let named = range_versions(&r.kibana);
        let Some(highest) = named.iter().max() else {
            return false;
        };
        highest.major == stack.major || named.iter().any(|v| v <= stack)
    })
}

/// A candidate row before version resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub package: String,
    pub integration: Option<String>,
    /// Whether the row came from `metadata.integration` (an unknown package is then an error).
    pub from_metadata: bool,
}

/// Candidate rows (metadata rows first, then query dataset rows, as upstream builds them).
pub fn candidates(
    metadata_integrations: &[String],
    rule_type: &str,
    datasets: &[String],
    tables: &Tables,
) -> Vec<Candidate> {
    let is_ml = rule_type == "machine_learning";
    let is_esql = rule_type == "esql";
    let covered = |pkg: &str| {
        datasets.iter().any(|d| {
            let d = d.trim_matches('"');
            d == pkg || d.strip_prefix(pkg).is_some_and(|r| r.starts_with('.'))
        })
    };
    let mut out = Vec::new();
    for pkg in metadata_integrations {
        let take = is_ml
            || ML_ANALYTIC_PACKAGES.contains(&pkg.as_str())
            || (NON_DATASET_PACKAGES.contains(&pkg.as_str()) && !covered(pkg))
            || (is_esql && !covered(pkg));
        if take {
            out.push(Candidate {
                package: pkg.clone(),
                integration: None,
                from_metadata: true,
            });
        }
    }
    for (package, integration) in parse_datasets(datasets, tables) {
        out.push(Candidate {
            package,
            integration: Some(integration),
            from_metadata: false,
        });
    }
    out
}

/// Resolve candidates to `{package, version, integration?}` rows. Returns the name of a metadata
/// package that is absent from the manifests as `Err`.
pub fn resolve(
    candidates: &[Candidate],
    tables: &Tables,
    stack: &Version,
) -> Result<Vec<Value>, String> {
    let op = if *stack >= gte_operator_min_stack() {
        ">="
    } else {
        "^"
    };
    let mut rows: Vec<Value> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for c in candidates {
        let Some(versions) = tables.manifests.get(&c.package) else {
            if c.from_metadata {
                return Err(c.package.clone());
            }
            continue;
        };
        let Some(chosen) = least_compatible_version(versions, c.integration.as_deref(), stack)
        else {
            continue;
        };
        let mut row = Map::new();
        row.insert("package".into(), Value::String(c.package.clone()));
        row.insert(
            "version".into(),
            Value::String(format!("{op}{}", chosen.version)),
        );
        if let Some(integration) = &c.integration {
            if chosen.policy_templates.iter().any(|t| t == integration) {
                row.insert("integration".into(), Value::String(integration.clone()));
            }
        }
        let row = Value::Object(row);
        let key = to_python_json(&row);
        if !seen.contains(&key) {
            seen.push(key);
            rows.push(row);
        }
    }
    Ok(rows)
}
