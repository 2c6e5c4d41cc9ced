//! The IIS 6 administration scripts of `%windir%\system32`: `iisext.vbs` (Web service
//! extensions), `iisapp.vbs` (worker processes) and `iiscnfg.vbs` (WSH-05, EXT-, APP-, CNFG-).

use super::wsh::{Host, ScriptError, WScript};
use super::Context;
use crate::machine::Machine;
use crate::metabase::Value;
use crate::policy;
use crate::process::{self, Ending, Role, World};

const W3SVC: &str = "/LM/W3SVC";
const CONNECT: &str = "Connecting to server ...Done.";

/// ERR_GENERAL_FAILURE of the scripts' helper: argument errors (WSH-05).
const GENERAL_FAILURE: i32 = 1;

/// Under WScript the scripts' output would be message boxes; iisim names the host and the fix
/// and runs nothing (WSH-04). Returns the exit code when the script must stop.
fn refuse_wscript(w: &mut WScript, script: &str) -> Option<i32> {
    if w.host() != Host::WScript {
        return None;
    }
    w.cite(&["WSH-04", "WSH-05"]);
    w.echo(format!(
        "iisim: {script} was opened by WScript, the default script host, which shows its output in message boxes; type `cscript {script} ...` or make CScript the default with `cscript //h:cscript //s`."
    ));
    Some(GENERAL_FAILURE)
}

/// An argument error: the reason, then the help pointer (WSH-05).
fn arg_error(w: &mut WScript, title: &str, reason: &str) -> i32 {
    w.cite(&["WSH-05"]);
    w.echo(reason);
    w.echo(format!("Type {title} /? for help."));
    GENERAL_FAILURE
}

/// What every script does first: refuse WScript, cite its syntax rule, take the connection
/// switches off and read the operation. `Err` is the exit code.
fn prologue(
    m: &Machine,
    w: &mut WScript,
    script: &str,
    title: &str,
    rule: &'static str,
) -> Result<(Vec<String>, String), i32> {
    if let Some(code) = refuse_wscript(w, script) {
        return Err(code);
    }
    w.cite(&[rule]);
    let mut args = w.arguments().to_vec();
    remote(m, w, &mut args, title)?;
    match args.first().map(|a| a.to_ascii_lowercase()) {
        Some(op) => Ok((args, op)),
        None => Err(arg_error(w, title, "Not enough parameters.")),
    }
}

/// Checks the connection switches (`/s`, `/u`, `/p`) the scripts share; `Err` is the exit code.
fn remote(m: &Machine, w: &mut WScript, args: &mut Vec<String>, title: &str) -> Result<(), i32> {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_ascii_lowercase();
        if a == "/s" || a == "/u" || a == "/p" {
            let Some(v) = args.get(i + 1).cloned() else {
                return Err(arg_error(w, title, "Not enough parameters."));
            };
            if a == "/s" && !["localhost", ".", "127.0.0.1", m.name()].iter().any(|n| n.eq_ignore_ascii_case(&v)) {
                w.echo(CONNECT.trim_end_matches("Done."));
                let e = ScriptError::RPC_UNAVAILABLE;
                w.echo(format!("Error &H{}: {}", e.hex(), e.description()));
                return Err(e.number());
            }
            args.drain(i..i + 2);
        } else {
            i += 1;
        }
    }
    Ok(())
}

// ----- iisext.vbs -----

/// One WebSvcExtRestrictionList row: `allowed,path[,deletable,id,description]`.
#[derive(Debug, Clone)]
struct Row {
    allowed: bool,
    path: String,
    deletable: Option<bool>,
    id: String,
    desc: String,
}

impl Row {
    fn parse(text: &str) -> Row {
        let mut parts = text.splitn(5, ',');
        let allowed = parts.next().unwrap_or("0").trim() == "1";
        let path = parts.next().unwrap_or("").trim().to_string();
        let deletable = parts.next().map(|d| d.trim() == "1");
        let id = parts.next().unwrap_or("").trim().to_string();
        let desc = parts.next().unwrap_or("").trim().to_string();
        Row { allowed, path, deletable, id, desc }
    }

    fn text(&self) -> String {
        let a = if self.allowed { "1" } else { "0" };
        match self.deletable {
            None => format!("{a},{}", self.path),
            Some(d) => format!("{a},{},{},{},{}", self.path, d as u8, self.id, self.desc),
        }
    }
}

/// `iisext.vbs` (EXT-01..EXT-08).
pub fn iisext(m: &mut Machine, _world: &mut World, ctx: Context, w: &mut WScript) -> i32 {
    const TITLE: &str = "IIsExt";
    let (args, op) = match prologue(m, w, "iisext.vbs", TITLE, "EXT-01") {
        Ok(x) => x,
        Err(code) => return code,
    };
    if op == "/?" {
        for l in [
            "Description: Configure Web service extensions and applications.",
            "Syntax: IIsExt [/s <server> [/u <username> [/p <password>]]] /<operation> [arguments]",
            "Operations: /EnApp /ListApp /AddDep /RemDep /EnExt /DisExt /ListExt /AddFile /EnFile /DisFile /RmFile /ListFile",
        ] {
            w.echo(l);
        }
        return 0;
    }
    let ops = [
        "/enapp",
        "/listapp",
        "/adddep",
        "/remdep",
        "/rmdep",
        "/enext",
        "/disext",
        "/listext",
        "/addfile",
        "/enfile",
        "/disfile",
        "/rmfile",
        "/listfile",
    ];
    if args.iter().skip(1).any(|a| ops.contains(&a.to_ascii_lowercase().as_str())) {
        return arg_error(w, TITLE, "Please specify only one operation at a time.");
    }
    let rmdep_ok = m.policies().is(policy::IISEXT_RMDEP_ALIAS, "accept");
    if !ops.contains(&op.as_str()) || (op == "/rmdep" && !rmdep_ok) {
        return arg_error(w, TITLE, &format!("Invalid switch: {}", args[0]));
    }
    let rest: Vec<String> = args[1..].to_vec();
    let needs = match op.as_str() {
        "/listapp" | "/listext" | "/listfile" => 0,
        "/adddep" | "/remdep" | "/rmdep" => 2,
        "/addfile" => 5,
        _ => 1,
    };
    if rest.len() < needs {
        return arg_error(w, TITLE, "Not enough parameters.");
    }
    if let Err(e) = super::wsh::adsi_bind(m, ctx, "localhost", W3SVC) {
        w.echo(format!("Error &H{}: {}", e.hex(), e.description()));
        return e.number();
    }
    w.echo(CONNECT);
    let mut rows: Vec<Row> =
        m.metabase().own_list(W3SVC, "WebSvcExtRestrictionList").iter().map(|r| Row::parse(r)).collect();
    let mut deps: Vec<String> = m.metabase().own_list(W3SVC, "ApplicationDependencies");
    let not_found = ScriptError(0x8007_0002);
    let fail = |w: &mut WScript, what: String| -> i32 {
        w.cite(&["EXT-08"]);
        w.echo(format!("Error: {what}"));
        not_found.number()
    };
    let matches = |r: &Row, p: &str| r.path.eq_ignore_ascii_case(p);
    let (done, rules): (&str, &[&str]) = match op.as_str() {
        "/listfile" => {
            w.cite(&["EXT-03"]);
            w.echo("");
            w.echo("Status / Extension Path");
            w.echo("------------------------");
            for r in &rows {
                w.echo(format!("{}  {}", if r.allowed { 1 } else { 0 }, r.path));
            }
            return 0;
        }
        "/listext" => {
            w.cite(&["EXT-06"]);
            let mut seen: Vec<String> = Vec::new();
            for r in rows.iter().filter(|r| !r.id.is_empty()) {
                if !seen.iter().any(|s| s.eq_ignore_ascii_case(&r.id)) {
                    seen.push(r.id.clone());
                }
            }
            for s in seen {
                w.echo(s);
            }
            return 0;
        }
        "/listapp" => {
            w.cite(&["EXT-07"]);
            for d in &deps {
                w.echo(d.split(';').next().unwrap_or(d));
            }
            return 0;
        }
        "/enfile" | "/disfile" => {
            let Some(r) = rows.iter_mut().find(|r| matches(r, &rest[0])) else {
                return fail(w, format!("{} is not in the Web service extension list.", rest[0]));
            };
            r.allowed = op == "/enfile";
            if op == "/enfile" {
                ("Enabling extension file complete.", &["EXT-02", "EXT-04"])
            } else {
                ("Disabling extension file complete.", &["EXT-02", "EXT-04"])
            }
        }
        "/addfile" => {
            let flag = |s: &str| s == "1" || s == "0";
            if !flag(&rest[1]) || !flag(&rest[3]) {
                return arg_error(w, TITLE, "Invalid parameter: the access and deletable flags are 0 or 1.");
            }
            if rows.iter().any(|r| matches(r, &rest[0])) {
                w.cite(&["EXT-08"]);
                let e = ScriptError::ALREADY_EXISTS;
                w.echo(format!("Error: {} is already in the Web service extension list.", rest[0]));
                return e.number();
            }
            rows.push(Row {
                allowed: rest[1] == "1",
                path: rest[0].clone(),
                deletable: Some(rest[3] == "1"),
                id: rest[2].clone(),
                desc: rest[4..].join(" "),
            });
            ("Adding extension file complete.", &["EXT-02", "EXT-05"])
        }
        "/rmfile" => {
            let Some(idx) = rows.iter().position(|r| matches(r, &rest[0])) else {
                return fail(w, format!("{} is not in the Web service extension list.", rest[0]));
            };
            if rows[idx].deletable != Some(true) {
                w.cite(&["EXT-05", "EXT-08"]);
                w.echo(format!("Error: {} is not marked deletable.", rest[0]));
                return ScriptError::ACCESS_DENIED.number();
            }
            rows.remove(idx);
            ("Deleting extension file complete.", &["EXT-02", "EXT-05"])
        }
        "/enext" | "/disext" => {
            for id in &rest {
                if !rows.iter().any(|r| r.id.eq_ignore_ascii_case(id)) {
                    return fail(w, format!("no Web service extension has the ID {id}."));
                }
            }
            for r in rows.iter_mut().filter(|r| rest.iter().any(|id| r.id.eq_ignore_ascii_case(id))) {
                r.allowed = op == "/enext";
            }
            if op == "/enext" {
                ("Enabling extension complete.", &["EXT-02", "EXT-06"])
            } else {
                ("Disabling extension complete.", &["EXT-02", "EXT-06"])
            }
        }
        "/enapp" => {
            let Some(d) = deps.iter().find(|d| d.split(';').next().is_some_and(|n| n.eq_ignore_ascii_case(&rest[0])))
            else {
                return fail(w, format!("the application {} has no dependencies.", rest[0]));
            };
            let ids: Vec<String> = d.split(';').nth(1).unwrap_or("").split(',').map(|s| s.trim().to_string()).collect();
            for r in rows.iter_mut().filter(|r| ids.iter().any(|id| r.id.eq_ignore_ascii_case(id))) {
                r.allowed = true;
            }
            ("Enabling application complete.", &["EXT-02", "EXT-07"])
        }
        _ => {
            // /AddDep, /RemDep (and the /RmDep alias).
            let app = &rest[0];
            let ids = &rest[1..];
            let pos = deps.iter().position(|d| d.split(';').next().is_some_and(|n| n.eq_ignore_ascii_case(app)));
            let mut list: Vec<String> = pos
                .map(|p| {
                    deps[p]
                        .split(';')
                        .nth(1)
                        .unwrap_or("")
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if op == "/adddep" {
                for id in ids {
                    if !list.iter().any(|x| x.eq_ignore_ascii_case(id)) {
                        list.push(id.clone());
                    }
                }
            } else {
                if pos.is_none() {
                    return fail(w, format!("the application {app} has no dependencies."));
                }
                list.retain(|x| !ids.iter().any(|id| x.eq_ignore_ascii_case(id)));
            }
            let entry = format!("{app};{}", list.join(","));
            match (pos, list.is_empty()) {
                (Some(p), true) => {
                    deps.remove(p);
                }
                (Some(p), false) => deps[p] = entry,
                (None, _) => deps.push(entry),
            }
            if op == "/adddep" {
                ("Adding dependency complete.", &["EXT-02", "EXT-07"])
            } else {
                ("Removing dependency complete.", &["EXT-02", "EXT-07"])
            }
        }
    };
    let texts: Vec<String> = rows.iter().map(Row::text).collect();
    let _ = m.mb_set(W3SVC, "WebSvcExtRestrictionList", Value::MultiSz(texts), &["EXT-01", "MB-23"]);
    let _ = m.mb_set(W3SVC, "ApplicationDependencies", Value::MultiSz(deps), &["EXT-01", "MB-23"]);
    w.cite(rules);
    w.echo(done);
    0
}

// ----- iisapp.vbs -----

/// The running w3wp.exe processes as (PID, pool), in PID order.
fn workers(world: &World) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = world
        .processes()
        .filter_map(|p| match p.role() {
            Role::W3wp(pool, _) => Some((p.pid(), pool.clone())),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// `iisapp.vbs` (APP-01..APP-06).
pub fn iisapp(m: &mut Machine, world: &mut World, ctx: Context, w: &mut WScript) -> i32 {
    const TITLE: &str = "IIsApp";
    if let Some(code) = refuse_wscript(w, "iisapp.vbs") {
        return code;
    }
    w.cite(&["APP-01"]);
    // iisapp has no /s /u /p connection switches: /p is a process ID (APP-01).
    let args = w.arguments().to_vec();
    let mut pool: Option<String> = None;
    let mut pid: Option<String> = None;
    let mut recycle = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_ascii_lowercase();
        match a.as_str() {
            "/?" => {
                w.echo("Syntax: IIsApp.vbs [{ /a <app_pool_id> | /p <pid> } [/r] ]");
                return 0;
            }
            "/a" | "/p" => {
                let Some(v) = args.get(i + 1).cloned() else {
                    w.cite(&["APP-06"]);
                    return arg_error(w, TITLE, "Not enough parameters.");
                };
                if a == "/a" {
                    pool = Some(v);
                } else {
                    pid = Some(v);
                }
                i += 2;
            }
            "/r" => {
                recycle = true;
                i += 1;
            }
            _ => {
                w.cite(&["APP-06"]);
                return arg_error(w, TITLE, &format!("Invalid switch: {}", args[i]));
            }
        }
    }
    if let Err(e) = super::wsh::adsi_bind(m, ctx, "localhost", W3SVC) {
        w.echo(format!("Error &H{}: {}", e.hex(), e.description()));
        return e.number();
    }
    let all = workers(world);
    // /p names a process; its pool is what /r recycles (APP-04).
    if let Some(p) = &pid {
        w.cite(&["APP-04"]);
        let Ok(n) = p.parse::<u32>() else {
            w.echo("ERROR: PID is not valid");
            return ScriptError::INVALID_ARG.number();
        };
        let Some(proc_) = world.process(n) else {
            w.echo(format!("Process ID {n} not found."));
            return ScriptError(0x8007_0002).number();
        };
        let Role::W3wp(name, _) = proc_.role().clone() else {
            w.echo("ERROR: ProcessId specified is NOT an instance of W3WP.exe - EXITING");
            return ScriptError(0x8007_000D).number();
        };
        if !recycle {
            w.echo(format!("W3WP.exe PID: {n}   AppPoolId: {name}"));
            return 0;
        }
        pool = Some(name);
    }
    if recycle {
        let Some(name) = pool else {
            return arg_error(w, TITLE, "Not enough parameters.");
        };
        w.cite(&["APP-05"]);
        w.echo(CONNECT);
        let key = format!("{W3SVC}/AppPools/{name}");
        if !m.metabase().exists(&key) {
            w.echo(format!("Application pool '{name}' does not exist."));
            return ScriptError(0x8007_0002).number();
        }
        let shown = m.metabase().key(&key).and_then(|k| k.path().rsplit('/').next()).unwrap_or(&name).to_string();
        for (p, _) in all.iter().filter(|(_, pl)| pl.eq_ignore_ascii_case(&name)) {
            process::end(m, world, *p, "recycled by iisapp /r", Ending::Clean, &["APP-05", "PM6-07"]);
        }
        w.echo(format!("Application pool '{shown}' recycled successfully."));
        return 0;
    }
    if let Some(name) = pool {
        w.cite(&["APP-03"]);
        if all.is_empty() {
            w.echo("Error - no w3wp.exe processes are running at this time");
            return 1;
        }
        w.echo(format!("The following W3WP.exe processes are serving AppPool: {name}"));
        for (p, _) in all.iter().filter(|(_, pl)| pl.eq_ignore_ascii_case(&name)) {
            w.echo(format!("W3WP.exe PID: {p}"));
        }
        return 0;
    }
    w.cite(&["APP-02"]);
    if all.is_empty() {
        w.echo("Error - no results");
        return 2;
    }
    for (p, pl) in all {
        w.echo(format!("W3WP.exe PID: {p}   AppPoolId: {pl}"));
    }
    0
}

// ----- iiscnfg.vbs -----

/// HRESULTs iiscnfg tells apart (CNFG-02).
const E_FILE_NOT_FOUND: ScriptError = ScriptError(0x8007_0002);
const E_FILE_EXISTS: ScriptError = ScriptError(0x8007_0050);
const E_WRONG_PASSWORD: ScriptError = ScriptError(0x8007_052B);
const E_INVALID_XML: ScriptError = ScriptError(0x800C_C819);

/// iiscnfg's operations (CNFG-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CnfgOp {
    Import,
    Export,
    Copy,
    Save,
}

/// iiscnfg's command line, switch by switch as its ParseCmdLineOptions table reads it.
#[derive(Debug, Default)]
struct CnfgArgs {
    op: Option<CnfgOp>,
    help: bool,
    file: String,
    password: String,
    sp: String,
    dp: String,
    flags: crate::metabase::xml::NodeFlags,
    target: [String; 3],
}

/// Reads iiscnfg's switches (long or short names, any order); `Err` is the exit code.
fn cnfg_args(w: &mut WScript, args: &[String]) -> Result<CnfgArgs, i32> {
    const TITLE: &str = "IIsCnfg";
    let mut a = CnfgArgs::default();
    let mut i = 0;
    while i < args.len() {
        let raw = &args[i];
        let sw = raw.to_ascii_lowercase();
        i += 1;
        let op = match sw.as_str() {
            "/import" => Some(CnfgOp::Import),
            "/export" => Some(CnfgOp::Export),
            "/copy" => Some(CnfgOp::Copy),
            "/save" => Some(CnfgOp::Save),
            _ => None,
        };
        if let Some(op) = op {
            if a.op.is_some() {
                w.echo("Please specify only one operation at a time.");
                w.echo(format!("Type {TITLE} /? for help."));
                return Err(GENERAL_FAILURE);
            }
            a.op = Some(op);
            continue;
        }
        match sw.as_str() {
            "/?" => a.help = true,
            "/i" | "/inherited" => a.flags.inherited = true,
            "/c" | "/children" => a.flags.children = true,
            "/m" | "/merge" => a.flags.merge = true,
            "/d" | "/decpass" | "/f" | "/file" | "/sp" | "/sourcepath" | "/dp" | "/destpath" | "/ts"
            | "/targetserver" | "/tu" | "/targetuser" | "/tp" | "/targetpassword" => {
                let Some(v) = args.get(i).cloned() else {
                    return Err(arg_error(w, TITLE, "Not enough parameters."));
                };
                i += 1;
                let slot = match sw.as_str() {
                    "/d" | "/decpass" => &mut a.password,
                    "/f" | "/file" => &mut a.file,
                    "/sp" | "/sourcepath" => &mut a.sp,
                    "/dp" | "/destpath" => &mut a.dp,
                    "/ts" | "/targetserver" => &mut a.target[0],
                    "/tu" | "/targetuser" => &mut a.target[1],
                    _ => &mut a.target[2],
                };
                *slot = v;
            }
            _ => return Err(arg_error(w, TITLE, &format!("Invalid switch: {raw}"))),
        }
    }
    Ok(a)
}

/// Help of one iiscnfg operation, as the script prints it.
fn cnfg_help(w: &mut WScript, op: Option<CnfgOp>) {
    let lines: &[&str] = match op {
        Some(CnfgOp::Export) => &[
            "Description: Export configuration into a configuration file.",
            "",
            "Syntax: IIsCnfg [/s <server> [/u <username> [/p <password>]]]",
            "        /export [/d <DeCryptPass>] /f <File> /sp <SourcePath>",
            "         [/inherited] [/children]",
        ],
        Some(CnfgOp::Import) => &[
            "Description: Import configuration from a configuration file.",
            "",
            "Syntax: IIsCnfg [/s <server> [/u <username> [/p <password>]]]",
            "        /import [/d <DeCryptPass>] /f <File> /sp <SourcePath>",
            "        /dp <DestPath> [/inherited] [/children] [/merge]",
        ],
        _ => &[
            "Description: Import and export IIS configuration.",
            "",
            "Syntax: IIsCnfg [/s <server> [/u <username> [/p <password>]]]",
            "        /<operation> [arguments]",
        ],
    };
    for l in lines {
        w.echo(*l);
    }
}

/// `iiscnfg.vbs` (CNFG-01, CNFG-02): `/export` of a metabase node to a file on the emulated
/// disk, `/import` of a node from such a file, `/save`; `/copy` to another server is beyond one
/// emulated box and says so.
pub fn iiscnfg(m: &mut Machine, _world: &mut World, ctx: Context, w: &mut WScript) -> i32 {
    const TITLE: &str = "IIsCnfg";
    if let Some(code) = refuse_wscript(w, "iiscnfg.vbs") {
        return code;
    }
    w.cite(&["CNFG-01"]);
    let mut args = w.arguments().to_vec();
    if args.is_empty() {
        w.cite(&["CNFG-02"]);
        return arg_error(w, TITLE, "Required arguments are missing.");
    }
    if let Err(code) = remote(m, w, &mut args, TITLE) {
        return code;
    }
    let a = match cnfg_args(w, &args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    if a.help {
        cnfg_help(w, a.op);
        return 0;
    }
    let Some(op) = a.op else {
        return arg_error(w, TITLE, "Please specify an operation before the arguments.");
    };
    w.cite(&["CNFG-02"]);
    match op {
        CnfgOp::Copy if a.target.iter().any(String::is_empty) => {
            w.echo("Required arguments are missing.");
            return GENERAL_FAILURE;
        }
        CnfgOp::Import | CnfgOp::Export
            if a.file.is_empty() || a.sp.is_empty() || (op == CnfgOp::Import && a.dp.is_empty()) =>
        {
            w.echo("Required arguments are missing.");
            let which = if op == CnfgOp::Import { "import" } else { "export" };
            w.echo(format!("Type {TITLE} /{which} /? for help."));
            return GENERAL_FAILURE;
        }
        _ => {}
    }
    w.echo(CONNECT);
    match op {
        CnfgOp::Export => cnfg_export(m, ctx, w, &a),
        CnfgOp::Import => cnfg_import(m, ctx, w, &a),
        CnfgOp::Save => {
            if let Err(code) = cnfg_computer(m, ctx, w) {
                return code;
            }
            m.mb_flush("iiscnfg /save", &["CNFG-01", "MB-02"]);
            w.echo("Metadata successfully flushed to disk.");
            0
        }
        CnfgOp::Copy => {
            w.echo(format!(
                "iisim: iiscnfg.vbs /copy backs up this server, maps the admin share of {} and restores there; iisim emulates one server, so nothing was copied.",
                a.target[0]
            ));
            GENERAL_FAILURE
        }
    }
}

/// `NormalizeFilePath`: the file's full path against the current directory, with the script's
/// errors for a folder and for a missing parent folder (CNFG-02).
fn cnfg_file(m: &Machine, w: &mut WScript, file: &str) -> Result<String, i32> {
    let p = file.trim_matches('"').replace('/', "\\");
    let full = if p.get(1..2) == Some(":") {
        p
    } else if p.starts_with('\\') {
        format!("{}{p}", &w.current_directory()[..2])
    } else {
        crate::machine::fs::join(w.current_directory(), &p)
    };
    if m.fs().is_dir(&full) {
        w.echo("Argument is a folder path while expecting a file");
        w.echo("path.");
        return Err(E_FILE_NOT_FOUND.number());
    }
    let parent = full.trim_end_matches('\\').rsplit_once('\\').map(|(d, _)| d).unwrap_or("");
    if parent.len() > 2 && !m.fs().is_dir(parent) {
        w.echo("Parent folder doesn't exist.");
        return Err(ScriptError::PATH_NOT_FOUND.number());
    }
    Ok(full)
}

/// The WMI provider's `IIsComputer='LM'`: this box, IIS present, an administrator (CNFG-02).
fn cnfg_computer(m: &Machine, ctx: Context, w: &mut WScript) -> Result<(), i32> {
    match super::wsh::adsi_bind(m, ctx, ".", "/LM") {
        Ok(()) => Ok(()),
        Err(e) if e == ScriptError::ACCESS_DENIED => {
            w.echo("You cannot run this command because you are not an");
            w.echo("administrator on the server you are trying to configure.");
            Err(e.number())
        }
        Err(e) => {
            w.echo("Could not connect to WMI provider.");
            w.echo(format!("Error &H{}: {}", e.hex(), e.description()));
            Err(e.number())
        }
    }
}

fn cnfg_export(m: &mut Machine, ctx: Context, w: &mut WScript, a: &CnfgArgs) -> i32 {
    let full = match cnfg_file(m, w, &a.file) {
        Ok(f) => f,
        Err(code) => return code,
    };
    if m.fs().exists(&full) {
        w.echo("Export file specified already exists.");
        return E_FILE_EXISTS.number();
    }
    if let Err(code) = cnfg_computer(m, ctx, w) {
        return code;
    }
    let version = m.policies().get(crate::policy::MB_NAMESPACE_VERSION);
    let ns = format!("{}{}", crate::metabase::xml::NAMESPACE_PREFIX, version.trim_start_matches('V'));
    let sp = crate::metabase::normalize(&a.sp);
    let Some(text) = crate::metabase::xml::export_node(m.metabase(), &sp, a.flags, &a.password, &ns) else {
        w.echo("Error while exporting configuration.");
        w.echo(ScriptError::PATH_NOT_FOUND.description());
        return ScriptError::PATH_NOT_FOUND.number();
    };
    let mut rules: Vec<crate::rules::RuleId> = vec!["CNFG-01", "MB-04", "MB-06"];
    if a.flags.inherited {
        w.cite(&["MB-08"]);
        rules.push("MB-08");
    }
    let what = if a.flags.children { "and the keys below it" } else { "alone" };
    m.note(format!("iiscnfg /export: {sp} {what} written as MetaBase.xml to {full}"), &rules);
    m.fs_write_file(&full, &text, &["CNFG-01"]);
    w.echo(format!("Configuration exported from {} to file {}.", a.sp, a.file));
    0
}

fn cnfg_import(m: &mut Machine, ctx: Context, w: &mut WScript, a: &CnfgArgs) -> i32 {
    use crate::metabase::xml::{self, NodeError};
    let full = match cnfg_file(m, w, &a.file) {
        Ok(f) => f,
        Err(code) => return code,
    };
    if let Err(code) = cnfg_computer(m, ctx, w) {
        return code;
    }
    let Some(text) = m.fs().read_file(&full).map(str::to_string) else {
        w.echo("Input file doesn't exist.");
        return E_FILE_NOT_FOUND.number();
    };
    let file = match xml::import(&text) {
        Ok(f) => f,
        Err(e) => {
            m.note(format!("iiscnfg /import: {full} does not load ({e})"), &["CNFG-02"]);
            w.echo("The import file appears to contain invalid XML.");
            return E_INVALID_XML.number();
        }
    };
    let fail = |w: &mut WScript, e: ScriptError| {
        w.echo("Error while importing configuration.");
        w.echo(e.description());
        e.number()
    };
    let mb = match xml::import_node(m.metabase(), &file, &a.sp, &a.dp, a.flags, &a.password) {
        Ok(mb) => mb,
        Err(NodeError::Password) => {
            w.echo("The password specified is incorrect.");
            return E_WRONG_PASSWORD.number();
        }
        Err(NodeError::NoSource(sp)) => {
            m.note(format!("iiscnfg /import: {full} holds no key {sp}"), &["CNFG-02"]);
            return fail(w, ScriptError::PATH_NOT_FOUND);
        }
        Err(NodeError::KeyType { source, dest }) => {
            m.note(format!("iiscnfg /import: the file's {source} does not match the {dest} at {}", a.dp), &["CNFG-01"]);
            return fail(w, ScriptError::INVALID_ARG);
        }
    };
    let mut rules: Vec<crate::rules::RuleId> = vec!["CNFG-01"];
    if a.flags.inherited {
        w.cite(&["MB-08"]);
        rules.push("MB-08");
    }
    let how = match (a.flags.children, a.flags.merge) {
        (false, false) => "the node's values replace",
        (true, false) => "the node's and its children's values replace",
        (false, true) => "the node's values merge into",
        (true, true) => "the node's and its children's values merge into",
    };
    let dp = crate::metabase::normalize(&a.dp);
    m.mb_replace(
        mb,
        format!("iiscnfg /import: {} of {full}: {how} those of {dp}", crate::metabase::normalize(&a.sp)),
        &rules,
    );
    w.echo(format!("Configuration imported from {} in file", a.sp));
    w.echo(format!("{} to {} in the Metabase.", a.file, a.dp));
    0
}

// ----- iisweb.vbs and iisvdir.vbs -----

/// The site a script argument names: its ServerComment, or `w3svc/<n>[/root]` (WEB-01).
fn find_site(m: &Machine, typed: &str) -> Option<String> {
    let t = typed.trim_matches('"');
    let lower = t.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("w3svc/") {
        let id = rest.trim_end_matches("/root").trim_end_matches('/');
        let path = format!("{W3SVC}/{id}");
        return (id.parse::<u32>().is_ok() && m.metabase().exists(&path)).then_some(path);
    }
    sites(m).into_iter().find(|s| {
        m.metabase().own(s, "ServerComment").and_then(Value::as_str).is_some_and(|c| c.eq_ignore_ascii_case(t))
    })
}

/// Every site key, in metabase order.
fn sites(m: &Machine) -> Vec<String> {
    m.metabase().children(W3SVC).filter(|k| k.key_type() == "IIsWebServer").map(|k| k.path().to_string()).collect()
}

/// MD_SERVER_STATE's name, from ServerState or, when W3SVC never wrote one, ServerAutoStart.
fn site_state(m: &Machine, site: &str) -> &'static str {
    let state = match m.metabase().own(site, "ServerState") {
        Some(Value::Dword(n)) => *n,
        _ => {
            let auto = !matches!(m.metabase().own(site, "ServerAutoStart"), Some(Value::Dword(0)));
            if auto {
                2
            } else {
                4
            }
        }
    };
    match state {
        1 => "STARTING",
        2 => "STARTED",
        3 => "STOPPING",
        5 => "PAUSING",
        6 => "PAUSED",
        7 => "CONTINUING",
        _ => "STOPPED",
    }
}

fn site_id(site: &str) -> &str {
    site.rsplit('/').next().unwrap_or(site)
}

/// Sets a site's state as W3SVC does when told to start, stop or pause it (WEB-04, MB-23).
fn set_site_state(m: &mut Machine, site: &str, state: u32) {
    let auto = u32::from(state != 4);
    let _ = m.mb_set(site, "ServerState", Value::Dword(state), &["WEB-04", "MB-23"]);
    let _ = m.mb_set(site, "ServerAutoStart", Value::Dword(auto), &["WEB-04", "REQ-05"]);
}

/// `iisweb.vbs` (WEB-01..WEB-05).
pub fn iisweb(m: &mut Machine, _world: &mut World, ctx: Context, w: &mut WScript) -> i32 {
    const TITLE: &str = "IIsWeb";
    let (args, op) = match prologue(m, w, "iisweb.vbs", TITLE, "WEB-01") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let ops = ["/create", "/delete", "/start", "/stop", "/pause", "/query"];
    if op == "/?" {
        w.echo("Syntax: IIsWeb [/s <server> [/u <username> [/p <password>]]] /<operation> [arguments]");
        w.echo("Operations: /create <root> <name> [/b port] [/i ip] [/d host] [/dontstart], /delete, /start, /stop, /pause, /query [<site> ...]");
        return 0;
    }
    if !ops.contains(&op.as_str()) {
        return arg_error(w, TITLE, &format!("Invalid switch: {}", args[0]));
    }
    if args.iter().skip(1).any(|a| ops.contains(&a.to_ascii_lowercase().as_str())) {
        return arg_error(w, TITLE, "Please specify only one operation at a time.");
    }
    let rest = args[1..].to_vec();
    if op != "/query" && rest.is_empty() {
        return arg_error(w, TITLE, "Not enough parameters.");
    }
    if let Err(e) = super::wsh::adsi_bind(m, ctx, "localhost", W3SVC) {
        w.echo(format!("Error &H{}: {}", e.hex(), e.description()));
        return e.number();
    }
    match op.as_str() {
        "/query" => {
            w.cite(&["WEB-02"]);
            let listed: Vec<String> = if rest.is_empty() {
                sites(m)
            } else {
                let mut v = Vec::new();
                for r in &rest {
                    match find_site(m, r) {
                        Some(s) => v.push(s),
                        None => {
                            w.echo(CONNECT);
                            w.cite(&["WEB-05"]);
                            w.echo(format!("Error: the site {r} does not exist."));
                            return GENERAL_FAILURE;
                        }
                    }
                }
                v
            };
            let first_binding = |m: &Machine, s: &str| -> (String, String, String) {
                let b = m.metabase().own_list(s, "ServerBindings").into_iter().next().unwrap_or_default();
                let mut parts = b.splitn(3, ':');
                let ip = parts.next().unwrap_or("").to_string();
                let port = parts.next().unwrap_or("").to_string();
                let host = parts.next().unwrap_or("").to_string();
                (if ip.is_empty() { "ALL".into() } else { ip }, port, if host.is_empty() { "N/A".into() } else { host })
            };
            let any_host = listed.iter().any(|s| first_binding(m, s).2 != "N/A");
            let host_col = any_host || m.policies().is(policy::IISWEB_HOST_COLUMN, "always");
            w.echo(CONNECT);
            let head = format!("{:<46}{:<8}{:<16}{:<6}", "Site Name (Metabase Path)", "Status", "IP", "Port");
            if host_col {
                w.echo(format!("{head}Host"));
                w.echo("=".repeat(78));
            } else {
                w.echo(head.trim_end());
                w.echo("=".repeat(76));
            }
            for s in &listed {
                let name = m.metabase().own(s, "ServerComment").and_then(Value::as_str).unwrap_or("").to_string();
                let (ip, port, host) = first_binding(m, s);
                let label = format!("{name} (W3SVC/{})", site_id(s));
                let row = format!("{label:<45} {:<7} {ip:<15} {port:<5} ", site_state(m, s));
                if host_col {
                    w.echo(format!("{row}{host}"));
                } else {
                    w.echo(row.trim_end());
                }
            }
            0
        }
        "/create" => {
            // IIR-06 is the reference's summary of the switches; WEB-03 the script's own texts.
            w.cite(&["WEB-03", "IIR-06"]);
            if rest.len() < 2 {
                return arg_error(w, TITLE, "Not enough parameters.");
            }
            let root = rest[0].clone();
            let name = rest[1].clone();
            let (mut port, mut ip, mut host, mut start) = ("80".to_string(), String::new(), String::new(), true);
            let mut i = 2;
            while i < rest.len() {
                let sw = rest[i].to_ascii_lowercase();
                let val = rest.get(i + 1).cloned();
                match (sw.as_str(), val) {
                    ("/dontstart", _) => {
                        start = false;
                        i += 1;
                        continue;
                    }
                    ("/b", Some(v)) => port = v,
                    ("/i", Some(v)) => ip = v,
                    ("/d", Some(v)) => host = v,
                    ("/b" | "/i" | "/d", None) => return arg_error(w, TITLE, "Not enough parameters."),
                    _ => return arg_error(w, TITLE, &format!("Invalid switch: {}", rest[i])),
                }
                i += 2;
            }
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return arg_error(w, TITLE, &format!("Invalid port number: {port}"));
            }
            let binding = format!("{ip}:{port}:{host}");
            w.echo(CONNECT);
            let spec = crate::sites::SiteSpec {
                id: None,
                name: name.clone(),
                bindings: vec![binding.clone()],
                path: root.clone(),
            };
            let site = match crate::sites::create_site(m, &spec) {
                Ok(s) => s,
                Err(e) => {
                    w.echo(format!("Error: {e}"));
                    return ScriptError::ALREADY_EXISTS.number();
                }
            };
            // A started site whose binding another started site holds does not start (WEB-05, REQ-05).
            let clash = start
                && sites(m).iter().any(|s| {
                    s != &site
                        && site_state(m, s) == "STARTED"
                        && m.metabase().own_list(s, "ServerBindings").contains(&binding)
                });
            set_site_state(m, &site, if start && !clash { 2 } else { 4 });
            let id = site_id(&site).to_string();
            for (k, v) in [
                ("Server", m.name().to_string()),
                ("Site Name", name),
                ("Metabase Path", format!("W3SVC/{id}")),
                ("IP", if ip.is_empty() { "ALL UNASSIGNED".into() } else { ip }),
                ("Host", if host.is_empty() { "NOT SPECIFIED".into() } else { host }),
                ("Port", port),
                ("Root", root),
                ("Status", site_state(m, &site).to_string()),
            ] {
                w.echo(format!("{k:<14}= {v}"));
            }
            if clash {
                w.cite(&["WEB-05"]);
                w.echo(format!("Error: the binding {binding} is in use by another site; W3SVC/{id} was not started."));
                return ScriptError(0x8007_0034).number();
            }
            0
        }
        _ => {
            w.cite(&["WEB-04"]);
            w.echo(CONNECT);
            let mut code = 0;
            for r in &rest {
                let Some(site) = find_site(m, r) else {
                    w.cite(&["WEB-05"]);
                    w.echo(format!("Error: the site {r} does not exist."));
                    code = GENERAL_FAILURE;
                    continue;
                };
                let id = site_id(&site).to_string();
                let (state, word) = match op.as_str() {
                    "/start" => (2, "STARTED"),
                    "/stop" => (4, "STOPPED"),
                    "/pause" => (6, "PAUSED"),
                    _ => (0, "DELETED"),
                };
                if state == 0 {
                    m.mb_delete_key(&site, &["WEB-04", "MB-13"]);
                } else if site_state(m, &site) == word {
                    w.echo(format!("Server W3SVC/{id} is already {word}."));
                    continue;
                } else {
                    set_site_state(m, &site, state);
                }
                w.echo(format!("Server W3SVC/{id} has been {word}."));
            }
            code
        }
    }
}

/// `iisvdir.vbs` (VDIR-01..VDIR-03).
pub fn iisvdir(m: &mut Machine, _world: &mut World, ctx: Context, w: &mut WScript) -> i32 {
    const TITLE: &str = "IIsVDir";
    let (args, op) = match prologue(m, w, "iisvdir.vbs", TITLE, "VDIR-01") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let needs = match op.as_str() {
        "/query" | "/delete" => 1,
        "/create" => 3,
        "/?" => {
            w.echo("Syntax: IIsVDir [/s <server> [/u <username> [/p <password>]]] /<operation> [arguments]");
            w.echo("Operations: /create <site>[/<vpath>] <alias> <physical path>, /delete <site>/<alias>, /query <site>[/<vpath>]");
            return 0;
        }
        _ => return arg_error(w, TITLE, &format!("Invalid switch: {}", args[0])),
    };
    if args.len() - 1 < needs {
        return arg_error(w, TITLE, "Not enough parameters.");
    }
    if let Err(e) = super::wsh::adsi_bind(m, ctx, "localhost", W3SVC) {
        w.echo(format!("Error &H{}: {}", e.hex(), e.description()));
        return e.number();
    }
    // `<site>[/<vpath>]`: the site by name or w3svc/n, then a path under its ROOT.
    let target = args[1].trim_matches('"').replace('\\', "/");
    let resolve = |m: &Machine| -> Option<String> {
        let lower = target.to_ascii_lowercase();
        let (site_part, vpath) = if lower.starts_with("w3svc/") {
            let mut parts = target.splitn(3, '/');
            let a = parts.next().unwrap_or("");
            let b = parts.next().unwrap_or("");
            let rest = parts.next().unwrap_or("");
            let rest = rest.strip_prefix("ROOT").or_else(|| rest.strip_prefix("root")).unwrap_or(rest);
            (format!("{a}/{b}"), rest.trim_matches('/').to_string())
        } else {
            match target.split_once('/') {
                Some((s, v)) => (s.to_string(), v.trim_matches('/').to_string()),
                None => (target.clone(), String::new()),
            }
        };
        let site = find_site(m, &site_part)?;
        let root = format!("{site}/ROOT");
        Some(if vpath.is_empty() { root } else { format!("{root}/{vpath}") })
    };
    w.echo(CONNECT);
    let Some(base) = resolve(m) else {
        w.cite(&["VDIR-03"]);
        w.echo(format!("Error: the site or path {target} does not exist."));
        return ScriptError::PATH_NOT_FOUND.number();
    };
    match op.as_str() {
        "/query" => {
            w.cite(&["VDIR-02"]);
            if !m.metabase().exists(&base) {
                w.echo(format!("Error: the site or path {target} does not exist."));
                return ScriptError::PATH_NOT_FOUND.number();
            }
            w.echo(format!("{:<35}{}", "Alias", "Physical Root"));
            w.echo("=".repeat(78));
            let rows: Vec<(String, String)> = m
                .metabase()
                .children(&base)
                .filter(|k| k.key_type() == "IIsWebVirtualDir")
                .map(|k| {
                    let alias = k.path().rsplit('/').next().unwrap_or("").to_string();
                    let phys = m.metabase().own(k.path(), "Path").and_then(Value::as_str).unwrap_or("").to_string();
                    (alias, phys)
                })
                .collect();
            for (alias, phys) in rows {
                w.echo(format!("{:<35}{phys}", format!("/{alias}")));
            }
            0
        }
        "/create" => {
            w.cite(&["VDIR-01", "VDIR-03"]);
            let alias = args[2].trim_matches('/').to_string();
            let path = format!("{base}/{alias}");
            if m.metabase().exists(&path) {
                w.echo(format!("Error: the virtual directory {alias} already exists."));
                return ScriptError::ALREADY_EXISTS.number();
            }
            let spec = crate::sites::AppSpec {
                path: path.clone(),
                physical_path: Some(args[3].clone()),
                application: false,
                isolation: None,
                pool: None,
            };
            if let Err(e) = crate::sites::create_app(m, &spec) {
                w.echo(format!("Error: {e}"));
                return ScriptError::PATH_NOT_FOUND.number();
            }
            let _ = m.mb_set(&path, "AccessFlags", Value::Dword(1), &["VDIR-01", "IIR-05", "MB-23"]);
            w.echo(format!("Virtual directory {alias} created."));
            0
        }
        _ => {
            w.cite(&["VDIR-03"]);
            if !m.metabase().exists(&base) || base.ends_with("/ROOT") {
                w.echo(format!("Error: the virtual directory {target} does not exist."));
                return ScriptError::PATH_NOT_FOUND.number();
            }
            m.mb_delete_key(&base, &["VDIR-01", "MB-13"]);
            let alias = base.rsplit('/').next().unwrap_or("").to_string();
            w.echo(format!("Virtual directory {alias} deleted."));
            0
        }
    }
}
