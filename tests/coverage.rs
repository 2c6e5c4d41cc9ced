//! Every rule the catalog marks as modeled is cited by some scenario's transcript, or, for what
//! only a socket carries, by the HTTP front end's.

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

/// The rules the HTTP front end cites for what only a socket carries (HTTP.sys's checks of the
/// raw request, the framing of responses): a box serves a fixed set of requests and its
/// transcript tail is read back.
fn cited_on_the_wire() -> BTreeSet<&'static str> {
    use std::io::{Read, Write};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/30_iis6_pool_collision.toml");
    let (_, mut m, w) = iisim::scenario::load(&dir).unwrap().run_to_end();
    // Idle connections end after a second, so that HTTP.sys's idle timer is seen (HTTP-11).
    let _ = m.mb_set("/LM/W3SVC", "ConnectionTimeout", iisim::metabase::Value::Dword(1), &[]);
    let opts = iisim::http::Options {
        listen: vec![iisim::http::Listen { addr: "127.0.0.1:0".parse().unwrap(), port: 80 }],
        admin: None,
        ctrl_c: false,
    };
    let h = iisim::http::start(std::sync::Arc::new(iisim::http::Shared::new(m, w)), &opts).unwrap();
    let long = format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: {}\r\n\r\n", "a".repeat(17000));
    let requests: Vec<Vec<u8>> = vec![
        b"GET /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".to_vec(),
        b"HEAD /legacy/default.aspx HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".to_vec(),
        b"get / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        b"GET / HTTP/2.0\r\n\r\n".to_vec(),
        // Nothing sent: the connection ends when ConnectionTimeout runs out.
        Vec::new(),
        long.into_bytes(),
    ];
    for r in requests {
        let mut s = std::net::TcpStream::connect(h.listeners[0]).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        s.write_all(&r).unwrap();
        let _ = s.read_to_end(&mut Vec::new());
    }
    let cited = h.shared.cited();
    h.stop();
    cited
}

#[test]
fn every_modeled_rule_is_cited() {
    let mut cited = cited_by_scenarios();
    cited.extend(cited_on_the_wire());
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

#[test]
fn each_rule_is_cited_only_by_lines_of_the_kinds_it_decides() {
    // e.g. HDR-02 (the X-Powered-By custom header) decides metabase writes and header checks,
    // never a "dispatch to" decision; VER-05 (ASP.NET's event sources) never an IIS event check.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    let mut wrong = Vec::new();
    for f in &files {
        for c in iisim::scenario::load(f).unwrap().run().citations {
            for r in &c.rules {
                match iisim::rules::kinds::allowed_kinds(r) {
                    Some(kinds) if kinds.contains(&c.kind) => {}
                    Some(_) => wrong.push(format!("{}: {r} on a {} line: {}", f.display(), c.kind, c.line)),
                    None => wrong.push(format!("{r} has no entry in rules::kinds (cited on a {} line)", c.kind)),
                }
            }
        }
    }
    wrong.dedup();
    assert!(wrong.is_empty(), "citations of the wrong kind:\n{}", wrong.join("\n"));
}

#[test]
fn a_dispatch_decision_citing_hdr_02_is_refused() {
    let kinds = iisim::rules::kinds::allowed_kinds("HDR-02").unwrap();
    assert!(!kinds.contains(&"decision"), "HDR-02 does not decide dispatch");
    assert!(!iisim::rules::kinds::allowed_kinds("VER-05").unwrap().contains(&"decision"));
}

/// Work that has landed: a deferred reason or a doc sentence saying it is missing is stale.
const LANDED: &[&str] = &[
    "request dispatch",
    "process model",
    "requests issue",
    "request handling",
    "worker processes",
    "session state",
    "adsutil",
    "iisreset",
    "later issues",
];

#[test]
fn no_out_of_scope_reason_names_work_that_has_landed() {
    for r in catalog() {
        let Scope::Deferred(why) = r.scope else { continue };
        // Only a reason that calls something missing can be stale ("decided by ..." is not).
        let says_missing =
            ["not built", "arrive", "not written", "not emulated", "yet"].iter().any(|p| why.contains(p));
        for w in LANDED.iter().filter(|_| says_missing) {
            assert!(!why.to_ascii_lowercase().contains(w), "{}'s reason names landed work ({w}): {why}", r.id);
        }
        // A script a reason calls missing must still be missing from a fresh IIS 6 machine.
        for script in why.split_whitespace().filter(|w| w.ends_with(".vbs")) {
            let mut m =
                iisim::machine::Machine::new(iisim::machine::MachineConfig::new(iisim::edition::Edition::Win2003));
            let mut w = iisim::process::World::default();
            let line = format!(r"cscript //nologo C:\WINDOWS\system32\{script}");
            let out = iisim::tools::run(&mut m, &mut w, &line, iisim::tools::Context::default());
            assert_ne!(out.exit, 0, "{} says {script} is not built, but `{line}` runs: {}", r.id, out.text());
        }
    }
}

#[test]
fn docs_give_the_catalog_counts_and_call_nothing_landed_missing() {
    let (modeled, total) = iisim::rules::counts();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let modeling = std::fs::read_to_string(root.join("docs/MODELING.md")).unwrap();
    let figure = format!("{modeled} of the {total} rules are modeled");
    assert!(modeling.contains(&figure), "docs/MODELING.md must say \"{figure}\"");
    for doc in ["README.md", "docs/MODELING.md", "docs/SCENARIOS.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap().replace('\n', " ");
        for sentence in text.split(". ").filter(|s| s.contains("not built")) {
            for w in LANDED {
                assert!(
                    !sentence.to_ascii_lowercase().contains(w),
                    "{doc} calls landed work missing ({w}): {sentence}"
                );
            }
        }
    }
}
