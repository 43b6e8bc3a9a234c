//! `backup` and `restore`: an artifact with its whole referrer tree (statements, signatures,
//! cosign `.sig`/`.att` tags) to an OCI image layout, or a `.tar` of one, and back — so an
//! air-gapped site moves a signed model with everything that vouches for it. Both are a copy
//! ([`ops::copy_report`]) with a layout on one side. The tar (read and written with the `tar`
//! crate) holds only the layout's own names (`oci-layout`, `index.json`, `blobs/sha256/<hex>`),
//! so unpacking one can write nowhere else.

use super::error::{OciError, Result};
use super::layout::OciLayout;
use super::manifest::Descriptor;
use super::ops::{self, CopyReport};
use super::reference::Selector;
use super::target::{ReadTarget, Target};
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// Whether `path` names a tar archive rather than a layout directory.
pub fn is_tar(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tar"))
}

/// Copies `manifest` from `src` (with its referrers and cosign tags unless `exclude_referrers`)
/// into a layout at `out`, tagged `tag`; a `.tar` `out` is written whole or not at all.
pub async fn backup<S: ReadTarget>(
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

const BLOCK: u64 = 512;

/// modelseal's own lock beside `index.json` (see [`OciLayout`]): a copy of a layout made with
/// `tar -C layout .` carries it, and unpacking skips it.
const INDEX_LOCK: &str = ".index.lock";

/// One archive member: its name in the tar and whether it is a directory.
enum Member {
    /// The layout root or `blobs/`, `blobs/sha256/`: made by unpack itself.
    Dir,
    /// `oci-layout` or `index.json`, written at that name.
    File(&'static str),
    /// A blob, `blobs/sha256/<64 hex>`.
    Blob(String),
    /// The layout's lock file, carried by a plain `tar` of a layout and not extracted.
    Lock,
}

/// What `name` (as stored, maybe `./`-prefixed as `tar -C layout .` writes it) is in a layout,
/// or `None` when it is no part of one.
fn member(name: &str) -> Option<Member> {
    let name = name.strip_prefix("./").unwrap_or(name);
    match name {
        "" | "." | "blobs" | "blobs/" | "blobs/sha256" | "blobs/sha256/" => Some(Member::Dir),
        "oci-layout" => Some(Member::File("oci-layout")),
        "index.json" => Some(Member::File("index.json")),
        INDEX_LOCK => Some(Member::Lock),
        n => n
            .strip_prefix("blobs/sha256/")
            .filter(|hex| is_hex64(hex))
            .map(|hex| Member::Blob(hex.to_string())),
    }
}

/// The layout's files in archive order (sorted, so the same layout gives the same tar).
fn layout_files(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut files = vec![
        ("index.json".to_string(), root.join("index.json")),
        ("oci-layout".to_string(), root.join("oci-layout")),
    ];
    let blobs = root.join("blobs/sha256");
    let mut names: Vec<String> = std::fs::read_dir(&blobs)
        .map_err(|e| OciError::io(&blobs, e))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| is_hex64(n))
        .collect();
    names.sort();
    files.extend(
        names
            .into_iter()
            .map(|n| (format!("blobs/sha256/{n}"), blobs.join(n))),
    );
    Ok(files)
}

fn is_hex64(n: &str) -> bool {
    n.len() == 64
        && n.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A header with nothing of the machine in it: mtime 0, uid/gid 0, no owner names, so the
/// same layout gives the same tar bytes.
fn fixed_header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h
}

/// Writes the layout at `root` as a tar at `out`: its directories, `index.json`, `oci-layout`
/// and its blobs in sorted order, every header fixed (mtime 0, uid/gid 0, mode 0644/0755), so
/// the same layout gives the same bytes. Blobs stream from disk.
pub fn pack(root: &Path, out: &Path) -> Result<()> {
    let file = std::fs::File::create(out).map_err(|e| OciError::io(out, e))?;
    let io = |e| OciError::io(out, e);
    let mut tar = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, file));
    for dir in ["blobs/", "blobs/sha256/"] {
        let mut h = fixed_header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut h, dir, std::io::empty()).map_err(io)?;
    }
    for (name, path) in layout_files(root)? {
        let f = std::fs::File::open(&path).map_err(|e| OciError::io(&path, e))?;
        let size = f.metadata().map_err(|e| OciError::io(&path, e))?.len();
        let mut h = fixed_header(tar::EntryType::Regular, 0o644, size);
        let before = tar.get_mut().stream_position().map_err(io)?;
        tar.append_data(&mut h, &name, f.take(size)).map_err(io)?;
        // The header already holds `size`: a file that shrank meanwhile would leave the data
        // short of it and every later header out of place.
        let after = tar.get_mut().stream_position().map_err(io)?;
        if after - before != BLOCK + size.div_ceil(BLOCK) * BLOCK {
            return Err(OciError::io(
                &path,
                std::io::Error::other("the file shrank while it was archived"),
            ));
        }
    }
    let file = tar
        .into_inner()
        .map_err(io)?
        .into_inner()
        .map_err(|e| OciError::io(out, e.into_error()))?;
    file.sync_all().map_err(io)
}

/// Unpacks a layout tar into the directory `dir` (made if missing; empty): only `oci-layout`,
/// `index.json`, `blobs/`, `blobs/sha256/` and `blobs/sha256/<64 hex>` as regular files and
/// directories, each name maybe `./`-prefixed as `tar -C layout .` writes it (the layout's own
/// `.index.lock` is skipped). Any other name, type (links, devices, GNU long names, PAX
/// headers), a bad checksum, a layout document past [`MAX_MANIFEST_BYTES`](super::target::MAX_MANIFEST_BYTES),
/// a name given twice or a missing end-of-archive marker refuses the archive. Blobs stream to
/// disk; their contents are checked later, by digest, as the copy reads them.
pub fn unpack(tar: &Path, dir: &Path) -> Result<()> {
    let bad = |reason: String| OciError::BadDocument {
        what: tar.display().to_string(),
        reason,
    };
    let io = |e| OciError::io(tar, e);
    let file = std::fs::File::open(tar).map_err(io)?;
    std::fs::create_dir_all(dir.join("blobs/sha256")).map_err(|e| OciError::io(dir, e))?;
    let mut archive = tar::Archive::new(std::io::BufReader::with_capacity(1 << 20, file));
    // Where the last member's data (with its padding) ends: the reader must have gone a block
    // past it, over the end-of-archive marker, or the archive was cut at a member boundary.
    let mut end = 0u64;
    // Raw entries: the crate would read a GNU long name or PAX header whole into memory, and
    // no layout name needs one.
    for entry in archive.entries().map_err(io)?.raw(true) {
        let mut entry = entry.map_err(|e| bad(format!("unreadable member header: {e}")))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.size();
        end = entry.raw_file_position() + size.div_ceil(BLOCK) * BLOCK;
        let kind = entry.header().entry_type();
        let refuse = |why: &str| bad(format!("holds '{name}', {why}"));
        let member =
            member(&name).ok_or_else(|| refuse("which is not part of an OCI image layout"))?;
        let target = match (member, kind) {
            (Member::Dir, tar::EntryType::Directory) => continue,
            (Member::Lock, tar::EntryType::Regular) => continue,
            (Member::File(file), tar::EntryType::Regular) => {
                if size > super::target::MAX_MANIFEST_BYTES as u64 {
                    return Err(refuse(&format!(
                        "of {size} bytes, larger than a layout document may be ({})",
                        super::target::MAX_MANIFEST_BYTES
                    )));
                }
                dir.join(file)
            }
            (Member::Blob(hex), tar::EntryType::Regular) => dir.join("blobs/sha256").join(hex),
            (_, kind) => {
                return Err(refuse(&format!(
                    "of type {kind:?}, where a layout holds only regular files and directories"
                )));
            }
        };
        let mut out = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(refuse("a second time"));
            }
            Err(e) => return Err(OciError::io(&target, e)),
        };
        let copied = std::io::copy(&mut entry, &mut out).map_err(|e| OciError::io(&target, e))?;
        if copied != size {
            return Err(refuse("which is cut short"));
        }
    }
    let read = archive.into_inner().stream_position().map_err(io)?;
    if read < end + BLOCK {
        return Err(bad("it ends before its end-of-archive marker".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-member archive whose name goes into the header as raw bytes, as a hostile tool
    /// would write it (the crate's own `set_path` refuses `..`).
    fn tar_with(name: &str, kind: tar::EntryType, body: &[u8]) -> Vec<u8> {
        let mut h = fixed_header(kind, 0o644, body.len() as u64);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        if kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        let mut b = tar::Builder::new(Vec::new());
        b.append(&h, body).unwrap();
        b.into_inner().unwrap()
    }

    fn layout_with_a_blob(root: &Path) -> String {
        OciLayout::open_or_create(root).unwrap();
        let hex = "ab".repeat(32);
        std::fs::write(root.join("blobs/sha256").join(&hex), vec![7u8; 1000]).unwrap();
        hex
    }

    fn assert_same_layout(a: &Path, b: &Path, hex: &str) {
        for n in ["oci-layout", "index.json", &format!("blobs/sha256/{hex}")] {
            assert_eq!(
                std::fs::read(a.join(n)).unwrap(),
                std::fs::read(b.join(n)).unwrap()
            );
        }
        OciLayout::open(b).unwrap();
    }

    #[test]
    fn a_layout_survives_pack_and_unpack() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let hex = layout_with_a_blob(&src);
        let tar = dir.path().join("b.tar");
        pack(&src, &tar).unwrap();
        let back = dir.path().join("back");
        unpack(&tar, &back).unwrap();
        assert_same_layout(&src, &back, &hex);
    }

    #[test]
    fn the_same_layout_packs_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        layout_with_a_blob(&src);
        let (one, two) = (dir.path().join("1.tar"), dir.path().join("2.tar"));
        pack(&src, &one).unwrap();
        // A later mtime on disk must not show in the archive.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(
            src.join("oci-layout"),
            std::fs::read(src.join("oci-layout")).unwrap(),
        )
        .unwrap();
        pack(&src, &two).unwrap();
        assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap());
    }

    #[test]
    fn a_layout_tarred_by_the_system_tar_command_unpacks() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("layout");
        let hex = layout_with_a_blob(&src);
        // What a layout modelseal has tagged into also holds.
        std::fs::write(src.join(INDEX_LOCK), b"").unwrap();
        let tar = dir.path().join("x.tar");
        let status = std::process::Command::new("tar")
            .arg("-cf")
            .arg(&tar)
            .arg("-C")
            .arg(&src)
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success());
        let back = dir.path().join("back");
        unpack(&tar, &back).unwrap();
        assert_same_layout(&src, &back, &hex);
        assert!(!back.join(INDEX_LOCK).exists());
    }

    #[test]
    fn an_archive_entry_outside_the_layout_names_is_refused() {
        use tar::EntryType as T;
        let dir = tempfile::tempdir().unwrap();
        let blob = format!("blobs/sha256/{}", "ab".repeat(32));
        for (name, kind) in [
            ("../x", T::Regular),
            ("../evil", T::Regular),
            ("/index.json", T::Regular),
            ("blobs/sha256/../../x", T::Regular),
            ("./blobs/sha256/../../x", T::Regular),
            ("blobs/sha256/abc", T::Regular),
            ("index.json", T::Symlink),
            ("index.json", T::Link),
            (blob.as_str(), T::Link),
            (blob.as_str(), T::Char),
            ("oci-layout", T::Fifo),
            ("blobs/sha256", T::Regular),
            (".index.lock", T::Symlink),
        ] {
            let tar = dir.path().join("t.tar");
            std::fs::write(&tar, tar_with(name, kind, b"x")).unwrap();
            let out = tempfile::tempdir().unwrap();
            let err = unpack(&tar, out.path()).expect_err(name).to_string();
            assert!(err.contains(&format!("'{name}'")), "{name}: {err}");
        }
        assert!(!dir.path().parent().unwrap().join("x").exists());
    }

    #[test]
    fn an_archive_cut_short_or_oversized_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("t.tar");
        let whole = tar_with("index.json", tar::EntryType::Regular, b"{}");
        // Cut at the member boundary: the end-of-archive marker is gone.
        std::fs::write(&tar, &whole[..1024]).unwrap();
        let out = tempfile::tempdir().unwrap();
        assert!(
            unpack(&tar, out.path())
                .unwrap_err()
                .to_string()
                .contains("end-of-archive")
        );
        // A header claiming an index.json past the document bound.
        let mut h = fixed_header(
            tar::EntryType::Regular,
            0o644,
            super::super::target::MAX_MANIFEST_BYTES as u64 + 1,
        );
        h.set_path("index.json").unwrap();
        h.set_cksum();
        let mut t = h.as_bytes().to_vec();
        t.extend_from_slice(&[0u8; 2048]);
        std::fs::write(&tar, t).unwrap();
        let out = tempfile::tempdir().unwrap();
        let err = unpack(&tar, out.path()).unwrap_err().to_string();
        assert!(
            err.contains("'index.json'") && err.contains("larger"),
            "{err}"
        );
    }
}
