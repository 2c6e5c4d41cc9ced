//! The hot path allocates nothing for a canonical URL that resolves to an ISAPI or a static file,
//! and the compiled view stays small per application: both counted by a global allocator of this
//! test binary alone.

use std::cell::Cell;

use iisim::dispatch::canon::{canonicalize_into, HttpSysParams};
use iisim::dispatch::{resolve, resolve_fast, Decision, Discard, FastOutcome, Outcome, Request, View};
use iisim::machine::Machine;

#[path = "common/hosting.rs"]
mod hosting;
use hosting::hosting;

#[path = "common/counting.rs"]
mod counting;
use counting::{allocations, Counting, LIVE};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Two customers' folders of ten applications, each with a page, an image and a sub-folder.
fn machine() -> Machine {
    hosting(20, FILES)
}

const FILES: &[&str] = &["Default.aspx", "logo.gif", "img\\a.jpg"];

#[test]
fn the_compiled_view_holds_under_2_kib_per_application() {
    // 2,000 applications: 200 customers of ten, as the shared-hosting benchmark has them.
    let m = hosting(2_000, FILES);
    LIVE.with(|l| l.set(0));
    let view = View::compile(&m);
    let bytes = LIVE.with(Cell::get);
    let per_app = bytes / 2_000;
    println!("the view keeps {bytes} bytes for 2,000 applications: {per_app} per application");
    assert!(view.key_count() > 2_200, "every customer folder and application is a key");
    assert!(per_app <= 2_048, "the view keeps {bytes} bytes, {per_app} per application");
    drop(view);
}

#[test]
fn canonical_urls_to_an_isapi_or_a_static_file_allocate_nothing() {
    let view = View::compile(&machine());
    let cases = [
        ("/Site1/App2/Default.aspx", true),
        ("/site0/APP1/default.ASPX?x=1&y=%41", true),
        ("/Site1/App2/Default.aspx/extra/path.info", true),
        ("/Site0/App0/Missing.aspx", true),
        ("/Site1/App2/logo.gif", false),
        ("/SITE1/app2/IMG/A.JPG", false),
    ];
    for (url, isapi) in cases {
        let req = Request::get(url);
        let (n, fast) = allocations(|| resolve_fast(&view, &req));
        match fast.outcome {
            FastOutcome::Isapi { .. } => assert!(isapi, "{url} ran an ISAPI"),
            FastOutcome::Static { .. } => assert!(!isapi, "{url} was a static file"),
            FastOutcome::Reply(r) => panic!("{url}: {}", r.status),
        }
        assert_eq!(n, 0, "{url}: the hot path allocated {n} times");
        // The explain path takes the same steps and records them.
        let (m, full) = allocations(|| resolve(&view, &req));
        assert!(m > 0 && !full.decisions.is_empty(), "{url}: explain records its decisions");
        assert_eq!(full.outcome, fast.outcome(), "{url}");
    }
}

#[test]
fn a_canonical_url_is_borrowed_not_copied() {
    let params = HttpSysParams::default();
    let (n, c) = allocations(|| canonicalize_into("/Site1/App2/Default.aspx?q=%2e", &params, 400, &mut Discard));
    let c = c.expect("canonical");
    assert_eq!((n, &*c.path, c.query), (0, "/Site1/App2/Default.aspx", "q=%2e"));
    let (n, c) = allocations(|| canonicalize_into("/a/%41", &params, 400, &mut Discard));
    assert!(n > 0, "decoding builds a new path");
    assert_eq!(c.expect("canonical").path, "/a/A");
}

#[test]
fn errors_still_answer_in_full() {
    let view = View::compile(&machine());
    let req = Request::get("/Site1/App2/nothing.htm");
    let fast = resolve_fast(&view, &req);
    assert!(matches!(&fast.outcome, FastOutcome::Reply(r) if r.status == 404));
    assert!(matches!(resolve(&view, &req).outcome, Outcome::Reply(r) if r.status == 404));
}

#[test]
fn a_url_without_a_session_segment_does_not_pay_for_the_asp_net_filter() {
    // SES-10's filter step runs before every resolution; without a `(` it is one byte scan.
    let m = machine();
    let view = View::compile(&m);
    for url in ["/Site1/App2/Default.aspx", "/SITE1/app2/IMG/A.JPG"] {
        let req = Request::get(url);
        let (resolved, res) = allocations(|| resolve(&view, &req));
        let (prepared, _) = allocations(|| iisim::process::prepare_with::<Vec<Decision>>(&m, &view, &req));
        // The explain path's preparation is its resolution, boxed.
        assert_eq!(prepared, resolved + 1, "{url}: the filter step allocated");
        assert!(res.target.is_some(), "{url}");
        // The serve path's preparation allocates nothing, as its resolution does not.
        let (fast, _) = allocations(|| iisim::process::prepare(&m, &view, &req));
        assert_eq!(fast, 0, "{url}: the serve path's preparation allocated {fast} times");
    }
}

/// HTTP.sys's layer in front of hyper (`http::conn`) allocates nothing for a request head that
/// passes, nor for fixing the response head on its way out.
#[test]
fn the_wire_layer_allocates_nothing_on_the_good_path() {
    use iisim::http::conn::{fix_head, inspect, Inspected};
    let limits = iisim::http::wire::Limits::default();
    let head = b"GET /Site1/App1/default.aspx?x=1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8\r\n\
Accept: */*\r\nCookie: ASP.NET_SessionId=abc\r\n\r\n";
    let response = b"HTTP/1.0 200 OK\r\ncontent-length: 12\r\netag: \"1:2\"\r\nx-aspnet-version: 2.0.50727\r\n\r\n";
    let mut out = response.to_vec();
    let (n, passed) = allocations(|| {
        let passed = matches!(inspect(head, &limits), Inspected::Pass(p) if p.rewritten.is_none());
        (passed, fix_head(&mut out))
    });
    assert!(passed.0, "the head passes as sent");
    assert_eq!(passed.1, (200, Some(12)));
    assert_eq!(n, 0, "allocations on the wire layer's good path");
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nETag: "));
}
