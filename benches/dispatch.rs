//! Request dispatch next to the best Rust router, on the same shared-hosting table, in one run.
//!
//! The table: one site, one virtual directory per customer with its own folder
//! (`/SiteN` -> `D:\Sites\SiteN`), ten applications in each (`/SiteN/AppK`, with a `Default.aspx`).
//! URLs are written in mixed case, as clients send them. IDs:
//!
//! - `dispatch/iisim/<apps>/<fixed|random>`: [`resolve_fast`], the hot path, from the request as
//!   sent to the ISAPI chosen (canonicalisation, binding, key, maps, permissions, lockdown).
//! - `dispatch/matchit/<apps>/<fixed|random>`: matchit on the same applications, given the path
//!   lower-cased (IIS compares without regard to case); the lower-casing is timed.
//! - `dispatch/compile/<apps>`: [`View::compile`] of the whole machine.
//! - `dispatch/change/<apps>`: one application key's AccessFlags set (as `adsutil SET` does), then
//!   the next request's view ([`View::update`] of the view before, which patches that key) and
//!   its resolution.
//! - `dispatch/explain/<apps>`: [`resolve`] with every decision's text, as transcripts get it.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

use std::sync::Arc;

use iisim::dispatch::{resolve, resolve_fast, FastOutcome, Request, View};
use iisim::metabase::Value;

#[path = "../tests/common/hosting.rs"]
mod hosting;
use hosting::hosting;
#[path = "../tests/common/urls.rs"]
mod urls;
use urls::{mixed_case, url_of, Rng};

/// How many distinct URLs the `random` benchmarks cycle through.
const URLS: usize = 4096;

fn matchit_router(apps: usize) -> matchit::Router<usize> {
    let mut r = matchit::Router::new();
    for app in 0..apps {
        r.insert(format!("/site{}/app{}/{{*rest}}", app / 10, app % 10), app).expect("routes do not conflict");
    }
    r
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dispatch");
    for apps in [10usize, 1_000, 100_000] {
        let mut m = hosting(apps, &["Default.aspx"]);
        if apps <= 1_000 {
            g.bench_function(BenchmarkId::new("compile", apps), |b| b.iter(|| View::compile(black_box(&m))));
        }
        let view = View::compile(&m);
        let app = apps / 2;
        let key = format!("/LM/W3SVC/1/ROOT/Site{}/App{}", app / 10, app % 10);
        let req = Request::get(&url_of(app));
        let mut current = Arc::new(view.clone());
        let mut flip = false;
        g.bench_function(BenchmarkId::new("change", apps), |b| {
            b.iter(|| {
                // Script and Read, or Read alone: ASP.NET runs, or 403.1 (REQ-11).
                flip = !flip;
                let flags = if flip { 1 } else { 513 };
                m.mb_set(&key, "AccessFlags", Value::Dword(flags), &[]).expect("the key exists");
                m.drain_effects();
                current = View::update(&current, &m);
                resolve_fast(&current, black_box(&req)).status()
            })
        });
        drop((m, current));
        let router = matchit_router(apps);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ apps as u64);
        let fixed = mixed_case(&mut rng, &url_of(apps * 7 / 10));
        let random: Vec<String> = (0..URLS)
            .map(|_| {
                let app = rng.below(apps);
                mixed_case(&mut rng, &url_of(app))
            })
            .collect();

        // Every URL must reach ASP.NET, and matchit must find the same application.
        for url in random.iter().chain([&fixed]) {
            let req = Request::get(url);
            let fast = resolve_fast(&view, &req);
            assert!(matches!(fast.outcome, FastOutcome::Isapi { .. }), "{url}: {:?}", fast.outcome);
            let app = router.at(&url.to_ascii_lowercase()).expect("matchit routes it").value;
            let target = fast.target.expect("a target");
            assert!(target
                .key
                .path
                .eq_ignore_ascii_case(&format!("/LM/W3SVC/1/ROOT{}", &url_of(*app)[..url_of(*app).len() - 13])));
        }

        let req = Request::get(&fixed);
        g.bench_function(BenchmarkId::new(format!("iisim/{apps}"), "fixed"), |b| {
            b.iter(|| resolve_fast(black_box(&view), black_box(&req)).status())
        });
        g.bench_function(BenchmarkId::new(format!("matchit/{apps}"), "fixed"), |b| {
            b.iter(|| router.at(&black_box(&fixed).to_ascii_lowercase()).map(|m| *m.value).ok())
        });
        let reqs: Vec<Request> = random.iter().map(|u| Request::get(u)).collect();
        let mut i = 0;
        g.bench_function(BenchmarkId::new(format!("iisim/{apps}"), "random"), |b| {
            b.iter(|| {
                i = (i + 1) % URLS;
                resolve_fast(black_box(&view), black_box(&reqs[i])).status()
            })
        });
        let mut i = 0;
        g.bench_function(BenchmarkId::new(format!("matchit/{apps}"), "random"), |b| {
            b.iter(|| {
                i = (i + 1) % URLS;
                router.at(&black_box(&random[i]).to_ascii_lowercase()).map(|m| *m.value).ok()
            })
        });
        if apps == 10 {
            g.bench_function(BenchmarkId::new("explain", apps), |b| {
                b.iter(|| resolve(black_box(&view), black_box(&req)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
