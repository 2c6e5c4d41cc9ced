//! The transcript tail derives the filter's and resolution's decisions from the snapshot a
//! request was resolved on: it must read exactly as if the hot path had recorded them.

use super::*;
use crate::scenario::transcript::render;

/// A 1.1 application, and a 2.0 one keeping session state cookieless (the ASP.NET filter decides).
const BOX: &str = r#"
title = "lazy transcript"
rules = []

[machine]
edition = "2003"
runtimes = ["1.1", "2.0"]

[[machine.app]]
path = "W3SVC/1/ROOT/legacy"
physical_path = 'C:\Sites\legacy'
runtime = "1.1"
files = ["default.aspx", "logo.gif"]

[[machine.app]]
path = "W3SVC/1/ROOT/store"
physical_path = 'C:\Sites\store'
runtime = "2.0"
cookieless = true
files = ["default.aspx"]
"#;

const REMAP: &str = r"C:\WINDOWS\Microsoft.NET\Framework\v2.0.50727\aspnet_regiis -s W3SVC/1/ROOT/legacy";

/// The same box served the way a scenario step serves it: every decision recorded as it is made.
struct Eager {
    m: Machine,
    w: World,
    view: Arc<View>,
    clients: u64,
}

impl Eager {
    fn new(mut m: Machine, mut w: World) -> Eager {
        m.drain_effects_with(w.journal_mut());
        let view = process::view(&m, &mut w);
        w.drain_effects();
        Eager { m, w, view, clients: 0 }
    }

    /// Serves `req` on view `view` of machine `m` (the published snapshot), as a new client.
    fn serve_on(&mut self, m: &Machine, view: &View, req: &Request) -> Vec<String> {
        self.clients += 1;
        let load = Load { client: Some(format!("client{}", self.clients)), ..Load::default() };
        process::serve_prepared(m, &mut self.w, process::prepare(m, view, req), &load);
        self.w.drain_effects().iter().map(|e| format!("  * {}", render(e))).collect()
    }

    fn serve(&mut self, req: &Request) -> Vec<String> {
        let (m, view) = (self.m.clone(), self.view.clone());
        self.serve_on(&m, &view, req)
    }

    fn run(&mut self, line: &str) {
        let mut session = crate::cmd::Session::new(&self.m);
        admin::run_command(&mut self.m, &mut self.w, &mut session, line);
        self.view = Arc::new(View::compile(&self.m));
        process::adopt_view(&self.m, &mut self.w, self.view.clone());
        self.m.drain_effects_with(self.w.journal_mut());
    }
}

fn boxed() -> (Machine, World) {
    let s = crate::scenario::load_str("box.toml", "box", BOX).unwrap();
    let (_, m, w) = s.run_to_end();
    (m, w)
}

fn serve(shared: &Shared, snap: &Arc<Published>, req: &Request) -> Reply {
    let limits = snap.limits;
    shared.serve(snap, req.clone(), None, |s| framing(&s.reply, &limits, false, false)).0
}

fn run(shared: &Shared, line: &str) {
    shared.administer(format!("run {line}"), |m, w| {
        let out = admin::run_command(m, w, &mut shared.console(), line);
        (out.exit, out.lines)
    });
}

/// The effect lines of the transcript's request entries, in order.
fn request_effects(shared: &Shared) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut in_request = false;
    for line in shared.transcript() {
        if line.starts_with("== request: ") {
            out.push(Vec::new());
            in_request = true;
        } else if line.starts_with("== ") {
            in_request = false;
        } else if in_request && !line.starts_with("  * wire: ") {
            out.last_mut().unwrap().push(line);
        }
    }
    out
}

#[test]
fn derived_decisions_read_as_recorded_ones_across_a_remap() {
    let (m, w) = boxed();
    let mut eager = Eager::new(m.clone(), w.clone());
    let shared = Shared::new(m, w);
    let mut expected = Vec::new();

    let before = shared.published();
    let first = Request::new("GET", "/store/default.aspx");
    let redirect = serve(&shared, &before, &first);
    expected.push(eager.serve(&first));
    let location = redirect.header("Location").expect("the filter's redirect").to_string();
    for url in [location.as_str(), "/legacy/default.aspx", "/legacy/logo.gif", "/legacy/missing.aspx", "/nowhere/"] {
        let req = Request::new("GET", url);
        serve(&shared, &before, &req);
        expected.push(eager.serve(&req));
    }
    // A request resolved on the old snapshot that finishes after the remap was published.
    let late = Request::new("GET", "/legacy/default.aspx");
    run(&shared, REMAP);
    let old_machine = before.machine.clone();
    let old_view = before.view.clone();
    eager.run(REMAP);
    serve(&shared, &before, &late);
    expected.push(eager.serve_on(&old_machine, &old_view, &late));
    assert_eq!(Arc::strong_count(&before), 1, "the tail keeps no old snapshot alive");
    drop(before);

    let after = shared.published();
    let req = Request::new("GET", "/legacy/default.aspx");
    serve(&shared, &after, &req);
    expected.push(eager.serve(&req));

    let got = request_effects(&shared);
    assert_eq!(got, expected);
    let all = got.concat().join("\n");
    assert!(all.contains("takes the session ID "), "the filter's decision is derived: {all}");
    assert!(all.contains("(1.1.4322)") && all.contains("(2.0.50727)"), "both mappings are shown: {all}");
    let cited = shared.cited();
    for rule in ["SES-10", "REQ-10", "HTTP-21"] {
        assert!(cited.contains(rule), "{rule} is cited: {cited:?}");
    }
}

#[test]
fn a_refused_connection_derives_nothing() {
    let (m, w) = boxed();
    let shared = Shared::new(m, w);
    run(&shared, "net stop w3svc");
    let snap = shared.published();
    let reply = serve(&shared, &snap, &Request::new("GET", "/legacy/default.aspx"));
    assert_eq!(reply.status, 0);
    let got = request_effects(&shared);
    assert_eq!(got.len(), 1);
    assert!(got[0].iter().all(|l| !l.contains("ASP.NET")), "{got:?}");
    assert!(got[0].iter().any(|l| l.contains("W3SVC is not running")), "{got:?}");
}
