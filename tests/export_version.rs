//! Versions against the corpus version lock (`rule-format.md` §12, `kibana-export.md` §4):
//! a rule whose content hash equals the lock gets the locked version, a modified copy gets
//! locked + 1, an unknown rule gets 1, and a rule with a `stack_emit` epoch follows it.

use std::path::{Path, PathBuf};

use ruleforge::export::{ExportContext, QueryFacts, VersionSource, export_rule, rule_to_api};
use serde_json::{Value, json};

fn shared_dir() -> PathBuf {
    std::env::var_os("RULEFORGE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

fn load(shared: &Path, rel: &str) -> Value {
    let p = shared.join("corpus/elastic-detection-rules").join(rel);
    let text = std::fs::read_to_string(&p).expect("read rule");
    let tv: toml::Value = toml::from_str(&text).expect("parse TOML");
    serde_json::to_value(&tv).expect("TOML to JSON")
}

fn context(shared: &Path) -> Option<ExportContext> {
    let etc = shared.join("corpus/elastic-detection-rules/etc");
    if !etc.is_dir() {
        println!(
            "SKIPPED (not a proof): {} is absent, versions not checked",
            shared.display()
        );
        return None;
    }
    Some(
        ExportContext::builtin()
            .with_etc_dir(&etc)
            .expect("etc dir"),
    )
}

/// An ML rule (no `required_fields`, no `stack_emit` row): clean → locked version; modified →
/// locked + 1; new rule id → 1.
#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn locked_dirty_and_new_versions() {
    let shared = shared_dir();
    let Some(ctx) = context(&shared) else { return };
    let rel = "rules/ml/execution_ml_windows_rare_script.toml";
    if !shared
        .join("corpus/elastic-detection-rules")
        .join(rel)
        .is_file()
    {
        println!("SKIPPED (not a proof): {rel} is absent");
        return;
    }
    let file = load(&shared, rel);
    let rule_id = file["rule"]["rule_id"]
        .as_str()
        .expect("rule_id")
        .to_string();
    let lock = ctx.version_lock().expect("lock");
    let entry = lock.get(&rule_id).expect("rule in lock");
    assert!(entry.stack_emit.is_empty() && entry.previous.is_empty());

    let clean = export_rule(&file, &QueryFacts::default(), &ctx).expect("export");
    assert_eq!(clean.hashes.baseline, entry.top.sha256);
    assert_eq!(clean.version, entry.top.version);
    assert_eq!(clean.version_source, VersionSource::Locked);
    assert_eq!(clean.api["version"], json!(entry.top.version));

    let mut modified = file.clone();
    modified["rule"]["description"] = json!("A changed description.");
    let dirty = export_rule(&modified, &QueryFacts::default(), &ctx).expect("export");
    assert_ne!(dirty.hashes.baseline, entry.top.sha256);
    assert_eq!(dirty.version, entry.top.version + 1);
    assert_eq!(dirty.version_source, VersionSource::Dirty);

    // Whitespace-only changes to a normalised string do not make the rule dirty.
    let mut reflowed = file.clone();
    let desc = file["rule"]["description"].as_str().expect("description");
    reflowed["rule"]["description"] = json!(format!("\n  {}  \n", desc.replace(' ', "\n")));
    let same = rule_to_api(&reflowed, None, &ctx).expect("export");
    assert_eq!(same["version"], json!(entry.top.version));

    let mut unknown = file.clone();
    unknown["rule"]["rule_id"] = json!("ffffffff-ffff-4fff-bfff-ffffffffffff");
    let new = export_rule(&unknown, &QueryFacts::default(), &ctx).expect("export");
    assert_eq!(new.version, 1);
    assert_eq!(new.version_source, VersionSource::New);
}

/// A rule with a `stack_emit."9.5"` row: at 9.6 the version follows that epoch (+ 1 here, since
/// the ATT&CK v19 conversion the row was locked with is not reproduced), at 9.4 the top level.
#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn stack_emit_epochs() {
    let shared = shared_dir();
    let Some(ctx) = context(&shared) else { return };
    let rel = "rules/linux/discovery_kernel_unpacking.toml";
    if !shared
        .join("corpus/elastic-detection-rules")
        .join(rel)
        .is_file()
    {
        println!("SKIPPED (not a proof): {rel} is absent");
        return;
    }
    let file = load(&shared, rel);
    let fields: Vec<String> = [
        "host.os.type",
        "event.type",
        "event.action",
        "process.parent.args",
        "process.args",
        "process.name",
        "process.parent.name",
        "process.parent.executable",
        "process.parent.command_line",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let facts = QueryFacts {
        fields: Some(fields),
        datasets: None,
    };
    let e96 = export_rule(&file, &facts, &ctx).expect("export");
    assert_eq!(e96.version_source, VersionSource::StackEmit);
    assert_eq!(e96.version, 9);
    let ctx94 = ctx.clone().with_package_stack("9.4").expect("stack");
    let e94 = export_rule(&file, &facts, &ctx94).expect("export");
    assert_eq!(e94.version_source, VersionSource::Locked);
    assert_eq!(e94.version, 7);
    // Without query fields the export lacks required_fields, so the baseline is "dirty".
    let e_nofields = export_rule(&file, &QueryFacts::default(), &ctx).expect("export");
    assert_eq!(e_nofields.version_source, VersionSource::Dirty);
    assert_eq!(e_nofields.version, 8);
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_toml(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}

/// Every non-deprecated machine-learning rule of the corpus without a `stack_emit` row exports
/// with its locked version (their hashes need no query fields).
#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn corpus_machine_learning_versions_are_locked() {
    let shared = shared_dir();
    let Some(ctx) = context(&shared) else { return };
    let mut paths = Vec::new();
    collect_toml(
        &shared.join("corpus/elastic-detection-rules/rules"),
        &mut paths,
    );
    paths.sort();
    let lock = ctx.version_lock().expect("lock");
    let mut checked = 0;
    for p in paths {
        let text = std::fs::read_to_string(&p).expect("read");
        let tv: toml::Value = toml::from_str(&text).expect("TOML");
        let file = serde_json::to_value(&tv).expect("JSON");
        if file["metadata"]["maturity"] == json!("deprecated")
            || file["rule"]["type"] != json!("machine_learning")
        {
            continue;
        }
        let id = file["rule"]["rule_id"].as_str().unwrap_or_default();
        let Some(entry) = lock.get(id) else { continue };
        if !entry.stack_emit.is_empty() {
            continue;
        }
        let e = export_rule(&file, &QueryFacts::default(), &ctx).expect("export");
        assert_eq!(e.version_source, VersionSource::Locked, "{}", p.display());
        assert_eq!(e.api["version"], json!(e.version));
        let min = file["metadata"]["min_stack_version"].as_str();
        let expected = match min.and_then(|m| {
            let mm: Vec<&str> = m.split('.').take(2).collect();
            entry.previous.get(&mm.join("."))
        }) {
            Some(p) => p.version,
            None => entry.top.version,
        };
        assert_eq!(e.version, expected, "{}", p.display());
        checked += 1;
    }
    println!("{checked} ML rules exported with their locked version");
    assert!(checked > 30, "only {checked} checked");
}
