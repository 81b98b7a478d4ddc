//! MITRE ATT&CK v18.1 facts for RF502–RF505, generated into `data/attack.tsv` by
//! `tools/gen_attack_table.rs` and decoded once per process; plus a walk over a rule's ATT&CK
//! threat entries with their nodes (for spans).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::rule::Rule;
use crate::rule::tree::Node;

pub const ATTACK_TSV: &str = include_str!("../../data/attack.tsv");

#[derive(Debug, Clone)]
pub struct Tactic {
    pub id: String,
    pub name: String,
    pub shortname: String,
}

#[derive(Debug, Clone)]
pub struct Technique {
    pub id: String,
    pub name: String,
    /// Tactic shortnames (`discovery`, `defense-evasion`, …).
    pub tactics: Vec<String>,
    /// `current`, `revoked` or `deprecated`.
    pub status: String,
    pub replacement: Option<String>,
}

#[derive(Debug, Default)]
pub struct Attack {
    tactics: Vec<Tactic>,
    techniques: HashMap<String, Technique>,
}

impl Attack {
    pub fn builtin() -> &'static Attack {
        static A: OnceLock<Attack> = OnceLock::new();
        A.get_or_init(|| Attack::parse(ATTACK_TSV))
    }

    /// Decodes the table text; malformed lines are skipped.
    pub fn parse(text: &str) -> Attack {
        let mut a = Attack::default();
        for line in text.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols[..] {
                ["A", id, name, short] => a.tactics.push(Tactic {
                    id: id.into(),
                    name: name.into(),
                    shortname: short.into(),
                }),
                ["T", id, name, tactics, status, replacement] => {
                    let t = Technique {
                        id: id.into(),
                        name: name.into(),
                        tactics: tactics
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect(),
                        status: status.into(),
                        replacement: (replacement != "-").then(|| replacement.to_string()),
                    };
                    a.techniques.insert(t.id.clone(), t);
                }
                _ => {}
            }
        }
        a
    }

    pub fn tactic_by_name(&self, name: &str) -> Option<&Tactic> {
        self.tactics.iter().find(|t| t.name == name)
    }

    pub fn tactic_by_id(&self, id: &str) -> Option<&Tactic> {
        self.tactics.iter().find(|t| t.id == id)
    }

    pub fn tactics_by_shortname(&self, short: &str) -> Option<&Tactic> {
        self.tactics.iter().find(|t| t.shortname == short)
    }

    pub fn technique(&self, id: &str) -> Option<&Technique> {
        self.techniques.get(id)
    }
}

/// One `[[rule.threat]]` entry of the MITRE ATT&CK framework.
pub struct ThreatEntry<'a> {
    pub tactic: Option<&'a Node>,
    /// Each technique with its subtechniques.
    pub techniques: Vec<(&'a Node, Vec<&'a Node>)>,
}

/// The rule's MITRE ATT&CK threat entries (ATLAS entries are left out: no ATLAS data).
pub fn attack_entries(rule: &Rule) -> Vec<ThreatEntry<'_>> {
    let Some(threats) = rule.tree.path("rule.threat").and_then(Node::as_array) else {
        return Vec::new();
    };
    threats
        .iter()
        .filter(|t| t.get("framework").and_then(Node::as_str) == Some("MITRE ATT&CK"))
        .map(|t| ThreatEntry {
            tactic: t.get("tactic"),
            techniques: arr(t, "technique")
                .into_iter()
                .map(|tech| (tech, arr(tech, "subtechnique")))
                .collect(),
        })
        .collect()
}

fn arr<'a>(n: &'a Node, k: &str) -> Vec<&'a Node> {
    n.get(k)
        .and_then(Node::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The string at `key` of `node`, with its span.
pub fn str_field<'a>(node: &'a Node, key: &str) -> Option<(&'a str, std::ops::Range<usize>)> {
    let v = node.get(key)?;
    Some((v.as_str()?, v.span.clone()))
}
