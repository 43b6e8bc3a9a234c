//! `backup` and `restore`: an artifact with its whole referrer tree (statements, signatures,
//! cosign `.sig`/`.att` tags) to an OCI image layout, or a `.tar` of one, and back — so an
//! air-gapped site moves a signed model with everything that vouches for it. Both are a copy
//! ([`ops::copy_report`]) with a layout on one side; the tar is plain ustar holding only the
//! layout's own names (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), so unpacking one can
//! write nowhere else.

use super::error::{OciError, Result};
use super::layout::OciLayout;
use super::manifest::Descriptor;
use super::ops::{self, CopyReport};
use super::reference::Selector;
use super::target::Target;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Whether `path` names a tar archive rather than a layout directory.
pub fn is_tar(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tar"))
}

/// Copies `manifest` from `src` (with its referrers and cosign tags unless `exclude_referrers`)
/// into a layout at `out`, tagged `tag`; a `.tar` `out` is written whole or not at all.
pub async fn backup<S: Target>(
    src: &S,
    manifest: &Descriptor,
    tag: &str,
    out: &Path,
    exclude_referrers: bool,
) -> Result<CopyReport> {
    if !is_tar(out) {
        let layout = OciLayout::open_or_create(out)?;
        return ops::copy_report(src, &layout, manifest, Some(tag), !exclude_referrers).await;
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let scratch = tempfile::Builder::new()
        .prefix(".modelseal-backup-")
        .tempdir_in(&parent)
        .map_err(|e| OciError::io(&parent, e))?;
    let layout = OciLayout::open_or_create(scratch.path())?;
    let report = ops::copy_report(src, &layout, manifest, Some(tag), !exclude_referrers).await?;
    let partial = scratch.path().with_extension("tar");
    pack(scratch.path(), &partial)?;
    std::fs::rename(&partial, out).map_err(|e| OciError::io(out, e))?;
    Ok(report)
}

/// The manifest a backup at `input` holds under `tag`, or its only tag (cosign tags aside).
async fn restore_source(layout: &OciLayout, tag: Option<&str>, input: &Path) -> Result<Descriptor> {
    if let Some(tag) = tag {
        return layout.resolve(&Selector::Tag(tag.to_string())).await;
    }
    let tags: Vec<String> = layout
        .tags()?
        .into_iter()
        .filter(|t| !(t.starts_with("sha256-") && (t.ends_with(".sig") || t.ends_with(".att"))))
        .collect();
    match tags.as_slice() {
        [only] => layout.resolve(&Selector::Tag(only.clone())).await,
        [] => Err(OciError::NotFound(format!(
            "{}: no tagged artifact",
            input.display()
        ))),
        many => Err(OciError::BadReference {
            reference: input.display().to_string(),
            reason: format!(
                "holds several artifacts ({}); name one as {}:TAG",
                many.join(", "),
                input.display()
            ),
        }),
    }
}

/// Copies the artifact of a backup at `input` (a layout or a `.tar` of one; `tag` picks one
/// when it holds several) with everything it carried into `dst`, tagged `dst_tag`.
pub async fn restore<D: Target>(
    input: &Path,
    tag: Option<&str>,
    dst: &D,
    dst_tag: Option<&str>,
    exclude_referrers: bool,
) -> Result<(Descriptor, CopyReport)> {
    let scratch;
    let dir = if is_tar(input) {
        scratch = tempfile::Builder::new()
            .prefix("modelseal-restore-")
            .tempdir()
            .map_err(|e| OciError::io(std::env::temp_dir(), e))?;
        unpack(input, scratch.path())?;
        scratch.path().to_path_buf()
    } else {
        input.to_path_buf()
    };
    let layout = OciLayout::open(&dir)?;
    let manifest = restore_source(&layout, tag, input).await?;
    let report = ops::copy_report(&layout, dst, &manifest, dst_tag, !exclude_referrers).await?;
    Ok((manifest, report))
}

const BLOCK: usize = 512;

/// One ustar header. Sizes past the 11 octal digits (8 GiB) use the base-256 form GNU tar and
/// every modern reader take.
fn header(name: &str, size: u64, dir: bool) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(if dir { b"0000755\0" } else { b"0000644\0" });
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size < 8u64.pow(11) {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    h[136..148].copy_from_slice(b"00000000000\0"); // mtime 0: the same backup, the same bytes
    h[156] = if dir { b'5' } else { b'0' };
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// The names a layout archive may hold, and whether each is a directory.
fn layout_entries(root: &Path) -> Result<Vec<(String, PathBuf, bool)>> {
    let mut entries = vec![
        ("oci-layout".to_string(), root.join("oci-layout"), false),
        ("index.json".to_string(), root.join("index.json"), false),
        ("blobs/".to_string(), root.join("blobs"), true),
        ("blobs/sha256/".to_string(), root.join("blobs/sha256"), true),
    ];
    let blobs = root.join("blobs/sha256");
    let mut names: Vec<String> = std::fs::read_dir(&blobs)
        .map_err(|e| OciError::io(&blobs, e))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| is_hex64(n))
        .collect();
    names.sort();
    for n in names {
        entries.push((format!("blobs/sha256/{n}"), blobs.join(&n), false));
    }
    Ok(entries)
}

fn is_hex64(n: &str) -> bool {
    n.len() == 64
        && n.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Writes the layout at `root` as a tar at `out` (sorted names, zero times: reproducible).
pub fn pack(root: &Path, out: &Path) -> Result<()> {
    let file = std::fs::File::create(out).map_err(|e| OciError::io(out, e))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let io = |e| OciError::io(out, e);
    for (name, path, dir) in layout_entries(root)? {
        if dir {
            w.write_all(&header(&name, 0, true)).map_err(io)?;
            continue;
        }
        let mut f = std::fs::File::open(&path).map_err(|e| OciError::io(&path, e))?;
        let size = f.metadata().map_err(|e| OciError::io(&path, e))?.len();
        w.write_all(&header(&name, size, false)).map_err(io)?;
        let copied = std::io::copy(&mut (&mut f).take(size), &mut w).map_err(io)?;
        if copied != size {
            return Err(OciError::io(
                &path,
                std::io::Error::other("the file shrank while it was archived"),
            ));
        }
        let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
        w.write_all(&vec![0u8; pad]).map_err(io)?;
    }
    w.write_all(&[0u8; 2 * BLOCK]).map_err(io)?;
    let file = w
        .into_inner()
        .map_err(|e| OciError::io(out, e.into_error()))?;
    file.sync_all().map_err(io)
}

fn field_size(h: &[u8; BLOCK]) -> Option<u64> {
    let f = &h[124..136];
    if f[0] & 0x80 != 0 {
        if f[..4].iter().any(|b| *b & 0x7f != 0) {
            return None;
        }
        return Some(u64::from_be_bytes(f[4..12].try_into().ok()?));
    }
    let text = std::str::from_utf8(f).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// Unpacks a layout tar into the empty directory `dir`: only `oci-layout`, `index.json`,
/// `blobs/`, `blobs/sha256/` and `blobs/sha256/<64 hex>`, regular files and directories; any
/// other name, type or a bad checksum refuses the archive. Blob contents are checked later, by
/// digest, as the copy reads them.
pub fn unpack(tar: &Path, dir: &Path) -> Result<()> {
    let bad = |reason: String| OciError::BadDocument {
        what: tar.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(tar).map_err(|e| OciError::io(tar, e))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    std::fs::create_dir_all(dir.join("blobs/sha256")).map_err(|e| OciError::io(dir, e))?;
    loop {
        let mut h = [0u8; BLOCK];
        r.read_exact(&mut h)
            .map_err(|_| bad("it ends before its end-of-archive marker".into()))?;
        if h.iter().all(|b| *b == 0) {
            return Ok(());
        }
        let stored = std::str::from_utf8(&h[148..156])
            .ok()
            .map(|t| t.trim_matches(|c: char| c == '\0' || c == ' '))
            .and_then(|t| u32::from_str_radix(t, 8).ok());
        let mut probe = h;
        probe[148..156].copy_from_slice(b"        ");
        let sum: u32 = probe.iter().map(|b| *b as u32).sum();
        if stored != Some(sum) {
            return Err(bad("a header has a wrong checksum".into()));
        }
        let end = h[..100].iter().position(|b| *b == 0).unwrap_or(100);
        let name = std::str::from_utf8(&h[..end])
            .map_err(|_| bad("a name is not UTF-8".into()))?
            .to_string();
        if h[345] != 0 {
            return Err(bad(format!(
                "{name}: prefixed names are not part of a layout"
            )));
        }
        let size = field_size(&h).ok_or_else(|| bad(format!("{name}: bad size")))?;
        let kind = h[156];
        let is_dir = kind == b'5';
        let allowed = match name.as_str() {
            "oci-layout" | "index.json" => kind == b'0' || kind == 0,
            "blobs/" | "blobs/sha256/" | "blobs" | "blobs/sha256" => is_dir,
            n => {
                (kind == b'0' || kind == 0) && n.strip_prefix("blobs/sha256/").is_some_and(is_hex64)
            }
        };
        if !allowed {
            return Err(bad(format!(
                "holds '{name}' (type {}), which is not part of an OCI image layout",
                kind as char
            )));
        }
        if is_dir {
            continue;
        }
        if (name == "oci-layout" || name == "index.json")
            && size > super::target::MAX_MANIFEST_BYTES as u64
        {
            return Err(bad(format!(
                "{name} is larger than a layout document may be"
            )));
        }
        let path = dir.join(&name);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| OciError::io(&path, e))?;
        let copied = std::io::copy(&mut (&mut r).take(size), &mut out)
            .map_err(|e| OciError::io(&path, e))?;
        if copied != size {
            return Err(bad(format!("{name} is cut short")));
        }
        let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
        let mut skip = vec![0u8; pad];
        r.read_exact(&mut skip)
            .map_err(|_| bad(format!("{name} is cut short")))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(name: &str, kind: u8, body: &[u8]) -> Vec<u8> {
        let mut h = header(name, body.len() as u64, kind == b'5');
        h[156] = kind;
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| *b as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut t = h.to_vec();
        t.extend_from_slice(body);
        t.resize(t.len().div_ceil(BLOCK) * BLOCK, 0);
        t.extend_from_slice(&[0u8; 2 * BLOCK]);
        t
    }

    #[test]
    fn a_layout_survives_pack_and_unpack() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        OciLayout::open_or_create(&src).unwrap();
        let hex = "ab".repeat(32);
        std::fs::write(src.join("blobs/sha256").join(&hex), vec![7u8; 1000]).unwrap();
        let tar = dir.path().join("b.tar");
        pack(&src, &tar).unwrap();
        let back = dir.path().join("back");
        unpack(&tar, &back).unwrap();
        for n in ["oci-layout", "index.json", &format!("blobs/sha256/{hex}")] {
            assert_eq!(
                std::fs::read(src.join(n)).unwrap(),
                std::fs::read(back.join(n)).unwrap()
            );
        }
    }

    #[test]
    fn an_archive_entry_outside_the_layout_names_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (name, kind) in [
            ("../evil", b'0'),
            ("blobs/sha256/../../x", b'0'),
            ("blobs/sha256/abc", b'0'),
            ("index.json", b'2'),
            (&*format!("blobs/sha256/{}", "ab".repeat(32)), b'1'),
        ] {
            let tar = dir.path().join("t.tar");
            std::fs::write(&tar, tar_with(name, kind, b"x")).unwrap();
            let out = tempfile::tempdir().unwrap();
            assert!(unpack(&tar, out.path()).is_err(), "{name}");
        }
    }
}
