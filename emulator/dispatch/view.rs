//! The compiled, immutable view of the metabase and the content files that dispatch reads.
//!
//! [`View::compile`] walks the machine once: every site with its bindings, every web key under each
//! site's ROOT with its effective properties already computed (MB-20), the lockdown list, the
//! HTTP.sys switches, the ASP.NET ISAPI paths and the content files. Resolution then only looks
//! things up, and nothing here refers back to the machine.

use std::collections::{BTreeMap, BTreeSet};

use super::canon::{HttpSysParams, HTTP_PARAMETERS_KEY};
use super::Decision;
use crate::edition::Edition;
use crate::machine::Machine;
use crate::metabase::scriptmap::{self, MapEntry};
use crate::metabase::{Metabase, Value};
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

/// One web key with its effective properties (MB-20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyView {
    /// The key's path as written.
    pub path: String,
    /// The site it belongs to.
    pub site: u32,
    /// The URL path the key stands for (`/` for ROOT, `/shop/img`), case as written.
    pub vpath: String,
    /// Nearest ancestor Path plus the remaining segments, `%windir%` expanded (MB-21).
    pub physical: String,
    /// The application root key (MB-21); the site's ROOT when no key on the way is an application.
    pub app: String,
    /// The application's URL path.
    pub app_vpath: String,
    /// Whether `app` was found (false: ROOT stands in).
    pub in_app: bool,
    /// Effective AppIsolated at the application.
    pub app_isolated: u32,
    /// Effective AppPoolId at the application.
    pub app_pool: String,
    /// Effective InProcessIsapiApps at the application, expanded and lower-cased.
    pub in_process: Vec<String>,
    /// Effective AccessFlags.
    pub access: u32,
    /// Effective DirBrowseFlags.
    pub dir_browse: u32,
    /// Effective DefaultDoc entries, in order.
    pub default_docs: Vec<String>,
    /// Effective non-wildcard ScriptMaps entries, processors expanded (SM-01..04).
    pub maps: Vec<MapEntry>,
    /// Wildcard (`*`) entries that apply here, per policy `sm.wildcard_inherit` (SM-05, SM-08).
    pub wildcards: Vec<MapEntry>,
    /// Effective MimeMap, by lower-cased extension; `/LM/MimeMap` when no web key sets one.
    pub mime: BTreeMap<String, String>,
    /// Effective HttpErrors.
    pub errors: Vec<CustomError>,
    /// Effective HttpCustomHeaders as (name, value).
    pub headers: Vec<(String, String)>,
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
    fn read(p: &policy::Policies) -> DispatchPolicies {
        let status = |name: &str, fallback: u16| p.get(name).parse::<u16>().unwrap_or(fallback);
        DispatchPolicies {
            verb_not_allowed: if p.is(policy::REQ_VERB_NOT_ALLOWED, "405") { (405, 0) } else { (403, 1) },
            courtesy_redirect_status: status(policy::REQ_COURTESY_REDIRECT_STATUS, 302),
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

/// The compiled view: everything resolution needs, looked up by lower-cased path.
#[derive(Debug, Clone)]
pub struct View {
    pub(super) edition: Edition,
    pub(super) http: HttpSysParams,
    pub(super) policies: DispatchPolicies,
    pub(super) sites: Vec<SiteView>,
    pub(super) keys: BTreeMap<String, KeyView>,
    pub(super) extensions: Vec<ExtensionRow>,
    pub(super) aspnet: BTreeMap<String, Version>,
    pub(super) files: BTreeMap<String, (String, bool)>,
    pub(super) notes: Vec<Decision>,
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
    let lc = dll.to_ascii_lowercase();
    let file = lc.rsplit(['\\', '/']).next().unwrap_or_default();
    entries.iter().any(|e| if e.contains(['\\', '/']) { *e == lc } else { e.as_str() == file })
}

fn list(v: Option<(Value, crate::metabase::Origin)>) -> Vec<String> {
    v.and_then(|(v, _)| v.as_multi().map(<[String]>::to_vec)).unwrap_or_default()
}

fn dword(mb: &Metabase, path: &str, prop: &str, fallback: u32) -> u32 {
    mb.effective(path, prop).and_then(|(v, _)| v.as_dword()).unwrap_or(fallback)
}

fn string(mb: &Metabase, path: &str, prop: &str) -> String {
    mb.effective(path, prop).and_then(|(v, _)| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Parses a MimeMap list (`.ext,type`) into a map by lower-cased extension.
fn mime_map(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| l.split_once(','))
        .map(|(ext, ty)| (ext.trim().to_ascii_lowercase(), ty.trim().to_string()))
        .filter(|(ext, ty)| !ext.is_empty() && !ty.is_empty())
        .collect()
}

impl View {
    /// Compiles the machine's current state into a view.
    pub fn compile(m: &Machine) -> View {
        let mb = m.metabase();
        let policies = DispatchPolicies::read(m.policies());
        let mut notes = Vec::new();
        let http = HttpSysParams::from_values(|name| {
            let text = m.registry().get(HTTP_PARAMETERS_KEY, name)?.trim().to_ascii_lowercase();
            match text.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => text.parse::<u32>().ok(),
            }
        });
        let machine_mime = mime_map(&mb.own_list("/LM/MimeMap", "MimeMap"));

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
        let mut keys = BTreeMap::new();
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
            for key in mb.subtree(&root) {
                let kv = compile_key(m, &policies, &machine_mime, id, &root, key.path());
                keys.insert(key.path().to_ascii_lowercase(), kv);
            }
            let root_physical = keys.get(&root.to_ascii_lowercase()).map(|k| k.physical.clone()).unwrap_or_default();
            let name = string(mb, &site_path, "ServerComment");
            sites.push(SiteView { id, name, bindings, started, root, root_physical });
        }

        let extensions = mb
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

        let mut aspnet = BTreeMap::new();
        for v in Version::ALL {
            for b in [Bitness::X86, Bitness::X64] {
                aspnet.insert(format!("{}\\aspnet_isapi.dll", m.framework_dir_of(v, b)).to_ascii_lowercase(), v);
            }
        }
        // Copies under other Framework folders still name their runtime by the folder (VER-01).
        for (path, dir) in m.fs().entries() {
            let lc = path.to_ascii_lowercase();
            let mut parts = lc.rsplit('\\');
            let (Some("aspnet_isapi.dll"), Some(folder), Some(fw)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if dir || !(fw == "framework" || fw == "framework64") {
                continue;
            }
            if let Some(v) = Version::ALL.into_iter().find(|v| v.folder_name() == folder) {
                aspnet.entry(lc.clone()).or_insert(v);
            }
        }

        let roots: BTreeSet<String> =
            keys.values().map(|k: &KeyView| fs_key(&k.physical)).filter(|p| !p.is_empty()).collect();
        let files = m
            .fs()
            .entries()
            .map(|(p, dir)| (fs_key(p), (p.to_string(), dir)))
            .filter(|(k, _)| {
                roots.iter().any(|r| k == r || (k.starts_with(r.as_str()) && k.as_bytes().get(r.len()) == Some(&b'\\')))
            })
            .collect();

        View { edition: m.edition(), http, policies, sites, keys, extensions, aspnet, files, notes }
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
        self.keys.get(&crate::metabase::normalize(path).to_ascii_lowercase())
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
        matches!(self.files.get(&fs_key(path)), Some((_, false)))
    }

    /// Whether `path` is a content folder.
    pub fn is_dir(&self, path: &str) -> bool {
        matches!(self.files.get(&fs_key(path)), Some((_, true)))
    }

    /// The entries directly inside content folder `dir`: (name as written, is a folder), in order.
    pub fn list(&self, dir: &str) -> Vec<(String, bool)> {
        let prefix = format!("{}\\", fs_key(dir));
        self.files
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains('\\'))
            .map(|(_, (p, d))| (p.rsplit('\\').next().unwrap_or_default().to_string(), *d))
            .collect()
    }

    /// What compiling noticed and set aside (malformed bindings, sites that cannot start).
    pub fn notes(&self) -> &[Decision] {
        &self.notes
    }

    /// Whether the Web Service Extension list lets `dll` run (MB-23, SHR-04): its own row, else the
    /// `*.dll` or `*.exe` row; unlisted means prohibited.
    pub fn extension_allowed(&self, dll: &str) -> bool {
        let lc = fs_key(dll);
        if let Some(row) = self.extensions.iter().find(|r| r.path == lc) {
            return row.allowed;
        }
        let wild = if lc.ends_with(".exe") { "*.exe" } else { "*.dll" };
        self.extensions.iter().find(|r| r.path == wild).is_some_and(|r| r.allowed)
    }
}

/// The nearest key at or above `path` whose own AppRoot names itself (MB-21), within the site.
fn app_of(mb: &Metabase, root: &str, path: &str) -> Option<String> {
    let mut cur = crate::metabase::normalize(path);
    loop {
        if let Some(key) = mb.key(&cur) {
            let own = key.get("AppRoot").and_then(Value::as_str).map(crate::metabase::normalize);
            if own.is_some_and(|a| a.eq_ignore_ascii_case(key.path())) {
                return Some(key.path().to_string());
            }
        }
        if cur.eq_ignore_ascii_case(root) {
            return None;
        }
        cur = crate::metabase::parent(&cur)?;
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

/// Wildcard entries for a key: those of the effective ScriptMaps, or with `separate` those of the
/// nearest key up the tree whose own ScriptMaps has any (SM-05, SM-08).
fn wildcards(m: &Machine, separate: bool, path: &str) -> Vec<MapEntry> {
    let mb = m.metabase();
    let mut cur = Some(crate::metabase::normalize(path));
    while let Some(p) = cur {
        if let Some(own) = mb.own(&p, "ScriptMaps").and_then(Value::as_multi) {
            let wild: Vec<MapEntry> = entries(m, own).into_iter().filter(MapEntry::is_wildcard).collect();
            if !wild.is_empty() || !separate {
                return wild;
            }
        }
        cur = crate::metabase::parent(&p).filter(|q| q != "/");
    }
    Vec::new()
}

/// Parsed ScriptMaps entries with their processors expanded (MB-12); malformed lines are skipped.
fn entries(m: &Machine, lines: &[String]) -> Vec<MapEntry> {
    scriptmap::parse_list(lines)
        .iter()
        .filter_map(|l| l.entry().cloned())
        .map(|mut e| {
            e.processor = m.expand(&processor_path(&e.processor));
            e
        })
        .collect()
}

fn compile_key(
    m: &Machine,
    policies: &DispatchPolicies,
    machine_mime: &BTreeMap<String, String>,
    site: u32,
    root: &str,
    path: &str,
) -> KeyView {
    let mb = m.metabase();
    let physical = crate::sites::physical_path(m, path).map(|(p, _)| m.expand(&p)).unwrap_or_default();
    let found = app_of(mb, root, path);
    let in_app = found.is_some();
    let app = found.unwrap_or_else(|| root.to_string());
    let in_process = isapi_list(m, &list(mb.effective(&app, "InProcessIsapiApps")));
    let maps = entries(m, &list(mb.effective(path, "ScriptMaps"))).into_iter().filter(|e| !e.is_wildcard()).collect();
    let mime = match mb.effective(path, "MimeMap") {
        Some((Value::MultiSz(lines), _)) => mime_map(&lines),
        _ => machine_mime.clone(),
    };
    let errors = list(mb.effective(path, "HttpErrors"))
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
        .collect();
    let headers = list(mb.effective(path, "HttpCustomHeaders"))
        .iter()
        .filter(|h| !h.trim().is_empty())
        .map(|h| match h.split_once(':') {
            Some((n, v)) => (n.trim().to_string(), v.trim().to_string()),
            None => (h.trim().to_string(), String::new()),
        })
        .collect();
    KeyView {
        path: path.to_string(),
        site,
        vpath: vpath(root, path),
        physical,
        app_vpath: vpath(root, &app),
        in_app,
        app_isolated: dword(mb, &app, "AppIsolated", 2),
        app_pool: if m.edition().is_iis6() { string(mb, &app, "AppPoolId") } else { String::new() },
        app,
        in_process,
        access: dword(mb, path, "AccessFlags", ACCESS_READ),
        dir_browse: dword(mb, path, "DirBrowseFlags", 0),
        default_docs: string(mb, path, "DefaultDoc")
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
        maps,
        wildcards: wildcards(m, policies.wildcard_inherit_separate, path),
        mime,
        errors,
        headers,
    }
}
