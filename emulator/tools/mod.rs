//! Admin tools run from a command line typed on the server: resolution of the program and its
//! arguments, then the tool itself.

pub mod adsutil;
pub mod iismanager;
pub mod iisreset;
pub mod inproc;
pub mod regiis;
pub mod wsh;

use crate::machine::{self, Machine};
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
    /// Process exit code.
    pub exit: i32,
}

impl Output {
    /// Appends a line.
    pub fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    /// Standard output as text, lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Splits a command line the way the C runtime does: spaces separate, double quotes group.
pub fn split_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                any = true;
            }
            c if c.is_whitespace() && !in_quotes => {
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

/// What cmd.exe prints for a program it cannot find (exit 9009).
fn not_recognized(program: &str) -> Output {
    Output {
        lines: vec![
            format!("'{program}' is not recognized as an internal or external command,"),
            "operable program or batch file.".into(),
        ],
        exit: 9009,
    }
}

/// The current folder of every command line.
pub const CURRENT_DIR: &str = "C:\\";

/// Resolves a program path as cmd.exe would. A bare name is looked for in the current folder, then
/// on PATH (`%windir%\system32`), with the PATHEXT extensions iisim has programs for; other relative
/// paths start from the current folder, then from the Framework folder, so `v1.1.4322\aspnet_regiis`
/// works as the scenario shorthand.
fn resolve(m: &Machine, program: &str) -> Option<String> {
    let expanded = m.expand(program).replace('/', "\\");
    if !expanded.contains('\\') {
        let has_ext = expanded.rsplit_once('.').is_some_and(|(stem, ext)| !stem.is_empty() && !ext.is_empty());
        let exts: &[&str] = if has_ext { &[""] } else { &[".exe", ".vbs"] };
        let dirs = [CURRENT_DIR.to_string(), format!("{}\\system32", m.windir())];
        let name = expanded.as_str();
        return dirs
            .iter()
            .flat_map(|d| exts.iter().map(move |e| machine::fs::join(d, &format!("{name}{e}"))))
            .find(|p| m.fs().is_file(p));
    }
    let candidates = if expanded.len() > 1 && expanded.as_bytes()[1] == b':' {
        vec![expanded]
    } else {
        let rel = expanded.trim_start_matches(".\\");
        vec![machine::fs::join(CURRENT_DIR, rel), format!("{}\\Microsoft.NET\\Framework\\{rel}", m.windir())]
    };
    candidates.into_iter().flat_map(|p| [p.clone(), format!("{p}.exe")]).find(|p| m.fs().is_file(p))
}

/// The runtime whose Framework folder holds `path`.
fn folder_version(path: &str) -> Option<Version> {
    let lower = path.to_ascii_lowercase();
    let folder = lower.rsplit('\\').nth(1)?;
    Version::ALL.into_iter().find(|v| folder == v.folder_name())
}

/// Runs one command line on the machine.
pub fn run(m: &mut Machine, world: &mut World, line: &str, ctx: Context) -> Output {
    let args = split_args(line);
    let Some(program) = args.first() else {
        return Output::default();
    };
    let Some(path) = resolve(m, program) else {
        // cmd.exe expands %variables% before it looks for the program.
        return not_recognized(&m.expand(program));
    };
    let file = path.rsplit('\\').next().unwrap_or_default().to_ascii_lowercase();
    match (file.as_str(), folder_version(&path)) {
        ("aspnet_regiis.exe", Some(v)) => {
            let bitness =
                if path.to_ascii_lowercase().contains("\\framework64\\") { Bitness::X64 } else { Bitness::X86 };
            regiis::run(m, world, v, bitness, &args[1..], ctx)
        }
        ("iisreset.exe", _) => iisreset::run(m, world, &args[1..], ctx),
        ("cscript.exe", _) => wsh::run(m, world, wsh::Host::CScript, &args[1..], ctx),
        ("wscript.exe", _) => wsh::run(m, world, wsh::Host::WScript, &args[1..], ctx),
        // A script typed by name runs in the host its file association names, wscript by default.
        (f, _) if f.ends_with(".vbs") => wsh::run_associated(m, world, &path, &args[1..], ctx),
        _ => Output { lines: vec![format!("iisim does not emulate {path} yet.")], exit: 1 },
    }
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
