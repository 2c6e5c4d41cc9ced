//! The process model: which process runs each request, what it hosts, and when it ends.
//!
//! IIS 5.x (and IIS 6 in IIS 5.0 isolation mode) run ISAPIs in inetinfo.exe or a dllhost.exe
//! chosen by Application Protection, and ASP.NET forwards to one aspnet_wp.exe per runtime
//! (PM5). IIS 6 worker process isolation mode runs everything in the w3wp.exe of the
//! application's pool (PM6). Whatever the process, the first runtime to run managed code in it
//! owns it (CLR). Every operation here records what it did, and which sessions it ended, through
//! the machine's journal.

pub mod config;
pub mod pages;
pub mod serve;
pub mod session;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::dispatch::View;
use crate::machine::journal::Level;
use crate::machine::Machine;
use crate::policy;
use crate::rules::RuleId;
use crate::runtime::Version;
use config::{LogLevel, ProcessModel, WebConfig};
use session::{SessionMode, Sessions};

pub use serve::{serve, Load, Served};

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
    overflows: u32,
    config: Option<ProcessModel>,
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

/// Whether W3SVC accepts requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Web {
    /// Running.
    #[default]
    Running,
    /// Stopped by `iisreset /stop`.
    Stopped,
}

/// Run-time state of an application pool (IIS 6 worker mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PoolRun {
    stopped: Option<String>,
    crashes: Vec<u64>,
    next: u32,
}

/// Everything that runs: processes, pools, sessions, and the configuration files the process
/// model reads (machine.config processModel per runtime, each application's web.config).
#[derive(Debug, Clone)]
pub struct World {
    next_pid: u32,
    procs: BTreeMap<u32, Process>,
    web: Web,
    iis5_mode: Option<bool>,
    pools: BTreeMap<String, PoolRun>,
    rr: BTreeMap<String, u32>,
    gardens: BTreeMap<Version, u32>,
    configs: BTreeMap<Version, ProcessModel>,
    web_configs: BTreeMap<String, WebConfig>,
    sessions: Sessions,
    reset_disabled: bool,
    cpus: u32,
    memory_mb: u32,
    view: Option<(u64, Arc<View>)>,
    warned: BTreeSet<String>,
    in_process: Option<Vec<String>>,
    view_notes: Vec<String>,
    root_version_header: BTreeMap<Version, bool>,
    state_version_checked: bool,
}

impl Default for World {
    fn default() -> Self {
        World {
            next_pid: 1000,
            procs: BTreeMap::new(),
            web: Web::Running,
            iis5_mode: None,
            pools: BTreeMap::new(),
            rr: BTreeMap::new(),
            gardens: BTreeMap::new(),
            configs: BTreeMap::new(),
            web_configs: BTreeMap::new(),
            sessions: Sessions::default(),
            reset_disabled: false,
            cpus: 1,
            memory_mb: 1024,
            view: None,
            warned: BTreeSet::new(),
            in_process: None,
            view_notes: Vec::new(),
            root_version_header: BTreeMap::new(),
            state_version_checked: false,
        }
    }
}

impl World {
    /// Running processes, by PID.
    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.procs.values()
    }

    /// The process with this PID.
    pub fn process(&self, pid: u32) -> Option<&Process> {
        self.procs.get(&pid)
    }

    /// Runtime `v`'s processModel as its machine.config now says.
    pub fn process_model(&self, v: Version) -> ProcessModel {
        self.configs.get(&v).cloned().unwrap_or_else(|| ProcessModel::shipped(v))
    }

    /// The web.config of application `app`.
    pub fn web_config(&self, app: &str) -> WebConfig {
        self.web_configs.get(&app.to_ascii_lowercase()).cloned().unwrap_or_default()
    }

    /// Whether a pool is stopped, and why.
    pub fn pool_stopped(&self, pool: &str) -> Option<&str> {
        self.pools.get(&pool.to_ascii_lowercase()).and_then(|p| p.stopped.as_deref())
    }

    /// The sessions and clients.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Forgets what W3SVC read when it started and what its pools went through: the next start
    /// reads the isolation mode, InProcessIsapiApps and garden sizes again, and a rapid-fail stop
    /// is lifted (PM6-01, PM6-07, SHR-03).
    fn w3svc_stopped(&mut self) {
        self.iis5_mode = None;
        self.in_process = None;
        self.gardens.clear();
        self.warned.clear();
        for run in self.pools.values_mut() {
            if run.stopped.as_deref() == Some("rapid-fail protection") {
                run.stopped = None;
            }
            run.crashes.clear();
        }
    }

    fn alloc_pid(&mut self) -> u32 {
        let pid = self.next_pid;
        self.next_pid += 4;
        pid
    }

    fn find(&self, role: &Role) -> Option<u32> {
        self.procs.values().find(|p| &p.role == role).map(|p| p.pid)
    }
}

/// The compiled view of the machine for dispatch, rebuilt only when the machine changed.
pub fn view(m: &mut Machine) -> Arc<View> {
    let generation = m.generation();
    if let Some((g, v)) = &m.world().view {
        if *g == generation {
            return v.clone();
        }
    }
    let v = Arc::new(View::compile(m));
    // What compiling set aside (a site that cannot start, a malformed binding) is worth saying
    // once, when it changes (REQ-05).
    let notes: Vec<String> = v.notes().iter().map(|d| d.text.clone()).collect();
    if m.world().view_notes != notes {
        for d in v.notes() {
            m.record_decision(d.text.clone(), &d.rules);
        }
        m.world_mut().view_notes = notes;
    }
    m.world_mut().view = Some((generation, v.clone()));
    v
}

/// Whether IIS runs in IIS 5 style (IIS 5.x, or IIS 6 in IIS 5.0 isolation mode), as decided
/// when W3SVC last started (PM6-01, PM6-03).
pub fn iis5_style(m: &mut Machine) -> bool {
    if !m.edition().is_iis6() {
        return true;
    }
    if let Some(mode) = m.world().iis5_mode {
        return mode;
    }
    let mode = read_mode(m);
    m.world_mut().iis5_mode = Some(mode);
    mode
}

fn read_mode(m: &Machine) -> bool {
    m.metabase()
        .effective("/LM/W3SVC", "IIs5IsolationModeEnabled")
        .and_then(|(v, _)| v.as_dword())
        .is_some_and(|d| d != 0)
}

/// Starts IIS's processes as the machine boots: inetinfo.exe, and the isolation mode read now.
pub fn boot(m: &mut Machine) {
    if m.iis() != crate::machine::IisState::Installed {
        return;
    }
    if m.edition().is_iis6() {
        let mode = read_mode(m);
        m.world_mut().iis5_mode = Some(mode);
    }
    snapshot_in_process(m);
    m.world_mut().web = Web::Running;
    if m.world().find(&Role::Inetinfo).is_none() {
        start(m, Role::Inetinfo, "SYSTEM", None, &["PM5-03"]);
    }
}

/// Whether `dll` is in InProcessIsapiApps as W3SVC read it when it started (SHR-03, KB-06): full
/// paths compare case-insensitively, bare names match any folder.
pub fn in_process_at_start(m: &mut Machine, dll: &str) -> bool {
    if m.world().in_process.is_none() {
        snapshot_in_process(m);
    }
    crate::dispatch::view::lists_isapi(m.world().in_process.as_deref().unwrap_or_default(), dll)
}

/// Reads InProcessIsapiApps as W3SVC does when it starts.
fn snapshot_in_process(m: &mut Machine) {
    let list = crate::dispatch::view::isapi_list(m, &m.metabase().own_list("/LM/W3SVC", "InProcessIsapiApps"));
    m.world_mut().in_process = Some(list);
}

/// Sets `<httpRuntime enableVersionHeader>` in runtime `v`'s root configuration (HDR-01, SES-08).
pub fn set_root_version_header(m: &mut Machine, v: Version, on: bool) {
    m.world_mut().root_version_header.insert(v, on);
    m.record_process(
        format!(
            "{}\\CONFIG: <httpRuntime enableVersionHeader=\"{on}\"> for every {v} application and its state service",
            m.framework_dir(v)
        ),
        &["HDR-01", "SES-08"],
    );
}

/// Whether runtime `v`'s root configuration lets it send X-AspNet-Version (HDR-01, SES-08).
pub fn root_version_header(m: &Machine, v: Version) -> bool {
    m.world().root_version_header.get(&v).copied().unwrap_or(true)
}

/// The machine's hardware, for web gardens and memoryLimit.
pub fn set_hardware(m: &mut Machine, cpus: u32, memory_mb: u32) {
    let w = m.world_mut();
    w.cpus = cpus.max(1);
    w.memory_mb = memory_mb.max(1);
}

fn start(m: &mut Machine, role: Role, identity: &str, config: Option<ProcessModel>, rules: &[RuleId]) -> u32 {
    let now = m.clock();
    let limits = match &role {
        Role::W3wp(pool, _) => pool_limits(m, pool),
        _ => PoolLimits::default(),
    };
    let w = m.world_mut();
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
        overflows: 0,
        config,
        limits,
    };
    w.procs.insert(pid, p);
    m.record_process(format!("{} started as PID {pid} (identity {identity})", role.describe()), rules);
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
pub fn end(m: &mut Machine, pid: u32, why: &str, ending: Ending, rules: &[RuleId]) {
    let Some(p) = m.world_mut().procs.remove(&pid) else { return };
    let mut ended = Vec::new();
    for d in p.domains.values() {
        for id in &d.sessions {
            ended.push(session::describe(m.world().sessions.owner(id), &d.app, d.mode));
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
    m.record_process(text, &rules);
    if let (Role::W3wp(pool, _), Ending::Crash) = (&p.role, ending) {
        crashed_in_pool(m, pool, pid);
    }
    // aspnet_wp.exe is a child of the aspnet_isapi.dll that launched it, in inetinfo.exe.
    if p.role == Role::Inetinfo {
        let children: Vec<u32> =
            m.world().procs.values().filter(|c| matches!(c.role, Role::AspnetWp(..))).map(|c| c.pid).collect();
        for c in children {
            end(m, c, "its parent inetinfo.exe ended", Ending::Clean, &["PM5-01"]);
        }
    }
}

/// Records a crash of a pool's worker and stops the pool when rapid-fail protection trips (PM6-07).
fn crashed_in_pool(m: &mut Machine, pool: &str, pid: u32) {
    let now = m.clock();
    m.log_event_to(
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
    let run = m.world_mut().pools.entry(pool.to_ascii_lowercase()).or_default();
    run.crashes.push(now);
    run.crashes.retain(|t| now.saturating_sub(*t) < window.max(1));
    if enabled && max > 0 && run.crashes.len() >= max && run.stopped.is_none() {
        run.stopped = Some("rapid-fail protection".into());
        m.log_event_to(
            "System",
            Level::Error,
            "W3SVC",
            1002,
            &format!("Application pool '{pool}' is being automatically disabled due to a series of failures in the process(es) serving that application pool."),
            &["PM6-07"],
        );
        m.record_process(
            format!(
                "pool {pool} stopped by rapid-fail protection ({max} crashes within {} minutes): HTTP.sys answers 503",
                window / 60
            ),
            &["PM6-07", "REQ-07"],
        );
    }
}

/// Writes one of aspnet_wp's recycling events, if the worker's logLevel lets it through (PM5-07).
fn worker_event(m: &mut Machine, v: Version, log: LogLevel, level: Level, id: u32, message: String) {
    let pass = match log {
        LogLevel::All => true,
        LogLevel::Errors => level == Level::Error,
        LogLevel::None => false,
    };
    if pass {
        let source = crate::messages::Catalog::of(v).source();
        m.log_event(level, &source, id, &message, &["PM5-07"]);
    } else {
        m.note(format!("event {id} not written: processModel logLevel filters it"), &["PM5-07"]);
    }
}

/// Ends every process of the web service: what a W3SVC restart does (REG-16, IIR-04). On IIS 5
/// W3SVC lives inside inetinfo.exe, so inetinfo gets a new PID too (modeled). The isolation mode
/// is read again (PM6-01).
pub fn restart_w3svc(m: &mut Machine, why: &str, rules: &[RuleId]) {
    let iis5 = iis5_style(m);
    let pids: Vec<u32> = m.world().procs.values().filter(|p| iis5 || p.role != Role::Inetinfo).map(|p| p.pid).collect();
    for pid in pids {
        end(m, pid, why, Ending::Clean, rules);
    }
    m.world_mut().w3svc_stopped();
    let before = iis5;
    boot(m);
    let after = iis5_style(m);
    if m.edition().is_iis6() && before != after {
        let mode = if after { "IIS 5.0 isolation mode" } else { "worker process isolation mode" };
        m.record_process(format!("W3SVC started in {mode} (IIs5IsolationModeEnabled)"), &["PM6-01"]);
    }
}

/// `iisreset /stop`: every IIS process ends; InProc state and CLR verdicts go (IIR-03).
pub fn iis_stop(m: &mut Machine, rules: &[RuleId]) {
    let pids: Vec<u32> = m.world().procs.keys().copied().collect();
    for pid in pids {
        end(m, pid, "IIS stopped", Ending::Clean, rules);
    }
    m.world_mut().web = Web::Stopped;
    m.world_mut().w3svc_stopped();
}

/// `iisreset /start`: inetinfo.exe starts and the isolation mode is read (IIR-03, PM6-01).
pub fn iis_start(m: &mut Machine) {
    boot(m);
}

/// Whether W3SVC is running.
pub fn web_running(m: &Machine) -> bool {
    m.world().web == Web::Running && m.iis() == crate::machine::IisState::Installed
}

/// Whether `iisreset /disable` is in force.
pub fn reset_disabled(m: &Machine) -> bool {
    m.world().reset_disabled
}

/// `iisreset /enable` and `/disable`.
pub fn set_reset_disabled(m: &mut Machine, disabled: bool) {
    m.world_mut().reset_disabled = disabled;
}

/// Kills processes by PID or image name; returns how many died. A pool's worker that dies
/// counts as a crash (PM6-07); aspnet_wp's death is event 1000 (PM5-07).
pub fn kill(m: &mut Machine, what: &str) -> usize {
    let pids: Vec<u32> = match what.parse::<u32>() {
        Ok(pid) => m.world().procs.contains_key(&pid).then_some(pid).into_iter().collect(),
        Err(_) => m.world().procs.values().filter(|p| p.image().eq_ignore_ascii_case(what)).map(|p| p.pid).collect(),
    };
    for &pid in &pids {
        let Some(p) = m.world().procs.get(&pid).cloned() else { continue };
        if let Role::AspnetWp(v, _) = p.role {
            let log = p.config.as_ref().map(|c| c.log_level()).unwrap_or(LogLevel::Errors);
            worker_event(m, v, log, Level::Error, 1000, format!("aspnet_wp.exe  (PID: {pid}) stopped unexpectedly."));
        }
        end(m, pid, "killed", Ending::Crash, &["PM5-07", "PM6-07"]);
        if p.role == Role::Inetinfo {
            // The IIS Admin service's recovery restarts IIS after inetinfo dies (modeled).
            restart_w3svc(m, "inetinfo.exe died: IIS restarts", &["IIR-03"]);
        }
    }
    pids.len()
}

/// `HttpRuntime.UnloadAppDomain()` called by application `app` (SES-03, KB-08). Returns an error
/// message when the runtime lacks the method.
pub fn unload_app_domain(m: &mut Machine, app: &str) -> Result<usize, String> {
    let key = app.to_ascii_lowercase();
    let hosts: Vec<(u32, Version)> =
        m.world().procs.values().filter_map(|p| p.domains.get(&key).map(|d| (p.pid, d.version))).collect();
    for (_, v) in &hosts {
        if *v == Version::V1_0 && !has_kb812833(m, Version::V1_0) {
            return Err(format!(
                "System.MissingMethodException: Method not found: System.Web.HttpRuntime.UnloadAppDomain (1.0 has it only with the KB 812833 update) in {app}"
            ));
        }
    }
    for (pid, _) in &hosts {
        end_domain(
            m,
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
pub fn unload_app(m: &mut Machine, app: &str) -> usize {
    let key = app.to_ascii_lowercase();
    let own: Vec<u32> = m
        .world()
        .procs
        .values()
        .filter(|p| matches!(&p.role, Role::AppDllhost(a) if a.eq_ignore_ascii_case(app)))
        .map(|p| p.pid)
        .collect();
    let hosts: Vec<u32> = m.world().procs.values().filter(|p| p.domains.contains_key(&key)).map(|p| p.pid).collect();
    let mut n = 0;
    for pid in hosts.iter().filter(|p| !own.contains(p)) {
        end_domain(m, *pid, &key, "APPUNLOAD", &["ADS-09", "SES-02"]);
        n += 1;
    }
    for pid in own {
        end(m, pid, "APPUNLOAD of its application", Ending::Clean, &["ADS-09", "PM5-03"]);
        n += 1;
    }
    n
}

/// Whether application `app` is loaded in some process (ADS-09 APPGETSTATUS).
pub fn app_loaded(m: &Machine, app: &str) -> bool {
    let key = app.to_ascii_lowercase();
    m.world()
        .procs
        .values()
        .any(|p| p.domains.contains_key(&key) || matches!(&p.role, Role::AppDllhost(a) if a.eq_ignore_ascii_case(app)))
}

/// Ends one AppDomain, recording the InProc sessions it held.
fn end_domain(m: &mut Machine, pid: u32, app_key: &str, why: &str, rules: &[RuleId]) {
    let Some(d) = m.world_mut().procs.get_mut(&pid).and_then(|p| p.domains.remove(app_key)) else { return };
    let ended: Vec<String> =
        d.sessions.iter().map(|id| session::describe(m.world().sessions.owner(id), &d.app, d.mode)).collect();
    let mut text = format!("AppDomain of {} in PID {pid} unloaded: {why}", d.app);
    if !ended.is_empty() {
        text.push_str(&format!("; sessions ended: {}", ended.join(", ")));
    }
    m.record_process(text, rules);
}

/// Edits an attribute of runtime `v`'s machine.config processModel; it applies at the next
/// worker start (PM5-05).
pub fn edit_process_model(m: &mut Machine, v: Version, attr: &str, value: &str) -> Result<(), String> {
    let mut pm = m.world().process_model(v);
    pm.set(attr, value)?;
    m.world_mut().configs.insert(v, pm);
    m.record_process(
        format!(
            "{}\\CONFIG\\machine.config: <processModel {attr}=\"{value}\"> (read when a worker or host next loads {v})",
            m.framework_dir(v)
        ),
        &["PM5-04", "PM5-05"],
    );
    Ok(())
}

/// Replaces an application's web.config settings; ASP.NET restarts its AppDomains (SES-02).
pub fn set_web_config(m: &mut Machine, app: &str, wc: WebConfig) {
    let key = app.to_ascii_lowercase();
    if m.world().web_config(app) == wc {
        return;
    }
    m.world_mut().web_configs.insert(key.clone(), wc.clone());
    m.record_process(
        format!(
            "{app} web.config: sessionState mode=\"{}\", enableVersionHeader=\"{}\"{}",
            wc.session.name(),
            wc.version_header,
            wc.target.map(|v| format!(", built for {v}")).unwrap_or_default()
        ),
        &["SES-01"],
    );
    let pids: Vec<u32> = m.world().procs.values().filter(|p| p.domains.contains_key(&key)).map(|p| p.pid).collect();
    for pid in pids {
        end_domain(m, pid, &key, "web.config changed", &["SES-02"]);
    }
}

/// Whether runtime `v` has the KB 812833 update: installed on the machine, or assumed by policy
/// (KB-02, PM5-11).
pub fn has_kb812833(m: &Machine, v: Version) -> bool {
    m.has_kb812833(v) || (v.major() == 1 && m.policies().flag(policy::PM5_KB812833_INSTALLED))
}

/// Starts or stops a pool as `AppPoolCommand` does (ADS-05, PM6-07); stopping ends its workers.
pub fn pool_command(m: &mut Machine, pool: &str, start_pool: bool) {
    let run = m.world_mut().pools.entry(pool.to_ascii_lowercase()).or_default();
    if start_pool {
        run.stopped = None;
        run.crashes.clear();
        m.record_process(format!("pool {pool} started"), &["PM6-07"]);
        return;
    }
    run.stopped = Some("stopped by an administrator".into());
    m.record_process(format!("pool {pool} stopped: HTTP.sys answers 503 for its applications"), &["PM6-07", "REQ-07"]);
    let pids: Vec<u32> = m
        .world()
        .procs
        .values()
        .filter(|p| matches!(&p.role, Role::W3wp(name, _) if name.eq_ignore_ascii_case(pool)))
        .map(|p| p.pid)
        .collect();
    for pid in pids {
        end(m, pid, "its pool was stopped", Ending::Clean, &["PM6-07"]);
    }
}

/// The state service restarted or changed owner: every StateServer session ends (SES-04, SHR-06).
pub fn state_service_restarted(m: &mut Machine) {
    m.world_mut().state_version_checked = false;
    let ended = m.world_mut().sessions.clear(SessionMode::StateServer);
    if !ended.is_empty() {
        m.record_process(
            format!("aspnet_state restarted; sessions ended: {}", ended.join(", ")),
            &["SES-04", "SHR-06"],
        );
    }
}

/// SQL Server restarted: default (tempdb) session state ends (SES-04, SHR-07).
pub fn sql_server_restarted(m: &mut Machine) {
    let ended = m.world_mut().sessions.clear(SessionMode::SqlServer);
    let list = if ended.is_empty() { "none".to_string() } else { ended.join(", ") };
    m.record_process(
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
pub fn advance(m: &mut Machine, seconds: u64) {
    let until = m.clock() + seconds;
    loop {
        let next = m
            .world()
            .procs
            .values()
            .filter_map(|p| due(p, until).map(|(t, d)| (t, p.pid, d)))
            .min_by_key(|(t, pid, _)| (*t, *pid));
        let Some((t, pid, d)) = next else { break };
        m.set_clock(t);
        let Some(p) = m.world().procs.get(&pid).cloned() else { break };
        let log = p.config.as_ref().map(|c| c.log_level()).unwrap_or(LogLevel::Errors);
        match (d, &p.role) {
            (Due::WorkerIdle(idle), Role::AspnetWp(v, _)) => {
                worker_event(
                    m,
                    *v,
                    log,
                    Level::Information,
                    1005,
                    format!("aspnet_wp.exe  (PID: {pid}) was recycled because it was idle for {} minutes.", idle / 60),
                );
                end(m, pid, &format!("processModel idleTimeout ({} min idle)", idle / 60), Ending::Clean, &["PM5-07"]);
            }
            (Due::WorkerTimeout(life), Role::AspnetWp(v, _)) => {
                worker_event(
                    m,
                    *v,
                    log,
                    Level::Information,
                    1004,
                    format!(
                        "aspnet_wp.exe  (PID: {pid}) was recycled after running for {} minutes (processModel timeout).",
                        life / 60
                    ),
                );
                end(m, pid, &format!("processModel timeout ({} min)", life / 60), Ending::Clean, &["PM5-07"]);
            }
            (Due::PoolIdle(idle), Role::W3wp(pool, _)) => {
                let pool = pool.clone();
                end(m, pid, &format!("pool {pool} IdleTimeout ({} min idle)", idle / 60), Ending::Clean, &["PM6-05"]);
            }
            (Due::PoolRecycle(t), Role::W3wp(pool, _)) => {
                let pool = pool.clone();
                m.log_event_to("System", Level::Information, "W3SVC", 1074, &format!("A worker process with process id of '{pid}' serving application pool '{pool}' has requested a recycle because the worker process reached its allowed processing time limit."), &["PM6-05"]);
                end(m, pid, &format!("pool {pool} PeriodicRestartTime ({} min)", t / 60), Ending::Clean, &["PM6-05"]);
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
