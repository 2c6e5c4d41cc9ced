//! HTTP.sys between the socket and hyper (HTTP-01): every request head is read and checked on the
//! raw bytes before hyper sees any of it, so what HTTP.sys refuses gets HTTP.sys's answer (HTTP-02,
//! HTTP-03, HTTP-10, HTTP-12, HTTP-14, HTTP-18) and never hyper's own; every response head hyper
//! writes goes out with IIS's status line and header spelling (HTTP-12, HTTP-21); idle and stalled
//! connections end as HTTP.sys's timers say (HTTP-11).
//!
//! The read side is a small state machine over the inbound bytes: a head is held back until it is
//! complete and has passed [`inspect`] (one `httparse` scan), then handed to hyper with the body
//! that follows it (Content-Length counted down, chunked coding followed) up to the next head. A
//! usual head (the one-pass check's) goes to hyper as its request line and the few lines hyper acts
//! on, and its headers to the service through the [`HeadSlot`], as IIS reads a request's headers
//! from HTTP.sys: hyper builds no map of headers dispatch reads from its own copy anyway. On a
//! refusal it stops feeding hyper, waits until hyper has written the answers of the requests before
//! it, writes HTTP.sys's answer itself, and closes. The write side follows the response stream
//! (heads, then Content-Length bytes) to fix each head in place: the fixes never change a length.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::wire::{self, HeadSize, Limits, Producer, Rejection, Text};
use super::Shared;
use crate::dispatch::{HeaderText, Reply};
use crate::rules::RuleId;

/// How many headers hyper parses in one request (its default); more are folded away before it.
const HYPER_MAX_HEADERS: usize = 100;

/// Room for the headers of a usual head on the stack; more take a second parse into the heap.
const FEW_HEADERS: usize = 24;

/// How long a refused connection is drained after the answer, so that unread request bytes do
/// not turn the close into a reset that loses the answer.
const LINGER: Duration = Duration::from_secs(2);

/// The largest head IIS 5.x's inetinfo reads (there is no HTTP.sys to limit it); modeled.
const IIS5_MAX_HEAD: usize = 64 * 1024;

/// How a request body is delimited (HTTP-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLen {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A request head HTTP.sys lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// Bytes of the head as sent, its blank line included.
    pub len: usize,
    /// Bytes of its request line, without the line end.
    pub line: usize,
    /// How its body is delimited.
    pub body: BodyLen,
    /// A HEAD request: its answer has no body.
    pub head: bool,
    /// The head as hyper must read it, when it differs from what was sent (HTTP/1.x above 1.1 as
    /// 1.1, URL bytes hyper refuses escaped, headers past hyper's count folded away).
    pub rewritten: Option<Vec<u8>>,
    /// An HTTP/0.9 request (IIS 5.x serves them, HTTP-12): its answer is the body alone and it
    /// is the connection's last request.
    pub http09: bool,
    /// Its headers reach the service from the connection, as IIS reads them from HTTP.sys, and
    /// hyper reads only the request line and the lines it acts on ([`HYPER_LINES`]): set for
    /// the heads the one-pass check takes.
    pub apart: bool,
    /// Some header is one of [`HYPER_LINES`].
    pub hyper_lines: bool,
}

/// The header names whose lines hyper acts on in a bodiless request's head: keep-alive, an
/// expectation, an upgrade, trailers. Its other headers it only parses into a map.
pub const HYPER_LINES: [&str; 4] = ["connection", "expect", "upgrade", "te"];

/// What hyper reads of `head`, a head whose headers went apart ([`Passed::apart`]): its request
/// line, the lines of [`HYPER_LINES`], and the blank line, in `out`.
fn hyper_head(head: &[u8], p: &Passed, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&head[..p.line + 2]);
    if p.hyper_lines {
        for line in head[p.line + 2..p.len - 2].split_inclusive(|&b| b == b'\n') {
            let name = line.split(|&b| b == b':').next().unwrap_or_default();
            if hyper_line(name) {
                out.extend_from_slice(line);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether header name `name` is one of [`HYPER_LINES`].
fn hyper_line(name: &[u8]) -> bool {
    matches!(name.len(), 2 | 6 | 7 | 10) && HYPER_LINES.iter().any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
}

/// A request HTTP.sys answers itself, with what its httperr line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The answer and the decision.
    pub rejection: Rejection,
    /// `cs-method`, `-` when the request line was not parsed that far.
    pub method: String,
    /// `cs-uri`, `-` when not parsed.
    pub url: String,
    /// `cs-version`: `-` when not parsed, `HTTP/?.?` for a number of 10 or more (HTTP-06).
    pub version: String,
    /// A HEAD request: the answer goes without its body (HTTP-03).
    pub head: bool,
    /// IIS 5.x's inetinfo answers, as an ordinary IIS response (HTTP-01).
    pub iis5: bool,
}

/// What [`inspect`] made of the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inspected {
    /// The head is not complete yet and no limit is exceeded.
    Partial,
    /// A complete head that passes.
    Pass(Passed),
    /// A head HTTP.sys refuses.
    Refuse(Box<Refusal>),
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The text of a request line's part, the usual ones without a UTF-8 check.
fn ascii(b: &[u8]) -> Option<&str> {
    Some(match b {
        b"HTTP/1.1" => "HTTP/1.1",
        b"HTTP/1.0" => "HTTP/1.0",
        b"GET" => "GET",
        b"HEAD" => "HEAD",
        b"POST" => "POST",
        _ => return std::str::from_utf8(b).ok(),
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A refusal of `status` with `<h1>` text `h1`, decided by `rules`.
fn refuse(
    l: &Limits,
    status: u16,
    h1: &str,
    why: String,
    rules: &'static [RuleId],
    line: (&[u8], &[u8], &str),
) -> Inspected {
    let (method, url, version) = line;
    let head = method == b"HEAD";
    let reply = if l.http_sys { wire::http_sys_error(status, h1) } else { iis5_error(l, status) };
    let reason = wire::s_reason(status, h1);
    let dash = |b: &[u8]| if b.is_empty() { "-".to_string() } else { text(b) };
    Inspected::Refuse(Box::new(Refusal {
        rejection: Rejection { reply, text: why, rules, reason },
        method: dash(method),
        url: dash(url),
        version: if version.is_empty() { "-".into() } else { version.into() },
        head,
        iis5: !l.http_sys,
    }))
}

/// IIS 5.x's own answer to a request inetinfo cannot parse: an ordinary IIS response (HTTP-01).
fn iis5_error(l: &Limits, status: u16) -> Reply {
    let reason = wire::reason(status, true);
    Reply {
        status,
        substatus: 0,
        headers: vec![("Server".into(), l.server.into()), ("Content-Type".into(), "text/html".into())],
        body: format!("<html><head><title>Error</title></head><body>{status} {reason}</body></html>"),
    }
}

/// The longest line of a head (CR and LF not counted).
fn longest_line(buf: &[u8]) -> usize {
    buf.split(|&b| b == b'\n').map(|l| trim_cr(l).len()).max().unwrap_or(0)
}

/// Size limits on a head that has not ended (or did not parse): FieldLength wins (HTTP-10).
fn oversize(buf: &[u8], l: &Limits, line: (&[u8], &[u8], &str)) -> Option<Inspected> {
    if !l.http_sys {
        return (buf.len() > IIS5_MAX_HEAD).then(|| {
            refuse(l, 400, "", format!("inetinfo: a head of over {IIS5_MAX_HEAD} bytes: 400"), &["HTTP-01"], line)
        });
    }
    let longest = longest_line(buf);
    if longest > l.max_field {
        let why =
            format!("HTTP.sys: a field of {longest} bytes is over MaxFieldLength ({}): 400 FieldLength", l.max_field);
        return Some(refuse(
            l,
            400,
            "Bad Request (Header Field Too Long)",
            why,
            &["HTTP-03", "HTTP-09", "HTTP-10"],
            line,
        ));
    }
    if buf.len() > l.max_request {
        let why = format!(
            "HTTP.sys: request line and headers of over {} bytes are over MaxRequestBytes ({}): 400 RequestLength",
            buf.len(),
            l.max_request
        );
        return Some(refuse(
            l,
            400,
            "Bad Request (Request Header Too Long)",
            why,
            &["HTTP-03", "HTTP-09", "HTTP-10"],
            line,
        ));
    }
    None
}

/// A request target byte hyper's URI parser refuses that HTTP.sys passes on to be decoded.
fn needs_escape(b: u8) -> bool {
    matches!(b, b'<' | b'>' | b'`' | 0x80..=0xFF)
}

/// [`URL_BYTES`]: a byte HTTP.sys refuses in a URL (HTTP-03).
const RESTRICTED: u8 = 1;

/// [`URL_BYTES`]: a byte [`needs_escape`].
const ESCAPED: u8 = 2;

/// What each byte is in a request target, so that one look per byte says both.
const URL_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c <= 0x20 || c == 0x7F {
            t[b] |= RESTRICTED;
        }
        if matches!(c, b'<' | b'>' | b'`' | 0x80..=0xFF) {
            t[b] |= ESCAPED;
        }
        b += 1;
    }
    t
};

/// Checks the head at the start of `buf` as HTTP.sys parses it (HTTP-03's table, in the order
/// the bytes arrive: request line, header section, limits, framing).
pub fn inspect(buf: &[u8], l: &Limits) -> Inspected {
    match plain(buf, l) {
        Some(p) => Inspected::Pass(p),
        None => checked(buf, l),
    }
}

/// `1` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of every byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of the bytes of `w` below `n` (at most 0x80). A borrow may mark bytes after a
/// marked one: only the lowest mark is exact, and it is the one the scans look at.
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH
}

/// The high bit of the bytes of `w` equal to `b` (the lowest mark exact, as for [`below`]).
fn equal(w: u64, b: u8) -> u64 {
    below(w ^ (ONES * u64::from(b)), 1)
}

/// Where the first byte of `b` from `from` that is not printable ASCII (a control, DEL or
/// non-ASCII) is; eight bytes a look.
fn printable_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(word) = b.get(i..i + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
        let w = u64::from_le_bytes(word);
        let marks = below(w, 0x20) | equal(w, 0x7F) | (w & HIGH);
        if marks != 0 {
            return Some(i + marks.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&c| !(0x20..0x7F).contains(&c)).map(|p| i + p)
}

/// Whether no byte of a URL is one [`URL_BYTES`] marks (restricted or to be escaped); eight
/// bytes a look, the table's classes spelled as word marks (a test holds the two equal).
fn plain_url(t: &[u8]) -> bool {
    let mut words = t.chunks_exact(8);
    for c in &mut words {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or([0; 8]));
        let marks = below(w, 0x21) | equal(w, 0x7F) | equal(w, b'<') | equal(w, b'>') | equal(w, b'`') | (w & HIGH);
        if marks != 0 {
            return false;
        }
    }
    words.remainder().iter().all(|&b| URL_BYTES[b as usize] == 0)
}

/// A header name byte [`plain`] takes: letters, digits and `-` (a part of HTTP's token set).
fn plain_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// [`checked`]'s answer for the usual head, in one pass and without a parser's set-up: an
/// upper-case verb, a URL of plain bytes from `/`, `HTTP/1.0` or `1.1`, at most [`FEW_HEADERS`]
/// CRLF-ended headers of letters, digits and `-` with printable ASCII values, no body, on IIS 6.
/// `None` when anything is otherwise (or HTTP.sys would refuse it): [`checked`] decides then.
/// What it takes must get [`checked`]'s answer: a test compares the two on generated heads.
fn plain(buf: &[u8], l: &Limits) -> Option<Passed> {
    if !l.http_sys {
        return None;
    }
    let nl = memchr::memchr(b'\n', buf)?;
    let line = buf[..nl].strip_suffix(b"\r")?;
    let sp = memchr::memchr(b' ', line)?;
    let method = &line[..sp];
    if method.is_empty() || !method.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    let rest = &line[sp + 1..];
    let (target, version) = rest.split_at_checked(rest.len().checked_sub(9)?)?;
    let http11 = match version {
        b" HTTP/1.1" => true,
        b" HTTP/1.0" => false,
        _ => return None,
    };
    // No restricted byte (a space among them) and none hyper would need escaped.
    if target.first() != Some(&b'/') || target.len() > l.max_field || !plain_url(target) {
        return None;
    }
    let mut at = nl + 1;
    let mut size = HeadSize { total: line.len() + 2, longest_field: target.len() };
    let mut headers = 0;
    let mut hyper_lines = false;
    loop {
        let rest = buf.get(at..)?;
        if rest.starts_with(b"\r\n") {
            at += 2;
            break;
        }
        headers += 1;
        if headers > FEW_HEADERS {
            return None;
        }
        let colon = rest.iter().position(|&b| !plain_name_byte(b))?;
        let name = &rest[..colon];
        if colon == 0 || rest[colon] != b':' {
            return None;
        }
        // A body's framing is left to the full checks.
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"transfer-encoding") {
            return None;
        }
        hyper_lines |= hyper_line(name);
        let mut value = colon + 1;
        while rest.get(value) == Some(&b' ') {
            value += 1;
        }
        let end = printable_end(rest, value)?;
        if rest.get(end..end + 2) != Some(b"\r\n") {
            return None;
        }
        let field = colon + 2 + (end - value);
        size.total += field + 2;
        size.longest_field = size.longest_field.max(field);
        at += end + 2;
    }
    let method_str = ascii(method)?;
    if wire::check(l, size, method_str, http11, None, None).is_some() {
        return None;
    }
    Some(Passed {
        len: at,
        line: line.len(),
        body: BodyLen::None,
        head: method == b"HEAD",
        rewritten: None,
        http09: false,
        apart: true,
        hyper_lines,
    })
}

/// [`inspect`] for every head: HTTP-03's checks in full.
fn checked(buf: &[u8], l: &Limits) -> Inspected {
    let no_line: (&[u8], &[u8], &str) = (b"", b"", "");
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        return oversize(buf, l, no_line).unwrap_or(Inspected::Partial);
    };
    let line = trim_cr(&buf[..nl]);
    let mut parts = line.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default();
    // An over-long URL is a FieldLength 400, whatever else is wrong (HTTP-03).
    if l.http_sys && target.len() > l.max_field {
        let why = format!(
            "HTTP.sys: a URL of {} bytes is over MaxFieldLength ({}): 400 FieldLength",
            target.len(),
            l.max_field
        );
        let v = std::str::from_utf8(version).unwrap_or("-");
        return refuse(
            l,
            400,
            "Bad Request (Header Field Too Long)",
            why,
            &["HTTP-03", "HTTP-09", "HTTP-10"],
            (method, target, v),
        );
    }
    let verb_ok = !method.is_empty() && method.iter().all(|&b| b.is_ascii_uppercase() || b == b'-' || b == b'_');
    if !verb_ok {
        let shown = text(method);
        if l.http_sys {
            let why = format!("HTTP.sys: verb `{shown}` is not an upper-case token: 400 Verb");
            return refuse(l, 400, "Bad Request (Invalid Verb)", why, &["HTTP-03", "HTTP-14"], (method, b"", ""));
        }
        let why = format!("inetinfo: verb `{shown}` is not an upper-case token: 501 (policy iis5.bad_verb_status)");
        return refuse(l, 501, "", why, &["HTTP-14"], (method, b"", ""));
    }
    // The protocol: HTTP/<major>.<minor> (HTTP-12).
    let number = version.strip_prefix(b"HTTP/").and_then(|v| {
        let dot = v.iter().position(|&b| b == b'.')?;
        let (major, minor) = (&v[..dot], &v[dot + 1..]);
        let digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
        (digits(major) && digits(minor)).then_some((major, minor))
    });
    // Borrowed: the good path builds no string.
    let logged: &str = match number {
        Some((major, minor)) if major.len() > 1 || minor.len() > 1 => "HTTP/?.?",
        Some(_) => ascii(version).unwrap_or("-"),
        None => "-",
    };
    let shown = (method, target, logged);
    if version.is_empty() && !l.http_sys {
        // IIS 5.x serves a version-less request line as HTTP/0.9: hyper reads it as 1.0 (HTTP-12).
        let mut head = Vec::with_capacity(line.len() + 13);
        head.extend_from_slice(line);
        head.extend_from_slice(b" HTTP/1.0\r\n\r\n");
        return Inspected::Pass(Passed {
            len: nl + 1,
            line: line.len(),
            body: BodyLen::None,
            head: false,
            rewritten: Some(head),
            http09: true,
            apart: false,
            hyper_lines: false,
        });
    }
    let Some((major, minor)) = number else {
        let why = if version.is_empty() {
            "HTTP.sys: a request line without a version (HTTP/0.9): 400 BadRequest (policy httpsys.http09)".to_string()
        } else {
            format!("HTTP.sys: `{}` is not an HTTP version: 400 BadRequest", text(version))
        };
        return refuse(l, 400, "Bad Request", why, &["HTTP-03", "HTTP-12"], shown);
    };
    let minor_n = match minor {
        b"0" => 0,
        b"1" => 1,
        _ => std::str::from_utf8(minor).ok().and_then(|m| m.parse::<u32>().ok()).unwrap_or(u32::MAX),
    };
    let major_one = major == b"1";
    let http10 = major_one && minor_n == 0;
    // The version hyper reads: 1.0 and 1.1 as sent; IIS 6 serves 1.x above 1.1 as 1.1, IIS 5.x
    // answers every other version like HTTP/1.0 (HTTP-12).
    let as_read: Option<&[u8]> = if version == b"HTTP/1.0" || version == b"HTTP/1.1" {
        None
    } else if http10 {
        Some(b"HTTP/1.0")
    } else if major_one && l.http_sys {
        Some(b"HTTP/1.1")
    } else if l.http_sys {
        let why = format!("HTTP.sys: {} is not HTTP/1.x: 505 Version_N/S", text(version));
        return refuse(l, 505, "HTTP Version Not Supported", why, &["HTTP-03", "HTTP-12"], shown);
    } else {
        Some(b"HTTP/1.0")
    };
    // hyper's view of the version decides keep-alive (HTTP-17): IIS 5.x's 2.0 is a 1.0 client.
    let http10 = http10 || as_read == Some(b"HTTP/1.0");
    // The URL: restricted bytes are refused; absolute targets must parse (HTTP-03, HTTP-13).
    // One pass over the URL: restricted bytes, and bytes hyper would refuse.
    let class = target.iter().fold(0u8, |c, &b| c | URL_BYTES[b as usize]);
    let (restricted, escape) = (class & RESTRICTED != 0, class & ESCAPED != 0);
    let url_ok = !target.is_empty()
        && !restricted
        && (target[0] == b'/'
            || target == b"*"
            || hyper::Uri::try_from(target).is_ok_and(|u| u.scheme().is_some() && u.authority().is_some()));
    if !url_ok {
        let why = format!("HTTP.sys: the URL `{}` cannot be parsed: 400 URL", text(target).escape_debug());
        return refuse(l, 400, "Bad Request (Invalid URL)", why, &["HTTP-03"], shown);
    }
    // The header section.
    let rest = &buf[nl + 1..];
    let mut few = [httparse::EMPTY_HEADER; FEW_HEADERS];
    let mut many;
    let parsed = match httparse::parse_headers(rest, &mut few) {
        Err(httparse::Error::TooManyHeaders) => {
            many = vec![httparse::EMPTY_HEADER; rest.iter().filter(|&&b| b == b'\n').count() + 1];
            httparse::parse_headers(rest, &mut many)
        }
        other => other,
    };
    let (section, headers) = match parsed {
        Ok(httparse::Status::Complete(done)) => done,
        Ok(httparse::Status::Partial) => return oversize(buf, l, shown).unwrap_or(Inspected::Partial),
        Err(e) => {
            // Past a limit the size answer comes first: HTTP.sys stops reading there (HTTP-10).
            let end = find_blank(buf).unwrap_or(buf.len());
            if let Some(r) = oversize(&buf[..end], l, shown) {
                return r;
            }
            let (h1, reason) = match e {
                httparse::Error::HeaderName => ("Bad Request (Invalid Header Name)", "a header name is not a token"),
                _ => ("Bad Request", "a header line is not CRLF- or LF-terminated text"),
            };
            let why = format!("HTTP.sys: {reason}: 400 {}", wire::s_reason(400, h1));
            return refuse(l, 400, h1, why, &["HTTP-03"], shown);
        }
    };
    let len = nl + 1 + section;
    let mut size = HeadSize { total: line.len() + 2, longest_field: target.len() };
    let (mut content_length, mut lengths, mut transfer_encoding) = (None, 0, None);
    for h in headers.iter() {
        let field = h.name.len() + 2 + h.value.len();
        size.total += field + 2;
        size.longest_field = size.longest_field.max(field);
        if h.name.len() == 14 && h.name.eq_ignore_ascii_case("content-length") {
            lengths += 1;
            content_length = Some(h.value);
        } else if h.name.len() == 17 && h.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = Some(h.value);
        }
    }
    let cl = content_length.map(|v| String::from_utf8_lossy(v));
    let te = transfer_encoding.map(|v| String::from_utf8_lossy(v));
    let http11 = !http10;
    let method_str = ascii(method).unwrap_or_default();
    if l.http_sys {
        if let Some(r) = wire::check(l, size, method_str, http11, cl.as_deref(), te.as_deref()) {
            let head = method == b"HEAD";
            return Inspected::Refuse(Box::new(Refusal {
                rejection: r,
                method: text(method),
                url: text(target),
                version: logged.to_string(),
                head,
                iis5: false,
            }));
        }
    } else if size.total > IIS5_MAX_HEAD {
        return oversize(&buf[..len], l, shown).unwrap_or(Inspected::Partial);
    }
    if lengths > 1 {
        let why = "HTTP.sys: more than one Content-Length: 400 BadRequest".to_string();
        return refuse(l, 400, "Bad Request", why, &["HTTP-03", "HTTP-18"], shown);
    }
    if te.is_some() && http10 {
        let why = "HTTP.sys: Transfer-Encoding on an HTTP/1.0 request: 400 BadRequest".to_string();
        return refuse(l, 400, "Bad Request", why, &["HTTP-03", "HTTP-18"], shown);
    }
    let body = match (te.is_some(), cl.as_deref().map(|v| v.trim().parse::<u64>())) {
        (true, _) => BodyLen::Chunked,
        (false, Some(Ok(0))) | (false, None) => BodyLen::None,
        (false, Some(Ok(n))) => BodyLen::Length(n),
        (false, Some(Err(_))) => {
            // Only IIS 5.x gets here (HTTP.sys refused it above): inetinfo answers 400 itself.
            let why = "inetinfo: Content-Length is not a number: 400".to_string();
            return refuse(l, 400, "Bad Request", why, &["HTTP-18"], shown);
        }
    };
    let fold = headers.len() > HYPER_MAX_HEADERS;
    let rewritten = (as_read.is_some() || escape || fold).then(|| {
        let mut out = Vec::with_capacity(len + 64);
        out.extend_from_slice(method);
        out.push(b' ');
        for &b in target {
            if needs_escape(b) {
                out.extend_from_slice(format!("%{b:02X}").as_bytes());
            } else {
                out.push(b);
            }
        }
        out.push(b' ');
        out.extend_from_slice(as_read.unwrap_or(version));
        out.extend_from_slice(b"\r\n");
        if fold {
            // hyper holds 100 headers: the ones that frame the request and name its client
            // first, then the others in order.
            let framing = ["host", "content-length", "transfer-encoding", "connection", "cookie", "expect"];
            let is_framing = |h: &httparse::Header| framing.iter().any(|f| h.name.eq_ignore_ascii_case(f));
            let kept = headers
                .iter()
                .filter(|h| is_framing(h))
                .chain(headers.iter().filter(|h| !is_framing(h)).take(HYPER_MAX_HEADERS - framing.len()));
            for h in kept {
                out.extend_from_slice(h.name.as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(h.value);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend_from_slice(rest.get(..section).unwrap_or_default());
        }
        out
    });
    Inspected::Pass(Passed {
        len,
        line: line.len(),
        body,
        head: method == b"HEAD",
        rewritten,
        http09: false,
        apart: false,
        hyper_lines: false,
    })
}

/// Where the first blank line of `buf` ends (the end of a head).
fn find_blank(buf: &[u8]) -> Option<usize> {
    let mut at_line_start = false;
    let mut i = 0;
    while i < buf.len() {
        match buf[i] {
            b'\n' if at_line_start => return Some(i + 1),
            b'\n' => at_line_start = true,
            b'\r' if at_line_start && buf.get(i + 1) == Some(&b'\n') => return Some(i + 2),
            _ => at_line_start = false,
        }
        i += 1;
    }
    None
}

/// Where a chunked body stands (RFC 2616 §3.6.1), followed only to find where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading a size line: the size so far, past the digits (an extension or CR).
    Size { size: u64, digits: bool, past: bool },
    /// Inside a chunk's data.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer lines after the last chunk: whether the current line has anything on it.
    Trailer { content: bool },
}

impl Chunk {
    fn start() -> Chunk {
        Chunk::Size { size: 0, digits: false, past: false }
    }

    /// Follows `bytes`: how many belong to the body, and whether it ended; `None` when the coding
    /// is broken (the rest is left to hyper).
    fn feed(&mut self, bytes: &[u8]) -> Option<(usize, bool)> {
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self {
                Chunk::Size { size, digits, past } => match b {
                    b'\n' if !*digits => return None,
                    b'\n' if *size == 0 => *self = Chunk::Trailer { content: false },
                    b'\n' => *self = Chunk::Data(*size),
                    _ if *past => {}
                    b';' | b'\r' | b' ' | b'\t' => *past = true,
                    _ => {
                        let d = (b as char).to_digit(16)?;
                        *size = size.checked_mul(16)?.checked_add(u64::from(d))?;
                        *digits = true;
                    }
                },
                Chunk::Data(n) => {
                    let take = (*n).min((bytes.len() - i) as u64);
                    *n -= take;
                    i += take as usize;
                    if *n == 0 {
                        *self = Chunk::DataEnd;
                    }
                    continue;
                }
                Chunk::DataEnd => match b {
                    b'\r' => {}
                    b'\n' => *self = Chunk::start(),
                    _ => return None,
                },
                Chunk::Trailer { content } => match b {
                    b'\n' if !*content => return Some((i + 1, true)),
                    b'\n' => *content = false,
                    b'\r' => {}
                    _ => *content = true,
                },
            }
            i += 1;
        }
        Some((i, false))
    }
}

/// The read side's state.
#[derive(Debug)]
enum Reading {
    /// Waiting for (the rest of) a request head.
    Head,
    /// Inside a Content-Length body: bytes left.
    Body(u64),
    /// Inside a chunked body.
    Chunked(Chunk),
    /// A chunked body that could not be followed: everything goes to hyper from here.
    Through,
    /// HTTP.sys refused a head; its answer waits for hyper's earlier answers.
    Refused(Box<Refusal>),
    /// Writing HTTP.sys's answer.
    Answering,
    /// Answered and shut down; reading what the client still sends, until it closes.
    Lingering,
    /// Finished: hyper reads the end of the stream.
    Done,
    /// Reset by a timer (HTTP-11): nothing more is read or written.
    Reset,
}

/// The write side's state.
#[derive(Debug, Clone, Copy)]
enum Writing {
    /// At (or inside) a response head.
    Head,
    /// Inside a body: bytes left.
    Body(u64),
    /// A body without a length: the rest of the stream.
    Unbounded,
}

/// Header names as IIS and ASP.NET spell them where title case would not (HTTP-22..26).
const SPELLINGS: &[&str] = &[
    "ETag",
    "X-AspNet-Version",
    "X-AspNetMvc-Version",
    "MS-Author-Via",
    "DAV",
    "DASL",
    "WWW-Authenticate",
    "Content-MD5",
    "X-UA-Compatible",
];

/// The lengths of [`SPELLINGS`]' names, one bit each: most names need no look at the table.
const SPELLED_LENGTHS: u64 = {
    let mut mask = 0u64;
    let mut i = 0;
    while i < SPELLINGS.len() {
        mask |= 1 << SPELLINGS[i].len();
        i += 1;
    }
    mask
};

/// Fixes a complete response head in place (never changing its length): the `HTTP/1.1` status
/// line IIS always writes (HTTP-12, HTTP-21) and IIS's header spelling. Returns the status and
/// the Content-Length.
pub fn fix_head(head: &mut [u8]) -> (u16, Option<u64>) {
    if head.starts_with(b"HTTP/1.0 ") {
        head[7] = b'1';
    }
    let status = std::str::from_utf8(head.get(9..12).unwrap_or_default()).ok().and_then(|s| s.parse().ok());
    let mut length = None;
    let mut rest = match memchr::memchr(b'\n', head) {
        Some(p) => &mut head[p + 1..],
        None => &mut [][..],
    };
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let (line, after) = rest.split_at_mut(end);
        if let Some(colon) = memchr::memchr(b':', line) {
            let (name, value) = line.split_at_mut(colon);
            respell(name);
            if name == b"Content-Length" {
                length = std::str::from_utf8(&value[1..]).ok().and_then(|v| v.trim().parse().ok());
            }
        }
        rest = after.get_mut(1..).unwrap_or_default();
    }
    (status.unwrap_or(0), length)
}

/// Spells header name `name` in place as IIS writes it: the names title case gets wrong from
/// the table, else title case.
fn respell(name: &mut [u8]) {
    let listed = name.len() < 64 && (1u64 << name.len()) & SPELLED_LENGTHS != 0;
    if let Some(s) =
        SPELLINGS.iter().filter(|_| listed).find(|s| s.len() == name.len() && s.as_bytes().eq_ignore_ascii_case(name))
    {
        name.copy_from_slice(s.as_bytes());
        return;
    }
    // Branch-free: a letter after a dash (or first) is upper case, every other letter lower.
    let mut prev = b'-';
    for b in name.iter_mut() {
        let c = *b;
        *b = if prev == b'-' {
            c - 32 * u8::from(c.is_ascii_lowercase())
        } else {
            c + 32 * u8::from(c.is_ascii_uppercase())
        };
        prev = c;
    }
}

/// The bytes of a token (RFC 7230), as hyper's `HeaderName` accepts them.
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'^'..=b'`' | b'|' | b'~');
        b += 1;
    }
    t
};

/// A header name hyper accepts (`HeaderName::from_bytes`): a non-empty token.
fn token_name(name: &[u8]) -> bool {
    // Folded without an early exit: the names are short, the loop branch-free.
    !name.is_empty() && name.len() < 1 << 16 && name.iter().fold(true, |ok, &b| ok & TOKEN[b as usize])
}

/// A header value hyper accepts (`HeaderValue::from_str`): no control byte but tab.
fn field_value(value: &[u8]) -> bool {
    let ok = |b: u8| b >= 32 && b != 127 || b == b'\t';
    let mut words = value.chunks_exact(8);
    for w in &mut words {
        // Eight bytes at a time: a word with a byte below 32 or equal to 127 is marked (a tab
        // too), so a marked word is looked at byte by byte.
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if below(x, 0x20) | equal(x, 0x7F) != 0 && !w.iter().all(|&b| ok(b)) {
            return false;
        }
    }
    words.remainder().iter().all(|&b| ok(b))
}

/// What names a text that never changes while it is held: its address and length (a literal's,
/// or shared text's, which the cache keeps alive); `None` for text built for one response.
fn ident(t: Text<'_>) -> Option<(usize, usize)> {
    match t {
        Text::Literal(s) => Some((s.as_ptr() as usize, s.len())),
        Text::Shared(s) => Some((s.as_ptr() as usize, s.len())),
        Text::Built(_) => None,
    }
}

/// The shared text of `t`, kept by a cache entry so that its address names it.
fn pin(t: Text<'_>) -> Option<Arc<str>> {
    match t {
        Text::Shared(s) => Some(s.clone()),
        _ => None,
    }
}

/// What a header line's name is to the head writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    /// `Connection`: hyper may settle on another value.
    Connection,
    /// `Transfer-Encoding` or `Trailer`: hyper frames the reply itself.
    Framed,
}

/// A header name as it goes out: its length, its number among the names this thread has spelled
/// (`NO_ID` past [`NAMES_KEPT`]), what it is.
#[derive(Debug, Clone, Copy)]
struct Name {
    len: usize,
    id: u8,
    kind: Kind,
}

/// The number of a name not kept: lines under it are grouped by comparing their bytes.
const NO_ID: u8 = u8::MAX;

/// How many spelled names a thread numbers (one bit each in a `u64`).
const NAMES_KEPT: usize = 64;

/// Slots of the per-thread cache of header lines (a power of two).
const SLOTS: usize = 256;

/// How many slots from its home a line is looked for in.
const PROBES: usize = 8;

/// A cached header line of a kept name and value (or a kept name alone: `value` is `NAME_ONLY`).
struct Cached {
    key: (usize, usize, usize, usize),
    /// `Name: value\r\n` (or the name alone) as it goes out; `None` when hyper would refuse it.
    bytes: Option<Box<[u8]>>,
    name: Name,
    /// The shared texts the key's addresses are of.
    _pins: (Option<Arc<str>>, Option<Arc<str>>),
}

/// The value half of a name-only key.
const NAME_ONLY: (usize, usize) = (usize::MAX, 0);

/// Header lines and names as this thread writes them, by the address of their unchanging text,
/// and the names spelled so far, numbered.
struct Lines {
    slots: [Option<Cached>; SLOTS],
    names: Vec<Box<[u8]>>,
}

thread_local! {
    static LINES: std::cell::RefCell<Lines> =
        const { std::cell::RefCell::new(Lines { slots: [const { None }; SLOTS], names: Vec::new() }) };
}

fn slot_of(key: (usize, usize, usize, usize)) -> usize {
    let h = (key.0 ^ key.2.rotate_left(29) ^ key.1 ^ (key.3 << 16)) as u64;
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros())) as usize
}

impl Lines {
    /// The number of spelled name `spelled`, numbered now if new and there is room.
    fn number(&mut self, spelled: &[u8]) -> u8 {
        if let Some(i) = self.names.iter().position(|n| **n == *spelled) {
            return i as u8;
        }
        if self.names.len() == NAMES_KEPT {
            return NO_ID;
        }
        self.names.push(spelled.into());
        (self.names.len() - 1) as u8
    }

    /// Appends `name` to `out` as IIS spells it and says what it is; `None` (nothing appended)
    /// when hyper would refuse it.
    fn spell(&mut self, out: &mut Vec<u8>, name: &str) -> Option<Name> {
        if !token_name(name.as_bytes()) {
            return None;
        }
        let at = out.len();
        out.extend_from_slice(name.as_bytes());
        respell(&mut out[at..]);
        let spelled = &out[at..];
        let kind = match spelled {
            b"Connection" => Kind::Connection,
            b"Transfer-Encoding" | b"Trailer" => Kind::Framed,
            _ => Kind::Plain,
        };
        let id = self.number(&out[at..]);
        Some(Name { len: name.len(), id, kind })
    }

    /// Appends the line `name: value` as it goes out; `None` (nothing appended) when hyper would
    /// refuse the header.
    fn fresh(&mut self, out: &mut Vec<u8>, name: &str, value: &str) -> Option<Name> {
        if !field_value(value.as_bytes()) {
            return None;
        }
        let n = self.spell(out, name)?;
        push_value(out, value);
        Some(n)
    }

    /// Appends the header line of `name` and `value`, from the cache when both are kept text.
    fn push(&mut self, out: &mut Vec<u8>, name: Text<'_>, value: Text<'_>) -> Option<Name> {
        let Some(n) = ident(name) else { return self.fresh(out, name.as_str(), value.as_str()) };
        let v = ident(value).unwrap_or(NAME_ONLY);
        let key = (n.0, n.1, v.0, v.1);
        // Open addressing over a few slots, so that two lines in use never push each other out;
        // past them the home slot is taken over.
        let home = slot_of(key);
        let mut at = home;
        for probe in 0..PROBES {
            at = (home + probe) % SLOTS;
            match &self.slots[at] {
                Some(c) if c.key == key => break,
                Some(_) if probe + 1 == PROBES => at = home,
                Some(_) => continue,
                None => break,
            }
        }
        if let Some(c) = &self.slots[at] {
            if c.key == key {
                let bytes = c.bytes.as_deref()?;
                if v == NAME_ONLY {
                    if !field_value(value.as_str().as_bytes()) {
                        return None;
                    }
                    out.extend_from_slice(bytes);
                    push_value(out, value.as_str());
                } else {
                    out.extend_from_slice(bytes);
                }
                return Some(c.name);
            }
        }
        let start = out.len();
        let (got, bytes) = if v == NAME_ONLY {
            let got = self.spell(out, name.as_str());
            let bytes = got.map(|_| Box::from(&out[start..]));
            if got.is_some() && !field_value(value.as_str().as_bytes()) {
                out.truncate(start);
                (None, bytes)
            } else {
                if got.is_some() {
                    push_value(out, value.as_str());
                }
                (got, bytes)
            }
        } else {
            let got = self.fresh(out, name.as_str(), value.as_str());
            (got, got.map(|_| Box::from(&out[start..])))
        };
        // A name is kept once spelled; a line of two kept texts once written or refused.
        let name_of = got.unwrap_or(Name { len: 0, id: NO_ID, kind: Kind::Plain });
        if bytes.is_some() || v != NAME_ONLY {
            let pins = (pin(name), if v == NAME_ONLY { None } else { pin(value) });
            self.slots[at] = Some(Cached { key, bytes, name: name_of, _pins: pins });
        }
        got
    }
}

/// Appends `: value\r\n`.
fn push_value(out: &mut Vec<u8>, value: &str) {
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Writes into `out` the head that hyper and [`fix_head`] put on the wire for `reply` when hyper
/// is handed its headers in a `HeaderMap`: IIS's status line, the producer's header order
/// (HTTP-22), a name repeated later grouped with its first line as `HeaderMap` keeps it, IIS's
/// spelling, headers hyper would refuse left out. Returns where the Connection value is, or `None`
/// for a reply hyper frames itself: a 1xx, 204 or 304, an empty body other than a HEAD's (hyper
/// moves its Content-Length), a Transfer-Encoding or Trailer header, a status it cannot send.
///
/// A reply whose names and values are kept text (literals, or text shared with the view) but
/// for a few values built for it has its head written once per thread as a [`Template`]; the
/// next reply of the same texts copies the template and fills in its length, Date and built
/// values (each checked as hyper would, as every time).
pub fn own_head(reply: &Reply, f: &wire::Framing, date: &str, out: &mut Vec<u8>) -> Option<Option<Range<usize>>> {
    let status = hyper::StatusCode::from_u16(reply.status).ok()?;
    if status.is_informational() || matches!(reply.status, 204 | 304) || (reply.body.is_empty() && !f.head) {
        return None;
    }
    let mut digits = itoa::Buffer::new();
    let length = digits.format(reply.body.len());
    TEMPLATES.with_borrow_mut(|kept| {
        // The template this thread used last is compared first, whole: a run of replies of one
        // shape (one application's pages) is not hashed to find it.
        let last = kept.last.filter(|&i| kept.list.get(i).is_some_and(|t| t.fits(reply, f)));
        let hash = match last {
            Some(_) => None,
            None => Some(shape_hash(reply, f)),
        };
        let found = last.or_else(|| {
            let hash = hash.flatten()?;
            kept.list.iter().position(|t| t.hash == hash && t.fits(reply, f))
        });
        if let Some(i) = found {
            kept.last = Some(i);
            if let Some(connection) = kept.list[i].write(reply, date, length, out) {
                return Some(connection);
            }
            // A built value hyper would refuse: its line is left out, as the lines below do.
            return written(reply, f, status, date, length, out).map(|w| w.0);
        }
        let Some(Some(hash)) = hash else { return written(reply, f, status, date, length, out).map(|w| w.0) };
        let (connection, lines) = written(reply, f, status, date, length, out)?;
        // A built value hyper refused this time leaves no hole to fill next time: not kept.
        if let Some(t) = Template::of(reply, f, hash, out, &lines) {
            if kept.list.len() == TEMPLATES_KEPT {
                kept.list.remove(0);
            }
            kept.list.push(t);
            kept.last = Some(kept.list.len() - 1);
        }
        Some(connection)
    })
}

/// A thread's templates, and which it used last.
struct Templates {
    list: Vec<Template>,
    last: Option<usize>,
}

/// How many templates a thread keeps.
const TEMPLATES_KEPT: usize = 32;

thread_local! {
    static TEMPLATES: std::cell::RefCell<Templates> =
        const { std::cell::RefCell::new(Templates { list: Vec::new(), last: None }) };
}

/// What a value of a template's key is when it was built for the response.
const BUILT: (usize, usize) = (usize::MAX, 0);

/// What decides a head but for its built values, length and Date, hashed; `None` when a name is
/// built text (such a head is written line by line).
fn shape_hash(reply: &Reply, f: &wire::Framing) -> Option<u64> {
    let mix = |h: u64, x: usize| (h ^ x as u64).wrapping_mul(0x100_0000_01B3);
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    h = mix(h, usize::from(reply.status));
    h = mix(h, f.reason.as_ptr() as usize ^ f.reason.len() << 48);
    h = mix(h, f.producer as usize | usize::from(f.close) << 4 | usize::from(f.keep_alive) << 5);
    for (k, v) in &reply.headers {
        let k = ident(Text::of(k))?;
        let v = ident(Text::of(v)).unwrap_or(BUILT);
        h = mix(mix(h, k.0 ^ k.1 << 48), v.0 ^ v.1 << 48);
    }
    Some(h)
}

/// What names a reply's header text in a template's key: as [`ident`] names it, `BUILT` for text
/// built for the response (a key's names are never built, so that a built name never fits).
#[inline]
fn key_of(t: &HeaderText) -> (usize, usize) {
    match t {
        HeaderText::Static(s) => (s.as_ptr() as usize, s.len()),
        HeaderText::Shared(s) => (s.as_ptr() as usize, s.len()),
        HeaderText::Owned(_) => BUILT,
    }
}

/// A piece of a template.
#[derive(Debug, Clone)]
enum Piece {
    /// Bytes of the template's text.
    Text(Range<usize>),
    /// The Content-Length value.
    Length,
    /// The Date value.
    Date,
    /// The value of the reply's header at this index.
    Value(usize),
}

/// A head as written for one shape of reply: its text with holes for the length, the Date and
/// the values built for the response.
struct Template {
    hash: u64,
    status: u16,
    reason: (usize, usize),
    producer: Producer,
    close: bool,
    keep_alive: bool,
    /// Per reply header, the addresses of its name and value (`BUILT` for a built value).
    key: Vec<((usize, usize), (usize, usize))>,
    text: Vec<u8>,
    pieces: Vec<Piece>,
    /// The piece the Connection value is in, and where in it.
    connection: Option<(usize, Range<usize>)>,
    /// The shared texts of the key, kept alive so that their addresses name them.
    _pins: Vec<Arc<str>>,
}

impl Template {
    /// Whether `reply` framed as `f` has this template's shape.
    fn fits(&self, reply: &Reply, f: &wire::Framing) -> bool {
        self.status == reply.status
            && self.reason == (f.reason.as_ptr() as usize, f.reason.len())
            && self.producer == f.producer
            && self.close == f.close
            && self.keep_alive == f.keep_alive
            && self.key.len() == reply.headers.len()
            && self.key.iter().zip(&reply.headers).all(|(&(kk, kv), (k, v))| key_of(k) == kk && key_of(v) == kv)
    }

    /// The template of the head `out` just written for `reply`, its `lines` in the order they
    /// went out.
    fn of(reply: &Reply, f: &wire::Framing, hash: u64, out: &[u8], lines: &[Written]) -> Option<Template> {
        let mut pins = Vec::new();
        let mut key = Vec::with_capacity(reply.headers.len());
        for (k, v) in &reply.headers {
            for t in [k, v] {
                if let HeaderText::Shared(s) = t {
                    pins.push(s.clone());
                }
            }
            key.push((ident(Text::of(k)).unwrap_or(BUILT), ident(Text::of(v)).unwrap_or(BUILT)));
        }
        let mut t = Template {
            hash,
            status: reply.status,
            reason: (f.reason.as_ptr() as usize, f.reason.len()),
            producer: f.producer,
            close: f.close,
            keep_alive: f.keep_alive,
            key,
            text: Vec::with_capacity(out.len()),
            pieces: Vec::new(),
            connection: None,
            _pins: pins,
        };
        let first = lines.first().map_or(out.len() - 2, |l| l.start);
        t.push_text(&out[..first]);
        for l in lines {
            let line = &out[l.start..l.end];
            let hole = l.hole.map(|h| match h {
                Hole::Length => Piece::Length,
                Hole::Date => Piece::Date,
                Hole::Value(i) => Piece::Value(i),
            });
            match hole {
                Some(hole) => {
                    t.push_text(&line[..l.name.len + 2]);
                    t.pieces.push(hole);
                    t.push_text(b"\r\n");
                }
                None => {
                    if l.name.kind == Kind::Connection {
                        let at = t.text.len() + l.name.len + 2;
                        // The connection value is in the text piece this line joins (or starts).
                        let piece = match t.pieces.last() {
                            Some(Piece::Text(_)) => t.pieces.len() - 1,
                            _ => t.pieces.len(),
                        };
                        t.connection = Some((piece, at..at + line.len() - l.name.len - 4));
                    }
                    t.push_text(line);
                }
            }
        }
        t.push_text(b"\r\n");
        let holes = t.pieces.iter().filter(|p| matches!(p, Piece::Value(_))).count();
        let built =
            reply.headers.iter().filter(|(k, v)| matches!(v, HeaderText::Owned(_)) && !wire::framing_name(k)).count();
        (holes == built).then_some(t)
    }

    /// Appends `bytes` to the template's text, to its last piece when that is text too.
    fn push_text(&mut self, bytes: &[u8]) {
        let at = self.text.len();
        self.text.extend_from_slice(bytes);
        match self.pieces.last_mut() {
            Some(Piece::Text(r)) => r.end = self.text.len(),
            _ => self.pieces.push(Piece::Text(at..self.text.len())),
        }
    }

    /// Writes the head of `reply` into `out` (cleared first); `None` when one of its built
    /// values is refused (nothing to keep).
    fn write(&self, reply: &Reply, date: &str, length: &str, out: &mut Vec<u8>) -> Option<Option<Range<usize>>> {
        out.clear();
        let mut connection = None;
        for (i, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Text(r) => {
                    if let Some((at, c)) = &self.connection {
                        if *at == i {
                            let base = out.len() - r.start;
                            connection = Some(base + c.start..base + c.end);
                        }
                    }
                    out.extend_from_slice(&self.text[r.clone()]);
                }
                Piece::Length => out.extend_from_slice(length.as_bytes()),
                Piece::Date => out.extend_from_slice(date.as_bytes()),
                Piece::Value(v) => {
                    let value = reply.headers[*v].1.as_bytes();
                    if !field_value(value) {
                        return None;
                    }
                    out.extend_from_slice(value);
                }
            }
        }
        Some(connection)
    }
}

/// One header line of a head written line by line: where it is, its name, and what its value
/// is when it was built for the response (a hole of a template).
#[derive(Debug, Clone, Copy)]
struct Written {
    start: usize,
    end: usize,
    name: Name,
    hole: Option<Hole>,
}

/// A value built for the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hole {
    Length,
    Date,
    /// The value of the reply's header at this index.
    Value(usize),
}

/// Writes the head line by line (see [`own_head`]); returns where the Connection value is and
/// the lines in the order they went out.
fn written(
    reply: &Reply,
    f: &wire::Framing,
    status: hyper::StatusCode,
    date: &str,
    length: &str,
    out: &mut Vec<u8>,
) -> Option<(Option<Range<usize>>, Vec<Written>)> {
    let phrase = match f.reason {
        "" => status.canonical_reason().unwrap_or("<none>"),
        r => r,
    };
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(phrase.as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut lines = Vec::with_capacity(reply.headers.len() + 4);
    let mut framed = false;
    let (mut seen, mut repeated, mut unnumbered) = (0u64, false, false);
    LINES.with_borrow_mut(|cache| {
        wire::each_header(reply, f.producer, date, length, f.close, f.keep_alive, |k, v, at| {
            let start = out.len();
            let Some(name) = cache.push(out, k, v) else { return };
            framed |= name.kind == Kind::Framed;
            if name.id == NO_ID {
                unnumbered = true;
            } else {
                repeated |= seen & 1 << name.id != 0;
                seen |= 1 << name.id;
            }
            let hole = match (v, at) {
                (Text::Built(_), Some(i)) => Some(Hole::Value(i)),
                (Text::Built(_), None) if k.as_str() == "Date" => Some(Hole::Date),
                (Text::Built(_), None) => Some(Hole::Length),
                _ => None,
            };
            lines.push(Written { start, end: out.len(), name, hole });
        });
    });
    if framed {
        return None;
    }
    let n = lines.len();
    let name = |out: &[u8], i: usize| -> Vec<u8> { out[lines[i].start..lines[i].start + lines[i].name.len].to_vec() };
    if unnumbered {
        repeated = (1..n).any(|i| (0..i).any(|j| name(out, j) == name(out, i)));
    }
    let mut connection = None;
    if repeated {
        // `HeaderMap` keeps a repeated name's values with its first line.
        let same = |i: usize, j: usize| {
            out[lines[i].start..lines[i].start + lines[i].name.len]
                == out[lines[j].start..lines[j].start + lines[j].name.len]
        };
        let mut order = Vec::with_capacity(n);
        for i in 0..n {
            if (0..i).any(|j| same(j, i)) {
                continue;
            }
            order.extend((i..n).filter(|&k| same(k, i)));
        }
        let mut grouped = Vec::with_capacity(out.len() + 2);
        grouped.extend_from_slice(&out[..lines.first().map_or(out.len(), |l| l.start)]);
        let mut moved = Vec::with_capacity(n);
        for k in order {
            let l = lines[k];
            let start = grouped.len();
            grouped.extend_from_slice(&out[l.start..l.end]);
            moved.push(Written { start, end: grouped.len(), ..l });
        }
        *out = grouped;
        lines = moved;
    }
    for l in &lines {
        if l.name.kind == Kind::Connection {
            connection = Some(l.start + l.name.len + 2..l.end - 2);
        }
    }
    out.extend_from_slice(b"\r\n");
    Some((connection, lines))
}

/// A head written by [`own_head`] and the body after it, waiting for hyper's (bodiless) head of
/// the same response.
struct OwnHead {
    bytes: Vec<u8>,
    /// Where the Connection header's value is in `bytes`.
    connection: Option<Range<usize>>,
    /// Bytes of body at the end of `bytes`.
    body: usize,
}

#[derive(Default)]
struct Slot {
    ready: Option<OwnHead>,
    /// The buffer of the head that went out last, kept for the next one.
    spare: Vec<u8>,
    /// Per head handed to hyper and not yet taken by the service, in order: its header lines
    /// when they went apart from hyper ([`Passed::apart`]).
    requests: VecDeque<Option<Vec<u8>>>,
    /// Buffers of header lines the service has read, kept for the next heads.
    spare_lines: Vec<Vec<u8>>,
}

/// Where the service leaves the head and body it wrote for a response: the connection sends them in
/// place of the bodiless response hyper writes (hyper still decides keep-alive), so the reply goes
/// from the reply to the socket without a `HeaderMap`, a second pass to respell its headers, or a
/// body handed to hyper. hyper answers one request at a time, so a connection holds at most one.
/// The other way, it is where the service finds the header lines of a head that went apart from
/// hyper ([`Passed::apart`]).
#[derive(Clone, Default)]
pub struct HeadSlot(Arc<Mutex<Slot>>);

impl HeadSlot {
    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A head went to hyper: `lines` are its header lines when they went apart from it.
    fn push_request(&self, lines: Option<&[u8]>) {
        let mut s = self.slot();
        let kept = lines.map(|l| {
            let mut v = s.spare_lines.pop().unwrap_or_default();
            v.clear();
            v.extend_from_slice(l);
            v
        });
        s.requests.push_back(kept);
    }

    /// Calls `f` with the header lines of the next head hyper hands the service, when they went
    /// apart from hyper; with `None` when hyper's head has them all (or no connection of
    /// HTTP.sys's is in front of hyper). hyper hands the service its heads in the order it read
    /// them, each once, and a head it cannot read ends the connection: the two stay in step.
    pub fn next_request<T>(&self, f: impl FnOnce(Option<&[u8]>) -> T) -> T {
        let mut s = self.slot();
        let next = s.requests.pop_front().flatten();
        let out = f(next.as_deref());
        if let Some(v) = next {
            s.spare_lines.push(v);
        }
        out
    }

    /// Writes `reply`'s head with [`own_head`], and its body unless it answers a HEAD, for the
    /// next response to go out with; false when hyper must write it from a `HeaderMap` instead.
    pub fn fill(&self, reply: &Reply, f: &wire::Framing, date: &str) -> bool {
        let mut s = self.slot();
        let mut bytes = std::mem::take(&mut s.spare);
        match own_head(reply, f, date, &mut bytes) {
            Some(connection) => {
                let body = if f.head { 0 } else { reply.body.len() };
                bytes.extend_from_slice(&reply.body.as_bytes()[..body]);
                s.ready = Some(OwnHead { bytes, connection, body });
                true
            }
            None => {
                s.spare = bytes;
                false
            }
        }
    }
}

/// The value of the `connection` line hyper wrote in `head` (lower-case names), if any.
fn hyper_connection(head: &[u8]) -> Option<&[u8]> {
    static LINE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\nconnection: "));
    let at = LINE.find(head)? + 14;
    let end = memchr::memchr(b'\n', &head[at..]).map_or(head.len(), |e| at + e);
    Some(trim_cr(&head[at..end]))
}

/// Where the blank line that ends a head ends in `buf`, CRLF lines as hyper writes them.
#[cfg(test)]
fn head_end(buf: &[u8]) -> Option<usize> {
    scan_head(buf).map(|(end, _)| end)
}

/// Where the head at the start of `buf` ends (just past its first `\r\n\r\n`), and where the
/// value of the first `connection` line hyper wrote in it is ([`hyper_connection`]'s). One walk
/// from line end to line end: a head hyper writes has a few short lines, where two substring
/// searches cost twice as much.
fn scan_head(buf: &[u8]) -> Option<(usize, Option<Range<usize>>)> {
    let mut connection = None;
    let mut at = memchr::memchr(b'\n', buf)? + 1;
    loop {
        let rest = &buf[at..];
        // `at` follows a `\n`: with a `\r` before it, a line `\r\n` here completes `\r\n\r\n`.
        let crlf_before = at >= 2 && buf[at - 2] == b'\r';
        if crlf_before && rest.starts_with(b"\r\n") {
            return Some((at + 2, connection));
        }
        let nl = at + memchr::memchr(b'\n', rest)?;
        if connection.is_none() && crlf_before && rest.starts_with(b"connection: ") {
            let value = at + 12;
            let end = if nl > value && buf[nl - 1] == b'\r' { nl - 1 } else { nl };
            connection = Some(value..end.max(value));
        }
        at = nl + 1;
    }
}

/// Who the connection is, for the transcript and the httperr log.
pub struct Peer {
    /// The server's shared state.
    pub shared: Arc<Shared>,
    /// The client's real address.
    pub client: SocketAddr,
    /// The emulated port the listener stands for.
    pub port: u16,
}

/// One client connection with HTTP.sys's checks in front of hyper.
pub struct Conn {
    io: TcpStream,
    peer: Peer,
    limits: Limits,
    /// Inbound bytes: `inb[lo..hi]` are read and not yet handed over; the first `released` of
    /// them are cleared for hyper.
    inb: Vec<u8>,
    lo: usize,
    hi: usize,
    released: usize,
    reading: Reading,
    writing: Writing,
    /// A response head being assembled when hyper wrote it in pieces, then the head that goes out.
    acc: Vec<u8>,
    /// The head the service wrote for the response hyper writes next.
    own: HeadSlot,
    /// Bytes taken from hyper (or HTTP.sys's answer) not yet on the socket.
    pending: Vec<u8>,
    pending_at: usize,
    /// Per request handed to hyper and not yet answered: whether it was a HEAD, and HTTP/0.9.
    heads: VecDeque<(bool, bool)>,
    released_heads: u64,
    answered: u64,
    /// The read side waiting for hyper's answers before HTTP.sys's own.
    waiting: Option<Waker>,
    timer: Option<Pin<Box<Sleep>>>,
    /// The waker `timer` was last polled with while it had not run out.
    timer_waker: Option<Waker>,
    /// When bytes last arrived, and when the current head's first byte did.
    active: Instant,
    head_started: Option<Instant>,
    /// When the last answer went out (the connection has been idle since, when nothing came).
    idle_since: Instant,
    /// The request line of the last head handed to hyper, for a Connection_Dropped line.
    last_line: Vec<u8>,
    /// What hyper reads of a head whose headers went apart ([`Passed::apart`]), and how much of
    /// it hyper has read.
    feed: Vec<u8>,
    feed_at: usize,
    /// The client closed its side.
    client_closed: bool,
}

impl Drop for Conn {
    /// A client that closed with a request unanswered dropped it (HTTP-08).
    fn drop(&mut self) {
        let unanswered = self.answered < self.released_heads;
        if unanswered && self.client_closed && !matches!(self.reading, Reading::Reset) {
            self.peer.shared.dropped(&self.last_line, self.peer.client, self.peer.port, &self.limits);
        }
    }
}

impl Conn {
    /// Wraps an accepted connection from `peer` under HTTP.sys's `limits`.
    pub fn new(io: TcpStream, peer: Peer, limits: Limits) -> Conn {
        Conn {
            io,
            peer,
            limits,
            inb: vec![0; 4096],
            lo: 0,
            hi: 0,
            released: 0,
            reading: Reading::Head,
            writing: Writing::Head,
            acc: Vec::new(),
            own: HeadSlot::default(),
            pending: Vec::new(),
            pending_at: 0,
            heads: VecDeque::new(),
            released_heads: 0,
            answered: 0,
            waiting: None,
            timer: None,
            timer_waker: None,
            active: Instant::now(),
            head_started: None,
            idle_since: Instant::now(),
            last_line: Vec::new(),
            feed: Vec::new(),
            feed_at: 0,
            client_closed: false,
        }
    }

    /// Where the service leaves the heads it writes for this connection's responses.
    pub fn heads(&self) -> HeadSlot {
        self.own.clone()
    }

    /// Reads more bytes from the socket into `inb`.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.lo == self.hi {
            self.lo = 0;
            self.hi = 0;
        }
        if self.hi == self.inb.len() {
            if self.lo > 0 {
                self.inb.copy_within(self.lo..self.hi, 0);
                self.hi -= self.lo;
                self.lo = 0;
            } else {
                let grown = (self.inb.len() * 2).min(self.limits.max_request.max(IIS5_MAX_HEAD) + 8192);
                self.inb.resize(grown.max(self.inb.len() + 1024), 0);
            }
        }
        let mut rb = ReadBuf::new(&mut self.inb[self.hi..]);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut rb))?;
        let n = rb.filled().len();
        self.hi += n;
        Poll::Ready(Ok(n))
    }

    /// Moves the read side on over the bytes already read. `Ready(true)` when something changed,
    /// `Ready(false)` when more bytes are needed, `Pending` while hyper's answers are awaited.
    fn advance(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let avail = self.hi - self.lo;
        let in_body = matches!(self.reading, Reading::Body(_) | Reading::Chunked(_) | Reading::Through);
        match &mut self.reading {
            Reading::Head if avail == 0 => Poll::Ready(Ok(false)),
            Reading::Head => {
                self.head_started.get_or_insert(self.active);
                let inspected = inspect(&self.inb[self.lo..self.hi], &self.limits);
                match inspected {
                    Inspected::Partial => Poll::Ready(Ok(false)),
                    Inspected::Pass(p) => {
                        self.last_line.clear();
                        self.last_line.extend_from_slice(&self.inb[self.lo..self.lo + p.line]);
                        if p.apart {
                            // hyper reads the request line and the lines it acts on; the
                            // service, the header lines as sent.
                            let head = &self.inb[self.lo..self.lo + p.len];
                            self.own.push_request(Some(&head[p.line + 2..p.len - 2]));
                            hyper_head(head, &p, &mut self.feed);
                            self.feed_at = 0;
                            self.lo += p.len;
                            self.released = 0;
                        } else if let Some(head) = p.rewritten {
                            self.own.push_request(None);
                            let mut inb = head;
                            let len = inb.len();
                            inb.extend_from_slice(&self.inb[self.lo + p.len..self.hi]);
                            inb.resize(inb.len().max(4096), 0);
                            self.hi = len + (self.hi - self.lo - p.len);
                            self.lo = 0;
                            self.inb = inb;
                            self.released = len;
                        } else {
                            self.own.push_request(None);
                            self.released = p.len;
                        }
                        self.heads.push_back((p.head, p.http09));
                        self.released_heads += 1;
                        self.head_started = None;
                        self.reading = match p.body {
                            // Nothing follows an HTTP/0.9 request on its connection: what the
                            // client still sends is read and dropped until hyper closes it.
                            _ if p.http09 => Reading::Lingering,
                            BodyLen::None => Reading::Head,
                            BodyLen::Length(n) => Reading::Body(n),
                            BodyLen::Chunked => Reading::Chunked(Chunk::start()),
                        };
                        Poll::Ready(Ok(true))
                    }
                    Inspected::Refuse(r) => {
                        self.peer.shared.refused_on_wire(&r, self.peer.client, self.peer.port);
                        self.reading = Reading::Refused(r);
                        Poll::Ready(Ok(true))
                    }
                }
            }
            _ if avail == 0 && in_body => Poll::Ready(Ok(false)),
            Reading::Body(n) => {
                let take = (*n).min(avail as u64);
                *n -= take;
                self.released = take as usize;
                if *n == 0 {
                    self.reading = Reading::Head;
                }
                Poll::Ready(Ok(true))
            }
            Reading::Chunked(c) => {
                match c.feed(&self.inb[self.lo..self.hi]) {
                    Some((taken, done)) => {
                        self.released = taken;
                        if done {
                            self.reading = Reading::Head;
                        }
                    }
                    None => {
                        self.released = avail;
                        self.reading = Reading::Through;
                    }
                }
                Poll::Ready(Ok(true))
            }
            Reading::Through => {
                self.released = avail;
                Poll::Ready(Ok(true))
            }
            Reading::Refused(_) if self.answered < self.released_heads => {
                self.waiting = Some(cx.waker().clone());
                Poll::Pending
            }
            Reading::Refused(r) => {
                let bytes = answer(r, &self.limits);
                self.pending.extend_from_slice(&bytes);
                self.reading = Reading::Answering;
                Poll::Ready(Ok(true))
            }
            Reading::Answering => {
                ready!(self.flush_pending(cx))?;
                let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
                self.reading = Reading::Lingering;
                self.active = Instant::now();
                Poll::Ready(Ok(true))
            }
            Reading::Lingering => {
                self.lo = self.hi;
                Poll::Ready(Ok(false))
            }
            Reading::Done | Reading::Reset => Poll::Ready(Ok(false)),
        }
    }

    /// The timer of the state the connection waits in (HTTP-11); `Ready` when it ran out.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let l = &self.limits;
        let secs = |s: u32| Duration::from_secs(u64::from(s));
        let busy = self.answered < self.released_heads;
        let (deadline, reason) = match self.reading {
            // While hyper is busy the timer stays armed (it is only checked when it fires), so
            // that the idle wait needs no wake-up of its own when the answer goes out.
            Reading::Head if self.lo == self.hi && busy => (self.active + secs(l.connection_timeout), None),
            Reading::Head if self.lo == self.hi => {
                (self.idle_since.max(self.active) + secs(l.connection_timeout), Some("Timer_ConnectionIdle"))
            }
            Reading::Head if self.lo < self.hi => {
                (self.head_started.unwrap_or(self.active) + secs(l.header_wait), Some("Timer_HeaderWait"))
            }
            Reading::Body(_) | Reading::Chunked(_) => {
                (self.active + secs(l.connection_timeout), Some("Timer_EntityBody"))
            }
            Reading::Lingering => (self.active + LINGER, None),
            _ => return Poll::Pending,
        };
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // The timer is moved on lazily: only when it fires early, or must fire sooner.
        if timer.deadline() > deadline {
            timer.as_mut().reset(deadline);
            self.timer_waker = None;
        }
        // A timer polled with this task's waker wakes the task when it runs out: until it has,
        // it need not be polled again (hyper waits on every idle keep-alive read).
        if !timer.is_elapsed() && self.timer_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                self.timer_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let now = Instant::now();
            if now >= deadline && (reason.is_some() || matches!(self.reading, Reading::Lingering)) {
                break;
            }
            timer.as_mut().reset(deadline.max(now + secs(l.connection_timeout)));
        }
        self.timer_waker = None;
        self.reading = Reading::Done;
        if let Some(reason) = reason {
            if reason != "Timer_ConnectionIdle" {
                // HTTP.sys resets the connection without a response (HTTP-11). A zero linger
                // never blocks the drop: the kernel sends a reset at once.
                #[allow(deprecated)]
                let _ = self.io.set_linger(Some(Duration::ZERO));
                self.reading = Reading::Reset;
            }
            // A body that stalls belongs to the request whose head went to hyper (HTTP-08).
            let pending = (reason == "Timer_EntityBody").then_some(self.last_line.as_slice());
            self.peer.shared.timed_out(reason, pending, self.peer.client, self.peer.port, &self.limits);
        }
        Poll::Ready(())
    }

    /// Writes what is pending to the socket.
    fn flush_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.pending_at < self.pending.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.pending[self.pending_at..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending_at += n;
        }
        self.pending.clear();
        self.pending_at = 0;
        Poll::Ready(Ok(()))
    }

    /// Puts the head and body the service wrote for this response in `acc` in place of hyper's
    /// bodiless head, with the Connection value hyper settled on (it adds `close` or `keep-alive`
    /// where the request's own Connection lines call for it). Returns the length of the body at
    /// the end of `acc`, or `None` when the service left no head (hyper's own answers, replies
    /// hyper frames itself). `known` is where hyper's Connection value is in `acc`, when found.
    fn send_own_head(&mut self, known: Option<Option<Range<usize>>>) -> Option<usize> {
        let mut slot = self.own.slot();
        let mut own = slot.ready.take()?;
        let theirs = match known {
            Some(range) => range.map(|r| &self.acc[r]),
            None => hyper_connection(&self.acc),
        };
        let ours = own.connection.clone().map(|r| &own.bytes[r]);
        if theirs != ours {
            let theirs = theirs.unwrap_or_default().to_vec();
            match own.connection {
                Some(r) => {
                    own.bytes.splice(r, theirs);
                }
                None => {
                    // A value hyper adds is a header of its own, after the others.
                    let at = own.bytes.len() - own.body - 2;
                    let line = [&b"Connection: "[..], &theirs, b"\r\n"].concat();
                    own.bytes.splice(at..at, line);
                }
            }
        }
        let mut theirs = std::mem::replace(&mut self.acc, own.bytes);
        theirs.clear();
        slot.spare = theirs;
        Some(own.body)
    }

    /// `n` bytes of the current response body went out.
    fn body_sent(&mut self, n: u64) {
        if let Writing::Body(left) = &mut self.writing {
            *left -= n.min(*left);
            if *left == 0 {
                self.writing = Writing::Head;
                self.answered(Instant::now());
            }
        }
    }

    /// An answer went out (its last byte handed to the socket) at `at`.
    fn answered(&mut self, at: Instant) {
        self.answered += 1;
        self.idle_since = at;
        if let Some(w) = self.waiting.take() {
            w.wake();
        }
    }
}

/// The bytes of HTTP.sys's (or on IIS 5.x inetinfo's) answer to a refused request (HTTP-02).
fn answer(r: &Refusal, l: &Limits) -> Vec<u8> {
    let reply = &r.rejection.reply;
    let producer = if r.iis5 { Producer::Iis5 } else { Producer::HttpSys };
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let length = reply.body.len().to_string();
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, wire::reason(reply.status, l.iis5));
    for (k, v) in wire::ordered_headers(reply, producer, &date, &length, true, false) {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    if !r.head {
        out.push_str(&reply.body);
    }
    out.into_bytes()
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        loop {
            if me.feed_at < me.feed.len() {
                let n = (me.feed.len() - me.feed_at).min(out.remaining());
                out.put_slice(&me.feed[me.feed_at..me.feed_at + n]);
                me.feed_at += n;
                return Poll::Ready(Ok(()));
            }
            if me.released > 0 {
                let n = me.released.min(out.remaining());
                out.put_slice(&me.inb[me.lo..me.lo + n]);
                me.lo += n;
                me.released -= n;
                return Poll::Ready(Ok(()));
            }
            if ready!(me.advance(cx))? {
                continue;
            }
            if matches!(me.reading, Reading::Done) {
                return Poll::Ready(Ok(()));
            }
            match me.fill(cx) {
                Poll::Ready(Ok(0)) => {
                    // The client closed: hyper reads the end of the stream (a partial head is dropped).
                    me.client_closed = true;
                    me.reading = Reading::Done;
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(_)) => me.active = Instant::now(),
                Poll::Ready(Err(e)) if matches!(me.reading, Reading::Lingering) => {
                    let _ = e;
                    me.reading = Reading::Done;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    ready!(me.poll_timer(cx));
                    if matches!(me.reading, Reading::Reset) {
                        return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
                    }
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        if matches!(me.reading, Reading::Reset) {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        ready!(me.flush_pending(cx))?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match me.writing {
            Writing::Body(left) => {
                let take = left.min(buf.len() as u64) as usize;
                let n = ready!(Pin::new(&mut me.io).poll_write(cx, &buf[..take]))?;
                me.body_sent(n as u64);
                Poll::Ready(Ok(n))
            }
            Writing::Unbounded => Pin::new(&mut me.io).poll_write(cx, buf),
            Writing::Head => {
                // hyper's Connection value, found on the way when the head came in one piece.
                let mut known = None;
                let end = if me.acc.is_empty() {
                    scan_head(buf).map(|(end, connection)| {
                        known = Some(connection);
                        end
                    })
                } else {
                    let mut matched = me.acc.iter().fold(0, |m, &b| crlf_step(m, b));
                    buf.iter()
                        .position(|&b| {
                            matched = crlf_step(matched, b);
                            matched == 4
                        })
                        .map(|e| e + 1)
                };
                let Some(end) = end else {
                    me.acc.extend_from_slice(buf);
                    return Poll::Ready(Ok(buf.len()));
                };
                // The head is fixed in `acc`, whose room is kept from one response to the next.
                me.acc.extend_from_slice(&buf[..end]);
                let informational = me.acc.get(9) == Some(&b'1');
                let mut http09 = false;
                let body = if informational {
                    fix_head(&mut me.acc);
                    Some(0)
                } else if let Some(inline) = me.send_own_head(known) {
                    if me.heads.pop_front().is_some_and(|(_, nine)| nine) {
                        // HTTP/0.9 has no status line and no headers: the body alone goes out (HTTP-12).
                        let head = me.acc.len() - inline;
                        me.acc.drain(..head);
                    }
                    // hyper writes no body: it is in `acc` already.
                    Some(0)
                } else {
                    let (status, length) = fix_head(&mut me.acc);
                    let (is_head, nine) = me.heads.pop_front().unwrap_or((false, false));
                    http09 = nine;
                    if is_head || status == 204 || status == 304 {
                        Some(0)
                    } else {
                        length
                    }
                };
                me.writing = match body {
                    Some(0) => Writing::Head,
                    Some(n) => Writing::Body(n),
                    None => Writing::Unbounded,
                };
                if body == Some(0) && !informational {
                    // A whole answer goes out as soon as its request is in (nothing in between
                    // waits), so the request's last bytes date it to well within HTTP.sys's
                    // one-second timers, without reading the clock again.
                    let at = me.active;
                    me.answered(at);
                }
                let take = match me.writing {
                    Writing::Body(n) => n.min((buf.len() - end) as u64) as usize,
                    Writing::Unbounded => buf.len() - end,
                    Writing::Head => 0,
                };
                if http09 {
                    // HTTP/0.9 has no status line and no headers: the body alone goes out (HTTP-12).
                    me.acc.clear();
                }
                let bufs = [IoSlice::new(&me.acc), IoSlice::new(&buf[end..end + take])];
                let written = Pin::new(&mut me.io).poll_write_vectored(cx, &bufs);
                let head_len = me.acc.len();
                let answer = match written {
                    Poll::Ready(Ok(n)) if n >= head_len => {
                        let body_n = n - head_len;
                        if let Writing::Body(_) = me.writing {
                            me.body_sent(body_n as u64);
                        }
                        Poll::Ready(Ok(end + body_n))
                    }
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    // What the socket did not take of the head waits in `pending`; hyper's
                    // bytes of it count as written.
                    Poll::Ready(Ok(n)) => {
                        me.pending.extend_from_slice(&me.acc[n..]);
                        Poll::Ready(Ok(end))
                    }
                    Poll::Pending => {
                        me.pending.extend_from_slice(&me.acc);
                        Poll::Ready(Ok(end))
                    }
                };
                me.acc.clear();
                answer
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        ready!(me.flush_pending(cx))?;
        Pin::new(&mut me.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        ready!(me.flush_pending(cx))?;
        Pin::new(&mut me.io).poll_shutdown(cx)
    }
}

/// One step of matching `\r\n\r\n`: how much of it the bytes so far end with.
fn crlf_step(matched: u8, b: u8) -> u8 {
    match (matched, b) {
        (0 | 2, b'\r') => matched + 1,
        (1 | 3, b'\n') => matched + 1,
        (_, b'\r') => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn refused(req: &str) -> (u16, String, String) {
        match inspect(req.as_bytes(), &limits()) {
            Inspected::Refuse(r) => (r.rejection.reply.status, r.rejection.reply.body, r.rejection.reason.to_string()),
            other => panic!("{req:?} passed: {other:?}"),
        }
    }

    #[test]
    fn each_refused_head_gets_its_row_of_the_table() {
        let table: &[(&str, u16, &str, &str)] = &[
            ("GET / HTTP/2.0\r\n\r\n", 505, "<h1>HTTP Version Not Supported</h1>", "Version_N/S"),
            ("GET / HTTP/10.0\r\n\r\n", 505, "<h1>HTTP Version Not Supported</h1>", "Version_N/S"),
            ("GET / JUNK/1.0\r\n\r\n", 400, "<h1>Bad Request</h1>", "BadRequest"),
            ("GET /\r\n\r\n", 400, "<h1>Bad Request</h1>", "BadRequest"),
            ("get / HTTP/1.1\r\n\r\n", 400, "<h1>Bad Request (Invalid Verb)</h1>", "Verb"),
            ("G(T / HTTP/1.1\r\n\r\n", 400, "<h1>Bad Request (Invalid Verb)</h1>", "Verb"),
            ("GET foo HTTP/1.1\r\n\r\n", 400, "<h1>Bad Request (Invalid URL)</h1>", "URL"),
            ("GET /a\x01b HTTP/1.1\r\n\r\n", 400, "<h1>Bad Request (Invalid URL)</h1>", "URL"),
            ("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "<h1>Bad Request (Invalid Header Name)</h1>", "Header"),
            ("GET / HTTP/1.1\r\nA(b: x\r\n\r\n", 400, "<h1>Bad Request (Invalid Header Name)</h1>", "Header"),
            ("GET / HTTP/1.1\r\nA: x\rB: y\r\n\r\n", 400, "<h1>Bad Request</h1>", "BadRequest"),
            ("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "<h1>Bad Request</h1>", "Number"),
            (
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
                400,
                "<h1>Bad Request</h1>",
                "BadRequest",
            ),
            ("POST / HTTP/1.1\r\n\r\n", 411, "<h1>Length Required</h1>", "LengthRequired"),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "<h1>Not Implemented</h1>", "N/I"),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "<h1>Bad Request</h1>", "BadRequest"),
        ];
        for (req, status, body, reason) in table {
            let (s, b, r) = refused(req);
            assert_eq!((s, b.as_str(), r.as_str()), (*status, *body, *reason), "{req:?}");
        }
    }

    #[test]
    fn word_scans_find_what_byte_scans_find() {
        for len in 0..20 {
            for at in 0..len {
                for c in 0..=255u8 {
                    let mut b = vec![b'a'; len];
                    b[at] = c;
                    let want = b.iter().position(|&c| !(0x20..0x7F).contains(&c));
                    assert_eq!(printable_end(&b, 0), want, "{len} {at} {c:#x}");
                    assert_eq!(plain_url(&b), b.iter().all(|&c| URL_BYTES[c as usize] == 0), "{len} {at} {c:#x}");
                    // A second odd byte after the first must not move the first one found.
                    if at + 1 < len {
                        b[at + 1] = 0x01;
                        assert_eq!(printable_end(&b, 0), want.or(Some(at + 1)), "{len} {at} {c:#x} then 0x01");
                    }
                }
            }
        }
    }

    #[test]
    fn the_one_pass_check_agrees_with_the_full_checks_on_every_head_it_takes() {
        let methods = ["GET", "HEAD", "POST", "PUT", "OPTIONS", "M-X", "get", ""];
        let long = format!("/{}", "a".repeat(45));
        let targets = ["/", "/shop/default.aspx", "/a b", "/a<b", "/\u{e9}", "*", "http://h/x", "", long.as_str()];
        let versions = ["HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "", "http/1.1", "HTTP/1.1 "];
        let many: Vec<String> = (0..30).map(|i| format!("X-{i}: v")).collect();
        let big = format!("X-Big: {}", "b".repeat(40));
        // Fields and heads on either side of the small limits below: 40 bytes a field, 120 a head.
        let edges: Vec<String> = (0..34)
            .flat_map(|k| [format!("X-Fill: {}", "f".repeat(k)), format!("X-Fill: {} ", "f".repeat(k))])
            .collect();
        let mut sets: Vec<Vec<&str>> = vec![
            vec![],
            vec!["Host: a"],
            vec!["Host: a", "Cookie: ASP.NET_SessionId=abcdefghijklmnopqrstuvwx"],
            vec!["Host:a"],
            vec!["Host:  a "],
            vec!["Host: a\tb"],
            vec!["X-Y:"],
            vec!["X-Y: "],
            vec!["Content-Length: 0"],
            vec!["content-length: 3"],
            vec!["Transfer-Encoding: chunked"],
            vec!["Bad Name: x"],
            vec!["Host: a", " folded"],
            many.iter().map(String::as_str).collect(),
            vec!["Host: a", big.as_str()],
            vec!["H_x: y"],
            vec!["Host: \u{7f}"],
            vec!["Host: \u{e9}"],
            vec!["Connection: close", "Host: a"],
        ];
        sets.extend(edges.iter().map(|e| vec!["Host: a", e.as_str(), "X-More: 012345678901234567890123456789"]));
        let small = Limits { max_field: 40, max_request: 120, ..limits() };
        let iis5 = Limits { http_sys: false, iis5: true, ..limits() };
        let (mut taken, mut heads) = (0, 0);
        for l in [limits(), small, iis5] {
            for m in methods {
                for t in targets {
                    for v in versions {
                        for eol in ["\r\n", "\n"] {
                            for set in &sets {
                                let mut head = format!("{m} {t} {v}{eol}");
                                for h in set {
                                    head.push_str(h);
                                    head.push_str(eol);
                                }
                                for tail in [eol.to_string(), format!("{eol}GET /next"), String::new()] {
                                    let buf = format!("{head}{tail}");
                                    heads += 1;
                                    if let Some(p) = plain(buf.as_bytes(), &l) {
                                        taken += 1;
                                        // Only where the headers go differs.
                                        assert!(p.apart);
                                        let p = Passed { apart: false, hyper_lines: false, ..p };
                                        assert_eq!(Inspected::Pass(p), checked(buf.as_bytes(), &l), "{buf:?}");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(taken > 500, "the one-pass check took {taken} of {heads} heads");
        // The heads a browser and the bench send are the ones it takes.
        let usual = [
            "GET /shop/default.aspx HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /shop/default.aspx HTTP/1.1\r\nHost: localhost\r\nCookie: ASP.NET_SessionId=abc\r\n\r\n",
            "HEAD /logo.gif HTTP/1.0\r\nConnection: Keep-Alive\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n",
        ];
        for u in usual {
            assert!(plain(u.as_bytes(), &limits()).is_some(), "{u:?}");
        }
    }

    #[test]
    fn hyper_reads_the_request_line_and_the_lines_it_acts_on() {
        let cases = [
            ("GET / HTTP/1.1\r\nHost: a\r\nCookie: c=1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
            ("GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
            (
                "GET /a HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\nX-Te: 1\r\nTE: trailers\r\n\r\n",
                "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\nTE: trailers\r\n\r\n",
            ),
            (
                "GET / HTTP/1.1\r\nexpect: 100-continue\r\nUpgrade: websocket\r\nconnection: close\r\nConnections: 2\r\n\r\n",
                "GET / HTTP/1.1\r\nexpect: 100-continue\r\nUpgrade: websocket\r\nconnection: close\r\n\r\n",
            ),
        ];
        for (head, hyper) in cases {
            let p = plain(head.as_bytes(), &limits()).expect("the one-pass check takes it");
            let mut out = b"left over".to_vec();
            hyper_head(head.as_bytes(), &p, &mut out);
            assert_eq!(String::from_utf8_lossy(&out), hyper, "{head:?}");
        }
    }

    #[test]
    fn limits_apply_to_partial_and_complete_heads() {
        let field = format!("GET / HTTP/1.1\r\nX-A: {}", "a".repeat(17000));
        assert_eq!(refused(&field).2, "FieldLength", "a line over the limit before the head ends");
        let url = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(17000));
        assert_eq!(refused(&url).2, "FieldLength", "the URL counts as a field");
        let head = format!("GET / HTTP/1.1\r\nX-A: {}\r\nX-B: {}\r\n", "a".repeat(9000), "b".repeat(9000));
        assert_eq!(refused(&head).2, "RequestLength");
        assert_eq!(inspect(b"GET / HTTP/1.1\r\nHost: a", &limits()), Inspected::Partial);
        assert_eq!(inspect(b"GET / HT", &limits()), Inspected::Partial);
    }

    #[test]
    fn passing_heads_say_how_their_bodies_end() {
        let pass = |req: &str| match inspect(req.as_bytes(), &limits()) {
            Inspected::Pass(p) => p,
            other => panic!("{req:?}: {other:?}"),
        };
        let p = pass("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next");
        assert_eq!((p.len, p.body, p.head, p.rewritten.is_none()), (27, BodyLen::None, false, true));
        assert_eq!(pass("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nx=1").body, BodyLen::Length(3));
        assert_eq!(pass("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").body, BodyLen::Chunked);
        assert!(pass("HEAD / HTTP/1.0\n\n").head, "bare LF lines are accepted");
        let p = pass("GET /a<b> HTTP/1.2\r\nHost: a\r\n\r\n");
        assert_eq!(p.rewritten.unwrap(), b"GET /a%3Cb%3E HTTP/1.1\r\nHost: a\r\n\r\n", "1.2 is served as 1.1");
        let many: String = (0..150).map(|i| format!("X-{i}: v\r\n")).collect();
        let p = pass(&format!("GET / HTTP/1.1\r\n{many}Host: a\r\n\r\n"));
        let folded = String::from_utf8(p.rewritten.unwrap()).unwrap();
        assert!(folded.starts_with("GET / HTTP/1.1\r\nHost: a\r\nX-0: v\r\n"), "{folded}");
        assert_eq!(folded.matches("\r\n").count(), 1 + 1 + 94 + 1, "request line, Host, 94 others, blank line");
    }

    #[test]
    fn iis5_reads_a_version_less_line_as_http_0_9() {
        let iis5 = Limits { http_sys: false, iis5: true, ..limits() };
        match inspect(b"GET /a.htm\r\n", &iis5) {
            Inspected::Pass(p) => {
                assert!(p.http09);
                assert_eq!((p.len, p.body), (12, BodyLen::None));
                assert_eq!(p.rewritten.unwrap(), b"GET /a.htm HTTP/1.0\r\n\r\n");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(refused("GET /a.htm\r\n").2, "BadRequest", "HTTP.sys refuses it (policy httpsys.http09)");
    }

    #[test]
    fn chunked_bodies_are_followed_to_their_end() {
        let mut c = Chunk::start();
        assert_eq!(c.feed(b"3;x=y\r\nabc\r\n0\r\nTrailer: t\r\n\r\nGET"), Some((29, true)));
        let mut c = Chunk::start();
        assert_eq!(c.feed(b"a\r\n01234"), Some((8, false)));
        assert_eq!(c.feed(b"56789\r\n0\r\n\r\n"), Some((12, true)));
        assert_eq!(Chunk::start().feed(b"zz\r\n"), None);
    }

    #[test]
    fn hyper_s_head_end_and_connection_line_are_found() {
        let heads: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\nbody",
            b"HTTP/1.1 200 OK\r\nx-connection: a\r\nconnection: keep-alive\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r",
            b"HTTP/1.1 200 OK\r\na: \n\r\n\r\n",
            b"\r\n\r\n",
            b"\n\r\n\r\n",
            b"a\n\r\nconnection: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nconnection: \r\nconnection: b\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nconnection: a",
            b"",
        ];
        for &h in heads {
            let end = h.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
            assert_eq!(head_end(h), end, "{:?}", String::from_utf8_lossy(h));
            let line = h.windows(14).position(|w| w == b"\r\nconnection: ").map(|at| {
                let at = at + 14;
                let end = h[at..].iter().position(|&b| b == b'\n').map_or(h.len(), |e| at + e);
                trim_cr(&h[at..end])
            });
            assert_eq!(hyper_connection(h), line, "{:?}", String::from_utf8_lossy(h));
            if let Some((end, c)) = scan_head(h) {
                assert_eq!(c.map(|r| &h[r]), hyper_connection(&h[..end]), "{:?}", String::from_utf8_lossy(h));
            }
        }
    }

    #[test]
    fn response_heads_get_iis_status_lines_and_spelling() {
        let mut head =
            b"HTTP/1.0 200 OK\r\ncontent-length: 12\r\netag: \"a:1\"\r\nx-aspnet-version: 2.0.50727\r\nx-powered-by: ASP.NET\r\n\r\n"
                .to_vec();
        assert_eq!(fix_head(&mut head), (200, Some(12)));
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nETag: \"a:1\"\r\nX-AspNet-Version: 2.0.50727\r\nX-Powered-By: ASP.NET\r\n\r\n"
        );
    }
}
