//! URL canonicalisation as patched HTTP.sys does it (REQ-01..03, SEC-01..04).
//!
//! [`canonicalize`] turns a request target into the path every later step sees, or refuses it
//! before any site is involved. The steps, in order:
//!
//! 1. Length limits on the raw target (REQ-02), then its form: an absolute `http://host/path` gives
//!    its path, `*` or anything else not starting with `/` is a 400.
//! 2. The query is the raw text after the first `?` and is never decoded.
//! 3. `%XX` (and `%uNNNN` when allowed) are decoded exactly once (SEC-01, SEC-04); the bytes must be
//!    UTF-8, overlong forms included in what is refused (SEC-02, REQ-03); escaped control characters
//!    are refused unless allowed (SEC-04).
//! 4. `\` becomes `/` (REQ-01, SEC-03), then `.` and `..` segments are removed; climbing above `/`
//!    is refused (REQ-03, SEC-03). Segment limits apply to the result (REQ-02).
//!
//! Choices where the sources are thin (modeled):
//! - Repeated slashes are kept (`/a//b` stays), as HTTP.sys leaves them for the file system to
//!   ignore; a `..` after an empty segment removes that empty segment, as RFC 3986 does.
//! - A trailing `/` is kept, and a path ending in a dot segment ends in `/` (`/a/b/..` → `/a/`), so
//!   directory requests keep their slash (REQ-08).
//! - `:`, `;`, trailing dots and spaces stay as decoded characters: resolution handles them
//!   (SEC-05, SEC-06, SEC-08). Only exact `.` and `..` segments are dot segments.
//! - Raw (unescaped) C0 controls and DEL cannot be part of a request line: always 400. Raw C1
//!   characters (U+0080–009F) are treated like escaped ones.
//! - Segment limits count characters of the canonical path; `0` means no limit (KB820129).

use std::borrow::Cow;

use super::index::MAX_LEVELS;
use super::{decide, Decision, Sink};
use crate::rules::RuleId;

/// The registry key holding the HTTP.sys settings (REQ-02).
pub const HTTP_PARAMETERS_KEY: &str = r"HKLM\System\CurrentControlSet\Services\HTTP\Parameters";

/// HTTP.sys settings under [`HTTP_PARAMETERS_KEY`] (REQ-02).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSysParams {
    /// `AllowRestrictedChars`: escaped control characters are accepted.
    pub allow_restricted_chars: bool,
    /// `EnableNonUTF8`: URLs in the ANSI code page are accepted too.
    pub enable_non_utf8: bool,
    /// `FavorUTF8`: UTF-8 is tried before the ANSI code page.
    pub favor_utf8: bool,
    /// `PercentUAllowed`: `%uNNNN` escapes are decoded.
    pub percent_u_allowed: bool,
    /// `UrlSegmentMaxLength`: characters per path segment (0: no limit).
    pub url_segment_max_length: usize,
    /// `UrlSegmentMaxCount`: path segments per URL (0: no limit).
    pub url_segment_max_count: usize,
    /// `MaxFieldLength`: bytes per header field, the request target included.
    pub max_field_length: usize,
    /// `MaxRequestBytes`: bytes of request line and headers together.
    pub max_request_bytes: usize,
}

impl Default for HttpSysParams {
    /// The Windows defaults (REQ-02).
    fn default() -> HttpSysParams {
        HttpSysParams {
            allow_restricted_chars: false,
            enable_non_utf8: true,
            favor_utf8: true,
            percent_u_allowed: true,
            url_segment_max_length: 260,
            url_segment_max_count: 255,
            max_field_length: 16384,
            max_request_bytes: 16384,
        }
    }
}

impl HttpSysParams {
    /// Reads the REQ-02 registry values by name through `get`, using the default for any absent one.
    pub fn from_values(get: impl Fn(&str) -> Option<u32>) -> HttpSysParams {
        let d = HttpSysParams::default();
        let flag = |name: &str, default: bool| get(name).map_or(default, |v| v != 0);
        // usize is at least 32 bits on every target iisim builds for; saturate rather than assume.
        let size = |name: &str, default: usize| get(name).map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX));
        HttpSysParams {
            allow_restricted_chars: flag("AllowRestrictedChars", d.allow_restricted_chars),
            enable_non_utf8: flag("EnableNonUTF8", d.enable_non_utf8),
            favor_utf8: flag("FavorUTF8", d.favor_utf8),
            percent_u_allowed: flag("PercentUAllowed", d.percent_u_allowed),
            url_segment_max_length: size("UrlSegmentMaxLength", d.url_segment_max_length),
            url_segment_max_count: size("UrlSegmentMaxCount", d.url_segment_max_count),
            max_field_length: size("MaxFieldLength", d.max_field_length),
            max_request_bytes: size("MaxRequestBytes", d.max_request_bytes),
        }
    }
}

/// A canonical URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonUrl {
    /// The path: decoded once, starting with `/`, no `\`, no `.` or `..` segment.
    pub path: String,
    /// The raw text after the first `?`, not decoded (empty when none).
    pub query: String,
    /// What canonicalisation changed, or one line saying the URL was already canonical.
    pub decisions: Vec<Decision>,
}

/// A canonical URL that borrows the request target when it was canonical already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canon<'a> {
    /// The path: decoded once, starting with `/`, no `\`, no `.` or `..` segment.
    pub path: Cow<'a, str>,
    /// The raw text after the first `?`, not decoded (empty when none).
    pub query: &'a str,
    /// The path's shape, when it was canonical as sent.
    pub shape: Option<Shape>,
}

/// Why a URL was refused before reaching any site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status HTTP.sys answers with.
    pub status: u16,
    /// What was wrong, in one line.
    pub reason: String,
    /// The rules that refused it.
    pub rules: Vec<RuleId>,
    /// What HTTP.sys 1.0 puts in its `<h1>` for this refusal (HTTP-03).
    pub text: &'static str,
}

impl Rejection {
    fn new(status: u16, reason: impl Into<String>, rules: &[RuleId]) -> Rejection {
        let text = if status == 404 { "Not Found" } else { "Bad Request (Invalid URL)" };
        Rejection { status, reason: reason.into(), rules: rules.to_vec(), text }
    }

    fn bad_request(reason: impl Into<String>, rules: &[RuleId]) -> Rejection {
        Rejection::new(400, reason, rules)
    }
}

/// Canonicalises a request target, or refuses it with the status HTTP.sys answers.
///
/// `canon_failure_status` is the status for bad UTF-8 and for climbing above `/` (policy
/// `sec.canon_failure_status`, REQ-03); malformed targets and exceeded limits always get 400.
pub fn canonicalize(
    raw_target: &str,
    params: &HttpSysParams,
    canon_failure_status: u16,
) -> Result<CanonUrl, Rejection> {
    let mut decisions = Vec::new();
    let c = canonicalize_into(raw_target, params, canon_failure_status, &mut decisions)?;
    Ok(CanonUrl { path: c.path.into_owned(), query: c.query.to_string(), decisions })
}

/// What the one scan of an already canonical path learnt, so later steps need not look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// Segments as UrlSegmentMaxCount counts them (REQ-02).
    pub segments: usize,
    /// The longest segment, in characters.
    pub longest: usize,
    /// An empty segment (`//`) is in the path.
    pub empty_segment: bool,
    /// A `:` or `;`, or a segment ending with a dot or a space: resolution must look (SEC-03..08).
    pub suspect: bool,
}

/// One non-empty segment of a URL path: where it starts and ends (its `/` or the path's end), its
/// first `;`, and its last `.` before that `;` (0: none; no segment starts at 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) semi: u32,
    pub(super) dot: u32,
}

/// Up to [`MAX_LEVELS`] non-empty segments of a path, and where the segments after them start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Spans {
    pub(super) at: [Span; MAX_LEVELS],
    pub(super) n: usize,
    pub(super) next: usize,
}

/// The high bit of each byte of `word` equal to `b`, exactly (no borrow between bytes).
#[inline(always)]
pub(super) fn eq_bytes(word: u64, b: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (0x0101_0101_0101_0101 * u64::from(b));
    !((x & LOW7).wrapping_add(LOW7) | x) & !LOW7
}

/// Byte classes [`already_canonical`] looks for, as bits of [`CLASS`].
const SLASH: u8 = 1;
const QUERY: u8 = 2;
/// `:` or `;` (SEC-05, SEC-08).
const COLON: u8 = 4;
/// Anything that takes the whole procedure: `%`, `\\`, control characters, non-ASCII.
const BAD: u8 = 8;
/// `;` (SM-10: an extension ends there).
const SEMI: u8 = 16;
/// `.` (an extension starts at the last one).
const DOT: u8 = 32;

/// Each byte's class, so the scan of a path tests a table entry rather than branching per byte
/// (a mixed-case URL would otherwise steer a branch differently at every letter).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b'/' => SLASH,
            b'?' => QUERY,
            b':' => COLON,
            b';' => COLON | SEMI,
            b'.' => DOT,
            b'%' | b'\\' | 0..=0x1f | 0x7f.. => BAD,
            _ => 0,
        };
        b += 1;
    }
    t
};

/// 1 for the bytes a segment must not end with (`.` and ` `, SEC-06), 0 for the others.
static TRAIL: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'.' as usize] = 1;
    t[b' ' as usize] = 1;
    t
};

/// The path of a target that needs no change, and its shape: origin form, no escape, no `\\`,
/// no non-ASCII byte, no control character, no dot segment. Anything else takes the whole procedure.
/// The same scan puts the path's first segments in `spans`.
#[inline(always)]
fn already_canonical<'a>(raw: &'a str, spans: &mut Spans) -> Option<(&'a str, Shape)> {
    let bytes = raw.as_bytes();
    if bytes.first() != Some(&b'/') {
        return None;
    }
    let len = bytes.len();
    let mut end = len;
    // The segment being read: where it starts, its first `;` and its last `.` before that.
    let (mut start, mut semi, mut dot) = (1u32, 0u32, 0u32);
    // The longest and the shortest segment ended by a `/` so far (0: an empty one).
    let (mut longest, mut shortest) = (0u32, u32::MAX);
    let (mut slashes, mut n) = (0u32, 0usize);
    // The classes of every byte seen, and the TRAIL bits of every segment's last byte (a `.` or
    // ` ` there makes the path suspect; a dot segment is one of those, so only then is it looked for).
    let (mut seen, mut ends) = (0u8, 0u8);
    let mut i = 1;
    loop {
        // Most bytes are of no class: a loop of their own passes them with nothing to carry.
        while i < len && CLASS[usize::from(bytes[i])] == 0 {
            i += 1;
        }
        let Some(&b) = bytes.get(i) else { break };
        let class = CLASS[usize::from(b)];
        seen |= class;
        if class == SLASH {
            let at = i as u32;
            ends |= TRAIL[usize::from(bytes[i - 1])];
            longest = longest.max(at - start);
            shortest = shortest.min(at - start);
            slashes += 1;
            if at > start && n < MAX_LEVELS {
                spans.at[n] = Span { start, end: at, semi, dot };
                n += 1;
                spans.next = i + 1;
            }
            (start, semi, dot) = (at + 1, 0, 0);
        } else if class == QUERY {
            end = i;
            break;
        } else if class & (SEMI | DOT) != 0 && semi == 0 {
            if class & SEMI != 0 {
                semi = i as u32;
            } else {
                dot = i as u32;
            }
        }
        i += 1;
    }
    let prev = bytes[end - 1];
    ends |= TRAIL[usize::from(prev)];
    let trailing = ends != 0;
    let dot_segment = |s: &[u8]| s == b"." || s == b"..";
    if seen & BAD != 0
        || (trailing && bytes[1..end].split(|&b| b == b'/').any(dot_segment))
        || bytes[end..].iter().any(|&b| b < b' ' || b == 0x7f)
    {
        return None;
    }
    let end32 = end as u32;
    if n < MAX_LEVELS {
        if end32 > start {
            spans.at[n] = Span { start, end: end32, semi, dot };
            n += 1;
        }
        spans.next = end + 1;
    }
    spans.n = n;
    let at_end = prev == b'/' && end > 1;
    let inner = end - 1 - usize::from(at_end);
    let shape = Shape {
        segments: if inner == 0 { 0 } else { slashes as usize - usize::from(at_end) + 1 },
        longest: longest.max(end32 - start) as usize,
        empty_segment: shortest == 0,
        suspect: trailing || seen & COLON != 0,
    };
    Some((&raw[..end], shape))
}

/// [`canonicalize`], sending what it decides to `sink` and borrowing from the target when it can.
pub fn canonicalize_into<'a, S: Sink>(
    raw_target: &'a str,
    params: &HttpSysParams,
    canon_failure_status: u16,
    sink: &mut S,
) -> Result<Canon<'a>, Rejection> {
    canonicalize_spans(raw_target, params, canon_failure_status, sink, &mut Spans::default())
}

/// [`canonicalize_into`], putting the first segments of a path canonical as sent in `spans`
/// (none for any other path).
#[inline(always)]
pub(super) fn canonicalize_spans<'a, S: Sink>(
    raw_target: &'a str,
    params: &HttpSysParams,
    canon_failure_status: u16,
    sink: &mut S,
    spans: &mut Spans,
) -> Result<Canon<'a>, Rejection> {
    check_target_length(raw_target, params)?;
    if let Some((path, shape)) = already_canonical(raw_target, spans) {
        let (len, count) = (params.url_segment_max_length, params.url_segment_max_count);
        // Over a limit, the whole procedure below words the refusal.
        if (len == 0 || shape.longest <= len) && (count == 0 || shape.segments <= count) {
            decide!(sink, &["REQ-01"], "URL is canonical: {}", show(path));
            let query = raw_target.get(path.len() + 1..).unwrap_or_default();
            return Ok(Canon { path: Cow::Borrowed(path), query, shape: Some(shape) });
        }
    }
    canonicalize_slow(raw_target, params, canon_failure_status, sink)
}

/// The whole procedure, for a target that is not canonical as sent: out of line, so that the hot
/// path's code stays compact.
#[cold]
#[inline(never)]
fn canonicalize_slow<'a, S: Sink>(
    raw_target: &'a str,
    params: &HttpSysParams,
    canon_failure_status: u16,
    sink: &mut S,
) -> Result<Canon<'a>, Rejection> {
    let query = raw_target.split_once('?').map_or("", |(_, q)| q);
    if let Some(c) = raw_target.chars().find(|&c| c < ' ' || c == '\u{7f}') {
        return Err(Rejection::bad_request(
            format!("raw control character U+{:04X} in the target", u32::from(c)),
            &["REQ-01", "SEC-04"],
        ));
    }

    let mut changed = false;
    // What the procedure decides counts only if the URL survives it: a refusal says it alone.
    let mut held = Held::<S>(Vec::new(), std::marker::PhantomData);
    let target = match split_absolute(raw_target)? {
        Some((host, rest)) => {
            decide!(&mut held, &["REQ-01"], "absolute target: took the path, host {host}");
            changed = true;
            rest
        }
        None => raw_target.to_string(),
    };
    if target == "*" {
        return Err(Rejection::bad_request("target * names the server, not a path", &["REQ-01"]));
    }
    if !target.starts_with('/') {
        return Err(Rejection::bad_request(format!("target {} does not start with /", show(&target)), &["REQ-01"]));
    }
    let raw_path = target.split('?').next().unwrap_or_default();

    let decoded = decode(raw_path, params, canon_failure_status)?;
    if decoded.escapes > 0 {
        decide!(&mut held, &["REQ-01", "SEC-01"], "decoded once: {} -> {}", show(raw_path), show(&decoded.text));
        changed = true;
    }
    if decoded.percent_25 {
        decide!(&mut held, &["SEC-01"], "%25 gave a literal %, never decoded again");
        changed = true;
    }
    if decoded.percent_u {
        decide!(&mut held, &["SEC-04", "REQ-02"], "decoded %u escapes (PercentUAllowed=1)");
        changed = true;
    }
    if decoded.restricted {
        decide!(&mut held, &["SEC-04", "REQ-02"], "kept control characters (AllowRestrictedChars=1)");
        changed = true;
    }

    let slashed = decoded.text.replace('\\', "/");
    if slashed != decoded.text {
        let what =
            if decoded.escaped_backslash { "decoded %5c to \\ and turned it into /" } else { "turned \\ into /" };
        decide!(&mut held, &["REQ-01", "SEC-03"], "{what}: {} -> {}", show(&decoded.text), show(&slashed));
        changed = true;
    }

    let path = remove_dot_segments(&slashed).ok_or_else(|| {
        Rejection::new(canon_failure_status, format!(".. climbs above / in {}", show(&slashed)), &["REQ-03", "SEC-03"])
    })?;
    if path != slashed {
        decide!(&mut held, &["REQ-01", "SEC-03"], "removed dot segments: {} -> {}", show(&slashed), show(&path));
        changed = true;
    }
    check_segments(&path, params)?;

    if !changed {
        decide!(&mut held, &["REQ-01"], "URL is canonical: {}", show(&path));
    }
    for d in held.0 {
        sink.push(d.text, &d.rules);
    }
    Ok(Canon { path: Cow::Owned(path), query, shape: None })
}

/// Decisions held back until canonicalisation succeeds, kept only if the real sink keeps them.
struct Held<S>(Vec<Decision>, std::marker::PhantomData<S>);

impl<S: Sink> Sink for Held<S> {
    const KEEPS: bool = S::KEEPS;

    fn push(&mut self, text: String, rules: &[RuleId]) {
        self.0.push(Decision { text, rules: rules.to_vec() });
    }
}

/// The `host[:port]` of an absolute target (`http://host:port/path`), which HTTP/1.1 prefers to
/// the Host header; `None` for an origin-form target or a malformed one.
pub fn target_host(raw_target: &str) -> Option<&str> {
    let rest = strip_scheme(raw_target)?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|h| valid_host(h))
}

/// Refuses a target over MaxFieldLength or MaxRequestBytes (REQ-02).
#[inline(always)]
fn check_target_length(raw: &str, params: &HttpSysParams) -> Result<(), Rejection> {
    if raw.len() <= params.max_field_length.min(params.max_request_bytes) {
        return Ok(());
    }
    target_too_long(raw, params)
}

/// [`check_target_length`]'s refusal, out of line.
#[cold]
#[inline(never)]
fn target_too_long(raw: &str, params: &HttpSysParams) -> Result<(), Rejection> {
    let limits = [("MaxFieldLength", params.max_field_length), ("MaxRequestBytes", params.max_request_bytes)];
    match limits.iter().find(|(_, max)| raw.len() > *max) {
        Some((name, max)) => {
            let mut r =
                Rejection::bad_request(format!("target of {} bytes exceeds {name}={max}", raw.len()), &["REQ-02"]);
            r.text = if *name == "MaxFieldLength" {
                "Bad Request (Header Field Too Long)"
            } else {
                "Bad Request (Request Header Too Long)"
            };
            Err(r)
        }
        None => Ok(()),
    }
}

/// The rest of `raw` after `http://` or `https://` (any case).
fn strip_scheme(raw: &str) -> Option<&str> {
    ["http://", "https://"].iter().find_map(|scheme| {
        raw.get(..scheme.len()).filter(|s| s.eq_ignore_ascii_case(scheme)).and_then(|_| raw.get(scheme.len()..))
    })
}

/// A `host[:port]` made of the characters host names, IPv4 and bracketed IPv6 literals use.
fn valid_host(host: &str) -> bool {
    !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-._:[]".contains(c))
}

/// Splits an absolute target into its host and its path (with any query); `None` for other forms.
fn split_absolute(raw: &str) -> Result<Option<(String, String)>, Rejection> {
    let Some(rest) = strip_scheme(raw) else { return Ok(None) };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(end);
    if !valid_host(host) {
        return Err(Rejection::bad_request(format!("absolute target with a bad host: {}", show(raw)), &["REQ-01"]));
    }
    // `http://host` and `http://host?q` name the root (RFC 2616 5.1.2).
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    Ok(Some((host.to_string(), path)))
}

/// The path after decoding, with what decoding met on the way.
struct Decoded {
    text: String,
    /// How many `%` escapes were decoded.
    escapes: usize,
    /// A `%25` gave a literal `%`.
    percent_25: bool,
    /// A `%uNNNN` escape was decoded.
    percent_u: bool,
    /// A `\` came from an escape.
    escaped_backslash: bool,
    /// Control characters were kept (AllowRestrictedChars).
    restricted: bool,
}

/// Decodes `%XX` and `%uNNNN` once and checks the result is UTF-8 without restricted characters.
fn decode(raw: &str, params: &HttpSysParams, failure: u16) -> Result<Decoded, Rejection> {
    let bytes_in = raw.as_bytes();
    // Each decoded byte remembers the raw text it came from, so refusals can quote it.
    let mut bytes: Vec<u8> = Vec::with_capacity(raw.len());
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(raw.len());
    let mut out = Decoded {
        text: String::new(),
        escapes: 0,
        percent_25: false,
        percent_u: false,
        escaped_backslash: false,
        restricted: false,
    };
    let mut i = 0;
    while i < bytes_in.len() {
        if bytes_in[i] != b'%' {
            let Some(c) = raw.get(i..).and_then(|s| s.chars().next()) else { break };
            let end = i + c.len_utf8();
            push_char(&mut bytes, &mut spans, c, (i, end));
            i = end;
            continue;
        }
        out.escapes += 1;
        if matches!(bytes_in.get(i + 1), Some(b'u' | b'U')) {
            if !params.percent_u_allowed {
                return Err(Rejection::bad_request(
                    format!("%u escape {} refused (PercentUAllowed=0)", excerpt(raw, i, 6)),
                    &["SEC-04", "REQ-02"],
                ));
            }
            let (c, end) = decode_percent_u(raw, i, failure)?;
            out.percent_u = true;
            out.escaped_backslash |= c == '\\';
            push_char(&mut bytes, &mut spans, c, (i, end));
            i = end;
            continue;
        }
        let Some(b) = hex_pair(bytes_in, i + 1) else {
            return Err(Rejection::bad_request(format!("invalid escape {}", excerpt(raw, i, 3)), &["REQ-01"]));
        };
        out.percent_25 |= b == b'%';
        out.escaped_backslash |= b == b'\\';
        bytes.push(b);
        spans.push((i, i + 3));
        i += 3;
    }

    if let Err(fault) = check_utf8(&bytes) {
        let (start, end) = (spans.get(fault.start).map_or(0, |s| s.0), spans.get(fault.end - 1).map_or(0, |s| s.1));
        let quoted = raw.get(start..end).unwrap_or(raw);
        return Err(Rejection::new(failure, format!("{} UTF-8 {quoted}", fault.kind), &["REQ-03", "SEC-02"]));
    }
    let text = String::from_utf8(bytes).map_err(|_| Rejection::new(failure, "invalid UTF-8", &["REQ-03", "SEC-02"]))?;

    for (at, c) in text.char_indices() {
        if is_restricted(c) {
            if !params.allow_restricted_chars {
                let quoted = spans.get(at).and_then(|&(s, e)| raw.get(s..e)).unwrap_or("");
                let what = if quoted.starts_with('%') { "escaped control character" } else { "control character" };
                return Err(Rejection::bad_request(
                    format!("{what} {} (AllowRestrictedChars=0)", show(quoted)),
                    &["SEC-04", "REQ-02"],
                ));
            }
            out.restricted = true;
        }
    }
    out.text = text;
    Ok(out)
}

/// Decodes the `%uNNNN` escape at `at` (pairing UTF-16 surrogates); returns the character and where
/// the escape ends.
fn decode_percent_u(raw: &str, at: usize, failure: u16) -> Result<(char, usize), Rejection> {
    let unit = |pos: usize| -> Option<u32> {
        let b = raw.as_bytes();
        if b.get(pos) != Some(&b'%') || !matches!(b.get(pos + 1), Some(b'u' | b'U')) {
            return None;
        }
        let hi = hex_pair(b, pos + 2)?;
        let lo = hex_pair(b, pos + 4)?;
        Some((u32::from(hi) << 8) | u32::from(lo))
    };
    let Some(first) = unit(at) else {
        return Err(Rejection::bad_request(format!("invalid escape {}", excerpt(raw, at, 6)), &["REQ-01", "SEC-04"]));
    };
    let lone =
        || Rejection::new(failure, format!("lone UTF-16 surrogate {}", excerpt(raw, at, 6)), &["REQ-03", "SEC-04"]);
    match first {
        0xD800..=0xDBFF => {
            let second = unit(at + 6).filter(|u| (0xDC00..=0xDFFF).contains(u)).ok_or_else(lone)?;
            let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            char::from_u32(code).map(|c| (c, at + 12)).ok_or_else(lone)
        }
        _ => char::from_u32(first).map(|c| (c, at + 6)).ok_or_else(lone),
    }
}

/// The byte two hex digits at `at` stand for.
/// Appends a decoded character's UTF-8 bytes, each remembering the raw span it came from.
fn push_char(bytes: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>, c: char, span: (usize, usize)) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        bytes.push(b);
        spans.push(span);
    }
}

fn hex_pair(b: &[u8], at: usize) -> Option<u8> {
    let digit = |x: u8| char::from(x).to_digit(16);
    let hi = digit(*b.get(at)?)?;
    let lo = digit(*b.get(at + 1)?)?;
    u8::try_from((hi << 4) | lo).ok()
}

/// At most `chars` characters of `raw` from byte `at`, to quote a bad escape.
fn excerpt(raw: &str, at: usize, chars: usize) -> String {
    show(&raw.get(at..).unwrap_or("").chars().take(chars).collect::<String>())
}

/// Characters HTTP.sys refuses when escaped unless AllowRestrictedChars is set (SEC-04).
fn is_restricted(c: char) -> bool {
    c <= '\u{1f}' || ('\u{7f}'..='\u{9f}').contains(&c)
}

/// A bad UTF-8 sequence: its byte range in the decoded bytes and what is wrong with it.
struct Utf8Fault {
    start: usize,
    end: usize,
    kind: &'static str,
}

/// Checks decoded bytes are UTF-8, naming overlong forms (`%c0%af`) apart from other faults.
///
/// HTTP.sys with EnableNonUTF8=1 would retry a non-UTF-8 URL in the ANSI code page; iisim models
/// no code pages, so every invalid sequence is refused whatever EnableNonUTF8 and FavorUTF8 say,
/// which is what REQ-03 asks. Overlong forms are refused in every configuration (SEC-02).
fn check_utf8(bytes: &[u8]) -> Result<(), Utf8Fault> {
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        // Sequence length and the smallest code point that needs it; 5- and 6-byte forms are the
        // pre-2003 encodings old attacks used, recognised here only to call them overlong.
        let (len, min) = match lead {
            0x00..=0x7F => {
                i += 1;
                continue;
            }
            0xC0..=0xDF => (2, 0x80),
            0xE0..=0xEF => (3, 0x800),
            0xF0..=0xF7 => (4, 0x1_0000),
            0xF8..=0xFB => (5, 0x20_0000),
            0xFC..=0xFD => (6, 0x400_0000),
            _ => return Err(Utf8Fault { start: i, end: i + 1, kind: "invalid" }),
        };
        let mut code = u32::from(lead) & (0x7F >> len);
        for k in 1..len {
            match bytes.get(i + k) {
                Some(&b) if b & 0xC0 == 0x80 => code = (code << 6) | u32::from(b & 0x3F),
                _ => return Err(Utf8Fault { start: i, end: i + k, kind: "invalid" }),
            }
        }
        let kind = if code < min {
            "overlong"
        } else if (0xD800..=0xDFFF).contains(&code) {
            "surrogate in"
        } else if code > 0x10_FFFF {
            "out-of-range"
        } else {
            ""
        };
        if !kind.is_empty() {
            return Err(Utf8Fault { start: i, end: i + len, kind });
        }
        i += len;
    }
    Ok(())
}

/// Removes `.` and `..` segments of a path starting with `/`; `None` when `..` climbs above `/`.
fn remove_dot_segments(path: &str) -> Option<String> {
    let pieces: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let last = pieces.len().saturating_sub(1);
    let mut kept: Vec<&str> = Vec::with_capacity(pieces.len());
    // A path ending in a dot segment names a directory, so it keeps a trailing slash.
    let mut trailing_slash = false;
    for (i, piece) in pieces.iter().enumerate() {
        match *piece {
            "." => trailing_slash |= i == last,
            ".." => {
                kept.pop()?;
                trailing_slash |= i == last;
            }
            other => kept.push(other),
        }
    }
    let mut out = format!("/{}", kept.join("/"));
    if trailing_slash && !kept.is_empty() {
        out.push('/');
    }
    Some(out)
}

/// Refuses a path over UrlSegmentMaxLength or UrlSegmentMaxCount (REQ-02); 0 means no limit.
fn check_segments(path: &str, params: &HttpSysParams) -> Result<(), Rejection> {
    let inner = path.strip_prefix('/').unwrap_or(path);
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    let segments = || inner.split('/').filter(|_| !inner.is_empty());
    let max_len = params.url_segment_max_length;
    if let Some(long) = segments().map(|s| s.chars().count()).find(|&n| max_len != 0 && n > max_len) {
        return Err(Rejection::bad_request(
            format!("a segment of {long} characters exceeds UrlSegmentMaxLength={max_len}"),
            &["REQ-02"],
        ));
    }
    let max_count = params.url_segment_max_count;
    let count = segments().count();
    if max_count != 0 && count > max_count {
        return Err(Rejection::bad_request(
            format!("{count} segments exceed UrlSegmentMaxCount={max_count}"),
            &["REQ-02"],
        ));
    }
    Ok(())
}

/// Text fit for a one-line transcript: control characters shown as `%XX` escapes.
fn show(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_restricted(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The segments of `path` from `from` as a byte at a time finds them.
    pub(in crate::dispatch) fn spans_one_by_one(path: &str, from: usize) -> Vec<Span> {
        let mut out = Vec::new();
        let mut start = from;
        for piece in path.get(from..).unwrap_or_default().split('/') {
            let end = start + piece.len();
            if !piece.is_empty() {
                let semi = piece.find(';').map(|i| start + i);
                let name = &path[start..semi.unwrap_or(end)];
                let dot = name.rfind('.').map(|i| start + i);
                let at = |i: Option<usize>| i.map_or(0, |i| i as u32);
                out.push(Span { start: start as u32, end: end as u32, semi: at(semi), dot: at(dot) });
            }
            start = end + 1;
        }
        out
    }

    /// `(target, Ok(path) or Err(status))` with default parameters and failure status 400.
    const TABLE: &[(&str, Result<&str, u16>)] = &[
        ("/", Ok("/")),
        ("/a/b.htm", Ok("/a/b.htm")),
        ("/a/b/", Ok("/a/b/")),
        ("/a//b", Ok("/a//b")),
        ("/a/./b", Ok("/a/b")),
        ("/a/b/..", Ok("/a/")),
        ("/a/b/.", Ok("/a/b/")),
        ("/a/..", Ok("/")),
        ("/RootTest/SubDir1\\SubDir2/../../SubDir5/SubDir6", Ok("/RootTest/SubDir5/SubDir6")),
        ("/a%20b", Ok("/a b")),
        ("/a%2fb", Ok("/a/b")),
        ("/a%5cb", Ok("/a/b")),
        ("/a%255cb", Ok("/a%5cb")),
        ("/a%2e%2e/b", Ok("/a../b")),
        ("/%c3%a9t%C3%A9", Ok("/été")),
        ("/%u00e9", Ok("/é")),
        ("/%uD83D%uDE00", Ok("/\u{1F600}")),
        ("/file.asp::$DATA", Ok("/file.asp::$DATA")),
        ("/shell.asp;.jpg", Ok("/shell.asp;.jpg")),
        ("/file.asp.", Ok("/file.asp.")),
        ("/file.asp%20", Ok("/file.asp ")),
        ("/...", Ok("/...")),
        ("/a?b=%2e%2e", Ok("/a")),
        ("http://www.a.com/x/../y", Ok("/y")),
        ("HTTP://www.a.com:8080", Ok("/")),
        ("https://[::1]:443/a", Ok("/a")),
        ("*", Err(400)),
        ("", Err(400)),
        ("a/b", Err(400)),
        ("ftp://h/a", Err(400)),
        ("http:///a", Err(400)),
        ("/a%zz", Err(400)),
        ("/a%", Err(400)),
        ("/a%2", Err(400)),
        ("/a%u12", Err(400)),
        ("/a%00", Err(400)),
        ("/a%0d%0a", Err(400)),
        ("/a%c2%85", Err(400)),
        ("/a\tb", Err(400)),
        ("/a%c0%af", Err(400)),
        ("/a%c1%9c", Err(400)),
        ("/a%e0%80%af", Err(400)),
        ("/a%f8%80%80%80%af", Err(400)),
        ("/a%ed%a0%80", Err(400)),
        ("/a%e9", Err(400)),
        ("/a%80", Err(400)),
        ("/a%uD800", Err(400)),
        ("/a%uDC00x", Err(400)),
        ("/..", Err(400)),
        ("/a/../..", Err(400)),
        ("/a/%2e%2e%2f%2e%2e%2fb", Err(400)),
    ];

    #[test]
    fn table() {
        let params = HttpSysParams::default();
        for (target, want) in TABLE {
            let got = canonicalize(target, &params, 400).map(|c| c.path).map_err(|r| r.status);
            assert_eq!(got.as_deref().map_err(|s| *s), *want, "target {target:?}");
        }
    }

    #[test]
    fn failure_status_follows_the_policy_only_for_req_03() {
        let params = HttpSysParams::default();
        assert_eq!(canonicalize("/..", &params, 404).map_err(|r| r.status), Err(404));
        assert_eq!(canonicalize("/%c0%af", &params, 404).map_err(|r| r.status), Err(404));
        assert_eq!(canonicalize("/%zz", &params, 404).map_err(|r| r.status), Err(400));
        assert_eq!(canonicalize("/%00", &params, 404).map_err(|r| r.status), Err(400));
    }

    #[test]
    fn query_is_raw() {
        let c = canonicalize("/a%20b?x=%2e%2e&y=%zz?z", &HttpSysParams::default(), 400);
        assert_eq!(c.map(|c| (c.path, c.query)), Ok(("/a b".into(), "x=%2e%2e&y=%zz?z".into())));
        let c = canonicalize("http://h?q", &HttpSysParams::default(), 400);
        assert_eq!(c.map(|c| (c.path, c.query)), Ok(("/".into(), "q".into())));
    }

    #[test]
    fn decisions_name_what_changed() {
        let params = HttpSysParams::default();
        let texts = |t: &str| -> Vec<String> {
            canonicalize(t, &params, 400).map(|c| c.decisions.into_iter().map(|d| d.text).collect()).unwrap_or_default()
        };
        assert_eq!(texts("/a/b"), ["URL is canonical: /a/b"]);
        assert_eq!(
            texts("/a%5cb/../c"),
            [
                "decoded once: /a%5cb/../c -> /a\\b/../c",
                "decoded %5c to \\ and turned it into /: /a\\b/../c -> /a/b/../c",
                "removed dot segments: /a/b/../c -> /a/c",
            ]
        );
        assert_eq!(texts("/x%255c"), ["decoded once: /x%255c -> /x%5c", "%25 gave a literal %, never decoded again"]);
        assert_eq!(texts("http://h:81/"), ["absolute target: took the path, host h:81"]);
    }

    #[test]
    fn from_values_reads_registry_names() {
        let p = HttpSysParams::from_values(|name| match name {
            "AllowRestrictedChars" => Some(1),
            "PercentUAllowed" => Some(0),
            "UrlSegmentMaxLength" => Some(10),
            "MaxRequestBytes" => Some(300),
            _ => None,
        });
        let want = HttpSysParams {
            allow_restricted_chars: true,
            percent_u_allowed: false,
            url_segment_max_length: 10,
            max_request_bytes: 300,
            ..HttpSysParams::default()
        };
        assert_eq!(p, want);
        assert_eq!(HttpSysParams::from_values(|_| None), HttpSysParams::default());
    }

    #[test]
    fn segment_limits_of_zero_mean_none() {
        let params = HttpSysParams { url_segment_max_length: 0, url_segment_max_count: 0, ..HttpSysParams::default() };
        let long = format!("/{}", "a/".repeat(400) + &"b".repeat(400));
        assert!(canonicalize(&long, &params, 400).is_ok());
        assert!(canonicalize(&long, &HttpSysParams::default(), 400).is_err());
    }

    #[test]
    fn target_host_of_absolute_targets() {
        assert_eq!(target_host("http://www.a.com:8080/x"), Some("www.a.com:8080"));
        assert_eq!(target_host("HTTPS://b?x"), Some("b"));
        assert_eq!(target_host("/x"), None);
        assert_eq!(target_host("http:///x"), None);
    }

    #[test]
    fn the_one_scan_of_a_canonical_path_finds_its_first_segments() {
        let paths = [
            "/",
            "/Site1/App2/Default.aspx",
            "/Site1/App2/Default.aspx?x=/y.z",
            "/a/b/",
            "/x.asp;y.aspx/z.b;c",
            "/a.b.c/d.e",
            "/abcdefghijklmnopqrstuvwxyz.0123456789/abc",
            "/1/2/3/4/5/6/7/8",
            "/1/2/3/4/5/6/7/8/",
            "/1/2/3/4/5/6/7/8/9/10.x?q",
            "/a:b/.c/d./e ",
        ];
        for raw in paths {
            let mut spans = Spans::default();
            let (path, _) = already_canonical(raw, &mut spans).expect("canonical");
            let all = spans_one_by_one(path, 1);
            let n = all.len().min(MAX_LEVELS);
            assert_eq!(&spans.at[..spans.n], &all[..n], "{raw}");
            let next = if all.len() >= MAX_LEVELS { all[MAX_LEVELS - 1].end as usize + 1 } else { path.len() + 1 };
            assert_eq!(spans.next, next, "{raw}");
        }
    }

    /// What [`already_canonical`] must give, read from the text's pieces rather than scanned.
    fn canonical_as_specified(raw: &str) -> Option<(&str, Shape)> {
        let path = raw.split('?').next().unwrap_or_default();
        let query = &raw[path.len()..];
        let bad = |b: u8| b == b'%' || b == b'\\' || !(b' '..0x7f).contains(&b);
        if !path.starts_with('/') || path.bytes().any(bad) || query.bytes().any(|b| b < b' ' || b == 0x7f) {
            return None;
        }
        let pieces: Vec<&str> = path[1..].split('/').collect();
        if pieces.iter().any(|s| *s == "." || *s == "..") {
            return None;
        }
        let trailing = path.len() > 1 && path.ends_with('/');
        let shape = Shape {
            segments: if path.len() - 1 - usize::from(trailing) == 0 {
                0
            } else {
                pieces.len() - usize::from(trailing)
            },
            longest: pieces.iter().map(|s| s.len()).max().unwrap_or(0),
            empty_segment: path.contains("//"),
            suspect: path.contains([':', ';']) || pieces.iter().any(|s| s.ends_with(['.', ' '])),
        };
        Some((path, shape))
    }

    proptest::proptest! {
        #[test]
        fn the_one_scan_reads_what_the_pieces_say(
            rooted in proptest::bool::weighted(0.9),
            chars in proptest::collection::vec(
                proptest::sample::select(&['/', '/', '/', 'a', 'B', '.', '.', ';', ':', '?', '%', '\\', ' ', '\u{1}', '\u{7f}', '\u{e9}'][..]),
                0..40,
            ),
        ) {
            let raw: String = rooted.then_some('/').into_iter().chain(chars).collect();
            let mut spans = Spans::default();
            let got = already_canonical(&raw, &mut spans);
            proptest::prop_assert_eq!(got, canonical_as_specified(&raw), "{:?}", raw);
            if let Some((path, _)) = got {
                let all = spans_one_by_one(path, 1);
                let n = all.len().min(MAX_LEVELS);
                proptest::prop_assert_eq!(&spans.at[..spans.n], &all[..n], "{:?}", raw);
            }
        }
    }

    #[test]
    fn the_one_scan_of_a_canonical_path_reads_its_shape() {
        let shape = |segments, longest, empty_segment, suspect| Shape { segments, longest, empty_segment, suspect };
        let cases = [
            ("/", Some(("/", shape(0, 0, false, false)))),
            ("/Site1/App2/Default.aspx?a=%41", Some(("/Site1/App2/Default.aspx", shape(3, 12, false, false)))),
            ("/a//b/", Some(("/a//b/", shape(3, 1, true, false)))),
            ("/a;b/c", Some(("/a;b/c", shape(2, 3, false, true)))),
            ("/a:b", Some(("/a:b", shape(1, 3, false, true)))),
            ("/a./b", Some(("/a./b", shape(2, 2, false, true)))),
            ("/a/b ", Some(("/a/b ", shape(2, 2, false, true)))),
            ("/a/../b", None),
            ("/a/.", None),
            ("/a%20b", None),
            ("/a\\b", None),
            ("/caf\u{e9}", None),
            ("/a?\u{7f}", None),
            ("a/b", None),
        ];
        for (target, want) in cases {
            assert_eq!(already_canonical(target, &mut Spans::default()), want, "{target}");
        }
    }
}
