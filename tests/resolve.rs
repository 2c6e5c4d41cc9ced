//! Request resolution (REQ-04..14, SM-02..11, SEC-05..10, MB-21, HDR-02): one table per step, each
//! row a request against a compiled view of a prepared machine, asserting the outcome, the status
//! or handler, and where the request landed.

mod common;

use iisim::dispatch::{resolve, Outcome, Request, Resolution, View};
use iisim::edition::Edition;
use iisim::machine::{Machine, MachineConfig};
use iisim::metabase::Value;
use iisim::policy::{self, Policies};
use iisim::registration;
use iisim::runtime::Version::{self, V1_1, V4_0};
use iisim::setup::{self, Product};
use iisim::sites::{self, AppSpec, Isolation, SiteSpec};
use proptest::prelude::*;

const WWWROOT: &str = r"C:\Inetpub\wwwroot";
const SITE_ROOT: &str = "/LM/W3SVC/1/ROOT";

// ----- machines -----

fn machine_with(edition: Edition, runtimes: &[Version], settings: &[(&str, &str)]) -> Machine {
    let mut policies = Policies::default();
    for (name, value) in settings {
        policies.set(name, value).expect("known policy value");
    }
    let mut m = Machine::new(MachineConfig { name: "WEB01".into(), policies, ..MachineConfig::new(edition) });
    for &v in runtimes {
        let r = setup::install(&mut m, &mut iisim::process::World::default(), Product::Runtime(v), true);
        assert_eq!(r.exit, 0, "setup of {v}: {:?}", r.output);
    }
    m
}

fn set(m: &mut Machine, path: &str, prop: &str, value: Value) {
    m.mb_set(path, prop, value, &[]).unwrap_or_else(|e| panic!("{path} {prop}: {e}"));
}

fn multi(items: &[&str]) -> Value {
    Value::MultiSz(items.iter().map(|s| s.to_string()).collect())
}

/// A folder key, a virtual directory (`physical`) and/or an application under site 1.
fn key(m: &mut Machine, rel: &str, physical: Option<&str>, application: bool) {
    let spec = AppSpec {
        path: format!("{SITE_ROOT}/{rel}"),
        physical_path: physical.map(str::to_string),
        application,
        isolation: Some(Isolation::High),
        pool: application.then(|| "ShopPool".to_string()),
    };
    sites::create_app(m, &spec).unwrap_or_else(|e| panic!("{rel}: {e}"));
}

fn files(m: &mut Machine, rel: &str, names: &[&str]) {
    let dir = if rel.is_empty() { WWWROOT.to_string() } else { format!("{WWWROOT}\\{rel}") };
    m.fs_create_files(&dir, names, &[]);
}

/// The main IIS 6 machine: ASP.NET 1.1 at the root, ASP allowed, a few apps, folders and files.
fn web(edition: Edition, settings: &[(&str, &str)]) -> Machine {
    let runtimes: &[Version] = if edition.is_iis6() { &[V1_1, V4_0] } else { &[V1_1] };
    let mut m = machine_with(edition, runtimes, settings);
    if edition.is_iis6() {
        let mut rows = m.metabase().own_list("/LM/W3SVC", "WebSvcExtRestrictionList");
        for row in rows.iter_mut() {
            if row.to_ascii_lowercase().contains("asp.dll") {
                *row = row.replacen('0', "1", 1);
            }
        }
        rows.push("1,C:\\tools\\wild.dll,1,WILD,Wildcard".into());
        rows.push("1,C:\\tools\\cgi.exe,1,CGI,CGI".into());
        set(&mut m, "/LM/W3SVC", "WebSvcExtRestrictionList", Value::MultiSz(rows));
    }
    files(
        &mut m,
        "",
        &[
            "Default.aspx",
            "a.htm",
            "foo.asp",
            "file.asp",
            "shell.asp;.jpg",
            "file.xyz",
            "global.asa",
            "web.config",
            "docs.htm",
            "noext",
            "x.aspx\\page.htm",
        ],
    );
    key(&mut m, "shop", Some(&format!("{WWWROOT}\\shop")), true);
    files(&mut m, "shop", &["Default.aspx", "cart.aspx", "img\\a.gif"]);
    key(&mut m, "shop/img", None, false);
    key(&mut m, "plain", None, false);
    files(&mut m, "plain", &["index.htm"]);
    key(&mut m, "list", None, false);
    files(&mut m, "list", &["one.txt", "sub\\two.txt"]);
    set(&mut m, &format!("{SITE_ROOT}/list"), "DirBrowseFlags", Value::Dword(0x8000_001e));
    files(&mut m, "empty", &["readme.txt"]);
    key(&mut m, "noexec", None, false);
    set(&mut m, &format!("{SITE_ROOT}/noexec"), "AccessFlags", Value::Dword(1));
    files(&mut m, "noexec", &["x.aspx", "x.cgi"]);
    key(&mut m, "exec", None, false);
    set(&mut m, &format!("{SITE_ROOT}/exec"), "AccessFlags", Value::Dword(1 | 4));
    files(&mut m, "exec", &["x.cgi"]);
    for k in ["noexec", "exec"] {
        let mut maps = root_maps(&m);
        maps.push(r".cgi,C:\tools\cgi.exe %s,0".into());
        set(&mut m, &format!("{SITE_ROOT}/{k}"), "ScriptMaps", Value::MultiSz(maps));
    }
    key(&mut m, "noread", None, false);
    set(&mut m, &format!("{SITE_ROOT}/noread"), "AccessFlags", Value::Dword(512));
    files(&mut m, "noread", &["a.htm"]);
    key(&mut m, "nomaps", None, false);
    set(&mut m, &format!("{SITE_ROOT}/nomaps"), "ScriptMaps", multi(&[]));
    files(&mut m, "nomaps", &["web.config", "x.aspx"]);
    if edition.is_iis6() {
        key(&mut m, "v4", None, true);
        files(&mut m, "v4", &["x.aspx"]);
        registration::install_maps(&mut m, V4_0, &format!("{SITE_ROOT}/v4"), true).expect("4.0 maps");
    }
    key(&mut m, "wild", None, true);
    let mut maps = root_maps(&m);
    maps.push(r"*,C:\tools\wild.dll,4".into());
    set(&mut m, &format!("{SITE_ROOT}/wild"), "ScriptMaps", Value::MultiSz(maps));
    files(&mut m, "wild", &["exists.htm", "Default.htm", "sub\\a.htm"]);
    key(&mut m, "wild/sub", None, false);
    let plain_maps = root_maps(&m);
    set(&mut m, &format!("{SITE_ROOT}/wild/sub"), "ScriptMaps", Value::MultiSz(plain_maps));
    m
}

/// The site root's effective script maps.
fn root_maps(m: &Machine) -> Vec<String> {
    m.metabase()
        .effective(SITE_ROOT, "ScriptMaps")
        .and_then(|(v, _)| v.as_multi().map(<[String]>::to_vec))
        .unwrap_or_default()
}

/// The outcome in one word: the status (`404.2`) or `isapi <dll file or ASP.NET version>`.
fn summary(r: &Resolution) -> String {
    match &r.outcome {
        Outcome::Reply(rep) => rep.status_text(),
        Outcome::Isapi(c) => match c.aspnet {
            Some(v) => format!("isapi aspnet {}", v.short()),
            None => format!("isapi {}", c.dll.rsplit('\\').next().unwrap_or_default().to_ascii_lowercase()),
        },
    }
}

fn cites(r: &Resolution, rule: &str) -> bool {
    r.decisions.iter().any(|d| d.rules.contains(&rule))
}

fn trace(r: &Resolution) -> String {
    r.decisions.iter().map(|d| format!("  {} {:?}\n", d.text, d.rules)).collect()
}

fn reply(r: &Resolution) -> &iisim::dispatch::Reply {
    match &r.outcome {
        Outcome::Reply(rep) => rep,
        Outcome::Isapi(c) => panic!("expected a reply, got {c:?}"),
    }
}

fn call(r: &Resolution) -> &iisim::dispatch::IsapiCall {
    match &r.outcome {
        Outcome::Isapi(c) => c,
        Outcome::Reply(rep) => panic!("expected an ISAPI call, got {rep:?}\n{}", trace(r)),
    }
}

// ----- step 2: bindings -----

fn with_sites() -> Machine {
    let mut m = machine_with(Edition::Win2003, &[V1_1], &[]);
    let specs: &[(u32, &[&str])] = &[
        (2, &[":80:www.a.com"]),
        (3, &["10.0.0.2:80:"]),
        (4, &["10.0.0.2:80:www.b.com"]),
        (5, &[":80:www.c.com"]),
        (6, &[":80:www.a.com"]),
        (7, &[":8080:only.host"]),
    ];
    for (id, bindings) in specs {
        let spec = SiteSpec {
            id: Some(*id),
            name: format!("site{id}"),
            bindings: bindings.iter().map(|b| b.to_string()).collect(),
            path: format!("C:\\sites\\s{id}"),
        };
        sites::create_site(&mut m, &spec).expect("site");
    }
    set(&mut m, "/LM/W3SVC/5", "ServerAutoStart", Value::Dword(0));
    m
}

#[test]
fn bindings_pick_the_site() {
    let m = with_sites();
    let view = View::compile(&m);
    assert!(!view.site(6).expect("site 6").started, "site 6 duplicates site 2's binding (REQ-05)");
    assert!(!view.site(5).expect("site 5").started, "site 5 is stopped");
    // (ip, port, Host, HTTP/1.0, expected site or None for 400)
    type Row = (&'static str, u16, Option<&'static str>, bool, Option<u32>);
    let cases: &[Row] = &[
        ("10.0.0.1", 80, Some("localhost"), false, Some(1)),
        ("10.0.0.1", 80, Some("WWW.A.COM:80"), false, Some(2)),
        ("10.0.0.2", 80, Some("www.a.com"), false, Some(2)),
        ("10.0.0.2", 80, Some("other.name"), false, Some(3)),
        ("10.0.0.2", 80, Some("www.b.com"), false, Some(4)),
        ("10.0.0.1", 80, Some("www.b.com"), false, Some(1)),
        ("10.0.0.1", 80, Some("www.c.com"), false, Some(1)),
        ("10.0.0.1", 8080, Some("Only.Host:8080"), false, Some(7)),
        ("10.0.0.1", 8080, Some("other"), false, None),
        ("10.0.0.1", 8080, None, true, None),
        ("10.0.0.1", 80, None, true, Some(1)),
        ("10.0.0.2", 80, None, true, Some(3)),
        ("10.0.0.1", 80, None, false, None),
        ("10.0.0.1", 81, Some("localhost"), false, None),
    ];
    for (ip, port, host, http10, want) in cases {
        let req = Request {
            ip: ip.to_string(),
            port: *port,
            host: host.map(str::to_string),
            http10: *http10,
            ..Request::get("/")
        };
        let r = resolve(&view, &req);
        let row = format!("{ip}:{port} Host {host:?} http10 {http10}");
        match want {
            Some(id) => {
                assert_eq!(r.target.as_ref().map(|t| t.site), Some(*id), "{row}\n{}", trace(&r));
                assert!(cites(&r, "REQ-04"), "{row}");
            }
            None => {
                let rep = reply(&r);
                assert_eq!(rep.status, 400, "{row}\n{}", trace(&r));
                assert!(rep.body.contains("Invalid Hostname"), "{row}");
                assert_eq!(rep.header("Server"), None, "{row}: HTTP.sys 1.0 sends no Server header (HTTP-02)");
                assert_eq!(rep.header("X-Powered-By"), None, "{row}: HTTP.sys answers carry no IIS headers");
                assert!(r.target.is_none(), "{row}");
            }
        }
    }
    // The stopped site that matched is recorded (REQ-05).
    let r = resolve(&view, &Request { host: Some("www.c.com".into()), ..Request::get("/") });
    assert!(cites(&r, "REQ-05"), "{}", trace(&r));
}

#[test]
fn http10_without_host_may_reach_host_bindings_by_policy() {
    let mut m = machine_with(Edition::Win2003, &[], &[(policy::REQ_NO_HOST_BINDING, "any")]);
    let spec =
        SiteSpec { id: Some(7), name: "h".into(), bindings: vec![":8080:only.host".into()], path: "C:\\h".into() };
    sites::create_site(&mut m, &spec).expect("site");
    let view = View::compile(&m);
    let req = Request { port: 8080, host: None, http10: true, ..Request::get("/") };
    let r = resolve(&view, &req);
    assert_eq!(r.target.map(|t| t.site), Some(7));
}

// ----- step 3: keys, applications, physical paths -----

#[test]
fn deepest_key_application_and_physical_path() {
    let m = web(Edition::Win2003, &[]);
    let view = View::compile(&m);
    // (url, key, app, app vpath, physical)
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("/a.htm", SITE_ROOT, SITE_ROOT, "/", r"C:\Inetpub\wwwroot\a.htm"),
        (
            "/SHOP/IMG/a.gif",
            "/LM/W3SVC/1/ROOT/shop/img",
            "/LM/W3SVC/1/ROOT/shop",
            "/shop",
            r"C:\Inetpub\wwwroot\shop\img\a.gif",
        ),
        (
            "/shop/deep/er/x.htm",
            "/LM/W3SVC/1/ROOT/shop",
            "/LM/W3SVC/1/ROOT/shop",
            "/shop",
            r"C:\Inetpub\wwwroot\shop\deep\er\x.htm",
        ),
        ("/plain/index.htm", "/LM/W3SVC/1/ROOT/plain", SITE_ROOT, "/", r"C:\Inetpub\wwwroot\plain\index.htm"),
        ("/nothere/x/y.htm", SITE_ROOT, SITE_ROOT, "/", r"C:\Inetpub\wwwroot\nothere\x\y.htm"),
    ];
    for (url, key, app, vpath, physical) in cases {
        let r = resolve(&view, &Request::get(url));
        let t = r.target.clone().unwrap_or_else(|| panic!("{url}: no target\n{}", trace(&r)));
        assert_eq!(
            (t.site, &*t.key, &*t.app, &*t.app_vpath, t.physical.as_str()),
            (1, *key, *app, *vpath, *physical),
            "{url}"
        );
        assert!(cites(&r, "REQ-06") && cites(&r, "MB-21"), "{url}");
    }
    // The application's pool and isolation travel with the ISAPI call.
    let r = resolve(&view, &Request::get("/shop/cart.aspx"));
    let c = call(&r);
    assert_eq!((&*c.target.pool, c.app_isolated), ("ShopPool", 1));
    assert_eq!(&*c.target.app_vpath, "/shop");
}

// ----- steps 4 to 6: wildcard maps, script segments, extension maps -----

#[test]
fn script_segments_and_extension_maps() {
    let m = web(Edition::Win2003, &[]);
    let view = View::compile(&m);
    // (method, url, summary, script_url or "" for replies, path_info, rule that must be cited)
    let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
        ("GET", "/Default.aspx", "isapi aspnet 1.1.4322", "/Default.aspx", "", "REQ-10"),
        ("GET", "/default.ASPX?x=1", "isapi aspnet 1.1.4322", "/default.ASPX", "", "SM-02"),
        ("GET", "/foo.asp/x.jpg", "isapi asp.dll", "/foo.asp", "/x.jpg", "SM-11"),
        ("GET", "/shell.asp;.jpg", "isapi asp.dll", "/shell.asp;.jpg", "", "SM-10"),
        ("GET", "/x.aspx/page.htm", "isapi aspnet 1.1.4322", "/x.aspx", "/page.htm", "SM-11"),
        ("GET", "/file.asp.", "isapi asp.dll", "/file.asp", "", "SEC-06"),
        ("GET", "/file.asp%20.", "isapi asp.dll", "/file.asp", "", "SEC-06"),
        ("GET", "/file.asp::$DATA", "404", "", "", "SEC-05"),
        ("GET", "/docs.htm/some.asp", "404", "", "", "SEC-09"),
        ("GET", "/missing.asp", "404", "", "", "SM-03"),
        ("GET", "/global.asa", "500.15", "", "", "SEC-10"),
        ("PUT", "/Default.aspx", "403.1", "", "", "SM-04"),
        ("DELETE", "/foo.asp", "403.1", "", "", "REQ-10"),
        ("GET", "/noexec/x.aspx", "403.1", "", "", "SM-03"),
        ("GET", "/noexec/x.cgi", "403.1", "", "", "SM-03"),
        ("GET", "/exec/x.cgi", "isapi cgi.exe", "/exec/x.cgi", "", "REQ-10"),
        ("GET", "/v4/x.aspx", "404.2", "", "", "SHR-04"),
        ("GET", "/shop/cart.aspx/more/info", "isapi aspnet 1.1.4322", "/shop/cart.aspx", "/more/info", "SM-11"),
        ("GET", "/web.config", "isapi aspnet 1.1.4322", "/web.config", "", "HDR-07"),
        ("GET", "/nomaps/x.aspx", "404.3", "", "", "REQ-11"),
        ("GET", "/nomaps/web.config", "404.3", "", "", "REQ-11"),
    ];
    for (method, url, want, script_url, path_info, rule) in cases {
        let r = resolve(&view, &Request::new(method, url));
        let row = format!("{method} {url}");
        assert_eq!(summary(&r), *want, "{row}\n{}", trace(&r));
        assert!(cites(&r, rule), "{row} must cite {rule}\n{}", trace(&r));
        if let Outcome::Isapi(c) = &r.outcome {
            assert_eq!((c.script_url.as_str(), c.path_info.as_str()), (*script_url, *path_info), "{row}");
            assert!(!c.wildcard, "{row}");
            assert_eq!(c.method, *method, "{row}");
        }
    }
    let r = resolve(&view, &Request::get("/default.aspx?x=1&y=2"));
    assert_eq!(call(&r).query, "x=1&y=2");
}

#[test]
fn translate_f_never_returns_mapped_source() {
    let m = web(Edition::Win2003, &[]);
    let view = View::compile(&m);
    for url in ["/foo.asp", "/Default.aspx", "/file.asp.", "/shell.asp;.jpg"] {
        let mut req = Request::get(url);
        req.headers.push(("Translate".into(), "f".into()));
        let r = resolve(&view, &req);
        assert!(matches!(r.outcome, Outcome::Isapi(_)), "{url}: {}\n{}", summary(&r), trace(&r));
        assert!(cites(&r, "SEC-07"), "{url}");
    }
}

#[test]
fn security_policies_change_the_answer() {
    // (policy, value, url, summary, rule)
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (policy::SEC_SEMICOLON_EXTENSION, "strict", "/shell.asp;.jpg", "404", "SEC-08"),
        (policy::SEC_TRAILING_DOT, "reject", "/file.asp.", "404", "SEC-06"),
        (policy::SEC_COLON_STATUS, "400", "/file.asp::$DATA", "400", "SEC-05"),
        (policy::REQ_VERB_NOT_ALLOWED, "405", "/Default.aspx", "405", "REQ-10"),
    ];
    for (name, value, url, want, rule) in cases {
        let m = web(Edition::Win2003, &[(name, value)]);
        let view = View::compile(&m);
        let method = if *name == policy::REQ_VERB_NOT_ALLOWED { "PUT" } else { "GET" };
        let r = resolve(&view, &Request::new(method, url));
        assert_eq!(summary(&r), *want, "{name}={value} {url}\n{}", trace(&r));
        assert!(cites(&r, rule), "{name}={value} {url}");
        // The IIS (not HTTP.sys) answer carries IIS's headers.
        assert_eq!(reply(&r).header("Server"), Some("Microsoft-IIS/6.0"));
    }
}

#[test]
fn isapi_call_details() {
    let mut m = web(Edition::Win2003, &[]);
    set(&mut m, &format!("{SITE_ROOT}/shop"), "InProcessIsapiApps", multi(&["asp.dll"]));
    files(&mut m, "shop", &["old.asp"]);
    let view = View::compile(&m);
    let r = resolve(&view, &Request::get("/Default.aspx"));
    let c = call(&r);
    assert_eq!(c.dll.to_ascii_lowercase(), r"c:\windows\microsoft.net\framework\v1.1.4322\aspnet_isapi.dll");
    assert_eq!(c.aspnet, Some(V1_1));
    assert!(c.in_process, "registration lists every aspnet_isapi.dll in InProcessIsapiApps (SHR-03)");
    assert_eq!(&*c.target.pool, "DefaultAppPool");
    assert_eq!(
        c.base_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(),
        [("Server", "Microsoft-IIS/6.0"), ("X-Powered-By", "ASP.NET")]
    );
    let r = resolve(&view, &Request::get("/foo.asp"));
    assert!(!call(&r).in_process, "asp.dll is not in the root's InProcessIsapiApps");
    // A bare file name in InProcessIsapiApps matches the DLL wherever it lives (MB-23).
    let r = resolve(&view, &Request::get("/shop/old.asp"));
    assert!(call(&r).in_process, "{}", trace(&r));
}

#[test]
fn wildcard_maps_run_first_on_iis6() {
    // (edition, policies, url, summary, wildcard)
    type Row = (Edition, &'static [(&'static str, &'static str)], &'static str, &'static str, bool);
    let cases: &[Row] = &[
        (Edition::Win2003, &[], "/wild/exists.htm", "isapi wild.dll", true),
        (Edition::Win2003, &[], "/wild/missing.htm", "404", false),
        (Edition::Win2003, &[], "/wild/", "isapi wild.dll", true),
        (Edition::Win2003, &[], "/wild/sub/a.htm", "200", false),
        (Edition::Win2003, &[(policy::SM_WILDCARD_INHERIT, "separate")], "/wild/sub/a.htm", "isapi wild.dll", true),
        (Edition::Win2000, &[], "/wild/exists.htm", "200", false),
        (Edition::Win2000, &[(policy::SM_IIS5_WILDCARDS, "iis6")], "/wild/exists.htm", "isapi wild.dll", true),
    ];
    for (edition, settings, url, want, wildcard) in cases {
        let m = web(*edition, settings);
        let view = View::compile(&m);
        let r = resolve(&view, &Request::get(url));
        let row = format!("{edition:?} {settings:?} {url}");
        assert_eq!(summary(&r), *want, "{row}\n{}", trace(&r));
        if let Outcome::Isapi(c) = &r.outcome {
            assert_eq!(c.wildcard, *wildcard, "{row}");
            assert!(cites(&r, "REQ-09") && cites(&r, "SM-07"), "{row}");
        }
        if edition == &Edition::Win2000 && *want == "200" {
            assert!(cites(&r, "SM-06"), "{row}: the inert `*` map is recorded");
        }
        if *url == "/wild/missing.htm" {
            assert!(cites(&r, "REQ-09"), "{row}");
        }
    }
    // A wildcard ISAPI sees the whole URL as the script name.
    let view = View::compile(&web(Edition::Win2003, &[]));
    let r = resolve(&view, &Request::get("/wild/?a=b"));
    let c = call(&r);
    assert_eq!((c.script_url.as_str(), c.path_info.as_str(), c.query.as_str()), ("/wild/", "", "a=b"));
}

#[test]
fn iis5_dotstar_maps_unmapped_extensions() {
    // (policy value, url, summary)
    let cases: &[(&str, &str, &str)] = &[
        ("dotstar_only", "/file.xyz", "isapi dotstar.dll"),
        ("dotstar_only", "/a.htm", "isapi dotstar.dll"),
        ("dotstar_only", "/foo.asp", "isapi asp.dll"),
        ("none", "/file.xyz", "200"),
    ];
    for (value, url, want) in cases {
        let mut m = web(Edition::Win2000, &[(policy::SM_IIS5_WILDCARDS, value)]);
        let mut maps = root_maps(&m);
        maps.push(r".*,C:\tools\dotstar.dll,1".into());
        set(&mut m, SITE_ROOT, "ScriptMaps", Value::MultiSz(maps));
        let view = View::compile(&m);
        let r = resolve(&view, &Request::get(url));
        assert_eq!(summary(&r), *want, "{value} {url}\n{}", trace(&r));
        if *want == "isapi dotstar.dll" {
            assert!(cites(&r, "SM-06"), "{value} {url}");
        }
    }
}

// ----- step 7: directories -----

#[test]
fn directory_urls() {
    let m = web(Edition::Win2003, &[]);
    let view = View::compile(&m);
    // (method, url, summary, Location or script_url, rule)
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("GET", "/shop", "301", "http://localhost/shop/", "REQ-08"),
        ("GET", "/shop/img", "301", "http://localhost/shop/img/", "REQ-08"),
        ("GET", "/shop/", "isapi aspnet 1.1.4322", "/shop/Default.aspx", "REQ-08"),
        ("GET", "/", "isapi aspnet 1.1.4322", "/Default.aspx", "REQ-08"),
        ("GET", "/plain/", "200", "", "REQ-08"),
        ("GET", "/list/", "200", "", "REQ-08"),
        ("GET", "/empty/", "403.14", "", "REQ-08"),
        ("POST", "/plain/", "405", "", "REQ-11"),
        ("GET", "/a.htm/", "404", "", "REQ-11"),
    ];
    for (method, url, want, extra, rule) in cases {
        let r = resolve(&view, &Request::new(method, url));
        let row = format!("{method} {url}");
        assert_eq!(summary(&r), *want, "{row}\n{}", trace(&r));
        assert!(cites(&r, rule), "{row} must cite {rule}\n{}", trace(&r));
        match &r.outcome {
            Outcome::Reply(rep) if rep.status == 301 => assert_eq!(rep.header("Location"), Some(*extra), "{row}"),
            Outcome::Isapi(c) => assert_eq!(c.script_url, *extra, "{row}"),
            _ => {}
        }
    }
    let r = resolve(&view, &Request::get("/plain/"));
    assert_eq!(reply(&r).body, r"(contents of C:\Inetpub\wwwroot\plain\index.htm)");
    let r = resolve(&view, &Request::get("/list/"));
    let rep = reply(&r);
    assert_eq!(rep.header("Content-Type"), Some("text/html"));
    assert!(rep.body.contains(">one.txt</A>") && rep.body.contains(">sub</A>"), "{}", rep.body);
    assert!(rep.body.contains("&lt;dir&gt;"), "{}", rep.body);
}

#[test]
fn directory_policies_and_iis5() {
    let m = web(Edition::Win2003, &[(policy::REQ_COURTESY_REDIRECT_STATUS, "301")]);
    let view = View::compile(&m);
    let req = Request { host: Some("www.example.com:8080".into()), port: 80, ..Request::get("/shop") };
    let r = resolve(&view, &req);
    assert_eq!(summary(&r), "301");
    assert_eq!(reply(&r).header("Location"), Some("http://www.example.com:8080/shop/"));

    let m = web(Edition::Win2000, &[]);
    let view = View::compile(&m);
    let r = resolve(&view, &Request::new("POST", "/plain/"));
    assert_eq!(summary(&r), "405", "{}", trace(&r));
    assert!(cites(&r, "REQ-08"));
    let r = resolve(&view, &Request::get("/plain/"));
    assert_eq!(summary(&r), "200");
    assert_eq!(reply(&r).header("Server"), Some("Microsoft-IIS/5.0"));
}

// ----- step 8: static files -----

#[test]
fn static_files() {
    // (edition, method, url, summary, Content-Type)
    let cases: &[(Edition, &str, &str, &str, &str)] = &[
        (Edition::Win2003, "GET", "/a.htm", "200", "text/html"),
        (Edition::Win2003, "HEAD", "/a.htm", "200", "text/html"),
        (Edition::Win2003, "POST", "/a.htm", "405", "text/html"),
        (Edition::Win2003, "PROPFIND", "/a.htm", "405", "text/html"),
        (Edition::Win2003, "GET", "/missing.htm", "404", "text/html"),
        (Edition::Win2003, "GET", "/file.xyz", "404.3", "text/html"),
        (Edition::Win2003, "GET", "/noext", "404.3", "text/html"),
        (Edition::Win2003, "GET", "/noread/a.htm", "403.2", "text/html"),
        (Edition::Win2003, "GET", "/empty/readme.txt", "200", "text/plain"),
        (Edition::Win2000, "GET", "/file.xyz", "200", "application/octet-stream"),
        (Edition::WinXp, "GET", "/a.htm", "200", "text/html"),
    ];
    for (edition, method, url, want, ctype) in cases {
        let m = web(*edition, &[]);
        let view = View::compile(&m);
        let r = resolve(&view, &Request::new(method, url));
        let row = format!("{edition:?} {method} {url}");
        assert_eq!(summary(&r), *want, "{row}\n{}", trace(&r));
        assert!(cites(&r, "REQ-11"), "{row}");
        let rep = reply(&r);
        assert_eq!(rep.header("Content-Type"), Some(*ctype), "{row}");
        assert_eq!(rep.header("Server"), Some(format!("Microsoft-IIS/{}", edition.iis_version()).as_str()), "{row}");
        assert_eq!(rep.header("X-Powered-By"), Some("ASP.NET"), "{row}: custom headers on every IIS answer");
        if *method == "HEAD" {
            assert!(rep.body.is_empty(), "{row}");
        }
        if *want == "200" && *method == "GET" {
            assert!(rep.body.starts_with("(contents of C:\\Inetpub\\wwwroot\\"), "{row}: {}", rep.body);
        }
    }
}

// ----- step 9: error replies -----

#[test]
fn custom_errors_and_httpsys_answers() {
    let mut m = web(Edition::Win2003, &[]);
    set(
        &mut m,
        SITE_ROOT,
        "HttpErrors",
        multi(&[r"404,*,FILE,%windir%\help\iisHelp\common\404b.htm", "403,14,URL,/errors/403.asp"]),
    );
    set(&mut m, &format!("{SITE_ROOT}/shop"), "HttpErrors", multi(&["404,3,FILE,C:\\errors\\mime.htm"]));
    let view = View::compile(&m);
    // (url, summary, body)
    let cases: &[(&str, &str, &str)] = &[
        ("/missing.htm", "404", r"(contents of C:\WINDOWS\help\iisHelp\common\404b.htm)"),
        ("/file.xyz", "404.3", r"(contents of C:\WINDOWS\help\iisHelp\common\404b.htm)"),
        ("/empty/", "403.14", "(document at /errors/403.asp)"),
        ("/shop/nothing.xyz", "404", "<html><head><title>The page cannot be found</title>"),
    ];
    for (url, want, body) in cases {
        let r = resolve(&view, &Request::get(url));
        assert_eq!(summary(&r), *want, "{url}\n{}", trace(&r));
        assert!(reply(&r).body.starts_with(body), "{url}: {}", reply(&r).body);
    }
    let r = resolve(&view, &Request::get("/file.xyz"));
    assert!(cites(&r, "REQ-13"));
    // HTTP.sys's own answers are never customised.
    for req in [Request::get("/.."), Request { host: Some("nobody.example".into()), port: 81, ..Request::get("/") }] {
        let r = resolve(&view, &req);
        let rep = reply(&r);
        assert_eq!(rep.status, 400, "{req:?}");
        assert!(!rep.body.contains("contents of"), "{req:?}");
        assert_eq!(rep.header("Server"), None, "{req:?}: HTTP.sys 1.0 sends no Server header (HTTP-02)");
    }
}

#[test]
fn every_decision_cites_known_rules() {
    let m = web(Edition::Win2003, &[]);
    let view = View::compile(&m);
    for url in ["/", "/shop", "/shop/", "/list/", "/foo.asp/x", "/file.asp.", "/x::$DATA", "/v4/x.aspx", "/a.htm"] {
        let r = resolve(&view, &Request::get(url));
        for d in &r.decisions {
            assert!(!d.rules.is_empty(), "{url}: {} cites no rule", d.text);
            for rule in &d.rules {
                assert!(iisim::rules::find(rule).is_some(), "{url}: unknown rule {rule}");
            }
        }
    }
}

// ----- properties -----

fn prop_view() -> &'static View {
    static VIEW: std::sync::OnceLock<View> = std::sync::OnceLock::new();
    VIEW.get_or_init(|| View::compile(&web(Edition::Win2003, &[])))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn resolution_stays_inside_the_site_root(
        url in "(/[a-zA-Z0-9._;:~ %\\\\]{0,10}){0,6}/?(\\?[a-z=&]{0,6})?",
        raw in "\\PC{0,40}",
        method in "(GET|HEAD|POST|PUT|PROPFIND|get)",
        host in proptest::option::of("[a-zA-Z0-9.:\\[\\]]{0,20}"),
        http10 in any::<bool>(),
    ) {
        let view = prop_view();
        let root = view.site(1).map(|s| s.root_physical.to_ascii_lowercase()).unwrap_or_default();
        prop_assert!(!root.is_empty());
        for target in [url.as_str(), raw.as_str()] {
            let req = Request { host: host.clone(), http10, ..Request::new(&method, target) };
            let r = resolve(view, &req);
            if let Some(t) = &r.target {
                let p = t.physical.to_ascii_lowercase();
                prop_assert!(p == root || p.starts_with(&format!("{root}\\")), "{} -> {}", target, t.physical);
            }
            for d in &r.decisions {
                for rule in &d.rules {
                    prop_assert!(iisim::rules::find(rule).is_some(), "unknown rule {}", rule);
                }
            }
        }
    }

    /// The hot path and the explain path are one procedure: for any request they reach the same
    /// outcome and the same target, whatever the URL, verb, host or protocol version.
    #[test]
    fn the_hot_path_and_explain_agree(
        url in "(/[a-zA-Z0-9._;:~ %\\\\]{0,10}){0,6}/?(\\?[a-z=&]{0,6})?",
        raw in "\\PC{0,40}",
        method in "(GET|HEAD|POST|PUT|TRACE|PROPFIND|get)",
        host in proptest::option::of("[a-zA-Z0-9.:\\[\\]]{0,20}"),
        http10 in any::<bool>(),
        port in prop_oneof![Just(80u16), Just(8080u16), Just(81u16)],
    ) {
        let view = prop_view();
        for target in [url.as_str(), raw.as_str()] {
            let req = Request { host: host.clone(), http10, port, ..Request::new(&method, target) };
            let full = resolve(view, &req);
            let fast = iisim::dispatch::resolve_fast(view, &req);
            prop_assert_eq!(&full.outcome, &fast.outcome(), "{}", target);
            prop_assert_eq!(&full.target, &fast.target.as_ref().map(|p| p.target()), "{}", target);
        }
    }
}
