//! Writing files so that nothing is lost: every file ruleforge writes (snapshots, exports, docs
//! pages, reports) goes to a temporary file in the destination's directory, is flushed to disk
//! and renamed into place. A kill, a full disk or a file-size limit mid-write leaves the old file
//! or the new one, never a truncated one. A rename replaces a symlink planted at the destination
//! instead of writing through it.

use std::io::{self, Write as _};
use std::path::Path;

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
///
/// A character device or FIFO named as the destination (`--report json=/dev/null`) is written
/// to, not replaced: a rename would swap the device node for a file (as root, `/dev/full`
/// became a regular file and the run passed). Anything else that is not a regular file or a
/// symlink to one is refused, a symlink to a device or pipe (`/dev/stdout`) included: it is
/// neither written through nor replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(kind) = special(path)? {
        return match kind {
            Special::Stream => write_stream(path, bytes),
            Special::Refused(what) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "not a regular file ({what}): ruleforge neither writes through nor replaces it"
                ),
            )),
        };
    }
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

enum Special {
    /// A character device or FIFO, named directly: written to in place.
    Stream,
    /// Refused, with what it is.
    Refused(&'static str),
}

/// What is at `path` when it is neither missing, nor a regular file, nor a symlink to a regular
/// file (or to nothing).
fn special(path: &Path) -> io::Result<Option<Special>> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(m) => m,
    };
    if meta.is_file() {
        return Ok(None);
    }
    if meta.file_type().is_symlink() {
        return Ok(match std::fs::metadata(path) {
            Ok(target) if !target.is_file() && !target.is_dir() => Some(Special::Refused(
                "a symbolic link to a device, pipe or socket",
            )),
            _ => None,
        });
    }
    if meta.is_dir() {
        return Ok(Some(Special::Refused("a directory")));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_char_device() || t.is_fifo() {
            return Ok(Some(Special::Stream));
        }
        if t.is_block_device() {
            return Ok(Some(Special::Refused("a block device")));
        }
    }
    Ok(Some(Special::Refused("a socket or other special file")))
}

/// Writes to a device or FIFO the user named; a failed write (`/dev/full`) is an error.
fn write_stream(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(bytes)?;
    f.flush()
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

    /// A device node made for the test (`mknod` needs root).
    #[cfg(unix)]
    fn device(dir: &Path, name: &str, major_minor: (&str, &str)) -> Option<std::path::PathBuf> {
        let p = dir.join(name);
        let ok = std::process::Command::new("mknod")
            .arg(&p)
            .args(["c", major_minor.0, major_minor.1])
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(p)
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_to_not_replaced_and_a_full_one_fails() {
        use std::os::unix::fs::FileTypeExt as _;
        let dir = tempfile::tempdir().unwrap();
        let Some(full) = device(dir.path(), "full", ("1", "7")) else {
            // CI runs as root; elsewhere the case is reported, not passed silently.
            assert!(std::env::var_os("CI").is_none(), "mknod failed under CI");
            eprintln!("SKIPPED: mknod is not permitted here, the device cases did not run");
            return;
        };
        let err = write_atomic(&full, b"report").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28), "ENOSPC: {err}");
        let null = device(dir.path(), "null", ("1", "3")).unwrap();
        write_atomic(&null, b"report").unwrap();
        for p in [&full, &null] {
            assert!(
                std::fs::symlink_metadata(p)
                    .unwrap()
                    .file_type()
                    .is_char_device()
            );
        }
        // Nothing else appeared: no temporary was made.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_to_a_device_or_pipe_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let link = dir.path().join("out.json");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        let err = write_atomic(&link, b"x").unwrap_err();
        assert!(
            err.to_string().contains("symbolic link to a device"),
            "{err}"
        );
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let err = write_atomic(&sub, b"x").unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
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
