//! `iisim console`: an emulated command prompt on a scenario's final machine. Lines go through
//! the same cmd.exe [`Session`] as scenario steps; `GET`/`POST`, `advance`, `explain`, `help` and
//! `save` are the console's own, and `save` writes what was done as a scenario that replays.

use std::path::Path;

use crate::cmd::Session;
use crate::dispatch::Request;
use crate::machine::Machine;
use crate::process::{self, Load, World};
use crate::scenario::{self, spec, ScenarioError};
use crate::tools::Context;

/// The scenario a console without a file starts from.
const FRESH: &str = "title = \"console session\"\nrules = []\n\n[machine]\nedition = \"2003\"\n";

/// One console: the machine, its cmd.exe session, and the steps typed so far.
pub struct Console {
    base: String,
    m: Machine,
    w: World,
    session: Session,
    steps: Vec<String>,
}

/// What a console line printed, and whether the console should close.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// Lines to show (standard error included, in order).
    pub lines: Vec<String>,
    /// `exit` was typed.
    pub quit: bool,
}

impl Console {
    /// A console on the final machine of the scenario in `text` (its file name `file`).
    pub fn from_text(file: &str, text: &str) -> Result<Console, ScenarioError> {
        let s = scenario::load_str(file, file, text)?;
        let (_report, m, w, session) = s.run_with_session();
        Ok(Console { base: text.trim_end().to_string(), m, w, session, steps: Vec::new() })
    }

    /// A console on a scenario file, or on a fresh Windows Server 2003 without one.
    pub fn open(path: Option<&Path>) -> Result<Console, ScenarioError> {
        match path {
            None => Console::from_text("console", FRESH),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ScenarioError {
                    file: p.display().to_string(),
                    line: 0,
                    column: 0,
                    message: format!("cannot read the file: {e}"),
                })?;
                Console::from_text(&p.display().to_string(), &text)
            }
        }
    }

    /// The prompt, `C:\Documents and Settings\Administrator>` style (CMD-01).
    pub fn prompt(&self) -> String {
        self.session.prompt()
    }

    /// The machine as the console left it.
    pub fn machine(&self) -> &Machine {
        &self.m
    }

    /// Handles one typed line.
    pub fn handle(&mut self, line: &str) -> Reply {
        let trimmed = line.trim();
        let (word, rest) = trimmed.split_once(char::is_whitespace).unwrap_or((trimmed, ""));
        let rest = rest.trim();
        let mut reply = Reply::default();
        match word.to_ascii_lowercase().as_str() {
            "" => {}
            "exit" if rest.is_empty() => reply.quit = true,
            "help" if rest.is_empty() => reply.lines = help(),
            "get" | "post" if !rest.is_empty() => {
                let method = word.to_ascii_uppercase();
                let target = Target::parse(rest);
                reply.lines = self.request(&method, &target);
                let mut step = format!("request = {{ method = {}, url = {}", quote(&method), quote(&target.path));
                if target.host != "localhost" {
                    step.push_str(&format!(", host = {}", quote(&target.host)));
                }
                if target.port != 80 {
                    step.push_str(&format!(", port = {}", target.port));
                }
                step.push_str(" }");
                self.steps.push(step);
            }
            "advance" => match spec::parse_duration(rest) {
                Some(secs) => {
                    process::advance(&mut self.m, &mut self.w, secs);
                    self.m.drain_effects_with(self.w.journal_mut());
                    reply.lines.push(format!("virtual clock: +{secs} s"));
                    self.steps.push(format!("advance = {}", quote(rest)));
                }
                None => reply.lines.push("advance takes a duration: 30s, 21m, 2h or 1d".into()),
            },
            "explain" if !rest.is_empty() => {
                let req = Target::parse(rest).request("GET");
                reply.lines = scenario::explain(&self.m, &self.w, &req, &Load::default());
            }
            "save" if !rest.is_empty() => reply.lines.push(match self.save(Path::new(rest)) {
                Ok(()) => format!("saved {} step(s) to {rest}", self.steps.len()),
                Err(e) => format!("cannot write {rest}: {e}"),
            }),
            _ => {
                let out = self.session.run_line(&mut self.m, &mut self.w, line, Context::default());
                self.m.drain_effects_with(self.w.journal_mut());
                reply.lines = out.console.into_iter().map(|(_, l)| l).collect();
                self.steps.push(format!("run = {}\n[step.expect]\nexit = {}", quote(line), out.exit));
                if self.session.ended().is_some() {
                    reply.quit = true;
                }
            }
        }
        reply
    }

    fn request(&mut self, method: &str, target: &Target) -> Vec<String> {
        let req = target.request(method);
        let served = process::serve(&self.m, &mut self.w, &req, &Load::default());
        let client = crate::http::httperr::emulated_client(false, served.id);
        crate::http::httperr::log_served(&mut self.m, &req, &served, client);
        self.m.drain_effects_with(self.w.journal_mut());
        let mut lines = vec![scenario::summary(&req, &served)];
        if served.reply.status != 0 {
            lines.push(format!("HTTP/1.1 {}", served.reply.status));
            for (k, v) in &served.reply.headers {
                lines.push(format!("{k}: {v}"));
            }
        }
        lines
    }

    /// The scenario so far: the starting file and one step per typed line.
    pub fn scenario_text(&self) -> String {
        let mut text = self.base.clone();
        text.push('\n');
        for s in &self.steps {
            text.push_str("\n[[step]]\n");
            text.push_str(s);
            text.push('\n');
        }
        text
    }

    /// Writes [`Console::scenario_text`] to `path`.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.scenario_text())
    }
}

/// Where a typed URL goes: `http://shop.example.com:8080/x` is host `shop.example.com`, port
/// 8080, target `/x`; a bare `/x` goes to localhost on port 80.
struct Target {
    host: String,
    port: u16,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Target {
        let u = url.trim();
        let mut t = Target { host: "localhost".into(), port: 80, path: u.to_string() };
        if let Some(rest) = u.strip_prefix("http://") {
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            let (host, port) = match authority.rsplit_once(':') {
                Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse().unwrap_or(80)),
                _ => (authority, 80),
            };
            t = Target { host: host.to_string(), port, path: path.to_string() };
        }
        t
    }

    fn request(&self, method: &str) -> Request {
        let mut req = Request::new(method, &self.path);
        req.host = Some(self.host.clone());
        req.port = self.port;
        req
    }
}

/// A TOML string literal.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn help() -> Vec<String> {
    [
        "Type command lines as on the server (cd, set, net stop w3svc, cscript adsutil.vbs ..., .cmd files).",
        "Console commands:",
        "  GET <url> | POST <url>   send a request: status, headers, process and runtime",
        "  advance <time>           let virtual time pass (30s, 21m, 2h, 1d)",
        "  explain <url>            every decision for one request, with its rules",
        "  save <file>              write this session as a scenario that replays",
        "  help                     this text",
        "  exit or Ctrl-D           leave",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Runs the console on the terminal with line editing and history until `exit` or Ctrl-D.
pub fn run_interactive(path: Option<&Path>) -> Result<(), String> {
    use std::io::Write;
    let mut console = Console::open(path).map_err(|e| e.to_string())?;
    let mut editor = rustyline::DefaultEditor::new().map_err(|e| e.to_string())?;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "iisim console on {} (type help)", console.machine().edition());
    let _ = writeln!(out);
    loop {
        let prompt = console.prompt();
        match editor.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let reply = console.handle(&line);
                for l in &reply.lines {
                    let _ = writeln!(out, "{l}");
                }
                if reply.quit {
                    return Ok(());
                }
                // With echo on cmd prints an empty line before the next prompt (CMD-01).
                if !line.trim().is_empty() {
                    let _ = writeln!(out);
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
    }
}
