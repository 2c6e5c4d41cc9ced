//! Windows Script Host: `cscript.exe` and `wscript.exe` host options, locating the script file, and
//! the scripts iisim knows by name (`adsutil.vbs`, ADS-01; the KB 812833 script, KB-05).
//!
//! A script sees its host through [`WScript`]: its arguments, `Echo` (console lines under cscript,
//! message boxes under wscript, both rendered as output lines), `PopUp`, and runtime errors.

use super::{adsutil, iis6scripts, inproc, Context, Output};
use crate::machine::{IisState, Machine};
use crate::process::World;
use crate::rules::RuleId;

/// Which host runs a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `cscript.exe`: echoes go to the console.
    CScript,
    /// `wscript.exe`: echoes are message boxes; the default host of `.vbs` files.
    WScript,
}

impl Host {
    /// The executable's file name.
    pub fn exe(self) -> &'static str {
        match self {
            Host::CScript => "cscript.exe",
            Host::WScript => "wscript.exe",
        }
    }

    /// The name the usage text gives the host.
    fn title(self) -> &'static str {
        match self {
            Host::CScript => "CScript",
            Host::WScript => "WScript",
        }
    }
}

/// The file association `//H` changes: which host opens a `.vbs` typed by name.
pub const VBS_OPEN_COMMAND: &str = "HKCR\\VBSFile\\Shell\\Open\\Command";

/// Where `//S` saves the user's host options.
pub const SETTINGS_KEY: &str = "HKCU\\Software\\Microsoft\\Windows Script Host\\Settings";

/// The cscript banner. Windows XP and Server 2003 ship WSH 5.6; Windows 2000 shipped 5.1 but gets
/// 5.6 from SP3 (and from IE 6), which the .NET Framework service packs of KB 812833 presuppose,
/// so every edition prints 5.6.
const LOGO: [&str; 3] = [
    "Microsoft (R) Windows Script Host Version 5.6",
    "Copyright (C) Microsoft Corporation 1996-2001. All rights reserved.",
    "",
];

/// The host options of the usage text, WSH 5.6's own words.
const OPTIONS: [&str; 14] = [
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
];

/// A failure raised inside a script, as VBScript's `Err` object holds it: a COM HRESULT or a
/// VBScript runtime error number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptError(pub u32);

impl ScriptError {
    /// The metabase path does not exist.
    pub const PATH_NOT_FOUND: ScriptError = ScriptError(0x8007_0003);
    /// The caller may not open the metabase.
    pub const ACCESS_DENIED: ScriptError = ScriptError(0x8007_0005);
    /// A parameter the provider refuses.
    pub const INVALID_ARG: ScriptError = ScriptError(0x8007_0057);
    /// An empty or malformed key name.
    pub const BAD_PATHNAME: ScriptError = ScriptError(0x8007_00A1);
    /// The key to create exists already.
    pub const ALREADY_EXISTS: ScriptError = ScriptError(0x8007_00B7);
    /// IIS Admin cannot start because IIS is disabled.
    pub const SERVICE_DISABLED: ScriptError = ScriptError(0x8007_0422);
    /// A server other than this one (iisim emulates one machine).
    pub const RPC_UNAVAILABLE: ScriptError = ScriptError(0x8007_06BA);
    /// `GetObject("IIS://...")` without the IIS ADSI provider registered: no IIS.
    pub const MONIKER_SYNTAX: ScriptError = ScriptError(0x8004_01E4);
    /// E_ADS_BAD_PATHNAME: no such schema object (an unknown property name).
    pub const ADS_BAD_PATHNAME: ScriptError = ScriptError(0x8000_5000);
    /// E_ADS_PROPERTY_NOT_SUPPORTED: the property does not belong to the object's class.
    pub const ADS_NOT_SUPPORTED: ScriptError = ScriptError(0x8000_5006);
    /// E_ADS_PROPERTY_NOT_FOUND: no value anywhere and no schema default.
    pub const ADS_NOT_FOUND: ScriptError = ScriptError(0x8000_500D);
    /// VBScript 5: Invalid procedure call or argument.
    pub const VB_INVALID_CALL: ScriptError = ScriptError(5);
    /// VBScript 6: Overflow.
    pub const VB_OVERFLOW: ScriptError = ScriptError(6);
    /// VBScript 13: Type mismatch.
    pub const VB_TYPE_MISMATCH: ScriptError = ScriptError(13);
    /// VBScript 438: the object has no such method (AppCreate2 on a site key and the like).
    pub const VB_NO_METHOD: ScriptError = ScriptError(438);

    /// `Err.Number`: a signed 32-bit value, which is also what `WScript.Quit Err.Number` exits with.
    pub fn number(self) -> i32 {
        self.0 as i32
    }

    /// `Hex(Err.Number)`: upper-case, no leading zeros.
    pub fn hex(self) -> String {
        format!("{:X}", self.0)
    }

    /// `Err.Description`: the system message of a Win32 HRESULT or VBScript's text; the IIS ADSI
    /// provider's own codes carry no text, so theirs is empty.
    pub fn description(self) -> &'static str {
        match self.0 {
            0x8007_0003 => "The system cannot find the path specified.",
            0x8007_0005 => "Access is denied.",
            0x8007_0057 => "The parameter is incorrect.",
            0x8007_00A1 => "The specified path is invalid.",
            0x8007_00B7 => "Cannot create a file when that file already exists.",
            0x8007_0422 => {
                "The service cannot be started, either because it is disabled or because it has no enabled devices associated with it."
            }
            0x8007_06BA => "The RPC server is unavailable.",
            0x8004_01E4 => "Invalid syntax",
            5 => "Invalid procedure call or argument",
            6 => "Overflow",
            13 => "Type mismatch",
            438 => "Object doesn't support this property or method",
            _ => "",
        }
    }
}

/// Opens `IIS://<server>/<path>` the way the IIS ADSI provider does for `GetObject`: the server
/// must be this machine, IIS installed and enabled, the caller an administrator and the key present.
pub fn adsi_bind(m: &Machine, ctx: Context, server: &str, mb_path: &str) -> Result<(), ScriptError> {
    let local = ["localhost", "127.0.0.1", ".", m.name()].iter().any(|n| n.eq_ignore_ascii_case(server));
    if !local {
        return Err(ScriptError::RPC_UNAVAILABLE);
    }
    match m.iis() {
        IisState::Absent => return Err(ScriptError::MONIKER_SYNTAX),
        IisState::Disabled => return Err(ScriptError::SERVICE_DISABLED),
        IisState::Installed => {}
    }
    if !ctx.admin {
        return Err(ScriptError::ACCESS_DENIED);
    }
    if !m.metabase().exists(mb_path) {
        return Err(ScriptError::PATH_NOT_FOUND);
    }
    Ok(())
}

/// What a running script sees of its host: the `WScript` object.
#[derive(Debug, Clone)]
pub struct WScript {
    host: Host,
    full_name: String,
    name: String,
    args: Vec<String>,
    batch: bool,
    lines: Vec<String>,
    rules: Vec<RuleId>,
}

impl WScript {
    /// A script about to run under `host` with `args`; `batch` is `//B`.
    pub fn new(host: Host, full_name: &str, args: &[String], batch: bool) -> WScript {
        let name = full_name.rsplit('\\').next().unwrap_or(full_name).to_string();
        WScript {
            host,
            full_name: full_name.into(),
            name,
            args: args.to_vec(),
            batch,
            lines: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// The host running the script.
    pub fn host(&self) -> Host {
        self.host
    }

    /// `WScript.ScriptFullName`: the script's path as located.
    pub fn script_full_name(&self) -> &str {
        &self.full_name
    }

    /// `WScript.ScriptName`: the script's file name.
    pub fn script_name(&self) -> &str {
        &self.name
    }

    /// `WScript.Arguments`: what follows the script name, host options removed.
    pub fn arguments(&self) -> &[String] {
        &self.args
    }

    /// What the script printed (or showed in message boxes) so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// `WScript.Echo`: one line per line of text; wscript's message boxes are silent under `//B`.
    pub fn echo(&mut self, text: impl AsRef<str>) {
        if self.host == Host::WScript && self.batch {
            return;
        }
        for line in text.as_ref().split('\n') {
            self.lines.push(line.trim_end_matches('\r').to_string());
        }
    }

    /// `WshShell.PopUp` with Yes and No buttons: shows the question; the emulated user answers No
    /// (7), so nothing a Yes would do ever happens. Under `//B` no box shows and the answer is not Yes.
    pub fn popup_yes_no(&mut self, question: &str) -> i32 {
        if !self.batch {
            self.lines.push(question.to_string());
        }
        7
    }

    /// An unhandled runtime error: WSH prints `<script>(<line>, <col>) <source>: <text>` (nothing
    /// under `//B`) and the host exits with 1. COM errors without text show their HRESULT.
    pub fn runtime_error(&mut self, line: u32, col: u32, err: ScriptError) -> i32 {
        if !self.batch {
            let source = if err.0 < 0x1_0000 { "Microsoft VBScript runtime error" } else { "(null)" };
            let text = match err.description() {
                "" => format!("0x{}", err.hex()),
                d => d.to_string(),
            };
            self.lines.push(format!("{}({line}, {col}) {source}: {text}", self.full_name));
        }
        1
    }

    /// Records the rules that decided what the script did, for the run's journal note.
    pub fn cite(&mut self, rules: &[RuleId]) {
        for r in rules {
            if !self.rules.contains(r) {
                self.rules.push(r);
            }
        }
    }
}

/// The `DetectExeType` routine `adsutil.vbs` starts with and the KB 812833 script copies (ADS-01,
/// KB-05). Under wscript it says the script does not work there, asks whether to register cscript
/// (answered No), prints `tip`, then runs `Cscript //nologo <script>` hidden and quits with that
/// run's exit code. The hidden run gets no arguments: the routine reads `ArgCount` before the
/// script has counted any. Returns `None` under cscript, where the script goes on.
pub fn detect_exe_type(m: &mut Machine, world: &mut World, ctx: Context, w: &mut WScript, tip: &str) -> Option<i32> {
    if w.host != Host::WScript {
        return None;
    }
    w.cite(&["ADS-01"]);
    w.echo("This script does not work with WScript.");
    let answer = w.popup_yes_no("Would you like to register CScript as your default host for VBscript?");
    if answer != 6 {
        m.note("\"Register CScript\" answered No: .vbs files still open in wscript", &["ADS-01"]);
        w.echo(tip);
    }
    let args = ["//nologo".to_string(), w.full_name.clone()];
    let hidden = run(m, world, Host::CScript, &args, "C:\\", ctx);
    Some(hidden.exit)
}

/// The host options of one command line.
#[derive(Debug, Default)]
struct Options {
    logo: bool,
    batch: bool,
    usage: bool,
    save: bool,
    set_host: Option<Host>,
    engine: Option<String>,
}

impl Options {
    /// Applies one `//` option (without the slashes); false when the host does not know it.
    fn apply(&mut self, opt: &str) -> bool {
        let lower = opt.to_ascii_lowercase();
        match lower.as_str() {
            "?" => self.usage = true,
            "b" => self.batch = true,
            "i" => self.batch = false,
            "logo" => self.logo = true,
            "nologo" => self.logo = false,
            "s" => self.save = true,
            "h:cscript" => self.set_host = Some(Host::CScript),
            "h:wscript" => self.set_host = Some(Host::WScript),
            // Debugging and Unicode console I/O do not change what the emulated scripts print.
            "d" | "x" | "u" => {}
            _ => {
                if let Some(engine) = lower.strip_prefix("e:").filter(|e| !e.is_empty()) {
                    self.engine = Some(engine.to_string());
                } else if let Some(t) = lower.strip_prefix("t:") {
                    // The scripts finish at once, so a timeout never fires; only its form is checked.
                    return !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
                } else if lower.strip_prefix("job:").is_none() {
                    return false;
                }
            }
        }
        true
    }
}

/// The engine a script runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    VBScript,
    JScript,
}

/// The usage text (`//?`, or cscript without a script).
fn usage(host: Host, out: &mut Output) {
    out.line(format!("Usage: {} scriptname.extension [option...] [arguments...]", host.title()));
    out.line("");
    out.line("Options:");
    for o in OPTIONS {
        out.line(o);
    }
}

/// The script's full path, resolved against the current directory `cwd` (WSH-01, WSH-03).
fn script_full_path(script: &str, cwd: &str) -> String {
    let p = script.replace('/', "\\");
    let drive = &cwd[..2.min(cwd.len())];
    let joined = if p.len() > 1 && p.as_bytes()[1] == b':' {
        p
    } else if let Some(rooted) = p.strip_prefix('\\') {
        format!("{drive}\\{rooted}")
    } else {
        crate::machine::fs::join(cwd, &p)
    };
    let (d, rest) = joined.split_at(2.min(joined.len()));
    let mut parts: Vec<&str> = Vec::new();
    for seg in rest.split('\\') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("{d}\\{}", parts.join("\\"))
}

/// Runs `cscript.exe` or `wscript.exe` with `args` (host options, the script, its arguments) in
/// the current directory `cwd`.
pub fn run(m: &mut Machine, world: &mut World, host: Host, args: &[String], cwd: &str, ctx: Context) -> Output {
    let mut out = Output::default();
    let mut opts = Options {
        logo: m.registry().get(SETTINGS_KEY, "DisplayLogo") != Some("0"),
        batch: m.registry().get(SETTINGS_KEY, "BatchMode") == Some("1"),
        ..Options::default()
    };
    // WSH takes every `//` argument as a host option, wherever it stands.
    let mut positional = Vec::new();
    let mut unknown = None;
    for a in args {
        match a.strip_prefix("//") {
            Some(opt) => {
                if !opts.apply(opt) && unknown.is_none() {
                    unknown = Some(a.clone());
                }
            }
            None => positional.push(a.clone()),
        }
    }
    // The banner is console output; batch mode shows none (modeled).
    if host == Host::CScript && opts.logo && !opts.batch {
        m.note(format!("{} banner: Windows Script Host 5.6", host.exe()), &["WSH-02"]);
        for l in LOGO {
            out.line(l);
        }
    }
    if let Some(opt) = unknown {
        out.line(format!("Input Error: Unknown option \"{opt}\" specified."));
        out.exit = 1;
        return out;
    }
    if opts.usage {
        usage(host, &mut out);
        return out;
    }
    if opts.save {
        m.reg_set(SETTINGS_KEY, "DisplayLogo", if opts.logo { "1" } else { "0" }, &["ADS-01"]);
        m.reg_set(SETTINGS_KEY, "BatchMode", if opts.batch { "1" } else { "0" }, &["ADS-01"]);
        out.line("Command line options are saved.");
    }
    if let Some(h) = opts.set_host {
        let command = format!("\"%SystemRoot%\\System32\\{}.exe\" \"%1\" %*", h.title());
        m.reg_set(VBS_OPEN_COMMAND, "", &command, &["ADS-01"]);
        out.line(format!("The default script host is now set to {}.", h.exe()));
    }
    let Some(script) = positional.first() else {
        // wscript without a script opens its settings dialog, which changes nothing until saved.
        if host == Host::CScript && !opts.save && opts.set_host.is_none() {
            usage(host, &mut out);
        }
        return out;
    };
    let full = script_full_path(script, cwd);
    if !m.fs().is_file(&full) {
        m.note(format!("{}: no script file {full}", host.exe()), &["WSH-03"]);
        out.line(format!("Input Error: Can not find script file \"{full}\"."));
        out.exit = 1;
        return out;
    }
    let file = full.rsplit('\\').next().unwrap_or_default().to_ascii_lowercase();
    let engine = match &opts.engine {
        Some(e) => match e.as_str() {
            "vbscript" | "vbs" => Engine::VBScript,
            "jscript" | "js" => Engine::JScript,
            _ => {
                out.line(format!("Input Error: Can not find script engine \"{e}\" for script \"{full}\"."));
                out.exit = 1;
                return out;
            }
        },
        None => match file.rsplit_once('.').map(|(_, ext)| ext) {
            None | Some("") => {
                out.line(format!("Input Error: There is no file extension in \"{full}\"."));
                out.exit = 1;
                return out;
            }
            Some("vbs" | "vbe") => Engine::VBScript,
            Some("js" | "jse") => Engine::JScript,
            // Job and settings files name their own engines; iisim emulates none of them.
            Some("wsf" | "wsh") => Engine::VBScript,
            Some(ext) => {
                out.line(format!("Input Error: There is no script engine for file extension \".{ext}\"."));
                out.exit = 1;
                return out;
            }
        },
    };
    let mut w = WScript::new(host, &full, &positional[1..], opts.batch);
    if !script.replace('/', "\\").starts_with('\\') && script.get(1..2) != Some(":") {
        // A relative script path is resolved against the current directory (WSH-01).
        w.cite(&["WSH-01"]);
    }
    let code = match (file.as_str(), engine) {
        ("adsutil.vbs", Engine::VBScript) => adsutil::run(m, world, ctx, &mut w),
        ("inprocessisapiapps.vbs", Engine::VBScript) => inproc::run(m, world, ctx, &mut w),
        ("iisext.vbs", Engine::VBScript) => iis6scripts::iisext(m, world, ctx, &mut w),
        ("iisapp.vbs", Engine::VBScript) => iis6scripts::iisapp(m, world, ctx, &mut w),
        ("iiscnfg.vbs", Engine::VBScript) => iis6scripts::iiscnfg(m, world, ctx, &mut w),
        ("iisweb.vbs", Engine::VBScript) => iis6scripts::iisweb(m, world, ctx, &mut w),
        ("iisvdir.vbs", Engine::VBScript) => iis6scripts::iisvdir(m, world, ctx, &mut w),
        // Both scripts open with a `'` comment line, which JScript reads as a string literal: the
        // KB script's never closes; adsutil's banner of quotes pairs up into two adjacent literals.
        ("adsutil.vbs", Engine::JScript) => jscript_error(&mut w, 3, "Expected ';'"),
        ("inprocessisapiapps.vbs", Engine::JScript) => jscript_error(&mut w, 1, "Unterminated string constant"),
        _ => {
            out.line(format!("iisim does not emulate {full} yet."));
            out.exit = 1;
            return out;
        }
    };
    out.lines.extend(w.lines.iter().cloned());
    out.exit = code;
    let shown: String = w.args.iter().map(|a| format!(" {a}")).collect();
    m.note(format!("{} {full}{shown}: exit {code}", host.exe()), &w.rules);
    out
}

/// A JScript compilation error on the script's first line (exit 1; silent under `//B`).
fn jscript_error(w: &mut WScript, col: u32, text: &str) -> i32 {
    if !w.batch {
        w.lines.push(format!("{}(1, {col}) Microsoft JScript compilation error: {text}", w.full_name));
    }
    1
}

/// Runs a `.vbs` typed by name: the file association picks the host (wscript unless `//H:CScript`
/// or the scripts' "register CScript" changed it), with `//nologo` when the association has it.
pub fn run_associated(
    m: &mut Machine,
    world: &mut World,
    script: &str,
    args: &[String],
    cwd: &str,
    ctx: Context,
) -> Output {
    let command = m.registry().get(VBS_OPEN_COMMAND, "").unwrap_or_default().to_ascii_lowercase();
    let host = if associated_with_cscript(m) { Host::CScript } else { Host::WScript };
    m.note(format!("{script} opens in {} (its file association)", host.exe()), &["WSH-04"]);
    let mut full = Vec::with_capacity(args.len() + 2);
    if command.contains("//nologo") {
        full.push("//nologo".to_string());
    }
    full.push(script.to_string());
    full.extend(args.iter().cloned());
    run(m, world, host, &full, cwd, ctx)
}

/// Whether `.vbs` files open in cscript (after `cscript //h:cscript`, WSH-04).
pub fn associated_with_cscript(m: &Machine) -> bool {
    match m.registry().get(VBS_OPEN_COMMAND, "") {
        Some(cmd) => cmd.to_ascii_lowercase().contains("cscript.exe"),
        None => m.policies().is(crate::policy::WSH_DEFAULT_HOST, "cscript"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_table() {
        // (option without slashes, known?)
        let cases = [
            ("nologo", true),
            ("NoLogo", true),
            ("B", true),
            ("T:10", true),
            ("T:x", false),
            ("E:vbscript", true),
            ("E:", false),
            ("Job:main", true),
            ("H:cscript", true),
            ("H:other", false),
            ("Q", false),
        ];
        for (opt, known) in cases {
            assert_eq!(Options::default().apply(opt), known, "{opt}");
        }
    }

    #[test]
    fn error_numbers_print_like_vbscript() {
        let e = ScriptError::PATH_NOT_FOUND;
        assert_eq!((e.number(), e.hex().as_str()), (-2147024893, "80070003"));
        assert_eq!(ScriptError::VB_NO_METHOD.hex(), "1B6");
        assert_eq!(ScriptError::ADS_NOT_SUPPORTED.description(), "");
    }
}
