//! Loops the hot path over the dispatch benchmark's table and URLs, for `perf record` and
//! `valgrind --tool=callgrind` (criterion's own loop hides the hot path among its statistics),
//! then matchit on the same URLs, lower-cased, as the benchmark times it.
//!
//! `cargo run --release --example dispatch_profile [APPS] [ROUNDS] [iisim|matchit|both] [random|fixed]`
//!
//! `fixed` sends the benchmark's one fixed URL (application `APPS * 7 / 10`, mixed case as the
//! benchmark writes it) 4,096 times a round instead of 4,096 different ones.

use std::hint::black_box;
use std::time::Instant;

use iisim::dispatch::{resolve_fast, Request, View};

#[path = "../tests/common/hosting.rs"]
mod hosting;
use hosting::hosting;
#[path = "../tests/common/urls.rs"]
mod urls;
use urls::{mixed_case, url_of, Rng};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let apps = args.next().flatten().unwrap_or(10);
    let rounds = args.next().flatten().unwrap_or(2_000);
    let which = std::env::args().nth(3).unwrap_or_else(|| "both".into());
    let fixed = std::env::args().nth(4).is_some_and(|k| k == "fixed");
    let view = View::compile(&hosting(apps, &["Default.aspx"]));
    let mut router = matchit::Router::new();
    for app in 0..apps {
        router.insert(format!("/site{}/app{}/{{*rest}}", app / 10, app % 10), app).expect("routes do not conflict");
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ apps as u64);
    // The benchmark draws its fixed URL first, from the same generator.
    let one = mixed_case(&mut rng, &url_of(apps * 7 / 10));
    let urls: Vec<String> = (0..4096)
        .map(|_| {
            if fixed {
                return one.clone();
            }
            let app = rng.below(apps);
            mixed_case(&mut rng, &url_of(app))
        })
        .collect();
    let reqs: Vec<Request> = urls.iter().map(|u| Request::get(u)).collect();
    // The benchmark's fixed URL is one request sent again and again, not 4,096 equal copies.
    let reqs: Vec<&Request> = if fixed { vec![&reqs[0]; reqs.len()] } else { reqs.iter().collect() };
    let n = (rounds * reqs.len()) as f64;
    if which != "matchit" {
        let t = Instant::now();
        let mut sum = 0u64;
        for _ in 0..rounds {
            for &r in &reqs {
                sum += u64::from(resolve_fast(black_box(&view), black_box(r)).status());
            }
        }
        println!("{apps} apps, iisim: {:.1} ns per request ({sum})", t.elapsed().as_secs_f64() * 1e9 / n);
    }
    if which != "iisim" {
        let t = Instant::now();
        let mut sum = 0usize;
        for _ in 0..rounds {
            for u in &urls {
                sum += router.at(&black_box(u).to_ascii_lowercase()).map_or(0, |m| *m.value);
            }
        }
        println!("{apps} apps, matchit: {:.1} ns per request ({sum})", t.elapsed().as_secs_f64() * 1e9 / n);
    }
}
