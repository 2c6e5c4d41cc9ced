//! Tool and event texts, one catalog per runtime version.
//!
//! Quoted strings of the reference are reproduced exactly; where the reference gives only a
//! message's meaning, the wording is iisim's own (see docs/MODELING.md).

use crate::machine::journal::Level;
use crate::runtime::Version;

/// An event the catalog defines: level, ID and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventText {
    /// Severity.
    pub level: Level,
    /// Event ID.
    pub id: u32,
    /// Message text with placeholders substituted.
    pub message: String,
}

/// The message catalog of one runtime version (1.x share 2.0's IDs: policy events.catalog).
#[derive(Debug, Clone, Copy)]
pub struct Catalog {
    version: Version,
}

fn ev(level: Level, id: u32, message: String) -> EventText {
    EventText { level, id, message }
}

impl Catalog {
    /// The catalog of runtime `v`.
    pub fn of(version: Version) -> Catalog {
        Catalog { version }
    }

    /// Event source `ASP.NET <V>` (VER-05).
    pub fn source(&self) -> String {
        format!("ASP.NET {}", self.version.registry())
    }

    /// 1017: registration starts (SET-10).
    pub fn start_registering(&self, flags: u32) -> EventText {
        let v = self.version.short();
        ev(Level::Information, 1017, format!("Start registering ASP.NET (version {v}) (internal flag: {flags})"))
    }

    /// 1019: registration finished (SET-10).
    pub fn finish_registering(&self, log: &str) -> EventText {
        let v = self.version.short();
        let text =
            format!("Finish registering ASP.NET (version {v}). Detailed registration logs can be found in {log}");
        ev(Level::Information, 1019, text)
    }

    /// 1027: unregistration starts (SET-10; wording iisim's).
    pub fn start_unregistering(&self) -> EventText {
        ev(Level::Information, 1027, format!("Start unregistering ASP.NET (version {})", self.version.short()))
    }

    /// 1029: unregistration finished (SET-10; wording iisim's).
    pub fn finish_unregistering(&self) -> EventText {
        ev(Level::Information, 1029, format!("Finish unregistering ASP.NET (version {})", self.version.short()))
    }

    /// 1020: IIS missing or disabled, metabase work skipped (SET-05).
    pub fn iis_missing(&self) -> EventText {
        ev(Level::Warning, 1020, "Updates to the IIS metabase were aborted because IIS is either not installed or is disabled on this machine. To configure ASP.NET to run in IIS, please install or enable IIS and re-register ASP.NET using aspnet_regiis.exe /i.".into())
    }

    /// 1023: W3SVC restart begins (REG-16).
    pub fn restarting_w3svc(&self) -> EventText {
        ev(Level::Information, 1023, "Restarting W3SVC".into())
    }

    /// 1025: W3SVC restart done (REG-16).
    pub fn finished_restarting_w3svc(&self) -> EventText {
        ev(Level::Information, 1025, "Finish restarting W3SVC".into())
    }

    /// 1026: no lower runtime left to take over (SET-07; wording iisim's).
    pub fn clean_uninstall(&self) -> EventText {
        let v = self.version.short();
        ev(Level::Warning, 1026, format!("No other version of ASP.NET was found to take over from version {v}; performing a clean uninstall of ASP.NET."))
    }

    /// 1032: `-i` found a higher version at the root (REG-03; wording iisim's).
    pub fn root_too_high(&self, root: Version) -> EventText {
        let v = self.version.short();
        let r = root.short();
        ev(Level::Warning, 1032, format!("ASP.NET version {v} was registered, but no script map was changed: it is not high enough to replace version {r} mapped at the root (W3SVC/)."))
    }
}
