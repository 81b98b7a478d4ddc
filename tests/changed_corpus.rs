//! `--changed-since` on a git repository holding the Elastic corpus (2,000-odd rules) plus the
//! project's fixtures and example rules: a one-rule change runs only that rule, a configuration
//! change runs everything, as the selection printed by `-v` and the summary say. (The partial
//! replay of a fixture change, which needs accepted snapshots, is tested in changed_since.rs.)

mod common;
#[path = "common/scratch.rs"]
mod scratch;

use scratch::{copy_dir, project, run, text};

/// Fixture manifests under `dir` (the `.toml` files; recordings are `.ndjson`).
fn count_manifests(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            n += count_manifests(&path);
        } else if path.extension().is_some_and(|e| e == "toml") {
            n += 1;
        }
    }
    n
}

fn commit_all(repo: &git2::Repository, message: &str) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("ruleforge test", "test@example.invalid").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .unwrap()
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn on_the_corpus_a_one_rule_change_runs_that_rule_and_a_config_change_runs_all() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in ["rules", "rules_building_block"] {
        copy_dir(&corpus.join(d), &root.join(d));
    }
    copy_dir(&project().join("fixtures"), &root.join("fixtures"));
    // The example rules the fixtures expect that the corpus does not hold.
    let examples = root.join("rules/ruleforge_examples");
    std::fs::create_dir_all(&examples).unwrap();
    // Every project rule whose stem the corpus does not already hold (the corpus has its own
    // copy of the kernel-unpacking rule).
    let mut examples_copied = 0;
    for entry in std::fs::read_dir(project().join("rules/linux")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_owned();
        if !root.join("rules/linux").join(&file).exists() {
            std::fs::copy(&path, examples.join(&file)).unwrap();
            examples_copied += 1;
        }
    }
    assert!(
        examples_copied >= 4,
        "the project's example rules were not found"
    );
    let fixture_count = count_manifests(&root.join("fixtures"));
    std::fs::write(
        root.join("ruleforge.toml"),
        "rule_dirs = [\"rules\", \"rules_building_block\"]\nfixture_dirs = [\"fixtures\"]\n",
    )
    .unwrap();
    // Deprecated copies share file stems with live rules (RT013), which refuses `--accept`.
    std::fs::remove_dir_all(root.join("rules/_deprecated")).unwrap();
    // The accepted snapshot of the rule the change touches, as the base branch would hold it.
    let accept = run(
        root,
        &["test", "--rule", "discovery_kernel_unpacking", "--accept"],
    );
    assert!(
        root.join("snapshots/discovery_kernel_unpacking.snap")
            .is_file(),
        "{}",
        text(&accept.stdout)
    );
    let repo = git2::Repository::init(root).unwrap();
    let id = commit_all(&repo, "base");
    repo.branch("base", &repo.find_commit(id).unwrap(), false)
        .unwrap();

    let rule = "rules/linux/discovery_kernel_unpacking.toml";
    let text_of = std::fs::read_to_string(root.join(rule)).unwrap();
    assert!(
        text_of.contains("This rule detects kernel unpacking"),
        "the corpus rule changed; update this test"
    );
    std::fs::write(
        root.join(rule),
        text_of.replacen(
            "This rule detects kernel unpacking",
            "This rule finds kernel unpacking",
            1,
        ),
    )
    .unwrap();
    commit_all(&repo, "one rule");
    let out = run(root, &["-v", "check", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    let selected: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("selected"))
        .collect();
    assert_eq!(
        selected,
        [format!("selected rule {rule}: {rule} changed").as_str()],
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "check: ok. 1 rule (1 replayed), {fixture_count} fixtures"
        )),
        "{stdout}{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));

    let config = root.join("ruleforge.toml");
    let body = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{body}# tuned\n")).unwrap();
    // lint shares the selection with check; it shows "everything" without replaying 2,000 rules.
    let out = run(root, &["-v", "lint", "--changed-since", "base"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("selected: everything (ruleforge.toml changed: the configuration)"),
        "{stdout}"
    );
    let total = stdout
        .lines()
        .find_map(|l| l.strip_prefix("lint: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("the lint summary");
    assert!(total > 2000, "every rule linted: {total}");
}
