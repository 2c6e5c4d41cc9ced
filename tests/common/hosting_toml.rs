//! The shared-hosting box of `common/hosting.rs` as a scenario file: one `[[machine.app]]` per
//! customer virtual directory and per application, each application's folder holding a
//! `Default.aspx`, so the CLI can load it (`iisim explain`, `iisim run`).

use std::fmt::Write;

/// The scenario text of a box with `apps` applications, ten per customer.
pub fn hosting_toml(apps: usize) -> String {
    let mut s = String::with_capacity(apps * 130 + 200);
    let _ = write!(s, "title = \"shared hosting box with {apps} applications\"\nrules = []\n\n");
    s.push_str("[machine]\nedition = \"2003\"\nruntimes = [\"2.0\"]\n");
    for c in 0..apps.div_ceil(10) {
        let _ = write!(
            s,
            "\n[[machine.app]]\npath = \"W3SVC/1/ROOT/Site{c}\"\nphysical_path = 'D:\\Sites\\Site{c}'\napplication = false\n"
        );
        for a in 0..10.min(apps - c * 10) {
            let _ = write!(
                s,
                "\n[[machine.app]]\npath = \"W3SVC/1/ROOT/Site{c}/App{a}\"\nphysical_path = 'D:\\Sites\\Site{c}\\App{a}'\nfiles = [\"Default.aspx\"]\n"
            );
        }
    }
    s
}
