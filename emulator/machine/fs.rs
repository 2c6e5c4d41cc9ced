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

/// Files and folders present on the emulated disk.
#[derive(Debug, Clone, Default)]
pub struct FileSystem {
    /// Lower-cased path -> (path as written, is a folder).
    entries: BTreeMap<String, (String, bool)>,
    /// Moves on every change, so whatever was compiled from the disk knows it is stale.
    version: u64,
    /// Lower-cased path -> text, for the files whose contents iisim writes (an exported MetaBase.xml).
    contents: BTreeMap<String, String>,
}

impl FileSystem {
    /// A number that changes whenever a file or folder is created or deleted.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether a file or folder exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.entries.contains_key(&key(path))
    }

    /// Whether `path` is an existing file.
    pub fn is_file(&self, path: &str) -> bool {
        matches!(self.entries.get(&key(path)), Some((_, false)))
    }

    /// Whether `path` is an existing folder.
    pub fn is_dir(&self, path: &str) -> bool {
        matches!(self.entries.get(&key(path)), Some((_, true)))
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
        self.entries.insert(k, (path.trim_end_matches('\\').to_string(), true));
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
        self.entries.insert(k, (path.to_string(), false));
        self.version += 1;
        true
    }

    /// Writes a text file (creating it and its folder); returns false if it existed before.
    pub fn write_file(&mut self, path: &str, text: &str) -> bool {
        let created = self.create_file(path);
        self.contents.insert(key(path), text.to_string());
        created
    }

    /// The text of a file iisim wrote, if any.
    pub fn read_file(&self, path: &str) -> Option<&str> {
        self.contents.get(&key(path)).map(String::as_str)
    }

    /// Deletes a file or a folder with everything in it; returns whether anything went.
    pub fn delete(&mut self, path: &str) -> bool {
        let k = key(path);
        let prefix = format!("{k}\\");
        let before = self.entries.len();
        self.contents.retain(|e, _| e != &k && !e.starts_with(&prefix));
        self.entries.retain(|e, _| e != &k && !e.starts_with(&prefix));
        self.version += 1;
        before != self.entries.len()
    }

    /// Every file and folder as (path as written, is a folder), in case-insensitive path order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, bool)> {
        self.entries.values().map(|(p, dir)| (p.as_str(), *dir))
    }

    /// The entries directly inside folder `dir`, as written, in order.
    pub fn list(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{}\\", key(dir));
        self.entries
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('\\'))
            .map(|(_, (p, _))| p.clone())
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
