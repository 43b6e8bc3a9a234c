//! Getting pulled files into an output directory safely, for `pull` and `pull --verify`:
//! titles are checked as a whole (safe, distinct, no file that is also a directory), blobs are
//! staged in a temporary directory inside the output directory, and the final move is
//! all-or-nothing: each destination is checked against the output directory right before its
//! rename, and any failure undoes every rename, overwrite and directory made so far.

use super::error::OciError;
use std::collections::{BTreeMap, HashSet};
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// Why files could not be pulled into place.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// Fetching from the target or a local file operation failed.
    #[error(transparent)]
    Oci(#[from] OciError),
    /// A layer's `org.opencontainers.image.title` is refused: empty, absolute or climbing out
    /// with `..` (unless traversal is allowed), or the same path as another layer's, or a file
    /// that another title needs as a directory.
    #[error("layer title '{title}' {reason}")]
    Title {
        /// The title as the manifest has it.
        title: String,
        /// Why it is refused, with the `--allow-path-traversal` hint where that would help.
        reason: String,
    },
    /// `pull --verify` without `--force` into an output directory that already has files.
    #[error(
        "{0}: the output directory is not empty; pull --verify into an empty directory, or use --force (the directory as it ends up is then verified as a whole)"
    )]
    NotEmpty(PathBuf),
    /// A file to write exists and `force` is off.
    #[error("{0}: already exists; use --force to overwrite it")]
    Exists(PathBuf),
    /// A destination cannot take the file, found right before its rename: it or a directory on
    /// its way is not what it must be (a directory where a file goes, a file where a directory
    /// goes), two layers land on it through a symlink, or a symlink leads outside the output
    /// directory.
    #[error("{path}: {reason}")]
    Destination {
        /// The destination file.
        path: PathBuf,
        /// Why it cannot be written.
        reason: String,
    },
    /// The model manifest could not be read or hashed against while pulling verified
    /// (`flows::pull_verified`).
    #[error(transparent)]
    Manifest(#[from] crate::core::manifest::ManifestError),
}

impl PullError {
    fn io(path: impl Into<PathBuf>, e: std::io::Error) -> Self {
        PullError::Oci(OciError::io(path, e))
    }
}

/// The result of staging and moving pulled files.
pub type Result<T> = std::result::Result<T, PullError>;

const TRAVERSAL_HINT: &str = "; use --allow-path-traversal to write it anyway";

/// A layer title as a path relative to the output directory, normalised (`a/./b`, `a//b` and
/// `a/b/` are `a/b`). Refused: empty, absolute, or climbing out with `..` — the last two unless
/// `allow_traversal` (oras's `--allow-path-traversal`; never with `--verify`).
pub fn title_path(title: &str, allow_traversal: bool) -> Result<PathBuf> {
    let refuse = |reason: &str| PullError::Title {
        title: title.into(),
        reason: reason.into(),
    };
    let hint = if allow_traversal { "" } else { TRAVERSAL_HINT };
    if title.is_empty() {
        return Err(refuse("is empty"));
    }
    let path = Path::new(title);
    let mut rel = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(n) => rel.push(n),
            Component::RootDir | Component::Prefix(_) if allow_traversal => rel.push(c),
            Component::ParentDir if allow_traversal => rel.push(c),
            Component::RootDir | Component::Prefix(_) => {
                return Err(refuse(&format!("is an absolute path{hint}")));
            }
            Component::ParentDir => {
                return Err(refuse(&format!(
                    "climbs out of the output directory with ..{hint}"
                )));
            }
        }
    }
    if rel.file_name().is_none() {
        return Err(refuse("names no file"));
    }
    Ok(rel)
}

/// Checks a whole set of titles: each as [`title_path`], none twice (after normalising), and
/// none a directory of another (a file `a` and a file `a/b` cannot both be written). Returns
/// the relative paths in the titles' order.
pub fn title_paths(titles: &[&str], allow_traversal: bool) -> Result<Vec<PathBuf>> {
    let paths = titles
        .iter()
        .map(|t| title_path(t, allow_traversal))
        .collect::<Result<Vec<_>>>()?;
    // Ordered by components, a path's descendants follow it directly.
    let mut seen: BTreeMap<&Path, &str> = BTreeMap::new();
    for (p, t) in paths.iter().zip(titles) {
        if let Some(first) = seen.insert(p, t) {
            return Err(PullError::Title {
                title: (*t).into(),
                reason: format!(
                    "is given to two layers (as '{first}' and '{t}'): one would silently replace the other"
                ),
            });
        }
    }
    let sorted: Vec<(&Path, &str)> = seen.into_iter().collect();
    for pair in sorted.windows(2) {
        let ((a, ta), (b, tb)) = (pair[0], pair[1]);
        if b.starts_with(a) {
            return Err(PullError::Title {
                title: (*ta).into(),
                reason: format!("is a file, and also a directory of layer '{tb}'"),
            });
        }
    }
    Ok(paths)
}

/// A staging directory inside the output directory (same file system: renames are atomic),
/// and what had to be made for the output directory itself (removed again on failure).
pub struct Stage {
    dir: Option<tempfile::TempDir>,
    /// The output directory, canonical.
    root: PathBuf,
    /// Directories made for the output directory, outermost first.
    made: Vec<PathBuf>,
}

impl Stage {
    /// Makes `out` if needed and a staging directory in it.
    pub fn new(out: &Path) -> Result<Stage> {
        let mut made = Vec::new();
        let mut probe = Some(out);
        while let Some(p) = probe {
            if p.as_os_str().is_empty() || std::fs::symlink_metadata(p).is_ok() {
                break;
            }
            made.push(p.to_path_buf());
            probe = p.parent();
        }
        made.reverse();
        std::fs::create_dir_all(out).map_err(|e| PullError::io(out, e))?;
        let root = std::fs::canonicalize(out).map_err(|e| PullError::io(out, e))?;
        let dir = tempfile::Builder::new()
            .prefix(STAGE_PREFIX)
            .tempdir_in(&root)
            .map_err(|e| PullError::io(&root, e))?;
        Ok(Stage {
            dir: Some(dir),
            root,
            made,
        })
    }

    /// The canonical output directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the `i`th blob is staged.
    pub fn file(&self, i: usize) -> PathBuf {
        self.dir().join(i.to_string())
    }

    /// Where the blob `digest` is downloaded before it is checked: a file named by the digest in
    /// [`PARTIAL_DIR`] of the output directory, kept when a pull fails so the next one resumes.
    /// The area is a real directory (never a symlink), made here if missing.
    pub fn partial(&self, digest: &str) -> std::result::Result<PathBuf, OciError> {
        let dir = self.root.join(PARTIAL_DIR);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(OciError::io(
                    &dir,
                    std::io::Error::other("the partial-download area is not a directory"),
                ));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(OciError::io(&dir, e)),
            },
            Err(e) => return Err(OciError::io(&dir, e)),
        }
        let name = digest.replace(':', "-");
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(OciError::BadDocument {
                what: digest.to_string(),
                reason: "not a digest".into(),
            });
        }
        Ok(dir.join(name))
    }

    /// Removes the partial-download area once nothing is left in it.
    pub fn partial_done(&self) {
        let _ = std::fs::remove_dir(self.root.join(PARTIAL_DIR));
    }

    /// The staging directory's name inside the output directory (to leave out of checks).
    pub fn name(&self) -> String {
        self.dir()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn dir(&self) -> &Path {
        self.dir.as_ref().expect("stage is live").path()
    }

    /// Moves every staged file (`(staged, relative destination)`) into place, all or nothing.
    /// An existing file is refused unless `force`, and then kept aside until [`Moved::keep`].
    /// Dropping the returned [`Moved`] without keeping it undoes everything.
    pub fn commit(
        self,
        files: &[(PathBuf, PathBuf)],
        allow_traversal: bool,
        force: bool,
    ) -> Result<Moved> {
        let mut moved = Moved {
            stage: Some(self),
            journal: Vec::new(),
            files: Vec::new(),
        };
        let mut landed = HashSet::new();
        for (i, (staged, rel)) in files.iter().enumerate() {
            moved.place(i, staged, rel, allow_traversal, force, &mut landed)?;
        }
        Ok(moved)
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
        for d in self.made.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// What was done to the output directory, in order, so it can be undone.
enum Step {
    MadeDir(PathBuf),
    /// An existing file (or link) moved aside before being overwritten.
    SetAside {
        original: PathBuf,
        aside: PathBuf,
    },
    Moved(PathBuf),
}

/// Files moved into place, not yet final: [`Moved::keep`] makes them so; dropping undoes them.
pub struct Moved {
    stage: Option<Stage>,
    journal: Vec<Step>,
    files: Vec<PathBuf>,
}

impl Moved {
    /// The files written, in the order given.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The staging directory's name inside the output directory.
    pub fn staging_name(&self) -> String {
        self.stage.as_ref().map(Stage::name).unwrap_or_default()
    }

    /// Makes the move final (overwritten files are dropped with the staging directory).
    pub fn keep(mut self) -> Vec<PathBuf> {
        self.journal.clear();
        if let Some(stage) = self.stage.as_mut() {
            stage.made.clear();
        }
        std::mem::take(&mut self.files)
    }

    /// Undoes every step, newest first: the output directory is left as it was.
    pub fn roll_back(self) {
        drop(self)
    }

    fn place(
        &mut self,
        i: usize,
        staged: &Path,
        rel: &Path,
        allow_traversal: bool,
        force: bool,
        landed: &mut HashSet<PathBuf>,
    ) -> Result<()> {
        let stage = self.stage.as_ref().expect("stage is live");
        let root = stage.root.clone();
        let aside = stage.dir().join(format!("aside-{i}"));
        let (parent, name) = split(rel)?;
        let traverses = rel.components().any(|c| !matches!(c, Component::Normal(_)));
        let parent = if allow_traversal && traverses {
            let dir = root.join(parent);
            let mut missing = Vec::new();
            let mut probe = Some(dir.as_path());
            while let Some(p) = probe {
                if std::fs::symlink_metadata(p).is_ok() {
                    break;
                }
                missing.push(p.to_path_buf());
                probe = p.parent();
            }
            std::fs::create_dir_all(&dir).map_err(|e| PullError::io(&dir, e))?;
            self.journal
                .extend(missing.into_iter().rev().map(Step::MadeDir));
            dir
        } else {
            resolve_parent(&root, parent, Some(&mut self.journal))?
        };
        let dest = parent.join(name);
        if !landed.insert(dest.clone()) {
            return Err(PullError::Destination {
                path: dest,
                reason:
                    "two layers land on this same file (through a symlink in the output directory)"
                        .into(),
            });
        }
        match std::fs::symlink_metadata(&dest) {
            Ok(m) if m.is_dir() => {
                return Err(PullError::Destination {
                    path: dest,
                    reason: "is a directory".into(),
                });
            }
            Ok(_) if !force => return Err(PullError::Exists(dest)),
            Ok(_) => {
                std::fs::rename(&dest, &aside).map_err(|e| PullError::io(&dest, e))?;
                self.journal.push(Step::SetAside {
                    original: dest.clone(),
                    aside,
                });
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(PullError::io(&dest, e)),
        }
        // Right before the rename: the directory it goes into is still inside the output
        // directory (a symlink planted meanwhile must not carry the file out).
        if !(allow_traversal && traverses) {
            let real = std::fs::canonicalize(&parent).map_err(|e| PullError::io(&parent, e))?;
            if !real.starts_with(&root) {
                return Err(leaves(&dest));
            }
        }
        std::fs::rename(staged, &dest).map_err(|e| PullError::io(&dest, e))?;
        self.journal.push(Step::Moved(dest.clone()));
        self.files.push(dest);
        Ok(())
    }
}

impl Drop for Moved {
    fn drop(&mut self) {
        for step in self.journal.drain(..).rev() {
            let _ = match step {
                Step::Moved(p) => std::fs::remove_file(p),
                Step::SetAside { original, aside } => std::fs::rename(aside, original),
                Step::MadeDir(d) => std::fs::remove_dir(d),
            };
        }
        // The staging directory goes, then what was made for the output directory (if empty).
        self.stage.take();
    }
}

fn split(rel: &Path) -> Result<(&Path, &std::ffi::OsStr)> {
    match (rel.parent(), rel.file_name()) {
        (Some(parent), Some(name)) => Ok((parent, name)),
        _ => Err(PullError::Title {
            title: rel.display().to_string(),
            reason: "names no file".into(),
        }),
    }
}

fn leaves(path: &Path) -> PullError {
    PullError::Destination {
        path: path.to_path_buf(),
        reason: "passes through a symlink that leaves the output directory; nothing was written"
            .into(),
    }
}

/// The real directory `rel` names under `root`, every component checked: a symlink must stay
/// inside `root`, a file on the way is refused. With a journal, missing directories are made
/// (and recorded); without, the walk stops at the first missing one (a check before download).
fn resolve_parent(root: &Path, rel: &Path, mut journal: Option<&mut Vec<Step>>) -> Result<PathBuf> {
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let real = std::fs::canonicalize(&cur).map_err(|_| leaves(&cur))?;
                if !real.starts_with(root) {
                    return Err(leaves(&cur));
                }
                if !real.is_dir() {
                    return Err(PullError::Destination {
                        path: cur,
                        reason: "is not a directory".into(),
                    });
                }
                cur = real;
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(PullError::Destination {
                    path: cur,
                    reason: "is a file, so it cannot be a directory of a pulled file".into(),
                });
            }
            Err(e) if e.kind() == ErrorKind::NotFound => match journal.as_deref_mut() {
                Some(journal) => {
                    std::fs::create_dir(&cur).map_err(|e| PullError::io(&cur, e))?;
                    journal.push(Step::MadeDir(cur.clone()));
                }
                None => return Ok(cur),
            },
            Err(e) => return Err(PullError::io(&cur, e)),
        }
    }
    Ok(cur)
}

/// Before downloading anything: would `rel` land safely under `out` (no symlink out, no file
/// in the way), and, unless `force`, without overwriting a file?
pub fn check_destination(out: &Path, rel: &Path, allow_traversal: bool, force: bool) -> Result<()> {
    let Ok(root) = std::fs::canonicalize(out) else {
        return Ok(()); // not there yet: nothing in the way
    };
    let traverses = rel.components().any(|c| !matches!(c, Component::Normal(_)));
    let dest = if allow_traversal && traverses {
        root.join(rel)
    } else {
        let (parent, name) = split(rel)?;
        resolve_parent(&root, parent, None)?.join(name)
    };
    match std::fs::symlink_metadata(&dest) {
        Ok(m) if m.is_dir() => Err(PullError::Destination {
            path: dest,
            reason: "is a directory".into(),
        }),
        Ok(_) if !force => Err(PullError::Exists(dest)),
        _ => Ok(()),
    }
}

/// How staging directories in the output directory begin.
const STAGE_PREFIX: &str = ".modelseal-pull-";

/// The directory in the output directory where blobs download before they are checked.
pub const PARTIAL_DIR: &str = ".modelseal-partial";

/// Whether `dir` exists and has anything in it besides what a killed pull leaves to be resumed:
/// its partial downloads, and its staging directory while still empty (files move into it
/// only once all are downloaded).
pub fn is_non_empty(dir: &Path) -> Result<bool> {
    let left_by_a_killed_pull = |e: &std::fs::DirEntry| {
        let name = e.file_name();
        name == std::ffi::OsStr::new(PARTIAL_DIR)
            || (name.to_string_lossy().starts_with(STAGE_PREFIX)
                && e.file_type().is_ok_and(|t| t.is_dir())
                && std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_none()))
    };
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.flatten().any(|e| !left_by_a_killed_pull(&e))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(PullError::io(dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_killed_pull_leaves_does_not_make_the_output_directory_non_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(PARTIAL_DIR)).unwrap();
        std::fs::write(dir.path().join(PARTIAL_DIR).join("sha256-00"), b"part").unwrap();
        std::fs::create_dir(dir.path().join(".modelseal-pull-abc123")).unwrap();
        assert!(!is_non_empty(dir.path()).unwrap());
        std::fs::write(dir.path().join(".modelseal-pull-abc123/0"), b"x").unwrap();
        assert!(is_non_empty(dir.path()).unwrap());
        std::fs::remove_file(dir.path().join(".modelseal-pull-abc123/0")).unwrap();
        std::fs::write(dir.path().join("planted.bin"), b"x").unwrap();
        assert!(is_non_empty(dir.path()).unwrap());
    }

    #[test]
    fn titles_are_normalised_and_checked_as_a_set() {
        assert_eq!(title_path("a/./b/", false).unwrap(), Path::new("a/b"));
        for bad in ["../x", "/etc/passwd", "a/../../x", "", ".", "a/.."] {
            assert!(title_path(bad, false).is_err(), "{bad}");
        }
        assert!(title_path("../x", true).is_ok());
        assert!(title_paths(&["a/b", "a/./b"], false).is_err());
        assert!(title_paths(&["a", "a/b"], false).is_err());
        assert!(title_paths(&["a/b", "c", "a"], false).is_err());
        assert!(title_paths(&["a", "a-b", "a.txt", "b/a"], false).is_ok());
    }

    #[test]
    fn a_symlink_out_of_the_output_directory_is_refused_before_and_at_the_move() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink("../outside", out.join("cache")).unwrap();
        let rel = Path::new("cache/x");
        assert!(check_destination(&out, rel, false, false).is_err());
        let stage = Stage::new(&out).unwrap();
        let staged = stage.file(0);
        std::fs::write(&staged, b"x").unwrap();
        let a = stage.file(1);
        std::fs::write(&a, b"a").unwrap();
        let moved = stage.commit(
            &[(a, PathBuf::from("a/b")), (staged, rel.to_path_buf())],
            false,
            false,
        );
        assert!(matches!(moved, Err(PullError::Destination { .. })));
        assert!(!dir.path().join("outside/x").exists());
        let mut left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["cache"], "rolled back, staging removed");
    }

    #[test]
    fn a_forced_overwrite_is_undone_on_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"old").unwrap();
        let stage = Stage::new(dir.path()).unwrap();
        let staged = stage.file(0);
        std::fs::write(&staged, b"new").unwrap();
        let moved = stage
            .commit(&[(staged, PathBuf::from("f"))], false, true)
            .unwrap();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"new");
        moved.roll_back();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
