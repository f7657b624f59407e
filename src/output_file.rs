//! Writing result files (hunt's reproducers, minimize's and triage's outputs) so that none is
//! ever lost or clobbered: [`write()`] writes a temporary file in the target's directory, syncs
//! it to disk, and only then gives it the final name. A crash, a kill or a full disk leaves the
//! old file (or none), never a truncated one. An existing file with *different* contents is
//! replaced only when forced; identical contents are left as they are.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What [`write()`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The file did not exist and now does.
    Created,
    /// The file existed with other contents and was replaced (forced).
    Replaced,
    /// The file existed with these very contents: nothing was written.
    Unchanged,
}

/// Writes `data` to `path` atomically: a temporary file in the same directory, written and
/// synced, then linked (or, when `force`, renamed) to `path`. An existing `path` with other
/// contents is an error unless `force`; one that is not a regular file always is.
pub fn write(path: &Path, data: &[u8], force: bool) -> Result<Written, String> {
    let shown = path.display();
    let existing = match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            return Err(format!(
                "cannot write {shown}: it exists and is not a regular file"
            ));
        }
        Ok(_) => true,
        Err(_) => false,
    };
    if existing {
        if same_contents(path, data) {
            return Ok(Written::Unchanged);
        }
        if !force {
            return Err(refused(path));
        }
    }
    let tmp = write_temporary(path, data)?;
    let result = if force {
        std::fs::rename(&tmp, path)
            .map(|()| {
                if existing {
                    Written::Replaced
                } else {
                    Written::Created
                }
            })
            .map_err(|e| format!("cannot write {shown}: {e}"))
    } else {
        link_new(&tmp, path, data)
    };
    let _ = std::fs::remove_file(&tmp);
    if result.is_ok() {
        sync_dir(path);
    }
    result
}

/// The error for an existing file with other contents.
fn refused(path: &Path) -> String {
    format!(
        "{} already exists with different contents: not overwritten (pass --force to replace \
         it, or choose another name)",
        path.display()
    )
}

/// Gives `tmp` the name `path` unless `path` exists (a hard link never replaces a file, so a
/// file created meanwhile is not clobbered either). File systems without hard links fall back
/// to a rename after one more look.
fn link_new(tmp: &Path, path: &Path, data: &[u8]) -> Result<Written, String> {
    match std::fs::hard_link(tmp, path) {
        Ok(()) => Ok(Written::Created),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if same_contents(path, data) {
                Ok(Written::Unchanged)
            } else {
                Err(refused(path))
            }
        }
        Err(_) if std::fs::symlink_metadata(path).is_err() => std::fs::rename(tmp, path)
            .map(|()| Written::Created)
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        Err(_) => Err(refused(path)),
    }
}

/// Whether the regular file `path` holds exactly `data`.
fn same_contents(path: &Path, data: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == data.len() as u64)
        && std::fs::read(path).is_ok_and(|d| d == data)
}

/// Writes and syncs `data` to a new temporary file beside `path`; returns its name.
fn write_temporary(path: &Path, data: &[u8]) -> Result<PathBuf, String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let shown = path.display();
    let name = path
        .file_name()
        .ok_or_else(|| format!("cannot write {shown}: not a file name"))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(data)?;
            f.sync_all()
        });
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(format!("cannot write {shown}: {e}"))
        }
    }
}

/// Syncs the directory of `path`, so that the new name survives a power cut (best effort).
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Creates the directory `dir` (and its parents) for output files; a clear error when `dir`
/// exists and is not a directory.
pub fn create_dir(dir: &Path) -> Result<(), String> {
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(format!(
            "cannot write into {}: it exists and is not a directory",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// `data` as lowercase hex, for printing a result that could not be saved (`xxd -r -p` turns
/// it back into the file).
pub fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("swapfuzz-out-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// The directory's entries other than `keep`: no temporary file is left behind.
    fn leftovers(d: &Path, keep: &[&str]) -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !keep.contains(&n.as_str()))
            .collect()
    }

    #[test]
    fn creates_keeps_identical_refuses_different_unless_forced() {
        let d = tmp("basic");
        let f = d.join("crash-1");
        assert_eq!(write(&f, b"abc", false), Ok(Written::Created));
        assert_eq!(std::fs::read(&f).unwrap(), b"abc");
        assert_eq!(write(&f, b"abc", false), Ok(Written::Unchanged));
        let e = write(&f, b"xyz", false).unwrap_err();
        assert!(e.contains("already exists") && e.contains("--force"), "{e}");
        assert_eq!(std::fs::read(&f).unwrap(), b"abc", "not clobbered");
        assert_eq!(write(&f, b"xyz", true), Ok(Written::Replaced));
        assert_eq!(std::fs::read(&f).unwrap(), b"xyz");
        assert!(leftovers(&d, &["crash-1"]).is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn errors_leave_nothing_behind() {
        let d = tmp("errors");
        let e = write(&d.join("no/such/dir/f"), b"abc", false).unwrap_err();
        assert!(e.contains("cannot write"), "{e}");
        let e = write(&d, b"abc", true).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let file = d.join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = create_dir(&file).unwrap_err();
        assert!(e.contains("not a directory"), "{e}");
        let e = write(&file.join("f"), b"abc", false).unwrap_err();
        assert!(e.contains("cannot write"), "{e}");
        assert!(leftovers(&d, &["file"]).is_empty());
        assert_eq!(hex(&[0, 0x1f, 0xff]), "001fff");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
