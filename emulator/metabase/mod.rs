//! The in-memory metabase: keys under `/LM`, typed properties, inheritance (MB-, SM-).

pub mod defaults;
pub mod schema;
mod schema_iis6;
pub mod scriptmap;
pub mod xml;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use schema::{Kind, PropDef};

/// A stored property value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A DWORD (also BOOL and flag sets).
    Dword(u32),
    /// A STRING or EXPANDSZ.
    String(String),
    /// A MULTISZ list.
    MultiSz(Vec<String>),
    /// Opaque bytes as the hex text the file held (secure properties, BINARY values; MB-11).
    Binary(String),
}

impl Value {
    /// The list, when the value is a MULTISZ.
    pub fn as_multi(&self) -> Option<&[String]> {
        match self {
            Value::MultiSz(v) => Some(v),
            _ => None,
        }
    }

    /// The text, when the value is a STRING.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, when the value is a DWORD.
    pub fn as_dword(&self) -> Option<u32> {
        match self {
            Value::Dword(n) => Some(*n),
            _ => None,
        }
    }

    /// Formats the value as the transcript shows it, using the schema for DWORD kinds.
    pub fn display(&self, def: Option<&PropDef>) -> String {
        match (self, def.map(|d| d.kind)) {
            (Value::Dword(n), Some(Kind::Bool)) => if *n != 0 { "TRUE" } else { "FALSE" }.into(),
            (Value::Dword(n), Some(Kind::Flags(bits))) => schema::format_flags(bits, *n),
            (Value::Dword(n), _) => n.to_string(),
            (Value::String(s), _) => format!("\"{s}\""),
            (Value::MultiSz(v), _) => {
                let items: Vec<String> = v.iter().map(|s| format!("\"{s}\"")).collect();
                format!("[{}]", items.join(", "))
            }
            (Value::Binary(hex), _) => format!("<opaque, {} hex digits>", hex.len()),
        }
    }
}

/// What a MetaBase.xml file said about a value beyond the value itself, kept so that export
/// writes it back unchanged (MB-07).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValueMeta {
    /// Written as a `<Custom>` child element rather than an attribute.
    pub custom: bool,
    /// `ID`, as written.
    pub id: Option<String>,
    /// `Type` (`DWORD`, `STRING`, `EXPANDSZ`, `MULTISZ`, `BINARY`), as written.
    pub type_name: Option<String>,
    /// `UserType`, as written.
    pub user_type: Option<String>,
    /// `Attributes`, as written.
    pub attributes: Option<String>,
    /// Other attributes of a Custom element, in file order.
    pub extra: Vec<(String, String)>,
    /// An attribute iisim's schema does not know: the value is the file's text, written back as is.
    pub verbatim: bool,
}

/// One stored property: its name as written, its value and what the file said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    /// Name, canonical for schema properties, as written otherwise (may be empty for Custom).
    pub name: String,
    /// The value.
    pub value: Value,
    /// File details kept for export.
    pub meta: ValueMeta,
}

/// A key's properties by slot (the lower-cased name), in slot order. A key sets a handful, so a
/// sorted vector sized exactly costs a fraction of a map's node (100,000 keys make this count).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Props(Vec<(Box<str>, Prop)>);

impl Props {
    fn find(&self, slot: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(s, _)| (**s).cmp(slot))
    }

    fn get(&self, slot: &str) -> Option<&Prop> {
        self.find(slot).ok().map(|i| &self.0[i].1)
    }

    /// The property named `name` in any case, found without lower-casing it into a new string.
    fn get_named(&self, name: &str) -> Option<&Prop> {
        let lower = || name.bytes().map(|b| b.to_ascii_lowercase());
        let i = self.0.binary_search_by(|(s, _)| s.bytes().cmp(lower())).ok()?;
        Some(&self.0[i].1)
    }

    fn contains_key(&self, slot: &str) -> bool {
        self.find(slot).is_ok()
    }

    /// Stores `prop` under `slot`; returns what the slot held.
    fn insert(&mut self, slot: String, prop: Prop) -> Option<Prop> {
        match self.find(&slot) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, prop)),
            Err(i) => {
                self.0.reserve_exact(1);
                self.0.insert(i, (slot.into_boxed_str(), prop));
                None
            }
        }
    }

    fn remove(&mut self, slot: &str) -> Option<Prop> {
        let i = self.find(slot).ok()?;
        let (_, prop) = self.0.remove(i);
        self.0.shrink_to_fit();
        Some(prop)
    }

    fn values(&self) -> impl Iterator<Item = &Prop> {
        self.0.iter().map(|(_, p)| p)
    }

    /// (slot, property), in slot order.
    fn iter(&self) -> impl Iterator<Item = (&str, &Prop)> {
        self.0.iter().map(|(s, p)| (&**s, p))
    }
}

impl Extend<(String, Prop)> for Props {
    fn extend<I: IntoIterator<Item = (String, Prop)>>(&mut self, iter: I) {
        for (slot, prop) in iter {
            self.insert(slot, prop);
        }
    }
}

/// One metabase key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    path: String,
    key_type: String,
    props: Props,
    /// The comment a file put before the key, written back with it.
    comment: Option<String>,
}

impl Key {
    /// Full path as written, e.g. `/LM/W3SVC/1/ROOT`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// KeyType, e.g. `IIsWebVirtualDir` (`IIsConfigObject` when none was given, MB-05).
    pub fn key_type(&self) -> &str {
        &self.key_type
    }

    /// The key's own value of a property.
    pub fn get(&self, prop: &str) -> Option<&Value> {
        self.props.get_named(prop).map(|p| &p.value)
    }

    /// The properties the key sets, as (name, value), in name order.
    pub fn props(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.props.values().map(|p| (p.name.as_str(), &p.value))
    }

    /// The properties the key sets with what the file said of each, in name order.
    pub fn stored(&self) -> impl Iterator<Item = &Prop> {
        self.props.values()
    }

    /// The comment a file put before the key.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
}

/// Where an effective value came from (MB-20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Set on the key asked about.
    Own,
    /// Inherited from this ancestor key.
    Inherited(String),
    /// The schema default.
    Default,
}

/// Errors of metabase operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MbError {
    /// No key at that path.
    #[error("the path {0} could not be found")]
    PathNotFound(String),
    /// The key already exists.
    #[error("the path {0} already exists")]
    AlreadyExists(String),
}

/// The metabase: keys in path order, compared case-insensitively (MB-15).
#[derive(Debug, Clone, Default)]
pub struct Metabase {
    /// By [`order_key`]: keys sort segment by segment, as the metabase lists them.
    keys: BTreeMap<Box<str>, Key>,
    /// Moves on every change, so whatever was compiled from the metabase knows it is stale.
    version: u64,
    /// The keys the latest changes touched, so that a view compiled at an earlier version can be
    /// patched rather than compiled again.
    log: ChangeLog,
    /// The `IIS_Global` key (Location `.`), outside the path tree (MB-04).
    global: Option<Key>,
    /// The namespace of the file the metabase was read from (MB-04).
    namespace: Option<String>,
}

/// How many changes [`ChangeLog`] remembers: a view older than that is compiled again whole.
pub const CHANGE_LOG_LEN: usize = 256;

/// The latest changes, as (version after the change, the key's path; empty for a change that is
/// not one key's, such as the `IIS_Global` key or the namespace), oldest first, bounded.
#[derive(Debug, Clone, Default)]
struct ChangeLog {
    entries: VecDeque<(u64, Box<str>)>,
    /// The version before the oldest entry: changes since an earlier version are forgotten.
    floor: u64,
}

impl ChangeLog {
    /// Records that the change making `version` touched the key at `path` (as the key stores it).
    fn push(&mut self, version: u64, path: Option<&str>) {
        if self.entries.len() == CHANGE_LOG_LEN {
            if let Some((v, _)) = self.entries.pop_front() {
                self.floor = v;
            }
        }
        self.entries.push_back((version, path.filter(|p| *p != ".").unwrap_or_default().into()));
    }
}

// Two metabases are equal when they hold the same keys, whatever their change counts.
impl PartialEq for Metabase {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys && self.global == other.global && self.namespace == other.namespace
    }
}

impl Eq for Metabase {}

/// Normalises a metabase path: `\` to `/`, one leading `/`, no trailing `/` (MB-15 keeps case).
pub fn normalize(path: &str) -> String {
    let segs: Vec<&str> = path.trim().split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    format!("/{}", segs.join("/"))
}

/// The schema default of `prop`, the effective value where no key sets it (MB-20).
pub fn schema_default(prop: &str) -> Option<Value> {
    Some(match schema::lookup(prop)?.default {
        schema::Default::None => return None,
        schema::Default::Dword(n) => Value::Dword(n),
        schema::Default::Str(s) => Value::String(s.to_string()),
        schema::Default::Multi(m) => Value::MultiSz(m.iter().map(|s| s.to_string()).collect()),
    })
}

/// The ordering key of a path: lower-cased segments joined by `\u{1}`, which sorts below every
/// character a segment may hold, so that `/a/b` sorts before `/a-x` as segment lists do.
fn order_key(path: &str) -> Box<str> {
    let mut out = String::with_capacity(path.len());
    for s in path.split(['/', '\\']).filter(|s| !s.is_empty()) {
        if !out.is_empty() {
            out.push('\u{1}');
        }
        out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
    }
    out.into()
}

/// Whether `key` is `base` or below it, both [`order_key`]s.
fn key_within(key: &str, base: &str) -> bool {
    key.starts_with(base) && (key.len() == base.len() || base.is_empty() || key.as_bytes()[base.len()] == 1)
}

/// The parent path, or `None` for the root `/`.
pub fn parent(path: &str) -> Option<String> {
    let n = normalize(path);
    if n == "/" {
        return None;
    }
    let idx = n.rfind('/').unwrap_or(0);
    Some(if idx == 0 { "/".into() } else { n[..idx].to_string() })
}

impl Metabase {
    /// An empty metabase (no keys at all).
    pub fn new() -> Self {
        Self::default()
    }

    /// A number that changes whenever a key or a property does (MB-20: views compiled from an
    /// older version are stale).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Takes the place of a metabase at `earlier` version: versions keep moving forward.
    pub fn follow(&mut self, earlier: u64) {
        self.version += earlier + 1;
        self.log = ChangeLog { entries: VecDeque::new(), floor: self.version };
    }

    /// Counts one change to the key at `path` (`None`: a change that is no key's).
    fn changed(&mut self, path: Option<&str>) {
        self.version += 1;
        self.log.push(self.version, path);
    }

    /// The paths of the keys changed (set, removed, created or deleted, with their subtrees) since
    /// `version`, oldest first, possibly repeated; `None` when the log no longer reaches back that
    /// far or a change since then was not one key's (MB-20: whatever was compiled then is stale).
    pub fn changes_since(&self, version: u64) -> Option<Vec<&str>> {
        if version < self.log.floor || version > self.version {
            return None;
        }
        let mut paths = Vec::new();
        for (v, path) in self.log.entries.iter().filter(|(v, _)| *v > version) {
            debug_assert!(*v <= self.version);
            if path.is_empty() {
                return None;
            }
            paths.push(&**path);
        }
        Some(paths)
    }

    /// Whether a key exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.keys.contains_key(&order_key(path))
    }

    /// The key at `path`.
    pub fn key(&self, path: &str) -> Option<&Key> {
        self.keys.get(&order_key(path))
    }

    /// Creates a key; missing parents are created without a KeyType (MB-05). Returns the created paths.
    pub fn create_key(&mut self, path: &str, key_type: &str) -> Result<Vec<String>, MbError> {
        let path = normalize(path);
        if self.exists(&path) {
            return Err(MbError::AlreadyExists(path));
        }
        let mut created = Vec::new();
        if let Some(p) = parent(&path) {
            if p != "/" && !self.exists(&p) {
                created.extend(self.create_key(&p, "IIsConfigObject")?);
            }
        }
        let key = Key { path: path.clone(), key_type: key_type.to_string(), props: Props::default(), comment: None };
        self.keys.insert(order_key(&path), key);
        self.changed(Some(&path));
        created.push(path);
        Ok(created)
    }

    /// Adds one key exactly as a file lists it: no parents are created (MB-05). Location `.` is
    /// the `IIS_Global` key.
    pub fn insert_key(&mut self, path: &str, key_type: &str) -> Result<(), MbError> {
        self.insert_key_with_comment(path, key_type, None)
    }

    /// Like [`Metabase::insert_key`], with the comment the file put before the key.
    pub fn insert_key_with_comment(
        &mut self,
        path: &str,
        key_type: &str,
        comment: Option<String>,
    ) -> Result<(), MbError> {
        let key = Key { path: path.to_string(), key_type: key_type.to_string(), props: Props::default(), comment };
        self.changed(Some(path));
        if path == "." {
            if self.global.is_some() {
                return Err(MbError::AlreadyExists(".".into()));
            }
            self.global = Some(key);
            return Ok(());
        }
        let segs = order_key(path);
        if self.keys.contains_key(&segs) {
            return Err(MbError::AlreadyExists(path.to_string()));
        }
        self.keys.insert(segs, key);
        Ok(())
    }

    /// The `IIS_Global` key, when the file had one (MB-04).
    pub fn global(&self) -> Option<&Key> {
        self.global.as_ref()
    }

    /// The namespace of the file the metabase came from (MB-04).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Records the namespace a file declared (MB-04).
    pub fn set_namespace(&mut self, ns: Option<String>) {
        self.changed(None);
        self.namespace = ns;
    }

    /// Stores a property as a file wrote it, under `slot` (its lower-cased name, or a stand-in
    /// for nameless Custom elements); returns false when the slot is taken.
    pub fn store(&mut self, path: &str, slot: &str, prop: Prop) -> Result<bool, MbError> {
        let key = if path == "." { self.global.as_mut() } else { self.keys.get_mut(&order_key(path)) };
        let key = key.ok_or_else(|| MbError::PathNotFound(normalize(path)))?;
        if key.props.contains_key(slot) {
            return Ok(false);
        }
        key.props.insert(slot.to_string(), prop);
        self.changed(Some(path));
        Ok(true)
    }

    /// Stores properties as a file wrote them, each under its slot, replacing what a slot held.
    pub fn store_all(&mut self, path: &str, props: Vec<(String, Prop)>) -> Result<(), MbError> {
        let key = if path == "." { self.global.as_mut() } else { self.keys.get_mut(&order_key(path)) };
        let key = key.ok_or_else(|| MbError::PathNotFound(normalize(path)))?;
        key.props.extend(props);
        self.changed(Some(path));
        Ok(())
    }

    /// Deletes a key and everything below it; returns the deleted paths.
    pub fn delete_key(&mut self, path: &str) -> Result<Vec<String>, MbError> {
        if !self.exists(path) {
            return Err(MbError::PathNotFound(normalize(path)));
        }
        let doomed: Vec<Box<str>> = self.subtree(path).map(|k| order_key(&k.path)).collect();
        self.changed(Some(path));
        Ok(doomed.iter().filter_map(|s| self.keys.remove(s)).map(|k| k.path).collect())
    }

    /// Sets a property on an existing key; returns the previous own value.
    pub fn set(&mut self, path: &str, prop: &str, value: Value) -> Result<Option<Value>, MbError> {
        let key = self.keys.get_mut(&order_key(path)).ok_or_else(|| MbError::PathNotFound(normalize(path)))?;
        let name = schema::lookup(prop).map(|d| d.name.to_string()).unwrap_or_else(|| prop.to_string());
        let slot = prop.to_ascii_lowercase();
        self.version += 1;
        self.log.push(self.version, Some(&key.path));
        // A value set again keeps what the file said of it (its Custom ID, type, attributes).
        let mut meta = key.props.get(&slot).map(|p| p.meta.clone()).unwrap_or_default();
        if meta.verbatim && !matches!(value, Value::String(_)) {
            meta.verbatim = false;
        }
        Ok(key.props.insert(slot, Prop { name, value, meta }).map(|p| p.value))
    }

    /// Changes a key's KeyType; returns the previous one.
    pub fn set_key_type(&mut self, path: &str, key_type: &str) -> Result<String, MbError> {
        let key = self.keys.get_mut(&order_key(path)).ok_or_else(|| MbError::PathNotFound(normalize(path)))?;
        self.version += 1;
        self.log.push(self.version, Some(&key.path));
        Ok(std::mem::replace(&mut key.key_type, key_type.to_string()))
    }

    /// Removes a property from a key; returns the removed value.
    pub fn remove(&mut self, path: &str, prop: &str) -> Option<Value> {
        let key = self.keys.get_mut(&order_key(path))?;
        let removed = key.props.remove(&prop.to_ascii_lowercase()).map(|p| p.value);
        if removed.is_some() {
            self.version += 1;
            self.log.push(self.version, Some(&key.path));
        }
        removed
    }

    /// The key's own value of `prop`.
    pub fn own(&self, path: &str, prop: &str) -> Option<&Value> {
        self.key(path)?.get(prop)
    }

    /// The key's own MULTISZ value of `prop`, or an empty list.
    pub fn own_list(&self, path: &str, prop: &str) -> Vec<String> {
        self.own(path, prop).and_then(Value::as_multi).map(<[String]>::to_vec).unwrap_or_default()
    }

    /// The effective value of `prop` at `path` and where it came from (MB-16, MB-20).
    ///
    /// A path without a key of its own starts from its deepest existing ancestor.
    pub fn effective(&self, path: &str, prop: &str) -> Option<(Value, Origin)> {
        let def = schema::lookup(prop);
        let inherit = def.map(|d| d.inherit).unwrap_or(false);
        let asked = order_key(path);
        let mut at: &str = &asked;
        loop {
            if let Some(key) = self.keys.get(at) {
                if let Some(v) = key.get(prop) {
                    let origin =
                        if at.len() == asked.len() { Origin::Own } else { Origin::Inherited(key.path.clone()) };
                    return Some((v.clone(), origin));
                }
                // A property that does not inherit is decided by the first existing key alone.
                if !inherit {
                    break;
                }
            }
            if at.is_empty() {
                break;
            }
            at = at.rfind('\u{1}').map_or("", |i| &at[..i]);
        }
        schema_default(prop).map(|v| (v, Origin::Default))
    }

    /// Every key in path order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.values()
    }

    /// The key at `base` and every key below it, in path order.
    pub fn subtree<'a>(&'a self, base: &str) -> impl Iterator<Item = &'a Key> + 'a {
        let base = order_key(base);
        self.keys.range(base.clone()..).take_while(move |(k, _)| key_within(k, &base)).map(|(_, v)| v)
    }

    /// The direct children of `path`, in path order.
    pub fn children<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a Key> + 'a {
        let base = order_key(path);
        let depth = base.matches('\u{1}').count() + usize::from(!base.is_empty());
        self.keys
            .range(base.clone()..)
            .take_while(move |(k, _)| key_within(k, &base))
            .filter(move |(k, _)| k.matches('\u{1}').count() == depth && !k.is_empty())
            .map(|(_, v)| v)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Own => f.write_str("own"),
            Origin::Inherited(p) => write!(f, "inherited from {p}"),
            Origin::Default => f.write_str("schema default"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Metabase {
        let mut mb = Metabase::new();
        mb.create_key("/LM", "IIsComputer").unwrap();
        mb.create_key("/LM/W3SVC", "IIsWebService").unwrap();
        mb.create_key("/LM/W3SVC/1", "IIsWebServer").unwrap();
        mb.create_key("/LM/W3SVC/1/ROOT", "IIsWebVirtualDir").unwrap();
        mb.create_key("/LM/W3SVC/1/ROOT/app", "IIsWebVirtualDir").unwrap();
        mb
    }

    #[test]
    fn inheritance_table() {
        let mut mb = tree();
        mb.set("/LM/W3SVC", "AppIsolated", Value::Dword(0)).unwrap();
        mb.set("/LM/W3SVC/1/ROOT", "AppIsolated", Value::Dword(1)).unwrap();
        mb.set("/LM/W3SVC", "ServerBindings", Value::MultiSz(vec![":80:".into()])).unwrap();
        mb.set("/LM/W3SVC", "DefaultDoc", Value::String("a.htm".into())).unwrap();
        mb.set("/LM/W3SVC/1/ROOT", "DefaultDoc", Value::String("b.htm".into())).unwrap();
        // (path, property, expected value, expected origin)
        let cases: &[(&str, &str, Option<Value>, Origin)] = &[
            (
                "/LM/W3SVC/1/ROOT/app",
                "AppIsolated",
                Some(Value::Dword(1)),
                Origin::Inherited("/LM/W3SVC/1/ROOT".into()),
            ),
            ("/lm/w3svc/1/root", "appisolated", Some(Value::Dword(1)), Origin::Own),
            ("/LM/W3SVC/1", "AppIsolated", Some(Value::Dword(0)), Origin::Inherited("/LM/W3SVC".into())),
            (
                "/LM/W3SVC/1/ROOT/app/deep/er",
                "DefaultDoc",
                Some(Value::String("b.htm".into())),
                Origin::Inherited("/LM/W3SVC/1/ROOT".into()),
            ),
            ("/LM/W3SVC/2", "DefaultDoc", Some(Value::String("a.htm".into())), Origin::Inherited("/LM/W3SVC".into())),
            // ServerBindings does not inherit (MB-19): the site key gets no value from W3SVC.
            ("/LM/W3SVC/1", "ServerBindings", None, Origin::Default),
            ("/LM/W3SVC/1/ROOT/app", "AccessFlags", Some(Value::Dword(1)), Origin::Default),
            ("/LM/W3SVC/1/ROOT/app", "Nonexistent", None, Origin::Default),
        ];
        for (path, prop, want, origin) in cases {
            let got = mb.effective(path, prop);
            match want {
                None => assert_eq!(got, None, "{path} {prop}"),
                Some(v) => assert_eq!(got, Some((v.clone(), origin.clone())), "{path} {prop}"),
            }
        }
    }

    #[test]
    fn whole_values_replace_inherited_lists() {
        let mut mb = tree();
        mb.set("/LM/W3SVC", "ScriptMaps", Value::MultiSz(vec!["a".into(), "b".into()])).unwrap();
        mb.set("/LM/W3SVC/1/ROOT", "ScriptMaps", Value::MultiSz(vec![])).unwrap();
        let (v, o) = mb.effective("/LM/W3SVC/1/ROOT/app", "ScriptMaps").unwrap();
        assert_eq!(v, Value::MultiSz(vec![]));
        assert_eq!(o, Origin::Inherited("/LM/W3SVC/1/ROOT".into()));
    }

    #[test]
    fn subtree_is_case_insensitive_and_ordered() {
        let mut mb = tree();
        mb.create_key("/LM/W3SVC/1-x", "IIsConfigObject").unwrap();
        mb.create_key("/LM/W3SVC/10", "IIsWebServer").unwrap();
        let paths: Vec<&str> = mb.subtree("/lm/w3svc/1").map(|k| k.path()).collect();
        assert_eq!(paths, ["/LM/W3SVC/1", "/LM/W3SVC/1/ROOT", "/LM/W3SVC/1/ROOT/app"]);
        let kids: Vec<&str> = mb.children("/LM/W3SVC").map(|k| k.path()).collect();
        assert_eq!(kids, ["/LM/W3SVC/1", "/LM/W3SVC/1-x", "/LM/W3SVC/10"]);
    }

    #[test]
    fn create_key_makes_missing_parents_untyped() {
        let mut mb = tree();
        let made = mb.create_key("/LM/W3SVC/1/ROOT/a/b", "IIsWebDirectory").unwrap();
        assert_eq!(made, ["/LM/W3SVC/1/ROOT/a", "/LM/W3SVC/1/ROOT/a/b"]);
        assert_eq!(mb.key("/LM/W3SVC/1/ROOT/A").unwrap().key_type(), "IIsConfigObject");
        assert!(matches!(mb.create_key("/lm/w3svc/1/root/A", "x"), Err(MbError::AlreadyExists(_))));
        let gone = mb.delete_key("/LM/W3SVC/1/ROOT/a").unwrap();
        assert_eq!(gone.len(), 2);
    }

    #[test]
    fn the_change_log_names_the_keys_changed_and_stays_bounded() {
        let mut mb = tree();
        let v = mb.version();
        assert_eq!(mb.changes_since(v), Some(vec![]));
        mb.set("/lm/w3svc/1/root/APP", "AccessFlags", Value::Dword(0)).unwrap();
        mb.remove("/LM/W3SVC/1/ROOT/app", "AccessFlags");
        mb.remove("/LM/W3SVC/1/ROOT/app", "AccessFlags");
        mb.create_key("/LM/W3SVC/1/ROOT/a/b", "IIsWebDirectory").unwrap();
        mb.delete_key("/LM/W3SVC/1/ROOT/a").unwrap();
        let changed = mb.changes_since(v).unwrap();
        assert_eq!(
            changed,
            [
                "/LM/W3SVC/1/ROOT/app",
                "/LM/W3SVC/1/ROOT/app",
                "/LM/W3SVC/1/ROOT/a",
                "/LM/W3SVC/1/ROOT/a/b",
                "/LM/W3SVC/1/ROOT/a"
            ],
            "a removal that removed nothing is no change"
        );
        assert_eq!(mb.changes_since(v + 2).map(|c| c.len()), Some(3));
        // A change that is no key's (the namespace) leaves nothing to patch from.
        let before = mb.version();
        mb.set_namespace(Some("urn:x".into()));
        assert_eq!(mb.changes_since(before), None);
        // Older than the log: forgotten.
        let old = mb.version();
        for i in 0..=CHANGE_LOG_LEN as u32 {
            mb.set("/LM/W3SVC/1/ROOT", "AccessFlags", Value::Dword(i)).unwrap();
        }
        assert_eq!(mb.changes_since(old), None);
        assert_eq!(mb.changes_since(mb.version() - 3).map(|c| c.len()), Some(3));
    }

    #[test]
    fn normalize_and_parent() {
        assert_eq!(normalize("\\LM\\W3SVC\\1\\"), "/LM/W3SVC/1");
        assert_eq!(parent("/LM/W3SVC"), Some("/LM".into()));
        assert_eq!(parent("/LM"), Some("/".into()));
        assert_eq!(parent("/"), None);
    }
}
