//! The http bench's client loop run alternately against `iisim serve` and bare hyper:
//! `http_pairs [PAIRS [PER_CONNECTION]]` (default 200 pairs of the bench's 250 requests a
//! connection) times PAIRS runs of each, interleaved (the order swapped every pair), and prints
//! both medians and their ratio. Criterion measures one ID after the other, so a machine whose
//! speed drifts between them (a shared VM) moves `benches/http.rs`'s ratio; alternating puts
//! both servers under the same drift.

use std::time::Instant;

#[path = "../tests/common/http_drive.rs"]
mod http_drive;
use http_drive::{drive, Servers, CONNECTIONS, PER_CONNECTION};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The median of `v`, sorting it.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let count = |i: usize, default: usize| match std::env::args().nth(i).map(|a| a.parse::<usize>()) {
        None => default,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!(
                "usage: http_pairs [PAIRS [PER_CONNECTION]]   (positive counts; default 200 and {PER_CONNECTION})"
            );
            std::process::exit(2);
        }
    };
    let (pairs, per) = (count(1, 200), count(2, PER_CONNECTION));
    let servers = Servers::start();
    // One warm-up run each, as criterion's warm-up would.
    drive(servers.iisim, per);
    drive(servers.hyper, per);
    let time = |addr| {
        let t = Instant::now();
        drive(addr, per);
        t.elapsed().as_secs_f64()
    };
    let (mut iisim, mut hyper) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for i in 0..pairs {
        if i % 2 == 0 {
            iisim.push(time(servers.iisim));
            hyper.push(time(servers.hyper));
        } else {
            hyper.push(time(servers.hyper));
            iisim.push(time(servers.iisim));
        }
    }
    let mut ratios: Vec<f64> = hyper.iter().zip(&iisim).map(|(h, i)| h / i).collect();
    let (mi, mh) = (median(&mut iisim), median(&mut hyper));
    let requests = (CONNECTIONS * per) as f64;
    println!(
        "{pairs} pairs of {CONNECTIONS} x {per} requests: iisim {:.2} ms ({:.0} req/s), hyper {:.2} ms ({:.0} req/s); \
         iisim at {:.1}% of hyper (median of the pairs' ratios {:.1}%)",
        mi * 1e3,
        requests / mi,
        mh * 1e3,
        requests / mh,
        mh / mi * 100.0,
        median(&mut ratios) * 100.0
    );
    servers.stop();
}
