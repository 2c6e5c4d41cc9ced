//! .NET Framework setup's remap rule across every ordered pair of versions, and what uninstalling
//! a runtime does to the applications and shared resources left behind (SET-01..07, CMP-01,
//! REG-11, SHR-01, SHR-05, SHR-06).
//!
//! Expectations are written out per case, not computed with the rule under test.

mod common;

use common::own_aspnet_dlls;
use iisim::edition::Edition;
use iisim::machine::journal::Level;
use iisim::machine::Machine;
use iisim::metabase::Value;
use iisim::process::World;
use iisim::registration;
use iisim::runtime::Version::{self, V1_0, V1_1, V2_0, V4_0};
use iisim::setup::{self, Product};
use iisim::sites::{self, AppSpec, SiteSpec};

const ROOT: &str = "/LM/W3SVC";
const SITE_ROOT: &str = "/LM/W3SVC/1/ROOT";
/// An application pinned to the first version with its own ScriptMaps.
const PINNED: &str = "/LM/W3SVC/1/ROOT/shop";
/// An application without own ScriptMaps: it follows the root.
const INHERITING: &str = "/LM/W3SVC/1/ROOT/news";

fn new_machine(edition: Edition) -> Machine {
    common::machine(edition, &[])
}

fn install(m: &mut Machine, v: Version, upgrade: bool, case: &str) {
    let r = setup::install(m, &mut World::default(), Product::Runtime(v), upgrade);
    assert_eq!(r.exit, 0, "{case}: setup of {v} (upgrade {upgrade}): {:?}", r.output);
}

fn uninstall(m: &mut Machine, v: Version, case: &str) {
    let r = setup::uninstall(m, &mut World::default(), Product::Runtime(v));
    assert_eq!(r.exit, 0, "{case}: uninstall of {v}: {:?}", r.output);
}

fn app(m: &mut Machine, path: &str) {
    let name = path.rsplit('/').next().unwrap_or_default();
    let spec = AppSpec {
        path: path.into(),
        physical_path: Some(format!(r"C:\Inetpub\wwwroot\{name}")),
        application: true,
        ..Default::default()
    };
    sites::create_app(m, &spec).unwrap_or_else(|e| panic!("create {path}: {e}"));
}

/// Pins `path` to `v` with explicit maps, as the scenario runner does.
fn pin(m: &mut Machine, path: &str, v: Version) {
    registration::install_maps(m, v, path, true).unwrap_or_else(|e| panic!("pin {path} to {v}: {e}"));
}

fn version(m: &Machine, path: &str) -> Option<Version> {
    registration::app_version(m, path)
}

fn script_maps(m: &Machine, path: &str) -> Option<Value> {
    m.metabase().own(path, "ScriptMaps").cloned()
}

/// Every metabase key whose own ScriptMaps names an ASP.NET DLL.
fn keys_mapping_aspnet(m: &Machine) -> Vec<String> {
    m.metabase().keys().map(|k| k.path().to_string()).filter(|p| !own_aspnet_dlls(m, p).is_empty()).collect()
}

/// Editions a pair can be tested on: 4.0 does not install on Windows 2000.
fn editions(versions: &[Version]) -> Vec<Edition> {
    if versions.contains(&V4_0) {
        vec![Edition::WinXp, Edition::Win2003]
    } else {
        vec![Edition::Win2000, Edition::WinXp, Edition::Win2003]
    }
}

// ----- installing B over A -----

/// Version A installed (root on A), `shop` pinned to A; then setup of B with default options.
struct Pair {
    installed: Version,
    new: Version,
    /// Where the pinned app and the root are after B's setup with default options.
    after_default: Version,
    why: &'static str,
}

const fn pair(installed: Version, new: Version, after_default: Version, why: &'static str) -> Pair {
    Pair { installed, new, after_default, why }
}

/// Every ordered pair of distinct versions (SET-01..04, CMP-01).
const PAIRS: [Pair; 12] = [
    pair(V1_0, V1_1, V1_1, "SET-02: 1.1 is later and compatible with 1.0"),
    pair(V1_0, V2_0, V1_0, "SET-03: 2.0 is not compatible with 1.x"),
    pair(V1_0, V4_0, V1_0, "SET-04/CMP-01: 4.0 is not compatible with 1.x"),
    pair(V1_1, V1_0, V1_1, "SET-01: setup never moves an app to an earlier version"),
    pair(V1_1, V2_0, V1_1, "SET-03: 2.0 setup leaves 1.1 apps and the root alone"),
    pair(V1_1, V4_0, V1_1, "SET-04/CMP-01: 4.0 setup leaves 1.x alone"),
    pair(V2_0, V1_0, V2_0, "SET-01: earlier and incompatible"),
    pair(V2_0, V1_1, V2_0, "SET-01: earlier and incompatible"),
    pair(V2_0, V4_0, V2_0, "SET-04: root and 2.0 apps stay on 2.0"),
    pair(V4_0, V1_0, V4_0, "SET-01: earlier and incompatible"),
    pair(V4_0, V1_1, V4_0, "SET-01: earlier and incompatible"),
    pair(V4_0, V2_0, V4_0, "SET-01: earlier and incompatible"),
];

#[test]
fn pair_table_covers_every_ordered_pair() {
    for a in Version::ALL {
        for b in Version::ALL.into_iter().filter(|b| *b != a) {
            let n = PAIRS.iter().filter(|p| p.installed == a && p.new == b).count();
            assert_eq!(n, 1, "pair {a} -> {b} listed once");
        }
    }
}

/// Builds the starting machine of a pair: A by setup (which maps the root, SET-03 empty case),
/// `shop` pinned to A, `news` inheriting.
fn start(edition: Edition, a: Version, case: &str) -> Machine {
    let mut m = new_machine(edition);
    install(&mut m, a, true, case);
    app(&mut m, PINNED);
    app(&mut m, INHERITING);
    pin(&mut m, PINNED, a);
    assert_eq!([version(&m, ROOT), version(&m, PINNED), version(&m, INHERITING)], [Some(a); 3], "{case}: start");
    assert!(script_maps(&m, PINNED).is_some() && script_maps(&m, INHERITING).is_none(), "{case}: start");
    m
}

#[test]
fn setup_with_default_options_moves_only_to_a_later_compatible_version() {
    for p in &PAIRS {
        for edition in editions(&[p.installed, p.new]) {
            let case = format!("{edition}: {} installed, setup of {} ({})", p.installed, p.new, p.why);
            let mut m = start(edition, p.installed, &case);
            let pinned_before = script_maps(&m, PINNED);
            let root_before = script_maps(&m, ROOT);
            install(&mut m, p.new, true, &case);
            assert_eq!(m.registered().len(), 2, "{case}: both registered");
            assert_eq!(version(&m, PINNED), Some(p.after_default), "{case}: pinned app");
            assert_eq!(version(&m, ROOT), Some(p.after_default), "{case}: root /LM/W3SVC");
            assert_eq!(version(&m, INHERITING), Some(p.after_default), "{case}: inheriting app");
            assert_eq!(
                m.registry().get(r"HKLM\SOFTWARE\Microsoft\ASP.NET", "RootVer"),
                Some(p.after_default.registry()),
                "{case}: RootVer (VER-07)"
            );
            if p.after_default == p.installed {
                assert_eq!(script_maps(&m, PINNED), pinned_before, "{case}: pinned app's maps untouched");
                assert_eq!(script_maps(&m, ROOT), root_before, "{case}: root maps untouched");
            } else {
                for path in [ROOT, PINNED] {
                    assert_eq!(
                        own_aspnet_dlls(&m, path),
                        [m.isapi_path(p.new).to_ascii_lowercase()],
                        "{case}: every entry at {path} moved"
                    );
                }
            }
        }
    }
}

#[test]
fn setup_with_noaspupgrade_moves_nothing() {
    for p in &PAIRS {
        for edition in editions(&[p.installed, p.new]) {
            let case = format!("{edition}: {} installed, setup of {} /noaspupgrade", p.installed, p.new);
            let mut m = start(edition, p.installed, &case);
            let before: Vec<_> = [ROOT, SITE_ROOT, PINNED, INHERITING].iter().map(|k| script_maps(&m, k)).collect();
            install(&mut m, p.new, false, &case);
            assert!(m.registered().contains(&p.new), "{case}: registered anyway");
            let after: Vec<_> = [ROOT, SITE_ROOT, PINNED, INHERITING].iter().map(|k| script_maps(&m, k)).collect();
            assert_eq!(after, before, "{case}: no script map changed");
            assert_eq!(
                [version(&m, ROOT), version(&m, PINNED), version(&m, INHERITING)],
                [Some(p.installed); 3],
                "{case}: everything stays on {}",
                p.installed
            );
        }
    }
}

/// 1.1 setup remaps 1.0 maps and adds bit 4 to the forbidden entries 1.0 wrote (SET-02, MAP-09).
#[test]
fn v11_setup_over_v10_rewrites_forbidden_flags() {
    let mut m = start(Edition::Win2000, V1_0, "1.0 then 1.1");
    let flags = |m: &Machine, ext: &str| -> Option<String> {
        let list = m.metabase().own(PINNED, "ScriptMaps")?.as_multi()?.to_vec();
        list.iter()
            .find(|e| e.to_ascii_lowercase().starts_with(&format!("{ext},")))
            .and_then(|e| e.split(',').nth(2))
            .map(str::to_string)
    };
    assert_eq!(flags(&m, ".cs").as_deref(), Some("1"), "1.0 writes forbidden entries with flags 1");
    install(&mut m, V1_1, true, "1.0 then 1.1");
    assert_eq!(flags(&m, ".cs").as_deref(), Some("5"), "moved to 1.1: flags 5");
    assert_eq!(flags(&m, ".aspx").as_deref(), Some("1"), "executed stays 1");
}

/// After 2.0 or 4.0 setup over 1.x/2.0, a new site inherits the old root version (SET-03, SET-04, MAP-06).
#[test]
fn new_sites_keep_the_old_default_after_a_major_upgrade() {
    let cases: &[(Edition, Version, Version)] = &[
        (Edition::Win2000, V1_1, V2_0),
        (Edition::WinXp, V1_0, V2_0),
        (Edition::Win2003, V2_0, V4_0),
        (Edition::Win2003, V1_1, V4_0),
    ];
    for &(edition, a, b) in cases {
        let case = format!("{edition}: {a} then {b}");
        let mut m = start(edition, a, &case);
        install(&mut m, b, true, &case);
        let site = sites::create_site(
            &mut m,
            &SiteSpec { id: Some(7), name: "New".into(), bindings: vec![":8080:".into()], path: r"D:\new".into() },
        )
        .unwrap();
        assert_eq!(version(&m, &format!("{site}/ROOT")), Some(a), "{case}: new site");
    }
}

/// With no ASP.NET map anywhere, setup maps the root (SET-03 empty case), for every version.
#[test]
fn first_setup_maps_the_root() {
    for v in Version::ALL {
        for edition in editions(&[v]) {
            let case = format!("{edition}: first setup of {v}");
            let mut m = new_machine(edition);
            install(&mut m, v, true, &case);
            assert_eq!(own_aspnet_dlls(&m, ROOT), [m.isapi_path(v).to_ascii_lowercase()], "{case}");
            assert_eq!(version(&m, SITE_ROOT), Some(v), "{case}: site 1 inherits");
        }
    }
}

/// 4.0 setup on IIS 6 adds its Web Service Extension Prohibited; 2.0's is Allowed (SET-04, SHR-04).
#[test]
fn v40_setup_adds_a_prohibited_extension() {
    let mut m = start(Edition::Win2003, V2_0, "2.0 then 4.0");
    install(&mut m, V4_0, true, "2.0 then 4.0");
    let rows =
        m.metabase().own(ROOT, "WebSvcExtRestrictionList").and_then(|v| v.as_multi()).unwrap_or_default().to_vec();
    for (v, allow) in [(V2_0, '1'), (V4_0, '0')] {
        let want = format!("{allow},{},0,ASP.NET v{1},ASP.NET v{1}", m.isapi_path(v), v.short());
        assert!(rows.contains(&want), "{v}: {want} in {rows:?}");
    }
}

/// 4.0 cannot be installed on Windows 2000: setup fails and changes nothing.
#[test]
fn v40_setup_refused_on_windows_2000() {
    let mut m = start(Edition::Win2000, V1_1, "2000");
    let r = setup::install(&mut m, &mut World::default(), Product::Runtime(V4_0), true);
    assert_ne!(r.exit, 0, "{:?}", r.output);
    assert!(!m.runtime(V4_0).installed);
    assert_eq!(m.registered(), [V1_1]);
    assert_eq!(version(&m, ROOT), Some(V1_1));
}

// ----- uninstalling -----

/// Several runtimes installed, one app pinned to each; uninstall one (REG-11, SET-06, SHR-05, SHR-06).
struct Removal {
    name: &'static str,
    edition: Edition,
    installed: &'static [Version],
    remove: Version,
    /// (app, version before, version after)
    apps: &'static [(&'static str, Version, Version)],
    /// The root's version after.
    root_after: Version,
    /// Highest remaining runtime: owner of the state service, generic counters and filter.
    highest: Version,
}

const APP10: &str = "/LM/W3SVC/1/ROOT/app10";
const APP11: &str = "/LM/W3SVC/1/ROOT/app11";
const APP20: &str = "/LM/W3SVC/1/ROOT/app20";
const APP40: &str = "/LM/W3SVC/1/ROOT/app40";

const REMOVALS: &[Removal] = &[
    Removal {
        name: "uninstall the highest (4.0): its apps go to 2.0",
        edition: Edition::Win2003,
        installed: &[V1_1, V2_0, V4_0],
        remove: V4_0,
        apps: &[(APP11, V1_1, V1_1), (APP20, V2_0, V2_0), (APP40, V4_0, V2_0)],
        root_after: V1_1,
        highest: V2_0,
    },
    Removal {
        name: "uninstall the highest (2.0) on XP: its apps go to 1.1, no compatibility check",
        edition: Edition::WinXp,
        installed: &[V1_0, V1_1, V2_0],
        remove: V2_0,
        apps: &[(APP10, V1_0, V1_0), (APP11, V1_1, V1_1), (APP20, V2_0, V1_1)],
        root_after: V1_1,
        highest: V1_1,
    },
    Removal {
        name: "uninstall the highest (1.1) on Windows 2000: apps and root go to 1.0",
        edition: Edition::Win2000,
        installed: &[V1_0, V1_1],
        remove: V1_1,
        apps: &[(APP10, V1_0, V1_0), (APP11, V1_1, V1_0)],
        root_after: V1_0,
        highest: V1_0,
    },
    Removal {
        name: "uninstall a middle one (2.0): its apps go to the highest remaining (4.0)",
        edition: Edition::Win2003,
        installed: &[V1_1, V2_0, V4_0],
        remove: V2_0,
        apps: &[(APP11, V1_1, V1_1), (APP20, V2_0, V4_0), (APP40, V4_0, V4_0)],
        root_after: V1_1,
        highest: V4_0,
    },
    Removal {
        name: "uninstall the root's runtime (1.1): root and its apps go to 4.0",
        edition: Edition::Win2003,
        installed: &[V1_1, V2_0, V4_0],
        remove: V1_1,
        apps: &[(APP11, V1_1, V4_0), (APP20, V2_0, V2_0), (APP40, V4_0, V4_0)],
        root_after: V4_0,
        highest: V4_0,
    },
];

#[test]
fn uninstall_moves_apps_to_the_highest_remaining_runtime() {
    for r in REMOVALS {
        let name = r.name;
        let mut m = new_machine(r.edition);
        for &v in r.installed {
            install(&mut m, v, true, name);
        }
        for &(path, v, _) in r.apps {
            app(&mut m, path);
            pin(&mut m, path, v);
        }
        app(&mut m, INHERITING);
        let before: Vec<_> = r.apps.iter().map(|(p, _, _)| version(&m, p)).collect();
        assert_eq!(before, r.apps.iter().map(|(_, v, _)| Some(*v)).collect::<Vec<_>>(), "{name}: start");

        // A custom state-service port survives the re-registration (SHR-06).
        let top = *r.installed.last().expect("installed oldest first");
        let top_state = format!(r"{}\aspnet_state.exe", m.framework_dir(top));
        assert_eq!(m.service("aspnet_state").map(|s| s.image.as_str()), Some(top_state.as_str()), "{name}: start");
        assert_eq!(m.resource("perf:ASP.NET"), Some(top.short()), "{name}: start");
        let params = r"HKLM\SYSTEM\CurrentControlSet\Services\aspnet_state\Parameters";
        m.reg_set(params, "Port", "42425", &["SHR-06"]);

        uninstall(&mut m, r.remove, name);
        assert!(!m.registered().contains(&r.remove), "{name}: unregistered");
        assert!(!m.runtime(r.remove).installed, "{name}: files removed");
        for &(path, _, after) in r.apps {
            assert_eq!(version(&m, path), Some(after), "{name}: {path}");
            if !own_aspnet_dlls(&m, path).is_empty() {
                assert_eq!(
                    own_aspnet_dlls(&m, path),
                    [m.isapi_path(after).to_ascii_lowercase()],
                    "{name}: every entry at {path}"
                );
            }
        }
        assert_eq!(version(&m, ROOT), Some(r.root_after), "{name}: root");
        assert_eq!(version(&m, INHERITING), Some(r.root_after), "{name}: inheriting app follows the root");
        let removed_dll = m.isapi_path(r.remove).to_ascii_lowercase();
        assert!(
            !keys_mapping_aspnet(&m).iter().any(|k| own_aspnet_dlls(&m, k).contains(&removed_dll)),
            "{name}: no key maps the removed runtime"
        );

        let state = format!(r"{}\aspnet_state.exe", m.framework_dir(r.highest));
        assert_eq!(
            m.service("aspnet_state").map(|s| s.image.as_str()),
            Some(state.as_str()),
            "{name}: SHR-06 state service"
        );
        assert_eq!(m.registry().get(params, "Port"), Some("42425"), "{name}: SHR-06 keeps Port");
        assert_eq!(m.resource("perf:ASP.NET"), Some(r.highest.short()), "{name}: SHR-05 generic counters");
        assert_eq!(m.resource("perf:ASP.NET Applications"), Some(r.highest.short()), "{name}: SHR-05");
        assert_eq!(m.resource(&format!("perf:ASP.NET v{}", r.remove.short())), None, "{name}: its own counters go");
        // SHR-01: one global filter, the highest remaining runtime's (none on a 1.0-only machine).
        let filters: Vec<String> = m
            .metabase()
            .children("/LM/W3SVC/Filters")
            .map(|k| k.path().rsplit('/').next().unwrap_or_default().to_string())
            .filter(|n| n.to_ascii_lowercase().starts_with("asp.net_"))
            .collect();
        let want: Vec<String> =
            if r.highest == V1_0 { vec![] } else { vec![format!("ASP.NET_{}", r.highest.registry())] };
        assert_eq!(filters, want, "{name}: SHR-01 filter");
    }
}

/// Uninstalling the last runtime removes every ASP.NET map, the state service and the counters
/// and logs warning 1026 (SET-07, SHR-05, SHR-06).
#[test]
fn uninstalling_the_last_runtime_removes_every_aspnet_map() {
    let cases: &[(&str, Edition, &[Version])] = &[
        ("1.0 alone on Windows 2000", Edition::Win2000, &[V1_0]),
        ("1.1 alone on XP", Edition::WinXp, &[V1_1]),
        ("2.0 alone on 2003", Edition::Win2003, &[V2_0]),
        ("4.0 alone on 2003", Edition::Win2003, &[V4_0]),
        ("1.1 then 2.0 on 2003, removed highest first", Edition::Win2003, &[V1_1, V2_0]),
        ("2.0 then 4.0 on XP, removed highest first", Edition::WinXp, &[V2_0, V4_0]),
    ];
    for &(name, edition, installed) in cases {
        let mut m = new_machine(edition);
        for &v in installed {
            install(&mut m, v, true, name);
        }
        app(&mut m, PINNED);
        app(&mut m, INHERITING);
        pin(&mut m, PINNED, installed[0]);
        let root_entries = script_maps(&m, ROOT).and_then(|v| v.as_multi().map(<[String]>::len)).unwrap_or(0);
        for &v in installed.iter().rev() {
            let events = m.events().len();
            uninstall(&mut m, v, name);
            let last = m.registered().is_empty();
            let warned = m.events()[events..].iter().any(|e| e.id == 1026 && e.level == Level::Warning);
            assert_eq!(warned, last, "{name}: warning 1026 only for the last one (uninstalling {v})");
        }
        assert_eq!(keys_mapping_aspnet(&m), Vec::<String>::new(), "{name}: no ASP.NET map left");
        for p in [ROOT, SITE_ROOT, PINNED, INHERITING] {
            assert_eq!(version(&m, p), None, "{name}: {p}");
        }
        let left = script_maps(&m, ROOT).and_then(|v| v.as_multi().map(<[String]>::to_vec)).unwrap_or_default();
        assert!(left.iter().any(|e| e.starts_with(".asp,")), "{name}: other handlers stay: {left:?}");
        assert!(left.len() < root_entries, "{name}: root list shrank");
        assert!(m.service("aspnet_state").is_none(), "{name}: SHR-06 state service removed");
        assert_eq!(m.resource("perf:ASP.NET"), None, "{name}: SHR-05 generic counters removed");
        assert!(m.registered().is_empty() && m.installed().is_empty(), "{name}");
        assert!(
            !m.metabase().children("/LM/W3SVC/Filters").any(|k| k.path().to_ascii_lowercase().contains("asp.net_")),
            "{name}: SET-07 filter removed"
        );
        assert_eq!(m.account("ASPNET").map(|a| a.enabled), Some(false), "{name}: SHR-08 ASPNET disabled");
        let default_doc = m.metabase().own(ROOT, "DefaultDoc").and_then(Value::as_str).unwrap_or_default().to_string();
        assert!(
            !default_doc.to_ascii_lowercase().contains("default.aspx"),
            "{name}: SET-07 default document: {default_doc}"
        );
        let mime = m.metabase().own("/LM/MimeMap", "MimeMap").and_then(|v| v.as_multi()).unwrap_or_default().join("|");
        assert!(!mime.contains(".wsdl,") && !mime.contains(".disco,"), "{name}: SET-07 MIME entries: {mime}");
        let in_proc =
            m.metabase().own(ROOT, "InProcessIsapiApps").and_then(|v| v.as_multi()).unwrap_or_default().join("|");
        assert!(
            !in_proc.to_ascii_lowercase().contains("aspnet_isapi.dll"),
            "{name}: SET-06/07 InProcessIsapiApps: {in_proc}"
        );
        let wse =
            m.metabase().own(ROOT, "WebSvcExtRestrictionList").and_then(|v| v.as_multi()).unwrap_or_default().join("|");
        assert!(!wse.to_ascii_lowercase().contains("aspnet_isapi.dll"), "{name}: SET-07 lockdown entries: {wse}");
    }
}
