//! The process model through the library: placement, CLR ownership, gardens, recycling, and
//! arbitrary requests that must never panic.

mod common;

use iisim::dispatch::Request;
use iisim::edition::Edition;
use iisim::machine::Machine;
use iisim::process::{self, Load, World};
use iisim::registration;
use iisim::runtime::Version;
use iisim::sites::{self, AppSpec};
use proptest::prelude::*;

fn app(m: &mut Machine, path: &str, isolation: u32, pin: Option<Version>) {
    let spec = AppSpec {
        path: path.into(),
        physical_path: Some(format!("C:\\Sites\\{}", path.rsplit('/').next().unwrap())),
        application: true,
        isolation: match isolation {
            0 => Some(sites::Isolation::Low),
            1 => Some(sites::Isolation::High),
            _ => Some(sites::Isolation::Medium),
        },
        pool: None,
    };
    sites::create_app(m, &spec).unwrap();
    let (dir, _) = sites::physical_path(m, path).unwrap();
    m.fs_create_files(&dir, &["default.aspx"], &[]);
    if let Some(v) = pin {
        registration::install_maps(m, v, path, true).unwrap();
    }
}

fn get(m: &Machine, w: &mut World, url: &str, client: Option<&str>) -> process::Served {
    let load = Load { client: client.map(str::to_string), ..Default::default() };
    process::serve(m, w, &Request::get(url), &load)
}

#[test]
fn iis6_pool_belongs_to_the_first_runtime_until_it_ends() {
    let mut m = common::machine(Edition::Win2003, &[Version::V1_1, Version::V2_0]);
    app(&mut m, "/LM/W3SVC/1/ROOT/a", 2, Some(Version::V1_1));
    app(&mut m, "/LM/W3SVC/1/ROOT/b", 2, Some(Version::V2_0));
    let mut w = World::default();
    process::boot(&m, &mut w);
    let first = get(&m, &mut w, "/b/default.aspx", None);
    assert_eq!((first.reply.status, first.runtime), (200, Some(Version::V2_0)));
    let loser = get(&m, &mut w, "/a/default.aspx", None);
    assert_eq!(loser.reply.status, 500);
    assert!(loser.reply.body.contains("Server Application Unavailable"));
    assert_eq!(w.events().iter().filter(|e| e.id == 1062).count(), 1);
    get(&m, &mut w, "/a/default.aspx", None);
    assert_eq!(w.events().iter().filter(|e| e.id == 1062).count(), 1, "once per process (CLR-02 policy)");
    assert_eq!(process::kill(&m, &mut w, "w3wp.exe"), 1);
    let flipped = get(&m, &mut w, "/a/default.aspx", None);
    assert_eq!((flipped.reply.status, flipped.runtime), (200, Some(Version::V1_1)));
    assert_eq!(get(&m, &mut w, "/b/default.aspx", None).reply.status, 500, "the flip (CLR-05)");
}

#[test]
fn iis5_runs_each_runtime_in_its_own_worker_whatever_the_protection() {
    let mut m = common::machine(Edition::Win2000, &[Version::V1_0, Version::V1_1]);
    for (i, iso) in [0u32, 1, 2].iter().enumerate() {
        app(&mut m, &format!("/LM/W3SVC/1/ROOT/v10_{i}"), *iso, Some(Version::V1_0));
        app(&mut m, &format!("/LM/W3SVC/1/ROOT/v11_{i}"), *iso, Some(Version::V1_1));
    }
    let mut w = World::default();
    process::boot(&m, &mut w);
    let mut pids = std::collections::BTreeMap::new();
    for i in 0..3 {
        for v in ["v10", "v11"] {
            let s = get(&m, &mut w, &format!("/{v}_{i}/default.aspx"), None);
            assert_eq!(s.reply.status, 200, "{v}_{i}");
            let (image, pid) = s.process.unwrap();
            assert_eq!(image, "aspnet_wp.exe");
            pids.entry(v).or_insert(pid);
            assert_eq!(pids[v], pid, "one worker per runtime (PM5-02)");
        }
    }
    assert_ne!(pids["v10"], pids["v11"]);
    assert!(w.events().iter().all(|e| e.id != 1062), "never a collision in default IIS 5 (CLR-04)");
}

#[test]
fn inproc_sessions_end_with_their_process_and_are_reported() {
    let mut m = common::machine(Edition::WinXp, &[Version::V1_1]);
    app(&mut m, "/LM/W3SVC/1/ROOT/shop", 2, None);
    let mut w = World::default();
    process::boot(&m, &mut w);
    assert_eq!(get(&m, &mut w, "/shop/default.aspx", Some("alice")).session.map(|f| f.name()), Some("new"));
    assert_eq!(get(&m, &mut w, "/shop/default.aspx", Some("alice")).session.map(|f| f.name()), Some("kept"));
    w.drain_effects();
    process::kill(&m, &mut w, "aspnet_wp.exe");
    let said: Vec<String> = w.drain_effects().iter().map(iisim::scenario::transcript::render).collect();
    assert!(said.iter().any(|l| l.contains("sessions ended: alice@/LM/W3SVC/1/ROOT/shop (InProc)")), "{said:?}");
    assert!(w.events().iter().any(|e| e.id == 1000));
    assert_eq!(get(&m, &mut w, "/shop/default.aspx", Some("alice")).session.map(|f| f.name()), Some("lost"));
}

#[test]
fn pool_idle_timeout_ends_the_worker_on_the_virtual_clock() {
    let mut m = common::machine(Edition::Win2003, &[Version::V1_1]);
    let mut w = World::default();
    process::boot(&m, &mut w);
    m.fs_create_files("C:\\Inetpub\\wwwroot", &["default.aspx"], &[]);
    let pid = get(&m, &mut w, "/default.aspx", None).process.unwrap().1;
    process::advance(&mut m, &mut w, 19 * 60);
    assert!(w.process(pid).is_some());
    process::advance(&mut m, &mut w, 60);
    assert!(w.process(pid).is_none(), "IdleTimeout 20 min (PM6-05)");
    assert_eq!(m.clock(), 20 * 60);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the URL, method and host, serving never panics and always answers something.
    #[test]
    fn arbitrary_requests_never_panic(url in "[ -~]{0,40}", method in "[A-Z]{1,8}", host in "[a-z.:0-9]{0,12}") {
        let m = common::machine(Edition::Win2003, &[Version::V1_1, Version::V2_0]);
        let mut w = World::default();
        process::boot(&m, &mut w);
        let mut req = Request::new(&method, &url);
        req.host = if host.is_empty() { None } else { Some(host) };
        let s = process::serve(&m, &mut w, &req, &Load::default());
        prop_assert!(s.reply.status >= 200 && s.reply.status < 600);
    }
}

/// Sends `n` identical requests at once, each running `secs` seconds; returns their statuses.
fn burst(m: &Machine, w: &mut World, url: &str, n: usize, secs: u64) -> Vec<u16> {
    let load = Load { duration: secs, ..Default::default() };
    (0..n).map(|_| process::serve(m, w, &Request::get(url), &load).reply.status).collect()
}

#[test]
fn worker_mode_keeps_max_worker_threads_and_20s_request_queue_limit() {
    // PM6-02: in w3wp.exe, 2.0 applies maxWorkerThreads and requestQueueLimit; 1.1 only the threads.
    let mut m = common::machine(Edition::Win2003, &[Version::V1_1, Version::V2_0]);
    app(&mut m, "/LM/W3SVC/1/ROOT/a", 2, Some(Version::V2_0));
    for v in [Version::V1_1, Version::V2_0] {
        process::edit_process_model(&mut m, v, "maxWorkerThreads", "1").unwrap();
        process::edit_process_model(&mut m, v, "requestQueueLimit", "1").unwrap();
    }
    let mut w = World::default();
    process::boot(&m, &mut w);
    let statuses = burst(&m, &mut w, "/a/default.aspx", 4, 30);
    assert_eq!(statuses, [200, 200, 503, 503], "1 thread + a queue of 1, then Server Too Busy");
    assert_eq!(w.processes().filter(|p| p.role().image() == "w3wp.exe").count(), 1, "no recycle in w3wp.exe");

    let mut m = common::machine(Edition::Win2003, &[Version::V1_1]);
    app(&mut m, "/LM/W3SVC/1/ROOT/a", 2, Some(Version::V1_1));
    process::edit_process_model(&mut m, Version::V1_1, "maxWorkerThreads", "1").unwrap();
    process::edit_process_model(&mut m, Version::V1_1, "requestQueueLimit", "1").unwrap();
    let mut w = World::default();
    process::boot(&m, &mut w);
    assert_eq!(burst(&m, &mut w, "/a/default.aspx", 4, 30), [200; 4], "1.1's requestQueueLimit is ignored in w3wp.exe");
}

#[test]
fn a_recycled_aspnet_wp_is_replaced_and_its_queue_moves() {
    // PM5-07: the replacement starts at once; requests waiting in the old queue move to it.
    let mut m = common::machine(Edition::Win2000, &[Version::V1_1]);
    app(&mut m, "/LM/W3SVC/1/ROOT/a", 2, None);
    process::edit_process_model(&mut m, Version::V1_1, "maxWorkerThreads", "1").unwrap();
    process::edit_process_model(&mut m, Version::V1_1, "requestQueueLimit", "1").unwrap();
    let mut w = World::default();
    process::boot(&m, &mut w);
    let load = Load { duration: 30, ..Default::default() };
    let served: Vec<_> = (0..4).map(|_| process::serve(&m, &mut w, &Request::get("/a/default.aspx"), &load)).collect();
    let workers: Vec<u32> = w.processes().filter(|p| p.role().image() == "aspnet_wp.exe").map(|p| p.pid()).collect();
    assert_eq!(workers.len(), 1, "a replacement runs");
    let old = served[0].process.unwrap().1;
    assert_ne!(workers[0], old);
    let moved: Vec<u64> = served.iter().filter(|s| process::answered_by(&w, s.id).is_some()).map(|s| s.id).collect();
    assert_eq!(moved, [served[1].id], "the one queued request moved");
    assert_eq!(process::answered_by(&w, served[1].id), Some(("aspnet_wp.exe", workers[0])));
}

#[test]
fn iis5_w3svc_restart_keeps_inetinfo_and_the_clr_it_loaded() {
    // IIR-04: inetinfo.exe is IISADMIN's process; W3SVC's restart unloads its ISAPIs but the CLR
    // loaded in it stays (CLR-05), so the other runtime still fails there.
    let mut m = common::machine(Edition::Win2000, &[Version::V1_0, Version::V1_1]);
    app(&mut m, "/LM/W3SVC/1/ROOT/old", 0, Some(Version::V1_0));
    app(&mut m, "/LM/W3SVC/1/ROOT/new", 0, Some(Version::V1_1));
    for v in [Version::V1_0, Version::V1_1] {
        process::edit_process_model(&mut m, v, "enable", "false").unwrap();
    }
    let mut w = World::default();
    process::boot(&m, &mut w);
    let inetinfo = |w: &World| w.processes().find(|p| p.role().image() == "inetinfo.exe").map(|p| p.pid());
    let before = inetinfo(&w);
    assert_eq!(get(&m, &mut w, "/new/default.aspx", None).reply.status, 200);
    process::restart_w3svc(&m, &mut w, "net stop w3svc, net start w3svc", &["IIR-04"]);
    assert_eq!(inetinfo(&w), before, "inetinfo.exe keeps its PID");
    let old = get(&m, &mut w, "/old/default.aspx", None);
    assert_eq!((old.reply.status, old.failed.is_some()), (500, true), "1.1's CLR is still loaded in inetinfo.exe");
}

/// An IIS 5-style machine (IIS 5, or IIS 6 in IIS 5.0 isolation mode) with two runtimes served
/// inside inetinfo.exe, the newer one loaded there by a first request.
fn inetinfo_hosting_two_runtimes(edition: Edition, old: Version, new: Version) -> (Machine, World) {
    let mut m = common::machine(edition, &[old, new]);
    if edition.is_iis6() {
        m.mb_set("/LM/W3SVC", "IIs5IsolationModeEnabled", iisim::metabase::Value::Dword(1), &["PM6-01"]).unwrap();
    }
    app(&mut m, "/LM/W3SVC/1/ROOT/old", 0, Some(old));
    app(&mut m, "/LM/W3SVC/1/ROOT/new", 0, Some(new));
    for v in [old, new] {
        process::edit_process_model(&mut m, v, "enable", "false").unwrap();
    }
    let mut w = World::default();
    process::boot(&m, &mut w);
    assert_eq!(get(&m, &mut w, "/new/default.aspx", None).reply.status, 200);
    (m, w)
}

fn inetinfo_pid(w: &World) -> Option<u32> {
    w.processes().find(|p| p.role().image() == "inetinfo.exe").map(|p| p.pid())
}

#[test]
fn every_way_of_stopping_w3svc_keeps_inetinfo_and_its_clr() {
    // NET-09 and IIR-04 agree: W3SVC stopping keeps IISADMIN's inetinfo.exe, so the CLR loaded in
    // it stays (CLR-05) whichever front end stopped W3SVC.
    use iisim::tools::{self, Context};
    type Stop = fn(&mut Machine, &mut World);
    let net: Stop = |m, w| {
        assert_eq!(tools::net::net(m, w, &["stop".into(), "w3svc".into()], None, Context::default()).exit, 0);
        assert_eq!(tools::net::net(m, w, &["start".into(), "w3svc".into()], None, Context::default()).exit, 0);
    };
    let sc: Stop = |m, w| {
        assert_eq!(tools::net::sc(m, w, &["stop".into(), "W3SVC".into()], Context::default()).exit, 0);
        assert_eq!(tools::net::sc(m, w, &["start".into(), "W3SVC".into()], Context::default()).exit, 0);
    };
    let restart: Stop = |m, w| process::restart_w3svc(m, w, "W3SVC restarted", &["IIR-04"]);
    let cases = [(Edition::Win2000, Version::V1_0, Version::V1_1), (Edition::Win2003, Version::V1_1, Version::V2_0)];
    for (edition, old, new) in cases {
        for (name, stop) in [("net", net), ("sc", sc), ("restart", restart)] {
            let (mut m, mut w) = inetinfo_hosting_two_runtimes(edition, old, new);
            let before = inetinfo_pid(&w);
            stop(&mut m, &mut w);
            assert_eq!(inetinfo_pid(&w), before, "{edition:?} {name}: inetinfo.exe keeps its PID");
            let r = get(&m, &mut w, "/old/default.aspx", None);
            assert_eq!((r.reply.status, r.failed.is_some()), (500, true), "{edition:?} {name}: {new:?}'s CLR stays");
        }
        // iisreset stops IISADMIN too: inetinfo.exe ends, and its CLR with it (IIR-03).
        let (mut m, mut w) = inetinfo_hosting_two_runtimes(edition, old, new);
        let before = inetinfo_pid(&w);
        assert_eq!(tools::iisreset::run(&mut m, &mut w, &[], Context::default()).exit, 0);
        assert_ne!(inetinfo_pid(&w), before, "{edition:?} iisreset: a new inetinfo.exe");
        assert_eq!(get(&m, &mut w, "/old/default.aspx", None).reply.status, 200, "{edition:?} iisreset: a fresh CLR");
    }
}

/// A box whose requests reach every part of the process model: on IIS 6 two runtimes share the
/// default pool (1062), on IIS 5 Low, High and Medium applications of two runtimes, each with a
/// page, an image and a missing page's neighbour.
fn mixed_box(iis6: bool) -> Machine {
    let edition = if iis6 { Edition::Win2003 } else { Edition::WinXp };
    let mut m = common::machine(edition, &[Version::V1_1, Version::V2_0]);
    app(&mut m, "/LM/W3SVC/1/ROOT/a", 0, Some(Version::V1_1));
    app(&mut m, "/LM/W3SVC/1/ROOT/b", 1, Some(Version::V2_0));
    app(&mut m, "/LM/W3SVC/1/ROOT/c", 2, Some(Version::V2_0));
    for dir in ["C:\\Sites\\a", "C:\\Sites\\b"] {
        m.fs_create_files(dir, &["logo.gif", "service.asmx"], &[]);
    }
    m
}

const URLS: &[&str] = &[
    "/a/default.aspx",
    "/b/default.aspx",
    "/c/DEFAULT.ASPX",
    "/b/missing.aspx",
    "/b/service.asmx/op",
    "/a/logo.gif",
    "/b/",
    "/c/web.config",
    "/nothing/here.htm",
    "/a/default.aspx/extra<x>",
    "/b/(S(abcdefghijklmnopqrstuvwx))/default.aspx",
    "/c/trace.axd",
];

/// What a world went through, but for the explanations: processes, events, and the changes its
/// journal recorded.
fn changes(w: &mut World) -> Vec<String> {
    w.drain_effects()
        .into_iter()
        .filter(|e| !matches!(e.change.kind(), "decision" | "note"))
        .map(|e| format!("{:?} {:?}", e.change, e.rules))
        .collect()
}

fn state(w: &World) -> (Vec<String>, Vec<iisim::machine::journal::EventEntry>) {
    (w.processes().map(|p| p.summary()).collect(), w.events().to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The serve path (no decision recorded) and the explain path run one procedure: for any run
    /// of requests, kills and waits they answer alike, change the world alike (processes, CLRs,
    /// AppDomains, sessions, events, recycles), and only the explain path records decisions.
    #[test]
    fn the_serve_path_and_the_explain_path_give_the_same_outcome(
        iis6 in any::<bool>(),
        steps in proptest::collection::vec(
            (0..URLS.len() + 1, "[ -~]{0,24}", 0..3usize, prop_oneof![Just(0u64), 0..400u64], 0..12u8),
            1..14,
        ),
    ) {
        let m = mixed_box(iis6);
        let (mut explain, mut quiet) = (World::default(), World::default());
        process::boot(&m, &mut explain);
        process::boot(&m, &mut quiet);
        changes(&mut explain);
        changes(&mut quiet);
        for (i, (pick, random, client, duration, action)) in steps.into_iter().enumerate() {
            if action == 0 {
                prop_assert_eq!(process::kill(&m, &mut explain, "w3wp.exe"), process::kill(&m, &mut quiet, "w3wp.exe"));
                prop_assert_eq!(process::kill(&m, &mut explain, "aspnet_wp.exe"), process::kill(&m, &mut quiet, "aspnet_wp.exe"));
                continue;
            }
            let url = URLS.get(pick).map_or(random.as_str(), |u| u);
            let req = Request::new(if action == 1 { "HEAD" } else { "GET" }, url);
            let load = Load {
                client: ["alice", "bob"].get(client).map(|c| c.to_string()),
                duration,
                memory_mb: (action == 2).then_some(4000),
                ..Default::default()
            };
            let full = process::serve_with::<Vec<iisim::dispatch::Decision>>(&m, &mut explain, &req, &load);
            let fast = process::serve_with::<iisim::dispatch::Discard>(&m, &mut quiet, &req, &load);
            prop_assert_eq!(&full, &fast, "step {}: {}", i, url);
            let recorded: Vec<_> = quiet.journal_mut().since(0).iter().map(|e| e.change.kind()).collect();
            prop_assert!(recorded.iter().all(|k| !matches!(*k, "decision")), "step {}: the serve path recorded {:?}", i, recorded);
            prop_assert_eq!(changes(&mut explain), changes(&mut quiet), "step {}: {}", i, url);
            prop_assert_eq!(state(&explain), state(&quiet), "step {}: {}", i, url);
        }
    }
}

#[test]
fn the_serve_path_still_changes_the_world() {
    // Nothing but the explanations is skipped: a worker starts, the CLR loads, an AppDomain and a
    // session are created, and the loser's 1062 is written to the event log and the journal.
    let m = mixed_box(true);
    let mut w = World::default();
    process::boot(&m, &mut w);
    w.drain_effects();
    let load = Load { client: Some("alice".into()), ..Default::default() };
    let quiet =
        |w: &mut World, url: &str| process::serve_with::<iisim::dispatch::Discard>(&m, w, &Request::get(url), &load);
    let first = quiet(&mut w, "/b/default.aspx");
    assert_eq!(
        (first.reply.status, first.runtime, first.session.map(|f| f.name())),
        (200, Some(Version::V2_0), Some("new"))
    );
    let kinds: Vec<&str> = w.journal_mut().since(0).iter().map(|e| e.change.kind()).collect();
    assert_eq!(kinds, ["process", "process"], "w3wp.exe started, the AppDomain created: {kinds:?}");
    assert_eq!(w.processes().filter(|p| p.image() == "w3wp.exe" && p.clr() == Some(Version::V2_0)).count(), 1);
    w.drain_effects();
    assert_eq!(quiet(&mut w, "/b/default.aspx").session.map(|f| f.name()), Some("kept"));
    assert!(w.drain_effects().is_empty(), "a warm request changes nothing worth recording");
    let loser = quiet(&mut w, "/a/default.aspx");
    assert_eq!(loser.failed, Some("another CLR owns the process (event 1062)"));
    assert_eq!(w.events().iter().filter(|e| e.id == 1062).count(), 1);
    let kinds: Vec<&str> = w.drain_effects().iter().map(|e| e.change.kind()).collect();
    assert_eq!(kinds, ["event"], "{kinds:?}");
}

/// What an administrator or the clock does between requests, applied alike to every lane.
#[derive(Debug, Clone)]
enum Op {
    /// A request: URL (index into [`URLS`], or the random text), client, duration, memory, HEAD.
    Request(usize, String, usize, u64, bool, bool),
    Kill(&'static str),
    Iisreset,
    /// The virtual clock moves (idle timeouts, PeriodicRestartTime).
    Advance(u64),
    /// The default pool stops or starts (AppPoolCommand).
    Pool(bool),
    /// An application's web.config changes: which application, which settings.
    WebConfig(usize, u8),
    /// A client's sessions time out.
    Forget(usize),
    /// An application's AppDomain unloads itself.
    Unload(usize),
}

const CLIENTS: [&str; 2] = ["alice", "bob"];
const APPS: [&str; 3] = ["/LM/W3SVC/1/ROOT/a", "/LM/W3SVC/1/ROOT/b", "/LM/W3SVC/1/ROOT/c"];

fn op() -> impl Strategy<Value = Op> {
    // Requests to a few URLs dominate, so warm records are made, used and invalidated.
    let request = (
        0..URLS.len() + 1,
        "[ -~]{0,24}",
        0..3usize,
        prop_oneof![8 => Just(0u64), 1 => 1..400u64],
        any::<bool>(),
        prop_oneof![9 => Just(false), 1 => Just(true)],
    )
        .prop_map(|(u, r, c, d, head, mem)| Op::Request(u, r, c, d, head, mem));
    prop_oneof![
        24 => request,
        1 => prop_oneof![Just(Op::Kill("w3wp.exe")), Just(Op::Kill("aspnet_wp.exe")), Just(Op::Kill("dllhost.exe"))],
        1 => Just(Op::Iisreset),
        1 => prop_oneof![Just(60u64), Just(6 * 60), Just(21 * 60), Just(31 * 60)].prop_map(Op::Advance),
        1 => any::<bool>().prop_map(Op::Pool),
        1 => (0..APPS.len(), 0..4u8).prop_map(|(a, c)| Op::WebConfig(a, c)),
        1 => (0..CLIENTS.len()).prop_map(Op::Forget),
        1 => (0..APPS.len()).prop_map(Op::Unload),
    ]
}

/// [`mixed_box`] with every recycling limit low enough to be reached in a run: the pool's
/// PeriodicRestartRequests, PeriodicRestartMemory and PeriodicRestartTime, aspnet_wp's
/// requestLimit, memoryLimit and idleTimeout.
fn recycling_box(iis6: bool) -> Machine {
    use iisim::metabase::Value;
    let mut m = mixed_box(iis6);
    if iis6 {
        let pool = "/LM/W3SVC/AppPools/DefaultAppPool";
        for (prop, n) in
            [("PeriodicRestartRequests", 6), ("PeriodicRestartMemory", 2_000_000), ("PeriodicRestartTime", 30)]
        {
            m.mb_set(pool, prop, Value::Dword(n), &["PM6-05"]).unwrap();
        }
    } else {
        for v in [Version::V1_1, Version::V2_0] {
            for (attr, value) in [("requestLimit", "6"), ("memoryLimit", "60"), ("idleTimeout", "00:05:00")] {
                process::edit_process_model(&mut m, v, attr, value).unwrap();
            }
        }
    }
    m
}

/// One machine and its world, served on one path.
struct Lane {
    m: Machine,
    w: World,
    explain: bool,
}

impl Lane {
    fn new(m: &Machine, explain: bool, warm: bool) -> Lane {
        let mut w = World::default();
        w.set_warm_path(warm);
        process::boot(m, &mut w);
        let mut lane = Lane { m: m.clone(), w, explain };
        lane.changes();
        lane
    }

    /// Applies `op`; a request's answer is returned.
    fn apply(&mut self, op: &Op) -> Option<process::Served> {
        let (m, w) = (&mut self.m, &mut self.w);
        match op {
            Op::Request(pick, random, client, duration, head, memory) => {
                let url = URLS.get(*pick).map_or(random.as_str(), |u| u);
                let req = Request::new(if *head { "HEAD" } else { "GET" }, url);
                let load = Load {
                    client: CLIENTS.get(*client).map(|c| c.to_string()),
                    duration: *duration,
                    memory_mb: memory.then_some(4000),
                    ..Default::default()
                };
                return Some(if self.explain {
                    process::serve_with::<Vec<iisim::dispatch::Decision>>(m, w, &req, &load)
                } else {
                    // The serve path as `iisim serve` takes it: the world's view, then the answer.
                    let v = process::view(m, w);
                    process::answer::<iisim::dispatch::Discard>(m, w, &v, &req, &load).served()
                });
            }
            Op::Kill(image) => {
                process::kill(m, w, image);
            }
            Op::Iisreset => {
                iisim::tools::iisreset::run(m, w, &[], iisim::tools::Context::default());
            }
            Op::Advance(seconds) => process::advance(m, w, *seconds),
            Op::Pool(start) => process::pool_command(m, w, "DefaultAppPool", *start),
            Op::WebConfig(app, choice) => {
                let wc = iisim::config::WebConfig {
                    session: match choice {
                        1 => iisim::config::SessionMode::Off,
                        _ => iisim::config::SessionMode::InProc,
                    },
                    version_header: *choice != 2,
                    ..Default::default()
                };
                process::set_web_config(m, w, APPS[*app], wc);
            }
            Op::Forget(client) => w.forget_client(CLIENTS[*client]),
            Op::Unload(app) => {
                let _ = process::unload_app_domain(m, w, APPS[*app]);
            }
        }
        None
    }

    /// The world's changes since the last call, the explanations left out, and the machine's.
    fn changes(&mut self) -> Vec<String> {
        let mut out = changes(&mut self.w);
        out.extend(
            self.m
                .drain_effects_with(self.w.journal_mut())
                .into_iter()
                .filter(|e| !matches!(e.change.kind(), "decision" | "note"))
                .map(|e| format!("{:?} {:?}", e.change, e.rules)),
        );
        out
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// A warm request answered from its record runs as the whole procedure would: for any run
    /// of requests, iisresets, kills, clock advances (idle timeouts, periodic restarts), pool
    /// stops and starts, web.config changes, session timeouts, AppDomain unloads and recycles by
    /// request count and memory, the serve path with warm records, the serve path without them
    /// and the explain path answer alike and change the world alike (processes, CLRs, AppDomains,
    /// sessions, events, the machine's effects).
    #[test]
    fn warm_records_answer_as_the_whole_procedure_would(
        iis6 in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..48),
    ) {
        let m = recycling_box(iis6);
        let mut lanes = [Lane::new(&m, true, false), Lane::new(&m, false, false), Lane::new(&m, false, true)];
        for (i, op) in ops.iter().enumerate() {
            let answers: Vec<_> = lanes.iter_mut().map(|l| l.apply(op)).collect();
            prop_assert_eq!(&answers[0], &answers[1], "step {}: {:?}: explain and serve", i, op);
            prop_assert_eq!(&answers[1], &answers[2], "step {}: {:?}: without and with warm records", i, op);
            let changed: Vec<_> = lanes.iter_mut().map(Lane::changes).collect();
            prop_assert_eq!(&changed[0], &changed[1], "step {}: {:?}", i, op);
            prop_assert_eq!(&changed[1], &changed[2], "step {}: {:?}: warm records", i, op);
            let states: Vec<_> = lanes.iter().map(|l| (state(&l.w), l.m.clock())).collect();
            prop_assert_eq!(&states[0], &states[1], "step {}: {:?}", i, op);
            prop_assert_eq!(&states[1], &states[2], "step {}: {:?}: warm records", i, op);
        }
    }
}
