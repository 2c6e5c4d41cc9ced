//! A small Windows registry: keys with named string or DWORD values, case-insensitive.

use std::collections::BTreeMap;

/// One registry key's values, by lower-cased name: (name as written, value text).
#[derive(Debug, Clone, Default)]
struct RegKey {
    path: String,
    values: BTreeMap<String, (String, String)>,
}

/// The registry: keys by lower-cased path.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    keys: BTreeMap<String, RegKey>,
    /// Moves on every change, so whatever was compiled from the registry knows it is stale.
    version: u64,
}

impl Registry {
    /// A number that changes whenever a key or a value does.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether the key exists.
    pub fn has_key(&self, key: &str) -> bool {
        self.keys.contains_key(&key.to_ascii_lowercase())
    }

    /// Creates a key; returns false when it already existed.
    pub fn create_key(&mut self, key: &str) -> bool {
        let lc = key.to_ascii_lowercase();
        if self.keys.contains_key(&lc) {
            return false;
        }
        self.keys.insert(lc, RegKey { path: key.to_string(), values: BTreeMap::new() });
        self.version += 1;
        true
    }

    /// Deletes a key and its subkeys; returns whether anything was deleted.
    pub fn delete_key(&mut self, key: &str) -> bool {
        let lc = key.to_ascii_lowercase();
        let prefix = format!("{lc}\\");
        let before = self.keys.len();
        self.keys.retain(|k, _| k != &lc && !k.starts_with(&prefix));
        self.version += 1;
        before != self.keys.len()
    }

    /// The value `name` under `key`.
    pub fn get(&self, key: &str, name: &str) -> Option<&str> {
        let k = self.keys.get(&key.to_ascii_lowercase())?;
        k.values.get(&name.to_ascii_lowercase()).map(|(_, v)| v.as_str())
    }

    /// Sets a value, creating the key; returns the old value.
    pub fn set(&mut self, key: &str, name: &str, value: &str) -> Option<String> {
        self.create_key(key);
        self.version += 1;
        let k = self.keys.get_mut(&key.to_ascii_lowercase()).expect("key just created");
        k.values.insert(name.to_ascii_lowercase(), (name.to_string(), value.to_string())).map(|(_, v)| v)
    }

    /// The keys whose path starts with `prefix\`, as written, in order.
    pub fn subkeys(&self, prefix: &str) -> Vec<String> {
        let p = format!("{}\\", prefix.to_ascii_lowercase());
        self.keys.iter().filter(|(k, _)| k.starts_with(&p)).map(|(_, v)| v.path.clone()).collect()
    }
}
