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
    /// Stored encrypted (METADATA_SECURE): a hex blob in MetaBase.xml, `**********` in adsutil (MB-11, ADS-03).
    pub secure: bool,
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

pub use super::schema_iis6::SCHEMA;

/// Whether `name` is a secure property, stored encrypted: adsutil shows its value as ten
/// asterisks (ADS-03, MB-11). Case-insensitive.
pub fn is_secure(name: &str) -> bool {
    lookup(name).is_some_and(|d| d.secure)
}

/// Compares two names as ASCII case-insensitive text.
fn cmp_ci(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Indices of SCHEMA sorted by name: lookups are frequent and the table has hundreds of rows.
fn by_name() -> &'static [u16] {
    static INDEX: std::sync::OnceLock<Vec<u16>> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut idx: Vec<u16> = (0..SCHEMA.len() as u16).collect();
        idx.sort_by(|&a, &b| cmp_ci(SCHEMA[a as usize].name, SCHEMA[b as usize].name));
        idx
    })
}

/// The schema entry named `name` (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static PropDef> {
    let idx = by_name();
    idx.binary_search_by(|&i| cmp_ci(SCHEMA[i as usize].name, name)).ok().map(|p| &SCHEMA[idx[p] as usize])
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
