//! The CLI's error model: every printed code is explained, unknown input is refused with exit 2,
//! `--rule`, `-C` and running from a subfolder behave as documented, and counts read as English.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary in `cwd`; returns (exit code, stdout, stderr).
fn run_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run ruleforge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every `"RF123"`-style code literal in the project's sources.
fn code_literals_in_src() -> BTreeSet<String> {
    let re = regex::Regex::new(r#""((?:RF|RX|RT|FX)[0-9]{3})""#).unwrap();
    let mut codes = BTreeSet::new();
    let mut stack = vec![project().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                codes.extend(re.captures_iter(&text).map(|c| c[1].to_string()));
            }
        }
    }
    codes
}

#[test]
fn every_code_in_the_sources_is_explained() {
    let codes = code_literals_in_src();
    // The scan must see the codes of every layer, or it proves nothing.
    for expected in ["RF101", "RF407", "RX102", "RT001", "FX006", "RF909"] {
        assert!(codes.contains(expected), "scan missed {expected}");
    }
    let (code, listing, stderr) = run_in(&project(), &["lint", "--explain"]);
    assert_eq!(code, 0, "{stderr}");
    for c in &codes {
        assert!(
            listing
                .lines()
                .any(|l| l.trim_start().starts_with(c.as_str())),
            "{c} is missing from `lint --explain`"
        );
        let (status, text, stderr) = run_in(&project(), &["lint", "--explain", c]);
        assert_eq!(status, 0, "`lint --explain {c}` failed: {stderr}");
        assert!(text.starts_with(&format!("{c} ")), "{text}");
        let doc = text.split_once("\n\n").map(|(_, d)| d.trim()).unwrap_or("");
        assert!(doc.len() > 40, "{c} has no documentation: {text}");
    }
}

#[test]
fn explain_without_a_code_lists_codes_by_family() {
    let (code, out, _) = run_in(&project(), &["lint", "--explain"]);
    assert_eq!(code, 0);
    let pos = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} missing:\n{out}"));
    // Families in order: load, lints, RX, RT, FX.
    assert!(pos("RF: loading") < pos("RF: lints"));
    assert!(pos("RF: lints") < pos("RX: "));
    assert!(pos("RX: ") < pos("RT: "));
    assert!(pos("RT: ") < pos("FX: "));
    assert!(out.contains("RT013  snapshot-collision (error)"), "{out}");
    assert!(out.contains("FX007  path-escapes-root (error)"), "{out}");
}

#[test]
fn explain_of_an_unknown_code_is_a_usage_error() {
    let (code, _, err) = run_in(&project(), &["lint", "--explain", "RT999"]);
    assert_eq!(code, 2);
    assert!(err.contains("RT999"), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temporary copy of the project's rule repository, at `<tempdir>/repo`.
fn scratch_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    for d in ["rules", "fixtures", "snapshots"] {
        copy_dir(&project().join(d), &repo.join(d));
    }
    std::fs::copy(
        project().join("ruleforge.toml"),
        repo.join("ruleforge.toml"),
    )
    .unwrap();
    (dir, repo)
}

#[test]
fn unknown_codes_in_select_and_ignore_are_usage_errors() {
    let (_dir, repo) = scratch_repo();
    for flag in ["--select", "--ignore"] {
        let (code, _, err) = run_in(&repo, &["lint", flag, "RF4077"]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(err.contains("RF4077") && err.contains("`RF407`"), "{err}");
    }
    // A code reported by `test`, not `lint`, would select nothing either.
    let (code, _, err) = run_in(&repo, &["lint", "--ignore", "RT008"]);
    assert_eq!(code, 2, "{err}");
    // Prefixes of known codes stay accepted.
    for ok in ["RF1", "RX", "RF407,RX102"] {
        let (code, out, err) = run_in(&repo, &["lint", "--select", ok]);
        assert_eq!(code, 0, "--select {ok}: {out}{err}");
    }
}

#[test]
fn unknown_codes_in_the_config_are_errors_with_their_location() {
    let (_dir, repo) = scratch_repo();
    let config = repo.join("ruleforge.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("ignore = []", "ignore = [\"RF9O9\"]")).unwrap();
    for cmd in ["lint", "check"] {
        let (code, _, err) = run_in(&repo, &[cmd]);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(
            err.contains("ruleforge.toml:") && err.contains("RF9O9") && err.contains("`RF909`"),
            "{err}"
        );
    }
}

const RULE: &str = "rules/linux/discovery_kernel_unpacking.toml";

/// Breaks `RULE`'s risk score (RF210) and the guide heading of another rule (RF407).
fn break_two_rules(repo: &Path) {
    let edit = |rel: &str, from: &str, to: &str| {
        let path = repo.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        let re = regex::Regex::new(from).unwrap();
        assert!(re.is_match(&text), "{rel} no longer matches {from}");
        std::fs::write(&path, re.replace(&text, to).as_ref()).unwrap();
    };
    edit(RULE, r"(?m)^risk_score = .*$", "risk_score = 5");
    let other = std::fs::read_dir(repo.join("rules/linux"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !p.ends_with("discovery_kernel_unpacking.toml"))
        .unwrap();
    let other = other
        .strip_prefix(repo)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    edit(&other, r"(?m)^risk_score = .*$", "risk_score = 5");
}

#[test]
fn lint_rule_lints_only_the_named_rules() {
    let (_dir, repo) = scratch_repo();
    break_two_rules(&repo);
    let (code, out, _) = run_in(&repo, &["lint"]);
    assert_eq!(code, 1);
    assert_eq!(out.matches("error[RF210]").count(), 2, "{out}");
    let (code, out, err) = run_in(&repo, &["lint", "--rule", "discovery_kernel_unpacking"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.matches("error[RF210]").count(), 1, "{out}");
    assert!(out.contains(RULE), "{out}");
    assert!(out.contains("lint: 1 rule, 1 error, 0 warnings"), "{out}");
    let (code, _, err) = run_in(&repo, &["lint", "--rule", "nosuch"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("\"nosuch\""), "{err}");
}

#[test]
fn docs_rule_renders_only_the_named_rules() {
    let (dir, repo) = scratch_repo();
    let out_dir = dir.path().join("docs");
    let out_arg = out_dir.to_str().unwrap();
    let args = [
        "docs",
        "--pages",
        "markdown",
        "--out",
        out_arg,
        "--rule",
        "discovery_kernel_unpacking",
    ];
    let (code, out, err) = run_in(&repo, &args);
    assert_eq!(code, 0, "{out}{err}");
    let mut pages: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".ruleforge-docs")
        .collect();
    pages.sort();
    assert_eq!(pages, ["discovery_kernel_unpacking.md", "index.md"]);
    let (code, _, err) = run_in(&repo, &["docs", "--out", out_arg, "--rule", "nosuch"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run_in(&repo, &["export", "--out", "x.ndjson", "--rule", "nosuch"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn summaries_say_one_rule_not_one_rules() {
    let (dir, repo) = scratch_repo();
    let one = ["--rule", "discovery_kernel_unpacking"];
    let out_file = dir.path().join("one.ndjson");
    let mut args = vec!["export", "--out", out_file.to_str().unwrap()];
    args.extend(one);
    let (code, out, err) = run_in(&repo, &args);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("export: 1 rule written to "), "{out}");
    let mut args = vec!["test"];
    args.extend(one);
    let (_, out, _) = run_in(&repo, &args);
    let summary = out.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("test: ") && summary.contains(" 1 rule (1 replayed), "),
        "{summary}"
    );
    let (code, _, err) = run_in(
        &repo,
        &[
            "eval",
            r#"process where process.name == "gunzip""#,
            "fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.ndjson",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 result over "), "{err}");
}

fn break_rule(repo: &Path) {
    let path = repo.join(RULE);
    let text = std::fs::read_to_string(&path).unwrap();
    let re = regex::Regex::new(r"(?m)^risk_score = .*$").unwrap();
    assert!(re.is_match(&text), "{RULE} has no risk_score line any more");
    std::fs::write(&path, re.replace(&text, "risk_score = 5").as_ref()).unwrap();
}

#[test]
fn lint_from_a_subfolder_lints_the_whole_repository() {
    let (_dir, repo) = scratch_repo();
    break_rule(&repo);
    // Every example rule, counted rather than hard-coded (other work adds rules).
    let rules = std::fs::read_dir(repo.join("rules/linux")).unwrap().count();
    let summary = format!("lint: {rules} rules, 1 error, 0 warnings");
    for sub in ["rules/linux", "fixtures/kernel_unpacking", "snapshots"] {
        let (code, out, err) = run_in(&repo.join(sub), &["lint"]);
        assert_eq!(code, 1, "from {sub}: {err}");
        assert!(out.contains(&summary), "from {sub}: {out}");
        // Locations stay relative to the repository root.
        assert!(out.contains(&format!("--> {RULE}:")), "from {sub}: {out}");
    }
    // A path typed in the subfolder is relative to the subfolder.
    let linux = repo.join("rules/linux");
    let (code, out, err) = run_in(&linux, &["lint", "discovery_kernel_unpacking.toml"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("lint: 1 rule, 1 error"), "{out}");
    let (code, out, err) = run_in(
        &linux,
        &["lint", "../linux", "--rule", "discovery_kernel_unpacking"],
    );
    assert_eq!(code, 1, "{out}{err}");
    // The root's ruleforge.toml applies from a subfolder too.
    let config = repo.join("ruleforge.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("ignore = []", "ignore = [\"RF210\"]")).unwrap();
    let (code, out, err) = run_in(&linux, &["lint"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn dash_c_makes_command_line_paths_relative_to_its_directory() {
    let (dir, repo) = scratch_repo();
    break_rule(&repo);
    let top = dir.path();
    let (code, out, err) = run_in(top, &["-C", "repo", "lint", RULE]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("lint: 1 rule, 1 error"), "{out}");
    assert!(out.contains(&format!("--> {RULE}:")), "{out}");

    // The rule is broken on purpose: export only when told to.
    let (code, out, err) = run_in(
        top,
        &[
            "-C",
            "repo",
            "export",
            "--out",
            "out.ndjson",
            "--allow-invalid",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        repo.join("out.ndjson").is_file(),
        "export wrote elsewhere: {out}"
    );
    assert!(!top.join("out.ndjson").exists());

    let (code, out, err) = run_in(top, &["-C", "repo", "docs", "--out", "site"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        repo.join("site/index.html").is_file(),
        "docs wrote elsewhere: {out}"
    );

    let events = "fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.ndjson";
    let (code, out, err) = run_in(top, &["-C", "repo", "eval", RULE, events]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(events), "{out}");

    let mapping = r#"{"mappings": {"properties": {"@timestamp": {"type": "date"}, "event": {"properties": {"category": {"type": "keyword"}}}, "process": {"properties": {"name": {"type": "keyword"}}}}}}"#;
    std::fs::write(repo.join("mapping.json"), mapping).unwrap();
    let q = r#"process where process.name == "gunzip""#;
    let args = ["-C", "repo", "eval", q, events, "--mapping", "mapping.json"];
    let (code, out, err) = run_in(top, &args);
    assert_eq!(code, 0, "{out}{err}");

    // -C into a subfolder finds the repository above it, as git does.
    let (code, out, err) = run_in(
        top,
        &[
            "-C",
            "repo/rules/linux",
            "export",
            "--out",
            "x.ndjson",
            "--allow-invalid",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(repo.join("rules/linux/x.ndjson").is_file(), "{out}");
}

#[test]
fn output_paths_typed_in_a_subfolder_stay_relative_to_it() {
    let (_dir, repo) = scratch_repo();
    let linux = repo.join("rules/linux");
    let (code, out, err) = run_in(&linux, &["export", "--out", "../../all.ndjson"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(repo.join("all.ndjson").is_file(), "{out}");
    let (code, out, err) = run_in(&linux, &["docs", "--out", "site"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(linux.join("site/index.html").is_file(), "{out}");
}

#[test]
fn eval_of_a_missing_rule_file_says_so() {
    let events = "fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.ndjson";
    for (query, lang) in [
        ("rules/linux/nosuch.toml", "eql"),
        ("nosuch.toml", "eql"),
        ("rules/linux/nosuch.toml", "kuery"),
    ] {
        let (code, out, err) = run_in(&project(), &["eval", "--language", lang, query, events]);
        assert_eq!(code, 2, "{query}: {out}{err}");
        assert!(err.contains(&format!("{query}: no such file")), "{err}");
    }
    // Arguments swapped: an event file where the query belongs.
    let (code, _, err) = run_in(&project(), &["eval", events, RULE]);
    assert_eq!(code, 2);
    assert!(err.contains("not a rule file"), "{err}");
    // A query with a path in it is still a query.
    let q = r#"process where process.executable == "/usr/bin/gunzip""#;
    let (code, _, err) = run_in(&project(), &["eval", q, events]);
    assert_eq!(code, 0, "{err}");
    // A missing event file is an I/O error, stated once.
    let (code, _, err) = run_in(&project(), &["eval", q, "nosuch.ndjson"]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let (_dir, repo) = scratch_repo();
    let cases: &[&[&str]] = &[
        &[],
        &["lint", "--nosuch"],
        &["--format", "bogus", "lint"],
        &["export"],
        &["lint", "--rule"],
        &["-C", "no/such/dir", "lint"],
        &["lint", "no/such/file.toml"],
    ];
    for args in cases {
        let (code, out, err) = run_in(&repo, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(!err.trim().is_empty(), "{args:?}: no message");
    }
    let (code, _, _) = run_in(&repo, &["--version"]);
    assert_eq!(code, 0);
}

#[test]
fn linting_a_file_that_is_not_a_rule_is_a_usage_error() {
    let (_dir, repo) = scratch_repo();
    let recording = "fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.ndjson";
    let (code, out, err) = run_in(&repo, &["lint", recording]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("not a rule file"), "{err}");
}
