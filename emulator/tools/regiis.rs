//! `aspnet_regiis.exe`: argument parsing, output and exit codes of each runtime's tool (REG-).

use super::{Context, Output};
use crate::machine::{IisState, Machine};
use crate::policy;
use crate::process::World;
use crate::registration::{self, ListStatus, Pass, RegError};
use crate::rules::RuleId;
use crate::runtime::{Bitness, Version};

/// How an option fits into a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Does something; exactly one per command line.
    Action,
    /// Changes an action (`-enable`, `-norestart`).
    Modifier,
    /// Qualifies a 2.0 management action (`-app`, `-prov`...).
    Sub,
}

/// One switch: name, role, how many arguments it takes, and the first version that has it.
struct Spec {
    name: &'static str,
    role: Role,
    args: usize,
    since: Version,
}

const fn spec(name: &'static str, role: Role, args: usize, since: Version) -> Spec {
    Spec { name, role, args, since }
}

use Role::{Action, Modifier, Sub};
use Version::{V1_0, V1_1, V2_0};

/// Every switch the tools know (REG-02..REG-18).
static SPECS: &[Spec] = &[
    spec("i", Action, 0, V1_0),
    spec("ir", Action, 0, V1_0),
    spec("iru", Action, 0, V2_0),
    spec("r", Action, 0, V1_0),
    spec("s", Action, 1, V1_0),
    spec("sn", Action, 1, V1_0),
    spec("k", Action, 1, V1_0),
    spec("kn", Action, 1, V1_0),
    spec("u", Action, 0, V1_0),
    spec("ua", Action, 0, V1_0),
    spec("lv", Action, 0, V1_0),
    spec("lk", Action, 0, V1_0),
    spec("c", Action, 0, V1_0),
    spec("e", Action, 0, V1_0),
    spec("ea", Action, 0, V1_0),
    spec("ga", Action, 1, V2_0),
    spec("pe", Action, 1, V2_0),
    spec("pd", Action, 1, V2_0),
    spec("pef", Action, 2, V2_0),
    spec("pdf", Action, 2, V2_0),
    spec("pc", Action, 1, V2_0),
    spec("pz", Action, 1, V2_0),
    spec("pi", Action, 2, V2_0),
    spec("px", Action, 2, V2_0),
    spec("pa", Action, 2, V2_0),
    spec("pr", Action, 2, V2_0),
    spec("config+", Action, 0, V2_0),
    spec("config-", Action, 0, V2_0),
    spec("enable", Modifier, 0, V1_1),
    spec("disable", Modifier, 0, V1_1),
    spec("norestart", Modifier, 0, V2_0),
    spec("app", Sub, 1, V2_0),
    spec("site", Sub, 1, V2_0),
    spec("location", Sub, 1, V2_0),
    spec("prov", Sub, 1, V2_0),
    spec("pkm", Sub, 0, V2_0),
    spec("exp", Sub, 0, V2_0),
    spec("pri", Sub, 0, V2_0),
];

/// A parsed command line: the action with its arguments, modifiers, sub-options.
#[derive(Debug, Default)]
struct Parsed {
    action: Option<(&'static str, Vec<String>)>,
    enable: Option<bool>,
    norestart: bool,
    subs: Vec<(&'static str, Vec<String>)>,
}

impl Parsed {
    fn sub(&self, name: &str) -> Option<&[String]> {
        self.subs.iter().find(|(n, _)| *n == name).map(|(_, a)| a.as_slice())
    }
}

/// Why a command line was refused before doing anything (REG-02).
enum ParseError {
    Usage,
    Invalid,
    Incompatible,
    Repeated(String),
}

/// Whether the tool of version `v` has switch `s` (REG-02, policies v10_options, enable_in_v11).
fn available(m: &Machine, v: Version, s: &Spec) -> bool {
    if v < s.since {
        return false;
    }
    if matches!(s.name, "enable" | "disable") {
        if v == V1_1 && !m.policies().flag(policy::ENABLE_IN_V11) {
            return false;
        }
        if v == V1_0 && m.policies().is(policy::V10_OPTIONS, "same_as_v11") {
            return m.policies().flag(policy::ENABLE_IN_V11);
        }
    }
    true
}

fn parse(m: &Machine, v: Version, args: &[String]) -> Result<Parsed, ParseError> {
    if args.is_empty() {
        return Err(ParseError::Usage);
    }
    let mut p = Parsed::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let raw = &args[i];
        let Some(name) = raw.strip_prefix(['-', '/']) else {
            return Err(ParseError::Invalid);
        };
        let lname = name.to_ascii_lowercase();
        if lname == "?" || lname == "h" || lname == "help" {
            return Err(ParseError::Usage);
        }
        let spec = SPECS.iter().find(|s| s.name == lname).filter(|s| available(m, v, s)).ok_or(ParseError::Invalid)?;
        if seen.contains(&spec.name) {
            // 1.x tools let a repeated switch through; 2.0 and later refuse it (REG-02).
            if v.is_20_or_later() {
                return Err(ParseError::Repeated(raw.clone()));
            }
        }
        seen.push(spec.name);
        let values: Vec<String> = args.get(i + 1..i + 1 + spec.args).map(<[String]>::to_vec).unwrap_or_default();
        if values.len() < spec.args || values.iter().any(|a| a.starts_with('-')) {
            return Err(ParseError::Invalid);
        }
        i += 1 + spec.args;
        match spec.role {
            Action => {
                if p.action.is_some() {
                    return Err(ParseError::Incompatible);
                }
                p.action = Some((spec.name, values));
            }
            Modifier => match spec.name {
                "enable" | "disable" => {
                    let want = spec.name == "enable";
                    if p.enable.is_some_and(|e| e != want) {
                        return Err(ParseError::Incompatible);
                    }
                    p.enable = Some(want);
                }
                _ => p.norestart = true,
            },
            Sub => p.subs.push((spec.name, values)),
        }
    }
    let Some((action, _)) = &p.action else {
        // -enable/-disable need an action to go with (REG-17); -norestart alone is not a command.
        return Err(if p.enable.is_some() { ParseError::Incompatible } else { ParseError::Invalid });
    };
    // -enable/-disable go only with -i, -ir or -r (REG-17).
    if p.enable.is_some() && !matches!(*action, "i" | "ir" | "r") {
        return Err(ParseError::Incompatible);
    }
    let subs_ok = |allowed: &[&str]| p.subs.iter().all(|(n, _)| allowed.contains(n));
    let fits = match *action {
        "pe" | "pd" => subs_ok(&["app", "site", "location", "prov", "pkm"]),
        "pef" => subs_ok(&["prov"]),
        "pc" => subs_ok(&["exp"]),
        "px" => subs_ok(&["pri"]),
        _ => p.subs.is_empty(),
    };
    if !fits {
        return Err(ParseError::Incompatible);
    }
    Ok(p)
}

/// Turns a tool path argument into a metabase path: `\` to `/`, `/LM/` prefix (REG-09).
fn tool_path_to_metabase(arg: &str) -> String {
    let trimmed = arg.trim().replace('\\', "/");
    let inner = trimmed.trim_matches('/');
    format!("/LM/{inner}")
}

/// The form the tool prints a path in: no `/LM/`, trailing `/` (REG-09, REG-14).
fn display_path(mb_path: &str) -> String {
    let p = mb_path.trim_end_matches('/');
    let p = p.strip_prefix("/LM/").or_else(|| p.strip_prefix("/lm/")).unwrap_or(p);
    format!("{p}/")
}

/// The version as progress lines print it (REG-19, policy regiis.progress_version).
fn progress_version(m: &Machine, v: Version) -> String {
    if v == Version::V4_0 && m.policies().is(policy::PROGRESS_VERSION, "v4_full_build") {
        m.file_version(v).to_string()
    } else {
        v.short().to_string()
    }
}

/// The 4.0 tool's three-line banner (REG-21, policy regiis.banner).
fn banner(m: &Machine, v: Version, out: &mut Output) {
    if v == Version::V4_0 && m.policies().is(policy::BANNER, "v4_only") {
        out.line(format!("Microsoft (R) ASP.NET RegIIS version {}", m.file_version(v)));
        out.line("Administration utility to install and uninstall ASP.NET on the local machine.");
        out.line("Copyright (C) Microsoft Corporation.  All rights reserved.");
    }
}

/// Width of the help text: a console of 80 columns less the last one.
const HELP_WIDTH: usize = 79;
/// Column where an option's description starts.
const HELP_COLUMN: usize = 26;

/// Wraps `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("never empty");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// The usage text (REG-21); option descriptions are iisim's own words. 2.0 and 4.0 lay it out
/// as public dumps of the 4.x tool show: section titles centred, the option in a column, its
/// description after `- ` wrapped under itself, a blank line between options. 1.x prints the
/// options one a line without titles (no public dump of the 1.x layout is known).
fn usage(m: &Machine, v: Version, out: &mut Output) {
    let has = |name: &str| name == "?" || SPECS.iter().any(|s| s.name == name && available(m, v, s));
    if v.is_20_or_later() {
        out.line(format!(
            "Administration utility ({}) to install and uninstall ASP.NET on the local machine.",
            progress_version(m, v)
        ));
    } else {
        out.line("Administration utility to install and uninstall ASP.NET on the local machine.");
    }
    out.line("");
    out.line("Usage:");
    let enable = if has("enable") { " [-enable]" } else { "" };
    out.line(format!(
        "    aspnet_regiis [-i[r]{enable} | -u[a] | -r | -s[n] <path> | -k[n] <path> | -lv | -lk | -c | -e[a] | -?]"
    ));
    let titled = v.is_20_or_later();
    let mut group = |heading: &str, rows: &[(&str, &str)]| {
        let rows: Vec<&(&str, &str)> =
            rows.iter().filter(|(n, _)| has(n.split(' ').next().unwrap_or_default())).collect();
        if rows.is_empty() {
            return;
        }
        out.line("");
        if titled {
            let title = format!("-- {heading} --");
            out.line(format!("{:>w$}", title, w = (HELP_WIDTH + title.len()) / 2));
            out.line("");
        }
        for (i, (name, text)) in rows.iter().enumerate() {
            if !titled {
                out.line(format!("-{name:<26}{text}"));
                continue;
            }
            if i > 0 {
                out.line("");
            }
            let option = format!("-{name}");
            let body = wrap(text, HELP_WIDTH - HELP_COLUMN - 2);
            // An option longer than its column gets its description on the next line.
            let mut first = if option.len() < HELP_COLUMN {
                Some(format!("{option:<HELP_COLUMN$}"))
            } else {
                out.line(option);
                None
            };
            for (j, line) in body.iter().enumerate() {
                let lead = first.take().unwrap_or_else(|| " ".repeat(HELP_COLUMN));
                let dash = if j == 0 { "- " } else { "  " };
                out.line(format!("{lead}{dash}{line}"));
            }
        }
    };
    group(
        "ASP.NET REGISTRATION OPTIONS",
        &[
            ("i", "Register this version and upgrade every script map that uses a lower version."),
            ("ir", "Register this version without changing any script map."),
            ("iru", "Register this version; map it only when no application uses ASP.NET yet."),
            ("enable", "With -i, -ir or -r: allow this version's Web Service Extension (IIS 6)."),
            ("disable", "With -i, -ir or -r: prohibit this version's Web Service Extension (IIS 6)."),
            ("s <path>", "Map this version at the path and at every key below it."),
            ("sn <path>", "Map this version at the path only."),
            ("r", "Register this version and point every ASP.NET script map at it."),
            ("u", "Unregister this version; its applications move to the highest version left."),
            ("ua", "Unregister every version of ASP.NET."),
            ("k <path>", "Remove every ASP.NET script map at the path and below it."),
            ("kn <path>", "Remove every ASP.NET script map at the path only."),
            ("lv", "List the registered versions, their status and ISAPI paths."),
            ("lk", "List the metabase keys that map ASP.NET, with their versions."),
            ("norestart", "Do not restart the web service after changing script maps."),
        ],
    );
    group(
        "CLIENT-SIDE SCRIPTS OPTIONS",
        &[
            ("c", "Install this version's client scripts in every site."),
            ("e", "Remove this version's client scripts from every site."),
            ("ea", "Remove the client scripts of every version from every site."),
        ],
    );
    group(
        "CONFIGURATION ENCRYPTION OPTIONS",
        &[
            ("pe <section>", "Encrypt a configuration section (-app, -site, -location, -prov, -pkm)."),
            ("pd <section>", "Decrypt a configuration section (-app, -site, -location, -pkm)."),
            ("pef <section> <dir>", "Encrypt a section of the web.config in a folder."),
            ("pdf <section> <dir>", "Decrypt a section of the web.config in a folder."),
            ("pc <container>", "Create an RSA key container (-exp: exportable)."),
            ("pz <container>", "Delete an RSA key container."),
            ("pi <container> <file>", "Import an RSA key container from a file."),
            ("px <container> <file>", "Export an RSA key container to a file (-pri: with private key)."),
            ("pa <container> <account>", "Grant an account access to a key container."),
            ("pr <container> <account>", "Revoke an account's access to a key container."),
        ],
    );
    group(
        "REMOTE CONFIGURATION OPTIONS",
        &[
            ("config+", "Let administrators on other computers read and edit this machine's ASP.NET configuration."),
            ("config-", "Stop other computers from reaching this machine's ASP.NET configuration."),
        ],
    );
    group(
        "OTHER OPTIONS",
        &[("ga <user>", "Grant a user access to the metabase and ASP.NET's folders."), ("?", "Print this help text.")],
    );
}

/// Prints the start line, the dots and the finish line of an action (REG-19): one dot per unit
/// of work the action did (a real tool prints dots as time passes; work stands in for time).
fn progress(out: &mut Output, start: &str, work: usize) {
    out.line(format!("Start {start}"));
    out.line(".".repeat(work.max(1)));
    out.line(format!("Finished {start}"));
}

/// The error block of REG-20: `An error has occurred: <hresult> <text>` and the hint line.
fn error(out: &mut Output, hresult: &str, text: &str, hint: Option<&str>) {
    out.line(format!("An error has occurred: {hresult} {text}"));
    if let Some(h) = hint {
        out.line(h);
    }
    out.exit = 1;
}

fn iis_error(out: &mut Output, state: IisState) {
    match state {
        IisState::Absent => error(
            out,
            "0x80040154",
            "Class not registered",
            Some("The error indicates that IIS is not installed on the machine. Please install IIS before using this tool."),
        ),
        _ => error(
            out,
            "0x80070422",
            "The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.",
            Some("The error indicates that IIS is disabled on the machine. Please enable IIS before using this tool."),
        ),
    }
}

/// Runs the tool of runtime `v` with `args` (REG-01: each tool acts for its own runtime only).
pub fn run(m: &mut Machine, world: &mut World, v: Version, bitness: Bitness, args: &[String], ctx: Context) -> Output {
    let mut rules: Vec<RuleId> = vec!["REG-01"];
    let out = run_inner(m, world, v, bitness, args, ctx, &mut rules);
    let mut seen = Vec::new();
    rules.retain(|r| {
        let first = !seen.contains(r);
        seen.push(*r);
        first
    });
    let shown = if args.is_empty() { String::new() } else { format!(" {}", args.join(" ")) };
    m.note(format!("aspnet_regiis.exe of ASP.NET {v}{shown}: exit {}", out.exit), &rules);
    out
}

fn run_inner(
    m: &mut Machine,
    world: &mut World,
    v: Version,
    bitness: Bitness,
    args: &[String],
    ctx: Context,
    rules: &mut Vec<RuleId>,
) -> Output {
    let mut out = Output::default();
    banner(m, v, &mut out);
    if !out.lines.is_empty() {
        rules.extend(["REG-21", "VER-08"]);
    }
    let parsed = match parse(m, v, args) {
        Ok(p) => p,
        Err(ParseError::Usage) => {
            rules.extend(["REG-02", "REG-21"]);
            usage(m, v, &mut out);
            return out;
        }
        Err(ParseError::Invalid) => {
            rules.extend(["REG-02", "REG-21"]);
            out.line("Invalid arguments.");
            out.line("");
            usage(m, v, &mut out);
            out.exit = 1;
            return out;
        }
        Err(ParseError::Incompatible) => {
            rules.push("REG-02");
            if args.iter().any(|a| a.to_ascii_lowercase().ends_with("able")) {
                rules.push("REG-17");
            }
            out.line("Some options specified are not compatible. Use aspnet_regiis /? to see all options.");
            out.exit = 1;
            return out;
        }
        Err(ParseError::Repeated(opt)) => {
            rules.push("REG-02");
            out.line(format!("Cannot specify the same option ({opt}) multiple times."));
            out.exit = 1;
            return out;
        }
    };
    let (action, values) = parsed.action.clone().expect("parse guarantees an action");
    // On x64 only the tool whose bitness matches IIS's mode may run (REG-01).
    if m.is_x64() && bitness != m.iis_bitness() {
        rules.extend(["REG-20", "PM6-08"]);
        let (tool, iis) = if bitness == Bitness::X64 { ("64-bit", "32-bit") } else { ("32-bit", "64-bit") };
        error(
            &mut out,
            "0x8007000b",
            "An attempt was made to load a program with an incorrect format.",
            Some(&format!(
                "The error indicates that IIS is in {iis} mode, while this tool is a {tool} application. Run the aspnet_regiis.exe that matches IIS's mode (Enable32BitAppOnWin64)."
            )),
        );
        return out;
    }
    if !ctx.admin {
        rules.push("REG-20");
        error(
            &mut out,
            "0x80070005",
            "Access is denied.",
            Some("You must have administrative rights on this machine in order to run this tool."),
        );
        return out;
    }
    let pv = progress_version(m, v);
    if !matches!(action, "lv" | "lk" | "config+" | "config-") && !action.starts_with('p') {
        rules.push("REG-19");
        if v == Version::V4_0 {
            rules.push("VER-08");
        }
    }
    let restart = |m: &mut Machine, world: &mut World, p: &Parsed| {
        if p.norestart {
            m.note("-norestart: W3SVC keeps running", &["REG-16"]);
        } else {
            registration::restart_w3svc(m, world, v);
        }
    };
    match action {
        "i" | "ir" | "iru" | "r" => {
            let pass = match action {
                "i" => Pass::Install,
                "ir" => Pass::RegisterOnly,
                "iru" => Pass::InstallUnlessUsed,
                _ => Pass::ReplaceAll,
            };
            let done = registration::register(m, world, v, pass, parsed.enable);
            let start = match (action, done.pass) {
                ("r", _) => format!("installing ASP.NET ({pv}) and replacing ASP.NET DLL in all Scriptmaps with current version."),
                (_, Pass::RegisterOnly) if v == Version::V4_0 => format!(
                    "installing ASP.NET ({pv}) without changing existing web applications to use this version of ASP.Net."
                ),
                (_, Pass::RegisterOnly) => format!("installing ASP.NET ({pv}) without registering the scriptmap."),
                _ => format!("installing ASP.NET ({pv})."),
            };
            progress(&mut out, &start, done.work);
            restart(m, world, &parsed);
        }
        "s" | "sn" | "k" | "kn" => {
            let recursive = action.len() == 1;
            let mb_path = tool_path_to_metabase(&values[0]);
            let shown = display_path(&mb_path);
            let start = match (action, recursive) {
                ("s" | "sn", true) => format!("registering ASP.NET scriptmap ({pv}) recursively at {shown}."),
                ("s" | "sn", false) => format!("registering ASP.NET scriptmap ({pv}) at {shown}."),
                (_, true) => format!("removing any version of ASP.NET DLL recursively at {shown}."),
                (_, false) => format!("removing any version of ASP.NET DLL at {shown}."),
            };
            let result = if action.starts_with('s') {
                registration::install_maps(m, v, &mb_path, recursive)
            } else {
                registration::strip_maps(m, &mb_path, recursive)
            };
            match result {
                Ok(keys) => {
                    progress(&mut out, &start, keys);
                    restart(m, world, &parsed);
                }
                Err(RegError::IisAbsent) => {
                    rules.push("REG-20");
                    iis_error(&mut out, IisState::Absent)
                }
                Err(RegError::IisDisabled) => {
                    rules.push("REG-20");
                    iis_error(&mut out, IisState::Disabled)
                }
                Err(RegError::NotRegistered) => {
                    rules.push("REG-09");
                    out.line(format!("Start {start}"));
                    out.line(
                        "The error indicates that this version of ASP.NET must first be registered on the machine.",
                    );
                    out.exit = 1;
                }
                Err(RegError::InvalidPath(_)) => {
                    rules.push("REG-09");
                    out.line(format!("Start {start}"));
                    out.line(format!("Installation stopped because the specified path ({shown}) is invalid."));
                    out.exit = 1;
                }
            }
        }
        "u" => {
            let keys = registration::unregister(m, world, v);
            progress(&mut out, &format!("uninstalling ASP.NET ({pv})."), keys);
            restart(m, world, &parsed);
        }
        "ua" => {
            let keys = registration::unregister_all(m, world);
            progress(&mut out, "uninstalling all versions of ASP.NET.", keys);
            restart(m, world, &parsed);
        }
        "lv" => {
            rules.push("REG-13");
            list_versions(m, &mut out)
        }
        "lk" => {
            rules.extend(["REG-14", "MAP-05"]);
            if m.iis() != IisState::Installed {
                rules.push("REG-20");
                iis_error(&mut out, m.iis());
            } else {
                list_keys(m, &mut out, rules);
            }
        }
        "c" | "e" | "ea" => {
            rules.push("REG-15");
            if m.iis() != IisState::Installed {
                rules.push("REG-20");
                iis_error(&mut out, m.iis());
                return out;
            }
            let mark = m.effect_mark();
            let start = match action {
                "c" => {
                    registration::install_client_scripts(m, v);
                    format!("copying the ASP.NET client script files for this version ({pv}).")
                }
                "e" => {
                    registration::remove_client_scripts(m, Some(v), &["REG-15"]);
                    format!("removing the ASP.NET client script files for this version ({pv}).")
                }
                _ => {
                    registration::remove_client_scripts(m, None, &["REG-15"]);
                    "removing the ASP.NET client script files for all versions.".to_string()
                }
            };
            let n = registration::work_since(m, mark);
            progress(&mut out, &start, n);
        }
        _ => {
            rules.push("REG-18");
            management(m, action, &values, &parsed, &mut out)
        }
    }
    out
}

/// `-lv` (REG-13).
fn list_versions(m: &Machine, out: &mut Output) {
    let rows = registration::list_versions(m);
    if rows.is_empty() {
        out.line("Cannot find any installed version.");
        return;
    }
    let tabs = m.policies().is(policy::LIST_LAYOUT, "tabs");
    for (v, status, dll) in rows {
        let status = match status {
            ListStatus::ValidRoot => "Valid (Root)",
            ListStatus::Valid => "Valid",
            ListStatus::Invalid => "Invalid",
        };
        if tabs {
            let pad = if status.ends_with(')') { "" } else { "\t" };
            out.line(format!("{}\t{status}\t{pad}{dll}", v.registry()));
        } else {
            out.line(format!("{:<14}{status:<15}{dll}", v.registry()));
        }
    }
}

/// `-lk` (REG-14); a DLL path written with `%windir%` is expanded to find it (MB-12).
fn list_keys(m: &Machine, out: &mut Output, rules: &mut Vec<RuleId>) {
    let tabs = m.policies().is(policy::LIST_LAYOUT, "tabs");
    let keys = registration::list_keys(m);
    let uses_variables = keys.iter().any(|(p, _)| {
        m.metabase()
            .own(p, "ScriptMaps")
            .and_then(crate::metabase::Value::as_multi)
            .is_some_and(|l| l.iter().any(|e| e.contains('%')))
    });
    if uses_variables {
        rules.push("MB-12");
    }
    for (path, v) in keys {
        let shown = display_path(&path);
        let ver = v.map(|v| v.registry()).unwrap_or("0.0.0.0");
        if tabs {
            out.line(format!("{shown}\t{ver}"));
        } else {
            out.line(format!("{shown:<40}{ver}"));
        }
    }
}

/// The 2.0+ management switches: recorded, never touching maps (REG-18).
fn management(m: &mut Machine, action: &str, values: &[String], p: &Parsed, out: &mut Output) {
    let first = values.first().cloned().unwrap_or_default();
    let second = values.get(1).cloned().unwrap_or_default();
    match action {
        "ga" => {
            let text = format!("granting {first} access to the IIS metabase and other directories used by ASP.NET.");
            out.line(format!("Start {text}"));
            registration::record_management(
                m,
                &format!("granted:{first}"),
                Some("metabase and ASP.NET folders".into()),
            );
            out.line(format!("Finished {text}"));
        }
        "pe" | "pd" | "pef" | "pdf" => {
            let encrypt = action.starts_with("pe");
            out.line(if encrypt {
                "Encrypting configuration section..."
            } else {
                "Decrypting configuration section..."
            });
            let scope = if action.ends_with('f') {
                second.clone()
            } else {
                let site = p.sub("site").and_then(|a| a.first()).cloned().unwrap_or_else(|| "1".into());
                let app = p.sub("app").and_then(|a| a.first()).cloned().unwrap_or_else(|| "/".into());
                let mb = format!("/LM/W3SVC/{site}/ROOT{}", app.trim_end_matches('/'));
                if p.sub("app").is_some() && !m.metabase().exists(&mb) {
                    out.line(format!("The application path '{app}' could not be found in site '{site}'."));
                    out.line("Failed!");
                    out.exit = 1;
                    return;
                }
                if p.sub("app").is_some() {
                    format!("site {site} {app}")
                } else {
                    "machine".to_string()
                }
            };
            let provider = p
                .sub("prov")
                .and_then(|a| a.first())
                .cloned()
                .unwrap_or_else(|| "RsaProtectedConfigurationProvider".into());
            let value = encrypt.then_some(provider);
            registration::record_management(m, &format!("protected:{scope}:{first}"), value);
            out.line("Succeeded!");
        }
        "config+" | "config-" => {
            let on = action == "config+";
            let text = if on { "enabling" } else { "disabling" };
            out.line(format!("Start {text} remote configuration of ASP.NET."));
            registration::record_management(m, "remote-config", on.then(|| "enabled".to_string()));
            out.line(format!("Finished {text} remote configuration of ASP.NET."));
        }
        _ => {
            let (text, value) = match action {
                "pc" => (
                    "Creating RSA Key container...",
                    Some(if p.sub("exp").is_some() { "exportable" } else { "created" }.to_string()),
                ),
                "pz" => ("Deleting RSA Key container...", None),
                "pi" => ("Importing RSA Keys from file..", Some(format!("imported from {second}"))),
                "px" => {
                    ("Exporting RSA Keys to file...", m.resource(&format!("key_container:{first}")).map(str::to_string))
                }
                "pa" => ("Adding ACL for access to the RSA Key container...", None),
                _ => ("Removing ACL for access to the RSA Key container...", None),
            };
            out.line(text);
            match action {
                "pa" => {
                    registration::record_management(m, &format!("key_access:{first}:{second}"), Some("granted".into()))
                }
                "pr" => registration::record_management(m, &format!("key_access:{first}:{second}"), None),
                "px" if value.is_none() => {
                    out.line(format!("The RSA key container '{first}' could not be found."));
                    out.line("Failed!");
                    out.exit = 1;
                    return;
                }
                "px" => m.note(format!("key container {first} exported to {second}"), &["REG-18"]),
                _ => registration::record_management(m, &format!("key_container:{first}"), value),
            }
            out.line("Succeeded!");
        }
    }
}
