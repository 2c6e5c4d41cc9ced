//! Every rule the catalog marks as modeled is cited by some scenario's transcript.

use std::collections::BTreeSet;

use iisim::rules::{catalog, Scope};

fn cited_by_scenarios() -> BTreeSet<&'static str> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    assert!(files.len() >= 15, "the issue asks for at least 15 scenarios, found {}", files.len());
    let mut cited = BTreeSet::new();
    for f in files {
        let s = iisim::scenario::load(&f).unwrap_or_else(|e| panic!("{e}"));
        cited.extend(s.run().cited);
    }
    cited
}

#[test]
fn every_modeled_rule_is_cited() {
    let cited = cited_by_scenarios();
    let missing: Vec<&str> =
        catalog().iter().filter(|r| r.scope == Scope::Modeled && !cited.contains(r.id)).map(|r| r.id).collect();
    assert!(missing.is_empty(), "modeled rules no scenario cites: {missing:?}");
}

#[test]
fn cited_rules_exist_and_are_modeled() {
    for id in cited_by_scenarios() {
        let rule = iisim::rules::find(id).unwrap_or_else(|| panic!("transcripts cite {id}, which the catalog lacks"));
        assert_eq!(rule.scope, Scope::Modeled, "{id} is cited but the catalog says it is out of scope");
    }
}

#[test]
fn catalog_is_well_formed() {
    let mut seen = BTreeSet::new();
    for r in catalog() {
        assert!(seen.insert(r.id), "duplicate rule {}", r.id);
        assert!(!r.summary.is_empty() && !r.summary.contains('\n'), "{}", r.id);
        if let Scope::Deferred(why) = r.scope {
            assert!(!why.trim().is_empty(), "{} is out of scope without a reason", r.id);
        }
    }
}
