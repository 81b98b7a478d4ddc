//! Compact fact tables shipped inside the binary (generated from `../shared` by
//! `tools/gen_export_tables.rs`; see `tests/export_tables.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use super::semver::Version;

/// ECS flat field name → type (ECS 9.5.0 as used by detection-rules for stack 9.6).
pub const ECS_FIELDS_TSV: &str = include_str!("../../data/ecs_fields.tsv");
/// Fleet integration manifests: versions, Kibana conditions, policy templates, data streams.
pub const INTEGRATION_MANIFESTS_TSV: &str = include_str!("../../data/integration_manifests.tsv");
/// Non-ECS field types of the integration package version selected for the package stack.
pub const INTEGRATION_FIELDS_TSV: &str = include_str!("../../data/integration_fields.tsv");

/// One version of a Fleet package.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    pub version: String,
    pub semver: Version,
    /// `conditions.kibana.version`.
    pub kibana: String,
    pub policy_templates: Vec<String>,
    /// Data streams of that version in the integration schemas, `None` when no schema data.
    pub data_streams: Option<Vec<String>>,
}

/// Field types of one package version, per data stream (non-ECS fields only).
#[derive(Debug, Clone, Default)]
pub struct PackageFields {
    pub version: String,
    pub streams: BTreeMap<String, HashMap<String, String>>,
}

/// All built-in tables.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// ECS version named in the table header.
    pub ecs_version: String,
    pub ecs: HashMap<String, String>,
    /// Package → versions in ascending semver order.
    pub manifests: BTreeMap<String, Vec<ManifestRow>>,
    /// Package stack the integration field table was selected for.
    pub fields_stack: String,
    pub fields: HashMap<String, PackageFields>,
}

fn header_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.strip_prefix("# ")?
        .strip_prefix(key)?
        .strip_prefix(' ')
        .map(str::trim)
}

fn split_list(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::to_string).collect()
    }
}

impl Tables {
    /// The tables embedded in the binary (parsed once).
    pub fn builtin() -> &'static Tables {
        static TABLES: OnceLock<Tables> = OnceLock::new();
        TABLES.get_or_init(|| {
            Tables::parse(
                ECS_FIELDS_TSV,
                INTEGRATION_MANIFESTS_TSV,
                INTEGRATION_FIELDS_TSV,
            )
        })
    }

    /// Parse the three table texts; malformed lines are skipped.
    pub fn parse(ecs_tsv: &str, manifests_tsv: &str, fields_tsv: &str) -> Tables {
        let mut t = Tables::default();
        for line in ecs_tsv.lines() {
            if let Some(v) = header_value(line, "ecs") {
                t.ecs_version = v.to_string();
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some((name, ty)) = line.split_once('\t') {
                t.ecs.insert(name.to_string(), ty.to_string());
            }
        }

        for line in manifests_tsv.lines() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [package, version, kibana, templates, streams] = cols[..] else {
                continue;
            };
            let Some(semver) = Version::parse(version) else {
                continue;
            };
            let rows = t.manifests.entry(package.to_string()).or_default();
            let data_streams = match streams {
                "-" => None,
                "=" => rows.last().and_then(|r| r.data_streams.clone()),
                s => Some(split_list(s)),
            };
            rows.push(ManifestRow {
                version: version.to_string(),
                semver,
                kibana: kibana.to_string(),
                policy_templates: split_list(templates),
                data_streams,
            });
        }
        for rows in t.manifests.values_mut() {
            rows.sort_by(|a, b| a.semver.cmp(&b.semver));
        }

        let mut package: Option<String> = None;
        let mut stream: Option<String> = None;
        let mut prev = String::new();
        for line in fields_tsv.lines() {
            if let Some(v) = header_value(line, "stack") {
                t.fields_stack = v.to_string();
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('@') {
                let (name, version) = rest.split_once('\t').unwrap_or((rest, ""));
                t.fields.insert(
                    name.to_string(),
                    PackageFields {
                        version: version.to_string(),
                        streams: BTreeMap::new(),
                    },
                );
                package = Some(name.to_string());
                stream = None;
                continue;
            }
            if let Some(name) = line.strip_prefix('=') {
                if let Some(p) = package.as_ref().and_then(|p| t.fields.get_mut(p)) {
                    p.streams.entry(name.to_string()).or_default();
                    stream = Some(name.to_string());
                }
                prev.clear();
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [shared, suffix, ty] = cols[..] else {
                continue;
            };
            let Ok(shared) = shared.parse::<usize>() else {
                continue;
            };
            let Some(prefix) = prev.get(..shared) else {
                continue;
            };
            let name = format!("{prefix}{suffix}");
            if let (Some(p), Some(s)) = (package.as_ref(), stream.as_ref()) {
                if let Some(map) = t.fields.get_mut(p).and_then(|p| p.streams.get_mut(s)) {
                    map.insert(name.clone(), ty.to_string());
                }
            }
            prev = name;
        }
        t
    }
}

/// Front-coding helper for the generator: bytes shared with `prev`, on a char boundary.
pub fn shared_prefix_len(prev: &str, name: &str) -> usize {
    let mut n = 0;
    for ((i, a), b) in prev.char_indices().zip(name.chars()) {
        if a != b {
            break;
        }
        n = i + a.len_utf8();
    }
    n
}
