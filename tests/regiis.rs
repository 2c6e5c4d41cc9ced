//! `aspnet_regiis.exe`: every switch, its output and its effect, and every way a command line is
//! refused (REG-01..REG-21, with the MAP-, SET- and SHR- rules the switches apply).
//!
//! Table-driven where the cases share a shape: each table row names its case, runs on a fresh copy
//! of a starting machine, and every assertion message names the row.

mod common;

use common::{machine, own_aspnet_dlls};
use iisim::edition::Edition;
use iisim::machine::journal::{Change, Level};
use iisim::machine::{IisState, Machine, MachineConfig};
use iisim::process::World;
use iisim::registration;
use iisim::runtime::Version::{self, V1_0, V1_1, V2_0, V4_0};
use iisim::setup::{self, Product};
use iisim::sites::{self, AppSpec, SiteSpec};
use iisim::tools::{self, Context, Output};

const ROOT: &str = "/LM/W3SVC";
const SITE_ROOT: &str = "/LM/W3SVC/1/ROOT";
const SHOP: &str = "/LM/W3SVC/1/ROOT/shop";
const SHOP_ADMIN: &str = "/LM/W3SVC/1/ROOT/shop/admin";
const SHOP_CART: &str = "/LM/W3SVC/1/ROOT/shop/cart";
const BLOG: &str = "/LM/W3SVC/1/ROOT/blog";
const WWWROOT: &str = r"C:\Inetpub\wwwroot";

const NOT_COMPATIBLE: &str = "Some options specified are not compatible. Use aspnet_regiis /? to see all options.";
const ACCESS_DENIED: &str = "An error has occurred: 0x80070005 Access is denied.";
const ADMIN_RIGHTS: &str = "You must have administrative rights on this machine in order to run this tool.";
const MUST_REGISTER: &str = "The error indicates that this version of ASP.NET must first be registered on the machine.";
const USAGE_20: &str = "Administration utility (2.0.50727) to install and uninstall ASP.NET on the local machine.";
const USAGE_40: &str = "Administration utility (4.0.30319.1) to install and uninstall ASP.NET on the local machine.";
/// The first section title of the 2.0/4.0 help, centred in 79 columns.
const REG_TITLE: &str = "                      -- ASP.NET REGISTRATION OPTIONS --";
const USAGE_1X: &str = "Administration utility to install and uninstall ASP.NET on the local machine.";

// ----- machines -----

/// Creates an application at `path` (a virtual directory under the default site's folder).
fn app(m: &mut Machine, path: &str) {
    let rel = path.strip_prefix(SITE_ROOT).expect("an application of site 1").replace('/', "\\");
    let spec = AppSpec {
        path: path.into(),
        physical_path: Some(format!("{WWWROOT}{rel}")),
        application: true,
        ..Default::default()
    };
    sites::create_app(m, &spec).unwrap_or_else(|e| panic!("create {path}: {e}"));
}

/// Pins `path` to runtime `v` as the scenario runner does: explicit maps at the key and below.
fn pin(m: &mut Machine, path: &str, v: Version) {
    registration::install_maps(m, v, path, true).unwrap_or_else(|e| panic!("pin {path} to {v}: {e}"));
}

/// Windows Server 2003 with 1.1, 2.0 and 4.0 (root left on 1.1 by 2.0's and 4.0's setup) and
/// `shop` pinned to 1.1, `shop/admin` pinned to 2.0, `shop/cart` inheriting, `blog` pinned to 4.0.
fn server2003() -> Machine {
    let mut m = machine(Edition::Win2003, &[V1_1, V2_0, V4_0]);
    for p in [SHOP, SHOP_ADMIN, SHOP_CART, BLOG] {
        app(&mut m, p);
    }
    pin(&mut m, SHOP, V1_1);
    pin(&mut m, SHOP_ADMIN, V2_0);
    pin(&mut m, BLOG, V4_0);
    m
}

/// Windows XP with 1.0, 1.1 and 2.0 (root on 1.1) and `shop` pinned to 1.0.
fn xp_three() -> Machine {
    let mut m = machine(Edition::WinXp, &[V1_0, V1_1, V2_0]);
    app(&mut m, SHOP);
    pin(&mut m, SHOP, V1_0);
    m
}

/// Windows XP with only 1.1 installed.
fn xp_11() -> Machine {
    let mut m = machine(Edition::WinXp, &[V1_1]);
    app(&mut m, SHOP);
    m
}

/// Windows 2000 with 1.1 installed.
fn win2000_11() -> Machine {
    machine(Edition::Win2000, &[V1_1])
}

/// Windows XP whose IIS is `iis`, with 2.0 installed by setup (SET-05: no metabase work).
fn xp_20_with_iis(iis: IisState) -> Machine {
    let mut m = Machine::new(MachineConfig { name: "WEB01".into(), iis, ..MachineConfig::new(Edition::WinXp) });
    let r = setup::install(&mut m, &mut World::default(), Product::Runtime(V2_0), true);
    assert_eq!(r.exit, 0, "setup of 2.0 with IIS {iis:?}: {:?}", r.output);
    m
}

fn xp_20_no_iis() -> Machine {
    xp_20_with_iis(IisState::Absent)
}

fn xp_20_iis_disabled() -> Machine {
    xp_20_with_iis(IisState::Disabled)
}

/// [`server2003`] after the 2.0 tool unregistered 2.0 (its files stay on disk).
fn server2003_20_unregistered() -> Machine {
    let mut m = server2003();
    let out = regiis(&mut m, V2_0, "-u");
    assert_eq!(out.exit, 0, "2.0 -u: {}", out.text());
    m
}

// ----- commands and inspection -----

/// Runs runtime `v`'s tool by its full path. These machines never boot IIS's processes, so each
/// command runs against an empty world.
fn regiis(m: &mut Machine, v: Version, args: &str) -> Output {
    let line = format!(r"{}\aspnet_regiis.exe {args}", m.framework_dir(v));
    tools::run(m, &mut World::default(), &line, Context::default())
}

/// The output without the 4.0 tool's three-line banner (REG-21).
fn body(out: &Output) -> Vec<&str> {
    let skip = if out.lines.first().is_some_and(|l| l.starts_with("Microsoft (R) ASP.NET RegIIS")) { 3 } else { 0 };
    out.lines.iter().skip(skip).map(String::as_str).collect()
}

/// Asserts that `want` appear in the output in this order (other lines may come between).
fn assert_lines_in_order(out: &Output, want: &[&str], case: &str) {
    let mut rest = out.lines.iter();
    for w in want {
        assert!(rest.any(|l| l == w), "{case}: expected line {w:?} (in order) in:\n{}", out.text());
    }
}

/// The progress block of REG-19: start line, a non-empty line of dots, finish line.
fn assert_progress(out: &Output, what: &str, case: &str) {
    let lines = body(out);
    let start = format!("Start {what}");
    let i =
        lines.iter().position(|l| *l == start).unwrap_or_else(|| panic!("{case}: no {start:?} in:\n{}", out.text()));
    let dots = lines.get(i + 1).copied().unwrap_or_default();
    assert!(
        !dots.is_empty() && dots.chars().all(|c| c == '.'),
        "{case}: line of dots after the start line, got {dots:?}"
    );
    assert_eq!(lines.get(i + 2).copied(), Some(format!("Finished {what}").as_str()), "{case}: finish line");
}

/// Asserts that a key's own ScriptMaps name runtime `v`'s DLL and no other ASP.NET DLL.
fn assert_own_maps(m: &Machine, path: &str, v: Version, case: &str) {
    assert_eq!(own_aspnet_dlls(m, path), [m.isapi_path(v).to_ascii_lowercase()], "{case}: own maps of {path}");
}

/// The version serving each path, by its effective ScriptMaps.
fn versions(m: &Machine, paths: &[&str]) -> Vec<Option<Version>> {
    paths.iter().map(|p| registration::app_version(m, p)).collect()
}

/// `(level, source, id)` of the events written since `n`.
fn events_since(m: &Machine, n: usize) -> Vec<(Level, String, u32)> {
    m.events()[n..].iter().map(|e| (e.level, e.source.clone(), e.id)).collect()
}

/// How many W3SVC restarts (event 1023 followed by 1025) happened since event `n` (REG-16).
fn restarts_since(m: &Machine, n: usize) -> usize {
    let ids: Vec<u32> = m.events()[n..].iter().map(|e| e.id).collect();
    let starts = ids.iter().filter(|&&id| id == 1023).count();
    assert_eq!(starts, ids.iter().filter(|&&id| id == 1025).count(), "every 1023 has its 1025");
    starts
}

/// Whether anything other than notes was recorded since `mark`.
fn changed_since(m: &Machine, mark: usize) -> Vec<String> {
    m.effects_since(mark)
        .iter()
        .filter(|e| !matches!(e.change, Change::Note { .. }))
        .map(|e| format!("{:?}", e.change))
        .collect()
}

/// The Web Service Extension row of runtime `v` (SHR-04).
fn wse_row(m: &Machine, v: Version) -> Option<String> {
    let dll = m.isapi_path(v).to_ascii_lowercase();
    m.metabase()
        .own(ROOT, "WebSvcExtRestrictionList")?
        .as_multi()?
        .iter()
        .find(|r| r.split(',').nth(1).is_some_and(|p| p.trim().to_ascii_lowercase() == dll))
        .cloned()
}

// ----- refusals: REG-02, REG-09, REG-20, usage, cmd.exe -----

/// A command line that must be refused (or only print usage) without changing the machine.
struct Refusal<'a> {
    name: &'a str,
    machine: fn() -> Machine,
    /// The full command line; relative programs start from the Framework folder.
    line: &'a str,
    admin: bool,
    exit: i32,
    /// The first line after the 4.0 banner, then lines that must follow in order.
    lines: &'a [&'a str],
    /// Lines that must not appear.
    absent: &'a [&'a str],
}

struct RefusalTest<'a>(Vec<Refusal<'a>>);

impl RefusalTest<'_> {
    fn run(self) {
        for case in self.0 {
            let mut m = (case.machine)();
            let mark = m.effect_mark();
            let events = m.events().len();
            let registered = m.registered();
            let mut out = tools::run(&mut m, &mut World::default(), case.line, Context { admin: case.admin });
            // cmd's own complaints are on stderr; the tools' refusals on stdout (CMD-09).
            let err = std::mem::take(&mut out.err);
            out.lines.extend(err);
            let name = case.name;
            assert_eq!(out.exit, case.exit, "{name}: exit code; output:\n{}", out.text());
            assert_eq!(
                body(&out).first().copied(),
                case.lines.first().copied(),
                "{name}: first line; output:\n{}",
                out.text()
            );
            assert_lines_in_order(&out, case.lines, name);
            for a in case.absent {
                assert!(!out.lines.iter().any(|l| l == a), "{name}: unexpected line {a:?}");
            }
            assert_eq!(changed_since(&m, mark), Vec::<String>::new(), "{name}: the machine must not change");
            assert_eq!(m.events().len(), events, "{name}: no event");
            assert_eq!(m.registered(), registered, "{name}: registration unchanged");
        }
    }
}

#[test]
fn usage_and_parse_errors() {
    RefusalTest(vec![
        Refusal {
            name: "2.0, no arguments: usage, exit 0",
            machine: server2003,
            line: r"C:\WINDOWS\Microsoft.NET\Framework\v2.0.50727\aspnet_regiis.exe",
            admin: true,
            exit: 0,
            lines: &[USAGE_20, REG_TITLE],
            absent: &["Invalid arguments."],
        },
        Refusal {
            name: "2.0, -?: usage, exit 0",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -?",
            admin: true,
            exit: 0,
            lines: &[USAGE_20, REG_TITLE],
            absent: &["Invalid arguments."],
        },
        Refusal {
            name: "1.1, /?: usage, exit 0",
            machine: server2003,
            line: r"v1.1.4322\aspnet_regiis.exe /?",
            admin: true,
            exit: 0,
            lines: &[USAGE_1X],
            absent: &["Invalid arguments."],
        },
        Refusal {
            name: "4.0, no arguments: banner then usage with the full build",
            machine: server2003,
            line: r"v4.0.30319\aspnet_regiis",
            admin: true,
            exit: 0,
            lines: &[USAGE_40, REG_TITLE],
            absent: &[],
        },
        Refusal {
            name: "usage needs no administrator",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -?",
            admin: false,
            exit: 0,
            lines: &[USAGE_20],
            absent: &[ACCESS_DENIED],
        },
        Refusal {
            name: "2.0, unknown option: Invalid arguments. then usage, exit 1",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -x",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments.", USAGE_20],
            absent: &[],
        },
        Refusal {
            name: "1.1, unknown option",
            machine: server2003,
            line: r"v1.1.4322\aspnet_regiis /bogus",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments.", USAGE_1X],
            absent: &[],
        },
        Refusal {
            name: "4.0, unknown option after a valid one",
            machine: server2003,
            line: r"v4.0.30319\aspnet_regiis -i -x",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments.", USAGE_40],
            absent: &[],
        },
        Refusal {
            name: "an argument without - or /",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis i",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments.", USAGE_20],
            absent: &[],
        },
        Refusal {
            name: "-s without its path",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -s",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments."],
            absent: &[],
        },
        Refusal {
            name: "-kn followed by another switch instead of a path",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -kn -norestart",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments."],
            absent: &[],
        },
        Refusal {
            name: "-iru is a 2.0 switch: the 1.1 tool does not know it",
            machine: server2003,
            line: r"v1.1.4322\aspnet_regiis -iru",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments.", USAGE_1X],
            absent: &[],
        },
        Refusal {
            name: "-norestart on the 1.1 tool",
            machine: server2003,
            line: r"v1.1.4322\aspnet_regiis -i -norestart",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments.", USAGE_1X],
            absent: &[],
        },
        Refusal {
            name: "-norestart on the 1.0 tool",
            machine: xp_three,
            line: r"v1.0.3705\aspnet_regiis -s W3SVC/1/ROOT -norestart",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments.", USAGE_1X],
            absent: &[],
        },
        Refusal {
            name: "-enable on the 1.0 tool (policy regiis.v10_options)",
            machine: xp_three,
            line: r"v1.0.3705\aspnet_regiis -i -enable",
            admin: true,
            exit: 1,
            lines: &["Invalid arguments."],
            absent: &[],
        },
        Refusal {
            name: "two actions: -i -u",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -i -u",
            admin: true,
            exit: 1,
            lines: &[NOT_COMPATIBLE],
            absent: &[],
        },
        Refusal {
            name: "two actions on the 1.1 tool: -s and -k",
            machine: server2003,
            line: r"v1.1.4322\aspnet_regiis -s W3SVC/1/ROOT -k W3SVC/1/ROOT/shop",
            admin: true,
            exit: 1,
            lines: &[NOT_COMPATIBLE],
            absent: &[],
        },
        Refusal {
            name: "two actions on the 4.0 tool: -lv -lk (after the banner)",
            machine: server2003,
            line: r"v4.0.30319\aspnet_regiis -lv -lk",
            admin: true,
            exit: 1,
            lines: &[NOT_COMPATIBLE],
            absent: &[],
        },
        Refusal {
            name: "-enable with -s",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -s W3SVC/1/ROOT -enable",
            admin: true,
            exit: 1,
            lines: &[NOT_COMPATIBLE],
            absent: &[],
        },
        Refusal {
            name: "-disable with -u",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -disable -u",
            admin: true,
            exit: 1,
            lines: &[NOT_COMPATIBLE],
            absent: &[],
        },
        Refusal {
            name: "-enable with -lk on the 1.1 tool",
            machine: server2003,
            line: r"v1.1.4322\aspnet_regiis -lk -enable",
            admin: true,
            exit: 1,
            lines: &[NOT_COMPATIBLE],
            absent: &[],
        },
        Refusal {
            name: "-enable with -iru",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -iru -enable",
            admin: true,
            exit: 1,
            lines: &[NOT_COMPATIBLE],
            absent: &[],
        },
        Refusal {
            name: "-enable and -disable together",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -i -enable -disable",
            admin: true,
            exit: 1,
            lines: &[NOT_COMPATIBLE],
            absent: &[],
        },
        Refusal {
            name: "2.0, repeated action",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -lv -lv",
            admin: true,
            exit: 1,
            lines: &["Cannot specify the same option (-lv) multiple times."],
            absent: &[NOT_COMPATIBLE],
        },
        Refusal {
            name: "2.0, repeated modifier",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -i -norestart -norestart",
            admin: true,
            exit: 1,
            lines: &["Cannot specify the same option (-norestart) multiple times."],
            absent: &[],
        },
        Refusal {
            name: "4.0, repeated -enable",
            machine: server2003,
            line: r"v4.0.30319\aspnet_regiis -ir -enable -enable",
            admin: true,
            exit: 1,
            lines: &["Cannot specify the same option (-enable) multiple times."],
            absent: &[],
        },
    ])
    .run();
}

#[test]
fn path_and_registration_errors() {
    RefusalTest(vec![
        Refusal {
            name: "-s on a missing key",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -s W3SVC/9/ROOT",
            admin: true,
            exit: 1,
            lines: &[
                "Start registering ASP.NET scriptmap (2.0.50727) recursively at W3SVC/9/ROOT/.",
                "Installation stopped because the specified path (W3SVC/9/ROOT/) is invalid.",
            ],
            absent: &[],
        },
        Refusal {
            name: "-sn on a missing key, path with a trailing slash",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -sn W3SVC/9/ROOT/",
            admin: true,
            exit: 1,
            lines: &[
                "Start registering ASP.NET scriptmap (2.0.50727) at W3SVC/9/ROOT/.",
                "Installation stopped because the specified path (W3SVC/9/ROOT/) is invalid.",
            ],
            absent: &[],
        },
        Refusal {
            name: "-s on a missing key, 1.1 tool",
            machine: server2003,
            line: r"v1.1.4322\aspnet_regiis -s W3SVC/9/ROOT",
            admin: true,
            exit: 1,
            lines: &[
                "Start registering ASP.NET scriptmap (1.1.4322) recursively at W3SVC/9/ROOT/.",
                "Installation stopped because the specified path (W3SVC/9/ROOT/) is invalid.",
            ],
            absent: &[],
        },
        Refusal {
            name: "-k on a missing key",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -k W3SVC/9/ROOT",
            admin: true,
            exit: 1,
            lines: &[
                "Start removing any version of ASP.NET DLL recursively at W3SVC/9/ROOT/.",
                "Installation stopped because the specified path (W3SVC/9/ROOT/) is invalid.",
            ],
            absent: &[],
        },
        Refusal {
            name: "-kn on a missing application under an existing site",
            machine: server2003,
            line: r"v2.0.50727\aspnet_regiis -kn W3SVC/1/ROOT/nosuchapp",
            admin: true,
            exit: 1,
            lines: &[
                "Start removing any version of ASP.NET DLL at W3SVC/1/ROOT/nosuchapp/.",
                "Installation stopped because the specified path (W3SVC/1/ROOT/nosuchapp/) is invalid.",
            ],
            absent: &[],
        },
        Refusal {
            name: "-s with a runtime that is installed but not registered",
            machine: server2003_20_unregistered,
            line: r"v2.0.50727\aspnet_regiis -s W3SVC/1/ROOT/shop",
            admin: true,
            exit: 1,
            lines: &[
                "Start registering ASP.NET scriptmap (2.0.50727) recursively at W3SVC/1/ROOT/shop/.",
                MUST_REGISTER,
            ],
            absent: &[],
        },
        Refusal {
            name: "-sn with a runtime that is installed but not registered",
            machine: server2003_20_unregistered,
            line: r"v2.0.50727\aspnet_regiis -sn W3SVC/",
            admin: true,
            exit: 1,
            lines: &["Start registering ASP.NET scriptmap (2.0.50727) at W3SVC/.", MUST_REGISTER],
            absent: &[],
        },
    ])
    .run();
}

#[test]
fn non_administrator_is_refused() {
    let denied: &[&str] = &[ACCESS_DENIED, ADMIN_RIGHTS];
    let cases = [
        "-i",
        "-ir",
        "-iru",
        "-r",
        "-s W3SVC/1/ROOT",
        "-sn W3SVC/",
        "-k W3SVC/1/ROOT/shop",
        "-kn W3SVC/",
        "-u",
        "-ua",
        "-c",
        "-e",
        "-ea",
    ];
    let mut lines = Vec::new();
    for args in cases {
        for (tool, line) in [
            ("1.1", format!(r"v1.1.4322\aspnet_regiis {args}")),
            ("2.0", format!(r"C:\WINDOWS\Microsoft.NET\Framework\v2.0.50727\aspnet_regiis.exe {args}")),
            ("4.0", format!(r"v4.0.30319\aspnet_regiis {args}")),
        ] {
            if !(tool == "1.1" && args == "-iru") {
                lines.push((format!("{tool} tool {args} as a non-administrator"), line));
            }
        }
    }
    let table = lines
        .iter()
        .map(|(name, line)| Refusal {
            name,
            machine: server2003,
            line,
            admin: false,
            exit: 1,
            lines: denied,
            absent: &[],
        })
        .collect();
    RefusalTest(table).run();
}

/// What cmd prints for a path whose folder does not exist (CMD-09).
const PATH_NOT_FOUND: &str = "The system cannot find the path specified.";

/// A framework that is not installed has no folder: cmd reports the missing path (CMD-09).
#[test]
fn tool_of_a_missing_framework_is_a_missing_path() {
    RefusalTest(vec![
        Refusal {
            name: "XP with 1.1 only: the 2.0 tool by full path",
            machine: xp_11,
            line: r"C:\WINDOWS\Microsoft.NET\Framework\v2.0.50727\aspnet_regiis.exe -i",
            admin: true,
            exit: 3,
            lines: &[PATH_NOT_FOUND],
            absent: &[],
        },
        Refusal {
            name: "XP with 1.1 only: the 4.0 tool by its short path",
            machine: xp_11,
            line: r"v4.0.30319\aspnet_regiis -lk",
            admin: true,
            exit: 3,
            lines: &[PATH_NOT_FOUND],
            absent: &[],
        },
        Refusal {
            name: "Windows 2000: %windir% is C:\\WINNT, so a C:\\WINDOWS path does not exist",
            machine: win2000_11,
            line: r"C:\WINDOWS\Microsoft.NET\Framework\v1.1.4322\aspnet_regiis.exe -lv",
            admin: true,
            exit: 3,
            lines: &[PATH_NOT_FOUND],
            absent: &[],
        },
        Refusal {
            name: "Windows 2000: 4.0 cannot be installed, its tool does not exist",
            machine: win2000_11,
            line: r"C:\WINNT\Microsoft.NET\Framework\v4.0.30319\aspnet_regiis.exe -i",
            admin: true,
            exit: 3,
            lines: &[PATH_NOT_FOUND],
            absent: &[],
        },
        Refusal {
            name: "non-administrators get cmd's error too: the program does not exist",
            machine: xp_11,
            line: r"v2.0.50727\aspnet_regiis -i",
            admin: false,
            exit: 3,
            lines: &[PATH_NOT_FOUND],
            absent: &[ACCESS_DENIED],
        },
    ])
    .run();
}

/// Switches that need the metabase fail when IIS is absent or disabled (REG-20).
#[test]
fn iis_missing_or_disabled_is_an_error() {
    let absent: &[&str] = &[
        "An error has occurred: 0x80040154 Class not registered",
        "The error indicates that IIS is not installed on the machine. Please install IIS before using this tool.",
    ];
    let disabled: &[&str] = &[
        "An error has occurred: 0x80070422 The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.",
        "The error indicates that IIS is disabled on the machine. Please enable IIS before using this tool.",
    ];
    let mut rows = Vec::new();
    for args in ["-lk", "-s W3SVC/1/ROOT", "-sn W3SVC/", "-k W3SVC/1/ROOT", "-kn W3SVC/", "-c", "-e", "-ea"] {
        rows.push((
            format!("IIS absent: {args}"),
            xp_20_no_iis as fn() -> Machine,
            format!(r"v2.0.50727\aspnet_regiis {args}"),
            absent,
        ));
        rows.push((
            format!("IIS disabled: {args}"),
            xp_20_iis_disabled,
            format!(r"v2.0.50727\aspnet_regiis {args}"),
            disabled,
        ));
    }
    let table = rows
        .iter()
        .map(|(name, machine, line, lines)| Refusal {
            name,
            machine: *machine,
            line,
            admin: true,
            exit: 1,
            lines,
            absent: &[],
        })
        .collect();
    RefusalTest(table).run();
}

/// Without IIS, `-i` still registers the runtime but skips the metabase: warning 1020 (SET-05).
#[test]
fn install_without_iis_registers_and_warns() {
    for machine in [xp_20_no_iis as fn() -> Machine, xp_20_iis_disabled] {
        let mut m = machine();
        let iis = m.iis();
        assert!(m.registered().contains(&V2_0), "{iis:?}: setup registered 2.0");
        let out = regiis(&mut m, V2_0, "-u");
        assert_eq!(out.exit, 0, "{iis:?}: -u");
        assert!(m.registered().is_empty(), "{iis:?}: -u");
        let events = m.events().len();
        let out = regiis(&mut m, V2_0, "-i");
        assert_eq!(out.exit, 0, "{iis:?}: {}", out.text());
        assert_progress(&out, "installing ASP.NET (2.0.50727).", "-i without IIS");
        assert_eq!(m.registered(), [V2_0], "{iis:?}");
        let ev = events_since(&m, events);
        assert!(ev.contains(&(Level::Warning, "ASP.NET 2.0.50727.0".into(), 1020)), "{iis:?}: {ev:?}");
        assert_eq!(restarts_since(&m, events), 0, "{iis:?}: no W3SVC to restart");
        assert_eq!(registration::app_version(&m, ROOT), None, "{iis:?}: no map written");
    }
}

/// The 1.1 tool lets a repeated switch through: REG-02's message is 2.0+ only.
#[test]
fn v11_tool_accepts_a_repeated_modifier() {
    let mut m = server2003();
    let out =
        tools::run(&mut m, &mut World::default(), r"v1.1.4322\aspnet_regiis -ir -enable -enable", Context::default());
    assert_eq!(out.exit, 0, "{}", out.text());
    assert!(!out.text().contains("Cannot specify the same option"), "{}", out.text());
    assert!(wse_row(&m, V1_1).is_some_and(|r| r.starts_with("1,")), "1.1 extension allowed: {:?}", wse_row(&m, V1_1));
}

/// A switch works the same with `-` or `/` and in any case (REG-02).
#[test]
fn switches_are_case_insensitive_and_take_slash() {
    let reference = {
        let mut m = server2003();
        regiis(&mut m, V2_0, "-lk")
    };
    assert_eq!(reference.exit, 0);
    assert!(!reference.lines.is_empty());
    for args in ["/lk", "-LK", "/Lk"] {
        let mut m = server2003();
        let out = regiis(&mut m, V2_0, args);
        assert_eq!(out, reference, "{args} prints what -lk prints");
    }
    for args in ["-S W3SVC/1/ROOT/blog", "/s W3SVC/1/ROOT/blog", "/sN W3SVC/1/ROOT/blog"] {
        let mut m = server2003();
        let out = regiis(&mut m, V2_0, args);
        assert_eq!(out.exit, 0, "{args}: {}", out.text());
        assert_own_maps(&m, BLOG, V2_0, args);
    }
}

// ----- -i, -ir, -iru, -r -----

/// `-i` upgrades lower maps at and below the root, never downgrades, re-adds ASP.NET to stripped
/// keys, logs 1017/1019 under its own source and restarts W3SVC (REG-03, MAP-10, REG-16, REG-19, SET-10).
#[test]
fn install_upgrades_lower_maps_and_never_downgrades() {
    let mut m = server2003();
    // shop/cart gets explicit maps without ASP.NET (REG-10) so -i must give them back (MAP-10).
    let out = regiis(&mut m, V1_1, "-kn W3SVC/1/ROOT/shop/cart");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_eq!(registration::app_version(&m, SHOP_CART), None);

    let events = m.events().len();
    let out = regiis(&mut m, V2_0, "-i");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_progress(&out, "installing ASP.NET (2.0.50727).", "2.0 -i");
    assert_eq!(
        versions(&m, &[ROOT, SHOP, SHOP_ADMIN, SHOP_CART, BLOG]),
        [Some(V2_0), Some(V2_0), Some(V2_0), Some(V2_0), Some(V4_0)],
        "root and 1.1 maps upgraded, stripped key re-mapped, 4.0 left alone"
    );
    assert_own_maps(&m, ROOT, V2_0, "2.0 -i");
    assert_own_maps(&m, SHOP_CART, V2_0, "2.0 -i re-adds");
    assert_own_maps(&m, BLOG, V4_0, "2.0 -i never downgrades");
    let src = "ASP.NET 2.0.50727.0".to_string();
    let ev = events_since(&m, events);
    assert_eq!(ev.first(), Some(&(Level::Information, src.clone(), 1017)), "{ev:?}");
    assert!(ev.contains(&(Level::Information, src.clone(), 1019)), "{ev:?}");
    assert_eq!(restarts_since(&m, events), 1);
    assert_eq!(m.registry().get(r"HKLM\SOFTWARE\Microsoft\ASP.NET", "RootVer"), Some("2.0.50727.0"), "VER-07");
}

/// `-i` of a version lower than the root's changes no map and logs warning 1032 (REG-03).
#[test]
fn install_below_the_root_version_changes_nothing() {
    let mut m = xp_three();
    let out = regiis(&mut m, V2_0, "-sn W3SVC/");
    assert_eq!(out.exit, 0, "{}", out.text());
    let before_root = m.metabase().own(ROOT, "ScriptMaps").cloned();
    let before_shop = m.metabase().own(SHOP, "ScriptMaps").cloned();
    let events = m.events().len();
    let out = regiis(&mut m, V1_1, "-i");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_progress(&out, "installing ASP.NET (1.1.4322).", "1.1 -i");
    assert_eq!(m.metabase().own(ROOT, "ScriptMaps").cloned(), before_root, "root keeps 2.0");
    assert_eq!(m.metabase().own(SHOP, "ScriptMaps").cloned(), before_shop, "even the 1.0 app is not upgraded");
    assert_eq!(versions(&m, &[ROOT, SHOP]), [Some(V2_0), Some(V1_0)]);
    let ev = events_since(&m, events);
    assert!(ev.contains(&(Level::Warning, "ASP.NET 1.1.4322.0".into(), 1032)), "warning 1032: {ev:?}");
}

/// `-ir` registers without touching any map; 2.0 and 4.0 print their own start lines (REG-04).
#[test]
fn register_only_leaves_every_map() {
    let cases: &[(&str, Version, &str, &str)] = &[
        (
            "2.0 -ir after 2.0 -u",
            V2_0,
            "-ir",
            "installing ASP.NET (2.0.50727) without registering the scriptmap.",
        ),
        (
            "4.0 -ir after 4.0 -u",
            V4_0,
            "-ir",
            "installing ASP.NET (4.0.30319.1) without changing existing web applications to use this version of ASP.Net.",
        ),
        ("1.1 -ir after 1.1 -u", V1_1, "-ir", "installing ASP.NET (1.1.4322) without registering the scriptmap."),
    ];
    for &(name, v, args, start) in cases {
        let mut m = server2003();
        let out = regiis(&mut m, v, "-u");
        assert_eq!(out.exit, 0, "{name}: -u");
        assert!(!m.registered().contains(&v), "{name}: unregistered first");
        let maps: Vec<_> =
            [ROOT, SHOP, SHOP_ADMIN, BLOG].iter().map(|p| m.metabase().own(p, "ScriptMaps").cloned()).collect();
        let out = regiis(&mut m, v, args);
        assert_eq!(out.exit, 0, "{name}: {}", out.text());
        assert_progress(&out, start, name);
        assert!(m.registered().contains(&v), "{name}: registered again");
        assert!(
            m.registry().get(&format!(r"HKLM\SOFTWARE\Microsoft\ASP.NET\{}", v.registry()), "DllFullPath").is_some(),
            "{name}: VER-07 key"
        );
        let after: Vec<_> =
            [ROOT, SHOP, SHOP_ADMIN, BLOG].iter().map(|p| m.metabase().own(p, "ScriptMaps").cloned()).collect();
        assert_eq!(after, maps, "{name}: no map changed");
    }
}

/// `-iru` is `-i` when no key maps ASP.NET and `-ir` otherwise (REG-05).
#[test]
fn iru_maps_only_when_nothing_uses_aspnet() {
    // Something uses ASP.NET: nothing moves.
    let mut m = server2003();
    let maps: Vec<_> = [ROOT, SHOP, BLOG].iter().map(|p| m.metabase().own(p, "ScriptMaps").cloned()).collect();
    let out = regiis(&mut m, V2_0, "-iru");
    assert_eq!(out.exit, 0, "{}", out.text());
    let after: Vec<_> = [ROOT, SHOP, BLOG].iter().map(|p| m.metabase().own(p, "ScriptMaps").cloned()).collect();
    assert_eq!(after, maps, "apps use ASP.NET: -iru acts as -ir");
    assert_eq!(registration::app_version(&m, ROOT), Some(V1_1));

    // Nothing maps ASP.NET (after -ua): -iru maps the root like -i.
    let mut m = machine(Edition::Win2003, &[V2_0, V4_0]);
    let out = regiis(&mut m, V4_0, "-ua");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_eq!(registration::app_version(&m, ROOT), None);
    let out = regiis(&mut m, V2_0, "-iru");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_progress(&out, "installing ASP.NET (2.0.50727).", "2.0 -iru on a machine without ASP.NET maps");
    assert_own_maps(&m, ROOT, V2_0, "-iru maps the root");
    assert_eq!(m.registered(), [V2_0]);
}

/// `-r` points every ASP.NET map at its version, downgrading if need be (REG-06).
#[test]
fn replace_remaps_every_map_even_downwards() {
    let mut m = server2003();
    let out = regiis(&mut m, V2_0, "-r");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_progress(
        &out,
        "installing ASP.NET (2.0.50727) and replacing ASP.NET DLL in all Scriptmaps with current version.",
        "2.0 -r",
    );
    for p in [ROOT, SHOP, SHOP_ADMIN, BLOG] {
        assert_own_maps(&m, p, V2_0, "2.0 -r (4.0 blog downgraded)");
    }
    assert_eq!(registration::app_version(&m, SHOP_CART), Some(V2_0), "inheriting key follows shop");

    let mut m = server2003();
    let out = regiis(&mut m, V1_1, "-r");
    assert_eq!(out.exit, 0, "{}", out.text());
    for p in [ROOT, SHOP, SHOP_ADMIN, BLOG] {
        assert_own_maps(&m, p, V1_1, "1.1 -r");
    }
    // 1.1 has no .master: 2.0-only extensions are dropped (MAP-07).
    let blog = m.metabase().own(BLOG, "ScriptMaps").and_then(|v| v.as_multi()).unwrap_or_default().join("\n");
    assert!(!blog.to_ascii_lowercase().contains(".master,"), "{blog}");
    assert!(blog.to_ascii_lowercase().contains(".aspx,"), "{blog}");
}

// ----- -s, -sn, -k, -kn -----

/// `-s` maps the key and every key below that sets ScriptMaps, forcing its version (REG-07, REG-09).
#[test]
fn s_maps_the_path_and_below_forcing_the_version() {
    struct Case {
        name: &'static str,
        tool: Version,
        arg: &'static str,
    }
    let cases = [
        Case { name: "2.0 -s, plain path", tool: V2_0, arg: "W3SVC/1/ROOT/shop" },
        Case { name: "2.0 -s, backslashes", tool: V2_0, arg: r"W3SVC\1\ROOT\shop" },
        Case { name: "2.0 -s, other case and a trailing slash", tool: V2_0, arg: "w3svc/1/root/SHOP/" },
        Case { name: "1.0 -s moves 1.1 and 2.0 apps down", tool: V1_0, arg: "W3SVC/1/ROOT/shop" },
        Case { name: "4.0 -s", tool: V4_0, arg: "W3SVC/1/ROOT/shop" },
    ];
    for case in cases {
        let mut m = if case.tool == V1_0 { machine(Edition::WinXp, &[V1_0, V1_1, V2_0]) } else { server2003() };
        if case.tool == V1_0 {
            for p in [SHOP, SHOP_ADMIN, SHOP_CART, BLOG] {
                app(&mut m, p);
            }
            pin(&mut m, SHOP, V1_1);
            pin(&mut m, SHOP_ADMIN, V2_0);
            pin(&mut m, BLOG, V2_0);
        }
        let root_before = m.metabase().own(ROOT, "ScriptMaps").cloned();
        let blog_before = m.metabase().own(BLOG, "ScriptMaps").cloned();
        let out = regiis(&mut m, case.tool, &format!("-s {}", case.arg));
        let name = case.name;
        assert_eq!(out.exit, 0, "{name}: {}", out.text());
        assert_eq!(
            body(&out).first().map(|l| l.starts_with("Start registering ASP.NET scriptmap (")),
            Some(true),
            "{name}: {}",
            out.text()
        );
        assert_own_maps(&m, SHOP, case.tool, name);
        assert_own_maps(&m, SHOP_ADMIN, case.tool, name);
        assert_eq!(registration::app_version(&m, SHOP_CART), Some(case.tool), "{name}: inheriting child follows");
        assert_eq!(m.metabase().own(ROOT, "ScriptMaps").cloned(), root_before, "{name}: root untouched");
        assert_eq!(m.metabase().own(BLOG, "ScriptMaps").cloned(), blog_before, "{name}: sibling untouched");
    }

    // The documented start line of the 2.0 tool.
    let mut m = server2003();
    let out = regiis(&mut m, V2_0, "-s W3SVC/1/ROOT/shop");
    assert_progress(&out, "registering ASP.NET scriptmap (2.0.50727) recursively at W3SVC/1/ROOT/shop/.", "2.0 -s");
}

/// `-s` on a key without own maps first copies the inherited list, keeping non-ASP.NET entries (MAP-08).
#[test]
fn s_copies_inherited_maps_before_editing() {
    let mut m = server2003();
    assert!(m.metabase().own(SHOP_CART, "ScriptMaps").is_none());
    let out = regiis(&mut m, V4_0, "-sn W3SVC/1/ROOT/shop/cart");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_own_maps(&m, SHOP_CART, V4_0, "-sn on an inheriting key");
    let own = m.metabase().own(SHOP_CART, "ScriptMaps").and_then(|v| v.as_multi()).unwrap_or_default().join("\n");
    assert!(own.to_ascii_lowercase().contains(r"\inetsrv\asp.dll"), "the .asp entry is kept:\n{own}");
}

/// `-sn` maps the key only: explicit children keep theirs, inheriting ones follow (REG-08); the
/// SET-03 way to make a later runtime the default for new sites.
#[test]
fn sn_maps_only_the_key() {
    let mut m = server2003();
    let out = regiis(&mut m, V2_0, "-sn W3SVC/1/ROOT/shop");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_progress(&out, "registering ASP.NET scriptmap (2.0.50727) at W3SVC/1/ROOT/shop/.", "2.0 -sn");
    assert_own_maps(&m, SHOP, V2_0, "-sn key");
    assert_eq!(registration::app_version(&m, SHOP_CART), Some(V2_0), "inheriting child follows");

    let mut m = server2003();
    let out = regiis(&mut m, V4_0, "-sn W3SVC/");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_own_maps(&m, ROOT, V4_0, "-sn W3SVC/");
    assert_eq!(
        versions(&m, &[SHOP, SHOP_ADMIN, BLOG, SITE_ROOT]),
        [Some(V1_1), Some(V2_0), Some(V4_0), Some(V4_0)],
        "explicit apps keep theirs; the site root inherits the new default"
    );
    assert_eq!(m.registry().get(r"HKLM\SOFTWARE\Microsoft\ASP.NET", "RootVer"), Some("4.0.30319.0"), "VER-07");
    let lv = regiis(&mut m, V2_0, "-lv");
    assert!(lv.lines.iter().any(|l| l.starts_with("4.0.30319.0\tValid (Root)\t")), "{}", lv.text());
}

/// `-k` strips every ASP.NET entry at and below the key; `-kn` at the key only; other entries stay
/// and inheriting children lose ASP.NET too (REG-10).
#[test]
fn k_and_kn_strip_aspnet_entries() {
    let mut m = server2003();
    let out = regiis(&mut m, V2_0, "-k W3SVC/1/ROOT/shop");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_progress(&out, "removing any version of ASP.NET DLL recursively at W3SVC/1/ROOT/shop/.", "2.0 -k");
    assert_eq!(versions(&m, &[SHOP, SHOP_ADMIN, SHOP_CART]), [None, None, None], "-k: no ASP.NET left below shop");
    for p in [SHOP, SHOP_ADMIN] {
        assert!(own_aspnet_dlls(&m, p).is_empty(), "-k {p}");
        let own = m.metabase().own(p, "ScriptMaps").and_then(|v| v.as_multi()).unwrap_or_default().join("\n");
        assert!(own.contains(".asp,"), "-k keeps ScriptMaps and its other entries at {p}:\n{own}");
    }
    assert_eq!(versions(&m, &[ROOT, BLOG]), [Some(V1_1), Some(V4_0)], "-k leaves other keys");

    let mut m = server2003();
    let out = regiis(&mut m, V1_1, "-kn W3SVC/1/ROOT/shop");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_eq!(
        versions(&m, &[SHOP, SHOP_ADMIN, SHOP_CART]),
        [None, Some(V2_0), None],
        "-kn: explicit child keeps its maps, inheriting child loses ASP.NET"
    );

    // -kn on a key that only inherits: it gets its own copy without ASP.NET (MAP-08).
    let mut m = server2003();
    let out = regiis(&mut m, V2_0, "-kn W3SVC/1/ROOT");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert!(m.metabase().own(SITE_ROOT, "ScriptMaps").is_some(), "own copy written");
    assert_eq!(versions(&m, &[SITE_ROOT, ROOT, SHOP]), [None, Some(V1_1), Some(V1_1)]);
}

// ----- -u, -ua -----

/// `-u` unregisters the tool's runtime; its maps move to the highest remaining one without a
/// compatibility check; files stay on disk (REG-11, SET-06, REG-19).
#[test]
fn u_moves_maps_to_the_highest_remaining_runtime() {
    struct Case {
        name: &'static str,
        tool: Version,
        /// Versions of ROOT, SHOP, SHOP_ADMIN, BLOG afterwards.
        want: [Option<Version>; 4],
        highest: Version,
    }
    let cases = [
        Case {
            name: "4.0 -u: blog to 2.0",
            tool: V4_0,
            want: [Some(V1_1), Some(V1_1), Some(V2_0), Some(V2_0)],
            highest: V2_0,
        },
        Case {
            name: "2.0 -u: admin to 4.0",
            tool: V2_0,
            want: [Some(V1_1), Some(V1_1), Some(V4_0), Some(V4_0)],
            highest: V4_0,
        },
        Case {
            name: "1.1 -u: root and shop to 4.0, not 2.0",
            tool: V1_1,
            want: [Some(V4_0), Some(V4_0), Some(V2_0), Some(V4_0)],
            highest: V4_0,
        },
    ];
    for case in cases {
        let name = case.name;
        let mut m = server2003();
        let events = m.events().len();
        let out = regiis(&mut m, case.tool, "-u");
        assert_eq!(out.exit, 0, "{name}: {}", out.text());
        let pv = if case.tool == V4_0 { "4.0.30319.1" } else { case.tool.short() };
        assert_progress(&out, &format!("uninstalling ASP.NET ({pv})."), name);
        assert_eq!(versions(&m, &[ROOT, SHOP, SHOP_ADMIN, BLOG]), case.want, "{name}");
        assert!(!m.registered().contains(&case.tool), "{name}: unregistered");
        assert!(m.runtime(case.tool).installed, "{name}: files stay");
        assert!(
            !m.registry().has_key(&format!(r"HKLM\SOFTWARE\Microsoft\ASP.NET\{}", case.tool.registry())),
            "{name}: VER-07 key gone"
        );
        let src = format!("ASP.NET {}", case.tool.registry());
        let ev = events_since(&m, events);
        assert!(ev.contains(&(Level::Information, src.clone(), 1027)), "{name}: {ev:?}");
        assert!(ev.contains(&(Level::Information, src, 1029)), "{name}: {ev:?}");
        assert_eq!(restarts_since(&m, events), 1, "{name}");
        let state = format!(r"{}\aspnet_state.exe", m.framework_dir(case.highest));
        assert_eq!(m.service("aspnet_state").map(|s| s.image.as_str()), Some(state.as_str()), "{name}: SHR-06");
        assert_eq!(m.resource("perf:ASP.NET"), Some(case.highest.short()), "{name}: SHR-05");
        // SET-06: its InProcessIsapiApps and lockdown entries, client scripts and temporary files go.
        let dll = m.isapi_path(case.tool);
        let in_proc = m.metabase().own(ROOT, "InProcessIsapiApps").and_then(|v| v.as_multi()).unwrap_or_default();
        assert!(!in_proc.iter().any(|i| i.eq_ignore_ascii_case(&dll)), "{name}: InProcessIsapiApps {in_proc:?}");
        assert!(in_proc.iter().any(|i| i.eq_ignore_ascii_case(&m.isapi_path(case.highest))), "{name}: SHR-03");
        assert_eq!(wse_row(&m, case.tool), None, "{name}: lockdown entry");
        let scripts = format!(r"{WWWROOT}\aspnet_client\system_web\{}", case.tool.short().replace('.', "_"));
        assert!(!m.fs().exists(&scripts), "{name}: client scripts {scripts}");
        assert!(!m.fs().exists(&format!(r"{}\Temporary ASP.NET Files", m.framework_dir(case.tool))), "{name}: SHR-09");
    }
}

/// `-ua` unregisters every version and strips every ASP.NET entry (REG-12, SET-07).
#[test]
fn ua_uninstalls_every_version() {
    let mut m = server2003();
    let out = regiis(&mut m, V1_1, "-ua");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_progress(&out, "uninstalling all versions of ASP.NET.", "1.1 -ua");
    assert_eq!(m.registered(), Vec::<Version>::new());
    for p in [ROOT, SITE_ROOT, SHOP, SHOP_ADMIN, SHOP_CART, BLOG] {
        assert_eq!(registration::app_version(&m, p), None, "-ua: {p}");
        assert!(own_aspnet_dlls(&m, p).is_empty(), "-ua: {p}");
    }
    assert!(m.service("aspnet_state").is_none(), "SHR-06: state service goes with the last runtime");
    assert_eq!(m.resource("perf:ASP.NET"), None, "SHR-05");
    let lv = regiis(&mut m, V2_0, "-lv");
    assert_eq!(lv.lines, ["Cannot find any installed version."], "REG-13 after -ua");
    let lk = regiis(&mut m, V2_0, "-lk");
    assert_eq!((lk.exit, lk.lines.len()), (0, 0), "-lk lists nothing: {}", lk.text());
}

// ----- -lv, -lk -----

/// `-lv`: `<V>`, status, DLL path, TAB-separated with an extra TAB after `Valid`/`Invalid` (REG-13).
#[test]
fn lv_lists_registered_versions() {
    let mut m = machine(Edition::Win2000, &[V1_0, V1_1]);
    let out = regiis(&mut m, V1_0, "-lv");
    assert_eq!(out.exit, 0);
    assert_eq!(
        out.lines,
        [
            r"1.0.3705.0	Valid		C:\WINNT\Microsoft.NET\Framework\v1.0.3705\aspnet_isapi.dll",
            r"1.1.4322.0	Valid (Root)	C:\WINNT\Microsoft.NET\Framework\v1.1.4322\aspnet_isapi.dll",
        ],
        "Windows 2000, root on 1.1"
    );

    let mut m = server2003();
    let out = regiis(&mut m, V4_0, "-lv");
    assert_eq!(out.exit, 0);
    assert_eq!(
        body(&out),
        [
            r"1.1.4322.0	Valid (Root)	C:\WINDOWS\Microsoft.NET\Framework\v1.1.4322\aspnet_isapi.dll",
            r"2.0.50727.0	Valid		C:\WINDOWS\Microsoft.NET\Framework\v2.0.50727\aspnet_isapi.dll",
            r"4.0.30319.0	Valid		C:\WINDOWS\Microsoft.NET\Framework\v4.0.30319\aspnet_isapi.dll",
        ],
        "Server 2003, root on 1.1"
    );

    // A registered runtime whose DLL is gone is Invalid.
    let dll = m.isapi_path(V2_0);
    m.fs_delete(&dll, &["REG-13"]);
    let out = regiis(&mut m, V1_1, "-lv");
    assert!(out.lines.contains(&format!("2.0.50727.0\tInvalid\t\t{dll}")), "{}", out.text());
    assert!(out.lines.iter().any(|l| l.starts_with("1.1.4322.0\tValid (Root)\t")), "{}", out.text());
}

/// `-lk`: every key with explicit ASP.NET maps, path without /LM/ and with a trailing /, TAB,
/// registry-form version; inheriting keys are not listed; a missing DLL reads 0.0.0.0 (REG-14).
#[test]
fn lk_lists_keys_with_explicit_maps() {
    let mut m = server2003();
    let out = regiis(&mut m, V2_0, "-lk");
    assert_eq!(out.exit, 0);
    assert_eq!(
        out.lines,
        [
            "W3SVC/\t1.1.4322.0",
            "W3SVC/1/ROOT/blog/\t4.0.30319.0",
            "W3SVC/1/ROOT/shop/\t1.1.4322.0",
            "W3SVC/1/ROOT/shop/admin/\t2.0.50727.0",
        ]
    );
    let dll = m.isapi_path(V4_0);
    m.fs_delete(&dll, &["REG-14"]);
    let out = regiis(&mut m, V1_1, "-lk");
    assert!(out.lines.iter().any(|l| l == "W3SVC/1/ROOT/blog/\t0.0.0.0"), "{}", out.text());
    // -k leaves ScriptMaps without ASP.NET: no longer listed.
    let out = regiis(&mut m, V1_1, "-k W3SVC/1/ROOT/shop");
    assert_eq!(out.exit, 0);
    let out = regiis(&mut m, V1_1, "-lk");
    assert!(!out.text().contains("shop"), "{}", out.text());
}

// ----- -c, -e, -ea -----

/// `-c` installs this version's client scripts in every site (and the aspnet_client key), `-e`
/// removes this version's, `-ea` all of them and the emptied folders (REG-15, VER-06).
#[test]
fn client_scripts() {
    let mut m = machine(Edition::Win2003, &[V1_1, V2_0]);
    let system_web = format!(r"{WWWROOT}\aspnet_client\system_web");
    let dir11 = format!(r"{system_web}\1_1_4322");
    let dir20 = format!(r"{system_web}\2_0_50727");
    let key = "/LM/W3SVC/1/ROOT/aspnet_client";
    assert!(m.fs().is_dir(&dir11) && m.fs().is_dir(&dir20), "registration installs both");

    let out = regiis(&mut m, V2_0, "-e");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert!(!m.fs().exists(&dir20), "-e removes 2.0's folder");
    assert!(m.fs().is_dir(&dir11), "-e keeps 1.1's");
    assert!(m.metabase().exists(key), "aspnet_client still holds 1.1's scripts");

    let out = regiis(&mut m, V2_0, "-c");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_progress(&out, "copying the ASP.NET client script files for this version (2.0.50727).", "2.0 -c");
    assert!(m.fs().is_file(&format!(r"{dir20}\WebUIValidation.js")), "-c copies 2.0's scripts");

    let out = regiis(&mut m, V1_1, "-ea");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert!(!m.fs().exists(&format!(r"{WWWROOT}\aspnet_client")), "-ea removes every version and the emptied folders");
    assert!(!m.metabase().exists(key), "-ea removes the aspnet_client key with its folder");
    assert_eq!(restarts_since(&m, 0), 2, "client-script switches do not restart W3SVC (only the two setups did)");

    let out = regiis(&mut m, V1_1, "-c");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert!(m.fs().is_file(&format!(r"{dir11}\WebUIValidation.js")), "1.1 -c");
    assert!(!m.fs().exists(&dir20), "1.1 -c copies only 1.1's");
    assert!(m.metabase().exists(key), "-c creates the aspnet_client key");
    assert_eq!(m.metabase().key(key).map(|k| k.key_type().to_string()).as_deref(), Some("IIsWebDirectory"));

    // Every site gets them.
    let site =
        SiteSpec { id: Some(5), name: "Second".into(), bindings: vec![":81:".into()], path: r"D:\second".into() };
    sites::create_site(&mut m, &site).unwrap();
    let out = regiis(&mut m, V2_0, "-c");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert!(m.fs().is_file(r"D:\second\aspnet_client\system_web\2_0_50727\WebUIValidation.js"), "-c in site 5");
    assert!(m.metabase().exists("/LM/W3SVC/5/ROOT/aspnet_client"), "-c key in site 5");
}

// ----- restarts, -norestart, -enable, -disable, banner -----

/// Install, uninstall, -r, -s/-sn and -k/-kn restart W3SVC (events 1023/1025); listings and
/// client scripts do not; 2.0+ `-norestart` suppresses it (REG-16).
#[test]
fn restart_and_norestart() {
    let cases: &[(Version, &str, usize)] = &[
        (V2_0, "-i", 1),
        (V2_0, "-ir", 1),
        (V2_0, "-iru", 1),
        (V2_0, "-r", 1),
        (V2_0, "-s W3SVC/1/ROOT/shop", 1),
        (V2_0, "-sn W3SVC/1/ROOT/shop", 1),
        (V2_0, "-k W3SVC/1/ROOT/shop", 1),
        (V2_0, "-kn W3SVC/1/ROOT/shop", 1),
        (V2_0, "-u", 1),
        (V2_0, "-ua", 1),
        (V1_1, "-s W3SVC/1/ROOT/blog", 1),
        (V1_1, "-u", 1),
        (V2_0, "-lv", 0),
        (V2_0, "-lk", 0),
        (V2_0, "-c", 0),
        (V2_0, "-e", 0),
        (V2_0, "-ea", 0),
        (V2_0, "-i -norestart", 0),
        (V2_0, "-norestart -r", 0),
        (V4_0, "-s W3SVC/1/ROOT/shop -norestart", 0),
        (V4_0, "-kn W3SVC/ -norestart", 0),
        (V4_0, "-u -norestart", 0),
        (V4_0, "-ua -norestart", 0),
    ];
    for &(v, args, want) in cases {
        let mut m = server2003();
        let events = m.events().len();
        let out = regiis(&mut m, v, args);
        assert_eq!(out.exit, 0, "{v} {args}: {}", out.text());
        assert_eq!(restarts_since(&m, events), want, "{v} {args}: W3SVC restarts");
    }
    // -norestart changes nothing else: the maps are written all the same.
    let mut m = server2003();
    let out = regiis(&mut m, V4_0, "-s W3SVC/1/ROOT/shop -norestart");
    assert_eq!(out.exit, 0);
    assert_own_maps(&m, SHOP, V4_0, "-s -norestart");
}

/// `-enable`/`-disable` with -i, -ir or -r set the runtime's Web Service Extension on IIS 6;
/// the 1.1 tool accepts them too (REG-17, SHR-04, SET-04).
#[test]
fn enable_and_disable_web_service_extensions() {
    let m0 = machine(Edition::Win2003, &[V1_1, V2_0, V4_0]);
    assert!(wse_row(&m0, V4_0).is_some_and(|r| r.starts_with("0,")), "4.0 starts Prohibited: {:?}", wse_row(&m0, V4_0));
    assert!(wse_row(&m0, V2_0).is_some_and(|r| r.starts_with("1,")), "2.0 starts Allowed: {:?}", wse_row(&m0, V2_0));
    let cases: &[(&str, Version, &str, bool)] = &[
        ("4.0 -ir -enable", V4_0, "-ir -enable", true),
        ("4.0 -enable -i", V4_0, "-enable -i", true),
        ("4.0 -r -enable", V4_0, "-r -enable", true),
        ("2.0 -i -disable", V2_0, "-i -disable", false),
        ("2.0 /ir /DISABLE", V2_0, "/ir /DISABLE", false),
        ("1.1 -i -disable (policy regiis.enable_in_v11)", V1_1, "-i -disable", false),
    ];
    for &(name, v, args, allow) in cases {
        let mut m = m0.clone();
        let out = regiis(&mut m, v, args);
        assert_eq!(out.exit, 0, "{name}: {}", out.text());
        let group = format!("ASP.NET v{}", v.short());
        let want = format!("{},{},0,{group},{group}", u8::from(allow), m.isapi_path(v));
        assert_eq!(wse_row(&m, v), Some(want), "{name}");
        let others: Vec<_> = Version::ALL.iter().filter(|&&o| o != v).map(|&o| wse_row(&m, o)).collect();
        let before: Vec<_> = Version::ALL.iter().filter(|&&o| o != v).map(|&o| wse_row(&m0, o)).collect();
        assert_eq!(others, before, "{name}: other rows untouched");
    }
    // -ir -enable still leaves every map alone.
    let mut m = m0.clone();
    let root = m.metabase().own(ROOT, "ScriptMaps").cloned();
    regiis(&mut m, V4_0, "-ir -enable");
    assert_eq!(m.metabase().own(ROOT, "ScriptMaps").cloned(), root, "-ir -enable keeps maps");

    // IIS 5.1 has no Web Service Extensions: accepted, nothing to set.
    let mut m = machine(Edition::WinXp, &[V2_0]);
    let out = regiis(&mut m, V2_0, "-i -enable");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert!(m.metabase().own(ROOT, "WebSvcExtRestrictionList").is_none());
}

/// Only the 4.0 tool prints a three-line banner, before every action (REG-21).
#[test]
fn only_the_40_tool_prints_a_banner() {
    for (v, args) in [(V4_0, "-lk"), (V4_0, "-i"), (V4_0, "-x"), (V2_0, "-lk"), (V1_1, "-lk"), (V2_0, "-i")] {
        let mut m = server2003();
        let out = regiis(&mut m, v, args);
        let has = out.lines.first().is_some_and(|l| l == "Microsoft (R) ASP.NET RegIIS version 4.0.30319.1");
        assert_eq!(has, v == V4_0, "{v} {args}:\n{}", out.text());
        if has {
            assert_eq!(out.lines[2], "Copyright (C) Microsoft Corporation.  All rights reserved.", "{v} {args}");
        }
    }
}

/// Dots: one per metabase key touched (REG-19).
#[test]
fn progress_dots_count_keys() {
    let mut m = server2003();
    let out = regiis(&mut m, V4_0, "-s W3SVC/1/ROOT/shop");
    assert_eq!(out.exit, 0);
    assert_eq!(body(&out)[1], "..", "shop and shop/admin:\n{}", out.text());
}
