//! The `iisim` binary as a user runs it: exit codes, error locations, JUnit output.

use std::process::Command;

fn iisim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iisim")).args(args).output().expect("run iisim");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

const GOOD: &str = r#"
title = "lv on a fresh 1.1 machine"
rules = ["REG-13"]
[machine]
edition = "xp"
runtimes = ["1.1"]
[[step]]
run = 'v1.1.4322\aspnet_regiis -lv'
[step.expect]
exit = 0
stdout_contains = ["1.1.4322.0\tValid (Root)\tC:\\WINDOWS\\Microsoft.NET\\Framework\\v1.1.4322\\aspnet_isapi.dll"]
"#;

#[test]
fn a_typo_gives_exit_2_with_file_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("typo.toml");
    std::fs::write(&bad, GOOD.replace("exit = 0", "exti = 0")).unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, GOOD).unwrap();
    let (code, out) = iisim(&["run", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("typo.toml:10:1: unknown field `exti`"), "{out}");
    // The other file still runs.
    assert!(out.contains("PASS"), "{out}");
    assert!(out.trim_end().ends_with("1 passed, 1 failed"), "{out}");
}

#[test]
fn bad_values_are_located() {
    let cases: &[(&str, &str, &str)] = &[
        ("runtimes = [\"1.1\"]", "runtimes = [\"1.2\"]", ":6:12: unknown .NET Framework `1.2`"),
        ("edition = \"xp\"", "edition = \"vista\"", ":5:11: unknown edition `vista`"),
        ("rules = [\"REG-13\"]", "rules = [\"REG-99\"]", ":3:9: unknown rule ID `REG-99`"),
        ("[machine]", "[policies]\n\"regiis.nope\" = \"x\"\n[machine]", ":5:1: unknown policy `regiis.nope`"),
        ("[machine]", "[policies]\ncompat = \"never\"\n[machine]", ":5:10: policy `compat` takes one of"),
        ("run = 'v1.1", "install = \"2.0\"\nrun = 'v1.1", ":7:1: a step needs exactly one action"),
        ("exit = 0", "exit = \"zero\"", ":10:8: invalid type: string \"zero\", expected an integer (key `exit`)"),
        (
            "title = \"lv on a fresh 1.1 machine\"",
            "title = 12",
            ":2:9: invalid type: integer `12`, expected a string (key `title`)",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (from, to, want) in cases {
        let f = dir.path().join("s.toml");
        std::fs::write(&f, GOOD.replacen(from, to, 1)).unwrap();
        let (code, out) = iisim(&["run", f.to_str().unwrap()]);
        assert_eq!(code, 2, "{to}: {out}");
        assert!(out.contains(want), "{to}: expected {want:?} in {out}");
    }
}

#[test]
fn a_failed_expectation_gives_exit_1_and_says_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fails.toml");
    std::fs::write(&f, GOOD.replace("exit = 0", "exit = 3")).unwrap();
    let (code, out) = iisim(&["run", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"), "{out}");
    assert!(out.contains("step 1: run v1.1.4322\\aspnet_regiis -lv: expected exit = 3"), "{out}");
    assert!(out.contains("got: 0"), "{out}");
    assert!(out.trim_end().ends_with("0 passed, 1 failed"), "{out}");
}

#[test]
fn junit_report_lists_every_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("good.toml");
    std::fs::write(&f, GOOD).unwrap();
    let xml = dir.path().join("report.xml");
    let (code, out) = iisim(&["run", f.to_str().unwrap(), "--junit", xml.to_str().unwrap(), "--transcript"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("== step 1: run v1.1.4322\\aspnet_regiis -lv =="), "{out}");
    let report = std::fs::read_to_string(xml).unwrap();
    assert!(report.contains(r#"<testsuite name="iisim scenarios" tests="1" failures="0" errors="0">"#), "{report}");
    assert!(report.contains(r#"<testcase classname="scenarios" name="good.toml">"#), "{report}");
}

#[test]
fn a_missing_file_is_exit_2() {
    let (code, out) = iisim(&["run", "/nonexistent/nope.toml"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("nope.toml: cannot read the file"), "{out}");
}

#[test]
fn rules_lists_the_catalog() {
    let (code, out) = iisim(&["rules", "REG-0"]);
    assert_eq!(code, 0);
    assert!(out.lines().count() >= 9, "{out}");
    assert!(out.contains("REG-07"), "{out}");
    let (_, all) = iisim(&["rules"]);
    assert!(all.contains("PM5-01") && all.contains("out of scope"), "{all}");
    let (modeled, total) = iisim::rules::counts();
    let last = all.lines().last().unwrap_or_default().to_string();
    assert_eq!(last, format!("{modeled} of {total} rules modeled, {} out of scope", total - modeled));
}

#[test]
fn hand_set_values_must_fit_their_property() {
    let cases: &[(&str, &str)] = &[
        ("property = \"AccessFlags\", value = [\"AccessRead\"]", "does not fit property AccessFlags"),
        ("property = \"AccessFlags\", value = \"AccessRaed\"", "does not fit property AccessFlags"),
        ("property = \"ScriptMaps\", value = 5", "does not fit property ScriptMaps"),
        ("property = \"ServerComment\", value = true", "does not fit property ServerComment"),
        ("property = \"AppIsolated\", value = -1", "does not fit property AppIsolated"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (prop, want) in cases {
        let f = dir.path().join("s.toml");
        let text = format!("{GOOD}\n[[step]]\nset_property = {{ path = \"W3SVC/1/ROOT\", {prop} }}\n");
        std::fs::write(&f, &text).unwrap();
        let (code, out) = iisim(&["run", f.to_str().unwrap()]);
        assert_eq!(code, 2, "{prop}: {out}");
        assert!(out.contains(":13:1: ") && out.contains(want), "{prop}: expected {want:?} at 13:1 in {out}");
    }
}

#[test]
fn explain_prints_every_decision_from_binding_to_process() {
    let (code, out) = iisim(&["explain", "scenarios/22_iis5_side_by_side.toml", "GET", "/legacy/default.aspx"]);
    assert_eq!(code, 0, "{out}");
    for want in [
        "[REQ-04]",
        "key /LM/W3SVC/1/ROOT/legacy",
        "listed in InProcessIsapiApps",
        "forwarded to aspnet_wp.exe (1.0.3705) [PM5-01, PM5-02]",
        "=> GET /legacy/default.aspx -> 200 from aspnet_wp.exe PID",
        "   HTTP/1.1 200 OK",
        "   <html><body>ASP.NET 1.0.3705 ran /legacy/default.aspx",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let (code, out) = iisim(&["explain", "scenarios/22_iis5_side_by_side.toml", "GET", "/../boot.ini"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("   HTTP/1.1 400 Bad Request"), "{out}");
    let (_, out) = iisim(&["explain", "scenarios/22_iis5_side_by_side.toml", "GET", "/nothing.htm"]);
    assert!(out.contains("   HTTP/1.1 404 Object Not Found"), "IIS 5's own reason phrase: {out}");
    let (code, out) = iisim(&["explain", "no/such/file.toml", "GET", "/"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cannot read the file"), "{out}");
}

#[test]
fn a_request_step_with_a_typo_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("req.toml");
    let text = GOOD.replace("run = 'v1.1.4322\\aspnet_regiis -lv'", "request = { url = \"/\", clinet = \"alice\" }");
    std::fs::write(&bad, text).unwrap();
    let (code, out) = iisim(&["run", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("req.toml:8:24:") && out.contains("unknown field `clinet`"), "{out}");
}

/// Runs `text` as a scenario file (bytes as given) and returns exit code and output.
fn run_bytes(name: &str, text: &[u8], extra: &[&str]) -> (i32, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join(name);
    std::fs::write(&f, text).unwrap();
    let mut args = vec!["run", f.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, out) = iisim(&args);
    (code, out, dir)
}

const BARE: &str = "title = \"t\"\nrules = []\n[machine]\nedition = \"2003\"\n";

#[test]
fn repeat_4294967295_is_a_load_error_not_a_run_until_memory_is_gone() {
    let text = format!("{BARE}[[step]]\nrequest = {{ url = \"/\", repeat = 4294967295 }}\n");
    let (code, out, _d) = run_bytes("r.toml", text.as_bytes(), &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("r.toml:5:1: `repeat` is at most 10000"), "{out}");
    let text = format!("{BARE}[[step]]\nrequest = {{ url = \"/\", repeat = 10000 }}\n");
    let (code, out, _d) = run_bytes("r.toml", text.as_bytes(), &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn junit_stays_well_formed_with_control_characters_and_noncharacters() {
    let text = "title = \"x\\u0001y\\uFFFEz\\uFFFF\"\ndescription = \"d\\u0002\"\nrules = []\n[machine]\nedition = \"2003\"\n\
         [[step]]\ncomment = \"c\\u0003\"\nrequest = { url = \"/a\\u001b[31m\" }\n[step.expect]\nbody_contains = [\"\\u0004\"]\n";
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c\u{7}.toml");
    std::fs::write(&f, text).unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "title = \"\\u0005\nrules").unwrap();
    let xml = dir.path().join("j.xml");
    let (code, out) =
        iisim(&["run", f.to_str().unwrap(), bad.to_str().unwrap(), "--transcript", "--junit", xml.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    // Nothing raw reaches the terminal: the ESC of the URL is shown as an escape.
    assert!(!out.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{out:?}");
    assert!(out.contains("/a\\u{1b}[31m") && out.contains("x\\u{1}y\\u{fffe}z\\u{ffff}"), "{out}");
    let report = std::fs::read_to_string(xml).unwrap();
    for c in report.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        assert!(ok, "character U+{:04X} is not allowed in XML 1.0:\n{report}", c as u32);
    }
    assert!(report.contains("c\\u{7}.toml") && report.contains("comment") || report.contains("c\\u{3}"), "{report}");
}

#[test]
fn invalid_utf8_and_utf16_files_are_located() {
    let (code, out, _d) = run_bytes("u.toml", b"title = \"ok\"\nrules = []\n[machine]\nedition = \"20\xff03\"\n", &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("u.toml:4:14: invalid UTF-8 (byte 0xFF)"), "{out}");
    let utf16: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain("title = \"t\"".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let (code, out, _d) = run_bytes("w.toml", &utf16, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("w.toml:1:1: the file is UTF-16; save it as UTF-8"), "{out}");
}

#[test]
fn toml_syntax_error_is_one_prefixed_line() {
    let (code, out, _d) = run_bytes("s.toml", format!("{BARE}x = [1\n").as_bytes(), &[]);
    assert_eq!(code, 2, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("ERROR ") && lines[0].contains(":6:1: invalid array: expected `]`"), "{out}");
    assert_eq!(lines[1], "0 passed, 1 failed");
}

#[test]
fn summary_line_is_printed_when_junit_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("good.toml");
    std::fs::write(&f, GOOD).unwrap();
    let xml = dir.path().join("no/such/dir/j.xml");
    let (code, out) = iisim(&["run", f.to_str().unwrap(), "--junit", xml.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    assert!(out.contains("cannot write the JUnit report"), "{out}");
}

#[test]
fn durations_the_clock_cannot_hold_are_refused() {
    for (steps, want) in [
        ("[[step]]\nadvance = \"18446744073709551615s\"\n", "s.toml:6:11: unknown duration `18446744073709551615s`"),
        ("[[step]]\nrequest = { url = \"/\", duration = \"36501d\" }\n", "unknown duration `36501d`"),
        (
            "[[step]]\nadvance = \"36500d\"\n[[step]]\nadvance = \"1s\"\n",
            "s.toml:7:1: the steps' durations add up to more",
        ),
    ] {
        let (code, out, _d) = run_bytes("s.toml", format!("{BARE}{steps}").as_bytes(), &[]);
        assert_eq!(code, 2, "{steps}: {out}");
        assert!(out.contains(want), "{steps}: expected {want:?} in {out}");
    }
}

#[test]
fn load_errors_name_the_key_and_no_rust_type() {
    let cases: &[(&str, &str)] = &[
        ("[[step]]\nrequest = \"x\"\n", "s.toml:6:11: invalid type: string \"x\", expected a table (key `request`)"),
        (
            "[machine.app]\npath = \"W3SVC/1/ROOT/a\"\n",
            "s.toml:5:1: `machine.app` is a list of tables: write [[machine.app]]",
        ),
        (
            "[[step]]\nrequest = { url = \"/\", port = 70000 }\n",
            "expected an integer from 0 to 65535 (key `request.port`)",
        ),
        ("[[step]]\nrun = \"x\"\n[step.expect]\nevents = [1]\n", "expected a table (key `events`)"),
        ("[[step]]\nrun = \"x\"\n[step.expect]\nrunning = \"w3wp.exe\"\n", "expected an array (key `running`)"),
        (
            "[[step]]\nrun = \"x\"\n[step.expect]\nexit = 1.5\n",
            "invalid type: float `1.5`, expected an integer (key `exit`)",
        ),
    ];
    for (steps, want) in cases {
        let (code, out, _d) = run_bytes("s.toml", format!("{BARE}{steps}").as_bytes(), &[]);
        assert_eq!(code, 2, "{steps}: {out}");
        assert!(out.contains(want), "{steps}: expected {want:?} in {out}");
        for rust in ["struct ", "enum ", "sequence", " map", "i32", "u16", "u32"] {
            assert!(!out.contains(rust), "{steps}: {rust:?} in {out}");
        }
    }
}

#[test]
fn status_is_accepted_as_an_integer() {
    let text = format!("{BARE}[[step]]\nrequest = {{ url = \"/nothing.htm\" }}\n[step.expect]\nstatus = 404\n");
    let (code, out, _d) = run_bytes("s.toml", text.as_bytes(), &[]);
    assert_eq!(code, 0, "{out}");
    let text = format!("{BARE}[[step]]\nrequest = {{ url = \"/nothing.htm\" }}\n[step.expect]\nstatus = 200\n");
    let (code, out, _d) = run_bytes("s.toml", text.as_bytes(), &[]);
    assert_eq!(code, 1, "an integer status is checked, not ignored: {out}");
}

#[test]
fn request_steps_show_the_status_line_and_the_body() {
    let text = format!("{BARE}[[step]]\nrequest = {{ url = \"/nothing.htm\" }}\n");
    let (code, out, _d) = run_bytes("s.toml", text.as_bytes(), &["--transcript"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("  | HTTP/1.1 404 Not Found\n  | > "), "{out}");
}

#[test]
fn aspnet_expectation_fails_when_the_runtime_failed_the_request() {
    // Scenario 30 step 2: 2.0 in a pool whose w3wp.exe already runs 1.1: event 1062, a 500.
    let text = std::fs::read_to_string("scenarios/30_iis6_pool_collision.toml").unwrap();
    assert!(text.contains("aspnet = \"2.0 failed\""));
    let (code, out, _d) =
        run_bytes("s.toml", text.replacen("aspnet = \"2.0 failed\"", "aspnet = \"2.0\"", 1).as_bytes(), &[]);
    assert_eq!(code, 1, "a 1062 is not \"ASP.NET 2.0 ran it\": {out}");
    assert!(
        out.contains("expected ASP.NET 2.0.50727 ran it")
            && out.contains("2.0.50727 failed (another CLR owns the process (event 1062))"),
        "{out}"
    );
}
