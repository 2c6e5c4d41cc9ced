//! .NET Framework setup: installing and uninstalling a framework version (SET-).

use crate::edition::Edition;
use crate::machine::{Machine, RuntimeState};
use crate::process::World;
use crate::registration::{self, Pass};
use crate::runtime::{Bitness, Version};

/// What a setup package installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// A runtime with its own ASP.NET (1.0, 1.1, 2.0, 4.0).
    Runtime(Version),
    /// .NET Framework 3.0 or 3.5: assemblies on top of CLR 2.0 (VER-03).
    NetFx3,
    /// The KB 812833 update of 1.0, or the June 2003 rollup (KB 821156) of 1.1 (KB-02).
    Kb812833(Version),
    /// A service pack of a runtime: 1.0 SP1..SP3, 1.1 SP1, 2.0 SP1..SP2 (VER-08).
    ServicePack(Version, u8),
}

impl Product {
    /// Parses `1.0`…`4.0` (any accepted version form), `3.0`, `3.5`, `KB812833`, `KB821156`, or a
    /// service pack such as `1.0 SP2` / `1.0sp2`.
    pub fn parse(text: &str) -> Option<Product> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if let Some((ver, sp)) = lower.rsplit_once("sp") {
            let v = Version::parse(ver.trim().trim_end_matches(['-', ' ']))?;
            let n: u8 = sp.trim().parse().ok()?;
            return (1..=v.last_service_pack()).contains(&n).then_some(Product::ServicePack(v, n));
        }
        match t {
            "3.0" | "3.5" => Some(Product::NetFx3),
            t if t.eq_ignore_ascii_case("KB812833") => Some(Product::Kb812833(Version::V1_0)),
            t if t.eq_ignore_ascii_case("KB821156") => Some(Product::Kb812833(Version::V1_1)),
            t => Version::parse(t).map(Product::Runtime),
        }
    }
}

/// What setup printed and its exit code (MSI-style codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupResult {
    /// Lines the setup log shows.
    pub output: Vec<String>,
    /// 0 on success, 1603 on a fatal error, 1605 when the product is not installed.
    pub exit: i32,
}

fn ok(output: Vec<String>) -> SetupResult {
    SetupResult { output, exit: 0 }
}

/// Windows Installer's exit code for a patch whose target is missing or at the wrong level
/// (ERROR_PATCH_TARGET_NOT_FOUND): a hotfix without its service pack, a service pack without its
/// framework.
pub const PATCH_TARGET_NOT_FOUND: i32 = 1642;

/// Applies the KB 812833 update to 1.0 or the June 2003 rollup to 1.1 (KB-02): ASP.NET of that
/// runtime may then run inside dllhost.exe (KB-03) and 1.0 gains HttpRuntime.UnloadAppDomain (KB-08).
/// The 1.0 update needs Service Pack 2; 1.0 SP3 and 1.1 SP1 already carry the fix.
fn install_kb812833(m: &mut Machine, v: Version) -> SetupResult {
    let name = if v == Version::V1_0 { "KB812833" } else { "KB821156" };
    let state = m.runtime(v);
    if !state.installed {
        m.note(format!("{name} refused: .NET Framework {v} is not installed"), &["KB-02"]);
        return SetupResult {
            output: vec![format!("{name}: the .NET Framework {} this update applies to is not installed.", v.short())],
            exit: PATCH_TARGET_NOT_FOUND,
        };
    }
    if v == Version::V1_0 && m.service_pack(v) < 2 {
        let level = match m.service_pack(v) {
            0 => "no service pack".to_string(),
            n => format!("Service Pack {n}"),
        };
        m.note(format!("{name} refused: .NET Framework 1.0 has {level}; the update needs Service Pack 2"), &["KB-02"]);
        return SetupResult {
            output: vec![
                "You must have the Framework 1.0 Service Pack 2 installed to apply this software update.".into()
            ],
            exit: PATCH_TARGET_NOT_FOUND,
        };
    }
    if m.has_kb812833(v) {
        let why = if state.kb812833 {
            format!("{name} is already installed.")
        } else {
            format!(
                "{name} is not needed: .NET Framework {} Service Pack {} already contains it.",
                v.short(),
                m.service_pack(v)
            )
        };
        m.note(format!("{name} changes nothing: the fix is already on the machine"), &["KB-02"]);
        return ok(vec![why]);
    }
    let files = if v == Version::V1_0 {
        "aspnet_isapi.dll, aspnet_wp.exe, System.Web.dll 1.0.3705.398"
    } else {
        "the June 2003 ASP.NET rollup"
    };
    m.set_runtime(
        v,
        RuntimeState { kb812833: true, ..state },
        &format!("{name} applied to {v} ({files}): ASP.NET may run in dllhost.exe; processes already running keep the old files"),
        &["KB-02", "KB-03"],
    );
    m.note("Microsoft advises Windows Server 2003 application pools where isolation or several ASP.NET processes are needed", &["KB-09"]);
    ok(vec![format!("{name} installed for .NET Framework {}.", v.short())])
}

/// Installs service pack `sp` of runtime `v`: its files move to the service pack's build (VER-08).
/// A service pack that carries the KB 812833 fix gives ASP.NET the update's behaviour (KB-02).
fn install_service_pack(m: &mut Machine, v: Version, sp: u8) -> SetupResult {
    let state = m.runtime(v);
    let name = format!(".NET Framework {} Service Pack {sp}", v.short());
    if !state.installed {
        m.note(format!("{name} refused: .NET Framework {v} is not installed"), &["VER-08"]);
        return SetupResult {
            output: vec![format!("{name} cannot be installed: .NET Framework {} is not installed.", v.short())],
            exit: PATCH_TARGET_NOT_FOUND,
        };
    }
    if m.service_pack(v) >= sp {
        m.note(format!("{name} changes nothing: Service Pack {} is installed", m.service_pack(v)), &["VER-08"]);
        return ok(vec![format!("{name} or a later service pack is already installed.")]);
    }
    let carries = v.sp_carries_kb812833(sp) && !m.has_kb812833(v);
    let next = RuntimeState { service_pack: sp, ..state };
    m.set_runtime(
        v,
        next,
        &format!(
            "{name} installed: files at {} (were {}); processes already running keep the old files",
            v.file_version_at(sp),
            m.file_version(v)
        ),
        &["VER-08"],
    );
    if carries {
        m.note(format!("{name} carries the KB 812833 fix: ASP.NET {v} may run in dllhost.exe"), &["KB-02", "KB-03"]);
    }
    ok(vec![format!("{name} installed.")])
}

/// Installs a framework; `upgrade` is false with `/noaspupgrade` (SET-01..05, REG-16).
pub fn install(m: &mut Machine, w: &mut World, product: Product, upgrade: bool) -> SetupResult {
    let v = match product {
        Product::Runtime(v) => v,
        Product::NetFx3 => Version::V2_0,
        Product::Kb812833(v) => return install_kb812833(m, v),
        Product::ServicePack(v, sp) => return install_service_pack(m, v, sp),
    };
    if m.edition() == Edition::Win2000 && (v == Version::V4_0 || product == Product::NetFx3) {
        m.note(format!("setup refused: {} does not support this framework", m.edition()), &[]);
        let what = if product == Product::NetFx3 { "3.x".to_string() } else { v.to_string() };
        return SetupResult {
            output: vec![format!("Setup cannot continue: .NET Framework {what} does not support {}.", m.edition())],
            exit: 1603,
        };
    }
    let mut output = Vec::new();
    if !m.runtime(v).installed {
        registration::install_files(m, v, false);
        if m.iis_bitness() == Bitness::X64 && !v.has_framework64() {
            // A 32-bit-only runtime cannot register while IIS runs 64-bit (REG-01).
            m.note(
                format!("ASP.NET {v} is 32-bit only and IIS runs 64-bit: setup skips its registration"),
                &["REG-01", "PM6-08"],
            );
            output.push(format!(
                ".NET Framework {v} installed; ASP.NET {v} was not registered (IIS runs in 64-bit mode)."
            ));
            return ok(output);
        }
        registration::register(m, w, v, Pass::Setup { upgrade }, None);
        registration::restart_w3svc(m, w, v);
        output.push(format!(".NET Framework {v} installed."));
    } else if product == Product::Runtime(v) {
        m.note(format!(".NET Framework {v} is already installed: setup changes nothing"), &["SET-01"]);
        output.push(format!(".NET Framework {v} is already installed."));
    }
    if product == Product::NetFx3 {
        registration::add_wcf(m);
        output.push(".NET Framework 3.x installed on top of 2.0.50727.".into());
    }
    ok(output)
}

/// Uninstalls a framework: its maps move to the highest remaining runtime (SET-06, SET-07).
pub fn uninstall(m: &mut Machine, w: &mut World, product: Product) -> SetupResult {
    let v = match product {
        Product::Runtime(v) => v,
        Product::NetFx3 => {
            return SetupResult {
                output: vec!["Uninstalling .NET Framework 3.x separately is not modeled: uninstall 2.0.50727.".into()],
                exit: 1603,
            }
        }
        Product::Kb812833(_) | Product::ServicePack(..) => {
            return SetupResult {
                output: vec![
                    "Removing a hotfix or service pack is not modeled: reinstall the framework instead.".into()
                ],
                exit: 1603,
            }
        }
    };
    if !m.runtime(v).installed {
        return SetupResult {
            output: vec![format!(
                "This action is only valid for products that are currently installed (.NET Framework {v})."
            )],
            exit: 1605,
        };
    }
    registration::unregister(m, w, v);
    registration::remove_files(m, v);
    registration::restart_w3svc(m, w, v);
    ok(vec![format!(".NET Framework {v} uninstalled.")])
}
