//! Loops a warm-worker request through the process model (the serve bench's box, URL and client)
//! for `perf record` and `valgrind --tool=callgrind`, or its resolution alone, as
//! `serve/process_model` and `serve/resolve` time them.
//!
//! `cargo run --release --example serve_profile [ROUNDS] [serve|served|resolve|explain]`: `serve` is
//! the compact answer (`serve/process_model`), `served` the owned reply built (`serve_with`).

use std::hint::black_box;
use std::time::Instant;

use iisim::dispatch::{resolve_fast, Decision, Discard};
use iisim::process;

#[path = "../tests/common/warm_worker.rs"]
mod warm_worker;

fn main() {
    let rounds = std::env::args().nth(1).and_then(|a| a.parse::<usize>().ok()).unwrap_or(1_000_000);
    let which = std::env::args().nth(2).unwrap_or_else(|| "serve".into());
    let (m, view, mut w, req, load) = warm_worker::warm_worker();
    let t = Instant::now();
    let mut sum = 0u64;
    for _ in 0..rounds {
        sum += u64::from(match which.as_str() {
            "resolve" => resolve_fast(black_box(&view), black_box(&req)).status(),
            "explain" => {
                let s = process::serve_with::<Vec<Decision>>(black_box(&m), black_box(&mut w), black_box(&req), &load);
                w.drain_effects();
                s.reply.status
            }
            "served" => {
                let s = process::serve_with::<Discard>(black_box(&m), black_box(&mut w), black_box(&req), &load);
                w.drain_effects();
                s.reply.status
            }
            _ => {
                let status = process::with_view(&m, &mut w, |w, v| {
                    process::answer::<Discard>(black_box(&m), black_box(w), v, black_box(&req), &load).status()
                });
                w.drain_effects();
                status
            }
        });
    }
    println!("{which}: {:.1} ns per request ({sum})", t.elapsed().as_secs_f64() * 1e9 / rounds as f64);
}
