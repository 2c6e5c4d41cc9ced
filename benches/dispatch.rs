//! Request resolution on a site with twenty applications, and compiling its view.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use iisim::dispatch::{resolve, Request, View};
use iisim::edition::Edition;
use iisim::machine::{Machine, MachineConfig};
use iisim::runtime::Version;
use iisim::setup::{self, Product};
use iisim::sites::{self, AppSpec};

fn machine() -> Machine {
    let mut m = Machine::new(MachineConfig::new(Edition::Win2003));
    setup::install(&mut m, &mut iisim::process::World::default(), Product::Runtime(Version::V1_1), true);
    setup::install(&mut m, &mut iisim::process::World::default(), Product::Runtime(Version::V2_0), true);
    for i in 0..20 {
        let path = format!("/LM/W3SVC/1/ROOT/app{i}");
        let spec = AppSpec { path: path.clone(), application: true, ..Default::default() };
        sites::create_app(&mut m, &spec).expect("parent exists");
        let dir = format!("C:\\Inetpub\\wwwroot\\app{i}");
        m.fs_create_files(&dir, &["Default.aspx", "page.htm", "img\\logo.gif"], &[]);
        let sub = AppSpec { path: format!("{path}/img"), ..Default::default() };
        sites::create_app(&mut m, &sub).expect("parent exists");
    }
    m
}

fn bench(c: &mut Criterion) {
    let m = machine();
    c.bench_function("compile the view, 20 applications", |b| b.iter(|| View::compile(black_box(&m))));
    let view = View::compile(&m);
    for url in ["/app13/Default.aspx", "/app7/img/logo.gif", "/app19/", "/app3/x.aspx/more/path?q=1", "/app11"] {
        let req = Request::get(url);
        c.bench_function(&format!("resolve {url}"), |b| b.iter(|| resolve(black_box(&view), black_box(&req))));
    }
    // The whole path a request takes: cached view, resolution, the worker, CLR check, AppDomain
    // and session, on a warm w3wp.exe.
    let mut warm = iisim::process::World::default();
    iisim::process::boot(&m, &mut warm);
    let load = iisim::process::Load { client: Some("alice".into()), ..Default::default() };
    let req = Request::get("/app13/Default.aspx");
    iisim::process::serve(&m, &mut warm, &req, &load);
    c.bench_function("serve /app13/Default.aspx (warm w3wp, InProc session)", |b| {
        b.iter(|| {
            let s = iisim::process::serve(black_box(&m), black_box(&mut warm), black_box(&req), &load);
            warm.drain_effects();
            s
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
