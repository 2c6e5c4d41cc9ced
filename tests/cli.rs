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
        ("exit = 0", "exit = \"zero\"", ":10:8: invalid type: string \"zero\", expected i32 (key `exit`)"),
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
        "   HTTP/1.1 200",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let (code, out) = iisim(&["explain", "scenarios/22_iis5_side_by_side.toml", "GET", "/../boot.ini"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("HTTP/1.1 400"), "{out}");
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
