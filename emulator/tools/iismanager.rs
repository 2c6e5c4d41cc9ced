//! IIS Manager's ASP.NET property tab (2.0+): pick a version for an application (PM6-09).

use crate::machine::Machine;
use crate::process::World;
use crate::registration;
use crate::runtime::{Bitness, Version};

use super::Output;

/// Chooses ASP.NET version `v` for `path` on the ASP.NET tab and confirms the W3SVC restart.
pub fn aspnet_tab(m: &mut Machine, world: &mut World, path: &str, v: Version) -> Output {
    let mut out = Output::default();
    if m.is_x64() && m.iis_bitness() == Bitness::X86 {
        m.note("IIS Manager shows no ASP.NET tab on x64 while IIS runs 32-bit", &["PM6-09", "PM6-08"]);
        out.line("The ASP.NET tab is not shown: IIS runs 32-bit applications on this 64-bit Windows. Use the matching aspnet_regiis.exe instead.");
        out.exit = 1;
        return out;
    }
    if !m.registered().iter().any(|r| r.is_20_or_later()) {
        m.note("the ASP.NET tab comes with ASP.NET 2.0: no 2.0 or later runtime is registered", &["PM6-09"]);
        out.line("The ASP.NET tab is not shown: it comes with ASP.NET 2.0, which is not registered.");
        out.exit = 1;
        return out;
    }
    if !m.runtime(v).registered {
        out.line(format!("ASP.NET version {} is not offered: it is not registered with IIS.", v.short()));
        out.exit = 1;
        return out;
    }
    // The confirmation dialog, typo included (PM6-09).
    out.line("Changing the Framework version requires a restart of the W3SVC service. Alternatively, you can change the Framework version without restarting the W3SVC service by running: aspnet_regiis.exe -norestart -s IIS-Viirtual-Path");
    out.line("Do you want to continue (this will change the Framework version and restart the W3SVC service)? [Yes]");
    m.note(format!("IIS Manager ASP.NET tab: {path} set to {}, confirmed", v.short()), &["PM6-09"]);
    match registration::install_maps(m, v, path, true) {
        Ok(_) => registration::restart_w3svc(m, world, v),
        Err(e) => {
            out.line(format!("{e}"));
            out.exit = 1;
        }
    }
    out
}
