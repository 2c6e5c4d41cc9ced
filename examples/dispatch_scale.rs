//! Compiles the view of a 100,000-application shared-hosting box, then changes one key, then
//! writes one file (as HTTP.sys's error log does), and gets each time the next request's view
//! (patched, or its file table read again) and answer: the figures README's performance section quotes
//! (one run, wall clock; `cargo bench --bench dispatch -- change` gives the median).
//!
//! `cargo run --release --example dispatch_scale [APPS]`

use std::sync::Arc;
use std::time::Instant;

use iisim::dispatch::{resolve_fast, Request, View};
use iisim::metabase::Value;

#[path = "../tests/common/hosting.rs"]
mod hosting;
use hosting::hosting;

fn main() {
    let apps: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let started = Instant::now();
    let mut m = hosting(apps, &["Default.aspx"]);
    println!("{apps} applications set up in {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let view = View::compile(&m);
    println!(
        "View::compile: {:.0} ms, {} keys, {} files",
        t.elapsed().as_secs_f64() * 1e3,
        view.key_count(),
        view.file_count()
    );
    let view = Arc::new(view);

    // One key changes (adsutil SET); the next request's view patches that key's subtree.
    let key = format!("/LM/W3SVC/1/ROOT/Site{}/App3", apps / 20);
    let url = format!("/Site{}/App3/Default.aspx", apps / 20);
    m.mb_set(&key, "AccessFlags", Value::Dword(0), &[]).expect("the key exists");
    let t = Instant::now();
    let patched = View::update(&view, &m);
    let status = resolve_fast(&patched, &Request::get(&url)).status();
    println!(
        "change to one key -> next request answered ({status}) in {:.1} ms (view patched)",
        t.elapsed().as_secs_f64() * 1e3
    );

    // A line appended to a file on the disk: the next request's view reads the file table again.
    let dir = format!(r"D:\Sites\Site{}", apps / 20);
    m.fs_create_files(&dir, &["log.txt"], &[]);
    let patched = View::update(&patched, &m);
    assert!(m.fs_write(&format!(r"{dir}\log.txt"), "a line\r\n", true, &[]), "the folder exists");
    let t = Instant::now();
    let written = View::update(&patched, &m);
    let status = resolve_fast(&written, &Request::get(&url)).status();
    println!(
        "a file written -> next request answered ({status}) in {:.1} ms (file table read again)",
        t.elapsed().as_secs_f64() * 1e3
    );
}
