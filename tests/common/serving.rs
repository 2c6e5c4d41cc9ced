//! Starting `iisim serve` in a test: a scenario's machine on 127.0.0.1:0 listeners with an admin
//! listener, and the box most serving tests use.

#![allow(dead_code)]

use std::sync::Arc;

use iisim::http::{self, Listen, Options, Shared};

/// Two applications, 1.1 and 2.0, in one IIS 6 pool, plus a second pool for the fix.
pub const SBS: &str = r#"
title = "two runtimes in one IIS 6 pool"
rules = []

[machine]
edition = "2003"
runtimes = ["1.1", "2.0"]

[[machine.pool]]
name = "AspNet20Pool"

[[machine.app]]
path = "W3SVC/1/ROOT/legacy"
physical_path = 'C:\Sites\legacy'
runtime = "1.1"
files = ["default.aspx", "logo.gif"]

[[machine.app]]
path = "W3SVC/1/ROOT/portal"
physical_path = 'C:\Sites\portal'
runtime = "2.0"
files = ["default.aspx"]
"#;

/// Starts a server for the scenario text with one 127.0.0.1:0 listener per emulated port.
pub fn start_on(toml: &str, ports: &[u16]) -> http::Handle {
    start_edited(toml, ports, |_| {})
}

/// Starts a server as [`start_on`] does, after `edit` changed the scenario's final machine.
pub fn start_edited(toml: &str, ports: &[u16], edit: impl FnOnce(&mut iisim::machine::Machine)) -> http::Handle {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box.toml");
    std::fs::write(&path, toml).unwrap();
    let (_, mut m, w) = iisim::scenario::load(&path).unwrap().run_to_end();
    edit(&mut m);
    let opts = Options {
        listen: ports.iter().map(|&port| Listen { addr: "127.0.0.1:0".parse().unwrap(), port }).collect(),
        admin: Some("127.0.0.1:0".parse().unwrap()),
        ctrl_c: false,
    };
    http::start(Arc::new(Shared::new(m, w)), &opts).unwrap()
}
