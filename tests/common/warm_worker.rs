//! The serve bench's box with a warm worker: one ASP.NET 2.0 application on IIS 6, its w3wp.exe
//! up with the CLR loaded, the AppDomain created and alice's InProc session kept, shared by
//! `benches/serve.rs` and `examples/serve_profile.rs` so both measure the same request.

use iisim::dispatch::{Request, View};
use iisim::machine::Machine;
use iisim::process::{self, Load, World};

const BOX: &str = include_str!("../fixtures/warm_worker_box.toml");

/// The machine, its compiled view, the warm world, the request and its load.
pub fn warm_worker() -> (Machine, View, World, Request, Load) {
    let (_, m, _) = iisim::scenario::load_str("box.toml", "box", BOX).expect("the bench box loads").run_to_end();
    let req = Request::get("/shop/Default.aspx");
    let view = View::compile(&m);
    let mut w = World::default();
    process::boot(&m, &mut w);
    let load = Load { client: Some("alice".into()), ..Default::default() };
    process::serve(&m, &mut w, &req, &load);
    w.drain_effects();
    (m, view, w, req, load)
}
