//! The shared-hosting box the dispatch benchmark, its example and the allocation tests use: one
//! site, one virtual directory per customer with its own folder (`/SiteN` -> `D:\Sites\SiteN`),
//! ten applications in each (`/SiteN/AppK` -> `D:\Sites\SiteN\AppK`), ASP.NET 2.0 on IIS 6.

use iisim::edition::Edition;
use iisim::machine::{Machine, MachineConfig};
use iisim::process::World;
use iisim::runtime::Version;
use iisim::setup::{self, Product};
use iisim::sites::{self, AppSpec};

/// A box of `apps` applications, each folder holding `files`.
pub fn hosting(apps: usize, files: &[&str]) -> Machine {
    let mut m = Machine::new(MachineConfig::new(Edition::Win2003));
    setup::install(&mut m, &mut World::default(), Product::Runtime(Version::V2_0), true);
    for s in 0..apps.div_ceil(10) {
        let vdir = format!("/LM/W3SVC/1/ROOT/Site{s}");
        let folder = format!("D:\\Sites\\Site{s}");
        let spec = AppSpec { path: vdir.clone(), physical_path: Some(folder.clone()), ..Default::default() };
        sites::create_app(&mut m, &spec).expect("ROOT exists");
        for a in 0..10.min(apps - s * 10) {
            let dir = format!("{folder}\\App{a}");
            let spec = AppSpec {
                path: format!("{vdir}/App{a}"),
                physical_path: Some(dir.clone()),
                application: true,
                ..Default::default()
            };
            sites::create_app(&mut m, &spec).expect("the vdir exists");
            m.fs_create_files(&dir, files, &[]);
        }
        // Set-up journals every change; a large table would keep them all.
        m.drain_effects();
    }
    m
}
