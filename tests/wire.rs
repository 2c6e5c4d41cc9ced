//! The bytes of `iisim serve` on a real socket: raw requests written to a TcpStream on
//! 127.0.0.1:0 and the raw answers read back, against HTTP.md's rules (HTTP-02, HTTP-03, HTTP-06,
//! HTTP-11, HTTP-12, HTTP-16, HTTP-17, HTTP-21, HTTP-22, HTTP-25).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use iisim::http;

#[path = "common/serving.rs"]
mod serving;
use serving::SBS as BOX;

fn start(toml: &str) -> http::Handle {
    serving::start_on(toml, &[80])
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Writes `bytes` on a new connection and reads until the server closes it.
fn exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = connect(addr);
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// One response read off a keep-alive connection: its head and its Content-Length body.
fn read_response(s: &mut TcpStream, head_request: bool) -> (String, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut byte).unwrap(),
            1,
            "the connection ended inside a head: {}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = header(&head, "Content-Length").map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0u8; if head_request { 0 } else { length }];
    s.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| l.split_once(": ").filter(|(k, _)| *k == name).map(|(_, v)| v))
}

fn names(head: &str) -> Vec<&str> {
    head.split("\r\n").skip(1).filter(|l| !l.is_empty()).map(|l| l.split_once(':').unwrap().0).collect()
}

/// Reads until the peer closes, failing if it does not within the read timeout.
fn assert_closed(s: &mut TcpStream) {
    let mut rest = Vec::new();
    match s.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "nothing after the answer: {}", String::from_utf8_lossy(&rest)),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "closed, not {e}"),
    }
}

fn admin(h: &http::Handle, method: &str, path: &str, body: &str) -> String {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: admin\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let out = exchange(h.admin.unwrap(), req.as_bytes());
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or(out)
}

/// Every request HTTP.sys refuses, and the row of HTTP-03 it gets: status line, `<h1>` body,
/// httperr reason.
const REFUSED: &[(&str, &str, &str, &str)] = &[
    (
        "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n",
        "505 HTTP Version not supported",
        "HTTP Version Not Supported",
        "Version_N/S",
    ),
    ("GET / HTTP/3.0\r\n\r\n", "505 HTTP Version not supported", "HTTP Version Not Supported", "Version_N/S"),
    ("GET / JUNK/1.0\r\n\r\n", "400 Bad Request", "Bad Request", "BadRequest"),
    ("GET /\r\n\r\n", "400 Bad Request", "Bad Request", "BadRequest"),
    ("GARBAGE\r\n\r\n", "400 Bad Request", "Bad Request", "BadRequest"),
    ("get / HTTP/1.1\r\nHost: localhost\r\n\r\n", "400 Bad Request", "Bad Request (Invalid Verb)", "Verb"),
    ("GET foo HTTP/1.1\r\nHost: localhost\r\n\r\n", "400 Bad Request", "Bad Request (Invalid URL)", "URL"),
    (
        "GET / HTTP/1.1\r\nHost: localhost\r\nX Y: z\r\n\r\n",
        "400 Bad Request",
        "Bad Request (Invalid Header Name)",
        "Header",
    ),
    ("GET / HTTP/1.1\r\nHost: localhost\rX: y\r\n\r\n", "400 Bad Request", "Bad Request", "BadRequest"),
    (
        "POST /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "411 Length Required",
        "Length Required",
        "LengthRequired",
    ),
    ("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ten\r\n\r\n", "400 Bad Request", "Bad Request", "Number"),
    (
        "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n",
        "501 Not Implemented",
        "Not Implemented",
        "N/I",
    ),
    ("GET /legacy/default.aspx HTTP/1.1\r\n\r\n", "400 Bad Request", "Bad Request (Invalid Hostname)", "Hostname"),
    ("GET /a%zz HTTP/1.1\r\nHost: localhost\r\n\r\n", "400 Bad Request", "Bad Request (Invalid URL)", "URL"),
];

/// HTTP.sys's answer exactly (HTTP-02): status line, four headers in order, no Server, the body.
fn assert_http_sys(answer: &str, status: &str, h1: &str, head_request: bool) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {answer:?}"));
    assert!(head.starts_with(&format!("HTTP/1.1 {status}\r\n")), "{answer}");
    assert_eq!(names(&format!("{head}\r\n")), ["Content-Type", "Date", "Connection", "Content-Length"], "{answer}");
    assert_eq!(header(&format!("{head}\r\n"), "Content-Type"), Some("text/html"));
    assert_eq!(header(&format!("{head}\r\n"), "Connection"), Some("close"));
    let expected = format!("<h1>{h1}</h1>");
    assert_eq!(header(&format!("{head}\r\n"), "Content-Length"), Some(expected.len().to_string().as_str()));
    assert_eq!(body, if head_request { "" } else { expected.as_str() }, "{answer}");
}

#[test]
fn each_request_http_sys_refuses_gets_its_answer_and_its_httperr_line() {
    let h = start(BOX);
    let addr = h.listeners[0];
    for (req, status, h1, _) in REFUSED {
        assert_http_sys(&exchange(addr, req.as_bytes()), status, h1, false);
    }
    // Over-long heads: one field (the documented 44-byte body), the whole head, the URL.
    let field = format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: {}\r\n\r\n", "a".repeat(17000));
    assert_http_sys(&exchange(addr, field.as_bytes()), "400 Bad Request", "Bad Request (Header Field Too Long)", false);
    let head =
        format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: {}\r\nX-B: {}\r\n\r\n", "a".repeat(9000), "b".repeat(9000));
    assert_http_sys(
        &exchange(addr, head.as_bytes()),
        "400 Bad Request",
        "Bad Request (Request Header Too Long)",
        false,
    );
    let url = format!("GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n", "u".repeat(70_000));
    assert_http_sys(&exchange(addr, url.as_bytes()), "400 Bad Request", "Bad Request (Header Field Too Long)", false);
    // A head that never ends is refused once it passes MaxRequestBytes, not waited for.
    let mut s = connect(addr);
    s.write_all(format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: {}", "a".repeat(20_000)).as_bytes()).unwrap();
    let (answer, _) = read_response(&mut s, true);
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
    // HEAD gets the status line and headers only.
    let head = exchange(addr, b"HEAD / HTTP/2.0\r\n\r\n");
    assert_http_sys(&head, "505 HTTP Version not supported", "HTTP Version Not Supported", true);

    let log = admin(&h, "GET", "/httperr", "");
    let mut lines = log.split("\r\n");
    assert_eq!(lines.next(), Some("#Software: Microsoft HTTP API 1.0"), "{log}");
    assert_eq!(lines.next(), Some("#Version: 1.0"));
    assert!(lines.next().unwrap().starts_with("#Date: 2005-06-23 09:00:00"), "the virtual clock: {log}");
    assert_eq!(
        lines.next(),
        Some("#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-siteid s-reason s-queuename")
    );
    let entries: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(entries.len(), REFUSED.len() + 5, "{log}");
    for (line, (req, status, _, reason)) in entries.iter().zip(REFUSED) {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f.len(), 13, "{line}");
        assert_eq!((f[0], f[1], f[2], f[4], f[5]), ("2005-06-23", "09:00:00", "127.0.0.1", "10.0.0.1", "80"), "{line}");
        assert_eq!((f[9], f[11], f[12]), (&status[..3], *reason, "-"), "{req:?}: {line}");
    }
    let first: Vec<&str> = entries[0].split(' ').collect();
    assert_eq!(&first[6..9], ["HTTP/2.0", "GET", "/"], "the KB's own sample: HTTP/2.0 GET / 505 - Version_N/S");
    let garbage: Vec<&str> = entries[4].split(' ').collect();
    assert_eq!(&garbage[6..9], ["-", "GARBAGE", "-"], "what was not parsed is -");
    let hostname: Vec<&str> = entries[12].split(' ').collect();
    assert_eq!(&hostname[6..11], ["HTTP/1.1", "GET", "/legacy/default.aspx", "400", "-"], "{}", entries[12]);

    let t = admin(&h, "GET", "/transcript", "");
    for rule in ["HTTP-02", "HTTP-03", "HTTP-05", "HTTP-06", "HTTP-07", "HTTP-08", "HTTP-10", "HTTP-12", "HTTP-14"] {
        assert!(t.contains(rule), "the transcript cites {rule}: {t}");
    }
    h.stop();
}

#[test]
fn a_refusal_on_a_keep_alive_connection_follows_the_answers_before_it() {
    let h = start(BOX);
    let addr = h.listeners[0];
    for (bad, status, h1, _) in REFUSED.iter().take(12) {
        // One request answered, then a bad one on the same connection.
        let mut s = connect(addr);
        s.write_all(b"GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        let (head, body) = read_response(&mut s, false);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && body.contains("logo.gif"), "{head}{body}");
        s.write_all(bad.as_bytes()).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        assert_http_sys(&String::from_utf8_lossy(&rest), status, h1, false);
        // Pipelined: two good requests and a bad one in one write; every answer in order.
        let mut s = connect(addr);
        let pipelined = format!(
            "GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\n\r\nPOST /portal/default.aspx HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nx=1\r\n0\r\n\r\n{bad}"
        );
        s.write_all(pipelined.as_bytes()).unwrap();
        let (first, _) = read_response(&mut s, false);
        assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
        let (second, body) = read_response(&mut s, false);
        assert!(second.starts_with("HTTP/1.1 200 OK\r\n") && body.contains("2.0.50727"), "{second}{body}");
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        assert_http_sys(&String::from_utf8_lossy(&rest), status, h1, false);
    }
    h.stop();
}

#[test]
fn http_1_0_clients_get_http_1_1_status_lines_and_keep_alive_only_when_they_ask() {
    let h = start(BOX);
    let addr = h.listeners[0];
    // Without Keep-Alive: answered and closed, `Connection: close` last (HTTP-12, HTTP-17).
    let mut s = connect(addr);
    s.write_all(b"GET /legacy/logo.gif HTTP/1.0\r\n\r\n").unwrap();
    let (head, _) = read_response(&mut s, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "IIS always says HTTP/1.1: {head}");
    assert_eq!(names(&head).last(), Some(&"Connection"), "{head}");
    assert_eq!(header(&head, "Connection"), Some("close"));
    assert_closed(&mut s);
    // With Keep-Alive: the answer says so and the connection takes another request.
    let mut s = connect(addr);
    for _ in 0..3 {
        s.write_all(b"GET /legacy/logo.gif HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        let (head, body) = read_response(&mut s, false);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(header(&head, "Connection"), Some("Keep-Alive"), "{head}");
        assert!(body.contains("logo.gif"));
    }
    // HTTP/1.1 stays open without saying so; HTTP/1.2 is served as 1.1 (HTTP-12).
    let mut s = connect(addr);
    for version in ["1.1", "1.2", "1.1"] {
        s.write_all(format!("GET /legacy/logo.gif HTTP/{version}\r\nHost: localhost\r\n\r\n").as_bytes()).unwrap();
        let (head, _) = read_response(&mut s, false);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && header(&head, "Connection").is_none(), "{head}");
    }
    h.stop();
}

#[test]
fn a_connection_header_split_over_lines_is_read_as_one_list() {
    // A field given on several lines is one comma-separated list (RFC 7230 3.2.2): `close` on the
    // second line closes as on the first, and the answer says so (HTTP-17).
    let h = start(BOX);
    let addr = h.listeners[0];
    let mut s = connect(addr);
    s.write_all(b"GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\nConnection: TE\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (head, _) = read_response(&mut s, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(names(&head).last(), Some(&"Connection"), "{head}");
    assert_eq!(header(&head, "Connection"), Some("close"), "{head}");
    assert_closed(&mut s);
    // HTTP/1.0's Keep-Alive on a second line keeps the connection open, and is answered.
    let mut s = connect(addr);
    for _ in 0..2 {
        s.write_all(b"GET /legacy/logo.gif HTTP/1.0\r\nConnection: TE\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        let (head, _) = read_response(&mut s, false);
        assert_eq!(header(&head, "Connection"), Some("Keep-Alive"), "{head}");
    }
    // Keep-Alive and close in one list: close wins, in either order and either version.
    for request in [
        "GET /legacy/logo.gif HTTP/1.0\r\nConnection: Keep-Alive\r\nConnection: close\r\n\r\n",
        "GET /legacy/logo.gif HTTP/1.0\r\nConnection: close, Keep-Alive\r\n\r\n",
        "GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
    ] {
        let mut s = connect(addr);
        s.write_all(request.as_bytes()).unwrap();
        let (head, _) = read_response(&mut s, false);
        assert_eq!(header(&head, "Connection"), Some("close"), "{request}: {head}");
        assert_closed(&mut s);
    }
    h.stop();
}

#[test]
fn header_names_go_out_as_iis_spells_them() {
    let h = start(BOX);
    let addr = h.listeners[0];
    let cases: &[(&str, &[&str])] = &[
        ("/legacy/logo.gif", &["Content-Length", "Content-Type", "Server", "X-Powered-By", "Date"]),
        (
            "/portal/default.aspx",
            &["Content-Length", "Server", "X-Powered-By", "X-AspNet-Version", "Cache-Control", "Content-Type", "Date"],
        ),
        ("/missing.htm", &["Content-Length", "Content-Type", "Server", "X-Powered-By", "Date"]),
    ];
    for (url, expected) in cases {
        let mut s = connect(addr);
        s.write_all(format!("GET {url} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes()).unwrap();
        let (head, _) = read_response(&mut s, false);
        let got: Vec<&str> = names(&head).into_iter().filter(|n| *n != "Set-Cookie").collect();
        let mut want: Vec<&str> = expected.to_vec();
        // Static files carry their validators (HTTP-25), between Content-Type and Server.
        if url.ends_with(".gif") {
            want.splice(2..2, ["Last-Modified", "Accept-Ranges", "ETag"]);
        }
        assert_eq!(got, want, "{url}: {head}");
    }
    h.stop();
}

#[test]
fn idle_and_stalled_connections_end_after_connection_timeout() {
    let h = start(BOX);
    let addr = h.listeners[0];
    let set = admin(
        &h,
        "POST",
        "/run",
        r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs SET W3SVC/ConnectionTimeout 1",
    );
    assert!(set.contains("exit 0"), "{set}");
    // An idle keep-alive connection is closed after ConnectionTimeout without a response.
    let mut s = connect(addr);
    s.write_all(b"GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    read_response(&mut s, false);
    let idle = Instant::now();
    assert_closed(&mut s);
    let waited = idle.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(5), "{waited:?}");
    // A body that stops arriving: reset, no response.
    let mut s = connect(addr);
    s.write_all(b"POST /portal/default.aspx HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nx=").unwrap();
    assert_closed(&mut s);
    let log = admin(&h, "GET", "/httperr", "");
    let reasons: Vec<&str> = log.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(' ').nth(11)).collect();
    assert_eq!(reasons, ["Timer_ConnectionIdle", "Timer_EntityBody"], "{log}");
    assert!(log.contains(" - - - - - Timer_ConnectionIdle -"), "no request pending: every field -: {log}");
    assert!(
        log.contains(" HTTP/1.1 POST /portal/default.aspx - - Timer_EntityBody -"),
        "the pending request supplies the fields (HTTP-08): {log}"
    );
    assert!(admin(&h, "GET", "/transcript", "").contains("HTTP-11"));
    h.stop();
}

#[test]
fn options_and_conditional_gets_on_the_wire() {
    let h = start(BOX);
    let addr = h.listeners[0];
    let mut s = connect(addr);
    s.write_all(b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let (head, body) = read_response(&mut s, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(header(&head, "Allow"), Some("OPTIONS, TRACE, GET, HEAD, POST"), "{head}");
    assert_eq!(header(&head, "Public"), Some("OPTIONS, TRACE, GET, HEAD, POST"));
    assert_eq!((header(&head, "Content-Length"), body.as_str()), (Some("0"), ""));
    // A GET, then the same with its validators: 304, no body, no length, the connection stays.
    s.write_all(b"GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let (head, _) = read_response(&mut s, false);
    let etag = header(&head, "ETag").unwrap().to_string();
    let modified = header(&head, "Last-Modified").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.contains(':'), "{head}");
    assert_eq!(modified, "Thu, 23 Jun 2005 09:00:00 GMT", "saved when the box started");
    for validator in [format!("If-None-Match: {etag}"), format!("If-Modified-Since: {modified}")] {
        s.write_all(format!("GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\n{validator}\r\n\r\n").as_bytes())
            .unwrap();
        let (head, _) = read_response(&mut s, true);
        assert!(head.starts_with("HTTP/1.1 304 Not Modified\r\n"), "{validator}: {head}");
        assert_eq!(
            names(&head),
            ["Last-Modified", "Accept-Ranges", "ETag", "Server", "X-Powered-By", "Date"],
            "{head}"
        );
    }
    s.write_all(b"GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: \"1:0\"\r\n\r\n").unwrap();
    let (head, body) = read_response(&mut s, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && body.contains("logo.gif"), "another ETag: the file: {head}");
    h.stop();
}

#[test]
fn expect_100_continue_gets_its_interim_answer_before_the_final_one() {
    let h = start(BOX);
    let mut s = connect(h.listeners[0]);
    s.write_all(
        b"POST /portal/default.aspx HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let (interim, _) = read_response(&mut s, true);
    assert_eq!(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"x=1").unwrap();
    let (head, body) = read_response(&mut s, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && body.contains("2.0.50727"), "{head}{body}");
    // The connection goes on: the write side counted the interim answer apart.
    s.write_all(b"GET / HTTP/2.0\r\n\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert_http_sys(
        &String::from_utf8_lossy(&rest),
        "505 HTTP Version not supported",
        "HTTP Version Not Supported",
        false,
    );
    h.stop();
}

#[test]
fn http_sys_answers_after_parsing_are_logged_with_their_site() {
    let h = start(BOX);
    let addr = h.listeners[0];
    let stop = admin(
        &h,
        "POST",
        "/run",
        r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs SET W3SVC/AppPools/DefaultAppPool/AppPoolCommand 2",
    );
    assert!(stop.contains("exit 0"), "{stop}");
    let answer = exchange(addr, b"GET /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_http_sys(&answer, "503 Service Unavailable", "Service Unavailable", false);
    let log = admin(&h, "GET", "/httperr", "");
    let line = log.lines().find(|l| !l.starts_with('#')).unwrap_or_default();
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(&f[6..], ["HTTP/1.1", "GET", "/legacy/default.aspx", "503", "1", "Disabled", "DefaultAppPool"], "{log}");
    // The log is a file on the emulated disk: the administrator's cmd.exe lists and types it (HTTP-05).
    let dir = admin(&h, "POST", "/run", r"dir /b %windir%\system32\LogFiles\HTTPERR");
    assert!(dir.contains("| httperr1.log"), "{dir}");
    let typed = admin(&h, "POST", "/run", r"type %windir%\system32\LogFiles\HTTPERR\httperr1.log");
    assert!(typed.contains("| #Software: Microsoft HTTP API 1.0"), "{typed}");
    assert!(typed.contains(&format!("| {line}")), "{typed}");
    // A refusal on the wire after that reaches the file by the next command.
    exchange(addr, b"GET / HTTP/2.0\r\n\r\n");
    let typed = admin(&h, "POST", "/run", r"type %windir%\system32\LogFiles\HTTPERR\httperr1.log");
    assert!(typed.contains(" HTTP/2.0 GET / 505 - Version_N/S -"), "{typed}");
    h.stop();
}

/// A box of `edition` with one application of `runtime` at `/<app>` holding `file`.
fn one_app(title: &str, edition: &str, runtime: &str, app: &str, file: &str) -> String {
    format!(
        "title = \"{title}\"\nrules = []\n\n[machine]\nedition = \"{edition}\"\nruntimes = [\"{runtime}\"]\n\n\
         [[machine.app]]\npath = \"W3SVC/1/ROOT/{app}\"\nphysical_path = 'C:\\Sites\\{app}'\nruntime = \"{runtime}\"\n\
         files = [\"{file}\"]\n"
    )
}

/// An IIS 5.1 box: no HTTP.sys; inetinfo is lenient about versions and answers what it cannot
/// parse itself, as IIS (HTTP-01, HTTP-12, HTTP-14).
fn iis5() -> String {
    one_app("IIS 5.1 on the wire", "xp", "1.1", "legacy", "logo.gif")
}

#[test]
fn iis5_answers_bad_requests_itself_and_serves_other_versions_as_1_0() {
    let h = start(&iis5());
    let addr = h.listeners[0];
    for version in ["2.0", "1.2", "3.0"] {
        let answer = exchange(addr, format!("GET /legacy/logo.gif HTTP/{version}\r\n\r\n").as_bytes());
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{version}: {answer}");
        assert_eq!(header(&answer, "Connection"), Some("close"), "answered like HTTP/1.0: {answer}");
        assert_eq!(header(&answer, "Server"), Some("Microsoft-IIS/5.1"));
    }
    let cases: &[(&[u8], &str)] =
        &[(b"get / HTTP/1.0\r\n\r\n", "501 Not Implemented"), (b"GET / JUNK/1.0\r\n\r\n", "400 Bad Request")];
    for (req, status) in cases {
        let answer = exchange(addr, req);
        assert!(answer.starts_with(&format!("HTTP/1.1 {status}\r\n")), "{answer}");
        let (head, _) = answer.split_once("\r\n\r\n").unwrap();
        assert_eq!(
            names(&format!("{head}\r\n")),
            ["Server", "Content-Type", "Connection", "Date", "Content-Length"],
            "{answer}"
        );
    }
    // HTTP/0.9: a request line without a version is served, the body alone, then closed (HTTP-12).
    let answer = exchange(addr, b"GET /legacy/logo.gif\r\n");
    assert_eq!(answer, r"(contents of C:\Sites\legacy\logo.gif)", "no status line, no headers");
    let answer = exchange(addr, b"GET /legacy/missing.htm\r\n\r\n");
    assert!(answer.contains("The page cannot be found") && !answer.starts_with("HTTP/"), "{answer}");
    assert_eq!(admin(&h, "GET", "/httperr", ""), "", "no HTTP.sys, no httperr log");
    h.stop();
}

#[test]
fn a_head_that_does_not_arrive_in_header_wait_timeout_is_reset() {
    // W3SVC pushes HeaderWaitTimeout from /LM/W3SVC to HTTP.sys (HTTP-11); adsutil knows the
    // property (MD_HEADER_WAIT_TIMEOUT, 9204).
    let h = start(BOX);
    let set = admin(
        &h,
        "POST",
        "/run",
        r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs SET W3SVC/HeaderWaitTimeout 1",
    );
    assert!(set.contains("HeaderWaitTimeout               : (INTEGER) 1") && set.contains("exit 0"), "{set}");
    let mut s = connect(h.listeners[0]);
    s.write_all(b"GET /legacy/logo.gif HTTP/1.1\r\nHost: loc").unwrap();
    let started = Instant::now();
    assert_closed(&mut s);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let log = admin(&h, "GET", "/httperr", "");
    assert!(log.contains(" - - - - - Timer_HeaderWait -"), "{log}");
    h.stop();
}

/// Sends a request on `s` and reads its answer's status line.
fn status_of(s: &mut TcpStream, url: &str) -> String {
    s.write_all(format!("GET {url} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes()).unwrap();
    let (head, _) = read_response(s, false);
    head.lines().next().unwrap_or_default().to_string()
}

#[test]
fn a_site_at_its_max_connections_gets_http_sys_503_conn_limit() {
    let h = start(BOX);
    let addr = h.listeners[0];
    let set =
        admin(&h, "POST", "/run", r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs SET W3SVC/1/MaxConnections 2");
    assert!(set.contains("exit 0"), "{set}");
    // Two keep-alive connections take the site's two (HTTP-03).
    let mut first = connect(addr);
    let mut second = connect(addr);
    for s in [&mut first, &mut second] {
        assert_eq!(status_of(s, "/legacy/logo.gif"), "HTTP/1.1 200 OK");
        assert_eq!(status_of(s, "/legacy/logo.gif"), "HTTP/1.1 200 OK", "a counted connection goes on");
    }
    // A third: HTTP.sys's own 503, no worker, the connection closed.
    let answer = exchange(addr, b"GET /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_http_sys(&answer, "503 Service Unavailable", "Service Unavailable", false);
    // One ends: a new connection is taken again (the server sees the close asynchronously).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = connect(addr);
        let status = status_of(&mut s, "/legacy/logo.gif");
        if status == "HTTP/1.1 200 OK" {
            break;
        }
        assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
        assert!(Instant::now() < deadline, "the ended connection was never taken off the count");
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = admin(&h, "GET", "/httperr", "");
    let line = log.lines().find(|l| l.contains("ConnLimit")).unwrap_or_else(|| panic!("{log}"));
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(&f[6..], ["HTTP/1.1", "GET", "/legacy/default.aspx", "503", "1", "ConnLimit", "-"], "{log}");
    assert!(admin(&h, "GET", "/transcript", "").contains("503 ConnLimit [HTTP-01, HTTP-03]"));
    drop(second);
    h.stop();
}

/// Raises this process's soft limit of open descriptors to `need` when the hard limit allows;
/// panics saying what to run when it does not.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 here, not on every unix.
fn descriptors_at_least(need: u64) {
    let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `l` is a valid rlimit for getrlimit to write and setrlimit to read.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) };
    assert_eq!(got, 0, "getrlimit: {}", std::io::Error::last_os_error());
    if (l.rlim_cur as u64) >= need {
        return;
    }
    let hard = l.rlim_max as u64;
    assert!(
        hard >= need,
        "this test holds {need} descriptors and the hard limit is {hard}: raise it (`ulimit -Hn {need}` as root) and run again"
    );
    l.rlim_cur = need as libc::rlim_t;
    // SAFETY: as above.
    let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) };
    assert_eq!(set, 0, "setrlimit to {need}: {}", std::io::Error::last_os_error());
}

#[cfg(not(unix))]
fn descriptors_at_least(_need: u64) {}

#[test]
fn past_the_registry_max_connections_http_sys_accepts_no_connection() {
    // Both ends of 1,025 connections live in this process: more than a default soft limit of
    // 1,024 descriptors allows.
    descriptors_at_least(2_200);
    // The smallest MaxConnections HTTP\Parameters takes is 1024 (HTTP-09).
    let h = serving::start_edited(BOX, &[80], |m| {
        m.reg_set(http::wire::HTTP_PARAMETERS, "MaxConnections", "1024", &[]);
    });
    let addr = h.listeners[0];
    let mut open: Vec<TcpStream> = (0..1024).map(|_| connect(addr)).collect();
    assert_eq!(status_of(&mut open[0], "/legacy/logo.gif"), "HTTP/1.1 200 OK");
    assert_eq!(status_of(&mut open[1023], "/legacy/logo.gif"), "HTTP/1.1 200 OK", "the 1024th is accepted");
    // The 1025th is reset without a byte.
    let mut refused = connect(addr);
    let _ = refused.write_all(b"GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let mut got = Vec::new();
    match refused.read_to_end(&mut got) {
        Ok(_) => assert!(got.is_empty(), "nothing is sent: {}", String::from_utf8_lossy(&got)),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    // One closes: the next connection is accepted once the server has seen it go.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = connect(addr);
        if s.write_all(b"GET /legacy/logo.gif HTTP/1.1\r\nHost: localhost\r\n\r\n").is_ok() {
            let mut line = [0u8; 15];
            if s.read_exact(&mut line).is_ok() {
                assert_eq!(&line, b"HTTP/1.1 200 OK");
                break;
            }
        }
        assert!(Instant::now() < deadline, "the closed connection was never taken off the count");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(admin(&h, "GET", "/transcript", "").contains("[HTTP-09]"));
    assert!(admin(&h, "GET", "/httperr", "").is_empty(), "HTTP.sys 1.0 logs no refused connection");
    drop(open);
    h.stop();
}

#[test]
fn a_client_that_closes_before_its_answer_is_logged_connection_dropped() {
    let h = start(BOX);
    let mut s = connect(h.listeners[0]);
    // Half the body, then the client closes: no answer can be complete (HTTP-08).
    s.write_all(b"POST /portal/default.aspx HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nx=1").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_closed(&mut s);
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let log = admin(&h, "GET", "/httperr", "");
        if let Some(l) = log.lines().find(|l| l.contains("Connection_Dropped")) {
            break l.to_string();
        }
        assert!(Instant::now() < deadline, "no Connection_Dropped line: {log}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(&f[6..], ["HTTP/1.1", "POST", "/portal/default.aspx", "-", "-", "Connection_Dropped", "-"], "{line}");
    // A client that closes after its answers dropped nothing.
    let mut s = connect(h.listeners[0]);
    assert_eq!(status_of(&mut s, "/legacy/logo.gif"), "HTTP/1.1 200 OK");
    drop(s);
    std::thread::sleep(Duration::from_millis(100));
    let log = admin(&h, "GET", "/httperr", "");
    assert_eq!(log.matches("Connection_Dropped").count(), 1, "{log}");
    h.stop();
}

#[test]
fn a_static_default_document_names_itself_in_content_location() {
    let h = start(&one_app("a static default document", "2003", "2.0", "docs", "index.htm"));
    let mut s = connect(h.listeners[0]);
    s.write_all(b"GET /docs/ HTTP/1.1\r\nHost: www.example.com\r\n\r\n").unwrap();
    let (head, _) = read_response(&mut s, false);
    assert_eq!(header(&head, "Content-Location"), Some("http://www.example.com/docs/index.htm"), "{head}");
    // HTTP-22: between Content-Type and Last-Modified.
    assert_eq!(
        names(&head),
        [
            "Content-Length",
            "Content-Type",
            "Content-Location",
            "Last-Modified",
            "Accept-Ranges",
            "ETag",
            "Server",
            "X-Powered-By",
            "Date"
        ],
        "{head}"
    );
    h.stop();
}

#[test]
fn pipelined_requests_each_read_their_own_headers() {
    // HTTP.sys's copy of each head's headers reaches the request it belongs to, whether hyper read
    // the head whole (a header name the one-pass check leaves to the full checks, a body) or not.
    let h = start(BOX);
    let addr = h.listeners[0];
    let mut s = connect(addr);
    let pipelined = "GET /legacy HTTP/1.1\r\nHost: one\r\n\r\n\
        GET /legacy HTTP/1.1\r\nHost: two\r\nX_Odd: 1\r\n\r\n\
        POST /portal/default.aspx HTTP/1.1\r\nHost: three\r\nContent-Length: 3\r\n\r\nx=1\
        GET /legacy HTTP/1.1\r\nHost: four\r\n\r\n\
        GET /legacy HTTP/1.0\r\nHost: five\r\nConnection: Keep-Alive\r\n\r\n";
    s.write_all(pipelined.as_bytes()).unwrap();
    for host in ["one", "two", "", "four", "five"] {
        let (head, body) = read_response(&mut s, false);
        if host.is_empty() {
            assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && body.contains("2.0.50727"), "{head}{body}");
            continue;
        }
        // The courtesy redirect names the host the request gave (REQ-08).
        assert!(head.starts_with("HTTP/1.1 301 "), "{host}: {head}");
        assert_eq!(header(&head, "Location"), Some(format!("http://{host}/legacy/").as_str()), "{head}");
    }
    h.stop();
}
