//! Updating `version.lock.json` (`ruleforge version-lock`), as detection-rules' lock update does
//! (`rule-format.md` §12): production rules only; a new rule gets version 1, a dirty one its
//! locked version + 1 and its new hash; a rule whose minimum stack rises above the locked one
//! forks (the old entry moves to `previous`, the new version is the old + 100); a rule on an
//! older fork updates its `previous` entry; and the `stack_emit` row of the package stack's emit
//! epoch records the hash of the transformed payload.
//!
//! For a rule whose content is unchanged, locking never changes what the export emits: the
//! `stack_emit` version written is the one the export computed from the lock before the update
//! (an export after `version-lock` gives the same versions, and a second update changes
//! nothing). A changed rule gets its locked version + 1, and a new `stack_emit` row above every
//! version it has shipped with.

use serde_json::{Map, Value, json};

use super::semver::Version;
use super::{ExportContext, ExportError, QueryFacts, export_rule, version};

/// The emit transforms of stacks ≥ 9.5, and the epoch they are locked under.
const EMIT_EPOCH: &str = "9.5";
const EMIT_TRANSFORMS: &[&str] = &["mitre_attack_v19", "related_integrations_gte"];

/// One change the update made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockChange {
    pub rule_id: String,
    pub rule_name: String,
    pub what: String,
}

/// The updated lock and what changed.
#[derive(Debug, Clone)]
pub struct LockUpdate {
    pub lock: Value,
    pub changes: Vec<LockChange>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("the version lock is not a JSON object")]
    NotAnObject,
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(
        "rule {rule_id}: fork {fork} would reach version {version}, above its max_allowable_version {max}"
    )]
    ForkExhausted {
        rule_id: String,
        fork: String,
        version: u64,
        max: u64,
    },
}

/// A rule to lock: the whole file as JSON and what its query references.
pub struct LockInput<'a> {
    pub file: &'a Value,
    pub facts: QueryFacts,
}

/// Computes the updated lock for `rules` (non-production rules are left alone).
pub fn update(
    lock: &Value,
    rules: &[LockInput<'_>],
    ctx: &ExportContext,
) -> Result<LockUpdate, LockError> {
    let mut out = lock.as_object().cloned().ok_or(LockError::NotAnObject)?;
    let mut changes = Vec::new();
    for input in rules {
        let maturity = input.file["metadata"]["maturity"].as_str();
        if maturity != Some("production") {
            continue;
        }
        let exported = export_rule(input.file, &input.facts, ctx)?;
        let rule_id = exported.baseline["rule_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let rule_name = exported.baseline["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let rule_type = exported.baseline["type"].as_str().unwrap_or_default();
        let rule_min = input.file["metadata"]["min_stack_version"]
            .as_str()
            .and_then(Version::parse);
        let mut change = |what: String| {
            changes.push(LockChange {
                rule_id: rule_id.clone(),
                rule_name: rule_name.clone(),
                what,
            })
        };
        let top = |version: u64| {
            let mut m = Map::new();
            m.insert("rule_name".into(), json!(rule_name));
            m.insert("sha256".into(), json!(exported.hashes.baseline));
            m.insert("type".into(), json!(rule_type));
            m.insert("version".into(), json!(version));
            if let Some(v) = &rule_min {
                m.insert("min_stack_version".into(), json!(v.major_minor()));
            }
            m
        };
        let Some(Value::Object(entry)) = out.get_mut(&rule_id) else {
            out.insert(rule_id.clone(), Value::Object(top(1)));
            change("new rule: version 1".into());
            continue;
        };
        let supported = version::supported_stack(
            input.file["metadata"]["min_stack_version"].as_str(),
            &ctx.lowest_supported_stack,
        );
        let dirty = |e: &Map<String, Value>| {
            let locked = e.get("sha256").and_then(Value::as_str);
            locked != Some(exported.hashes.baseline.as_str())
                && locked != Some(exported.hashes.baseline_with_integrations.as_str())
        };
        // A rule on an older fork: its `previous` entry.
        if let Some(Value::Object(fork)) = entry
            .get_mut("previous")
            .and_then(|p| p.get_mut(&supported))
        {
            if dirty(fork) {
                let version = fork.get("version").and_then(Value::as_u64).unwrap_or(0) + 1;
                if let Some(max) = fork.get("max_allowable_version").and_then(Value::as_u64) {
                    if version > max {
                        return Err(LockError::ForkExhausted {
                            rule_id: rule_id.clone(),
                            fork: supported,
                            version,
                            max,
                        });
                    }
                }
                fork.insert("sha256".into(), json!(exported.hashes.baseline));
                fork.insert("version".into(), json!(version));
                change(format!("fork {supported}: changed, version {version}"));
            }
            continue;
        }
        let locked_version = entry.get("version").and_then(Value::as_u64).unwrap_or(0);
        let locked_min = entry
            .get("min_stack_version")
            .and_then(Value::as_str)
            .and_then(Version::parse)
            .unwrap_or_else(|| ctx.lowest_supported_stack.clone());
        // A fork keeps serving the old minimum stack, so only a still supported one forks.
        let old_supported = ctx
            .supported_stacks()
            .iter()
            .any(|s| s.major_minor() == locked_min.major_minor());
        let forks = old_supported
            && rule_min.as_ref().is_some_and(|m| {
                Version::parse(&m.major_minor()) > Version::parse(&locked_min.major_minor())
            });
        if forks {
            let new_version = locked_version + 100;
            let mut old = Map::new();
            for k in ["rule_name", "sha256", "type", "version"] {
                if let Some(v) = entry.get(k) {
                    old.insert(k.into(), v.clone());
                }
            }
            old.insert("max_allowable_version".into(), json!(new_version - 1));
            let previous = entry
                .entry("previous")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(p) = previous {
                p.insert(locked_min.major_minor(), Value::Object(old));
            }
            for (k, v) in top(new_version) {
                entry.insert(k, v);
            }
            change(format!(
                "minimum stack raised: fork {} kept, version {new_version}",
                locked_min.major_minor()
            ));
        } else if dirty(entry) {
            let new_version = locked_version + 1;
            for (k, v) in top(new_version) {
                entry.insert(k, v);
            }
            change(format!("changed: version {new_version}"));
        }
        update_stack_emit(entry, &exported.hashes, ctx, &mut change);
    }
    Ok(LockUpdate {
        lock: Value::Object(out),
        changes,
    })
}

/// The `stack_emit` row of the epoch: written when the emitted payload differs from the row
/// (or, without a row, from the baseline), with a version above every version the rule has
/// (for an unchanged rule, the one the export emitted before the update).
fn update_stack_emit(
    entry: &mut Map<String, Value>,
    hashes: &version::RuleHashes,
    ctx: &ExportContext,
    change: &mut impl FnMut(String),
) {
    let epoch = Version::parse(EMIT_EPOCH).unwrap_or_else(|| Version::new(9, 5, 0));
    if ctx.stack < epoch {
        return;
    }
    let rows = entry.get("stack_emit").and_then(Value::as_object);
    let row_hash = rows
        .and_then(|r| r.get(EMIT_EPOCH))
        .and_then(|r| r.get("sha256"))
        .and_then(Value::as_str);
    // No row is needed while the transforms change nothing; an existing row is kept (removing
    // it would lower the version the rule already shipped with).
    if row_hash.is_none() && hashes.emitted == hashes.baseline_with_integrations {
        return;
    }
    if row_hash == Some(hashes.emitted.as_str()) {
        return;
    }
    let top = entry.get("version").and_then(Value::as_u64).unwrap_or(0);
    let emitted_before = rows
        .into_iter()
        .flat_map(|r| r.values())
        .filter_map(|r| r.get("version").and_then(Value::as_u64))
        .max()
        .unwrap_or(top);
    let version = top.max(emitted_before) + 1;
    let row = json!({
        "sha256": hashes.emitted,
        "transforms": EMIT_TRANSFORMS,
        "version": version,
    });
    let rows = entry
        .entry("stack_emit")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(rows) = rows {
        rows.insert(EMIT_EPOCH.into(), row);
    }
    change(format!("stack_emit {EMIT_EPOCH}: version {version}"));
}

/// The lock as detection-rules writes it: Python `json.dumps(lock, indent=2, sort_keys=True)`,
/// no trailing newline.
pub fn to_lock_json(v: &Value) -> String {
    let mut out = String::new();
    write_indented(&mut out, v, 0);
    out
}

fn write_indented(out: &mut String, v: &Value, depth: usize) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("{\n");
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                out.push_str(&pad(depth + 1));
                out.push_str(&super::to_python_json(&Value::String(k.clone())));
                out.push_str(": ");
                write_indented(out, val, depth + 1);
            }
            out.push('\n');
            out.push_str(&pad(depth));
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                out.push_str(&pad(depth + 1));
                write_indented(out, item, depth + 1);
            }
            out.push('\n');
            out.push_str(&pad(depth));
            out.push(']');
        }
        other => out.push_str(&super::to_python_json(other)),
    }
}
