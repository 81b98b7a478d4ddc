//! `ruleforge new --type TYPE --name "…"`: a rule file with a fresh rule_id, today's dates and
//! the investigation-guide skeleton, and a fixture manifest pair (malicious + benign) whose
//! event files are left empty for the author to record: `check` fails until they are.

use anyhow::{Context as _, Result};
use clap::Args;
use ruleforge::config::Config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct NewArgs {
    /// Rule type.
    #[arg(long = "type", value_parser = ["eql", "query", "threshold", "new_terms", "esql"])]
    pub rule_type: String,
    /// Rule name (Title Case, no trailing period).
    #[arg(long)]
    pub name: String,
    /// Primary ATT&CK tactic: the file name starts with it (e.g. "Defense Evasion").
    #[arg(long, default_value = "Execution")]
    pub tactic: String,
    /// Folder for the rule file (default: the first rule directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// ATT&CK tactic name → id.
const TACTICS: &[(&str, &str)] = &[
    ("Reconnaissance", "TA0043"),
    ("Resource Development", "TA0042"),
    ("Initial Access", "TA0001"),
    ("Execution", "TA0002"),
    ("Persistence", "TA0003"),
    ("Privilege Escalation", "TA0004"),
    ("Defense Evasion", "TA0005"),
    ("Credential Access", "TA0006"),
    ("Discovery", "TA0007"),
    ("Lateral Movement", "TA0008"),
    ("Collection", "TA0009"),
    ("Command and Control", "TA0011"),
    ("Exfiltration", "TA0010"),
    ("Impact", "TA0040"),
];

/// A random (version 4) UUID from the operating system's randomness.
pub fn fresh_uuid() -> Result<String> {
    let mut bytes = [0u8; 16];
    let mut f = std::fs::File::open("/dev/urandom").context("opening /dev/urandom")?;
    std::io::Read::read_exact(&mut f, &mut bytes).context("reading /dev/urandom")?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// The type-specific part of `[rule]`: language, query and tables.
fn type_part(rule_type: &str) -> (&'static str, &'static str, &'static str) {
    match rule_type {
        "eql" => (
            "eql",
            "process where host.os.type == \"linux\" and event.type == \"start\" and event.action == \"exec\" and\n  process.name == \"CHANGE_ME\"\n",
            "",
        ),
        "query" => (
            "kuery",
            "host.os.type:linux and event.category:process and event.type:start and process.name:\"CHANGE_ME\"\n",
            "",
        ),
        "threshold" => (
            "kuery",
            "host.os.type:linux and event.category:process and event.type:start and process.name:\"CHANGE_ME\"\n",
            "\n[rule.threshold]\nfield = [\"host.id\", \"user.name\"]\nvalue = 5\n",
        ),
        "new_terms" => (
            "kuery",
            "host.os.type:linux and event.category:process and event.type:start and process.name:\"CHANGE_ME\"\n",
            "\n[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"host.id\", \"process.parent.executable\"]\n\n[[rule.new_terms.history_window_start]]\nfield = \"history_window_start\"\nvalue = \"now-7d\"\n",
        ),
        _ => (
            "esql",
            "from logs-endpoint.events.process-* metadata _id, _version, _index\n| where host.os.type == \"linux\" and event.type == \"start\" and process.name == \"CHANGE_ME\"\n| keep @timestamp, _id, _version, _index, host.id, user.name, process.name\n",
            "",
        ),
    }
}

/// The rule file text.
pub fn rule_text(
    rule_type: &str,
    name: &str,
    rule_id: &str,
    today: &str,
    tactic: (&str, &str),
) -> String {
    let (language, query, tables) = type_part(rule_type);
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let index = if rule_type == "esql" {
        String::new()
    } else {
        "index = [\"logs-endpoint.events.process-*\"]\n".to_string()
    };
    let override_ts = if rule_type == "esql" {
        ""
    } else {
        "timestamp_override = \"event.ingested\"\n"
    };
    let name_e = esc(name);
    format!(
        r###"[metadata]
creation_date = "{today}"
integration = ["endpoint"]
maturity = "development"
updated_date = "{today}"

[rule]
author = ["CHANGE_ME"]
description = """
CHANGE_ME: what this rule detects, in two or three sentences, and why it matters.
"""
from = "now-9m"
{index}language = "{language}"
license = "CHANGE_ME"
name = "{name_e}"
note = """## Triage and analysis

### Investigating {name_e}

CHANGE_ME: what the activity is, how attackers use it, and what the rule matches.

### Possible investigation steps

- CHANGE_ME: the first fields to look at and what they tell.

### False positive analysis

- CHANGE_ME: the legitimate activity that matches, and how to exclude it narrowly.

### Response and remediation

- CHANGE_ME: containment, eradication and recovery steps.
"""
references = []
risk_score = 47
rule_id = "{rule_id}"
severity = "medium"
tags = [
    "Domain: Endpoint",
    "OS: Linux",
    "Use Case: Threat Detection",
    "Tactic: {tactic_name}",
    "Data Source: Elastic Defend",
    "Resources: Investigation Guide",
]
{override_ts}type = "{rule_type}"
query = '''
{query}'''
{tables}
[[rule.threat]]
framework = "MITRE ATT&CK"

[rule.threat.tactic]
id = "{tactic_id}"
name = "{tactic_name}"
reference = "https://attack.mitre.org/tactics/{tactic_id}/"
"###,
        tactic_name = tactic.0,
        tactic_id = tactic.1,
    )
}

fn manifest_text(verdict: &str, stem: &str, events: &str) -> String {
    let expect = if verdict == "malicious" {
        format!("\n[[expect]]\nrule = \"{stem}\"\nalerts = 1\n")
    } else {
        String::new()
    };
    format!(
        "description = \"CHANGE_ME: what happened, in one sentence.\"\nverdict = \"{verdict}\"\nrecorded = \"CHANGE_ME: where and how the events were recorded.\"\nevents = \"{events}\"\n{expect}"
    )
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    if path.exists() {
        anyhow::bail!("{} already exists; nothing written", path.display());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    ruleforge::output::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

pub fn run(config: &Config, args: &NewArgs, quiet: bool) -> Result<ExitCode> {
    let tactic = TACTICS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(args.tactic.trim()))
        .copied()
        .ok_or_else(|| anyhow::anyhow!("--tactic {:?} is not an ATT&CK tactic", args.tactic))?;
    let name = args.name.trim();
    let base = ruleforge::import::file_stem(name);
    if base.is_empty() {
        anyhow::bail!("--name {:?} gives an empty file name", args.name);
    }
    let prefix = ruleforge::import::file_stem(tactic.0);
    let stem = if base.starts_with(&prefix) {
        base
    } else {
        format!("{prefix}_{base}")
    };
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => config
            .rule_dirs
            .first()
            .cloned()
            .unwrap_or_else(|| config.root.join("rules")),
    };
    let fixtures = config
        .fixture_dirs
        .first()
        .cloned()
        .unwrap_or_else(|| config.root.join("fixtures"))
        .join(&stem);
    for p in [&dir, &fixtures] {
        ruleforge::config::resolve_within(&config.root_canonical, p)
            .with_context(|| p.display().to_string())?;
    }
    let rule_path = dir.join(format!("{stem}.toml"));
    let today = super::import::today();
    let text = rule_text(&args.rule_type, name, &fresh_uuid()?, &today, tactic);
    let mut files = vec![(rule_path, text)];
    for verdict in ["malicious", "benign"] {
        let events = format!("{verdict}_CHANGE_ME.ndjson");
        files.push((
            fixtures.join(format!("{verdict}_CHANGE_ME.toml")),
            manifest_text(verdict, &stem, &events),
        ));
        files.push((fixtures.join(&events), String::new()));
    }
    if let Some((p, _)) = files.iter().find(|(p, _)| p.exists()) {
        anyhow::bail!("{} already exists; nothing written", p.display());
    }
    for (path, text) in &files {
        write_new(path, text)?;
    }
    if !quiet {
        for (path, _) in &files {
            out!("created {}", path.display());
        }
        out!(
            "new: replace every CHANGE_ME, record the events into the two .ndjson files, then run `ruleforge check`"
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_fresh_version_4() {
        let a = fresh_uuid().unwrap();
        let b = fresh_uuid().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]));
    }

    #[test]
    fn every_type_gives_a_loadable_rule() {
        for t in ["eql", "query", "threshold", "new_terms", "esql"] {
            let text = rule_text(
                t,
                "A \"Quoted\" Rule",
                "x",
                "2026/12/03",
                ("Execution", "TA0002"),
            );
            let v: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(v["rule"]["type"].as_str(), Some(t));
            assert_eq!(v["rule"]["name"].as_str(), Some("A \"Quoted\" Rule"));
        }
    }
}
