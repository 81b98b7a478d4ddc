//! The reports CI reads, from one `ruleforge check` run of a copy of the project's rules: JUnit
//! (validated against the JUnit schema Jenkins documents, tests/data/junit-jenkins-subset.xsd),
//! SARIF 2.1.0 (validated against tests/data/sarif-2.1.0-subset.schema.json), JSON lines with a
//! summary, and the GitHub annotations and job summary.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::{KERNEL_UNPACKING, edit, run, scratch_copy, text};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

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

// ---- a validator for the XML Schema constructs the JUnit schema file uses ------------------

struct Decl {
    mixed: bool,
    /// (element name, minOccurs, maxOccurs; None = unbounded), in order.
    sequence: Vec<(String, usize, Option<usize>)>,
    /// (attribute name, type, required).
    attributes: Vec<(String, String, bool)>,
}

fn load_xsd(text: &str) -> HashMap<String, Decl> {
    let doc = roxmltree::Document::parse(text).expect("the XSD parses");
    let xs = |n: &roxmltree::Node, name: &str| n.is_element() && n.tag_name().name() == name;
    let mut decls = HashMap::new();
    for el in doc.root_element().children().filter(|n| xs(n, "element")) {
        let name = el.attribute("name").expect("named element").to_string();
        let ty = el
            .children()
            .find(|n| xs(n, "complexType"))
            .expect("complexType");
        let mut decl = Decl {
            mixed: ty.attribute("mixed") == Some("true"),
            sequence: Vec::new(),
            attributes: Vec::new(),
        };
        for part in ty.children().filter(|n| n.is_element()) {
            match part.tag_name().name() {
                "sequence" => {
                    for r in part.children().filter(|n| xs(n, "element")) {
                        let min = r.attribute("minOccurs").map_or(1, |v| v.parse().unwrap());
                        let max = match r.attribute("maxOccurs") {
                            Some("unbounded") => None,
                            Some(v) => Some(v.parse().unwrap()),
                            None => Some(1),
                        };
                        decl.sequence.push((
                            r.attribute("ref").expect("ref").to_string(),
                            min,
                            max,
                        ));
                    }
                }
                "attribute" => decl.attributes.push((
                    part.attribute("name").unwrap().to_string(),
                    part.attribute("type").unwrap_or("xs:string").to_string(),
                    part.attribute("use") == Some("required"),
                )),
                other => panic!("the validator does not know xs:{other}"),
            }
        }
        decls.insert(name, decl);
    }
    decls
}

fn validate(node: roxmltree::Node, decls: &HashMap<String, Decl>, errors: &mut Vec<String>) {
    let name = node.tag_name().name();
    let Some(decl) = decls.get(name) else {
        errors.push(format!("<{name}> is not declared"));
        return;
    };
    for a in node.attributes() {
        match decl.attributes.iter().find(|(n, _, _)| n == a.name()) {
            None => errors.push(format!("<{name}> has undeclared attribute {}", a.name())),
            Some((_, ty, _)) => {
                let ok = match ty.as_str() {
                    "xs:int" => a.value().parse::<i32>().is_ok(),
                    "xs:decimal" => a.value().parse::<f64>().is_ok(),
                    _ => true,
                };
                if !ok {
                    errors.push(format!("<{name} {}={:?}> is not {ty}", a.name(), a.value()));
                }
            }
        }
    }
    for (attr, _, required) in &decl.attributes {
        if *required && node.attribute(attr.as_str()).is_none() {
            errors.push(format!("<{name}> lacks required attribute {attr}"));
        }
    }
    if !decl.mixed
        && node
            .children()
            .any(|c| c.is_text() && !c.text().unwrap_or("").trim().is_empty())
    {
        errors.push(format!("<{name}> has text content but is not mixed"));
    }
    // Children against the sequence: in order, each within its occurrence bounds.
    let mut at = 0;
    let mut count = 0;
    for child in node.children().filter(|c| c.is_element()) {
        let cname = child.tag_name().name();
        while at < decl.sequence.len() && decl.sequence[at].0 != cname {
            if count < decl.sequence[at].1 {
                errors.push(format!(
                    "<{name}> needs at least {} <{}>",
                    decl.sequence[at].1, decl.sequence[at].0
                ));
            }
            at += 1;
            count = 0;
        }
        if at == decl.sequence.len() {
            errors.push(format!("<{name}> may not contain <{cname}> here"));
            return;
        }
        count += 1;
        if decl.sequence[at].2.is_some_and(|max| count > max) {
            errors.push(format!("<{name}> has too many <{cname}>"));
        }
        validate(child, decls, errors);
    }
    for (el, min, _) in decl.sequence.iter().skip(at + usize::from(count > 0)) {
        if *min > 0 {
            errors.push(format!("<{name}> needs <{el}>"));
        }
    }
}

fn assert_valid_junit(xml: &str) -> roxmltree::Document<'_> {
    let decls = load_xsd(&std::fs::read_to_string(data("junit-jenkins-subset.xsd")).unwrap());
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let mut errors = Vec::new();
    validate(doc.root_element(), &decls, &mut errors);
    assert!(
        errors.is_empty(),
        "JUnit schema violations: {errors:#?}\n{xml}"
    );
    doc
}

#[test]
fn the_junit_validator_rejects_what_the_schema_forbids() {
    let decls = load_xsd(&std::fs::read_to_string(data("junit-jenkins-subset.xsd")).unwrap());
    for bad in [
        "<testsuites><testsuite tests=\"1\"/></testsuites>",
        "<testsuites><testsuite name=\"a\" tests=\"one\"/></testsuites>",
        "<testsuites><testsuite name=\"a\" tests=\"1\"><testcase/></testsuite></testsuites>",
        "<testsuites><testsuite name=\"a\" tests=\"1\"><testcase name=\"x\"><system-out/><failure/></testcase></testsuite></testsuites>",
        "<testsuites><testsuite name=\"a\" tests=\"1\"><testcase name=\"x\" file=\"f\"/></testsuite></testsuites>",
        "<testsuites>text<testsuite name=\"a\" tests=\"1\"/></testsuites>",
    ] {
        let doc = roxmltree::Document::parse(bad).unwrap();
        let mut errors = Vec::new();
        validate(doc.root_element(), &decls, &mut errors);
        assert!(!errors.is_empty(), "accepted: {bad}");
    }
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
fn junit_has_a_case_per_rule_and_fixture_and_validates_against_the_jenkins_schema() {
    let clean = scratch_copy();
    let out = run(clean.path(), &["check", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(0));
    let xml = text(&out.stdout);
    let doc = assert_valid_junit(&xml);
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
    let doc = assert_valid_junit(&xml);
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
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("sarif-2.1.0-subset.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

fn assert_valid_sarif(text: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(text).expect("SARIF is JSON");
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
    doc
}

#[test]
fn the_sarif_schema_rejects_what_sarif_forbids() {
    let v = sarif_validator();
    for bad in [
        serde_json::json!({"version": "2.0.0", "runs": []}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {}}]}]}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]}),
        serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "A", "helpUri": "not a uri"}]}}}]}),
    ] {
        assert!(!v.is_valid(&bad), "accepted: {bad}");
    }
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
fn sarif_validates_with_rule_metadata_regions_and_stable_fingerprints() {
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
    let doc = assert_valid_sarif(&text(&out.stdout));
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
    let moved = assert_valid_sarif(&text(&run(pr.path(), &args).stdout));
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

#[test]
fn the_github_job_summary_renders_the_false_positive_snapshot_diff() {
    let pr = false_positive_pr();
    let summary = tempfile::NamedTempFile::new().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(pr.path())
        .args(["check", "--format", "github"])
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
    assert_valid_junit(&read("reports/ruleforge.xml"));
    let sarif = assert_valid_sarif(&read("ruleforge.sarif"));
    let json = json_lines(&read("ruleforge.json"));
    let errors = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error")
        .count();
    assert_eq!(json.last().unwrap()["errors"], errors);
    assert_eq!(errors, 3, "RF407, RT003 and RT006");
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
