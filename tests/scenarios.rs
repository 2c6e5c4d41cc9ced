//! One snapshot per scenario file: the transcript, reviewed against the rules it cites.

use std::path::Path;

fn report(path: &Path) -> iisim::scenario::Report {
    let s = iisim::scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    s.run()
}

#[test]
fn scenario_transcripts() {
    insta::glob!("../scenarios", "*.toml", |path| {
        let r = report(path);
        assert!(r.passed(), "{} failed: {:#?}", r.name, r.failures);
        insta::assert_snapshot!(r.transcript);
    });
}

#[test]
fn transcripts_are_deterministic() {
    insta::glob!("../scenarios", "*.toml", |path| {
        let first = report(path).transcript;
        let second = report(path).transcript;
        assert_eq!(first, second, "{} differs between two runs", path.display());
    });
}
