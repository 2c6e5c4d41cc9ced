//! The view a request sees is never stale: every store (metabase, disk, registry) counts its own
//! changes, so removing a property or changing a key's type reaches the next request.

use iisim::dispatch::Request;
use iisim::edition::Edition;
use iisim::machine::{Machine, MachineConfig};
use iisim::metabase::Value;
use iisim::process::{self, Load, World};
use iisim::runtime::Version;
use iisim::setup::{self, Product};
use iisim::sites::{self, AppSpec};

const SHOP: &str = "/LM/W3SVC/1/ROOT/shop";

fn machine() -> (Machine, World) {
    let mut m = Machine::new(MachineConfig::new(Edition::Win2003));
    let mut w = World::default();
    setup::install(&mut m, &mut w, Product::Runtime(Version::V2_0), true);
    let spec =
        AppSpec { path: SHOP.into(), physical_path: Some(r"C:\shop".into()), application: true, ..Default::default() };
    sites::create_app(&mut m, &spec).expect("ROOT exists");
    m.fs_create_files(r"C:\shop", &["index.htm"], &[]);
    process::boot(&m, &mut w);
    (m, w)
}

fn status(m: &Machine, w: &mut World, url: &str) -> String {
    process::serve(m, w, &Request::get(url), &Load::default()).reply.status_text()
}

#[test]
fn removing_a_property_reaches_the_next_request() {
    let (mut m, mut w) = machine();
    assert_eq!(status(&m, &mut w, "/shop/index.htm"), "200");
    m.mb_set(SHOP, "AccessFlags", Value::Dword(0), &[]).expect("key exists");
    assert_eq!(status(&m, &mut w, "/shop/index.htm"), "403.2", "no Read permission (REQ-11)");
    // adsutil DELETE W3SVC/1/ROOT/shop/AccessFlags: the inherited AccessRead applies again.
    m.mb_remove(SHOP, "AccessFlags", &[]);
    assert_eq!(status(&m, &mut w, "/shop/index.htm"), "200");
}

#[test]
fn every_store_moves_the_generation() {
    let (mut m, _) = machine();
    let mut last = m.generation();
    let mut moved = |m: &Machine, what: &str| {
        assert_ne!(m.generation(), last, "{what} left the generation as it was");
        last = m.generation();
    };
    m.mb_set_key_type(SHOP, "IIsWebDirectory", &[]).expect("key exists");
    moved(&m, "mb_set_key_type");
    m.mb_remove(SHOP, "AppFriendlyName", &[]);
    moved(&m, "mb_remove");
    m.fs_create_files(r"C:\shop", &["new.htm"], &[]);
    moved(&m, "a new file");
    m.reg_set(r"HKLM\System\CurrentControlSet\Services\HTTP\Parameters", "AllowRestrictedChars", "1", &[]);
    moved(&m, "a registry value");
}

#[test]
fn a_new_file_is_served_at_once() {
    let (mut m, mut w) = machine();
    assert_eq!(status(&m, &mut w, "/shop/new.htm"), "404");
    m.fs_create_files(r"C:\shop", &["new.htm"], &[]);
    assert_eq!(status(&m, &mut w, "/shop/new.htm"), "200");
}

#[test]
fn trace_follows_enable_trace_method_at_the_next_request() {
    let (mut m, mut w) = machine();
    let trace = Request::new("TRACE", "/shop/index.htm");
    let r = process::serve(&m, &mut w, &trace, &Load::default()).reply;
    assert_eq!((r.status, r.body.as_str()), (501, ""), "IIS 6 does not echo by default (HTTP-15)");
    assert_eq!(r.header("Server"), Some("Microsoft-IIS/6.0"), "IIS answers, not HTTP.sys");
    m.reg_set(iisim::dispatch::view::W3SVC_PARAMETERS_KEY, "EnableTraceMethod", "1", &[]);
    let r = process::serve(&m, &mut w, &trace, &Load::default()).reply;
    assert_eq!((r.status, r.header("Content-Type")), (200, Some("message/http")));
    assert!(r.body.starts_with("TRACE /shop/index.htm HTTP/1.1\r\nHost: localhost\r\n"), "{}", r.body);
}

#[test]
fn iis5_redirects_folders_with_302_and_iis6_with_301() {
    for (edition, status) in [(Edition::Win2003, 301), (Edition::Win2000, 302)] {
        let mut m = Machine::new(MachineConfig::new(edition));
        let mut w = World::default();
        let spec = AppSpec { path: SHOP.into(), physical_path: Some(r"C:\shop".into()), ..Default::default() };
        sites::create_app(&mut m, &spec).expect("ROOT exists");
        process::boot(&m, &mut w);
        let r = process::serve(&m, &mut w, &Request::get("/shop"), &Load::default()).reply;
        assert_eq!(r.status, status, "{edition:?} (HTTP-29)");
        assert_eq!(r.header("Location"), Some("http://localhost/shop/"));
    }
}

#[test]
fn a_patched_view_follows_removals_and_key_types() {
    use iisim::dispatch::View;
    use std::sync::Arc;
    let (mut m, _) = machine();
    let full = |m: &Machine, v: &View, url: &str| {
        let (patched, whole) = (iisim::dispatch::resolve(v, &Request::get(url)), {
            let w = View::compile(m);
            iisim::dispatch::resolve(&w, &Request::get(url))
        });
        assert_eq!(patched, whole, "{url}: the patched view answers as a whole compile");
        patched.outcome
    };
    let mut view = Arc::new(View::compile(&m));
    m.mb_set(SHOP, "AccessFlags", Value::Dword(0), &[]).expect("key exists");
    view = View::update(&view, &m);
    assert!(
        matches!(full(&m, &view, "/shop/index.htm"), iisim::dispatch::Outcome::Reply(r) if r.status_text() == "403.2")
    );
    // adsutil DELETE W3SVC/1/ROOT/shop/AccessFlags: the patch brings the inherited AccessRead back.
    m.mb_remove(SHOP, "AccessFlags", &[]);
    view = View::update(&view, &m);
    assert!(matches!(full(&m, &view, "/shop/index.htm"), iisim::dispatch::Outcome::Reply(r) if r.status == 200));
    m.mb_set_key_type(SHOP, "IIsWebDirectory", &[]).expect("key exists");
    let before = view.clone();
    view = View::update(&view, &m);
    assert!(!Arc::ptr_eq(&before, &view), "a new KeyType is a new view");
    full(&m, &view, "/shop/index.htm");
}
