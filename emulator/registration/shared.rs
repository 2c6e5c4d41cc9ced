//! The machine-wide resources every registration brings in line: InProcessIsapiApps, the global
//! filter, Web Service Extensions, counters, the state service, SQL state, the ASPNET account,
//! Temporary ASP.NET Files, client scripts, and registration's metabase defaults
//! (SHR-01..09, SET-07..09, HDR-02, VER-07, REG-15).

use super::{check_iis, root_version, ASPNET_REG, POWERED_BY, STATE_SERVICE_REG, W3SVC};
use crate::machine::{Account, Machine, Service};
use crate::metabase::Value;
use crate::policy;
use crate::process::{self, World};
use crate::rules::RuleId;
use crate::runtime::{Bitness, Version};

/// Sets RootVer to the version mapped at the root, or `0.0.0.0` (VER-07).
pub(super) fn refresh_root_ver(m: &mut Machine) {
    let root = root_version(m).map(|v| v.registry()).unwrap_or("0.0.0.0");
    m.reg_set(ASPNET_REG, "RootVer", root, &["VER-07", "MAP-06"]);
}

/// Appends items to a MULTISZ property where missing (on the key's own value or a copy of the effective one).
pub(super) fn add_list_items(m: &mut Machine, path: &str, prop: &str, add: &[&str], rules: &[RuleId]) {
    let mut items =
        m.metabase().effective(path, prop).and_then(|(v, _)| v.as_multi().map(<[String]>::to_vec)).unwrap_or_default();
    let before = items.len();
    for item in add {
        if !items.iter().any(|i| i.eq_ignore_ascii_case(item)) {
            items.push(item.to_string());
        }
    }
    if items.len() != before || m.metabase().own(path, prop).is_none() {
        let _ = m.mb_set(path, prop, Value::MultiSz(items), rules);
    }
}

/// Removes items from a key's own MULTISZ property.
pub(super) fn remove_list_items(m: &mut Machine, path: &str, prop: &str, remove: &[&str], rules: &[RuleId]) {
    let Some(items) = m.metabase().own(path, prop).and_then(Value::as_multi).map(<[String]>::to_vec) else { return };
    let kept: Vec<String> =
        items.iter().filter(|i| !remove.iter().any(|r| i.eq_ignore_ascii_case(r))).cloned().collect();
    if kept.len() != items.len() {
        let _ = m.mb_set(path, prop, Value::MultiSz(kept), rules);
    }
}

/// `X-Powered-By: ASP.NET` at the root (HDR-02).
pub(super) fn add_powered_by(m: &mut Machine) {
    add_list_items(m, W3SVC, "HttpCustomHeaders", &[POWERED_BY], &["HDR-02"]);
}

const ASPNET_MIME: [&str; 3] = [".wsdl,text/xml", ".disco,text/xml", ".xsd,text/xml"];

/// Registration maps `.wsdl .disco .xsd` to text/xml (SET-09).
pub(super) fn add_mime_types(m: &mut Machine) {
    add_list_items(m, "/LM/MimeMap", "MimeMap", &ASPNET_MIME, &["SET-09", "SET-08"]);
}

/// The last uninstall removes registration's MIME entries (SET-07).
pub(super) fn remove_mime_types(m: &mut Machine) {
    remove_list_items(m, "/LM/MimeMap", "MimeMap", &ASPNET_MIME, &["SET-07"]);
}

/// Keys that set DefaultDoc, root first.
pub(super) fn default_doc_keys(m: &Machine) -> Vec<String> {
    m.metabase().subtree(W3SVC).filter(|k| k.get("DefaultDoc").is_some()).map(|k| k.path().to_string()).collect()
}

/// The first registration ever appends `Default.aspx` to DefaultDoc (SET-09).
pub(super) fn first_install_defaults(m: &mut Machine) {
    for path in default_doc_keys(m) {
        let Some(doc) = m.metabase().own(&path, "DefaultDoc").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        if !doc.split(',').any(|d| d.trim().eq_ignore_ascii_case("Default.aspx")) {
            let new = if doc.is_empty() { "Default.aspx".to_string() } else { format!("{doc},Default.aspx") };
            let _ = m.mb_set(&path, "DefaultDoc", Value::String(new), &["SET-09"]);
        }
    }
}

/// The last uninstall takes `Default.aspx` out of DefaultDoc (SET-07).
pub(super) fn remove_default_aspx(m: &mut Machine) {
    for path in default_doc_keys(m) {
        let Some(doc) = m.metabase().own(&path, "DefaultDoc").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        let kept: Vec<&str> = doc.split(',').filter(|d| !d.trim().eq_ignore_ascii_case("Default.aspx")).collect();
        let new = kept.join(",");
        if new != doc {
            let _ = m.mb_set(&path, "DefaultDoc", Value::String(new), &["SET-07"]);
        }
    }
}

/// The Web Service Extension row of runtime `v` (SHR-04): `allow,dll,0,ASP.NET v<v>,ASP.NET v<v>`.
pub(super) fn extension_row(m: &Machine, v: Version, allow: bool) -> String {
    let group = format!("ASP.NET v{}", v.short());
    format!("{},{},0,{group},{group}", allow as u8, m.isapi_path(v))
}

pub(super) fn initial_allow(m: &Machine, v: Version) -> bool {
    match m.policies().get(policy::WSE_INITIAL_STATE) {
        "allowed" => true,
        "prohibited" => false,
        _ => v != Version::V4_0,
    }
}

/// `-enable`/`-disable`: sets the runtime's Web Service Extension state (REG-17, SHR-04).
pub(super) fn set_extension_allowed(m: &mut Machine, v: Version, allow: bool) {
    if !m.edition().is_iis6() {
        m.note("no Web Service Extensions on IIS 5.x: -enable/-disable change nothing", &["REG-17"]);
        return;
    }
    let isapi = m.isapi_path(v).to_ascii_lowercase();
    let Some(items) =
        m.metabase().own(W3SVC, "WebSvcExtRestrictionList").and_then(Value::as_multi).map(<[String]>::to_vec)
    else {
        return;
    };
    let new: Vec<String> = items
        .iter()
        .map(|row| {
            let mut fields: Vec<&str> = row.split(',').collect();
            if fields.len() > 1 && fields[1].trim().to_ascii_lowercase() == isapi {
                fields[0] = if allow { "1" } else { "0" };
                fields.join(",")
            } else {
                row.clone()
            }
        })
        .collect();
    let _ = m.mb_set(W3SVC, "WebSvcExtRestrictionList", Value::MultiSz(new), &["REG-17", "SHR-04"]);
}

/// A resource's rule followed by the SET rules of the context that caused the sync.
fn with_setup_rules(rule: RuleId, context: &[RuleId]) -> Vec<RuleId> {
    let mut r = vec![rule];
    r.extend(context.iter().filter(|c| **c != rule && c.starts_with("SET")));
    r
}

/// Brings every machine-wide shared resource in line with the registered runtimes (SHR-01..09, VER-07).
pub(super) fn sync_shared(m: &mut Machine, w: &mut World, context: &[RuleId]) {
    let registered = m.registered();
    let highest = registered.last().copied();
    let with = |rule: RuleId| with_setup_rules(rule, context);
    refresh_root_ver(m);
    if check_iis(m).is_ok() {
        sync_in_process_isapi(m, &registered, &with("SHR-03"));
        sync_filter(m, highest, &with("SHR-01"));
        sync_extensions(m, &registered, &with("SHR-04"));
    }
    sync_outside_metabase(m, w, context);
}

/// Brings the shared resources that live outside the metabase in line with the registered
/// runtimes: counters, state service, SQL scripts, ASPNET account, Temporary ASP.NET Files.
pub(super) fn sync_outside_metabase(m: &mut Machine, w: &mut World, context: &[RuleId]) {
    let registered = m.registered();
    let highest = registered.last().copied();
    let with = |rule: RuleId| with_setup_rules(rule, context);
    refresh_root_ver(m);
    sync_counters(m, &registered, highest, &with("SHR-05"));
    sync_state_service(m, w, highest, &with("SHR-06"));
    m.set_resource("sql_state", highest.map(|v| v.short().to_string()), &with("SHR-07"));
    sync_account(m, highest, &with("SHR-08"));
    for v in Version::ALL {
        let dir = format!("{}\\Temporary ASP.NET Files", m.framework_dir(v));
        if registered.contains(&v) {
            m.fs_create_files(&dir, &[], &with("SHR-09"));
            continue;
        }
        for b in [Bitness::X86, Bitness::X64] {
            let dir = format!("{}\\Temporary ASP.NET Files", m.framework_dir_of(v, b));
            if m.fs().exists(&dir) {
                m.fs_delete(&dir, &with("SHR-09"));
            }
        }
    }
}

pub(super) fn sync_in_process_isapi(m: &mut Machine, registered: &[Version], rules: &[RuleId]) {
    let current = m.metabase().own_list(W3SVC, "InProcessIsapiApps");
    let mut items: Vec<String> =
        current.into_iter().filter(|i| !i.to_ascii_lowercase().ends_with("aspnet_isapi.dll")).collect();
    items.extend(registered.iter().map(|v| m.isapi_path(*v)));
    let _ = m.mb_set(W3SVC, "InProcessIsapiApps", Value::MultiSz(items), rules);
}

pub(super) fn sync_filter(m: &mut Machine, highest: Option<Version>, rules: &[RuleId]) {
    let filters = "/LM/W3SVC/Filters";
    let want = highest.filter(|v| v.has_filter());
    let want_name = want.map(|v| format!("ASP.NET_{}", v.registry()));
    let existing: Vec<String> = m
        .metabase()
        .children(filters)
        .filter(|k| k.path().rsplit('/').next().is_some_and(|n| n.to_ascii_lowercase().starts_with("asp.net_")))
        .map(|k| k.path().to_string())
        .collect();
    for path in &existing {
        let name = path.rsplit('/').next().unwrap_or_default();
        if Some(name) != want_name.as_deref() {
            m.mb_delete_key(path, rules);
        }
    }
    let order = m.metabase().own(filters, "FilterLoadOrder").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut names: Vec<String> = order
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.to_ascii_lowercase().starts_with("asp.net_"))
        .map(str::to_string)
        .collect();
    if let (Some(v), Some(name)) = (want, want_name) {
        let path = format!("{filters}/{name}");
        if !m.metabase().exists(&path) {
            m.mb_create_key(&path, "IIsFilter", rules);
        }
        let dll = format!("{}\\aspnet_filter.dll", m.framework_dir(v));
        let _ = m.mb_set(&path, "FilterPath", Value::String(dll), rules);
        let desc = if m.policies().is(policy::FILTER_DESCRIPTION, "empty") { String::new() } else { name.clone() };
        let _ = m.mb_set(&path, "FilterDescription", Value::String(desc), rules);
        names.push(name);
    }
    let _ = m.mb_set(filters, "FilterLoadOrder", Value::String(names.join(",")), rules);
}

pub(super) fn sync_extensions(m: &mut Machine, registered: &[Version], rules: &[RuleId]) {
    if !m.edition().is_iis6() {
        return;
    }
    let mut rows = m.metabase().own_list(W3SVC, "WebSvcExtRestrictionList");
    let mut deps = m.metabase().own_list(W3SVC, "ApplicationDependencies");
    for v in Version::ALL {
        let dll = m.isapi_path(v).to_ascii_lowercase();
        // Rows of either copy (Framework or Framework64) belong to the runtime.
        let copies: Vec<String> = [Bitness::X86, Bitness::X64]
            .iter()
            .map(|b| format!("{}\\aspnet_isapi.dll", m.framework_dir_of(v, *b)).to_ascii_lowercase())
            .collect();
        let row_of = |r: &String| r.split(',').nth(1).is_some_and(|p| p.trim().to_ascii_lowercase() == dll);
        let row_of_any =
            |r: &String| r.split(',').nth(1).is_some_and(|p| copies.contains(&p.trim().to_ascii_lowercase()));
        let dep = format!("ASP.NET v{0};ASP.NET v{0}", v.short());
        if registered.contains(&v) {
            // An existing row for the DLL is never changed (SHR-04).
            if !rows.iter().any(row_of) {
                rows.push(extension_row(m, v, initial_allow(m, v)));
            }
            if !deps.iter().any(|d| d.eq_ignore_ascii_case(&dep)) {
                deps.push(dep);
            }
        } else {
            rows.retain(|r| !row_of_any(r));
            deps.retain(|d| !d.eq_ignore_ascii_case(&dep));
        }
    }
    let _ = m.mb_set(W3SVC, "WebSvcExtRestrictionList", Value::MultiSz(rows), rules);
    let _ = m.mb_set(W3SVC, "ApplicationDependencies", Value::MultiSz(deps), rules);
}

pub(super) fn sync_counters(m: &mut Machine, registered: &[Version], highest: Option<Version>, rules: &[RuleId]) {
    for v in Version::ALL {
        let owner = registered.contains(&v).then(|| v.short().to_string());
        m.set_resource(&format!("perf:ASP.NET v{}", v.short()), owner.clone(), rules);
        m.set_resource(&format!("perf:ASP.NET Apps v{}", v.short()), owner, rules);
    }
    let generic = highest.map(|v| v.short().to_string());
    m.set_resource("perf:ASP.NET", generic.clone(), rules);
    m.set_resource("perf:ASP.NET Applications", generic, rules);
}

pub(super) fn sync_state_service(m: &mut Machine, w: &mut World, highest: Option<Version>, rules: &[RuleId]) {
    let current = m.service("aspnet_state").map(|s| s.image.clone());
    match highest {
        Some(v) => {
            let image = format!("{}\\aspnet_state.exe", m.framework_dir(v));
            if current.as_deref() != Some(image.as_str()) {
                // Port and AllowRemoteConnection survive re-registration (SHR-06).
                let params = format!("{STATE_SERVICE_REG}\\Parameters");
                if m.registry().get(&params, "Port").is_none() {
                    m.reg_set(&params, "Port", "42424", rules);
                    m.reg_set(&params, "AllowRemoteConnection", "0", rules);
                }
                m.reg_set(STATE_SERVICE_REG, "ImagePath", &image, rules);
                let action = match current {
                    None => format!("registered with {image} and started"),
                    Some(_) => format!("re-registered with {image} and restarted: StateServer sessions are lost"),
                };
                let svc = Service { display: "ASP.NET State Service".into(), image, running: true };
                m.set_service("aspnet_state", Some(svc), &action, rules);
                process::state_service_restarted(w);
            }
        }
        None => {
            if current.is_some() {
                m.set_service("aspnet_state", None, "stopped and deleted with the last runtime", rules);
                process::state_service_restarted(w);
                m.reg_delete_key(STATE_SERVICE_REG, rules);
            }
        }
    }
}

pub(super) fn sync_account(m: &mut Machine, highest: Option<Version>, rules: &[RuleId]) {
    let existing = m.account("ASPNET").cloned();
    let want = match (highest, existing) {
        (Some(_), _) => Some(Account { full_name: "ASP.NET Machine Account".into(), enabled: true }),
        (None, Some(a)) => Some(Account { enabled: false, ..a }),
        (None, None) => None,
    };
    if let Some(a) = want {
        m.set_account("ASPNET", a, rules);
    }
}

/// Folder names of the client scripts, relative to `aspnet_client\system_web\<ver>` (REG-15).
pub(super) fn client_script_files(v: Version) -> Vec<&'static str> {
    let mut files = vec!["WebUIValidation.js"];
    if v < Version::V2_0 {
        files.push("SmartNav.js");
        files.push("SmartNav.htm");
    }
    files
}

/// Root folders of every site: `(site ROOT key, physical path)`.
pub(super) fn site_roots(m: &Machine) -> Vec<(String, String)> {
    m.metabase()
        .children(W3SVC)
        .filter(|k| k.key_type().eq_ignore_ascii_case("IIsWebServer"))
        .filter_map(|site| {
            let root = format!("{}/ROOT", site.path());
            let path = m.metabase().own(&root, "Path")?.as_str()?.to_string();
            Some((m.metabase().key(&root)?.path().to_string(), path))
        })
        .collect()
}

/// `-c`: copies `v`'s client scripts into every site and creates the `aspnet_client` key (REG-15, VER-06).
pub fn install_client_scripts(m: &mut Machine, v: Version) {
    let dir_name = v.client_script_dir(m.file_version(v));
    for (root_key, root_path) in site_roots(m) {
        let dir = format!("{}\\aspnet_client\\system_web\\{dir_name}", root_path.trim_end_matches('\\'));
        m.fs_create_files(&dir, &client_script_files(v), &["REG-15", "VER-06", "SHR-09"]);
        let key = format!("{root_key}/aspnet_client");
        if !m.metabase().exists(&key) {
            m.mb_create_key(&key, "IIsWebDirectory", &["REG-15"]);
        }
    }
}

/// `-e`/`-ea`: removes one version's (or every version's) client scripts, and emptied folders (REG-15).
pub fn remove_client_scripts(m: &mut Machine, v: Option<Version>, rules: &[RuleId]) {
    for (root_key, root_path) in site_roots(m) {
        let client = format!("{}\\aspnet_client", root_path.trim_end_matches('\\'));
        let system_web = format!("{client}\\system_web");
        match v {
            Some(v) => {
                let dir = format!("{system_web}\\{}", v.client_script_dir(m.file_version(v)));
                m.fs_delete(&dir, rules);
                if m.fs().is_dir(&system_web) && m.fs().list(&system_web).is_empty() {
                    m.fs_delete(&system_web, rules);
                }
            }
            None => m.fs_delete(&system_web, rules),
        }
        if m.fs().is_dir(&client) && m.fs().list(&client).is_empty() {
            m.fs_delete(&client, rules);
            m.mb_delete_key(&format!("{root_key}/aspnet_client"), rules);
        }
    }
}
