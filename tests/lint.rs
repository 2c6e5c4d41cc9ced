//! Lint and diagram: the findings of the fixtures, the fixes they print actually fixing them, and
//! the CLI's formats and exit codes.

use std::path::PathBuf;
use std::process::Command;

use iisim::lint::{self, Finding};
use iisim::process::World;
use iisim::tools::{self, Context};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/metabase").join(name)
}

fn rules(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule).collect()
}

fn iisim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iisim")).args(args).current_dir(root()).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_bare_metabase_xml_is_linted_with_the_runtimes_it_registered() {
    // Installed runtimes are those the Web Service Extensions and InProcessIsapiApps name: 1.1 and
    // 2.0, so the 4.0 and 1.0 maps name runtimes that are not installed.
    let m = iisim::scenario::machine_from_xml(&fixture("mixed-server.xml")).unwrap();
    let findings = lint::lint(&m);
    assert_eq!(rules(&findings), ["CLR-04", "VER-02", "VER-02", "SES-05", "PM6-04", "CMP-03", "REQ-05"]);
    let v11 = iisim::scenario::machine_from_xml(&fixture("v11-server.xml")).unwrap();
    assert!(lint::lint(&v11).is_empty(), "{:#?}", lint::lint(&v11));
}

#[test]
fn every_printed_fix_removes_its_finding() {
    let s = iisim::scenario::load(&root().join("scenarios/49_import_lint.toml")).unwrap();
    let (_, start, start_world) = s.run_until(Some(0));
    let before = lint::lint(&start);
    assert_eq!(before.len(), 7);
    for f in &before {
        // iisext.vbs is not among the tools iisim runs.
        if f.fix.iter().any(|c| c.contains("iisext.vbs")) {
            continue;
        }
        let (mut m, mut w) = (start.clone(), start_world.clone());
        for cmd in &f.fix {
            let out = tools::run(&mut m, &mut w, cmd, Context::default());
            assert_eq!(out.exit, 0, "{cmd}: {:?}", out.lines);
        }
        let after = lint::lint(&m);
        assert!(
            !after.iter().any(|a| a.rule == f.rule && a.subject == f.subject),
            "{} {} survives {:?}: {after:#?}",
            f.rule,
            f.subject,
            f.fix
        );
        // A fix brings no new risk (moving an application must not drag a nested one of another
        // version along into the new pool, for one).
        for a in &after {
            assert!(before.iter().any(|b| b.rule == a.rule && b.subject == a.subject), "{:?} brought {a:#?}", f.fix);
        }
    }
}

#[test]
fn lint_exit_codes_and_json() {
    let (code, out, _) = iisim(&["lint", "tests/fixtures/metabase/v11-server.xml"]);
    assert_eq!((code, out.trim()), (0, "no findings"));
    let (code, out, _) = iisim(&["lint", "tests/fixtures/metabase/mixed-server.xml", "--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 7);
    assert_eq!(list[0]["rule"], "CLR-04");
    assert!(list[0]["fix"][0].as_str().unwrap().starts_with("cscript C:\\Inetpub\\AdminScripts\\adsutil.vbs CREATE"));
    let (code, _, err) = iisim(&["lint", "tests/fixtures/metabase/malformed/outside-lm.xml"]);
    assert_eq!(code, 2);
    assert!(err.contains("outside-lm.xml:21:13: key /MimeMap is outside /LM"), "{err}");
    // A scenario is linted as its steps leave it, or after the steps asked for.
    let (code, out, _) = iisim(&["lint", "scenarios/49_import_lint.toml", "--after-step", "2"]);
    assert_eq!(code, 1);
    assert!(out.contains("6 findings") && !out.contains("SES-05"), "{out}");
    let (code, _, err) = iisim(&["lint", "scenarios/49_import_lint.toml", "--after-step", "99"]);
    assert_eq!(code, 2);
    assert!(err.contains("the scenario has 13 steps"), "{err}");
}

#[test]
fn diagram_dot_and_svg() {
    let (code, dot, _) = iisim(&["diagram", "tests/fixtures/metabase/mixed-server.xml"]);
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph iisim {"));
    assert!(dot.contains("\"site:3\" [label=\"Site 3: Extranet\\n:80:intranet.contoso.com\\n:8080:\\n! a binding clash [REQ-05]\", color=red, fontcolor=red];"));
    assert!(dot.contains("\"rt:2.0.50727\" -> \"host:pool:Garden\" [color=red];"));
    assert!(dot.contains("\"rt:4.0.30319\" -> \"host:pool:BetaPool\";"));
    let (code, svg, _) = iisim(&["diagram", "tests/fixtures/metabase/mixed-server.xml", "--format", "svg"]);
    assert_eq!(code, 0);
    // Well-formed XML, one group per node, conflicts drawn red with their reason.
    let mut reader = quick_xml::Reader::from_str(&svg);
    let mut groups = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"g" => groups += 1,
            _ => {}
        }
    }
    assert_eq!(groups, 3 + 8 + 4 + 3);
    assert!(svg.contains("stroke=\"#d62728\""));
    assert!(svg.contains("<title>two runtimes in one pool [CLR-04]</title>"));
    // The README's picture is this file's.
    let committed = std::fs::read_to_string(root().join("docs/diagram-mixed-server.svg")).unwrap();
    assert_eq!(committed, svg, "regenerate docs/diagram-mixed-server.svg with iisim diagram --format svg");
}

#[test]
fn export_of_a_scenario_after_a_step() {
    let (code, xml, _) = iisim(&["export", "scenarios/48_import_move_app_to_own_pool.toml", "--after-step", "4"]);
    assert_eq!(code, 0);
    assert!(xml.contains("Location =\"/LM/W3SVC/AppPools/ASPNET-2.0.50727\""));
    assert!(!xml.contains("AppPoolId=\"ASPNET-2.0.50727\""), "step 5 has not run");
    let (code, xml, _) = iisim(&["export", "scenarios/01_v10_then_v11_default_setup.toml"]);
    assert_eq!(code, 0);
    // A metabase iisim built gets the policy's namespace and the skeleton (MB-04).
    assert!(xml.starts_with("<?xml version =\"1.0\"?>\r\n<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\">\r\n<MBProperty>\r\n<IIS_Global\tLocation =\".\"\r\n"));
    assert!(iisim::metabase::xml::import(&xml).is_ok());
}

#[test]
fn lint_and_diagram_need_no_request() {
    // The world is not consulted: lint reads the configuration alone.
    let m = iisim::scenario::machine_from_xml(&fixture("mixed-server.xml")).unwrap();
    let _unused = World::default();
    let g = iisim::diagram::build(&m);
    let red: Vec<&str> = g.nodes.iter().filter(|n| !n.conflicts.is_empty()).map(|n| n.id.as_str()).collect();
    assert!(
        red.contains(&"host:pool:DefaultAppPool")
            && red.contains(&"site:3")
            && red.contains(&"app:/LM/W3SVC/2/ROOT/portal")
    );
    assert!(!red.contains(&"host:pool:BetaPool"));
}
