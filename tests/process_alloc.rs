//! A warm-worker request to an existing session, whole, on the serve path (`iisim serve`): it
//! records nothing and allocates nothing, counted by a global allocator of this test
//! binary alone. The explain path runs the same procedure and records every decision.

use iisim::dispatch::{Decision, Discard, Reply, Request};
use iisim::machine::Machine;
use iisim::process::{self, Load, Served, World};

#[path = "common/counting.rs"]
mod counting;
use counting::{allocations, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One ASP.NET 2.0 application with a page and an image on `edition`.
fn box_on(edition: &str) -> Machine {
    let text = include_str!("fixtures/warm_worker_box.toml")
        .replace(r#"edition = "2003""#, &format!(r#"edition = "{edition}""#));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box.toml");
    std::fs::write(&path, text).unwrap();
    let (_, m, _) = iisim::scenario::load(&path).unwrap().run_to_end();
    m
}

/// A world whose worker has served alice once: CLR loaded, AppDomain up, her session kept.
fn warm(m: &Machine, req: &Request, load: &Load) -> World {
    let mut w = World::default();
    process::boot(m, &mut w);
    process::serve(m, &mut w, req, load);
    w.drain_effects();
    w
}

/// The allocations of one request on the serve path (the world's view checked, the request
/// answered, the answer dropped) and what it recorded; then the same request's answer as
/// [`Served`], its reply built.
fn quiet(m: &Machine, w: &mut World, req: &Request, load: &Load) -> (usize, Served, usize) {
    let (n, _) = allocations(|| {
        let v = process::view(m, w);
        process::answer::<Discard>(m, w, &v, req, load).status()
    });
    let recorded = w.drain_effects().len();
    let v = process::view(m, w);
    let s = process::answer::<Discard>(m, w, &v, req, load).served();
    w.drain_effects();
    (n, s, recorded)
}

/// What a warm ASP.NET request to an existing session costs on the serve path: nothing. Where it
/// landed is borrowed from the view and the request, the page is kept as its parts (its headers
/// and body are built only when the reply goes out), the application's key is lower-cased on
/// the stack and the session's ID is borrowed. Nothing is recorded.
const WARM_ASPNET_BUDGET: usize = 0;

/// A static file: the target's physical path and the reply dispatch builds (its header list, the
/// MIME type, the body and the physical path it names), with Last-Modified and ETag (HTTP-25).
const STATIC_BUDGET: usize = 8;

#[test]
fn a_warm_worker_request_to_an_existing_session_allocates_a_small_constant() {
    for edition in ["2003", "xp"] {
        let m = box_on(edition);
        let req = Request::get("/shop/Default.aspx");
        let load = Load { client: Some("alice".into()), ..Default::default() };
        let mut w = warm(&m, &req, &load);
        let explained = process::serve_with::<Vec<Decision>>(&m, &mut w, &req, &load);
        let decisions = w.drain_effects();
        assert!(decisions.iter().all(|e| e.change.kind() == "decision") && decisions.len() >= 3, "{decisions:?}");
        for _ in 0..3 {
            let (n, s, recorded) = quiet(&m, &mut w, &req, &load);
            println!("{edition}: a warm request on the serve path allocates {n} times");
            assert_eq!(s.session.map(|f| f.name()), Some("kept"), "{edition}");
            assert_eq!(recorded, 0, "{edition}: the serve path records nothing when nothing changes");
            assert_eq!(n, WARM_ASPNET_BUDGET, "{edition}: a warm request allocated {n} times");
            assert_eq!(Served { id: 0, ..s }, Served { id: 0, ..explained.clone() }, "{edition}");
        }
    }
}

#[test]
fn a_static_file_on_the_serve_path_allocates_its_reply_only() {
    let m = box_on("2003");
    let req = Request::get("/shop/logo.gif");
    let mut w = warm(&m, &req, &Load::default());
    let (n, s, recorded) = quiet(&m, &mut w, &req, &Load::default());
    println!("a static file on the serve path allocates {n} times");
    assert_eq!((s.reply.status, s.reply.header("Content-Type")), (200, Some("image/gif")));
    assert_eq!(recorded, 0);
    assert!(n <= STATIC_BUDGET, "a static file allocated {n} times");
}

/// The HTTP front end writes every reply of a connection into one room (`Answer::reply_into`): a
/// static file's reply between two pages leaves the room a page needs, so the second page
/// allocates nothing either.
#[test]
fn a_page_after_a_static_file_in_the_same_room_allocates_nothing() {
    let m = box_on("2003");
    let page = Request::get("/shop/Default.aspx");
    let image = Request::get("/shop/logo.gif");
    let alice = Load { client: Some("alice".into()), ..Default::default() };
    let mut w = warm(&m, &page, &alice);
    let mut room = Reply::default();
    let write = |w: &mut World, req: &Request, load: &Load, room: &mut Reply| {
        let v = process::view(&m, w);
        let status = process::answer::<Discard>(&m, w, &v, req, load).reply_into(room).status;
        w.drain_effects();
        status
    };
    for _ in 0..2 {
        assert_eq!(write(&mut w, &page, &alice, &mut room), 200);
    }
    let (n, status) = allocations(|| write(&mut w, &page, &alice, &mut room));
    assert_eq!((n, status), (0, 200), "a page into a room a page left");
    assert_eq!(write(&mut w, &image, &Load::default(), &mut room), 200);
    assert_eq!(room.header("Content-Type"), Some("image/gif"));
    let (n, status) = allocations(|| write(&mut w, &page, &alice, &mut room));
    assert_eq!(status, 200);
    assert!(room.body.contains("ASP.NET"), "{}", room.body);
    assert_eq!(n, 0, "a page after a static file allocated {n} times");
}
