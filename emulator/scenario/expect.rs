//! Checking a step's expectations against the machine.

use crate::machine::journal::EventEntry;
use crate::machine::Machine;
use crate::metabase::{schema, Origin, Value};
use crate::registration::{self, maps};
use crate::rules::RuleId;
use crate::runtime::Version;
use crate::tools::Output;

use super::spec::{EventExpect, ExpectSpec, MetabaseExpect, ResourcesExpect};
use crate::process::{Served, World};

/// Checks of a request step: status, headers, body, process, runtime, application, session.
fn request_checks(served: Option<&Served>, spec: &ExpectSpec, checks: &mut Vec<Check>) {
    let wants_request = spec.status.is_some()
        || !spec.headers.is_empty()
        || !spec.body_contains.is_empty()
        || spec.process.is_some()
        || spec.pid.is_some()
        || spec.aspnet.is_some()
        || spec.app.is_some()
        || spec.session.is_some();
    let Some(s) = served else {
        if wants_request {
            checks.push(check("a request step".into(), "the step sent no request".into(), false, &[]));
        }
        return;
    };
    if let Some(want) = &spec.status {
        let got = if s.reply.status == 0 { "refused".to_string() } else { s.reply.status_text() };
        checks.push(check(format!("status {want}"), got.clone(), &got == want, &["REQ-12"]));
    }
    for (name, want) in &spec.headers {
        let got = s.reply.header(name).unwrap_or("absent").to_string();
        let rules: &[RuleId] = match name.to_ascii_lowercase().as_str() {
            "x-aspnet-version" => &["HDR-01"],
            "x-powered-by" | "server" => &["HDR-02"],
            "cache-control" => &["HDR-03"],
            "location" => &["REQ-08"],
            _ => &[],
        };
        checks.push(check(format!("header {name}: {want}"), got.clone(), &got == want, rules));
    }
    for want in &spec.body_contains {
        let ok = s.reply.body.contains(want.as_str());
        checks.push(check(format!("body contains \"{want}\""), s.reply.body.clone(), ok, &[]));
    }
    if let Some(want) = &spec.process {
        let got = s.process.map(|(i, _)| i.to_string()).unwrap_or_else(|| "none".into());
        // The rule that places requests in that kind of process.
        let rules: &[RuleId] = match want.to_ascii_lowercase().as_str() {
            "w3wp.exe" => &["PM6-02"],
            "aspnet_wp.exe" => &["PM5-02"],
            "inetinfo.exe" | "dllhost.exe" => &["PM5-03"],
            _ => &[],
        };
        checks.push(check(format!("served by {want}"), got.clone(), got.eq_ignore_ascii_case(want), rules));
    }
    if let Some(want) = spec.pid {
        let got = s.process.map(|(_, p)| p.to_string()).unwrap_or_else(|| "none".into());
        checks.push(check(format!("served by PID {want}"), got.clone(), got == want.to_string(), &[]));
    }
    if let Some(want) = &spec.aspnet {
        // `2.0`: ASP.NET 2.0 ran the request; `2.0 failed`: it was handed the request and could
        // not run it; `none`: no ASP.NET was involved.
        let got = match (s.runtime, s.failed) {
            (Some(v), None) => v.short().to_string(),
            (Some(v), Some(why)) => format!("{} failed ({why})", v.short()),
            (None, _) => "none".into(),
        };
        let (want_text, failed) = match want.trim().strip_suffix("failed") {
            Some(v) => (v.trim(), true),
            None => (want.trim(), false),
        };
        let want_v =
            Version::parse(want_text).map(|v| v.short().to_string()).unwrap_or_else(|| want_text.to_ascii_lowercase());
        let (expected, ok) = match (want_v.as_str(), failed) {
            ("none", _) => ("no ASP.NET handled it".to_string(), got == "none"),
            (v, false) => (format!("ASP.NET {v} ran it"), got == v),
            (v, true) => (
                format!("ASP.NET {v} was handed it and failed"),
                s.runtime.map(|r| r.short()) == Some(v) && s.failed.is_some(),
            ),
        };
        checks.push(check(expected, got, ok, &["VER-02"]));
    }
    if let Some(want) = &spec.app {
        let want = mb_path(want);
        let got = s.target.as_ref().map_or_else(|| "none".to_string(), |t| t.app.to_string());
        checks.push(check(format!("application {want}"), got.clone(), got.eq_ignore_ascii_case(&want), &["MB-21"]));
    }
    if let Some(want) = &spec.session {
        let got = s.session.map(|f| f.name().to_string()).unwrap_or_else(|| "none".into());
        checks.push(check(format!("session {want}"), got.clone(), &got == want, &["SES-01"]));
    }
}

/// One checked expectation.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was expected, as the transcript shows it.
    pub expected: String,
    /// What the machine had, when it differs.
    pub actual: Option<String>,
    /// Rules that decide the checked state.
    pub rules: Vec<RuleId>,
}

impl Check {
    /// Whether the expectation held.
    pub fn ok(&self) -> bool {
        self.actual.is_none()
    }
}

fn check(expected: String, actual: String, matches: bool, rules: &[RuleId]) -> Check {
    Check { expected, actual: (!matches).then_some(actual), rules: rules.to_vec() }
}

/// A scenario path (`W3SVC/1/ROOT` or `/LM/W3SVC/1/ROOT`) as a metabase path.
pub fn mb_path(arg: &str) -> String {
    let n = crate::metabase::normalize(arg);
    if n.to_ascii_lowercase().starts_with("/lm/") || n.eq_ignore_ascii_case("/lm") {
        n
    } else {
        format!("/LM{n}")
    }
}

fn versions(list: impl IntoIterator<Item = Version>) -> String {
    let v: Vec<&str> = list.into_iter().map(Version::short).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn isapi_versions(items: &[String]) -> Vec<Version> {
    items.iter().filter_map(|i| maps::dll_version(i)).collect()
}

/// The state of a named shared resource, as scenarios compare it (SHR-, VER-07, HDR-02, REG-15).
pub fn resource_state(m: &Machine, name: &str) -> (String, &'static [RuleId]) {
    let w3 = registration::W3SVC;
    let own_list = |path: &str, prop: &str| m.metabase().own_list(path, prop);
    let owner = |res: &str| m.resource(res).unwrap_or("none").to_string();
    match name {
        "registered" => (versions(m.registered()), &["VER-07"]),
        "installed" => (versions(m.installed()), &["VER-01"]),
        "root_version" => {
            (m.registry().get(registration::ASPNET_REG, "RootVer").unwrap_or("none").to_string(), &["VER-07"])
        }
        "state_service" => (versions(registration::state_service_version(m)), &["SHR-06"]),
        "state_service_port" => {
            let key = format!("{}\\Parameters", registration::STATE_SERVICE_REG);
            (m.registry().get(&key, "Port").unwrap_or("none").to_string(), &["SHR-06"])
        }
        "generic_counters" => (owner("perf:ASP.NET"), &["SHR-05"]),
        "version_counters" => {
            let vs = Version::ALL.into_iter().filter(|v| m.resource(&format!("perf:ASP.NET v{}", v.short())).is_some());
            (versions(vs), &["SHR-05", "VER-06"])
        }
        "sql_state" => (owner("sql_state"), &["SHR-07"]),
        "filter" => {
            let found = m
                .metabase()
                .children("/LM/W3SVC/Filters")
                .filter_map(|k| k.get("FilterPath").and_then(Value::as_str).map(str::to_string))
                .flat_map(|p| maps_version_of_folder(&p))
                .collect::<Vec<_>>();
            (versions(found), &["SHR-01", "VER-06"])
        }
        "aspnet_account" => {
            let s = match m.account("ASPNET") {
                None => "absent",
                Some(a) if a.enabled => "enabled",
                Some(_) => "disabled",
            };
            (s.into(), &["SHR-08"])
        }
        "in_process_isapi" => (versions(isapi_versions(&own_list(w3, "InProcessIsapiApps"))), &["SHR-03"]),
        "web_service_extensions" => {
            let rows: Vec<String> = own_list(w3, "WebSvcExtRestrictionList")
                .iter()
                .filter_map(|r| {
                    let f: Vec<&str> = r.split(',').map(str::trim).collect();
                    let v = maps::dll_version(f.get(1)?)?;
                    let state = if f[0] == "1" { "allowed" } else { "prohibited" };
                    Some(format!("ASP.NET v{}={state}", v.short()))
                })
                .collect();
            (if rows.is_empty() { "none".into() } else { rows.join(", ") }, &["SHR-04", "VER-06"])
        }
        "client_scripts" => {
            let root = m.metabase().own("/LM/W3SVC/1/ROOT", "Path").and_then(Value::as_str).unwrap_or_default();
            let dir = format!("{}\\aspnet_client\\system_web", root.trim_end_matches('\\'));
            let names: Vec<String> =
                m.fs().list(&dir).iter().map(|p| p.rsplit('\\').next().unwrap_or_default().to_string()).collect();
            (if names.is_empty() { "none".into() } else { names.join(", ") }, &["REG-15", "VER-06"])
        }
        "temp_files" => {
            let vs = Version::ALL
                .into_iter()
                .filter(|v| m.fs().is_dir(&format!("{}\\Temporary ASP.NET Files", m.framework_dir(*v))));
            (versions(vs), &["SHR-09"])
        }
        "powered_by" => {
            let present =
                own_list(w3, "HttpCustomHeaders").iter().any(|h| h.eq_ignore_ascii_case(registration::POWERED_BY));
            (if present { "present" } else { "absent" }.into(), &["HDR-02"])
        }
        other if other.starts_with("kb812833:") => match Version::parse(&other[9..]) {
            Some(v) if m.runtime(v).kb812833 => ("applied".into(), &["KB-02"]),
            Some(v) if m.has_kb812833(v) => (format!("in service pack {}", m.service_pack(v)), &["KB-02"]),
            _ => ("none".into(), &["KB-02"]),
        },
        other => match other.strip_prefix("file_version:").map(Version::parse) {
            Some(Some(v)) => (m.file_version(v).to_string(), &["VER-08"]),
            // KB 812833 step 8 grants IWAM_<machine> ASPNET's permissions (KB-06); the rest are
            // what aspnet_regiis's management options record (REG-18).
            _ if other.starts_with("granted:") && m.resource(other) == Some("same permissions as ASPNET") => {
                ("same permissions as ASPNET".into(), &["KB-06"])
            }
            _ => (m.resource(other).unwrap_or("none").to_string(), &["REG-18"]),
        },
    }
}

/// The runtime whose Framework folder holds a file.
fn maps_version_of_folder(path: &str) -> Vec<Version> {
    let lower = path.to_ascii_lowercase();
    let folder = lower.rsplit('\\').nth(1).unwrap_or_default().to_string();
    Version::ALL.into_iter().filter(|v| folder == v.folder_name()).collect()
}

fn resource_checks(m: &Machine, r: &ResourcesExpect, out: &mut Vec<Check>) {
    let named: [(&str, &Option<String>); 15] = [
        ("registered", &r.registered),
        ("installed", &r.installed),
        ("root_version", &r.root_version),
        ("state_service", &r.state_service),
        ("state_service_port", &r.state_service_port),
        ("generic_counters", &r.generic_counters),
        ("version_counters", &r.version_counters),
        ("sql_state", &r.sql_state),
        ("filter", &r.filter),
        ("aspnet_account", &r.aspnet_account),
        ("in_process_isapi", &r.in_process_isapi),
        ("web_service_extensions", &r.web_service_extensions),
        ("client_scripts", &r.client_scripts),
        ("temp_files", &r.temp_files),
        ("powered_by", &r.powered_by),
    ];
    let all = named.iter().filter_map(|(n, v)| v.as_ref().map(|v| (n.to_string(), v.clone()))).chain(r.other.clone());
    for (name, want) in all {
        let (got, rules) = resource_state(m, &name);
        let ok = normalize_list(&got) == normalize_list(&want);
        out.push(check(format!("resource {name} = {want}"), got, ok, rules));
    }
}

/// A resource state for comparison: items trimmed, lower-cased, versions in short form (`1.1` = `1.1.4322`).
fn normalize_list(s: &str) -> String {
    s.split(',')
        .map(|p| match Version::parse(p) {
            Some(v) => v.short().to_string(),
            None => p.trim().to_ascii_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn runtime_label(v: Option<Version>) -> String {
    v.map(|v| v.short().to_string()).unwrap_or_else(|| "none".into())
}

/// The TOML value as the text a property check compares.
fn toml_text(v: &toml::Value, def: Option<&schema::PropDef>) -> Option<Value> {
    use schema::Kind;
    let strings = |a: &[toml::Value]| a.iter().map(|i| i.as_str().map(str::to_string)).collect::<Option<Vec<_>>>();
    match (def.map(|d| d.kind), v) {
        (Some(Kind::Dword | Kind::Bool | Kind::Flags(_)) | None, toml::Value::Integer(i)) => {
            u32::try_from(*i).ok().map(Value::Dword)
        }
        (Some(Kind::Bool) | None, toml::Value::Boolean(b)) => Some(Value::Dword(*b as u32)),
        (Some(Kind::Flags(bits)), toml::Value::String(s)) => schema::parse_flags(bits, s).ok().map(Value::Dword),
        (Some(Kind::Bool), toml::Value::String(s)) => match s.to_ascii_uppercase().as_str() {
            "TRUE" | "1" => Some(Value::Dword(1)),
            "FALSE" | "0" => Some(Value::Dword(0)),
            _ => None,
        },
        (Some(Kind::Dword), toml::Value::String(s)) => s.parse().ok().map(Value::Dword),
        (Some(Kind::String | Kind::ExpandSz) | None, toml::Value::String(s)) => Some(Value::String(s.clone())),
        (Some(Kind::MultiSz) | None, toml::Value::Array(a)) => strings(a).map(Value::MultiSz),
        _ => None,
    }
}

/// Converts a scenario's TOML value to a metabase value of the property's kind.
pub fn to_value(v: &toml::Value, prop: &str) -> Option<Value> {
    toml_text(v, schema::lookup(prop))
}

/// The rules that decide how a property is read: inheritance, kind, format.
fn property_rules(def: Option<&schema::PropDef>, own: bool, prop: &str) -> Vec<RuleId> {
    let mut rules: Vec<RuleId> = vec!["MB-20"];
    if !own {
        rules.push("MB-16");
        if def.is_some_and(|d| !d.inherit) {
            rules.push("MB-19");
        }
    }
    match def.map(|d| d.kind) {
        Some(schema::Kind::Flags(_)) => rules.extend(["MB-09", "MB-18"]),
        Some(schema::Kind::Bool) => rules.push("MB-09"),
        Some(schema::Kind::MultiSz) => {
            rules.push("MB-10");
            if !own {
                rules.push("MB-17");
            }
        }
        _ => {}
    }
    if prop.eq_ignore_ascii_case("ScriptMaps") {
        rules.push("SM-01");
        if !own {
            rules.push("SM-08");
        }
    }
    rules
}

fn metabase_check(m: &Machine, e: &MetabaseExpect, out: &mut Vec<Check>) {
    let path = mb_path(&e.path);
    let def = schema::lookup(&e.property);
    let (value, origin) = if e.own {
        (m.metabase().own(&path, &e.property).cloned(), Some(Origin::Own))
    } else {
        match m.metabase().effective(&path, &e.property) {
            Some((v, o)) => (Some(v), Some(o)),
            None => (None, None),
        }
    };
    let rules = &property_rules(def, e.own, &e.property);
    let scope = if e.own { "own" } else { "effective" };
    let shown = value.as_ref().map(|v| v.display(def)).unwrap_or_else(|| "unset".into());
    let what = format!("{scope} {} at {path}", e.property);
    if e.unset {
        out.push(check(format!("{what} is unset"), shown.clone(), value.is_none(), rules));
    }
    if let Some(want) = &e.equals {
        let want_v = toml_text(want, def);
        let ok = want_v.is_some() && want_v == value;
        let want_shown = want_v.map(|v| v.display(def)).unwrap_or_else(|| want.to_string());
        out.push(check(format!("{what} = {want_shown}"), shown.clone(), ok, rules));
    }
    let items: Vec<String> = match &value {
        Some(Value::MultiSz(v)) => v.clone(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(other) => vec![other.display(def)],
        None => vec![],
    };
    let has = |needle: &str| items.iter().any(|i| i.to_ascii_lowercase().contains(&needle.to_ascii_lowercase()));
    for c in &e.contains {
        out.push(check(format!("{what} contains \"{c}\""), shown.clone(), has(c), rules));
    }
    for c in &e.lacks {
        out.push(check(format!("{what} lacks \"{c}\""), shown.clone(), !has(c), rules));
    }
    if let Some(want) = &e.origin {
        let got = match &origin {
            Some(Origin::Own) => "own".to_string(),
            Some(Origin::Inherited(p)) => p.clone(),
            Some(Origin::Default) => "default".to_string(),
            None => "unset".to_string(),
        };
        let want_n = if want == "own" || want == "default" { want.clone() } else { mb_path(want) };
        let ok = got.eq_ignore_ascii_case(&want_n);
        out.push(check(format!("{what} comes from {want_n}"), got, ok, &["MB-16", "MB-20"]));
    }
}

fn event_matches(ev: &EventEntry, e: &EventExpect) -> bool {
    ev.id == e.id
        && e.source.as_ref().is_none_or(|s| ev.source.eq_ignore_ascii_case(s))
        && e.level.as_ref().is_none_or(|l| ev.level.name().eq_ignore_ascii_case(l))
        && e.message.as_ref().is_none_or(|t| ev.message.contains(t.as_str()))
}

/// Checks every expectation of a step; `new_events` are those the step wrote.
pub fn check_all(
    m: &Machine,
    w: &World,
    out: &Output,
    served: Option<&Served>,
    new_events: &[EventEntry],
    spec: &ExpectSpec,
) -> Vec<Check> {
    let mut checks = Vec::new();
    request_checks(served, spec, &mut checks);
    if let Some(want) = &spec.running {
        let mut want: Vec<String> = want.iter().map(|w| w.to_ascii_lowercase()).collect();
        want.sort();
        let mut got: Vec<String> = w.processes().map(|p| p.image().to_string()).collect();
        got.sort();
        let ok = got == want;
        let summary: Vec<String> = w.processes().map(|p| p.summary()).collect();
        checks.push(check(
            format!("running processes: {}", if want.is_empty() { "none".into() } else { want.join(", ") }),
            if summary.is_empty() { "none".into() } else { summary.join("; ") },
            ok,
            &["PM5-02", "PM6-02"],
        ));
    }
    for (path, wants) in &spec.file_contains {
        let text = m.fs().read_file(path);
        for want in wants {
            let ok = text.is_some_and(|t| t.contains(want.as_str()));
            let got = match text {
                None => format!("{path} holds no text iisim wrote"),
                Some(_) => format!("{path} lacks it"),
            };
            checks.push(check(format!("{path} contains \"{want}\""), got, ok, &[]));
        }
    }
    for (path, unwanted) in &spec.file_lacks {
        let text = m.fs().read_file(path);
        for u in unwanted {
            let ok = text.is_some_and(|t| !t.contains(u.as_str()));
            let got = if text.is_some() {
                format!("{path} contains it")
            } else {
                format!("{path} holds no text iisim wrote")
            };
            checks.push(check(format!("{path} lacks \"{u}\""), got, ok, &[]));
        }
    }
    for id in &spec.no_events {
        let found = new_events.iter().any(|ev| ev.id == *id);
        let rules: &[RuleId] = match id {
            1062 => &["CLR-02", "CLR-04"],
            1000..=1008 => &["PM5-07"],
            _ => &[],
        };
        checks.push(check(format!("no event {id} written"), format!("event {id} was written"), !found, rules));
    }
    if let Some(want) = spec.exit {
        checks.push(check(format!("exit = {want}"), out.exit.to_string(), out.exit == want, &[]));
    }
    let stdout = out.text();
    if let Some(want) = &spec.stdout {
        let ok = stdout.trim_end_matches('\n') == want.trim_end_matches('\n');
        checks.push(check("stdout is exactly as given".into(), stdout.clone(), ok, &[]));
    }
    for c in &spec.stdout_contains {
        checks.push(check(format!("stdout contains \"{c}\""), stdout.clone(), stdout.contains(c.as_str()), &[]));
    }
    let stderr = out.err.join("\n");
    if let Some(want) = &spec.stderr {
        let ok = stderr.trim_end_matches('\n') == want.trim_end_matches('\n');
        checks.push(check("stderr is exactly as given".into(), stderr.clone(), ok, &["CMD-06"]));
    }
    for c in &spec.stderr_contains {
        checks.push(check(
            format!("stderr contains \"{c}\""),
            stderr.clone(),
            stderr.contains(c.as_str()),
            &["CMD-06"],
        ));
    }
    for c in &spec.stdout_lacks {
        checks.push(check(format!("stdout lacks \"{c}\""), stdout.clone(), !stdout.contains(c.as_str()), &[]));
    }
    for (path, want) in &spec.runtime {
        let p = mb_path(path);
        let got = runtime_label(registration::app_version(m, &p));
        let want_v = Version::parse(want).map(|v| v.short().to_string()).unwrap_or_else(|| want.to_ascii_lowercase());
        checks.push(check(format!("runtime of {p} = {want_v}"), got.clone(), got == want_v, &["VER-02", "MB-20"]));
    }
    for (path, want) in &spec.machine_config {
        let p = mb_path(path);
        let got = registration::app_version(m, &p)
            .map(|v| format!("{}\\CONFIG\\machine.config", m.framework_dir(v)))
            .unwrap_or_else(|| "none".into());
        let ok = got.eq_ignore_ascii_case(want);
        checks.push(check(format!("{p} reads {want}"), got, ok, &["VER-04", "VER-01", "VER-02"]));
    }
    for e in &spec.metabase {
        metabase_check(m, e, &mut checks);
    }
    if let Some(r) = &spec.resources {
        resource_checks(m, r, &mut checks);
    }
    for e in &spec.events {
        let found = new_events.iter().any(|ev| event_matches(ev, e));
        let seen: Vec<String> = new_events.iter().map(|ev| format!("{} {}", ev.id, ev.source)).collect();
        let text =
            format!("event {}{} written", e.id, e.source.as_ref().map(|s| format!(" from {s}")).unwrap_or_default());
        // VER-05 decides ASP.NET's event sources only; IIS's own (W3SVC, W3SVC-WP) are not its.
        let aspnet_source = e.source.as_deref().is_none_or(|s| s.starts_with("ASP.NET"));
        checks.push(check(
            text,
            if seen.is_empty() { "no events".into() } else { seen.join("; ") },
            found,
            if aspnet_source { &["VER-05"] } else { &[] },
        ));
    }
    checks
}
