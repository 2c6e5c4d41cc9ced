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
    let (_, m, w) = iisim::scenario::load(&dir).unwrap().run_to_end();
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
