//! The four ASP.NET runtimes as data: names, folders, files and extension sets (VER-, MAP-).

use std::fmt;

/// One ASP.NET runtime version that iisim knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// ASP.NET 1.0.3705.
    V1_0,
    /// ASP.NET 1.1.4322.
    V1_1,
    /// ASP.NET 2.0.50727 (also serves 3.0 and 3.5).
    V2_0,
    /// ASP.NET 4.0.30319.
    V4_0,
}

/// Processor architecture of a runtime folder (`Framework` or `Framework64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bitness {
    /// 32-bit `Framework` folder.
    X86,
    /// 64-bit `Framework64` folder (2.0 and 4.0 on x64 only).
    X64,
}

impl Bitness {
    /// The bitness of a Framework DLL by its folder (`\Framework64\` or `\Framework\`); `None`
    /// for DLLs outside the Framework folders.
    pub fn of_framework_dll(path: &str) -> Option<Bitness> {
        // Asked on every request in worker mode: each folder compared in place, not on a
        // lower-cased copy.
        let mut folders = path.split('\\');
        // A folder is between two backslashes.
        folders.next();
        folders.next_back();
        let mut bits = None;
        for f in folders {
            if f.eq_ignore_ascii_case("framework64") {
                return Some(Bitness::X64);
            }
            if f.eq_ignore_ascii_case("framework") {
                bits = Some(Bitness::X86);
            }
        }
        bits
    }
}

impl Version {
    /// All versions, oldest first.
    pub const ALL: [Version; 4] = [Version::V1_0, Version::V1_1, Version::V2_0, Version::V4_0];

    /// Short form, e.g. `2.0.50727`.
    pub fn short(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0.3705",
            Version::V1_1 => "1.1.4322",
            Version::V2_0 => "2.0.50727",
            Version::V4_0 => "4.0.30319",
        }
    }

    /// Registry form, e.g. `2.0.50727.0` (VER-07).
    pub fn registry(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0.3705.0",
            Version::V1_1 => "1.1.4322.0",
            Version::V2_0 => "2.0.50727.0",
            Version::V4_0 => "4.0.30319.0",
        }
    }

    /// Folder name under `Microsoft.NET\Framework`, e.g. `v2.0.50727`.
    pub fn folder_name(self) -> String {
        format!("v{}", self.short())
    }

    /// Major version used by the compatibility policy (CMP-01).
    pub fn major(self) -> u8 {
        match self {
            Version::V1_0 | Version::V1_1 => 1,
            Version::V2_0 => 2,
            Version::V4_0 => 4,
        }
    }

    /// Four-part RTM file version (VER-08).
    pub fn rtm_file_version(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0.3705.0",
            Version::V1_1 => "1.1.4322.573",
            Version::V2_0 => "2.0.50727.42",
            Version::V4_0 => "4.0.30319.1",
        }
    }

    /// The file versions of this runtime's service packs, SP1 first (VER-08).
    pub fn service_packs(self) -> &'static [&'static str] {
        match self {
            Version::V1_0 => &["1.0.3705.209", "1.0.3705.288", "1.0.3705.6018"],
            Version::V1_1 => &["1.1.4322.2032"],
            Version::V2_0 => &["2.0.50727.1433", "2.0.50727.3053"],
            Version::V4_0 => &[],
        }
    }

    /// The number of the last service pack iisim knows (0 when none).
    pub fn last_service_pack(self) -> u8 {
        self.service_packs().len() as u8
    }

    /// Four-part file version at service-pack level `sp` (0 for RTM) (VER-08).
    pub fn file_version_at(self, sp: u8) -> &'static str {
        match sp {
            0 => self.rtm_file_version(),
            n => self.service_packs().get(usize::from(n) - 1).copied().unwrap_or_else(|| self.rtm_file_version()),
        }
    }

    /// Four-part file version after the last service pack iisim knows (VER-08).
    pub fn sp_file_version(self) -> &'static str {
        self.file_version_at(self.last_service_pack())
    }

    /// Whether service pack `sp` already carries the KB 812833 fix (1.0 SP3, and 1.1 SP1 with
    /// the June 2003 rollup it includes) (KB-02).
    pub fn sp_carries_kb812833(self, sp: u8) -> bool {
        match self {
            Version::V1_0 => sp >= 3,
            Version::V1_1 => sp >= 1,
            _ => false,
        }
    }

    /// Parses `1.1`, `1.1.4322`, `v1.1.4322` or `1.1.4322.0`.
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        Version::ALL.into_iter().find(|v| {
            let short = v.short();
            let two = &short[..3];
            t == two || t == short || t == v.registry()
        })
    }

    /// Whether a 64-bit copy exists on x64 machines (VER-01).
    pub fn has_framework64(self) -> bool {
        matches!(self, Version::V2_0 | Version::V4_0)
    }

    /// Whether this version ships `aspnet_filter.dll` (VER-01).
    pub fn has_filter(self) -> bool {
        self != Version::V1_0
    }

    /// Client-script folder name under `aspnet_client\system_web` (VER-06).
    pub fn client_script_dir(self, file_version: &str) -> String {
        match self {
            // 1.0 folders carry the fourth part of the file version.
            Version::V1_0 => file_version.replace('.', "_"),
            _ => self.short().replace('.', "_"),
        }
    }

    /// Extensions this runtime executes (script-map flags 1) (MAP-02..04).
    pub fn executed_extensions(self, wcf: bool) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = EXEC_1X.to_vec();
        if self >= Version::V2_0 {
            v.extend_from_slice(EXEC_20);
        }
        if self == Version::V4_0 || (self == Version::V2_0 && wcf) {
            v.extend_from_slice(EXEC_WCF);
        }
        v
    }

    /// Whether `ext` (with its dot, any case) is one of [`Version::forbidden_extensions`].
    pub fn forbids_extension(self, ext: &str) -> bool {
        let lists: [&[&str]; 3] = [
            FORBID_1X,
            if self >= Version::V2_0 { FORBID_20 } else { &[] },
            if self == Version::V4_0 { FORBID_40 } else { &[] },
        ];
        lists.iter().flat_map(|l| l.iter()).any(|e| e.eq_ignore_ascii_case(ext))
    }

    /// Extensions this runtime refuses to serve (flags 5, or 1 in 1.0) (MAP-02..04, MAP-09).
    pub fn forbidden_extensions(self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = FORBID_1X.to_vec();
        if self >= Version::V2_0 {
            v.extend_from_slice(FORBID_20);
        }
        if self == Version::V4_0 {
            v.extend_from_slice(FORBID_40);
        }
        v
    }

    /// Script-map flags for a forbidden extension (MAP-01, MAP-09).
    pub fn forbidden_flags(self) -> u32 {
        if self == Version::V1_0 {
            1
        } else {
            5
        }
    }

    /// Whether the tool of this version takes a switch introduced in 2.0 (`-iru`, `-norestart`...).
    pub fn is_20_or_later(self) -> bool {
        self >= Version::V2_0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

const EXEC_1X: &[&str] = &[".ashx", ".asmx", ".aspx", ".axd", ".vsdisco", ".rem", ".soap"];
const EXEC_20: &[&str] = &[".msgx"];
const EXEC_WCF: &[&str] = &[".svc", ".xoml", ".rules", ".xamlx"];
const FORBID_1X: &[&str] =
    &[".asax", ".ascx", ".config", ".cs", ".csproj", ".vb", ".vbproj", ".webinfo", ".licx", ".resx", ".resources"];
const FORBID_20: &[&str] = &[
    ".master",
    ".skin",
    ".compiled",
    ".browser",
    ".mdb",
    ".jsl",
    ".vjsproj",
    ".sitemap",
    ".ad",
    ".dd",
    ".ldd",
    ".sd",
    ".cd",
    ".adprototype",
    ".lddprototype",
    ".sdm",
    ".sdmDocument",
    ".ldb",
    ".mdf",
    ".ldf",
    ".java",
    ".exclude",
    ".refresh",
];
const FORBID_40: &[&str] = &[".aspq", ".cshtm", ".cshtml", ".vbhtm", ".vbhtml"];

/// Files every runtime folder holds (VER-01, SHR-07); paths relative to the folder.
pub fn folder_files(v: Version) -> Vec<&'static str> {
    let mut files = vec![
        "aspnet_isapi.dll",
        "aspnet_regiis.exe",
        "aspnet_wp.exe",
        "aspnet_state.exe",
        "InstallSqlState.sql",
        "CONFIG\\machine.config",
    ];
    if v.has_filter() {
        files.push("aspnet_filter.dll");
    }
    if v.is_20_or_later() {
        files.push("aspnet_regsql.exe");
        files.push("CONFIG\\web.config");
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framework_dll_has_the_bitness_of_its_folder() {
        let of = Bitness::of_framework_dll;
        assert_eq!(of(r"C:\WINDOWS\Microsoft.NET\Framework\v2.0.50727\aspnet_isapi.dll"), Some(Bitness::X86));
        assert_eq!(of(r"c:\windows\microsoft.net\FRAMEWORK64\v2.0.50727\aspnet_isapi.dll"), Some(Bitness::X64));
        assert_eq!(of(r"C:\WINDOWS\system32\inetsrv\asp.dll"), None);
        assert_eq!(of(r"framework\aspnet_isapi.dll"), None, "a folder is between two backslashes");
        assert_eq!(of(r"C:\x\aspnet_framework.dll"), None);
        assert_eq!(of(r"C:\Framework"), None, "the file name is no folder");
    }

    #[test]
    fn forbidden_extensions_are_matched_in_any_case() {
        for v in Version::ALL {
            for e in v.forbidden_extensions() {
                assert!(v.forbids_extension(&e.to_ascii_uppercase()), "{v} {e}");
            }
            assert!(!v.forbids_extension(".aspx"), "{v}");
        }
    }
}
