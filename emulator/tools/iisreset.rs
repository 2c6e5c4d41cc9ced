//! `iisreset.exe`: stop, start or restart every IIS service and process (IIR-01..03).

use crate::machine::Machine;
use crate::process::{self, Iisadmin, World};
use crate::rules::RuleId;

use super::{Context, Output};

/// What iisreset was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Restart,
    Start,
    Stop,
    Reboot,
    Status,
    Enable,
    Disable,
}

/// The banner line: the Server 2003 build says 1998-2005, the Windows 2000 and XP builds 1998-1999.
fn banner(iis6: bool) -> String {
    format!("IISRESET.EXE (c) Microsoft Corp. 1998-{}", if iis6 { "2005" } else { "1999" })
}

fn usage(iis6: bool) -> Vec<String> {
    let mut lines = vec![banner(iis6)];
    lines.extend(
        [
            "",
            "Usage:",
            "iisreset [computername]",
            "",
            "    /RESTART            Stop and then restart all Internet services.",
            "    /START              Start all Internet services.",
            "    /STOP               Stop all Internet services.",
            "    /REBOOT             Reboot the computer.",
            "    /REBOOTONERROR      Reboot the computer if an error occurs when starting,",
            "                        stopping, or restarting Internet services.",
            "    /NOFORCE            Do not forcefully terminate Internet services if",
            "                        attempting to stop them gracefully fails.",
            "    /TIMEOUT:val        Specify the timeout value ( in seconds ) to wait for",
            "                        a successful stop of Internet services. On expiration",
            "                        of this timeout the computer can be rebooted if",
            "                        the /REBOOTONERROR parameter is specified.",
            "                        The default value is 20s for restart, 60s for stop,",
            "                        and 0s for reboot.",
            "    /STATUS             Display the status of all Internet services.",
            "    /ENABLE             Enable restarting of Internet Services",
            "                        on the local system.",
            "    /DISABLE            Disable restarting of Internet Services",
            "                        on the local system.",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    lines
}

fn parse(args: &[String], local_name: &str) -> Result<Action, ()> {
    let mut action = None;
    for (i, a) in args.iter().enumerate() {
        let upper = a.to_ascii_uppercase();
        let next = match upper.as_str() {
            "/RESTART" => Some(Action::Restart),
            "/START" => Some(Action::Start),
            "/STOP" => Some(Action::Stop),
            "/REBOOT" => Some(Action::Reboot),
            "/STATUS" => Some(Action::Status),
            "/ENABLE" => Some(Action::Enable),
            "/DISABLE" => Some(Action::Disable),
            "/NOFORCE" | "/REBOOTONERROR" => None,
            t if t.starts_with("/TIMEOUT:") && t[9..].parse::<u32>().is_ok() => None,
            // The computer name may come first; only the local machine is emulated.
            _ if i == 0 && !a.starts_with('/') && (a.eq_ignore_ascii_case(local_name) || a == "localhost") => None,
            _ => return Err(()),
        };
        if let Some(n) = next {
            if action.is_some_and(|a| a != n) {
                return Err(());
            }
            action = Some(n);
        }
    }
    Ok(action.unwrap_or(Action::Restart))
}

fn status_lines(m: &Machine) -> Vec<String> {
    let mut out = Vec::new();
    for (name, display) in [("IISADMIN", "IIS Admin Service"), ("W3SVC", "World Wide Web Publishing Service")] {
        if let Some(service) = m.service(name) {
            let state = if service.running { "Running" } else { "Stopped" };
            out.push(format!("Status for {display} ( {name} ) : {state}"));
        }
    }
    out
}

/// `/STOP`: IISADMIN and the services that depend on it stop, and every IIS process ends (IIR-02).
fn stop_services(m: &mut Machine, world: &mut World) {
    process::w3svc_stop(m, world, "IIS stopped", &["IIR-02", "IIR-03"], Iisadmin::Stops);
    // IISADMIN and its dependents stop, as net and sc then report (NET-08).
    for name in ["W3SVC", "HTTPFilter", "IISADMIN"] {
        m.set_service_running(name, false, &["IIR-02"]);
    }
}

/// `/START`: IISADMIN and W3SVC start, and W3SVC reads the metabase again (IIR-02, IIR-03).
fn start_services(m: &mut Machine, world: &mut World) {
    for name in ["IISADMIN", "HTTPFilter", "W3SVC"] {
        m.set_service_running(name, true, &["IIR-02"]);
    }
    process::w3svc_start(m, world);
}

/// The start half of a reset: the metabase is read again (IIR-03); on IIS 6 that includes the
/// isolation mode (PM6-01), which IIS 5 does not have.
fn started_note(m: &mut Machine) {
    let rules: &[RuleId] = if m.edition().is_iis6() { &["IIR-03", "PM6-01"] } else { &["IIR-03"] };
    m.note("IIS services started; the metabase is read again", rules);
}

/// Runs `iisreset` with its arguments.
pub fn run(m: &mut Machine, world: &mut World, args: &[String], ctx: Context) -> Output {
    let mut out = Output::default();
    let Ok(action) = parse(args, m.name()) else {
        m.note("iisreset: unknown or conflicting switches, usage printed", &["IIR-01"]);
        out.lines = usage(m.edition().is_iis6());
        out.exit = 1;
        return out;
    };
    if !ctx.admin {
        m.note("iisreset refused: only administrators may control the IIS services", &["IIR-02"]);
        out.line("Access denied, you must be an administrator of the remote computer to use this command. Either have your account added to the administrator local group of the remote computer or to the domain administrator global group.");
        out.exit = 1;
        return out;
    }
    m.note(format!("iisreset {action:?}"), &["IIR-01"]);
    let disabled = m.reset_disabled();
    match action {
        Action::Status => out.lines = status_lines(m),
        Action::Enable => {
            m.set_reset_disabled(false);
            m.note("iisreset enabled", &["IIR-02"]);
            out.line("Internet services reset is now enabled.");
        }
        Action::Disable => {
            m.set_reset_disabled(true);
            m.note("iisreset disabled: later resets fail until /ENABLE", &["IIR-02"]);
            out.line("Internet services reset is now disabled.");
        }
        _ if disabled => {
            m.note("iisreset refused: /DISABLE is in force", &["IIR-02"]);
            out.line("Restart of Internet services has been disabled. Use iisreset /enable to enable it.");
            out.exit = 1;
        }
        Action::Stop => {
            out.line("Attempting stop...");
            stop_services(m, world);
            m.mb_flush("IIS stopped", &["MB-02", "IIR-03"]);
            out.line("Internet services successfully stopped");
        }
        Action::Start => {
            out.line("Attempting start...");
            m.mb_reload("IIS started", &["MB-02", "MB-03", "IIR-03"]);
            start_services(m, world);
            started_note(m);
            out.line("Internet services successfully started");
        }
        Action::Restart => {
            out.line("Attempting stop...");
            stop_services(m, world);
            m.mb_flush("IIS stopped", &["MB-02", "IIR-03"]);
            out.line("Internet services successfully stopped");
            out.line("Attempting start...");
            m.mb_reload("IIS started", &["MB-02", "MB-03", "IIR-03"]);
            start_services(m, world);
            started_note(m);
            out.line("Internet services successfully restarted");
        }
        Action::Reboot => {
            out.line("Rebooting the computer...");
            stop_services(m, world);
            m.mb_flush("IIS stopped", &["MB-02", "IIR-03"]);
            process::state_service_restarted(world);
            process::sql_server_restarted(world);
            m.mb_reload("IIS started", &["MB-02", "MB-03", "IIR-03"]);
            start_services(m, world);
            m.note("the computer restarted: every service started again", &["IIR-02"]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&s(&[]), "IISBOX"), Ok(Action::Restart));
        assert_eq!(parse(&s(&["/stop"]), "IISBOX"), Ok(Action::Stop));
        assert_eq!(parse(&s(&["IISBOX", "/STATUS"]), "IISBOX"), Ok(Action::Status));
        assert_eq!(parse(&s(&["/restart", "/timeout:30", "/noforce"]), "IISBOX"), Ok(Action::Restart));
        assert_eq!(parse(&s(&["/bogus"]), "IISBOX"), Err(()));
        assert_eq!(parse(&s(&["/stop", "/start"]), "IISBOX"), Err(()));
        assert_eq!(parse(&s(&["OTHERBOX"]), "IISBOX"), Err(()));
    }
}
