//! Reading input files whole, with a size bound: every parser gets bounded input.

use std::io::Read;
use std::path::Path;

/// Reads a whole file, refusing one larger than `max` bytes (the error says so, and the limit).
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the {max}-byte limit for this kind of file"),
        ));
    }
    Ok(bytes)
}
