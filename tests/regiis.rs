use iisim::edition::Edition;
use iisim::machine::{IisState, Machine, MachineConfig};
use iisim::policy::Policies;
use iisim::runtime::Version;
use iisim::setup::{self, Product};
use iisim::tools::{self, Context};
use iisim::registration;

#[test]
fn probe() {
    let mut m = Machine::new(MachineConfig { edition: Edition::Win2003, name: "WEB01".into(), iis: IisState::Installed, iis5_isolation: false, policies: Policies::default() });
    setup::install(&mut m, Product::Runtime(Version::V1_1), true);
    setup::install(&mut m, Product::Runtime(Version::V2_0), true);
    setup::install(&mut m, Product::Runtime(Version::V4_0), true);
    for cmd in ["v4.0.30319\\aspnet_regiis -i", "v4.0.30319\\aspnet_regiis -lk","v1.1.4322\\aspnet_regiis -i", "v2.0.50727\\aspnet_regiis -ua", "v2.0.50727\\aspnet_regiis -lv", "v2.0.50727\\aspnet_regiis -iru", "v2.0.50727\\aspnet_regiis -lk", "v1.1.4322\\aspnet_regiis -u", "v1.1.4322\\aspnet_regiis -s W3SVC/1/ROOT", "v2.0.50727\\aspnet_regiis -s W3SVC/9/ROOT", "v2.0.50727\\aspnet_regiis -k W3SVC/1/ROOT", "v2.0.50727\\aspnet_regiis -lk"] {
        let n = m.events().len();
        let out = tools::run(&mut m, cmd, Context::default());
        println!("=== {cmd} -> {}\n{}", out.exit, out.text());
        for e in &m.events()[n..] { println!("  ev {:?} {} {} {}", e.level, e.source, e.id, e.message); }
        println!("root {:?}", registration::root_version(&m));
    }
    println!("{:?}", m.metabase().own("/LM/W3SVC/1/ROOT", "ScriptMaps"));
}
