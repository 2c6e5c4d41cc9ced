//! Helpers shared by the integration tests.

#![allow(dead_code)]

use iisim::edition::Edition;
use iisim::machine::{Machine, MachineConfig};
use iisim::process::World;
use iisim::runtime::Version;
use iisim::setup::{self, Product};

/// A machine named WEB01 of `edition` with IIS and `runtimes` installed by setup with default options.
pub fn machine(edition: Edition, runtimes: &[Version]) -> Machine {
    let mut m = Machine::new(MachineConfig { name: "WEB01".into(), ..MachineConfig::new(edition) });
    for &v in runtimes {
        let r = setup::install(&mut m, &mut World::default(), Product::Runtime(v), true);
        assert_eq!(r.exit, 0, "setup of {v} on {edition}: {:?}", r.output);
    }
    m
}

/// The distinct ASP.NET DLLs a key's own ScriptMaps names, lower-cased, read from the raw entries.
pub fn own_aspnet_dlls(m: &Machine, path: &str) -> Vec<String> {
    let mut dlls: Vec<String> = m
        .metabase()
        .own(path, "ScriptMaps")
        .and_then(|v| v.as_multi())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.split(',').nth(1))
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| p.ends_with("aspnet_isapi.dll"))
        .collect();
    dlls.sort();
    dlls.dedup();
    dlls
}
