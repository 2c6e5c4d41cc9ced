//! Sites, virtual directories, applications and pools as IIS Manager creates them (MB-13, MB-14,
//! MB-21, MB-22).

use crate::machine::Machine;
use crate::metabase::Value;
use crate::policy;

/// Application protection (AppIsolated): 0 Low, 1 High, 2 Medium (MB-23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In the server process (0).
    Low,
    /// Own dllhost.exe (1).
    High,
    /// The pooled dllhost.exe (2).
    Medium,
}

impl Isolation {
    /// Parses `low`, `high`, `medium` (or 0, 1, 2).
    pub fn parse(text: &str) -> Option<Isolation> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" | "0" | "inproc" => Some(Isolation::Low),
            "high" | "1" | "isolated" => Some(Isolation::High),
            "medium" | "2" | "pooled" => Some(Isolation::Medium),
            _ => None,
        }
    }

    /// The AppIsolated value.
    pub fn value(self) -> u32 {
        match self {
            Isolation::Low => 0,
            Isolation::High => 1,
            Isolation::Medium => 2,
        }
    }
}

/// A site to create.
#[derive(Debug, Clone)]
pub struct SiteSpec {
    /// Site ID; chosen by MB-14 when absent.
    pub id: Option<u32>,
    /// ServerComment.
    pub name: String,
    /// ServerBindings, e.g. `:80:www.a.com`.
    pub bindings: Vec<String>,
    /// Physical path of the ROOT.
    pub path: String,
}

/// An application (or plain virtual directory/folder) to create.
#[derive(Debug, Clone, Default)]
pub struct AppSpec {
    /// Full metabase path, e.g. `/LM/W3SVC/1/ROOT/shop`.
    pub path: String,
    /// Physical path: a virtual directory when given, else a folder key.
    pub physical_path: Option<String>,
    /// Whether the key is an application root.
    pub application: bool,
    /// Application protection.
    pub isolation: Option<Isolation>,
    /// Application pool (IIS 6).
    pub pool: Option<String>,
}

/// A deterministic 31-bit hash of a site name, standing in for IIS 6's (MB-14).
fn name_hash(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.to_ascii_uppercase().bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    (h & 0x7fff_ffff).max(2)
}

/// Chooses a new site's ID (MB-14, policy mb.site_id_alloc).
pub fn allocate_site_id(m: &Machine, name: &str) -> u32 {
    let taken = |id: u32| m.metabase().exists(&format!("/LM/W3SVC/{id}"));
    let sequential = !m.edition().is_iis6() || m.policies().is(policy::SITE_ID_ALLOC, "sequential");
    let mut id = if sequential { 2 } else { name_hash(name) };
    while taken(id) {
        id = if sequential { id + 1 } else { name_hash(&format!("{name}{id}")) };
    }
    id
}

/// Creates a site with its ROOT application; returns the site's key path (MB-13, MB-14, MB-22).
pub fn create_site(m: &mut Machine, spec: &SiteSpec) -> Result<String, String> {
    let id = spec.id.unwrap_or_else(|| allocate_site_id(m, &spec.name));
    let site = format!("/LM/W3SVC/{id}");
    let rules: &[&str] = if spec.id.is_some() { &["MB-13"] } else { &["MB-13", "MB-14"] };
    if m.metabase().exists(&site) {
        return Err(format!("site {id} already exists"));
    }
    m.mb_create_key(&site, "IIsWebServer", rules);
    m.mb_set(&site, "ServerComment", Value::String(spec.name.clone()), rules).map_err(|e| e.to_string())?;
    m.mb_set(&site, "ServerBindings", Value::MultiSz(spec.bindings.clone()), &["MB-23"]).map_err(|e| e.to_string())?;
    m.mb_set(&site, "ServerAutoStart", Value::Dword(1), &["MB-23"]).map_err(|e| e.to_string())?;
    m.mb_create_key(&format!("{site}/Filters"), "IIsFilters", &["MB-13"]);
    let root = AppSpec {
        path: format!("{site}/ROOT"),
        physical_path: Some(spec.path.clone()),
        application: true,
        isolation: Some(Isolation::Medium),
        pool: None,
    };
    create_app(m, &root)?;
    m.mb_set(&root.path, "AccessFlags", Value::Dword(1 | 512), &["MB-23"]).map_err(|e| e.to_string())?;
    Ok(site)
}

/// Creates a virtual directory or folder key and, if asked, makes it an application (MB-21, MB-22).
pub fn create_app(m: &mut Machine, spec: &AppSpec) -> Result<(), String> {
    let path = spec.path.clone();
    let parent = crate::metabase::parent(&path).unwrap_or_default();
    if !m.metabase().exists(&parent) {
        return Err(format!("the parent key {parent} does not exist"));
    }
    if !m.metabase().exists(&path) {
        let kt = if spec.physical_path.is_some() { "IIsWebVirtualDir" } else { "IIsWebDirectory" };
        m.mb_create_key(&path, kt, &["MB-13"]);
    }
    let fail = |e: crate::metabase::MbError| e.to_string();
    match &spec.physical_path {
        Some(p) => {
            m.mb_set(&path, "Path", Value::String(p.clone()), &["MB-21"]).map_err(fail)?;
            m.fs_create_files(p, &[], &["MB-21"]);
        }
        None => {
            let (dir, _) = physical_path(m, &path).ok_or("no physical path above this key")?;
            m.fs_create_files(&dir, &[], &["MB-21"]);
        }
    }
    if spec.application {
        m.mb_set(&path, "AppRoot", Value::String(path.clone()), &["MB-22", "MB-21"]).map_err(fail)?;
        let iso = spec.isolation.unwrap_or(Isolation::Medium);
        m.mb_set(&path, "AppIsolated", Value::Dword(iso.value()), &["MB-22"]).map_err(fail)?;
        m.mb_set(&path, "AppFriendlyName", Value::String(friendly_name(&path)), &["MB-22"]).map_err(fail)?;
        if m.edition().is_iis6() {
            let pool = spec.pool.clone().unwrap_or_else(|| "DefaultAppPool".into());
            create_pool(m, &pool);
            m.mb_set(&path, "AppPoolId", Value::String(pool), &["MB-22"]).map_err(fail)?;
        }
    }
    Ok(())
}

fn friendly_name(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.eq_ignore_ascii_case("ROOT") {
        "Default Application".into()
    } else {
        last.to_string()
    }
}

/// Creates an application pool under `/LM/W3SVC/AppPools` if it is missing (IIS 6, MB-22).
pub fn create_pool(m: &mut Machine, name: &str) {
    let path = format!("/LM/W3SVC/AppPools/{name}");
    if m.edition().is_iis6() && !m.metabase().exists(&path) {
        m.mb_create_key(&path, "IIsApplicationPool", &["MB-22", "MB-13"]);
    }
}

/// The physical folder of a metabase path: nearest ancestor Path plus the remaining segments (MB-21).
/// Also returns the key that set the Path.
pub fn physical_path(m: &Machine, path: &str) -> Option<(String, String)> {
    let normalized = crate::metabase::normalize(path);
    let segs: Vec<&str> = normalized.split('/').filter(|s| !s.is_empty()).collect();
    for n in (1..=segs.len()).rev() {
        let candidate = format!("/{}", segs[..n].join("/"));
        if let Some(key) = m.metabase().key(&candidate) {
            if let Some(p) = key.get("Path").and_then(Value::as_str) {
                let mut full = p.trim_end_matches('\\').to_string();
                for s in &segs[n..] {
                    full.push('\\');
                    full.push_str(s);
                }
                return Some((full, key.path().to_string()));
            }
        }
    }
    None
}
