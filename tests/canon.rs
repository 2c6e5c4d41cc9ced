//! URL canonicalisation (REQ-01..03, SEC-01..04): one negative test per rule asserting "not
//! vulnerable", the historic attack strings, and property tests over arbitrary targets.

use iisim::dispatch::canon::{canonicalize, CanonUrl, HttpSysParams, Rejection, HTTP_PARAMETERS_KEY};
use proptest::prelude::*;

/// The failure status of the default policy `sec.canon_failure_status = 400`.
const FAILURE: u16 = 400;

fn canon(target: &str) -> Result<CanonUrl, Rejection> {
    canonicalize(target, &HttpSysParams::default(), FAILURE)
}

/// Why `path` could reach a file outside the site, if it could: a `.` or `..` segment, a `\`, or
/// not starting at `/`.
fn escape_route(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some(format!("{path:?} does not start with /"));
    }
    if path.contains('\\') {
        return Some(format!("{path:?} contains a backslash"));
    }
    path.split('/').find(|s| *s == "." || *s == "..").map(|s| format!("{path:?} has a {s:?} segment"))
}

/// Asserts `target` is refused with `status`, citing every rule of `rules`.
fn assert_refused(target: &str, params: &HttpSysParams, status: u16, rules: &[&str]) {
    match canonicalize(target, params, FAILURE) {
        Ok(c) => panic!("{target:?} was accepted as {:?}", c.path),
        Err(r) => {
            assert_eq!(r.status, status, "{target:?}: {}", r.reason);
            for rule in rules {
                assert!(
                    r.rules.contains(rule),
                    "{target:?} refused ({}) without citing {rule}: {:?}",
                    r.reason,
                    r.rules
                );
            }
        }
    }
}

/// Asserts `target` canonicalises to `path`.
fn assert_path(target: &str, params: &HttpSysParams, path: &str) {
    match canonicalize(target, params, FAILURE) {
        Ok(c) => assert_eq!(c.path, path, "{target:?}"),
        Err(r) => panic!("{target:?} refused: {} {}", r.status, r.reason),
    }
}

#[test]
fn req_01_canonicalise_first() {
    let d = HttpSysParams::default();
    // The KB896287 example: `\` is a separator before `..` is resolved.
    assert_path(r"/RootTest/SubDir1\SubDir2/../../SubDir5/SubDir6", &d, "/RootTest/SubDir5/SubDir6");
    let table = [
        ("/a/./b/../c", "/a/c"),
        ("/a/b/", "/a/b/"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/a//b", "/a//b"),
        ("/a%20b/c%2ed", "/a b/c.d"),
        ("http://www.a.com/x/y", "/x/y"),
        ("http://www.a.com:8080", "/"),
        ("https://10.0.0.1/x", "/x"),
    ];
    for (target, path) in table {
        assert_path(target, &d, path);
    }
    let c = canon("/a%3fb?c=%2e").expect("canonical");
    assert_eq!((c.path.as_str(), c.query.as_str()), ("/a?b", "c=%2e"), "a decoded ? is part of the path");
}

#[test]
fn req_01_targets_that_are_not_paths_not_vulnerable() {
    for target in ["*", "", "a/b", "..", "ftp://h/a", "http://", "http:///a", "http://h@evil/a", "http://a b/"] {
        assert_refused(target, &HttpSysParams::default(), 400, &["REQ-01"]);
    }
}

#[test]
fn req_02_http_sys_switches() {
    assert_eq!(HTTP_PARAMETERS_KEY, r"HKLM\System\CurrentControlSet\Services\HTTP\Parameters");
    let d = HttpSysParams::default();
    assert_eq!(
        (d.allow_restricted_chars, d.enable_non_utf8, d.favor_utf8, d.percent_u_allowed),
        (false, true, true, true),
        "boolean defaults"
    );
    assert_eq!(
        (d.url_segment_max_length, d.url_segment_max_count, d.max_field_length, d.max_request_bytes),
        (260, 255, 16384, 16384),
        "limit defaults"
    );
    let read = HttpSysParams::from_values(|name| match name {
        "AllowRestrictedChars" => Some(1),
        "EnableNonUTF8" => Some(0),
        "FavorUTF8" => Some(0),
        "PercentUAllowed" => Some(0),
        "UrlSegmentMaxLength" => Some(1),
        "UrlSegmentMaxCount" => Some(2),
        "MaxFieldLength" => Some(3),
        "MaxRequestBytes" => Some(4),
        _ => None,
    });
    assert_eq!(
        read,
        HttpSysParams {
            allow_restricted_chars: true,
            enable_non_utf8: false,
            favor_utf8: false,
            percent_u_allowed: false,
            url_segment_max_length: 1,
            url_segment_max_count: 2,
            max_field_length: 3,
            max_request_bytes: 4,
        }
    );
}

#[test]
fn req_02_limits_not_vulnerable() {
    let d = HttpSysParams::default();
    let long_segment = format!("/{}", "a".repeat(261));
    let many_segments = "/a".repeat(256);
    let long_target = format!("/{}", "a/".repeat(8192));
    // (target, params, refused)
    let cases: Vec<(&str, String, HttpSysParams, bool)> = vec![
        ("segment at the limit", format!("/{}", "a".repeat(260)), d.clone(), false),
        ("segment over the limit", long_segment.clone(), d.clone(), true),
        ("escaped segment over the limit", format!("/{}", "%41".repeat(261)), d.clone(), true),
        ("segment limit 0 is none", long_segment, HttpSysParams { url_segment_max_length: 0, ..d.clone() }, false),
        ("segments at the limit", "/a".repeat(255), d.clone(), false),
        ("segments over the limit", many_segments.clone(), d.clone(), true),
        ("segment count 0 is none", many_segments, HttpSysParams { url_segment_max_count: 0, ..d.clone() }, false),
        ("target over MaxFieldLength", long_target.clone(), d.clone(), true),
        (
            "target over MaxRequestBytes",
            "/abc".into(),
            HttpSysParams { max_request_bytes: 3, max_field_length: 100, ..d.clone() },
            true,
        ),
        (
            "target under both",
            long_target,
            HttpSysParams { url_segment_max_count: 0, max_field_length: 20000, max_request_bytes: 20000, ..d.clone() },
            false,
        ),
    ];
    for (name, target, params, refused) in cases {
        let got = canonicalize(&target, &params, FAILURE);
        if refused {
            let r = got.expect_err(name);
            assert_eq!((r.status, r.rules.as_slice()), (400, &["REQ-02"][..]), "{name}: {}", r.reason);
        } else {
            assert!(got.is_ok(), "{name}: {got:?}");
        }
    }
}

#[test]
fn req_03_canonicalisation_failures_not_vulnerable() {
    let d = HttpSysParams::default();
    for status in [400, 404] {
        for target in ["/..", "/a/../../b", "/%c0%af", "/%e9t%e9"] {
            let r = canonicalize(target, &d, status).expect_err(target);
            assert_eq!(r.status, status, "{target:?} follows sec.canon_failure_status: {}", r.reason);
            assert!(r.rules.contains(&"REQ-03"), "{target:?}: {:?}", r.rules);
        }
    }
}

#[test]
fn sec_01_decode_exactly_once_not_vulnerable() {
    let d = HttpSysParams::default();
    let table = [
        ("/scripts/..%255c..%255cwinnt/system32/cmd.exe", "/scripts/..%5c..%5cwinnt/system32/cmd.exe"),
        ("/scripts/..%255c../winnt/system32/cmd.exe", "/scripts/..%5c../winnt/system32/cmd.exe"),
        ("/%252e%252e/%252e%252e/boot.ini", "/%2e%2e/%2e%2e/boot.ini"),
        ("/a%252fb", "/a%2fb"),
        ("/a%25", "/a%"),
        ("/100%25%2525", "/100%%25"),
    ];
    for (target, path) in table {
        assert_path(target, &d, path);
        let c = canon(target).expect("canonical");
        assert!(c.decisions.iter().any(|x| x.rules.contains(&"SEC-01")), "{target:?}: {:?}", c.decisions);
    }
    for target in ["/a%zz", "/a%", "/a%2", "/a%%41", "/a%g0"] {
        assert_refused(target, &d, 400, &["REQ-01"]);
    }
}

#[test]
fn sec_02_overlong_and_invalid_utf8_not_vulnerable() {
    let d = HttpSysParams::default();
    let table = [
        ("/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir", "overlong"),
        ("/..%c1%9c../winnt", "overlong"),
        ("/..%e0%80%af../winnt", "overlong"),
        ("/..%c0%ae%c0%ae/winnt", "overlong"),
        ("/..%f0%80%80%af../winnt", "overlong"),
        ("/..%f8%80%80%80%af../winnt", "overlong"),
        ("/..%fc%80%80%80%80%af../winnt", "overlong"),
        ("/a%c0", "invalid"),
        ("/a%af", "invalid"),
        ("/a%e9b", "invalid"),
        ("/a%c3%28", "invalid"),
        ("/a%ff", "invalid"),
        ("/a%ed%a0%80", "surrogate"),
        ("/a%f4%90%80%80", "out-of-range"),
    ];
    for (target, kind) in table {
        assert_refused(target, &d, FAILURE, &["REQ-03", "SEC-02"]);
        let r = canon(target).expect_err(target);
        assert!(r.reason.contains(kind), "{target:?}: {}", r.reason);
    }
    // Overlong stays refused whatever the code-page switches say.
    for (enable_non_utf8, favor_utf8) in [(false, false), (false, true), (true, false), (true, true)] {
        let p = HttpSysParams { enable_non_utf8, favor_utf8, ..d.clone() };
        assert_refused("/..%c0%af../winnt", &p, FAILURE, &["SEC-02"]);
    }
    assert_path("/%c3%a9t%c3%a9/%e2%82%ac/%f0%9f%98%80", &d, "/été/€/\u{1F600}");
}

#[test]
fn sec_03_no_escape_above_root_not_vulnerable() {
    let d = HttpSysParams::default();
    for target in [
        "/..",
        "/../",
        "/./..",
        "/a/../..",
        r"/..\winnt",
        r"/a\..\..\winnt",
        "/..%5c..%5cwinnt/win.ini",
        "/..%5Cwinnt",
        "/%2e%2e/%2e%2e/boot.ini",
        "/%2E%2E/boot.ini",
        "/a/%2e%2e%2f%2e%2e%2fb",
        "/a/b/%2e%2e/%2e%2e/%2e%2e/c",
        "/%u002e%u002e/boot.ini",
        "/a/%u002e%u002e%u005c%u002e%u002e/b",
    ] {
        assert_refused(target, &d, FAILURE, &["REQ-03", "SEC-03"]);
    }
    // Climbing that stays inside the root is resolved, backslashes first.
    assert_path(r"/a/b\..\..\c", &d, "/c");
    assert_path("/a/b%5c..%5c..%5cc", &d, "/c");
    let c = canon("/a%5cb").expect("canonical");
    assert!(
        c.decisions
            .iter()
            .any(|x| x.text.starts_with("decoded %5c to \\ and turned it into /") && x.rules.contains(&"SEC-03")),
        "{:?}",
        c.decisions
    );
}

#[test]
fn sec_04_restricted_characters_not_vulnerable() {
    let d = HttpSysParams::default();
    for target in
        ["/a%00", "/a%00.asp", "/a%0d%0aSet-Cookie:x", "/a%1f", "/a%7f", "/a%c2%80", "/a%c2%9f", "/a%u0000", "/a\u{85}"]
    {
        assert_refused(target, &d, 400, &["SEC-04"]);
    }
    // Raw control characters cannot be part of a request line, whatever the switch says.
    let allow = HttpSysParams { allow_restricted_chars: true, ..d.clone() };
    for target in ["/a\0", "/a\r\nb", "/a\u{7f}"] {
        assert_refused(target, &allow, 400, &["SEC-04"]);
    }
    assert_path("/a%0ab", &allow, "/a\nb");
    assert_path("/a%c2%85", &allow, "/a\u{85}");
    // Characters just outside the ranges are ordinary.
    assert_path("/a%20%7e%c2%a0", &d, "/a ~\u{a0}");

    // %uNNNN: 400 when PercentUAllowed=0, else an ordinary character (REQ-03 applies).
    let no_u = HttpSysParams { percent_u_allowed: false, ..d.clone() };
    for target in ["/%u0041", "/a%U0041", "/%u002e%u002e/x"] {
        assert_refused(target, &no_u, 400, &["SEC-04", "REQ-02"]);
    }
    assert_path("/%u0041%u00e9%u002fb", &d, "/Aé/b");
    assert_path("/a%u002e%u002e", &d, "/a..");
    for target in ["/%uD800", "/%uDFFF", "/%uD800%u0041"] {
        assert_refused(target, &d, FAILURE, &["REQ-03", "SEC-04"]);
    }
    for target in ["/%u", "/%u12", "/%u12zz"] {
        assert_refused(target, &d, 400, &["SEC-04"]);
    }
}

/// The historic attack strings: each is refused, or its path stays inside the site.
#[test]
fn famous_attacks_not_vulnerable() {
    let attacks = [
        "/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir",
        "/scripts/..%255c../winnt/system32/cmd.exe",
        "/scripts/..%255c..%255cwinnt/system32/cmd.exe",
        "/..%5c..%5cwinnt/win.ini",
        "/%2e%2e/%2e%2e/boot.ini",
        "/a/%2e%2e%2f%2e%2e%2fb",
        "/scripts/..%c1%9c../winnt/system32/cmd.exe",
        "/scripts/..%%35c../winnt/system32/cmd.exe",
        "/scripts/..%%35%63../winnt/system32/cmd.exe",
        "/scripts/..%u2215../winnt/system32/cmd.exe",
        "/msadc/..%255c../..%255c../..%255c../winnt/system32/cmd.exe",
        "http://victim/..%5c..%5cwinnt/win.ini",
    ];
    for target in attacks {
        for params in
            [HttpSysParams::default(), HttpSysParams { allow_restricted_chars: true, ..HttpSysParams::default() }]
        {
            match canonicalize(target, &params, FAILURE) {
                Ok(c) => assert_eq!(escape_route(&c.path), None, "{target:?} accepted as {:?}", c.path),
                Err(r) => assert!(!r.rules.is_empty(), "{target:?} refused without a rule: {}", r.reason),
            }
        }
    }
    // Spot checks: which ones are refused and which stay harmless.
    assert!(canon("/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir").is_err());
    assert!(canon("/..%5c..%5cwinnt/win.ini").is_err());
    assert!(canon("/%2e%2e/%2e%2e/boot.ini").is_err());
    assert!(canon("/a/%2e%2e%2f%2e%2e%2fb").is_err());
    assert_eq!(
        canon("/scripts/..%255c../winnt/system32/cmd.exe").map(|c| c.path).as_deref(),
        Ok("/scripts/..%5c../winnt/system32/cmd.exe")
    );
}

/// SEC-05, SEC-06 and SEC-08 belong to resolution: canonicalisation keeps their characters.
#[test]
fn colon_semicolon_and_trailing_dots_reach_resolution() {
    let d = HttpSysParams::default();
    assert_path("/file.asp::$DATA", &d, "/file.asp::$DATA");
    assert_path("/file.asp%3a%3a$DATA", &d, "/file.asp::$DATA");
    assert_path("/shell.asp;.jpg", &d, "/shell.asp;.jpg");
    assert_path("/shell.asp%3b.jpg", &d, "/shell.asp;.jpg");
    assert_path("/file.asp.", &d, "/file.asp.");
    assert_path("/file.asp%2e", &d, "/file.asp.");
    assert_path("/file.asp%20", &d, "/file.asp ");
    assert_path("/dir./x", &d, "/dir./x");
}

#[test]
fn decisions_cite_rules_and_say_when_nothing_changed() {
    let c = canon("/a/b.aspx").expect("canonical");
    assert_eq!(c.decisions.len(), 1);
    assert_eq!(c.decisions[0].text, "URL is canonical: /a/b.aspx");
    assert_eq!(c.decisions[0].rules, ["REQ-01"]);
    let c = canon("/a/./b/../c%20d").expect("canonical");
    let texts: Vec<&str> = c.decisions.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(
        texts,
        ["decoded once: /a/./b/../c%20d -> /a/./b/../c d", "removed dot segments: /a/./b/../c d -> /a/c d"]
    );
    // Control characters never reach a transcript raw.
    let allow = HttpSysParams { allow_restricted_chars: true, ..HttpSysParams::default() };
    let c = canonicalize("/a%0ab", &allow, FAILURE).expect("canonical");
    assert!(c.decisions.iter().all(|d| !d.text.contains('\n')), "{:?}", c.decisions);
    assert!(c.decisions.iter().any(|d| d.rules.contains(&"SEC-04")), "{:?}", c.decisions);
}

// ----- properties -----

/// Pieces attackers and browsers put in targets.
const PIECES: &[&str] = &[
    "/",
    "\\",
    ".",
    "..",
    "%",
    "%2e",
    "%2E",
    "%2f",
    "%5c",
    "%5C",
    "%25",
    "%252e",
    "%255c",
    "%c0%af",
    "%c1%9c",
    "%e0%80%af",
    "%c3%a9",
    "%e9",
    "%80",
    "%ff",
    "%00",
    "%0a",
    "%7f",
    "%c2%85",
    "%u002e",
    "%u005c",
    "%uD800",
    "%u",
    "%zz",
    "a",
    "b.asp",
    "é",
    "\u{85}",
    "?",
    ":",
    ";",
    " ",
    "http://h",
    "*",
];

fn pieces() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..16).prop_map(|v| v.concat())
}

/// Arbitrary bytes, each sent raw when printable ASCII and as `%XX` otherwise or at random.
fn escaped_bytes() -> impl Strategy<Value = String> {
    prop::collection::vec((any::<u8>(), any::<bool>()), 0..24).prop_map(|v| {
        let mut s = String::from("/");
        for (b, raw) in v {
            if raw && b.is_ascii_graphic() {
                s.push(char::from(b));
            } else {
                s.push_str(&format!("%{b:02x}"));
            }
        }
        s
    })
}

fn targets() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[/\\\\.%a-fA-F0-9uU?:; ]{0,40}",
        pieces(),
        pieces().prop_map(|s| format!("/{s}")),
        escaped_bytes(),
    ]
}

fn params() -> impl Strategy<Value = HttpSysParams> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(&[0usize, 2, 260][..]),
        prop::sample::select(&[0usize, 3, 255][..]),
    )
        .prop_map(|(allow_restricted_chars, enable_non_utf8, favor_utf8, percent_u_allowed, len, count)| {
            HttpSysParams {
                allow_restricted_chars,
                enable_non_utf8,
                favor_utf8,
                percent_u_allowed,
                url_segment_max_length: len,
                url_segment_max_count: count,
                ..HttpSysParams::default()
            }
        })
}

/// A canonical path as a target again: `%`, `?` and control characters escaped.
fn reencode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("%{:02X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

fn check_canonical(target: &str, params: &HttpSysParams) -> Result<(), TestCaseError> {
    match canonicalize(target, params, FAILURE) {
        Ok(c) => {
            prop_assert_eq!(escape_route(&c.path), None, "target {:?}", target);
            prop_assert!(!c.decisions.is_empty() && c.decisions.iter().all(|d| !d.rules.is_empty()));
            if !params.allow_restricted_chars {
                let restricted = c.path.chars().any(|ch| ch <= '\u{1f}' || ('\u{7f}'..='\u{9f}').contains(&ch));
                prop_assert!(!restricted, "control character kept in {:?}", c.path);
            }
            let again = canonicalize(&reencode(&c.path), params, FAILURE);
            prop_assert_eq!(again.map(|a| a.path), Ok(c.path.clone()), "target {:?}", target);
        }
        Err(r) => {
            prop_assert!(r.status == 400 || r.status == FAILURE);
            prop_assert!(!r.rules.is_empty() && !r.reason.is_empty() && !r.reason.contains('\n'));
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn canonical_paths_are_safe_and_idempotent(target in targets()) {
        check_canonical(&target, &HttpSysParams::default())?;
    }

    #[test]
    fn canonical_paths_are_safe_and_idempotent_whatever_the_switches(target in targets(), params in params()) {
        check_canonical(&target, &params)?;
    }
}
