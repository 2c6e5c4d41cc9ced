//! `iisim console`: the library API, and a session driven through a real pseudo-terminal (tmux).

use std::process::Command;
use std::time::{Duration, Instant};

use iisim::console::Console;

const BOX: &str = r#"title = "console start"
rules = []
[machine]
edition = "2003"
runtimes = ["1.1", "2.0"]
[[machine.app]]
path = "W3SVC/1/ROOT/shop"
physical_path = 'D:\Sites\shop'
files = ["default.aspx"]
"#;

#[test]
fn lines_requests_and_save_replay() {
    let mut c = Console::from_text("box.toml", BOX).unwrap();
    assert_eq!(c.prompt(), r"C:\Documents and Settings\Administrator>");
    let r = c.handle(r"cd /d %windir%\Microsoft.NET\Framework\v2.0.50727");
    assert!(r.lines.is_empty() && !r.quit);
    assert_eq!(c.prompt(), r"C:\WINDOWS\Microsoft.NET\Framework\v2.0.50727>");
    let r = c.handle("aspnet_regiis -s W3SVC/1/ROOT/shop -norestart");
    assert!(
        r.lines.iter().any(|l| l.starts_with("Finished registering ASP.NET scriptmap (2.0.50727)")),
        "{:?}",
        r.lines
    );
    let r = c.handle("GET http://localhost/shop/default.aspx");
    assert!(r.lines[0].contains("200 from w3wp.exe") && r.lines[0].contains("ASP.NET 2.0.50727"), "{:?}", r.lines);
    assert!(r.lines.iter().any(|l| l == "HTTP/1.1 200"));
    let r = c.handle("GET http://other.example.com:8080/shop/default.aspx");
    assert!(r.lines[0].starts_with("GET /shop/default.aspx -> 400"), "no site binds port 8080: {:?}", r.lines);
    // HTTP.sys answered it itself: its line is in httperr1.log on the box's disk (HTTP-05, HTTP-08).
    let r = c.handle(r"type %windir%\system32\LogFiles\HTTPERR\httperr1.log");
    assert_eq!(r.lines[0], "#Software: Microsoft HTTP API 1.0", "{:?}", r.lines);
    assert!(
        r.lines.iter().any(|l| l.ends_with(" 10.0.0.1 8080 HTTP/1.1 GET /shop/default.aspx 400 - Hostname -")),
        "{:?}",
        r.lines
    );
    let r = c.handle("advance 21m");
    assert_eq!(r.lines, ["virtual clock: +1260 s"]);
    let r = c.handle("nosuch");
    assert_eq!(r.lines[0], "'nosuch' is not recognized as an internal or external command,");
    assert!(c.handle("help").lines.iter().any(|l| l.contains("save <file>")));
    // The saved scenario replays: each typed line is a step that expects the exit code it had.
    let text = c.scenario_text();
    assert!(text.contains("exit = 9009"), "{text}");
    let report = iisim::scenario::load_str("saved.toml", "saved.toml", &text).unwrap().run();
    assert!(report.passed(), "{:?}\n{}", report.failures, report.transcript);
    assert!(c.handle("exit").quit);
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux is installed");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Waits until the pane shows `text` (bounded: 10 s).
fn wait_for(session: &str, text: &str) -> String {
    let start = Instant::now();
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session, "-S", "-200"]);
        if screen.contains(text) || start.elapsed() > Duration::from_secs(10) {
            return screen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_session_in_a_pseudo_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("box.toml");
    std::fs::write(&file, BOX).unwrap();
    let saved = dir.path().join("saved.toml");
    let session = format!("iisimtest{}", std::process::id());
    let cmd = format!("{} console {}", env!("CARGO_BIN_EXE_iisim"), file.display());
    tmux(&["new-session", "-d", "-s", &session, "-x", "160", "-y", "50", &cmd]);
    let screen = wait_for(&session, "Administrator>");
    assert!(screen.contains(r"C:\Documents and Settings\Administrator>"), "{screen}");
    tmux(&["send-keys", "-t", &session, r"cd /d %SystemDrive%\Inetpub\AdminScripts", "Enter"]);
    let screen = wait_for(&session, r"C:\Inetpub\AdminScripts>");
    assert!(screen.contains(r"C:\Inetpub\AdminScripts>"), "{screen}");
    // Line editing: type, move left, insert, then recall the line from history with Up.
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "cscript //nologo adsutil.vbs GET W3SVC/1/ServerComent",
        "Left",
        "Left",
        "Left",
        "m",
        "Enter",
    ]);
    let screen = wait_for(&session, "Default Web Site");
    assert!(screen.contains(r#"ServerComment                   : (STRING) "Default Web Site""#), "{screen}");
    tmux(&["send-keys", "-t", &session, "Up", "Enter"]);
    let start = Instant::now();
    let mut screen = String::new();
    while start.elapsed() < Duration::from_secs(10) {
        screen = tmux(&["capture-pane", "-p", "-t", &session, "-S", "-200"]);
        if screen.matches("Default Web Site").count() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(screen.matches("Default Web Site").count() >= 2, "history recalls the line: {screen}");
    tmux(&["send-keys", "-t", &session, "GET /shop/default.aspx", "Enter"]);
    let screen = wait_for(&session, "HTTP/1.1");
    assert!(screen.contains("GET /shop/default.aspx -> 200 from w3wp.exe"), "{screen}");
    tmux(&["send-keys", "-t", &session, &format!("save {}", saved.display()), "Enter"]);
    wait_for(&session, "saved ");
    tmux(&["send-keys", "-t", &session, "C-d"]);
    let alive = || Command::new("tmux").args(["has-session", "-t", &session]).status().is_ok_and(|s| s.success());
    let start = Instant::now();
    while alive() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let still_there = alive();
    if still_there {
        tmux(&["kill-session", "-t", &session]);
    }
    assert!(!still_there, "Ctrl-D leaves the console");
    let text = std::fs::read_to_string(&saved).unwrap();
    let report = iisim::scenario::load_str("saved.toml", "saved.toml", &text).unwrap().run();
    assert!(report.passed(), "{:?}", report.failures);
}
