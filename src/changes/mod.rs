//! `--changed-since REF`: what changed between REF's merge base with `HEAD` and the work tree
//! (committed, staged, unstaged and untracked files), read with libgit2 (no `git` process).
//!
//! Fails closed: outside a git repository, with an unknown REF, without a common ancestor or in
//! a bare repository, [`since`] is an error, never "nothing changed". [`affected`] turns the
//! changed paths into the work they can affect, and [`partial`] lets a rule that did not change
//! be replayed over the changed fixtures only.

pub mod affected;
pub mod partial;

pub use affected::{Affected, Scope, affected};

use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    #[error(
        "--changed-since: {} is not inside a git repository ({message}); run without --changed-since to check everything",
        path.display()
    )]
    NotARepository { path: PathBuf, message: String },
    #[error(
        "--changed-since: the git repository at {} has no work tree (bare repository)",
        path.display()
    )]
    Bare { path: PathBuf },
    #[error(
        "--changed-since: unknown revision {reference:?} ({message}); on CI, fetch the base branch (actions/checkout: fetch-depth: 0)"
    )]
    UnknownRevision { reference: String, message: String },
    #[error("--changed-since: HEAD does not name a commit ({message})")]
    NoHead { message: String },
    #[error(
        "--changed-since: {reference:?} and HEAD have no common ancestor ({message}); a shallow clone lacks the history (fetch-depth: 0)"
    )]
    NoMergeBase { reference: String, message: String },
    #[error(
        "--changed-since: the rule repository {} is outside the git work tree {}",
        root.display(),
        workdir.display()
    )]
    OutsideWorkTree { root: PathBuf, workdir: PathBuf },
    #[error("--changed-since: {context}: {message}")]
    Git {
        context: &'static str,
        message: String,
    },
}

fn git(context: &'static str) -> impl Fn(git2::Error) -> ChangesError {
    move |e| ChangesError::Git {
        context,
        message: e.message().to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    /// Renamed (or moved) from this path, relative to the rule repository root.
    Renamed {
        from: PathBuf,
    },
}

/// One changed file, its path relative to the rule repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: PathBuf,
    pub kind: ChangeKind,
}

/// What changed since the merge base.
#[derive(Debug, Clone)]
pub struct Changes {
    pub reference: String,
    /// The merge base of REF and HEAD (full hex id).
    pub base: String,
    pub changes: Vec<Change>,
    /// Changed files of the git repository outside the rule repository (not ours to check).
    pub outside: usize,
}

/// The changes between the merge base of `reference` and `HEAD`, and the work tree of the git
/// repository holding `root` (the rule repository root, which may be a folder of it).
pub fn since(root: &Path, reference: &str) -> Result<Changes, ChangesError> {
    let abs_root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let repo = git2::Repository::discover(&abs_root).map_err(|e| ChangesError::NotARepository {
        path: abs_root.clone(),
        message: e.message().to_string(),
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| ChangesError::Bare {
            path: repo.path().to_path_buf(),
        })?
        .to_path_buf();
    let prefix = prefix_in_workdir(&abs_root, &workdir)?;
    let base = merge_base(&repo, reference)?;
    let tree = base.tree().map_err(git("reading the merge base's tree"))?;
    let mut opts = git2::DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_typechange(true);
    let mut diff = repo
        .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
        .map_err(git("comparing the merge base with the work tree"))?;
    let mut find = git2::DiffFindOptions::new();
    find.renames(true).for_untracked(true);
    diff.find_similar(Some(&mut find))
        .map_err(git("finding renamed files"))?;
    let mut changes = Vec::new();
    let mut outside = 0;
    for delta in diff.deltas() {
        let new = delta.new_file().path().map(|p| relative(&prefix, p));
        let old = delta.old_file().path().map(|p| relative(&prefix, p));
        let kind = match delta.status() {
            git2::Delta::Added | git2::Delta::Untracked => ChangeKind::Added,
            git2::Delta::Deleted => ChangeKind::Deleted,
            git2::Delta::Renamed => match &old {
                Some(Some(from)) => ChangeKind::Renamed { from: from.clone() },
                // Moved in from outside the rule repository: new here.
                _ => ChangeKind::Added,
            },
            git2::Delta::Unmodified | git2::Delta::Ignored => continue,
            _ => ChangeKind::Modified,
        };
        let path = if kind == ChangeKind::Deleted {
            old
        } else {
            new
        };
        match (path.flatten(), kind) {
            (Some(path), kind) => changes.push(Change { path, kind }),
            // Moved out of the rule repository: deleted here.
            (None, ChangeKind::Renamed { from }) => changes.push(Change {
                path: from,
                kind: ChangeKind::Deleted,
            }),
            (None, _) => outside += 1,
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Changes {
        reference: reference.to_string(),
        base: base.id().to_string(),
        changes,
        outside,
    })
}

fn merge_base<'r>(
    repo: &'r git2::Repository,
    reference: &str,
) -> Result<git2::Commit<'r>, ChangesError> {
    let unknown = |e: git2::Error| ChangesError::UnknownRevision {
        reference: reference.to_string(),
        message: e.message().to_string(),
    };
    let theirs = repo
        .revparse_single(reference)
        .map_err(unknown)?
        .peel_to_commit()
        .map_err(unknown)?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| ChangesError::NoHead {
            message: e.message().to_string(),
        })?;
    let base = repo
        .merge_base(theirs.id(), head.id())
        .map_err(|e| ChangesError::NoMergeBase {
            reference: reference.to_string(),
            message: e.message().to_string(),
        })?;
    repo.find_commit(base)
        .map_err(git("reading the merge base commit"))
}

/// Where the rule repository root lies inside the git work tree.
fn prefix_in_workdir(abs_root: &Path, workdir: &Path) -> Result<PathBuf, ChangesError> {
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let (root, wd) = (canon(abs_root), canon(workdir));
    root.strip_prefix(&wd)
        .map(Path::to_path_buf)
        .map_err(|_| ChangesError::OutsideWorkTree {
            root: abs_root.to_path_buf(),
            workdir: workdir.to_path_buf(),
        })
}

/// A work-tree path relative to the rule repository root; `None` when it lies outside it.
fn relative(prefix: &Path, path: &Path) -> Option<PathBuf> {
    path.strip_prefix(prefix).ok().map(Path::to_path_buf)
}

/// `path` without `.` components, for comparing configured paths with git's.
pub(crate) fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}
