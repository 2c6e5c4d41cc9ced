//! Compiles the view of a 100,000-application shared-hosting box, then changes one key and
//! compiles again: the figures README's performance section quotes (one run, wall clock).
//!
//! `cargo run --release --example dispatch_scale [APPS]`

use std::time::Instant;

use iisim::dispatch::{resolve_fast, Request, View};
use iisim::edition::Edition;
use iisim::machine::{Machine, MachineConfig};
use iisim::metabase::Value;
use iisim::process::World;
use iisim::runtime::Version;
use iisim::setup::{self, Product};
use iisim::sites::{self, AppSpec};

fn main() {
    let apps: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut m = Machine::new(MachineConfig::new(Edition::Win2003));
    setup::install(&mut m, &mut World::default(), Product::Runtime(Version::V2_0), true);
    let started = Instant::now();
    for s in 0..apps.div_ceil(10) {
        let vdir = format!("/LM/W3SVC/1/ROOT/Site{s}");
        let folder = format!("D:\\Sites\\Site{s}");
        let spec = AppSpec { path: vdir.clone(), physical_path: Some(folder.clone()), ..Default::default() };
        sites::create_app(&mut m, &spec).expect("ROOT exists");
        for a in 0..10.min(apps - s * 10) {
            let dir = format!("{folder}\\App{a}");
            let spec = AppSpec {
                path: format!("{vdir}/App{a}"),
                physical_path: Some(dir.clone()),
                application: true,
                ..Default::default()
            };
            sites::create_app(&mut m, &spec).expect("the vdir exists");
            m.fs_create_files(&dir, &["Default.aspx"], &[]);
        }
        m.drain_effects();
    }
    println!("{apps} applications set up in {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let view = View::compile(&m);
    println!(
        "View::compile: {:.0} ms, {} keys, {} files",
        t.elapsed().as_secs_f64() * 1e3,
        view.key_count(),
        view.file_count()
    );
    drop(view);

    // One key changes; the next request compiles the view again (no partial recompile yet).
    let key = format!("/LM/W3SVC/1/ROOT/Site{}/App3", apps / 20);
    let url = format!("/Site{}/App3/Default.aspx", apps / 20);
    m.mb_set(&key, "AccessFlags", Value::Dword(0), &[]).expect("the key exists");
    let t = Instant::now();
    let view = View::compile(&m);
    let status = resolve_fast(&view, &Request::get(&url)).status();
    println!("change to one key -> next request answered ({status}) in {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
}
