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
        row("iisweb without arguments", format!(r"{S32}\iisweb.vbs"), &["Not enough parameters.", "Type IIsWeb /? for help."], 1),
        row("iisweb /create without a name", format!(r"{S32}\iisweb.vbs /create C:\x"), &["Not enough parameters."], 1),
        row("iisweb /create on a bad port", format!(r"{S32}\iisweb.vbs /create C:\x Site /b 0"), &["Invalid port number: 0"], 1),
        row("iisweb /create on a port in use", format!(r"{S32}\iisweb.vbs /create C:\x Site"), &["Status        = STOPPED", "Error: the binding :80: is in use by another site; W3SVC/1971554062 was not started."], -2147024844),
        row("iisweb /create /dontstart", format!(r"{S32}\iisweb.vbs /create C:\x Site /dontstart"), &["Status        = STOPPED"], 0),
        row("iisweb /query of a missing site", format!(r"{S32}\iisweb.vbs /query Nowhere"), &["Error: the site Nowhere does not exist."], 1),
        row("iisweb /pause", format!(r#"{S32}\iisweb.vbs /pause "Default Web Site""#), &["Server W3SVC/1 has been PAUSED."], 0),
        row("iisweb /delete", format!(r"{S32}\iisweb.vbs /delete w3svc/1"), &["Server W3SVC/1 has been DELETED."], 0),
        row("iisvdir /query of a missing site", format!(r"{S32}\iisvdir.vbs /query Nowhere"), &["Error: the site or path Nowhere does not exist."], -2147024893),
        row("iisvdir /create without a path", format!(r"{S32}\iisvdir.vbs /create w3svc/1 pics"), &["Not enough parameters.", "Type IIsVDir /? for help."], 1),
        row("iisvdir /delete of the root", format!(r"{S32}\iisvdir.vbs /delete w3svc/1"), &["Error: the virtual directory w3svc/1 does not exist."], -2147024893),
        row("iisvdir unknown switch", format!(r"{S32}\iisvdir.vbs /list"), &["Invalid switch: /list"], 1),
        row("iiscnfg /export is not modeled", format!(r"{S32}\iiscnfg.vbs /export /f C:\x.xml /sp /lm/w3svc/1"), &["iisim: iiscnfg.vbs /export of one metabase node is not modeled yet (`iisim export` writes the whole MetaBase.xml); nothing was changed."], 1),
        row("iiscnfg unknown switch", format!(r"{S32}\iiscnfg.vbs /frob"), &["Invalid switch: /frob", "Type IIsCnfg /? for help."], 1),
    ]);
}
