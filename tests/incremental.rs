//! A change confined to web keys under a site's ROOT patches the published view: the changed
//! key's subtree is compiled again from its parent's inherited values and every other key is
//! shared. The patched view must be the view a whole compile gives, for any sequence of changes.

#[path = "common/hosting.rs"]
mod hosting;

use std::sync::Arc;

use hosting::hosting;
use iisim::dispatch::{resolve, resolve_fast, Request, View};
use iisim::machine::Machine;
use iisim::metabase::{Value, CHANGE_LOG_LEN};
use iisim::runtime::Version;
use proptest::prelude::*;

const ROOT: &str = "/LM/W3SVC/1/ROOT";

fn machine() -> Machine {
    let mut m = hosting(40, &["Default.aspx", "index.htm", "page.xyz"]);
    iisim::sites::create_pool(&mut m, "Pool2");
    m
}

/// Every compiled key, in path order, and the sites: what the view holds.
fn keys(v: &View) -> Vec<(String, &iisim::dispatch::view::KeyView)> {
    let mut keys: Vec<_> = v.keys().map(|k| (k.path.to_ascii_lowercase(), k)).collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys
}

/// URLs that reach every key, its files, a folder, a missing file, in mixed case.
fn urls(v: &View) -> Vec<String> {
    let mut urls = vec!["/".to_string(), "/nothere/".into(), "/Default.aspx".into()];
    for k in v.keys() {
        let vp = k.vpath().trim_end_matches('/');
        for tail in ["", "/", "/Default.aspx", "/INDEX.HTM", "/page.xyz", "/missing.aspx", "/sub/x.asmx"] {
            urls.push(format!("{vp}{tail}"));
        }
    }
    urls
}

/// The patched view holds what a whole compile holds and answers every URL the same way.
fn assert_same(patched: &View, full: &View) {
    assert_eq!(patched.sites(), full.sites(), "sites");
    assert_eq!(keys(patched), keys(full), "compiled keys");
    let mut all = urls(full);
    all.extend(urls(patched));
    for url in all {
        let req = Request::get(&url);
        assert_eq!(resolve(patched, &req), resolve(full, &req), "{url}");
    }
}

/// The same compiled key object: shared, not compiled again.
fn shared(a: &View, b: &View, path: &str) -> bool {
    std::ptr::eq(a.key(path).expect("compiled"), b.key(path).expect("compiled"))
}

fn multi(items: &[&str]) -> Value {
    Value::MultiSz(items.iter().map(|s| s.to_string()).collect())
}

#[test]
fn one_key_change_patches_and_shares_the_rest() {
    let mut m = machine();
    let old = Arc::new(View::compile(&m));
    let app = format!("{ROOT}/Site2/App3");
    let url = "/Site2/App3/index.htm";
    assert_eq!(resolve_fast(&old, &Request::get(url)).status(), 200);
    m.mb_set(&app, "AccessFlags", Value::Dword(0), &[]).expect("key exists");
    let new = View::update(&old, &m);
    assert_eq!(resolve_fast(&new, &Request::get(url)).status(), 403, "no Read permission (REQ-11)");
    assert!(shared(&old, &new, &format!("{ROOT}/Site2/App4")), "a sibling is shared");
    assert!(shared(&old, &new, &format!("{ROOT}/Site2")), "the parent is shared");
    assert!(!shared(&old, &new, &app), "the changed key is compiled again");
    // Values the changed key inherits unchanged stay shared with its parent's.
    let (k, parent) = (new.key(&app).unwrap(), new.key(&format!("{ROOT}/Site2")).unwrap());
    assert!(Arc::ptr_eq(&k.maps, &parent.maps) && Arc::ptr_eq(&k.mime, &parent.mime));
    assert_same(&new, &View::compile(&m));
    // Nothing changed since: the same view.
    assert!(Arc::ptr_eq(&View::update(&new, &m), &new));
}

#[test]
fn new_and_deleted_keys_patch_the_view() {
    let mut m = machine();
    let old = Arc::new(View::compile(&m));
    m.mb_create_key(&format!("{ROOT}/Site1/Blog"), "IIsWebVirtualDir", &[]);
    m.mb_set(&format!("{ROOT}/Site1/Blog"), "Path", Value::String(r"D:\Sites\Site1\App2".into()), &[]).unwrap();
    m.mb_delete_key(&format!("{ROOT}/Site3"), &[]);
    let new = View::update(&old, &m);
    assert!(shared(&old, &new, &format!("{ROOT}/Site0/App0")));
    assert!(new.key(&format!("{ROOT}/Site3/App1")).is_none());
    assert_eq!(resolve_fast(&new, &Request::get("/site1/BLOG/index.htm")).status(), 200);
    assert_same(&new, &View::compile(&m));
}

#[test]
fn changes_outside_web_keys_compile_whole() {
    let mut m = machine();
    let old = Arc::new(View::compile(&m));
    let probe = format!("{ROOT}/Site0/App0");
    m.mb_set("/LM/W3SVC", "DefaultDoc", Value::String("index.htm".into()), &[]).unwrap();
    let new = View::update(&old, &m);
    assert!(!shared(&old, &new, &probe), "a service-level value reaches every key");
    assert_same(&new, &View::compile(&m));
}

#[test]
fn a_disk_change_reads_the_files_again_and_shares_the_keys() {
    let mut m = machine();
    let old = Arc::new(View::compile(&m));
    let probe = format!("{ROOT}/Site0/App0");
    assert_eq!(resolve_fast(&old, &Request::get("/Site0/App0/new.htm")).status(), 404);
    m.fs_create_files(r"D:\Sites\Site0\App0", &["new.htm"], &[]);
    let new = View::update(&old, &m);
    assert_eq!(resolve_fast(&new, &Request::get("/Site0/App0/new.htm")).status(), 200);
    assert!(shared(&old, &new, &probe), "a content file changes no key");
    assert_same(&new, &View::compile(&m));
    // The disk and a web key in one go: the files read again, the key's subtree patched.
    m.fs_create_files(r"D:\Sites\Site1\App1", &["more.htm"], &[]);
    m.mb_set(&format!("{ROOT}/Site1/App1"), "AccessFlags", Value::Dword(0), &[]).unwrap();
    let newer = View::update(&new, &m);
    assert_eq!(resolve_fast(&newer, &Request::get("/Site1/App1/more.htm")).status(), 403);
    assert!(shared(&new, &newer, &probe));
    assert_same(&newer, &View::compile(&m));
    // A copy of aspnet_isapi.dll under a Framework folder names a runtime keys may map to (VER-01).
    m.fs_create_files(r"D:\Copies\Microsoft.NET\Framework\v1.1.4322", &["aspnet_isapi.dll"], &[]);
    let newest = View::update(&newer, &m);
    assert!(!shared(&newer, &newest, &probe), "compiled whole");
    assert_same(&newest, &View::compile(&m));
}

#[test]
fn a_view_older_than_the_change_log_compiles_whole() {
    let mut m = machine();
    let old = Arc::new(View::compile(&m));
    for i in 0..=CHANGE_LOG_LEN as u32 {
        m.mb_set(&format!("{ROOT}/Site1"), "AccessFlags", Value::Dword(1 + (i % 2) * 512), &[]).unwrap();
    }
    let new = View::update(&old, &m);
    assert!(!shared(&old, &new, &format!("{ROOT}/Site0")), "the log no longer reaches back: compiled whole");
    assert_same(&new, &View::compile(&m));
}

/// One administrator's change, as adsutil SET / DELETE / CREATE_VDIR / DELETE would make it.
#[derive(Debug, Clone)]
enum Change {
    Set(usize, usize),
    Remove(usize, usize),
    Create(usize, usize),
    Delete(usize),
    KeyType(usize),
    /// Outside the web keys: the service's ScriptMaps, a pool, a site's bindings, the disk.
    Outside(usize),
}

/// Keys changes land on, some missing until created.
fn key_path(i: usize) -> String {
    const TAILS: [&str; 9] = [
        "",
        "/Site0",
        "/Site0/App1",
        "/Site1",
        "/Site1/App0/deep",
        "/Site2/App9",
        "/Site1/New",
        "/New",
        "/Site0/App1/x",
    ];
    format!("{ROOT}{}", TAILS[i % TAILS.len()])
}

fn value(m: &Machine, path: &str, prop: usize, pick: usize) -> (&'static str, Value) {
    let aspnet = format!("{},1,GET,HEAD,POST", m.isapi_path(Version::V2_0));
    let maps = [
        multi(&[&format!(".aspx,{aspnet}"), &format!(".xyz,{aspnet}")]),
        multi(&[r"*,C:\wild\wild.dll,0", &format!(".aspx,{aspnet}")]),
        multi(&[]),
    ];
    match prop % 12 {
        0 => ("AccessFlags", Value::Dword([0, 1, 513, 517][pick % 4])),
        1 => ("ScriptMaps", maps[pick % 3].clone()),
        2 => ("DefaultDoc", Value::String(["index.htm", "Default.aspx,index.htm", ""][pick % 3].into())),
        3 => ("AppRoot", Value::String(path.into())),
        4 => ("AppPoolId", Value::String(["DefaultAppPool", "Pool2", "Missing"][pick % 3].into())),
        5 => ("Path", Value::String([r"D:\Sites\Site1", r"D:\Elsewhere"][pick % 2].into())),
        6 => ("HttpErrors", multi(&[r"404,*,FILE,C:\404.htm", "500,100,URL,/err.asp"][..1 + pick % 2])),
        7 => ("HttpCustomHeaders", multi(&["X-A: 1", "X-B: 2"][..1 + pick % 2])),
        8 => ("MimeMap", multi(&[".xyz,text/xyz"])),
        9 => ("AppIsolated", Value::Dword(pick as u32 % 3)),
        10 => ("InProcessIsapiApps", multi(&[r"C:\wild\wild.dll"])),
        _ => ("DirBrowseFlags", Value::Dword([0, 0xC000_0000][pick % 2])),
    }
}

fn apply(m: &mut Machine, change: &Change) {
    match *change {
        Change::Set(k, p) => {
            let path = key_path(k);
            let (prop, v) = value(m, &path, p, k + p);
            let _ = m.mb_set(&path, prop, v, &[]);
        }
        Change::Remove(k, p) => {
            let path = key_path(k);
            let (prop, _) = value(m, &path, p, 0);
            m.mb_remove(&path, prop, &[]);
        }
        Change::Create(k, t) => m.mb_create_key(&key_path(k), ["IIsWebVirtualDir", "IIsWebDirectory"][t % 2], &[]),
        Change::Delete(k) => m.mb_delete_key(&key_path(k), &[]),
        Change::KeyType(k) => {
            let _ = m.mb_set_key_type(&key_path(k), "IIsWebDirectory", &[]);
        }
        Change::Outside(0) => {
            let _ = m.mb_set("/LM/W3SVC", "AccessFlags", Value::Dword(513), &[]);
        }
        Change::Outside(1) => m.mb_create_key("/LM/W3SVC/AppPools/Pool3", "IIsApplicationPool", &[]),
        Change::Outside(2) => {
            let _ = m.mb_set("/LM/W3SVC/1", "ServerBindings", multi(&[":80:", ":8080:"]), &[]);
        }
        Change::Outside(_) => m.fs_create_files(r"D:\Sites\Site1", &["index.htm"], &[]),
    }
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        6 => (0..9usize, 0..12usize).prop_map(|(k, p)| Change::Set(k, p)),
        3 => (0..9usize, 0..12usize).prop_map(|(k, p)| Change::Remove(k, p)),
        2 => (0..9usize, 0..2usize).prop_map(|(k, t)| Change::Create(k, t)),
        2 => (1..9usize).prop_map(Change::Delete),
        1 => (0..9usize).prop_map(Change::KeyType),
        1 => (0..4usize).prop_map(Change::Outside),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// After each change (one or several between requests) the view the next request gets is
    /// the view a whole compile gives.
    #[test]
    fn patched_view_equals_a_whole_compile(batches in prop::collection::vec(prop::collection::vec(change(), 1..4), 1..8)) {
        let mut m = machine();
        let mut view = Arc::new(View::compile(&m));
        for batch in &batches {
            for c in batch {
                apply(&mut m, c);
            }
            view = View::update(&view, &m);
            assert_same(&view, &View::compile(&m));
        }
    }
}
