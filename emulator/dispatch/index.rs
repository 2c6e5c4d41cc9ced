//! Case-insensitive lookup tables the compiled view is made of: the key tree walked one URL segment
//! at a time, bindings, extensions, MIME types and content files, all looked up without allocating.
//!
//! Every table hashes ASCII-lower-cased bytes and compares with `eq_ignore_ascii_case`, so a URL
//! is matched as written, never copied into a lower-cased string first.

use hashbrown::HashTable;

/// FNV-1a over ASCII-lower-cased bytes, finished with a 64-bit mixer so that the table's control
/// bytes (the top bits) are spread.
#[derive(Clone, Copy)]
pub(super) struct CiHash(u64);

impl CiHash {
    /// A hash started from `seed` (a parent node, a port).
    pub(super) fn new(seed: u64) -> CiHash {
        CiHash(0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// Feeds one byte, lower-cased.
    #[inline]
    pub(super) fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01b3);
    }

    /// Feeds a string's bytes, lower-cased.
    #[inline]
    pub(super) fn str(&mut self, s: &str) {
        for b in s.bytes() {
            self.byte(b);
        }
    }

    /// The finished hash.
    #[inline]
    pub(super) fn finish(self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The hash of one string, case-insensitively.
pub(super) fn ci_hash(seed: u64, s: &str) -> u64 {
    let mut h = CiHash::new(seed);
    h.str(s);
    h.finish()
}

/// A map from case-insensitive names to values; the first value inserted for a name stays unless
/// [`CiMap::insert_last`] is used.
#[derive(Debug, Clone)]
pub(super) struct CiMap<V> {
    items: Vec<(Box<str>, V)>,
    table: HashTable<u32>,
}

impl<V> Default for CiMap<V> {
    fn default() -> Self {
        CiMap { items: Vec::new(), table: HashTable::new() }
    }
}

impl<V> CiMap<V> {
    fn slot(&self, name: &str) -> Option<u32> {
        self.slot_hashed(ci_hash(0, name), name)
    }

    #[inline]
    fn slot_hashed(&self, hash: u64, name: &str) -> Option<u32> {
        let items = &self.items;
        self.table.find(hash, |&i| items[i as usize].0.eq_ignore_ascii_case(name)).copied()
    }

    /// [`CiMap::get`] with the name's [`ci_hash`] (seed 0) already known.
    #[inline]
    pub(super) fn get_hashed(&self, hash: u64, name: &str) -> Option<&V> {
        self.slot_hashed(hash, name).map(|i| &self.items[i as usize].1)
    }

    /// Inserts `value` for `name` unless the name is already there.
    pub(super) fn insert_first(&mut self, name: &str, value: V) {
        if self.slot(name).is_none() {
            self.push(name, value);
        }
    }

    /// Inserts `value` for `name`, replacing an earlier one.
    pub(super) fn insert_last(&mut self, name: &str, value: V) {
        match self.slot(name) {
            Some(i) => self.items[i as usize].1 = value,
            None => self.push(name, value),
        }
    }

    fn push(&mut self, name: &str, value: V) {
        let i = u32::try_from(self.items.len()).expect("fewer than 2^32 entries");
        self.items.push((name.into(), value));
        let items = &self.items;
        self.table.insert_unique(ci_hash(0, name), i, |&j| ci_hash(0, &items[j as usize].0));
    }

    /// The value for `name`, compared without regard to ASCII case.
    #[inline]
    pub(super) fn get(&self, name: &str) -> Option<&V> {
        self.slot(name).map(|i| &self.items[i as usize].1)
    }

    /// The entries in insertion order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.items.iter().map(|(n, v)| (&**n, v))
    }

    /// How many entries there are.
    pub(super) fn len(&self) -> usize {
        self.items.len()
    }
}

impl<V: PartialEq> PartialEq for CiMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<V: Eq> Eq for CiMap<V> {}

/// A tree of path segments with a case-insensitive child index: one hash probe per segment.
///
/// The segments' text lives in one shared buffer and nodes hold plain offsets, so cloning the
/// tree (a patched view starts as a copy of the view it patches) copies flat arrays and shares
/// the text and the values.
#[derive(Debug, Clone)]
pub(super) struct SegTree<V> {
    nodes: Vec<SegNode<V>>,
    children: HashTable<u32>,
    text: std::sync::Arc<String>,
}

impl<V> Default for SegTree<V> {
    fn default() -> Self {
        SegTree { nodes: Vec::new(), children: HashTable::new(), text: Default::default() }
    }
}

#[derive(Debug, Clone)]
struct SegNode<V> {
    parent: u32,
    /// Where the segment's text is in [`SegTree::text`], and its length.
    at: u32,
    len: u32,
    value: Option<V>,
}

/// The parent of a tree's roots.
const NO_PARENT: u32 = u32::MAX;

impl<V> SegTree<V> {
    fn child_hash(parent: u32, seg: &str) -> u64 {
        ci_hash(u64::from(parent), seg)
    }

    /// The child of `parent` named `seg`.
    #[inline]
    pub(super) fn child(&self, parent: u32, seg: &str) -> Option<u32> {
        self.child_hashed(parent, Self::child_hash(parent, seg), seg)
    }

    /// The hash [`SegTree::child_hashed`] wants, started: feed the segment's bytes, then finish.
    #[inline]
    pub(super) fn hasher(parent: u32) -> CiHash {
        CiHash::new(u64::from(parent))
    }

    /// [`SegTree::child`] with the hash of `(parent, seg)` already computed by [`SegTree::hasher`].
    #[inline]
    pub(super) fn child_hashed(&self, parent: u32, hash: u64, seg: &str) -> Option<u32> {
        let (nodes, text) = (&self.nodes, self.text.as_bytes());
        self.children
            .find(hash, |&i| {
                let n = &nodes[i as usize];
                n.parent == parent && text[n.at as usize..(n.at + n.len) as usize].eq_ignore_ascii_case(seg.as_bytes())
            })
            .copied()
    }

    /// The root node named `seg` (created if missing).
    pub(super) fn root(&mut self, seg: &str) -> u32 {
        self.child_or_new(NO_PARENT, seg)
    }

    /// The child of `parent` named `seg`, created without a value if missing.
    pub(super) fn child_or_new(&mut self, parent: u32, seg: &str) -> u32 {
        if let Some(i) = self.child(parent, seg) {
            return i;
        }
        let i = u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes");
        let text = std::sync::Arc::make_mut(&mut self.text);
        let at = u32::try_from(text.len()).expect("segments under 4 GiB");
        text.push_str(seg);
        self.nodes.push(SegNode { parent, at, len: seg.len() as u32, value: None });
        let (nodes, text) = (&self.nodes, self.text.as_str());
        self.children.insert_unique(Self::child_hash(parent, seg), i, |&j| {
            let n = &nodes[j as usize];
            Self::child_hash(n.parent, &text[n.at as usize..(n.at + n.len) as usize])
        });
        i
    }

    /// Sets the value of a node.
    pub(super) fn set(&mut self, node: u32, value: V) {
        self.nodes[node as usize].value = Some(value);
    }

    /// The value of a node, if it has one.
    #[inline]
    pub(super) fn value(&self, node: u32) -> Option<&V> {
        self.nodes[node as usize].value.as_ref()
    }

    /// Every value, in insertion order.
    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.nodes.iter().filter_map(|n| n.value.as_ref())
    }

    /// How many values the tree holds.
    pub(super) fn len(&self) -> usize {
        self.nodes.iter().filter(|n| n.value.is_some()).count()
    }

    /// How many nodes the tree has, with a value or without.
    pub(super) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Takes the values of `node` and of every node below it.
    pub(super) fn clear_below(&mut self, node: u32) {
        // A node's parent comes before it, so one pass in order marks every descendant.
        let mut below = vec![false; self.nodes.len()];
        below[node as usize] = true;
        for i in node as usize..self.nodes.len() {
            let p = self.nodes[i].parent;
            if p != NO_PARENT && below[p as usize] {
                below[i] = true;
            }
            if below[i] {
                self.nodes[i].value = None;
            }
        }
    }
}

/// The content files: looked up by a folder and the URL segments below it, listed in path order.
#[derive(Debug, Clone, Default)]
pub(super) struct Files {
    /// (path as written, is a folder), in case-insensitive path order.
    entries: Vec<(Box<str>, bool)>,
    /// When each entry was last written (virtual seconds), by the same index.
    times: Vec<u64>,
    table: HashTable<u32>,
}

/// The bytes of a Windows path as the emulated disk compares them: `/` as `\`, lower case.
#[inline]
fn fs_byte(b: u8) -> u8 {
    if b == b'/' {
        b'\\'
    } else {
        b.to_ascii_lowercase()
    }
}

/// A path given as a folder and segments below it (`base\seg\seg`), without building the string.
#[derive(Clone, Copy)]
pub(super) struct PathQuery<'a> {
    /// The folder (or the whole path, when `rest` is empty).
    pub base: &'a str,
    /// `/`-separated segments below `base` (empty segments skipped), `""` for none.
    pub rest: &'a str,
}

impl<'a> PathQuery<'a> {
    /// A whole path.
    pub(super) fn whole(path: &'a str) -> PathQuery<'a> {
        PathQuery { base: path, rest: "" }
    }

    /// The pieces of the path as the disk compares them (see `fs_key`): ends trimmed of spaces,
    /// then of trailing separators.
    fn pieces(&self) -> (&'a str, impl Iterator<Item = &'a str> + Clone) {
        let segs: &'a str = self.rest;
        let mut last_trim = segs.trim_end_matches('/');
        if !last_trim.is_empty() {
            last_trim = last_trim.trim_end();
        }
        let base = if last_trim.is_empty() {
            self.base.trim().trim_end_matches(['\\', '/'])
        } else {
            self.base.trim_start().trim_end_matches('\\')
        };
        (base, last_trim.split('/').filter(|s| !s.is_empty()))
    }

    fn hash(&self) -> u64 {
        let (base, segs) = self.pieces();
        let mut h = CiHash::new(0);
        for b in base.bytes() {
            h.byte(fs_byte(b));
        }
        for s in segs {
            h.byte(b'\\');
            for b in s.bytes() {
                h.byte(fs_byte(b));
            }
        }
        h.finish()
    }

    fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let (base, segs) = self.pieces();
        base.bytes().chain(segs.flat_map(|s| std::iter::once(b'\\').chain(s.bytes()))).map(fs_byte)
    }

    fn matches(&self, stored: &str) -> bool {
        self.bytes().eq(PathQuery::whole(stored).bytes())
    }
}

impl Files {
    /// The index of `entries`, given in case-insensitive path order.
    pub(super) fn new<'a>(entries: impl Iterator<Item = (&'a str, bool, u64)>) -> Files {
        let (entries, times): (Vec<(Box<str>, bool)>, Vec<u64>) = entries.map(|(p, d, t)| ((p.into(), d), t)).unzip();
        let mut table = HashTable::with_capacity(entries.len());
        for (i, (p, _)) in entries.iter().enumerate() {
            let i = u32::try_from(i).expect("fewer than 2^32 files");
            table.insert_unique(PathQuery::whole(p).hash(), i, |&j| PathQuery::whole(&entries[j as usize].0).hash());
        }
        Files { entries, times, table }
    }

    /// When the file or folder at the path was last written (virtual seconds).
    pub(super) fn modified(&self, q: PathQuery<'_>) -> Option<u64> {
        let entries = &self.entries;
        self.table.find(q.hash(), |&i| q.matches(&entries[i as usize].0)).map(|&i| self.times[i as usize])
    }

    /// Whether the path exists: `Some(true)` a folder, `Some(false)` a file.
    #[inline]
    pub(super) fn get(&self, q: PathQuery<'_>) -> Option<bool> {
        let entries = &self.entries;
        self.table.find(q.hash(), |&i| q.matches(&entries[i as usize].0)).map(|&i| entries[i as usize].1)
    }

    /// The entries directly inside folder `dir`: (name as written, is a folder), in order.
    pub(super) fn list(&self, dir: &str) -> Vec<(String, bool)> {
        let q = PathQuery::whole(dir);
        let prefix: Vec<u8> = q.bytes().chain(std::iter::once(b'\\')).collect();
        let key = |p: &str| PathQuery::whole(p).bytes().collect::<Vec<u8>>();
        let start = self.entries.partition_point(|(p, _)| key(p) < prefix);
        self.entries[start..]
            .iter()
            .map(|(p, d)| (p, *d, key(p)))
            .take_while(|(_, _, k)| k.starts_with(&prefix))
            .filter(|(_, _, k)| !k[prefix.len()..].contains(&b'\\'))
            .map(|(p, d, _)| (p.rsplit('\\').next().unwrap_or_default().to_string(), d))
            .collect()
    }

    /// How many entries there are.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_compare_as_the_disk_does() {
        let f = Files::new(
            [("C:\\a", true, 0), ("C:\\a\\B.htm", false, 7), ("C:\\a\\c", true, 0), ("C:\\a\\c\\d.txt", false, 9)]
                .into_iter(),
        );
        assert_eq!(f.get(PathQuery::whole("c:/A/b.HTM")), Some(false));
        assert_eq!(f.get(PathQuery { base: "C:\\A\\", rest: "/c/D.txt" }), Some(false));
        assert_eq!(f.get(PathQuery { base: "C:\\A", rest: "/c/" }), Some(true));
        assert_eq!(f.get(PathQuery { base: "C:\\A", rest: "" }), Some(true));
        assert_eq!(f.get(PathQuery { base: "C:\\A", rest: "/x" }), None);
        assert_eq!(f.list("c:\\a"), [("B.htm".to_string(), false), ("c".to_string(), true)]);
        assert_eq!(f.modified(PathQuery { base: "C:\\A\\", rest: "/c/D.txt" }), Some(9));
    }

    #[test]
    fn seg_tree_is_case_insensitive() {
        let mut t = SegTree::default();
        let r = t.root("ROOT");
        let a = t.child_or_new(r, "Shop");
        t.set(a, 7);
        assert_eq!(t.child(r, "sHOP").and_then(|n| t.value(n)), Some(&7));
        assert_eq!(t.child(a, "shop"), None);
    }
}
