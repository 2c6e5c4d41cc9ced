//! `adsutil.vbs`, IIS's metabase admin script: GET, SET, DELETE, ENUM, CREATE, FIND, COPY, MOVE,
//! the application commands, and its messages and exit codes (ADS-01..ADS-13, MB-18, MB-22).
//!
//! Exit codes follow the script: `WScript.Quit (Err.Number)` after every reported COM or VBScript
//! error (so a missing path exits with -2147024893, and ADS-04's "fails with 0x80005006" exits with
//! -2147463162), 2 (`GENERAL_FAILURE`) for the script's own argument errors, 1 (`GENERAL_WARNING`)
//! for CREATE's warnings, 0 otherwise (ADS-12).
//!
//! One script serves every edition, with the IIS 6 copy's behaviour where the two differ in what
//! ADS-03 specifies (integers print unsigned) and the edition's own help text, schema, MimeMap
//! parsing and ServerCommand check where the copies differ.

use super::wsh::{self, ScriptError, WScript};
use super::Context;
use crate::machine::Machine;
use crate::metabase::schema::{self, Kind, PropDef, SCHEMA};
use crate::metabase::Value;
use crate::process;
use crate::process::World;
use crate::rules::RuleId;

/// `GENERAL_FAILURE`: the script's own argument errors.
const GENERAL_FAILURE: i32 = 2;
/// `GENERAL_WARNING`: CREATE's warnings.
const GENERAL_WARNING: i32 = 1;
/// `Spacer`: property names are padded to this width.
const PAD: usize = 32;

/// Rules of every metabase write: SET's semantics and "the next request sees it".
const WRITE: &[RuleId] = &["ADS-05", "ADS-13"];

/// Properties the IIS 5.x schema lacks (application pools, isolation mode, the lockdown list):
/// there they are unknown names.
const IIS6_ONLY: &[&str] = &[
    "AppPoolId",
    "IIs5IsolationModeEnabled",
    "WebSvcExtRestrictionList",
    "ApplicationDependencies",
    "Enable32BitAppOnWin64",
    "MaxProcesses",
    "PeriodicRestartTime",
    "PeriodicRestartRequests",
    "PeriodicRestartMemory",
    "PeriodicRestartPrivateMemory",
    "PeriodicRestartSchedule",
    "IdleTimeout",
    "ShutdownTimeLimit",
    "StartupTimeLimit",
    "PingingEnabled",
    "PingInterval",
    "PingResponseTime",
    "RapidFailProtection",
    "RapidFailProtectionInterval",
    "RapidFailProtectionMaxCrashes",
    "AppPoolIdentityType",
    "AppPoolAutoStart",
    "AppPoolQueueLength",
    "AppPoolState",
    "CPUAction",
    "CPULimit",
    "CPUResetInterval",
    "DisallowOverlappingRotation",
    "DisallowRotationOnConfigChange",
    "LoadBalancerCapabilities",
    "OrphanWorkerProcess",
    "OrphanActionExe",
    "OrphanActionParams",
    "SMPAffinitized",
    "SMPProcessorAffinityMask",
    "DemandStartThreshold",
    "CentralBinaryLoggingEnabled",
    "LogInUTF8",
    "MaxGlobalBandwidth",
    "AspAppServiceFlags",
    "AspBufferingLimit",
    "AspCalcLineNumber",
    "AspDiskTemplateCacheDirectory",
    "AspEnableSxs",
    "AspExecuteInMTA",
    "AspKeepSessionIDSecure",
    "AspMaxDiskTemplateCacheFiles",
    "AspMaxRequestEntityAllowed",
    "AspPartitionID",
    "AspRunOnEndAnonymously",
    "AspSxsName",
    "AspUsePartition",
    "MaxEndpointConnections",
    "UploadReadAheadSize",
    "PassportRequireADMapping",
];

/// ADSI's type of a property (`IIsSchemaObject.Syntax`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    String,
    ExpandSz,
    Integer,
    Boolean,
    List,
    /// The MimeMap property's object list, which the script handles apart.
    MimeMapList,
}

impl Syntax {
    fn name(self) -> &'static str {
        match self {
            Syntax::String => "STRING",
            Syntax::ExpandSz => "EXPANDSZ",
            Syntax::Integer => "INTEGER",
            Syntax::Boolean => "BOOLEAN",
            Syntax::List => "LIST",
            Syntax::MimeMapList => "MIMEMAPLIST",
        }
    }

    /// VBScript's `TypeName` of the value, shown instead of the syntax after names of 32+ characters.
    fn type_name(self) -> &'static str {
        match self {
            Syntax::String | Syntax::ExpandSz => "String",
            Syntax::Integer => "Long",
            Syntax::Boolean => "Boolean",
            Syntax::List | Syntax::MimeMapList => "Variant()",
        }
    }
}

/// A property as ADSI exposes it.
#[derive(Debug, Clone, Copy)]
enum Prop {
    /// The key's KeyType.
    KeyType,
    /// A metabase property of the schema.
    Plain(&'static PropDef),
    /// A per-bit view of a flag DWORD, e.g. AccessRead of AccessFlags (MB-18).
    Bit { flags: &'static PropDef, bit: u32 },
}

impl Prop {
    fn syntax(self) -> Syntax {
        match self {
            Prop::KeyType => Syntax::String,
            Prop::Bit { .. } => Syntax::Boolean,
            Prop::Plain(d) if d.name == "MimeMap" => Syntax::MimeMapList,
            Prop::Plain(d) => match d.kind {
                Kind::Dword | Kind::Flags(_) => Syntax::Integer,
                Kind::Bool => Syntax::Boolean,
                Kind::String | Kind::Binary => Syntax::String,
                Kind::ExpandSz => Syntax::ExpandSz,
                Kind::MultiSz => Syntax::List,
            },
        }
    }
}

/// A value as ADSI returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AdsValue {
    Text(String),
    Int(u32),
    Bool(bool),
    List(Vec<String>),
}

impl AdsValue {
    fn from_stored(v: &Value, syntax: Syntax) -> AdsValue {
        match (v, syntax) {
            (Value::Dword(n), Syntax::Boolean) => AdsValue::Bool(*n != 0),
            (Value::Dword(n), _) => AdsValue::Int(*n),
            (Value::String(s) | Value::Binary(s), _) => AdsValue::Text(s.clone()),
            (Value::MultiSz(l), _) => AdsValue::List(l.clone()),
        }
    }

    /// The value as VBScript concatenates it into a line (lists are handled by the callers).
    fn scalar(&self) -> String {
        match self {
            AdsValue::Text(s) => s.clone(),
            AdsValue::Int(n) => n.to_string(),
            AdsValue::Bool(b) => if *b { "True" } else { "False" }.into(),
            AdsValue::List(l) => l.join(" "),
        }
    }
}

/// A start, stop or status request that needs IIS's processes, which the process model owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRequest {
    /// What is asked.
    pub action: ProcessAction,
    /// The metabase path of the site, pool or application, e.g. `/LM/W3SVC/1`.
    pub mb_path: String,
    /// The line the script prints when the call succeeds, e.g. `Server W3SVC/1 Successfully STARTED`.
    pub success: String,
    /// The line the script prints after the error report when the call fails.
    pub failure: String,
}

/// The process-model operations adsutil can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessAction {
    /// Start a site (`START_SERVER`, `ServerCommand 1`; ADS-10).
    StartSite,
    /// Stop a site (`STOP_SERVER`, `ServerCommand 2`).
    StopSite,
    /// Pause a site (`PAUSE_SERVER`, `ServerCommand 3`).
    PauseSite,
    /// Continue a paused site (`CONTINUE_SERVER`, `ServerCommand 4`).
    ContinueSite,
    /// Start an application pool (`AppPoolCommand 1`, IIS 6).
    StartPool,
    /// Stop an application pool (`AppPoolCommand 2`, IIS 6).
    StopPool,
    /// `APPUNLOAD`: unload the application from its process (prints `Application Unloaded.`).
    AppUnload,
    /// `APPDISABLE`: remove the application's out-of-process registration (`Application Disabled.`).
    AppDisable,
    /// `APPENABLE`: recreate it (`Application Enabled.`).
    AppEnable,
    /// `APPGETSTATUS`: `Application Status: N`, 0 stopped, 1 running, 2 not defined (ADS-09).
    AppGetStatus,
}

/// The hook into the process model: sites, pools and loaded applications live there. Performs
/// `req.action` and prints `req.success` (ADS-05, ADS-09, ADS-10).
pub fn process_request(m: &mut Machine, world: &mut World, w: &mut WScript, req: &ProcessRequest) -> i32 {
    let path = req.mb_path.clone();
    let last = path.rsplit('/').next().unwrap_or_default().to_string();
    match req.action {
        ProcessAction::StartPool | ProcessAction::StopPool => {
            process::pool_command(m, world, &last, req.action == ProcessAction::StartPool);
        }
        ProcessAction::StartSite | ProcessAction::StopSite => {
            // A site's state persists in ServerAutoStart (MB-23), which dispatch reads (REQ-05).
            let on = u32::from(req.action == ProcessAction::StartSite);
            let _ = m.mb_set(&path, "ServerAutoStart", Value::Dword(on), &["ADS-10", "REQ-05"]);
        }
        ProcessAction::PauseSite | ProcessAction::ContinueSite => {
            m.note(
                format!("{path} {:?}: pausing is not modeled, requests are served as before", req.action),
                &["ADS-10"],
            );
        }
        ProcessAction::AppUnload => {
            let n = process::unload_app(m, world, &path);
            m.note(format!("APPUNLOAD {path}: {n} loaded instance(s) ended"), &["ADS-09"]);
        }
        ProcessAction::AppDisable | ProcessAction::AppEnable => {
            m.note(format!("{path} {:?}: the COM+ registration is not modeled", req.action), &["ADS-09"]);
        }
        ProcessAction::AppGetStatus => {
            let status = if !m.metabase().exists(&path) {
                2
            } else if process::app_loaded(world, &path) {
                1
            } else {
                0
            };
            w.echo(format!("Application Status: {status}"));
            return 0;
        }
    }
    w.echo(req.success.clone());
    0
}

/// `SanitizePath`: trim spaces, `\` to `/`, drop one leading and one trailing `/` (ADS-02).
fn sanitize(path: &str) -> String {
    let p = path.trim_matches(' ').replace('\\', "/");
    let p = p.strip_prefix('/').unwrap_or(&p);
    p.strip_suffix('/').unwrap_or(p).to_string()
}

/// `SplitParam`: the last segment is the property; the path keeps the rest (ADS-02).
fn split_param(path: &str) -> (String, String) {
    match path.rfind('/') {
        Some(i) if i + 1 < path.len() => (path[..i].to_string(), path[i + 1..].to_string()),
        _ => (String::new(), path.to_string()),
    }
}

/// `SplitLeftPath`: the first segment and the rest.
fn split_left(path: &str) -> (String, String) {
    match path.find('/') {
        Some(i) if i + 1 < path.len() => (path[..i].to_string(), path[i + 1..].to_string()),
        _ => (path.to_string(), String::new()),
    }
}

/// The metabase path of an ADSI path below `IIS://<server>`: `/LM` is the computer object.
fn mb_path(path: &str) -> String {
    if path.is_empty() {
        "/LM".into()
    } else {
        format!("/LM/{path}")
    }
}

/// VBScript's reading of a number: decimal (a fraction rounds half to even), or hex after `0x`/`&h`.
fn vb_number(text: &str) -> Result<f64, ScriptError> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x").or_else(|| lower.strip_prefix("&h")) {
        let digits = hex.trim_start_matches('0');
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ScriptError::VB_TYPE_MISMATCH);
        }
        if digits.len() > 8 {
            return Err(ScriptError::VB_OVERFLOW);
        }
        // Hex literals are signed Longs: &hFFFFFFFF is -1.
        let n = u32::from_str_radix(if digits.is_empty() { "0" } else { digits }, 16)
            .map_err(|_| ScriptError::VB_TYPE_MISMATCH)?;
        return Ok(n as i32 as f64);
    }
    let looks_numeric = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    match t.parse::<f64>() {
        Ok(v) if looks_numeric && v.is_finite() => {
            let r = v.round();
            // Round half to even, as CLng does.
            Ok(if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 { r - v.signum() } else { r })
        }
        _ => Err(ScriptError::VB_TYPE_MISMATCH),
    }
}

/// `CLng`: a signed 32-bit number.
fn clng(text: &str) -> Result<i32, ScriptError> {
    let v = vb_number(text)?;
    if v < i32::MIN as f64 || v > i32::MAX as f64 {
        return Err(ScriptError::VB_OVERFLOW);
    }
    Ok(v as i32)
}

/// An INTEGER argument: negative Longs wrap, values up to 4294967295 are taken as unsigned.
fn unsigned(text: &str) -> Result<u32, ScriptError> {
    let v = vb_number(text)?;
    if v < i32::MIN as f64 || v > u32::MAX as f64 {
        return Err(ScriptError::VB_OVERFLOW);
    }
    Ok(if v < 0.0 { v as i32 as u32 } else { v as u32 })
}

/// `CBool`: `True`/`False` in any case, or a number (non-zero is True).
fn cbool(text: &str) -> Result<bool, ScriptError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        t => vb_number(t).map(|v| v != 0.0),
    }
}

/// GET's and SET's line start: the name padded to 32 columns and the syntax, or, for a name of 32+
/// characters, no padding and VBScript's type name (ADS-03).
fn head(name: &str, syntax: Syntax) -> String {
    if name.chars().count() < PAD {
        format!("{name:<PAD$}: ({}) ", syntax.name())
    } else {
        format!("{name}: ({}) ", syntax.type_name())
    }
}

/// One property as ENUM prints it (ADS-06): like GET, but strings and expand-strings quoted and
/// lists followed by a blank line; 32+ character names get ` : ` (the STRING case without a space).
fn enum_lines(name: &str, syntax: Syntax, value: &AdsValue) -> Vec<String> {
    let short = name.chars().count() < PAD;
    let lead = if short { format!("{name:<PAD$}: ") } else { format!("{name} : ") };
    let s = syntax.name();
    match (syntax, value) {
        (Syntax::MimeMapList, AdsValue::List(items)) => vec![mimemap_line(items)],
        (_, AdsValue::List(items)) => {
            let mut lines = vec![format!("{lead}({s}) ({} Items)", items.len())];
            lines.extend(items.iter().map(|i| format!("  \"{i}\"")));
            lines.push(String::new());
            lines
        }
        (Syntax::String, v) if !short => vec![format!("{lead}({s})\"{}\"", masked(name, v))],
        (Syntax::String | Syntax::ExpandSz, v) => vec![format!("{lead}({s}) \"{}\"", masked(name, v))],
        (_, v) => vec![format!("{lead}({s}) {}", v.scalar())],
    }
}

/// The special MimeMap line (`MimeMapGet`).
fn mimemap_line(items: &[String]) -> String {
    let mut line = format!("{:<PAD$}: (MimeMapList) ", "MimeMap");
    for i in items {
        line.push_str(&format!("\"{i}\" "));
    }
    line
}

/// A value as printed: secure properties show ten asterisks, never the password (ADS-03).
fn masked(name: &str, v: &AdsValue) -> String {
    if schema::is_secure(name) {
        "**********".to_string()
    } else {
        v.scalar()
    }
}

/// A copied key: its new path, its KeyType and its own properties.
type KeySnapshot = (String, String, Vec<(String, Value)>);

/// One run of the script: the machine, the caller, the host and the parsed arguments.
struct Ads<'a> {
    m: &'a mut Machine,
    world: &'a mut World,
    ctx: Context,
    w: &'a mut WScript,
    server: String,
    args: Vec<String>,
}

/// Runs the script under `w`'s host; returns the exit code.
pub fn run(m: &mut Machine, world: &mut World, ctx: Context, w: &mut WScript) -> i32 {
    w.cite(&["ADS-01"]);
    let tip = "To run this script type: \"CScript.Exe adsutil.vbs <cmd> <params>\"";
    if let Some(code) = wsh::detect_exe_type(m, world, ctx, w, tip) {
        return code;
    }
    let raw = w.arguments().to_vec();
    let mut a = Ads { m, world, ctx, w, server: String::new(), args: Vec::new() };
    if raw.is_empty() {
        a.help();
        return GENERAL_FAILURE;
    }
    // `-s:<server>` may stand anywhere; the rest are the command's arguments (ADS-01).
    for arg in raw {
        match arg.get(..3).filter(|p| p.eq_ignore_ascii_case("-s:")) {
            Some(_) => a.server = arg[3..].to_string(),
            None => a.args.push(arg),
        }
    }
    if a.server.is_empty() {
        a.server = "localhost".into();
    }
    a.dispatch()
}

impl Ads<'_> {
    fn echo(&mut self, text: impl AsRef<str>) {
        self.w.echo(text);
    }

    fn is_iis6(&self) -> bool {
        self.m.edition().is_iis6()
    }

    fn arg(&self, i: usize) -> String {
        self.args.get(i).cloned().unwrap_or_default()
    }

    fn dispatch(&mut self) -> i32 {
        let cmd = self.arg(0);
        match cmd.to_ascii_uppercase().as_str() {
            "SET" => self.set(),
            "CREATE" => self.create(""),
            "DELETE" => self.delete(),
            "GET" => self.get(),
            "ENUM" => self.enumerate(false),
            "ENUM_ALL" | "ENUMALL" => self.enumerate(true),
            "COPY" => self.copy_move(true),
            "MOVE" => self.copy_move(false),
            "CREATE_VDIR" => self.create("IIsWebVirtualDir"),
            "CREATE_VSERV" => self.create("IIsWebServer"),
            "START_SERVER" => self.server_command("START_SERVER", ProcessAction::StartSite),
            "STOP_SERVER" => self.server_command("STOP_SERVER", ProcessAction::StopSite),
            "PAUSE_SERVER" => self.server_command("PAUSE_SERVER", ProcessAction::PauseSite),
            "CONTINUE_SERVER" => self.server_command("CONTINUE_SERVER", ProcessAction::ContinueSite),
            "FIND" => self.find(),
            "APPCREATEINPROC" => self.app_create(0),
            "APPCREATEOUTPROC" => self.app_create(1),
            "APPCREATEPOOLPROC" => self.app_create(2),
            "APPDELETE" => self.app_delete(),
            "APPUNLOAD" => self.app_process("APPUNLOAD", "UNLOAD", ProcessAction::AppUnload),
            "APPDISABLE" => self.app_process("APPDISABLE", "disable", ProcessAction::AppDisable),
            "APPENABLE" => self.app_process("APPENABLE", "Enable", ProcessAction::AppEnable),
            "APPGETSTATUS" => self.app_process("APPGETSTATUS", "retrieve", ProcessAction::AppGetStatus),
            "HELP" => {
                self.help_ex();
                0
            }
            _ => {
                self.w.cite(&["ADS-11"]);
                self.echo(format!("Command not recognized: {cmd}"));
                self.echo("For help, just type \"Cscript.exe adsutil.vbs\".");
                GENERAL_FAILURE
            }
        }
    }

    // ----- errors -----

    /// `ReportError`: the description (three codes get the script's own words), then the number.
    fn report(&mut self, e: ScriptError) {
        self.w.cite(&["ADS-12"]);
        let text = match e.0 {
            0x8007_0003 => "The path requested could not be found.",
            0x8007_0005 => "Access is denied for the requested path or property.",
            0x8007_0094 => "The requested path is being used by another application.",
            _ => e.description(),
        };
        self.echo(text);
        self.echo(format!("ErrNumber: {} (0x{})", e.number(), e.hex()));
    }

    /// Reports `e`, prints `then` and quits with `Err.Number` (ADS-12).
    fn fail(&mut self, e: ScriptError, then: impl AsRef<str>) -> i32 {
        self.report(e);
        self.echo(then);
        // ADS-12: the script quits with Err.Number, a negative HRESULT as ERRORLEVEL.
        self.w.cite(&["ADS-12"]);
        e.number()
    }

    /// The script's own refusal of its arguments: one line, exit 2.
    fn usage_error(&mut self, text: &str) -> i32 {
        self.w.cite(&["ADS-12"]);
        self.echo(text);
        GENERAL_FAILURE
    }

    // ----- the ADSI view of the metabase -----

    /// `GetObject("IIS://<server>/<path>")`; the key's metabase path.
    fn bind(&self, path: &str) -> Result<String, ScriptError> {
        let mb = mb_path(path);
        wsh::adsi_bind(self.m, self.ctx, &self.server, &mb)?;
        Ok(mb)
    }

    fn key_type(&self, key: &str) -> String {
        self.m.metabase().key(key).map(|k| k.key_type().to_string()).unwrap_or_default()
    }

    /// A key without a class (no KeyType, or adsutil's default IIsObject) takes no properties but
    /// KeyType (ADS-07's warning).
    fn classless(&self, key: &str) -> bool {
        let kt = self.key_type(key);
        kt.eq_ignore_ascii_case("IIsObject") || kt.eq_ignore_ascii_case("IIsConfigObject")
    }

    /// `GetObject("IIS://<server>/Schema/<name>")`: the property, or none for an unknown name.
    fn lookup(&self, name: &str) -> Option<Prop> {
        if name.eq_ignore_ascii_case("KeyType") {
            return Some(Prop::KeyType);
        }
        let in_schema = |d: &PropDef| self.is_iis6() || !IIS6_ONLY.contains(&d.name);
        if let Some(d) = schema::lookup(name).filter(|d| in_schema(d)) {
            return Some(Prop::Plain(d));
        }
        SCHEMA.iter().filter(|d| in_schema(d)).find_map(|d| match d.kind {
            Kind::Flags(bits) => {
                bits.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|&(_, bit)| Prop::Bit { flags: d, bit })
            }
            _ => None,
        })
    }

    /// The key's own value of `prop` (what `GetDataPaths` finds at the node).
    fn own(&self, key: &str, prop: Prop) -> Option<AdsValue> {
        let k = self.m.metabase().key(key)?;
        match prop {
            Prop::KeyType => Some(k.key_type())
                .filter(|t| !t.eq_ignore_ascii_case("IIsConfigObject"))
                .map(|t| AdsValue::Text(t.into())),
            Prop::Plain(d) => k.get(d.name).map(|v| AdsValue::from_stored(v, prop.syntax())),
            Prop::Bit { flags, bit, .. } => {
                k.get(flags.name).and_then(Value::as_dword).map(|n| AdsValue::Bool(n & bit != 0))
            }
        }
    }

    /// `IIsObject.Get`: the effective value, inherited or the schema default (MB-20).
    fn effective(&self, key: &str, prop: Prop) -> Result<AdsValue, ScriptError> {
        if self.classless(key) && !matches!(prop, Prop::KeyType) {
            return Err(ScriptError::ADS_NOT_SUPPORTED);
        }
        let mb = self.m.metabase();
        let value = match prop {
            Prop::KeyType => self.own(key, prop),
            Prop::Plain(d) => mb.effective(key, d.name).map(|(v, _)| AdsValue::from_stored(&v, prop.syntax())),
            Prop::Bit { flags, bit, .. } => {
                mb.effective(key, flags.name).and_then(|(v, _)| v.as_dword()).map(|n| AdsValue::Bool(n & bit != 0))
            }
        };
        value.ok_or(ScriptError::ADS_NOT_FOUND)
    }

    /// The effective flag DWORD a per-bit write starts from (MB-18).
    fn effective_flags(&self, key: &str, flags: &PropDef) -> u32 {
        self.m.metabase().effective(key, flags.name).and_then(|(v, _)| v.as_dword()).unwrap_or(0)
    }

    /// `MapSpecGetParamName`: mdutil's names for GET and FIND, with the script's notes.
    fn map_get_name(&mut self, param: String) -> String {
        match param.to_ascii_uppercase().as_str() {
            "ACCESSPERM" => {
                self.echo(format!("Note: Your parameter \"{param}\" is being mapped to AccessFlags"));
                self.echo("      Check individual perms using \"GET AccessRead\", \"GET AccessWrite\", etc.");
                "AccessFlags".into()
            }
            "VRPATH" => "Path".into(),
            "AUTHORIZATION" => {
                self.echo(format!("Note: Your parameter \"{param}\" is being mapped to AuthFlags"));
                self.echo("      Check individual auths using \"GET AuthNTLM\", \"GET AuthBasic\", etc.");
                "AuthFlags".into()
            }
            _ => param,
        }
    }

    // ----- GET (ADS-03, ADS-04) -----

    fn get(&mut self) -> i32 {
        self.w.cite(&["ADS-02", "ADS-03"]);
        if self.args.len() != 2 {
            return self.usage_error("Error: Wrong number of Args for the GET command");
        }
        let (path, param) = split_param(&sanitize(&self.arg(1)));
        let param = self.map_get_name(param);
        if param.eq_ignore_ascii_case("MimeMap") {
            return self.mimemap_get(&path);
        }
        let key = match self.bind(&path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error Trying To GET the Object (GetObject Failed): {path}")),
        };
        let Some(prop) = self.lookup(&param) else {
            let schema = format!("IIS://{}/Schema/{param}", self.server);
            return self.fail(
                ScriptError::ADS_BAD_PATHNAME,
                format!("Error Trying To GET the Schema of the property: {schema}"),
            );
        };
        let value = match self.effective(&key, prop) {
            Ok(v) => v,
            Err(e) => {
                self.report(e);
                self.echo(format!("Error Trying To GET the property: (Get Method Failed) {param}"));
                self.echo("  (This property is probably not allowed at this node)");
                return e.number();
            }
        };
        if self.own(&key, prop).is_none() {
            self.w.cite(&["ADS-04"]);
            self.echo(format!("The parameter \"{param}\" is not set at this node."));
            // WScript.Quit &H80005006 (ADS-12).
            self.w.cite(&["ADS-12"]);
            return ScriptError::ADS_NOT_SUPPORTED.number();
        }
        let syntax = prop.syntax();
        let head = head(&param, syntax);
        match (&value, syntax) {
            (AdsValue::List(items), _) => {
                self.echo(format!("{head} ({} Items)", items.len()));
                for i in items {
                    self.echo(format!("  \"{i}\""));
                }
            }
            (v, Syntax::String) => self.echo(format!("{head}\"{}\"", masked(&param, v))),
            (v, _) => self.echo(format!("{head}{}", v.scalar())),
        }
        0
    }

    // ----- SET (ADS-05) -----

    fn set(&mut self) -> i32 {
        self.w.cite(&["ADS-02", "ADS-05"]);
        if self.args.len() < 3 {
            return self.usage_error("Error: Wrong number of Args for the SET command");
        }
        let (path, param) = split_param(&sanitize(&self.arg(1)));
        match param.to_ascii_uppercase().as_str() {
            "SERVERCOMMAND" => return self.server_command_prop(&path),
            "APPPOOLCOMMAND" if self.is_iis6() => return self.pool_command_prop(&path),
            "ACCESSPERM" => return self.access_perm(&path),
            "VRPATH" => return self.vrpath(&path),
            "AUTHORIZATION" => return self.authorization(&path),
            "MIMEMAP" => return self.mimemap_set(&path),
            _ => {}
        }
        let key = match self.bind(&path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error Trying To Get the Object: {path}")),
        };
        let Some(prop) = self.lookup(&param) else {
            let schema = format!("IIS://{}/Schema/{param}", self.server);
            return self.fail(
                ScriptError::ADS_BAD_PATHNAME,
                format!("Error Trying To GET the Schema of the property: {schema}"),
            );
        };
        let syntax = prop.syntax();
        let text = self.arg(2);
        let parsed = match syntax {
            Syntax::String | Syntax::ExpandSz => Ok(AdsValue::Text(text)),
            Syntax::Integer => unsigned(&text).map(AdsValue::Int),
            Syntax::Boolean => cbool(&text).map(AdsValue::Bool),
            Syntax::List | Syntax::MimeMapList => Ok(AdsValue::List(self.args[2..].to_vec())),
        };
        let parsed = parsed.and_then(|v| {
            if self.classless(&key) && !matches!(prop, Prop::KeyType) {
                Err(ScriptError::ADS_NOT_SUPPORTED)
            } else {
                Ok(v)
            }
        });
        let value = match parsed {
            Ok(v) => v,
            Err(e) => return self.fail(e, format!("Error Trying To SET the Property: {param}")),
        };
        if let Err(e) = self.write(&key, prop, &value) {
            return self.fail(e, format!("Error Trying To SET the Property: {param}"));
        }
        let head = head(&param, syntax);
        let line = match (&value, syntax) {
            (AdsValue::List(items), _) => items.iter().fold(head, |l, i| format!("{l}\"{i}\" ")),
            (v, Syntax::String) => format!("{head}\"{}\"", masked(&param, v)),
            (v, _) => format!("{head}{}", v.scalar()),
        };
        self.echo(line);
        0
    }

    /// `Put` + `SetInfo` of one property (ADS-05, ADS-13; per-bit views MB-18).
    fn write(&mut self, key: &str, prop: Prop, value: &AdsValue) -> Result<(), ScriptError> {
        let not_found = |_| ScriptError::PATH_NOT_FOUND;
        match (prop, value) {
            (Prop::KeyType, v) => self.m.mb_set_key_type(key, &v.scalar(), WRITE).map_err(not_found)?,
            (Prop::Bit { flags, bit, .. }, AdsValue::Bool(on)) => {
                let old = self.effective_flags(key, flags);
                let new = if *on { old | bit } else { old & !bit };
                self.m.mb_set(key, flags.name, Value::Dword(new), &["ADS-05", "MB-18", "ADS-13"]).map_err(not_found)?;
            }
            (Prop::Plain(d), v) => {
                let stored = match v {
                    AdsValue::Int(n) => Value::Dword(*n),
                    AdsValue::Bool(b) => Value::Dword(*b as u32),
                    AdsValue::Text(s) => Value::String(s.clone()),
                    // A MULTISZ ends at its first empty string: `""` is the empty list (MB-17).
                    AdsValue::List(l) => Value::MultiSz(l.iter().take_while(|i| !i.is_empty()).cloned().collect()),
                };
                self.m.mb_set(key, d.name, stored, WRITE).map_err(not_found)?;
                if d.name == "IIs5IsolationModeEnabled" {
                    self.m.note(
                        format!(
                            "{key} IIs5IsolationModeEnabled written: the isolation mode changes when W3SVC restarts"
                        ),
                        &["ADS-13", "MB-23"],
                    );
                }
            }
            (Prop::Bit { .. }, _) => return Err(ScriptError::VB_TYPE_MISMATCH),
        }
        Ok(())
    }

    // ----- SET's special names (ADS-05) -----

    /// `ServerCommand` 1-4 on a site: start, stop, pause, continue (ADS-05, ADS-10).
    fn server_command_prop(&mut self, path: &str) -> i32 {
        self.w.cite(&["ADS-10"]);
        let key = match self.bind(path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error Trying To Get the Object: {path}")),
        };
        // The IIS 6 copy checks the class first, case-sensitively; its ReportError then shows
        // whatever Err holds: nothing, or the failed read of a missing KeyType.
        if self.is_iis6() && self.key_type(&key) != "IIsWebServer" {
            let err = if self.own(&key, Prop::KeyType).is_none() { ScriptError::ADS_NOT_FOUND } else { ScriptError(0) };
            self.report(err);
            self.echo("Can't set ServerCommand on a non-IIsWebServer object.");
            return GENERAL_FAILURE;
        }
        let command = clng(&self.arg(2)).ok();
        let (action, verb, word) = match command {
            Some(1) => (ProcessAction::StartSite, "Start", "STARTED"),
            Some(2) => (ProcessAction::StopSite, "Stop", "STOPPED"),
            Some(3) => (ProcessAction::PauseSite, "Pause", "PAUSED"),
            Some(4) => (ProcessAction::ContinueSite, "Continue", "Continued"),
            _ => {
                let shown = command.map(|n| n.to_string()).unwrap_or_default();
                return self.usage_error(&format!("Invalid ServerCommand: {shown}"));
            }
        };
        if !self.key_type(&key).eq_ignore_ascii_case("IIsWebServer") {
            return self.fail(ScriptError::VB_NO_METHOD, format!("Error Trying To {verb} the server: {path}"));
        }
        let req = ProcessRequest {
            action,
            mb_path: key,
            success: format!("Server {path} Successfully {word}"),
            failure: format!("Error Trying To {verb} the server: {path}"),
        };
        process_request(self.m, self.world, self.w, &req)
    }

    /// `AppPoolCommand` 1-2 on a pool (IIS 6; ADS-05).
    fn pool_command_prop(&mut self, path: &str) -> i32 {
        let key = match self.bind(path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error Trying To Get the Object: {path}")),
        };
        if self.key_type(&key) != "IIsApplicationPool" {
            let err = if self.own(&key, Prop::KeyType).is_none() { ScriptError::ADS_NOT_FOUND } else { ScriptError(0) };
            self.report(err);
            self.echo("Can't set AppPoolCommand on a non-IIsApplicationPool object.");
            return GENERAL_FAILURE;
        }
        let command = clng(&self.arg(2)).ok();
        let (action, verb, word) = match command {
            Some(1) => (ProcessAction::StartPool, "Start", "STARTED"),
            Some(2) => (ProcessAction::StopPool, "Stop", "STOPPED"),
            _ => {
                let shown = command.map(|n| n.to_string()).unwrap_or_default();
                return self.usage_error(&format!("Invalid AppPoolCommand: {shown}"));
            }
        };
        let req = ProcessRequest {
            action,
            mb_path: key,
            success: format!("Application pool {path} Successfully {word}"),
            failure: format!("Error Trying To {verb} the application pool: {path}"),
        };
        process_request(self.m, self.world, self.w, &req)
    }

    /// `AccessPerm`: mdutil's AccessFlags, as a number or the words READ WRITE EXECUTE SCRIPT (MB-18).
    fn access_perm(&mut self, path: &str) -> i32 {
        let key = match self.bind(path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error Trying To Get the Object: {path}")),
        };
        if self.classless(&key) {
            return self
                .fail(ScriptError::ADS_NOT_SUPPORTED, format!("Error Trying To Set data on the Object: {path}"));
        }
        let mut line = format!("{:<PAD$}: (Long) ", "AccessFlags (AccessPerm)");
        let flags = match clng(&self.arg(2)) {
            Ok(n) => {
                line.push_str(&format!(" {n} (0x{:X})", n as u32));
                n as u32
            }
            Err(_) => {
                let mut flags = 0;
                let args = self.args[2..].to_vec();
                for word in args {
                    let (bit, shown) = match word.to_ascii_uppercase().as_str() {
                        "READ" => (1, "Read"),
                        "WRITE" => (2, "Write"),
                        "EXECUTE" => (4, "Execute"),
                        "SCRIPT" => (512, "Script"),
                        _ => return self.usage_error(&format!("Error: Setting not supported: {word}")),
                    };
                    flags |= bit;
                    line.push_str(&format!(" {shown}"));
                }
                flags
            }
        };
        let rules = &["ADS-05", "MB-18", "ADS-13"];
        if self.m.mb_set(&key, "AccessFlags", Value::Dword(flags), rules).is_err() {
            return self.fail(ScriptError::PATH_NOT_FOUND, format!("Error Trying To Set data on the Object: {path}"));
        }
        self.echo(line);
        0
    }

    /// `VRPath`: mdutil's name for Path.
    fn vrpath(&mut self, path: &str) -> i32 {
        let key = match self.bind(path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error Trying To Get the Object: {path}")),
        };
        if self.classless(&key) {
            return self
                .fail(ScriptError::ADS_NOT_SUPPORTED, format!("Error Trying To Set data on the Object: {path}"));
        }
        let value = self.arg(2);
        if self.m.mb_set(&key, "Path", Value::String(value.clone()), WRITE).is_err() {
            return self.fail(ScriptError::PATH_NOT_FOUND, format!("Error Trying To Set data on the Object: {path}"));
        }
        self.echo(format!("{:<PAD$}: (String) {value}", "Path (VRPath)"));
        0
    }

    /// `Authorization`: mdutil's AuthFlags as the words NT ANONYMOUS BASIC (MB-18).
    fn authorization(&mut self, path: &str) -> i32 {
        let key = match self.bind(path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error Trying To Get the Object: {path}")),
        };
        if self.classless(&key) {
            return self
                .fail(ScriptError::ADS_NOT_SUPPORTED, format!("Error Trying To Set data on the Object: {path}"));
        }
        let mut line = format!("{:<PAD$}: (Long) ", "Authorization");
        let mut flags = 0;
        let args = self.args[2..].to_vec();
        for word in args {
            let (bit, shown) = match word.to_ascii_uppercase().as_str() {
                "NT" => (4, "NT"),
                "ANONYMOUS" => (1, "Anonymous"),
                "BASIC" => (2, "Basic"),
                _ => return self.usage_error(&format!("Error: Setting not supported: {word}")),
            };
            flags |= bit;
            line.push_str(&format!(" {shown}"));
        }
        if self.m.mb_set(&key, "AuthFlags", Value::Dword(flags), &["ADS-05", "MB-18", "ADS-13"]).is_err() {
            return self.fail(ScriptError::PATH_NOT_FOUND, format!("Error Trying To Set data on the Object: {path}"));
        }
        self.echo(line);
        0
    }

    /// `MimeMapSet`: each argument `ext,type`. The IIS 5.x copy takes the type as the last
    /// (comma position - 1) characters (KB Q248364); the IIS 6 copy has the fix.
    fn mimemap_set(&mut self, path: &str) -> i32 {
        let key = match self.bind(path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error trying to get the Object: {path}")),
        };
        let mut entries = Vec::new();
        let mut line = format!("{:<PAD$}: (MimeMapList) ", "MimeMap");
        let args = self.args[2..].to_vec();
        for item in args {
            line.push_str(&format!("\"{item}\" "));
            let chars: Vec<char> = item.chars().collect();
            let Some(comma) = chars.iter().position(|c| *c == ',') else {
                // Left(s, InStr(s, ",") - 1) with no comma: Invalid procedure call.
                return self.fail(ScriptError::VB_INVALID_CALL, "Error trying to Create the Mime Map List.");
            };
            let ext: String = chars[..comma].iter().collect();
            let kind: String = if self.is_iis6() {
                chars[comma + 1..].iter().collect()
            } else {
                chars[chars.len().saturating_sub(comma)..].iter().collect()
            };
            entries.push(format!("{ext},{kind}"));
        }
        if self.classless(&key) {
            return self.fail(
                ScriptError::ADS_NOT_SUPPORTED,
                "Error Trying to set the Object's \"MimeMap\" property to the new mimemap list.",
            );
        }
        if self.m.mb_set(&key, "MimeMap", Value::MultiSz(entries), WRITE).is_err() {
            return self.fail(ScriptError::PATH_NOT_FOUND, "Error trying to Create the Mime Map List.");
        }
        self.echo(line);
        0
    }

    /// `MimeMapGet`: quits silently with 0x80005006 when the node does not set MimeMap (ADS-04).
    fn mimemap_get(&mut self, path: &str) -> i32 {
        let key = match self.bind(path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error trying to get the Object: {path}")),
        };
        if self.m.metabase().own(&key, "MimeMap").is_none() {
            self.w.cite(&["ADS-04", "ADS-12"]);
            return ScriptError::ADS_NOT_SUPPORTED.number();
        }
        let items = self.m.metabase().own_list(&key, "MimeMap");
        self.echo(mimemap_line(&items));
        0
    }

    // ----- DELETE (ADS-08) -----

    fn delete(&mut self) -> i32 {
        self.w.cite(&["ADS-02", "ADS-08"]);
        if self.args.len() != 2 {
            return self.usage_error("Error: Wrong number of Args for the DELETE command");
        }
        let raw = self.arg(1);
        let path_only = raw.ends_with('/');
        let (path, param) = split_param(&sanitize(&raw));
        let key = match self.bind(&path) {
            Ok(k) => k,
            Err(e) => {
                self.echo("");
                return self.fail(e, format!("Error deleting the object: {path}/{param}"));
            }
        };
        if !path_only {
            let prop = self.lookup(&param).filter(|p| matches!(p, Prop::KeyType) || !self.classless(&key));
            if let Some(prop) = prop {
                self.clear(&key, prop);
                self.echo(format!("deleted property \"{param}\""));
                return 0;
            }
        }
        let child = format!("{key}/{param}");
        if param.is_empty() || !self.m.metabase().exists(&child) {
            self.echo("");
            return self.fail(ScriptError::PATH_NOT_FOUND, format!("Error deleting the object: {path}/{param}"));
        }
        self.m.mb_delete_key(&child, &["ADS-08", "ADS-13"]);
        self.echo(format!("deleted path \"{path}/{param}\""));
        0
    }

    /// `PutEx ADS_PROPERTY_CLEAR` + `SetInfo`: the node's own value goes.
    fn clear(&mut self, key: &str, prop: Prop) {
        let rules = &["ADS-08", "ADS-13"];
        match prop {
            Prop::KeyType => {
                let _ = self.m.mb_set_key_type(key, "IIsConfigObject", rules);
            }
            Prop::Plain(d) => self.m.mb_remove(key, d.name, rules),
            Prop::Bit { flags, bit, .. } => {
                if let Some(n) = self.m.metabase().own(key, flags.name).and_then(Value::as_dword) {
                    let _ = self.m.mb_set(key, flags.name, Value::Dword(n & !bit), &["ADS-08", "MB-18", "ADS-13"]);
                }
            }
        }
    }

    // ----- ENUM / ENUM_ALL (ADS-06) -----

    fn enumerate(&mut self, recurse: bool) -> i32 {
        self.w.cite(&["ADS-06"]);
        let is_p = |s: &str| s.eq_ignore_ascii_case("/P");
        let (path, paths_only) = match self.args.len() {
            1 => (String::new(), false),
            2 if is_p(&self.arg(1)) => (String::new(), true),
            2 => (self.arg(1), false),
            3 if is_p(&self.arg(1)) => (self.arg(2), true),
            3 if is_p(&self.arg(2)) => (self.arg(1), true),
            3 => return self.usage_error("Error: Invalid arguments for the ENUM command"),
            _ => return self.usage_error("Error: Wrong number of Args for the ENUM command"),
        };
        self.enum_node(&path, paths_only, recurse)
    }

    /// Properties set on the node in schema order, each flag DWORD followed by its bits, then the
    /// child keys in path order as `[/<path>/<child>]`; ENUM_ALL enumerates each child after its
    /// line. Every node ends with a blank line.
    fn enum_node(&mut self, start: &str, paths_only: bool, recurse: bool) -> i32 {
        let path = sanitize(start);
        let key = match self.bind(&path) {
            Ok(k) => k,
            Err(e) => {
                self.echo("");
                return self.fail(e, format!("Error Trying To ENUM the Object (GetObject Failed): {path}"));
            }
        };
        if self.classless(&key) {
            self.echo("");
            self.echo("Warning: The OptionalProperties list for this node is empty.");
            self.echo("");
        }
        if !paths_only {
            for line in self.enum_props(&key) {
                self.echo(line);
            }
        }
        let children: Vec<String> = self
            .m
            .metabase()
            .children(&key)
            .map(|k| k.path().rsplit('/').next().unwrap_or_default().to_string())
            .collect();
        let mut result = 0;
        for c in children {
            let name = if path.is_empty() { format!("/{c}") } else { format!("/{path}/{c}") };
            self.echo(format!("[{name}]"));
            if recurse {
                result = self.enum_node(&name, paths_only, true);
            }
        }
        self.echo("");
        result
    }

    fn enum_props(&self, key: &str) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(v) = self.own(key, Prop::KeyType) {
            lines.extend(enum_lines("KeyType", Syntax::String, &v));
        }
        if self.classless(key) {
            return lines;
        }
        for d in SCHEMA.iter().filter(|d| d.name != "KeyType") {
            let Some(prop) = self.lookup(d.name) else { continue };
            let Some(v) = self.own(key, prop) else { continue };
            lines.extend(enum_lines(d.name, prop.syntax(), &v));
            if let (Kind::Flags(bits), AdsValue::Int(n)) = (d.kind, &v) {
                for (name, bit) in bits {
                    lines.extend(enum_lines(name, Syntax::Boolean, &AdsValue::Bool(n & bit != 0)));
                }
            }
        }
        lines
    }

    // ----- CREATE (ADS-07) -----

    fn create(&mut self, default_type: &str) -> i32 {
        self.w.cite(&["ADS-07"]);
        let type_name = match self.args.len() {
            2 if default_type.is_empty() => "IIsObject".to_string(),
            2 => default_type.to_string(),
            3 => self.arg(2),
            _ => {
                self.echo("Error: Wrong number of Args for the CREATE command");
                self.help();
                return GENERAL_FAILURE;
            }
        };
        let full = sanitize(&self.arg(1));
        let (parent, rel) = match full.rfind('/') {
            Some(i) => (full[..i].to_string(), full[i + 1..].to_string()),
            None => (String::new(), full.clone()),
        };
        // The parent opens, or else the computer object, which then creates the whole path.
        let parent_missing = match self.bind(&parent) {
            Ok(_) => false,
            Err(_) => match self.bind("") {
                Ok(_) => true,
                Err(e) => {
                    self.echo("");
                    return self.fail(e, format!("Error accessing the object: {full}"));
                }
            },
        };
        let key = mb_path(&full);
        let err = if rel.is_empty() {
            Some(ScriptError::BAD_PATHNAME)
        } else if self.m.metabase().exists(&key) {
            Some(ScriptError::ALREADY_EXISTS)
        } else {
            None
        };
        if let Some(e) = err {
            self.echo("");
            return self.fail(e, format!("Error creating the object: {full}"));
        }
        self.m.mb_create_key(&key, &type_name, &["ADS-07", "ADS-13"]);
        let mut code = 0;
        if parent_missing {
            self.echo("");
            self.echo(format!("WARNING: The parent path ({parent}) was not already created."));
            self.echo("    This means that some of the intermediate objects will not have an accurate");
            self.echo("    Object Type. You should fix this by setting the KeyType on the intermediate");
            self.echo("    objects.");
            self.echo("");
            code = GENERAL_WARNING;
        }
        if type_name.eq_ignore_ascii_case("IIsObject") {
            self.echo("");
            self.echo("WARNING: The Object Type of this object was not specified or was specified as");
            self.echo("    IIsObject.  This means that you will not be able to set or get properties");
            self.echo("    on the object until the KeyType property is set.");
            self.echo("");
            code = GENERAL_WARNING;
        }
        self.echo(format!("created \"{full}\""));
        code
    }

    // ----- applications (ADS-09, MB-22) -----

    /// Binds an application command's path; `Err` holds the exit code after the report.
    fn bind_app(&mut self, command: &str) -> Result<(String, String), i32> {
        if self.args.len() != 2 {
            return Err(self.usage_error(&format!("Error: Wrong number of Args for the {command} command")));
        }
        let path = sanitize(&self.arg(1));
        match self.bind(&path) {
            Ok(k) => Ok((path, k)),
            Err(e) => Err(self.fail(e, format!("Error trying to get the path of the application: {path}"))),
        }
    }

    /// The application methods exist on virtual directories and directories only.
    fn app_class(&self, key: &str) -> bool {
        let kt = self.key_type(key);
        kt.eq_ignore_ascii_case("IIsWebVirtualDir") || kt.eq_ignore_ascii_case("IIsWebDirectory")
    }

    /// `AppCreate2(mode)`: AppRoot is the key's own path, AppIsolated 0, 1 or 2 (MB-22).
    fn app_create(&mut self, mode: u32) -> i32 {
        self.w.cite(&["ADS-09", "MB-22"]);
        let (path, key) = match self.bind_app("APPCREATE") {
            Ok(p) => p,
            Err(code) => return code,
        };
        if !self.app_class(&key) {
            return self.fail(ScriptError::VB_NO_METHOD, format!("Error trying to create the application: {path}"));
        }
        let rules = &["ADS-09", "MB-22", "ADS-13"];
        let root = Value::String(mb_path(&path));
        if self.m.mb_set(&key, "AppRoot", root, rules).is_err()
            || self.m.mb_set(&key, "AppIsolated", Value::Dword(mode), rules).is_err()
        {
            return self.fail(ScriptError::PATH_NOT_FOUND, format!("Error trying to create the application: {path}"));
        }
        self.echo("Application Created.");
        0
    }

    /// `AppDelete`: the key's AppRoot, AppIsolated and AppFriendlyName go (MB-22).
    fn app_delete(&mut self) -> i32 {
        self.w.cite(&["ADS-09", "MB-22"]);
        let (path, key) = match self.bind_app("APPDELETE") {
            Ok(p) => p,
            Err(code) => return code,
        };
        if !self.app_class(&key) {
            return self.fail(ScriptError::VB_NO_METHOD, format!("Error trying to DELETE the application: {path}"));
        }
        for prop in ["AppRoot", "AppIsolated", "AppFriendlyName"] {
            self.m.mb_remove(&key, prop, &["ADS-09", "MB-22", "ADS-13"]);
        }
        self.echo("Application Deleted.");
        0
    }

    /// APPUNLOAD, APPDISABLE, APPENABLE, APPGETSTATUS: process-model requests on an application.
    fn app_process(&mut self, command: &str, verb: &str, action: ProcessAction) -> i32 {
        self.w.cite(&["ADS-09"]);
        let (path, key) = match self.bind_app(command) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let what = if action == ProcessAction::AppGetStatus { "STATUS" } else { "" };
        let failure = if what.is_empty() {
            format!("Error trying to {verb} the application: {path}")
        } else {
            format!("Error trying to {verb} the application {what}: {path}")
        };
        if !self.app_class(&key) {
            return self.fail(ScriptError::VB_NO_METHOD, failure);
        }
        let success = match action {
            ProcessAction::AppUnload => "Application Unloaded.",
            ProcessAction::AppDisable => "Application Disabled.",
            ProcessAction::AppEnable => "Application Enabled.",
            _ => "Application Status: ",
        };
        let req = ProcessRequest { action, mb_path: key, success: success.into(), failure };
        process_request(self.m, self.world, self.w, &req)
    }

    // ----- sites (ADS-10) -----

    fn server_command(&mut self, command: &str, action: ProcessAction) -> i32 {
        self.w.cite(&["ADS-10"]);
        if self.args.len() != 2 {
            return self.usage_error(&format!("Error: Wrong number of Args for the {command} command"));
        }
        let path = sanitize(&self.arg(1));
        let key = match self.bind(&path) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error trying to open the object: {path}")),
        };
        let (verb, word) = match action {
            ProcessAction::StartSite => ("START", "STARTED"),
            ProcessAction::StopSite => ("STOP", "STOPPED"),
            ProcessAction::PauseSite => ("PAUSE", "PAUSED"),
            _ => ("CONTINUE", "CONTINUED"),
        };
        let failure = format!("Error trying to {verb} the server: {path}");
        if !self.key_type(&key).eq_ignore_ascii_case("IIsWebServer") {
            return self.fail(ScriptError::VB_NO_METHOD, failure);
        }
        let req =
            ProcessRequest { action, mb_path: key, success: format!("Server {path} Successfully {word}"), failure };
        process_request(self.m, self.world, self.w, &req)
    }

    // ----- FIND, COPY, MOVE (ADS-11) -----

    fn find(&mut self) -> i32 {
        self.w.cite(&["ADS-11"]);
        if self.args.len() != 2 {
            return self.usage_error("Error: Wrong number of Args for the FIND_DATA command");
        }
        let (path, param) = split_param(&sanitize(&self.arg(1)));
        let param = self.map_get_name(param);
        let key = match self.bind(&path) {
            Ok(k) => k,
            Err(e) => {
                return self
                    .fail(e, format!("Error trying to find data paths for the Object (GetObject Failed): {path}"))
            }
        };
        let Some(prop) = self.lookup(&param) else {
            return self.fail(
                ScriptError::ADS_NOT_SUPPORTED,
                format!("Error trying to get a path list (GetDataPaths Failed): {path}"),
            );
        };
        let found: Vec<String> = self
            .m
            .metabase()
            .subtree(&key)
            .map(|k| k.path().to_string())
            .filter(|p| self.own(p, prop).is_some())
            .collect();
        if found.is_empty() {
            self.echo(format!("Property {param} was not found at any node beneath {path}"));
            return 0;
        }
        self.echo(format!("Property {param} found at:"));
        for p in found {
            // The ADsPath `IIS://<server>/W3SVC/1` less its scheme and server; the computer
            // object's path has no slash left to cut at, so the server name stays.
            let rest = p.get(3..).unwrap_or_default().trim_start_matches('/');
            let shown = if rest.is_empty() { self.server.clone() } else { rest.to_string() };
            self.echo(format!("  {shown}"));
        }
        0
    }

    /// `CopyHere` / `MoveHere` on the deepest common parent of the two paths.
    fn copy_move(&mut self, copy: bool) -> i32 {
        self.w.cite(&["ADS-11"]);
        if self.args.len() != 3 {
            return self.usage_error("Error: Wrong number of Args for the Copy/Move command");
        }
        let (mut src, mut dst) = (sanitize(&self.arg(1)), sanitize(&self.arg(2)));
        let mut parent = format!("IIS://{}", self.server);
        let mut rel = String::new();
        loop {
            let (ls, rs) = split_left(&src);
            let (ld, rd) = split_left(&dst);
            if rs.is_empty() || rd.is_empty() || ls != ld {
                src = sanitize(&format!("{ls}/{rs}"));
                dst = sanitize(&format!("{ld}/{rd}"));
                break;
            }
            parent.push_str(&format!("/{ls}"));
            rel.push_str(&format!("/{ls}"));
            src = rs;
            dst = rd;
        }
        let base = match self.bind(rel.trim_start_matches('/')) {
            Ok(k) => k,
            Err(e) => return self.fail(e, format!("Error trying to open the object: {parent}")),
        };
        let (from, to) = (format!("{base}/{src}"), format!("{base}/{dst}"));
        let err = if !self.m.metabase().exists(&from) {
            Some(ScriptError::PATH_NOT_FOUND)
        } else if self.m.metabase().exists(&to) {
            Some(ScriptError::ALREADY_EXISTS)
        } else if !copy && to.to_ascii_lowercase().starts_with(&format!("{}/", from.to_ascii_lowercase())) {
            Some(ScriptError::INVALID_ARG)
        } else {
            None
        };
        if let Some(e) = err {
            return self.fail(e, "Error trying to Copy/Move Source to Dest.");
        }
        let from_len = self.m.metabase().key(&from).map(|k| k.path().len()).unwrap_or(from.len());
        let snapshot: Vec<KeySnapshot> = self
            .m
            .metabase()
            .subtree(&from)
            .map(|k| {
                let props = k.props().map(|(n, v)| (n.to_string(), v.clone())).collect();
                (format!("{to}{}", k.path().get(from_len..).unwrap_or_default()), k.key_type().to_string(), props)
            })
            .collect();
        let rules = &["ADS-11", "ADS-13"];
        for (path, key_type, props) in snapshot {
            self.m.mb_create_key(&path, &key_type, rules);
            for (name, value) in props {
                let _ = self.m.mb_set(&path, &name, value, rules);
            }
        }
        if !copy {
            self.m.mb_delete_key(&from, rules);
        }
        let verb = if copy { "copied" } else { "moved" };
        self.echo(format!("{verb} from {rel}/{src} to {rel}/{dst}"));
        0
    }

    // ----- help (ADS-11) -----

    /// The first line of the description: the IIS 5.x copy still calls IIS by its IIS 4 code name.
    fn description(&self, extended: bool) -> &'static str {
        if self.is_iis6() && !extended {
            "IIS administration utility that enables the configuration of metabase properties."
        } else if self.is_iis6() {
            "IIS administration utility that enables the manipulation with ADSI parameters"
        } else {
            "IIS K2 administration utility that enables the manipulation with ADSI parameters"
        }
    }

    /// `DisplayHelpMessage`: no command given.
    fn help(&mut self) {
        let description = self.description(false);
        for line in [
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
        ] {
            self.echo(line);
        }
        self.samples();
        for line in ["", "For Extended Help type:", "  adsutil.vbs HELP"] {
            self.echo(line);
        }
    }

    fn samples(&mut self) {
        for line in [
            "Samples:",
            "  adsutil.vbs GET W3SVC/1/ServerBindings",
            "  adsutil.vbs SET W3SVC/1/ServerBindings \":81:\"",
            "  adsutil.vbs CREATE W3SVC/1/Root/MyVdir \"IIsWebVirtualDir\"",
            "  adsutil.vbs START_SERVER W3SVC/1",
            "  adsutil.vbs ENUM /P W3SVC",
        ] {
            self.echo(line);
        }
    }

    fn extended_commands(&mut self) {
        for line in [
            "Extended ADSUTIL Commands:",
            " adsutil.vbs FIND             path     - find the paths where a given parameter is set",
            " adsutil.vbs CREATE_VDIR      path     - create given path as a Virtual Directory",
            " adsutil.vbs CREATE_VSERV     path     - create given path as a Virtual Server",
            " adsutil.vbs START_SERVER     path     - starts the given web site",
            " adsutil.vbs STOP_SERVER      path     - stops the given web site",
            " adsutil.vbs PAUSE_SERVER     path     - pauses the given web site",
            " adsutil.vbs CONTINUE_SERVER  path     - continues the given web site",
            "",
            "",
        ] {
            self.echo(line);
        }
    }

    /// `DisplayHelpMessageEx` (`HELP`), whose extended list and samples print twice.
    fn help_ex(&mut self) {
        self.w.cite(&["ADS-11"]);
        let description = self.description(true);
        for line in [
            "",
            "Usage:",
            "      ADSUTIL.VBS CMD [param param]",
            "",
            "Description:",
            description,
            "",
            "Standard Commands:",
            " adsutil.vbs GET      path             - display chosen parameter",
            " adsutil.vbs SET      path value ...   - assign the new value",
            " adsutil.vbs ENUM     path [\"/P\" ]   - enumerate all parameters for given path",
            " adsutil.vbs DELETE   path             - delete given path or parameter",
            " adsutil.vbs CREATE   path [KeyType]   - create given path and assigns it the given KeyType",
            "",
            " adsutil.vbs APPCREATEINPROC  w3svc/1/root - Create an in-proc application",
            " adsutil.vbs APPCREATEOUTPROC w3svc/1/root - Create an out-proc application",
            " adsutil.vbs APPCREATEPOOLPROC w3svc/1/root- Create a pooled-proc application",
            " adsutil.vbs APPDELETE        w3svc/1/root - Delete the application if there is one",
            " adsutil.vbs APPUNLOAD        w3svc/1/root - Unload an application from w3svc runtime lookup table.",
            " adsutil.vbs APPDISABLE       w3svc/1/root - Disable an application - appropriate for porting to another machine.",
            " adsutil.vbs APPENABLE        w3svc/1/root - Enable an application - appropriate for importing from another machine.",
            " adsutil.vbs APPGETSTATUS     w3svc/1/root - Get status of the application",
            "",
            "New ADSI Options:",
            " /P - Valid for ENUM only.  Enumerates the paths only (no data)",
            " KeyType - Valide for CREATE only.  Assigns the valid KeyType to the path",
            "",
        ] {
            self.echo(line);
        }
        self.extended_commands();
        self.samples();
        self.extended_commands();
        self.samples();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_table() {
        // (argument, path, property) per ADS-02
        let cases = [
            ("W3SVC/1/ROOT/AccessFlags", "W3SVC/1/ROOT", "AccessFlags"),
            ("  /w3svc\\1\\root\\Path/ ", "w3svc/1/root", "Path"),
            ("W3SVC", "", "W3SVC"),
            ("//W3SVC//", "", "/W3SVC/"),
            ("", "", ""),
        ];
        for (arg, path, prop) in cases {
            assert_eq!(split_param(&sanitize(arg)), (path.to_string(), prop.to_string()), "{arg:?}");
        }
    }

    #[test]
    fn number_table() {
        let cases: [(&str, Result<u32, ScriptError>); 9] = [
            ("513", Ok(513)),
            ("0x201", Ok(513)),
            ("0XFFFFFFFF", Ok(u32::MAX)),
            ("4294967295", Ok(u32::MAX)),
            ("-1", Ok(u32::MAX)),
            ("2.5", Ok(2)),
            ("4294967296", Err(ScriptError::VB_OVERFLOW)),
            ("0x1FFFFFFFF", Err(ScriptError::VB_OVERFLOW)),
            ("abc", Err(ScriptError::VB_TYPE_MISMATCH)),
        ];
        for (text, want) in cases {
            assert_eq!(unsigned(text), want, "{text}");
        }
        assert_eq!(clng("3000000000"), Err(ScriptError::VB_OVERFLOW));
        assert_eq!(cbool("TRUE"), Ok(true));
        assert_eq!(cbool("0"), Ok(false));
        assert_eq!(cbool("yes"), Err(ScriptError::VB_TYPE_MISMATCH));
    }

    #[test]
    fn long_names_show_the_type_name() {
        let long = "A".repeat(32);
        assert_eq!(head("Path", Syntax::String), format!("Path{}: (STRING) ", " ".repeat(28)));
        assert_eq!(head(&long, Syntax::Integer), format!("{long}: (Long) "));
        assert_eq!(enum_lines(&long, Syntax::String, &AdsValue::Text("x".into())), [format!("{long} : (STRING)\"x\"")]);
        assert_eq!(
            enum_lines(&long, Syntax::List, &AdsValue::List(vec![])),
            [format!("{long} : (LIST) (0 Items)"), String::new()]
        );
    }
}
