//! `ruleforge replay` end to end, on the project's own rules and fixtures: the human table,
//! `--format json`, `--out DIR`, `--rule`, `--fail-on-alerts`, stdin, gzip, and located errors.

use serde_json::Value;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ruleforge(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(project())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ruleforge");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A folder holding a copy of the project's event recordings, in their fixture folders.
/// Indicator recordings (threat intel documents that `[[indicators]]` entries name) are left
/// out: they are not events, and the sequence rules would rightly refuse their time order.
fn fixtures() -> String {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        for sub in std::fs::read_dir(project().join("fixtures")).unwrap() {
            let sub = sub.unwrap().path();
            if !sub.is_dir() {
                continue;
            }
            // The recordings the manifests here name as indicators.
            let mut indicators = std::collections::HashSet::new();
            for f in std::fs::read_dir(&sub).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "toml") {
                    let m: toml::Table = std::fs::read_to_string(&f).unwrap().parse().unwrap();
                    for i in m
                        .get("indicators")
                        .and_then(|v| v.as_array())
                        .into_iter()
                        .flatten()
                    {
                        indicators.insert(i["events"].as_str().unwrap().to_owned());
                    }
                }
            }
            for f in std::fs::read_dir(&sub).unwrap() {
                let f = f.unwrap().path();
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                if name.ends_with(".ndjson") && !indicators.contains(&name) {
                    let to = dir.path().join(sub.file_name().unwrap());
                    std::fs::create_dir_all(&to).unwrap();
                    std::fs::copy(&f, to.join(&name)).unwrap();
                }
            }
        }
        dir
    });
    dir.path().display().to_string()
}

fn fixture(rel: &str) -> PathBuf {
    project().join("fixtures").join(rel)
}

fn alerts(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("each line is JSON"))
        .filter(|v| v["kind"] == "alert")
        .collect()
}

/// `(rule_id, file, positions)` of each alert, sorted.
fn keys(alerts: &[Value]) -> Vec<(String, String, String)> {
    let mut k: Vec<_> = alerts
        .iter()
        .map(|a| {
            (
                a["rule_id"].to_string(),
                a["file"].to_string(),
                a["positions"].to_string(),
            )
        })
        .collect();
    k.sort();
    k
}

#[test]
fn the_human_table_lists_rules_by_alerts_with_their_events_and_totals() {
    let (code, out, err) = ruleforge(&["replay", &fixtures()], None);
    assert_eq!(code, 0, "exit 0 even with alerts\n{out}\n{err}");
    let summary = out.lines().last().expect("a summary");
    // Indicator match rules need indicator recordings (`--indicators`), not given here; ES|QL
    // rules replay through the engine's buffered stage.
    let (mut total, mut whole_fixture) = (0, 0);
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules/linux");
    for f in std::fs::read_dir(rules).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        total += 1;
        if text.contains("type = \"threat_match\"") {
            whole_fixture += 1;
        }
    }
    assert!(whole_fixture > 0, "the examples include such rules");
    let expected = format!(
        "replay: {} rules replayed ({whole_fixture} not replayed), ",
        total - whole_fixture
    );
    assert!(
        summary.starts_with(&expected),
        "{summary}\nexpected {expected}"
    );
    assert!(summary.contains(" events/s); "), "{summary}");
    let (head, _) = out.split_once('\n').unwrap();
    assert!(
        head.contains("alerts") && head.contains("severity"),
        "{out}"
    );
    // Rows are sorted by alert count, largest first.
    let counts: Vec<usize> = out
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("not replayed"))
        .filter(|l| !l.starts_with("            ") && !l.starts_with("replay:"))
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(!counts.is_empty());
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    // The offending events: file:line, process name.
    assert!(
        out.lines().any(|l| l.starts_with("            ")
            && l.contains(".ndjson:")
            && l.split_whitespace().nth(1).is_some()),
        "{out}"
    );
}

#[test]
fn json_alerts_name_rule_file_and_one_based_positions() {
    let (code, out, err) = ruleforge(&["--format", "json", "replay", &fixtures()], None);
    assert_eq!(code, 0, "{err}");
    let all = alerts(&out);
    assert!(all.len() >= 5, "{} alerts", all.len());
    for a in &all {
        for key in [
            "rule_id",
            "name",
            "severity",
            "risk_score",
            "type",
            "alert_type",
        ] {
            assert!(!a[key].is_null(), "{key} in {a}");
        }
        let file = a["file"].as_str().expect("file");
        assert!(file.ends_with(".ndjson"), "{a}");
        // An aggregating ES|QL alert is a result row, not an event: no positions, but its row
        // and the recording its execution read.
        if a["alert_type"] == "esql" && a["positions"].as_array().is_some_and(|p| p.is_empty()) {
            assert!(a["row"].as_array().is_some_and(|r| !r.is_empty()), "{a}");
            assert!(std::path::Path::new(file).is_file(), "{a}");
            continue;
        }
        let text = std::fs::read_to_string(file).expect("the named file exists");
        let lines = text.lines().count();
        for p in a["positions"].as_array().unwrap().iter() {
            // A missing-event slot of a sequence has no position.
            let Some(p) = p.as_u64() else { continue };
            let p = p as usize;
            assert!(
                (1..=lines).contains(&p),
                "position {p} of {lines} lines in {a}"
            );
        }
        assert_eq!(
            a["timestamps"].as_array().unwrap().len(),
            a["positions"].as_array().unwrap().len()
        );
    }
    // The sequence rule reports its join keys.
    assert!(
        all.iter()
            .any(|a| a["alert_type"] == "sequence" && a["join_keys"].is_array()),
        "a sequence alert"
    );
}

#[test]
fn fail_on_alerts_exits_1_only_when_something_fired() {
    let (code, _, _) = ruleforge(&["replay", "--fail-on-alerts", &fixtures()], None);
    assert_eq!(code, 1);
    let benign = fixture("kernel_unpacking/ansible_kernel_facts.ndjson");
    let (code, out, err) = ruleforge(
        &["replay", "--fail-on-alerts", benign.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("; 0 alerts from 0 rules; "), "{out}");
}

#[test]
fn out_dir_holds_one_file_per_rule_that_fired_with_the_json_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("alerts");
    let (code, out, err) = ruleforge(
        &[
            "--format",
            "json",
            "replay",
            "--out",
            out_dir.to_str().unwrap(),
            &fixtures(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let printed = alerts(&out);
    let mut written = Vec::new();
    let mut files = 0;
    for e in std::fs::read_dir(&out_dir).unwrap() {
        let p = e.unwrap().path();
        files += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        let these = alerts(&text);
        assert!(!these.is_empty(), "{} is empty", p.display());
        let ids: std::collections::HashSet<String> =
            these.iter().map(|a| a["rule_id"].to_string()).collect();
        assert_eq!(ids.len(), 1, "one rule per file: {}", p.display());
        written.extend(these);
    }
    let rules: std::collections::HashSet<String> =
        printed.iter().map(|a| a["rule_id"].to_string()).collect();
    assert_eq!(files, rules.len());
    assert_eq!(keys(&written), keys(&printed));
}

#[test]
fn rule_selects_and_an_unknown_rule_is_a_usage_error() {
    let (_, out, _) = ruleforge(&["--format", "json", "replay", &fixtures()], None);
    let all = alerts(&out);
    let (code, out, err) = ruleforge(
        &[
            "--format",
            "json",
            "replay",
            "--rule",
            "discovery_kernel_unpacking",
            &fixtures(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let one = alerts(&out);
    assert!(!one.is_empty());
    assert!(one.iter().all(|a| a["name"] == one[0]["name"]));
    let expected: Vec<Value> = all
        .into_iter()
        .filter(|a| a["rule_id"] == one[0]["rule_id"])
        .collect();
    assert_eq!(keys(&one), keys(&expected));
    let (code, _, err) = ruleforge(&["replay", "--rule", "nosuch", &fixtures()], None);
    assert_eq!(code, 2);
    assert!(err.contains("nosuch"), "{err}");
}

#[test]
fn stdin_and_gzip_give_the_alerts_of_the_plain_file() {
    let file = fixture("kernel_unpacking/attacker_file_webshell.ndjson");
    let text = std::fs::read(&file).unwrap();
    let (code, plain, err) = ruleforge(
        &["--format", "json", "replay", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let plain = alerts(&plain);
    assert!(!plain.is_empty());
    let strip = |v: &[Value]| -> Vec<String> {
        let mut out: Vec<String> = v
            .iter()
            .map(|a| {
                let mut a = a.clone();
                a["file"] = Value::Null;
                a["events"] = Value::Null;
                a.to_string()
            })
            .collect();
        out.sort();
        out
    };
    let (code, piped, err) = ruleforge(&["--format", "json", "replay", "-"], Some(&text));
    assert_eq!(code, 0, "{err}");
    let piped = alerts(&piped);
    assert!(piped.iter().all(|a| a["file"] == "-"));
    assert_eq!(strip(&piped), strip(&plain));

    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("webshell.ndjson.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&text).unwrap();
    enc.finish().unwrap();
    // A directory is searched for recordings.
    let (code, zipped, err) = ruleforge(
        &["--format", "json", "replay", dir.path().to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(strip(&alerts(&zipped)), strip(&plain));
}

#[test]
fn a_malformed_recording_exits_2_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ndjson");
    let good =
        std::fs::read_to_string(fixture("kernel_unpacking/attacker_file_webshell.ndjson")).unwrap();
    let first = good.lines().next().unwrap();
    std::fs::write(&bad, format!("{first}\n{{\"event\": [1, }}\n")).unwrap();
    let (code, _, err) = ruleforge(&["replay", bad.to_str().unwrap()], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.ndjson:2:"), "{err}");
    let (code, _, err) = ruleforge(
        &["replay", &dir.path().join("none").display().to_string()],
        None,
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn indicators_make_threat_match_rules_replay_with_their_enrichments_and_suppression() {
    let dir = fixture("indicator_match");
    let feed = format!(
        "logs-ti_example.indicator-default={}",
        dir.join("attacker_beacon_to_c2_indicators.ndjson")
            .display()
    );
    let events = dir
        .join("attacker_beacon_to_c2.ndjson")
        .display()
        .to_string();
    let args = [
        "--format",
        "json",
        "replay",
        "--rule",
        "command_and_control_linux_indicator_match",
        "--indicators",
        &feed,
        &events,
    ];
    let (code, out, err) = ruleforge(&args, None);
    assert_eq!(code, 0, "{out}\n{err}");
    let alerts = alerts(&out);
    // What the fixture's manifest expects of `ruleforge test`: 2 alerts after suppression.
    assert_eq!(alerts.len(), 2, "{out}");
    let mut suppressed = 0;
    for a in &alerts {
        // An alert missing a group field is raised on its own (`doNotSuppress`).
        let tm = if a["alert_type"] == "suppressed" {
            suppressed += 1;
            let terms = a["suppression"]["terms"].as_array().unwrap();
            assert_eq!(terms.len(), 2, "group_by host.id, destination.ip: {a}");
            assert!(a["suppression"]["docs_count"].as_u64().unwrap() > 0, "{a}");
            &a["detail"]
        } else {
            a
        };
        assert_eq!(tm["alert_type"], "threat_match", "{a}");
        let indicators = tm["indicators"].as_array().unwrap();
        assert!(!indicators.is_empty(), "{a}");
        assert_eq!(
            indicators[0]["matched.index"],
            "logs-ti_example.indicator-default"
        );
    }
    assert_eq!(suppressed, 1, "the beacons are one suppressed alert: {out}");
    // Without --indicators the rule is named as not replayed, never silently quiet.
    let (code, out, _) = ruleforge(
        &args[..5]
            .iter()
            .copied()
            .chain([events.as_str()])
            .collect::<Vec<_>>(),
        None,
    );
    assert_eq!(code, 0);
    let line: Value = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["kind"] == "not_replayed")
        .expect("listed as not replayed");
    assert!(
        line["reason"].as_str().unwrap().contains("--indicators"),
        "{line}"
    );
    // A malformed argument is a usage error.
    let (code, _, err) = ruleforge(
        &["replay", "--indicators", "Bad*Index=x.ndjson", &events],
        None,
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn an_aggregating_esql_alert_names_the_recording_its_execution_read() {
    // The sweep recording makes the boot-file-sweep STATS rule fire; the benign one beside it
    // (replayed first) does not, so the alert's file must be the sweep's, not the first read.
    let dir = project().join("fixtures/boot_file_sweep");
    let sweep = dir.join("attacker_script_sweeps_boot.ndjson");
    let benign = dir.join("update_grub_and_admin_kernel_compare.ndjson");
    let (code, out, err) = ruleforge(
        &[
            "--format",
            "json",
            "replay",
            "--rule",
            "17a163de-46f7-4817-94c5-0bdd01248d84",
            benign.to_str().unwrap(),
            sweep.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let all = alerts(&out);
    let rows: Vec<&Value> = all
        .iter()
        .filter(|a| a["alert_type"] == "esql" && a["positions"].as_array().unwrap().is_empty())
        .collect();
    assert!(!rows.is_empty(), "no aggregating alert in {out}");
    for a in rows {
        assert_eq!(a["file"].as_str(), sweep.to_str(), "{a}");
    }
}
