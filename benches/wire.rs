//! What HTTP.sys's layer in front of hyper costs per request: `conn::inspect` on a browser's
//! request head next to a bare `httparse` parse of the same bytes (what hyper does anyway), and
//! `conn::fix_head` on an ASP.NET response head; and requests per second of a bare hyper server
//! answering a fixed body, without and with `conn::Conn` in front of it (`wire/hyper`,
//! `wire/hyper_httpsys`), one client loop over 2 keep-alive connections in one run.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use iisim::http::conn::{fix_head, inspect, Conn, Inspected, Peer};
use iisim::http::wire::Limits;
use iisim::http::Shared;

const CONNECTIONS: usize = 2;
const PER_CONNECTION: usize = 500;

const REQUEST: &[u8] = b"GET /shop/Default.aspx?id=42 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (Windows NT 5.1; rv:1.8.1) Gecko/20061010 Firefox/2.0\r\n\
Accept: text/xml,application/xml,application/xhtml+xml,text/html;q=0.9,text/plain;q=0.8,*/*;q=0.5\r\n\
Accept-Language: en-us,en;q=0.5\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 300\r\n\
Connection: keep-alive\r\n\
Cookie: ASP.NET_SessionId=m4114szalpjbj2fw5wmjgu0m\r\n\r\n";

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 115\r\nserver: Microsoft-IIS/6.0\r\n\
x-powered-by: ASP.NET\r\nx-aspnet-version: 2.0.50727\r\ncache-control: private\r\n\
content-type: text/html; charset=utf-8\r\ndate: Tue, 01 Dec 2026 17:02:20 GMT\r\n\r\n";

/// A hyper server answering a fixed body, with HTTP.sys's layer in front when `httpsys`.
fn fixed_body(httpsys: bool) -> (SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let addr = l.local_addr().unwrap();
    let m = iisim::machine::Machine::new(iisim::machine::MachineConfig::new(iisim::edition::Edition::Win2003));
    let shared = Arc::new(Shared::new(m, iisim::process::World::default()));
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(l).unwrap();
        loop {
            let Ok((s, client)) = l.accept().await else { continue };
            let _ = s.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|_req| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"<html>fixed</html>"))))
                });
                let b = hyper::server::conn::http1::Builder::new();
                if httpsys {
                    let io = Conn::new(s, Peer { shared, client, port: 80 }, Limits::default());
                    let _ = b.serve_connection(TokioIo::new(io), svc).await;
                } else {
                    let _ = b.serve_connection(TokioIo::new(s), svc).await;
                }
            });
        }
    });
    (addr, rt)
}

/// Sends `PER_CONNECTION` requests on each of `CONNECTIONS` connections, one after another; every
/// answer has the length of the first.
fn drive(addr: SocketAddr) {
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                let mut answer = vec![0u8; 4096];
                let mut size = 0;
                for _ in 0..PER_CONNECTION {
                    s.write_all(REQUEST).unwrap();
                    if size == 0 {
                        // The first answer arrives whole: a short head and body in one segment.
                        size = s.read(&mut answer).unwrap();
                        assert!(answer.starts_with(b"HTTP/1.1 200 OK"));
                    } else {
                        s.read_exact(&mut answer[..size]).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let l = Limits::default();
    assert!(matches!(inspect(REQUEST, &l), Inspected::Pass(_)));
    let mut g = c.benchmark_group("wire");
    g.bench_function("inspect", |b| b.iter(|| inspect(std::hint::black_box(REQUEST), &l)));
    // As hyper parses a request head: uninitialised room for 100 headers.
    g.bench_function("httparse", |b| {
        let config = httparse::ParserConfig::default();
        b.iter(|| {
            let mut headers = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; 100];
            let mut req = httparse::Request::new(&mut []);
            config
                .parse_request_with_uninit_headers(&mut req, std::hint::black_box(REQUEST), &mut headers)
                .map(|s| s.is_complete())
                .unwrap_or(false)
        })
    });
    g.bench_function("fix_head", |b| {
        let mut head = RESPONSE.to_vec();
        b.iter(|| {
            head.copy_from_slice(RESPONSE);
            fix_head(std::hint::black_box(&mut head))
        })
    });
    g.finish();
    let (bare, _rt1) = fixed_body(false);
    let (front, _rt2) = fixed_body(true);
    let mut g = c.benchmark_group("wire");
    g.throughput(Throughput::Elements((CONNECTIONS * PER_CONNECTION) as u64));
    g.sample_size(20);
    g.bench_function("hyper", |b| b.iter(|| drive(bare)));
    g.bench_function("hyper_httpsys", |b| b.iter(|| drive(front)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
