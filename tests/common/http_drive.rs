//! The http bench's two servers and its client loop, shared by `benches/http.rs` and
//! `examples/http_pairs.rs` so both drive the same servers the same way: `iisim serve` on the
//! bench box and a bare hyper server answering a fixed body, each on a multi-threaded runtime,
//! and 4 keep-alive loopback connections of 250 requests each. The client reads responses as a
//! load tool does (one buffer per connection, each head parsed in place by httparse), so that the
//! loop's own cost per header line does not count against the server that sends more of them.

use std::io::{Read, Write};
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

/// One connection's inbound bytes: `buf[at..end]` are read and not yet taken.
struct Inbound {
    stream: TcpStream,
    buf: Vec<u8>,
    at: usize,
    end: usize,
}

impl Inbound {
    /// Reads one response with a Content-Length body, as a load tool does (one buffer, the head
    /// parsed in place); returns its status code and the session cookie it sets, if any.
    fn response(&mut self) -> (u16, Option<String>) {
        loop {
            let window = &self.buf[self.at..self.end];
            if let Some(head) = memchr::memmem::find(window, b"\r\n\r\n").map(|i| i + 4) {
                let mut headers = [httparse::EMPTY_HEADER; 16];
                let mut parsed = httparse::Response::new(&mut headers);
                parsed.parse(&window[..head]).unwrap();
                let status = parsed.code.unwrap_or(0);
                let mut length = 0usize;
                let mut cookie = None;
                for h in parsed.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        length = std::str::from_utf8(h.value).unwrap().trim().parse().unwrap();
                    } else if h.name.eq_ignore_ascii_case("set-cookie") {
                        let v = std::str::from_utf8(h.value).unwrap();
                        cookie = v.split(';').next().map(|c| c.trim().to_string());
                    }
                }
                if window.len() >= head + length {
                    self.at += head + length;
                    return (status, cookie);
                }
            }
            self.read_more();
        }
    }

    /// Reads what the socket has, making room first.
    fn read_more(&mut self) {
        if self.at == self.end {
            (self.at, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.at..self.end, 0);
            (self.at, self.end) = (0, self.end - self.at);
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..]).unwrap();
        assert!(n > 0, "the server closed the connection");
        self.end += n;
    }
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
                let mut r = Inbound { stream: s, buf: vec![0; 4096], at: 0, end: 0 };
                let mut request = format!("GET {URL} HTTP/1.1\r\nHost: localhost\r\n\r\n");
                for _ in 0..per_connection {
                    w.write_all(request.as_bytes()).unwrap();
                    let (status, cookie) = r.response();
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
