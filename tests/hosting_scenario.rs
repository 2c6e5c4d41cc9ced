//! The generated shared-hosting scenario loads through the CLI and answers from the application
//! the URL names (the file the 100,000-application memory figure is measured on).

#[path = "common/hosting_toml.rs"]
mod hosting_toml;

use std::process::Command;

#[test]
fn the_generated_box_explains_a_request_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosting.toml");
    std::fs::write(&file, hosting_toml::hosting_toml(35)).unwrap();
    let explain = |url: &str| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_iisim")).arg("explain").arg(&file).args(["GET", url]).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, text) = explain("http://localhost/Site3/App4/Default.aspx");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("ASP.NET 2.0.50727 ran /Site3/App4/Default.aspx for application /Site3/App4"), "{text}");
    // 35 applications: the fourth customer has five, so App7 there is no application.
    let (_, text) = explain("http://localhost/Site3/App7/Default.aspx");
    assert!(text.contains("HTTP 404. The resource you are looking for"), "{text}");
}
