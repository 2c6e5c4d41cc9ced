//! JUnit XML reports of scenario runs, for CI systems.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::scenario::transcript::printable;
use crate::scenario::{Report, ScenarioError};

/// Writes a JUnit XML document: one test case per scenario file, failures and load errors included.
/// Characters XML 1.0 cannot hold (control characters, U+FFFE, U+FFFF) are written as escapes.
pub fn write(reports: &[Report], errors: &[ScenarioError]) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let failed = reports.iter().filter(|r| !r.passed()).count();
    let total = reports.len() + errors.len();
    let res: quick_xml::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", "iisim scenarios"));
        suite.push_attribute(("tests", total.to_string().as_str()));
        suite.push_attribute(("failures", failed.to_string().as_str()));
        suite.push_attribute(("errors", errors.len().to_string().as_str()));
        w.write_event(Event::Start(suite))?;
        for r in reports {
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("classname", "scenarios"));
            case.push_attribute(("name", printable(&r.name).as_ref()));
            w.write_event(Event::Start(case))?;
            if let Some(first) = r.failures.first() {
                let mut f = BytesStart::new("failure");
                let msg = format!("{}: expected {}", first.step, first.expected);
                f.push_attribute(("message", printable(&msg).as_ref()));
                w.write_event(Event::Start(f))?;
                let body: Vec<String> = r
                    .failures
                    .iter()
                    .map(|f| format!("{}: expected {}; got: {}", f.step, f.expected, f.actual))
                    .collect();
                w.write_event(Event::Text(BytesText::new(&printable(&body.join("\n")))))?;
                w.write_event(Event::End(BytesEnd::new("failure")))?;
            }
            w.write_event(Event::Start(BytesStart::new("system-out")))?;
            w.write_event(Event::Text(BytesText::new(&printable(&r.transcript))))?;
            w.write_event(Event::End(BytesEnd::new("system-out")))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        for e in errors {
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("classname", "scenarios"));
            case.push_attribute(("name", printable(&e.file).as_ref()));
            w.write_event(Event::Start(case))?;
            let mut err = BytesStart::new("error");
            let msg = e.to_string();
            err.push_attribute(("message", printable(&msg).as_ref()));
            w.write_event(Event::Empty(err))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
        Ok(())
    })();
    res.expect("writing XML to memory cannot fail");
    let mut s = String::from_utf8(w.into_inner()).expect("XML writer emits UTF-8");
    s.push('\n');
    s
}
