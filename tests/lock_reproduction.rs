//! ruleforge's version-lock computation against the corpus's own `etc/version.lock.json`
//! (`rule-format.md` §12, `kibana-export.md` §4), rule by rule:
//!
//! - every active corpus rule whose content is unchanged since it was locked hashes to its lock
//!   entry's `sha256` (the hash of Elastic's own baseline payload, so its export is Elastic's),
//!   and exports the version the lock gives; a rule that does not hash to its entry is one that
//!   Elastic's export (`../shared/data/golden/corpus_export.ndjson`) also bumps, where that file
//!   has it;
//! - `stack_emit` rows: a rule whose row hash is not reproduced maps an ATT&CK id that no
//!   reproduced rule maps, or a tactic without techniques, which no reproduced rule does (the
//!   v19 conversion, whose data is not shipped, is the difference);
//! - updating the lock rewrites nothing for a reproduced rule, writes the reproduced
//!   `stack_emit` rows as they are (hash, version, transforms) when they are missing, re-creates
//!   the forks of rules whose minimum stack was raised (`previous` entries with
//!   `max_allowable_version`, version + 100), and bumps a changed rule as detection-rules does.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ruleforge::export::lock::{LockInput, update};
use ruleforge::export::{ExportContext, Exported, QueryFacts, export_rule, supported_stack};
use serde_json::{Value, json};

struct Corpus {
    lock: Value,
    ctx: ExportContext,
    /// Active rules: path, whole file as JSON, query facts, export.
    rules: Vec<(PathBuf, Value, QueryFacts, Exported)>,
    /// rule_id → Elastic's export line.
    golden: BTreeMap<String, Value>,
}

fn corpus_data(shared: &Path) -> Corpus {
    let corpus = shared.join("corpus/elastic-detection-rules");
    let etc = corpus.join("etc");
    let dirs = vec![corpus.join("rules"), corpus.join("rules_building_block")];
    let collection = ruleforge::rule::Collection::load_dirs(&dirs).expect("load corpus");
    assert!(collection.failed.is_empty(), "corpus rules failed to load");
    let ctx = ExportContext::builtin()
        .with_etc_dir(&etc)
        .expect("etc dir");
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(etc.join("version.lock.json")).expect("read lock"),
    )
    .expect("lock JSON");
    let rules = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .map(|r| {
            let file = r.to_json();
            let facts = QueryFacts {
                fields: ruleforge::replay::export_fields(r),
                datasets: None,
            };
            let exported = export_rule(&file, &facts, &ctx)
                .unwrap_or_else(|e| panic!("{}: {e}", r.path.display()));
            let path = r.path.strip_prefix(&corpus).unwrap_or(&r.path);
            (path.to_path_buf(), file, facts, exported)
        })
        .collect();
    let golden = std::fs::read_to_string(shared.join("data/golden/corpus_export.ndjson"))
        .expect("read golden export")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("golden line");
            (v["rule_id"].as_str().expect("rule_id").to_string(), v)
        })
        .collect();
    Corpus {
        lock,
        ctx,
        rules,
        golden,
    }
}

fn rule_id(file: &Value) -> &str {
    file["rule"]["rule_id"].as_str().unwrap_or_default()
}

/// The lock entry that applies to the rule: its `previous` fork for its supported stack, else
/// the top level.
fn applicable<'a>(entry: &'a Value, file: &Value, ctx: &ExportContext) -> &'a Value {
    let supported = supported_stack(
        file["metadata"]["min_stack_version"].as_str(),
        ctx.lowest_supported_stack(),
    );
    entry
        .get("previous")
        .and_then(|p| p.get(&supported))
        .unwrap_or(entry)
}

fn reproduces(entry: &Value, e: &Exported) -> bool {
    let locked = entry["sha256"].as_str();
    locked == Some(e.hashes.baseline.as_str())
        || locked == Some(e.hashes.baseline_with_integrations.as_str())
}

fn attack_ids(file: &Value) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for t in file["rule"]["threat"].as_array().into_iter().flatten() {
        ids.extend(t["tactic"]["id"].as_str().map(str::to_string));
        for tech in t["technique"].as_array().into_iter().flatten() {
            ids.extend(tech["id"].as_str().map(str::to_string));
            for sub in tech["subtechnique"].as_array().into_iter().flatten() {
                ids.extend(sub["id"].as_str().map(str::to_string));
            }
        }
    }
    ids
}

/// Whether a threat entry maps a tactic without any technique.
fn has_tactic_only_entry(file: &Value) -> bool {
    file["rule"]["threat"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["technique"].as_array().is_none_or(Vec::is_empty))
}

fn u(v: &Value) -> u64 {
    v.as_u64().expect("a version")
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_unchanged_corpus_rule_hashes_to_its_lock_entry() {
    let Some(shared) = common::shared() else {
        return;
    };
    let c = corpus_data(&shared);
    let mut reproduced = 0;
    let mut reproduced_outside_golden = 0;
    let mut emit_reproduced = 0;
    let mut emit_not_reproduced: Vec<(&Path, &Value)> = Vec::new();
    let mut ids_of_reproduced_emits = BTreeSet::new();
    let mut tactic_only_reproduced = 0;
    let mut dirty_confirmed = 0;
    let mut dirty_unconfirmed = Vec::new();
    let mut new_rules = 0;
    let mut failures = Vec::new();
    for (path, file, _, e) in &c.rules {
        let id = rule_id(file);
        let name = path.display();
        let golden = c.golden.get(id);
        let Some(entry) = c.lock.get(id) else {
            new_rules += 1;
            if e.version != 1 || golden.is_some_and(|g| g["version"] != json!(1)) {
                failures.push(format!("{name}: not locked, exported as {}", e.version));
            }
            continue;
        };
        let app = applicable(entry, file, &c.ctx);
        if !reproduces(app, e) {
            // Changed since it was locked: Elastic's export must bump it too.
            let bumped = u(&app["version"]) + 1;
            if e.version != bumped {
                failures.push(format!("{name}: dirty, exported as {}", e.version));
            }
            match golden {
                Some(g) if g["version"] == json!(bumped) => dirty_confirmed += 1,
                Some(g) => failures.push(format!(
                    "{name}: hash {} is not the lock's, but Elastic exports version {} (lock {})",
                    e.hashes.baseline, g["version"], app["version"]
                )),
                None => dirty_unconfirmed.push(format!(
                    "{name} ({})",
                    file["rule"]["type"].as_str().unwrap_or_default()
                )),
            }
            continue;
        }
        reproduced += 1;
        if golden.is_none() {
            reproduced_outside_golden += 1;
        }
        let is_top = std::ptr::eq(app, entry);
        let emit = entry.get("stack_emit").and_then(|r| r.get("9.5"));
        let want = match emit {
            Some(row) if is_top => {
                if row["sha256"].as_str() == Some(e.hashes.emitted.as_str()) {
                    emit_reproduced += 1;
                    ids_of_reproduced_emits.extend(attack_ids(file));
                    tactic_only_reproduced += usize::from(has_tactic_only_entry(file));
                    u(&row["version"])
                } else {
                    emit_not_reproduced.push((path, file));
                    u(&row["version"]) + 1
                }
            }
            _ => u(&app["version"]),
        };
        if e.version != want {
            failures.push(format!(
                "{name}: unchanged since locked, exported as {} instead of {want}",
                e.version
            ));
        }
    }
    // The conversion is what differs when the rule maps an id that no reproduced rule maps, or
    // maps a tactic without techniques, which no reproduced rule does.
    let (mut by_id, mut by_tactic_only) = (0, 0);
    let mut unattributed = Vec::new();
    for (path, file) in &emit_not_reproduced {
        if !attack_ids(file).is_subset(&ids_of_reproduced_emits) {
            by_id += 1;
        } else if has_tactic_only_entry(file) && tactic_only_reproduced == 0 {
            by_tactic_only += 1;
        } else {
            unattributed.push(path.display().to_string());
        }
    }
    let locked = c.rules.len() - new_rules;
    println!(
        "version lock: {reproduced} of {locked} locked active rules hash to their lock entry \
         ({reproduced_outside_golden} of them outside the golden export); {} changed since \
         locked: {dirty_confirmed} bumped by Elastic's export too, {} not in it (unverified):\n  {}\n\
         {new_rules} not locked (version 1)",
        dirty_confirmed + dirty_unconfirmed.len(),
        dirty_unconfirmed.len(),
        dirty_unconfirmed.join("\n  ")
    );
    println!(
        "stack_emit rows: {emit_reproduced} reproduced, {} not: the v19 conversion ({by_id} map \
         an ATT&CK id no reproduced rule maps, {by_tactic_only} a tactic without techniques)",
        emit_not_reproduced.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        unattributed.is_empty(),
        "stack_emit hash differs, and not by an ATT&CK id the v19 conversion could change:\n{}",
        unattributed.join("\n")
    );
    assert!(reproduced > 0 && emit_reproduced > 0);
    // Every rule of Elastic's export was judged: reproduced, confirmed changed or not locked.
    let exported: BTreeSet<&str> = c.rules.iter().map(|(_, f, _, _)| rule_id(f)).collect();
    assert!(c.golden.keys().all(|id| exported.contains(id.as_str())));
}

/// Lock inputs for every active corpus rule.
fn inputs(c: &Corpus) -> Vec<LockInput<'_>> {
    c.rules
        .iter()
        .map(|(_, file, facts, _)| LockInput {
            file,
            facts: facts.clone(),
        })
        .collect()
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn updating_the_corpus_lock_rewrites_reproduced_entries_as_they_are() {
    let Some(shared) = common::shared() else {
        return;
    };
    let c = corpus_data(&shared);
    // Reproduced rules: baseline hash and (if any) stack_emit row hash equal the lock's, and
    // on the top-level entry (a rule on an older fork keeps its top entry as it is).
    let reproduced: Vec<&str> = c
        .rules
        .iter()
        .filter(|(_, file, _, e)| {
            let Some(entry) = c.lock.get(rule_id(file)) else {
                return false;
            };
            let emit_ok = entry
                .get("stack_emit")
                .and_then(|r| r.get("9.5"))
                .is_none_or(|row| row["sha256"].as_str() == Some(e.hashes.emitted.as_str()));
            file["metadata"]["maturity"] == "production"
                && std::ptr::eq(applicable(entry, file, &c.ctx), entry)
                && reproduces(entry, e)
                && emit_ok
        })
        .map(|(_, file, _, _)| rule_id(file))
        .collect();
    // Without the reproduced stack_emit rows: the update must write them back as they were.
    let mut stripped = c.lock.clone();
    let mut rows_removed = 0;
    for id in &reproduced {
        let entry = stripped[*id].as_object_mut().unwrap();
        if entry.remove("stack_emit").is_some() {
            rows_removed += 1;
        }
    }
    let updated = update(&stripped, &inputs(&c), &c.ctx).expect("update");
    let differ: Vec<String> = reproduced
        .iter()
        .filter(|id| updated.lock[**id] != c.lock[**id])
        .map(|id| {
            format!(
                "{id}:\n  lock    {}\n  updated {}",
                c.lock[*id], updated.lock[*id]
            )
        })
        .collect();
    println!(
        "lock update: {} reproduced rules rewritten identically, {rows_removed} stack_emit rows \
         re-created",
        reproduced.len() - differ.len()
    );
    assert!(rows_removed > 0);
    assert!(
        differ.is_empty(),
        "{} of {} entries differ:\n{}",
        differ.len(),
        reproduced.len(),
        differ.join("\n")
    );
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn raising_the_minimum_stack_forks_as_the_corpus_lock_records() {
    let Some(shared) = common::shared() else {
        return;
    };
    let c = corpus_data(&shared);
    // Forks not bumped since: the `previous` entry still at max_allowable − 99 and the top
    // entry at its version + 100, with the rule hashing to the top entry. Rewind each to its
    // state before the fork (the old entry on top, under its old minimum stack).
    let mut rewound = c.lock.clone();
    let mut forks = Vec::new();
    for (_, file, _, e) in &c.rules {
        let id = rule_id(file);
        let Some(entry) = c.lock.get(id) else {
            continue;
        };
        let Some(previous) = entry.get("previous").and_then(Value::as_object) else {
            continue;
        };
        let [(old_stack, old)] = previous.iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        let old_version = u(&old["version"]);
        if old["max_allowable_version"] != json!(old_version + 99)
            || entry["version"] != json!(old_version + 100)
            || !reproduces(entry, e)
            || entry.get("stack_emit").is_some()
        {
            continue;
        }
        let mut before = json!({
            "rule_name": old["rule_name"], "sha256": old["sha256"],
            "type": old["type"], "version": old_version,
        });
        if old_stack != "8.19" {
            before["min_stack_version"] = json!(old_stack);
        }
        rewound[id] = before;
        forks.push(id);
    }
    let updated = update(&rewound, &inputs(&c), &c.ctx).expect("update");
    let differ: Vec<String> = forks
        .iter()
        .filter(|id| updated.lock[**id] != c.lock[**id])
        .map(|id| {
            format!(
                "{id}:\n  lock    {}\n  updated {}",
                c.lock[*id], updated.lock[*id]
            )
        })
        .collect();
    println!(
        "forks: {} of {} re-created as locked",
        forks.len() - differ.len(),
        forks.len()
    );
    assert!(!forks.is_empty());
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn a_changed_rule_is_bumped_and_gets_a_new_stack_emit_row() {
    let Some(shared) = common::shared() else {
        return;
    };
    let c = corpus_data(&shared);
    // Kernel Unpacking Activity: lock version 7, stack_emit 9.5 version 8.
    let id = "4f725dc5-ae44-46c1-9ac5-99f6f7a70d8a";
    let (_, file, facts, _) = c
        .rules
        .iter()
        .find(|(_, f, _, _)| rule_id(f) == id)
        .expect("kernel unpacking rule in the corpus");
    let (top, row) = (&c.lock[id], &c.lock[id]["stack_emit"]["9.5"]);
    assert_eq!((u(&top["version"]), u(&row["version"])), (7, 8));
    let mut changed = file.clone();
    changed["rule"]["description"] = json!("A reworded description.");
    let input = [LockInput {
        file: &changed,
        facts: facts.clone(),
    }];
    let updated = update(&c.lock, &input, &c.ctx).expect("update");
    let e = export_rule(&changed, facts, &c.ctx).expect("export");
    let entry = &updated.lock[id];
    assert_eq!(entry["version"], json!(8), "{entry}");
    assert_eq!(entry["sha256"], json!(e.hashes.baseline));
    assert_eq!(entry["stack_emit"]["9.5"]["version"], json!(9), "{entry}");
    assert_eq!(
        entry["stack_emit"]["9.5"]["sha256"],
        json!(e.hashes.emitted)
    );
    assert_eq!(
        entry["stack_emit"]["9.5"]["transforms"],
        json!(["mitre_attack_v19", "related_integrations_gte"])
    );
    // Exported with the updated lock: the new row's version; a second update changes nothing.
    let ctx = c
        .ctx
        .clone()
        .with_version_lock(ruleforge::export::VersionLock::from_json(&updated.lock).expect("lock"));
    assert_eq!(
        export_rule(&changed, facts, &ctx).expect("export").version,
        9
    );
    let again = update(&updated.lock, &input, &c.ctx).expect("update");
    assert!(again.changes.is_empty(), "{:?}", again.changes);
}
