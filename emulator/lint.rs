//! The risks a configuration holds before any request: each with the rule it comes from and the
//! command lines that fix it (CLR-04, PM5-10, KB-07, VER-02, SHR-04, SES-05, PM6-04, CMP-03, REQ-05).
//!
//! The checks read the machine's configuration (metabase, machine.config, web.config) only: they
//! predict what dispatch and the process model would do, without sending a request.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dispatch::view::{isapi_list, lists_isapi, Binding};
use crate::machine::{Machine, ADSUTIL_PATH};
use crate::metabase::scriptmap::{parse_list, MapLine};
use crate::metabase::Value;
use crate::process::session::SessionMode;
use crate::registration::{self, maps, W3SVC};
use crate::rules::RuleId;
use crate::runtime::Version;

/// Where an application's ASP.NET code would run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Host {
    /// An IIS 6 application pool (worker process isolation mode): its w3wp.exe.
    Pool(String),
    /// The runtime's own `aspnet_wp.exe` (IIS 5.x, IIS 5.0 isolation mode).
    Worker(Version),
    /// Inside inetinfo.exe (`processModel enable="false"` with the ISAPI in process).
    Inetinfo,
    /// The pooled dllhost.exe of Medium applications.
    PooledDllhost,
    /// An application's own dllhost.exe (High).
    OwnDllhost(String),
}

impl Host {
    /// A stable identifier, e.g. `pool:DefaultAppPool`.
    pub fn id(&self) -> String {
        match self {
            Host::Pool(p) => format!("pool:{p}"),
            Host::Worker(v) => format!("aspnet_wp:{v}"),
            Host::Inetinfo => "inetinfo".into(),
            Host::PooledDllhost => "dllhost:pooled".into(),
            Host::OwnDllhost(app) => format!("dllhost:{app}"),
        }
    }

    /// How people name it, e.g. `pool DefaultAppPool (w3wp.exe)`.
    pub fn label(&self) -> String {
        match self {
            Host::Pool(p) => format!("pool {p} (w3wp.exe)"),
            Host::Worker(v) => format!("aspnet_wp.exe of {v}"),
            Host::Inetinfo => "inetinfo.exe".into(),
            Host::PooledDllhost => "pooled dllhost.exe".into(),
            Host::OwnDllhost(app) => format!("dllhost.exe of {app}"),
        }
    }
}

/// One application as the configuration places it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    /// The application root key, as written (MB-21).
    pub path: String,
    /// The site ID.
    pub site: u32,
    /// The URL path (`/`, `/shop`).
    pub vpath: String,
    /// The runtime its effective script map names (VER-02), if any.
    pub runtime: Option<Version>,
    /// The ISAPI the deciding map entry names, `%windir%` expanded.
    pub isapi: Option<String>,
    /// Where its ASP.NET code runs.
    pub host: Host,
}

/// One site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    /// Site ID.
    pub id: u32,
    /// ServerComment.
    pub name: String,
    /// ServerBindings as written.
    pub bindings: Vec<String>,
    /// ServerAutoStart.
    pub autostart: bool,
}

/// Whether the configuration runs IIS 5 style: IIS 5.x, or IIS 6 with IIs5IsolationModeEnabled (PM6-01).
pub fn iis5_style(m: &Machine) -> bool {
    !m.edition().is_iis6()
        || m.metabase().effective(W3SVC, "IIs5IsolationModeEnabled").and_then(|(v, _)| v.as_dword()).unwrap_or(0) != 0
}

fn site_id(path: &str) -> Option<u32> {
    path.split('/').nth(3)?.parse().ok()
}

/// Every site under `/LM/W3SVC`, in path order.
pub fn sites(m: &Machine) -> Vec<SiteInfo> {
    let mb = m.metabase();
    mb.children(W3SVC)
        .filter(|k| k.key_type().eq_ignore_ascii_case("IIsWebServer"))
        .filter_map(|k| {
            let id = site_id(k.path())?;
            let name = k.get("ServerComment").and_then(Value::as_str).unwrap_or_default().to_string();
            let bindings =
                k.get("ServerBindings").and_then(Value::as_multi).map(<[String]>::to_vec).unwrap_or_default();
            let autostart = mb.effective(k.path(), "ServerAutoStart").and_then(|(v, _)| v.as_dword()).unwrap_or(1) != 0;
            Some(SiteInfo { id, name, bindings, autostart })
        })
        .collect()
}

/// Every application (a key whose own AppRoot is itself, MB-21) with its runtime and host.
pub fn applications(m: &Machine) -> Vec<AppInfo> {
    let mb = m.metabase();
    let iis5 = iis5_style(m);
    let mut apps = Vec::new();
    for key in mb.subtree(W3SVC) {
        let Some(site) = site_id(key.path()) else { continue };
        let segs: Vec<&str> = key.path().split('/').collect();
        if segs.len() < 5 || !segs[4].eq_ignore_ascii_case("ROOT") {
            continue;
        }
        let own_root = key.get("AppRoot").and_then(Value::as_str).map(crate::metabase::normalize);
        if !own_root.is_some_and(|r| r.eq_ignore_ascii_case(key.path())) {
            continue;
        }
        let path = key.path().to_string();
        let vpath = format!("/{}", segs[5..].join("/"));
        let maps =
            mb.effective(&path, "ScriptMaps").and_then(|(v, _)| v.as_multi().map(parse_list)).unwrap_or_default();
        let isapi = maps::deciding_entry(&maps).map(|e| m.expand(&e.processor));
        let runtime = registration::app_version(m, &path);
        let dword = |p: &str, d: u32| mb.effective(&path, p).and_then(|(v, _)| v.as_dword()).unwrap_or(d);
        let host = if !iis5 {
            Host::Pool(
                mb.effective(&path, "AppPoolId").and_then(|(v, _)| v.as_str().map(str::to_string)).unwrap_or_default(),
            )
        } else {
            match runtime {
                Some(v) if m.process_model(v).enabled() => Host::Worker(v),
                _ => {
                    let inproc = isapi_list(
                        m,
                        &mb.effective(&path, "InProcessIsapiApps")
                            .and_then(|(v, _)| v.as_multi().map(<[String]>::to_vec))
                            .unwrap_or_default(),
                    );
                    let in_process = isapi.as_deref().is_some_and(|d| lists_isapi(&inproc, d));
                    match dword("AppIsolated", 2) {
                        _ if in_process => Host::Inetinfo,
                        0 => Host::Inetinfo,
                        1 => Host::OwnDllhost(path.clone()),
                        _ => Host::PooledDllhost,
                    }
                }
            }
        };
        apps.push(AppInfo { path, site, vpath, runtime, isapi, host });
    }
    apps
}

/// One risk found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule the risk comes from.
    pub rule: RuleId,
    /// Every rule that decides it, the first being `rule`.
    pub rules: Vec<RuleId>,
    /// A short name of the kind of risk.
    pub kind: &'static str,
    /// The key, pool or process concerned.
    pub subject: String,
    /// What goes wrong.
    pub message: String,
    /// The command lines, typed on the server, that remove the risk.
    pub fix: Vec<String>,
    /// Diagram node identifiers the risk concerns (`app:<path>`, `pool:<name>`, `site:<id>`...).
    #[serde(skip)]
    pub nodes: Vec<String>,
}

/// The pool lint proposes for the applications of one version.
fn pool_for(v: Version) -> String {
    format!("ASPNET-{}", v.short())
}

fn adsutil(args: &str) -> String {
    format!("cscript {ADSUTIL_PATH} {args}")
}

/// `W3SVC/1/ROOT/app` from `/LM/W3SVC/1/ROOT/app`, as the admin tools take paths.
fn tool_path(path: &str) -> String {
    path.trim_start_matches('/').trim_start_matches("LM/").trim_start_matches("lm/").to_string()
}

fn regiis(m: &Machine, v: Version, args: &str) -> String {
    format!("{}\\aspnet_regiis.exe {args}", m.framework_dir(v))
}

fn versions_text(groups: &BTreeMap<Version, Vec<String>>) -> String {
    groups.iter().map(|(v, apps)| format!("{v} ({})", apps.join(", "))).collect::<Vec<_>>().join(" and ")
}

/// The version that keeps a shared process: the one with most applications, the oldest on a tie.
fn keeper(groups: &BTreeMap<Version, Vec<String>>) -> Version {
    let most = groups.values().map(Vec::len).max().unwrap_or(0);
    *groups.iter().find(|(_, a)| a.len() == most).map(|(v, _)| v).expect("groups is not empty")
}

/// Applications below `moved` that run another version than `v` and take their AppPoolId from a
/// moved key or above it, so that moving the parent would move them too.
fn stay_behind(m: &Machine, apps: &[AppInfo], moved: &[String], v: Version) -> Vec<String> {
    let under = |child: &str, parent: &str| {
        child.to_ascii_lowercase().starts_with(&format!("{}/", parent.to_ascii_lowercase()))
    };
    apps.iter()
        .filter(|a| a.runtime.is_some_and(|r| r != v))
        .filter(|a| {
            moved.iter().any(|p| {
                under(&a.path, p)
                    && match m.metabase().effective(&a.path, "AppPoolId").map(|(_, o)| o) {
                        Some(crate::metabase::Origin::Inherited(from)) => from.len() <= p.len(),
                        Some(crate::metabase::Origin::Default) => true,
                        _ => false,
                    }
            })
        })
        .map(|a| a.path.clone())
        .collect()
}

/// Applications of two runtimes sharing one process (CLR-04 with PM6-06, PM5-10 or KB-07).
fn shared_processes(m: &Machine, apps: &[AppInfo], out: &mut Vec<Finding>) {
    let all = apps;
    let mut by_host: BTreeMap<Host, BTreeMap<Version, Vec<String>>> = BTreeMap::new();
    for a in apps {
        // A runtime that is not installed loads nowhere, and 1.0 never loads in w3wp.exe (PM6-04).
        let loads = |v: Version| m.runtime(v).installed && !(v == Version::V1_0 && matches!(a.host, Host::Pool(_)));
        if let (Some(v), false) =
            (a.runtime.filter(|v| loads(*v)), matches!(a.host, Host::Worker(_) | Host::OwnDllhost(_)))
        {
            by_host.entry(a.host.clone()).or_default().entry(v).or_default().push(a.path.clone());
        }
    }
    for (host, groups) in by_host.into_iter().filter(|(_, g)| g.len() > 1) {
        // A pool lint named for a version keeps that version; otherwise the one with most applications.
        let named = |v: &Version| matches!(&host, Host::Pool(p) if *p == pool_for(*v));
        let keep = groups.keys().find(|v| named(v)).copied().unwrap_or_else(|| keeper(&groups));
        let mut fix = Vec::new();
        let (mut rules, kind, what): (Vec<RuleId>, _, _) = match &host {
            Host::Pool(_) => (vec!["CLR-04", "PM6-06", "CLR-06"], "two runtimes in one pool", "the w3wp.exe"),
            Host::Inetinfo => (vec!["CLR-04", "PM5-10"], "two runtimes in inetinfo.exe", "inetinfo.exe"),
            _ => (vec!["CLR-04", "KB-07"], "two runtimes in the pooled dllhost.exe", "the pooled dllhost.exe"),
        };
        for (v, paths) in groups.iter().filter(|(v, _)| **v != keep) {
            match &host {
                Host::Pool(_) => {
                    let pool = pool_for(*v);
                    if !m.metabase().exists(&format!("/LM/W3SVC/AppPools/{pool}")) {
                        fix.push(adsutil(&format!("CREATE W3SVC/AppPools/{pool} IIsApplicationPool")));
                    }
                    for p in paths {
                        fix.push(adsutil(&format!("SET {}/AppPoolId {pool}", tool_path(p))));
                    }
                    // AppPoolId inherits (MB-16): applications of other versions below a moved
                    // one would follow it into the new pool unless they keep their own.
                    if let Host::Pool(old) = &host {
                        for child in stay_behind(m, all, paths, *v) {
                            fix.push(adsutil(&format!("SET {}/AppPoolId {old}", tool_path(&child))));
                            rules.push("MB-16");
                        }
                    }
                }
                _ => {
                    if host == Host::Inetinfo {
                        fix.push(format!("cscript InProcessIsapiApps.vbs REMOVE {}", m.isapi_path(*v)));
                    }
                    for p in paths {
                        fix.push(adsutil(&format!("APPCREATEOUTPROC {}", tool_path(p))));
                    }
                }
            }
        }
        // An application that takes its pool from another application's key is there by
        // inheritance (MB-16).
        let inherited = groups.values().flatten().any(|p| {
            matches!(m.metabase().effective(p, "AppPoolId"), Some((_, crate::metabase::Origin::Inherited(from)))
                if all.iter().any(|a| a.path.eq_ignore_ascii_case(&from)))
        });
        if inherited && matches!(host, Host::Pool(_)) {
            rules.push("MB-16");
        }
        rules.dedup();
        let mut nodes = vec![format!("host:{}", host.id())];
        nodes.extend(groups.values().flatten().map(|p| format!("app:{p}")));
        out.push(Finding {
            rule: rules[0],
            rules,
            kind,
            subject: host.label(),
            message: format!(
                "{} runs applications of {}: the first runtime requested owns {what}, the others get event 1062 and Server Application Unavailable",
                host.label(),
                versions_text(&groups)
            ),
            fix,
            nodes,
        });
    }
}

/// Keys whose own script map names a runtime that is not installed (VER-02, MAP-10).
fn missing_runtimes(m: &Machine, out: &mut Vec<Finding>) {
    let registered = m.registered();
    for key in m.metabase().subtree(W3SVC) {
        let Some(list) = key.get("ScriptMaps").and_then(Value::as_multi) else { continue };
        let lines = parse_list(list);
        let mut missing: Vec<String> = lines
            .iter()
            .filter_map(MapLine::entry)
            .filter(|e| e.is_aspnet())
            .filter(|e| match maps::dll_version(&e.processor) {
                Some(v) => !m.runtime(v).installed || !m.fs().is_file(&m.expand(&e.processor)),
                None => true,
            })
            .map(|e| e.processor.clone())
            .collect();
        missing.dedup();
        if missing.is_empty() {
            continue;
        }
        // The replacement: a registered runtime of the same major version, else the next
        // newer one, else the newest (CMP-01).
        let wanted = list_version_of(&lines);
        let replacement = wanted
            .and_then(|w| {
                registered.iter().find(|r| r.major() == w.major()).or_else(|| registered.iter().find(|r| **r > w))
            })
            .or(registered.last())
            .copied();
        let path = key.path().to_string();
        let fix = match replacement {
            Some(v) => vec![regiis(m, v, &format!("-s {}", tool_path(&path)))],
            None => vec![adsutil(&format!("DELETE {}/ScriptMaps", tool_path(&path)))],
        };
        out.push(Finding {
            rule: "VER-02",
            rules: vec!["VER-02", "MAP-10"],
            kind: "a script map names a runtime that is not installed",
            subject: path.clone(),
            message: format!(
                "{path} maps ASP.NET to {}, which is not on the server: its ASP.NET pages cannot run",
                missing.join(", ")
            ),
            fix,
            nodes: vec![format!("app:{path}"), format!("key:{path}")],
        });
    }
}

/// The runtime a list's deciding ASP.NET entry names, installed or not (VER-02).
fn list_version_of(lines: &[MapLine]) -> Option<Version> {
    maps::deciding_entry(lines).and_then(|e| maps::dll_version(&e.processor))
}

/// Whether the Web Service Extension list allows an ISAPI (SHR-04): its own row, else `*.dll`.
fn extension_allowed(m: &Machine, dll: &str) -> bool {
    let rows = m.metabase().own_list(W3SVC, "WebSvcExtRestrictionList");
    let field = |r: &str, i: usize| r.split(',').nth(i).map(|f| m.expand(f.trim()).to_ascii_lowercase());
    let lc = dll.to_ascii_lowercase();
    let row = rows.iter().find(|r| field(r, 1).as_deref() == Some(lc.as_str()));
    let row = row.or_else(|| rows.iter().find(|r| field(r, 1).as_deref() == Some("*.dll")));
    row.is_some_and(|r| r.trim_start().starts_with('1'))
}

/// Applications whose ASP.NET ISAPI is a prohibited Web Service Extension (SHR-04).
fn prohibited_extensions(m: &Machine, apps: &[AppInfo], out: &mut Vec<Finding>) {
    if !m.edition().is_iis6() {
        return;
    }
    let mut by_dll: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in apps {
        // A runtime that is not installed is reported as such (VER-02), not twice.
        if let (Some(dll), Some(_)) = (&a.isapi, a.runtime.filter(|v| m.runtime(*v).installed)) {
            if !extension_allowed(m, dll) {
                by_dll.entry(dll.clone()).or_default().push(a.path.clone());
            }
        }
    }
    for (dll, paths) in by_dll {
        out.push(Finding {
            rule: "SHR-04",
            rules: vec!["SHR-04"],
            kind: "a prohibited Web Service Extension",
            subject: dll.clone(),
            message: format!("{dll} is prohibited in the Web Service Extensions: {} answer 404.2", paths.join(", ")),
            fix: vec![format!("cscript {}\\system32\\iisext.vbs /EnFile {dll}", m.windir())],
            nodes: paths.iter().map(|p| format!("app:{p}")).collect(),
        });
    }
}

/// InProc sessions in a web garden (SES-05, PM6-05).
fn gardens(m: &Machine, apps: &[AppInfo], out: &mut Vec<Finding>) {
    let mut by_pool: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in apps {
        if let (Host::Pool(p), Some(_)) = (&a.host, a.runtime) {
            if m.web_config(&a.path).session == SessionMode::InProc {
                by_pool.entry(p.clone()).or_default().push(a.path.clone());
            }
        }
    }
    for (pool, paths) in by_pool {
        let key = format!("/LM/W3SVC/AppPools/{pool}");
        let n = m.metabase().effective(&key, "MaxProcesses").and_then(|(v, _)| v.as_dword()).unwrap_or(1);
        if n <= 1 {
            continue;
        }
        let mut nodes = vec![format!("host:pool:{pool}")];
        nodes.extend(paths.iter().map(|p| format!("app:{p}")));
        out.push(Finding {
            rule: "SES-05",
            rules: vec!["SES-05", "PM6-05"],
            kind: "InProc sessions in a web garden",
            subject: key,
            message: format!(
                "pool {pool} is a web garden of {n} w3wp.exe and {} keep InProc sessions: a client's next request may reach another worker and lose its session",
                paths.join(", ")
            ),
            fix: vec![adsutil(&format!("SET W3SVC/AppPools/{pool}/MaxProcesses 1"))],
            nodes,
        });
    }
}

/// 1.0 applications in worker process isolation mode (PM6-04).
fn v10_in_worker_mode(apps: &[AppInfo], out: &mut Vec<Finding>) {
    let paths: Vec<String> = apps
        .iter()
        .filter(|a| matches!(a.host, Host::Pool(_)) && a.runtime == Some(Version::V1_0))
        .map(|a| a.path.clone())
        .collect();
    if paths.is_empty() {
        return;
    }
    out.push(Finding {
        rule: "PM6-04",
        rules: vec!["PM6-04"],
        kind: "ASP.NET 1.0 in worker process isolation mode",
        subject: W3SVC.into(),
        message: format!(
            "{} use ASP.NET 1.0, which cannot run in w3wp.exe: every request gets Server Application Unavailable",
            paths.join(", ")
        ),
        fix: vec![adsutil("SET W3SVC/IIs5IsolationModeEnabled TRUE"), "iisreset".into()],
        nodes: paths.iter().map(|p| format!("app:{p}")).collect(),
    });
}

/// Applications nested under an application of another runtime family (CMP-03).
fn nested_across_versions(m: &Machine, apps: &[AppInfo], out: &mut Vec<Finding>) {
    for child in apps {
        let Some(cv) = child.runtime else { continue };
        let parent = apps
            .iter()
            .filter(|p| p.path.len() < child.path.len())
            .filter(|p| child.path.to_ascii_lowercase().starts_with(&format!("{}/", p.path.to_ascii_lowercase())))
            .max_by_key(|p| p.path.len());
        let Some(parent) = parent else { continue };
        let Some(pv) = parent.runtime else { continue };
        // An older runtime cannot read a newer parent's configuration sections; 4.0 under a 2.0
        // parent inherits its 3.5 compiler settings and fails to compile. A newer child under a
        // 1.x parent reads the older configuration fine.
        let why = if cv.major() < pv.major() {
            format!("the {cv} application inherits the {pv} parent's web.config, whose sections it cannot read")
        } else if cv == Version::V4_0 && pv == Version::V2_0 {
            format!("the {cv} application inherits the {pv} parent's compiler settings and fails to compile ('compilerVersion' must be 'v4.0' or later)")
        } else {
            continue;
        };
        out.push(Finding {
            rule: "CMP-03",
            rules: vec!["CMP-03"],
            kind: "nested applications across versions",
            subject: child.path.clone(),
            message: format!(
                "{} ({cv}) is nested in {} ({pv}): {why}; or wrap the parent's settings in <location inheritInChildApplications=\"false\">",
                child.path, parent.path
            ),
            fix: vec![regiis(m, pv, &format!("-s {}", tool_path(&child.path)))],
            nodes: vec![format!("app:{}", child.path), format!("app:{}", parent.path)],
        });
    }
}

/// Started sites whose bindings clash: the later one cannot start (REQ-05).
fn binding_clashes(sites: &[SiteInfo], out: &mut Vec<Finding>) {
    let mut taken: BTreeMap<Binding, u32> = BTreeMap::new();
    for s in sites.iter().filter(|s| s.autostart) {
        for b in s.bindings.iter().filter_map(|b| Binding::parse(b)) {
            match taken.get(&b) {
                Some(first) => {
                    let host: String = s
                        .name
                        .to_ascii_lowercase()
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                        .collect();
                    out.push(Finding {
                        rule: "REQ-05",
                        rules: vec!["REQ-05"],
                        kind: "a binding clash",
                        subject: format!("/LM/W3SVC/{}", s.id),
                        message: format!(
                            "site {} \"{}\" binds {b}, which site {first} already holds: it cannot start and its requests go elsewhere",
                            s.id, s.name
                        ),
                        fix: vec![adsutil(&format!("SET W3SVC/{}/ServerBindings \"{}:{}:{host}\"", s.id, b.ip, b.port))],
                        nodes: vec![format!("site:{}", s.id), format!("site:{first}")],
                    });
                    break;
                }
                None => {
                    taken.insert(b, s.id);
                }
            }
        }
    }
}

/// Every risk the machine's configuration holds, in a stable order.
pub fn lint(m: &Machine) -> Vec<Finding> {
    let apps = applications(m);
    let mut out = Vec::new();
    shared_processes(m, &apps, &mut out);
    missing_runtimes(m, &mut out);
    prohibited_extensions(m, &apps, &mut out);
    gardens(m, &apps, &mut out);
    v10_in_worker_mode(&apps, &mut out);
    nested_across_versions(m, &apps, &mut out);
    binding_clashes(&sites(m), &mut out);
    out
}

/// The findings as `iisim lint` prints them: one block per finding, then a count.
pub fn render(findings: &[Finding]) -> Vec<String> {
    let mut lines = Vec::new();
    for f in findings {
        lines.push(format!("{}  {}: {}", f.rule, f.kind, f.subject));
        lines.push(format!("    {} [{}]", f.message, f.rules.join(", ")));
        for fix in &f.fix {
            lines.push(format!("    fix: {fix}"));
        }
    }
    lines.push(match findings.len() {
        0 => "no findings".to_string(),
        1 => "1 finding".to_string(),
        n => format!("{n} findings"),
    });
    lines
}

/// The findings as JSON, for scripts.
pub fn to_json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(findings).unwrap_or_else(|_| "[]".into())
}
