//! .NET Framework service packs as installable products: file versions, the KB 812833 update's
//! Service Pack 2 prerequisite, and the service packs that carry its fix (VER-08, KB-02).

mod common;

use common::machine;
use iisim::edition::Edition;
use iisim::process::World;
use iisim::runtime::Version::{V1_0, V1_1, V2_0};
use iisim::setup::{self, Product, PATCH_TARGET_NOT_FOUND};

#[test]
fn sp3_alone_carries_the_kb812833_fix() {
    let mut m = machine(Edition::Win2000, &[V1_0]);
    assert!(!m.has_kb812833(V1_0));
    assert_eq!(setup::install(&mut m, &mut World::default(), Product::ServicePack(V1_0, 3), true).exit, 0);
    assert_eq!(m.file_version(V1_0), "1.0.3705.6018");
    assert!(m.has_kb812833(V1_0), "SP3 contains the update");
    let r = setup::install(&mut m, &mut World::default(), Product::Kb812833(V1_0), true);
    assert_eq!(r.exit, 0);
    assert_eq!(r.output, ["KB812833 is not needed: .NET Framework 1.0.3705 Service Pack 3 already contains it."]);
    assert!(!m.runtime(V1_0).kb812833, "the update itself was not applied");
}

#[test]
fn the_update_refuses_without_sp2_and_changes_nothing() {
    for sp in [0, 1] {
        let mut m = machine(Edition::Win2000, &[V1_0]);
        if sp > 0 {
            setup::install(&mut m, &mut World::default(), Product::ServicePack(V1_0, sp), true);
        }
        let before = m.file_version(V1_0);
        m.drain_effects();
        let r = setup::install(&mut m, &mut World::default(), Product::Kb812833(V1_0), true);
        assert_eq!(r.exit, PATCH_TARGET_NOT_FOUND, "SP{sp}");
        assert_eq!(
            r.output,
            ["You must have the Framework 1.0 Service Pack 2 installed to apply this software update."]
        );
        assert_eq!(m.file_version(V1_0), before);
        assert!(!m.has_kb812833(V1_0));
        let changes =
            m.drain_effects().into_iter().filter(|e| !matches!(e.change, iisim::machine::journal::Change::Note { .. }));
        assert_eq!(changes.count(), 0, "SP{sp}: the refusal changes nothing");
    }
}

#[test]
fn service_packs_parse_and_set_file_versions() {
    assert_eq!(Product::parse("1.0 SP2"), Some(Product::ServicePack(V1_0, 2)));
    assert_eq!(Product::parse("1.1sp1"), Some(Product::ServicePack(V1_1, 1)));
    assert_eq!(Product::parse("1.1 SP2"), None, "1.1 has one service pack");
    assert_eq!(Product::parse("4.0 SP1"), None);
    for (v, sp, want) in [
        (V1_0, 1, "1.0.3705.209"),
        (V1_0, 2, "1.0.3705.288"),
        (V1_0, 3, "1.0.3705.6018"),
        (V1_1, 1, "1.1.4322.2032"),
        (V2_0, 2, "2.0.50727.3053"),
    ] {
        let mut m = machine(Edition::Win2003, &[v]);
        assert_eq!(setup::install(&mut m, &mut World::default(), Product::ServicePack(v, sp), true).exit, 0);
        assert_eq!(m.file_version(v), want, "{v} SP{sp}");
    }
    let mut m = machine(Edition::Win2003, &[]);
    assert_eq!(
        setup::install(&mut m, &mut World::default(), Product::ServicePack(V1_1, 1), true).exit,
        PATCH_TARGET_NOT_FOUND
    );
}
