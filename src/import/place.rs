//! Where an imported rule goes in the detection-rules layout: building-block rules in the
//! building-block folder; others in the subfolder of the rule folder that detection-rules'
//! conventions give them (`integrations/<package>` when the repository has that folder,
//! `ml`, the OS folder named by the `OS:` tag, `cross-platform` for several, `network`,
//! `promotions`).

use std::path::PathBuf;

use serde_json::Value;

/// The folder of one imported rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// The building-block rule folder.
    BuildingBlock,
    /// A folder relative to the main rule folder.
    Rules(PathBuf),
}

/// `file` is the imported rule file as JSON; `has_integration_folder(p)` says whether the
/// repository has `integrations/<p>/` under its rule folder (detection-rules keeps a rule
/// there when its `metadata.integration` names such a folder).
pub fn placement(file: &Value, has_integration_folder: &dyn Fn(&str) -> bool) -> Placement {
    let rule = &file["rule"];
    if rule
        .get("building_block_type")
        .is_some_and(|v| !v.is_null())
    {
        return Placement::BuildingBlock;
    }
    let packages: Vec<&str> = match &file["metadata"]["integration"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    // Endpoint rules are filed by OS, not under integrations/endpoint.
    if let Some(p) = packages
        .iter()
        .find(|p| **p != "endpoint" && safe_component(p) && has_integration_folder(p))
    {
        return Placement::Rules(PathBuf::from("integrations").join(p));
    }
    if rule["type"] == "machine_learning" {
        return Placement::Rules("ml".into());
    }
    let tags: Vec<&str> = rule["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let os: Vec<&str> = tags
        .iter()
        .filter_map(|t| match t.strip_prefix("OS: ")? {
            "Windows" => Some("windows"),
            "Linux" => Some("linux"),
            "macOS" => Some("macos"),
            _ => None,
        })
        .collect();
    let folder = match os[..] {
        [one] => one,
        [_, _, ..] => "cross-platform",
        [] if tags.iter().any(|t| t.starts_with("Promotion: ")) => "promotions",
        [] if tags.contains(&"Domain: Network") => "network",
        [] => "cross-platform",
    };
    Placement::Rules(folder.into())
}

/// A package name usable as one path component (no separators, no `..`).
fn safe_component(p: &str) -> bool {
    !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(rule: Value, integration: Value) -> Value {
        json!({"metadata": {"integration": integration}, "rule": rule})
    }

    #[test]
    fn rules_are_filed_as_detection_rules_files_them() {
        let has = |p: &str| p == "aws" || p == "okta";
        let at = |rule: Value, integration: Value| placement(&file(rule, integration), &has);
        let rules = |p: &str| Placement::Rules(p.into());
        assert_eq!(
            at(
                json!({"building_block_type": "default", "tags": ["OS: Linux"]}),
                json!(["aws"])
            ),
            Placement::BuildingBlock
        );
        assert_eq!(
            at(json!({"tags": ["OS: Linux"]}), json!(["endpoint", "aws"])),
            rules("integrations/aws")
        );
        // No integrations/<package> folder in the repository: filed by OS.
        assert_eq!(
            at(json!({"tags": ["OS: Linux"]}), json!("gcp")),
            rules("linux")
        );
        assert_eq!(
            at(
                json!({"type": "machine_learning", "tags": ["OS: Windows"]}),
                json!([])
            ),
            rules("ml")
        );
        assert_eq!(
            at(json!({"tags": ["OS: macOS"]}), Value::Null),
            rules("macos")
        );
        assert_eq!(
            at(json!({"tags": ["OS: Linux", "OS: Windows"]}), Value::Null),
            rules("cross-platform")
        );
        assert_eq!(
            at(json!({"tags": ["Domain: Network"]}), Value::Null),
            rules("network")
        );
        assert_eq!(
            at(json!({"tags": ["Promotion: External Alerts"]}), Value::Null),
            rules("promotions")
        );
        assert_eq!(at(json!({}), Value::Null), rules("cross-platform"));
        // A package name is never a path.
        let any = |_: &str| true;
        assert_eq!(
            placement(&file(json!({"tags": ["OS: Linux"]}), json!(["../x"])), &any),
            rules("linux")
        );
    }
}
