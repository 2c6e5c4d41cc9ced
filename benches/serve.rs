//! A whole request through the process model on a warm worker (`serve/process_model`) next to
//! its resolution alone (`serve/resolve`), on the same machine and URL, in one run.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use iisim::dispatch::{resolve, Request, View};
use iisim::process::{self, Load, World};

const BOX: &str = r#"
title = "bench box"
rules = []
[machine]
edition = "2003"
runtimes = ["1.1", "2.0"]
[[machine.app]]
path = "W3SVC/1/ROOT/shop"
physical_path = 'C:\Sites\shop'
runtime = "2.0"
files = ["Default.aspx", "logo.gif"]
"#;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box.toml");
    std::fs::write(&path, BOX).unwrap();
    let (_, m, _) = iisim::scenario::load(&path).unwrap().run_to_end();
    let req = Request::get("/shop/Default.aspx");
    let view = View::compile(&m);
    // A warm w3wp.exe: the CLR loaded, the AppDomain up, alice's InProc session kept.
    let mut w = World::default();
    process::boot(&m, &mut w);
    let load = Load { client: Some("alice".into()), ..Default::default() };
    process::serve(&m, &mut w, &req, &load);
    w.drain_effects();
    let mut g = c.benchmark_group("serve");
    g.bench_function("resolve", |b| b.iter(|| resolve(black_box(&view), black_box(&req))));
    g.bench_function("process_model", |b| {
        b.iter(|| {
            let s = process::serve(black_box(&m), black_box(&mut w), black_box(&req), &load);
            w.drain_effects();
            s
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
