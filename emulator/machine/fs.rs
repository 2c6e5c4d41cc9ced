//! The emulated disk: files and folders by case-insensitive Windows path.

use std::collections::BTreeMap;

/// Normalises a Windows path for comparison: `/` to `\`, no trailing `\`, lower case.
fn key(path: &str) -> String {
    path.trim().replace('/', "\\").trim_end_matches('\\').to_ascii_lowercase()
}

/// Joins a folder and a relative path with `\`.
pub fn join(dir: &str, rel: &str) -> String {
    let rel = rel.replace('/', "\\");
    format!("{}\\{}", dir.trim_end_matches('\\'), rel.trim_start_matches('\\'))
}

/// One file or folder: its path as written, whether it is a folder, and a file's text.
#[derive(Debug, Clone, Default)]
struct Entry {
    path: String,
    dir: bool,
    text: String,
    /// Whether the text was ever written (a file that only exists has none to model).
    written: bool,
    /// When it was created or last written, in virtual seconds (HTTP-25's Last-Modified).
    modified: u64,
}

/// Files and folders present on the emulated disk; files keep their text (`>`, `type`, batch files).
#[derive(Debug, Clone, Default)]
pub struct FileSystem {
    /// Lower-cased path -> entry.
    entries: BTreeMap<String, Entry>,
    /// Moves on every change, so whatever was compiled from the disk knows it is stale.
    version: u64,
    /// The virtual clock, stamped on what is created or written.
    now: u64,
}

impl FileSystem {
    /// Sets the virtual time stamped on files created or written from now on.
    pub fn set_now(&mut self, now: u64) {
        self.now = now;
    }

    /// When the file or folder at `path` was created or last written (virtual seconds).
    pub fn modified(&self, path: &str) -> Option<u64> {
        self.entries.get(&key(path)).map(|e| e.modified)
    }

    /// A number that changes whenever a file or folder is created, written or deleted.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether a file or folder exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.entries.contains_key(&key(path))
    }

    /// Whether `path` is an existing file.
    pub fn is_file(&self, path: &str) -> bool {
        self.entries.get(&key(path)).is_some_and(|e| !e.dir)
    }

    /// Whether `path` is an existing folder.
    pub fn is_dir(&self, path: &str) -> bool {
        self.entries.get(&key(path)).is_some_and(|e| e.dir)
    }

    /// Creates a folder and its parents; returns false if it existed.
    pub fn create_dir(&mut self, path: &str) -> bool {
        let k = key(path);
        if self.entries.contains_key(&k) {
            return false;
        }
        if let Some(idx) = path.trim_end_matches('\\').rfind('\\') {
            let parent = &path[..idx];
            if parent.len() > 2 {
                self.create_dir(parent);
            }
        }
        let modified = self.now;
        self.entries.insert(
            k,
            Entry { path: path.trim_end_matches('\\').to_string(), dir: true, modified, ..Entry::default() },
        );
        self.version += 1;
        true
    }

    /// Creates a file (and its folder); returns false if it existed.
    pub fn create_file(&mut self, path: &str) -> bool {
        let k = key(path);
        if self.entries.contains_key(&k) {
            return false;
        }
        if let Some(idx) = path.rfind('\\') {
            self.create_dir(&path[..idx]);
        }
        let modified = self.now;
        self.entries.insert(k, Entry { path: path.to_string(), dir: false, modified, ..Entry::default() });
        self.version += 1;
        true
    }

    /// A file's text, `None` when `path` is not a file.
    pub fn read(&self, path: &str) -> Option<&str> {
        self.entries.get(&key(path)).filter(|e| !e.dir).map(|e| e.text.as_str())
    }

    /// Writes (or with `append`, adds to) a file's text, creating the file; returns false when
    /// `path` is a folder or its parent folder does not exist.
    pub fn write(&mut self, path: &str, text: &str, append: bool) -> bool {
        let parent_ok = match path.trim_end_matches('\\').rfind('\\') {
            Some(idx) if idx > 2 => self.is_dir(&path[..idx]),
            _ => true,
        };
        if !parent_ok || self.is_dir(path) {
            return false;
        }
        let e = self.entries.entry(key(path)).or_insert_with(|| Entry { path: path.to_string(), ..Entry::default() });
        if !append {
            e.text.clear();
        }
        e.text.push_str(text);
        e.written = true;
        e.modified = self.now;
        self.version += 1;
        true
    }

    /// The path of an entry with the case stored on disk.
    pub fn stored_case(&self, path: &str) -> Option<&str> {
        self.entries.get(&key(path)).map(|e| e.path.as_str())
    }

    /// Writes a text file (creating it and its folder); returns false if it existed before.
    pub fn write_file(&mut self, path: &str, text: &str) -> bool {
        let created = self.create_file(path);
        self.write(path, text, false);
        created
    }

    /// The text of a file whose contents were written (by a step, a redirection or an export),
    /// `None` for a file that only exists.
    pub fn read_file(&self, path: &str) -> Option<&str> {
        self.entries.get(&key(path)).filter(|e| !e.dir && e.written).map(|e| e.text.as_str())
    }

    /// Deletes a file or a folder with everything in it; returns whether anything went.
    pub fn delete(&mut self, path: &str) -> bool {
        let k = key(path);
        let prefix = format!("{k}\\");
        let before = self.entries.len();
        self.entries.retain(|e, _| e != &k && !e.starts_with(&prefix));
        self.version += 1;
        before != self.entries.len()
    }

    /// Every file and folder as (path as written, is a folder), in case-insensitive path order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, bool)> {
        self.entries.values().map(|e| (e.path.as_str(), e.dir))
    }

    /// Every file and folder as (path as written, is a folder, when last written), in order.
    pub fn entries_timed(&self) -> impl Iterator<Item = (&str, bool, u64)> {
        self.entries.values().map(|e| (e.path.as_str(), e.dir, e.modified))
    }

    /// The entries directly inside folder `dir`, as written, in order.
    pub fn list(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{}\\", key(dir));
        self.entries
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('\\'))
            .map(|(_, e)| e.path.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_folders() {
        let mut fs = FileSystem::default();
        assert!(fs.create_file("C:\\Inetpub\\wwwroot\\Default.aspx"));
        assert!(fs.is_dir("c:\\inetpub\\WWWROOT"));
        assert!(fs.is_file("C:/Inetpub/wwwroot/default.ASPX"));
        assert!(!fs.create_file("c:\\inetpub\\wwwroot\\default.aspx"));
        assert_eq!(fs.list("C:\\Inetpub"), ["C:\\Inetpub\\wwwroot"]);
        assert!(fs.delete("C:\\Inetpub\\wwwroot"));
        assert!(!fs.exists("C:\\Inetpub\\wwwroot\\Default.aspx"));
        assert!(fs.is_dir("C:\\Inetpub"));
        assert_eq!(join("C:\\a\\", "b/c.txt"), "C:\\a\\b\\c.txt");
    }
}
