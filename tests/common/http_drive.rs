//! The http bench's two servers and its client loop, shared by `benches/http.rs` and
//! `examples/http_pairs.rs` so both drive the same servers the same way: `iisim serve` on the
//! bench box and a bare hyper server answering a fixed body, each on a multi-threaded runtime,
//! and 4 keep-alive loopback connections of 250 requests each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use iisim::http::{self, Listen, Options, Shared};

#[path = "bare_hyper.rs"]
mod bare;

/// Connections each run opens at once.
pub const CONNECTIONS: usize = 4;
/// Requests each connection sends, one after another.
pub const PER_CONNECTION: usize = 250;
/// The URL every request asks for.
pub const URL: &str = "/shop/default.aspx";

const BOX: &str = r#"
title = "bench box"
rules = []
[machine]
edition = "2003"
runtimes = ["1.1"]
[[machine.app]]
path = "W3SVC/1/ROOT/shop"
physical_path = 'C:\Sites\shop'
files = ["default.aspx", "logo.gif"]
"#;

/// Reads one response with a Content-Length body; returns its status code and the session
/// cookie it sets, if any.
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, Option<String>) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0usize;
    let mut cookie = None;
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            if k.eq_ignore_ascii_case("set-cookie") {
                cookie = v.trim().split(';').next().map(str::to_string);
            }
        }
    }
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).unwrap();
    (status, cookie)
}

/// The client loop: every connection sends `per_connection` requests one after another,
/// keep-alive, and keeps the session cookie it is given, as a browser does.
pub fn drive(addr: SocketAddr, per_connection: usize) {
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            std::thread::spawn(move || {
                let s = TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                let mut request = format!("GET {URL} HTTP/1.1\r\nHost: localhost\r\n\r\n");
                for _ in 0..per_connection {
                    w.write_all(request.as_bytes()).unwrap();
                    let (status, cookie) = read_response(&mut r);
                    assert_eq!(status, 200);
                    if let Some(c) = cookie {
                        request = format!("GET {URL} HTTP/1.1\r\nHost: localhost\r\nCookie: {c}\r\n\r\n");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Both servers, running: `iisim serve` on the bench box and bare hyper, on 127.0.0.1:0.
pub struct Servers {
    /// Where `iisim serve` listens.
    pub iisim: SocketAddr,
    /// Where bare hyper listens.
    pub hyper: SocketAddr,
    iisim_server: http::Handle,
    _hyper_rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Servers {
    /// Starts both servers.
    pub fn start() -> Servers {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box.toml");
        std::fs::write(&path, BOX).unwrap();
        let (_, m, w) = iisim::scenario::load(&path).unwrap().run_to_end();
        let opts = Options {
            listen: vec![Listen { addr: "127.0.0.1:0".parse().unwrap(), port: 80 }],
            admin: None,
            ctrl_c: false,
        };
        let iisim_server = http::start(Arc::new(Shared::new(m, w)), &opts).unwrap();
        let iisim = iisim_server.listeners[0];
        // A bare hyper server on the same kind of runtime, answering a fixed body.
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let hyper = l.local_addr().unwrap();
        rt.spawn(async move { bare::serve(tokio::net::TcpListener::from_std(l).unwrap()).await });
        Servers { iisim, hyper, iisim_server, _hyper_rt: rt, _dir: dir }
    }

    /// Stops `iisim serve` (bare hyper ends with its runtime).
    pub fn stop(self) {
        self.iisim_server.stop();
    }
}
