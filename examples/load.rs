//! A bounded keep-alive load against a running `iisim serve`: `load ADDR URL CONNECTIONS REQUESTS`
//! sends REQUESTS requests on each of CONNECTIONS connections, each keeping the session cookie it
//! is given (unless a fifth argument `--no-cookies` says otherwise), and prints the statuses it saw
//! and the rate.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, url, conns, per, keep) = match args.as_slice() {
        [a, u, c, p] => (a, u, c, p, true),
        [a, u, c, p, flag] if flag == "--no-cookies" => (a, u, c, p, false),
        _ => {
            eprintln!("usage: load ADDR URL CONNECTIONS REQUESTS_PER_CONNECTION [--no-cookies]");
            std::process::exit(2);
        }
    };
    let conns: usize = conns.parse().expect("CONNECTIONS");
    let per: usize = per.parse().expect("REQUESTS_PER_CONNECTION");
    let started = Instant::now();
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (addr, url) = (addr.clone(), url.clone());
            std::thread::spawn(move || {
                let s = TcpStream::connect(&addr).expect("connect");
                s.set_nodelay(true).ok();
                let mut w = s.try_clone().expect("clone");
                let mut r = BufReader::new(s);
                let mut request = format!("GET {url} HTTP/1.1\r\nHost: localhost\r\n\r\n");
                let mut seen = BTreeMap::new();
                let mut line = String::new();
                for _ in 0..per {
                    w.write_all(request.as_bytes()).expect("write");
                    line.clear();
                    r.read_line(&mut line).expect("status line");
                    let status = line.split(' ').nth(1).unwrap_or("?").to_string();
                    let mut length = 0usize;
                    loop {
                        line.clear();
                        r.read_line(&mut line).expect("header");
                        if line == "\r\n" || line.is_empty() {
                            break;
                        }
                        let Some((k, v)) = line.split_once(':') else { continue };
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        } else if keep && k.eq_ignore_ascii_case("set-cookie") {
                            let c = v.trim().split(';').next().unwrap_or("").to_string();
                            request = format!("GET {url} HTTP/1.1\r\nHost: localhost\r\nCookie: {c}\r\n\r\n");
                        }
                    }
                    let mut body = vec![0u8; length];
                    r.read_exact(&mut body).expect("body");
                    *seen.entry(status).or_insert(0usize) += 1;
                }
                seen
            })
        })
        .collect();
    let mut total: BTreeMap<String, usize> = BTreeMap::new();
    for t in threads {
        for (k, v) in t.join().expect("client thread") {
            *total.entry(k).or_default() += v;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let n: usize = total.values().sum();
    println!("{n} requests in {secs:.1} s ({:.0}/s), statuses {total:?}", n as f64 / secs);
}
