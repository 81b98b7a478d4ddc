//! `--changed-since REF`: in a real git repository (built with git2) holding a copy of the
//! project's rules, fixtures and snapshots, a change selects only the work it can affect, and
//! says so under `-v`; errors (no repository, unknown REF) exit 2.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::{KERNEL_UNPACKING, edit, run, scratch_copy, text};
use std::path::Path;

/// Stages every file of the work tree (deletions included) and commits it on HEAD.
fn commit_all(repo: &git2::Repository, message: &str) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("ruleforge test", "test@example.invalid").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .unwrap()
}

/// A scratch copy of the project's rule repository committed in a new git repository, with a
/// branch `base` at that commit.
fn repo() -> (tempfile::TempDir, git2::Repository) {
    let dir = scratch_copy();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let id = commit_all(&repo, "base");
    repo.branch("base", &repo.find_commit(id).unwrap(), false)
        .unwrap();
    (dir, repo)
}

fn stage(repo: &git2::Repository, rel: &str) {
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(rel)).unwrap();
    index.write().unwrap();
}

/// The `selected …` lines `-v` prints.
fn selections(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("selected"))
        .collect()
}

/// The `-v` result lines (`  rule | fixture | alerts | status`).
fn results(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.matches(" | ").count() == 3)
        .collect()
}

/// The rule and fixture counts of a full run's `check: ok. N rules (N replayed), M fixtures`
/// line, so the tests follow the project's fixtures as they grow.
fn full_counts(full: &str) -> (usize, usize) {
    let line = (full.lines())
        .find(|l| l.starts_with("check: ok. "))
        .unwrap_or_else(|| panic!("no summary line in the full run:\n{full}"));
    let numbers: Vec<usize> = (line.split(|c: char| !c.is_ascii_digit()))
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[2])
}

#[test]
fn a_one_rule_change_runs_only_that_rule() {
    let (dir, repo) = repo();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "implants are tuned against",
        "implants are tuned to evade",
    );
    commit_all(&repo, "tune the description");
    let out = run(dir.path(), &["-v", "check", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        selections(&stdout),
        [format!("selected rule {KERNEL_UNPACKING}: {KERNEL_UNPACKING} changed").as_str()],
        "{stdout}"
    );
    // What the full run does with that rule, and nothing else.
    let full = text(&run(dir.path(), &["-v", "check"]).stdout);
    let of_rule: Vec<&str> = (results(&full).into_iter())
        .filter(|l| l.starts_with("  Kernel Image Unpacking from Boot Directory |"))
        .collect();
    let (_, fixtures) = full_counts(&full);
    assert_eq!(of_rule.len(), fixtures, "{full}");
    assert_eq!(results(&stdout), of_rule, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "check: ok. 1 rule (1 replayed), {fixtures} fixtures"
        )),
        "{stdout}"
    );
}

#[test]
fn a_fixture_change_runs_every_rule_on_that_fixture() {
    let (dir, repo) = repo();
    let manifest = "fixtures/kernel_unpacking/backup_tar_boot_files.toml";
    edit(
        dir.path(),
        manifest,
        "description = \"",
        "description = \"Nightly: ",
    );
    // Staged, not committed: the index counts as a change too.
    stage(&repo, manifest);
    let out = run(dir.path(), &["-v", "check", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        selections(&stdout),
        [
            format!(
                "selected fixture {manifest} (every rule replayed over it): {manifest} changed"
            )
            .as_str()
        ],
        "{stdout}"
    );
    let full = text(&run(dir.path(), &["-v", "check"]).stdout);
    let on_fixture: Vec<&str> = (results(&full).into_iter())
        .filter(|l| l.contains("| fixtures/kernel_unpacking/backup_tar_boot_files (benign) |"))
        .collect();
    let (rules, _) = full_counts(&full);
    assert!(rules >= 5, "{full}");
    assert_eq!(
        on_fixture.len(),
        rules,
        "every rule on that fixture:\n{full}"
    );
    assert_eq!(results(&stdout), on_fixture, "{stdout}");
    // Each rule's accepted snapshot, with only this fixture's block replayed, still matches.
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("check: ok. {rules} rules ({rules} replayed)")),
        "{stdout}"
    );
}

#[test]
fn a_changed_recording_selects_the_fixture_that_names_it() {
    let (dir, _repo) = repo();
    let recording = "fixtures/kernel_unpacking/backup_tar_boot_files.ndjson";
    let path = dir.path().join(recording);
    let body = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{body}\n")).unwrap();
    let out = run(dir.path(), &["-v", "test", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        selections(&stdout),
        [
            "selected fixture fixtures/kernel_unpacking/backup_tar_boot_files.toml (every rule replayed over it): its recording fixtures/kernel_unpacking/backup_tar_boot_files.ndjson changed"
        ],
        "{stdout}"
    );
}

#[test]
fn a_config_change_runs_everything() {
    let (dir, _repo) = repo();
    let config = dir.path().join("ruleforge.toml");
    let body = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{body}\n# tuned\n")).unwrap();
    let out = run(dir.path(), &["-v", "check", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        selections(&stdout),
        ["selected: everything (ruleforge.toml changed: the configuration)"],
        "{stdout}"
    );
    let full = text(&run(dir.path(), &["-v", "check"]).stdout);
    assert_eq!(results(&stdout), results(&full));
    let (rules, fixtures) = full_counts(&full);
    assert!(
        stdout.contains(&format!(
            "check: ok. {rules} rules ({rules} replayed), {fixtures} fixtures"
        )),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_change_that_affects_nothing_selects_nothing_and_says_so() {
    let (dir, _repo) = repo();
    std::fs::write(dir.path().join("NOTES.md"), "notes\n").unwrap();
    let out = run(dir.path(), &["-v", "check", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("not selecting: NOTES.md changed: no rule, fixture or snapshot reads it"),
        "{stdout}"
    );
    assert!(
        stdout.contains("selected: no rule or fixture (the repository-wide checks still run)"),
        "{stdout}"
    );
    assert!(results(&stdout).is_empty(), "{stdout}");
    assert!(
        stdout.contains("check: ok. 0 rules (0 replayed)"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_changed_snapshot_runs_its_rule() {
    let (dir, _repo) = repo();
    // A hand edit of an accepted snapshot (unstaged): the rule is replayed and the snapshot
    // compared again, so the edit cannot slip through.
    let snap = "snapshots/discovery_kernel_unpacking.snap";
    let path = dir.path().join(snap);
    let body = std::fs::read_to_string(&path).unwrap();
    let edited = body.replacen("alerts: ", "alerts: 1", 1);
    assert_ne!(edited, body, "{snap} has no alerts line; update this test");
    std::fs::write(&path, edited).unwrap();
    let out = run(dir.path(), &["-v", "check", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        selections(&stdout),
        [format!(
            "selected rule {KERNEL_UNPACKING}: its snapshot {snap} changed"
        )],
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[RT006]"), "{stdout}");
    // The full run fails on the same edit; its summary line still counts the fixtures.
    let full = text(&run(dir.path(), &["check"]).stdout);
    let (_, fixtures) = full_counts(&full.replace("check: FAILED. ", "check: ok. "));
    let replayed = results(&stdout);
    assert_eq!(
        replayed.len(),
        fixtures,
        "that rule over every fixture: {stdout}"
    );
    assert!(
        replayed
            .iter()
            .all(|l| l.contains("Kernel Image Unpacking from Boot Directory")),
        "{stdout}"
    );
}

#[test]
fn outside_a_repository_or_with_an_unknown_ref_it_exits_2() {
    let plain = scratch_copy();
    for cmd in ["check", "test", "lint"] {
        let out = run(plain.path(), &[cmd, "--changed-since", "main"]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("is not inside a git repository"),
            "{cmd}: {stderr}"
        );
        assert!(
            text(&out.stdout).is_empty(),
            "{cmd}: nothing may pass as checked"
        );
    }
    let (dir, _repo) = repo();
    let out = run(dir.path(), &["check", "--changed-since", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown revision \"no-such-branch\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_renamed_rule_moves_its_snapshot_and_a_deleted_one_leaves_no_orphan() {
    let (dir, _repo) = repo();
    let root = dir.path();
    let old = "rules/linux/credential_access_kallsyms_read.toml";
    let new = "rules/linux/credential_access_kallsyms_symbol_read.toml";
    std::fs::rename(root.join(old), root.join(new)).unwrap();
    edit(
        root,
        "fixtures/kernel_symbol_reads/attacker_kallsyms_root_shell.toml",
        "rule = \"credential_access_kallsyms_read\"",
        "rule = \"credential_access_kallsyms_symbol_read\"",
    );
    let out = run(root, &["-v", "check", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("selected rule {new}: {new} changed")),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "error[RT006]: alerts of \"Kernel Symbol Table Read via Command-Line Utility\" is new"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("error[RT007]: orphaned snapshot")
            && stdout.contains("snapshots/credential_access_kallsyms_read.snap"),
        "{stdout}"
    );
    // Accepting the changed-only run writes the new snapshot and removes the orphan.
    let accepted = run(root, &["test", "--changed-since", "base", "--accept"]);
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        text(&accepted.stdout)
    );
    assert!(
        !root
            .join("snapshots/credential_access_kallsyms_read.snap")
            .exists()
    );
    assert!(
        root.join("snapshots/credential_access_kallsyms_symbol_read.snap")
            .exists()
    );
    let full = run(root, &["check"]);
    assert_eq!(full.status.code(), Some(0), "{}", text(&full.stdout));

    // A deleted rule: its snapshot is reported as an orphan by the changed-only run.
    std::fs::remove_file(root.join(new)).unwrap();
    let out = run(root, &["check", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error[RT007]: orphaned snapshot")
            && stdout.contains("snapshots/credential_access_kallsyms_symbol_read.snap"),
        "{stdout}"
    );
}

/// The JSON finding lines of a run (its summary line left out).
fn findings(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.contains("\"kind\":\"summary\""))
        .map(String::from)
        .collect()
}

#[test]
fn a_fixture_only_false_positive_is_reported_as_the_full_run_reports_it() {
    let (dir, _repo) = repo();
    // The benign mkinitramfs recording's `file -L /boot/vmlinuz…` probe now runs under a parent
    // the rule does not exclude: a false positive and a snapshot diff, found by replaying every
    // rule over that one fixture.
    let recording = dir
        .path()
        .join("fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.ndjson");
    let body = std::fs::read_to_string(&recording).unwrap();
    let lines: Vec<String> = (body.lines().enumerate())
        .map(|(i, l)| {
            if i == 41 {
                assert!(l.contains("\"name\":\"mkinitramfs\",\"pid\":5470"));
                l.replace(
                    "\"name\":\"mkinitramfs\",\"pid\":5470",
                    "\"name\":\"kernel-prep\",\"pid\":5470",
                )
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&recording, lines.join("\n") + "\n").unwrap();
    let changed = run(
        dir.path(),
        &["check", "--changed-since", "base", "--format", "json"],
    );
    let full = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(changed.status.code(), Some(1));
    assert_eq!(full.status.code(), Some(1));
    let (changed, full) = (text(&changed.stdout), text(&full.stdout));
    assert!(
        changed.contains("\"code\":\"RT003\"") && changed.contains("\"code\":\"RT006\""),
        "{changed}"
    );
    assert_eq!(findings(&changed), findings(&full));
}

#[test]
fn templates_are_docs_work_and_etc_data_affects_everything() {
    let (dir, _repo) = repo();
    std::fs::create_dir_all(dir.path().join("docs-templates")).unwrap();
    std::fs::write(
        dir.path().join("docs-templates/rule.md.tera"),
        "{{ rule.name }}\n",
    )
    .unwrap();
    let out = run(dir.path(), &["-v", "test", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .contains("docs affected: docs-templates/rule.md.tera changed (`check` renders them)"),
        "{stdout}"
    );
    assert!(
        results(&stdout).is_empty(),
        "a template replays nothing: {stdout}"
    );

    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/version.lock.json"), "{}\n").unwrap();
    let out = run(dir.path(), &["-v", "test", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        selections(&stdout),
        [
            "selected: everything (etc/version.lock.json changed: configuration, version lock or schema data)"
        ],
        "{stdout}"
    );
}

/// RT018 findings (the docs did not render) in `check --format json` output.
fn docs_findings(stdout: &str) -> Vec<serde_json::Value> {
    (stdout.lines())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["code"] == "RT018")
        .collect()
}

#[test]
fn a_template_change_makes_check_render_the_docs() {
    let (dir, repo) = repo();
    // A template whose variable no rule has: it parses, and fails on the first page.
    std::fs::create_dir_all(dir.path().join("docs-templates")).unwrap();
    let template = dir.path().join("docs-templates/rule.md");
    std::fs::write(&template, "# {{ nmae }}\n").unwrap();
    let args = ["check", "--changed-since", "base", "--format", "json"];
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let found = docs_findings(&text(&out.stdout));
    assert_eq!(found.len(), 1, "{}", text(&out.stdout));
    assert_eq!(found[0]["file"], "docs-templates/rule.md");
    assert!(
        found[0]["message"].as_str().unwrap().contains("nmae"),
        "{}",
        found[0]
    );

    // Fixed, the same run renders them cleanly.
    std::fs::write(&template, "# {{ name }}\n").unwrap();
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // A broken template already on the base is not this change's work: a rule-only change does
    // not render the docs, and the full run (which always renders them) still finds it.
    std::fs::write(&template, "# {{ nmae }}\n").unwrap();
    let id = commit_all(&repo, "broken template");
    repo.branch("base", &repo.find_commit(id).unwrap(), true)
        .unwrap();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "implants are tuned against",
        "implants are tuned to evade",
    );
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(docs_findings(&text(&out.stdout)).is_empty());
    let full = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(full.status.code(), Some(1));
    assert_eq!(docs_findings(&text(&full.stdout)).len(), 1);
}

#[test]
fn lint_changed_since_lints_only_the_changed_rules() {
    let dir = scratch_copy();
    // The base already holds a lint error in one rule…
    edit(
        dir.path(),
        "rules/linux/credential_access_kallsyms_read.toml",
        "### Investigating Kernel Symbol Table Read via Command-Line Utility",
        "### Investigating Old Utility Name",
    );
    let repo = git2::Repository::init(dir.path()).unwrap();
    let id = commit_all(&repo, "base");
    repo.branch("base", &repo.find_commit(id).unwrap(), false)
        .unwrap();
    // …and the change touches another.
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "implants are tuned against",
        "implants are tuned to evade",
    );
    let changed = run(dir.path(), &["-v", "lint", "--changed-since", "base"]);
    let stdout = text(&changed.stdout);
    assert_eq!(changed.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("RF407"), "{stdout}");
    assert!(stdout.contains("lint: 1 rule, 0 errors"), "{stdout}");
    let full = run(dir.path(), &["lint"]);
    assert_eq!(full.status.code(), Some(1));
    assert!(text(&full.stdout).contains("error[RF407]"));
}
