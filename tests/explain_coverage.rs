//! `eval --explain`, the explanations attached to `test` failures (RT001, RT003, RT010), and
//! `ruleforge coverage` with its off-by-default RT017 finding and the docs evidence.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::{KERNEL_UNPACKING, edit, project, run, scratch_copy, text};
use std::process::Command;

const MKINITRAMFS: &str = "fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.ndjson";

fn eval(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(project())
        .arg("eval")
        .args(args)
        .output()
        .expect("run ruleforge");
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn explain_names_the_mkinitramfs_exclusion_as_the_deciding_clause() {
    // Line 42 is `file -L /boot/vmlinuz-*` started by mkinitramfs: everything but the
    // exclusion of its parent holds.
    let (code, stdout, stderr) = eval(&[
        KERNEL_UNPACKING,
        MKINITRAMFS,
        "--explain",
        "--position",
        "42",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(r#"deciding clause: process.parent.name == "mkinitramfs" (process.parent.name = "mkinitramfs")"#),
        "{stdout}"
    );
    insta::assert_snapshot!("explain_mkinitramfs_file_probe", stdout);
}

#[test]
fn explain_as_json_gives_the_deciding_clause_and_values() {
    let (code, stdout, stderr) = eval(&[
        KERNEL_UNPACKING,
        MKINITRAMFS,
        "--explain",
        "--position",
        "42",
        "--position",
        "43",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["position"], 42);
    assert_eq!(lines[0]["matched"], false);
    assert_eq!(
        lines[0]["deciding"],
        r#"process.parent.name == "mkinitramfs""#
    );
    assert_eq!(lines[0]["deciding_reads"][0]["values"][0], "mkinitramfs");
    // Line 43 is the `end` event of the same process: event.type, event.action and the
    // exclusion fail, so no single clause decides and it is no near miss.
    assert_eq!(lines[1]["position"], 43);
    assert_eq!(lines[1]["deciding"], serde_json::Value::Null);
    assert_eq!(lines[1]["failing_clauses"], 3);
    assert_eq!(lines[1]["near_miss"], serde_json::Value::Null);
}

#[test]
fn explain_of_a_position_without_an_event_is_an_error() {
    let (code, _, stderr) = eval(&[
        KERNEL_UNPACKING,
        MKINITRAMFS,
        "--explain",
        "--position",
        "100000",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no event at position 100000"), "{stderr}");
}

const KALLSYMS: &str = "rules/linux/credential_access_kallsyms_read.toml";
const KALLSYMS_NEAR_MISSES: &str =
    "fixtures/kernel_symbol_reads/service_and_admin_near_misses.ndjson";

#[test]
fn explain_of_a_kql_rule_names_the_excluded_parent_as_the_deciding_clause() {
    // Line 2 is a systemd unit's `grep … /proc/kallsyms`: the right tool on the right file,
    // excluded only by its parent's executable.
    let (code, stdout, stderr) = eval(&[
        KALLSYMS,
        KALLSYMS_NEAR_MISSES,
        "--explain",
        "--position",
        "2",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(r#"deciding clause: process.parent.executable: /usr/lib/systemd/* (process.parent.executable = "/usr/lib/systemd/systemd")"#),
        "{stdout}"
    );
    assert!(
        stdout.contains("near miss: the event would match if"),
        "{stdout}"
    );
    insta::assert_snapshot!("explain_kql_systemd_kallsyms_grep", stdout);
}

#[test]
fn explain_of_a_kql_query_as_json_gives_the_deciding_clause_and_values() {
    // An ad-hoc KQL query, not a rule: line 12 is `ls -l /proc/kallsyms`.
    let (code, stdout, stderr) = eval(&[
        r#"process.name:(cat or grep) and process.args:"/proc/kallsyms""#,
        KALLSYMS_NEAR_MISSES,
        "--language",
        "kuery",
        "--explain",
        "--position",
        "12",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["position"], 12);
    assert_eq!(line["matched"], false);
    assert_eq!(line["failing_clauses"], 1);
    assert_eq!(line["deciding"], "process.name:(cat or grep)");
    assert_eq!(line["deciding_reads"][0]["field"], "process.name");
    assert_eq!(line["deciding_reads"][0]["values"][0], "ls");
    assert!(
        line["near_miss"].as_str().unwrap().contains("were true"),
        "{line}"
    );
}

#[test]
fn explain_of_a_rule_without_a_clause_tree_says_so() {
    let (code, _, stderr) = eval(&[
        "rules/linux/command_and_control_linux_indicator_match.toml",
        KALLSYMS_NEAR_MISSES,
        "--explain",
    ]);
    assert_eq!(code, 2);
    // threat_match rules replay (buffered stage) but have no clause tree to show.
    assert!(
        stderr.contains("no clause-level explanation for threat_match rules"),
        "{stderr}"
    );
}

#[test]
fn a_missing_alert_of_a_kql_rule_shows_the_closest_event_clause_by_clause() {
    let dir = scratch_copy();
    edit(dir.path(), KALLSYMS, "grep or head or less", "grep or less");
    let out = run(
        dir.path(),
        &["test", "--rule", "credential_access_kallsyms_read"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let rt001 = stdout
        .split("error[")
        .find(|s| s.starts_with("RT001") && s.contains("attacker_kallsyms_root_shell"))
        .unwrap_or_else(|| panic!("no RT001 for the kallsyms fixture:\n{stdout}"));
    assert!(
        rt001.contains(
            "closest event: fixtures/kernel_symbol_reads/attacker_kallsyms_root_shell.ndjson:"
        ),
        "{rt001}"
    );
    assert!(rt001.contains("(1 failing top-level clause)"), "{rt001}");
    assert!(rt001.contains("<== deciding"), "{rt001}");
    assert!(!rt001.contains("no explanation"), "{rt001}");
}

#[test]
fn explain_of_a_sequence_says_maxspan_was_exceeded() {
    let (code, stdout, stderr) = eval(&[
        "rules/linux/persistence_kernel_unpack_then_module_load.toml",
        "fixtures/kernel_module_staging/unpack_then_load_after_11_minutes.ndjson",
        "--explain",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("=> stage 1 ["), "{stdout}");
    assert!(stdout.contains("=> stage 2 ["), "{stdout}");
    assert!(stdout.contains("incomplete (maxspan exceeded)"), "{stdout}");
    let (_, stdout, _) = eval(&[
        "rules/linux/persistence_kernel_unpack_then_module_load.toml",
        "fixtures/kernel_module_staging/module_load_before_unpack.ndjson",
        "--explain",
    ]);
    assert!(stdout.contains("incomplete (order)"), "{stdout}");
}

#[test]
fn a_missing_alert_shows_the_closest_event_and_what_would_flip_it() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        r#"process.name in ("gunzip", "#,
        r#"process.name in ("#,
    );
    let out = run(
        dir.path(),
        &["test", "--rule", "discovery_kernel_unpacking"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let rt001 = stdout
        .split("error[")
        .find(|s| s.starts_with("RT001") && s.contains("attacker_gunzip_interactive_tmp"))
        .unwrap_or_else(|| panic!("no RT001 for the gunzip fixture:\n{stdout}"));
    assert!(
        rt001.contains("closest event: fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.ndjson:16 (1 failing top-level clause)"),
        "{rt001}"
    );
    // Every disjunct of the utility clause fails, so the `or` as a whole decides.
    assert!(
        rt001.contains(r#"deciding clause: ( process.name in ("unxz", "#),
        "{rt001}"
    );
    assert!(rt001.contains(r#"process.name = "gunzip""#), "{rt001}");
    assert!(
        rt001.contains("near miss: the event would match if `( process.name in"),
        "{rt001}"
    );
}

#[test]
fn a_false_positive_shows_why_the_event_alerted() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        r#"("mkinitramfs", "kdumpctl")"#,
        r#"("kdumpctl")"#,
    );
    let out = run(
        dir.path(),
        &["test", "--rule", "discovery_kernel_unpacking"],
    );
    let stdout = text(&out.stdout);
    let rt003 = stdout
        .split("error[")
        .find(|s| s.starts_with("RT003"))
        .unwrap_or_else(|| panic!("no RT003:\n{stdout}"));
    assert!(
        rt003.contains(
            "why fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.ndjson:42 alerted:"
        ),
        "{rt003}"
    );
    assert!(
        rt003.contains(r#"[true ] process.parent.name not in ("kdumpctl")"#),
        "{rt003}"
    );
    assert!(rt003.contains("every clause held"), "{rt003}");
}

#[test]
fn a_field_expectation_failure_shows_found_and_expected_values() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        "fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.toml",
        r#""process.name" = "gunzip""#,
        r#""process.name" = "gzip""#,
    );
    let out = run(
        dir.path(),
        &["test", "--rule", "discovery_kernel_unpacking"],
    );
    let stdout = text(&out.stdout);
    let rt010 = stdout
        .split("error[")
        .find(|s| s.starts_with("RT010"))
        .unwrap_or_else(|| panic!("no RT010:\n{stdout}"));
    assert!(
        rt010.contains(r#"expected process.name = "gzip""#),
        "{rt010}"
    );
    assert!(
        rt010.contains(r#"found at fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.ndjson:16: "gunzip" (differs)"#),
        "{rt010}"
    );
}

#[test]
fn coverage_reports_branches_exclusions_and_totals() {
    let out = run(&project(), &["coverage"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let unpacking = stdout
        .split("\nKernel Module")
        .next()
        .and_then(|s| {
            s.split("Kernel Image Unpacking from Boot Directory (discovery_kernel_unpacking)")
                .nth(1)
        })
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        unpacking.contains("branches exercised by a malicious fixture: 5/5"),
        "{unpacking}"
    );
    assert!(
        unpacking.contains(r#"proven    process.parent.name == "mkinitramfs"  (fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.ndjson:42 alerts without it)"#),
        "{unpacking}"
    );
    assert!(
        unpacking.contains(r#"proven    process.parent.executable like "/usr/lib/needrestart/*""#),
        "{unpacking}"
    );
    assert!(
        unpacking.contains(r#"proven    not process.parent.command_line like~ "*ansible*""#),
        "{unpacking}"
    );
    // KQL rules are analysed too: a threshold rule's exclusions are listed (none of them is
    // proven by the example fixtures, and coverage says so).
    let burst = stdout
        .split("Boot Directory Enumeration Burst (discovery_boot_directory_enumeration_burst)")
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        burst.contains("exclusions proven by a benign fixture: 0/5"),
        "{burst}"
    );
    assert!(
        burst.contains("unproven  process.parent.name: mkinitramfs"),
        "{burst}"
    );
    let kallsyms = stdout
        .split("(credential_access_kallsyms_read)")
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        kallsyms.contains("proven    process.parent.executable: /usr/lib/systemd/*  (fixtures/kernel_symbol_reads/service_and_admin_near_misses.ndjson:2 alerts without it)"),
        "{kallsyms}"
    );
    // The indicator match rule is named as not analysed, not silently left out of the count.
    assert!(
        stdout.contains("  not analysed: threat_match rules"),
        "{stdout}"
    );
    let last = stdout.lines().last().unwrap();
    let (analysed, total) = analysable_rules();
    assert!(
        last.starts_with(&format!(
            "coverage: {analysed} of {total} rules analysed; branches "
        )),
        "{last}"
    );
}

#[test]
fn an_unproven_exclusion_is_reported_and_rt017_is_off_until_configured() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        r#"  not process.parent.args == "/usr/bin/kdumpctl" and"#,
        r#"  not process.parent.args == "/usr/bin/kdumpctl" and
  not process.parent.name == "nothing-runs-this" and"#,
    );
    let out = run(
        dir.path(),
        &["coverage", "--rule", "discovery_kernel_unpacking"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(r#"unproven  not process.parent.name == "nothing-runs-this""#),
        "{stdout}"
    );
    assert!(
        !stdout.contains("RT017"),
        "RT017 is off by default:\n{stdout}"
    );

    let config = dir.path().join("ruleforge.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("unproven_exclusion = \"error\"\n");
    assert!(
        toml.contains("[test]"),
        "the [test] table must be last in ruleforge.toml"
    );
    std::fs::write(&config, toml).unwrap();
    let out = run(
        dir.path(),
        &["coverage", "--rule", "discovery_kernel_unpacking"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[RT017]"), "{stdout}");
    assert!(
        stdout.contains(r#"not process.parent.name == "nothing-runs-this""#),
        "{stdout}"
    );
    let out = run(dir.path(), &["check"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[RT017]"), "{stdout}");
}

/// The example rules coverage analyses (EQL and KQL; not threat_match or ES|QL), and all.
fn analysable_rules() -> (usize, usize) {
    let (mut analysed, mut total) = (0, 0);
    for f in std::fs::read_dir(project().join("rules/linux")).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        total += 1;
        if !text.contains("type = \"threat_match\"") && !text.contains("type = \"esql\"") {
            analysed += 1;
        }
    }
    (analysed, total)
}

#[test]
fn every_value_of_a_positive_list_needs_a_malicious_event_and_unproven_ones_are_listed() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        r#"process.name in ("gunzip", "#,
        r#"process.name in ("nothing-runs-this", "gunzip", "#,
    );
    edit(
        dir.path(),
        KALLSYMS,
        "(awk or cat or",
        "(awk or never-run or cat or",
    );
    let out = run(dir.path(), &["coverage"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(r#"unproven  process.name == "nothing-runs-this""#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"proven    process.name == "gunzip"  (fixtures/"#),
        "{stdout}"
    );
    // Values of negated lists are exclusions, not list values.
    assert!(
        !stdout.contains(
            r#"proven    process.parent.name == "mkinitramfs"  (fixtures/kernel_unpacking/attacker"#
        ),
        "{stdout}"
    );
    // KQL value lists too.
    assert!(
        stdout.contains("unproven  process.name: never-run"),
        "{stdout}"
    );
    assert!(
        stdout.contains("proven    process.name: cat  (fixtures/"),
        "{stdout}"
    );
    let last = stdout.lines().last().unwrap();
    assert!(last.contains(" list values "), "{last}");

    let out = run(
        dir.path(),
        &[
            "coverage",
            "--format",
            "json",
            "--rule",
            "credential_access_kallsyms_read",
        ],
    );
    let rule: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    let values = rule["list_values"].as_array().unwrap();
    let never = values
        .iter()
        .find(|v| v["clause"] == "process.name: never-run")
        .unwrap();
    assert!(never["exercised_by"].is_null(), "{never}");
    let cat = values
        .iter()
        .find(|v| v["clause"] == "process.name: cat")
        .unwrap();
    assert!(cat["exercised_by"]["position"].as_u64().is_some(), "{cat}");
}

#[test]
fn check_verbose_prints_the_coverage_section() {
    let out = run(&project(), &["check", "-v"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("exclusions proven by a benign fixture:"),
        "{stdout}"
    );
    let (analysed, total) = analysable_rules();
    assert!(
        stdout.contains(&format!(
            "\ncoverage: {analysed} of {total} rules analysed;"
        )),
        "{stdout}"
    );
}

#[test]
fn the_docs_page_shows_which_exclusions_a_benign_fixture_proves() {
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let res = run(&project(), &["docs", "--out", site.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let page = std::fs::read_to_string(site.join("discovery_kernel_unpacking.html")).unwrap();
    assert!(
        page.contains("Exclusions proven by a benign fixture"),
        "{page}"
    );
    let doc = scraper::Html::parse_document(&page);
    let rows = scraper::Selector::parse("table.exclusions tbody tr").unwrap();
    let rows: Vec<(String, String)> = doc
        .select(&rows)
        .map(|tr| {
            let class = tr.value().attr("class").unwrap_or_default().to_string();
            (class, tr.text().collect::<String>())
        })
        .collect();
    assert_eq!(rows.len(), 7, "{rows:#?}");
    assert!(
        rows.iter().all(|(class, _)| class == "ex-proven"),
        "{rows:#?}"
    );
    assert!(
        rows.iter().any(
            |(_, t)| t.contains(r#"process.parent.name == "mkinitramfs""#)
                && t.contains(
                    "proven by fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.toml"
                )
        ),
        "{rows:#?}"
    );
    // A sequence rule with unproven exclusions says so on its page.
    let page =
        std::fs::read_to_string(site.join("persistence_kernel_unpack_then_module_load.html"))
            .unwrap();
    assert!(
        page.contains("UNPROVEN: no benign fixture alerts without it"),
        "{page}"
    );
}
