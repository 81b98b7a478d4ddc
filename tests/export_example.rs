//! The example rule of `rule-format.md` §15 (the project's own rule, embedded below) exports as
//! `kibana-export.md` §2 describes, with the content hashes given in `rule-format.md` §12. These
//! checks need nothing outside the repository.

use ruleforge::export::{
    ExportContext, QueryFacts, content_hash, content_hash_with_integrations, export_rule,
    rule_to_api, to_ndjson, to_python_json,
};
use serde_json::{Value, json};

const EXAMPLE_RULE: &str = r####"
[metadata]
creation_date = "2026/03/02"
integration = ["endpoint"]
maturity = "production"
updated_date = "2026/03/02"

[rule]
author = ["Example Detection Team"]
description = """
Flags a Linux host unpacking or fingerprinting a kernel image under /boot with a decompressor, an archiver, file(1) or
grep. Extracting the running kernel exposes symbols and offsets that exploits and rootkit builds are tuned against.
Initramfs builders, crash-dump tooling and configuration management runs are excluded.
"""
from = "now-9m"
index = ["logs-endpoint.events.process-*"]
language = "eql"
license = "Apache-2.0"
name = "Kernel Image Unpacking from Boot Directory"
note = """## Triage and analysis

### Investigating Kernel Image Unpacking from Boot Directory

Distributions ship the kernel under `/boot` as a compressed image. Tools that rebuild the initramfs or capture crash
dumps read and unpack that image as part of normal maintenance. An interactive user or an unfamiliar script doing the
same may be matching an exploit, a rootkit or an eBPF implant to the exact running kernel.

### Possible investigation steps

- Read `process.command_line` and `process.args` to see which utility ran and which image it touched; compare the image release with the kernel running on `host.name`.
- Walk up the tree with `process.parent.executable`, `process.parent.name` and `process.parent.command_line`; a script started from `/tmp`, `/dev/shm` or a home directory deserves priority.
- Check `user.name` and whether the session was interactive, a cron job or a systemd unit.
- On the same `host.id`, look at the next hour for compiler runs, `insmod` or `modprobe`, new files under `/lib/modules`, or reads of `/proc/kallsyms`.
- If the unpacked output still exists on disk, collect and hash it.

### False positive analysis

- Kernel maintenance tooling that is not covered by the built-in exclusions (vendor initramfs hooks, backup agents that inspect `/boot`) can match; add an exception on `process.parent.executable` for that tool only.
- Kernel developers and build hosts inspect images on purpose; scope exceptions to those hosts and accounts, never to the utility names, which attackers use too.

### Response and remediation

- If the activity is unexplained, isolate the host and preserve memory and the contents of `/boot`.
- Stop the parent process tree and remove anything it dropped.
- Compare loaded kernel modules with the distribution's packages; reinstall the kernel package from a trusted mirror if anything differs.
- Rotate credentials used on the host and hunt for the same parent command line across the fleet.
"""
references = ["https://github.com/torvalds/linux/blob/master/scripts/extract-vmlinux"]
risk_score = 47
rule_id = "2eb35698-27b8-4f7a-9148-70e306f00c25"
setup = """## Setup

This rule needs process events from Elastic Defend on Linux hosts.

### Elastic Defend Integration Setup
Elastic Defend runs inside Elastic Agent and is managed through Fleet.

#### Prerequisite Requirements:
- A Fleet Server and an agent policy that covers the Linux hosts.

#### Steps:
- In Kibana, open Integrations, search for "Elastic Defend" and add it to the agent policy of the Linux hosts.
- Keep process event collection enabled in the integration policy; it is on by default.
- Enroll the hosts with Elastic Agent if they are not enrolled yet.
"""
severity = "medium"
tags = [
    "Domain: Endpoint",
    "OS: Linux",
    "Platform: Linux",
    "Use Case: Threat Detection",
    "Tactic: Discovery",
    "Tactic: Defense Evasion",
    "Rule Type: Event Correlation (EQL)",
    "Data Source: Elastic Defend",
    "Resources: Investigation Guide",
]
timestamp_override = "event.ingested"
type = "eql"
query = '''
process where host.os.type == "linux" and event.type == "start" and
  event.action in ("exec", "exec_event") and
  (
    process.name in ("gunzip", "unxz", "unlzma", "bunzip2", "unzstd", "unzip", "tar", "file") or
    (process.name in ("lz4", "lzop") and process.args in ("-d", "-dc", "--decompress")) or
    (process.name == "grep" and process.args == "ELF")
  ) and
  (process.args like "/boot/*" or process.parent.args like "/boot/*") and
  process.parent.name not in ("mkinitramfs", "kdumpctl") and
  not process.parent.executable like (
    "/usr/lib/needrestart/*", "/usr/libexec/platform-python*", "/usr/sbin/nv-update-initrd", "/usr/bin/kdumpctl"
  ) and
  not process.parent.args == "/usr/bin/kdumpctl" and
  not process.parent.command_line like~ "*ansible*"
'''

[rule.investigation_fields]
field_names = [
    "@timestamp",
    "host.name",
    "host.id",
    "user.name",
    "process.name",
    "process.args",
    "process.command_line",
    "process.parent.name",
    "process.parent.executable",
    "process.parent.command_line",
]

[[rule.threat]]
framework = "MITRE ATT&CK"

[[rule.threat.technique]]
id = "T1082"
name = "System Information Discovery"
reference = "https://attack.mitre.org/techniques/T1082/"

[rule.threat.tactic]
id = "TA0007"
name = "Discovery"
reference = "https://attack.mitre.org/tactics/TA0007/"

[[rule.threat]]
framework = "MITRE ATT&CK"

[[rule.threat.technique]]
id = "T1014"
name = "Rootkit"
reference = "https://attack.mitre.org/techniques/T1014/"

[rule.threat.tactic]
id = "TA0005"
name = "Defense Evasion"
reference = "https://attack.mitre.org/tactics/TA0005/"
"####;

fn example() -> Value {
    let tv: toml::Value = toml::from_str(EXAMPLE_RULE).expect("example TOML");
    serde_json::to_value(&tv).expect("TOML to JSON")
}

/// The fields its EQL query references.
fn fields() -> Vec<String> {
    [
        "host.os.type",
        "event.type",
        "event.action",
        "process.name",
        "process.args",
        "process.parent.args",
        "process.parent.name",
        "process.parent.executable",
        "process.parent.command_line",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn example_rule_content_hashes() {
    let ctx = ExportContext::builtin();
    let facts = QueryFacts {
        fields: Some(fields()),
        datasets: None,
    };
    let e = export_rule(&example(), &facts, &ctx).expect("export");
    assert_eq!(
        content_hash(&e.baseline),
        "ba7bff412b247f0389b252b9b4414762eed23476e49b675cc013f853be82eed8"
    );
    assert_eq!(
        content_hash_with_integrations(&e.baseline),
        "7e145fb3f81ef2b7ea1ebc917fa8da065611fe276391c9cf9eaddb80388904c5"
    );
    assert_eq!(e.hashes.baseline, content_hash(&e.baseline));
}

#[test]
fn example_rule_export_shape() {
    let ctx = ExportContext::builtin();
    let api = rule_to_api(&example(), Some(&fields()), &ctx).expect("export");
    let keys: Vec<&str> = api
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "author",
            "description",
            "from",
            "index",
            "investigation_fields",
            "language",
            "license",
            "name",
            "note",
            "query",
            "references",
            "related_integrations",
            "required_fields",
            "risk_score",
            "rule_id",
            "setup",
            "severity",
            "tags",
            "threat",
            "timestamp_override",
            "type",
            "version"
        ]
    );
    assert_eq!(
        api["related_integrations"],
        json!([{"package": "endpoint", "version": ">=9.0.0"}])
    );
    let required = api["required_fields"].as_array().expect("required_fields");
    assert_eq!(required.len(), 9);
    let names: Vec<&str> = required.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "event.action",
            "event.type",
            "host.os.type",
            "process.args",
            "process.name",
            "process.parent.args",
            "process.parent.command_line",
            "process.parent.executable",
            "process.parent.name"
        ]
    );
    for r in required {
        assert_eq!(r["ecs"], json!(true));
        let want = if r["name"] == "process.parent.command_line" {
            "wildcard"
        } else {
            "keyword"
        };
        assert_eq!(r["type"], json!(want));
    }
    assert!(
        api["description"]
            .as_str()
            .is_some_and(|d| !d.contains('\n'))
    );
    assert_eq!(api["version"], json!(1));
    // One NDJSON line of 5,895 bytes, its newline included (the content itself is pinned by
    // the hashes above).
    let line = to_python_json(&api);
    let ndjson = to_ndjson(std::slice::from_ref(&api));
    assert_eq!(ndjson, format!("{line}\n"));
    assert_eq!(ndjson.len(), 5895);
}
