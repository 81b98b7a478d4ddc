//! The version lock (`etc/version.lock.json`) and the emitted `version` (`rule-format.md` §12,
//! `kibana-export.md` §4).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::semver::Version;

/// A locked hash and version (top-level, `previous` fork or `stack_emit` epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub sha256: String,
    pub version: u64,
}

/// One rule's lock entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEntry {
    pub rule_name: String,
    pub rule_type: String,
    pub top: Locked,
    pub min_stack_version: Option<String>,
    /// `major.minor` → entry of an older fork.
    pub previous: BTreeMap<String, Locked>,
    /// `major.minor` epoch → emitted payload hash and version.
    pub stack_emit: BTreeMap<String, Locked>,
}

/// The parsed `version.lock.json`.
#[derive(Debug, Clone, Default)]
pub struct VersionLock {
    pub entries: HashMap<String, LockEntry>,
}

fn locked(v: &Value) -> Option<Locked> {
    Some(Locked {
        sha256: v.get("sha256")?.as_str()?.to_string(),
        version: v.get("version")?.as_u64()?,
    })
}

impl VersionLock {
    /// Read the lock from its JSON value; returns the id of the first malformed entry on error.
    pub fn from_json(v: &Value) -> Result<VersionLock, String> {
        let map = v
            .as_object()
            .ok_or_else(|| "not a JSON object".to_string())?;
        let mut entries = HashMap::new();
        for (rule_id, e) in map {
            let bad = || format!("entry {rule_id} lacks sha256/version");
            let top = locked(e).ok_or_else(bad)?;
            let mut previous = BTreeMap::new();
            if let Some(p) = e.get("previous").and_then(Value::as_object) {
                for (k, pv) in p {
                    previous.insert(k.clone(), locked(pv).ok_or_else(bad)?);
                }
            }
            let mut stack_emit = BTreeMap::new();
            if let Some(p) = e.get("stack_emit").and_then(Value::as_object) {
                for (k, sv) in p {
                    stack_emit.insert(k.clone(), locked(sv).ok_or_else(bad)?);
                }
            }
            entries.insert(
                rule_id.clone(),
                LockEntry {
                    rule_name: e
                        .get("rule_name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    rule_type: e
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    top,
                    min_stack_version: e
                        .get("min_stack_version")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    previous,
                    stack_emit,
                },
            );
        }
        Ok(VersionLock { entries })
    }

    pub fn get(&self, rule_id: &str) -> Option<&LockEntry> {
        self.entries.get(rule_id)
    }
}

/// The hashes of one rule's export that decide its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleHashes {
    /// Baseline payload without `related_integrations` (the lock's `sha256`).
    pub baseline: String,
    /// Baseline payload with `related_integrations` kept.
    pub baseline_with_integrations: String,
    /// Payload after the stack emit transforms, `related_integrations` kept.
    pub emitted: String,
}

/// The rule's supported stack for the lock: max(rule min stack, lowest supported stack), as
/// `major.minor`.
pub fn supported_stack(rule_min_stack: Option<&str>, lowest_supported: &Version) -> String {
    let min = rule_min_stack
        .and_then(Version::parse)
        .filter(|v| v > lowest_supported)
        .unwrap_or_else(|| lowest_supported.clone());
    min.major_minor()
}

/// How the emitted version was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSource {
    /// Not in the lock (or no lock): 1, or the TOML `version` without a lock.
    New,
    /// Content changed since locked: locked version + 1.
    Dirty,
    /// Locked version (top-level or fork entry) unchanged.
    Locked,
    /// `stack_emit` epoch version (possibly + 1 when the emitted payload changed).
    StackEmit,
}

/// The version to emit.
pub fn compute_version(
    entry: Option<&LockEntry>,
    supported: &str,
    hashes: &RuleHashes,
    package_stack: &Version,
) -> (u64, VersionSource) {
    let Some(entry) = entry else {
        return (1, VersionSource::New);
    };
    let (applicable, is_top) = match entry.previous.get(supported) {
        Some(p) => (p, false),
        None => (&entry.top, true),
    };
    if applicable.sha256 != hashes.baseline
        && applicable.sha256 != hashes.baseline_with_integrations
    {
        return (applicable.version + 1, VersionSource::Dirty);
    }
    if !is_top {
        return (applicable.version, VersionSource::Locked);
    }
    let emit = entry
        .stack_emit
        .iter()
        .filter_map(|(k, e)| Version::parse(k).map(|v| (v, e)))
        .filter(|(v, _)| v <= package_stack)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, e)| e);
    match emit {
        Some(e) => {
            let bump = u64::from(e.sha256 != hashes.emitted);
            (e.version + bump, VersionSource::StackEmit)
        }
        None => {
            let bump = u64::from(hashes.emitted != hashes.baseline_with_integrations);
            (applicable.version + bump, VersionSource::Locked)
        }
    }
}
