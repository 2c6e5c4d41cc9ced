//! Admin tools run from a command line typed on the server: resolution of the program and its
//! arguments, then the tool itself.

pub mod adsutil;
pub mod iis6scripts;
pub mod iismanager;
pub mod iisreset;
pub mod inproc;
pub mod net;
pub mod regiis;
pub mod wsh;

use crate::machine::Machine;
use crate::process::World;
use crate::runtime::{Bitness, Version};

/// Who runs a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// Whether the user is a local administrator.
    pub admin: bool,
}

impl Default for Context {
    fn default() -> Self {
        Context { admin: true }
    }
}

/// What a command printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// Standard output, one entry per line.
    pub lines: Vec<String>,
    /// Standard error, one entry per line.
    pub err: Vec<String>,
    /// Process exit code.
    pub exit: i32,
}

impl Output {
    /// Standard output `lines` with exit code `exit`.
    pub fn new(lines: Vec<String>, exit: i32) -> Output {
        Output { lines, err: Vec::new(), exit }
    }

    /// Appends a line to standard output.
    pub fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    /// Appends a line to standard error.
    pub fn err_line(&mut self, text: impl Into<String>) {
        self.err.push(text.into());
    }

    /// Standard output as text, lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Splits a command line the way the C runtime does: spaces separate, double quotes group.
pub fn split_args(line: &str) -> Vec<String> {
    split(line, false)
}

/// Splits a command line into words as cmd.exe gives them to a batch file: quotes kept (CMD-22).
pub fn split_args_keep_quotes(line: &str) -> Vec<String> {
    split(line, true)
}

fn split(line: &str, keep_quotes: bool) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                any = true;
                if keep_quotes {
                    cur.push(c);
                }
            }
            c if (c.is_whitespace() || (keep_quotes && matches!(c, ',' | ';' | '='))) && !in_quotes => {
                if any {
                    args.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        args.push(cur);
    }
    args
}

/// A program cmd.exe found and starts: its full path, arguments, the session's current
/// directory, standard input, and whether cmd waits for it (inside a batch file, CMD-08).
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    /// The program's full path on the emulated disk.
    pub path: &'a str,
    /// Its arguments, quotes removed.
    pub args: &'a [String],
    /// The current directory it starts in.
    pub cwd: &'a str,
    /// Standard input (`<file`, a pipe), if any.
    pub stdin: Option<&'a str>,
    /// Whether cmd waits for a GUI program (it does in batch files, not at the prompt).
    pub waited: bool,
}

/// The runtime whose Framework folder holds `path`.
fn folder_version(path: &str) -> Option<Version> {
    let lower = path.to_ascii_lowercase();
    let folder = lower.rsplit('\\').nth(1)?;
    Version::ALL.into_iter().find(|v| folder == v.folder_name())
}

/// Runs a program the command prompt found (CMD-08).
pub fn exec(m: &mut Machine, world: &mut World, l: &Launch, ctx: Context) -> Output {
    let path = l.path;
    let args = l.args;
    let file = path.rsplit('\\').next().unwrap_or_default().to_ascii_lowercase();
    match (file.as_str(), folder_version(path)) {
        ("aspnet_regiis.exe", Some(v)) => {
            let bitness =
                if path.to_ascii_lowercase().contains("\\framework64\\") { Bitness::X64 } else { Bitness::X86 };
            regiis::run(m, world, v, bitness, args, ctx)
        }
        ("iisreset.exe", _) => iisreset::run(m, world, args, ctx),
        ("net.exe", _) => net::net(m, world, args, l.stdin, ctx),
        ("sc.exe", _) => net::sc(m, world, args, ctx),
        ("cscript.exe", _) => wsh::run(m, world, wsh::Host::CScript, args, l.cwd, ctx),
        ("wscript.exe", _) => {
            // wscript is a GUI program: the prompt does not wait for it (CMD-08).
            let mut out = wsh::run(m, world, wsh::Host::WScript, args, l.cwd, ctx);
            if !l.waited {
                out.exit = 0;
            }
            out
        }
        // A script typed by name runs in the host its file association names, wscript by default.
        (f, _) if f.ends_with(".vbs") => {
            let mut out = wsh::run_associated(m, world, path, args, l.cwd, ctx);
            if !l.waited && !wsh::associated_with_cscript(m) {
                out.exit = 0;
            }
            out
        }
        _ => Output::new(vec![format!("iisim does not emulate {path} yet.")], 1),
    }
}

/// Runs one command line in a fresh cmd.exe session whose current directory is `C:\`.
pub fn run(m: &mut Machine, world: &mut World, line: &str, ctx: Context) -> Output {
    let mut s = crate::cmd::Session::at(m, "C:\\");
    s.run_line(m, world, line, ctx).to_output()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_table() {
        let cases: &[(&str, &[&str])] = &[
            ("a -s W3SVC/1/ROOT", &["a", "-s", "W3SVC/1/ROOT"]),
            ("  \"C:\\Program Files\\x.exe\"  -i ", &["C:\\Program Files\\x.exe", "-i"]),
            ("a \"\" b", &["a", "", "b"]),
            ("a \"W3SVC/1/ROOT/my app\"", &["a", "W3SVC/1/ROOT/my app"]),
            ("", &[]),
        ];
        for (line, want) in cases {
            assert_eq!(split_args(line), want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{line}");
        }
    }
}
