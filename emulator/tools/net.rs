//! `net start|stop|pause|continue` and `sc query|start|stop`: the IIS services as the service
//! control manager shows them (NET-01..NET-11).

use crate::machine::Machine;
use crate::process::{self, Iisadmin, World};
use crate::rules::RuleId;

use super::{Context, Output};

/// Dependents of IISADMIN in the order net stops them (NET-08).
const IISADMIN_DEPENDENTS: [&str; 2] = ["W3SVC", "HTTPFilter"];

/// Exit code of a failed net command (policy `net.error_exit`).
const NET_ERROR: i32 = 2;

/// The key name of a service typed as key or display name (NET-01), case as the machine stores it.
fn service_key(m: &Machine, typed: &str) -> Option<String> {
    let t = typed.trim_matches('"');
    SERVICES
        .iter()
        .copied()
        .filter(|k| m.service(k).is_some())
        .find(|k| k.eq_ignore_ascii_case(t) || m.service(k).is_some_and(|s| s.display.eq_ignore_ascii_case(t)))
        .map(str::to_string)
}

/// The services iisim knows, in `sc query`'s order.
const SERVICES: [&str; 4] = ["aspnet_state", "HTTPFilter", "IISADMIN", "W3SVC"];

/// Whether a service runs: W3SVC as the process model says, the others by their flag.
pub fn running(m: &Machine, w: &World, key: &str) -> bool {
    if key.eq_ignore_ascii_case("W3SVC") {
        return process::web_running(m, w) && m.service("W3SVC").is_some();
    }
    m.service(key).is_some_and(|s| s.running)
}

/// Marks a service running or stopped, recording the change.
pub fn set_running(m: &mut Machine, key: &str, on: bool, rules: &[RuleId]) {
    let Some(mut s) = m.service(key).cloned() else { return };
    if s.running == on {
        return;
    }
    s.running = on;
    m.set_service(key, Some(s), if on { "started" } else { "stopped" }, rules);
}

/// Sets a service's state and records `action` as what happened to it.
fn set_state(m: &mut Machine, key: &str, on: bool, action: &str, rules: &[RuleId]) {
    let Some(mut s) = m.service(key).cloned() else { return };
    s.running = on;
    m.set_service(key, Some(s), action, rules);
}

fn display(m: &Machine, key: &str) -> String {
    m.service(key).map(|s| s.display.clone()).unwrap_or_else(|| key.to_string())
}

/// The failure layout: message, empty line, NET HELPMSG line, empty line (NET-05).
fn failure(out: &mut Output, msg: &str, n: u32) {
    out.err_line(msg);
    out.err_line("");
    out.err_line(format!("More help is available by typing NET HELPMSG {n}."));
    out.err_line("");
    out.exit = NET_ERROR;
}

/// Stops one service as the SCM does, with its side effects on the process model (NET-09).
fn stop_one(m: &mut Machine, w: &mut World, key: &str) {
    match key {
        "W3SVC" => {
            process::w3svc_stop(m, w, "W3SVC stopped (net stop)", &["NET-09", "IIR-04"], Iisadmin::Stays);
            // The service's state is the one truth of whether W3SVC serves (IIR-02).
            set_state(m, "W3SVC", false, "stopped", &["NET-01", "NET-03", "NET-09"]);
        }
        "IISADMIN" => {
            // IISADMIN takes inetinfo.exe and the in-memory metabase with it (NET-09, MB-02).
            process::w3svc_stop(m, w, "IIS stopped", &["NET-09", "IIR-03"], Iisadmin::Stops);
            set_running(m, key, false, &["NET-01", "NET-03", "NET-09"]);
        }
        "aspnet_state" => {
            set_running(m, key, false, &["NET-03", "NET-09"]);
            process::state_service_restarted(w);
        }
        _ => set_running(m, key, false, &["NET-03"]),
    }
}

fn start_one(m: &mut Machine, w: &mut World, key: &str) {
    match key {
        "W3SVC" => {
            // Its dependency starts first, without a line of its own (NET-08).
            if !running(m, w, "IISADMIN") {
                set_running(m, "IISADMIN", true, &["NET-02", "NET-08"]);
            }
            set_state(
                m,
                "W3SVC",
                true,
                "started; the metabase is read again",
                &["NET-01", "NET-02", "NET-09", "PM6-01"],
            );
            process::w3svc_start(m, w);
        }
        _ => set_running(m, key, true, &["NET-02"]),
    }
}

/// `net ...`; `stdin` answers the dependents question (NET-04).
pub fn net(m: &mut Machine, w: &mut World, args: &[String], stdin: Option<&str>, ctx: Context) -> Output {
    let mut out = Output::default();
    let verb = args.first().map(|a| a.to_ascii_lowercase()).unwrap_or_default();
    let yes = args.iter().any(|a| a.eq_ignore_ascii_case("/y") || a.eq_ignore_ascii_case("/yes"));
    let no = args.iter().any(|a| a.eq_ignore_ascii_case("/n") || a.eq_ignore_ascii_case("/no"));
    let name: Vec<&str> = args.iter().skip(1).filter(|a| !a.starts_with('/')).map(String::as_str).collect();
    let name = name.join(" ");
    match verb.as_str() {
        "start" | "stop" | "pause" | "continue" if !ctx.admin => {
            out.err_line("System error 5 has occurred.");
            out.err_line("");
            out.err_line("Access is denied.");
            out.err_line("");
            out.exit = NET_ERROR;
            m.note(format!("net {verb} refused: not an administrator"), &["NET-06"]);
            return out;
        }
        "start" if name.is_empty() => {
            m.note("net start: the running services", &["NET-07"]);
            out.line("These Windows services are started:");
            out.line("");
            let mut names: Vec<String> = SERVICES.iter().filter(|k| running(m, w, k)).map(|k| display(m, k)).collect();
            names.sort_by_key(|n| n.to_ascii_lowercase());
            for n in names {
                out.line(format!("   {n}"));
            }
            out.line("");
            out.line("The command completed successfully.");
            out.line("");
            return out;
        }
        "start" | "stop" | "pause" | "continue" => {}
        "helpmsg" => {
            let text = match name.trim() {
                "2182" => "The requested service has already been started.",
                "3521" => "The *** service is not started.",
                "2185" => "The service name is invalid.",
                "2191" => "The requested pause, continue, or stop is not valid for this service.",
                _ => {
                    out.err_line(format!("{} is not a valid Windows network message number.", name.trim()));
                    out.exit = NET_ERROR;
                    return out;
                }
            };
            out.line("");
            out.line(text);
            out.line("");
            return out;
        }
        _ => {
            out.err_line(format!("iisim does not emulate net {verb} yet."));
            out.exit = 1;
            return out;
        }
    }
    let Some(key) = service_key(m, &name) else {
        m.note(format!("net {verb} {name}: no such service"), &["NET-05"]);
        failure(&mut out, "The service name is invalid.", 2185);
        return out;
    };
    let disp = display(m, &key);
    match verb.as_str() {
        "start" => {
            if running(m, w, &key) {
                failure(&mut out, "The requested service has already been started.", 2182);
                m.note(format!("net start {key}: already running"), &["NET-05", "NET-06"]);
                return out;
            }
            out.line(format!("The {disp} service is starting."));
            start_one(m, w, &key);
            out.line(format!("The {disp} service was started successfully."));
            out.line("");
        }
        "stop" => {
            if !running(m, w, &key) {
                failure(&mut out, &format!("The {disp} service is not started."), 3521);
                m.note(format!("net stop {key}: not running"), &["NET-05", "NET-06"]);
                return out;
            }
            let dependents: Vec<String> = if key == "IISADMIN" {
                IISADMIN_DEPENDENTS.iter().filter(|d| running(m, w, d)).map(|d| d.to_string()).collect()
            } else {
                Vec::new()
            };
            if !dependents.is_empty() {
                out.line(format!("The following services are dependent on the {disp} service."));
                out.line(format!("Stopping the {disp} service will also stop these services."));
                out.line("");
                for d in &dependents {
                    out.line(format!("   {}", display(m, d)));
                }
                out.line("");
                if !yes {
                    let answer = if no { None } else { stdin.and_then(|s| s.trim().chars().next()) };
                    out.line(format!(
                        "Do you want to continue this operation? (Y/N) [N]: {}",
                        answer.map(String::from).unwrap_or_default()
                    ));
                    if !answer.is_some_and(|c| c.eq_ignore_ascii_case(&'y')) {
                        m.note(
                            format!("net stop {key}: the dependents question was answered N"),
                            &["NET-04", "NET-06"],
                        );
                        out.exit = NET_ERROR;
                        return out;
                    }
                }
                m.note(format!("net stop {key}: dependents answered yes"), &["NET-04"]);
                for d in &dependents {
                    let dd = display(m, d);
                    out.line(format!("The {dd} service is stopping."));
                    stop_one(m, w, d);
                    out.line(format!("The {dd} service was stopped successfully."));
                    out.line("");
                }
            }
            // KB 969864 shows a progress dot while IISADMIN stops (policy net.progress_dots).
            let dots = if key == "IISADMIN" { ".." } else { "." };
            out.line(format!("The {disp} service is stopping{dots}"));
            stop_one(m, w, &key);
            out.line(format!("The {disp} service was stopped successfully."));
            out.line("");
        }
        _ => {
            failure(&mut out, "The requested pause, continue, or stop is not valid for this service.", 2191);
            m.note(format!("net {verb} {key}: pausing is not modeled in iisim"), &["NET-05"]);
        }
    }
    out
}

/// `sc query|start|stop [service]` (NET-10, NET-11).
pub fn sc(m: &mut Machine, w: &mut World, args: &[String], ctx: Context) -> Output {
    let mut out = Output::default();
    let verb = args.first().map(|a| a.to_ascii_lowercase()).unwrap_or_default();
    let name = args.get(1).cloned();
    match (verb.as_str(), name) {
        ("query", None) => {
            for k in SERVICES.iter().filter(|k| m.service(k).is_some()) {
                sc_block(m, w, k, None, true, &mut out);
            }
        }
        ("query" | "start" | "stop", Some(n)) => {
            // sc takes key names only (NET-10).
            let Some(key) = SERVICES.iter().find(|k| k.eq_ignore_ascii_case(&n) && m.service(k).is_some()) else {
                let op = if verb == "query" { "EnumQueryServicesStatus:OpenService" } else { "OpenService" };
                out.line(format!("[SC] {op} FAILED 1060:"));
                out.line("");
                out.line("The specified service does not exist as an installed service.");
                out.line("");
                out.exit = 1060;
                m.note(format!("sc {verb} {n}: no such service"), &["NET-10"]);
                return out;
            };
            if verb != "query" && !ctx.admin {
                out.line("[SC] OpenService FAILED 5:");
                out.line("");
                out.line("Access is denied.");
                out.line("");
                out.exit = 5;
                return out;
            }
            match verb.as_str() {
                "start" if running(m, w, key) => {
                    out.line("[SC] StartService FAILED 1056:");
                    out.line("");
                    out.line("An instance of the service is already running.");
                    out.line("");
                    out.exit = 1056;
                }
                "stop" if !running(m, w, key) => {
                    out.line("[SC] ControlService FAILED 1062:");
                    out.line("");
                    out.line("The service has not been started.");
                    out.line("");
                    out.exit = 1062;
                }
                "start" => {
                    start_one(m, w, key);
                    sc_block(m, w, key, Some("2  START_PENDING"), false, &mut out);
                }
                "stop" => {
                    stop_one(m, w, key);
                    sc_block(m, w, key, Some("3  STOP_PENDING"), false, &mut out);
                }
                _ => sc_block(m, w, key, None, false, &mut out),
            }
            let rules: &[RuleId] = if verb == "query" { &["NET-10"] } else { &["NET-10", "NET-11"] };
            m.note(format!("sc {verb} {key}: exit {}", out.exit), rules);
        }
        _ => {
            out.line("DESCRIPTION:");
            out.line("        SC is a command line program used for communicating with the");
            out.line("        NT Service Controller and services.");
            out.line("USAGE:");
            out.line("        sc <server> [command] [service name] <option1> <option2>...");
            out.exit = if verb.is_empty() { 0 } else { 1639 };
        }
    }
    out
}

/// One service in sc's layout: 8 spaces, the field padded to 19, `: ` (NET-10).
fn sc_block(m: &Machine, w: &World, key: &str, pending: Option<&str>, with_display: bool, out: &mut Output) {
    let on = running(m, w, key);
    let ty = if key == "aspnet_state" { "10  WIN32_OWN_PROCESS" } else { "20  WIN32_SHARE_PROCESS" };
    let (state, flags) = match (pending, on) {
        (Some(p), _) => (p.to_string(), "(STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)"),
        (None, true) if key == "W3SVC" => ("4  RUNNING".into(), "(STOPPABLE, PAUSABLE, ACCEPTS_SHUTDOWN)"),
        (None, true) => ("4  RUNNING".into(), "(STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)"),
        (None, false) => ("1  STOPPED".into(), "(NOT_STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)"),
    };
    let field = |name: &str, value: &str| format!("        {name:<19}: {value}");
    out.line("");
    out.line(format!("SERVICE_NAME: {key}"));
    if with_display {
        out.line(format!("DISPLAY_NAME: {}", display(m, key)));
    }
    out.line(field("TYPE", ty));
    out.line(field("STATE", &state));
    out.line(format!("                                {flags}"));
    out.line(field("WIN32_EXIT_CODE", "0  (0x0)"));
    out.line(field("SERVICE_EXIT_CODE", "0  (0x0)"));
    out.line(field("CHECKPOINT", "0x0"));
    out.line(field("WAIT_HINT", "0x0"));
}
