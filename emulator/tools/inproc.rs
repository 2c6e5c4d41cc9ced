//! `InProcessIsapiApps.vbs`, the helper script of KB 812833 (KB-05, KB-06 steps 1-7).
//!
//! The article's listing is damaged (lines such as `Next`, `Else`, `Exit Sub` and the calls to its
//! own subs are missing); iisim runs its evident intent:
//! `DetectExeType`, `ParseCommandLine` (no arguments: `Usage`, quit), bind `IIS://localhost/w3svc`,
//! `GetEx("InProcessIsapiApps")`, then `Select Case action`. Arguments compare case-sensitively
//! (`WScript.Arguments(0) = "GET"`), and the path of ADD and REMOVE is lower-cased (`LCase`)
//! before it is matched, echoed or added.

use super::wsh::{self, ScriptError, WScript};
use super::Context;
use crate::machine::Machine;
use crate::metabase::Value;
use crate::process::World;
use crate::runtime::{Bitness, Version};

/// What `ParseCommandLine` leaves in `action` and `isapiFullPath`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Get,
    Add(String),
    Remove(String),
    /// `action = "NONE"`: `Select Case` falls to `Case Else`.
    Unknown,
}

/// The listing's line of `set w3svc = GetObject("IIS://localhost/w3svc")`, where a failed bind
/// stops the script (it has no `On Error Resume Next`).
const GETOBJECT_LINE: u32 = 8;
/// The listing's line of `list = w3svc.GetEx("InProcessIsapiApps")`.
const GETEX_LINE: u32 = 9;

const W3SVC: &str = "/LM/W3SVC";
const PROP: &str = "InProcessIsapiApps";

fn parse(args: &[String]) -> Action {
    match args {
        [a] if a == "GET" => Action::Get,
        [a, p] if a == "REMOVE" => Action::Remove(p.to_lowercase()),
        [a, p] if a == "ADD" => Action::Add(p.to_lowercase()),
        _ => Action::Unknown,
    }
}

/// `Sub Usage`. Its last line is the one KB-06 step 3 has the reader edit to "the path of the .NET
/// Framework valid for your computer and your version of the Framework": the machine's Windows
/// folder and its newest 1.x runtime, v1.1.4322 (the listing's) when none is installed.
fn usage(m: &Machine, w: &mut WScript) {
    let name = w.script_name().to_string();
    let v = [Version::V1_1, Version::V1_0].into_iter().find(|v| m.runtime(*v).installed).unwrap_or(Version::V1_1);
    w.echo(format!("  cscript.exe {name} GET"));
    w.echo(format!("  cscript.exe {name} REMOVE <isapi full-path>"));
    w.echo(format!("  cscript.exe {name} ADD <isapi full-path>"));
    w.echo(format!("  cscript.exe {name} REMOVE {}", m.framework_dir_of(v, Bitness::X86)));
}

/// Runs the script under `w`'s host; returns the exit code.
pub fn run(m: &mut Machine, world: &mut World, ctx: Context, w: &mut WScript) -> i32 {
    w.cite(&["KB-05"]);
    // The script's DetectExeType is adsutil's, tip line included.
    let tip = "To run this script type: \"CScript.Exe adsutil.vbs <cmd> <params>\"";
    if let Some(code) = wsh::detect_exe_type(m, world, ctx, w, tip) {
        return code;
    }
    let args = w.arguments().to_vec();
    if args.is_empty() {
        usage(m, w);
        return 0;
    }
    let action = parse(&args);
    if let Err(e) = wsh::adsi_bind(m, ctx, "localhost", W3SVC) {
        return w.runtime_error(GETOBJECT_LINE, 1, e);
    }
    // GetEx returns the effective list (IIS ADSI reads inherited data) and fails when there is none.
    let Some((Value::MultiSz(list), _)) = m.metabase().effective(W3SVC, PROP) else {
        return w.runtime_error(GETEX_LINE, 1, ScriptError::ADS_NOT_FOUND);
    };
    let lower: Vec<String> = list.iter().map(|e| e.to_lowercase()).collect();
    match action {
        Action::Get => {
            w.echo(format!("\r\nW3SVC/InProcessIsapiApps ({} modules):", list.len()));
            // The loop's `WScript.Echo` is lost from the listing; the entries print lower-cased
            // (the loop's `LCase`) and indented by two spaces like the script's Usage lines.
            for e in &lower {
                w.echo(format!("  {e}"));
            }
        }
        Action::Add(path) => {
            // An entry containing the path (InStr, vbTextCompare) refuses it; the lost `Exit Sub`
            // after the message keeps the list as it was.
            if lower.iter().any(|e| e.contains(&path)) {
                w.echo(format!("Error: {path} is already in the list!"));
                return 0;
            }
            let mut new = list.clone();
            new.push(path.clone());
            if m.mb_set(W3SVC, PROP, Value::MultiSz(new), &["KB-05"]).is_err() {
                return w.runtime_error(GETEX_LINE, 1, ScriptError::PATH_NOT_FOUND);
            }
            w.echo(format!("Success: added {path}"));
        }
        Action::Remove(path) => {
            let kept: Vec<String> =
                list.iter().zip(&lower).filter(|(_, l)| !l.contains(&path)).map(|(e, _)| e.clone()).collect();
            if kept.len() == list.len() {
                w.echo(format!("ERROR: {path} not found!"));
                return 0;
            }
            if m.mb_set(W3SVC, PROP, Value::MultiSz(kept), &["KB-05"]).is_err() {
                return w.runtime_error(GETEX_LINE, 1, ScriptError::PATH_NOT_FOUND);
            }
            w.echo(format!("Success: removed {path}"));
        }
        Action::Unknown => {
            w.echo("Unknown action");
            usage(m, w);
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let cases = [
            (s(&["GET"]), Action::Get),
            (s(&["get"]), Action::Unknown),
            (s(&["GET", "x"]), Action::Unknown),
            (s(&["ADD", "C:\\A.DLL"]), Action::Add("c:\\a.dll".into())),
            (s(&["REMOVE", "X"]), Action::Remove("x".into())),
            (s(&["Remove", "X"]), Action::Unknown),
            (s(&["ADD"]), Action::Unknown),
        ];
        for (args, want) in cases {
            assert_eq!(parse(&args), want, "{args:?}");
        }
    }
}
