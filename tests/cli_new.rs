//! `ruleforge new`: for every supported type, a rule file that lints clean (no errors, no
//! warnings), with a fresh rule_id and today's dates, and a malicious + benign fixture pair whose
//! empty recordings make `check` fail until the author records events.

#[path = "common/scratch.rs"]
mod scratch;

fn text(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn new_rules_lint_clean_and_their_fixtures_wait_for_events() {
    let dir = scratch::scratch_copy();
    let root = dir.path();
    let mut ids = Vec::new();
    for t in ["eql", "query", "threshold", "new_terms", "esql"] {
        let name = format!("Suspicious {t} Activity");
        let out = scratch::run(
            root,
            &["new", "--type", t, "--name", &name, "--tactic", "Discovery"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let stem = format!("discovery_suspicious_{t}_activity");
        let rule = std::fs::read_to_string(root.join(format!("rules/{stem}.toml"))).unwrap();
        let value: toml::Value = toml::from_str(&rule).unwrap();
        assert_eq!(value["rule"]["type"].as_str(), Some(t));
        let id = value["rule"]["rule_id"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(&id[14..15], "4", "version 4 UUID: {id}");
        let created = value["metadata"]["creation_date"].as_str().unwrap();
        assert_eq!(created.len(), 10);
        assert!(created.starts_with("20") && created.as_bytes()[4] == b'/');
        ids.push(id);
        for verdict in ["malicious", "benign"] {
            let manifest = root.join(format!("fixtures/{stem}/{verdict}_CHANGE_ME.toml"));
            let m = std::fs::read_to_string(&manifest).unwrap();
            assert!(m.contains(&format!("verdict = \"{verdict}\"")), "{m}");
            assert_eq!(
                verdict == "malicious",
                m.contains(&format!("rule = \"{stem}\"")),
                "{m}"
            );
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "fresh rule_ids");
    let out = scratch::run(root, &["lint"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 errors, 0 warnings"),
        "{}",
        text(&out)
    );
    let out = scratch::run(root, &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("holds no events").count(), 10, "{stdout}");
    // Never over an existing file.
    let out = scratch::run(
        root,
        &[
            "new",
            "--type",
            "eql",
            "--name",
            "Suspicious eql Activity",
            "--tactic",
            "Discovery",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}
