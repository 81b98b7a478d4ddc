//! The shipped workflows: `.github/workflows/ruleforge.yml` (the gate of a rule repository) and
//! `release.yml` (the binaries it installs). GitHub Actions cannot run here, so this checks what
//! can be checked: pull requests run `--changed-since` the base branch and pushes check
//! everything, the commands the workflow runs work (run as written on a git repository with an
//! `origin/<base>` branch) and write the reports the upload steps read, and the binary it
//! installs is one the release workflow builds.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::{project, scratch_copy, text};
use serde_json::Value;

fn workflow(name: &str) -> Value {
    let path = project().join(".github/workflows").join(name);
    yaml_serde::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn steps(wf: &Value) -> Vec<&Value> {
    wf["jobs"]["check"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .collect()
}

fn step<'a>(wf: &'a Value, name: &str) -> &'a Value {
    (steps(wf).into_iter())
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)))
        .unwrap_or_else(|| panic!("no step named {name:?}"))
}

/// A `run: >` command line as words (the workflow quotes only the base ref).
fn words(run: &str, base: &str) -> Vec<String> {
    run.replace("${{ github.base_ref }}", base)
        .split_whitespace()
        .map(|w| w.trim_matches('"').to_string())
        .collect()
}

#[test]
fn pull_requests_check_the_change_and_pushes_check_everything() {
    let wf = workflow("ruleforge.yml");
    assert!(wf["on"]["pull_request"].is_null() && wf["on"].get("pull_request").is_some());
    assert!(wf["on"]["push"].is_object());
    let checkout = steps(&wf)[0];
    assert_eq!(
        checkout["with"]["fetch-depth"], 0,
        "--changed-since needs the history"
    );
    let pr = step(&wf, "Lint, replay and compare snapshots (the change only)");
    assert_eq!(pr["if"], "github.event_name == 'pull_request'");
    let pr_run = pr["run"].as_str().unwrap();
    assert!(
        pr_run.contains("--changed-since \"origin/${{ github.base_ref }}\""),
        "{pr_run}"
    );
    let push = step(&wf, "Lint, replay and compare snapshots (everything)");
    assert_eq!(push["if"], "github.event_name != 'pull_request'");
    assert!(!push["run"].as_str().unwrap().contains("--changed-since"));
    // Both write the SARIF the upload step reads, also when the check found something.
    let upload = step(&wf, "Upload SARIF");
    assert_eq!(upload["uses"], "github/codeql-action/upload-sarif@v3");
    assert!(upload["if"].as_str().unwrap().starts_with("always()"));
    let sarif = upload["with"]["sarif_file"].as_str().unwrap();
    for s in [pr, push] {
        assert!(
            s["run"]
                .as_str()
                .unwrap()
                .contains(&format!("--report sarif={sarif}")),
            "{s}"
        );
    }
}

#[test]
fn the_workflow_commands_run_as_written_and_write_the_uploaded_reports() {
    let dir = scratch_copy();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("ruleforge test", "test@example.invalid").unwrap();
    let id = repo
        .commit(Some("HEAD"), &sig, &sig, "base", &tree, &[])
        .unwrap();
    // What actions/checkout with fetch-depth 0 leaves: the base branch as origin/<base>.
    repo.reference("refs/remotes/origin/main", id, false, "fetched")
        .unwrap();
    let wf = workflow("ruleforge.yml");
    for name in [
        "Lint, replay and compare snapshots (the change only)",
        "Lint, replay and compare snapshots (everything)",
    ] {
        let argv = words(step(&wf, name)["run"].as_str().unwrap(), "main");
        assert_eq!(argv[0], "ruleforge");
        for f in ["ruleforge.sarif", "ruleforge-junit.xml"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruleforge"))
            .args(&argv[1..])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let sarif: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("ruleforge.sarif")).unwrap(),
        )
        .unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        let junit = std::fs::read_to_string(dir.path().join("ruleforge-junit.xml")).unwrap();
        assert!(junit.contains("<testsuites"), "{name}");
    }
}

#[test]
fn the_installed_binary_is_one_the_release_workflow_builds() {
    let wf = workflow("ruleforge.yml");
    let cache = step(&wf, "Cache ruleforge");
    assert_eq!(cache["uses"], "actions/cache@v4");
    assert!(
        cache["with"]["key"]
            .as_str()
            .unwrap()
            .contains("vars.RULEFORGE_VERSION")
    );
    let install = step(&wf, "Install ruleforge (release binary)");
    assert_eq!(install["if"], "steps.cache.outputs.cache-hit != 'true'");
    let script = install["run"].as_str().unwrap();
    assert!(script.contains("gh release download"), "{script}");
    let asset = "ruleforge-$RULEFORGE_VERSION-x86_64-unknown-linux-gnu.tar.gz";
    assert!(script.contains(asset), "{script}");

    let release = workflow("release.yml");
    assert_eq!(release["on"]["push"]["tags"][0], "v*");
    let matrix = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap();
    let targets: Vec<&str> = matrix.iter().filter_map(|m| m["target"].as_str()).collect();
    assert!(targets.contains(&"x86_64-unknown-linux-gnu"), "{targets:?}");
    assert!(
        targets.iter().any(|t| t.ends_with("apple-darwin")),
        "{targets:?}"
    );
    let package = (release["jobs"]["build"]["steps"].as_array().unwrap().iter())
        .find(|s| s["name"] == "Package and upload")
        .unwrap()["run"]
        .as_str()
        .unwrap();
    // The asset name the install step downloads, and the binary at the archive's root.
    assert!(
        package.contains("name=\"ruleforge-$GITHUB_REF_NAME-${{ matrix.target }}.tar.gz\""),
        "{package}"
    );
    assert!(package.contains("release\" ruleforge"), "{package}");
}
