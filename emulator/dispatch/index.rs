//! Case-insensitive lookup tables the compiled view is made of: the key tree walked one URL segment
//! at a time, bindings, extensions, MIME types and content files, all looked up without allocating.
//!
//! Every table hashes ASCII-lower-cased bytes and compares with `eq_ignore_ascii_case`, so a URL
//! is matched as written, never copied into a lower-cased string first. Whole names are hashed
//! eight bytes at a time, lower-cased in the word itself.

use hashbrown::HashTable;

/// The multiplier of the word hash (the golden ratio's, odd).
const MUL: u64 = 0x9e37_79b9_7f4a_7c15;

/// The second word's multiplier of a short segment's hash (odd, unrelated to [`MUL`]).
const FOLD2: u64 = 0xc4ce_b9fe_1a85_ec53;

/// The 128-bit product of `a` and `k`, its halves folded together.
#[inline(always)]
fn fold(a: u64, k: u64) -> u64 {
    let p = u128::from(a) * u128::from(k);
    (p as u64) ^ (p >> 64) as u64
}

/// The 64-bit finalizer (MurmurHash3's), so that the table's control bytes (the top bits) are spread.
#[inline(always)]
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The starting state of a hash seeded by `seed` (a parent node, a port).
#[inline(always)]
fn start_state(seed: u64) -> u64 {
    0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(MUL)
}

/// Folds one word into a hash state.
#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(26) ^ w).wrapping_mul(MUL)
}

/// The eight bytes of `w` with ASCII capitals lower-cased (other bytes unchanged).
#[inline(always)]
fn lower_word(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = w & LOW7;
    // Per byte, no carry between bytes: the high bit says `>= 'A'` and `> 'Z'`.
    let ge_a = low.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let gt_z = low.wrapping_add(0x2525_2525_2525_2525);
    let upper = ge_a & !gt_z & !w & HIGH;
    w | (upper >> 2)
}

/// The bytes of a slice shorter than eight as one little-endian word, zero-padded.
#[inline(always)]
fn tail_word(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let hi = u64::from(u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]));
        lo | (hi << (8 * (n - 4)))
    } else if n > 0 {
        u64::from(b[0]) | (u64::from(b[n / 2]) << (8 * (n / 2))) | (u64::from(b[n - 1]) << (8 * (n - 1)))
    } else {
        0
    }
}

/// [`tail_word`] for up to eight bytes.
#[inline(always)]
fn tail_word_full(b: &[u8]) -> u64 {
    if b.len() == 8 {
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    } else {
        tail_word(b)
    }
}

/// Feeds `b`'s bytes, lower-cased, a word at a time, then its length.
#[inline]
fn feed(mut h: u64, b: &[u8]) -> u64 {
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        h = mix(h, lower_word(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        h = mix(h, lower_word(tail_word(rest)));
    }
    mix(h, b.len() as u64)
}

/// A byte-at-a-time case-insensitive hash, for keys made of several parts (bindings).
#[derive(Clone, Copy)]
pub(super) struct CiHash(u64);

impl CiHash {
    /// A hash started from `seed` (a port).
    pub(super) fn new(seed: u64) -> CiHash {
        CiHash(start_state(seed))
    }

    /// Feeds one byte, lower-cased.
    #[inline]
    pub(super) fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01b3);
    }

    /// Feeds a string's bytes, lower-cased.
    #[inline]
    pub(super) fn str(&mut self, s: &str) {
        self.0 = feed(self.0, s.as_bytes());
    }

    /// The finished hash.
    #[inline]
    pub(super) fn finish(self) -> u64 {
        finish(self.0)
    }
}

/// The hash of one string, case-insensitively, a word at a time.
#[inline]
pub(super) fn ci_hash(seed: u64, s: &str) -> u64 {
    finish(feed(start_state(seed), s.as_bytes()))
}

/// A map from case-insensitive names to values; the first value inserted for a name stays unless
/// [`CiMap::insert_last`] is used.
///
/// Names of up to eight bytes (extensions, most pool names) live in a small open-addressed table
/// of their lower-cased word, so looking one up is a load, a multiply and a compare.
#[derive(Debug, Clone)]
pub(super) struct CiMap<V> {
    items: Vec<(Box<str>, V)>,
    table: HashTable<u32>,
    /// Names of 1 to 8 bytes: (lower-cased word, length, item), a power of two long, half full
    /// at most; a length of 0 marks a free slot.
    short: Box<[Short]>,
    shorts: usize,
    /// Two bits per longer name's hash (a Bloom filter), so most misses end before probing.
    filter: u128,
}

#[derive(Debug, Clone, Copy, Default)]
struct Short {
    word: u64,
    len: u32,
    item: u32,
}

impl<V> Default for CiMap<V> {
    fn default() -> Self {
        CiMap { items: Vec::new(), table: HashTable::new(), short: Box::default(), shorts: 0, filter: 0 }
    }
}

/// The filter bits of a hash (bits the table's index and tag do not favour).
#[inline]
fn filter_bits(hash: u64) -> u128 {
    (1 << ((hash >> 32) & 127)) | (1 << ((hash >> 40) & 127))
}

/// Where a short name's probe starts, in a table of `mask + 1` slots.
#[inline]
fn short_home(word: u64, len: usize, mask: usize) -> usize {
    ((word ^ len as u64).wrapping_mul(MUL) >> 40) as usize & mask
}

impl<V> CiMap<V> {
    #[inline]
    fn slot(&self, name: &str) -> Option<u32> {
        let b = name.as_bytes();
        if (1..=8).contains(&b.len()) {
            return self.short_slot(b);
        }
        self.slot_hashed(ci_hash(0, name), name)
    }

    #[inline]
    fn short_slot(&self, b: &[u8]) -> Option<u32> {
        self.short_word_slot(lower_word(tail_word_full(b)), b.len())
    }

    /// The slot of the short name whose lower-cased, zero-padded word is `word`.
    #[inline(always)]
    fn short_word_slot(&self, word: u64, len: usize) -> Option<u32> {
        if self.short.is_empty() {
            return None;
        }
        let mask = self.short.len() - 1;
        let mut i = short_home(word, len, mask);
        loop {
            let s = self.short[i];
            if s.len == 0 {
                return None;
            }
            if s.word == word && s.len as usize == len {
                return Some(s.item);
            }
            i = (i + 1) & mask;
        }
    }

    /// [`CiMap::get`] of `text[start..end]`, a short name's word read from `text` in place.
    #[inline(always)]
    pub(super) fn get_in(&self, text: &str, start: usize, end: usize) -> Option<&V> {
        let len = end - start;
        let slot = if (1..=8).contains(&len) {
            self.short_word_slot(lower_word(word_at(text.as_bytes(), start) & keep(len)), len)
        } else {
            self.slot(text.get(start..end).unwrap_or_default())
        };
        slot.map(|i| &self.items[i as usize].1)
    }

    #[inline]
    fn slot_hashed(&self, hash: u64, name: &str) -> Option<u32> {
        if (1..=8).contains(&name.len()) {
            return self.short_slot(name.as_bytes());
        }
        let bits = filter_bits(hash);
        if self.filter & bits != bits {
            return None;
        }
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
        if (1..=8).contains(&name.len()) {
            self.shorts += 1;
            if self.shorts * 2 > self.short.len() {
                self.rebuild_short();
            } else {
                Self::place(&mut self.short, name, i);
            }
            return;
        }
        let hash = ci_hash(0, name);
        self.filter |= filter_bits(hash);
        let items = &self.items;
        self.table.insert_unique(hash, i, |&j| ci_hash(0, &items[j as usize].0));
    }

    /// Puts short name `name` (item `item`) in the first free slot from its home.
    fn place(short: &mut [Short], name: &str, item: u32) {
        let word = lower_word(tail_word_full(name.as_bytes()));
        let mask = short.len() - 1;
        let mut i = short_home(word, name.len(), mask);
        while short[i].len != 0 {
            i = (i + 1) & mask;
        }
        short[i] = Short { word, len: name.len() as u32, item };
    }

    /// Grows the short-name table to twice its names, at least 8 slots, and places them again.
    fn rebuild_short(&mut self) {
        let mut short = vec![Short::default(); (self.shorts * 2).next_power_of_two().max(8)].into_boxed_slice();
        for (i, (name, _)) in self.items.iter().enumerate() {
            if (1..=8).contains(&name.len()) {
                Self::place(&mut short, name, i as u32);
            }
        }
        self.short = short;
    }

    /// The value for `name`, compared without regard to ASCII case.
    #[inline]
    pub(super) fn get(&self, name: &str) -> Option<&V> {
        self.slot(name).map(|i| &self.items[i as usize].1)
    }

    /// The value of the `i`th entry inserted.
    #[inline]
    pub(super) fn item(&self, i: usize) -> Option<&V> {
        self.items.get(i).map(|(_, v)| v)
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

/// A tree of path segments with a case-insensitive child index, walked one URL at a time.
///
/// A node's hash chains its parent's with its own segment, so the hash of every segment of a URL
/// is known from the URL alone: [`SegTree::step`] computes the next level's hash without waiting
/// for this level's node, so the probes of a URL's levels overlap. A node's value lives in its
/// slot, so reaching it waits on the slot alone (the node is read to check the name meanwhile).
#[derive(Debug, Clone)]
pub(super) struct SegTree<V> {
    nodes: Vec<SegNode>,
    /// Each node's chained hash (its parent's, then its segment).
    hashes: Vec<u64>,
    /// Open addressing over `hashes`: a power of two long, at most half full.
    slots: Box<[Slot<V>]>,
    /// Where each node's slot is.
    slot_of: Vec<u32>,
    /// Segments longer than [`SHORT`] bytes, as written.
    long: Vec<Box<str>>,
}

impl<V> Default for SegTree<V> {
    fn default() -> Self {
        SegTree { nodes: Vec::new(), hashes: Vec::new(), slots: Box::default(), slot_of: Vec::new(), long: Vec::new() }
    }
}

/// A slot of the child index: the top half of the node's hash, the node plus one (0: free), and
/// the node's value.
#[derive(Debug, Clone)]
struct Slot<V> {
    tag: u32,
    node: u32,
    value: Option<V>,
}

impl<V> Default for Slot<V> {
    fn default() -> Self {
        Slot { tag: 0, node: 0, value: None }
    }
}

/// How long a segment a node holds in itself, lower-cased.
const SHORT: usize = 16;
/// The `len` of a node whose segment is in `long` (at index `words[0]`).
const LONG: u8 = u8::MAX;

/// One node: 32 bytes, aligned so that reading one never touches two cache lines.
#[derive(Debug, Clone)]
#[repr(C, align(32))]
struct SegNode {
    /// The segment lower-cased into words (zero-padded), or its index in `long`.
    words: [u64; 2],
    parent: u32,
    len: u8,
    /// Some node has this one as its parent.
    has_children: bool,
}

/// The parent of a tree's roots.
const NO_PARENT: u32 = u32::MAX;

/// The most URL segments a batch of the walk holds (canonicalisation finds the first batch).
pub(super) const MAX_LEVELS: usize = 8;

/// A segment as the tree compares it, with its chained hash.
#[derive(Clone, Copy)]
struct Key<'a> {
    hash: u64,
    words: [u64; 2],
    /// At most [`SHORT`] bytes long (`words` holds it).
    short: bool,
    /// Its length in bytes.
    len: usize,
    /// The segment itself, when it is longer than [`SHORT`] bytes.
    seg: &'a str,
}

impl<'a> Key<'a> {
    /// The key of `seg` below a node whose chained hash is `parent_hash`.
    #[inline]
    fn new(parent_hash: u64, seg: &'a str) -> Key<'a> {
        Key::at(parent_hash, seg, 0, seg.len())
    }

    /// The key of segment `text[start..end]`, its words read from `text` in place.
    #[inline(always)]
    fn at(parent_hash: u64, text: &'a str, start: usize, end: usize) -> Key<'a> {
        let n = end.saturating_sub(start);
        if n > SHORT {
            let seg = text.get(start..end).unwrap_or_default();
            let hash = finish(feed(start_state(parent_hash), seg.as_bytes()));
            return Key { hash, words: [0; 2], short: false, len: n, seg };
        }
        if n == 0 {
            // An empty segment mixes no word, as [`feed`] does.
            return Key { hash: finish(mix(start_state(parent_hash), 0)), words: [0; 2], short: true, len: 0, seg: "" };
        }
        let (hash, words) = short_key(parent_hash, text.as_bytes(), start, n);
        Key { hash, words, short: true, len: n, seg: "" }
    }
}

/// The chained hash and lower-cased words of the segment of `n` bytes (1 to [`SHORT`]) at
/// `b[start..]`, below a node whose chained hash is `parent_hash`.
#[inline(always)]
fn short_key(parent_hash: u64, b: &[u8], start: usize, n: usize) -> (u64, [u64; 2]) {
    // Zero-padded, as [`tail_word`] reads them: the bytes past the segment masked off.
    let w0 = lower_word(word_at(b, start) & keep(n));
    // A short segment is one or two words: a folded multiply each mixes it well enough for a
    // table whose every hit is confirmed by the node's words and parent.
    let h = fold(parent_hash ^ w0 ^ n as u64, MUL);
    if n > 8 {
        let w1 = lower_word(word_at(b, start + 8) & keep(n - 8));
        return (fold(h ^ w1, FOLD2), [w0, w1]);
    }
    (h, [w0, 0])
}

/// The mask of the first `len` bytes of a word (all of it from eight on).
#[inline(always)]
fn keep(len: usize) -> u64 {
    // A shift rather than a branch: `len` is 0 only where no byte is kept.
    match len {
        0 => 0,
        _ => u64::MAX >> (64 - 8 * len.min(8)),
    }
}

/// The eight bytes of `b` from `i` as a little-endian word, zero past the end (`i < b.len()`).
#[inline(always)]
pub(super) fn word_at(b: &[u8], i: usize) -> u64 {
    if let Some(w) = b.get(i..i + 8) {
        return u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
    }
    let len = b.len();
    if let Some(w) = len.checked_sub(8).and_then(|at| b.get(at..)) {
        // The last eight bytes, shifted down past the ones before `i`.
        let last = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        return last >> (8 * (i + 8 - len));
    }
    b.iter().skip(i).enumerate().fold(0, |w, (k, &x)| w | u64::from(x) << (8 * k))
}

impl<V> SegTree<V> {
    /// The chained hash a child of `parent` starts from.
    #[inline(always)]
    fn seed(&self, parent: u32) -> u64 {
        match parent {
            NO_PARENT => 0x51_7cc1_b727_220a,
            p => self.hashes[p as usize],
        }
    }

    #[inline(always)]
    fn node_matches(&self, n: &SegNode, key: &Key<'_>) -> bool {
        if key.short {
            usize::from(n.len) == key.len && n.words == key.words
        } else {
            n.len == LONG && self.long[n.words[0] as usize].eq_ignore_ascii_case(key.seg)
        }
    }

    /// The slot of the node whose tag and segment match `key`, under `parent` when given.
    #[inline(always)]
    fn find(&self, key: &Key<'_>, parent: Option<u32>) -> Option<&Slot<V>> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = (key.hash >> 32) as u32;
        let mut i = key.hash as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.node == 0 {
                return None;
            }
            if s.tag == tag {
                let n = &self.nodes[s.node as usize - 1];
                if parent.is_none_or(|p| n.parent == p) && self.node_matches(n, key) {
                    return Some(s);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The child of `parent` named `seg`.
    #[inline]
    pub(super) fn child(&self, parent: u32, seg: &str) -> Option<u32> {
        if parent != NO_PARENT && !self.nodes[parent as usize].has_children {
            return None;
        }
        self.find(&Key::new(self.seed(parent), seg), Some(parent)).map(|s| s.node - 1)
    }

    /// The chained hash of `node`, from which its children's are computed.
    #[inline]
    pub(super) fn hash_of(&self, node: u32) -> u64 {
        self.seed(node)
    }

    /// One level down: the child of `parent` named `text[start..end]`, given `h`, the chained
    /// hash of `parent` ([`SegTree::hash_of`]), and the child's chained hash. Below a node
    /// without children nothing is hashed or probed. The hash comes from the URL alone, so the
    /// next level's probe need not wait for this one's node. The child comes with its value.
    #[inline(always)]
    pub(super) fn step(
        &self,
        parent: u32,
        h: u64,
        text: &str,
        (start, end): (usize, usize),
    ) -> (u64, Option<(u32, Option<&V>)>) {
        if !self.nodes[parent as usize].has_children {
            return (h, None);
        }
        let n = end.wrapping_sub(start);
        if n.wrapping_sub(1) >= SHORT {
            let key = Key::at(h, text, start, end);
            return (key.hash, self.find(&key, Some(parent)).map(|s| (s.node - 1, s.value.as_ref())));
        }
        // A segment of 1 to SHORT bytes, as [`Key::at`] hashes it, compared word by word.
        let (hash, words) = short_key(h, text.as_bytes(), start, n);
        // A parent with children has a slot for each, so the slots are not empty.
        let mask = self.slots.len() - 1;
        let tag = (hash >> 32) as u32;
        let mut i = hash as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.node == 0 {
                return (hash, None);
            }
            if s.tag == tag {
                let node = &self.nodes[s.node as usize - 1];
                if node.parent == parent && usize::from(node.len) == n && node.words == words {
                    return (hash, Some((s.node - 1, s.value.as_ref())));
                }
            }
            i = (i + 1) & mask;
        }
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
        let key = Key::new(self.seed(parent), seg);
        let i = u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes");
        assert!(i < u32::MAX - 1, "fewer than 2^32 - 2 nodes");
        let (words, len) = if key.short {
            (key.words, seg.len() as u8)
        } else {
            self.long.push(seg.into());
            ([self.long.len() as u64 - 1, 0], LONG)
        };
        self.nodes.push(SegNode { words, parent, len, has_children: false });
        self.hashes.push(key.hash);
        self.slot_of.push(0);
        if let Some(p) = self.nodes.get_mut(parent as usize) {
            p.has_children = true;
        }
        if self.nodes.len() * 2 > self.slots.len() {
            self.rebuild();
        } else {
            self.slot_of[i as usize] = Self::place(&mut self.slots, key.hash, i, None);
        }
        i
    }

    /// Puts node `node` with chained hash `hash` and its value in the first free slot from its
    /// home; where.
    fn place(slots: &mut [Slot<V>], hash: u64, node: u32, value: Option<V>) -> u32 {
        let mask = slots.len() - 1;
        let mut i = hash as usize & mask;
        while slots[i].node != 0 {
            i = (i + 1) & mask;
        }
        slots[i] = Slot { tag: (hash >> 32) as u32, node: node + 1, value };
        i as u32
    }

    /// Grows the slots to three per node or more (at least 16) and places every node again.
    fn rebuild(&mut self) {
        let size = (self.nodes.len() * 3).next_power_of_two().max(16);
        let mut slots: Box<[Slot<V>]> = (0..size).map(|_| Slot::default()).collect();
        for (i, &h) in self.hashes.iter().enumerate() {
            // A node just pushed has no slot yet (nor a value).
            let old = self.slots.get_mut(self.slot_of[i] as usize).filter(|s| s.node as usize == i + 1);
            let value = old.and_then(|s| s.value.take());
            self.slot_of[i] = Self::place(&mut slots, h, i as u32, value);
        }
        self.slots = slots;
    }

    /// Sets the value of a node.
    pub(super) fn set(&mut self, node: u32, value: V) {
        self.slots[self.slot_of[node as usize] as usize].value = Some(value);
    }

    /// The value of a node, if it has one.
    #[inline]
    pub(super) fn value(&self, node: u32) -> Option<&V> {
        self.slots[self.slot_of[node as usize] as usize].value.as_ref()
    }

    /// Every value, in insertion order.
    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.slot_of.iter().filter_map(|&s| self.slots[s as usize].value.as_ref())
    }

    /// How many values the tree holds.
    pub(super) fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.value.is_some()).count()
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
                self.slots[self.slot_of[i] as usize].value = None;
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

/// The hash state of a path's components (split at `\` and `/`, empty ones skipped), each fed a
/// word at a time and lower-cased: a folder's state, kept, lets a probe hash only the rest.
#[inline]
fn feed_components(mut h: u64, path: &str) -> u64 {
    let bytes = path.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\\' || b == b'/' {
            if i > start {
                h = feed(h, &bytes[start..i]);
            }
            start = i + 1;
        }
    }
    if bytes.len() > start {
        h = feed(h, &bytes[start..]);
    }
    h
}

/// Whether `text` may have something `trim` (or trimming `extra`) would take from its end.
#[inline]
fn ragged_end(text: &str, extra: &[u8]) -> bool {
    text.as_bytes().last().is_some_and(|&b| !b.is_ascii_graphic() || extra.contains(&b))
}

/// Whether `text` may have white space at its start.
#[inline]
fn ragged_start(text: &str) -> bool {
    text.as_bytes().first().is_some_and(|&b| !b.is_ascii_graphic())
}

/// The hash state of folder `base` that [`PathQuery::under_known`] wants, computed once per key.
pub(super) fn folder_state(base: &str) -> u64 {
    feed_components(start_state(0), base.trim_start().trim_end_matches('\\'))
}

/// Whether two paths' bytes are the same as the disk compares them (see [`fs_byte`]).
#[inline]
fn fs_eq(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b) || (a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| fs_byte(x) == fs_byte(y)))
}

/// A path given as a folder and segments below it (`base\seg\seg`), without building the string.
#[derive(Clone, Copy)]
pub(super) struct PathQuery<'a> {
    /// The folder (or the whole path, when `rest` is empty).
    base: &'a str,
    /// `/`-separated segments below `base` (empty segments skipped), `""` for none.
    rest: &'a str,
    /// The folder's [`folder_state`], when known.
    base_state: Option<u64>,
}

impl<'a> PathQuery<'a> {
    /// A whole path.
    pub(super) fn whole(path: &'a str) -> PathQuery<'a> {
        PathQuery { base: path, rest: "", base_state: None }
    }

    /// The segments `rest` (`/`-separated) below folder `base`.
    pub(super) fn under(base: &'a str, rest: &'a str) -> PathQuery<'a> {
        PathQuery { base, rest, base_state: None }
    }

    /// [`PathQuery::under`] with the folder's [`folder_state`] already computed.
    #[inline]
    pub(super) fn under_known(base: &'a str, base_state: u64, rest: &'a str) -> PathQuery<'a> {
        PathQuery { base, rest, base_state: Some(base_state) }
    }

    /// The pieces of the path as the disk compares them (see `fs_key`): ends trimmed of spaces,
    /// then of trailing separators; and whether the folder is the one [`folder_state`] hashes.
    #[inline]
    fn pieces(&self) -> (&'a str, &'a str, bool) {
        let segs: &'a str = self.rest;
        let mut last_trim = segs;
        if ragged_end(segs, b"/") {
            last_trim = segs.trim_end_matches('/');
            if !last_trim.is_empty() {
                last_trim = last_trim.trim_end();
            }
        }
        let base = if ragged_start(self.base) { self.base.trim_start() } else { self.base };
        if last_trim.is_empty() {
            let base = if ragged_end(base, b"\\/") { base.trim_end().trim_end_matches(['\\', '/']) } else { base };
            // Only trailing white space (a component of its own, or a component's end) differs.
            (base, last_trim, !self.base.ends_with(char::is_whitespace))
        } else {
            (if ragged_end(base, b"\\") { base.trim_end_matches('\\') } else { base }, last_trim, true)
        }
    }

    #[inline]
    fn hash(&self) -> u64 {
        let (base, segs, same) = self.pieces();
        let h = match self.base_state {
            Some(state) if same => state,
            _ => feed_components(start_state(0), base),
        };
        finish(feed_components(h, segs))
    }

    fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let (base, segs, _) = self.pieces();
        let segs = segs.split('/').filter(|s| !s.is_empty());
        base.bytes().chain(segs.flat_map(|s| std::iter::once(b'\\').chain(s.bytes()))).map(fs_byte)
    }

    /// Whether the path is `stored` (the disk's comparison: `/` as `\`, any case).
    #[inline]
    fn matches(&self, stored: &str) -> bool {
        let s = PathQuery::whole(stored).pieces().0.as_bytes();
        let (base, segs, _) = self.pieces();
        let b = base.as_bytes();
        if s.len() < b.len() || !fs_eq(&s[..b.len()], b) {
            return false;
        }
        let mut at = b.len();
        let segs = segs.as_bytes();
        let mut from = 0;
        // Each non-empty `/`-separated segment of the rest is `\\segment` in the stored path.
        for (i, &c) in segs.iter().enumerate().chain(std::iter::once((segs.len(), &b'/'))) {
            if c != b'/' {
                continue;
            }
            if i > from {
                let seg = &segs[from..i];
                let end = at + 1 + seg.len();
                if s.len() < end || fs_byte(s[at]) != b'\\' || !fs_eq(&s[at + 1..end], seg) {
                    return false;
                }
                at = end;
            }
            from = i + 1;
        }
        at == s.len()
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
        assert_eq!(f.get(PathQuery::under("C:\\A\\", "/c/D.txt")), Some(false));
        assert_eq!(f.get(PathQuery::under("C:\\A", "/c/")), Some(true));
        assert_eq!(f.get(PathQuery::under("C:\\A", "")), Some(true));
        assert_eq!(f.get(PathQuery::under("C:\\A", "/x")), None);
        assert_eq!(f.list("c:\\a"), [("B.htm".to_string(), false), ("c".to_string(), true)]);
        assert_eq!(f.modified(PathQuery::under("C:\\A\\", "/c/D.txt")), Some(9));
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

    #[test]
    fn words_fold_ascii_capitals_only() {
        let cases: [(&[u8], &[u8]); 6] = [
            (b"ABCDEFGH", b"abcdefgh"),
            (b"@[`{Zz09", b"@[`{zz09"),
            (b"\xc3\x89T\xc3\xa9!", b"\xc3\x89t\xc3\xa9!"),
            (b"", b""),
            (b"A", b"a"),
            (b"Default.", b"default."),
        ];
        for (text, lower) in cases {
            assert_eq!(lower_word(tail_word_full(text)), tail_word_full(lower), "{text:?}");
            assert_eq!(tail_word_full(text), tail_word_full(text).to_le(), "little-endian");
        }
        for n in 0..=8 {
            let text = &b"abcdefgh"[..n];
            let mut padded = [0u8; 8];
            padded[..n].copy_from_slice(text);
            assert_eq!(tail_word_full(text), u64::from_le_bytes(padded), "{n} bytes");
        }
    }

    #[test]
    fn hashes_ignore_ascii_case_and_tell_names_apart() {
        let same = [
            ("Default.aspx", "DEFAULT.ASPX"),
            ("a", "A"),
            ("", ""),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"),
        ];
        for (a, b) in same {
            assert_eq!(ci_hash(3, a), ci_hash(3, b), "{a} / {b}");
        }
        let differ = [("a", "a\0"), ("ab", "ba"), ("abcdefgh", "abcdefgh\0"), ("x", "y")];
        for (a, b) in differ {
            assert_ne!(ci_hash(0, a), ci_hash(0, b), "{a:?} / {b:?}");
        }
        assert_ne!(ci_hash(1, "a"), ci_hash(2, "a"), "the seed counts");
    }

    #[test]
    fn ci_map_finds_short_and_long_names_in_any_case() {
        let mut m = CiMap::default();
        let names: Vec<String> =
            (0..300).map(|i| if i % 3 == 0 { format!(".e{i}") } else { format!(".extension{i}") }).collect();
        for (i, n) in names.iter().enumerate() {
            m.insert_first(n, i);
        }
        for (i, n) in names.iter().enumerate() {
            assert_eq!(m.get(&n.to_ascii_uppercase()), Some(&i), "{n}");
            assert_eq!(m.get_hashed(ci_hash(0, n), n), Some(&i), "{n} hashed");
        }
        for missing in [".e1", ".e", "", ".extension0", ".E30x", ".extension10000"] {
            assert_eq!(m.get(missing), None, "{missing}");
        }
        m.insert_first(".E3", 7);
        m.insert_last(".EXTENSION1", 9);
        assert_eq!((m.get(".e3"), m.get(".extension1"), m.len()), (Some(&3), Some(&9), 300));
        m.insert_last(".e3", 8);
        assert_eq!(m.get(".E3"), Some(&8));
    }

    /// `/a/b/c` and where each segment starts and ends in it.
    fn joined(segs: &[&str]) -> (String, Vec<(usize, usize)>) {
        let mut text = String::new();
        let mut spans = Vec::new();
        for s in segs {
            text.push('/');
            spans.push((text.len(), text.len() + s.len()));
            text.push_str(s);
        }
        (text, spans)
    }

    #[test]
    fn seg_tree_walks_a_whole_path_as_child_by_child() {
        let mut t = SegTree::default();
        let root = t.root("1");
        let long = "A-Segment-Longer-Than-Sixteen-Bytes";
        // Same names under different parents, a long segment, a node without a value.
        for path in [
            &["Site1", "App1"][..],
            &["Site2", "App1"],
            &["Site2", long, "x"],
            &["Site3"],
            &["S4", "Fourteen-Bytes", "x"],
        ] {
            let mut node = root;
            for seg in path {
                node = t.child_or_new(node, seg);
            }
            t.set(node, path.join("/"));
        }
        let cases: [(&[&str], usize); 10] = [
            (&["s4", "FOURTEEN-bytes", "X"], 3),
            (&["s4", "FOURTEEN-bytes", "Y"], 2),
            (&["SITE1", "app1", "Default.aspx"], 2),
            (&["site2", "APP1"], 2),
            (&["Site2", "a-segment-longer-than-sixteen-bytes", "X"], 3),
            (&["Site3", "App1"], 1),
            (&["Site4", "App1"], 0),
            (&["Site1", "App2"], 1),
            (&[], 0),
            (&["Site2", "App1", "a", "b", "c", "d", "e", "f", "g"], 2),
        ];
        for (segs, depth) in cases {
            let (text, spans) = joined(segs);
            let (mut h, mut at, mut out) = (t.hash_of(root), Some(root), Vec::new());
            for &(start, end) in &spans {
                let Some(parent) = at else { break };
                let found;
                (h, found) = t.step(parent, h, &text, (start, end));
                if let Some((n, v)) = found {
                    assert_eq!(v, t.value(n), "the slot's value is the node's");
                }
                at = found.map(|(n, _)| n);
                out.extend(at);
            }
            assert_eq!(out.len(), depth, "{segs:?}");
            let mut node = root;
            for (level, seg) in segs.iter().take(depth).enumerate() {
                node = t.child(node, seg).expect("child by child agrees");
                assert_eq!(out[level], node, "{segs:?} level {level}");
            }
            if depth == segs.len() {
                assert_eq!(h, t.hash_of(node), "{segs:?}: the chained hash is the last node's");
            }
            assert!(segs.get(depth).is_none_or(|s| t.child(node, s).is_none()), "{segs:?} stops where child does");
        }
    }

    #[test]
    fn a_known_folder_state_finds_what_the_whole_path_does() {
        let f = Files::new(
            [("D:\\Sites\\S1", true), ("D:\\Sites\\S1\\App1", true), ("D:\\Sites\\S1\\App1\\Default.aspx", false)]
                .into_iter()
                .map(|(p, d)| (p, d, 0)),
        );
        let cases = [
            ("D:\\Sites\\S1", "/App1/default.ASPX", Some(false)),
            ("d:/sites/s1", "/App1/", Some(true)),
            ("D:\\Sites\\S1\\", "/app1//Default.aspx", Some(false)),
            (" D:\\Sites\\S1", "/App1/Default.aspx ", Some(false)),
            ("D:\\Sites\\S1\\App1", "", Some(true)),
            ("D:\\Sites\\S1\\App1 ", "", Some(true)),
            ("D:\\Sites\\S1", "/App1/Default.asp", None),
            ("D:\\Sites\\S1", "/App1/Default.aspx/x", None),
        ];
        for (base, rest, want) in cases {
            assert_eq!(f.get(PathQuery::under(base, rest)), want, "{base} + {rest}");
            assert_eq!(f.get(PathQuery::under_known(base, folder_state(base), rest)), want, "{base} + {rest}, known");
        }
    }
}
