//! Secret files on disk: created new with mode 0600 and never overwritten; read only when private.

use std::fs::{self, File, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::{CryptoError, Result};

/// Permission bits of every secret file hearth writes: owner read and write only.
pub(crate) const SECRET_FILE_MODE: u32 = 0o600;
/// Permission bits that must be clear on a secret file before hearth reads it.
const GROUP_OTHER_MODE_MASK: u32 = 0o077;

/// Writes `contents` to a new file at `path`, never replacing an existing one.
///
/// The bytes go to a temporary file beside `path` (mode 0600 from its creation), are
/// fsynced, and the file is then moved into place without replacement; the directory is
/// fsynced last. A crash leaves either no file at `path` or the whole one.
pub(crate) fn write_new_secret_file(path: &Path, contents: &[u8]) -> Result<()> {
    refuse_existing(path)?;
    let dir = parent_dir(path);
    let io_error = |action, source| CryptoError::FileIo { action, path: path.to_path_buf(), source };

    let mut temp = tempfile::Builder::new()
        .prefix(".hearth-key-")
        .suffix(".tmp")
        .permissions(Permissions::from_mode(SECRET_FILE_MODE))
        .tempfile_in(dir)
        .map_err(|e| io_error("create a temporary file for", e))?;
    // The umask may have cleared bits of the mode asked for; set exactly 0600.
    temp.as_file()
        .set_permissions(Permissions::from_mode(SECRET_FILE_MODE))
        .map_err(|e| io_error("set the mode of", e))?;
    temp.write_all(contents).map_err(|e| io_error("write", e))?;
    temp.as_file().sync_all().map_err(|e| io_error("fsync", e))?;
    temp.persist_noclobber(path).map_err(|e| match e.error.kind() {
        io::ErrorKind::AlreadyExists => CryptoError::KeyFileExists { path: path.to_path_buf() },
        _ => io_error("move into place", e.error),
    })?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error("fsync the directory of", e))
}

/// Fails with `KeyFileExists` when anything (even a dangling link) is at `path`.
pub(crate) fn refuse_existing(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(_) => Err(CryptoError::KeyFileExists { path: path.to_path_buf() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CryptoError::FileIo { action: "inspect", path: path.to_path_buf(), source: e }),
    }
}

/// The directory that holds `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Opens a secret file for reading after checking that it exists, is a regular file
/// and is private to its owner.
pub(crate) fn open_private(path: &Path) -> Result<File> {
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => CryptoError::KeyFileMissing { path: path.to_path_buf() },
        _ => CryptoError::FileIo { action: "open", path: path.to_path_buf(), source: e },
    })?;
    let meta =
        file.metadata().map_err(|e| CryptoError::FileIo { action: "inspect", path: path.to_path_buf(), source: e })?;
    if !meta.is_file() {
        return Err(CryptoError::KeyFileCorrupt { path: path.to_path_buf(), reason: "not a regular file".to_owned() });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & GROUP_OTHER_MODE_MASK != 0 {
        return Err(CryptoError::KeyFilePermissions { path: path.to_path_buf(), mode });
    }
    Ok(file)
}

/// Reads at most `bytes_max` bytes of `file` into zeroizing memory; a longer file is corrupt.
pub(crate) fn read_capped(file: File, path: &Path, bytes_max: usize) -> Result<Zeroizing<Vec<u8>>> {
    // Sized up front so the buffer never reallocates and leaves copies behind.
    let mut contents = Zeroizing::new(Vec::with_capacity(bytes_max + 1));
    file.take(bytes_max as u64 + 1).read_to_end(&mut contents).map_err(|e| CryptoError::FileIo {
        action: "read",
        path: path.to_path_buf(),
        source: e,
    })?;
    if contents.len() > bytes_max {
        return Err(CryptoError::KeyFileCorrupt {
            path: path.to_path_buf(),
            reason: format!("larger than {bytes_max} bytes"),
        });
    }
    Ok(contents)
}
