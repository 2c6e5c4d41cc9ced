//! Running `.cmd` and `.bat` files: frames, labels, `goto`, `call :label` (CMD-22..CMD-25).

use super::builtins::text_lines;
use super::{parse, Flow, Frame, Invoked, Io, Session, FRAME_LIMIT};
use crate::machine::Machine;
use crate::process::World;
use crate::tools::Context;

impl Session {
    /// Runs the batch file at `path` (typed as `typed`) with `args` as a new frame.
    pub(super) fn run_batch(&mut self, m: &mut Machine, w: &mut World, p: &Invoked, io: &Io, ctx: Context) -> Flow {
        let path = p.path;
        let text = m.fs().read(path).unwrap_or_default().to_string();
        let mut all = vec![p.typed.to_string()];
        all.extend(p.args.iter().cloned());
        let frame =
            Frame { file: path.to_string(), lines: text_lines(&text), args: all, shift: 0, pc: 0, locals: Vec::new() };
        self.run_frame(m, w, frame, io, ctx)
    }

    /// `call :label args`: the same file from the label, with its own `%0` and arguments.
    pub(super) fn call_label(
        &mut self,
        m: &mut Machine,
        w: &mut World,
        label: &str,
        args: &str,
        io: &Io,
        ctx: Context,
    ) -> Flow {
        let Some(cur) = self.frames.last() else { return Flow::Next };
        let Some(pc) = find_label(&cur.lines, 0, label) else {
            let msg = format!("The system cannot find the batch label specified - {label}");
            return self.fail(m, io, &msg);
        };
        let mut all = vec![format!(":{label}")];
        all.extend(crate::tools::split_args_keep_quotes(args));
        let frame =
            Frame { file: cur.file.clone(), lines: cur.lines.clone(), args: all, shift: 0, pc, locals: Vec::new() };
        match self.run_frame(m, w, frame, io, ctx) {
            Flow::Exit(c) => Flow::Exit(c),
            _ => Flow::Next,
        }
    }

    fn run_frame(&mut self, m: &mut Machine, w: &mut World, frame: Frame, io: &Io, ctx: Context) -> Flow {
        self.cite("CMD-22");
        if self.frames.len() >= FRAME_LIMIT {
            self.emit(m, &io.err, "****** B A T C H   R E C U R S I O N  exceeds STACK limits ******");
            self.emit(m, &io.err, "Recursion Count=200, Stack Usage=90 percent");
            self.emit(m, &io.err, "******       B A T C H   PROCESSING IS   A B O R T E D      ******");
            return Flow::Exit(self.errorlevel);
        }
        self.frames.push(frame);
        let flow = loop {
            let Some((text, quiet)) = self.next_line() else { break Flow::Next };
            self.clock = m.clock();
            let expanded = self.expand(&text, true);
            if self.echo && !quiet && !expanded.trim().is_empty() {
                // With echo on, each line shows after a blank line and the prompt (CMD-17).
                let prompt = self.prompt();
                self.emit(m, &io.out, "");
                self.emit(m, &io.out, format!("{prompt}{}", expanded.trim()));
            }
            let node = match parse::parse(&expanded) {
                Ok(n) => n,
                Err(parse::Unexpected(tok)) => {
                    // A syntax error ends the batch file (CMD-16, CMD-28).
                    self.emit(m, &io.err, format!("{tok} was unexpected at this time."));
                    self.set_exit(1);
                    break Flow::EndFrame;
                }
            };
            match self.exec(m, w, &node, io, ctx) {
                Flow::Next => {}
                Flow::Goto(label) => {
                    let f = self.frames.last_mut().expect("a running frame");
                    match find_label(&f.lines, f.pc, &label) {
                        Some(pc) => f.pc = pc,
                        None => {
                            self.cite("CMD-23");
                            let msg = format!("The system cannot find the batch label specified - {label}");
                            self.emit(m, &io.err, msg);
                            self.set_exit(1);
                            break Flow::EndFrame;
                        }
                    }
                }
                f => break f,
            }
        };
        // Every setlocal the frame left open is undone as it ends (CMD-25).
        if let Some(f) = self.frames.pop() {
            if let Some(first) = f.locals.into_iter().next() {
                self.env = first.env;
                self.drive = first.drive;
                self.dirs = first.dirs;
            }
        }
        flow
    }

    /// The next logical line of the running frame: labels skipped, `^` continuations and
    /// parenthesised blocks joined; `true` when it starts with `@`.
    fn next_line(&mut self) -> Option<(String, bool)> {
        let f = self.frames.last_mut()?;
        loop {
            let raw = f.lines.get(f.pc)?.clone();
            f.pc += 1;
            let t = raw.trim_start();
            if t.starts_with(':') {
                continue;
            }
            let mut text = raw.clone();
            while text.ends_with('^') && f.pc < f.lines.len() {
                text.pop();
                text.push_str(&f.lines[f.pc]);
                f.pc += 1;
            }
            while open_parens(&text) > 0 && f.pc < f.lines.len() {
                text.push('\n');
                text.push_str(&f.lines[f.pc]);
                f.pc += 1;
            }
            let quiet = text.trim_start().starts_with('@');
            return Some((text, quiet));
        }
    }
}

/// The line after label `name`, searching from `from` to the end and then from the top (CMD-23).
fn find_label(lines: &[String], from: usize, name: &str) -> Option<usize> {
    let matches = |l: &String| {
        l.trim_start()
            .strip_prefix(':')
            .and_then(|rest| rest.split(|c: char| c.is_whitespace() || c == ':' || c == '+').next())
            .is_some_and(|w| w.eq_ignore_ascii_case(name))
    };
    let n = lines.len();
    (from..n).chain(0..from.min(n)).find(|&i| matches(&lines[i])).map(|i| i + 1)
}

/// Unclosed `(` in a line, quotes and carets respected (a block continues on the next line).
fn open_parens(text: &str) -> i32 {
    let mut depth = 0;
    let mut quoted = false;
    let mut caret = false;
    let lower = text.trim_start().to_ascii_lowercase();
    if lower.starts_with("rem") || lower.starts_with("::") {
        return 0;
    }
    for c in text.chars() {
        if caret {
            caret = false;
            continue;
        }
        match c {
            '^' if !quoted => caret = true,
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ => {}
        }
    }
    depth
}
