//! Where the rule repository is, and what the paths typed on the command line mean.
//!
//! `-C DIR` has git's meaning: ruleforge behaves as if started in DIR. From there (or from the
//! working directory) the repository root is found upward, and the process moves into it, so
//! every path ruleforge prints is relative to the root. Paths the user typed are re-expressed
//! relative to the root first, so they keep meaning what they meant where they were typed.

use anyhow::{Context as _, Result};
use std::path::{Component, Path, PathBuf};

/// Applies `-C DIR`: every relative path on the command line is relative to DIR from now on.
pub fn enter(dir: Option<&Path>) -> Result<()> {
    if let Some(dir) = dir {
        std::env::set_current_dir(dir)
            .with_context(|| format!("-C {}: cannot enter directory", dir.display()))?;
    }
    Ok(())
}

/// Moves into the repository root above the working directory (see [`find_root`]) and returns
/// where the working directory was, relative to the root (empty at the root). Without a
/// repository above, the working directory is the root, as before.
pub fn enter_repository() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot determine the working directory")?;
    let Some(root) = find_root(&cwd) else {
        return Ok(PathBuf::new());
    };
    std::env::set_current_dir(&root)
        .with_context(|| format!("cannot enter the repository root {}", root.display()))?;
    Ok(cwd
        .strip_prefix(&root)
        .unwrap_or(Path::new(""))
        .to_path_buf())
}

/// The nearest ancestor of `start` (itself included) holding a `ruleforge.toml`; failing that,
/// the nearest holding a custom rules `_config.yaml` or a `rules/` directory.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let with = |test: fn(&Path) -> bool| start.ancestors().find(|d| test(d)).map(Path::to_path_buf);
    with(|d| d.join("ruleforge.toml").is_file())
        .or_else(|| with(|d| d.join("_config.yaml").is_file() || d.join("rules").is_dir()))
}

/// A path typed in directory `typed_in` (relative to the root), relative to the root.
/// Leading `..` climb out of `typed_in` textually: it is a real directory path (the process's
/// working directory), so this agrees with the file system.
pub fn rebase(path: &Path, typed_in: &Path) -> PathBuf {
    if path.is_absolute() || typed_in.as_os_str().is_empty() {
        return path.to_path_buf();
    }
    let mut base: Vec<Component> = typed_in.components().collect();
    let mut rest = path.components().peekable();
    while let Some(c) = rest.peek() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if base
                    .last()
                    .is_some_and(|b| matches!(b, Component::Normal(_))) =>
            {
                base.pop();
            }
            _ => break,
        }
        rest.next();
    }
    let out: PathBuf = base.into_iter().chain(rest).collect();
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_paths_are_rebased_onto_the_root() {
        let sub = Path::new("rules/linux");
        assert_eq!(
            rebase(Path::new("x.toml"), sub),
            Path::new("rules/linux/x.toml")
        );
        assert_eq!(
            rebase(Path::new("./x.toml"), sub),
            Path::new("rules/linux/x.toml")
        );
        assert_eq!(
            rebase(Path::new("../windows"), sub),
            Path::new("rules/windows")
        );
        assert_eq!(rebase(Path::new("../.."), sub), Path::new("."));
        assert_eq!(rebase(Path::new("../../../out"), sub), Path::new("../out"));
        assert_eq!(rebase(Path::new("."), sub), Path::new("rules/linux"));
        assert_eq!(rebase(Path::new("/abs/x"), sub), Path::new("/abs/x"));
        // At the root, paths are left exactly as typed.
        assert_eq!(rebase(Path::new("./x"), Path::new("")), Path::new("./x"));
    }

    #[test]
    fn the_root_is_the_nearest_config_then_the_nearest_rules_folder() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("rules/linux/rules")).unwrap();
        let deep = repo.join("rules/linux/rules");
        // Without a config, the nearest folder holding rules/ wins.
        assert_eq!(find_root(&deep), Some(repo.join("rules/linux")));
        std::fs::write(repo.join("ruleforge.toml"), "").unwrap();
        assert_eq!(find_root(&deep), Some(repo.clone()));
        assert_eq!(find_root(&repo), Some(repo.clone()));
    }
}
