//! Windows editions and the IIS version each ships.

use std::fmt;

/// A Windows edition iisim emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edition {
    /// Windows 2000 Server: IIS 5.0.
    Win2000,
    /// Windows XP Professional: IIS 5.1.
    WinXp,
    /// Windows Server 2003: IIS 6.0.
    Win2003,
}

impl Edition {
    /// Parses `2000`, `xp` or `2003` (case-insensitive).
    pub fn parse(text: &str) -> Option<Edition> {
        match text.trim().to_ascii_lowercase().as_str() {
            "2000" | "windows 2000" | "win2000" => Some(Edition::Win2000),
            "xp" | "windows xp" | "winxp" => Some(Edition::WinXp),
            "2003" | "windows server 2003" | "win2003" => Some(Edition::Win2003),
            _ => None,
        }
    }

    /// The IIS version, e.g. `5.1`.
    pub fn iis_version(self) -> &'static str {
        match self {
            Edition::Win2000 => "5.0",
            Edition::WinXp => "5.1",
            Edition::Win2003 => "6.0",
        }
    }

    /// Whether this is IIS 6.0.
    pub fn is_iis6(self) -> bool {
        self == Edition::Win2003
    }

    /// `%windir%`: `C:\WINNT` on Windows 2000, `C:\WINDOWS` after.
    pub fn windir(self) -> &'static str {
        match self {
            Edition::Win2000 => "C:\\WINNT",
            _ => "C:\\WINDOWS",
        }
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Edition::Win2000 => "Windows 2000 Server",
            Edition::WinXp => "Windows XP Professional",
            Edition::Win2003 => "Windows Server 2003",
        })
    }
}
