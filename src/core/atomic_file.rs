//! Whole-or-nothing file output: a reader never sees a half-written file, and a failure leaves
//! whatever was at the destination untouched.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to a temporary file beside `dest`, syncs it, then renames it over `dest`.
/// The file is readable by all (0644), like any output a user shares.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with_mode(dest, bytes, 0o644)
}

/// As [`write_atomic`], but readable by the owner only (0600): private keys. The mode is set
/// before any byte is written, so the secret is never readable by others, even briefly.
pub fn write_atomic_private(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with_mode(dest, bytes, 0o600)
}

fn write_atomic_with_mode(dest: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".modelseal-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_existing_file_and_leaves_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.json");
        std::fs::write(&dest, b"old").unwrap();
        write_atomic(&dest, b"new").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_and_others_world_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = (dir.path().join("k.key"), dir.path().join("k.pub"));
        write_atomic_private(&key, b"secret").unwrap();
        write_atomic(&public, b"public").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&public), 0o644);
    }

    #[test]
    fn failure_leaves_destination_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("missing-dir").join("out.json");
        assert!(write_atomic(&dest, b"x").is_err());
        assert!(!dest.exists());
    }
}
