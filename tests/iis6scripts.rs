//! The IIS 6 scripts' switches and errors: each row is a command line on a fresh machine (with
//! 2.0 and 4.0 on Server 2003 unless it says otherwise), its console lines and its exit code.

mod common;

use iisim::edition::Edition::{self, Win2003, WinXp};
use iisim::process::World;
use iisim::runtime::Version;
use iisim::tools::{run, Context};

const S32: &str = r"cscript //nologo C:\WINDOWS\system32";

struct Row {
    name: &'static str,
    edition: Edition,
    line: String,
    /// Lines that must appear, in order (stdout then stderr).
    lines: Vec<&'static str>,
    exit: i32,
}

fn row(name: &'static str, line: impl Into<String>, lines: &[&'static str], exit: i32) -> Row {
    Row { name, edition: Win2003, line: line.into(), lines: lines.to_vec(), exit }
}

fn check(rows: Vec<Row>) {
    for r in rows {
        let mut m = common::machine(r.edition, &[Version::V2_0, Version::V4_0]);
        let mut w = World::default();
        let mut out = run(&mut m, &mut w, &r.line, Context::default());
        let err = std::mem::take(&mut out.err);
        out.lines.extend(err);
        let mut at = 0;
        for want in &r.lines {
            match out.lines[at..].iter().position(|l| l == want) {
                Some(p) => at += p + 1,
                None => panic!("{}: missing {want:?} (in order) in {:#?}", r.name, out.lines),
            }
        }
        assert_eq!(out.exit, r.exit, "{}: exit of {}; output {:#?}", r.name, r.line, out.lines);
    }
}

#[test]
fn iisext_switches_and_errors() {
    let v4 = r"C:\WINDOWS\Microsoft.NET\Framework\v4.0.30319\aspnet_isapi.dll";
    check(vec![
        row("no operation", format!(r"{S32}\iisext.vbs"), &["Not enough parameters.", "Type IIsExt /? for help."], 1),
        row(
            "unknown switch",
            format!(r"{S32}\iisext.vbs /Frob"),
            &["Invalid switch: /Frob", "Type IIsExt /? for help."],
            1,
        ),
        row(
            "two operations",
            format!(r"{S32}\iisext.vbs /ListFile /ListApp"),
            &["Please specify only one operation at a time."],
            1,
        ),
        row(
            "switches ignore case",
            format!(r"{S32}\iisext.vbs /listfile"),
            &["Connecting to server ...Done.", "Status / Extension Path"],
            0,
        ),
        row(
            "4.0 starts prohibited",
            format!(r"{S32}\iisext.vbs /ListFile"),
            &["0  C:\\WINDOWS\\Microsoft.NET\\Framework\\v4.0.30319\\aspnet_isapi.dll"],
            0,
        ),
        row("/EnFile without a path", format!(r"{S32}\iisext.vbs /EnFile"), &["Not enough parameters."], 1),
        row(
            "/EnFile of 4.0",
            format!(r"{S32}\iisext.vbs /EnFile {v4}"),
            &["Connecting to server ...Done.", "Enabling extension file complete."],
            0,
        ),
        row(
            "/DisFile of an unknown file",
            format!(r"{S32}\iisext.vbs /DisFile C:\x.dll"),
            &["Error: C:\\x.dll is not in the Web service extension list."],
            -2147024894,
        ),
        row(
            "/EnExt of an unknown ID",
            format!(r"{S32}\iisext.vbs /EnExt NOPE"),
            &["Error: no Web service extension has the ID NOPE."],
            -2147024894,
        ),
        row(
            "/ListExt",
            format!(r"{S32}\iisext.vbs /ListExt"),
            &["ASP", "HTTPODBC", "SSINC", "WEBDAV", "ASP.NET v2.0.50727", "ASP.NET v4.0.30319"],
            0,
        ),
        row("/ListApp", format!(r"{S32}\iisext.vbs /ListApp"), &["ASP.NET v2.0.50727", "ASP.NET v4.0.30319"], 0),
        row(
            "/EnApp of an app without dependencies",
            format!(r"{S32}\iisext.vbs /EnApp Nothing"),
            &["Error: the application Nothing has no dependencies."],
            -2147024894,
        ),
        row(
            "/EnApp",
            format!(r#"{S32}\iisext.vbs /EnApp "ASP.NET v4.0.30319""#),
            &["Enabling application complete."],
            0,
        ),
        row(
            "/AddFile with a bad flag",
            format!(r"{S32}\iisext.vbs /AddFile C:\a.dll 2 ID 1 desc"),
            &["Invalid parameter: the access and deletable flags are 0 or 1."],
            1,
        ),
        row(
            "/AddFile of a listed file",
            format!(r"{S32}\iisext.vbs /AddFile {v4} 1 ID 1 desc"),
            &[
                r"Error: C:\WINDOWS\Microsoft.NET\Framework\v4.0.30319\aspnet_isapi.dll is already in the Web service extension list.",
            ],
            -2147024713,
        ),
        row(
            "/RmFile of a row not marked deletable",
            format!(r"{S32}\iisext.vbs /RmFile {v4}"),
            &[r"Error: C:\WINDOWS\Microsoft.NET\Framework\v4.0.30319\aspnet_isapi.dll is not marked deletable."],
            -2147024891,
        ),
        row(
            "another server",
            format!(r"{S32}\iisext.vbs /ListFile /s OTHER"),
            &["Error &H800706BA: The RPC server is unavailable."],
            -2147023174,
        ),
        row("typed by name: WScript, not waited for", r"C:\WINDOWS\system32\iisext.vbs /ListFile", &[], 0),
        Row {
            edition: WinXp,
            ..row(
                "XP has no iisext",
                "iisext /ListFile",
                &["'iisext' is not recognized as an internal or external command,"],
                9009,
            )
        },
        Row {
            edition: WinXp,
            ..row(
                "XP: cscript finds no file",
                r"cscript //nologo C:\WINDOWS\system32\iisext.vbs",
                &[r#"Input Error: Can not find script file "C:\WINDOWS\system32\iisext.vbs"."#],
                1,
            )
        },
    ]);
}

#[test]
fn iisapp_switches_and_errors() {
    check(vec![
        row("no workers yet", format!(r"{S32}\iisapp.vbs"), &["Error - no results"], 2),
        row(
            "/a with no worker at all",
            format!(r"{S32}\iisapp.vbs /a DefaultAppPool"),
            &["Error - no w3wp.exe processes are running at this time"],
            1,
        ),
        row("/p of a word", format!(r"{S32}\iisapp.vbs /p abc"), &["ERROR: PID is not valid"], -2147024809),
        row("/p of no process", format!(r"{S32}\iisapp.vbs /p 4242"), &["Process ID 4242 not found."], -2147024894),
        row(
            "/a without a pool",
            format!(r"{S32}\iisapp.vbs /a"),
            &["Not enough parameters.", "Type IIsApp /? for help."],
            1,
        ),
        row(
            "/r of a missing pool",
            format!(r"{S32}\iisapp.vbs /a Nowhere /r"),
            &["Connecting to server ...Done.", "Application pool 'Nowhere' does not exist."],
            -2147024894,
        ),
        row(
            "/r",
            format!(r"{S32}\iisapp.vbs /a defaultapppool /r"),
            &["Application pool 'DefaultAppPool' recycled successfully."],
            0,
        ),
        row(
            "help",
            format!(r"{S32}\iisapp.vbs /?"),
            &["Syntax: IIsApp.vbs [{ /a <app_pool_id> | /p <pid> } [/r] ]"],
            0,
        ),
        row("unknown switch", format!(r"{S32}\iisapp.vbs /z"), &["Invalid switch: /z", "Type IIsApp /? for help."], 1),
    ]);
}

#[test]
fn iisweb_iisvdir_iiscnfg_switches_and_errors() {
    check(vec![
        row(
            "iisweb without arguments",
            format!(r"{S32}\iisweb.vbs"),
            &["Not enough parameters.", "Type IIsWeb /? for help."],
            1,
        ),
        row("iisweb /create without a name", format!(r"{S32}\iisweb.vbs /create C:\x"), &["Not enough parameters."], 1),
        row(
            "iisweb /create on a bad port",
            format!(r"{S32}\iisweb.vbs /create C:\x Site /b 0"),
            &["Invalid port number: 0"],
            1,
        ),
        row(
            "iisweb /create on a port in use",
            format!(r"{S32}\iisweb.vbs /create C:\x Site"),
            &[
                "Status        = STOPPED",
                "Error: the binding :80: is in use by another site; W3SVC/1971554062 was not started.",
            ],
            -2147024844,
        ),
        row(
            "iisweb /create /dontstart",
            format!(r"{S32}\iisweb.vbs /create C:\x Site /dontstart"),
            &["Status        = STOPPED"],
            0,
        ),
        row(
            "iisweb /query of a missing site",
            format!(r"{S32}\iisweb.vbs /query Nowhere"),
            &["Error: the site Nowhere does not exist."],
            1,
        ),
        row(
            "iisweb /pause",
            format!(r#"{S32}\iisweb.vbs /pause "Default Web Site""#),
            &["Server W3SVC/1 has been PAUSED."],
            0,
        ),
        row("iisweb /delete", format!(r"{S32}\iisweb.vbs /delete w3svc/1"), &["Server W3SVC/1 has been DELETED."], 0),
        row(
            "iisvdir /query of a missing site",
            format!(r"{S32}\iisvdir.vbs /query Nowhere"),
            &["Error: the site or path Nowhere does not exist."],
            -2147024893,
        ),
        row(
            "iisvdir /create without a path",
            format!(r"{S32}\iisvdir.vbs /create w3svc/1 pics"),
            &["Not enough parameters.", "Type IIsVDir /? for help."],
            1,
        ),
        row(
            "iisvdir /delete of the root",
            format!(r"{S32}\iisvdir.vbs /delete w3svc/1"),
            &["Error: the virtual directory w3svc/1 does not exist."],
            -2147024893,
        ),
        row("iisvdir unknown switch", format!(r"{S32}\iisvdir.vbs /list"), &["Invalid switch: /list"], 1),
        row(
            "iiscnfg /export",
            format!(r"{S32}\iiscnfg.vbs /export /f C:\x.xml /sp /lm/w3svc/1"),
            &["Connecting to server ...Done.", "Configuration exported from /lm/w3svc/1 to file C:\\x.xml."],
            0,
        ),
        row(
            "iiscnfg without arguments",
            format!(r"{S32}\iiscnfg.vbs"),
            &["Required arguments are missing.", "Type IIsCnfg /? for help."],
            1,
        ),
        row(
            "iiscnfg /export without /sp",
            format!(r"{S32}\iiscnfg.vbs /export /f C:\x.xml"),
            &["Required arguments are missing.", "Type IIsCnfg /export /? for help."],
            1,
        ),
        row(
            "iiscnfg /import without /dp",
            format!(r"{S32}\iiscnfg.vbs /import /f C:\x.xml /sp /lm/w3svc/1"),
            &["Required arguments are missing.", "Type IIsCnfg /import /? for help."],
            1,
        ),
        row(
            "iiscnfg /f without a value",
            format!(r"{S32}\iiscnfg.vbs /export /sp /lm /f"),
            &["Not enough parameters.", "Type IIsCnfg /? for help."],
            1,
        ),
        row(
            "iiscnfg two operations",
            format!(r"{S32}\iiscnfg.vbs /export /import"),
            &["Please specify only one operation at a time."],
            1,
        ),
        row(
            "iiscnfg switches before an operation",
            format!(r"{S32}\iiscnfg.vbs /f C:\x.xml /sp /lm"),
            &["Please specify an operation before the arguments."],
            1,
        ),
        row(
            "iiscnfg /export of a missing node",
            format!(r"{S32}\iiscnfg.vbs /export /f C:\x.xml /sp /lm/w3svc/9"),
            &["Error while exporting configuration.", "The system cannot find the path specified."],
            -2147024893,
        ),
        row(
            "iiscnfg /export into a missing folder",
            format!(r"{S32}\iiscnfg.vbs /export /f C:\nowhere\x.xml /sp /lm/w3svc/1"),
            &["Parent folder doesn't exist."],
            -2147024893,
        ),
        row(
            "iiscnfg /export onto a folder",
            format!(r"{S32}\iiscnfg.vbs /export /f C:\Inetpub /sp /lm/w3svc/1"),
            &["Argument is a folder path while expecting a file", "path."],
            -2147024894,
        ),
        row(
            "iiscnfg /import of a missing file",
            format!(r"{S32}\iiscnfg.vbs /import /f C:\x.xml /sp /lm/w3svc/1 /dp /lm/w3svc/2"),
            &["Input file doesn't exist."],
            -2147024894,
        ),
        row(
            "iiscnfg /import /?",
            format!(r"{S32}\iiscnfg.vbs /import /?"),
            &["Description: Import configuration from a configuration file."],
            0,
        ),
        row(
            "iiscnfg /copy to another server",
            format!(r"{S32}\iiscnfg.vbs /copy /ts WEB2 /tu Administrator /tp x"),
            &["Connecting to server ...Done."],
            1,
        ),
        row(
            "iiscnfg unknown switch",
            format!(r"{S32}\iiscnfg.vbs /frob"),
            &["Invalid switch: /frob", "Type IIsCnfg /? for help."],
            1,
        ),
    ]);
}

/// Runs command lines one after another on one machine; returns each line's output and exit.
fn session(m: &mut iisim::machine::Machine, lines: &[&str]) -> Vec<(Vec<String>, i32)> {
    let mut w = World::default();
    let mut s = iisim::cmd::Session::new(m);
    lines
        .iter()
        .map(|l| {
            let out = s.run_line(m, &mut w, l, Context::default()).to_output();
            (out.lines.into_iter().chain(out.err).collect(), out.exit)
        })
        .collect()
}

#[test]
fn iiscnfg_exports_a_node_and_imports_it_elsewhere() {
    let mut m = common::machine(Win2003, &[Version::V2_0]);
    let cnfg = r"cscript //nologo %windir%\system32\iiscnfg.vbs";
    let ads = r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs";
    let out = session(
        &mut m,
        &[
            &format!(r"{ads} CREATE_VDIR W3SVC/1/ROOT/shop"),
            &format!(r"{ads} SET W3SVC/1/ROOT/shop/Path C:\Sites\shop"),
            &format!(r"{ads} SET W3SVC/1/ROOT/shop/AspEnableParentPaths TRUE"),
            &format!(r"{ads} CREATE_VDIR W3SVC/1/ROOT/shop/img"),
            &format!(r"{ads} SET W3SVC/1/ROOT/DefaultDoc index.aspx"),
            r"mkdir C:\backup",
            // The node alone, its children, and with what it inherits.
            &format!(r"{cnfg} /export /f C:\backup\shop.xml /sp /LM/W3SVC/1/ROOT/shop /d s3cret"),
            &format!(r"{cnfg} /export /f C:\backup\tree.xml /sp /LM/W3SVC/1/ROOT/shop /children /d s3cret"),
            &format!(r"{cnfg} /export /f C:\backup\inh.xml /sp /LM/W3SVC/1/ROOT/shop /inherited"),
            &format!(r"{cnfg} /export /f C:\backup\shop.xml /sp /LM/W3SVC/1/ROOT/shop"),
            // Wrong password, then the right one; then the subtree; then the inherited values.
            &format!(
                r"{cnfg} /import /f C:\backup\shop.xml /sp /LM/W3SVC/1/ROOT/shop /dp /LM/W3SVC/1/ROOT/shop2 /d wrong"
            ),
            &format!(
                r"{cnfg} /import /f C:\backup\shop.xml /sp /LM/W3SVC/1/ROOT/shop /dp /LM/W3SVC/1/ROOT/shop2 /d s3cret"
            ),
            &format!(r"{ads} GET W3SVC/1/ROOT/shop2/AspEnableParentPaths"),
            &format!(r"{ads} GET W3SVC/1/ROOT/shop2/img/KeyType"),
            &format!(
                r"{cnfg} /import /f C:\backup\tree.xml /sp /LM/W3SVC/1/ROOT/shop /dp /LM/W3SVC/1/ROOT/shop3 /d s3cret /children"
            ),
            &format!(r"{ads} GET W3SVC/1/ROOT/shop3/img/KeyType"),
            &format!(r"{cnfg} /import /f C:\backup\inh.xml /sp /LM/W3SVC/1/ROOT/shop /dp /LM/W3SVC/1 /inherited"),
            &format!(
                r"{cnfg} /import /f C:\backup\inh.xml /sp /LM/W3SVC/1/ROOT/shop /dp /LM/W3SVC/1/ROOT/shop4 /inherited"
            ),
            &format!(r"{ads} GET W3SVC/1/ROOT/shop4/DefaultDoc"),
            r"cd /d C:\backup",
            &format!(r"{cnfg} /import /f inh.xml /sp /LM/W3SVC/1/ROOT/shop /dp /LM/W3SVC/1/ROOT/shop5"),
            &format!(r"{ads} GET W3SVC/1/ROOT/shop5/DefaultDoc"),
            r"echo ^<configuration^> > C:\backup\bad.xml",
            &format!(r"{cnfg} /import /f bad.xml /sp /LM/W3SVC/1/ROOT/shop /dp /LM/W3SVC/1/ROOT/shop6"),
            &format!(r"{cnfg} /import /f shop.xml /sp /LM/W3SVC/1/ROOT/other /dp /LM/W3SVC/1/ROOT/shop6 /d s3cret"),
        ],
    );
    let has = |i: usize, text: &str| {
        let (lines, _) = &out[i];
        assert!(lines.iter().any(|l| l.contains(text)), "line {i}: no {text:?} in {lines:#?}");
    };
    for (i, (lines, exit)) in out.iter().enumerate().take(9) {
        assert_eq!(*exit, 0, "line {i}: {lines:#?}");
    }
    has(6, r"Configuration exported from /LM/W3SVC/1/ROOT/shop to file C:\backup\shop.xml.");
    let node = m.fs().read_file(r"C:\backup\shop.xml").unwrap().to_string();
    let tree = m.fs().read_file(r"C:\backup\tree.xml").unwrap().to_string();
    let inh = m.fs().read_file(r"C:\backup\inh.xml").unwrap().to_string();
    assert!(node.contains("AspEnableParentPaths=\"TRUE\"") && !node.contains("/shop/img"), "{node}");
    assert!(tree.contains("Location =\"/LM/W3SVC/1/ROOT/shop/img\""), "{tree}");
    assert!(
        inh.contains("<IIsInheritedProperties\tLocation =\"/LM/W3SVC/1/ROOT/shop\"")
            && inh.contains("DefaultDoc=\"index.aspx\""),
        "{inh}"
    );
    assert!(!node.contains("DefaultDoc"), "a node-only export without /inherited holds the node's own values: {node}");
    assert_eq!(out[9].1, -2147024816);
    has(9, "Export file specified already exists.");
    assert_eq!(out[10].1, -2147023573);
    has(10, "The password specified is incorrect.");
    assert_eq!(out[11].1, 0);
    has(11, "Configuration imported from /LM/W3SVC/1/ROOT/shop in file");
    has(11, r"C:\backup\shop.xml to /LM/W3SVC/1/ROOT/shop2 in the Metabase.");
    has(12, "AspEnableParentPaths            : (BOOLEAN) True");
    assert_ne!(out[13].1, 0, "without /children the child key is not imported: {:#?}", out[13].0);
    assert_eq!(out[14].1, 0);
    has(15, "IIsWebVirtualDir");
    // A virtual directory does not go onto a site key.
    assert_eq!(out[16].1, -2147024809);
    has(16, "Error while importing configuration.");
    has(18, "index.aspx");
    assert_eq!(out[18].1, 0);
    // Without /inherited the node alone is imported: DefaultDoc comes from its new parent again.
    assert_eq!(out[20].1, 0, "{:#?}", out[20].0);
    assert!(m.metabase().own("/LM/W3SVC/1/ROOT/shop5", "DefaultDoc").is_none());
    assert!(m.metabase().own("/LM/W3SVC/1/ROOT/shop4", "DefaultDoc").is_some());
    assert_eq!(out[23].1, -2146645991);
    has(23, "The import file appears to contain invalid XML.");
    assert_eq!(out[24].1, -2147024893);
    has(24, "The system cannot find the path specified.");
}

#[test]
fn iiscnfg_merge_keeps_what_the_file_does_not_set() {
    let mut m = common::machine(Win2003, &[Version::V2_0]);
    let cnfg = r"cscript //nologo %windir%\system32\iiscnfg.vbs";
    let ads = r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs";
    let out = session(
        &mut m,
        &[
            &format!(r"{ads} CREATE_VDIR W3SVC/1/ROOT/a"),
            &format!(r"{ads} SET W3SVC/1/ROOT/a/AspEnableParentPaths TRUE"),
            &format!(r"{ads} CREATE_VDIR W3SVC/1/ROOT/b"),
            &format!(r"{ads} SET W3SVC/1/ROOT/b/DefaultDoc b.htm"),
            &format!(r"{cnfg} /export /f C:\a.xml /sp /LM/W3SVC/1/ROOT/a"),
            &format!(r"{cnfg} /import /f C:\a.xml /sp /LM/W3SVC/1/ROOT/a /dp /LM/W3SVC/1/ROOT/b /merge"),
        ],
    );
    assert!(out.iter().all(|(_, e)| *e == 0), "{out:#?}");
    assert_eq!(m.metabase().own("/LM/W3SVC/1/ROOT/b", "DefaultDoc").and_then(|v| v.as_str()), Some("b.htm"));
    assert_eq!(m.metabase().own("/LM/W3SVC/1/ROOT/b", "AspEnableParentPaths").and_then(|v| v.as_dword()), Some(1));
    let out = session(&mut m, &[&format!(r"{cnfg} /import /f C:\a.xml /sp /LM/W3SVC/1/ROOT/a /dp /LM/W3SVC/1/ROOT/b")]);
    assert_eq!(out[0].1, 0);
    assert!(
        m.metabase().own("/LM/W3SVC/1/ROOT/b", "DefaultDoc").is_none(),
        "without /merge the file's values replace the node's"
    );
}
