//! What the admin tools print where a public dump fixes the text: iisreset's banner per build,
//! the layout of aspnet_regiis `-?`, and progress dots that follow the work done (IIR-01, REG-19,
//! REG-21).

mod common;

use common::machine;
use iisim::edition::Edition;
use iisim::runtime::Version::{V1_1, V2_0, V4_0};
use iisim::tools::{self, Context, Output};

fn run(m: &mut iisim::machine::Machine, line: &str) -> Output {
    tools::run(m, &mut iisim::process::World::default(), line, Context::default())
}

#[test]
fn iisreset_banner_years_follow_the_build() {
    for (edition, year) in
        [(Edition::Win2000, "1998-1999"), (Edition::WinXp, "1998-1999"), (Edition::Win2003, "1998-2005")]
    {
        let mut m = machine(edition, &[]);
        let out = run(&mut m, "iisreset /bogus");
        assert_eq!(out.lines[0], format!("IISRESET.EXE (c) Microsoft Corp. {year}"), "{edition}");
    }
}

#[test]
fn regiis_40_help_has_centred_titles_an_option_column_and_blank_lines() {
    let mut m = machine(Edition::Win2003, &[V4_0]);
    let out = run(&mut m, r"v4.0.30319\aspnet_regiis -?");
    assert_eq!(out.exit, 0);
    assert!(out.lines[0].starts_with("Microsoft (R) ASP.NET RegIIS version 4.0.30319."), "{}", out.text());
    let first_title = out.lines.iter().position(|l| l.trim_start().starts_with("-- ")).expect("titles");
    for line in &out.lines[first_title..] {
        assert!(line.len() <= 79, "wider than the console: {line:?}");
        if let Some(title) = line.trim_start().strip_prefix("-- ") {
            let left = line.len() - line.trim_start().len();
            let right = 79 - line.len();
            assert!(left.abs_diff(right) <= 1, "{title:?} is not centred: {left} spaces left, {right} right");
        }
    }
    let i = out.lines.iter().position(|l| l.starts_with("-i ")).expect("-i listed");
    assert_eq!(&out.lines[i][..28], "-i                        - ", "description column");
    assert!(out.lines[i + 1].starts_with(&" ".repeat(28)), "wrapped under itself: {:?}", out.lines[i + 1]);
    let ir = out.lines.iter().position(|l| l.starts_with("-ir ")).expect("-ir listed");
    assert_eq!(out.lines[ir - 1], "", "a blank line between options");
    for opt in ["-config+ ", "-config- "] {
        assert!(out.lines.iter().any(|l| l.starts_with(opt)), "{opt} missing:\n{}", out.text());
    }
}

#[test]
fn regiis_1x_help_has_no_titles_and_no_config_section() {
    let mut m = machine(Edition::Win2003, &[V1_1]);
    let out = run(&mut m, r"v1.1.4322\aspnet_regiis -?");
    assert!(!out.lines.iter().any(|l| l.contains("-- ")), "{}", out.text());
    assert!(!out.lines.iter().any(|l| l.starts_with("-config")), "{}", out.text());
    assert!(out.lines.iter().any(|l| l.starts_with("-i                         Register")), "{}", out.text());
}

#[test]
fn config_plus_and_minus_switch_remote_configuration() {
    let mut m = machine(Edition::Win2003, &[V1_1, V2_0]);
    let out = run(&mut m, r"v2.0.50727\aspnet_regiis -config+");
    assert_eq!(out.exit, 0, "{}", out.text());
    assert_eq!(m.resource("remote-config"), Some("enabled"));
    run(&mut m, r"v2.0.50727\aspnet_regiis -config-");
    assert_eq!(m.resource("remote-config"), None);
    let out = run(&mut m, r"v1.1.4322\aspnet_regiis -config+");
    assert_eq!(out.exit, 1, "1.1 has no -config+: {}", out.text());
}

/// The dots line of a progress block.
fn dots(out: &Output) -> usize {
    let line = out.lines.iter().find(|l| !l.is_empty() && l.chars().all(|c| c == '.')).expect("a line of dots");
    line.len()
}

#[test]
fn progress_dots_follow_the_work_done() {
    // A -u undoes a whole registration; a -sn on one key changes one key and RootVer.
    let mut m = machine(Edition::Win2003, &[V2_0]);
    let u = dots(&run(&mut m, r"v2.0.50727\aspnet_regiis -u"));
    let i = dots(&run(&mut m, r"v2.0.50727\aspnet_regiis -i"));
    let again = dots(&run(&mut m, r"v2.0.50727\aspnet_regiis -i"));
    assert!(u > 5 && i > 5, "-u {u} dots, -i {i} dots");
    assert!(again < i, "a second -i finds its work done: {again} dots, first {i}");
    let k = dots(&run(&mut m, r"v2.0.50727\aspnet_regiis -k W3SVC/1/ROOT"));
    assert!(k >= 1, "-k {k}");
}

#[test]
fn iisreset_stop_stops_the_services_themselves() {
    // One truth: the W3SVC service's state is what decides whether requests are served (IIR-02).
    let mut m = machine(Edition::Win2003, &[V2_0]);
    let mut w = iisim::process::World::default();
    iisim::process::boot(&m, &mut w);
    tools::run(&mut m, &mut w, "iisreset /stop", Context::default());
    assert!(!m.service("W3SVC").unwrap().running && !m.service("IISADMIN").unwrap().running);
    assert!(!iisim::process::web_running(&m, &w));
    let status = tools::run(&mut m, &mut w, "iisreset /status", Context::default());
    assert!(status.lines.iter().any(|l| l.ends_with("( W3SVC ) : Stopped")), "{}", status.text());
    tools::run(&mut m, &mut w, "iisreset /start", Context::default());
    assert!(m.service("W3SVC").unwrap().running && iisim::process::web_running(&m, &w));
}
