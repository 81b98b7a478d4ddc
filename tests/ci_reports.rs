//! The reports CI reads, from one `ruleforge check` run of a copy of the project's rules: JUnit
//! and SARIF 2.1.0, validated against the published schemas (Jenkins' junit-10.xsd with libxml2's
//! xmllint, OASIS's SARIF 2.1.0 JSON schema with the jsonschema crate; `.ci/published-schemas.sh`
//! fetches them), JSON lines with a summary, and the GitHub annotations and job summary.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::{KERNEL_UNPACKING, edit, run, scratch_copy, text};
use std::path::{Path, PathBuf};

/// The README's false-positive pull request: the mkinitramfs exclusion removed from the
/// kernel-unpacking rule.
fn false_positive_pr() -> tempfile::TempDir {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "process.parent.name not in (\"mkinitramfs\", \"kdumpctl\")",
        "process.parent.name not in (\"kdumpctl\")",
    );
    dir
}

/// …plus a guide heading that no longer names the rule (RF407, a lint error with a region).
fn with_lint_error(dir: &Path) {
    edit(
        dir,
        KERNEL_UNPACKING,
        "### Investigating Kernel Image Unpacking from Boot Directory",
        "### Investigating Old Utility Name",
    );
}

// ---- the published schemas (fetched by .ci/published-schemas.sh, never committed) ---------

fn published(name: &str) -> PathBuf {
    let path = scratch::project().join(".ci/published-schemas").join(name);
    assert!(
        path.is_file(),
        "{} is absent: run .ci/published-schemas.sh (CI does) to fetch the published schema",
        path.display()
    );
    path
}

/// Validates with libxml2's `xmllint` against Jenkins' junit-10.xsd; the error lines, if any.
fn junit_schema_errors(xml: &str) -> Vec<String> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(published("junit-10.xsd"))
        .arg(file.path())
        .output()
        .expect("xmllint runs (apt-get install libxml2-utils)");
    let stderr = text(&out.stderr);
    if out.status.success() {
        assert!(stderr.contains("validates"), "xmllint said: {stderr}");
        return Vec::new();
    }
    let errors: Vec<String> = stderr
        .lines()
        .filter(|l| !l.ends_with("fails to validate"))
        .map(str::to_string)
        .collect();
    assert!(
        !errors.is_empty(),
        "xmllint failed without a reason: {stderr}"
    );
    errors
}

fn parse_xml(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"))
}

#[test]
#[cfg_attr(
    published_schemas_absent,
    ignore = "needs .ci/published-schemas.sh and xmllint (libxml2-utils); outside CI this schema test did not run"
)]
fn the_junit_validator_rejects_what_the_jenkins_schema_forbids() {
    for bad in [
        // testsuite without its required name, tests, failures and errors
        "<testsuites><testsuite tests=\"1\"/></testsuites>",
        // testcase without its name
        "<testsuites><testsuite name=\"a\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase/></testsuite></testsuites>",
        // an attribute junit-10.xsd does not declare on testcase
        "<testsuites><testsuite name=\"a\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase name=\"x\" file=\"f\"/></testsuite></testsuites>",
        // a time that is not Surefire's decimal
        "<testsuites time=\"1.5s\"/>",
        // an element it does not know
        "<testsuites><suite/></testsuites>",
    ] {
        assert!(!junit_schema_errors(bad).is_empty(), "accepted: {bad}");
    }
    assert!(junit_schema_errors(
        "<testsuites><testsuite name=\"a\" tests=\"1\" failures=\"1\" errors=\"0\"><testcase name=\"x\" classname=\"c\"><failure message=\"m\" type=\"t\">text</failure><system-out>o</system-out></testcase></testsuite></testsuites>"
    )
    .is_empty());
}

fn cases<'a>(doc: &'a roxmltree::Document, suite: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some(suite))
        .flat_map(|s| s.children().filter(|c| c.has_tag_name("testcase")))
        .collect()
}

/// `.toml` files under the project's `dir` (rules, or fixture manifests), so the expected counts
/// follow the project's rules and fixtures as they grow.
fn project_tomls(dir: &str) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                n += walk(&path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                n += 1;
            }
        }
        n
    }
    walk(&scratch::project().join(dir))
}

fn failure_text(case: &roxmltree::Node) -> Option<String> {
    case.children()
        .find(|c| c.has_tag_name("failure"))
        .map(|f| f.text().unwrap_or("").to_string())
}

#[test]
fn junit_has_a_case_per_rule_and_fixture_with_the_diagnostic_diff_and_events() {
    let clean = scratch_copy();
    let out = run(clean.path(), &["check", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(0));
    let xml = text(&out.stdout);
    let doc = parse_xml(&xml);
    let (rules, fixtures) = (project_tomls("rules"), project_tomls("fixtures"));
    assert_eq!(
        cases(&doc, "lint").len(),
        rules,
        "a lint case per rule:\n{xml}"
    );
    let replay = cases(&doc, "replay");
    // Every rule × fixture pair (a fixture expecting a rule twice gives two cases).
    assert!(replay.len() >= rules * fixtures, "{}", replay.len());
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
    assert!(!xml.contains("no findings"));

    let pr = false_positive_pr();
    let out = run(pr.path(), &["check", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = text(&out.stdout);
    let doc = parse_xml(&xml);
    let fp = (cases(&doc, "replay").into_iter())
        .find(|c| {
            c.attribute("classname") == Some("rules.linux.discovery_kernel_unpacking")
                && c.attribute("name")
                    == Some("fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade (benign)")
        })
        .expect("a case for the rule on the mkinitramfs fixture");
    let body = failure_text(&fp).expect("it fails");
    assert!(body.contains("error[RT003]: false positive"), "{body}");
    assert!(
        body.contains("fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.ndjson:42  file (parent mkinitramfs): file -L /boot/vmlinuz-6.1.0-28-amd64"),
        "the offending event: {body}"
    );
    let snapshot = (cases(&doc, "rules").into_iter())
        .find(|c| c.attribute("classname") == Some("rules.linux.discovery_kernel_unpacking"))
        .unwrap();
    let diff = failure_text(&snapshot).expect("the snapshot case fails");
    assert!(
        diff.contains("+fixture: fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade (benign)"),
        "the diff: {diff}"
    );
    // Exactly these two cases fail, and the totals say so.
    let failing = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase") && failure_text(n).is_some())
        .count();
    assert_eq!(failing, 2, "{xml}");
    assert_eq!(doc.root_element().attribute("failures"), Some("2"));
}

fn sarif_validator() -> jsonschema::Validator {
    let path = published("sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema",
        "{} is not the SARIF 2.1.0 schema",
        path.display()
    );
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

fn sarif_schema_errors(doc: &serde_json::Value) -> Vec<String> {
    sarif_validator()
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
#[cfg_attr(
    published_schemas_absent,
    ignore = "needs .ci/published-schemas.sh; outside CI this schema test did not run"
)]
fn the_sarif_validator_rejects_what_the_published_schema_forbids() {
    let v = sarif_validator();
    for bad in [
        serde_json::json!({"version": "2.0.0", "runs": []}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {}}]}]}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "A", "helpUri": "not a uri"}]}}}]}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]}),
    ] {
        assert!(!v.is_valid(&bad), "accepted: {bad}");
    }
    assert!(v.is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]})));
}

/// One `check` run of `dir` writing the JUnit and SARIF reports (and the human output).
fn junit_and_sarif_of_one_run(dir: &Path) -> (String, serde_json::Value) {
    let out = run(
        dir,
        &[
            "check",
            "--report",
            "junit=out/ruleforge.xml",
            "--report",
            "sarif=out/ruleforge.sarif",
        ],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
    let sarif = serde_json::from_str(&read("out/ruleforge.sarif")).expect("SARIF is JSON");
    (read("out/ruleforge.xml"), sarif)
}

/// A clean run, the false-positive PR, and that PR with a lint error too.
fn runs_to_validate() -> Vec<(&'static str, tempfile::TempDir)> {
    let lint = false_positive_pr();
    with_lint_error(lint.path());
    vec![
        ("clean", scratch_copy()),
        ("false positive", false_positive_pr()),
        ("false positive and lint error", lint),
    ]
}

#[test]
#[cfg_attr(
    published_schemas_absent,
    ignore = "needs .ci/published-schemas.sh and xmllint (libxml2-utils); outside CI this schema test did not run"
)]
fn junit_reports_validate_against_the_published_jenkins_schema() {
    for (name, dir) in runs_to_validate() {
        let (xml, _) = junit_and_sarif_of_one_run(dir.path());
        let errors = junit_schema_errors(&xml);
        assert!(
            errors.is_empty(),
            "{name}: JUnit schema violations: {errors:#?}"
        );
        assert!(xml.contains("<testcase"), "{name}: {xml}");
    }
}

#[test]
#[cfg_attr(
    published_schemas_absent,
    ignore = "needs .ci/published-schemas.sh; outside CI this schema test did not run"
)]
fn sarif_reports_validate_against_the_published_sarif_2_1_0_schema() {
    for (name, dir) in runs_to_validate() {
        let (_, sarif) = junit_and_sarif_of_one_run(dir.path());
        let errors = sarif_schema_errors(&sarif);
        assert!(
            errors.is_empty(),
            "{name}: SARIF schema violations: {errors:#?}"
        );
    }
    // With help URIs too (a `format: uri` the schema checks).
    let pr = false_positive_pr();
    let out = run(
        pr.path(),
        &[
            "check",
            "--format",
            "sarif",
            "--help-uri",
            "https://rules.example/codes#{code}",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert!(doc["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"].is_string());
    assert_eq!(sarif_schema_errors(&doc), Vec::<String>::new());
}

fn results_with<'a>(doc: &'a serde_json::Value, code: &str) -> Vec<&'a serde_json::Value> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == code)
        .collect()
}

#[test]
fn sarif_has_rule_metadata_regions_and_stable_fingerprints() {
    let pr = false_positive_pr();
    with_lint_error(pr.path());
    let args = [
        "check",
        "--format",
        "sarif",
        "--help-uri",
        "https://rules.example/codes#{code}",
    ];
    let out = run(pr.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&text(&out.stdout)).expect("SARIF is JSON");
    let driver = &doc["runs"][0]["tool"]["driver"];
    let rules = driver["rules"].as_array().unwrap();
    let rf407 = rules
        .iter()
        .position(|r| r["id"] == "RF407")
        .expect("RF407 documented");
    assert_eq!(rules[rf407]["helpUri"], "https://rules.example/codes#RF407");
    assert!(
        rules[rf407]["help"]["text"]
            .as_str()
            .unwrap()
            .contains("ruleforge lint --explain RF407")
    );
    assert!(rules.iter().any(|r| r["id"] == "RT003"));

    let lint = results_with(&doc, "RF407");
    assert_eq!(lint.len(), 1, "{doc:#}");
    assert_eq!(lint[0]["ruleIndex"], rf407);
    let loc = &lint[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], KERNEL_UNPACKING);
    assert_eq!(loc["region"]["startLine"], 23);
    assert_eq!(loc["region"]["startColumn"], 1);
    let fp = results_with(&doc, "RT003");
    assert_eq!(fp.len(), 1);
    assert!(
        fp[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("mkinitramfs_kernel_upgrade.ndjson:42"),
        "the offending event is in the message"
    );
    for r in doc["runs"][0]["results"].as_array().unwrap() {
        assert!(
            r["partialFingerprints"]["ruleforgeFinding/v1"].is_string(),
            "{r:#}"
        );
        assert!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string(),
            "{r:#}"
        );
    }

    // Lines inserted above the finding move its region, not its fingerprint.
    let before = lint[0]["partialFingerprints"].clone();
    let path = pr.path().join(KERNEL_UNPACKING);
    let body = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("# a comment\n# another\n{body}")).unwrap();
    let moved: serde_json::Value =
        serde_json::from_str(&text(&run(pr.path(), &args).stdout)).unwrap();
    let lint = results_with(&moved, "RF407");
    assert_eq!(
        lint[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        25
    );
    assert_eq!(lint[0]["partialFingerprints"], before);
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn json_prints_every_finding_and_a_final_summary_even_when_clean() {
    let clean = scratch_copy();
    let out = run(clean.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&text(&out.stdout));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let s = &lines[0];
    assert_eq!(s["kind"], "summary");
    assert_eq!(s["ok"], true);
    assert_eq!(s["errors"], 0);
    assert_eq!(s["rules"], project_tomls("rules"));
    assert_eq!(s["fixtures"], project_tomls("fixtures"));

    let pr = false_positive_pr();
    let lines = json_lines(&text(
        &run(pr.path(), &["check", "--format", "json"]).stdout,
    ));
    let (summary, findings) = lines.split_last().unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["ok"], false);
    assert_eq!(summary["errors"], findings.len());
    assert_eq!(summary["snapshot_changes"], 1);
    let fp = findings.iter().find(|f| f["code"] == "RT003").unwrap();
    assert_eq!(fp["kind"], "finding");
    assert_eq!(fp["rule_file"], KERNEL_UNPACKING);
    assert_eq!(
        fp["fixture"],
        "fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.toml"
    );
    assert!(fp["detail"].as_str().unwrap().contains(".ndjson:42"));

    // `lint` ends with its summary too.
    let lines = json_lines(&text(
        &run(clean.path(), &["lint", "--format", "json"]).stdout,
    ));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["command"], "lint");
}

/// A rule repository of the kernel-unpacking rule and its own fixture folder only, with its
/// snapshot accepted in place: what the job summary shows then depends on that rule and those
/// recordings, not on the rules and fixtures the project adds elsewhere.
fn kernel_unpacking_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join(KERNEL_UNPACKING);
    std::fs::create_dir_all(rule.parent().unwrap()).unwrap();
    std::fs::copy(scratch::project().join(KERNEL_UNPACKING), &rule).unwrap();
    scratch::copy_dir(
        &scratch::project().join("fixtures/kernel_unpacking"),
        &dir.path().join("fixtures/kernel_unpacking"),
    );
    std::fs::copy(
        scratch::project().join("ruleforge.toml"),
        dir.path().join("ruleforge.toml"),
    )
    .unwrap();
    let accepted = run(dir.path(), &["test", "--accept", "-q"]);
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        text(&accepted.stdout)
    );
    dir
}

#[test]
fn the_github_job_summary_renders_the_false_positive_snapshot_diff() {
    let pr = kernel_unpacking_repository();
    edit(
        pr.path(),
        KERNEL_UNPACKING,
        "process.parent.name not in (\"mkinitramfs\", \"kdumpctl\")",
        "process.parent.name not in (\"kdumpctl\")",
    );
    let summary = tempfile::NamedTempFile::new().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(pr.path())
        .args(["check", "--format", "github", "--report", "json=run.json"])
        .env("GITHUB_STEP_SUMMARY", summary.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("::error file=fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.toml,title=RT003::false positive"),
        "{stdout}"
    );
    assert!(
        stdout.contains("::error file=snapshots/discovery_kernel_unpacking.snap,title=RT006::"),
        "{stdout}"
    );
    let markdown = std::fs::read_to_string(summary.path()).unwrap();
    // The counts row is the run's own totals (as its JSON summary gives them); the recordings'
    // number and size may grow, so the snapshot shows the row's place, not its numbers.
    let json = json_lines(&std::fs::read_to_string(pr.path().join("run.json")).unwrap());
    let t = json.last().unwrap();
    let row = format!(
        "| {} | {} | {} | {} | {} | {} | {} |",
        t["rules"],
        t["replayed_rules"],
        t["fixtures"],
        t["events"],
        t["alerts"],
        t["errors"],
        t["warnings"]
    );
    assert!(markdown.contains(&row), "{row} in:\n{markdown}");
    assert_eq!(
        (t["rules"].as_u64(), t["errors"].as_u64()),
        (Some(1), Some(2))
    );
    let markdown = markdown.replacen(&row, "| (the run's totals) |", 1);
    insta::assert_snapshot!("github_job_summary_false_positive", markdown);
}

#[test]
fn one_run_writes_every_report_and_they_agree() {
    let pr = false_positive_pr();
    with_lint_error(pr.path());
    let out = run(
        pr.path(),
        &[
            "check",
            "--report",
            "junit=reports/ruleforge.xml",
            "--report",
            "sarif=ruleforge.sarif",
            "--report",
            "json=ruleforge.json",
            "--report",
            "summary=summary.md",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("error[RT003]"),
        "human output on stdout as usual"
    );
    let read =
        |p: &str| std::fs::read_to_string(pr.path().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let junit = read("reports/ruleforge.xml");
    let failures = parse_xml(&junit)
        .root_element()
        .attribute("failures")
        .map(str::to_string);
    let sarif: serde_json::Value = serde_json::from_str(&read("ruleforge.sarif")).unwrap();
    let json = json_lines(&read("ruleforge.json"));
    let errors = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error")
        .count();
    assert_eq!(json.last().unwrap()["errors"], errors);
    assert_eq!(errors, 3, "RF407, RT003 and RT006");
    assert_eq!(
        failures.as_deref(),
        Some("3"),
        "the same three, as JUnit cases"
    );
    assert!(read("summary.md").contains("### Snapshot diffs"));
}

#[test]
fn a_malformed_report_request_is_a_usage_error() {
    let clean = scratch_copy();
    for bad in ["sarif", "xml=out.xml", "junit="] {
        let out = run(clean.path(), &["check", "--report", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            text(&out.stderr).contains("--report"),
            "{bad}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_second_format_is_a_usage_error_that_names_report() {
    let clean = scratch_copy();
    for args in [
        &["check", "--format", "junit", "--format", "sarif"][..],
        &["--format", "json", "lint", "--format", "github"][..],
    ] {
        let out = run(clean.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing half-written");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("--format was given 2 times")
                && stderr.contains("--report FORMAT=PATH"),
            "{args:?}: {stderr}"
        );
    }
    // One `--format`, before or after the command, is as before.
    let out = run(clean.path(), &["--format", "json", "check"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("\"kind\":\"summary\""));
}

#[test]
fn help_uris_are_opt_in_absolute_urls_and_the_explanation_is_always_there() {
    let clean = scratch_copy();
    // Without --help-uri: no link ruleforge cannot vouch for, and every code's explanation
    // (what `lint --explain` prints) in its help text, which code scanning shows on the alert.
    let out = run(clean.path(), &["check", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|r| r["id"] == "RT018"));
    for r in rules {
        assert!(r.get("helpUri").is_none(), "{r:#}");
        let id = r["id"].as_str().unwrap();
        let markdown = r["help"]["markdown"].as_str().unwrap();
        assert!(
            markdown.contains(&format!("ruleforge lint --explain {id}")) && markdown.len() > 80,
            "{r:#}"
        );
    }
    // A template that would not be an absolute URI is refused before anything runs.
    for bad in ["docs/codes.md#{code}", "https://rules.example/a code"] {
        let out = run(
            clean.path(),
            &["check", "--format", "sarif", "--help-uri", bad],
        );
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(out.stdout.is_empty());
        assert!(
            text(&out.stderr).contains("--help-uri"),
            "{}",
            text(&out.stderr)
        );
    }
}
