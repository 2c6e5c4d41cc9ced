//! The configuration files ASP.NET reads: the `<processModel>` element of each runtime's
//! machine.config (PM5-04, PM5-05) and what an application's web.config says (SES-01, HDR-01).

use std::collections::BTreeMap;

use crate::runtime::Version;

/// One processModel attribute: name, shipped value, first runtime that knows it.
struct Attr {
    name: &'static str,
    default: &'static str,
    since: Version,
}

const fn attr(name: &'static str, default: &'static str, since: Version) -> Attr {
    Attr { name, default, since }
}

/// The attributes and their shipped values (PM5-04): 1.x's set, then what 2.0 added.
static ATTRS: &[Attr] = &[
    attr("enable", "true", Version::V1_0),
    attr("timeout", "Infinite", Version::V1_0),
    attr("idleTimeout", "Infinite", Version::V1_0),
    attr("shutdownTimeout", "0:00:05", Version::V1_0),
    attr("requestLimit", "Infinite", Version::V1_0),
    attr("requestQueueLimit", "5000", Version::V1_0),
    attr("restartQueueLimit", "10", Version::V1_0),
    attr("memoryLimit", "60", Version::V1_0),
    attr("webGarden", "false", Version::V1_0),
    attr("cpuMask", "0xffffffff", Version::V1_0),
    attr("userName", "machine", Version::V1_0),
    attr("password", "AutoGenerate", Version::V1_0),
    attr("logLevel", "Errors", Version::V1_0),
    attr("clientConnectedCheck", "0:00:05", Version::V1_0),
    attr("responseDeadlockInterval", "00:03:00", Version::V1_0),
    attr("responseRestartDeadlockInterval", "00:09:00", Version::V1_0),
    attr("maxWorkerThreads", "20", Version::V1_0),
    attr("maxIoThreads", "20", Version::V1_0),
    attr("autoConfig", "true", Version::V2_0),
    attr("minWorkerThreads", "1", Version::V2_0),
    attr("minIoThreads", "1", Version::V2_0),
    attr("pingFrequency", "Infinite", Version::V2_0),
    attr("pingTimeout", "Infinite", Version::V2_0),
    attr("maxAppDomains", "2000", Version::V2_0),
    attr("serverErrorMessageFile", "", Version::V2_0),
];

/// Which worker events `logLevel` lets through (PM5-07).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Every recycling event.
    All,
    /// Error events only (1000-1003, 1007, 1008).
    Errors,
    /// None.
    None,
}

/// One runtime's processModel element: the attributes machine.config sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessModel {
    version: Version,
    values: BTreeMap<&'static str, String>,
    /// responseDeadlockInterval in seconds (`None` for Infinite), parsed when it is set: every
    /// request reads it (PM5-07, PM6-02).
    deadlock: Option<u64>,
}

/// The attribute every request reads, kept parsed.
const DEADLOCK: &str = "responseDeadlockInterval";

/// Parses `Infinite`, `h:mm:ss` or a number of seconds into seconds (`None` for Infinite).
fn parse_duration(text: &str) -> Result<Option<u64>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("infinite") {
        return Ok(None);
    }
    // Read on every request (responseDeadlockInterval): parsed without collecting the parts.
    let mut n = [0u64; 3];
    let mut parts = 0;
    for p in t.split(':') {
        match (n.get_mut(parts), p.trim().parse::<u64>()) {
            (Some(slot), Ok(v)) => *slot = v,
            _ => return Err(format!("`{text}` is not a time span (Infinite or hh:mm:ss)")),
        }
        parts += 1;
    }
    match parts {
        3 => Ok(Some(n[0] * 3600 + n[1] * 60 + n[2])),
        1 => Ok(Some(n[0])),
        _ => Err(format!("`{text}` is not a time span (Infinite or hh:mm:ss)")),
    }
}

fn parse_count(text: &str) -> Result<Option<u64>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("infinite") {
        return Ok(None);
    }
    t.parse::<u64>().map(Some).map_err(|_| format!("`{text}` is not a number (or Infinite)"))
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{text}` is not true or false")),
    }
}

fn parse_mask(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => t.parse::<u32>(),
    };
    r.map_err(|_| format!("`{text}` is not a CPU mask such as 0x3"))
}

impl ProcessModel {
    /// The element as runtime `v`'s machine.config ships it.
    pub fn shipped(version: Version) -> ProcessModel {
        let values = ATTRS.iter().filter(|a| version >= a.since).map(|a| (a.name, a.default.to_string())).collect();
        let mut pm = ProcessModel { version, values, deadlock: None };
        pm.deadlock = parse_duration(pm.get(DEADLOCK)).ok().flatten();
        pm
    }

    /// The element as runtime `v`'s machine.config ships it, built once.
    pub fn shipped_ref(version: Version) -> &'static ProcessModel {
        static SHIPPED: std::sync::OnceLock<Vec<ProcessModel>> = std::sync::OnceLock::new();
        let all = SHIPPED.get_or_init(|| Version::ALL.iter().map(|v| ProcessModel::shipped(*v)).collect());
        let i = Version::ALL.iter().position(|v| *v == version).unwrap_or(0);
        &all[i]
    }

    /// Sets an attribute, checking that this runtime knows it and that the value parses.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let a = ATTRS.iter().find(|a| a.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
            let names: Vec<&str> = ATTRS.iter().map(|a| a.name).collect();
            format!("unrecognized attribute '{name}' of <processModel>, expected one of {}", names.join(", "))
        })?;
        if self.version < a.since {
            return Err(format!(
                "unrecognized attribute '{}': <processModel> of {} does not have it",
                a.name, self.version
            ));
        }
        let checked = match a.name {
            "enable" | "webGarden" | "autoConfig" => parse_bool(value).map(|_| ()),
            "timeout"
            | "idleTimeout"
            | "shutdownTimeout"
            | "clientConnectedCheck"
            | "responseDeadlockInterval"
            | "responseRestartDeadlockInterval"
            | "pingFrequency"
            | "pingTimeout" => parse_duration(value).map(|_| ()),
            "requestLimit" | "requestQueueLimit" | "restartQueueLimit" | "memoryLimit" | "maxWorkerThreads"
            | "maxIoThreads" | "minWorkerThreads" | "minIoThreads" | "maxAppDomains" => parse_count(value).map(|_| ()),
            "cpuMask" => parse_mask(value).map(|_| ()),
            "logLevel" => match value {
                "All" | "Errors" | "None" => Ok(()),
                _ => Err(format!("`{value}` is not All, Errors or None")),
            },
            _ => Ok(()),
        };
        checked.map_err(|e| format!("processModel {}: {e}", a.name))?;
        self.values.insert(a.name, value.to_string());
        if a.name == DEADLOCK {
            self.deadlock = parse_duration(value).ok().flatten();
        }
        Ok(())
    }

    /// The attribute's text.
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// The attributes that differ from what ships, as `name="value"` pairs.
    pub fn changed(&self) -> Vec<String> {
        let shipped = ProcessModel::shipped(self.version);
        self.values
            .iter()
            .filter(|(k, v)| shipped.values.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect()
    }

    /// `enable`: ASP.NET forwards to aspnet_wp (PM5-01) or runs in its host (PM5-10).
    pub fn enabled(&self) -> bool {
        parse_bool(self.get("enable")).unwrap_or(true)
    }

    /// `webGarden` (PM5-06).
    pub fn web_garden(&self) -> bool {
        parse_bool(self.get("webGarden")).unwrap_or(false)
    }

    /// `cpuMask` (PM5-06).
    pub fn cpu_mask(&self) -> u32 {
        parse_mask(self.get("cpuMask")).unwrap_or(u32::MAX)
    }

    /// A time-span attribute in seconds; `None` for Infinite.
    pub fn seconds(&self, name: &str) -> Option<u64> {
        if name == DEADLOCK {
            return self.deadlock;
        }
        parse_duration(self.get(name)).ok().flatten()
    }

    /// A count attribute; `None` for Infinite.
    pub fn count(&self, name: &str) -> Option<u64> {
        parse_count(self.get(name)).ok().flatten()
    }

    /// `logLevel` (PM5-07).
    pub fn log_level(&self) -> LogLevel {
        match self.get("logLevel") {
            "All" => LogLevel::All,
            "None" => LogLevel::None,
            _ => LogLevel::Errors,
        }
    }

    /// Whether `userName`/`password` name a usable identity (PM5-09): `machine` (ASPNET) and
    /// `system` (LocalSystem) with AutoGenerate; any other account needs a real password, which
    /// iisim takes to be anything but AutoGenerate and empty.
    pub fn credentials_valid(&self) -> bool {
        let user = self.get("userName");
        let password = self.get("password");
        if user.eq_ignore_ascii_case("machine") || user.eq_ignore_ascii_case("system") {
            return true;
        }
        !password.is_empty() && !password.eq_ignore_ascii_case("AutoGenerate")
    }

    /// The account the worker runs as (PM5-09).
    pub fn identity(&self) -> String {
        let user = self.get("userName");
        if user.eq_ignore_ascii_case("machine") {
            "ASPNET".into()
        } else if user.eq_ignore_ascii_case("system") {
            "SYSTEM".into()
        } else {
            user.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_values_by_version() {
        let v11 = ProcessModel::shipped(Version::V1_1);
        assert!(v11.enabled());
        assert_eq!(v11.count("memoryLimit"), Some(60));
        assert_eq!(v11.count("requestQueueLimit"), Some(5000));
        assert_eq!(v11.seconds("responseDeadlockInterval"), Some(180));
        assert_eq!(v11.seconds("idleTimeout"), None);
        assert_eq!(v11.get("maxAppDomains"), "");
        assert_eq!(ProcessModel::shipped(Version::V2_0).get("maxAppDomains"), "2000");
        assert!(v11.changed().is_empty());
    }

    #[test]
    fn edits_are_checked() {
        let mut pm = ProcessModel::shipped(Version::V1_0);
        pm.set("enable", "false").unwrap();
        assert!(!pm.enabled());
        assert_eq!(pm.changed(), ["enable=\"false\""]);
        assert!(pm.set("autoConfig", "true").unwrap_err().contains("does not have it"));
        assert!(pm.set("memoryLimt", "5").unwrap_err().contains("unrecognized attribute"));
        assert!(pm.set("idleTimeout", "soon").unwrap_err().contains("time span"));
        pm.set("idleTimeout", "00:20:00").unwrap();
        assert_eq!(pm.seconds("idleTimeout"), Some(1200));
        pm.set("cpuMask", "0x3").unwrap();
        assert_eq!(pm.cpu_mask(), 3);
        pm.set("userName", "IISBOX\\web").unwrap();
        assert!(!pm.credentials_valid());
        pm.set("password", "s3cret").unwrap();
        assert!(pm.credentials_valid());
    }
}

/// What an application's web.config says that the process model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebConfig {
    /// `<sessionState mode>` (SES-01).
    pub session: SessionMode,
    /// `<httpRuntime enableVersionHeader>` (HDR-01; 2.0+).
    pub version_header: bool,
    /// The runtime the application was built for (CMP-02), if declared.
    pub target: Option<Version>,
    /// `<sessionState cookieless="true">`: the session ID travels in the URL (SES-10).
    pub cookieless: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { session: SessionMode::InProc, version_header: true, target: None, cookieless: false }
    }
}

/// Where an application keeps session state (`<sessionState mode>`, SES-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SessionMode {
    /// In the AppDomain (default).
    InProc,
    /// In the `aspnet_state` service.
    StateServer,
    /// In SQL Server (ASPState, tables in tempdb).
    SqlServer,
    /// No session state.
    Off,
}

impl SessionMode {
    /// Parses the web.config spelling (`InProc`, `StateServer`, `SQLServer`, `Off`), any case.
    pub fn parse(text: &str) -> Option<SessionMode> {
        match text.to_ascii_lowercase().as_str() {
            "inproc" => Some(SessionMode::InProc),
            "stateserver" => Some(SessionMode::StateServer),
            "sqlserver" => Some(SessionMode::SqlServer),
            "off" => Some(SessionMode::Off),
            _ => None,
        }
    }

    /// The web.config spelling.
    pub fn name(self) -> &'static str {
        match self {
            SessionMode::InProc => "InProc",
            SessionMode::StateServer => "StateServer",
            SessionMode::SqlServer => "SQLServer",
            SessionMode::Off => "Off",
        }
    }
}
