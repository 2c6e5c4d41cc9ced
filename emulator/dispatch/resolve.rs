//! The resolution order: binding, key, application, maps, permissions, static files.
//!
//! One procedure serves both uses. [`resolve`] records every [`Decision`] with the rules that
//! decided it, for explain and transcripts; [`resolve_fast`] runs the very same steps with a sink
//! that keeps nothing, and for a canonical URL that ends at an ISAPI or a static file it allocates
//! nothing: its [`Fast`] answer borrows from the view and the request.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::canon::{canonicalize_spans, eq_bytes, Rejection, Shape, Span, Spans};
use super::index::{word_at, MAX_LEVELS};
use super::view::{
    ErrorSource, KeySlot, KeyView, Mapped, SiteView, ACCESS_EXECUTE, ACCESS_READ, ACCESS_SCRIPT, ENABLE_DEFAULT_DOC,
    ENABLE_DIR_BROWSING,
};
use super::{decide, Discard, IsapiCall, Outcome, Reply, Request, Resolution, Sink, Target, View};
use crate::metabase::scriptmap::{FLAG_SCRIPT, FLAG_VERIFY_FILE};
use crate::rules::RuleId;

/// How deep default documents may nest into another resolution (one level is all IIS does).
const MAX_DEPTH: u8 = 2;

/// The verbs OPTIONS names on a box where WebDAV is prohibited (HTTP-16).
const PLAIN_VERBS: &str = "OPTIONS, TRACE, GET, HEAD, POST";

/// The verbs OPTIONS names where WebDAV is allowed, as IIS 5.1 lists them (HTTP-16).
const DAV_VERBS: &str =
    "OPTIONS, TRACE, GET, HEAD, DELETE, PUT, POST, COPY, MOVE, MKCOL, PROPFIND, PROPPATCH, LOCK, UNLOCK, SEARCH";

/// A static file's `ETag`: the file time as a Windows FILETIME and the metabase change number,
/// both in lower-case hex (HTTP-25).
pub fn etag(modified: u64, change_number: u64) -> String {
    // FILETIME counts 100 ns from 1601-01-01; Unix time starts 11644473600 s later.
    let filetime = (crate::machine::EPOCH_UNIX + modified + 11_644_473_600) * 10_000_000;
    let mut tag = String::with_capacity(40);
    let _ = write!(tag, "\"{filetime:x}:{change_number:x}\"");
    tag
}

/// A file time as HTTP writes it (RFC 1123, GMT).
fn http_date(modified: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(crate::machine::EPOCH_UNIX + modified);
    // One allocation: an RFC 1123 date is 29 bytes.
    let mut date = String::with_capacity(29);
    let _ = write!(date, "{}", httpdate::HttpDate::from(t));
    date
}

/// A static file's validators in IIS 6's order: Last-Modified, Accept-Ranges, ETag (HTTP-22, HTTP-25).
fn validators(modified: u64, change_number: u64) -> [super::Header; 3] {
    [
        ("Last-Modified".into(), http_date(modified).into()),
        ("Accept-Ranges".into(), "bytes".into()),
        ("ETag".into(), etag(modified, change_number).into()),
    ]
}

/// Resolves a request against a view, recording every decision.
pub fn resolve(view: &View, req: &Request) -> Resolution {
    let mut decisions = Vec::new();
    let fast = run(view, req, &mut decisions);
    Resolution { decisions, outcome: fast.outcome(), target: fast.target.as_ref().map(Place::target) }
}

/// Resolves a request against a view on the hot path: no decision is recorded.
pub fn resolve_fast<'v, 'r>(view: &'v View, req: &'r Request) -> Fast<'v, 'r> {
    run(view, req, &mut Discard)
}

#[inline(always)]
fn run<'v, 'r, S: Sink>(view: &'v View, req: &'r Request, sink: &mut S) -> Fast<'v, 'r> {
    let mut run = Run {
        view,
        req,
        sink,
        target: None,
        query: "",
        default_doc: false,
        content_location: None,
        spans: Spans::default(),
    };
    let outcome = run.start();
    Fast { outcome, target: run.target, method: &req.method, query: run.query, content_location: run.content_location }
}

/// Where a request landed: the key and the physical path (the key's folder plus the URL segments
/// below it), borrowed from the view and the request.
#[derive(Debug, Clone)]
pub struct Place<'v, 'r> {
    /// The site.
    pub site: &'v SiteView,
    /// The deepest key on the way (REQ-06).
    pub key: &'v KeyView,
    /// The URL path as resolution saw it.
    url: Cow<'r, str>,
    /// The URL segments below the key that make up the physical path: `url[rest.0..rest.1]`.
    rest: (usize, usize),
}

impl Place<'_, '_> {
    /// The physical path (MB-21).
    pub fn physical(&self) -> String {
        let base = self.key.physical.trim_end_matches('\\');
        // One allocation: the folder and the segments below it, each after a `\`.
        let mut p = String::with_capacity(base.len() + 1 + self.rest_segments().len());
        p.push_str(base);
        for s in self.rest_segments().split('/').filter(|s| !s.is_empty()) {
            p.push('\\');
            p.push_str(s);
        }
        p
    }

    fn rest_segments(&self) -> &str {
        &self.url[self.rest.0..self.rest.1]
    }

    /// The URL path as resolution saw it (canonical, trailing dots stripped, default document added).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the physical path is a content file or folder of `view`, the view the place was
    /// resolved on: only the URL below the key's folder is hashed.
    pub fn exists(&self, view: &View) -> bool {
        view.file(self.key, self.rest_segments()).is_some()
    }

    /// As an owned [`Target`].
    pub fn target(&self) -> Target {
        Target {
            site: self.site.id,
            key: self.key.path.clone(),
            app: self.key.app.path.clone(),
            app_vpath: self.key.app.vpath.clone(),
            physical: self.physical(),
            pool: self.key.app.pool.clone(),
            pool_settings: self.key.app.pool_settings,
        }
    }
}

/// What the hot path decided, borrowing from the view and the request.
#[derive(Debug, Clone)]
pub enum FastOutcome<'v> {
    /// An ISAPI extension runs the request; the script is `url[..script_end]` of the place.
    Isapi {
        /// The map entry that chose it.
        mapped: &'v Mapped,
        /// Chosen by a wildcard map (SM-07, REQ-09).
        wildcard: bool,
        /// Where the script's URL ends in the place's URL (PATH_INFO follows).
        script_end: usize,
        /// The DLL is listed in the effective InProcessIsapiApps (SHR-03).
        in_process: bool,
    },
    /// The static file at the place's physical path, with its MIME type (REQ-11).
    Static {
        /// The Content-Type.
        mime: &'v str,
        /// When the file was last written (virtual seconds), for Last-Modified and ETag (HTTP-25).
        modified: u64,
        /// The metabase change number the ETag ends with (HTTP-25).
        change_number: u64,
    },
    /// Any other answer: an error, a redirect, a listing.
    Reply(Reply),
}

/// A request resolved on the hot path.
#[derive(Debug, Clone)]
pub struct Fast<'v, 'r> {
    /// The handler, or the answer.
    pub outcome: FastOutcome<'v>,
    /// Where the request landed, when it reached a site.
    pub target: Option<Place<'v, 'r>>,
    method: &'r str,
    query: &'r str,
    /// A static default document's `Content-Location` (HTTP-25).
    content_location: Option<String>,
}

impl Fast<'_, '_> {
    /// The outcome as [`resolve`] gives it.
    pub fn outcome(&self) -> Outcome {
        let place = self.target.as_ref();
        let mut outcome = match (&self.outcome, place) {
            (FastOutcome::Reply(r), _) => Outcome::Reply(r.clone()),
            (&FastOutcome::Static { mime, modified, change_number }, Some(p)) => {
                let mut headers = Vec::with_capacity(4 + p.key.headers.len());
                headers.push(("Content-Type".into(), mime.to_string().into()));
                if let Some(l) = &self.content_location {
                    headers.push(("Content-Location".into(), l.clone().into()));
                }
                headers.extend(validators(modified, change_number));
                headers.extend(p.key.headers.iter().cloned());
                Outcome::Reply(Reply {
                    status: 200,
                    substatus: 0,
                    headers,
                    body: format!("(contents of {})", p.physical()),
                })
            }
            (&FastOutcome::Isapi { mapped, wildcard, script_end, in_process }, Some(p)) => Outcome::Isapi(IsapiCall {
                target: p.target(),
                dll: mapped.entry.processor.clone(),
                aspnet: mapped.aspnet,
                wildcard,
                method: self.method.to_string(),
                script_url: p.url[..script_end].to_string(),
                path_info: p.url[script_end..].to_string(),
                query: self.query.to_string(),
                app_isolated: p.key.app.isolated,
                in_process,
                base_headers: p.key.headers.to_vec(),
            }),
            (_, None) => unreachable!("handlers are chosen only once a request has a place"),
        };
        if self.method == "HEAD" {
            // HEAD answers carry the headers of the GET answer and no body.
            if let Outcome::Reply(reply) = &mut outcome {
                reply.body.clear();
            }
        }
        outcome
    }

    /// The HTTP status the outcome answers with (200 for an ISAPI, which sets its own later).
    pub fn status(&self) -> u16 {
        match &self.outcome {
            FastOutcome::Reply(r) => r.status,
            _ => 200,
        }
    }
}

/// One request's resolution in progress.
struct Run<'v, 'r, 's, S: Sink> {
    view: &'v View,
    req: &'r Request,
    sink: &'s mut S,
    target: Option<Place<'v, 'r>>,
    query: &'r str,
    /// The path was reached through a default document (REQ-08).
    default_doc: bool,
    /// The `Content-Location` a static default document goes out with (HTTP-25).
    content_location: Option<String>,
    /// The first segments of the request's path, when it was canonical as sent.
    spans: Spans,
}

/// A URL path as resolution walks it: `/` and the segments joined with `/` (no empty segment),
/// with a trailing `/` when the request had one.
#[derive(Debug, Clone)]
struct UrlPath<'r> {
    text: Cow<'r, str>,
    /// Ends with `/`.
    slash: bool,
    /// The run's `spans` are this very text's first segments, as canonicalisation found them.
    spans: bool,
}

impl<'r> UrlPath<'r> {
    /// The path of a canonical URL, borrowed unless it has empty segments to drop.
    #[inline(always)]
    fn new(path: Cow<'r, str>, shape: Option<Shape>) -> UrlPath<'r> {
        // A path of slashes alone (the root) has no trailing slash of its own.
        let slash = path.ends_with('/') && !path.bytes().all(|b| b == b'/');
        let empty_segment = shape.map_or_else(|| path.as_bytes().windows(2).any(|w| w == b"//"), |s| s.empty_segment);
        if !empty_segment {
            return UrlPath { text: path, slash, spans: shape.is_some() };
        }
        let mut text = String::with_capacity(path.len());
        for s in path.split('/').filter(|s| !s.is_empty()) {
            text.push('/');
            text.push_str(s);
        }
        if text.is_empty() || slash {
            text.push('/');
        }
        UrlPath { text: Cow::Owned(text), slash, spans: false }
    }

    /// The segments with the byte offset each ends at.
    fn segments(&self) -> impl Iterator<Item = (&str, usize)> {
        let text: &str = &self.text;
        text.split('/')
            .scan(0usize, |at, s| {
                let end = *at + s.len();
                *at = end + 1;
                Some((s, end))
            })
            .filter(|(s, _)| !s.is_empty())
    }

    fn is_root(&self) -> bool {
        self.text.len() <= 1
    }

    /// The last segment and where it starts.
    fn last(&self) -> Option<(&str, usize)> {
        let body = self.text.strip_suffix('/').unwrap_or(&self.text);
        let at = body.rfind('/')? + 1;
        Some((&body[at..], at)).filter(|(s, _)| !s.is_empty())
    }

    /// Where the last segment ends (the length without a trailing `/`).
    fn end(&self) -> usize {
        if self.slash {
            self.text.len() - 1
        } else {
            self.text.len()
        }
    }
}

/// The extension of a segment: the part before the first `;` (SM-10), from its last dot, as written.
fn extension(seg: &str) -> Option<&str> {
    let name = seg.split(';').next().unwrap_or_default();
    let dot = name.rfind('.')?;
    let ext = &name[dot..];
    (ext.len() > 1).then_some(ext)
}

/// The non-empty segments of `path` from `from` (the byte after a `/`), up to [`MAX_LEVELS`] of
/// them, into `out`: how many, and where the segments after them start. Eight bytes at a time:
/// only `/`, `;` and `.` stop the scan.
#[inline]
fn scan_spans(path: &[u8], from: usize, out: &mut [Span; MAX_LEVELS]) -> (usize, usize) {
    let len = path.len();
    let mut n = 0;
    let mut seg = Span { start: from as u32, ..Span::default() };
    let mut i = from;
    while i < len {
        let w = word_at(path, i);
        let (slash, semi, dot) = (eq_bytes(w, b'/'), eq_bytes(w, b';'), eq_bytes(w, b'.'));
        let mut events = slash | semi | dot;
        while events != 0 {
            let bit = events & events.wrapping_neg();
            events ^= bit;
            let at = (i + bit.trailing_zeros() as usize / 8) as u32;
            if slash & bit != 0 {
                if at > seg.start {
                    seg.end = at;
                    out[n] = seg;
                    n += 1;
                    if n == MAX_LEVELS {
                        return (n, at as usize + 1);
                    }
                }
                seg = Span { start: at + 1, ..Span::default() };
            } else if seg.semi == 0 {
                if semi & bit != 0 {
                    seg.semi = at;
                } else {
                    seg.dot = at;
                }
            }
        }
        i += 8;
    }
    if len > seg.start as usize {
        seg.end = len as u32;
        out[n] = seg;
        n += 1;
    }
    (n, len + 1)
}

/// [`scan_spans`] into a batch of its own, out of line: only paths canonicalisation changed, and
/// segments past the eighth, take it.
#[inline(never)]
fn scanned_spans(path: &[u8], from: usize) -> Spans {
    let mut spans = Spans::default();
    (spans.n, spans.next) = scan_spans(path, from, &mut spans.at);
    spans
}

/// `text.trim()`, without its set-up when neither end is white space (as a Host header's ends).
#[inline]
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// Whether [`host_name`] finds a name in `host`, decided by its first byte when it can: a printable
/// byte other than `:` starts a name that neither the port nor trimming can take away.
#[inline]
fn names_a_host(host: &str) -> bool {
    match host.as_bytes().first() {
        Some(&b) if b.is_ascii_graphic() && b != b':' => true,
        _ => host_name(host).is_some(),
    }
}

/// The Host header's name without `:port`, trimmed; `None` when empty.
fn host_name(host: &str) -> Option<&str> {
    let h = trim(host);
    let name = if h.starts_with('[') {
        h.split_inclusive(']').next().unwrap_or(h)
    } else {
        match h.bytes().rposition(|b| b == b':') {
            Some(at) if h.as_bytes()[at + 1..].iter().all(u8::is_ascii_digit) => &h[..at],
            _ => h,
        }
    };
    let name = trim(name);
    (!name.is_empty()).then_some(name)
}

/// Why an extension map does not run (REQ-10).
#[derive(Clone, Copy)]
enum Refusal {
    /// The method is not in the entry's verbs (SM-04).
    Verb,
    /// Neither Script nor Execute permission, as the entry needs (SM-03).
    Access,
    /// The entry checks that the file exists and it does not (SM-03).
    VerifyFile,
    /// The ISAPI is not an allowed Web Service Extension (MB-23, SHR-04).
    Lockdown,
}

/// What one walk of the key tree found: the script segment if any, and the deepest key up to it.
struct Found<'v> {
    /// The entry, where the script's URL ends, and whether its segment holds a `;`.
    script: Option<(&'v Mapped, usize, bool)>,
    key: &'v KeySlot,
    key_end: usize,
    /// Where the walked part of the URL ends (the script's end, or the last segment's).
    upto: usize,
    /// Where the last walked segment starts.
    last: usize,
}

/// Splits an absolute request target (`http://host/x`) into its host and path.
#[inline(always)]
fn split_absolute(url: &str) -> (Option<&str>, &str) {
    // Most targets are origin form: no scheme to compare.
    if url.starts_with('/') {
        return (None, url);
    }
    split_scheme(url)
}

/// [`split_absolute`] of a target not in origin form, out of line.
#[inline(never)]
fn split_scheme(url: &str) -> (Option<&str>, &str) {
    for scheme in ["http://", "https://"] {
        if url.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme)) {
            let rest = &url[scheme.len()..];
            let cut = rest.find(['/', '?']).unwrap_or(rest.len());
            let path = &rest[cut..];
            return (Some(&rest[..cut]), if path.is_empty() { "/" } else { path });
        }
    }
    (None, url)
}

/// Escapes text for an HTML page.
fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Percent-encodes what may not appear raw in a Location header.
fn url_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The title and explanation of IIS's own error page for a status.
fn error_text(status: u16, sub: u16) -> (&'static str, &'static str) {
    match (status, sub) {
        (400, _) => ("The page cannot be displayed", "HTTP Error 400 - Bad Request."),
        (403, 1) => ("The page cannot be displayed", "HTTP Error 403.1 - Forbidden: Execute access is denied."),
        (403, 2) => ("The page cannot be displayed", "HTTP Error 403.2 - Forbidden: Read access is denied."),
        (403, 14) => ("Directory Listing Denied", "This Virtual Directory does not allow contents to be listed."),
        (403, _) => ("You are not authorized to view this page", "HTTP Error 403 - Forbidden."),
        (404, 2) => (
            "The page cannot be found",
            "HTTP Error 404.2 - File or directory not found: Web service extension lockdown policy prevents this request.",
        ),
        (404, 3) => (
            "The page cannot be found",
            "HTTP Error 404.3 - File or directory not found: MIME map policy prevents this request.",
        ),
        (404, _) => ("The page cannot be found", "HTTP Error 404 - File or directory not found."),
        (405, _) => ("The page cannot be displayed", "HTTP Error 405 - The HTTP verb used to access this page is not allowed."),
        (500, 15) => ("The page cannot be displayed", "HTTP Error 500.15 - Server error: Requests for GLOBAL.ASA are not allowed."),
        _ => ("The page cannot be displayed", "HTTP Error - the server could not complete the request."),
    }
}

impl<'v, 'r, S: Sink> Run<'v, 'r, '_, S> {
    fn iis6(&self) -> bool {
        self.view.edition.is_iis6()
    }

    fn server(&self) -> String {
        format!("Microsoft-IIS/{}", self.view.edition.iis_version())
    }

    /// An answer HTTP.sys (IIS 5: inetinfo) gives before any site logic; never customised (REQ-13).
    /// IIS 6's HTTP.sys 1.0 sends no `Server` header and only `<h1>text</h1>` (HTTP-02, HTTP-03).
    fn httpsys_reply(&mut self, status: u16, h1: &str, heading: &str, text: &str) -> FastOutcome<'v> {
        if self.iis6() {
            let headers = vec![("Content-Type".into(), "text/html".into())];
            return FastOutcome::Reply(Reply { status, substatus: 0, headers, body: format!("<h1>{h1}</h1>") });
        }
        let title = if status == 404 { "Not Found" } else { "Bad Request" };
        let body = format!(
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n\
             <HTML><HEAD><TITLE>{title}</TITLE>\r\n\
             <META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n\
             <BODY><h2>{heading}</h2>\r\n<hr><p>HTTP Error {status}. {text}</p>\r\n</BODY></HTML>\r\n"
        );
        let headers = vec![("Content-Type".into(), "text/html".into()), ("Server".into(), self.server().into())];
        FastOutcome::Reply(Reply { status, substatus: 0, headers, body })
    }

    /// An IIS error answer, customised by the key's HttpErrors (REQ-12, REQ-13).
    fn fail(&mut self, key: &KeyView, status: u16, sub: u16, why: &str, rules: &[RuleId]) -> FastOutcome<'v> {
        let code = if sub == 0 { status.to_string() } else { format!("{status}.{sub}") };
        decide!(self.sink, rules, "{code}: {why}");
        let custom = key
            .errors
            .iter()
            .find(|e| e.code == status && e.sub == Some(sub))
            .or_else(|| key.errors.iter().find(|e| e.code == status && e.sub.is_none()));
        let body = match custom.map(|e| &e.source) {
            Some(ErrorSource::File(file)) => {
                decide!(self.sink, &["REQ-13"], "custom error {code}: the body is the file {file}");
                format!("(contents of {file})")
            }
            Some(ErrorSource::Url(url)) => {
                decide!(self.sink, &["REQ-13"], "custom error {code}: the body is the document at {url}");
                format!("(document at {url})")
            }
            None => {
                let (title, text) = error_text(status, sub);
                format!(
                    "<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p>\
                     <hr><p>Internet Information Services (IIS)</p></body></html>"
                )
            }
        };
        let mut headers = vec![("Content-Type".into(), "text/html".into())];
        headers.extend(key.headers.iter().cloned());
        FastOutcome::Reply(Reply { status, substatus: sub, headers, body })
    }

    /// An IIS answer that is not an error.
    fn ok(&self, key: &KeyView, status: u16, extra: Vec<super::Header>, body: String) -> FastOutcome<'v> {
        let mut headers = extra;
        headers.extend(key.headers.iter().cloned());
        FastOutcome::Reply(Reply { status, substatus: 0, headers, body })
    }

    /// The site the request's host (or the absolute URL's) selects, or HTTP.sys's Invalid Hostname.
    #[inline(always)]
    fn site_for(&mut self, url_host: Option<&'r str>) -> Result<&'v SiteView, FastOutcome<'v>> {
        let raw = url_host.or(self.req.host.as_deref());
        let (req, bindings) = (self.req, &self.view.bindings);
        // With neither a host-named nor an IP-bound binding, a request naming a host (or any
        // HTTP/1.0 one) can only reach the port's all-unassigned binding: one read (REQ-04). The
        // steps below find the same site, and word the decisions and the refusal.
        if !S::KEEPS && !bindings.host_named && !bindings.ip_bound && (req.http10 || raw.is_some_and(names_a_host)) {
            if let Some((i, _)) = bindings.get(&self.view.sites, req.port, "", "") {
                return Ok(&self.view.sites[i]);
            }
        }
        // Only a host-named binding, or a decision's text, needs the name itself; otherwise whether
        // the request names a host at all decides (REQ-04).
        let host = if S::KEEPS || self.view.bindings.host_named {
            raw.and_then(host_name)
        } else {
            raw.filter(|h| names_a_host(h))
        };
        self.select_site(host).ok_or_else(|| {
            let (h1, heading) = ("Bad Request (Invalid Hostname)", "Bad Request - Invalid Hostname");
            self.httpsys_reply(400, h1, heading, "The request hostname is invalid.")
        })
    }

    #[inline(always)]
    fn start(&mut self) -> FastOutcome<'v> {
        let req = self.req;
        let (url_host, target) = split_absolute(&req.url);
        // `OPTIONS *` asks about the server, not a URL (HTTP-16).
        if req.method == "OPTIONS" && target == "*" {
            return self.options_server(url_host);
        }
        let (http, status) = (&self.view.http, self.view.policies.canon_failure_status);
        let canon = match canonicalize_spans(target, http, status, self.sink, &mut self.spans) {
            Ok(c) => c,
            Err(rejection) => return self.refuse_url(rejection),
        };
        self.query = canon.query;
        let site = match self.site_for(url_host) {
            Ok(site) => site,
            Err(out) => return out,
        };
        let suspect = canon.shape.is_none_or(|s| s.suspect);
        let mut url = UrlPath::new(canon.path, canon.shape);
        if suspect {
            if let Some(out) = self.check_segments(site, &mut url) {
                return out;
            }
        }
        if req.method == "TRACE" {
            return self.trace(site, &url);
        }
        if req.method == "OPTIONS" {
            let shown: &str = &url.text;
            return self.options(site, &url, shown);
        }
        self.resolve_path(site, url, 0)
    }

    /// `OPTIONS *`: the server's verbs, for the site the host selects (HTTP-16).
    #[cold]
    #[inline(never)]
    fn options_server(&mut self, url_host: Option<&'r str>) -> FastOutcome<'v> {
        let site = match self.site_for(url_host) {
            Ok(site) => site,
            Err(out) => return out,
        };
        self.options(site, &UrlPath::new(Cow::Borrowed("/"), None), "*")
    }

    /// HTTP.sys's refusal of a URL canonicalisation turned down (REQ-13: never customised).
    #[cold]
    #[inline(never)]
    fn refuse_url(&mut self, rejection: Rejection) -> FastOutcome<'v> {
        let Rejection { status, reason, rules, text: h1 } = rejection;
        decide!(self.sink, &rules, "HTTP.sys refuses the URL ({reason}): {status}, not customisable");
        let heading = if status == 404 { "Not Found" } else { "Bad Request" };
        let text = if status == 404 { "The requested URL is invalid." } else { "The request URL is invalid." };
        self.httpsys_reply(status, h1, heading, text)
    }

    /// OPTIONS: 200 without a body, the verbs of the resource (Allow) and of the server (Public),
    /// with WebDAV's verbs and headers only where WebDAV is allowed (HTTP-16). IIS answers it
    /// before any script map.
    #[cold]
    #[inline(never)]
    fn options(&mut self, site: &'v SiteView, url: &UrlPath<'r>, shown: &str) -> FastOutcome<'v> {
        let key = self.target_all(site, url);
        let pair = |k: &'static str, v: &'static str| (k.into(), v.into());
        let headers = if self.view.webdav {
            decide!(
                self.sink,
                &["HTTP-16"],
                "OPTIONS {shown}: 200, Allow and Public name WebDAV's verbs (WebDAV is allowed)"
            );
            vec![
                pair("Allow", DAV_VERBS),
                pair("Public", DAV_VERBS),
                pair("MS-Author-Via", "DAV"),
                pair("DAV", "1, 2"),
                pair("DASL", "<DAV:sql>"),
            ]
        } else {
            decide!(
                self.sink,
                &["HTTP-16"],
                "OPTIONS {shown}: 200, Allow and Public without WebDAV's verbs (WebDAV is prohibited)"
            );
            vec![pair("Allow", PLAIN_VERBS), pair("Public", PLAIN_VERBS)]
        };
        self.ok(key, 200, headers, String::new())
    }

    /// A conditional GET of a static file the client holds current: 304 with the validators and
    /// no body (HTTP-25). `If-None-Match` decides when sent, else `If-Modified-Since`.
    fn not_modified(&mut self, key: &KeyView, modified: u64) -> Option<FastOutcome<'v>> {
        let req = self.req;
        let (none_match, since) = (req.header("If-None-Match"), req.header("If-Modified-Since"));
        if none_match.is_none() && since.is_none() {
            return None;
        }
        let change_number = self.view.change_number;
        let why = match (none_match, since) {
            (Some(tags), _) => {
                let tag = etag(modified, change_number);
                let hit = tags.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == tag);
                hit.then(|| format!("If-None-Match names its ETag {tag}"))?
            }
            (None, Some(date)) => {
                let file =
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(crate::machine::EPOCH_UNIX + modified);
                let current = httpdate::parse_http_date(date.trim()).is_ok_and(|d| d >= file);
                current.then(|| format!("it has not changed since If-Modified-Since ({})", date.trim()))?
            }
            (None, None) => return None,
        };
        decide!(self.sink, &["HTTP-25"], "static file {}: {why}: 304 Not Modified, no body", self.physical());
        Some(self.ok(key, 304, validators(modified, change_number).to_vec(), String::new()))
    }

    /// TRACE: IIS 6 answers 501 while EnableTraceMethod is 0; when it is 1, and on IIS 5.x, the
    /// request comes back as `message/http` (HTTP-15).
    #[cold]
    #[inline(never)]
    fn trace(&mut self, site: &'v SiteView, url: &UrlPath<'r>) -> FastOutcome<'v> {
        let key = self.target_all(site, url);
        if self.iis6() && !self.view.trace_enabled {
            decide!(self.sink, &["HTTP-15"], "TRACE is not recognised while EnableTraceMethod is 0: 501, no echo");
            let headers = key.headers.to_vec();
            return FastOutcome::Reply(Reply { status: 501, substatus: 0, headers, body: String::new() });
        }
        decide!(self.sink, &["HTTP-15"], "TRACE echoes the request as message/http");
        let req = self.req;
        let version = if req.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        let mut body = format!("TRACE {} {version}\r\n", req.url);
        if let Some(h) = &req.host {
            body.push_str(&format!("Host: {h}\r\n"));
        }
        for (n, v) in &req.headers {
            body.push_str(&format!("{n}: {v}\r\n"));
        }
        body.push_str("\r\n");
        self.ok(key, 200, vec![("Content-Type".into(), "message/http".into())], body)
    }

    /// Whether binding `b` can take the request, and how well: 0 is best (REQ-04).
    fn rank(&self, b: &super::view::Binding, host: Option<&str>, ip: &str) -> Option<u8> {
        if b.port != self.req.port || !(b.ip.is_empty() || b.ip.eq_ignore_ascii_case(ip)) {
            return None;
        }
        let ip_bound = !b.ip.is_empty();
        match (host, b.host.is_empty()) {
            (Some(h), false) if h.eq_ignore_ascii_case(&b.host) => Some(u8::from(!ip_bound)),
            (Some(_), false) => None,
            (_, true) => Some(2 + u8::from(!ip_bound)),
            (None, false) if self.view.policies.no_host_reaches_any => Some(4),
            (None, false) => None,
        }
    }

    /// REQ-04, REQ-05: the started site whose binding matches best, by exact binding in the index.
    fn select_site(&mut self, host: Option<&str>) -> Option<&'v SiteView> {
        let (req, view) = (self.req, self.view);
        if host.is_none() && !req.http10 {
            decide!(self.sink, &["REQ-04"], "HTTP/1.1 request without a Host name: no binding can match");
            return None;
        }
        let ip = trim(&req.ip);
        // Stopped sites only add decisions.
        for &i in view.stopped.iter().filter(|_| S::KEEPS) {
            let site = &view.sites[i];
            for b in &site.bindings {
                if self.rank(b, host, ip).is_some() {
                    decide!(
                        self.sink,
                        &["REQ-05"],
                        "site {} matches binding {b} but does not listen (stopped or in conflict)",
                        site.id
                    );
                }
            }
        }
        let port = req.port;
        let exact = |ip: &str, host: &str| view.bindings.get(&view.sites, port, ip, host);
        let ip_bound = |host: &str| if !view.bindings.ip_bound || ip.is_empty() { None } else { exact(ip, host) };
        let found = match host {
            Some(h) if view.bindings.host_named => ip_bound(h).map(|f| (0, f)).or_else(|| exact("", h).map(|f| (1, f))),
            _ => None,
        }
        .or_else(|| ip_bound("").map(|f| (2, f)))
        .or_else(|| exact("", "").map(|f| (3, f)))
        .or_else(|| {
            // HTTP/1.0 without Host reaching a host-named binding is rare: scan (req.no_host_binding).
            let any = host.is_none() && view.policies.no_host_reaches_any;
            let started = view.sites.iter().enumerate().filter(|(_, s)| s.started && any);
            let mut all = started.flat_map(|(i, s)| s.bindings.iter().enumerate().map(move |(j, b)| (i, j, b)));
            all.find(|(_, _, b)| self.rank(b, host, ip) == Some(4)).map(|(i, j, _)| (4, (i, j)))
        });
        match found {
            Some((rank, (i, j))) => {
                let site = &view.sites[i];
                let kind = match rank {
                    0 | 1 => "explicit host binding",
                    2 => "IP-bound binding",
                    3 => "all-unassigned binding",
                    _ => "host binding reached without a Host name (req.no_host_binding = any)",
                };
                decide!(
                    self.sink,
                    &["REQ-04"],
                    "site {} by {kind} {} (host {}, {}:{})",
                    site.id,
                    site.bindings[j],
                    host.map_or("(none)".to_string(), str::to_ascii_lowercase),
                    req.ip,
                    req.port
                );
                Some(site)
            }
            None => {
                let rules: &[RuleId] = if self.iis6() {
                    &["REQ-04", "REQ-13", "HTTP-02", "HTTP-03", "HTTP-23"]
                } else {
                    &["REQ-04", "REQ-13"]
                };
                decide!(
                    self.sink,
                    rules,
                    "no started site binds host {} on {}:{}: 400 Invalid Hostname, not customisable",
                    host.map_or("(none)".to_string(), str::to_ascii_lowercase),
                    req.ip,
                    req.port
                );
                None
            }
        }
    }

    /// One walk of the key tree: the first segment whose extension has a non-wildcard map at its
    /// key (SM-11, SEC-09, SM-02), with IIS 5.x's `.*` standing for otherwise unmapped extensions
    /// (SM-06), and the deepest key up to it (REQ-06, MB-15); without a script, up to the end.
    #[inline(always)]
    fn find(&self, site: &SiteView, url: &UrlPath<'_>, scripts: bool) -> Found<'v> {
        let dotstar = !self.iis6() && self.view.policies.iis5_wildcards == "dotstar_only";
        let view = self.view;
        let text: &str = &url.text;
        let (mut key, mut key_end) = (view.root_key(site), 0);
        // The node reached so far while the URL is still on the key tree, and its chained hash.
        let tree = &view.keys;
        let (mut node, mut h) = (Some(site.node), tree.hash_of(site.node));
        let mut start = 1;
        // The first segments as canonicalisation found them, if it did.
        let mut known = url.spans.then_some(&self.spans);
        while start < text.len() {
            let scanned;
            let spans = match known.take() {
                Some(spans) => spans,
                None => {
                    scanned = scanned_spans(text.as_bytes(), start);
                    &scanned
                }
            };
            start = spans.next;
            for s in &spans.at[..spans.n] {
                let end = s.end as usize;
                if let Some(parent) = node {
                    let found;
                    (h, found) = tree.step(parent, h, text, (s.start as usize, end));
                    node = found.map(|(n, _)| n);
                    if let Some(k) = found.and_then(|(_, k)| k) {
                        (key, key_end) = (k, end);
                    }
                }
                // The extension: from the last dot before the first `;` (SM-10).
                let name_end = if s.semi != 0 { s.semi as usize } else { end };
                let dot = s.dot as usize;
                if scripts && dot != 0 && name_end - dot > 1 {
                    let maps = &key.maps;
                    let found =
                        maps.get_in(text, dot, name_end).or_else(|| if dotstar { maps.dotstar() } else { None });
                    if let Some(mapped) = found {
                        let script = Some((mapped, end, s.semi != 0));
                        return Found { script, key, key_end, upto: end, last: s.start as usize };
                    }
                }
            }
        }
        let last = url.last().map_or(url.end(), |(_, at)| at);
        Found { script: None, key, key_end, upto: url.end(), last }
    }

    #[inline(always)]
    fn set_target(&mut self, site: &'v SiteView, key: &'v KeyView, url: &UrlPath<'r>, rest: (usize, usize)) {
        self.target = Some(Place { site, key, url: url.text.clone(), rest });
    }

    /// Sets the target to the deepest key on the whole URL, for a refusal before any handler.
    fn target_all(&mut self, site: &'v SiteView, url: &UrlPath<'r>) -> &'v KeyView {
        let f = self.find(site, url, false);
        self.set_target(site, f.key, url, (f.key_end, f.upto));
        f.key
    }

    /// Segment checks before any handler: `:` (SEC-05), `;` in strict mode (SEC-08), names made of
    /// dots (SEC-03), trailing dots and spaces of the last segment (SEC-06).
    #[inline(never)]
    fn check_segments(&mut self, site: &'v SiteView, url: &mut UrlPath<'r>) -> Option<FastOutcome<'v>> {
        // One pass finds whether any check can fail; the checks below then run in their order.
        let suspect = url.segments().any(|(s, _)| {
            s.bytes().any(|b| b == b':' || b == b';')
                || s.ends_with(['.', ' '])
                || s.trim_end_matches(['.', ' ']).is_empty()
        });
        if !suspect {
            return None;
        }
        if let Some((seg, _)) = url.segments().find(|(s, _)| s.contains(':')) {
            let why = format!("segment \"{seg}\" holds a ':' (alternate data stream)");
            let key = self.target_all(site, url);
            return Some(self.fail(key, self.view.policies.colon_status, 0, &why, &["SEC-05"]));
        }
        if self.view.policies.semicolon_strict {
            if let Some((seg, _)) = url.segments().find(|(s, _)| s.contains(';')) {
                let why = format!("segment \"{seg}\" holds a ';' (strict semicolon policy)");
                let key = self.target_all(site, url);
                return Some(self.fail(key, 404, 0, &why, &["SEC-08", "SM-10"]));
            }
        }
        if let Some((seg, _)) = url.segments().find(|(s, _)| s.trim_end_matches(['.', ' ']).is_empty()) {
            let why =
                format!("segment \"{seg}\" is only dots and spaces, which Windows reads as a parent or current folder");
            let key = self.target_all(site, url);
            return Some(self.fail(key, 404, 0, &why, &["SEC-03", "SEC-06"]));
        }
        if !url.slash {
            if let Some((last, at)) = url.last() {
                let stripped = last.trim_end_matches(['.', ' ']);
                if stripped.len() != last.len() {
                    if self.view.policies.trailing_dot_reject {
                        let why = format!("\"{last}\" ends with dots or spaces (reject policy)");
                        let key = self.target_all(site, url);
                        return Some(self.fail(key, 404, 0, &why, &["SEC-06"]));
                    }
                    decide!(
                        self.sink,
                        &["SEC-06"],
                        "\"{last}\" is read as \"{stripped}\": trailing dots and spaces stripped"
                    );
                    let text = format!("{}{stripped}", &url.text[..at]);
                    url.text = Cow::Owned(text);
                    url.spans = false;
                }
            }
        }
        None
    }

    /// Steps 3 to 8 for a canonical, checked URL path.
    #[inline(always)]
    fn resolve_path(&mut self, site: &'v SiteView, url: UrlPath<'r>, depth: u8) -> FastOutcome<'v> {
        let found = self.find(site, &url, true);
        let key: &'v KeyView = found.key;
        self.set_target(site, key, &url, (found.key_end, found.upto));
        if self.sink.keeps() {
            let physical = self.target.as_ref().map(Place::physical).unwrap_or_default();
            let app = if key.app.in_app {
                format!("application {} ({})", key.app.path, key.app.vpath)
            } else {
                format!("no application on the way: ROOT {} stands in", key.app.path)
            };
            decide!(self.sink, &["REQ-06", "MB-15", "MB-20", "MB-21"], "key {}, {app}, physical {physical}", key.path);
        }
        // Without a script segment the whole URL is the script name a wildcard ISAPI sees.
        let script_end = if found.script.is_some() { found.upto } else { url.text.len() };

        let last = url.text.get(found.last..found.upto).unwrap_or_default();
        if last.eq_ignore_ascii_case("global.asa") {
            return self.global_asa(key);
        }

        if depth == 0 && found.key.wildcards {
            if let Some(out) = self.wildcards(key, script_end) {
                return out;
            }
        }

        if let Some((mapped, _, semicolon)) = found.script {
            if self.sink.keeps() {
                let mut rules: Vec<RuleId> = vec!["SM-11", "SEC-09", "SM-02"];
                if semicolon {
                    rules.push("SM-10");
                    rules.push("SEC-08");
                }
                if mapped.entry.extension == ".*" {
                    rules.push("SM-06");
                }
                let (script_url, path_info) = url.text.split_at(script_end);
                decide!(
                    self.sink,
                    &rules,
                    "script {script_url} (PATH_INFO \"{path_info}\"): {} maps to {}",
                    mapped.entry.extension,
                    mapped.entry.processor
                );
            }
            if self.req.header("Translate").is_some_and(|v| v.trim().eq_ignore_ascii_case("f")) {
                decide!(
                    self.sink,
                    &["SEC-07"],
                    "Translate: f never returns a script-mapped file's source: the map runs"
                );
            }
            return self.extension_map(found.key, mapped, script_end);
        }

        self.no_script(site, key, url, (found.key_end, found.upto), depth)
    }

    /// SEC-10: Global.asa is refused wherever it is.
    #[cold]
    #[inline(never)]
    fn global_asa(&mut self, key: &KeyView) -> FastOutcome<'v> {
        self.fail(key, 500, 15, "Global.asa is never served", &["SEC-10", "REQ-12"])
    }

    /// A URL with no script segment: a folder, or a static file (REQ-08, REQ-11), out of line so
    /// that the script path's code stays compact.
    #[inline(never)]
    fn no_script(
        &mut self,
        site: &'v SiteView,
        key: &'v KeyView,
        url: UrlPath<'r>,
        (key_end, upto): (usize, usize),
        depth: u8,
    ) -> FastOutcome<'v> {
        let rest = &url.text[key_end..upto];
        match self.view.file(key, rest) {
            Some(true) => self.directory(site, key, url, depth),
            _ if url.slash => {
                let physical = self.physical();
                self.fail(key, 404, 0, &format!("{physical} is not a folder"), &["REQ-08", "REQ-11"])
            }
            found => self.static_file(key, &url, found == Some(false)),
        }
    }

    /// The target's physical path (for texts and refusals).
    fn physical(&self) -> String {
        self.target.as_ref().map(Place::physical).unwrap_or_default()
    }

    /// When the target's file was last written (virtual seconds).
    fn target_file_time(&self) -> Option<u64> {
        let p = self.target.as_ref()?;
        self.view.file_time(&p.key.physical, p.rest_segments())
    }

    /// Whether the target's physical path is a file (`Some(false)`) or folder (`Some(true)`).
    fn target_file(&self) -> Option<bool> {
        let p = self.target.as_ref()?;
        self.view.file(p.key, p.rest_segments())
    }

    /// IIS 6 wildcard maps, in order (REQ-09, SM-05, SM-07); inert on IIS 5.x (SM-06).
    #[inline(never)]
    fn wildcards(&mut self, key: &'v KeyView, script_end: usize) -> Option<FastOutcome<'v>> {
        if key.wildcards.is_empty() {
            return None;
        }
        if !self.iis6() && self.view.policies.iis5_wildcards != "iis6" {
            decide!(self.sink, &["SM-06"], "`*` script maps are inert on IIS 5.x");
            return None;
        }
        let method = self.req.method.as_str();
        for w in key.wildcards.iter() {
            if !w.allows_verb(method) {
                decide!(
                    self.sink,
                    &["SM-05", "SM-04"],
                    "wildcard map {} does not take {method}: skipped",
                    w.entry.processor
                );
                continue;
            }
            decide!(self.sink, &["REQ-09", "SM-07", "SM-05"], "wildcard map {} runs first", w.entry.processor);
            if w.entry.flags & FLAG_VERIFY_FILE != 0 && self.target_file().is_none() {
                let physical = self.physical();
                return Some(self.fail(
                    key,
                    404,
                    0,
                    &format!("{physical} does not exist (verify file)"),
                    &["REQ-09", "SM-03"],
                ));
            }
            if let Some(out) = self.lockdown(key, w) {
                return Some(out);
            }
            return Some(self.isapi(w, true, script_end, key.runs_in_process(w)));
        }
        None
    }

    /// IIS 6 lockdown: the processor must be allowed by WebSvcExtRestrictionList (MB-23, SHR-04).
    #[inline(always)]
    fn lockdown(&mut self, key: &KeyView, mapped: &Mapped) -> Option<FastOutcome<'v>> {
        if !self.iis6() || mapped.allowed {
            return None;
        }
        Some(self.refuse_map(key, mapped, Refusal::Lockdown))
    }

    /// REQ-10's checks in order, then the ISAPI call.
    #[inline(always)]
    fn extension_map(&mut self, slot: &'v KeySlot, mapped: &'v Mapped, script_end: usize) -> FastOutcome<'v> {
        // The checks read the slot's copies; the key itself only words a refusal.
        let key: &'v KeyView = slot;
        let entry = &mapped.entry;
        let method = self.req.method.as_str();
        if !mapped.allows_verb(method) {
            return self.refuse_map(key, mapped, Refusal::Verb);
        }
        let script = entry.flags & FLAG_SCRIPT != 0;
        let needed = if script { ACCESS_SCRIPT | ACCESS_EXECUTE } else { ACCESS_EXECUTE };
        if slot.access & needed == 0 {
            return self.refuse_map(key, mapped, Refusal::Access);
        }
        if entry.flags & FLAG_VERIFY_FILE != 0 && self.target_file() != Some(false) {
            return self.refuse_map(key, mapped, Refusal::VerifyFile);
        }
        if let Some(out) = self.lockdown(key, mapped) {
            return out;
        }
        if self.sink.keeps() {
            if let Some(v) = mapped.aspnet {
                if v.forbidden_extensions().iter().any(|f| f.eq_ignore_ascii_case(&entry.extension)) {
                    decide!(
                        self.sink,
                        &["HDR-07", "SEC-10"],
                        "{} is a forbidden type: ASP.NET answers it",
                        entry.extension
                    );
                }
            }
        }
        self.isapi(mapped, false, script_end, slot.runs_in_process(mapped))
    }

    /// REQ-10's refusals of an extension map, out of line.
    #[cold]
    #[inline(never)]
    fn refuse_map(&mut self, key: &KeyView, mapped: &Mapped, why: Refusal) -> FastOutcome<'v> {
        let entry = &mapped.entry;
        match why {
            Refusal::Verb => {
                let method = self.req.method.as_str();
                let (status, sub) = self.view.policies.verb_not_allowed;
                let why = format!("{method} is not in the verbs of {} ({})", entry.extension, entry.verbs.join(","));
                self.fail(key, status, sub, &why, &["REQ-10", "SM-04"])
            }
            Refusal::Access => {
                let needs = if entry.flags & FLAG_SCRIPT != 0 { "Script or Execute" } else { "Execute" };
                let why = format!("{} needs {needs} permission, AccessFlags {}", entry.extension, key.access);
                self.fail(key, 403, 1, &why, &["REQ-10", "SM-03"])
            }
            Refusal::VerifyFile => {
                let physical = self.physical();
                self.fail(key, 404, 0, &format!("{physical} is not a file (verify file)"), &["REQ-10", "SM-03"])
            }
            Refusal::Lockdown => self.fail(
                key,
                404,
                2,
                &format!("{} is not allowed as a Web Service Extension", entry.processor),
                &["REQ-10", "MB-23", "SHR-04"],
            ),
        }
    }

    #[inline(always)]
    fn isapi(&mut self, mapped: &'v Mapped, wildcard: bool, script_end: usize, in_process: bool) -> FastOutcome<'v> {
        let dll = &mapped.entry.processor;
        if self.sink.keeps() {
            let runtime = mapped.aspnet.map(|v| format!(" (ASP.NET {v})")).unwrap_or_default();
            let step = if wildcard { "REQ-09" } else { "REQ-10" };
            // Where the ISAPI loads (InProcessIsapiApps, SHR-03) is the process model's decision.
            decide!(self.sink, &[step], "dispatch to {dll}{runtime}");
        }
        FastOutcome::Isapi { mapped, wildcard, script_end, in_process }
    }

    /// The name an absolute URL back to the server uses: the absolute request target's host, the
    /// Host header, or without one the server's IP address (and port unless 80) (HTTP-25, HTTP-29).
    fn public_host(&self) -> String {
        let req = self.req;
        match (split_absolute(&req.url).0, &req.host) {
            (Some(h), _) => h.to_string(),
            (None, Some(h)) if !h.trim().is_empty() => h.trim().to_string(),
            _ if req.port == 80 => req.ip.clone(),
            _ => format!("{}:{}", req.ip, req.port),
        }
    }

    /// REQ-08: courtesy redirect, default document, listing or 403.14.
    fn directory(&mut self, site: &'v SiteView, key: &'v KeyView, url: UrlPath<'r>, depth: u8) -> FastOutcome<'v> {
        let full: &str = &url.text;
        let physical = self.physical();
        if !url.slash && !url.is_root() {
            let location = format!("http://{}{}/", self.public_host(), url_escape(full));
            let status = self.view.policies.courtesy_redirect_status;
            decide!(self.sink, &["REQ-08", "HTTP-29"], "{full} is a folder: courtesy redirect {status} to {location}");
            let body = format!(
                "<head><title>Document Moved</title></head>\n<body><h1>Object Moved</h1>This document may be found \
                 <a HREF=\"{}\">here</a></body>",
                html(&location)
            );
            let extra = vec![("Location".into(), location.into()), ("Content-Type".into(), "text/html".into())];
            return self.ok(key, status, extra, body);
        }
        if !self.iis6() && self.req.method == "POST" {
            return self.fail(key, 405, 0, "POST to a folder URL", &["REQ-08"]);
        }
        if key.dir_browse & ENABLE_DEFAULT_DOC != 0 && depth < MAX_DEPTH {
            let usable = |d: &&String| !d.contains(['/', '\\', ':']) && !d.trim_end_matches(['.', ' ']).is_empty();
            let found = key.default_docs.iter().filter(usable).find(|d| self.view.is_file(&format!("{physical}\\{d}")));
            if let Some(doc) = found {
                decide!(self.sink, &["REQ-08"], "default document {doc} in {full}");
                self.default_doc = true;
                let text = format!("{}/{doc}", full.trim_end_matches('/'));
                return self.resolve_path(
                    site,
                    UrlPath { text: Cow::Owned(text), slash: false, spans: false },
                    depth + 1,
                );
            }
            decide!(
                self.sink,
                &["REQ-08"],
                "no default document of \"{}\" exists in {physical}",
                key.default_docs.join(",")
            );
        }
        if key.dir_browse & ENABLE_DIR_BROWSING == 0 {
            return self.fail(key, 403, 14, "directory browsing is off", &["REQ-08", "REQ-12"]);
        }
        if key.access & ACCESS_READ == 0 {
            return self.fail(key, 403, 2, "a listing needs Read permission", &["REQ-08", "REQ-11"]);
        }
        if !matches!(self.req.method.as_str(), "GET" | "HEAD") {
            return self.fail(key, 405, 0, &format!("{} on a listing", self.req.method), &["REQ-08", "REQ-11"]);
        }
        decide!(self.sink, &["REQ-08"], "listing of {physical}");
        let host =
            self.req.host.as_deref().and_then(host_name).map_or_else(|| self.req.ip.clone(), str::to_ascii_lowercase);
        let mut body = format!(
            "<html><head><title>{h} - {u}</title></head><body><H1>{h} - {u}</H1><hr>\n<pre>",
            h = html(&host),
            u = html(full)
        );
        if let Some((_, at)) = url.last() {
            let parent = &full[..at];
            body.push_str(&format!("<A HREF=\"{}\">[To Parent Directory]</A><br><br>\n", html(&url_escape(parent))));
        }
        for (name, dir) in self.view.list(&physical) {
            let href = html(&url_escape(&format!("{full}{name}{}", if dir { "/" } else { "" })));
            let kind = if dir { "&lt;dir&gt;" } else { "     " };
            body.push_str(&format!("{kind} <A HREF=\"{href}\">{}</A><br>\n", html(&name)));
        }
        body.push_str("</pre><hr></body></html>");
        self.ok(key, 200, vec![("Content-Type".into(), "text/html".into())], body)
    }

    /// REQ-11: the static file handler.
    fn static_file(&mut self, key: &'v KeyView, url: &UrlPath<'r>, exists: bool) -> FastOutcome<'v> {
        let name = url.last().map(|(s, _)| s).unwrap_or_default();
        let ext = extension(name).unwrap_or_default();
        if key.access & ACCESS_READ == 0 {
            let text: &str = &url.text;
            return self.fail(key, 403, 2, &format!("no Read permission for {text}"), &["REQ-11", "REQ-12"]);
        }
        // IIS 6 needs no rule of its own: .config has no MIME type, so REQ-11 answers 404.3 below.
        if ext.eq_ignore_ascii_case(".config") && !self.iis6() {
            return self.fail(key, 404, 0, "configuration files are never served", &["SEC-10"]);
        }
        if !exists {
            let physical = self.physical();
            return self.fail(key, 404, 0, &format!("{physical} does not exist"), &["REQ-11"]);
        }
        let found = key.mime.get(ext).or_else(|| key.mime.get(".*"));
        let mime = match found {
            Some(m) => m,
            None if self.iis6() => {
                let shown = if ext.is_empty() { "(no extension)".to_string() } else { ext.to_ascii_lowercase() };
                return self.fail(key, 404, 3, &format!("{shown} has no MIME type"), &["REQ-11", "REQ-12"]);
            }
            None => {
                let shown = if ext.is_empty() { "(no extension)".to_string() } else { ext.to_ascii_lowercase() };
                decide!(
                    self.sink,
                    &["REQ-11"],
                    "{shown} has no MIME type: IIS 5 serves it as application/octet-stream"
                );
                "application/octet-stream"
            }
        };
        let method = self.req.method.as_str();
        if !matches!(method, "GET" | "HEAD") {
            return self.fail(key, 405, 0, &format!("{method} on a static file"), &["REQ-11", "REQ-14"]);
        }
        let modified = self.target_file_time().unwrap_or(0);
        if let Some(out) = self.not_modified(key, modified) {
            return out;
        }
        decide!(self.sink, &["REQ-11"], "static file {} as {mime}", self.physical());
        if self.default_doc {
            // The default document's own URL (HTTP-25).
            let path = self.target.as_ref().map(|p| url_escape(&p.url)).unwrap_or_default();
            let location = format!("http://{}{path}", self.public_host());
            decide!(self.sink, &["HTTP-25"], "served as the folder's default document: Content-Location {location}");
            self.content_location = Some(location);
        }
        FastOutcome::Static { mime, modified, change_number: self.view.change_number }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_finds_each_segments_end_its_semicolon_and_its_extension_dot() {
        let cases = [
            ("/Site0/App3/Default.aspx", 1),
            ("/Site0/App3/Default.aspx", 12),
            ("/a.b.c/d", 1),
            ("/x.asp;y.aspx/z", 1),
            ("/abcdefghijklmnopqrstuvwxyz.0123456789/", 1),
            ("/abcdefgh;ijklmnop.q", 1),
            ("/", 1),
            ("//a", 1),
            ("/caf\u{e9}.htm", 1),
            ("/a", 1),
            ("/a.b;c.d;e/.f./;/.", 1),
            ("/1/2/3/4/5/6/7/8/9/10/11/12.x", 1),
            ("/1/2/3/4/5/6/7/8/9/10/11/12.x", 17),
            ("/a//b///c.d////", 1),
        ];
        for (path, from) in cases {
            let want = crate::dispatch::canon::tests::spans_one_by_one(path, from);
            let mut got = Vec::new();
            let mut start = from;
            while start < path.len() {
                let mut out = [Span::default(); MAX_LEVELS];
                let (n, next) = scan_spans(path.as_bytes(), start, &mut out);
                assert!(n == MAX_LEVELS || next > path.len(), "{path}: a short batch ends the path");
                got.extend_from_slice(&out[..n]);
                start = next;
            }
            assert_eq!(got, want, "{path} from {from}");
        }
        // Word loads at every offset of every length agree with the bytes.
        let text = b"0123456789abcdefXYZ";
        for len in 1..text.len() {
            for i in 0..len {
                let mut want = [0u8; 8];
                let n = (len - i).min(8);
                want[..n].copy_from_slice(&text[i..i + n]);
                assert_eq!(word_at(&text[..len], i), u64::from_le_bytes(want), "{len} bytes from {i}");
            }
        }
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b, 0, b'/', b ^ 0x80, 0xff, b, 0x7f, b.wrapping_add(1)]);
            let want: u64 =
                word.to_le_bytes().iter().enumerate().filter(|(_, x)| **x == b).map(|(i, _)| 0x80 << (8 * i)).sum();
            assert_eq!(eq_bytes(word, b), want, "byte {b:#x}");
        }
    }

    #[test]
    fn host_names_lose_their_port_and_white_space() {
        let cases = [
            ("localhost", Some("localhost")),
            (" www.a.com:8080 ", Some("www.a.com")),
            ("[::1]:80", Some("[::1]")),
            ("a:b", Some("a:b")),
            (":80", None),
            ("  ", None),
            ("\u{a0}x\u{a0}", Some("x")),
        ];
        for (host, want) in cases {
            assert_eq!(host_name(host), want, "{host:?}");
        }
    }
}
