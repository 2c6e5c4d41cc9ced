//! Table-driven tests of expansion, built-ins and batch files on a fresh Server 2003.

use super::*;
use crate::machine::MachineConfig;

fn machine() -> Machine {
    let mut m = Machine::new(MachineConfig::new(Edition::Win2003));
    m.fs_create_files("D:\\Web Sites", &["index.htm"], &[]);
    m
}

/// Runs `lines` in one session; returns the last line's stdout, stderr and exit code.
fn run(m: &mut Machine, lines: &[&str]) -> (Vec<String>, Vec<String>, i32) {
    let mut w = World::default();
    let mut s = Session::new(m);
    let mut last = CmdOutput::default();
    for l in lines {
        last = s.run_line(m, &mut w, l, Context::default());
    }
    (last.stdout(), last.stderr(), last.exit)
}

#[test]
fn expansion_at_the_prompt() {
    // (line, stdout)
    let cases: &[(&str, &str)] = &[
        ("echo %SystemDrive%\\x", "C:\\x"),
        ("echo %systemroot% %WINDIR%", "C:\\WINDOWS C:\\WINDOWS"),
        ("echo %NOSUCH%", "%NOSUCH%"),
        ("echo 100%", "100%"),
        ("echo %NOSUCH%%windir%", "%NOSUCH%C:\\WINDOWS"),
        ("echo %ProgramFiles:~0,10%", "C:\\Program"),
        ("echo %ProgramFiles:~-5%", "Files"),
        ("echo %COMPUTERNAME:BOX=HOST%", "IISHOST"),
        ("echo %CD%", "C:\\Documents and Settings\\Administrator"),
        ("echo %DATE% [%TIME%]", "Thu 06/23/2005 [ 9:00:00.00]"),
        ("echo %date:~-4%", "2005"),
        ("echo a ^& b", "a & b"),
        ("echo \"a & b\"", "\"a & b\""),
        ("echo.", ""),
        ("echo", "ECHO is on."),
        ("echo    odd   spacing", "   odd   spacing"),
    ];
    for (line, want) in cases {
        let mut m = machine();
        let (out, err, _) = run(&mut m, &[line]);
        assert_eq!(out, vec![want.to_string()], "{line} (stderr {err:?})");
    }
}

#[test]
fn date_and_time_follow_the_virtual_clock() {
    let mut m = machine();
    m.set_clock(3 * 86_400 + 5 * 3600 + 61);
    let (out, _, _) = run(&mut m, &["echo %DATE%/%TIME%"]);
    assert_eq!(out, ["Sun 06/26/2005/14:01:01.00"]);
    let (out, _, _) = run(&mut m, &["set DATE=frozen", "echo %DATE%"]);
    assert_eq!(out, ["frozen"], "a real variable hides the dynamic one (CMD-03)");
}

#[test]
fn read_time_expansion_and_errorlevel() {
    let mut m = machine();
    let (out, _, _) = run(&mut m, &["set X=old", "set X=new& echo %X%"]);
    assert_eq!(out, ["old"], "%X% is read before set runs");
    let (out, _, code) = run(&mut m, &["nosuch 2>nul", "echo %ERRORLEVEL%"]);
    assert_eq!((out, code), (vec!["9009".to_string()], 9009));
    let (out, _, _) = run(&mut m, &["cmd /c exit /b -5", "if errorlevel 1 (echo yes) else (echo no)"]);
    assert_eq!(out, ["no"], "if errorlevel 1 misses negative codes");
    let (out, _, _) = run(&mut m, &["cmd /c exit /b -5 || echo fired"]);
    assert_eq!(out, ["fired"], "|| fires on negative codes (policy cmd.or_on_negative = fire)");
}

#[test]
fn drives_and_directories() {
    // (lines run in order, stdout of the last)
    let cases: &[(&[&str], &[&str])] = &[
        (&["cd \\", "cd"], &["C:\\"]),
        (&["cd D:\\Web Sites", "cd"], &["C:\\Documents and Settings\\Administrator"]),
        (&["cd D:\\Web Sites", "cd D:"], &["D:\\Web Sites"]),
        (&["cd /d D:\\web sites", "cd"], &["D:\\Web Sites"]),
        (&["cd \\Documents and Settings", "cd .."], &[]),
        (&["cd \\Documents and Settings", "cd ..", "cd"], &["C:\\"]),
        (&["D:", "cd"], &["D:\\"]),
        (&["pushd D:\\Web Sites", "popd", "cd"], &["C:\\Documents and Settings\\Administrator"]),
    ];
    for (lines, want) in cases {
        let mut m = machine();
        let (out, err, _) = run(&mut m, lines);
        assert_eq!(out, want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{lines:?} (stderr {err:?})");
    }
    let mut m = machine();
    let (_, err, code) = run(&mut m, &["Q:"]);
    assert_eq!((err, code), (vec!["The system cannot find the drive specified.".to_string()], 1));
}

#[test]
fn redirection_keeps_streams_apart() {
    let mut m = machine();
    let (out, err, _) = run(&mut m, &["nosuch > C:\\log.txt 2>&1", "type C:\\log.txt"]);
    assert_eq!(
        out,
        ["'nosuch' is not recognized as an internal or external command,", "operable program or batch file."]
    );
    assert!(err.is_empty());
    let (out, err, _) = run(&mut m, &["nosuch 2>&1 > C:\\log2.txt"]);
    assert!(out.len() == 2 && err.is_empty(), "2>&1 before > sends stderr to the console's stdout");
    let (_, err, code) = run(&mut m, &["echo x > C:\\nofolder\\f.txt"]);
    assert_eq!((err, code), (vec!["The system cannot find the path specified.".to_string()], 0));
    let (out, _, _) = run(&mut m, &["set /p A=Name? <nul", "echo [%A%]"]);
    assert_eq!(out, ["[%A%]"], "<nul answers nothing and leaves A undefined");
    let (out, _, _) = run(&mut m, &["echo y|set /p A=", "echo %A%"]);
    assert_eq!(out, ["y"]);
}

#[test]
fn delayed_expansion_in_a_batch_file() {
    let mut m = machine();
    m.fs_create_files("C:\\b", &[], &[]);
    let text = "@echo off\r\nsetlocal enabledelayedexpansion\r\nset N=0\r\nfor %%f in (a b c) do (set /a N+=1 & echo %N% !N!)\r\n";
    m.fs_write("C:\\b\\d.cmd", text, false, &[]);
    let (out, _, _) = run(&mut m, &["C:\\b\\d.cmd"]);
    assert_eq!(out, ["0 1", "0 2", "0 3"], "%N% was read with the line, !N! as each command runs");
}

#[test]
fn set_arithmetic() {
    let cases =
        [("set /a 1+2*3", "7"), ("set /a (1+2)*3", "9"), ("set /a 0x10+010", "24"), ("set /a \"x=5, x<<=2\"", "20")];
    for (line, want) in cases {
        let mut m = machine();
        let (out, _, _) = run(&mut m, &[line]);
        assert_eq!(out, [want], "{line}");
    }
    let mut m = machine();
    let (_, err, code) = run(&mut m, &["set /a 1/0"]);
    assert_eq!((err, code), (vec!["Divide by zero error.".to_string()], 1));
}

#[test]
fn batch_files_with_labels_calls_and_percent() {
    let mut m = machine();
    let text = "@echo off\r\nset N=0\r\nfor %%f in (a b c) do call :count %%f\r\necho %N% 100%%\r\nif \"%~1\"==\"\" goto :eof\r\nshift\r\necho next %1\r\ngoto end\r\n:count\r\nset /a N+=1\r\ngoto :eof\r\n:end\r\necho %~dp0 %~nx0\r\n";
    m.fs_write("C:\\b\\t.cmd", "", false, &[]);
    m.fs_create_files("C:\\b", &[], &[]);
    assert!(m.fs_write("C:\\b\\t.cmd", text, false, &[]));
    let (out, _, _) = run(&mut m, &["C:\\b\\t.cmd \"first arg\" second"]);
    assert_eq!(out, ["3 100%", "next second", "C:\\b\\ t.cmd"]);
    let (out, _, _) = run(&mut m, &["C:\\b\\t.cmd"]);
    assert_eq!(out, ["3 100%"]);
    // call of another batch file returns; naming it without call does not.
    m.fs_write(
        "C:\\b\\outer.cmd",
        "@echo off\r\ncall C:\\b\\inner.cmd\r\necho back\r\nC:\\b\\inner.cmd\r\necho never\r\n",
        false,
        &[],
    );
    m.fs_write("C:\\b\\inner.cmd", "@echo inner\r\n", false, &[]);
    let (out, _, _) = run(&mut m, &["C:\\b\\outer.cmd"]);
    assert_eq!(out, ["inner", "back", "inner"]);
    // echo on shows each line after the prompt.
    m.fs_write("C:\\b\\on.cmd", "echo hi\r\n", false, &[]);
    let (out, _, _) = run(&mut m, &["cd \\b", "on"]);
    assert_eq!(out, ["", "C:\\b>echo hi", "hi"]);
    // a label that does not exist ends the file with cmd's message.
    m.fs_write("C:\\b\\bad.cmd", "@goto nowhere\r\n@echo after\r\n", false, &[]);
    let (out, err, code) = run(&mut m, &["C:\\b\\bad.cmd"]);
    assert_eq!(
        (out, err, code),
        (vec![], vec!["The system cannot find the batch label specified - nowhere".to_string()], 1)
    );
    // a batch file that starts itself in a child cmd ends, nested 32 deep.
    m.fs_write("C:\\b\\self.cmd", "@cmd /c C:\\b\\self.cmd\r\n", false, &[]);
    let (_, err, _) = run(&mut m, &["C:\\b\\self.cmd"]);
    assert!(err.iter().any(|l| l.contains("nested more than 32 deep")), "{err:?}");
    // an endless loop is stopped.
    m.fs_write("C:\\b\\loop.cmd", ":a\r\n@goto a\r\n", false, &[]);
    let (_, err, _) = run(&mut m, &["C:\\b\\loop.cmd"]);
    assert!(err.iter().any(|l| l.contains("endless loop")), "{err:?}");
}

#[test]
fn program_lookup() {
    let mut m = machine();
    m.fs_create_files("C:\\Tools", &["x.bat"], &[]);
    m.fs_write("C:\\Tools\\x.bat", "@echo x ran\r\n", false, &[]);
    // (lines, stdout, stderr, exit)
    type Row<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], i32);
    let cases: &[Row] = &[
        (&["cd \\Tools", "x"], &["x ran"], &[], 0),
        (
            &["x"],
            &[],
            &["'x' is not recognized as an internal or external command,", "operable program or batch file."],
            9009,
        ),
        (&["C:\\Tools\\x"], &["x ran"], &[], 0),
        (&["C:\\nosuch\\x"], &[], &["The system cannot find the path specified."], 3),
        (&["\"C:\\Tools\\x.bat\""], &["x ran"], &[], 0),
    ];
    for (lines, out, err, code) in cases {
        let got = run(&mut m, lines);
        let want = (
            out.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            err.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            *code,
        );
        assert_eq!(got, want, "{lines:?}");
    }
}

#[test]
fn syntax_errors_name_the_token() {
    let cases = [("if", "newline"), ("if a== (echo x)", "(echo"), ("echo a && ", "&&")];
    for (line, tok) in cases {
        let mut m = machine();
        let (_, err, code) = run(&mut m, &[line]);
        assert_eq!((err, code), (vec![format!("{tok} was unexpected at this time.")], 1), "{line}");
    }
}
