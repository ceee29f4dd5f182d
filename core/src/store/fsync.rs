//! Making files and directories durable, on Unix and on Windows alike.
//!
//! The Unix way, `File::open(path)?.sync_all()`, fails on Windows twice over: its
//! `FlushFileBuffers` needs a handle with write access (a read-only one answers "Access
//! denied"), and a directory does not open as a file at all. Found when the 1C add-in's
//! Windows DLL (issue 14) created its first store: every front door on Windows needs this.

use std::fs::File;
use std::io;
use std::path::Path;

/// Open an existing file so that `sync_all`/`sync_data` work on it: read-only on Unix,
/// with write access (never truncating, never creating) on Windows.
pub(crate) fn open_for_sync(path: &Path) -> io::Result<File> {
    #[cfg(windows)]
    {
        std::fs::OpenOptions::new().write(true).open(path)
    }
    #[cfg(not(windows))]
    {
        File::open(path)
    }
}

/// Make a directory's entries (files created, renamed or removed in it) durable. Windows
/// has no directory sync through the standard library, and NTFS journals its metadata,
/// so there it does nothing.
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(windows)]
    {
        let _ = path;
        Ok(())
    }
    #[cfg(not(windows))]
    {
        File::open(path)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_and_its_directory_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, b"x").unwrap();
        open_for_sync(&path).unwrap().sync_all().unwrap();
        sync_dir(dir.path()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
        assert!(open_for_sync(&dir.path().join("missing")).is_err());
    }
}
