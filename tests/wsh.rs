//! Windows Script Host, `adsutil.vbs` and the KB 812833 `InProcessIsapiApps.vbs`: each row is a
//! command line on a fresh machine, the lines it prints, its exit code, and a check of the machine.

mod common;

use iisim::edition::Edition::{self, Win2000, Win2003, WinXp};
use iisim::machine::journal::Change;
use iisim::machine::{IisState, Machine, MachineConfig};
use iisim::metabase::Value;
use iisim::process::World;
use iisim::runtime::Version;
use iisim::tools::{run, Context};

const ADS: &str = "cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs";
const KB: &str = "cscript //nologo C:\\InProcessIsapiApps.vbs";

const LOGO: [&str; 3] = [
    "Microsoft (R) Windows Script Host Version 5.6",
    "Copyright (C) Microsoft Corporation 1996-2001. All rights reserved.",
    "",
];

/// One row: a command line and what it must print and change.
struct Case {
    name: &'static str,
    edition: Edition,
    runtimes: &'static [Version],
    iis: IisState,
    admin: bool,
    /// Extra files on the disk.
    files: Vec<&'static str>,
    /// Command lines run first; their output is not checked.
    before: Vec<String>,
    line: String,
    out: Vec<String>,
    exit: i32,
    check: fn(&Machine),
}

fn case(name: &'static str, edition: Edition, line: impl Into<String>, out: &[&str], exit: i32) -> Case {
    Case {
        name,
        edition,
        runtimes: &[],
        iis: IisState::Installed,
        admin: true,
        files: Vec::new(),
        before: Vec::new(),
        line: line.into(),
        out: out.iter().map(|s| s.to_string()).collect(),
        exit,
        check: |_| {},
    }
}

impl Case {
    fn before(mut self, lines: &[&str]) -> Case {
        self.before = lines.iter().map(|s| s.to_string()).collect();
        self
    }
    fn file(mut self, path: &'static str) -> Case {
        self.files.push(path);
        self
    }
    fn runtimes(mut self, r: &'static [Version]) -> Case {
        self.runtimes = r;
        self
    }
    fn user(mut self) -> Case {
        self.admin = false;
        self
    }
    fn iis(mut self, state: IisState) -> Case {
        self.iis = state;
        self
    }
    fn check(mut self, f: fn(&Machine)) -> Case {
        self.check = f;
        self
    }
    /// Expected lines built at run time (padded names and the like).
    fn lines(mut self, out: Vec<String>) -> Case {
        self.out = out;
        self
    }
}

/// `name` padded to adsutil's 32 columns, then `rest`.
fn pad(name: &str, rest: &str) -> String {
    format!("{name:<32}{rest}")
}

fn own(m: &Machine, path: &str, prop: &str) -> Option<Value> {
    m.metabase().own(path, prop).cloned()
}

fn list(m: &Machine, path: &str, prop: &str) -> Vec<String> {
    m.metabase().own_list(path, prop)
}

fn machine(c: &Case) -> Machine {
    let mut m = if c.iis == IisState::Installed {
        common::machine(c.edition, c.runtimes)
    } else {
        Machine::new(MachineConfig { iis: c.iis, ..MachineConfig::new(c.edition) })
    };
    m.fs_create_files("C:\\", &["InProcessIsapiApps.vbs"], &[]);
    for f in &c.files {
        let (dir, name) = f.rsplit_once('\\').expect("a full path");
        m.fs_create_files(dir, &[name], &[]);
    }
    m
}

fn run_table(cases: Vec<Case>) {
    for c in cases {
        let mut m = machine(&c);
        let mut w = World::default();
        for b in &c.before {
            run(&mut m, &mut w, b, Context::default());
        }
        let mut out = run(&mut m, &mut w, &c.line, Context { admin: c.admin });
        // cmd's own complaints go to stderr; the rows list what the console shows (CMD-09).
        let err = std::mem::take(&mut out.err);
        out.lines.extend(err);
        assert_eq!(out.lines, c.out, "{}: {}", c.name, c.line);
        assert_eq!(out.exit, c.exit, "{}: exit of {}", c.name, c.line);
        (c.check)(&m);
    }
}

fn kb_usage(windir: &str, version: &str) -> Vec<String> {
    vec![
        "  cscript.exe InProcessIsapiApps.vbs GET".into(),
        "  cscript.exe InProcessIsapiApps.vbs REMOVE <isapi full-path>".into(),
        "  cscript.exe InProcessIsapiApps.vbs ADD <isapi full-path>".into(),
        format!("  cscript.exe InProcessIsapiApps.vbs REMOVE {windir}\\Microsoft.NET\\Framework\\{version}"),
    ]
}

fn with(mut head: Vec<String>, tail: Vec<String>) -> Vec<String> {
    head.extend(tail);
    head
}

fn strs(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| s.to_string()).collect()
}

const WSCRIPT_LINES: [&str; 3] = [
    "This script does not work with WScript.",
    "Would you like to register CScript as your default host for VBscript?",
    "To run this script type: \"CScript.Exe adsutil.vbs <cmd> <params>\"",
];

#[test]
fn kb812833_script() {
    let w2k_isapi = "C:\\WINNT\\Microsoft.NET\\Framework\\v1.0.3705\\aspnet_isapi.dll";
    run_table(vec![
        case("usage with the logo, Windows 2000 folder, no 1.x runtime", Win2000, "cscript C:\\InProcessIsapiApps.vbs", &[], 0)
            .lines(with(strs(&LOGO), kb_usage("C:\\WINNT", "v1.1.4322"))),
        case("usage names the installed 1.0 runtime", WinXp, KB, &[], 0)
            .runtimes(&[Version::V1_0])
            .lines(kb_usage("C:\\WINDOWS", "v1.0.3705")),
        case(
            "GET lists the IIS 5.0 defaults lower-cased",
            Win2000,
            format!("{KB} GET"),
            &["", "W3SVC/InProcessIsapiApps (2 modules):", "  c:\\winnt\\system32\\inetsrv\\ssinc.dll", "  c:\\winnt\\system32\\inetsrv\\httpodbc.dll"],
            0,
        ),
        case(
            "GET shows aspnet_isapi after registration (KB-06 step 6)",
            Win2000,
            format!("{KB} GET"),
            &[
                "",
                "W3SVC/InProcessIsapiApps (3 modules):",
                "  c:\\winnt\\system32\\inetsrv\\ssinc.dll",
                "  c:\\winnt\\system32\\inetsrv\\httpodbc.dll",
                "  c:\\winnt\\microsoft.net\\framework\\v1.0.3705\\aspnet_isapi.dll",
            ],
            0,
        )
        .runtimes(&[Version::V1_0]),
        case(
            "REMOVE takes aspnet_isapi out (KB-06 step 7)",
            Win2000,
            format!("{KB} REMOVE {w2k_isapi}"),
            &["Success: removed c:\\winnt\\microsoft.net\\framework\\v1.0.3705\\aspnet_isapi.dll"],
            0,
        )
        .runtimes(&[Version::V1_0])
        .check(|m| {
            let l = list(m, "/LM/W3SVC", "InProcessIsapiApps");
            assert_eq!(l, ["C:\\WINNT\\system32\\inetsrv\\ssinc.dll", "C:\\WINNT\\system32\\inetsrv\\httpodbc.dll"]);
        }),
        case(
            "REMOVE drops every entry containing the path, keeping the others' case",
            Win2003,
            format!("{KB} REMOVE INETSRV\\HTTP"),
            &["Success: removed inetsrv\\http"],
            0,
        )
        .check(|m| {
            let l = list(m, "/LM/W3SVC", "InProcessIsapiApps");
            assert_eq!(l, ["C:\\WINDOWS\\system32\\inetsrv\\ssinc.dll", "C:\\WINDOWS\\system32\\msw3prt.dll"]);
        }),
        case("REMOVE of a path no entry contains", Win2003, format!("{KB} REMOVE C:\\none.dll"), &["ERROR: c:\\none.dll not found!"], 0)
            .check(|m| assert_eq!(list(m, "/LM/W3SVC", "InProcessIsapiApps").len(), 4)),
        case("ADD appends the lower-cased path", Win2003, format!("{KB} ADD C:\\Apps\\My.DLL"), &["Success: added c:\\apps\\my.dll"], 0)
            .check(|m| {
                let l = list(m, "/LM/W3SVC", "InProcessIsapiApps");
                assert_eq!(l.len(), 5);
                assert_eq!(l[0], "C:\\WINDOWS\\system32\\inetsrv\\httpext.dll");
                assert_eq!(l[4], "c:\\apps\\my.dll");
            }),
        case("ADD refuses a path an entry contains", Win2003, format!("{KB} ADD SSINC.DLL"), &["Error: ssinc.dll is already in the list!"], 0)
            .check(|m| assert_eq!(list(m, "/LM/W3SVC", "InProcessIsapiApps").len(), 4)),
        case("ADD twice: the second is refused", WinXp, format!("{KB} ADD C:\\a.dll"), &["Error: c:\\a.dll is already in the list!"], 0)
            .before(&["cscript //nologo C:\\InProcessIsapiApps.vbs ADD C:\\A.DLL"])
            .check(|m| assert_eq!(list(m, "/LM/W3SVC", "InProcessIsapiApps").len(), 3)),
        case("arguments compare case-sensitively: get is unknown", WinXp, format!("{KB} get"), &["Unknown action"], 0)
            .lines(with(strs(&["Unknown action"]), kb_usage("C:\\WINDOWS", "v1.1.4322"))),
        case("ADD without a path is unknown", WinXp, format!("{KB} ADD"), &[], 0)
            .lines(with(strs(&["Unknown action"]), kb_usage("C:\\WINDOWS", "v1.1.4322"))),
        case("GET with an extra argument is unknown", WinXp, format!("{KB} GET x"), &[], 0)
            .lines(with(strs(&["Unknown action"]), kb_usage("C:\\WINDOWS", "v1.1.4322"))),
        case("run directly: wscript refuses, answered No, nothing changes", Win2000, format!("C:\\InProcessIsapiApps.vbs REMOVE {w2k_isapi}"), &WSCRIPT_LINES, 0)
            .runtimes(&[Version::V1_0])
            .check(|m| assert_eq!(list(m, "/LM/W3SVC", "InProcessIsapiApps").len(), 3)),
        case("wscript.exe by name does the same", Win2003, "wscript C:\\InProcessIsapiApps.vbs GET", &WSCRIPT_LINES, 0),
        case("wscript //B shows no message boxes", Win2003, "wscript //B C:\\InProcessIsapiApps.vbs GET", &[], 0),
        case(
            "after //H:CScript a script typed by name runs in cscript",
            Win2003,
            "C:\\InProcessIsapiApps.vbs ADD x.dll",
            &["Microsoft (R) Windows Script Host Version 5.6", "Copyright (C) Microsoft Corporation 1996-2001. All rights reserved.", "", "Success: added x.dll"],
            0,
        )
        .before(&["cscript //H:CScript"]),
        case("a missing script file", Win2003, "cscript //nologo InProcessIsapiApp.vbs GET", &["Input Error: Can not find script file \"C:\\InProcessIsapiApp.vbs\"."], 1),
        case(
            "a non-administrator stops at GetObject",
            Win2003,
            format!("{KB} ADD C:\\x.dll"),
            &["C:\\InProcessIsapiApps.vbs(8, 1) (null): Access is denied."],
            1,
        )
        .user()
        .check(|m| assert_eq!(list(m, "/LM/W3SVC", "InProcessIsapiApps").len(), 4)),
        case("no IIS: the IIS: moniker is unknown", WinXp, format!("{KB} GET"), &["C:\\InProcessIsapiApps.vbs(8, 1) (null): Invalid syntax"], 1)
            .iis(IisState::Absent),
        case(
            "IIS disabled",
            WinXp,
            format!("{KB} GET"),
            &["C:\\InProcessIsapiApps.vbs(8, 1) (null): The service cannot be started, either because it is disabled or because it has no enabled devices associated with it."],
            1,
        )
        .iis(IisState::Disabled),
        case("the list deleted by adsutil: GetEx fails", Win2003, format!("{KB} GET"), &["C:\\InProcessIsapiApps.vbs(9, 1) (null): 0x8000500D"], 1)
            .before(&["cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs DELETE W3SVC/InProcessIsapiApps"]),
        case("//B hides the runtime error but not the exit code", Win2003, "cscript //B C:\\InProcessIsapiApps.vbs GET", &[], 1).user(),
        case("JScript cannot compile it", Win2003, "cscript //nologo //E:jscript C:\\InProcessIsapiApps.vbs GET", &["C:\\InProcessIsapiApps.vbs(1, 1) Microsoft JScript compilation error: Unterminated string constant"], 1),
    ]);
}

#[test]
fn script_hosts() {
    let mut usage = strs(&LOGO);
    usage.extend(strs(&[
        "Usage: CScript scriptname.extension [option...] [arguments...]",
        "",
        "Options:",
        " //B         Batch mode: Suppresses script errors and prompts from displaying",
        " //D         Enable Active Debugging",
        " //E:engine  Use engine for executing script",
        " //H:CScript Changes the default script host to CScript.exe",
        " //H:WScript Changes the default script host to WScript.exe (default)",
        " //I         Interactive mode (default, opposite of //B)",
        " //Job:xxxx  Execute a WSF job",
        " //Logo      Display logo (default)",
        " //Nologo    Prevent logo display: No banner will be shown at execution time",
        " //S         Save current command line options for this user",
        " //T:nn      Time out in seconds:  Maximum time a script is permitted to run",
        " //X         Execute script in debugger",
        " //U         Use Unicode for redirected I/O from the console",
        "",
    ]));
    run_table(vec![
        case("cscript alone prints its usage", Win2000, "cscript", &[], 0).lines(usage.clone()),
        case("cscript.exe by its full path", Win2003, "C:\\WINDOWS\\system32\\cscript.exe //?", &[], 0).lines(usage),
        case("wscript alone opens its settings dialog", Win2003, "wscript", &[], 0),
        case("an unknown host option", Win2003, "cscript //Q C:\\InProcessIsapiApps.vbs", &[], 1)
            .lines(with(strs(&LOGO), strs(&["Input Error: Unknown option \"//Q\" specified."]))),
        case(
            "host options anywhere on the line",
            Win2003,
            "cscript C:\\InProcessIsapiApps.vbs ADD //nologo x.dll",
            &["Success: added x.dll"],
            0,
        ),
        case(
            "//S saves //nologo for later runs",
            Win2003,
            "cscript C:\\InProcessIsapiApps.vbs ADD y.dll",
            &["Success: added y.dll"],
            0,
        )
        .before(&["cscript //nologo //S"]),
        case("//S prints that it saved", Win2003, "cscript //nologo //S", &["Command line options are saved."], 0),
        case(
            "//H:CScript",
            WinXp,
            "cscript //nologo //H:CScript",
            &["The default script host is now set to cscript.exe."],
            0,
        )
        .check(|m| {
            let v = m.registry().get("HKCR\\VBSFile\\Shell\\Open\\Command", "").unwrap_or_default();
            assert!(v.contains("CScript.exe"), "{v}");
        }),
        case(
            "no file extension",
            Win2003,
            "cscript //nologo C:\\noext",
            &["Input Error: There is no file extension in \"C:\\noext\"."],
            1,
        )
        .file("C:\\noext"),
        case(
            "an extension no engine handles",
            Win2003,
            "cscript //nologo C:\\WINDOWS\\system32\\cscript.exe",
            &["Input Error: There is no script engine for file extension \".exe\"."],
            1,
        ),
        case(
            "an unknown engine",
            Win2003,
            "cscript //nologo //E:perl C:\\InProcessIsapiApps.vbs",
            &["Input Error: Can not find script engine \"perl\" for script \"C:\\InProcessIsapiApps.vbs\"."],
            1,
        ),
        case(
            "a script iisim does not know",
            Win2003,
            "cscript //nologo C:\\other.vbs",
            &["iisim does not emulate C:\\other.vbs yet."],
            1,
        )
        .file("C:\\other.vbs"),
        case(
            "a script that is missing",
            Win2003,
            "cscript //nologo C:\\other.vbs",
            &["Input Error: Can not find script file \"C:\\other.vbs\"."],
            1,
        ),
        case(
            "bare names resolve through PATH only",
            Win2003,
            "adsutil.vbs GET W3SVC/1/ServerComment",
            &["'adsutil.vbs' is not recognized as an internal or external command,", "operable program or batch file."],
            9009,
        ),
        case(
            "relative paths start at C:\\",
            Win2003,
            "cscript //nologo Inetpub\\AdminScripts\\adsutil.vbs GET W3SVC/1/ServerComment",
            &[],
            0,
        )
        .lines(vec![pad("ServerComment", ": (STRING) \"Default Web Site\"")]),
        case(
            "no adsutil.vbs without IIS",
            Win2003,
            format!("{ADS} GET W3SVC"),
            &["Input Error: Can not find script file \"C:\\Inetpub\\AdminScripts\\adsutil.vbs\"."],
            1,
        )
        .iis(IisState::Absent),
    ]);
}

#[test]
fn adsutil_get() {
    run_table(vec![
        case("STRING", Win2003, format!("{ADS} GET W3SVC/1/ServerComment"), &[], 0)
            .lines(vec![pad("ServerComment", ": (STRING) \"Default Web Site\"")]),
        case("the typed name is echoed; paths are trimmed and case-insensitive", Win2003, format!("{ADS} GET \" \\w3svc\\1\\servercomment/\""), &[], 0)
            .lines(vec![pad("servercomment", ": (STRING) \"Default Web Site\"")]),
        case("INTEGER flags print as the number", Win2000, format!("{ADS} GET W3SVC/DirBrowseFlags"), &[], 0)
            .lines(vec![pad("DirBrowseFlags", ": (INTEGER) 1073741854")]),
        case("BOOLEAN", WinXp, format!("{ADS} GET W3SVC/1/ServerAutoStart"), &[], 0).lines(vec![pad("ServerAutoStart", ": (BOOLEAN) True")]),
        case("per-bit views read the flag DWORD", WinXp, format!("{ADS} GET W3SVC/1/ROOT/AccessExecute"), &[], 0)
            .lines(vec![pad("AccessExecute", ": (BOOLEAN) False")]),
        case("LIST", Win2003, format!("{ADS} GET W3SVC/1/ServerBindings"), &[], 0)
            .lines(vec![pad("ServerBindings", ": (LIST)  (1 Items)"), "  \":80:\"".into()]),
        case("inherited only (ADS-04)", Win2003, format!("{ADS} GET W3SVC/1/ROOT/DefaultDoc"), &["The parameter \"DefaultDoc\" is not set at this node."], -2147463162),
        case("a per-bit view whose DWORD is inherited", Win2003, format!("{ADS} GET W3SVC/1/AccessRead"), &["The parameter \"AccessRead\" is not set at this node."], -2147463162),
        case(
            "a missing path (ADS-12)",
            Win2003,
            format!("{ADS} GET W3SVC/2/ServerComment"),
            &["The path requested could not be found.", "ErrNumber: -2147024893 (0x80070003)", "Error Trying To GET the Object (GetObject Failed): W3SVC/2"],
            -2147024893,
        ),
        case(
            "/LM is implied: LM/W3SVC is a missing path",
            Win2003,
            format!("{ADS} GET LM/W3SVC/AppPoolId"),
            &["The path requested could not be found.", "ErrNumber: -2147024893 (0x80070003)", "Error Trying To GET the Object (GetObject Failed): LM/W3SVC"],
            -2147024893,
        ),
        case(
            "a property not in the schema",
            Win2003,
            format!("{ADS} GET W3SVC/1/ServerCommentz"),
            &["", "ErrNumber: -2147463168 (0x80005000)", "Error Trying To GET the Schema of the property: IIS://localhost/Schema/ServerCommentz"],
            -2147463168,
        ),
        case(
            "IIS 5 has no application pools",
            Win2000,
            format!("{ADS} GET W3SVC/AppPoolId"),
            &["", "ErrNumber: -2147463168 (0x80005000)", "Error Trying To GET the Schema of the property: IIS://localhost/Schema/AppPoolId"],
            -2147463168,
        ),
        case(
            "no value anywhere: Get fails",
            Win2003,
            format!("{ADS} GET W3SVC/1/ROOT/HttpErrors"),
            &["", "ErrNumber: -2147463155 (0x8000500D)", "Error Trying To GET the property: (Get Method Failed) HttpErrors", "  (This property is probably not allowed at this node)"],
            -2147463155,
        ),
        case("wrong number of arguments", Win2003, format!("{ADS} GET"), &["Error: Wrong number of Args for the GET command"], 2),
        case("mdutil's AccessPerm maps to AccessFlags", Win2003, format!("{ADS} GET W3SVC/1/ROOT/AccessPerm"), &[], 0).lines(vec![
            "Note: Your parameter \"AccessPerm\" is being mapped to AccessFlags".into(),
            "      Check individual perms using \"GET AccessRead\", \"GET AccessWrite\", etc.".into(),
            pad("AccessFlags", ": (INTEGER) 513"),
        ]),
        case("KeyType", Win2003, format!("{ADS} GET W3SVC/AppPools/DefaultAppPool/KeyType"), &[], 0)
            .lines(vec![pad("KeyType", ": (STRING) \"IIsApplicationPool\"")]),
        case(
            "a non-administrator",
            Win2003,
            format!("{ADS} GET W3SVC/1/ServerComment"),
            &["Access is denied for the requested path or property.", "ErrNumber: -2147024891 (0x80070005)", "Error Trying To GET the Object (GetObject Failed): W3SVC/1"],
            -2147024891,
        )
        .user(),
        case(
            "another server",
            Win2003,
            format!("{ADS} GET W3SVC/1/ServerComment -s:OTHERBOX"),
            &["The RPC server is unavailable.", "ErrNumber: -2147023174 (0x800706BA)", "Error Trying To GET the Object (GetObject Failed): W3SVC/1"],
            -2147023174,
        ),
        case("this server by name", Win2003, format!("{ADS} -s:web01 GET W3SVC/1/ServerComment"), &[], 0)
            .lines(vec![pad("ServerComment", ": (STRING) \"Default Web Site\"")]),
        case("MimeMap prints as a MimeMapList", Win2003, format!("{ADS} GET MimeMap/MimeMap"), &[], 0).lines(vec![format!(
            "{}\".htm,text/html\" \".html,text/html\" \".txt,text/plain\" \".css,text/css\" \".js,application/x-javascript\" \".gif,image/gif\" \".jpg,image/jpeg\" \".png,image/png\" \".xml,text/xml\" \".zip,application/x-zip-compressed\" ",
            pad("MimeMap", ": (MimeMapList) ")
        )]),
        case("MimeMap not set at the node quits silently", Win2003, format!("{ADS} GET W3SVC/MimeMap"), &[], -2147463162),
    ]);
}

#[test]
fn adsutil_set() {
    run_table(vec![
        case("STRING", Win2003, format!("{ADS} SET W3SVC/1/ServerComment \"My Site\""), &[], 0)
            .lines(vec![pad("ServerComment", ": (STRING) \"My Site\"")])
            .check(|m| assert_eq!(own(m, "/LM/W3SVC/1", "ServerComment"), Some(Value::String("My Site".into())))),
        case("INTEGER in hex", Win2003, format!("{ADS} SET W3SVC/1/ROOT/AccessFlags 0x205"), &[], 0)
            .lines(vec![pad("AccessFlags", ": (INTEGER) 517")])
            .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AccessFlags"), Some(Value::Dword(517)))),
        case("INTEGER prints unsigned", Win2003, format!("{ADS} SET W3SVC/DirBrowseFlags 0xC000001E"), &[], 0)
            .lines(vec![pad("DirBrowseFlags", ": (INTEGER) 3221225502")])
            .check(|m| assert_eq!(own(m, "/LM/W3SVC", "DirBrowseFlags"), Some(Value::Dword(0xC000_001E)))),
        case("BOOLEAN follows CBool", Win2003, format!("{ADS} SET W3SVC/1/ServerAutoStart 0"), &[], 0)
            .lines(vec![pad("ServerAutoStart", ": (BOOLEAN) False")])
            .check(|m| assert_eq!(own(m, "/LM/W3SVC/1", "ServerAutoStart"), Some(Value::Dword(0)))),
        case(
            "a per-bit view rewrites the whole effective DWORD (MB-18)",
            Win2003,
            format!("{ADS} SET W3SVC/1/ROOT/app/AccessWrite TRUE"),
            &[],
            0,
        )
        .before(&["cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs CREATE_VDIR W3SVC/1/ROOT/app"])
        .lines(vec![pad("AccessWrite", ": (BOOLEAN) True")])
        .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT/app", "AccessFlags"), Some(Value::Dword(513 | 2)))),
        case(
            "LIST takes one argument per item",
            Win2003,
            format!("{ADS} SET W3SVC/1/ServerBindings :80: :8080:www.a.com"),
            &[],
            0,
        )
        .lines(vec![pad("ServerBindings", ": (LIST) \":80:\" \":8080:www.a.com\" ")])
        .check(|m| assert_eq!(list(m, "/LM/W3SVC/1", "ServerBindings"), [":80:", ":8080:www.a.com"])),
        case(
            "an empty item ends the MULTISZ: \"\" is the empty list",
            Win2003,
            format!("{ADS} SET W3SVC/1/ROOT/ScriptMaps \"\""),
            &[],
            0,
        )
        .lines(vec![pad("ScriptMaps", ": (LIST) \"\" ")])
        .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "ScriptMaps"), Some(Value::MultiSz(vec![])))),
        case(
            "isolation mode waits for a W3SVC restart (ADS-13)",
            Win2003,
            format!("{ADS} SET W3SVC/IIs5IsolationModeEnabled TRUE"),
            &[],
            0,
        )
        .lines(vec![pad("IIs5IsolationModeEnabled", ": (BOOLEAN) True")])
        .check(|m| assert_eq!(own(m, "/LM/W3SVC", "IIs5IsolationModeEnabled"), Some(Value::Dword(1)))),
        case(
            "a number that is not one",
            Win2003,
            format!("{ADS} SET W3SVC/1/ROOT/AppIsolated high"),
            &["Type mismatch", "ErrNumber: 13 (0xD)", "Error Trying To SET the Property: AppIsolated"],
            13,
        )
        .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AppIsolated"), Some(Value::Dword(2)))),
        case(
            "too few arguments",
            Win2003,
            format!("{ADS} SET W3SVC/1/ServerComment"),
            &["Error: Wrong number of Args for the SET command"],
            2,
        ),
        case(
            "a missing path",
            Win2003,
            format!("{ADS} SET W3SVC/7/ServerComment x"),
            &[
                "The path requested could not be found.",
                "ErrNumber: -2147024893 (0x80070003)",
                "Error Trying To Get the Object: W3SVC/7",
            ],
            -2147024893,
        ),
        case(
            "an unknown property",
            Win2003,
            format!("{ADS} SET W3SVC/1/Bogus 1"),
            &[
                "",
                "ErrNumber: -2147463168 (0x80005000)",
                "Error Trying To GET the Schema of the property: IIS://localhost/Schema/Bogus",
            ],
            -2147463168,
        ),
        case(
            "a non-administrator changes nothing",
            Win2003,
            format!("{ADS} SET W3SVC/1/ServerComment x"),
            &[
                "Access is denied for the requested path or property.",
                "ErrNumber: -2147024891 (0x80070005)",
                "Error Trying To Get the Object: W3SVC/1",
            ],
            -2147024891,
        )
        .user()
        .check(|m| assert_eq!(own(m, "/LM/W3SVC/1", "ServerComment"), Some(Value::String("Default Web Site".into())))),
        case("AccessPerm with words", Win2000, format!("{ADS} SET W3SVC/1/ROOT/AccessPerm read script"), &[], 0)
            .lines(vec![pad("AccessFlags (AccessPerm)", ": (Long)  Read Script")])
            .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AccessFlags"), Some(Value::Dword(513)))),
        case("AccessPerm with a number", Win2000, format!("{ADS} SET W3SVC/1/ROOT/AccessPerm 0x205"), &[], 0)
            .lines(vec![pad("AccessFlags (AccessPerm)", ": (Long)  517 (0x205)")]),
        case(
            "AccessPerm with a word it lacks",
            Win2000,
            format!("{ADS} SET W3SVC/1/ROOT/AccessPerm read source"),
            &["Error: Setting not supported: source"],
            2,
        )
        .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AccessFlags"), Some(Value::Dword(513)))),
        case("VRPath sets Path", WinXp, format!("{ADS} SET W3SVC/1/ROOT/VRPath D:\\www"), &[], 0)
            .lines(vec![pad("Path (VRPath)", ": (String) D:\\www")])
            .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "Path"), Some(Value::String("D:\\www".into())))),
        case("Authorization sets AuthFlags", WinXp, format!("{ADS} SET W3SVC/1/ROOT/Authorization NT Basic"), &[], 0)
            .lines(vec![pad("Authorization", ": (Long)  NT Basic")])
            .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AuthFlags"), Some(Value::Dword(6)))),
        case("MimeMap on IIS 6", Win2003, format!("{ADS} SET W3SVC/1/ROOT/MimeMap .log,text/plain"), &[], 0)
            .lines(vec![pad("MimeMap", ": (MimeMapList) \".log,text/plain\" ")])
            .check(|m| assert_eq!(list(m, "/LM/W3SVC/1/ROOT", "MimeMap"), [".log,text/plain"])),
        case(
            "MimeMap on IIS 5 keeps the Q248364 bug",
            Win2000,
            format!("{ADS} SET W3SVC/1/ROOT/MimeMap .log,text/plain"),
            &[],
            0,
        )
        .lines(vec![pad("MimeMap", ": (MimeMapList) \".log,text/plain\" ")])
        .check(|m| assert_eq!(list(m, "/LM/W3SVC/1/ROOT", "MimeMap"), [".log,lain"])),
        case(
            "MimeMap without a comma",
            Win2003,
            format!("{ADS} SET W3SVC/1/ROOT/MimeMap .log"),
            &["Invalid procedure call or argument", "ErrNumber: 5 (0x5)", "Error trying to Create the Mime Map List."],
            5,
        ),
        case(
            "ServerCommand 2 stops the site (ADS-05)",
            Win2003,
            format!("{ADS} SET W3SVC/1/ServerCommand 2"),
            &["Server W3SVC/1 Successfully STOPPED"],
            0,
        ),
        case(
            "ServerCommand on a non-site (IIS 6 checks the class)",
            Win2003,
            format!("{ADS} SET W3SVC/1/ROOT/ServerCommand 1"),
            &["", "ErrNumber: 0 (0x0)", "Can't set ServerCommand on a non-IIsWebServer object."],
            2,
        ),
        case(
            "an invalid ServerCommand",
            Win2003,
            format!("{ADS} SET W3SVC/1/ServerCommand 9"),
            &["Invalid ServerCommand: 9"],
            2,
        ),
        case(
            "AppPoolCommand 2 stops the pool (ADS-05)",
            Win2003,
            format!("{ADS} SET W3SVC/AppPools/DefaultAppPool/AppPoolCommand 2"),
            &["Application pool W3SVC/AppPools/DefaultAppPool Successfully STOPPED"],
            0,
        ),
        case(
            "a key without a class takes no properties",
            Win2003,
            format!("{ADS} SET W3SVC/1/ROOT/x/Path C:\\x"),
            &["", "ErrNumber: -2147463162 (0x80005006)", "Error Trying To SET the Property: Path"],
            -2147463162,
        )
        .before(&["cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs CREATE W3SVC/1/ROOT/x"]),
        case("until its KeyType is set", Win2003, format!("{ADS} SET W3SVC/1/ROOT/x/Path C:\\x"), &[], 0)
            .before(&[
                "cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs CREATE W3SVC/1/ROOT/x",
                "cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/1/ROOT/x/KeyType IIsWebVirtualDir",
            ])
            .lines(vec![pad("Path", ": (STRING) \"C:\\x\"")])
            .check(|m| {
                assert_eq!(m.metabase().key("/LM/W3SVC/1/ROOT/x").map(|k| k.key_type()), Some("IIsWebVirtualDir"));
                assert_eq!(own(m, "/LM/W3SVC/1/ROOT/x", "Path"), Some(Value::String("C:\\x".into())));
            }),
    ]);
}

#[test]
fn adsutil_delete_enum_create() {
    run_table(vec![
        case(
            "DELETE clears a property",
            Win2003,
            format!("{ADS} DELETE W3SVC/1/ROOT/AppPoolId"),
            &["deleted property \"AppPoolId\""],
            0,
        )
        .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AppPoolId"), None)),
        case(
            "DELETE of a name that is no property deletes the key",
            Win2003,
            format!("{ADS} DELETE W3SVC/1/ROOT/app"),
            &["deleted path \"W3SVC/1/ROOT/app\""],
            0,
        )
        .before(&["cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs CREATE_VDIR W3SVC/1/ROOT/app"])
        .check(|m| assert!(!m.metabase().exists("/LM/W3SVC/1/ROOT/app"))),
        case(
            "a trailing slash deletes the key",
            Win2003,
            format!("{ADS} DELETE W3SVC/1/Filters/"),
            &["deleted path \"W3SVC/1/Filters\""],
            0,
        )
        .check(|m| assert!(!m.metabase().exists("/LM/W3SVC/1/Filters"))),
        case(
            "DELETE of nothing",
            Win2003,
            format!("{ADS} DELETE W3SVC/1/ROOT/nothere"),
            &[
                "",
                "The path requested could not be found.",
                "ErrNumber: -2147024893 (0x80070003)",
                "Error deleting the object: W3SVC/1/ROOT/nothere",
            ],
            -2147024893,
        ),
        case(
            "DELETE wrong arguments",
            Win2003,
            format!("{ADS} DELETE"),
            &["Error: Wrong number of Args for the DELETE command"],
            2,
        ),
        case(
            "ENUM lists own properties, flag bits after their DWORD, then children",
            Win2000,
            format!("{ADS} ENUM W3SVC/1"),
            &[],
            0,
        )
        .lines(vec![
            pad("KeyType", ": (STRING) \"IIsWebServer\""),
            pad("ServerComment", ": (STRING) \"Default Web Site\""),
            pad("ServerBindings", ": (LIST) (1 Items)"),
            "  \":80:\"".into(),
            String::new(),
            pad("ServerAutoStart", ": (BOOLEAN) True"),
            pad("ServerState", ": (INTEGER) 2"),
            "[/W3SVC/1/Filters]".into(),
            "[/W3SVC/1/ROOT]".into(),
            String::new(),
        ]),
        case(
            "ENUM /P lists paths only",
            Win2003,
            format!("{ADS} ENUM W3SVC /p"),
            &["[/W3SVC/1]", "[/W3SVC/AppPools]", "[/W3SVC/Filters]", "[/W3SVC/Info]", ""],
            0,
        ),
        case(
            "ENUM_ALL /P recurses",
            Win2003,
            format!("{ADS} ENUM_ALL /P W3SVC/AppPools"),
            &["[/W3SVC/AppPools/DefaultAppPool]", "", ""],
            0,
        ),
        case("ENUM of the computer object", WinXp, format!("{ADS} ENUM /P"), &["[/MimeMap]", "[/W3SVC]", ""], 0),
        case(
            "ENUM with two paths",
            Win2003,
            format!("{ADS} ENUM W3SVC W3SVC/1"),
            &["Error: Invalid arguments for the ENUM command"],
            2,
        ),
        case(
            "ENUM with four arguments",
            Win2003,
            format!("{ADS} ENUM a b c"),
            &["Error: Wrong number of Args for the ENUM command"],
            2,
        ),
        case(
            "ENUM of a missing path",
            Win2003,
            format!("{ADS} ENUM W3SVC/5"),
            &[
                "",
                "The path requested could not be found.",
                "ErrNumber: -2147024893 (0x80070003)",
                "Error Trying To ENUM the Object (GetObject Failed): W3SVC/5",
            ],
            -2147024893,
        ),
        case(
            "CREATE with a KeyType",
            Win2003,
            format!("{ADS} CREATE W3SVC/1/ROOT/shop IIsWebVirtualDir"),
            &["created \"W3SVC/1/ROOT/shop\""],
            0,
        )
        .check(|m| {
            assert_eq!(m.metabase().key("/LM/W3SVC/1/ROOT/shop").map(|k| k.key_type()), Some("IIsWebVirtualDir"))
        }),
        case("CREATE_VSERV", Win2003, format!("{ADS} CREATE_VSERV W3SVC/5"), &["created \"W3SVC/5\""], 0)
            .check(|m| assert_eq!(m.metabase().key("/LM/W3SVC/5").map(|k| k.key_type()), Some("IIsWebServer"))),
        case(
            "CREATE without a KeyType warns (exit 1)",
            Win2003,
            format!("{ADS} CREATE W3SVC/1/ROOT/x"),
            &[
                "",
                "WARNING: The Object Type of this object was not specified or was specified as",
                "    IIsObject.  This means that you will not be able to set or get properties",
                "    on the object until the KeyType property is set.",
                "",
                "created \"W3SVC/1/ROOT/x\"",
            ],
            1,
        )
        .check(|m| assert_eq!(m.metabase().key("/LM/W3SVC/1/ROOT/x").map(|k| k.key_type()), Some("IIsObject"))),
        case(
            "CREATE under a missing parent warns (exit 1)",
            Win2003,
            format!("{ADS} CREATE_VDIR W3SVC/1/ROOT/a/b"),
            &[
                "",
                "WARNING: The parent path (W3SVC/1/ROOT/a) was not already created.",
                "    This means that some of the intermediate objects will not have an accurate",
                "    Object Type. You should fix this by setting the KeyType on the intermediate",
                "    objects.",
                "",
                "created \"W3SVC/1/ROOT/a/b\"",
            ],
            1,
        )
        .check(|m| assert_eq!(m.metabase().key("/LM/W3SVC/1/ROOT/a").map(|k| k.key_type()), Some("IIsConfigObject"))),
        case(
            "CREATE of an existing key",
            Win2003,
            format!("{ADS} CREATE W3SVC/1 IIsWebServer"),
            &[
                "",
                "Cannot create a file when that file already exists.",
                "ErrNumber: -2147024713 (0x800700B7)",
                "Error creating the object: W3SVC/1",
            ],
            -2147024713,
        ),
        case("CREATE wrong arguments prints the usage too", Win2003, format!("{ADS} CREATE a b c"), &[], 2).lines({
            let mut v = strs(&["Error: Wrong number of Args for the CREATE command"]);
            v.extend(adsutil_usage(
                "IIS administration utility that enables the configuration of metabase properties.",
            ));
            v
        }),
    ]);
}

fn adsutil_usage(description: &str) -> Vec<String> {
    strs(&[
        "",
        "Usage:",
        "      ADSUTIL.VBS <cmd> [<path> [<value>]]",
        "",
        "Description:",
        description,
        "",
        "Supported Commands:",
        "  GET, SET, ENUM, DELETE, CREATE, COPY, ",
        "  APPCREATEINPROC, APPCREATEOUTPROC, APPCREATEPOOLPROC, APPDELETE, APPUNLOAD, APPGETSTATUS ",
        "",
        "Samples:",
        "  adsutil.vbs GET W3SVC/1/ServerBindings",
        "  adsutil.vbs SET W3SVC/1/ServerBindings \":81:\"",
        "  adsutil.vbs CREATE W3SVC/1/Root/MyVdir \"IIsWebVirtualDir\"",
        "  adsutil.vbs START_SERVER W3SVC/1",
        "  adsutil.vbs ENUM /P W3SVC",
        "",
        "For Extended Help type:",
        "  adsutil.vbs HELP",
    ])
}

#[test]
fn adsutil_commands() {
    run_table(vec![
        case("no command: the usage, exit 2", Win2000, ADS, &[], 2)
            .lines(adsutil_usage("IIS K2 administration utility that enables the manipulation with ADSI parameters")),
        case(
            "an unknown command (ADS-11)",
            Win2003,
            format!("{ADS} LIST W3SVC"),
            &["Command not recognized: LIST", "For help, just type \"Cscript.exe adsutil.vbs\"."],
            2,
        ),
        case("commands are case-insensitive", Win2003, format!("{ADS} get W3SVC/1/ServerComment"), &[], 0)
            .lines(vec![pad("ServerComment", ": (STRING) \"Default Web Site\"")]),
        case(
            "typed by name: wscript runs it and the prompt does not wait (ERRORLEVEL 0, CMD-08)",
            Win2003,
            "C:\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/1/ServerComment x",
            &WSCRIPT_LINES,
            0,
        )
        .check(|m| assert_eq!(own(m, "/LM/W3SVC/1", "ServerComment"), Some(Value::String("Default Web Site".into())))),
        case(
            "APPCREATEINPROC",
            Win2000,
            format!("{ADS} APPCREATEINPROC W3SVC/1/ROOT/app"),
            &["Application Created."],
            0,
        )
        .before(&["cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs CREATE_VDIR W3SVC/1/ROOT/app"])
        .check(|m| {
            assert_eq!(own(m, "/LM/W3SVC/1/ROOT/app", "AppRoot"), Some(Value::String("/LM/W3SVC/1/ROOT/app".into())));
            assert_eq!(own(m, "/LM/W3SVC/1/ROOT/app", "AppIsolated"), Some(Value::Dword(0)));
        }),
        case("APPCREATEOUTPROC", Win2000, format!("{ADS} APPCREATEOUTPROC W3SVC/1/ROOT"), &["Application Created."], 0)
            .check(|m| assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AppIsolated"), Some(Value::Dword(1)))),
        case(
            "APPCREATEPOOLPROC keeps the typed case in AppRoot",
            WinXp,
            format!("{ADS} APPCREATEPOOLPROC w3svc/1/root/App"),
            &["Application Created."],
            0,
        )
        .before(&["cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs CREATE W3SVC/1/ROOT/App IIsWebDirectory"])
        .check(|m| {
            assert_eq!(own(m, "/LM/W3SVC/1/ROOT/App", "AppRoot"), Some(Value::String("/LM/w3svc/1/root/App".into())));
            assert_eq!(own(m, "/LM/W3SVC/1/ROOT/App", "AppIsolated"), Some(Value::Dword(2)));
        }),
        case(
            "APPCREATE on a site key",
            Win2003,
            format!("{ADS} APPCREATEINPROC W3SVC/1"),
            &[
                "Object doesn't support this property or method",
                "ErrNumber: 438 (0x1B6)",
                "Error trying to create the application: W3SVC/1",
            ],
            438,
        ),
        case(
            "APPCREATE of a missing path",
            Win2003,
            format!("{ADS} APPCREATEINPROC W3SVC/1/ROOT/none"),
            &[
                "The path requested could not be found.",
                "ErrNumber: -2147024893 (0x80070003)",
                "Error trying to get the path of the application: W3SVC/1/ROOT/none",
            ],
            -2147024893,
        ),
        case(
            "APPCREATE wrong arguments",
            Win2003,
            format!("{ADS} APPCREATEINPROC"),
            &["Error: Wrong number of Args for the APPCREATE command"],
            2,
        ),
        case(
            "APPDELETE clears the application (MB-22)",
            Win2003,
            format!("{ADS} APPDELETE W3SVC/1/ROOT"),
            &["Application Deleted."],
            0,
        )
        .check(|m| {
            assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AppRoot"), None);
            assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "AppIsolated"), None);
            assert_eq!(own(m, "/LM/W3SVC/1/ROOT", "Path"), Some(Value::String("C:\\Inetpub\\wwwroot".into())));
        }),
        case(
            "APPGETSTATUS of an application nothing has loaded (ADS-09)",
            Win2003,
            format!("{ADS} APPGETSTATUS W3SVC/1/ROOT"),
            &["Application Status: 0"],
            0,
        ),
        case(
            "START_SERVER (ADS-10)",
            Win2003,
            format!("{ADS} START_SERVER W3SVC/1"),
            &["Server W3SVC/1 Successfully STARTED"],
            0,
        ),
        case(
            "STOP_SERVER wrong arguments",
            Win2003,
            format!("{ADS} STOP_SERVER"),
            &["Error: Wrong number of Args for the STOP_SERVER command"],
            2,
        ),
        case(
            "FIND lists where a property is set",
            Win2003,
            format!("{ADS} FIND W3SVC/AppPoolId"),
            &["Property AppPoolId found at:", "  W3SVC", "  W3SVC/1/ROOT"],
            0,
        ),
        case(
            "FIND of a per-bit view",
            Win2000,
            format!("{ADS} FIND /AccessScript"),
            &["Property AccessScript found at:", "  W3SVC", "  W3SVC/1/ROOT"],
            0,
        ),
        case(
            "FIND of nothing",
            Win2003,
            format!("{ADS} FIND W3SVC/1/HttpErrors"),
            &["Property HttpErrors was not found at any node beneath W3SVC/1"],
            0,
        ),
        case(
            "COPY copies the subtree",
            Win2003,
            format!("{ADS} COPY W3SVC/1/ROOT W3SVC/1/ROOT2"),
            &["copied from /W3SVC/1/ROOT to /W3SVC/1/ROOT2"],
            0,
        )
        .check(|m| {
            assert_eq!(m.metabase().key("/LM/W3SVC/1/ROOT2").map(|k| k.key_type()), Some("IIsWebVirtualDir"));
            assert_eq!(own(m, "/LM/W3SVC/1/ROOT2", "Path"), Some(Value::String("C:\\Inetpub\\wwwroot".into())));
            assert!(m.metabase().exists("/LM/W3SVC/1/ROOT"));
        }),
        case(
            "MOVE moves it",
            Win2003,
            format!("{ADS} MOVE W3SVC/1/ROOT/a W3SVC/1/ROOT/b"),
            &["moved from /W3SVC/1/ROOT/a to /W3SVC/1/ROOT/b"],
            0,
        )
        .before(&["cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs CREATE_VDIR W3SVC/1/ROOT/a/x"])
        .check(|m| {
            assert!(!m.metabase().exists("/LM/W3SVC/1/ROOT/a"));
            assert_eq!(m.metabase().key("/LM/W3SVC/1/ROOT/b/x").map(|k| k.key_type()), Some("IIsWebVirtualDir"));
        }),
        case(
            "COPY onto an existing key",
            Win2003,
            format!("{ADS} COPY W3SVC/1 W3SVC/Info"),
            &[
                "Cannot create a file when that file already exists.",
                "ErrNumber: -2147024713 (0x800700B7)",
                "Error trying to Copy/Move Source to Dest.",
            ],
            -2147024713,
        ),
    ]);
}

#[test]
fn adsutil_help_prints_the_extended_text() {
    let mut m = common::machine(Win2003, &[]);
    let out = run(&mut m, &mut World::default(), &format!("{ADS} HELP"), Context::default());
    assert_eq!(out.exit, 0);
    assert_eq!(out.lines[5], "IIS administration utility that enables the manipulation with ADSI parameters");
    assert_eq!(out.lines.iter().filter(|l| l.as_str() == "Extended ADSUTIL Commands:").count(), 2);
    assert!(out
        .lines
        .contains(&" adsutil.vbs APPGETSTATUS     w3svc/1/root - Get status of the application".to_string()));
}

/// Every write reaches the journal with the rules that decided it.
#[test]
fn writes_cite_their_rules() {
    let mut m = common::machine(Win2003, &[]);
    m.fs_create_files("C:\\", &["InProcessIsapiApps.vbs"], &[]);
    m.drain_effects();
    let mut w = World::default();
    run(&mut m, &mut w, &format!("{ADS} SET W3SVC/1/ROOT/AccessExecute 1"), Context::default());
    run(&mut m, &mut w, &format!("{ADS} SET W3SVC/IIs5IsolationModeEnabled 1"), Context::default());
    run(&mut m, &mut w, &format!("{KB} ADD C:\\x.dll"), Context::default());
    let effects = m.drain_effects_with(w.journal_mut());
    let cited = |prop: &str| -> Vec<&str> {
        effects
            .iter()
            .find(|e| matches!(&e.change, Change::Property { prop: p, .. } if p == prop))
            .map(|e| e.rules.clone())
            .unwrap_or_default()
    };
    assert_eq!(cited("AccessFlags"), ["ADS-05", "MB-18", "ADS-13"]);
    assert_eq!(cited("IIs5IsolationModeEnabled"), ["ADS-05", "ADS-13"]);
    assert_eq!(cited("InProcessIsapiApps"), ["KB-05"]);
    let restart_note = effects.iter().any(|e| {
        matches!(&e.change, Change::Note { text } if text.contains("changes when W3SVC restarts"))
            && e.rules.contains(&"ADS-13")
    });
    assert!(restart_note, "{effects:#?}");
}
