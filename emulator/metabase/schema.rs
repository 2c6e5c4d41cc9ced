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
    // The rest of the IIS 6.0 metabase reference's web properties: ASP, authentication and
    // identities, logging, limits, pools (ADS-03, MB-19); secure ones are in [`SECURE`].
    prop!("ServerState", Dword, false, Default::None),
    prop!("ServerSize", Dword, false, Default::Dword(1)),
    prop!("ServerListenBacklog", Dword, false, Default::None),
    prop!("ServerListenTimeout", Dword, true, Default::Dword(120)),
    prop!("MaxConnections", Dword, true, Default::Dword(4294967295)),
    prop!("MaxEndpointConnections", Dword, true, Default::Dword(4294967295)),
    prop!("MaxBandwidth", Dword, true, Default::Dword(4294967295)),
    prop!("AllowKeepAlive", Bool, true, Default::Dword(1)),
    prop!("UseHostName", Bool, true, Default::Dword(0)),
    prop!("AnonymousUserName", Str, true, Default::None),
    prop!("AnonymousUserPass", Str, true, Default::None),
    prop!("AnonymousPasswordSync", Bool, true, Default::Dword(0)),
    prop!("UNCUserName", Str, true, Default::None),
    prop!("UNCPassword", Str, true, Default::None),
    prop!("WAMUserName", Str, true, Default::None),
    prop!("WAMUserPass", Str, true, Default::None),
    prop!("DefaultLogonDomain", Str, true, Default::None),
    prop!("LogonMethod", Dword, true, Default::Dword(3)),
    prop!("NTAuthenticationProviders", Str, true, Default::Str("Negotiate,NTLM")),
    prop!("Realm", Str, true, Default::None),
    prop!("AppAllowDebugging", Bool, true, Default::Dword(0)),
    prop!("AppAllowClientDebug", Bool, true, Default::Dword(0)),
    prop!("AppOopRecoverLimit", Dword, true, Default::None),
    prop!("AppPackageID", Str, true, Default::None),
    prop!("AppPackageName", Str, true, Default::None),
    prop!("AppWamClsid", Str, true, Default::None),
    prop!("AspAllowOutOfProcComponents", Bool, true, Default::Dword(1)),
    prop!("AspAllowSessionState", Bool, true, Default::Dword(1)),
    prop!("AspAppServiceFlags", Dword, true, Default::Dword(0)),
    prop!("AspBufferingLimit", Dword, true, Default::Dword(4194304)),
    prop!("AspBufferingOn", Bool, true, Default::Dword(1)),
    prop!("AspCalcLineNumber", Bool, true, Default::Dword(1)),
    prop!("AspCodepage", Dword, true, Default::Dword(0)),
    prop!("AspDiskTemplateCacheDirectory", Kind::ExpandSz, true, Default::None),
    prop!("AspEnableApplicationRestart", Bool, true, Default::Dword(1)),
    prop!("AspEnableAspHtmlFallback", Bool, true, Default::Dword(0)),
    prop!("AspEnableChunkedEncoding", Bool, true, Default::Dword(1)),
    prop!("AspEnableParentPaths", Bool, true, Default::None),
    prop!("AspEnableSxs", Bool, true, Default::Dword(0)),
    prop!("AspEnableTypelibCache", Bool, true, Default::Dword(1)),
    prop!("AspErrorsToNTLog", Bool, true, Default::Dword(0)),
    prop!("AspExceptionCatchEnable", Bool, true, Default::Dword(1)),
    prop!("AspExecuteInMTA", Bool, true, Default::Dword(0)),
    prop!("AspKeepSessionIDSecure", Bool, true, Default::Dword(0)),
    prop!("AspLCID", Dword, true, Default::Dword(2048)),
    prop!("AspLogErrorRequests", Bool, true, Default::Dword(1)),
    prop!("AspMaxDiskTemplateCacheFiles", Dword, true, Default::Dword(2000)),
    prop!("AspMaxRequestEntityAllowed", Dword, true, Default::Dword(204800)),
    prop!("AspPartitionID", Str, true, Default::None),
    prop!("AspProcessorThreadMax", Dword, true, Default::Dword(25)),
    prop!("AspQueueConnectionTestTime", Dword, true, Default::Dword(3)),
    prop!("AspQueueTimeout", Dword, true, Default::Dword(4294967295)),
    prop!("AspRequestQueueMax", Dword, true, Default::Dword(3000)),
    prop!("AspRunOnEndAnonymously", Bool, true, Default::Dword(1)),
    prop!("AspScriptEngineCacheMax", Dword, true, Default::Dword(250)),
    prop!("AspScriptErrorMessage", Str, true, Default::None),
    prop!("AspScriptErrorSentToBrowser", Bool, true, Default::Dword(1)),
    prop!("AspScriptFileCacheSize", Dword, true, Default::Dword(500)),
    prop!("AspScriptLanguage", Str, true, Default::Str("VBScript")),
    prop!("AspScriptTimeout", Dword, true, Default::Dword(90)),
    prop!("AspSessionMax", Dword, true, Default::Dword(4294967295)),
    prop!("AspSessionTimeout", Dword, true, Default::Dword(20)),
    prop!("AspSxsName", Str, true, Default::None),
    prop!("AspTrackThreadingModel", Bool, true, Default::Dword(0)),
    prop!("AspUsePartition", Bool, true, Default::Dword(0)),
    prop!("CacheControlCustom", Str, true, Default::None),
    prop!("CacheControlMaxAge", Dword, true, Default::Dword(0)),
    prop!("CacheControlNoCache", Bool, true, Default::Dword(0)),
    prop!("CacheISAPI", Bool, true, Default::Dword(1)),
    prop!("CGITimeout", Dword, true, Default::Dword(300)),
    prop!("ContentIndexed", Bool, true, Default::Dword(1)),
    prop!("CreateCGIWithNewConsole", Bool, true, Default::Dword(0)),
    prop!("CreateProcessAsUser", Bool, true, Default::Dword(1)),
    prop!("DefaultDocFooter", Str, true, Default::None),
    prop!("DontLog", Bool, true, Default::Dword(0)),
    prop!("EnableDocFooter", Bool, true, Default::Dword(0)),
    prop!("EnableReverseDns", Bool, true, Default::Dword(0)),
    prop!("FrontPageWeb", Bool, true, Default::None),
    prop!("HttpExpires", Str, true, Default::None),
    prop!("HttpPics", MultiSz, true, Default::None),
    prop!("HttpRedirect", Str, true, Default::None),
    prop!("IPSecurity", MultiSz, true, Default::None),
    prop!("LogExtFileFlags", Dword, true, Default::None),
    prop!("LogFileDirectory", Kind::ExpandSz, true, Default::None),
    prop!("LogFileLocaltimeRollover", Bool, true, Default::Dword(0)),
    prop!("LogFilePeriod", Dword, true, Default::Dword(1)),
    prop!("LogFileTruncateSize", Dword, true, Default::Dword(20971520)),
    prop!("LogOdbcDataSource", Str, true, Default::None),
    prop!("LogOdbcPassword", Str, true, Default::None),
    prop!("LogOdbcTableName", Str, true, Default::None),
    prop!("LogOdbcUserName", Str, true, Default::None),
    prop!("LogPluginClsid", Str, true, Default::None),
    prop!("LogType", Dword, true, Default::Dword(1)),
    prop!("PassportRequireADMapping", Dword, true, Default::None),
    prop!("RedirectHeaders", MultiSz, true, Default::None),
    prop!("UploadReadAheadSize", Dword, true, Default::Dword(49152)),
    prop!("Win32Error", Dword, false, Default::Dword(0)),
    prop!("AppPoolQueueLength", Dword, true, Default::Dword(1000)),
    prop!("CPUAction", Dword, true, Default::Dword(0)),
    prop!("CPULimit", Dword, true, Default::Dword(0)),
    prop!("CPUResetInterval", Dword, true, Default::Dword(5)),
    prop!("DisallowOverlappingRotation", Bool, true, Default::Dword(0)),
    prop!("DisallowRotationOnConfigChange", Bool, true, Default::Dword(0)),
    prop!("LoadBalancerCapabilities", Dword, true, Default::Dword(2)),
    prop!("OrphanWorkerProcess", Bool, true, Default::Dword(0)),
    prop!("OrphanActionExe", Str, true, Default::None),
    prop!("OrphanActionParams", Str, true, Default::None),
    prop!("SMPAffinitized", Bool, true, Default::Dword(0)),
    prop!("SMPProcessorAffinityMask", Dword, true, Default::Dword(4294967295)),
    prop!("AppPoolState", Dword, false, Default::None),
    prop!("CentralBinaryLoggingEnabled", Bool, false, Default::Dword(0)),
    prop!("DemandStartThreshold", Dword, true, Default::None),
    prop!("LogInUTF8", Bool, false, Default::Dword(0)),
    prop!("MaxGlobalBandwidth", Dword, false, Default::Dword(4294967295)),
];

/// Properties the metabase stores encrypted: adsutil shows their value as ten asterisks (ADS-03).
pub const SECURE: &[&str] = &["AnonymousUserPass", "UNCPassword", "WAMUserPass", "LogOdbcPassword"];

/// Whether `name` is a secure property (case-insensitive).
pub fn is_secure(name: &str) -> bool {
    SECURE.iter().any(|s| s.eq_ignore_ascii_case(name))
}

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
