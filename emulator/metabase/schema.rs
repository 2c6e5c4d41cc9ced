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
    /// Opaque bytes kept as the hex text the file held: secure properties and BINARY values (MB-11).
    Binary,
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
    /// The IIS 6 metabase identifier (`MD_*` constant), written as a Custom element's ID (MB-07).
    pub id: u32,
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
use Kind::{Binary, Bool, Dword, Flags, MultiSz};

macro_rules! prop {
    ($id:literal, $name:literal, $kind:expr, $inherit:literal, $default:expr) => {
        PropDef { id: $id, name: $name, kind: $kind, inherit: $inherit, default: $default }
    };
}

/// Every property iisim knows, in the order ENUM lists them.
pub static SCHEMA: &[PropDef] = &[
    prop!(1002, "KeyType", Str, false, Default::None),
    prop!(1015, "ServerComment", Str, true, Default::Str("")),
    prop!(1023, "ServerBindings", MultiSz, false, Default::None),
    prop!(2021, "SecureBindings", MultiSz, false, Default::None),
    prop!(1017, "ServerAutoStart", Bool, false, Default::Dword(1)),
    prop!(3001, "Path", Str, true, Default::Str("")),
    prop!(2103, "AppRoot", Str, true, Default::Str("")),
    prop!(2104, "AppIsolated", Dword, true, Default::Dword(2)),
    prop!(9101, "AppPoolId", Str, true, Default::Str("DefaultAppPool")),
    prop!(2102, "AppFriendlyName", Str, true, Default::Str("")),
    prop!(6016, "AccessFlags", Flags(ACCESS_FLAGS), true, Default::Dword(1)),
    prop!(6030, "AccessSSLFlags", Flags(ACCESS_SSL_FLAGS), true, Default::Dword(0)),
    prop!(6000, "AuthFlags", Flags(AUTH_FLAGS), true, Default::Dword(1)),
    prop!(6005, "DirBrowseFlags", Flags(DIR_BROWSE_FLAGS), true, Default::Dword(0x4000_001e)),
    prop!(6006, "DefaultDoc", Str, true, Default::Str("default.htm")),
    prop!(6014, "ScriptMaps", MultiSz, true, Default::None),
    prop!(6004, "HttpCustomHeaders", MultiSz, true, Default::None),
    prop!(6008, "HttpErrors", MultiSz, true, Default::None),
    prop!(6015, "MimeMap", MultiSz, true, Default::None),
    prop!(2073, "InProcessIsapiApps", MultiSz, true, Default::None),
    prop!(9203, "IIs5IsolationModeEnabled", Bool, false, Default::Dword(1)),
    prop!(2168, "WebSvcExtRestrictionList", MultiSz, false, Default::None),
    prop!(2167, "ApplicationDependencies", MultiSz, false, Default::None),
    prop!(2040, "FilterLoadOrder", Str, false, Default::Str("")),
    prop!(2041, "FilterPath", Str, true, Default::None),
    prop!(2045, "FilterDescription", Str, true, Default::None),
    prop!(2043, "FilterEnabled", Bool, true, Default::Dword(1)),
    prop!(9040, "Enable32BitAppOnWin64", Bool, true, Default::Dword(0)),
    prop!(9003, "MaxProcesses", Dword, true, Default::Dword(1)),
    prop!(9001, "PeriodicRestartTime", Dword, true, Default::Dword(60)),
    prop!(9002, "PeriodicRestartRequests", Dword, true, Default::Dword(0)),
    prop!(9024, "PeriodicRestartMemory", Dword, true, Default::Dword(0)),
    prop!(9038, "PeriodicRestartPrivateMemory", Dword, true, Default::Dword(0)),
    prop!(9020, "PeriodicRestartSchedule", MultiSz, true, Default::None),
    prop!(9005, "IdleTimeout", Dword, true, Default::Dword(20)),
    prop!(9012, "ShutdownTimeLimit", Dword, true, Default::Dword(90)),
    prop!(9011, "StartupTimeLimit", Dword, true, Default::Dword(90)),
    prop!(9004, "PingingEnabled", Bool, true, Default::Dword(1)),
    prop!(9013, "PingInterval", Dword, true, Default::Dword(30)),
    prop!(9014, "PingResponseTime", Dword, true, Default::Dword(60)),
    prop!(9006, "RapidFailProtection", Bool, true, Default::Dword(1)),
    prop!(9029, "RapidFailProtectionInterval", Dword, true, Default::Dword(5)),
    prop!(9030, "RapidFailProtectionMaxCrashes", Dword, true, Default::Dword(5)),
    prop!(9021, "AppPoolIdentityType", Dword, true, Default::Dword(2)),
    prop!(9028, "AppPoolAutoStart", Bool, false, Default::Dword(1)),
    prop!(1013, "ConnectionTimeout", Dword, true, Default::Dword(120)),
    // Secure properties: encrypted blobs iisim keeps verbatim and never decrypts (MB-11).
    prop!(6027, "AdminACL", Binary, true, Default::None),
    prop!(6021, "AnonymousUserPass", Binary, true, Default::None),
    prop!(7502, "WAMUserPass", Binary, true, Default::None),
    prop!(3003, "UNCPassword", Binary, true, Default::None),
    prop!(9999, "SessionKey", Binary, false, Default::None),
    // `/LM` settings: plain DWORDs written 0/1 (MB-03, MB-09).
    prop!(9998, "EnableEditWhileRunning", Dword, false, Default::Dword(0)),
    prop!(9996, "EnableHistory", Dword, false, Default::Dword(1)),
    prop!(9995, "MaxHistoryFiles", Dword, false, Default::Dword(10)),
    // More of the IIS 6.0 metabase reference's web properties (ADS-03, MB-19): the site state,
    // the anonymous and out-of-process identities, and ASP's settings.
    prop!(1016, "ServerState", Dword, false, Default::None),
    prop!(1018, "ServerSize", Dword, false, Default::Dword(1)),
    prop!(1014, "MaxConnections", Dword, true, Default::Dword(4294967295)),
    prop!(6020, "AnonymousUserName", Str, true, Default::None),
    prop!(3002, "UNCUserName", Str, true, Default::None),
    prop!(7501, "WAMUserName", Str, true, Default::None),
    prop!(7000, "AspBufferingOn", Bool, true, Default::Dword(1)),
    prop!(7001, "AspLogErrorRequests", Bool, true, Default::Dword(1)),
    prop!(7002, "AspScriptErrorSentToBrowser", Bool, true, Default::Dword(1)),
    prop!(7003, "AspScriptErrorMessage", Str, true, Default::None),
    prop!(7004, "AspScriptFileCacheSize", Dword, true, Default::Dword(500)),
    prop!(7005, "AspScriptEngineCacheMax", Dword, true, Default::Dword(250)),
    prop!(7006, "AspScriptTimeout", Dword, true, Default::Dword(90)),
    prop!(7007, "AspSessionTimeout", Dword, true, Default::Dword(20)),
    prop!(7008, "AspEnableParentPaths", Bool, true, Default::None),
    prop!(7011, "AspAllowSessionState", Bool, true, Default::Dword(1)),
    prop!(7012, "AspScriptLanguage", Str, true, Default::Str("VBScript")),
    prop!(7014, "AspAllowOutOfProcComponents", Bool, true, Default::Dword(1)),
    prop!(7015, "AspExceptionCatchEnable", Bool, true, Default::Dword(1)),
    prop!(7016, "AspCodepage", Dword, true, Default::Dword(0)),
];

/// Properties the metabase stores encrypted: adsutil shows their value as ten asterisks (ADS-03).
pub const SECURE: &[&str] = &["AnonymousUserPass", "UNCPassword", "WAMUserPass", "LogOdbcPassword"];

/// Whether `name` is a secure property (case-insensitive).
pub fn is_secure(name: &str) -> bool {
    SECURE.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The schema entry named `name` (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static PropDef> {
    // The length check first: most names differ in length, and lookups are frequent.
    SCHEMA.iter().find(|p| p.name.len() == name.len() && p.name.eq_ignore_ascii_case(name))
}

/// The schema entry with IIS 6 metabase identifier `id`.
pub fn lookup_id(id: u32) -> Option<&'static PropDef> {
    SCHEMA.iter().find(|p| p.id == id)
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
