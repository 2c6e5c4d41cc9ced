//! cmd.exe's built-in commands (CMD-07, CMD-10..CMD-21, CMD-24..CMD-28).

use super::{parse, parse_number, root_listing, Flow, Io, Saved, Session};
use crate::machine::Machine;
use crate::process::World;
use crate::tools::Context;

/// The built-ins of the 2000/XP/2003 cmd.exe (CMD-07).
pub const BUILTINS: &[&str] = &[
    "assoc", "call", "cd", "chdir", "cls", "copy", "date", "del", "dir", "echo", "endlocal", "erase", "exit", "for",
    "ftype", "goto", "if", "md", "mkdir", "move", "path", "pause", "popd", "prompt", "pushd", "rd", "rem", "ren",
    "rename", "rmdir", "set", "setlocal", "shift", "start", "time", "title", "type", "ver", "vol",
];

const SYNTAX: &str = "The syntax of the command is incorrect.";
const NO_PATH: &str = "The system cannot find the path specified.";
const NO_FILE: &str = "The system cannot find the file specified.";

/// Removes the separator cmd allows between a built-in's name and its arguments.
fn args_of(rest: &str) -> &str {
    rest.strip_prefix([' ', '\t', ',', ';', '=']).unwrap_or(rest)
}

impl Session {
    /// Runs `word` if it is a built-in; `None` sends the line on to program lookup.
    pub(super) fn builtin(
        &mut self,
        m: &mut Machine,
        w: &mut World,
        word: &str,
        rest: &str,
        io: &Io,
        ctx: Context,
    ) -> Option<Flow> {
        let a = args_of(rest);
        let rule = match word {
            "echo" => "CMD-17",
            "rem" => "CMD-18",
            "cd" | "chdir" => "CMD-10",
            "set" if a.trim_start().to_ascii_lowercase().starts_with("/a") => "CMD-14",
            "set" => "CMD-13",
            "type" => "CMD-19",
            "dir" => "CMD-20",
            "pushd" | "popd" => "CMD-12",
            "exit" => "CMD-26",
            "goto" => "CMD-23",
            "call" => "CMD-24",
            "shift" => "CMD-22",
            "setlocal" | "endlocal" => "CMD-25",
            _ => "CMD-07",
        };
        if BUILTINS.contains(&word) {
            self.cite(rule);
        }
        Some(match word {
            "echo" => self.echo_cmd(m, rest, io),
            "rem" => Flow::Next,
            "cd" | "chdir" => self.cd(m, a.trim(), io),
            "set" => self.set_cmd(m, a, io),
            "type" => self.type_cmd(m, a.trim(), io),
            "dir" => self.dir(m, a.trim(), io),
            "pushd" => self.pushd_cmd(m, a.trim(), io),
            "popd" => {
                if let Some((d, dir)) = self.pushd.pop() {
                    self.drive = d;
                    self.dirs.insert(d, dir);
                }
                self.ok()
            }
            "exit" => self.exit_cmd(a.trim()),
            "goto" => self.goto_cmd(m, a.trim(), io),
            "call" => self.call_cmd(m, w, a, io, ctx),
            "shift" => {
                if let Some(f) = self.frames.last_mut() {
                    f.shift += 1;
                }
                self.ok()
            }
            "setlocal" => {
                for opt in a.split_whitespace() {
                    match opt.to_ascii_lowercase().as_str() {
                        "enabledelayedexpansion" => self.delayed = true,
                        "disabledelayedexpansion" => self.delayed = false,
                        _ => {}
                    }
                }
                let saved = Saved { env: self.env.clone(), drive: self.drive, dirs: self.dirs.clone() };
                if let Some(f) = self.frames.last_mut() {
                    f.locals.push(saved);
                }
                self.ok()
            }
            "endlocal" => {
                if let Some(s) = self.frames.last_mut().and_then(|f| f.locals.pop()) {
                    self.restore(s);
                }
                self.ok()
            }
            "md" | "mkdir" => self.md(m, a.trim(), io),
            "rd" | "rmdir" => self.rd(m, a.trim(), io),
            "del" | "erase" => self.del(m, a.trim(), io),
            "copy" => self.copy_cmd(m, a.trim(), io, false),
            "move" => self.copy_cmd(m, a.trim(), io, true),
            "ren" | "rename" => self.ren(m, a.trim(), io),
            "ver" => {
                let v = match m.edition() {
                    crate::edition::Edition::Win2000 => "Microsoft Windows 2000 [Version 5.00.2195]",
                    crate::edition::Edition::WinXp => "Microsoft Windows XP [Version 5.1.2600]",
                    crate::edition::Edition::Win2003 => "Microsoft Windows [Version 5.2.3790]",
                };
                self.emit(m, &io.out, "");
                self.emit(m, &io.out, v);
                self.ok()
            }
            "vol" => {
                let d = self.drive;
                self.emit(m, &io.out, format!(" Volume in drive {d} has no label."));
                self.emit(m, &io.out, format!(" Volume Serial Number is {}", serial(d)));
                self.ok()
            }
            "cls" | "title" => self.ok(),
            "pause" => {
                // The key press comes from stdin; with none, the prompt waits and the line ends.
                self.emit(m, &io.out, "Press any key to continue . . .");
                self.ok()
            }
            "path" => {
                if a.trim().is_empty() {
                    let p = self.env.get("Path").unwrap_or("").to_string();
                    if p.is_empty() {
                        self.emit(m, &io.out, "No Path");
                    } else {
                        self.emit(m, &io.out, format!("PATH={p}"));
                    }
                } else {
                    let v = if a.trim() == ";" { "" } else { a.trim() };
                    self.env.set("Path", v);
                }
                self.ok()
            }
            "prompt" => {
                self.env.set("PROMPT", if a.trim().is_empty() { "$P$G" } else { a.trim() });
                self.ok()
            }
            "date" | "time" if a.trim().eq_ignore_ascii_case("/t") => {
                let (date, time) = self.clock_strings(m);
                let v = if word == "date" { date } else { time[..time.len() - 6].trim().to_string() };
                self.emit(m, &io.out, v);
                self.ok()
            }
            "date" | "time" => {
                let (date, time) = self.clock_strings(m);
                if word == "date" {
                    self.emit(m, &io.out, format!("The current date is: {date}"));
                } else {
                    self.emit(m, &io.out, format!("The current time is: {}", time.trim()));
                }
                // Without /t cmd asks for a new value; iisim's clock is virtual and keeps going.
                self.ok()
            }
            "start" => {
                let inner = a.trim();
                if inner.is_empty() {
                    return Some(self.ok());
                }
                // start runs the program without waiting; its output goes to a new window (CMD-08).
                let mut quiet = io.clone();
                quiet.out = super::Sink::Nul;
                quiet.err = super::Sink::Nul;
                let f = self.simple(m, w, inner, &quiet, ctx);
                self.set_exit(0);
                f
            }
            "assoc" | "ftype" => self.assoc(m, word, a.trim(), io),
            _ => return None,
        })
    }

    fn restore(&mut self, s: Saved) {
        self.env = s.env;
        self.drive = s.drive;
        self.dirs = s.dirs;
    }

    /// `%DATE%` and `%TIME%` from the virtual clock now.
    pub(super) fn clock_strings(&self, m: &Machine) -> (String, String) {
        clock_texts(m.clock())
    }

    fn echo_cmd(&mut self, m: &mut Machine, rest: &str, io: &Io) -> Flow {
        let text = rest.strip_prefix([' ', '\t', '.', ':', '(', '\\', '/', '[', ']', '+', ',', ';', '=']);
        let joined = rest.starts_with(['.', ':', '(', '\\', '/', '[', ']', '+']);
        match text {
            None => {
                let state = if self.echo { "on" } else { "off" };
                self.emit(m, &io.out, format!("ECHO is {state}."));
            }
            Some(t) if !joined && t.trim().is_empty() => {
                let state = if self.echo { "on" } else { "off" };
                self.emit(m, &io.out, format!("ECHO is {state}."));
            }
            Some(t) if !joined && t.trim().eq_ignore_ascii_case("off") => self.echo = false,
            Some(t) if !joined && t.trim().eq_ignore_ascii_case("on") => self.echo = true,
            Some(t) => self.emit(m, &io.out, t.to_string()),
        }
        self.ok()
    }

    /// `cd` (CMD-10).
    fn cd(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let (switch_d, target) = match a.get(..2) {
            Some(p) if p.eq_ignore_ascii_case("/d") => (true, a[2..].trim()),
            _ => (false, a),
        };
        let target = target.trim_matches('"').trim_end();
        if target.is_empty() {
            self.cite("CMD-01");
            let cwd = self.cwd();
            self.emit(m, &io.out, cwd);
            return self.ok();
        }
        let b = target.as_bytes();
        if b.len() == 2 && b[1] == b':' {
            let d = (b[0] as char).to_ascii_uppercase();
            if !Session::has_drive(m, d) {
                return self.fail(m, io, "The system cannot find the drive specified.");
            }
            if switch_d {
                self.drive = d;
            } else {
                let dir = self.dir_of(d);
                self.emit(m, &io.out, dir);
            }
            return self.ok();
        }
        let full = self.full_path(target);
        if !Session::is_dir(m, &full) {
            return self.fail(m, io, NO_PATH);
        }
        let stored =
            if full.len() == 3 { full.clone() } else { m.fs().stored_case(&full).unwrap_or(&full).to_string() };
        let d = stored.chars().next().unwrap_or('C').to_ascii_uppercase();
        self.dirs.insert(d, stored);
        if switch_d {
            self.drive = d;
        }
        self.ok()
    }

    fn pushd_cmd(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let target = a.trim_matches('"');
        if target.is_empty() {
            let list: Vec<String> = self.pushd.iter().rev().map(|(_, p)| p.clone()).collect();
            for l in list {
                self.emit(m, &io.out, l);
            }
            return self.ok();
        }
        let full = self.full_path(target);
        if !Session::is_dir(m, &full) {
            return self.fail(m, io, NO_PATH);
        }
        self.pushd.push((self.drive, self.cwd()));
        let stored =
            if full.len() == 3 { full.clone() } else { m.fs().stored_case(&full).unwrap_or(&full).to_string() };
        let d = stored.chars().next().unwrap_or('C').to_ascii_uppercase();
        self.dirs.insert(d, stored);
        self.drive = d;
        self.ok()
    }

    /// `set` (CMD-13, CMD-14).
    fn set_cmd(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let lower = a.trim_start().to_ascii_lowercase();
        if lower.starts_with("/a") {
            return self.set_a(m, a.trim_start()[2..].trim(), io);
        }
        if lower.starts_with("/p") {
            let spec = a.trim_start()[2..].trim_start();
            let Some((name, prompt)) = spec.split_once('=') else {
                return self.fail(m, io, SYNTAX);
            };
            self.emit(m, &io.out, prompt.to_string());
            let answer = io.stdin.as_deref().and_then(|s| s.lines().next()).unwrap_or("").trim_end_matches('\r');
            if !answer.is_empty() {
                self.env.set(name, answer);
            }
            return self.ok();
        }
        let mut spec = a.to_string();
        if let Some(inner) = spec.trim_start().strip_prefix('"') {
            let end = inner.rfind('"').unwrap_or(inner.len());
            spec = inner[..end].to_string();
        }
        match spec.split_once('=') {
            None => {
                let prefix = spec.trim().to_ascii_uppercase();
                let lines: Vec<String> = self
                    .env
                    .iter()
                    .filter(|(k, _)| k.to_ascii_uppercase().starts_with(&prefix))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                if lines.is_empty() {
                    return self.fail(m, io, &format!("Environment variable {} not defined", spec.trim()));
                }
                for l in lines {
                    self.emit(m, &io.out, l);
                }
                self.ok()
            }
            Some((name, value)) => {
                if name.is_empty() {
                    return self.fail(m, io, SYNTAX);
                }
                self.env.set(name, value);
                self.ok()
            }
        }
    }

    fn set_a(&mut self, m: &mut Machine, expr: &str, io: &Io) -> Flow {
        let expr = expr.trim_matches('"');
        let mut ev = Arith { c: expr.chars().collect(), i: 0, s: self };
        match ev.comma() {
            Ok(v) => {
                if self.frames.is_empty() {
                    self.emit(m, &io.out, v.to_string());
                }
                self.ok()
            }
            Err(msg) => self.fail(m, io, msg),
        }
    }

    /// `type` (CMD-19).
    fn type_cmd(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let names = crate::tools::split_args(a);
        if names.is_empty() {
            return self.fail(m, io, SYNTAX);
        }
        let several = names.len() > 1;
        let mut failed = false;
        for n in names {
            let full = self.full_path(&n);
            match m.fs().read(&full).map(str::to_string) {
                Some(text) => {
                    if several {
                        self.emit(m, &io.err, "");
                        self.emit(m, &io.err, n.clone());
                        self.emit(m, &io.err, "");
                        self.emit(m, &io.err, "");
                    }
                    for l in text_lines(&text) {
                        self.emit(m, &io.out, l);
                    }
                }
                None => {
                    let msg = if m.fs().is_dir(&full) { "Access is denied." } else { NO_FILE };
                    self.emit(m, &io.err, msg);
                    failed = true;
                }
            }
        }
        if failed {
            self.set_exit(1);
            return Flow::Next;
        }
        self.ok()
    }

    /// `dir` (CMD-20): the XP/2003 layout, or 2000's, of one folder or wildcard.
    fn dir(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let mut bare = false;
        let mut target = String::new();
        for w in crate::tools::split_args(a) {
            match w.to_ascii_lowercase().as_str() {
                "/b" => bare = true,
                s if s.starts_with('/') => {}
                _ => target = w,
            }
        }
        let full = self.full_path(if target.is_empty() { "." } else { &target });
        let (folder, pattern) = if full.contains(['*', '?']) {
            let (d, p) = full.rsplit_once('\\').unwrap_or((&full, "*"));
            (if d.len() == 2 { format!("{d}\\") } else { d.to_string() }, p.to_string())
        } else if Session::is_dir(m, &full) {
            (full.clone(), "*".to_string())
        } else {
            let (d, p) = full.rsplit_once('\\').unwrap_or((&full, "*"));
            (if d.len() == 2 { format!("{d}\\") } else { d.to_string() }, p.to_string())
        };
        let drive = folder.chars().next().unwrap_or('C');
        if !Session::is_dir(m, &folder) {
            if !bare {
                self.dir_header(m, io, drive);
            }
            return self.fail(m, io, NO_PATH);
        }
        let entries = if folder.len() == 3 { root_listing(m, &folder) } else { m.fs().list(&folder) };
        let pat = pattern.to_ascii_lowercase();
        let matching: Vec<(String, bool, usize)> = entries
            .into_iter()
            .filter_map(|p| {
                let name = p.rsplit('\\').next().unwrap_or(&p).to_string();
                if !super::wildcard(&pat, &name.to_ascii_lowercase()) {
                    return None;
                }
                let is_dir = m.fs().is_dir(&p);
                let size = m.fs().read(&p).map(str::len).unwrap_or(0);
                Some((name, is_dir, size))
            })
            .collect();
        if bare {
            if matching.is_empty() {
                return self.fail(m, io, "File Not Found");
            }
            for (n, _, _) in matching {
                self.emit(m, &io.out, n);
            }
            return self.ok();
        }
        self.dir_header(m, io, drive);
        self.emit(m, &io.out, format!(" Directory of {folder}"));
        self.emit(m, &io.out, "");
        let mut rows: Vec<(String, bool, usize)> = Vec::new();
        if folder.len() > 3 && pattern == "*" {
            rows.push((".".into(), true, 0));
            rows.push(("..".into(), true, 0));
        }
        rows.extend(matching);
        if rows.is_empty() {
            return self.fail(m, io, "File Not Found");
        }
        let win2000 = m.edition() == crate::edition::Edition::Win2000;
        let (date, _) = self.clock_strings(m);
        let date = &date[4..];
        let stamp = if win2000 { format!("{date}  09:00a") } else { format!("{date}  09:00 AM") };
        let width = if win2000 { 16 } else { 18 };
        let (mut files, mut dirs, mut bytes) = (0usize, 0usize, 0usize);
        for (name, is_dir, size) in rows {
            let field = if is_dir {
                dirs += 1;
                format!("{:<width$}", "    <DIR>")
            } else {
                files += 1;
                bytes += size;
                format!("{:>width$}", group(size as u64))
            };
            self.emit(m, &io.out, format!("{stamp}{field} {name}"));
        }
        self.emit(m, &io.out, format!("{files:>16} File(s){:>15} bytes", group(bytes as u64)));
        self.emit(m, &io.out, format!("{dirs:>16} Dir(s){:>16} bytes free", group(4_305_891_328)));
        self.ok()
    }

    fn dir_header(&mut self, m: &mut Machine, io: &Io, drive: char) {
        self.emit(m, &io.out, format!(" Volume in drive {drive} has no label."));
        self.emit(m, &io.out, format!(" Volume Serial Number is {}", serial(drive)));
        self.emit(m, &io.out, "");
    }

    fn md(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let names = crate::tools::split_args(a);
        if names.is_empty() {
            return self.fail(m, io, SYNTAX);
        }
        for n in names {
            let full = self.full_path(&n);
            if m.fs().exists(&full) {
                return self.fail(m, io, &format!("A subdirectory or file {n} already exists."));
            }
            m.fs_create_files(&full, &[], &["CMD-07"]);
        }
        self.ok()
    }

    fn rd(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let args = crate::tools::split_args(a);
        let recursive = args.iter().any(|x| x.eq_ignore_ascii_case("/s"));
        let Some(n) = args.iter().find(|x| !x.starts_with('/')) else {
            return self.fail(m, io, SYNTAX);
        };
        let full = self.full_path(n);
        if !m.fs().is_dir(&full) {
            return self.fail(m, io, NO_FILE);
        }
        if !recursive && !m.fs().list(&full).is_empty() {
            return self.fail(m, io, "The directory is not empty.");
        }
        m.fs_delete(&full, &["CMD-07"]);
        self.ok()
    }

    fn del(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let args = crate::tools::split_args(a);
        let names: Vec<&String> = args.iter().filter(|x| !x.starts_with('/')).collect();
        if names.is_empty() {
            return self.fail(m, io, SYNTAX);
        }
        for n in names {
            let full = self.full_path(n);
            let targets = if full.contains(['*', '?']) {
                self.glob(m, &full, Some(false))
            } else if m.fs().is_file(&full) {
                vec![full.clone()]
            } else {
                Vec::new()
            };
            if targets.is_empty() {
                self.emit(m, &io.err, format!("Could Not Find {full}"));
            }
            for t in targets {
                m.fs_delete(&t, &["CMD-07"]);
            }
        }
        self.ok()
    }

    fn copy_cmd(&mut self, m: &mut Machine, a: &str, io: &Io, mv: bool) -> Flow {
        let args: Vec<String> = crate::tools::split_args(a).into_iter().filter(|x| !x.starts_with('/')).collect();
        let (Some(src), dst) = (args.first(), args.get(1)) else {
            return self.fail(m, io, SYNTAX);
        };
        let src_full = self.full_path(src);
        let Some(text) = m.fs().read(&src_full).map(str::to_string) else {
            return self.fail(m, io, NO_FILE);
        };
        let file = src_full.rsplit('\\').next().unwrap_or_default().to_string();
        let mut dst_full = self.full_path(dst.map(String::as_str).unwrap_or("."));
        if Session::is_dir(m, &dst_full) {
            dst_full = crate::machine::fs::join(&dst_full, &file);
        }
        if !m.fs_write(&dst_full, &text, false, &["CMD-07"]) {
            return self.fail(m, io, NO_PATH);
        }
        if mv {
            m.fs_delete(&src_full, &["CMD-07"]);
            self.emit(m, &io.out, "        1 file(s) moved.");
        } else {
            self.emit(m, &io.out, "        1 file(s) copied.");
        }
        self.ok()
    }

    fn ren(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let args = crate::tools::split_args(a);
        let [src, new] = args.as_slice() else {
            return self.fail(m, io, SYNTAX);
        };
        let src_full = self.full_path(src);
        let Some(text) = m.fs().read(&src_full).map(str::to_string) else {
            return self.fail(m, io, NO_FILE);
        };
        let dir = src_full.rsplit_once('\\').map(|(d, _)| d.to_string()).unwrap_or_default();
        let dst = crate::machine::fs::join(&dir, new);
        if m.fs().exists(&dst) {
            return self.fail(m, io, "A duplicate file name exists, or the file cannot be found.");
        }
        m.fs_write(&dst, &text, false, &["CMD-07"]);
        m.fs_delete(&src_full, &["CMD-07"]);
        self.ok()
    }

    /// `assoc .vbs` / `ftype VBSFile`: the script association `cscript //h:` changes (WSH-04).
    fn assoc(&mut self, m: &mut Machine, word: &str, a: &str, io: &Io) -> Flow {
        let cmd = m
            .registry()
            .get(crate::tools::wsh::VBS_OPEN_COMMAND, "")
            .map(str::to_string)
            .unwrap_or_else(|| "\"%SystemRoot%\\System32\\WScript.exe\" \"%1\" %*".to_string());
        match (word, a.to_ascii_lowercase().as_str()) {
            ("assoc", ".vbs") => self.emit(m, &io.out, ".vbs=VBSFile"),
            ("ftype", "vbsfile") => self.emit(m, &io.out, format!("VBSFile={cmd}")),
            ("assoc", "") | ("ftype", "") => {
                let line = if word == "assoc" { ".vbs=VBSFile".to_string() } else { format!("VBSFile={cmd}") };
                self.emit(m, &io.out, line);
            }
            (_, other) => {
                let msg = if word == "assoc" {
                    format!("File association not found for extension {other}")
                } else {
                    format!("File type '{other}' not found or no open command associated with it.")
                };
                return self.fail(m, io, &msg);
            }
        }
        self.ok()
    }

    /// `exit [/b] [N]` (CMD-26).
    fn exit_cmd(&mut self, a: &str) -> Flow {
        let mut words = a.split_whitespace();
        let first = words.next().unwrap_or("");
        let (b, code) = if first.eq_ignore_ascii_case("/b") {
            (true, words.next())
        } else {
            (false, Some(first).filter(|w| !w.is_empty()))
        };
        let code = code.and_then(parse_number).map(|c| c as i32);
        if b && !self.frames.is_empty() {
            if let Some(c) = code {
                self.set_exit(c);
            } else {
                self.last_exit = self.errorlevel;
            }
            return Flow::EndFrame;
        }
        Flow::Exit(code.unwrap_or(if b { self.errorlevel } else { 0 }))
    }

    /// `goto label` (CMD-23); the batch loop finds the label.
    fn goto_cmd(&mut self, m: &mut Machine, a: &str, io: &Io) -> Flow {
        let label = a.trim_start_matches(':').split_whitespace().next().unwrap_or("").to_string();
        if self.frames.is_empty() {
            // At the prompt goto does nothing (there is no file to search).
            return self.ok();
        }
        if label.is_empty() {
            return self.fail(m, io, "No batch label specified to GOTO command.");
        }
        if label.eq_ignore_ascii_case("eof") {
            return Flow::EndFrame;
        }
        Flow::Goto(label)
    }

    /// `call` (CMD-24).
    fn call_cmd(&mut self, m: &mut Machine, w: &mut World, a: &str, io: &Io, ctx: Context) -> Flow {
        let text = a.trim_start();
        if let Some(label) = text.strip_prefix(':') {
            if self.frames.is_empty() {
                return self.fail(m, io, "Invalid attempt to call batch label outside of batch script.");
            }
            let (name, args) = parse::split_command(label);
            return self.call_label(m, w, &name, &args, io, ctx);
        }
        // call expands % once more.
        let batch = !self.frames.is_empty();
        let text = self.expand(text, batch);
        let (word, rest) = parse::split_command(&text);
        let name = word.trim_matches('"').to_string();
        if let Some(Flow::Exit(c)) = self.builtin_only(m, w, &word, &rest, io, ctx) {
            return Flow::Exit(c);
        }
        if BUILTINS.contains(&word.to_ascii_lowercase().as_str()) {
            return Flow::Next;
        }
        if let super::Found::Program(path) = self.find_program(m, &name) {
            let lower = path.to_ascii_lowercase();
            if lower.ends_with(".cmd") || lower.ends_with(".bat") {
                let args = crate::tools::split_args_keep_quotes(&rest);
                let f = self.run_batch(m, w, &super::Invoked { path: &path, typed: &name, args: &args }, io, ctx);
                return if let Flow::Exit(c) = f { Flow::Exit(c) } else { Flow::Next };
            }
        }
        match parse::parse(&text) {
            Ok(node) => match self.exec(m, w, &node, io, ctx) {
                Flow::Exit(c) => Flow::Exit(c),
                _ => Flow::Next,
            },
            Err(parse::Unexpected(t)) => self.fail(m, io, &format!("{t} was unexpected at this time.")),
        }
    }

    /// Runs `word` when it is a built-in (for `call echo ...`), `None` otherwise.
    fn builtin_only(
        &mut self,
        m: &mut Machine,
        w: &mut World,
        word: &str,
        rest: &str,
        io: &Io,
        ctx: Context,
    ) -> Option<Flow> {
        let lower = word.to_ascii_lowercase();
        if !BUILTINS.contains(&lower.as_str()) {
            return None;
        }
        self.builtin(m, w, &lower, rest, io, ctx)
    }

    /// `for` (CMD-21): each item, or each matching file, runs the body with `%X` replaced.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn for_loop(
        &mut self,
        m: &mut Machine,
        w: &mut World,
        io: &Io,
        ctx: Context,
        (switch, switch_arg): (&String, &String),
        var: char,
        set: &str,
        body: &str,
    ) -> Flow {
        let items = match switch.as_str() {
            "" | "d" => {
                let mut out = Vec::new();
                for item in crate::tools::split_args_keep_quotes(&set.replace([',', ';'], " ")) {
                    if item.contains(['*', '?']) {
                        let item = item.trim_matches('"').to_string();
                        let full = self.full_path(&item);
                        let typed_dir = item.rsplit_once(['\\', '/']).map(|(d, _)| format!("{d}\\"));
                        for p in self.glob(m, &full, Some(switch == "d")) {
                            let name = p.rsplit('\\').next().unwrap_or(&p).to_string();
                            out.push(match &typed_dir {
                                Some(d) => format!("{d}{name}"),
                                None => name,
                            });
                        }
                    } else if switch.is_empty() {
                        out.push(item);
                    }
                }
                out
            }
            "l" => {
                let nums: Vec<i64> = set.split([',', ' ']).filter(|s| !s.is_empty()).filter_map(parse_number).collect();
                let [start, step, end] = nums.as_slice() else {
                    return self.fail(m, io, SYNTAX);
                };
                let mut out = Vec::new();
                let mut v = *start;
                while (*step > 0 && v <= *end) || (*step < 0 && v >= *end) {
                    out.push(v.to_string());
                    v += step;
                    if out.len() > super::STEP_LIMIT {
                        break;
                    }
                }
                out
            }
            "f" => match self.for_f_items(m, w, switch_arg, set, io, ctx) {
                Ok(items) => items,
                Err(msg) => return self.fail(m, io, &msg),
            },
            "r" => {
                let root = self.full_path(if switch_arg.is_empty() { "." } else { switch_arg });
                let mut out = Vec::new();
                let pats = crate::tools::split_args(set);
                let mut folders = vec![root.clone()];
                folders.extend(
                    m.fs()
                        .entries()
                        .filter(|(p, d)| {
                            *d && p.to_ascii_lowercase().starts_with(&format!("{}\\", root.to_ascii_lowercase()))
                        })
                        .map(|(p, _)| p.to_string()),
                );
                for f in folders {
                    for pat in &pats {
                        if pat.contains(['*', '?']) {
                            out.extend(self.glob(m, &crate::machine::fs::join(&f, pat), Some(false)));
                        } else {
                            out.push(crate::machine::fs::join(&f, pat));
                        }
                    }
                }
                out
            }
            _ => return self.fail(m, io, &format!("/{switch} was unexpected at this time.")),
        };
        for item in items {
            let text = substitute_for_var(body, var, &item);
            match parse::parse(&text) {
                Ok(node) => {
                    let f = self.exec(m, w, &node, io, ctx);
                    if f != Flow::Next {
                        return f;
                    }
                }
                Err(parse::Unexpected(t)) => return self.fail(m, io, &format!("{t} was unexpected at this time.")),
            }
        }
        Flow::Next
    }

    /// The items of `for /f`: lines of files, a quoted string or a command's output, split into tokens.
    fn for_f_items(
        &mut self,
        m: &mut Machine,
        w: &mut World,
        opts: &str,
        set: &str,
        io: &Io,
        ctx: Context,
    ) -> Result<Vec<String>, String> {
        let opts = opts.trim_matches('"');
        let mut delims: Vec<char> = vec![' ', '\t'];
        let mut tokens: Vec<usize> = vec![1];
        let mut skip = 0usize;
        let mut eol = Some(';');
        let mut backq = false;
        for o in opts.split_whitespace() {
            let (k, v) = o.split_once('=').unwrap_or((o, ""));
            match k.to_ascii_lowercase().as_str() {
                "delims" => delims = v.chars().collect(),
                "tokens" => tokens = v.split(',').filter_map(|t| t.trim_end_matches('*').parse().ok()).collect(),
                "skip" => skip = v.parse().map_err(|_| format!("{o} was unexpected at this time."))?,
                "eol" => eol = v.chars().next(),
                "usebackq" => backq = true,
                _ => return Err(format!("{o}\" was unexpected at this time.")),
            }
        }
        let set = set.trim();
        let (text, is_cmd) = if (!backq && set.starts_with('"')) || (backq && set.starts_with('\'')) {
            (set.trim_matches(['"', '\'']).to_string(), false)
        } else if (!backq && set.starts_with('\'')) || (backq && set.starts_with('`')) {
            (set.trim_matches(['\'', '`']).to_string(), true)
        } else {
            let mut all = String::new();
            for f in crate::tools::split_args(set) {
                let full = self.full_path(&f);
                match m.fs().read(&full) {
                    Some(t) => {
                        all.push_str(t);
                        all.push('\n');
                    }
                    None => return Err(format!("The system cannot find the file {f}.")),
                }
            }
            (all, false)
        };
        let text = if is_cmd {
            let Some(mut child) = self.child() else {
                return Err(format!("iisim: cmd /c nested more than {} deep", super::CHILD_LIMIT));
            };
            let out = child.run_line_with_input(m, w, &text, io.stdin.as_deref(), ctx);
            self.steps = child.steps;
            out.stdout().join("\n")
        } else {
            text
        };
        let mut items = Vec::new();
        for line in text_lines(&text).into_iter().skip(skip) {
            if line.is_empty() || eol.is_some_and(|c| line.starts_with(c)) {
                continue;
            }
            let parts: Vec<&str> = if delims.is_empty() {
                vec![line.as_str()]
            } else {
                line.split(|c| delims.contains(&c)).filter(|s| !s.is_empty()).collect()
            };
            let picked: Vec<&str> = tokens.iter().filter_map(|t| parts.get(t.saturating_sub(1)).copied()).collect();
            if let Some(first) = picked.first() {
                items.push(first.to_string());
            }
        }
        Ok(items)
    }
}

/// Replaces `%X` (and `%~X`, `%~nxX`...) in a `for` body by the item (CMD-21).
fn substitute_for_var(body: &str, var: char, item: &str) -> String {
    let c: Vec<char> = body.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] == '%' {
            if c.get(i + 1) == Some(&var) {
                out.push_str(item);
                i += 2;
                continue;
            }
            if c.get(i + 1) == Some(&'~') {
                let mut k = i + 2;
                let mut mods = String::new();
                while k < c.len() && "fdpnx".contains(c[k]) && c[k] != var {
                    mods.push(c[k]);
                    k += 1;
                }
                if c.get(k) == Some(&var) {
                    let unq = item.trim_matches('"');
                    let v = if mods.is_empty() {
                        unq.to_string()
                    } else {
                        let file = unq.rsplit('\\').next().unwrap_or(unq);
                        let (name, ext) = match file.rfind('.') {
                            Some(p) if p > 0 => (&file[..p], &file[p..]),
                            _ => (file, ""),
                        };
                        let mut v = String::new();
                        if mods.contains('n') {
                            v.push_str(name);
                        }
                        if mods.contains('x') {
                            v.push_str(ext);
                        }
                        if v.is_empty() {
                            unq.to_string()
                        } else {
                            v
                        }
                    };
                    out.push_str(&v);
                    i = k + 1;
                    continue;
                }
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// A file's lines, CR LF or LF.
pub(super) fn text_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.split('\n').map(|l| l.trim_end_matches('\r').to_string()).collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// A deterministic volume serial number per drive, derived from its letter (CMD-20).
fn serial(drive: char) -> String {
    let n = (drive as u32).wrapping_mul(0x9E37_79B9) ^ 0x24B7_9F23;
    format!("{:04X}-{:04X}", n >> 16, n & 0xffff)
}

/// 4305891328 as `4,305,891,328`.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `set /a`: 32-bit signed arithmetic with cmd's operators (CMD-14).
struct Arith<'a> {
    c: Vec<char>,
    i: usize,
    s: &'a mut Session,
}

type ArithResult = Result<i32, &'static str>;

impl Arith<'_> {
    fn ws(&mut self) {
        while self.c.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        self.ws();
        let ops: Vec<char> = op.chars().collect();
        if self.c.get(self.i..self.i + ops.len()) == Some(&ops[..]) {
            // `<` must not take the first half of `<<` and the like.
            let next = self.c.get(self.i + ops.len()).copied();
            if (op == "<" && next == Some('<'))
                || (op == ">" && next == Some('>'))
                || (op == "&" && next == Some('&'))
                || (op == "|" && next == Some('|'))
            {
                return false;
            }
            self.i += ops.len();
            return true;
        }
        false
    }

    fn comma(&mut self) -> ArithResult {
        let mut v = self.assign()?;
        while self.eat(",") {
            v = self.assign()?;
        }
        self.ws();
        if self.i < self.c.len() {
            return Err("Missing operator.");
        }
        Ok(v)
    }

    fn assign(&mut self) -> ArithResult {
        self.ws();
        let start = self.i;
        let name: String = self.c[self.i..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect();
        if !name.is_empty() && !name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            self.i += name.chars().count();
            for op in ["<<=", ">>=", "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "="] {
                self.ws();
                let ops: Vec<char> = op.chars().collect();
                if self.c.get(self.i..self.i + ops.len()) == Some(&ops[..])
                    && !(op == "=" && self.c.get(self.i + 1) == Some(&'='))
                {
                    self.i += ops.len();
                    let rhs = self.assign()?;
                    let cur = self.var(&name);
                    let v = match op {
                        "=" => rhs,
                        _ => binop(&op[..op.len() - 1], cur, rhs)?,
                    };
                    self.s.env.set(&name, &v.to_string());
                    return Ok(v);
                }
            }
            self.i = start;
        }
        self.or()
    }

    fn var(&mut self, name: &str) -> i32 {
        self.s.env.get(name).and_then(parse_number).map(|v| v as i32).unwrap_or(0)
    }

    /// One precedence level: operands from `next` joined by any of `ops`, left to right.
    fn level(&mut self, ops: &[&str], next: fn(&mut Self) -> ArithResult) -> ArithResult {
        let mut v = next(self)?;
        'outer: loop {
            for op in ops {
                if self.eat(op) {
                    v = binop(op, v, next(self)?)?;
                    continue 'outer;
                }
            }
            return Ok(v);
        }
    }

    fn or(&mut self) -> ArithResult {
        self.level(&["|"], Self::xor)
    }

    fn xor(&mut self) -> ArithResult {
        self.level(&["^"], Self::and)
    }

    fn and(&mut self) -> ArithResult {
        self.level(&["&"], Self::shift)
    }

    fn shift(&mut self) -> ArithResult {
        self.level(&["<<", ">>"], Self::add)
    }

    fn add(&mut self) -> ArithResult {
        self.level(&["+", "-"], Self::mul)
    }

    fn mul(&mut self) -> ArithResult {
        self.level(&["*", "/", "%"], Self::unary)
    }

    fn unary(&mut self) -> ArithResult {
        if self.eat("-") {
            return Ok(self.unary()?.wrapping_neg());
        }
        if self.eat("+") {
            return self.unary();
        }
        if self.eat("!") {
            return Ok((self.unary()? == 0) as i32);
        }
        if self.eat("~") {
            return Ok(!self.unary()?);
        }
        self.primary()
    }

    fn primary(&mut self) -> ArithResult {
        self.ws();
        if self.eat("(") {
            let v = self.assign()?;
            if !self.eat(")") {
                return Err("Missing closing parenthesis.");
            }
            return Ok(v);
        }
        let word: String = self.c[self.i..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect();
        if word.is_empty() {
            return Err("Missing operand.");
        }
        self.i += word.chars().count();
        if word.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return parse_number(&word).map(|v| v as i32).ok_or(
                "Invalid number.  Numeric constants are either decimal (17),\nhexadecimal (0x11), or octal (021).",
            );
        }
        Ok(self.var(&word))
    }
}

fn binop(op: &str, a: i32, b: i32) -> ArithResult {
    Ok(match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => return Err("Divide by zero error."),
        "/" => a.wrapping_div(b),
        "%" => a.wrapping_rem(b),
        "&" => a & b,
        "^" => a ^ b,
        "|" => a | b,
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        _ => return Err("Missing operator."),
    })
}

/// `%DATE%` and `%TIME%` at virtual second `clock`; the clock starts on Thursday 06/23/2005 at 9:00.
pub(super) fn clock_texts(clock: u64) -> (String, String) {
    let t = clock + 9 * 3600;
    let days = t / 86_400;
    let secs = t % 86_400;
    let names = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    // Day counting from 2005-06-23 through the months of 2005 and beyond, no leap day until 2008.
    let mut y = 2005u64;
    let mut month = 6usize;
    let mut day = 23 + days;
    let lengths = |y: u64| [31, if y.is_multiple_of(4) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    while day > lengths(y)[month - 1] {
        day -= lengths(y)[month - 1];
        month += 1;
        if month > 12 {
            month = 1;
            y += 1;
        }
    }
    let date = format!("{} {month:02}/{day:02}/{y}", names[(days % 7) as usize]);
    let time = format!("{:>2}:{:02}:{:02}.00", secs / 3600, secs % 3600 / 60, secs % 60);
    (date, time)
}
