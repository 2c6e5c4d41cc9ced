//! HTTP.sys's error log (HTTP-05..08): a line for every answer HTTP.sys gives itself, every
//! connection its timers end and every request its client dropped, written as `httperr<n>.log`
//! files on the emulated disk (`System32\LogFiles\HTTPERR`, or ErrorLoggingDir), each opening
//! with the W3C directives and rolling to the next number at `ErrorLogFileTruncateSize`.
//! Scenario and console requests write their lines at once; `iisim serve` buffers its requests'
//! lines and writes them before each admin command, so `type` and `dir` see every line so far.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::conn::Refusal;
use super::wire::{self, Framing, Limits, Producer};
use super::{Entry, Shared, SERVER_IP};
use crate::dispatch::{Reply, Request};
use crate::machine::journal::{Change, Effect};
use crate::machine::Machine;
use crate::process::Summary;

use crate::machine::EPOCH_UNIX;

/// The `#Fields` directive (HTTP-06).
pub const FIELDS: &str =
    "date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-siteid s-reason s-queuename";

/// How many lines a request may leave in memory before they are written to the disk.
pub const PENDING: usize = 1000;

/// The largest httperr file the emulated disk holds, whatever ErrorLogFileTruncateSize says
/// (bounded memory, modeled).
pub const MAX_FILE: u64 = 16 << 20;

/// How many httperr files the emulated disk keeps: an older one is deleted when a new one opens,
/// so that a server under a flood of bad requests keeps bounded memory (modeled).
pub const KEPT_FILES: u32 = 4;

/// The rules an httperr line follows.
const RULES: &[&str] = &["HTTP-05", "HTTP-06", "HTTP-07", "HTTP-08"];

/// `YYYY-MM-DD` and `hh:mm:ss` (UTC) of virtual second `t`.
pub fn date_time(t: u64) -> (String, String) {
    let unix = EPOCH_UNIX + t;
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (format!("{year:04}-{month:02}-{day:02}"), format!("{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60))
}

/// One httperr line's fields (HTTP-06); `None` and empty fields are written `-`.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// Virtual seconds.
    pub time: u64,
    /// The client's address.
    pub client: SocketAddr,
    /// The emulated server port.
    pub port: u16,
    /// `cs-version`.
    pub version: &'a str,
    /// `cs-method`.
    pub method: &'a str,
    /// `cs-uri`.
    pub uri: &'a str,
    /// `sc-status`.
    pub status: Option<u16>,
    /// `s-siteid` (policy `httpsys.errlog_siteid = site_when_known`).
    pub site: Option<u32>,
    /// `s-reason` (HTTP-07).
    pub reason: &'a str,
    /// `s-queuename`: the pool involved, empty when none was (HTTP-06).
    pub queue: &'a str,
}

/// A field as HTTP.sys writes it: `-` when empty, spaces and unprintable bytes as `+`, cut at `max`.
fn field(out: &mut String, value: &str, max: usize) {
    if value.is_empty() {
        out.push('-');
        return;
    }
    let mut end = value.len().min(max);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    out.extend(value[..end].chars().map(|c| if c.is_control() || c.is_whitespace() { '+' } else { c }));
}

impl Line<'_> {
    /// The line as written (HTTP-06).
    pub fn render(&self) -> String {
        let (date, time) = date_time(self.time);
        let mut out = format!("{date} {time} {} {} {SERVER_IP} {} ", self.client.ip(), self.client.port(), self.port);
        for (v, max) in [(self.version, 255), (self.method, 255), (self.uri, 4096)] {
            field(&mut out, v, max);
            out.push(' ');
        }
        let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let _ = write!(
            out,
            "{} {} {} ",
            dash(self.status.map(|s| s.to_string())),
            dash(self.site.map(|s| s.to_string())),
            self.reason
        );
        field(&mut out, self.queue, 255);
        out
    }
}

/// HTTP.sys's error-log settings from the HTTP service's registry values (HTTP-05).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `EnableErrorLogging`.
    pub enabled: bool,
    /// `ErrorLogFileTruncateSize`: a file rolls to the next number past it.
    pub truncate: u64,
    /// The folder the files go to: `ErrorLoggingDir` with `HTTPERR` appended, by default
    /// `%SystemRoot%\System32\LogFiles\HTTPERR`.
    pub dir: String,
}

impl Settings {
    /// The settings of machine `m` (HTTP-05).
    pub fn of(m: &Machine) -> Settings {
        let dword = |name: &str| m.registry().get(wire::HTTP_PARAMETERS, name).and_then(parse_dword);
        Settings {
            enabled: dword("EnableErrorLogging").is_none_or(|v| v != 0),
            // Never less than 1 MB (HTTP-05); at most MAX_FILE on the emulated disk.
            truncate: dword("ErrorLogFileTruncateSize").unwrap_or(0x10_0000).clamp(0x10_0000, MAX_FILE),
            dir: folder(m),
        }
    }
}

/// The folder HTTP.sys writes to on machine `m` (HTTP-05): `ErrorLoggingDir` (a fully qualified
/// local path, `%SystemRoot%` expanded) with `HTTPERR` appended; a value that is not one (a
/// network path, a relative path) leaves the default (modeled).
pub fn folder(m: &Machine) -> String {
    let configured = m.registry().get(wire::HTTP_PARAMETERS, "ErrorLoggingDir").map(|v| {
        let v = v.trim().trim_end_matches('\\');
        let lower = v.to_ascii_lowercase();
        match lower.find("%systemroot%") {
            Some(at) => format!("{}{}{}", &v[..at], m.windir(), &v[at + "%systemroot%".len()..]),
            None => v.to_string(),
        }
    });
    let local = |p: &str| {
        let b = p.as_bytes();
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\'
    };
    match configured.filter(|p| local(p)) {
        Some(dir) => format!(r"{dir}\HTTPERR"),
        None => format!(r"{}\system32\LogFiles\HTTPERR", m.windir()),
    }
}

/// The directives a new file starts with (policy `httpsys.errlog_format = w3c_directives`).
fn directives(opened: u64) -> String {
    let (date, time) = date_time(opened);
    format!("#Software: Microsoft HTTP API 1.0\r\n#Version: 1.0\r\n#Date: {date} {time}\r\n#Fields: {FIELDS}\r\n")
}

/// The number of the newest `httperr<n>.log` on the disk of `m`, and its size.
fn current_file(m: &Machine, dir: &str) -> Option<(u32, u64)> {
    let newest = m
        .fs()
        .list(dir)
        .iter()
        .filter_map(|p| {
            let name = p.rsplit('\\').next()?.to_ascii_lowercase();
            name.strip_prefix("httperr")?.strip_suffix(".log")?.parse::<u32>().ok()
        })
        .max()?;
    let size = m.fs().read(&format!("{dir}\\httperr{newest}.log")).map_or(0, |t| t.len() as u64);
    Some((newest, size))
}

/// Appends `lines` (virtual second, rendered line) to HTTP.sys's log on the disk of `m`, as
/// HTTP.sys writes it: `httperr<n>.log` under `System32\LogFiles\HTTPERR`, a new file starting
/// with the W3C directives and rolling to the next number at ErrorLogFileTruncateSize (HTTP-05,
/// HTTP-06). Returns the file each line went to. Nothing is written when logging is off.
pub fn append(m: &mut Machine, settings: &Settings, lines: &[(u64, String)]) -> Vec<String> {
    if !settings.enabled || lines.is_empty() {
        return Vec::new();
    }
    let dir = settings.dir.as_str();
    if !m.fs().is_dir(dir) {
        m.fs_create_files(dir, &[], &["HTTP-05"]);
    }
    let (mut number, mut size) = current_file(m, dir).unwrap_or((1, 0));
    let mut files = Vec::with_capacity(lines.len());
    let mut text = String::new();
    let flush = |m: &mut Machine, number: u32, text: &mut String| {
        if !text.is_empty() {
            m.fs_write(&format!("{dir}\\httperr{number}.log"), text, true, &["HTTP-05"]);
            text.clear();
        }
    };
    for (time, line) in lines {
        let len = line.len() as u64 + 2;
        if size > 0 && size + len > settings.truncate {
            flush(m, number, &mut text);
            number += 1;
            size = 0;
            if number > KEPT_FILES {
                m.fs_delete(&format!("{dir}\\httperr{}.log", number - KEPT_FILES), &["HTTP-05"]);
            }
        }
        if size == 0 {
            let d = directives(*time);
            size = d.len() as u64;
            text.push_str(&d);
        }
        text.push_str(line);
        text.push_str("\r\n");
        size += len;
        files.push(format!("httperr{number}.log"));
    }
    flush(m, number, &mut text);
    files
}

/// The current `httperr<n>.log` in folder `dir` on the disk of `m`: its path and text (empty
/// before the first).
pub fn current(m: &Machine, dir: &str) -> (String, String) {
    match current_file(m, dir) {
        Some((n, _)) => {
            let path = format!("{dir}\\httperr{n}.log");
            let text = m.fs().read(&path).unwrap_or_default().to_string();
            (path, text)
        }
        None => (format!("{dir}\\httperr1.log"), String::new()),
    }
}

/// Where an emulated client connects from (modeled): the box itself for a local request, else
/// 10.0.0.2, from an ephemeral port that moves with request number `id`.
pub fn emulated_client(local: bool, id: u64) -> SocketAddr {
    let ip = if local { [127, 0, 0, 1] } else { [10, 0, 0, 2] };
    SocketAddr::from((ip, 1024 + (id % 64_000) as u16))
}

/// Writes the httperr line of a request a scenario or the console sent when HTTP.sys answered it
/// itself (HTTP-08), recording the line; `client` is where the emulated client connects from.
pub fn log_served(m: &mut Machine, req: &Request, served: &crate::process::Served, client: SocketAddr) {
    if !m.edition().is_iis6() || served.reply.status == 0 {
        return;
    }
    let limits = Limits::of(m);
    if Producer::of(&served.reply, &limits) != Producer::HttpSys {
        return;
    }
    let summary = served.summary();
    let Some(line) = served_line(m.clock(), client, req, &served.reply, &summary) else { return };
    let text = line.render();
    let files = append(m, &Settings::of(m), &[(line.time, text.clone())]);
    if let Some(file) = files.first() {
        m.note(format!("HTTP.sys logs to {file}: {text}"), RULES);
    }
}

/// The httperr line of an answer HTTP.sys gave after parsing (Invalid Hostname, Invalid URL, a
/// pool's 503: HTTP-03), with the pool and the process model's reason when a pool was involved.
fn served_line<'a>(
    time: u64,
    client: SocketAddr,
    req: &'a Request,
    reply: &'a Reply,
    summary: &'a Summary,
) -> Option<Line<'a>> {
    let h1 = reply.body.strip_prefix("<h1>").and_then(|b| b.strip_suffix("</h1>")).unwrap_or_default();
    let pool = summary.http_sys.as_ref();
    Some(Line {
        time,
        client,
        port: req.port,
        version: if req.http10 { "HTTP/1.0" } else { "HTTP/1.1" },
        method: &req.method,
        uri: &req.url,
        status: Some(reply.status),
        site: summary.site,
        reason: pool.map_or_else(|| wire::s_reason(reply.status, h1), |(r, _, _)| r),
        // A pool that does not exist has no queue (HTTP-06: `-`).
        queue: pool.filter(|(_, _, exists)| *exists).map_or("", |(_, name, _)| name),
    })
}

/// The lines HTTP.sys has not yet written to the disk, and its settings (HTTP-05). A request
/// only appends to the buffer; administration writes it to the emulated disk.
#[derive(Debug, Clone)]
pub struct Log {
    settings: Settings,
    pending: Vec<(u64, String)>,
}

impl Log {
    /// The log of machine `m`, nothing pending.
    pub fn of(m: &Machine) -> Log {
        Log { settings: Settings::of(m), pending: Vec::new() }
    }

    /// Whether HTTP.sys writes the log.
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// Buffers a line written at virtual second `time`; true when the buffer should go to disk.
    fn push(&mut self, time: u64, line: String) -> bool {
        self.pending.push((time, line));
        self.pending.len() >= PENDING
    }
}

/// `cs-method`, `cs-uri` and `cs-version` of a request line (empty, logged `-`, when missing).
fn request_fields(line: &str) -> (&str, &str, &str) {
    let mut parts = line.splitn(3, ' ');
    (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default())
}

fn parse_dword(v: &str) -> Option<u64> {
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

impl Shared {
    fn errlog(&self) -> std::sync::MutexGuard<'_, Log> {
        self.httperr.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Buffers an httperr line (when logging is on); returns the transcript note saying so.
    pub(super) fn log_error(&self, line: Line<'_>) -> Option<Effect> {
        let text = line.render();
        let full = {
            let mut log = self.errlog();
            if !log.enabled() {
                return None;
            }
            log.push(line.time, text.clone())
        };
        if full {
            // The admin lock first, as administration takes it: lines reach the disk in order.
            self.flush_httperr(&mut self.admin());
        }
        Some(Effect {
            change: Change::Decision { text: format!("HTTP.sys logs to httperr: {text}") },
            rules: RULES.to_vec(),
        })
    }

    /// Writes the buffered httperr lines to the disk of `m`, the administrator's machine.
    pub(crate) fn flush_httperr(&self, m: &mut Machine) {
        let (settings, lines) = {
            let mut log = self.errlog();
            (log.settings.clone(), std::mem::take(&mut log.pending))
        };
        append(m, &settings, &lines);
    }

    /// Records a request HTTP.sys refused on the wire: the transcript, and on IIS 6 its httperr line.
    pub(crate) fn refused_on_wire(&self, r: &Refusal, client: SocketAddr, port: u16) {
        let reply = &r.rejection.reply;
        // HTTP.sys (IIS 5.x: inetinfo) answers alone: no site, worker or filter sees it (HTTP-01).
        let rules = std::iter::once("HTTP-01").chain(r.rejection.rules.iter().copied()).collect();
        let mut effects = vec![Effect { change: Change::Decision { text: r.rejection.text.clone() }, rules }];
        if !r.iis5 {
            let line = Line {
                time: self.published().machine.clock(),
                client,
                port,
                version: &r.version,
                method: &r.method,
                uri: &r.url,
                status: Some(reply.status),
                site: None,
                reason: r.rejection.reason,
                queue: "",
            };
            effects.extend(self.log_error(line));
        }
        let producer = if r.iis5 { Producer::Iis5 } else { Producer::HttpSys };
        let framing = Framing {
            status: reply.status,
            reason: wire::reason(reply.status, r.iis5),
            length: reply.body.len(),
            producer,
            close: true,
            keep_alive: false,
            head: r.head,
        };
        let from = if r.iis5 { "inetinfo" } else { "HTTP.sys" };
        let summary = format!("{} {} {} -> {} from {from}", r.method, r.url, r.version, reply.status);
        self.push(Entry::Rejected { summary, effects, framing: Some(framing) });
    }

    /// Records a connection one of HTTP.sys's timers ended (HTTP-11): its httperr line, whose
    /// request fields come from `pending`, the request line of a request pending at the time,
    /// else are `-` (HTTP-08).
    pub(crate) fn timed_out(
        &self,
        reason: &str,
        pending: Option<&[u8]>,
        client: SocketAddr,
        port: u16,
        limits: &Limits,
    ) {
        let why = match reason {
            "Timer_ConnectionIdle" => {
                format!("the connection was idle for ConnectionTimeout ({} s)", limits.connection_timeout)
            }
            "Timer_HeaderWait" => format!("the request head did not arrive within {} s", limits.header_wait),
            _ => format!("the request body stalled for ConnectionTimeout ({} s)", limits.connection_timeout),
        };
        let decided = Effect {
            change: Change::Decision {
                text: format!("HTTP.sys: {why}: connection closed without a response ({reason})"),
            },
            rules: vec!["HTTP-11"],
        };
        let request = pending.map(String::from_utf8_lossy).unwrap_or_default();
        let summary = format!("connection from {client} ended by {reason}");
        self.connection_ended(decided, &request, reason, (client, port), limits, summary);
    }

    /// Records a connection that ended without an answer: the decision, the httperr line (status
    /// and site `-`, the request fields from `request` when one was pending) and the transcript entry.
    fn connection_ended(
        &self,
        decided: Effect,
        request: &str,
        reason: &str,
        (client, port): (SocketAddr, u16),
        limits: &Limits,
        summary: String,
    ) {
        let mut effects = vec![decided];
        if limits.http_sys {
            let (method, uri, version) = request_fields(request);
            let line = Line {
                time: self.published().machine.clock(),
                client,
                port,
                version,
                method,
                uri,
                status: None,
                site: None,
                reason,
                queue: "",
            };
            effects.extend(self.log_error(line));
        }
        self.push(Entry::Rejected { summary, effects, framing: None });
    }

    /// Records a request whose client closed the connection before its answer was complete
    /// (HTTP-08): logged `Connection_Dropped` with the request line's fields and no status.
    pub(crate) fn dropped(&self, request_line: &[u8], client: SocketAddr, port: u16, limits: &Limits) {
        let line = String::from_utf8_lossy(request_line);
        let text = format!("HTTP.sys: the client closed the connection before the answer to {line} was complete");
        let decided = Effect { change: Change::Decision { text }, rules: vec!["HTTP-08"] };
        let summary = format!("{line} -> dropped by the client");
        self.connection_ended(decided, &line, "Connection_Dropped", (client, port), limits, summary);
    }

    /// Logs an answer HTTP.sys gave after the request was parsed (Invalid Hostname, Invalid URL,
    /// a pool's 503: HTTP-03) and returns the transcript note.
    pub(crate) fn logged_reply(
        &self,
        client: SocketAddr,
        req: &Request,
        reply: &Reply,
        summary: &Summary,
    ) -> Option<Effect> {
        let line = served_line(self.published().machine.clock(), client, req, reply, summary)?;
        self.log_error(line)
    }

    /// The httperr file HTTP.sys writes now, with every line so far: its path and contents.
    pub fn httperr(&self) -> (String, String) {
        let mut m = self.admin();
        self.flush_httperr(&mut m);
        let dir = self.errlog().settings.dir.clone();
        current(&m, &dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_virtual_clock_starts_where_the_prompt_does() {
        assert_eq!(date_time(0), ("2005-06-23".into(), "09:00:00".into()));
        assert_eq!(date_time(86_400 * 200 + 3_723), ("2006-01-09".into(), "10:02:03".into()));
    }

    #[test]
    fn lines_follow_the_documented_format() {
        let line = Line {
            time: 0,
            client: "127.0.0.1:2894".parse().unwrap(),
            port: 80,
            version: "HTTP/2.0",
            method: "GET",
            uri: "/a b",
            status: Some(505),
            site: None,
            reason: "Version_N/S",
            queue: "",
        };
        assert_eq!(
            line.render(),
            "2005-06-23 09:00:00 127.0.0.1 2894 10.0.0.1 80 HTTP/2.0 GET /a+b 505 - Version_N/S -"
        );
        let idle = Line { version: "", method: "", uri: "", status: None, reason: "Timer_ConnectionIdle", ..line };
        assert!(idle.render().ends_with(" 80 - - - - - Timer_ConnectionIdle -"), "{}", idle.render());
    }

    #[test]
    fn the_file_rolls_at_its_size_limit() {
        let mut m = Machine::new(crate::machine::MachineConfig::new(crate::edition::Edition::Win2003));
        let settings = Settings::of(&m);
        let dir = r"C:\WINDOWS\system32\LogFiles\HTTPERR";
        assert_eq!(settings.dir, dir);
        assert_eq!(current(&m, dir).1, "", "no file before the first error");
        let line = "x".repeat(1000);
        let lines: Vec<(u64, String)> = (0..1100).map(|i| (i, line.clone())).collect();
        let names: std::collections::BTreeSet<String> = append(&mut m, &settings, &lines).into_iter().collect();
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["httperr1.log", "httperr2.log"], "1 MB per file");
        let first = m.fs().read(&format!(r"{dir}\httperr1.log")).unwrap().to_string();
        assert!(first.len() as u64 <= settings.truncate, "{}", first.len());
        assert!(
            first.starts_with("#Software: Microsoft HTTP API 1.0\r\n#Version: 1.0\r\n#Date: 2005-06-23 09:00:00\r\n")
        );
        let (path, second) = current(&m, dir);
        assert_eq!(path, format!(r"{dir}\httperr2.log"));
        assert!(second.starts_with("#Software: "), "the next file has its own directives");
        assert_eq!(first.matches(&line).count() + second.matches(&line).count(), 1100, "no line lost");
        // A later append goes on in the newest file.
        append(&mut m, &settings, &[(5000, "y".into())]);
        assert!(current(&m, dir).1.ends_with("\r\ny\r\n"));
        // The disk keeps the newest KEPT_FILES files.
        let more: Vec<(u64, String)> = (0..3300).map(|i| (6000 + i, line.clone())).collect();
        append(&mut m, &settings, &more);
        let kept: Vec<String> = m.fs().list(dir).iter().map(|p| p.rsplit('\\').next().unwrap().to_string()).collect();
        assert_eq!(kept, ["httperr2.log", "httperr3.log", "httperr4.log", "httperr5.log"]);
        let off = Settings { enabled: false, ..settings };
        assert!(append(&mut m, &off, &[(5001, "z".into())]).is_empty(), "EnableErrorLogging 0 writes nothing");
    }

    #[test]
    fn error_logging_dir_moves_the_files() {
        let mut m = Machine::new(crate::machine::MachineConfig::new(crate::edition::Edition::Win2003));
        let set = |m: &mut Machine, v: &str| m.reg_set(wire::HTTP_PARAMETERS, "ErrorLoggingDir", v, &[]);
        set(&mut m, r"%SystemRoot%\Logs\");
        assert_eq!(folder(&m), r"C:\WINDOWS\Logs\HTTPERR", "%SystemRoot% expanded, HTTPERR appended");
        set(&mut m, r"D:\weblogs");
        assert_eq!(folder(&m), r"D:\weblogs\HTTPERR");
        let settings = Settings::of(&m);
        append(&mut m, &settings, &[(0, "a".into())]);
        assert!(m.fs().is_file(r"D:\weblogs\HTTPERR\httperr1.log"));
        for bad in [r"\\server\share\logs", r"logs\here"] {
            set(&mut m, bad);
            assert_eq!(folder(&m), r"C:\WINDOWS\system32\LogFiles\HTTPERR", "{bad}: no network or relative path");
        }
    }
}
