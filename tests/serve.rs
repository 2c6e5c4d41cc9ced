//! `iisim serve` on real sockets: a hyper client talks to the emulated box on 127.0.0.1:0, the
//! admin listener changes it while it serves.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use iisim::http::{self, Listen, Options, Shared};

#[path = "common/serving.rs"]
mod serving;
use serving::SBS;

const ADSUTIL: &str = r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs";

/// Starts a server for the scenario text on 127.0.0.1:0 (port 80 of the box) with an admin listener.
fn start(toml: &str) -> http::Handle {
    start_on(toml, &[80])
}

fn start_on(toml: &str, ports: &[u16]) -> http::Handle {
    serving::start_on(toml, ports)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A keep-alive client connection.
async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    send
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

async fn send(
    c: &mut SendRequest<Full<Bytes>>,
    method: &str,
    url: &str,
    cookie: Option<&str>,
) -> Result<Answer, String> {
    let mut b = hyper::Request::builder().method(method).uri(url).header("Host", "localhost");
    if let Some(id) = cookie {
        b = b.header("Cookie", format!("ASP.NET_SessionId={id}"));
    }
    let body = if method == "POST" { Bytes::from_static(b"x=1") } else { Bytes::new() };
    let req = b.body(Full::new(body)).unwrap();
    let resp = c.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let headers =
        resp.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

async fn get(addr: SocketAddr, url: &str, cookie: Option<&str>) -> Answer {
    let mut c = connect(addr).await;
    send(&mut c, "GET", url, cookie).await.unwrap()
}

/// The admin listener: method, path, body -> body.
async fn admin(h: &http::Handle, method: &str, path: &str, body: &str) -> String {
    admin_at(h.admin.unwrap(), method, path, body).await
}

async fn admin_at(addr: SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut c = connect(addr).await;
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("Host", "localhost")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let resp = c.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}

fn cookie_of(a: &Answer) -> Option<String> {
    let v = a.header("Set-Cookie")?;
    v.strip_prefix("ASP.NET_SessionId=").map(|r| r.split(';').next().unwrap_or("").to_string())
}

#[test]
fn each_application_gets_its_runtime_and_a_shared_pool_gets_1062_until_a_second_pool() {
    let h = start(SBS);
    let addr = h.listeners[0];
    rt().block_on(async {
        let legacy = get(addr, "/legacy/default.aspx", None).await;
        assert_eq!(legacy.status, 200);
        assert_eq!(legacy.header("X-AspNet-Version"), Some("1.1.4322"));
        assert_eq!(legacy.header("Server"), Some("Microsoft-IIS/6.0"));
        assert!(legacy.header("Date").is_some_and(|d| d.ends_with(" GMT")));
        assert_eq!(legacy.header("Content-Length"), Some(legacy.body.len().to_string().as_str()));
        assert!(
            legacy.body.contains("ASP.NET 1.1.4322") && legacy.body.contains("w3wp.exe (PID 1004)"),
            "{}",
            legacy.body
        );
        assert!(legacy.body.contains("/legacy"), "the body names the application");

        let portal = get(addr, "/portal/default.aspx", None).await;
        assert_eq!(portal.status, 500);
        assert!(portal.body.contains("Server Application Unavailable"));
        assert!(admin(&h, "GET", "/events", "").await.contains(" 1062 [ASP.NET 2.0.50727.0]"));

        let logo = get(addr, "/legacy/logo.gif", None).await;
        assert_eq!((logo.status, logo.header("Content-Type")), (200, Some("image/gif")));

        // The fix: the 2.0 application in a pool of its own.
        let out = admin(&h, "POST", "/run", &format!("{ADSUTIL} SET W3SVC/1/ROOT/portal/AppPoolId AspNet20Pool")).await;
        assert!(out.contains("exit 0"), "{out}");
        let portal = get(addr, "/portal/default.aspx", None).await;
        assert_eq!(portal.status, 200, "{}", portal.body);
        assert_eq!(portal.header("X-AspNet-Version"), Some("2.0.50727"));
        assert!(portal.body.contains("w3wp.exe (PID 1008)"), "a second w3wp.exe: {}", portal.body);
        let procs = admin(&h, "GET", "/processes", "").await;
        assert!(procs.contains("pool AspNet20Pool") && procs.contains("CLR 2.0.50727"), "{procs}");
    });
    h.stop();
}

#[test]
fn a_session_cookie_is_kept_and_lost_with_the_worker() {
    let h = start(SBS);
    let addr = h.listeners[0];
    rt().block_on(async {
        let first = get(addr, "/legacy/default.aspx", None).await;
        let id = cookie_of(&first).expect("a new session sets its cookie");
        assert_eq!(id.len(), 24);
        let again = get(addr, "/legacy/default.aspx", Some(&id)).await;
        assert_eq!(cookie_of(&again), None, "a kept session sets no cookie");
        let t = admin(&h, "GET", "/transcript", "").await;
        assert!(t.contains("session kept"), "{t}");
        let out = admin(&h, "POST", "/run", "iisreset").await;
        assert!(out.contains("Internet services successfully restarted") && out.contains("exit 0"), "{out}");
        get(addr, "/legacy/default.aspx", Some(&id)).await;
        let t = admin(&h, "GET", "/transcript", "").await;
        assert!(t.lines().last().is_some_and(|_| t.contains("session lost")), "{t}");
    });
    h.stop();
}

#[test]
fn a_live_remap_through_the_admin_listener_reaches_the_next_request() {
    let h = start(SBS);
    let addr = h.listeners[0];
    rt().block_on(async {
        let mut c = connect(addr).await;
        let before = send(&mut c, "GET", "/legacy/default.aspx", None).await.unwrap();
        assert_eq!(before.header("X-AspNet-Version"), Some("1.1.4322"));
        let out = admin(&h, "POST", "/run", r"v2.0.50727\aspnet_regiis -s W3SVC/1/ROOT/legacy").await;
        assert!(out.contains("exit 0") && out.contains("W3SVC"), "{out}");
        // The same keep-alive connection sees the new view.
        let after = send(&mut c, "GET", "/legacy/default.aspx", None).await.unwrap();
        assert_eq!(after.header("X-AspNet-Version"), Some("2.0.50727"));
        let t = admin(&h, "GET", "/transcript", "").await;
        assert!(t.contains("== run v2.0.50727\\aspnet_regiis -s W3SVC/1/ROOT/legacy =="), "{t}");
        let clock = admin(&h, "POST", "/advance", "21m").await;
        assert!(clock.contains("clock advanced 1260 s") && clock.contains("IdleTimeout"), "{clock}");
        assert!(admin(&h, "POST", "/advance", "soon").await.contains("not a duration"));
    });
    h.stop();
}

/// Sends raw bytes and reads the whole answer (the server closes after its own errors).
#[test]
fn the_admin_listener_keeps_one_cmd_window_between_runs() {
    let h = start(SBS);
    rt().block_on(async {
        // A fresh window starts where the console policy says; `cd` and `set` stay for the next line.
        let cd = admin(&h, "POST", "/run", r"cd /d C:\Inetpub\AdminScripts").await;
        assert!(cd.contains("exit 0"), "{cd}");
        let here = admin(&h, "POST", "/run", "cd").await;
        assert!(here.contains(r"| C:\Inetpub\AdminScripts"), "{here}");
        let get = admin(&h, "POST", "/run", "cscript //nologo adsutil.vbs GET W3SVC/1/ServerBindings").await;
        assert!(get.contains("ServerBindings") && get.contains(":80:") && get.contains("exit 0"), "{get}");
        admin(&h, "POST", "/run", "set SITE=W3SVC/1").await;
        let var = admin(&h, "POST", "/run", "cscript //nologo adsutil.vbs GET %SITE%/ServerComment").await;
        assert!(var.contains("Default Web Site") && var.contains("exit 0"), "{var}");
        // ERRORLEVEL of the last line is seen by the next one.
        let bad = admin(&h, "POST", "/run", "cscript //nologo adsutil.vbs GET W3SVC/1/NoSuchThing").await;
        assert!(!bad.contains("exit 0"), "{bad}");
        let level = admin(&h, "POST", "/run", "echo %ERRORLEVEL%").await;
        assert!(!level.contains("| 0\n"), "{level}");
        // `exit` closes the window; the next line opens a new one at the start directory.
        assert!(admin(&h, "POST", "/run", "exit 3").await.contains("exit 3"));
        let fresh = admin(&h, "POST", "/run", "cd").await;
        assert!(!fresh.contains("AdminScripts") && fresh.contains(r"| C:\"), "{fresh}");
    });
    h.stop();
}

fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn malformed_requests_get_what_http_sys_sends() {
    let h = start(SBS);
    let addr = h.listeners[0];
    let verb = raw(addr, b"get / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(verb.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{verb}");
    assert!(verb.ends_with("\r\n\r\n<h1>Bad Request (Invalid Verb)</h1>"), "{verb}");
    assert!(!verb.to_ascii_lowercase().contains("server:"), "no Server header on HTTP.sys's answers: {verb}");
    assert!(verb.contains("Connection: close\r\n"));
    let length = raw(addr, b"POST /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(length.starts_with("HTTP/1.1 411 Length Required\r\n"), "{length}");
    let big =
        format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: {}\r\nX-B: {}\r\n\r\n", "a".repeat(9000), "b".repeat(9000));
    let big = raw(addr, big.as_bytes());
    assert!(big.ends_with("<h1>Bad Request (Request Header Too Long)</h1>"), "{big}");
    let field = format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: {}\r\n\r\n", "a".repeat(17000));
    let field = raw(addr, field.as_bytes());
    assert!(field.contains("Content-Length: 44\r\n"), "the documented 44-byte body: {field}");
    let te = raw(addr, b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    assert!(te.starts_with("HTTP/1.1 501 Not Implemented\r\n"), "{te}");
    let no_host = raw(addr, b"GET /legacy/default.aspx HTTP/1.1\r\n\r\n");
    assert!(no_host.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{no_host}");
    // A request line hyper cannot parse is answered by hyper itself: a bare 400.
    let junk = raw(addr, b"GET / JUNK/1.0\r\n\r\n");
    assert!(junk.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{junk}");
    // HTTP/1.0 without Host reaches the all-unassigned binding (HTTP-13). hyper writes an
    // HTTP/1.0 status line for it where IIS writes HTTP/1.1 (README, HTTP-12 deferred).
    let ten = raw(addr, b"GET /legacy/logo.gif HTTP/1.0\r\n\r\n");
    assert!(ten.contains(" 200 OK\r\n") && ten.contains("Content-Type: image/gif"), "{ten}");
    let head = raw(addr, b"HEAD /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let (head_lines, head_body) = head.split_once("\r\n\r\n").unwrap();
    assert!(head_lines.contains("Content-Length: ") && head_body.is_empty(), "{head}");
    let t = rt().block_on(admin(&h, "GET", "/transcript", ""));
    for rule in ["HTTP-02", "HTTP-03", "HTTP-10", "HTTP-14", "HTTP-18", "HTTP-20"] {
        assert!(t.contains(rule), "the transcript cites {rule}: {t}");
    }
    h.stop();
}

#[test]
fn the_admin_listener_stays_on_loopback() {
    let opts = Options { listen: vec![], admin: Some("0.0.0.0:0".parse().unwrap()), ctrl_c: false };
    let m = iisim::machine::Machine::new(iisim::machine::MachineConfig::new(iisim::edition::Edition::Win2003));
    let err = http::start(Arc::new(Shared::new(m, iisim::process::World::default())), &opts).err().unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
}

/// 32 connections x 500 requests while the box is remapped and reset: no transport error, and
/// every answer is one the rules explain for the configuration in force.
#[test]
fn concurrent_load_through_a_remap_and_an_iisreset() {
    let h = start(SBS);
    let addr = h.listeners[0];
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let admin_addr = h.admin.unwrap();
    runtime.block_on(async {
        let mut clients = Vec::new();
        for n in 0..32 {
            clients.push(tokio::spawn(async move {
                let mut c = connect(addr).await;
                let mut seen = Vec::new();
                for i in 0..500 {
                    let url = match (n + i) % 3 {
                        0 => "/legacy/default.aspx",
                        1 => "/portal/default.aspx",
                        _ => "/legacy/logo.gif",
                    };
                    let a = send(&mut c, "GET", url, None).await.map_err(|e| format!("{url}: {e}"))?;
                    seen.push((url, a.status, a.header("X-AspNet-Version").map(str::to_string), a.body));
                }
                Ok::<_, String>(seen)
            }));
        }
        let admin_task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let a = admin_at(admin_addr, "POST", "/run", r"v2.0.50727\aspnet_regiis -s W3SVC/1/ROOT/legacy").await;
            let b = admin_at(admin_addr, "POST", "/run", "iisreset").await;
            (a, b)
        });
        let mut total = 0;
        for c in clients {
            let seen = c.await.unwrap().unwrap_or_else(|e| panic!("transport error: {e}"));
            for (url, status, version, body) in seen {
                total += 1;
                match (url, status) {
                    ("/legacy/logo.gif", 200) => assert!(body.contains("logo.gif")),
                    (_, 200) => {
                        let v = version.expect("ASP.NET answers carry X-AspNet-Version");
                        assert!(body.contains(&format!("ASP.NET {v}")), "{url}: {body}");
                        if url == "/portal/default.aspx" {
                            assert_eq!(v, "2.0.50727", "portal is pinned to 2.0");
                        }
                    }
                    // The application whose runtime lost the shared w3wp.exe (CLR-02, CLR-03).
                    (_, 500) => assert!(body.contains("Server Application Unavailable"), "{url}: {body}"),
                    other => panic!("an answer no rule explains: {other:?} {body}"),
                }
            }
        }
        let (a, b) = admin_task.await.unwrap();
        assert!(a.contains("exit 0") && b.contains("exit 0"), "{a}\n{b}");
        assert_eq!(total, 32 * 500);
    });
    h.stop();
}

/// The command line: `listening on`, an address in use (exit 2), Ctrl-C within a second.
#[cfg(unix)]
#[test]
fn the_command_line_binds_reports_and_ends_on_ctrl_c() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box.toml");
    std::fs::write(&path, SBS).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_iisim"))
        .args(["serve", path.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line}")).to_string();
    let busy = std::process::Command::new(env!("CARGO_BIN_EXE_iisim"))
        .args(["serve", path.to_str().unwrap(), "--listen", &addr])
        .output()
        .unwrap();
    assert_eq!(busy.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("already in use"), "{busy:?}");
    let answer =
        raw(addr.parse().unwrap(), b"GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    // An idle keep-alive connection must not hold the shutdown up.
    let _idle = TcpStream::connect(&addr).unwrap();
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "still running 1 s after Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

/// `ADDR=PORT` listeners stand for other ports of the box: a site per port, host headers as bound.
#[test]
fn listeners_stand_for_emulated_ports_and_bindings_decide() {
    let toml = r#"
title = "a site per port"
rules = []
[machine]
edition = "2003"
[[machine.site]]
name = "Intranet"
bindings = [":8080:"]
path = 'C:\Intranet'
files = ["index.htm"]
[[machine.site]]
name = "Shop"
bindings = [":80:shop.example"]
path = 'C:\Shop'
files = ["index.htm", "logo.gif"]
"#;
    let h = start_on(toml, &[80, 8080]);
    let (port80, port8080) = (h.listeners[0], h.listeners[1]);
    let ask = |addr: SocketAddr, host: &str, url: &str| {
        raw(addr, format!("GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
    };
    let intranet = ask(port8080, "anything", "/index.htm");
    assert!(intranet.contains(" 200 OK\r\n") && intranet.contains(r"C:\Intranet\index.htm"), "{intranet}");
    let shop = ask(port80, "shop.example", "/logo.gif");
    assert!(shop.contains(" 200 OK\r\n") && shop.contains("Content-Type: image/gif"), "{shop}");
    assert!(ask(port8080, "anything", "/logo.gif").contains(" 404 Not Found\r\n"), "port 8080 is the intranet");
    assert_eq!(
        Listen::parse("127.0.0.1:8081=8080"),
        Ok(Listen { addr: "127.0.0.1:8081".parse().unwrap(), port: 8080 })
    );
    assert!(Listen::parse("127.0.0.1:8081=web").is_err());
    h.stop();
}

/// Every answer is dated now, to the second, as IIS dates it: the front end formats the Date once
/// a second per thread, so a connection's answers a second apart must carry their own seconds.
#[test]
fn answers_are_dated_when_they_go_out() {
    let h = start(SBS);
    let addr = h.listeners[0];
    rt().block_on(async {
        let mut c = connect(addr).await;
        let mut dates = Vec::new();
        for _ in 0..3 {
            let before = std::time::SystemTime::now();
            let a = send(&mut c, "GET", "/legacy/default.aspx", None).await.unwrap();
            let after = std::time::SystemTime::now();
            let date = a.header("Date").expect("a Date header").to_string();
            let at = httpdate::parse_http_date(&date).unwrap_or_else(|e| panic!("{date:?}: {e}"));
            let second = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            assert!(
                (second(before)..=second(after)).contains(&second(at)),
                "{date} not between {before:?} and {after:?}"
            );
            dates.push(date);
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
        assert!(dates.windows(2).all(|w| w[0] != w[1]), "{dates:?}");
    });
    h.stop();
}

/// A long-running server keeps a bounded transcript: the last 1,000 requests and commands.
#[test]
fn the_transcript_tail_stays_bounded() {
    let h = start(SBS);
    let addr = h.listeners[0];
    rt().block_on(async {
        let mut c = connect(addr).await;
        for _ in 0..http::TRANSCRIPT_TAIL + 100 {
            send(&mut c, "GET", "/legacy/default.aspx", None).await.unwrap();
        }
        let t = admin(&h, "GET", "/transcript", "").await;
        assert_eq!(t.lines().filter(|l| l.starts_with("== ")).count(), http::TRANSCRIPT_TAIL);
    });
    h.stop();
}

/// A 2.0 application keeping session state cookieless, on IIS 6 in worker mode.
const COOKIELESS: &str = r#"
title = "cookieless session state"
rules = []

[machine]
edition = "2003"
runtimes = ["1.1", "2.0"]

[[machine.app]]
path = "W3SVC/1/ROOT/store"
physical_path = 'C:\Sites\store'
runtime = "2.0"
cookieless = true
files = ["default.aspx", "logo.gif"]
"#;

#[test]
fn the_asp_net_filter_takes_the_cookieless_session_out_of_the_url_on_the_wire() {
    // SES-10: aspnet_filter.dll strips /(S(id))/ before IIS maps the URL, on the wire too.
    let h = start(COOKIELESS);
    let addr = h.listeners[0];
    rt().block_on(async {
        let first = get(addr, "/store/default.aspx", None).await;
        assert_eq!(first.status, 302, "{}", first.body);
        let location = first.header("Location").expect("a redirect to the URL with the ID").to_string();
        let id = location
            .strip_prefix("/store/(S(")
            .and_then(|r| r.strip_suffix("))/default.aspx"))
            .unwrap_or_else(|| panic!("{location}"))
            .to_string();
        assert_eq!(id.len(), 24, "{location}");
        assert_eq!(cookie_of(&first), None, "cookieless: no cookie");

        let logo = get(addr, &format!("/store/(S({id}))/logo.gif"), None).await;
        assert_eq!((logo.status, logo.header("Content-Type")), (200, Some("image/gif")), "{}", logo.body);

        let page = get(addr, &location, None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(&format!("<a href=\"{location}\">")), "{}", page.body);
        let again = get(addr, &location, None).await;
        assert_eq!((again.status, cookie_of(&again)), (200, None));
        let t = admin(&h, "GET", "/transcript", "").await;
        // The serve path records what changed, not the filter's decision (`iisim explain` shows it).
        assert!(!t.contains("takes the session ID"), "{t}");
        let last = t.lines().rfind(|l| l.contains("GET /store/(S(") && l.contains("default.aspx"));
        assert!(last.is_some_and(|l| l.contains("session kept")), "the URL alone keeps the session: {t}");
    });
    h.stop();
}
