//! Writing files so that nothing is lost: every file ruleforge writes (snapshots, exports, docs
//! pages, reports) goes to a temporary file in the destination's directory, is flushed to disk
//! and renamed into place. A kill, a full disk or a file-size limit mid-write leaves the old file
//! or the new one, never a truncated one. A rename replaces a symlink planted at the destination
//! instead of writing through it.

use std::io::{self, Write as _};
use std::path::Path;

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".ruleforge-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    set_mode(tmp.as_file(), path)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Creates `path`, which must not exist yet, with `bytes` and flushes it to disk. Used to fill a
/// fresh directory (a docs site before it is swapped in): nothing that is already there, a
/// planted symlink included, is followed or replaced.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// New files are readable by everyone (as `fs::write` would leave them under the usual umask);
/// a replaced file keeps its mode.
#[cfg(unix)]
fn set_mode(file: &std::fs::File, dest: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = match std::fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_file() => m.permissions().mode() & 0o7777,
        _ => 0o644,
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _dest: &Path) -> io::Result<()> {
    Ok(())
}

/// Makes a rename durable. Best effort: not every file system lets a directory be opened.
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.snap");
        std::fs::write(&p, "old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn write_new_neither_follows_nor_replaces_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        let link = dir.path().join("page.md");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let err = write_new(&link, b"page").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        write_new(&dir.path().join("new.md"), b"page").unwrap();
        assert_eq!(std::fs::read(dir.path().join("new.md")).unwrap(), b"page");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_destination_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let link = out.join("page.md");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        write_atomic(&link, b"page").unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "page");
    }
}
