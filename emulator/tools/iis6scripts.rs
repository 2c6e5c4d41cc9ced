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
    if let Some(code) = refuse_wscript(w, "iisext.vbs") {
        return code;
    }
    w.cite(&["EXT-01"]);
    let mut args = w.arguments().to_vec();
    if let Err(code) = remote(m, w, &mut args, TITLE) {
        return code;
    }
    let Some(op) = args.first().map(|a| a.to_ascii_lowercase()) else {
        return arg_error(w, TITLE, "Not enough parameters.");
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

/// `iiscnfg.vbs`: its argument checks are the script's; export and import need MetaBase.xml
/// files, which iisim does not write yet, so those operations say so (CNFG-01, CNFG-02).
pub fn iiscnfg(m: &mut Machine, _world: &mut World, _ctx: Context, w: &mut WScript) -> i32 {
    const TITLE: &str = "IIsCnfg";
    if let Some(code) = refuse_wscript(w, "iiscnfg.vbs") {
        return code;
    }
    let mut args = w.arguments().to_vec();
    if let Err(code) = remote(m, w, &mut args, TITLE) {
        return code;
    }
    let Some(op) = args.first().map(|a| a.to_ascii_lowercase()) else {
        return arg_error(w, TITLE, "Not enough parameters.");
    };
    match op.as_str() {
        "/export" | "/import" | "/copy" | "/save" => {
            w.echo(format!(
                "iisim: iiscnfg.vbs {op} needs the MetaBase.xml file format, which this build of iisim does not model yet; nothing was changed."
            ));
            1
        }
        _ => arg_error(w, TITLE, &format!("Invalid switch: {}", args[0])),
    }
}
