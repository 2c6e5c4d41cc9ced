//! The properties iisim knows: type, inheritance and default (MB-19, MB-23).

/// The stored type of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Unsigned 32-bit number.
    Dword,
    /// DWORD shown as `TRUE`/`FALSE` (MB-09).
    Bool,
    /// DWORD bit set shown as names joined by ` | ` (MB-09, MB-18).
    Flags(&'static [(&'static str, u32)]),
    /// Text.
    String,
    /// Text whose `%variables%` expand when resolved (MB-12).
    ExpandSz,
    /// List of texts, one per line (MB-10).
    MultiSz,
}

/// A property's schema default.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    /// No default: unset means absent.
    None,
    /// A number.
    Dword(u32),
    /// A text.
    Str(&'static str),
    /// A list.
    Multi(&'static [&'static str]),
}

/// The schema entry of one property.
#[derive(Debug, Clone, Copy)]
pub struct PropDef {
    /// Canonical name, e.g. `ScriptMaps`.
    pub name: &'static str,
    /// Stored type.
    pub kind: Kind,
    /// Whether children inherit it (MB-16, MB-19).
    pub inherit: bool,
    /// Value when no key on the path sets it (MB-20).
    pub default: Default,
}

/// Bits of AccessFlags (MB-23).
pub const ACCESS_FLAGS: &[(&str, u32)] = &[
    ("AccessRead", 1),
    ("AccessWrite", 2),
    ("AccessExecute", 4),
    ("AccessSource", 16),
    ("AccessScript", 512),
    ("AccessNoRemoteWrite", 1024),
    ("AccessNoRemoteRead", 4096),
    ("AccessNoRemoteExecute", 8192),
    ("AccessNoRemoteScript", 16384),
    ("AccessNoPhysicalDir", 32768),
];

/// Bits of AuthFlags (MB-23).
pub const AUTH_FLAGS: &[(&str, u32)] =
    &[("AuthAnonymous", 1), ("AuthBasic", 2), ("AuthNTLM", 4), ("AuthMD5", 16), ("AuthPassport", 64)];

/// Bits of AccessSSLFlags (MB-23).
pub const ACCESS_SSL_FLAGS: &[(&str, u32)] = &[
    ("AccessSSL", 8),
    ("AccessSSLNegotiateCert", 32),
    ("AccessSSLRequireCert", 64),
    ("AccessSSLMapCert", 128),
    ("AccessSSL128", 256),
];

/// Bits of DirBrowseFlags (MB-23).
pub const DIR_BROWSE_FLAGS: &[(&str, u32)] = &[
    ("DirBrowseShowDate", 2),
    ("DirBrowseShowTime", 4),
    ("DirBrowseShowSize", 8),
    ("DirBrowseShowExtension", 16),
    ("DirBrowseShowLongDate", 32),
    ("EnableDefaultDoc", 0x4000_0000),
    ("EnableDirBrowsing", 0x8000_0000),
];

use Kind::String as Str;
use Kind::{Bool, Dword, Flags, MultiSz};

macro_rules! prop {
    ($name:literal, $kind:expr, $inherit:literal, $default:expr) => {
        PropDef { name: $name, kind: $kind, inherit: $inherit, default: $default }
    };
}

/// Every property iisim knows, in the order ENUM lists them.
pub static SCHEMA: &[PropDef] = &[
    prop!("KeyType", Str, false, Default::None),
    prop!("ServerComment", Str, true, Default::Str("")),
    prop!("ServerBindings", MultiSz, false, Default::None),
    prop!("SecureBindings", MultiSz, false, Default::None),
    prop!("ServerAutoStart", Bool, false, Default::Dword(1)),
    prop!("Path", Str, true, Default::Str("")),
    prop!("AppRoot", Str, true, Default::Str("")),
    prop!("AppIsolated", Dword, true, Default::Dword(2)),
    prop!("AppPoolId", Str, true, Default::Str("DefaultAppPool")),
    prop!("AppFriendlyName", Str, true, Default::Str("")),
    prop!("AccessFlags", Flags(ACCESS_FLAGS), true, Default::Dword(1)),
    prop!("AccessSSLFlags", Flags(ACCESS_SSL_FLAGS), true, Default::Dword(0)),
    prop!("AuthFlags", Flags(AUTH_FLAGS), true, Default::Dword(1)),
    prop!("DirBrowseFlags", Flags(DIR_BROWSE_FLAGS), true, Default::Dword(0x4000_001e)),
    prop!("DefaultDoc", Str, true, Default::Str("default.htm")),
    prop!("ScriptMaps", MultiSz, true, Default::None),
    prop!("HttpCustomHeaders", MultiSz, true, Default::None),
    prop!("HttpErrors", MultiSz, true, Default::None),
    prop!("MimeMap", MultiSz, true, Default::None),
    prop!("InProcessIsapiApps", MultiSz, true, Default::None),
    prop!("IIs5IsolationModeEnabled", Bool, false, Default::Dword(1)),
    prop!("WebSvcExtRestrictionList", MultiSz, false, Default::None),
    prop!("ApplicationDependencies", MultiSz, false, Default::None),
    prop!("FilterLoadOrder", Str, false, Default::Str("")),
    prop!("FilterPath", Str, true, Default::None),
    prop!("FilterDescription", Str, true, Default::None),
    prop!("FilterEnabled", Bool, true, Default::Dword(1)),
    prop!("Enable32BitAppOnWin64", Bool, true, Default::Dword(0)),
    prop!("MaxProcesses", Dword, true, Default::Dword(1)),
    prop!("PeriodicRestartTime", Dword, true, Default::Dword(60)),
    prop!("PeriodicRestartRequests", Dword, true, Default::Dword(0)),
    prop!("PeriodicRestartMemory", Dword, true, Default::Dword(0)),
    prop!("PeriodicRestartPrivateMemory", Dword, true, Default::Dword(0)),
    prop!("PeriodicRestartSchedule", MultiSz, true, Default::None),
    prop!("IdleTimeout", Dword, true, Default::Dword(20)),
    prop!("ShutdownTimeLimit", Dword, true, Default::Dword(90)),
    prop!("StartupTimeLimit", Dword, true, Default::Dword(90)),
    prop!("PingingEnabled", Bool, true, Default::Dword(1)),
    prop!("PingInterval", Dword, true, Default::Dword(30)),
    prop!("PingResponseTime", Dword, true, Default::Dword(60)),
    prop!("RapidFailProtection", Bool, true, Default::Dword(1)),
    prop!("RapidFailProtectionInterval", Dword, true, Default::Dword(5)),
    prop!("RapidFailProtectionMaxCrashes", Dword, true, Default::Dword(5)),
    prop!("AppPoolIdentityType", Dword, true, Default::Dword(2)),
    prop!("AppPoolAutoStart", Bool, false, Default::Dword(1)),
    prop!("ConnectionTimeout", Dword, true, Default::Dword(120)),
];

/// The schema entry named `name` (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static PropDef> {
    SCHEMA.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Formats a flag DWORD canonically: names joined by ` | `, unknown bits as a number, zero as `0`.
pub fn format_flags(bits: &[(&str, u32)], value: u32) -> String {
    if value == 0 {
        return "0".to_string();
    }
    let mut names = Vec::new();
    let mut rest = value;
    for &(name, bit) in bits {
        if value & bit == bit {
            names.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(rest.to_string());
    }
    names.join(" | ")
}

/// Reads a flag DWORD written as names joined by `|` (stray spaces allowed) or as a decimal number.
pub fn parse_flags(bits: &[(&str, u32)], text: &str) -> Result<u32, String> {
    let mut value = 0u32;
    for part in text.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        if let Ok(n) = part.parse::<u32>() {
            value |= n;
        } else if let Some(&(_, bit)) = bits.iter().find(|(n, _)| n.eq_ignore_ascii_case(part)) {
            value |= bit;
        } else {
            return Err(format!("unknown flag `{part}`"));
        }
    }
    Ok(value)
}
