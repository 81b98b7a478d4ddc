//! `ruleforge docs --out DIR` replaces the site as a whole: nothing outside it is written
//! through a symlink, a failed run leaves the previous site, pages of deleted rules go, a
//! directory ruleforge did not create is never replaced, and a hostile template cannot exhaust
//! memory.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::*;
use std::collections::BTreeMap;
use std::path::Path;

fn docs(root: &Path, out: &Path) -> std::process::Output {
    run(
        root,
        &[
            "docs",
            "--pages",
            "markdown",
            "--out",
            out.to_str().unwrap(),
        ],
    )
}

fn ok(res: &std::process::Output) {
    assert_eq!(
        res.status.code(),
        Some(0),
        "{}{}",
        text(&res.stdout),
        text(&res.stderr)
    );
}

/// Every entry of a directory (not followed if a symlink) with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = if e.file_type().unwrap().is_symlink() {
                format!("-> {}", std::fs::read_link(e.path()).unwrap().display()).into_bytes()
            } else {
                std::fs::read(e.path()).unwrap()
            };
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// Names in `dir` left by an unfinished site swap.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ruleforge-docs-"))
        .collect()
}

#[cfg(unix)]
#[test]
fn docs_do_not_write_through_a_symlink_planted_in_the_site() {
    let dir = scratch_copy();
    let site = dir.path().join("site");
    ok(&docs(dir.path(), &site));
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "precious").unwrap();
    let page = site.join("discovery_kernel_unpacking.md");
    std::fs::remove_file(&page).unwrap();
    std::os::unix::fs::symlink(&precious, &page).unwrap();

    ok(&docs(dir.path(), &site));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&page).unwrap().is_file());
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains("Kernel Image Unpacking")
    );
}

#[test]
fn a_template_error_leaves_the_previous_site_byte_identical() {
    let dir = scratch_copy();
    let site = dir.path().join("site");
    ok(&docs(dir.path(), &site));
    let before = tree(&site);
    // The rule pages would change, and the index (rendered last) fails.
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "name = \"Kernel Image Unpacking from Boot Directory\"",
        "name = \"Kernel Image Unpacking (renamed)\"",
    );
    std::fs::create_dir(dir.path().join("docs-templates")).unwrap();
    std::fs::write(
        dir.path().join("docs-templates/index.md"),
        "# Rules\n{{ no_such_variable }}\n",
    )
    .unwrap();

    let res = docs(dir.path(), &site);
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("index.md"), "{stderr}");
    assert_eq!(tree(&site), before, "the previous site is untouched");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn the_page_of_a_deleted_rule_disappears() {
    let dir = scratch_copy();
    let site = dir.path().join("site");
    ok(&docs(dir.path(), &site));
    assert!(site.join("discovery_kernel_unpacking.md").is_file());
    std::fs::remove_file(dir.path().join(KERNEL_UNPACKING)).unwrap();

    ok(&docs(dir.path(), &site));
    assert!(!site.join("discovery_kernel_unpacking.md").exists());
    assert!(site.join("credential_access_kallsyms_read.md").is_file());
    assert!(
        !std::fs::read_to_string(site.join("index.md"))
            .unwrap()
            .contains("discovery_kernel_unpacking")
    );
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn a_non_empty_directory_ruleforge_did_not_create_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("notes.txt"), "mine").unwrap();
    let before = tree(&home);

    let res = docs(&project(), &home);
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refusing to replace"), "{stderr}");
    assert_eq!(tree(&home), before);
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

/// `docs` run on a scratch copy whose `docs-templates/rule.md` is `template`: the copy, the
/// site folder asked for, and the result.
fn docs_with_rule_template(
    template: &str,
) -> (tempfile::TempDir, std::path::PathBuf, std::process::Output) {
    let dir = scratch_copy();
    std::fs::create_dir(dir.path().join("docs-templates")).unwrap();
    std::fs::write(dir.path().join("docs-templates/rule.md"), template).unwrap();
    let site = dir.path().join("site");
    let res = docs(dir.path(), &site);
    (dir, site, res)
}

/// A user's template asking for a hundred billion elements is a template error, not an abort.
#[test]
fn a_huge_range_in_a_template_is_a_template_error() {
    let (_dir, site, res) =
        docs_with_rule_template("{% for i in range(end=100000000000) %}x{% endfor %}\n");
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("template rule.md") && stderr.contains("range"),
        "{stderr}"
    );
    assert!(!site.exists());
}

/// Nested loops within the per-call range limit still multiply: bounded per page.
#[test]
fn nested_ranges_in_a_template_are_bounded_per_page() {
    let (_dir, _site, res) = docs_with_rule_template(
        "{% for i in range(end=100000) %}{% for j in range(end=100000) %}{% endfor %}{% endfor %}\n",
    );
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("template rule.md"), "{stderr}");
}

/// A page that grows past the size limit stops rendering there (the output is capped while it
/// is produced, not after).
#[test]
fn a_page_past_the_size_limit_is_a_template_error() {
    // 1 KiB of the template's own text per iteration: over 64 MiB well before the loop ends
    // (text is not a value, so only the page cap stops it).
    let template = format!(
        "{{% for i in range(end=100000) %}}{}{{% endfor %}}\n",
        "0123456789abcdef".repeat(64)
    );
    let (_dir, site, res) = docs_with_rule_template(&template);
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("template rule.md") && stderr.contains("larger than"),
        "{stderr}"
    );
    assert!(!site.exists());
}

/// A value doubled in a loop (forty `set_global s = s ~ s` would be a terabyte) stops at the
/// page's value budget as a template error; the old site is left alone. Run under a 4 GB
/// address-space limit, so that a regression aborts this child instead of the machine's memory.
#[cfg(unix)]
#[test]
fn a_value_doubled_in_a_template_loop_is_a_template_error() {
    let dir = scratch_copy();
    let site = dir.path().join("site");
    ok(&docs(dir.path(), &site));
    let before = tree(&site);
    std::fs::create_dir(dir.path().join("docs-templates")).unwrap();
    std::fs::write(
        dir.path().join("docs-templates/rule.md"),
        "{% set_global s = \"ab\" %}{% for i in range(end=40) %}{% set_global s = s ~ s %}{% endfor %}{{ s }}\n",
    )
    .unwrap();
    let res = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 4000000; exec \"$@\"", "sh"])
        .arg(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(dir.path())
        .args(["docs", "--pages", "markdown", "--out"])
        .arg(&site)
        .output()
        .unwrap();
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("template rule.md") && stderr.contains("values grew past"),
        "{stderr}"
    );
    assert_eq!(tree(&site), before);
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

/// The HTML site (the default) is published the same way: a page planted as a symlink is
/// replaced, not written through, and the page of a deleted rule goes.
#[cfg(unix)]
#[test]
fn the_html_site_is_replaced_as_a_whole_too() {
    let dir = scratch_copy();
    let site = dir.path().join("site");
    let html = |root: &Path| run(root, &["docs", "--out", site.to_str().unwrap()]);
    ok(&html(dir.path()));
    let page = site.join("discovery_kernel_unpacking.html");
    assert!(
        page.is_file(),
        "{:?}",
        tree(&site).keys().collect::<Vec<_>>()
    );
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "precious").unwrap();
    std::fs::remove_file(&page).unwrap();
    std::os::unix::fs::symlink(&precious, &page).unwrap();
    ok(&html(dir.path()));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&page).unwrap().is_file());

    std::fs::remove_file(dir.path().join(KERNEL_UNPACKING)).unwrap();
    ok(&html(dir.path()));
    assert!(!page.exists());
    assert!(site.join("credential_access_kallsyms_read.html").is_file());
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}
