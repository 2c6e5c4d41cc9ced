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
    fn serve(&mut self, req: &Request) -> (crate::process::Served, Vec<String>) {
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

/// Serves `req` with its reply written into `room` (what the last reply left there is replaced).
fn serve_into(shared: &Shared, req: &Request, room: &mut Reply) -> Reply {
    let snap = shared.published();
    let limits = snap.limits;
    let client = std::net::SocketAddr::from(([127, 0, 0, 1], 50_000));
    shared.serve(&snap, req, None, client, None, room, |r| framing(r, &limits, false, false, false));
    room.clone()
}

fn serve(shared: &Shared, req: &Request) -> Reply {
    serve_into(shared, req, &mut Reply::default())
}

#[test]
fn the_tail_reads_as_if_written_while_serving() {
    let (m, w) = boxed();
    let mut eager = Eager::new(m.clone(), w.clone());
    let shared = Shared::new(m, w);
    let mut expected = Vec::new();
    let first = Request::new("GET", "/store/default.aspx");
    // One reply's room for every request, as a connection keeps it.
    let mut room = Reply::default();
    let redirect = serve_into(&shared, &first, &mut room);
    let (reference, lines) = eager.serve(&first);
    assert_eq!(redirect, reference.reply, "the reply that goes out is the one served");
    expected.extend(lines);
    let location = redirect.header("Location").expect("the filter's redirect").to_string();
    let urls = [location.as_str(), "/legacy/default.aspx", "/legacy/logo.gif", "/legacy/default.aspx", "/nowhere/"];
    for url in urls.into_iter().chain(["/legacy/missing.aspx", "/legacy/default.aspx", "/legacy/default.aspx"]) {
        let req = Request::new("GET", url);
        let reply = serve_into(&shared, &req, &mut room);
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

/// A run of identical requests is kept as one entry and reads back as the requests it stands for;
/// past the tail's bound the oldest of a run go first, one by one.
#[test]
fn a_run_of_identical_requests_reads_back_one_by_one() {
    let (m, w) = boxed();
    let shared = Shared::new(m, w);
    let logo = Request::new("GET", "/legacy/logo.gif");
    let page = Request::new("GET", "/legacy/default.aspx");
    let headings = |t: &[String]| t.iter().filter(|l| l.starts_with("== ")).cloned().collect::<Vec<_>>();
    let mut room = Reply::default();
    serve_into(&shared, &page, &mut room);
    for _ in 1..TRANSCRIPT_TAIL {
        serve_into(&shared, &logo, &mut room);
    }
    assert_eq!(shared.tail().entries.len(), 2, "the page, then one entry for the run");
    let t = headings(&shared.transcript());
    assert_eq!(t.len(), TRANSCRIPT_TAIL);
    assert!(t[0].starts_with("== request: GET /legacy/default.aspx -> 200"), "{}", t[0]);
    assert!(t[1..].iter().all(|l| l == &t[1] && l.starts_with("== request: GET /legacy/logo.gif -> 200")), "{}", t[1]);
    // One more of the run pushes the page out; a different request then shortens the run.
    serve_into(&shared, &logo, &mut room);
    assert_eq!(shared.tail().entries.len(), 1);
    serve_into(&shared, &page, &mut room);
    let all = shared.transcript();
    let t = headings(&all);
    assert_eq!(t.len(), TRANSCRIPT_TAIL);
    assert!(t[..TRANSCRIPT_TAIL - 1].iter().all(|l| l.contains("/legacy/logo.gif ->")));
    assert!(t[TRANSCRIPT_TAIL - 1].contains("/legacy/default.aspx ->"));
    // Each request read back has its own wire line, right after its heading.
    assert_eq!(all.iter().filter(|l| l.starts_with("  * wire: ")).count(), TRANSCRIPT_TAIL);
    assert!(all.windows(2).filter(|w| w[0].contains("logo.gif")).all(|w| w[1].starts_with("  * wire: ")));
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

/// Sends `request` on a new connection and reads its answer (interim answers included), with
/// the Date line and session IDs blanked: they differ from one answer to the next.
fn exchange(addr: std::net::SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let head_request = request.starts_with("HEAD ");
    let (mut got, mut at) = (Vec::new(), 0);
    let mut buf = [0u8; 4096];
    let mut fill = |got: &mut Vec<u8>| match s.read(&mut buf) {
        Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
        other => panic!("{request:?}: the answer ended early ({other:?}): {}", String::from_utf8_lossy(got)),
    };
    loop {
        let end = loop {
            if let Some(e) = got[at..].windows(4).position(|w| w == b"\r\n\r\n") {
                break at + e + 4;
            }
            fill(&mut got);
        };
        let head = String::from_utf8_lossy(&got[at..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
        if head.as_bytes()[9] == b'1' {
            at = end;
            continue;
        }
        let length = if head_request { 0 } else { length };
        while got.len() < end + length {
            fill(&mut got);
        }
        break;
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let mut out: Vec<String> = Vec::new();
    for line in text.split("\r\n") {
        let line = match line.find("ASP.NET_SessionId=") {
            Some(at) => format!("{}ASP.NET_SessionId=<id>{}", &line[..at], &line[(at + 42).min(line.len())..]),
            None => line.to_string(),
        };
        out.push(if line.starts_with("Date: ") { "Date: <now>".into() } else { line });
    }
    out.join("\r\n")
}

#[test]
fn heads_written_by_the_front_end_are_the_bytes_hyper_wrote_from_a_header_map() {
    let requests = [
        "GET /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\nConnection: a\r\nConnection: close\r\n\r\n",
        "HEAD /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /legacy/logo.gif HTTP/1.0\r\n\r\n",
        "GET /legacy/logo.gif HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        "HEAD /legacy/logo.gif HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /store/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /legacy/missing.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /nowhere/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /legacy/default.aspx HTTP/1.1\r\nHost: bad_host!\r\n\r\n",
        "POST /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nx=1",
    ];
    let (m, w) = boxed();
    let iis5 = {
        let text = BOX
            .replace("edition = \"2003\"", "edition = \"2000\"")
            .replace("runtimes = [\"1.1\", \"2.0\"]", "runtimes = [\"1.1\"]");
        let text = text.split("[[machine.app]]").take(2).collect::<Vec<_>>().join("[[machine.app]]");
        let (_, m, w) = crate::scenario::load_str("box.toml", "box", &text).unwrap().run_to_end();
        (m, w)
    };
    for (name, (m, w), keep_alive) in
        [("IIS 6", (m.clone(), w.clone()), true), ("IIS 6, AllowKeepAlive 0", (m, w), false), ("IIS 5", iis5, true)]
    {
        let shared = Arc::new(Shared::new(m, w));
        if !keep_alive {
            shared.administer("adsutil".into(), |m, w| {
                let line = r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs SET W3SVC/AllowKeepAlive 0";
                let out = admin::run_command(m, w, &mut shared.console(), line);
                assert_eq!(out.exit, 0, "{:?}", out.lines);
                (out.exit, out.lines)
            });
        }
        let opts = Options {
            listen: vec![Listen { addr: "127.0.0.1:0".parse().unwrap(), port: 80 }],
            admin: None,
            ctrl_c: false,
        };
        let server = start(shared.clone(), &opts).unwrap();
        let addr = server.listeners[0];
        for request in requests {
            shared.mapped_heads.store(true, std::sync::atomic::Ordering::Relaxed);
            let mapped = exchange(addr, request);
            shared.mapped_heads.store(false, std::sync::atomic::Ordering::Relaxed);
            let own = exchange(addr, request);
            assert!(mapped.starts_with("HTTP/1.1 "), "{name}: {request:?}: {mapped}");
            assert_eq!(own, mapped, "{name}: {request:?}");
        }
        server.stop();
    }
}

/// The head hyper writes for `reply` from a `HeaderMap`, as the connection's respelling leaves it.
fn hyper_wrote(reply: Reply, f: Framing, date: &str, request: &'static str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let response = std::sync::Mutex::new(Some(respond_mapped(&reply, f, date)));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let svc = service_fn(move |_req| {
            let r = response.lock().unwrap().take().unwrap();
            async move { Ok::<_, Infallible>(r) }
        });
        tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(server), svc));
        client.write_all(request.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            if let Some(e) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                break e + 4;
            }
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0, "hyper closed before its head ended");
            got.extend_from_slice(&buf[..n]);
        };
        let mut head = got[..end].to_vec();
        conn::fix_head(&mut head);
        head
    })
}

#[test]
fn own_heads_keep_hyper_s_grouping_refusals_and_phrases() {
    let date = "Tue, 01 Dec 2026 19:00:00 GMT";
    let headers: Vec<dispatch::Header> = vec![
        ("set-cookie".into(), "a=1".into()),
        ("X-CUSTOM".into(), String::from("x").into()),
        (String::from("Set-Cookie").into(), "b=2".into()),
        ("bad name".into(), "v".into()),
        ("X-Bad".into(), "a\nb".into()),
        ("etag".into(), "\"1:2\"".into()),
        ("www-authenticate".into(), "NTLM".into()),
        ("X-Tab".into(), "a\tb\u{e9}".into()),
        ("Server".into(), "Microsoft-IIS/6.0".into()),
    ];
    let reply = |status: u16, body: &str| Reply { status, substatus: 0, headers: headers.clone(), body: body.into() };
    let limits = Limits::default();
    let iis5 = Limits { iis5: true, http_sys: false, ..limits };
    let cases: [(Reply, Limits, bool, bool, &'static str); 6] = [
        (reply(200, "hello"), limits, false, false, "GET / HTTP/1.1\r\n\r\n"),
        (reply(599, "odd"), limits, true, false, "GET / HTTP/1.1\r\n\r\n"),
        (reply(302, "moved"), iis5, false, false, "HEAD / HTTP/1.1\r\n\r\n"),
        (reply(404, "gone"), iis5, false, true, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        (
            Reply {
                headers: vec![("Content-Type".into(), "text/html".into())],
                ..wire::http_sys_error(400, "Bad Request")
            },
            limits,
            true,
            false,
            "GET / HTTP/1.1\r\n\r\n",
        ),
        (reply(500, "x"), limits, false, false, "GET / HTTP/1.1\r\n\r\n"),
    ];
    for (reply, limits, close, keep_alive, request) in cases {
        let head = request.starts_with("HEAD");
        let f = framing(&reply, &limits, close, keep_alive, head);
        let mut own = Vec::new();
        let connection = conn::own_head(&reply, &f, date, &mut own).expect("written by the front end");
        // The second time the lines come from the thread's cache: the same bytes.
        let mut again = Vec::new();
        assert_eq!(conn::own_head(&reply, &f, date, &mut again), Some(connection.clone()));
        assert_eq!(again, own, "{request:?} {}: from the cache", reply.status);
        let theirs = hyper_wrote(reply.clone(), f, date, request);
        assert_eq!(String::from_utf8_lossy(&own), String::from_utf8_lossy(&theirs), "{request:?} {}", reply.status);
        let value = connection.map(|r| String::from_utf8_lossy(&own[r]).into_owned());
        assert_eq!(
            value.as_deref(),
            if close {
                Some("close")
            } else if keep_alive {
                Some("Keep-Alive")
            } else {
                None
            }
        );
    }
    let own = |reply: &Reply, head: bool| {
        let f = framing(reply, &limits, false, false, head);
        conn::own_head(reply, &f, date, &mut Vec::new())
    };
    // Literal names with values built for the response: a template with holes, its repeated
    // name grouped; a built value hyper refuses leaves its line out on the next reply too.
    let built = |a: &str, b: &str| Reply {
        status: 200,
        substatus: 0,
        headers: vec![
            ("Set-Cookie".into(), String::from(a).into()),
            ("Server".into(), "Microsoft-IIS/6.0".into()),
            ("Set-Cookie".into(), String::from(b).into()),
            ("X-Custom".into(), "y".into()),
        ],
        body: "hi".into(),
    };
    for (a, b) in [("a=1", "b=2"), ("a=3; path=/", "b=4"), ("a=5", "bad\nvalue"), ("a\u{1}", "b=6"), ("", "b=7")] {
        for close in [false, true] {
            let reply = built(a, b);
            let f = framing(&reply, &limits, close, false, false);
            let mut own = Vec::new();
            let connection = conn::own_head(&reply, &f, date, &mut own).expect("written by the front end");
            let theirs = hyper_wrote(reply.clone(), f, date, "GET / HTTP/1.1\r\n\r\n");
            assert_eq!(String::from_utf8_lossy(&own), String::from_utf8_lossy(&theirs), "{a:?} {b:?}");
            assert_eq!(connection.map(|r| own[r].to_vec()), close.then(|| b"close".to_vec()));
        }
    }
    let mut chunked = reply(200, "x");
    chunked.headers.push(("Transfer-Encoding".into(), "chunked".into()));
    assert!(own(&chunked, false).is_none(), "hyper frames a reply that names its own coding");
    assert!(own(&reply(200, ""), false).is_none(), "hyper moves the Content-Length of an empty body");
    assert!(own(&reply(200, ""), true).is_some(), "a HEAD answer's length stays where IIS puts it");
    assert!(own(&reply(304, ""), false).is_none());
}

#[test]
fn the_session_cookie_is_found_as_splitting_the_header_finds_it() {
    let split = |cookie: &str| -> Option<String> {
        cookie.split(';').find_map(|c| {
            let (k, val) = c.trim().split_once('=')?;
            k.eq_ignore_ascii_case("ASP.NET_SessionId").then(|| val.trim().to_string())
        })
    };
    for cookie in [
        "ASP.NET_SessionId=abc",
        "a=1; asp.net_sessionid = x y ; ASP.NET_SessionId=second",
        "a; b=2;ASP.NET_SessionId=\u{a0}z\u{a0}",
        "\u{2003}ASP.NET_SessionId=q=r",
        "ASP.NET_SessionIdx=1;",
        ";;",
        "",
        "é=1; ASP.NET_SessionId=ü",
    ] {
        assert_eq!(session_in(cookie).map(str::to_string), split(cookie), "{cookie:?}");
    }
}

/// The request hyper hands a service for `head`, parsed from the whole head.
fn hyper_read(head: &str) -> hyper::http::request::Parts {
    use tokio::io::AsyncWriteExt;
    let got = Arc::new(std::sync::Mutex::new(None));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let keep = got.clone();
    rt.block_on(async move {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let svc = service_fn(move |req: hyper::Request<Incoming>| {
            *keep.lock().unwrap() = Some(req.into_parts().0);
            async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) }
        });
        let server =
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(server), svc));
        client.write_all(head.as_bytes()).await.unwrap();
        client.shutdown().await.unwrap();
        let _ = server.await;
    });
    let parts = got.lock().unwrap().take();
    parts.unwrap_or_else(|| panic!("hyper took no request from {head:?}"))
}

#[test]
fn headers_kept_apart_from_hyper_reach_dispatch_as_hyper_s_map_hands_them() {
    let heads = [
        "GET /shop/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /shop/default.aspx HTTP/1.1\r\nHost: localhost\r\nCookie: ASP.NET_SessionId=abcdefghijklmnopqrstuvwx\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n",
        // Lines of one name apart: hyper's map hands them together, in the place of the first.
        "GET /a HTTP/1.1\r\nX-A: 1\r\nHost: h\r\nX-B: 2\r\nx-a: 3\r\nHOST: second\r\nX-B: 4\r\nX-C: 5\r\n\r\n",
        "GET /a HTTP/1.1\r\nCookie: a=1\r\nConnection: keep-alive\r\ncookie: ASP.NET_SessionId=s\r\nConnection: close\r\n\r\n",
        // Blanks around values, an empty value, no blank after the colon.
        "GET /a HTTP/1.1\r\nHost:  spaced  \r\nX-Empty:\r\nX-Blank:   \r\nX-Tight:v\r\n\r\n",
        "HEAD /logo.gif HTTP/1.1\r\nHost: a:80\r\nReferer: http://a/b?c=d:e\r\n\r\n",
    ];
    let limits = Limits::default();
    for head in heads {
        let conn::Inspected::Pass(p) = conn::inspect(head.as_bytes(), &limits) else {
            panic!("HTTP.sys passes {head:?}")
        };
        assert!(p.apart, "the one-pass check takes {head:?}");
        let lines = &head.as_bytes()[p.line + 2..p.len - 2];
        let parts = hyper_read(head);
        let (mut whole, mut apart) = (Copied::new(), Copied::new());
        let found_whole = whole.refill(&parts, 80, None);
        let found_apart = apart.refill(&parts, 80, Some(lines));
        assert_eq!(apart.req, whole.req, "{head:?}");
        assert_eq!(found_apart, found_whole, "{head:?}");
        // Refilled over the room of the last request: the same again.
        let again = apart.refill(&parts, 80, Some(lines));
        assert_eq!((&apart.req, again), (&whole.req, found_whole), "{head:?}: refilled");
    }
}
