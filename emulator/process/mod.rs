//! The process model: which process runs each request, what it hosts, and when it ends.
//!
//! IIS 5.x (and IIS 6 in IIS 5.0 isolation mode) run ISAPIs in inetinfo.exe or a dllhost.exe
//! chosen by Application Protection, and ASP.NET forwards to one aspnet_wp.exe per runtime
//! (PM5). IIS 6 worker process isolation mode runs everything in the w3wp.exe of the
//! application's pool (PM6). Whatever the process, the first runtime to run managed code in it
//! owns it (CLR). Every operation here records what it did, and which sessions it ended, through
//! the world's journal; a request's decisions are recorded only when its sink keeps them
//! ([`serve()`] does, the serve path of `iisim serve` does not).

pub mod pages;
pub mod serve;
pub mod session;
mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::config::{LogLevel, ProcessModel, WebConfig};
use crate::dispatch::View;
use crate::machine::journal::Level;
use crate::machine::Machine;
use crate::policy;
use crate::rules::RuleId;
use crate::runtime::Version;
use session::SessionMode;

pub use serve::{
    answer, prepare, prepare_with, serve, serve_prepared, serve_with, Answer, Load, Prepared, Served, Summary,
};
pub use state::World;

/// What a process is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// inetinfo.exe: IIS itself (IISADMIN, and W3SVC on IIS 5).
    Inetinfo,
    /// The pooled dllhost.exe of Medium applications (PM5-03).
    PooledDllhost,
    /// The dllhost.exe of one High application, by application key.
    AppDllhost(String),
    /// aspnet_wp.exe of a runtime; the number tells web-garden members apart (PM5-02, PM5-06).
    AspnetWp(Version, u32),
    /// w3wp.exe of a pool; the number tells web-garden members apart (PM6-02, PM6-05).
    W3wp(String, u32),
}

impl Role {
    /// The image name Task Manager shows.
    pub fn image(&self) -> &'static str {
        match self {
            Role::Inetinfo => "inetinfo.exe",
            Role::PooledDllhost | Role::AppDllhost(_) => "dllhost.exe",
            Role::AspnetWp(..) => "aspnet_wp.exe",
            Role::W3wp(..) => "w3wp.exe",
        }
    }

    fn describe(&self) -> String {
        match self {
            Role::Inetinfo => "inetinfo.exe".into(),
            Role::PooledDllhost => "dllhost.exe (pooled, Medium applications)".into(),
            Role::AppDllhost(app) => format!("dllhost.exe (High application {app})"),
            Role::AspnetWp(v, 0) => format!("aspnet_wp.exe ({v})"),
            Role::AspnetWp(v, n) => format!("aspnet_wp.exe ({v}, web garden #{})", n + 1),
            Role::W3wp(pool, 0) => format!("w3wp.exe (pool {pool})"),
            Role::W3wp(pool, n) => format!("w3wp.exe (pool {pool}, web garden #{})", n + 1),
        }
    }

    fn is_dllhost(&self) -> bool {
        matches!(self, Role::PooledDllhost | Role::AppDllhost(_))
    }
}

/// An application's AppDomain inside a process.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Domain {
    app: String,
    version: Version,
    mode: SessionMode,
    /// InProc session IDs.
    sessions: BTreeSet<String>,
    /// What it read and compiled in the machine's current generation.
    compiled: Compiled,
}

/// What an AppDomain read and compiled as of one generation of the machine: its web.config and
/// the pages it compiled. ASP.NET keeps both until a file changes (the AppDomain restarts on a
/// web.config change, a page recompiles when its file does), so a page it knows is neither a
/// forbidden type nor missing (HDR-07, HDR-08) and its next request reads no file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Compiled {
    generation: u64,
    config: WebConfig,
    /// Script URLs as requested (at most [`Compiled::MAX`]: a page past them is checked each time).
    pages: BTreeSet<Box<str>>,
}

impl Compiled {
    /// How many script URLs an AppDomain remembers (case variants of one page count apart).
    const MAX: usize = 1024;

    fn new(generation: u64, config: WebConfig) -> Compiled {
        Compiled { generation, config, pages: BTreeSet::new() }
    }

    /// The web.config read in generation `generation`, if that is when it was read.
    #[inline]
    fn config(&self, generation: u64) -> Option<WebConfig> {
        (self.generation == generation).then_some(self.config)
    }

    /// Whether the page at `script_url` was compiled in generation `generation`.
    #[inline]
    fn knows(&self, generation: u64, script_url: &str) -> bool {
        self.generation == generation && self.pages.contains(script_url)
    }

    /// Notes that the page at `script_url` is compiled with `config`, in generation `generation`.
    fn remember(&mut self, generation: u64, config: WebConfig, script_url: &str) {
        if self.generation != generation {
            *self = Compiled::new(generation, config);
        }
        if self.pages.len() < Compiled::MAX {
            self.pages.insert(script_url.into());
        }
    }
}

/// What an `aspnet_isapi.dll` read when it loaded into a host process (PM5-05, KB-02).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IsapiLoad {
    /// `<processModel enable>`.
    enabled: bool,
    /// The loaded DLL carries the KB 812833 fix.
    kb: bool,
}

/// Recycling limits a w3wp.exe read from its pool when it started (PM6-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct PoolLimits {
    idle: Option<u64>,
    restart_time: Option<u64>,
    restart_requests: Option<u64>,
    restart_memory_kb: Option<u64>,
    restart_private_kb: Option<u64>,
}

/// One running process.
#[derive(Debug, Clone)]
pub struct Process {
    pid: u32,
    role: Role,
    identity: String,
    started: u64,
    last_active: u64,
    served: u64,
    memory_mb: u32,
    clr: Option<Version>,
    refused: BTreeSet<Version>,
    isapis: BTreeMap<Version, IsapiLoad>,
    domains: BTreeMap<String, Domain>,
    busy: Vec<u64>,
    /// Requests waiting for a thread: request number and when it will have run (PM5-07).
    queued: Vec<(u64, u64)>,
    overflows: u32,
    /// 32- or 64-bit, fixed when the process starts (PM6-08).
    bitness: crate::runtime::Bitness,
    /// The ISAPI DLLs a w3wp.exe loaded, their bitness checked (PM6-08).
    loaded: Vec<String>,
    config: Option<Arc<ProcessModel>>,
    limits: PoolLimits,
}

impl Process {
    /// The emulated process ID (stable within a run).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What the process is for.
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// The image name.
    pub fn image(&self) -> &'static str {
        self.role.image()
    }

    /// The account it runs as.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The runtime whose CLR it has loaded (CLR-01).
    pub fn clr(&self) -> Option<Version> {
        self.clr
    }

    /// The applications with a live AppDomain in it.
    pub fn apps(&self) -> Vec<String> {
        self.domains.values().map(|d| d.app.clone()).collect()
    }

    /// One line for listings: `aspnet_wp.exe PID 1004 (1.1.4322) as ASPNET: /LM/W3SVC/1/ROOT/a`.
    pub fn summary(&self) -> String {
        let clr = self.clr.map(|v| format!(", CLR {v}")).unwrap_or_default();
        let apps = self.apps();
        let apps = if apps.is_empty() { String::new() } else { format!(": {}", apps.join(", ")) };
        format!("{} PID {} as {}{clr}{apps}", self.role.describe(), self.pid, self.identity)
    }
}

/// Run-time state of an application pool (IIS 6 worker mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PoolRun {
    stopped: Option<String>,
    crashes: Vec<u64>,
    next: u32,
}

/// The compiled view of the machine for dispatch, patched or rebuilt only when the machine changed.
#[inline]
pub fn view(m: &Machine, w: &mut World) -> Arc<View> {
    // Every request asks: the current view is a compare and a count, without a call.
    if let Some((g, v)) = &w.view {
        if *g == m.generation() {
            return v.clone();
        }
    }
    changed_view(m, w)
}

/// Runs `f` on the world and its current view of `m` ([`view`]), the view lent rather than
/// shared: no count of it moves, so a warm request pays no locked instruction for it.
#[inline]
pub fn with_view<R>(m: &Machine, w: &mut World, f: impl FnOnce(&mut World, &View) -> R) -> R {
    // The view is moved out of the world for `f` and back: `f` sees the world without it, which
    // nothing that serves reads (only this, `view` and `adopt_view` do). Should `f` panic, the
    // world is left without a view, and the next request compiles one.
    let (g, v) = match w.view.take() {
        Some((g, v)) if g == m.generation() => (g, v),
        held => {
            w.view = held;
            let v = changed_view(m, w);
            // `f` sees the world without its view, warm or cold.
            w.view = None;
            (m.generation(), v)
        }
    };
    let out = f(w, &v);
    w.view = Some((g, v));
    out
}

/// [`view`] once the machine has changed since the world's view was compiled.
#[inline(never)]
fn changed_view(m: &Machine, w: &mut World) -> Arc<View> {
    // A change to web keys alone patches the view the world holds (MB-20).
    let v = match &w.view {
        Some((_, old)) => View::update(old, m),
        None => Arc::new(View::compile(m)),
    };
    adopt_view(m, w, v.clone());
    v
}

/// Takes `v`, compiled from `m` outside the world's lock, as the world's view of `m`.
pub fn adopt_view(m: &Machine, w: &mut World, v: Arc<View>) {
    // What compiling set aside (a site that cannot start, a malformed binding) is worth saying
    // once, when it changes (REQ-05).
    let notes: Vec<String> = v.notes().iter().map(|d| d.text.clone()).collect();
    if w.view_notes != notes {
        for d in v.notes() {
            w.record_decision(d.text.clone(), &d.rules);
        }
        w.view_notes = notes;
    }
    w.view = Some((m.generation(), v));
}

/// Whether IIS runs in IIS 5 style (IIS 5.x, or IIS 6 in IIS 5.0 isolation mode), as decided
/// when W3SVC last started (PM6-01, PM6-03).
#[inline]
pub fn iis5_style(m: &Machine, w: &mut World) -> bool {
    if !m.edition().is_iis6() {
        return true;
    }
    if let Some(mode) = w.st().iis5_mode {
        return mode;
    }
    let mode = read_mode(m);
    w.st_mut().iis5_mode = Some(mode);
    mode
}

fn read_mode(m: &Machine) -> bool {
    m.metabase()
        .effective("/LM/W3SVC", "IIs5IsolationModeEnabled")
        .and_then(|(v, _)| v.as_dword())
        .is_some_and(|d| d != 0)
}

/// Starts IIS's processes as the machine boots: inetinfo.exe, and the isolation mode read now.
pub fn boot(m: &Machine, w: &mut World) {
    if m.iis() != crate::machine::IisState::Installed {
        return;
    }
    if m.edition().is_iis6() {
        let mode = read_mode(m);
        w.st_mut().iis5_mode = Some(mode);
    }
    snapshot_in_process(m, w);
    if w.find(&Role::Inetinfo).is_none() {
        // On IIS 5 inetinfo.exe hosts W3SVC (PM5-03); in IIS 6 worker mode only IISADMIN (PM6-01).
        let rules: &[RuleId] = if iis5_style(m, w) { &["PM5-03"] } else { &["PM6-01"] };
        start(m, w, Role::Inetinfo, "SYSTEM", None, rules);
    }
}

/// Whether `dll` is in InProcessIsapiApps as W3SVC read it when it started (SHR-03, KB-06): full
/// paths compare case-insensitively, bare names match any folder.
pub fn in_process_at_start(m: &Machine, w: &mut World, dll: &str) -> bool {
    if w.st().in_process.is_none() {
        snapshot_in_process(m, w);
    }
    crate::dispatch::view::lists_isapi(w.st().in_process.as_deref().unwrap_or_default(), dll)
}

/// Reads InProcessIsapiApps as W3SVC does when it starts.
fn snapshot_in_process(m: &Machine, w: &mut World) {
    let list = crate::dispatch::view::isapi_list(m, &m.metabase().own_list("/LM/W3SVC", "InProcessIsapiApps"));
    w.st_mut().in_process = Some(list);
}

fn start(
    m: &Machine,
    w: &mut World,
    role: Role,
    identity: &str,
    config: Option<ProcessModel>,
    rules: &[RuleId],
) -> u32 {
    let now = m.clock();
    let limits = match &role {
        Role::W3wp(pool, _) => pool_limits(m, pool),
        _ => PoolLimits::default(),
    };
    let pid = w.alloc_pid();
    let p = Process {
        pid,
        role: role.clone(),
        identity: identity.to_string(),
        started: now,
        last_active: now,
        served: 0,
        memory_mb: 0,
        clr: None,
        refused: BTreeSet::new(),
        isapis: BTreeMap::new(),
        domains: BTreeMap::new(),
        busy: Vec::new(),
        queued: Vec::new(),
        overflows: 0,
        bitness: m.iis_bitness(),
        loaded: Vec::new(),
        config: config.map(Arc::new),
        limits,
    };
    w.st_mut().procs.insert(pid, p);
    w.record_process(format!("{} started as PID {pid} (identity {identity})", role.describe()), rules);
    pid
}

fn pool_key(pool: &str) -> String {
    format!("/LM/W3SVC/AppPools/{pool}")
}

fn pool_dword(m: &Machine, pool: &str, prop: &str) -> u32 {
    m.metabase().effective(&pool_key(pool), prop).and_then(|(v, _)| v.as_dword()).unwrap_or(0)
}

fn pool_limits(m: &Machine, pool: &str) -> PoolLimits {
    let minutes = |prop: &str| match pool_dword(m, pool, prop) {
        0 => None,
        n => Some(u64::from(n) * 60),
    };
    let idle = match pool_dword(m, pool, "IdleTimeout") {
        0 if m.policies().is(policy::POOL_IDLE_TIMEOUT_ZERO, "immediate") => Some(0),
        0 => None,
        n => Some(u64::from(n) * 60),
    };
    let count = |prop: &str| match pool_dword(m, pool, prop) {
        0 => None,
        n => Some(u64::from(n)),
    };
    PoolLimits {
        idle,
        restart_time: minutes("PeriodicRestartTime"),
        restart_requests: count("PeriodicRestartRequests"),
        restart_memory_kb: count("PeriodicRestartMemory"),
        restart_private_kb: count("PeriodicRestartPrivateMemory"),
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Shut down or recycled on purpose.
    Clean,
    /// Died: killed, or crashed (counts toward rapid-fail protection in a pool).
    Crash,
}

/// Ends a process and everything that depends on it; records the InProc sessions that ended.
pub fn end(m: &Machine, w: &mut World, pid: u32, why: &str, ending: Ending, rules: &[RuleId]) {
    let Some(p) = w.st_mut().procs.remove(&pid) else { return };
    let mut ended = Vec::new();
    for d in p.domains.values() {
        for id in &d.sessions {
            ended.push(session::describe(w.st().sessions.owner(id), &d.app, d.mode));
        }
    }
    let mut rules = rules.to_vec();
    let mut text = format!("{} PID {pid} ended: {why}", p.role.describe());
    if p.clr.is_some() {
        text.push_str("; its CLR verdict goes with it");
        rules.push("CLR-05");
    }
    if !ended.is_empty() {
        text.push_str(&format!("; sessions ended: {}", ended.join(", ")));
        rules.extend(["SES-02"]);
    }
    rules.dedup();
    w.record_process(text, &rules);
    if let (Role::W3wp(pool, _), Ending::Crash) = (&p.role, ending) {
        crashed_in_pool(m, w, pool, pid);
    }
    // aspnet_wp.exe is a child of the aspnet_isapi.dll that launched it, in inetinfo.exe.
    if p.role == Role::Inetinfo {
        let children: Vec<u32> =
            w.st().procs.values().filter(|c| matches!(c.role, Role::AspnetWp(..))).map(|c| c.pid).collect();
        for c in children {
            end(m, w, c, "its parent inetinfo.exe ended", Ending::Clean, &["PM5-01"]);
        }
    }
}

/// The DLLs of the global ISAPI filters, in load order (SHR-01).
fn global_filters(m: &Machine) -> Vec<String> {
    let filters = "/LM/W3SVC/Filters";
    let order = m.metabase().own(filters, "FilterLoadOrder").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    order
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .filter_map(|n| {
            m.metabase().own(&format!("{filters}/{n}"), "FilterPath").and_then(|v| v.as_str()).map(str::to_string)
        })
        .collect()
}

/// The runtime whose aspnet_filter.dll is the global ISAPI filter, if any (SHR-01).
fn filter_version(m: &Machine) -> Option<Version> {
    global_filters(m).iter().find_map(|dll| {
        let folder = dll.to_ascii_lowercase();
        let folder = folder.rsplit('\\').nth(1).unwrap_or_default().to_string();
        Version::ALL.into_iter().find(|v| folder == v.folder_name())
    })
}

/// Recycles an aspnet_wp.exe (PM5-07): it ends, a replacement for the same runtime (and web
/// garden slot) starts at once with the machine.config of this moment, and the requests still
/// waiting in the old worker's queue move to it. Other processes just end.
pub fn recycle(m: &Machine, w: &mut World, pid: u32, why: &str, rules: &[RuleId]) {
    let Some(old) = w.st().procs.get(&pid).cloned() else { return };
    end(m, w, pid, why, Ending::Clean, rules);
    let Role::AspnetWp(v, slot) = old.role else { return };
    let pm = m.process_model(v);
    if !pm.credentials_valid() {
        return;
    }
    let identity = pm.identity();
    let new = start(m, w, Role::AspnetWp(v, slot), &identity, Some(pm.clone()), &["PM5-07", "PM5-02", "PM5-09"]);
    let now = m.clock();
    let waiting: Vec<(u64, u64)> = old.queued.iter().copied().filter(|(_, until)| *until > now).collect();
    if waiting.is_empty() {
        return;
    }
    for (id, _) in &waiting {
        w.st_mut().moved.insert(*id, ("aspnet_wp.exe", new));
    }
    if let Some(p) = w.st_mut().procs.get_mut(&new) {
        p.busy.extend(waiting.iter().map(|(_, until)| *until));
        p.served += waiting.len() as u64;
        // The moved requests load the same CLR and recreate their AppDomains (without sessions).
        p.clr = old.clr;
        p.domains =
            old.domains.iter().map(|(k, d)| (k.clone(), Domain { sessions: BTreeSet::new(), ..d.clone() })).collect();
    }
    let apps: Vec<&str> = old.domains.values().map(|d| d.app.as_str()).collect();
    w.record_process(
        format!(
            "{} queued request(s) move from PID {pid} to the new aspnet_wp.exe PID {new}, which loads the {v} CLR and AppDomains for {}",
            waiting.len(),
            apps.join(", ")
        ),
        &["PM5-07"],
    );
}

/// The process that answered request `id` when a recycle moved it from the one first reported.
pub fn answered_by(w: &World, id: u64) -> Option<(&'static str, u32)> {
    w.st().moved.get(&id).copied()
}

/// Why a pool that rapid-fail protection stopped is stopped (PM6-07).
pub(crate) const RAPID_FAIL: &str = "rapid-fail protection";

/// Records a crash of a pool's worker and stops the pool when rapid-fail protection trips (PM6-07).
fn crashed_in_pool(m: &Machine, w: &mut World, pool: &str, pid: u32) {
    let now = m.clock();
    w.log_event_to(m.clock(),
        "System",
        Level::Error,
        "W3SVC",
        1009,
        &format!("A process serving application pool '{pool}' terminated unexpectedly. The process id was '{pid}'. The process exit code was '0xffffffff'."),
        &["PM6-07"],
    );
    let enabled = pool_dword(m, pool, "RapidFailProtection") != 0;
    let window = u64::from(pool_dword(m, pool, "RapidFailProtectionInterval")) * 60;
    let max = pool_dword(m, pool, "RapidFailProtectionMaxCrashes") as usize;
    let run = w.st_mut().pools.entry(pool.to_ascii_lowercase()).or_default();
    run.crashes.push(now);
    run.crashes.retain(|t| now.saturating_sub(*t) < window.max(1));
    if enabled && max > 0 && run.crashes.len() >= max && run.stopped.is_none() {
        run.stopped = Some(RAPID_FAIL.into());
        w.log_event_to(m.clock(),
            "System",
            Level::Error,
            "W3SVC",
            1002,
            &format!("Application pool '{pool}' is being automatically disabled due to a series of failures in the process(es) serving that application pool."),
            &["PM6-07"],
        );
        w.record_process(
            format!(
                "pool {pool} stopped by rapid-fail protection ({max} crashes within {} minutes): HTTP.sys answers 503",
                window / 60
            ),
            &["PM6-07", "REQ-07"],
        );
    }
}

/// Writes one of aspnet_wp's recycling events, if the worker's logLevel lets it through (PM5-07).
fn worker_event(m: &Machine, w: &mut World, v: Version, log: LogLevel, level: Level, id: u32, message: String) {
    let pass = match log {
        LogLevel::All => true,
        LogLevel::Errors => level == Level::Error,
        LogLevel::None => false,
    };
    if pass {
        let source = crate::messages::Catalog::of(v).source();
        w.log_event(m.clock(), level, &source, id, &message, &["PM5-07"]);
    } else {
        w.note(format!("event {id} not written: processModel logLevel filters it"), &["PM5-07"]);
    }
}

/// Restarts W3SVC (REG-16, IIR-04): it stops and starts as `net stop w3svc` and `net start w3svc`
/// do, and the isolation mode is read again (PM6-01).
pub fn restart_w3svc(m: &Machine, w: &mut World, why: &str, rules: &[RuleId]) {
    let before = iis5_style(m, w);
    w3svc_stop(m, w, why, rules, Iisadmin::Stays);
    w3svc_start(m, w);
    let after = iis5_style(m, w);
    if m.edition().is_iis6() && before != after {
        let mode = if after { "IIS 5.0 isolation mode" } else { "worker process isolation mode" };
        w.record_process(format!("W3SVC started in {mode} (IIs5IsolationModeEnabled)"), &["PM6-01"]);
    }
}

/// What happens to IISADMIN when W3SVC stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Iisadmin {
    /// Only W3SVC stops (`net stop w3svc`, `sc stop w3svc`, a W3SVC restart): inetinfo.exe stays.
    Stays,
    /// IISADMIN stops after its dependent W3SVC (`iisreset /stop`, `net stop iisadmin`).
    Stops,
}

/// W3SVC stops: every worker process ends. inetinfo.exe is IISADMIN's process and stays with the
/// in-memory metabase (IIR-04, NET-09); on IIS 5 it also hosts W3SVC, whose ISAPIs and AppDomains
/// unload, but a CLR it loaded stays until the process ends (CLR-05). With [`Iisadmin::Stops`]
/// inetinfo.exe then ends too (IIR-03). Every front end that stops W3SVC calls this.
pub fn w3svc_stop(m: &Machine, w: &mut World, why: &str, rules: &[RuleId], iisadmin: Iisadmin) {
    let iis5 = iis5_style(m, w);
    let pids: Vec<u32> = w.st().procs.values().filter(|p| p.role != Role::Inetinfo).map(|p| p.pid).collect();
    for pid in pids {
        end(m, w, pid, why, Ending::Clean, rules);
    }
    if let Some(pid) = w.find(&Role::Inetinfo) {
        match iisadmin {
            Iisadmin::Stays if iis5 => w3svc_unloaded(w, pid),
            Iisadmin::Stays => {}
            Iisadmin::Stops => end(m, w, pid, why, Ending::Clean, rules),
        }
    }
    w.w3svc_stopped();
}

/// W3SVC starts: inetinfo.exe runs (starting with IISADMIN if it was stopped) and W3SVC reads
/// the isolation mode and InProcessIsapiApps (IIR-03, PM6-01). Every front end that starts W3SVC
/// calls this.
pub fn w3svc_start(m: &Machine, w: &mut World) {
    boot(m, w);
}

/// W3SVC stopped inside inetinfo.exe (IIS 5): its ISAPIs and AppDomains unload, InProc sessions
/// go with them, and the process keeps running with any CLR it loaded (IIR-04, CLR-05, SES-02).
fn w3svc_unloaded(w: &mut World, pid: u32) {
    let Some(p) = w.st_mut().procs.get_mut(&pid) else { return };
    let domains = std::mem::take(&mut p.domains);
    p.isapis.clear();
    let clr = p.clr;
    let mut ended = Vec::new();
    for d in domains.values() {
        for id in &d.sessions {
            ended.push(session::describe(w.st().sessions.owner(id), &d.app, d.mode));
        }
    }
    let mut text = format!("inetinfo.exe PID {pid} keeps running (IISADMIN): W3SVC's ISAPIs unload");
    let mut rules: Vec<RuleId> = vec!["IIR-04"];
    if !domains.is_empty() {
        let apps: Vec<&str> = domains.values().map(|d| d.app.as_str()).collect();
        text.push_str(&format!(", AppDomains end ({})", apps.join(", ")));
    }
    if let Some(v) = clr {
        text.push_str(&format!("; the {v} CLR stays loaded until the process ends"));
        rules.push("CLR-05");
    }
    if !ended.is_empty() {
        text.push_str(&format!("; sessions ended: {}", ended.join(", ")));
        rules.push("SES-02");
    }
    w.record_process(text, &rules);
}

/// Whether W3SVC is running.
pub fn web_running(m: &Machine, _w: &World) -> bool {
    // One truth: whether W3SVC serves is the W3SVC service's state on the machine (IIR-02).
    m.iis() == crate::machine::IisState::Installed && m.service("W3SVC").is_some_and(|s| s.running)
}

/// [`web_running`], read once per generation of the machine: every change to a service or to
/// IIS's installation counts in it.
#[inline]
pub(crate) fn serving(m: &Machine, w: &mut World) -> bool {
    let generation = m.generation();
    match w.serving {
        Some((g, running)) if g == generation => running,
        _ => {
            let running = web_running(m, w);
            w.serving = Some((generation, running));
            running
        }
    }
}

/// Kills processes by PID or image name; returns how many died. A pool's worker that dies
/// counts as a crash (PM6-07); aspnet_wp's death is event 1000 (PM5-07).
pub fn kill(m: &Machine, w: &mut World, what: &str) -> usize {
    let pids: Vec<u32> = match what.parse::<u32>() {
        Ok(pid) => w.st().procs.contains_key(&pid).then_some(pid).into_iter().collect(),
        Err(_) => w.st().procs.values().filter(|p| p.image().eq_ignore_ascii_case(what)).map(|p| p.pid).collect(),
    };
    for &pid in &pids {
        let Some(p) = w.st().procs.get(&pid).cloned() else { continue };
        if let Role::AspnetWp(v, _) = p.role {
            let log = p.config.as_ref().map(|c| c.log_level()).unwrap_or(LogLevel::Errors);
            worker_event(
                m,
                w,
                v,
                log,
                Level::Error,
                1000,
                format!("aspnet_wp.exe  (PID: {pid}) stopped unexpectedly."),
            );
        }
        end(m, w, pid, "killed", Ending::Crash, &["PM5-07", "PM6-07"]);
        if p.role == Role::Inetinfo {
            // The IIS Admin service's recovery restarts IIS after inetinfo dies (modeled).
            restart_w3svc(m, w, "inetinfo.exe died: IIS restarts", &["IIR-03"]);
        }
    }
    pids.len()
}

/// `HttpRuntime.UnloadAppDomain()` called by application `app` (SES-03, KB-08). Returns an error
/// message when the runtime lacks the method.
pub fn unload_app_domain(m: &Machine, w: &mut World, app: &str) -> Result<usize, String> {
    let key = app.to_ascii_lowercase();
    let hosts: Vec<(u32, Version)> =
        w.st().procs.values().filter_map(|p| p.domains.get(&key).map(|d| (p.pid, d.version))).collect();
    for (_, v) in &hosts {
        if *v == Version::V1_0 && !has_kb812833(m, Version::V1_0) {
            return Err(format!(
                "System.MissingMethodException: Method not found: System.Web.HttpRuntime.UnloadAppDomain (1.0 has it only with the KB 812833 update) in {app}"
            ));
        }
    }
    for (pid, _) in &hosts {
        end_domain(
            w,
            *pid,
            &key,
            "HttpRuntime.UnloadAppDomain(): the application restarts on its next request",
            &["SES-03", "KB-08"],
        );
    }
    Ok(hosts.len())
}

/// adsutil's APPUNLOAD: ends the application wherever it is loaded; a High application's
/// dllhost.exe ends with it (ADS-09). Returns how many instances ended.
pub fn unload_app(m: &Machine, w: &mut World, app: &str) -> usize {
    let key = app.to_ascii_lowercase();
    let own: Vec<u32> = w
        .st()
        .procs
        .values()
        .filter(|p| matches!(&p.role, Role::AppDllhost(a) if a.eq_ignore_ascii_case(app)))
        .map(|p| p.pid)
        .collect();
    let hosts: Vec<u32> = w.st().procs.values().filter(|p| p.domains.contains_key(&key)).map(|p| p.pid).collect();
    let mut n = 0;
    for pid in hosts.iter().filter(|p| !own.contains(p)) {
        end_domain(w, *pid, &key, "APPUNLOAD", &["ADS-09", "SES-02"]);
        n += 1;
    }
    for pid in own {
        end(m, w, pid, "APPUNLOAD of its application", Ending::Clean, &["ADS-09", "PM5-03"]);
        n += 1;
    }
    n
}

/// Whether application `app` is loaded in some process (ADS-09 APPGETSTATUS).
pub fn app_loaded(w: &World, app: &str) -> bool {
    let key = app.to_ascii_lowercase();
    w.st()
        .procs
        .values()
        .any(|p| p.domains.contains_key(&key) || matches!(&p.role, Role::AppDllhost(a) if a.eq_ignore_ascii_case(app)))
}

/// Ends one AppDomain, recording the InProc sessions it held.
fn end_domain(w: &mut World, pid: u32, app_key: &str, why: &str, rules: &[RuleId]) {
    let Some(d) = w.st_mut().procs.get_mut(&pid).and_then(|p| p.domains.remove(app_key)) else { return };
    let ended: Vec<String> =
        d.sessions.iter().map(|id| session::describe(w.st().sessions.owner(id), &d.app, d.mode)).collect();
    let mut text = format!("AppDomain of {} in PID {pid} unloaded: {why}", d.app);
    if !ended.is_empty() {
        text.push_str(&format!("; sessions ended: {}", ended.join(", ")));
    }
    w.record_process(text, rules);
}

/// Edits an attribute of runtime `v`'s machine.config processModel; it applies at the next
/// worker start (PM5-05).
pub fn edit_process_model(m: &mut Machine, v: Version, attr: &str, value: &str) -> Result<(), String> {
    let mut pm = m.process_model(v).clone();
    pm.set(attr, value)?;
    let text = format!(
        "{}\\CONFIG\\machine.config: <processModel {attr}=\"{value}\"> (read when a worker or host next loads {v})",
        m.framework_dir(v)
    );
    m.set_process_model(v, pm, text, &["PM5-04", "PM5-05"]);
    Ok(())
}

/// Replaces an application's web.config settings; ASP.NET restarts its AppDomains (SES-02).
pub fn set_web_config(m: &mut Machine, w: &mut World, app: &str, wc: WebConfig) {
    let key = app.to_ascii_lowercase();
    if m.web_config(app) == wc {
        return;
    }
    let text = format!(
        "{app} web.config: sessionState mode=\"{}\", enableVersionHeader=\"{}\"{}",
        wc.session.name(),
        wc.version_header,
        wc.target.map(|v| format!(", built for {v}")).unwrap_or_default()
    );
    m.set_web_config(app, wc, text, &["SES-01"]);
    let pids: Vec<u32> = w.st().procs.values().filter(|p| p.domains.contains_key(&key)).map(|p| p.pid).collect();
    for pid in pids {
        end_domain(w, pid, &key, "web.config changed", &["SES-02"]);
    }
}

/// Whether runtime `v` has the KB 812833 update: installed on the machine, or assumed by policy
/// (KB-02, PM5-11).
pub fn has_kb812833(m: &Machine, v: Version) -> bool {
    m.has_kb812833(v) || (v.major() == 1 && m.policies().flag(policy::PM5_KB812833_INSTALLED))
}

/// Starts or stops a pool as `AppPoolCommand` does (ADS-05, PM6-07); stopping ends its workers.
pub fn pool_command(m: &Machine, w: &mut World, pool: &str, start_pool: bool) {
    let run = w.st_mut().pools.entry(pool.to_ascii_lowercase()).or_default();
    if start_pool {
        run.stopped = None;
        run.crashes.clear();
        w.record_process(format!("pool {pool} started"), &["PM6-07"]);
        return;
    }
    run.stopped = Some("stopped by an administrator".into());
    w.record_process(format!("pool {pool} stopped: HTTP.sys answers 503 for its applications"), &["PM6-07", "REQ-07"]);
    let pids: Vec<u32> = w
        .st()
        .procs
        .values()
        .filter(|p| matches!(&p.role, Role::W3wp(name, _) if name.eq_ignore_ascii_case(pool)))
        .map(|p| p.pid)
        .collect();
    for pid in pids {
        end(m, w, pid, "its pool was stopped", Ending::Clean, &["PM6-07"]);
    }
}

/// The state service restarted or changed owner: every StateServer session ends (SES-04, SHR-06).
pub fn state_service_restarted(w: &mut World) {
    w.st_mut().state_version_checked = false;
    let ended = w.st_mut().sessions.clear(SessionMode::StateServer);
    if !ended.is_empty() {
        w.record_process(
            format!("aspnet_state restarted; sessions ended: {}", ended.join(", ")),
            &["SES-04", "SHR-06"],
        );
    }
}

/// SQL Server restarted: default (tempdb) session state ends (SES-04, SHR-07).
pub fn sql_server_restarted(w: &mut World) {
    let ended = w.st_mut().sessions.clear(SessionMode::SqlServer);
    let list = if ended.is_empty() { "none".to_string() } else { ended.join(", ") };
    w.record_process(
        format!("SQL Server restarted; ASPState tables in tempdb emptied; sessions ended: {list}"),
        &["SES-04", "SHR-07"],
    );
}

/// What is due to a process at or before `until`: its time and what happens.
fn due(p: &Process, until: u64) -> Option<(u64, Due)> {
    let mut best: Option<(u64, Due)> = None;
    let mut consider = |t: u64, d: Due| {
        if t <= until && best.as_ref().is_none_or(|(bt, _)| t < *bt) {
            best = Some((t, d));
        }
    };
    let busy_until = p.busy.iter().copied().max().unwrap_or(0).max(p.last_active);
    match &p.role {
        Role::AspnetWp(..) => {
            if let Some(c) = &p.config {
                if let Some(idle) = c.seconds("idleTimeout") {
                    consider(busy_until + idle, Due::WorkerIdle(idle));
                }
                if let Some(life) = c.seconds("timeout") {
                    consider(p.started + life, Due::WorkerTimeout(life));
                }
            }
        }
        Role::W3wp(..) => {
            if let Some(idle) = p.limits.idle {
                consider(busy_until + idle, Due::PoolIdle(idle));
            }
            if let Some(t) = p.limits.restart_time {
                consider(p.started + t, Due::PoolRecycle(t));
            }
        }
        _ => {}
    }
    best
}

#[derive(Debug, Clone, Copy)]
enum Due {
    WorkerIdle(u64),
    WorkerTimeout(u64),
    PoolIdle(u64),
    PoolRecycle(u64),
}

/// Moves the virtual clock forward, running every idle shutdown and periodic recycle that falls
/// due on the way, in time order (PM5-07, PM6-05).
pub fn advance(m: &mut Machine, w: &mut World, seconds: u64) {
    let until = m.clock() + seconds;
    loop {
        let next = w
            .st()
            .procs
            .values()
            .filter_map(|p| due(p, until).map(|(t, d)| (t, p.pid, d)))
            .min_by_key(|(t, pid, _)| (*t, *pid));
        let Some((t, pid, d)) = next else { break };
        m.set_clock(t);
        let Some(p) = w.st().procs.get(&pid).cloned() else { break };
        let log = p.config.as_ref().map(|c| c.log_level()).unwrap_or(LogLevel::Errors);
        match (d, &p.role) {
            (Due::WorkerIdle(idle), Role::AspnetWp(v, _)) => {
                worker_event(
                    m,
                    w,
                    *v,
                    log,
                    Level::Information,
                    1005,
                    format!("aspnet_wp.exe  (PID: {pid}) was recycled because it was idle for {} minutes.", idle / 60),
                );
                end(
                    m,
                    w,
                    pid,
                    &format!("processModel idleTimeout ({} min idle)", idle / 60),
                    Ending::Clean,
                    &["PM5-07"],
                );
            }
            (Due::WorkerTimeout(life), Role::AspnetWp(v, _)) => {
                worker_event(
                    m,
                    w,
                    *v,
                    log,
                    Level::Information,
                    1004,
                    format!(
                        "aspnet_wp.exe  (PID: {pid}) was recycled after running for {} minutes (processModel timeout).",
                        life / 60
                    ),
                );
                recycle(m, w, pid, &format!("processModel timeout ({} min)", life / 60), &["PM5-07"]);
            }
            (Due::PoolIdle(idle), Role::W3wp(pool, _)) => {
                let pool = pool.clone();
                end(
                    m,
                    w,
                    pid,
                    &format!("pool {pool} IdleTimeout ({} min idle)", idle / 60),
                    Ending::Clean,
                    &["PM6-05"],
                );
            }
            (Due::PoolRecycle(t), Role::W3wp(pool, _)) => {
                let pool = pool.clone();
                w.log_event_to(m.clock(), "System", Level::Information, "W3SVC", 1074, &format!("A worker process with process id of '{pid}' serving application pool '{pool}' has requested a recycle because the worker process reached its allowed processing time limit."), &["PM6-05"]);
                end(
                    m,
                    w,
                    pid,
                    &format!("pool {pool} PeriodicRestartTime ({} min)", t / 60),
                    Ending::Clean,
                    &["PM6-05"],
                );
            }
            _ => break,
        }
    }
    m.set_clock(until);
}

/// Whether IWAM_<machine> may read what ASP.NET needs in a dllhost (KB-06 step 8).
fn iwam_granted(m: &Machine) -> bool {
    let iwam = format!("IWAM_{}", m.name());
    m.resource(&format!("granted:{iwam}")).is_some()
}

/// Gives an account the permissions of ASPNET on the Framework folders, Temporary ASP.NET Files
/// and content, as KB 812833 step 8 asks (KB-06).
pub fn grant_like_aspnet(m: &mut Machine, account: &str) {
    m.set_resource(&format!("granted:{account}"), Some("same permissions as ASPNET".into()), &["KB-06"]);
}
