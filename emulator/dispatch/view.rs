//! The compiled, immutable view of the metabase and the content files that dispatch reads.
//!
//! [`View::compile`] walks the machine once: every site with its bindings, every web key under each
//! site's ROOT with its effective properties already computed (MB-20), the lockdown list, the
//! HTTP.sys switches, the ASP.NET ISAPI paths and the content files. Resolution then only looks
//! things up, and nothing here refers back to the machine.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use hashbrown::HashTable;

use super::canon::{HttpSysParams, HTTP_PARAMETERS_KEY};
use super::index::{ci_hash, folder_state, CiHash, CiMap, Files, PathQuery, SegTree};
use super::{Decision, HeaderText};
use crate::edition::Edition;
use crate::machine::Machine;
use crate::metabase::scriptmap::{self, MapEntry};
use crate::metabase::{Key, Metabase, Value};
use crate::policy;
use crate::runtime::{Bitness, Version};

/// AccessFlags: AccessRead (MB-23).
pub const ACCESS_READ: u32 = 1;
/// AccessFlags: AccessExecute (MB-23).
pub const ACCESS_EXECUTE: u32 = 4;
/// AccessFlags: AccessScript (MB-23).
pub const ACCESS_SCRIPT: u32 = 512;
/// DirBrowseFlags: EnableDefaultDoc (MB-23).
pub const ENABLE_DEFAULT_DOC: u32 = 0x4000_0000;
/// DirBrowseFlags: EnableDirBrowsing (MB-23).
pub const ENABLE_DIR_BROWSING: u32 = 0x8000_0000;

/// One ServerBindings entry, `IP:Port:Host`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Binding {
    /// IP address, lower-cased; empty means all unassigned.
    pub ip: String,
    /// TCP port.
    pub port: u16,
    /// Host name, lower-cased; empty means any host.
    pub host: String,
}

impl Binding {
    /// Parses `IP:Port:Host`; `None` when the port is not a number.
    pub fn parse(text: &str) -> Option<Binding> {
        let mut parts = text.trim().splitn(3, ':');
        let ip = parts.next()?.trim().to_ascii_lowercase();
        let port = parts.next()?.trim().parse::<u16>().ok()?;
        let host = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        Some(Binding { ip, port, host })
    }
}

impl std::fmt::Display for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.ip, self.port, self.host)
    }
}

/// A site as dispatch sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteView {
    /// Site ID.
    pub id: u32,
    /// ServerComment.
    pub name: String,
    /// ServerBindings that parsed, in order.
    pub bindings: Vec<Binding>,
    /// Whether the site listens: ServerAutoStart and no binding taken by an earlier started site (REQ-05).
    pub started: bool,
    /// The ROOT key's path as written.
    pub root: String,
    /// The ROOT's physical folder, `%windir%` expanded.
    pub root_physical: String,
    /// The site's ROOT in the key tree.
    pub(super) node: u32,
    /// Effective MaxConnections of the site: HTTP.sys's limit on its connections (HTTP-03).
    pub max_connections: u32,
}

/// Where a custom error's body comes from (REQ-13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorSource {
    /// A file whose contents are the body (expanded path).
    File(String),
    /// A URL executed or redirected to.
    Url(String),
}

/// One HttpErrors entry, `code,subcode|*,FILE|URL,target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomError {
    /// Status code.
    pub code: u16,
    /// Substatus, `None` for `*`.
    pub sub: Option<u16>,
    /// The body's source.
    pub source: ErrorSource,
}

/// The application a key belongs to, shared by every key in it (MB-21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    /// The application root key; the site's ROOT when no key on the way is an application.
    pub path: Arc<str>,
    /// That key in lower case: what the process model finds the application's AppDomain,
    /// web.config and sessions by.
    pub key: Arc<str>,
    /// The application's URL path.
    pub vpath: Arc<str>,
    /// Whether an application was found (false: ROOT stands in).
    pub in_app: bool,
    /// Effective AppIsolated at the application (0 Low, 1 High, 2 Medium).
    pub isolated: u32,
    /// Effective AppPoolId at the application (IIS 6; empty on IIS 5.x).
    pub pool: Arc<str>,
    /// That pool's settings, when its key exists (IIS 6).
    pub pool_settings: Option<PoolView>,
    /// Effective InProcessIsapiApps at the application (shared by applications inheriting it).
    pub in_process: Arc<IsapiSet>,
}

impl AppInfo {
    /// Whether the application's InProcessIsapiApps names the processor of `mapped` (SHR-03, MB-23).
    #[inline]
    pub fn runs_in_process(&self, mapped: &Mapped) -> bool {
        self.in_process.lists(mapped)
    }
}

/// InProcessIsapiApps entries: full paths, compared whole, and bare names, matching any folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IsapiSet {
    /// The entries, expanded and lower-cased, in order.
    pub entries: Vec<String>,
    /// The full paths, with their [`ci_hash`]: a processor is compared only on an equal hash.
    paths: Vec<(u64, Box<str>)>,
    names: CiMap<()>,
}

impl IsapiSet {
    fn new(entries: Vec<String>) -> IsapiSet {
        let mut set = IsapiSet::default();
        for e in &entries {
            if e.contains(['\\', '/']) {
                set.paths.push((ci_hash(0, e), e.as_str().into()));
            } else {
                set.names.insert_first(e, ());
            }
        }
        set.entries = entries;
        set
    }

    #[inline]
    pub(super) fn lists(&self, m: &Mapped) -> bool {
        let dll = &m.entry.processor;
        // Entries are lower-cased already, as is `dll_lc`: a plain comparison.
        self.paths.iter().any(|(h, e)| *h == m.dll_hash && **e == *m.dll_lc)
            || self.names.get_hashed(m.file_hash, &dll[m.file_at..]).is_some()
    }
}

/// A script map entry with what the view already knows of its processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The entry, processor expanded (SM-01..04).
    pub entry: MapEntry,
    /// The ASP.NET runtime whose `aspnet_isapi.dll` the processor is (VER-01).
    pub aspnet: Option<Version>,
    /// The Web Service Extension list lets the processor run (MB-23, SHR-04).
    pub allowed: bool,
    /// Where the processor's file name starts, and the hashes of its path and name.
    file_at: usize,
    /// The processor, lower-cased (InProcessIsapiApps entries are compared with it).
    dll_lc: Box<str>,
    /// Whether the entry takes GET, HEAD, POST (bits 0, 1, 2), the verbs most requests use.
    common_verbs: u8,
    dll_hash: u64,
    file_hash: u64,
    /// Its place among its map's entries by extension ([`KeyView::in_process_maps`] has a bit each).
    at: u32,
}

/// The verbs [`Mapped::allows_verb`] answers without reading the entry's list.
const COMMON_VERBS: [&str; 3] = ["GET", "HEAD", "POST"];

impl Mapped {
    /// Whether the entry's verbs take `method` (SM-04).
    #[inline]
    pub fn allows_verb(&self, method: &str) -> bool {
        // A match on the bytes compares lengths and words, not strings one by one.
        let bit = match method.as_bytes() {
            b"GET" => 0,
            b"HEAD" => 1,
            b"POST" => 2,
            _ => return self.entry.allows_verb(method),
        };
        debug_assert_eq!(COMMON_VERBS[bit], method);
        self.common_verbs & (1 << bit) != 0
    }
}

/// The non-wildcard entries of a ScriptMaps value, by extension (first entry wins, SM-02).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Maps {
    by_ext: CiMap<Mapped>,
    dotstar: Option<Mapped>,
}

impl Maps {
    /// The entry for `ext` (`.aspx`, any case).
    #[inline]
    pub fn get(&self, ext: &str) -> Option<&Mapped> {
        self.by_ext.get(ext)
    }

    /// [`Maps::get`] of the extension `text[start..end]`.
    #[inline]
    pub(super) fn get_in(&self, text: &str, start: usize, end: usize) -> Option<&Mapped> {
        self.by_ext.get_in(text, start, end)
    }

    /// The first `.*` entry (SM-06).
    pub fn dotstar(&self) -> Option<&Mapped> {
        self.dotstar.as_ref()
    }

    /// Every entry, in the value's order.
    pub fn iter(&self) -> impl Iterator<Item = &Mapped> {
        self.by_ext.iter().map(|(_, m)| m)
    }
}

/// A MimeMap by extension (`.htm`, any case; a later line for the same extension wins).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MimeMap(CiMap<String>);

impl MimeMap {
    /// The type of `ext`.
    #[inline]
    pub fn get(&self, ext: &str) -> Option<&str> {
        self.0.get(ext).map(String::as_str)
    }

    /// How many extensions it maps.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it maps nothing.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

/// One web key with its effective properties (MB-20); values inherited unchanged are shared.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyView {
    /// The key's path as written.
    pub path: Arc<str>,
    /// The site it belongs to.
    pub site: u32,
    /// Where the URL path starts in `path` (after the site's ROOT).
    vpath_at: usize,
    /// Nearest ancestor Path plus the remaining segments, `%windir%` expanded (MB-21).
    pub physical: String,
    /// The hash state of `physical`, so a file probe hashes only the URL below it.
    pub(super) physical_state: u64,
    /// The application it belongs to (MB-21).
    pub app: Arc<AppInfo>,
    /// The application's InProcessIsapiApps, here so the hot path need not read the application.
    pub(super) in_process: Arc<IsapiSet>,
    /// Which of the first 64 entries of `maps` that list names (bit [`Mapped::at`]).
    in_process_maps: u64,
    /// Effective AccessFlags.
    pub access: u32,
    /// Effective DirBrowseFlags.
    pub dir_browse: u32,
    /// Effective DefaultDoc entries, in order.
    pub default_docs: Arc<[String]>,
    /// Effective non-wildcard ScriptMaps entries, processors expanded (SM-01..04).
    pub maps: Arc<Maps>,
    /// Wildcard (`*`) entries that apply here, per policy `sm.wildcard_inherit` (SM-05, SM-08).
    pub wildcards: Arc<[Mapped]>,
    /// Effective MimeMap; `/LM/MimeMap` when no web key sets one.
    pub mime: Arc<MimeMap>,
    /// Effective HttpErrors.
    pub errors: Arc<[CustomError]>,
    /// `Server`, then the effective HttpCustomHeaders as (name, value) (HDR-02).
    pub headers: Arc<[super::Header]>,
}

impl KeyView {
    /// Whether the application's InProcessIsapiApps names the processor of `mapped`, an entry of
    /// this key's maps or wildcards (SHR-03).
    #[inline(always)]
    pub(super) fn runs_in_process(&self, mapped: &Mapped) -> bool {
        let own = self.maps.by_ext.item(mapped.at as usize).is_some_and(|m| std::ptr::eq(m, mapped));
        if own && mapped.at < 64 {
            return self.in_process_maps & (1 << mapped.at) != 0;
        }
        self.in_process.lists(mapped)
    }

    /// The URL path the key stands for (`/` for ROOT, `/shop/img`), case as written.
    pub fn vpath(&self) -> &str {
        match &self.path[self.vpath_at..] {
            "" => "/",
            rest => rest,
        }
    }
}

/// A compiled key as the key tree's slot holds it: the key, and the few of its values a request
/// that ends at a script map reads, so that such a request need not wait for the key itself (with
/// many applications, a cache miss after the slot's own). Built from the key, never changed after.
#[derive(Debug, Clone)]
pub(super) struct KeySlot {
    /// The key.
    pub(super) key: Arc<KeyView>,
    /// The key's `maps`.
    pub(super) maps: Arc<Maps>,
    /// The key's `in_process_maps`.
    in_process_maps: u64,
    /// The key's AccessFlags.
    pub(super) access: u32,
    /// The key has wildcard maps.
    pub(super) wildcards: bool,
}

impl KeySlot {
    /// The slot of `key`.
    pub(super) fn new(key: Arc<KeyView>) -> KeySlot {
        KeySlot {
            maps: key.maps.clone(),
            in_process_maps: key.in_process_maps,
            access: key.access,
            wildcards: !key.wildcards.is_empty(),
            key,
        }
    }

    /// [`KeyView::runs_in_process`], the key read only for an entry its bits do not cover.
    #[inline(always)]
    pub(super) fn runs_in_process(&self, mapped: &Mapped) -> bool {
        let own = self.maps.by_ext.item(mapped.at as usize).is_some_and(|m| std::ptr::eq(m, mapped));
        if own && mapped.at < 64 {
            return self.in_process_maps & (1 << mapped.at) != 0;
        }
        self.key.in_process.lists(mapped)
    }
}

impl std::ops::Deref for KeySlot {
    type Target = KeyView;

    #[inline(always)]
    fn deref(&self) -> &KeyView {
        &self.key
    }
}

/// A Web Service Extension row (MB-23, SHR-04).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRow {
    /// Allowed (1) or prohibited (0).
    pub allowed: bool,
    /// The DLL or EXE path, expanded and lower-cased, or `*.dll` / `*.exe`.
    pub path: String,
    /// The description column.
    pub description: String,
}

/// The policies dispatch reads, decoded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchPolicies {
    /// Status and substatus for a verb missing from a map's list (`req.verb_not_allowed`).
    pub verb_not_allowed: (u16, u16),
    /// Courtesy redirect status (`req.courtesy_redirect_status`).
    pub courtesy_redirect_status: u16,
    /// An HTTP/1.0 request without Host may reach host-named bindings (`req.no_host_binding = any`).
    pub no_host_reaches_any: bool,
    /// Status of a canonicalisation failure (`sec.canon_failure_status`).
    pub canon_failure_status: u16,
    /// Status of a `:` in a segment (`sec.colon_status`).
    pub colon_status: u16,
    /// Segments with `;` get 404 (`sec.semicolon_extension = strict`).
    pub semicolon_strict: bool,
    /// Trailing dots and spaces answer 404 instead of being stripped (`sec.trailing_dot = reject`).
    pub trailing_dot_reject: bool,
    /// How IIS 5.x treats `*` and `.*` (`sm.iis5_wildcards`): `dotstar_only`, `none` or `iis6`.
    pub iis5_wildcards: &'static str,
    /// Keys setting ScriptMaps still inherit wildcard maps (`sm.wildcard_inherit = separate`).
    pub wildcard_inherit_separate: bool,
}

impl DispatchPolicies {
    fn read(p: &policy::Policies, edition: Edition) -> DispatchPolicies {
        let status = |name: &str, fallback: u16| p.get(name).parse::<u16>().unwrap_or(fallback);
        DispatchPolicies {
            verb_not_allowed: if p.is(policy::REQ_VERB_NOT_ALLOWED, "405") { (405, 0) } else { (403, 1) },
            courtesy_redirect_status: match p.get(policy::REQ_COURTESY_REDIRECT_STATUS) {
                "by_version" if edition.is_iis6() => 301,
                "by_version" => 302,
                _ => status(policy::REQ_COURTESY_REDIRECT_STATUS, 302),
            },
            no_host_reaches_any: p.is(policy::REQ_NO_HOST_BINDING, "any"),
            canon_failure_status: status(policy::SEC_CANON_FAILURE_STATUS, 400),
            colon_status: status(policy::SEC_COLON_STATUS, 404),
            semicolon_strict: p.is(policy::SEC_SEMICOLON_EXTENSION, "strict"),
            trailing_dot_reject: p.is(policy::SEC_TRAILING_DOT, "reject"),
            iis5_wildcards: p.get(policy::SM_IIS5_WILDCARDS),
            wildcard_inherit_separate: p.is(policy::SM_WILDCARD_INHERIT, "separate"),
        }
    }
}

/// The compiled view: everything resolution needs, looked up without regard to case.
#[derive(Debug, Clone)]
pub struct View {
    pub(super) edition: Edition,
    pub(super) http: HttpSysParams,
    pub(super) policies: DispatchPolicies,
    pub(super) sites: Vec<SiteView>,
    pub(super) bindings: Bindings,
    pub(super) stopped: Vec<usize>,
    pub(super) keys: SegTree<KeySlot>,
    pub(super) extensions: Vec<ExtensionRow>,
    pub(super) aspnet: BTreeMap<String, Version>,
    pub(super) files: Arc<Files>,
    pub(super) pools: CiMap<PoolView>,
    /// `EnableTraceMethod` under [`W3SVC_PARAMETERS_KEY`] is 1 (HTTP-15).
    pub(super) trace_enabled: bool,
    /// WebDAV is allowed: any IIS 5.x, or IIS 6 with the WebDAV extension allowed (HTTP-16).
    pub(super) webdav: bool,
    /// The metabase's change number, the second part of static files' ETags (HTTP-25).
    pub(super) change_number: u64,
    pub(super) notes: Vec<Decision>,
    /// The state of the machine compiled.
    stamp: Stamp,
    /// The values keys fall back to, shared by a patched view with the view it patches.
    base: Base,
}

/// What a key holds when no key on its way sets a value: the machine's MIME map, no script maps,
/// no custom errors.
#[derive(Debug, Clone)]
struct Base {
    machine_mime: Arc<MimeMap>,
    empty_maps: (Arc<Maps>, Arc<[Mapped]>),
    no_errors: Arc<[CustomError]>,
}

impl Base {
    fn of(m: &Machine) -> Base {
        let mime = mime_map(&m.metabase().own_list("/LM/MimeMap", "MimeMap"));
        Base {
            machine_mime: Arc::new(mime),
            empty_maps: (Arc::new(Maps::default()), Vec::new().into()),
            no_errors: Vec::new().into(),
        }
    }
}

/// Which state of a machine a view was compiled from: the metabase's version, the disk's, and
/// the count of every other change ([`Machine::generation_of_settings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    settings: u64,
    disk: u64,
    metabase: u64,
}

impl Stamp {
    fn of(m: &Machine) -> Stamp {
        Stamp { settings: m.generation_of_settings(), disk: m.fs().version(), metabase: m.metabase().version() }
    }
}

/// The registry key of W3SVC's own settings (HTTP-15).
pub const W3SVC_PARAMETERS_KEY: &str = r"HKLM\SYSTEM\CurrentControlSet\Services\W3SVC\Parameters";

/// An application pool's settings a request needs (IIS 6, MB-22, PM6-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolView {
    /// Effective MaxProcesses: the web garden's size (0 as the metabase has it).
    pub max_processes: u32,
    /// Effective AppPoolIdentityType.
    pub identity_type: u32,
    /// Effective AppPoolQueueLength: how many requests HTTP.sys queues for the pool (HTTP-03).
    pub queue_length: u32,
}

/// Started sites' bindings by (port, IP, host): the first started site with a binding wins (REQ-04).
#[derive(Debug, Clone, Default)]
pub(super) struct Bindings {
    table: HashTable<(u32, u32)>,
    /// The all-unassigned bindings (`:port:`) by port, the one lookup most requests need.
    open: Vec<(u16, u32, u32)>,
    /// Some binding names a host / an IP address: otherwise those lookups are skipped.
    pub(super) host_named: bool,
    pub(super) ip_bound: bool,
}

impl Bindings {
    fn hash(port: u16, ip: &str, host: &str) -> u64 {
        let mut h = CiHash::new(u64::from(port));
        h.str(ip);
        h.byte(0xff);
        h.str(host);
        h.finish()
    }

    fn insert(&mut self, sites: &[SiteView], site: usize, binding: usize) {
        let b = &sites[site].bindings[binding];
        if self.get(sites, b.port, &b.ip, &b.host).is_some() {
            return;
        }
        self.host_named |= !b.host.is_empty();
        self.ip_bound |= !b.ip.is_empty();
        let at = (u32::try_from(site).expect("few sites"), u32::try_from(binding).expect("few bindings"));
        if b.ip.is_empty() && b.host.is_empty() {
            self.open.push((b.port, at.0, at.1));
        }
        self.table.insert_unique(Self::hash(b.port, &b.ip, &b.host), at, |&(s, i)| {
            let b = &sites[s as usize].bindings[i as usize];
            Self::hash(b.port, &b.ip, &b.host)
        });
    }

    /// The started site with binding `ip:port:host` exactly (IP and host without regard to case).
    #[inline]
    pub(super) fn get(&self, sites: &[SiteView], port: u16, ip: &str, host: &str) -> Option<(usize, usize)> {
        if ip.is_empty() && host.is_empty() {
            return self.open.iter().find(|o| o.0 == port).map(|&(_, s, i)| (s as usize, i as usize));
        }
        self.table
            .find(Self::hash(port, ip, host), |&(s, i)| {
                let b = &sites[s as usize].bindings[i as usize];
                b.port == port && b.ip.eq_ignore_ascii_case(ip) && b.host.eq_ignore_ascii_case(host)
            })
            .map(|&(s, i)| (s as usize, i as usize))
    }
}

/// Lower-cases a Windows path and normalises separators, as the emulated disk compares them.
pub(super) fn fs_key(path: &str) -> String {
    path.trim().replace('/', "\\").trim_end_matches('\\').to_ascii_lowercase()
}

/// A script processor's path without CGI arguments or quotes (`"C:\x.exe" %s` -> `C:\x.exe`).
pub(super) fn processor_path(processor: &str) -> String {
    let p = processor.trim();
    if let Some(rest) = p.strip_prefix('"') {
        return rest.split('"').next().unwrap_or_default().to_string();
    }
    let lc = p.to_ascii_lowercase();
    for ext in [".dll ", ".exe "] {
        if let Some(idx) = lc.find(ext) {
            return p[..idx + ext.len() - 1].to_string();
        }
    }
    p.to_string()
}

/// InProcessIsapiApps entries as dispatch compares them: `%windir%` expanded, lower-cased.
pub fn isapi_list(m: &Machine, entries: &[String]) -> Vec<String> {
    entries.iter().map(|e| m.expand(e.trim()).to_ascii_lowercase()).filter(|e| !e.is_empty()).collect()
}

/// Whether entries made by [`isapi_list`] name `dll`: full paths compare case-insensitively, bare
/// names match any folder (SHR-03, MB-23).
pub fn lists_isapi(entries: &[String], dll: &str) -> bool {
    let file = dll.rsplit(['\\', '/']).next().unwrap_or_default();
    entries
        .iter()
        .any(|e| if e.contains(['\\', '/']) { e.eq_ignore_ascii_case(dll) } else { e.eq_ignore_ascii_case(file) })
}

fn list(v: Option<&Value>) -> &[String] {
    v.and_then(Value::as_multi).unwrap_or_default()
}

fn dword(mb: &Metabase, path: &str, prop: &str, fallback: u32) -> u32 {
    mb.effective(path, prop).and_then(|(v, _)| v.as_dword()).unwrap_or(fallback)
}

fn string(mb: &Metabase, path: &str, prop: &str) -> String {
    mb.effective(path, prop).and_then(|(v, _)| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Parses a MimeMap list (`.ext,type`) into a map by extension.
fn mime_map(lines: &[String]) -> MimeMap {
    let mut map = CiMap::default();
    for (ext, ty) in lines.iter().filter_map(|l| l.split_once(',')) {
        let (ext, ty) = (ext.trim().to_ascii_lowercase(), ty.trim());
        if !ext.is_empty() && !ty.is_empty() {
            map.insert_last(&ext, ty.to_string());
        }
    }
    MimeMap(map)
}

/// The inheritable properties a key's view is made of, in [`Frame::eff`] order.
const PROPS: [&str; 10] = [
    "ScriptMaps",
    "MimeMap",
    "HttpErrors",
    "HttpCustomHeaders",
    "AccessFlags",
    "DirBrowseFlags",
    "DefaultDoc",
    "InProcessIsapiApps",
    "AppIsolated",
    "AppPoolId",
];
const SCRIPT_MAPS: usize = 0;
const MIME_MAP: usize = 1;
const HTTP_ERRORS: usize = 2;
const CUSTOM_HEADERS: usize = 3;
const ACCESS_FLAGS: usize = 4;
const DIR_BROWSE_FLAGS: usize = 5;
const DEFAULT_DOC: usize = 6;
const IN_PROCESS: usize = 7;
const APP_ISOLATED: usize = 8;
const APP_POOL_ID: usize = 9;

/// The schema defaults of [`PROPS`], the effective values where no key sets one (MB-20).
fn defaults() -> &'static [Option<Value>; PROPS.len()] {
    static DEFAULTS: std::sync::OnceLock<[Option<Value>; PROPS.len()]> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(|| PROPS.map(crate::metabase::schema_default))
}

/// What a metabase key passes down to the keys below it, during the one walk of [`View::compile`].
#[derive(Clone)]
struct Frame<'m> {
    path: &'m str,
    /// The nearest own value of each of [`PROPS`] at or above this key (MB-16, MB-20).
    eff: [Option<&'m Value>; PROPS.len()],
    /// The nearest own MULTISZ ScriptMaps, and the nearest one holding a wildcard (SM-05, SM-08).
    wild_first: Option<&'m Value>,
    wild_sep: Option<&'m Value>,
    /// The nearest own Path and the path of the key that set it (MB-21).
    path_src: Option<(&'m str, &'m str)>,
    /// Inside a site's ROOT: (site index, the key's tree node, its application if any).
    site: Option<(usize, u32, Option<Arc<AppInfo>>)>,
}

/// A ScriptMaps value compiled: its non-wildcard entries and its wildcards, each once known.
type MapsSlot = (Option<Arc<Maps>>, Option<Arc<[Mapped]>>);

/// Values compiled once per metabase value they come from, so keys inheriting it share them.
struct Compiler<'m> {
    m: &'m Machine,
    defaults: &'m [Option<Value>; PROPS.len()],
    /// Either half may be known before the other: a patch starts from the parent's.
    maps: HashMap<usize, MapsSlot>,
    mime: HashMap<usize, Arc<MimeMap>>,
    errors: HashMap<usize, Arc<[CustomError]>>,
    headers: HashMap<usize, Arc<[super::Header]>>,
    docs: HashMap<usize, Arc<[String]>>,
    in_process: HashMap<usize, Arc<IsapiSet>>,
    machine_mime: Arc<MimeMap>,
    server: String,
    pools: &'m CiMap<PoolView>,
    empty_maps: (Arc<Maps>, Arc<[Mapped]>),
    no_errors: Arc<[CustomError]>,
    /// When patching: compiled keys of the view patched, whose values equal ones are taken from.
    known: Vec<Arc<KeyView>>,
}

/// `new`, or the equal value one of the `known` keys holds in `field`, so that a patched view
/// shares what a whole compile would have shared.
fn share<T: PartialEq + ?Sized>(new: Arc<T>, known: &[Arc<KeyView>], field: impl Fn(&KeyView) -> &Arc<T>) -> Arc<T> {
    known.iter().map(|k| field(k)).find(|k| ***k == *new).cloned().unwrap_or(new)
}

/// A cache slot for a value: its address while the metabase is borrowed (0 for "none").
fn addr(v: Option<&Value>) -> usize {
    v.map_or(0, |v| v as *const Value as usize)
}

impl<'m> Compiler<'m> {
    fn value(&self, frame: &Frame<'m>, prop: usize) -> Option<&'m Value> {
        frame.eff[prop].or(self.defaults[prop].as_ref())
    }

    fn dword(&self, frame: &Frame<'m>, prop: usize, fallback: u32) -> u32 {
        self.value(frame, prop).and_then(Value::as_dword).unwrap_or(fallback)
    }

    fn string(&self, frame: &Frame<'m>, prop: usize) -> String {
        self.value(frame, prop).and_then(Value::as_str).unwrap_or_default().to_string()
    }

    /// Parsed ScriptMaps entries: (non-wildcard by extension, wildcards), processors expanded (MB-12).
    fn maps(
        &mut self,
        v: Option<&Value>,
        aspnet: &BTreeMap<String, Version>,
        ext: &[ExtensionRow],
    ) -> (Arc<Maps>, Arc<[Mapped]>) {
        let Some(lines) = v.and_then(Value::as_multi) else { return self.empty_maps.clone() };
        let m = self.m;
        let slot = self.maps.entry(addr(v)).or_default();
        if let (Some(maps), Some(wild)) = &slot {
            return (maps.clone(), wild.clone());
        }
        let (maps, wild) = {
            let mut maps = Maps::default();
            let mut wild = Vec::new();
            for line in scriptmap::parse_list(lines) {
                let Some(e) = line.entry() else { continue };
                let mut entry = e.clone();
                entry.processor = m.expand(&processor_path(&entry.processor));
                let key = fs_key(&entry.processor);
                let dll = entry.processor.as_str();
                let file_at = dll.rfind(['\\', '/']).map_or(0, |i| i + 1);
                let mapped = Mapped {
                    aspnet: aspnet.get(&key).copied(),
                    allowed: extension_allowed(ext, &key),
                    file_at,
                    dll_lc: dll.to_ascii_lowercase().into(),
                    common_verbs: COMMON_VERBS.iter().enumerate().map(|(i, v)| u8::from(e.allows_verb(v)) << i).sum(),
                    dll_hash: ci_hash(0, dll),
                    file_hash: ci_hash(0, &dll[file_at..]),
                    at: u32::try_from(maps.by_ext.len()).unwrap_or(u32::MAX),
                    entry,
                };
                if mapped.entry.is_wildcard() {
                    wild.push(mapped);
                } else {
                    if mapped.entry.extension == ".*" && maps.dotstar.is_none() {
                        maps.dotstar = Some(mapped.clone());
                    }
                    let ext = mapped.entry.extension.clone();
                    maps.by_ext.insert_first(&ext, mapped);
                }
            }
            (maps, wild)
        };
        let known = &self.known;
        let maps = slot.0.get_or_insert_with(|| share(Arc::new(maps), known, |k| &k.maps)).clone();
        let wild = slot.1.get_or_insert_with(|| share(wild.into(), known, |k| &k.wildcards)).clone();
        (maps, wild)
    }

    /// Takes `parent`'s compiled values as those of the metabase values its `frame` holds, so that
    /// keys below it inheriting them share them without compiling them again.
    fn seed(&mut self, frame: &Frame<'m>, parent: &KeyView, policies: &DispatchPolicies) {
        let multi = |v: Option<&Value>| v.and_then(Value::as_multi).is_some();
        if multi(frame.eff[SCRIPT_MAPS]) {
            self.maps.entry(addr(frame.eff[SCRIPT_MAPS])).or_default().0 = Some(parent.maps.clone());
        }
        let wild_src = if policies.wildcard_inherit_separate { frame.wild_sep } else { frame.wild_first };
        if multi(wild_src) {
            self.maps.entry(addr(wild_src)).or_default().1 = Some(parent.wildcards.clone());
        }
        if matches!(frame.eff[MIME_MAP], Some(Value::MultiSz(_))) {
            self.mime.insert(addr(frame.eff[MIME_MAP]), parent.mime.clone());
        }
        if multi(frame.eff[HTTP_ERRORS]) {
            self.errors.insert(addr(frame.eff[HTTP_ERRORS]), parent.errors.clone());
        }
        self.headers.insert(addr(frame.eff[CUSTOM_HEADERS]), parent.headers.clone());
        self.docs.insert(addr(self.value(frame, DEFAULT_DOC)), parent.default_docs.clone());
    }

    fn mime(&mut self, v: Option<&Value>) -> Arc<MimeMap> {
        match v {
            Some(Value::MultiSz(lines)) => {
                let known = &self.known;
                self.mime.entry(addr(v)).or_insert_with(|| share(Arc::new(mime_map(lines)), known, |k| &k.mime)).clone()
            }
            _ => self.machine_mime.clone(),
        }
    }

    fn errors(&mut self, v: Option<&Value>) -> Arc<[CustomError]> {
        if v.and_then(Value::as_multi).is_none() {
            return self.no_errors.clone();
        }
        let m = self.m;
        let known = &self.known;
        self.errors
            .entry(addr(v))
            .or_insert_with(|| share(custom_errors(m, list(v)).into(), known, |k| &k.errors))
            .clone()
    }

    fn headers(&mut self, v: Option<&Value>) -> Arc<[super::Header]> {
        let (server, known) = (&self.server, &self.known);
        self.headers
            .entry(addr(v))
            .or_insert_with(|| {
                let shared = |t: &str| HeaderText::Shared(Arc::from(t));
                let mut h = vec![(HeaderText::Static("Server"), shared(server))];
                h.extend(list(v).iter().filter(|h| !h.trim().is_empty()).map(|h| match h.split_once(':') {
                    Some((n, v)) => (shared(n.trim()), shared(v.trim())),
                    None => (shared(h.trim()), HeaderText::Static("")),
                }));
                share(h.into(), known, |k| &k.headers)
            })
            .clone()
    }

    fn docs(&mut self, v: Option<&Value>) -> Arc<[String]> {
        let known = &self.known;
        self.docs
            .entry(addr(v))
            .or_insert_with(|| {
                let text = v.and_then(Value::as_str).unwrap_or_default();
                let docs = text.split(',').map(str::trim).filter(|d| !d.is_empty()).map(str::to_string).collect();
                share(docs, known, |k| &k.default_docs)
            })
            .clone()
    }

    /// The application of a key: itself when its own AppRoot names it, else its parent's; the
    /// site's ROOT stands in when there is none (MB-21).
    fn app(
        &mut self,
        frame: &Frame<'m>,
        key: &Key,
        root: &str,
        parent_app: Option<Arc<AppInfo>>,
    ) -> Option<Arc<AppInfo>> {
        let own = key.get("AppRoot").and_then(Value::as_str).map(crate::metabase::normalize);
        let is_app = own.is_some_and(|a| a.eq_ignore_ascii_case(key.path()));
        if !is_app {
            return parent_app;
        }
        Some(Arc::new(self.app_info(frame, key.path(), root, true)))
    }

    fn app_info(&mut self, frame: &Frame<'m>, path: &str, root: &str, in_app: bool) -> AppInfo {
        let v = self.value(frame, IN_PROCESS);
        let m = self.m;
        let known = &self.known;
        let in_process = self
            .in_process
            .entry(addr(v))
            .or_insert_with(|| share(Arc::new(IsapiSet::new(isapi_list(m, list(v)))), known, |k| &k.app.in_process))
            .clone();
        let pool = if self.m.edition().is_iis6() { self.string(frame, APP_POOL_ID) } else { String::new() };
        AppInfo {
            path: path.into(),
            key: path.to_ascii_lowercase().into(),
            vpath: vpath(root, path).into(),
            in_app,
            isolated: self.dword(frame, APP_ISOLATED, 2),
            pool_settings: self.pools.get(&pool).copied(),
            pool: pool.into(),
            in_process,
        }
    }
}

/// Whether a ScriptMaps value holds a well-formed wildcard (`*`) entry (SM-05); only lines whose
/// extension is `*` are parsed.
fn has_wildcard(lines: &[String]) -> bool {
    lines.iter().filter(|l| l.split(',').next().map(str::trim) == Some("*")).any(|l| MapEntry::parse(l).is_ok())
}

/// HttpErrors lines as (code, sub, source); malformed lines are skipped (REQ-13).
fn custom_errors(m: &Machine, lines: &[String]) -> Vec<CustomError> {
    lines
        .iter()
        .filter_map(|line| {
            let mut f = line.splitn(4, ',').map(str::trim);
            let code = f.next()?.parse::<u16>().ok()?;
            let sub = match f.next()? {
                "*" => None,
                s => Some(s.parse::<u16>().ok()?),
            };
            let kind = f.next()?.to_ascii_uppercase();
            let target = f.next()?.to_string();
            let source = match kind.as_str() {
                "FILE" => ErrorSource::File(m.expand(&target)),
                "URL" => ErrorSource::Url(target),
                _ => return None,
            };
            Some(CustomError { code, sub, source })
        })
        .collect()
}

/// Whether the Web Service Extension list lets the processor (as [`fs_key`] gives it) run (MB-23,
/// SHR-04): its own row, else the `*.dll` or `*.exe` row; unlisted means prohibited.
fn extension_allowed(rows: &[ExtensionRow], lc: &str) -> bool {
    if let Some(row) = rows.iter().find(|r| r.path == lc) {
        return row.allowed;
    }
    let wild = if lc.ends_with(".exe") { "*.exe" } else { "*.dll" };
    rows.iter().find(|r| r.path == wild).is_some_and(|r| r.allowed)
}

/// Whether `path` is `base` or below it (metabase paths, any case).
fn is_below(path: &str, base: &str) -> bool {
    path.len() > base.len() && path.as_bytes()[base.len()] == b'/' && path[..base.len()].eq_ignore_ascii_case(base)
}

impl View {
    /// Compiles the machine's current state into a view, in one walk of the metabase and one of
    /// the disk.
    pub fn compile(m: &Machine) -> View {
        let mb = m.metabase();
        let policies = DispatchPolicies::read(m.policies(), m.edition());
        let mut notes = Vec::new();
        let reg_dword = |key: &str, name: &str| {
            let text = m.registry().get(key, name)?.trim().to_ascii_lowercase();
            match text.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => text.parse::<u32>().ok(),
            }
        };
        let http = HttpSysParams::from_values(|name| reg_dword(HTTP_PARAMETERS_KEY, name));
        let trace_enabled = reg_dword(W3SVC_PARAMETERS_KEY, "EnableTraceMethod").is_some_and(|v| v != 0);

        let mut sites = Vec::new();
        let mut taken: BTreeSet<Binding> = BTreeSet::new();
        let mut ids: Vec<(u32, String)> = mb
            .children("/LM/W3SVC")
            .filter_map(|k| {
                let last = k.path().rsplit('/').next().unwrap_or_default();
                last.parse::<u32>().ok().map(|id| (id, k.path().to_string()))
            })
            .collect();
        ids.sort();
        let mut keys = SegTree::default();
        for (id, site_path) in ids {
            let Some(root_key) = mb.key(&format!("{site_path}/ROOT")) else {
                notes.push(Decision::new(format!("site {id} has no ROOT key and serves nothing"), &["REQ-06"]));
                continue;
            };
            let root = root_key.path().to_string();
            let mut bindings = Vec::new();
            for text in mb.own_list(&site_path, "ServerBindings") {
                match Binding::parse(&text) {
                    Some(b) => bindings.push(b),
                    None => notes.push(Decision::new(
                        format!("site {id}: binding \"{text}\" is not IP:Port:Host and is ignored"),
                        &["MB-23"],
                    )),
                }
            }
            let auto = dword(mb, &site_path, "ServerAutoStart", 1) != 0;
            let clash = bindings.iter().find(|b| taken.contains(*b)).cloned();
            let started = auto && clash.is_none();
            if let (true, Some(b)) = (auto, &clash) {
                notes.push(Decision::new(
                    format!("site {id} cannot start: binding {b} belongs to a started site"),
                    &["REQ-05"],
                ));
            }
            if started {
                taken.extend(bindings.iter().cloned());
            }
            let name = string(mb, &site_path, "ServerComment");
            let node = keys.root(&id.to_string());
            let max_connections = dword(mb, &site_path, "MaxConnections", u32::MAX);
            sites.push(SiteView {
                id,
                name,
                bindings,
                started,
                root,
                root_physical: String::new(),
                node,
                max_connections,
            });
        }
        let mut index = Bindings::default();
        let mut stopped = Vec::new();
        for (i, site) in sites.iter().enumerate() {
            if !site.started {
                stopped.push(i);
                continue;
            }
            for b in 0..site.bindings.len() {
                index.insert(&sites, i, b);
            }
        }

        let extensions: Vec<ExtensionRow> = mb
            .own_list("/LM/W3SVC", "WebSvcExtRestrictionList")
            .iter()
            .filter_map(|row| {
                let fields: Vec<&str> = row.split(',').map(str::trim).collect();
                let path = fields.get(1).filter(|p| !p.is_empty())?;
                Some(ExtensionRow {
                    allowed: fields[0] == "1",
                    path: m.expand(path).to_ascii_lowercase(),
                    description: fields.get(4).or(fields.get(3)).map(|d| d.to_string()).unwrap_or_default(),
                })
            })
            .collect();

        let aspnet = aspnet_dlls(m);

        let mut pools = CiMap::default();
        for key in mb.children("/LM/W3SVC/AppPools") {
            let name = key.path().rsplit('/').next().unwrap_or_default();
            let pool = PoolView {
                max_processes: dword(mb, key.path(), "MaxProcesses", 0),
                identity_type: dword(mb, key.path(), "AppPoolIdentityType", 0),
                queue_length: dword(mb, key.path(), "AppPoolQueueLength", 1000),
            };
            pools.insert_first(name, pool);
        }
        let base = Base::of(m);
        let mut walk = Walk::new(m, &policies, &sites, &base, (&aspnet, &extensions, &pools));
        for key in mb.keys() {
            walk.visit(key, &mut sites, &mut keys, true);
        }
        drop(walk);
        let files = Arc::new(Files::new(m.fs().entries_timed()));
        // A row `1,<path>\httpext.dll,...` of WebSvcExtRestrictionList allows WebDAV (HTTP-16).
        let webdav = !m.edition().is_iis6()
            || mb.own("/LM/W3SVC", "WebSvcExtRestrictionList").and_then(Value::as_multi).is_some_and(|rows| {
                rows.iter().any(|r| {
                    let mut f = r.split(',');
                    f.next().is_some_and(|a| a.trim() == "1")
                        && f.next().is_some_and(|p| p.trim().to_ascii_lowercase().ends_with("\\httpext.dll"))
                })
            });
        View {
            edition: m.edition(),
            http,
            policies,
            sites,
            bindings: index,
            stopped,
            keys,
            extensions,
            aspnet,
            files,
            pools,
            trace_enabled,
            webdav,
            change_number: mb.version(),
            notes,
            stamp: Stamp::of(m),
            base,
        }
    }

    /// The view of `m` made from `old`, a view of an earlier state of the same machine: `old`
    /// itself when nothing changed; when only web keys under sites' ROOTs or files on the disk
    /// changed, `old` with the changed keys' subtrees compiled again from their parents' inherited
    /// values and the disk's file table read again, everything else shared; otherwise (sites,
    /// bindings, pools, a change log that no longer reaches back, an aspnet_isapi.dll added or
    /// removed, the registry, runtimes) compiled whole.
    pub fn update(old: &Arc<View>, m: &Machine) -> Arc<View> {
        let stamp = Stamp::of(m);
        if old.stamp == stamp {
            return old.clone();
        }
        if old.stamp.settings == stamp.settings {
            let view = if old.stamp.disk == stamp.disk {
                old.patched(m)
            } else {
                old.with_disk(m).and_then(|v| if v.stamp.metabase == stamp.metabase { Some(v) } else { v.patched(m) })
            };
            if let Some(mut v) = view {
                v.stamp = stamp;
                return Arc::new(v);
            }
        }
        Arc::new(View::compile(m))
    }

    /// This view with the disk's files read again, or `None` when the disk's change touches what
    /// keys were compiled from (an aspnet_isapi.dll under a Framework folder, VER-01).
    fn with_disk(&self, m: &Machine) -> Option<View> {
        if aspnet_dlls(m) != self.aspnet {
            return None;
        }
        let mut view = self.clone();
        view.files = Arc::new(Files::new(m.fs().entries_timed()));
        view.stamp.disk = m.fs().version();
        Some(view)
    }

    /// This view with the web keys changed since it was compiled compiled again, or `None` when a
    /// change is not confined to web keys under a site's ROOT.
    fn patched(&self, m: &Machine) -> Option<View> {
        let mb = m.metabase();
        let changed = mb.changes_since(self.stamp.metabase)?;
        // The topmost changed keys, each with its site: a change below another is inside its subtree.
        let mut tops: Vec<(String, usize)> = Vec::new();
        let mut paths: Vec<String> = changed.into_iter().map(crate::metabase::normalize).collect();
        // Segment by segment, so that a key's subtree follows it at once (`/a`, `/a/b`, `/a-x`).
        paths.sort_by_key(|p| p.to_ascii_lowercase().replace('/', "\u{1}"));
        paths.dedup_by(|b, a| b.eq_ignore_ascii_case(a) || is_below(b, a));
        for path in paths {
            let site =
                self.sites.iter().position(|s| path.eq_ignore_ascii_case(&s.root) || is_below(&path, &s.root))?;
            if !mb.exists(&self.sites[site].root) {
                return None;
            }
            tops.push((path, site));
        }
        // Nodes of deleted keys stay (without a key); past a bound the tree is compiled afresh.
        if self.keys.node_count() > 2 * self.keys.len() + 1024 {
            return None;
        }
        let mut view = self.clone();
        let mut sites = std::mem::take(&mut view.sites);
        let mut tree = std::mem::take(&mut view.keys);
        let mut walk = Walk::new(m, &self.policies, &sites, &self.base, (&self.aspnet, &self.extensions, &self.pools));
        for (path, site) in &tops {
            let root = &sites[*site].root;
            let mut node = Some(sites[*site].node);
            for seg in path[root.len()..].split('/').filter(|s| !s.is_empty()) {
                node = node.and_then(|n| tree.child(n, seg));
            }
            // What the key and its parent held: values equal to theirs are shared, not copied.
            walk.c.known.clear();
            walk.c.known.extend(node.and_then(|n| tree.value(n)).map(|s| s.key.clone()));
            if let Some(n) = node {
                tree.clear_below(n);
            }
            walk.stack.clear();
            let mut at = String::new();
            let mut ancestors = vec![mb.key("/")];
            for seg in path.split('/').filter(|s| !s.is_empty()) {
                at.push('/');
                at.push_str(seg);
                ancestors.push(mb.key(&at));
            }
            ancestors.pop();
            for key in ancestors.into_iter().flatten() {
                if !walk.visit(key, &mut sites, &mut tree, false) {
                    return None;
                }
            }
            if let Some(parent) = walk.stack.last() {
                if let Some(kv) = parent.site.as_ref().and_then(|&(_, node, _)| tree.value(node)) {
                    walk.c.seed(parent, kv, &self.policies);
                    walk.c.known.push(kv.key.clone());
                }
            }
            for key in mb.subtree(path) {
                walk.visit(key, &mut sites, &mut tree, true);
            }
        }
        drop(walk);
        view.sites = sites;
        view.keys = tree;
        view.stamp = Stamp::of(m);
        // Static files' ETags end with the metabase's change number (HTTP-25).
        view.change_number = mb.version();
        Some(view)
    }

    /// The Windows edition (and so the IIS version).
    pub fn edition(&self) -> Edition {
        self.edition
    }

    /// The HTTP.sys switches in force.
    pub fn http_params(&self) -> &HttpSysParams {
        &self.http
    }

    /// The policies dispatch reads.
    pub fn policies(&self) -> &DispatchPolicies {
        &self.policies
    }

    /// Every site, by ID.
    pub fn sites(&self) -> &[SiteView] {
        &self.sites
    }

    /// The site with this ID.
    pub fn site(&self, id: u32) -> Option<&SiteView> {
        self.sites.iter().find(|s| s.id == id)
    }

    /// The web key at `path` (case-insensitive).
    pub fn key(&self, path: &str) -> Option<&KeyView> {
        let path = crate::metabase::normalize(path);
        let site = self.sites.iter().find(|s| path.eq_ignore_ascii_case(&s.root) || is_below(&path, &s.root))?;
        let mut node = site.node;
        for seg in path[site.root.len()..].split('/').filter(|s| !s.is_empty()) {
            node = self.keys.child(node, seg)?;
        }
        self.keys.value(node).map(|k| &**k)
    }

    /// How many web keys the view holds.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Every web key, site by site in path order.
    pub fn keys(&self) -> impl Iterator<Item = &KeyView> {
        self.keys.values().map(|k| &**k)
    }

    /// The site's ROOT key.
    #[inline]
    pub(super) fn root_key(&self, site: &SiteView) -> &KeySlot {
        self.keys.value(site.node).expect("every site's ROOT is compiled")
    }

    /// The application pool named `name` (IIS 6), if its key exists.
    pub fn pool(&self, name: &str) -> Option<&PoolView> {
        self.pools.get(name)
    }

    /// The Web Service Extension rows (IIS 6).
    pub fn extensions(&self) -> &[ExtensionRow] {
        &self.extensions
    }

    /// The ASP.NET runtime whose `aspnet_isapi.dll` is at `dll`, if it is one.
    pub fn aspnet_version(&self, dll: &str) -> Option<Version> {
        self.aspnet.get(&fs_key(dll)).copied()
    }

    /// Whether `path` is a content file.
    pub fn is_file(&self, path: &str) -> bool {
        self.files.get(PathQuery::whole(path)) == Some(false)
    }

    /// Whether `path` is a content file or folder: one probe.
    pub fn exists(&self, path: &str) -> bool {
        self.files.get(PathQuery::whole(path)).is_some()
    }

    /// Whether `path` is a content folder.
    pub fn is_dir(&self, path: &str) -> bool {
        self.files.get(PathQuery::whole(path)) == Some(true)
    }

    /// When the file or folder `base` + `rest` (URL segments) was last written (virtual seconds).
    #[inline]
    pub(super) fn file_time(&self, base: &str, rest: &str) -> Option<u64> {
        self.files.modified(PathQuery::under(base, rest))
    }

    /// Whether the file or folder under `key`'s physical path at `rest` (URL segments) exists:
    /// `Some(true)` a folder.
    #[inline]
    pub(super) fn file(&self, key: &KeyView, rest: &str) -> Option<bool> {
        self.files.get(PathQuery::under_known(&key.physical, key.physical_state, rest))
    }

    /// The entries directly inside content folder `dir`: (name as written, is a folder), in order.
    pub fn list(&self, dir: &str) -> Vec<(String, bool)> {
        self.files.list(dir)
    }

    /// How many files and folders the view knows.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// What compiling noticed and set aside (malformed bindings, sites that cannot start).
    pub fn notes(&self) -> &[Decision] {
        &self.notes
    }

    /// Whether the Web Service Extension list lets `dll` run (MB-23, SHR-04): its own row, else the
    /// `*.dll` or `*.exe` row; unlisted means prohibited.
    pub fn extension_allowed(&self, dll: &str) -> bool {
        extension_allowed(&self.extensions, &fs_key(dll))
    }
}

/// The URL path a key under `root` stands for.
fn vpath(root: &str, path: &str) -> String {
    let rest = path.get(root.len()..).unwrap_or_default();
    if rest.is_empty() {
        "/".into()
    } else {
        rest.to_string()
    }
}

/// Every aspnet_isapi.dll a script map may name, lower-cased, with the runtime it belongs to: the
/// machine's own, and copies on the disk under other Framework folders.
fn aspnet_dlls(m: &Machine) -> BTreeMap<String, Version> {
    let mut aspnet = BTreeMap::new();
    for v in Version::ALL {
        for b in [Bitness::X86, Bitness::X64] {
            aspnet.insert(format!("{}\\aspnet_isapi.dll", m.framework_dir_of(v, b)).to_ascii_lowercase(), v);
        }
    }
    // Copies under other Framework folders still name their runtime by the folder (VER-01).
    for (path, dir) in m.fs().entries() {
        let named = path.len() >= 16
            && path.is_char_boundary(path.len() - 16)
            && path[path.len() - 16..].eq_ignore_ascii_case("aspnet_isapi.dll");
        if dir || !named {
            continue;
        }
        let lc = path.to_ascii_lowercase();
        let mut parts = lc.rsplit('\\');
        let (Some("aspnet_isapi.dll"), Some(folder), Some(fw)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if fw != "framework" && fw != "framework64" {
            continue;
        }
        if let Some(v) = Version::ALL.into_iter().find(|v| v.folder_name() == folder) {
            aspnet.entry(lc.clone()).or_insert(v);
        }
    }
    aspnet
}

/// The walk of the metabase's keys, in path order, that compiles the web keys under the sites'
/// ROOTs, passing inherited values down (MB-16, MB-20, MB-21) instead of looking each one up again.
struct Walk<'m> {
    c: Compiler<'m>,
    policies: &'m DispatchPolicies,
    aspnet: &'m BTreeMap<String, Version>,
    extensions: &'m [ExtensionRow],
    /// Each site's ROOT path, lower-cased, to its index.
    roots: HashMap<String, usize>,
    stack: Vec<Frame<'m>>,
    /// Per site: the application keys in no application share, computed at the ROOT.
    stand_in: Vec<Option<Arc<AppInfo>>>,
}

impl<'m> Walk<'m> {
    fn new(
        m: &'m Machine,
        policies: &'m DispatchPolicies,
        sites: &[SiteView],
        base: &Base,
        (aspnet, extensions, pools): (&'m BTreeMap<String, Version>, &'m [ExtensionRow], &'m CiMap<PoolView>),
    ) -> Walk<'m> {
        let c = Compiler {
            m,
            defaults: defaults(),
            maps: HashMap::new(),
            mime: HashMap::new(),
            errors: HashMap::new(),
            headers: HashMap::new(),
            docs: HashMap::new(),
            in_process: HashMap::new(),
            machine_mime: base.machine_mime.clone(),
            server: format!("Microsoft-IIS/{}", m.edition().iis_version()),
            pools,
            empty_maps: base.empty_maps.clone(),
            no_errors: base.no_errors.clone(),
            known: Vec::new(),
        };
        let roots = sites.iter().enumerate().map(|(i, s)| (s.root.to_ascii_lowercase(), i)).collect();
        Walk { c, policies, aspnet, extensions, roots, stack: Vec::new(), stand_in: vec![None; sites.len()] }
    }

    /// Visits `key`, the next in path order. With `emit` the key is compiled into `tree`; without,
    /// its values only pass down to the keys below, and its application is the one `tree` already
    /// holds for it (false when `tree` holds no compiled form of it).
    fn visit(&mut self, key: &'m Key, sites: &mut [SiteView], tree: &mut SegTree<KeySlot>, emit: bool) -> bool {
        let path = key.path();
        while self.stack.last().is_some_and(|f| !is_below(path, f.path)) {
            self.stack.pop();
        }
        let parent_path = self.stack.last().map_or("", |f| f.path);
        let mut frame = match self.stack.last() {
            Some(parent) => Frame { path, ..parent.clone() },
            None => {
                Frame { path, eff: [None; PROPS.len()], wild_first: None, wild_sep: None, path_src: None, site: None }
            }
        };
        for (i, prop) in PROPS.iter().enumerate() {
            if let Some(v) = key.get(prop) {
                frame.eff[i] = Some(v);
            }
        }
        if let Some(v @ Value::MultiSz(lines)) = key.get("ScriptMaps") {
            frame.wild_first = Some(v);
            if has_wildcard(lines) {
                frame.wild_sep = Some(v);
            }
        }
        if let Some(p) = key.get("Path").and_then(Value::as_str) {
            frame.path_src = Some((p, path));
        }
        // A site's ROOT starts its subtree; keys below it continue their parent's.
        let parent_site = frame.site.take();
        let site = match self.roots.get(&path.to_ascii_lowercase()) {
            Some(&i) => Some((i, sites[i].node, None)),
            // Keys missing on the way become nodes without a key, so the walk still reaches this one.
            None => parent_site.map(|(i, mut node, app)| {
                for seg in path[parent_path.len()..].split('/').filter(|s| !s.is_empty()) {
                    node = tree.child_or_new(node, seg);
                }
                (i, node, app)
            }),
        };
        if let Some((i, node, parent_app)) = site {
            let root = sites[i].root.as_str();
            if !emit {
                let Some(kv) = tree.value(node) else { return false };
                let app = kv.app.in_app.then(|| kv.app.clone());
                if path.len() == root.len() && !kv.app.in_app {
                    self.stand_in[i] = Some(kv.app.clone());
                }
                frame.site = Some((i, node, app));
                self.stack.push(frame);
                return true;
            }
            let c = &mut self.c;
            let app = c.app(&frame, key, root, parent_app);
            // Keys in no application share their ROOT's stand-in (computed at the ROOT).
            let app_for_key = match &app {
                Some(a) => a.clone(),
                None => self.stand_in[i].get_or_insert_with(|| Arc::new(c.app_info(&frame, root, root, false))).clone(),
            };
            let kv =
                compile_key(c, &frame, self.policies, self.aspnet, self.extensions, (&sites[i], path), app_for_key);
            if path.len() == root.len() {
                sites[i].root_physical = kv.physical.clone();
            }
            tree.set(node, KeySlot::new(Arc::new(kv)));
            frame.site = Some((i, node, app));
        }
        self.stack.push(frame);
        true
    }
}

fn compile_key<'m>(
    c: &mut Compiler<'m>,
    frame: &Frame<'m>,
    policies: &DispatchPolicies,
    aspnet: &BTreeMap<String, Version>,
    extensions: &[ExtensionRow],
    (site, path): (&SiteView, &str),
    app: Arc<AppInfo>,
) -> KeyView {
    let m = c.m;
    let physical = match frame.path_src {
        Some((p, at)) => {
            let rest = &path[at.len()..];
            let mut full = p.trim_end_matches('\\').to_string();
            for s in rest.split('/').filter(|s| !s.is_empty()) {
                full.push('\\');
                full.push_str(s);
            }
            m.expand(&full)
        }
        None => String::new(),
    };
    let (maps, _) = c.maps(frame.eff[SCRIPT_MAPS], aspnet, extensions);
    let wild_src = if policies.wildcard_inherit_separate { frame.wild_sep } else { frame.wild_first };
    let (_, wildcards) = c.maps(wild_src, aspnet, extensions);
    let in_process_maps =
        maps.iter().take(64).enumerate().filter(|(_, m)| app.in_process.lists(m)).fold(0, |bits, (i, _)| bits | 1 << i);
    KeyView {
        path: path.into(),
        site: site.id,
        vpath_at: site.root.len(),
        physical_state: folder_state(&physical),
        physical,
        in_process: app.in_process.clone(),
        in_process_maps,
        app,
        access: c.dword(frame, ACCESS_FLAGS, ACCESS_READ),
        dir_browse: c.dword(frame, DIR_BROWSE_FLAGS, 0),
        default_docs: c.docs(c.value(frame, DEFAULT_DOC)),
        maps,
        wildcards,
        mime: c.mime(frame.eff[MIME_MAP]),
        errors: c.errors(frame.eff[HTTP_ERRORS]),
        headers: c.headers(frame.eff[CUSTOM_HEADERS]),
    }
}
