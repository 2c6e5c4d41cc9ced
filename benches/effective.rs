//! Effective-value lookups and whole scenario runs.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use iisim::edition::Edition;
use iisim::machine::{Machine, MachineConfig};
use iisim::registration;
use iisim::runtime::Version;
use iisim::setup::{self, Product};
use iisim::sites::{self, AppSpec};

fn machine() -> Machine {
    let mut m = Machine::new(MachineConfig::new(Edition::Win2003));
    setup::install(&mut m, &mut iisim::process::World::default(), Product::Runtime(Version::V1_1), true);
    setup::install(&mut m, &mut iisim::process::World::default(), Product::Runtime(Version::V2_0), true);
    let mut path = "/LM/W3SVC/1/ROOT".to_string();
    for i in 0..8 {
        path.push_str(&format!("/d{i}"));
        let spec = AppSpec { path: path.clone(), application: i % 2 == 0, ..Default::default() };
        sites::create_app(&mut m, &spec).expect("parent exists");
    }
    m
}

fn bench(c: &mut Criterion) {
    let m = machine();
    let deep = "/LM/W3SVC/1/ROOT/d0/d1/d2/d3/d4/d5/d6/d7/file.aspx";
    c.bench_function("effective ScriptMaps, 10 levels deep", |b| {
        b.iter(|| m.metabase().effective(black_box(deep), black_box("ScriptMaps")))
    });
    c.bench_function("app_version, 10 levels deep", |b| b.iter(|| registration::app_version(&m, black_box(deep))));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/04_s_k_i_on_one_app.toml");
    c.bench_function("load and run scenario 04", |b| {
        b.iter(|| iisim::scenario::load(&dir).expect("scenario loads").run())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
