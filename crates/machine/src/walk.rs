//! A bounded walk of directory trees: a depth limit, a budget of directories
//! listed, dependency and cache folders skipped, symbolic links never
//! followed (no loops).

use std::ops::ControlFlow;

use rampart_disk::{DirEntry, EntryKind, FileTree};

use crate::MachineError;

/// Folders never descended into: vendored dependencies, caches, VCS data.
pub(crate) const SKIPPED_DIRS: [&str; 8] = [
    "node_modules",
    ".git",
    "__pycache__",
    "site-packages",
    "dist-packages",
    ".cache",
    "vendor",
    "proc",
];

/// Why a walk stopped before its end.
pub(crate) enum Stop {
    /// The directory budget ran out at this directory.
    Budget(String),
    /// The visitor asked to stop.
    Visitor,
}

/// Walks `root` (depth 0) down to `max_depth`, calling `visit` with each
/// regular file's path and entry. Unreadable directories become errors.
pub(crate) fn walk(
    tree: &dyn FileTree,
    root: &str,
    max_depth: usize,
    dirs_left: &mut usize,
    errors: &mut Vec<MachineError>,
    visit: &mut dyn FnMut(&str, &DirEntry) -> ControlFlow<()>,
) -> Result<(), Stop> {
    walk_dir(tree, root, 0, max_depth, dirs_left, errors, visit)
}

fn walk_dir(
    tree: &dyn FileTree,
    dir: &str,
    depth: usize,
    max_depth: usize,
    dirs_left: &mut usize,
    errors: &mut Vec<MachineError>,
    visit: &mut dyn FnMut(&str, &DirEntry) -> ControlFlow<()>,
) -> Result<(), Stop> {
    if depth > max_depth {
        return Ok(());
    }
    if *dirs_left == 0 {
        return Err(Stop::Budget(dir.to_owned()));
    }
    *dirs_left -= 1;
    let entries = match tree.read_dir(dir) {
        Ok(Some(entries)) => entries,
        Ok(None) => return Ok(()),
        Err(e) => {
            errors.push(MachineError::read(dir, e));
            return Ok(());
        }
    };
    for entry in &entries {
        let path = format!("{}/{}", dir.trim_end_matches('/'), entry.name);
        match entry.kind {
            EntryKind::Dir if !SKIPPED_DIRS.contains(&entry.name.as_str()) => {
                walk_dir(tree, &path, depth + 1, max_depth, dirs_left, errors, visit)?;
            }
            EntryKind::File if visit(&path, entry).is_break() => return Err(Stop::Visitor),
            _ => {}
        }
    }
    Ok(())
}
