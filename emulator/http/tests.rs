//! The transcript tail keeps what a request changed and renders its summary only when read: it
//! must read exactly as if the line had been written while serving.

use super::*;
use crate::scenario::transcript::render;

/// A 1.1 application, and a 2.0 one keeping session state cookieless (the ASP.NET filter decides).
const BOX: &str = r#"
title = "transcript tail"
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

/// The same box served request by request, each line written as it is served.
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

    /// Serves `req` as a new client: the transcript's heading and effect lines.
    fn serve(&mut self, req: &Request) -> (Served, Vec<String>) {
        self.clients += 1;
        let load = Load { client: Some(format!("client{}", self.clients)), ..Load::default() };
        let served =
            process::serve_prepared(&self.m, &mut self.w, process::prepare(&self.m, &self.view, req), &load).served();
        let mut lines = vec![format!("== request: {} ==", crate::scenario::summary(req, &served))];
        lines.extend(self.w.drain_effects().iter().map(|e| format!("  * {}", render(e))));
        (served, lines)
    }
}

fn boxed() -> (Machine, World) {
    let s = crate::scenario::load_str("box.toml", "box", BOX).unwrap();
    let (_, m, w) = s.run_to_end();
    (m, w)
}

fn serve(shared: &Shared, req: &Request) -> Reply {
    let snap = shared.published();
    let limits = snap.limits;
    let client = std::net::SocketAddr::from(([127, 0, 0, 1], 50_000));
    shared.serve(&snap, req.clone(), None, client, None, |s| framing(&s.reply, &limits, false, false, false)).0
}

#[test]
fn the_tail_reads_as_if_written_while_serving() {
    let (m, w) = boxed();
    let mut eager = Eager::new(m.clone(), w.clone());
    let shared = Shared::new(m, w);
    let mut expected = Vec::new();
    let first = Request::new("GET", "/store/default.aspx");
    let redirect = serve(&shared, &first);
    let (reference, lines) = eager.serve(&first);
    assert_eq!(redirect, reference.reply, "the reply that goes out is the one served");
    expected.extend(lines);
    let location = redirect.header("Location").expect("the filter's redirect").to_string();
    for url in [location.as_str(), "/legacy/default.aspx", "/legacy/logo.gif", "/legacy/missing.aspx", "/nowhere/"] {
        let req = Request::new("GET", url);
        let reply = serve(&shared, &req);
        let (reference, lines) = eager.serve(&req);
        assert_eq!(reply, reference.reply, "{url}");
        expected.extend(lines);
    }
    let got: Vec<String> = shared.transcript().into_iter().filter(|l| !l.starts_with("  * wire: ")).collect();
    assert_eq!(got, expected);
    let all = got.join("\n");
    assert!(all.contains("ASP.NET 1.1.4322") && all.contains("ASP.NET 2.0.50727"), "{all}");
    assert!(all.contains("-> 302") && all.contains("-> 404"), "{all}");
    assert!(shared.cited().contains("HTTP-21"), "the wire line's rules are cited");
}

#[test]
fn a_refused_connection_is_summarised_as_refused() {
    let (m, w) = boxed();
    let shared = Shared::new(m, w);
    shared.administer("run net stop w3svc".into(), |m, w| {
        let out = admin::run_command(m, w, &mut shared.console(), "net stop w3svc");
        (out.exit, out.lines)
    });
    let reply = serve(&shared, &Request::new("GET", "/legacy/default.aspx"));
    assert_eq!(reply.status, 0);
    let t = shared.transcript();
    assert!(t.iter().any(|l| l == "== request: GET /legacy/default.aspx -> connection refused =="), "{t:?}");
}
