//! Finding the files of a model, with model-signing's rules for what belongs to it.

use super::ManifestError;
use std::fs;
use std::path::{Path, PathBuf};

/// What to do with a symbolic link found inside the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SymlinkPolicy {
    /// Refuse it (model-signing's default).
    #[default]
    Refuse,
    /// Hash the target's bytes under the link's name, if the target lies inside the model.
    WithinModel,
    /// Also follow links that leave the model directory (e.g. a Hugging Face cache snapshot,
    /// whose files link to `../../blobs/`).
    Anywhere,
}

impl SymlinkPolicy {
    /// Whether links are followed at all (what a manifest records as `allow_symlinks`).
    pub fn allows_symlinks(self) -> bool {
        self != SymlinkPolicy::Refuse
    }
}

/// A relative path as a list of components: model-signing orders resources the way Python's
/// `PurePosixPath` compares, component by component (`a/b` < `a-b` < `a.txt`), which a plain
/// string sort gets wrong.
pub type Components = Vec<String>;

/// One file of the model, found by [`walk`].
#[derive(Debug, Clone)]
pub struct ModelFile {
    /// Path relative to the model root; empty for a single-file model (named `.`).
    pub components: Components,
    /// Where to read it from.
    pub path: PathBuf,
    /// Size when walked; hashing fails if it changes.
    pub size: u64,
}

impl ModelFile {
    /// The resource name: POSIX relative path, or `.` when the model is this one file.
    pub fn name(&self) -> String {
        if self.components.is_empty() {
            ".".to_string()
        } else {
            self.components.join("/")
        }
    }
}

/// Lists the files of the model at `root` (a directory or a single file), sorted in manifest order.
/// `ignore` holds root-relative paths; an ignored directory is not descended into.
pub fn walk(
    root: &Path,
    ignore: &[Components],
    symlinks: SymlinkPolicy,
) -> Result<Vec<ModelFile>, ManifestError> {
    let meta = fs::metadata(root).map_err(|e| ManifestError::io(root, e))?;
    if meta.is_file() {
        return Ok(vec![ModelFile {
            components: Vec::new(),
            path: root.to_path_buf(),
            size: meta.len(),
        }]);
    }
    if !meta.is_dir() {
        return Err(ManifestError::SpecialFile {
            path: root.to_path_buf(),
        });
    }
    let canonical_root = fs::canonicalize(root).map_err(|e| ManifestError::io(root, e))?;
    let mut walker = Walker {
        canonical_root,
        ignore,
        symlinks,
        files: Vec::new(),
    };
    walker.visit_dir(root, &mut Vec::new())?;
    let mut files = walker.files;
    files.sort_by(|a, b| a.components.cmp(&b.components));
    Ok(files)
}

struct Walker<'a> {
    canonical_root: PathBuf,
    ignore: &'a [Components],
    symlinks: SymlinkPolicy,
    files: Vec<ModelFile>,
}

impl Walker<'_> {
    fn visit_dir(&mut self, dir: &Path, rel: &mut Components) -> Result<(), ManifestError> {
        let entries = fs::read_dir(dir).map_err(|e| ManifestError::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ManifestError::io(dir, e))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                return Err(ManifestError::NonUtf8Name { path });
            };
            rel.push(name);
            if !is_ignored(rel, self.ignore) {
                self.visit_entry(&entry, path, rel)?;
            }
            rel.pop();
        }
        Ok(())
    }

    fn visit_entry(
        &mut self,
        entry: &fs::DirEntry,
        path: PathBuf,
        rel: &mut Components,
    ) -> Result<(), ManifestError> {
        let file_type = entry.file_type().map_err(|e| ManifestError::io(&path, e))?;
        if file_type.is_dir() {
            return self.visit_dir(&path, rel);
        }
        if file_type.is_file() {
            let size = entry
                .metadata()
                .map_err(|e| ManifestError::io(&path, e))?
                .len();
            self.files.push(ModelFile {
                components: rel.clone(),
                path,
                size,
            });
            return Ok(());
        }
        if file_type.is_symlink() {
            return self.visit_symlink(path, rel);
        }
        Err(ManifestError::SpecialFile { path })
    }

    fn visit_symlink(&mut self, path: PathBuf, rel: &Components) -> Result<(), ManifestError> {
        if self.symlinks == SymlinkPolicy::Refuse {
            return Err(ManifestError::SymlinkRefused { path });
        }
        let target = fs::canonicalize(&path).map_err(|e| ManifestError::io(&path, e))?;
        if self.symlinks == SymlinkPolicy::WithinModel && !target.starts_with(&self.canonical_root)
        {
            return Err(ManifestError::SymlinkEscapes { path, target });
        }
        let meta = fs::metadata(&target).map_err(|e| ManifestError::io(&path, e))?;
        if meta.is_dir() {
            return Err(ManifestError::SymlinkToDirectory { path });
        }
        if !meta.is_file() {
            return Err(ManifestError::SpecialFile { path });
        }
        self.files.push(ModelFile {
            components: rel.clone(),
            path,
            size: meta.len(),
        });
        Ok(())
    }
}

/// `PurePosixPath.is_relative_to`: the path equals an ignored path or lies under it.
fn is_ignored(rel: &[String], ignore: &[Components]) -> bool {
    ignore
        .iter()
        .any(|ig| !ig.is_empty() && rel.starts_with(ig))
}

/// Splits a relative POSIX path into components, dropping `.` and empty parts.
pub fn components_of(rel: &str) -> Components {
    rel.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(files: &[ModelFile]) -> Vec<String> {
        files.iter().map(ModelFile::name).collect()
    }

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, rel.as_bytes()).unwrap();
    }

    #[test]
    fn orders_by_path_components_like_python() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.txt", "a/b", "a-b", "B.txt", ".hidden", "é.txt"] {
            touch(dir.path(), f);
        }
        let files = walk(dir.path(), &[], SymlinkPolicy::Refuse).unwrap();
        assert_eq!(
            names(&files),
            [".hidden", "B.txt", "a/b", "a-b", "a.txt", "é.txt"]
        );
    }

    #[test]
    fn ignored_paths_match_whole_components_only() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            ".git/HEAD",
            ".gitignore",
            "sub/.gitignore",
            "notes/x",
            "notes2",
        ] {
            touch(dir.path(), f);
        }
        let ignore = vec![
            components_of(".git"),
            components_of(".gitignore"),
            components_of("notes"),
        ];
        let files = walk(dir.path(), &ignore, SymlinkPolicy::Refuse).unwrap();
        assert_eq!(names(&files), ["notes2", "sub/.gitignore"]);
    }

    #[test]
    fn single_file_model_is_named_dot() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "w.bin");
        let files = walk(&dir.path().join("w.bin"), &[], SymlinkPolicy::Refuse).unwrap();
        assert_eq!(names(&files), ["."]);
    }

    #[test]
    fn symlink_is_refused_by_default_and_named() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "real.bin");
        symlink("real.bin", dir.path().join("link.bin")).unwrap();
        let err = walk(dir.path(), &[], SymlinkPolicy::Refuse).unwrap_err();
        assert!(
            matches!(err, ManifestError::SymlinkRefused { ref path } if path.ends_with("link.bin"))
        );
        let files = walk(dir.path(), &[], SymlinkPolicy::WithinModel).unwrap();
        assert_eq!(names(&files), ["link.bin", "real.bin"]);
    }

    #[test]
    fn symlink_escaping_the_model_needs_explicit_permission() {
        let outside = tempfile::tempdir().unwrap();
        touch(outside.path(), "secret");
        let dir = tempfile::tempdir().unwrap();
        symlink(outside.path().join("secret"), dir.path().join("w.bin")).unwrap();
        let err = walk(dir.path(), &[], SymlinkPolicy::WithinModel).unwrap_err();
        assert!(matches!(err, ManifestError::SymlinkEscapes { .. }), "{err}");
        assert_eq!(
            names(&walk(dir.path(), &[], SymlinkPolicy::Anywhere).unwrap()),
            ["w.bin"]
        );
    }

    #[test]
    fn symlink_to_directory_is_refused_even_when_links_are_allowed() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "d/x");
        symlink("d", dir.path().join("alias")).unwrap();
        let err = walk(dir.path(), &[], SymlinkPolicy::WithinModel).unwrap_err();
        assert!(
            matches!(err, ManifestError::SymlinkToDirectory { .. }),
            "{err}"
        );
    }

    #[test]
    fn missing_model_is_not_found() {
        let err = walk(Path::new("/nonexistent/model"), &[], SymlinkPolicy::Refuse).unwrap_err();
        assert!(matches!(err, ManifestError::NotFound { .. }));
    }
}
