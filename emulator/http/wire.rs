//! What the wire adds to a reply: HTTP.sys's own checks of the bytes a client sent (HTTP-03,
//! HTTP-10, HTTP-14, HTTP-18), its error responses (HTTP-02), and the status line, header order
//! and lengths of every response (HTTP-17, HTTP-20, HTTP-21, HTTP-22, HTTP-30).

use crate::dispatch::{HeaderText, Reply};
use crate::machine::Machine;
use crate::rules::RuleId;

/// Where HTTP.sys reads its limits (HTTP-09).
pub const HTTP_PARAMETERS: &str = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters";

/// The HTTP.sys limits and keep-alive setting in force, read from the machine when it is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `MaxFieldLength`: the longest header line, the request line's URL counting as one (HTTP-09).
    pub max_field: usize,
    /// `MaxRequestBytes`: request line plus headers (HTTP-09, HTTP-10).
    pub max_request: usize,
    /// Effective `AllowKeepAlive` at `/LM/W3SVC` (HTTP-17).
    pub keep_alive: bool,
    /// The box runs IIS 6 (HTTP.sys in front); IIS 5.x's inetinfo parses requests itself.
    pub http_sys: bool,
    /// IIS 5.x phrases and header order (HTTP-21, HTTP-22).
    pub iis5: bool,
    /// `ConnectionTimeout` at `/LM/W3SVC` in seconds: idle keep-alive connections and stalled
    /// bodies end after it (HTTP-11).
    pub connection_timeout: u32,
    /// `HeaderWaitTimeout` at `/LM/W3SVC` in seconds, 0 read as HTTP.sys's own 2 minutes (HTTP-11).
    pub header_wait: u32,
    /// The `Server` header IIS sends (HTTP-23).
    pub server: &'static str,
    /// `MaxConnections` in HTTP\Parameters: past it no connection is accepted (HTTP-09). Unset
    /// (computed from memory on a real box) it is unlimited.
    pub max_connections: usize,
}

impl Default for Limits {
    /// HTTP.sys's defaults on a fresh IIS 6 (HTTP-09, HTTP-11, HTTP-17).
    fn default() -> Limits {
        Limits {
            max_field: 16384,
            max_request: 16384,
            keep_alive: true,
            http_sys: true,
            iis5: false,
            connection_timeout: 120,
            header_wait: 120,
            server: "Microsoft-IIS/6.0",
            max_connections: usize::MAX,
        }
    }
}

impl Limits {
    /// The limits of machine `m`: registry values when set and in range, else the defaults.
    pub fn of(m: &Machine) -> Limits {
        let dword = |name: &str, default: usize, range: std::ops::RangeInclusive<usize>| {
            m.registry()
                .get(HTTP_PARAMETERS, name)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|v| range.contains(v))
                .unwrap_or(default)
        };
        let max_field = dword("MaxFieldLength", 16384, 64..=65534);
        // A MaxRequestBytes below MaxFieldLength is raised to it (HTTP-09).
        let max_request = dword("MaxRequestBytes", 16384, 256..=16_777_216).max(max_field);
        let keep_alive = m
            .metabase()
            .effective("/LM/W3SVC", "AllowKeepAlive")
            .and_then(|(v, _)| v.as_dword())
            .is_none_or(|d| d != 0);
        let w3svc_dword = |name: &str, default: u32| {
            m.metabase().effective("/LM/W3SVC", name).and_then(|(v, _)| v.as_dword()).unwrap_or(default)
        };
        let connection_timeout = w3svc_dword("ConnectionTimeout", 120);
        let header_wait = match w3svc_dword("HeaderWaitTimeout", 0) {
            0 => 120,
            s => s,
        };
        let iis6 = m.edition().is_iis6();
        let max_connections = if iis6 { dword("MaxConnections", usize::MAX, 1024..=2_031_616) } else { usize::MAX };
        let server = match m.edition().iis_version() {
            "5.0" => "Microsoft-IIS/5.0",
            "5.1" => "Microsoft-IIS/5.1",
            _ => "Microsoft-IIS/6.0",
        };
        Limits {
            max_field,
            max_request,
            keep_alive,
            http_sys: iis6,
            iis5: !iis6,
            connection_timeout,
            header_wait,
            server,
            max_connections,
        }
    }
}

/// A request HTTP.sys answers itself, with the decision that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The response (HTTP-02 shape).
    pub reply: Reply,
    /// What was decided, for the transcript.
    pub text: String,
    /// The rules that decided it.
    pub rules: &'static [RuleId],
    /// The httperr log's `s-reason` (HTTP-07).
    pub reason: &'static str,
}

/// The bytes of a request's head as HTTP.sys measures them.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadSize {
    /// Request line plus every header line, CRLFs included.
    pub total: usize,
    /// The longest field: the URL, or a header line.
    pub longest_field: usize,
}

/// HTTP.sys's own error response: `<h1>text</h1>`, no Server header, connection closed (HTTP-02).
pub fn http_sys_error(status: u16, text: &str) -> Reply {
    Reply {
        status,
        substatus: 0,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: format!("<h1>{text}</h1>"),
    }
}

/// The httperr `s-reason` of HTTP.sys's own answer `status` with `<h1>` text `h1` (HTTP-03, HTTP-07).
pub fn s_reason(status: u16, h1: &str) -> &'static str {
    match (status, h1) {
        (400, "Bad Request (Invalid Hostname)") => "Hostname",
        (400, "Bad Request (Header Field Too Long)") => "FieldLength",
        (400, "Bad Request (Request Header Too Long)") => "RequestLength",
        (400, "Bad Request (Invalid Header Name)") => "Header",
        (400, "Bad Request (Invalid Verb)") => "Verb",
        (400, "Bad Request (Invalid URL)") => "URL",
        (404, _) => "URL",
        (411, _) => "LengthRequired",
        (501, _) => "N/I",
        (505, _) => "Version_N/S",
        (503, _) => "Disabled",
        _ => "BadRequest",
    }
}

/// What HTTP.sys checks before any site sees the request (HTTP-03), in the order it parses:
/// the head's size, the verb, the body's framing. `None` lets the request through.
pub fn check(
    limits: &Limits,
    size: HeadSize,
    method: &str,
    http11: bool,
    content_length: Option<&str>,
    transfer_encoding: Option<&str>,
) -> Option<Rejection> {
    if !limits.http_sys {
        return None;
    }
    let reject = |status: u16, body: &str, text: String, rules: &'static [RuleId]| {
        Some(Rejection { reply: http_sys_error(status, body), text, rules, reason: s_reason(status, body) })
    };
    // One over-long line is FieldLength even when the whole head is over its limit too (HTTP-10).
    if size.longest_field > limits.max_field {
        return reject(
            400,
            "Bad Request (Header Field Too Long)",
            format!(
                "HTTP.sys: a field of {} bytes is over MaxFieldLength ({}): 400 FieldLength",
                size.longest_field, limits.max_field
            ),
            &["HTTP-03", "HTTP-09", "HTTP-10"],
        );
    }
    if size.total > limits.max_request {
        return reject(
            400,
            "Bad Request (Request Header Too Long)",
            format!(
                "HTTP.sys: request line and headers of {} bytes are over MaxRequestBytes ({}): 400 RequestLength",
                size.total, limits.max_request
            ),
            &["HTTP-03", "HTTP-09", "HTTP-10"],
        );
    }
    if !method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_') {
        return reject(
            400,
            "Bad Request (Invalid Verb)",
            format!("HTTP.sys: verb `{method}` is not an upper-case token: 400 Verb"),
            &["HTTP-03", "HTTP-14"],
        );
    }
    if let Some(cl) = content_length {
        if cl.trim().parse::<u64>().is_err() {
            let text = format!("HTTP.sys: Content-Length `{cl}` is not a number: 400 Number");
            return reject(400, "Bad Request", text, &["HTTP-03", "HTTP-18"])
                .map(|r| Rejection { reason: "Number", ..r });
        }
    }
    if let Some(te) = transfer_encoding {
        if !te.trim().eq_ignore_ascii_case("chunked") {
            return reject(
                501,
                "Not Implemented",
                format!("HTTP.sys: Transfer-Encoding `{te}` is not chunked: 501 N/I"),
                &["HTTP-03", "HTTP-18"],
            );
        }
    } else if http11 && content_length.is_none() && matches!(method, "POST" | "PUT") {
        return reject(
            411,
            "Length Required",
            format!("HTTP.sys: {method} on HTTP/1.1 with neither Content-Length nor chunked: 411 LengthRequired"),
            &["HTTP-03", "HTTP-18"],
        );
    }
    None
}

/// Who produced a reply, which decides its header order (HTTP-02, HTTP-22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Producer {
    /// HTTP.sys itself: no Server header.
    HttpSys,
    /// IIS 6 (w3wp.exe or W3SVC).
    Iis6,
    /// IIS 5.x (inetinfo.exe).
    Iis5,
}

impl Producer {
    /// The producer of `reply` on a box whose limits are `limits`.
    pub fn of(reply: &Reply, limits: &Limits) -> Producer {
        // `Reply::header`'s first `Server`, its name's length looked at first.
        let server = reply.headers.iter().find(|(n, _)| n.len() == 6 && n.eq_ignore_ascii_case("Server"));
        let from_iis = server.is_some_and(|(_, s)| s.starts_with("Microsoft-IIS"));
        match (from_iis, limits.iis5) {
            (false, false) => Producer::HttpSys,
            (_, true) => Producer::Iis5,
            (true, false) => Producer::Iis6,
        }
    }
}

/// The reason phrase IIS puts on a status line (HTTP-21): RFC 2616's, and IIS 5.x's own two.
pub fn reason(status: u16, iis5: bool) -> &'static str {
    match (status, iis5) {
        (302, true) => "Object Moved",
        (404, true) => "Object Not Found",
        (100, _) => "Continue",
        (200, _) => "OK",
        (201, _) => "Created",
        (204, _) => "No Content",
        (206, _) => "Partial Content",
        (301, _) => "Moved Permanently",
        (302, _) => "Found",
        (304, _) => "Not Modified",
        (307, _) => "Temporary Redirect",
        (400, _) => "Bad Request",
        (401, _) => "Unauthorized",
        (403, _) => "Forbidden",
        (404, _) => "Not Found",
        (405, _) => "Method Not Allowed",
        (406, _) => "Not Acceptable",
        (408, _) => "Request Time-out",
        (411, _) => "Length Required",
        (412, _) => "Precondition Failed",
        (413, _) => "Request Entity Too Large",
        (414, _) => "Request-URI Too Large",
        (415, _) => "Unsupported Media Type",
        (500, _) => "Internal Server Error",
        (501, _) => "Not Implemented",
        (502, _) => "Bad Gateway",
        (503, _) => "Service Unavailable",
        (504, _) => "Gateway Time-out",
        (505, _) => "HTTP Version not supported",
        _ => "",
    }
}

/// The headers of a response in the order its producer sends them (HTTP-02, HTTP-22), with
/// `Content-Length` always stated (HTTP-30) and `Connection: close` when the connection ends, or
/// `Connection: Keep-Alive` when an HTTP/1.0 client asked to keep it (HTTP-17).
pub fn ordered_headers<'a>(
    reply: &'a Reply,
    producer: Producer,
    date: &'a str,
    length: &'a str,
    close: bool,
    keep_alive: bool,
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(reply.headers.len() + 4);
    each_header(reply, producer, date, length, close, keep_alive, |k, v, _| out.push((k.as_str(), v.as_str())));
    out
}

/// A header's name or value as [`each_header`] hands it over: a literal, text shared with the
/// view (both never change while held, so their address names them), or text built for this one.
#[derive(Debug, Clone, Copy)]
pub enum Text<'a> {
    /// A literal.
    Literal(&'static str),
    /// Shared with the view.
    Shared(&'a std::sync::Arc<str>),
    /// Built for this response.
    Built(&'a str),
}

impl<'a> Text<'a> {
    /// The text.
    #[inline]
    pub fn as_str(self) -> &'a str {
        match self {
            Text::Literal(s) => s,
            Text::Shared(s) => s,
            Text::Built(s) => s,
        }
    }

    /// The text of a reply's header name or value.
    #[inline]
    pub fn of(t: &'a HeaderText) -> Text<'a> {
        match t {
            HeaderText::Static(s) => Text::Literal(s),
            HeaderText::Shared(s) => Text::Shared(s),
            HeaderText::Owned(s) => Text::Built(s),
        }
    }
}

/// Calls `f` with each header of [`ordered_headers`] in turn: name, value, and the index of the
/// reply's header it is (none for one the front end adds).
#[inline]
pub fn each_header<'a>(
    reply: &'a Reply,
    producer: Producer,
    date: &'a str,
    length: &'a str,
    close: bool,
    keep_alive: bool,
    mut f: impl FnMut(Text<'a>, Text<'a>, Option<usize>),
) {
    let connection = match (close, keep_alive) {
        (true, _) => Some("close"),
        (false, true) => Some("Keep-Alive"),
        (false, false) => None,
    };
    /// The reply's own headers, or one the front end adds.
    enum Part<'a> {
        Own,
        Ours(&'static str, Text<'a>),
    }
    use Part::{Ours, Own};
    let connection = connection.map(|c| Ours("Connection", Text::Literal(c)));
    let date = Ours("Date", Text::Built(date));
    let length = Ours("Content-Length", Text::Built(length));
    let parts = match producer {
        Producer::HttpSys => [Some(Own), Some(date), Some(Ours("Connection", Text::Literal("close"))), Some(length)],
        // A 304 has no body and states no length (HTTP-25, modeled).
        Producer::Iis6 if reply.status == 304 => [Some(Own), Some(date), connection, None],
        Producer::Iis6 => [Some(length), Some(Own), Some(date), connection],
        Producer::Iis5 => [Some(Own), connection, Some(date), Some(length)],
    };
    for part in parts.into_iter().flatten() {
        match part {
            Ours(k, v) => f(Text::Literal(k), v, None),
            Own => {
                for (i, (k, v)) in reply.headers.iter().enumerate().filter(|(_, (k, _))| !framing_name(k)) {
                    f(Text::of(k), Text::of(v), Some(i));
                }
            }
        }
    }
}

/// A reply's header the front end writes itself in its place (Date, Connection, Content-Length):
/// the reply's own is not sent.
#[inline]
pub fn framing_name(k: &str) -> bool {
    match k.len() {
        4 => k.eq_ignore_ascii_case("date"),
        10 => k.eq_ignore_ascii_case("connection"),
        14 => k.eq_ignore_ascii_case("content-length"),
        _ => false,
    }
}

/// How a response went out, for the transcript (rendered only when someone reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: &'static str,
    /// Content-Length sent.
    pub length: usize,
    /// Who produced it.
    pub producer: Producer,
    /// The connection closes after it.
    pub close: bool,
    /// It says `Connection: Keep-Alive`: an HTTP/1.0 client asked to keep the connection (HTTP-17).
    pub keep_alive: bool,
    /// A HEAD request: headers only.
    pub head: bool,
}

impl Framing {
    /// The rules that decided the framing.
    pub fn rules(&self) -> Vec<RuleId> {
        let mut rules = vec!["HTTP-21", "HTTP-22", "HTTP-30", "HTTP-17"];
        if self.producer == Producer::HttpSys {
            rules.insert(0, "HTTP-02");
        }
        if self.head {
            rules.push("HTTP-20");
        }
        rules
    }

    /// One transcript line with the rules that decided the framing.
    pub fn render(&self) -> String {
        let order = match self.producer {
            Producer::HttpSys => "HTTP.sys's own headers",
            Producer::Iis6 => "IIS 6 header order",
            Producer::Iis5 => "IIS 5 header order",
        };
        let rules = self.rules();
        let body = if self.head { ", no body (HEAD)" } else { "" };
        let conn = match (self.close, self.keep_alive) {
            (true, _) => "connection closed",
            (false, true) => "Connection: Keep-Alive for an HTTP/1.0 client",
            (false, false) => "kept alive",
        };
        format!(
            "wire: HTTP/1.1 {} {}, {order}, Content-Length {}{body}, {conn} {}",
            self.status,
            self.reason,
            self.length,
            crate::rules::cite(&rules)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn http_sys_checks_in_parse_order() {
        let l = limits();
        let big = HeadSize { total: 20000, longest_field: 100 };
        assert_eq!(
            check(&l, big, "GET", true, None, None).unwrap().reply.body,
            "<h1>Bad Request (Request Header Too Long)</h1>"
        );
        let long = HeadSize { total: 20000, longest_field: 17000 };
        let r = check(&l, long, "GET", true, None, None).unwrap();
        assert_eq!(r.reply.body.len(), 44, "the documented 44-byte body");
        let ok = HeadSize { total: 100, longest_field: 20 };
        assert_eq!(check(&l, ok, "get", true, None, None).unwrap().reply.status, 400);
        assert_eq!(check(&l, ok, "POST", true, None, None).unwrap().reply.status, 411);
        assert!(
            check(&l, ok, "POST", false, None, None).is_none(),
            "HTTP/1.0 POST without a length is read to the end"
        );
        assert_eq!(check(&l, ok, "POST", true, None, Some("gzip")).unwrap().reply.status, 501);
        assert_eq!(check(&l, ok, "POST", true, Some("x"), None).unwrap().reply.status, 400);
        assert!(check(&l, ok, "PROPFIND", true, None, None).is_none());
        let iis5 = Limits { http_sys: false, iis5: true, ..l };
        assert!(check(&iis5, big, "get", true, None, None).is_none(), "no HTTP.sys on IIS 5.x");
    }

    #[test]
    fn header_orders() {
        let r = http_sys_error(503, "Service Unavailable");
        assert_eq!(r.body.len(), 28);
        let names: Vec<&str> =
            ordered_headers(&r, Producer::HttpSys, "d", "28", true, false).iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["Content-Type", "Date", "Connection", "Content-Length"]);
        let iis = Reply {
            status: 404,
            substatus: 0,
            headers: vec![
                ("Content-Type".into(), "text/html".into()),
                ("Server".into(), "Microsoft-IIS/6.0".into()),
                ("X-Powered-By".into(), "ASP.NET".into()),
            ],
            body: String::new(),
        };
        let names: Vec<&str> =
            ordered_headers(&iis, Producer::Iis6, "d", "0", false, false).iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["Content-Length", "Content-Type", "Server", "X-Powered-By", "Date"]);
        assert_eq!(reason(404, true), "Object Not Found");
        assert_eq!(reason(404, false), "Not Found");
    }
}
