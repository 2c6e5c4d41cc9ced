//! Requests per second of `iisim serve` next to a bare hyper server answering a fixed body, both
//! driven by the same client loop: 4 keep-alive loopback connections, 250 requests each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iisim::http::{self, Listen, Options, Shared};

#[path = "../tests/common/bare_hyper.rs"]
mod bare;

// The allocator `iisim serve` runs with (emulator/main.rs), for both servers alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONNECTIONS: usize = 4;
const PER_CONNECTION: usize = 250;

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

/// The client loop: every connection sends its requests one after another, keep-alive, and
/// keeps the session cookie it is given, as a browser does.
fn drive(addr: SocketAddr, url: &'static str) {
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            std::thread::spawn(move || {
                let s = TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                let mut request = format!("GET {url} HTTP/1.1\r\nHost: localhost\r\n\r\n");
                for _ in 0..PER_CONNECTION {
                    w.write_all(request.as_bytes()).unwrap();
                    let (status, cookie) = read_response(&mut r);
                    assert_eq!(status, 200);
                    if let Some(c) = cookie {
                        request = format!("GET {url} HTTP/1.1\r\nHost: localhost\r\nCookie: {c}\r\n\r\n");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// A bare hyper server on the same kind of runtime, answering a fixed body.
fn bare_hyper() -> (SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let addr = l.local_addr().unwrap();
    rt.spawn(async move { bare::serve(tokio::net::TcpListener::from_std(l).unwrap()).await });
    (addr, rt)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box.toml");
    std::fs::write(&path, BOX).unwrap();
    let (_, m, w) = iisim::scenario::load(&path).unwrap().run_to_end();
    let opts =
        Options { listen: vec![Listen { addr: "127.0.0.1:0".parse().unwrap(), port: 80 }], admin: None, ctrl_c: false };
    let iisim_server = http::start(Arc::new(Shared::new(m, w)), &opts).unwrap();
    let iisim_addr = iisim_server.listeners[0];
    let (hyper_addr, _rt) = bare_hyper();
    const URL: &str = "/shop/default.aspx";
    let mut g = c.benchmark_group("http");
    g.throughput(Throughput::Elements((CONNECTIONS * PER_CONNECTION) as u64));
    g.sample_size(20);
    g.bench_function("iisim", |b| b.iter(|| drive(iisim_addr, URL)));
    g.bench_function("hyper", |b| b.iter(|| drive(hyper_addr, URL)));
    g.finish();
    iisim_server.stop();
}

criterion_group!(benches, bench);
criterion_main!(benches);
