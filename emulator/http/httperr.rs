//! HTTP.sys's error log (HTTP-05..08): a line for every answer HTTP.sys gives itself and every
//! connection its timers end, in `httperr<n>.log` under `System32\LogFiles\HTTPERR`, rolling to
//! the next number at `ErrorLogFileTruncateSize`. `GET /httperr` on the admin listener reads the
//! current file.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::SocketAddr;

use super::conn::Refusal;
use super::wire::{self, Framing, Limits, Producer};
use super::{Entry, Shared, SERVER_IP};
use crate::dispatch::{Reply, Request};
use crate::machine::journal::{Change, Effect};
use crate::machine::Machine;

use crate::machine::EPOCH_UNIX;

/// The folder HTTP.sys writes to (HTTP-05).
pub const FOLDER: &str = r"C:\WINDOWS\system32\LogFiles\HTTPERR";

/// The `#Fields` directive (HTTP-06).
pub const FIELDS: &str =
    "date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-siteid s-reason s-queuename";

/// How many lines of the current file are kept to read back.
pub const TAIL: usize = 1000;

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
    /// The line as written (HTTP-06), queue name `-` (no pool involved).
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
            "{} {} {} -",
            dash(self.status.map(|s| s.to_string())),
            dash(self.site.map(|s| s.to_string())),
            self.reason
        );
        out
    }
}

/// The log as HTTP.sys keeps it: the settings read when the driver started, the current file.
#[derive(Debug, Clone)]
pub struct Log {
    enabled: bool,
    truncate: u64,
    /// The current file's number, and when it was opened (virtual seconds).
    file: u32,
    opened: Option<u64>,
    bytes: u64,
    lines: VecDeque<String>,
}

impl Log {
    /// The log of machine `m`: `EnableErrorLogging` and `ErrorLogFileTruncateSize` (HTTP-05).
    pub fn of(m: &Machine) -> Log {
        let dword = |name: &str| m.registry().get(wire::HTTP_PARAMETERS, name).and_then(parse_dword);
        Log {
            enabled: dword("EnableErrorLogging").is_none_or(|v| v != 0),
            // Never less than 1 MB (HTTP-05).
            truncate: dword("ErrorLogFileTruncateSize").unwrap_or(0x10_0000).max(0x10_0000),
            file: 1,
            opened: None,
            bytes: 0,
            lines: VecDeque::new(),
        }
    }

    /// Whether HTTP.sys writes the log.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The directives a new file starts with (policy `httpsys.errlog_format = w3c_directives`).
    fn directives(opened: u64) -> String {
        let (date, time) = date_time(opened);
        format!("#Software: Microsoft HTTP API 1.0\r\n#Version: 1.0\r\n#Date: {date} {time}\r\n#Fields: {FIELDS}\r\n")
    }

    /// Appends a line at virtual second `now`, rolling to the next file past the size limit;
    /// returns the file it went to.
    pub fn write(&mut self, line: String, now: u64) -> String {
        let size = line.len() as u64 + 2;
        if self.opened.is_some() && self.bytes + size > self.truncate {
            self.file += 1;
            self.opened = None;
            self.lines.clear();
        }
        if self.opened.is_none() {
            self.opened = Some(now);
            self.bytes = Self::directives(now).len() as u64;
        }
        self.bytes += size;
        if self.lines.len() == TAIL {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
        self.name()
    }

    /// The current file's name.
    pub fn name(&self) -> String {
        format!("httperr{}.log", self.file)
    }

    /// The current file as written (its last [`TAIL`] lines), empty before the first error.
    pub fn contents(&self) -> String {
        let Some(opened) = self.opened else { return String::new() };
        let mut out = Self::directives(opened);
        for l in &self.lines {
            out.push_str(l);
            out.push_str("\r\n");
        }
        out
    }
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

    /// Writes an httperr line (when logging is on); returns the transcript note saying so.
    fn log_error(&self, line: Line<'_>) -> Option<Effect> {
        let mut log = self.errlog();
        if !log.enabled() {
            return None;
        }
        let text = line.render();
        let file = log.write(text.clone(), line.time);
        Some(Effect {
            change: Change::Decision { text: format!("HTTP.sys logs to {file}: {text}") },
            rules: RULES.to_vec(),
        })
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
        self.push(Entry::Request { summary, effects, framing: Some(framing) });
    }

    /// Records a connection one of HTTP.sys's timers ended (HTTP-11): its httperr line, all `-`
    /// but the addresses, as no request was pending.
    pub(crate) fn timed_out(&self, reason: &str, client: SocketAddr, port: u16, limits: &Limits) {
        let why = match reason {
            "Timer_ConnectionIdle" => {
                format!("the connection was idle for ConnectionTimeout ({} s)", limits.connection_timeout)
            }
            "Timer_HeaderWait" => format!("the request head did not arrive within {} s", limits.header_wait),
            _ => format!("the request body stalled for ConnectionTimeout ({} s)", limits.connection_timeout),
        };
        let mut effects = vec![Effect {
            change: Change::Decision {
                text: format!("HTTP.sys: {why}: connection closed without a response ({reason})"),
            },
            rules: vec!["HTTP-11"],
        }];
        if limits.http_sys {
            let line = Line {
                time: self.published().machine.clock(),
                client,
                port,
                version: "",
                method: "",
                uri: "",
                status: None,
                site: None,
                reason,
            };
            effects.extend(self.log_error(line));
        }
        let summary = format!("connection from {client} ended by {reason}");
        self.push(Entry::Request { summary, effects, framing: None });
    }

    /// Logs an answer HTTP.sys gave after the request was parsed (Invalid Hostname, Invalid URL,
    /// a stopped pool's 503: HTTP-03) and returns the transcript note.
    pub(crate) fn logged_reply(
        &self,
        client: SocketAddr,
        req: &Request,
        reply: &Reply,
        site: Option<u32>,
    ) -> Option<Effect> {
        let h1 = reply.body.strip_prefix("<h1>").and_then(|b| b.strip_suffix("</h1>")).unwrap_or_default();
        let version = if req.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        let line = Line {
            time: self.published().machine.clock(),
            client,
            port: req.port,
            version,
            method: &req.method,
            uri: &req.url,
            status: Some(reply.status),
            site,
            reason: wire::s_reason(reply.status, h1),
        };
        self.log_error(line)
    }

    /// The httperr file HTTP.sys writes now: its name and contents.
    pub fn httperr(&self) -> (String, String) {
        let log = self.errlog();
        (format!("{FOLDER}\\{}", log.name()), log.contents())
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
        let m = Machine::new(crate::machine::MachineConfig::new(crate::edition::Edition::Win2003));
        let mut log = Log::of(&m);
        assert_eq!(log.contents(), "");
        let line = "x".repeat(1000);
        let mut names = std::collections::BTreeSet::new();
        for i in 0..1100 {
            names.insert(log.write(line.clone(), i));
        }
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["httperr1.log", "httperr2.log"], "1 MB per file");
        assert!(log.contents().starts_with("#Software: Microsoft HTTP API 1.0\r\n#Version: 1.0\r\n#Date: "));
    }
}
