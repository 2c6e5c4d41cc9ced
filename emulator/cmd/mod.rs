//! The cmd.exe session: current drive and directories, environment, ERRORLEVEL, `%VAR%`
//! expansion, operators, redirection, program lookup and batch files (CMD-01..CMD-28).
//!
//! Every front end (scenario steps, `iisim console`, the admin listener of `iisim serve`) types
//! command lines into a [`Session`], which runs built-ins itself and hands programs to
//! [`crate::tools::exec`] with the session's current directory.

mod batch;
mod builtins;
pub mod parse;

use std::collections::BTreeMap;

use crate::edition::Edition;
use crate::machine::Machine;
use crate::policy;
use crate::process::World;
use crate::tools::{self, Context, Launch, Output};
use parse::{Join, Node, Redir, Target};

/// Which stream a console line was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// What one command line printed on the console, in order, and the ERRORLEVEL it left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmdOutput {
    /// Console lines with their stream, in the order written.
    pub console: Vec<(Stream, String)>,
    /// ERRORLEVEL after the line (the session's exit code after `exit N`).
    pub exit: i32,
}

impl CmdOutput {
    /// The standard-output lines.
    pub fn stdout(&self) -> Vec<String> {
        self.stream(Stream::Out)
    }

    /// The standard-error lines.
    pub fn stderr(&self) -> Vec<String> {
        self.stream(Stream::Err)
    }

    fn stream(&self, s: Stream) -> Vec<String> {
        self.console.iter().filter(|(k, _)| *k == s).map(|(_, l)| l.clone()).collect()
    }

    /// As a tool's [`Output`]: stdout lines, stderr lines, exit code.
    pub fn to_output(&self) -> Output {
        Output { lines: self.stdout(), err: self.stderr(), exit: self.exit }
    }
}

/// An environment variable: its name as first written, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Var {
    name: String,
    value: String,
}

/// Environment variables, matched without regard to case, listed in case-insensitive order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, Var>,
}

impl Env {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(&name.to_ascii_uppercase()).map(|v| v.value.as_str())
    }

    /// Sets `name` (keeping the case it was first written in); an empty value deletes it.
    pub fn set(&mut self, name: &str, value: &str) {
        let k = name.to_ascii_uppercase();
        if value.is_empty() {
            self.vars.remove(&k);
        } else if let Some(v) = self.vars.get_mut(&k) {
            v.value = value.to_string();
        } else {
            self.vars.insert(k, Var { name: name.to_string(), value: value.to_string() });
        }
    }

    /// Every `(name, value)` in `set`'s order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.values().map(|v| (v.name.as_str(), v.value.as_str()))
    }

    /// The standard environment of `edition` for Administrator on computer `computer` (CMD-02).
    pub fn standard(edition: Edition, computer: &str) -> Env {
        let root = edition.windir();
        let user = "Administrator";
        let profile = format!("C:\\Documents and Settings\\{user}");
        let computer = computer.to_ascii_uppercase();
        let temp = "C:\\DOCUME~1\\ADMINI~1\\LOCALS~1\\Temp".to_string();
        let pairs: Vec<(&str, String)> = vec![
            ("ALLUSERSPROFILE", "C:\\Documents and Settings\\All Users".into()),
            ("APPDATA", format!("{profile}\\Application Data")),
            ("CommonProgramFiles", "C:\\Program Files\\Common Files".into()),
            ("COMPUTERNAME", computer.clone()),
            ("ComSpec", format!("{root}\\system32\\cmd.exe")),
            ("HOMEDRIVE", "C:".into()),
            ("HOMEPATH", format!("\\Documents and Settings\\{user}")),
            ("LOGONSERVER", format!("\\\\{computer}")),
            ("NUMBER_OF_PROCESSORS", "1".into()),
            ("OS", "Windows_NT".into()),
            ("Path", format!("{root}\\system32;{root};{root}\\System32\\Wbem")),
            ("PATHEXT", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH".into()),
            ("PROCESSOR_ARCHITECTURE", "x86".into()),
            ("ProgramFiles", "C:\\Program Files".into()),
            ("PROMPT", "$P$G".into()),
            ("SystemDrive", "C:".into()),
            ("SystemRoot", root.into()),
            ("TEMP", temp.clone()),
            ("TMP", temp),
            ("USERDOMAIN", computer.clone()),
            ("USERNAME", user.into()),
            ("USERPROFILE", profile),
            ("windir", root.into()),
        ];
        let mut env = Env::default();
        for (k, v) in pairs {
            env.set(k, &v);
        }
        env
    }
}

/// Where a stream goes while a command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sink {
    Console(Stream),
    File(String),
    Nul,
    Pipe(usize),
}

/// The streams of a running command.
#[derive(Debug, Clone)]
struct Io {
    out: Sink,
    err: Sink,
    stdin: Option<String>,
}

impl Io {
    fn console() -> Io {
        Io { out: Sink::Console(Stream::Out), err: Sink::Console(Stream::Err), stdin: None }
    }
}

/// What a command asks of the batch file (or prompt) running it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Flow {
    Next,
    Goto(String),
    EndFrame,
    Exit(i32),
}

/// Environment and directories saved by `setlocal` (CMD-25).
#[derive(Debug, Clone)]
struct Saved {
    env: Env,
    drive: char,
    dirs: BTreeMap<char, String>,
}

/// One running batch file or `call`ed label (CMD-22..CMD-25).
#[derive(Debug, Clone)]
struct Frame {
    /// The batch file's full path.
    file: String,
    /// Its lines.
    lines: Vec<String>,
    /// `%0` then the arguments, quotes kept.
    args: Vec<String>,
    /// How many times `shift` ran.
    shift: usize,
    /// The next line to read.
    pc: usize,
    /// `setlocal` saves not yet undone.
    locals: Vec<Saved>,
}

/// Lines a command line may run before iisim stops it as an endless loop.
const STEP_LIMIT: usize = 100_000;
/// Nested `cmd /c` sessions iisim allows.
const CHILD_LIMIT: usize = 32;
/// Nested batch frames before cmd gives up (CMD-24).
const FRAME_LIMIT: usize = 200;

/// One cmd.exe session (CMD-01).
#[derive(Debug, Clone)]
pub struct Session {
    drive: char,
    dirs: BTreeMap<char, String>,
    env: Env,
    errorlevel: i32,
    echo: bool,
    pushd: Vec<(char, String)>,
    frames: Vec<Frame>,
    console: Vec<(Stream, String)>,
    pipes: Vec<String>,
    last_exit: i32,
    steps: usize,
    ended: Option<i32>,
    random: u32,
    /// The virtual clock when the line being expanded was read (`%DATE%`, `%TIME%`).
    clock: u64,
    delayed: bool,
    cited: std::collections::BTreeSet<crate::rules::RuleId>,
    /// How many `cmd /c` (or `for /f '...'`) sessions enclose this one.
    depth: usize,
}

impl Session {
    /// A new session on `m`, started where the `cmd.start_dir` policy says (CMD-01).
    pub fn new(m: &Machine) -> Session {
        let env = Env::standard(m.edition(), m.name());
        let start = if m.policies().is(policy::CMD_START_DIR, "system32") {
            format!("{}\\system32", m.windir())
        } else {
            env.get("USERPROFILE").unwrap_or("C:\\").to_string()
        };
        Session::at(m, &start)
    }

    /// A new session whose current directory is `dir`.
    pub fn at(m: &Machine, dir: &str) -> Session {
        let env = Env::standard(m.edition(), m.name());
        let drive = dir.chars().next().unwrap_or('C').to_ascii_uppercase();
        let mut dirs = BTreeMap::new();
        dirs.insert(drive, dir.trim_end_matches('\\').to_string());
        Session {
            drive,
            dirs,
            env,
            errorlevel: 0,
            echo: true,
            pushd: Vec::new(),
            frames: Vec::new(),
            console: Vec::new(),
            pipes: Vec::new(),
            last_exit: 0,
            steps: 0,
            ended: None,
            random: 0x2545_F491,
            clock: m.clock(),
            delayed: false,
            cited: std::collections::BTreeSet::new(),
            depth: 0,
        }
    }

    /// The prompt `$P$G`: the current directory and `>` (CMD-01).
    pub fn prompt(&self) -> String {
        let p = self.env.get("PROMPT").unwrap_or("$P$G").to_string();
        let mut out = String::new();
        let mut chars = p.chars();
        while let Some(c) = chars.next() {
            if c != '$' {
                out.push(c);
                continue;
            }
            match chars.next().map(|c| c.to_ascii_uppercase()) {
                Some('P') => out.push_str(&self.cwd()),
                Some('G') => out.push('>'),
                Some('L') => out.push('<'),
                Some('N') => out.push(self.drive),
                Some('_') => out.push('\n'),
                Some('$') => out.push('$'),
                Some('S') => out.push(' '),
                _ => {}
            }
        }
        out
    }

    /// The current directory of the current drive, `C:\` at a root (CMD-03's `%CD%`).
    pub fn cwd(&self) -> String {
        self.dir_of(self.drive)
    }

    fn dir_of(&self, drive: char) -> String {
        match self.dirs.get(&drive) {
            Some(d) if d.len() > 2 => d.clone(),
            _ => format!("{drive}:\\"),
        }
    }

    /// ERRORLEVEL.
    pub fn errorlevel(&self) -> i32 {
        self.errorlevel
    }

    /// The session's environment.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// `Some(code)` once `exit` ended the session.
    pub fn ended(&self) -> Option<i32> {
        self.ended
    }

    /// Runs one command line typed at the prompt and returns what it printed and ERRORLEVEL.
    pub fn run_line(&mut self, m: &mut Machine, w: &mut World, line: &str, ctx: Context) -> CmdOutput {
        self.run_line_with_input(m, w, line, None, ctx)
    }

    /// Runs a command line whose standard input is `stdin` (a console answer, a piped file).
    pub fn run_line_with_input(
        &mut self,
        m: &mut Machine,
        w: &mut World,
        line: &str,
        stdin: Option<&str>,
        ctx: Context,
    ) -> CmdOutput {
        self.console.clear();
        self.pipes.clear();
        // A child session (cmd /c) spends the budget of the line that started it.
        if self.depth == 0 {
            self.steps = 0;
        }
        self.cited.clear();
        let mut io = Io::console();
        io.stdin = stdin.map(str::to_string);
        // A `^` at the end of a line joins the next (CMD-05).
        let joined = join_continuations(line);
        for text in &joined {
            if self.ended.is_some() {
                break;
            }
            self.clock = m.clock();
            let expanded = self.expand(text, false);
            match parse::parse(&expanded) {
                Ok(node) => {
                    if let Flow::Exit(code) = self.exec(m, w, &node, &io, ctx) {
                        self.ended = Some(code);
                        self.errorlevel = code;
                    }
                }
                Err(parse::Unexpected(tok)) => {
                    self.cite("CMD-28");
                    self.emit(m, &io.err, format!("{tok} was unexpected at this time."));
                    self.errorlevel = 1;
                }
            }
        }
        // One note per line that used more of cmd than finding a program: what decided it.
        if self.cited.iter().any(|r| !["CMD-07", "CMD-08"].contains(r)) {
            let rules: Vec<crate::rules::RuleId> = self.cited.iter().copied().collect();
            m.note(format!("cmd: ERRORLEVEL {}, current directory {}", self.errorlevel, self.cwd()), &rules);
        }
        CmdOutput { console: std::mem::take(&mut self.console), exit: self.errorlevel }
    }

    /// An operator, recorded as deciding the line (CMD-05).
    fn cited_op<'a>(&mut self, op: &'a Join) -> &'a Join {
        self.cite("CMD-05");
        op
    }

    /// Records a rule that decided part of the running line.
    fn cite(&mut self, rule: crate::rules::RuleId) {
        self.cited.insert(rule);
    }

    // ----- output -----

    fn emit(&mut self, m: &mut Machine, sink: &Sink, line: impl Into<String>) {
        let line = line.into();
        match sink {
            Sink::Console(s) => self.console.push((*s, line)),
            Sink::Nul => {}
            Sink::File(p) => {
                m.fs_write(p, &format!("{line}\r\n"), true, &["CMD-06"]);
            }
            Sink::Pipe(i) => {
                if let Some(buf) = self.pipes.get_mut(*i) {
                    buf.push_str(&line);
                    buf.push('\n');
                }
            }
        }
    }

    fn emit_output(&mut self, m: &mut Machine, io: &Io, out: &Output) {
        for l in &out.lines {
            self.emit(m, &io.out, l.clone());
        }
        for l in &out.err {
            self.emit(m, &io.err, l.clone());
        }
    }

    /// A failed built-in: its message on stderr, ERRORLEVEL 1.
    fn fail(&mut self, m: &mut Machine, io: &Io, msg: &str) -> Flow {
        self.emit(m, &io.err, msg.to_string());
        self.set_exit(1);
        Flow::Next
    }

    fn set_exit(&mut self, code: i32) {
        self.errorlevel = code;
        self.last_exit = code;
    }

    /// A built-in that succeeded without changing ERRORLEVEL (CMD-15).
    fn ok(&mut self) -> Flow {
        self.last_exit = 0;
        Flow::Next
    }

    // ----- expansion (CMD-04, CMD-22) -----

    /// Expands `%VAR%` (and in a batch file `%0`..`%9`, `%*`, `%~dp0`, `%%`) in `text`.
    fn expand(&mut self, text: &str, batch: bool) -> String {
        let c: Vec<char> = text.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < c.len() {
            if c[i] != '%' {
                out.push(c[i]);
                i += 1;
                continue;
            }
            if batch {
                match c.get(i + 1) {
                    Some('%') => {
                        out.push('%');
                        i += 2;
                        continue;
                    }
                    Some(d) if d.is_ascii_digit() => {
                        out.push_str(&self.arg(d.to_digit(10).unwrap_or(0) as usize));
                        i += 2;
                        continue;
                    }
                    Some('*') => {
                        out.push_str(&self.all_args());
                        i += 2;
                        continue;
                    }
                    Some('~') => {
                        if let Some((value, used)) = self.modified_arg(&c[i + 2..]) {
                            out.push_str(&value);
                            i += 2 + used;
                            continue;
                        }
                    }
                    _ => {}
                }
            }
            let Some(close) = c[i + 1..].iter().position(|&x| x == '%') else {
                // A lone `%`: dropped in a batch file, kept at the prompt.
                if !batch {
                    out.push('%');
                }
                i += 1;
                continue;
            };
            let name: String = c[i + 1..i + 1 + close].iter().collect();
            self.cite("CMD-04");
            if Env::standard(Edition::Win2003, "X").get(name.split(':').next().unwrap_or("")).is_some() {
                self.cite("CMD-02");
            }
            match self.lookup_expr(&name) {
                Some(v) => {
                    out.push_str(&v);
                    i += close + 2;
                }
                None if batch => i += close + 2,
                None => {
                    // Undefined at the prompt: the text stays, and the closing `%` may open the next name.
                    out.push('%');
                    out.push_str(&name);
                    i += close + 1;
                }
            }
        }
        out
    }

    /// `!NAME!` replaced by its value as the command runs; undefined names become empty in a
    /// batch file and stay as typed at the prompt (CMD-04).
    fn expand_delayed(&mut self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('!') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('!') {
                Some(end) => {
                    let name = &after[..end];
                    match self.lookup_expr(name) {
                        Some(v) => out.push_str(&v),
                        None if !self.frames.is_empty() => {}
                        None => {
                            out.push('!');
                            out.push_str(name);
                            out.push('!');
                        }
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    if self.frames.is_empty() {
                        out.push('!');
                    }
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// `NAME`, `NAME:old=new` or `NAME:~start,len` (CMD-04).
    fn lookup_expr(&mut self, expr: &str) -> Option<String> {
        if expr.is_empty() {
            return None;
        }
        let Some((name, op)) = expr.split_once(':') else {
            return self.lookup(expr);
        };
        let value = self.lookup(name)?;
        if let Some(range) = op.strip_prefix('~') {
            let mut parts = range.splitn(2, ',');
            let start: i64 = parts.next().unwrap_or("0").trim().parse().ok()?;
            let len: Option<i64> = match parts.next() {
                Some(l) => Some(l.trim().parse().ok()?),
                None => None,
            };
            let chars: Vec<char> = value.chars().collect();
            let n = chars.len() as i64;
            let s = if start < 0 { (n + start).max(0) } else { start.min(n) };
            let e = match len {
                None => n,
                Some(l) if l < 0 => (n + l).max(s),
                Some(l) => (s + l).min(n),
            };
            return Some(chars[s as usize..e as usize].iter().collect());
        }
        let (old, new) = op.split_once('=')?;
        if old.is_empty() {
            return Some(value);
        }
        Some(replace_ignore_case(&value, old.trim_start_matches('*'), new, old.starts_with('*')))
    }

    /// A variable's value, the dynamic ones included (CMD-03).
    fn lookup(&mut self, name: &str) -> Option<String> {
        if let Some(v) = self.env.get(name) {
            return Some(v.to_string());
        }
        let upper = name.to_ascii_uppercase();
        if ["CD", "DATE", "TIME", "ERRORLEVEL", "RANDOM", "CMDEXTVERSION", "CMDCMDLINE"].contains(&upper.as_str()) {
            self.cite("CMD-03");
        }
        Some(match upper.as_str() {
            "CD" => self.cwd(),
            "DATE" => builtins::clock_texts(self.clock).0,
            "TIME" => builtins::clock_texts(self.clock).1,
            "ERRORLEVEL" => self.errorlevel.to_string(),
            "CMDEXTVERSION" => "2".into(),
            "CMDCMDLINE" => format!("\"{}\"", self.env.get("ComSpec").unwrap_or("cmd.exe")),
            "RANDOM" => {
                // A fixed-seed generator keeps transcripts the same on every run.
                self.random = self.random.wrapping_mul(214_013).wrapping_add(2_531_011);
                ((self.random >> 16) & 0x7fff).to_string()
            }
            _ => return None,
        })
    }

    fn frame(&self) -> Option<&Frame> {
        self.frames.last()
    }

    /// `%n` of the running frame.
    fn arg(&self, n: usize) -> String {
        let Some(f) = self.frame() else { return String::new() };
        let idx = if n == 0 { 0 } else { n + f.shift };
        f.args.get(idx).cloned().unwrap_or_default()
    }

    fn all_args(&self) -> String {
        self.frame().map(|f| f.args[1.min(f.args.len())..].join(" ")).unwrap_or_default()
    }

    /// `%~[fdpnxs]n`: returns the value and how many characters after `%~` it used.
    fn modified_arg(&self, rest: &[char]) -> Option<(String, usize)> {
        let mut mods = String::new();
        let mut k = 0;
        while k < rest.len() && "fdpnxsatz".contains(rest[k]) {
            mods.push(rest[k]);
            k += 1;
        }
        let d = rest.get(k)?.to_digit(10)? as usize;
        let raw = self.arg(d);
        let unq = raw.trim_matches('"').to_string();
        if mods.is_empty() {
            return Some((unq, k + 1));
        }
        let full =
            if d == 0 { self.frame().map(|f| f.file.clone()).unwrap_or(unq.clone()) } else { self.full_path(&unq) };
        let (dir, file) = full.rsplit_once('\\').unwrap_or(("", full.as_str()));
        let (name, ext) = match file.rfind('.') {
            Some(p) if p > 0 => (&file[..p], &file[p..]),
            _ => (file, ""),
        };
        let mut v = String::new();
        if mods.contains('f') || mods.contains('s') && !mods.chars().any(|c| "dpnx".contains(c)) {
            return Some((full.clone(), k + 1));
        }
        if mods.contains('d') {
            v.push_str(&full[..2]);
        }
        if mods.contains('p') {
            v.push_str(&dir[2.min(dir.len())..]);
            v.push('\\');
        }
        if mods.contains('n') {
            v.push_str(name);
        }
        if mods.contains('x') {
            v.push_str(ext);
        }
        Some((v, k + 1))
    }

    // ----- paths -----

    /// `p` as a full path against the session's drives and directories, `.` and `..` resolved.
    fn full_path(&self, p: &str) -> String {
        let p = p.trim().trim_matches('"').replace('/', "\\");
        let b = p.as_bytes();
        let (drive, rest, absolute) = if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
            let d = (b[0] as char).to_ascii_uppercase();
            let rest = &p[2..];
            (d, rest.to_string(), rest.starts_with('\\'))
        } else {
            (self.drive, p.clone(), p.starts_with('\\'))
        };
        let base = if absolute { String::new() } else { self.dir_of(drive)[2..].to_string() };
        let mut parts: Vec<&str> = Vec::new();
        for seg in base.split('\\').chain(rest.split('\\')) {
            match seg {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        if parts.is_empty() {
            return format!("{drive}:\\");
        }
        format!("{drive}:\\{}", parts.join("\\"))
    }

    /// Whether the machine has drive `d` (C: plus any drive a path on the disk names, CMD-11).
    fn has_drive(m: &Machine, d: char) -> bool {
        d == 'C' || m.fs().entries().any(|(p, _)| p.chars().next().is_some_and(|c| c.eq_ignore_ascii_case(&d)))
    }

    fn is_dir(m: &Machine, p: &str) -> bool {
        (p.len() == 3 && p.ends_with(":\\") && Session::has_drive(m, p.chars().next().unwrap_or('C')))
            || m.fs().is_dir(p)
    }

    /// Where a redirection's file is, or NUL.
    fn sink_for(&self, m: &mut Machine, r: &Redir) -> Result<Sink, ()> {
        let Target::File(f) = &r.target else { return Err(()) };
        if f.eq_ignore_ascii_case("nul") || f.to_ascii_lowercase().ends_with("\\nul") {
            return Ok(Sink::Nul);
        }
        let full = self.full_path(f);
        // Opening for writing creates the file (`>` truncates, `>>` keeps it), even if nothing is written.
        if m.fs_write(&full, "", r.append, &["CMD-06"]) {
            Ok(Sink::File(full))
        } else {
            Err(())
        }
    }

    /// Applies redirections to `io`, left to right (CMD-06).
    fn redirect(&mut self, m: &mut Machine, io: &Io, redirs: &[Redir]) -> Result<Io, String> {
        let mut io = io.clone();
        if !redirs.is_empty() {
            self.cite("CMD-06");
        }
        for r in redirs {
            match (r.handle, &r.target) {
                (0, Target::File(f)) => {
                    if f.eq_ignore_ascii_case("nul") {
                        io.stdin = Some(String::new());
                    } else {
                        let full = self.full_path(f);
                        match m.fs().read(&full) {
                            Some(t) => io.stdin = Some(t.to_string()),
                            None => return Err("The system cannot find the file specified.".into()),
                        }
                    }
                }
                (h, Target::Handle(d)) => {
                    let src = if *d == 2 { io.err.clone() } else { io.out.clone() };
                    if h == 2 {
                        io.err = src;
                    } else {
                        io.out = src;
                    }
                }
                (h, Target::File(_)) => {
                    let sink =
                        self.sink_for(m, r).map_err(|_| "The system cannot find the path specified.".to_string())?;
                    if h == 2 {
                        io.err = sink;
                    } else {
                        io.out = sink;
                    }
                }
            }
        }
        Ok(io)
    }

    // ----- execution -----

    fn exec(&mut self, m: &mut Machine, w: &mut World, node: &Node, io: &Io, ctx: Context) -> Flow {
        self.steps += 1;
        if self.steps > STEP_LIMIT {
            self.emit(m, &io.err, format!("iisim: stopped after {STEP_LIMIT} commands (an endless loop?)"));
            return Flow::Exit(self.errorlevel);
        }
        match node {
            Node::Empty => Flow::Next,
            Node::Simple { text, redirs } => {
                if text.split_whitespace().next().is_some_and(|w| w.eq_ignore_ascii_case("rem")) {
                    self.cite("CMD-18");
                    return Flow::Next;
                }
                // With delayed expansion on, !NAME! expands as the command runs (CMD-04).
                let text = if self.delayed { self.expand_delayed(text) } else { text.clone() };
                match self.redirect(m, io, redirs) {
                    Ok(io) => self.simple(m, w, &text, &io, ctx),
                    Err(msg) => {
                        // The command does not run and ERRORLEVEL stays (CMD-06).
                        self.emit(m, &io.err, msg);
                        self.last_exit = 1;
                        Flow::Next
                    }
                }
            }
            Node::Join(a, op, b) => match self.cited_op(op) {
                Join::Pipe => {
                    let idx = self.pipes.len();
                    self.pipes.push(String::new());
                    let mut left = io.clone();
                    left.out = Sink::Pipe(idx);
                    let f = self.exec(m, w, a, &left, ctx);
                    if f != Flow::Next {
                        return f;
                    }
                    let mut right = io.clone();
                    right.stdin = Some(std::mem::take(&mut self.pipes[idx]));
                    self.exec(m, w, b, &right, ctx)
                }
                _ => {
                    let f = self.exec(m, w, a, io, ctx);
                    if f != Flow::Next {
                        return f;
                    }
                    let failed = if m.policies().is(policy::CMD_OR_ON_NEGATIVE, "fire") {
                        self.last_exit != 0
                    } else {
                        self.last_exit > 0
                    };
                    let run = match op {
                        Join::Then => true,
                        Join::And => self.last_exit == 0,
                        _ => failed,
                    };
                    if run {
                        self.exec(m, w, b, io, ctx)
                    } else {
                        Flow::Next
                    }
                }
            },
            Node::Block(items, redirs) => {
                let io = match self.redirect(m, io, redirs) {
                    Ok(io) => io,
                    Err(msg) => {
                        self.emit(m, &io.err, msg);
                        return Flow::Next;
                    }
                };
                for n in items {
                    let f = self.exec(m, w, n, &io, ctx);
                    if f != Flow::Next {
                        return f;
                    }
                }
                Flow::Next
            }
            Node::If { not, cond, then, otherwise } => match self.test(m, cond) {
                Ok(holds) => {
                    if holds != *not {
                        self.exec(m, w, then, io, ctx)
                    } else if let Some(e) = otherwise {
                        self.exec(m, w, e, io, ctx)
                    } else {
                        Flow::Next
                    }
                }
                Err(tok) => self.fail(m, io, &format!("{tok} was unexpected at this time.")),
            },
            Node::For { switch, switch_arg, var, set, body } => {
                self.cite("CMD-21");
                self.for_loop(m, w, io, ctx, (switch, switch_arg), *var, set, body)
            }
        }
    }

    /// Evaluates an `if` test (CMD-16); `Err` names an operand cmd does not accept.
    fn test(&mut self, m: &Machine, cond: &parse::Cond) -> Result<bool, String> {
        use parse::Cond;
        self.cite("CMD-16");
        Ok(match cond {
            Cond::ErrorLevel(n) => {
                let n: i32 = n.parse().map_err(|_| n.clone())?;
                // ERRORLEVEL >= N, so negative HRESULT exits never count (CMD-15, ADS-12).
                self.cite("CMD-15");
                self.errorlevel >= n
            }
            Cond::CmdExtVersion(n) => 2 >= n.parse::<i32>().map_err(|_| n.clone())?,
            Cond::Defined(name) => self.env.get(name).is_some(),
            Cond::Exist(p) => {
                let full = self.full_path(p);
                if full.contains(['*', '?']) {
                    !self.glob(m, &full, None).is_empty()
                } else {
                    m.fs().exists(&full) || Session::is_dir(m, &full)
                }
            }
            Cond::Compare { left, op, right, ignore_case } => {
                let (l, r) = if *ignore_case {
                    (left.to_ascii_lowercase(), right.to_ascii_lowercase())
                } else {
                    (left.clone(), right.clone())
                };
                if op == "==" {
                    l == r
                } else {
                    let ord = match (parse_number(&l), parse_number(&r)) {
                        (Some(a), Some(b)) => a.cmp(&b),
                        _ => l.cmp(&r),
                    };
                    match op.as_str() {
                        "EQU" => ord.is_eq(),
                        "NEQ" => ord.is_ne(),
                        "LSS" => ord.is_lt(),
                        "LEQ" => ord.is_le(),
                        "GTR" => ord.is_gt(),
                        _ => ord.is_ge(),
                    }
                }
            }
        })
    }

    /// Files (or with `dirs`, folders) matching a wildcard path, in directory order (CMD-21).
    fn glob(&self, m: &Machine, pattern: &str, dirs: Option<bool>) -> Vec<String> {
        let (dir, pat) = pattern.rsplit_once('\\').unwrap_or((".", pattern));
        let dir_full = if dir.len() == 2 { format!("{dir}\\") } else { dir.to_string() };
        let mut out = Vec::new();
        let listing = if dir_full.len() == 3 { root_listing(m, &dir_full) } else { m.fs().list(&dir_full) };
        for p in listing {
            let name = p.rsplit('\\').next().unwrap_or(&p).to_string();
            let is_dir = m.fs().is_dir(&p);
            if dirs.is_some_and(|d| d != is_dir) || (dirs.is_none() && is_dir) {
                continue;
            }
            if wildcard(&pat.to_ascii_lowercase(), &name.to_ascii_lowercase()) {
                out.push(p);
            }
        }
        out
    }

    /// Runs one simple command: a built-in, a drive switch, a batch file or a program.
    fn simple(&mut self, m: &mut Machine, w: &mut World, text: &str, io: &Io, ctx: Context) -> Flow {
        let (word, rest) = parse::split_command(text);
        let lower = word.to_ascii_lowercase();
        if let Some(f) = self.builtin(m, w, &lower, &rest, io, ctx) {
            return f;
        }
        let name = word.trim_matches('"');
        if name.len() == 2 && name.ends_with(':') && rest.trim().is_empty() {
            let d = name.chars().next().unwrap_or('C').to_ascii_uppercase();
            if !d.is_ascii_alphabetic() || !Session::has_drive(m, d) {
                return self.fail(m, io, "The system cannot find the drive specified.");
            }
            self.cite("CMD-11");
            self.drive = d;
            return self.ok();
        }
        if word.starts_with(' ') || word.starts_with('\'') {
            return self.fail_code(m, io, "The filename, directory name, or volume label syntax is incorrect.", 123);
        }
        let args = tools::split_args(&rest);
        self.cite("CMD-07");
        match self.find_program(m, name) {
            Found::Program(path) => self.launch(m, w, &Invoked { path: &path, typed: name, args: &args }, io, ctx),
            Found::PathMissing => self.fail_code(m, io, "The system cannot find the path specified.", 3),
            Found::Nothing => {
                self.cite("CMD-09");
                let lines = [
                    format!("'{name}' is not recognized as an internal or external command,"),
                    "operable program or batch file.".to_string(),
                ];
                for l in lines {
                    self.emit(m, &io.err, l);
                }
                self.set_exit(9009);
                Flow::Next
            }
        }
    }

    fn fail_code(&mut self, m: &mut Machine, io: &Io, msg: &str, code: i32) -> Flow {
        self.cite("CMD-09");
        self.emit(m, &io.err, msg.to_string());
        self.set_exit(code);
        Flow::Next
    }

    /// Runs a found file: a batch file in this session, anything else through the tools (CMD-08).
    fn launch(&mut self, m: &mut Machine, w: &mut World, p: &Invoked, io: &Io, ctx: Context) -> Flow {
        let (path, args) = (p.path, p.args);
        let lower = path.to_ascii_lowercase();
        self.cite("CMD-08");
        if lower.ends_with(".cmd") || lower.ends_with(".bat") {
            let f = self.run_batch(m, w, p, io, ctx);
            // Named without `call` from a batch file, control passes for good (CMD-08).
            return match f {
                Flow::Exit(c) => Flow::Exit(c),
                _ if !self.frames.is_empty() => Flow::EndFrame,
                _ => Flow::Next,
            };
        }
        if lower.ends_with("\\cmd.exe") {
            return self.child_cmd(m, w, args, io, ctx);
        }
        let cwd = self.cwd();
        let waited = !self.frames.is_empty();
        let launch = Launch { path, args, cwd: &cwd, stdin: io.stdin.as_deref(), waited };
        let out = tools::exec(m, w, &launch, ctx);
        self.emit_output(m, io, &out);
        self.set_exit(out.exit);
        Flow::Next
    }

    /// `cmd /c line` and `cmd /k line`: a child session that inherits environment and folders
    /// and returns its ERRORLEVEL; nothing flows back (CMD-27).
    fn child_cmd(&mut self, m: &mut Machine, w: &mut World, args: &[String], io: &Io, ctx: Context) -> Flow {
        self.cite("CMD-27");
        let Some(mut child) = self.child() else {
            self.emit(m, &io.err, format!("iisim: cmd /c nested more than {CHILD_LIMIT} deep"));
            return Flow::Exit(self.errorlevel);
        };
        let mut line = Vec::new();
        let mut run = false;
        for a in args {
            let l = a.to_ascii_lowercase();
            if !run && (l == "/c" || l == "/k") {
                run = true;
            } else if !run && l == "/q" {
                child.echo = false;
            } else if !run && l == "/v:on" {
                child.delayed = true;
            } else if run {
                line.push(if a.contains(' ') { format!("\"{a}\"") } else { a.clone() });
            }
        }
        if !run {
            // An interactive cmd inside a command line waits for input that never comes: it ends at once.
            return self.ok();
        }
        let text = line.join(" ");
        let text = text.trim_matches('"').to_string();
        let out = child.run_line_with_input(m, w, &text, io.stdin.as_deref(), ctx);
        self.steps = child.steps;
        for (s, l) in out.console {
            let sink = if s == Stream::Out { io.out.clone() } else { io.err.clone() };
            self.emit(m, &sink, l);
        }
        self.set_exit(out.exit);
        Flow::Next
    }

    /// A child session: this one's environment and directories, no batch frames, one level deeper.
    fn child(&self) -> Option<Session> {
        if self.depth >= CHILD_LIMIT {
            return None;
        }
        let mut child = self.clone();
        child.frames.clear();
        child.console.clear();
        child.depth = self.depth + 1;
        Some(child)
    }

    /// Looks a command word up as cmd does (CMD-07): a path names that file only; a bare name
    /// tries the current directory, then PATH, each with the PATHEXT extensions.
    fn find_program(&self, m: &Machine, word: &str) -> Found {
        let exts: Vec<String> = self
            .env
            .get("PATHEXT")
            .unwrap_or(".COM;.EXE;.BAT;.CMD")
            .split(';')
            .map(|e| e.to_ascii_lowercase())
            .collect();
        let name = word.replace('/', "\\");
        let has_ext = name.rsplit('\\').next().is_some_and(|f| f.rfind('.').is_some_and(|p| p > 0 && p + 1 < f.len()));
        let try_in = |dir: &str| -> Option<String> {
            let base = if dir.is_empty() { name.clone() } else { crate::machine::fs::join(dir, &name) };
            let base = self.full_path(&base);
            if has_ext && m.fs().is_file(&base) {
                return m.fs().stored_case(&base).map(str::to_string);
            }
            exts.iter()
                .map(|e| format!("{base}{e}"))
                .find(|p| m.fs().is_file(p))
                .and_then(|p| m.fs().stored_case(&p).map(str::to_string))
        };
        if name.contains('\\') || name.contains(':') {
            if let Some(p) = try_in("") {
                return Found::Program(p);
            }
            // Scenario shorthand: `v2.0.50727\aspnet_regiis` under the Framework folder (policy).
            if !name.contains(':')
                && !name.starts_with('\\')
                && m.policies().is(policy::CMD_FRAMEWORK_SHORTHAND, "accept")
            {
                let fw = format!("{}\\Microsoft.NET\\Framework", m.windir());
                if let Some(p) = try_in(&fw) {
                    return Found::Program(p);
                }
            }
            let full = self.full_path(&name);
            let parent = full.rsplit_once('\\').map(|(d, _)| d).unwrap_or("");
            let parent = if parent.len() == 2 { format!("{parent}\\") } else { parent.to_string() };
            return if Session::is_dir(m, &parent) { Found::Nothing } else { Found::PathMissing };
        }
        let mut dirs = vec![self.cwd()];
        dirs.extend(
            self.env
                .get("Path")
                .unwrap_or("")
                .split(';')
                .filter(|d| !d.trim().is_empty())
                .map(|d| d.trim_matches('"').to_string()),
        );
        for d in dirs {
            if let Some(p) = try_in(&d) {
                return Found::Program(p);
            }
        }
        Found::Nothing
    }
}

/// A found program as typed: its full path, the name typed (a batch file's `%0`) and arguments.
struct Invoked<'a> {
    path: &'a str,
    typed: &'a str,
    args: &'a [String],
}

/// The outcome of a program lookup.
enum Found {
    Program(String),
    PathMissing,
    Nothing,
}

/// Splits a typed text into logical lines, joining `^`-continued ones (CMD-05).
fn join_continuations(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for raw in text.split('\n') {
        let line = raw.trim_end_matches('\r');
        if let Some(stripped) = line.strip_suffix('^') {
            cur.push_str(stripped);
            continue;
        }
        cur.push_str(line);
        out.push(std::mem::take(&mut cur));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The folders and files directly under a drive root.
fn root_listing(m: &Machine, root: &str) -> Vec<String> {
    let prefix = root.to_ascii_lowercase();
    m.fs()
        .entries()
        .filter(|(p, _)| {
            let l = p.to_ascii_lowercase();
            l.starts_with(&prefix) && !l[prefix.len()..].contains('\\') && l.len() > prefix.len()
        })
        .map(|(p, _)| p.to_string())
        .collect()
}

/// `*` and `?` matching, lower-cased inputs.
fn wildcard(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| go(&p[1..], &n[k..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    // `*.*` matches names without a dot too.
    if pat == "*.*" {
        return true;
    }
    go(&p, &n)
}

/// A decimal, `0x` hex or leading-0 octal number, as `if` and `set /a` read them.
fn parse_number(s: &str) -> Option<i64> {
    let (neg, t) = match s.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        i64::from_str_radix(&t[1..], 8).ok()?
    } else {
        t.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

/// `%VAR:old=new%`: every case-insensitive `old` replaced; with `*old`, everything up to the
/// first match.
fn replace_ignore_case(value: &str, old: &str, new: &str, through_first: bool) -> String {
    let lower = value.to_ascii_lowercase();
    let old_l = old.to_ascii_lowercase();
    if old_l.is_empty() {
        return value.to_string();
    }
    if through_first {
        return match lower.find(&old_l) {
            Some(p) => format!("{new}{}", &value[p + old.len()..]),
            None => value.to_string(),
        };
    }
    let mut out = String::new();
    let mut i = 0;
    while let Some(p) = lower[i..].find(&old_l) {
        out.push_str(&value[i..i + p]);
        out.push_str(new);
        i += p + old.len();
    }
    out.push_str(&value[i..]);
    out
}

#[cfg(test)]
mod tests;
