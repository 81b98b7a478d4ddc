//! Helpers shared by the fuzz targets: input splitting and the fixed events queries run over.

use serde_json::{Value, json};

/// Splits a query target's input at the first NUL: the query before it, NDJSON events after.
/// NUL never occurs in a real query, so seeds made from rule queries stay intact.
pub fn split_query(data: &str) -> (&str, &str) {
    data.split_once('\0').unwrap_or((data, ""))
}

/// The fixed events every query runs over, then the input's own events (lines that are JSON
/// objects; others are skipped, as the event reader has its own target).
pub fn events(extra: &str) -> Vec<Value> {
    let mut out = fixed_events();
    out.extend(
        extra
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(Value::is_object)
            .take(64),
    );
    out
}

/// ECS events with the shapes queries meet: nested and dotted keys, arrays, nulls, numbers,
/// addresses, missing timestamps, several categories and hosts for sequences to join on.
fn fixed_events() -> Vec<Value> {
    vec![
        json!({
            "@timestamp": "2026-11-26T06:02:51.583Z",
            "event": {"category": ["process"], "type": ["start"], "action": "exec"},
            "host": {"name": "deb12-build-03", "os": {"type": "linux"}},
            "user": {"name": "root", "id": 0},
            "process": {
                "pid": 4242, "name": "gunzip", "executable": "/usr/bin/gunzip",
                "args": ["gunzip", "-c", "/boot/vmlinuz-6.1.0-28-amd64"], "args_count": 3,
                "command_line": "gunzip -c /boot/vmlinuz-6.1.0-28-amd64",
                "parent": {"pid": 4000, "name": "bash", "executable": "/bin/bash"},
                "entity_id": "a1"
            },
            "source": {"ip": "10.0.0.5", "port": 51000},
            "destination": {"ip": "2001:db8::1"}
        }),
        json!({
            "@timestamp": "2026-11-26T06:02:52Z",
            "event.category": "file",
            "event.type": "access",
            "host.name": "deb12-build-03",
            "file": {"path": "/boot/vmlinuz-6.1.0-28-amd64", "name": "vmlinuz-6.1.0-28-amd64",
                     "size": 8_388_608, "extension": null},
            "process": {"name": "file", "entity_id": "a1", "args": []},
            "tags": ["Linux", "boot", 7, true, null, {"nested": "value"}]
        }),
        json!({
            "@timestamp": 1_764_137_000_000_i64,
            "event": {"category": "network", "outcome": "success", "duration": 1.5e9},
            "host": {"name": "deb12-files-02"},
            "network": {"transport": "tcp", "bytes": -1},
            "process": {"name": "rsync", "pid": 77, "parent": {"name": "backup-boot"}},
            "message": "rsync -a /boot/ /var/backups/boot/ \u{1F600} \\ \" *?",
            "weird": {"": "", "a.b": {"c": [[1, 2], {"d": "e"}]}}
        }),
        json!({
            "event": {"category": "process", "type": "end"},
            "process": {"name": null, "pid": "not-a-number"},
            "@timestamp": "not a date"
        }),
    ]
}
