//! Field types from the Beats schemas (`etc/beats_schemas/v<version>.json.gz`), the source of
//! `required_fields` types for rules that read `*beat-*` indices and have no integration
//! schema (`kibana-export.md` §3.2).
//!
//! The file is Beats' `fields.yml` files as a folder tree (`{"<beat>": {"folders": {"_meta":
//! {"files": {"fields.common.yml": [...]}}, "module": {"folders": {"<module>": ...}}}}}`). A
//! rule's schema is the root fields of each beat its indices name, plus, for KQL queries, the
//! fields of the modules (`event.module`) and datasets (`event.dataset`) the query compares;
//! upstream's EQL walk never matches its module and dataset comparisons, so EQL rules get the
//! root fields only.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::ExportError;

/// A parsed Beats schema file.
#[derive(Debug)]
pub struct BeatsSchema {
    tree: Value,
}

impl BeatsSchema {
    pub fn load(path: &Path) -> Result<Self, ExportError> {
        let file = std::fs::File::open(path).map_err(|source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let tree: Value =
            serde_json::from_reader(std::io::BufReader::new(flate2::read::GzDecoder::new(file)))
                .map_err(|e| ExportError::InvalidFile {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
        Ok(BeatsSchema { tree })
    }

    /// Field name → type for a rule reading `beats` (e.g. `winlogbeat`), comparing
    /// `event.module` with `modules` and `event.dataset` with `datasets`.
    pub fn rule_schema(
        &self,
        beats: &[String],
        modules: &[String],
        datasets: &[String],
    ) -> HashMap<String, String> {
        let mut modules: Vec<String> = modules.to_vec();
        if modules.is_empty() {
            modules.extend(
                datasets
                    .iter()
                    .filter_map(|d| d.split_once('.').map(|(m, _)| m.to_string())),
            );
            modules.sort();
            modules.dedup();
        }
        let mut out = HashMap::new();
        for beat in beats {
            let Some(beat_dir) = self.tree.get(beat) else {
                continue;
            };
            field_schema(beat_dir, "", true, &mut out);
            for module in &modules {
                module_schema(beat_dir, module, datasets, &mut out);
            }
        }
        out
    }
}

/// The beats named by `*beat-*` index patterns (`winlogbeat-*` → `winlogbeat`).
pub fn beats_of(index: &[String]) -> Vec<String> {
    index
        .iter()
        .filter(|i| i.contains("beat-*"))
        .filter_map(|i| i.split('-').next().map(str::to_string))
        .collect()
}

fn folder<'v>(dir: &'v Value, name: &str) -> Option<&'v Value> {
    dir.get("folders")?.get(name)
}

fn module_schema(
    beat_dir: &Value,
    module: &str,
    datasets: &[String],
    out: &mut HashMap<String, String>,
) {
    let Some(module_dir) = folder(beat_dir, "module").and_then(|m| folder(m, module)) else {
        return;
    };
    let all: Vec<String>;
    let datasets: &[String] = if datasets.is_empty() {
        all = module_dir
            .get("folders")
            .and_then(Value::as_object)
            .map(|f| f.keys().filter(|k| !k.starts_with('_')).cloned().collect())
            .unwrap_or_default();
        &all
    } else {
        datasets
    };
    let prefix = format!("{module}.");
    for dataset in datasets {
        let dataset = dataset.strip_prefix(&prefix).unwrap_or(dataset);
        if let Some(dir) = folder(module_dir, dataset) {
            field_schema(dir, &prefix, true, out);
        }
    }
}

fn field_schema(
    dir: &Value,
    prefix: &str,
    include_common: bool,
    out: &mut HashMap<String, String>,
) {
    let Some(files) = folder(dir, "_meta").and_then(|m| m.get("files")) else {
        return;
    };
    let names: &[&str] = if include_common {
        &["fields.yml", "fields.common.yml"]
    } else {
        &["fields.yml"]
    };
    for name in names {
        if let Some(Value::Array(list)) = files.get(*name) {
            flatten(list, prefix, out);
        }
    }
}

/// Beats' `fields.yml` entries, flattened: groups nest their name as a prefix (except a lone
/// group repeating the prefix, which Beats nests at the parent), entries without a type are
/// keywords.
fn flatten(list: &[Value], prefix: &str, out: &mut HashMap<String, String>) {
    for entry in list {
        let name = entry.get("name").and_then(Value::as_str);
        let children = entry.get("fields").and_then(Value::as_array);
        if entry.get("type").and_then(Value::as_str) == Some("group") {
            let Some(name) = name else { continue };
            let mut nested = format!("{prefix}{name}.");
            if list.len() == 1 && nested.starts_with(&format!("{prefix}{prefix}")) {
                nested = format!("{name}.");
            }
            if let Some(c) = children {
                flatten(c, &nested, out);
            }
        } else if entry.get("fields").is_some() {
            if let Some(c) = children {
                flatten(c, prefix, out);
            }
        } else if let Some(name) = name {
            let ty = entry
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("keyword");
            out.insert(format!("{prefix}{name}"), ty.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_nest_and_untyped_fields_are_keywords() {
        let tree = json!({"winlogbeat": {"folders": {
            "_meta": {"files": {"fields.common.yml": [
                {"key": "winlog", "fields": [
                    {"name": "winlog", "type": "group", "fields": [
                        {"name": "channel"},
                        {"name": "event_data", "type": "group", "fields": [
                            {"name": "Status", "type": "keyword"},
                            {"name": "Count", "type": "long"}
                        ]}
                    ]}
                ]}
            ]}},
            "module": {"folders": {"sysmon": {"folders": {"events": {"folders": {"_meta": {"files": {"fields.yml": [
                {"name": "x", "type": "group", "fields": [{"name": "y", "type": "ip"}]}
            ]}}}}}}}}
        }}});
        let s = BeatsSchema { tree };
        let m = s.rule_schema(&["winlogbeat".into()], &[], &[]);
        assert_eq!(m["winlog.channel"], "keyword");
        assert_eq!(m["winlog.event_data.Count"], "long");
        assert!(!m.contains_key("sysmon.x.y"));
        let m = s.rule_schema(&["winlogbeat".into()], &["sysmon".into()], &[]);
        assert_eq!(m["sysmon.x.y"], "ip");
        assert_eq!(
            beats_of(&["winlogbeat-*".into(), "logs-windows.*".into()]),
            vec!["winlogbeat"]
        );
    }
}
