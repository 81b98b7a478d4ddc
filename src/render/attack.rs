//! ATT&CK coverage of a rule set: the tactics × techniques matrix page's context and the same
//! coverage as an ATT&CK Navigator layer.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Enterprise ATT&CK's tactics in the matrix's order (reconnaissance to impact).
const TACTIC_ORDER: &[&str] = &[
    "TA0043", "TA0042", "TA0001", "TA0002", "TA0003", "TA0004", "TA0005", "TA0006", "TA0007",
    "TA0008", "TA0009", "TA0011", "TA0010", "TA0040",
];

/// One rule's part in the coverage: its page, name, whether fixtures prove it, and its threat
/// entries (as in the rule context).
pub struct Covered<'a> {
    pub page: &'a str,
    pub name: &'a str,
    pub proven: bool,
    pub threat: &'a Value,
}

#[derive(Default)]
struct Cell {
    name: String,
    rules: BTreeSet<(String, String)>,
    proven: BTreeSet<String>,
    /// Sub-technique id → rule pages.
    subs: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Default)]
struct Column {
    name: String,
    techniques: BTreeMap<String, Cell>,
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn collect(rules: &[Covered<'_>]) -> BTreeMap<String, Column> {
    let mut tactics: BTreeMap<String, Column> = BTreeMap::new();
    for r in rules {
        for t in r.threat.as_array().into_iter().flatten() {
            if !text(&t["framework"]).contains("ATT&CK") {
                continue;
            }
            let tid = text(&t["tactic"]["id"]);
            if tid.is_empty() {
                continue;
            }
            let col = tactics.entry(tid.to_string()).or_default();
            col.name = text(&t["tactic"]["name"]).to_string();
            for tech in t["techniques"].as_array().into_iter().flatten() {
                let id = text(&tech["id"]);
                if id.is_empty() {
                    continue;
                }
                let cell = col.techniques.entry(id.to_string()).or_default();
                cell.name = text(&tech["name"]).to_string();
                cell.rules.insert((r.name.to_string(), r.page.to_string()));
                if r.proven {
                    cell.proven.insert(r.page.to_string());
                }
                for sub in tech["subtechniques"].as_array().into_iter().flatten() {
                    let sid = text(&sub["id"]);
                    if !sid.is_empty() {
                        let pages = cell.subs.entry(sid.to_string()).or_default();
                        pages.insert(r.page.to_string());
                    }
                }
            }
        }
    }
    tactics
}

fn ordered(tactics: BTreeMap<String, Column>) -> Vec<(String, Column)> {
    let mut cols: Vec<(String, Column)> = tactics.into_iter().collect();
    // Known tactics in matrix order; any other (a newer or custom one) after them, by id.
    cols.sort_by_key(|(id, _)| {
        (
            TACTIC_ORDER
                .iter()
                .position(|t| t == id)
                .unwrap_or(usize::MAX),
            id.clone(),
        )
    });
    cols
}

/// The Navigator's name for a tactic: "Command and Control" → "command-and-control".
pub fn shortname(tactic: &str) -> String {
    tactic
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("-")
}

/// The matrix page's context: `tactics` (columns, in ATT&CK order), each with `techniques`
/// (`id`, `name`, `rules` [{name, page}], `count`, `proven`), plus totals.
pub fn matrix(rules: &[Covered<'_>]) -> Value {
    let cols = ordered(collect(rules));
    let mut mapped = BTreeSet::new();
    let tactics: Vec<Value> = cols
        .iter()
        .map(|(id, col)| {
            let techniques: Vec<Value> = col
                .techniques
                .iter()
                .map(|(tid, cell)| {
                    mapped.extend(cell.rules.iter().map(|(_, p)| p.clone()));
                    let rules: Vec<Value> = cell
                        .rules
                        .iter()
                        .map(|(name, page)| json!({"name": name, "page": page, "proven": cell.proven.contains(page)}))
                        .collect();
                    json!({
                        "id": tid, "name": cell.name, "rules": rules,
                        "count": cell.rules.len(), "proven": cell.proven.len(),
                        "subtechniques": cell.subs.keys().collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({"id": id, "name": col.name, "techniques": techniques})
        })
        .collect();
    let cells: usize = cols.iter().map(|(_, c)| c.techniques.len()).sum();
    json!({
        "tactics": tactics,
        "cells": cells,
        "mapped_rules": mapped.len(),
        "rule_count": rules.len(),
    })
}

/// The coverage as an ATT&CK Navigator layer (format 4.5): a technique's score is its number of
/// rules; the comment says how many of them fixtures prove.
pub fn navigator_layer(rules: &[Covered<'_>], name: &str) -> Value {
    let cols = ordered(collect(rules));
    let mut techniques = Vec::new();
    let mut max = 1;
    for (_, col) in &cols {
        let tactic = shortname(&col.name);
        for (tid, cell) in &col.techniques {
            max = max.max(cell.rules.len());
            techniques.push(json!({
                "techniqueID": tid, "tactic": tactic, "score": cell.rules.len(),
                "comment": format!("{} rule(s), {} with fixtures", cell.rules.len(), cell.proven.len()),
                "enabled": true, "showSubtechniques": !cell.subs.is_empty(),
            }));
            for (sid, pages) in &cell.subs {
                max = max.max(pages.len());
                techniques.push(json!({
                    "techniqueID": sid, "tactic": tactic, "score": pages.len(),
                    "comment": format!("{} rule(s)", pages.len()), "enabled": true,
                }));
            }
        }
    }
    json!({
        "name": name,
        "versions": {"attack": "18", "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": "Detection rule coverage generated by ruleforge docs: score = number of rules.",
        "sorting": 3,
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": ["#ffffff", "#8ec843"], "minValue": 0, "maxValue": max},
        "legendItems": [],
        "metadata": [],
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threat(tactic: (&str, &str), tech: &str, sub: Option<&str>) -> Value {
        let subs: Vec<Value> = sub
            .map(|s| json!({"id": s, "name": "s"}))
            .into_iter()
            .collect();
        json!([{"framework": "MITRE ATT&CK", "tactic": {"id": tactic.0, "name": tactic.1},
                "techniques": [{"id": tech, "name": "Tech", "subtechniques": subs}]}])
    }

    #[test]
    fn cells_count_rules_and_proven_rules_in_attack_order() {
        let a = threat(("TA0040", "Impact"), "T1485", None);
        let b = threat(("TA0002", "Execution"), "T1059", Some("T1059.004"));
        let c = threat(("TA0002", "Execution"), "T1059", None);
        let rules = [
            Covered {
                page: "a.html",
                name: "A",
                proven: true,
                threat: &a,
            },
            Covered {
                page: "b.html",
                name: "B",
                proven: true,
                threat: &b,
            },
            Covered {
                page: "c.html",
                name: "C",
                proven: false,
                threat: &c,
            },
        ];
        let m = matrix(&rules);
        assert_eq!(m["tactics"][0]["id"], "TA0002");
        assert_eq!(m["tactics"][1]["id"], "TA0040");
        let cell = &m["tactics"][0]["techniques"][0];
        assert_eq!(
            (cell["count"].as_u64(), cell["proven"].as_u64()),
            (Some(2), Some(1))
        );
        let layer = navigator_layer(&rules, "x");
        let t: Vec<(String, String, u64)> = layer["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["techniqueID"].as_str().unwrap().into(),
                    t["tactic"].as_str().unwrap().into(),
                    t["score"].as_u64().unwrap(),
                )
            })
            .collect();
        assert!(
            t.contains(&("T1059".into(), "execution".into(), 2)),
            "{t:?}"
        );
        assert!(
            t.contains(&("T1059.004".into(), "execution".into(), 1)),
            "{t:?}"
        );
        assert_eq!(shortname("Command and Control"), "command-and-control");
    }
}
