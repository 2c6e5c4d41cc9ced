//! Request dispatch: from the bytes a client sends to the handler IIS picks, as a pure function of
//! a compiled, immutable view of the machine.
//!
//! [`canon`] canonicalises the URL as HTTP.sys (or IIS 5's inetinfo) does, [`view`] compiles the
//! metabase and the content files into lookup tables, and [`resolve`] walks the documented order:
//! binding, key, application, wildcard maps, extension maps, permissions, static files. What
//! happens once an ISAPI is chosen (which process, which runtime) belongs to the process model.

pub mod canon;
pub mod filter;
mod index;
pub mod resolve;
pub mod view;

use std::sync::Arc;

use crate::rules::RuleId;
use crate::runtime::Version;

pub use resolve::{resolve, resolve_fast, Fast, FastOutcome, Place};
pub use view::View;

/// One decision taken on the way, with the rules that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What was decided, in one line.
    pub text: String,
    /// The rules that decided it.
    pub rules: Vec<RuleId>,
}

impl Decision {
    /// A decision with its rules.
    pub fn new(text: impl Into<String>, rules: &[RuleId]) -> Decision {
        Decision { text: text.into(), rules: rules.to_vec() }
    }
}

/// Where resolution puts its decisions: every one for explain and transcripts, none on the hot
/// path. Both run the same code; a sink that keeps nothing never has a decision's text built.
pub trait Sink {
    /// Whether decisions are kept.
    const KEEPS: bool;

    /// Takes one decision.
    fn push(&mut self, text: String, rules: &[RuleId]);

    /// Whether decisions are kept (for the [`decide!`] macro).
    #[inline(always)]
    fn keeps(&self) -> bool {
        Self::KEEPS
    }
}

impl Sink for Vec<Decision> {
    const KEEPS: bool = true;

    fn push(&mut self, text: String, rules: &[RuleId]) {
        Vec::push(self, Decision { text, rules: rules.to_vec() });
    }
}

/// A sink that keeps no decision: the hot path.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl Sink for Discard {
    const KEEPS: bool = false;

    #[inline(always)]
    fn push(&mut self, _text: String, _rules: &[RuleId]) {}
}

/// Records a decision in a [`Sink`], formatting its text only when the sink keeps it.
macro_rules! decide {
    ($sink:expr, $rules:expr, $($fmt:tt)+) => {
        if $crate::dispatch::Sink::keeps(&*$sink) {
            let text = format!($($fmt)+);
            $crate::dispatch::Sink::push(&mut *$sink, text, $rules);
        }
    };
}
pub(crate) use decide;

/// An HTTP request as it reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent (`GET`, `POST`, `PROPFIND`...).
    pub method: String,
    /// The request target as sent: path, optionally `?query`; may be absolute (`http://host/x`).
    pub url: String,
    /// The Host header, if any (`www.a.com:8080`).
    pub host: Option<String>,
    /// The server IP address the connection arrived on.
    pub ip: String,
    /// The server port the connection arrived on.
    pub port: u16,
    /// Other request headers, in order.
    pub headers: Vec<(String, String)>,
    /// HTTP/1.0 (a missing Host is legal) rather than HTTP/1.1.
    pub http10: bool,
}

impl Request {
    /// A `GET` of `url` on port 80 of 10.0.0.1 with `Host: localhost`.
    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }

    /// A request of `method` on `url` on port 80 of 10.0.0.1 with `Host: localhost`.
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            method: method.into(),
            url: url.into(),
            host: Some("localhost".into()),
            ip: "10.0.0.1".into(),
            port: 80,
            headers: Vec::new(),
            http10: false,
        }
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A response header's name or value: a literal, text shared with the compiled view, or text built
/// for this response. Only the last allocates.
#[derive(Clone)]
pub enum HeaderText {
    /// A literal (`Content-Type`, `private`).
    Static(&'static str),
    /// Shared with the view (`Server`, HttpCustomHeaders).
    Shared(Arc<str>),
    /// Built for this response (`Set-Cookie`, `Location`).
    Owned(String),
}

/// A response header: name and value.
pub type Header = (HeaderText, HeaderText);

impl HeaderText {
    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match self {
            HeaderText::Static(s) => s,
            HeaderText::Shared(s) => s,
            HeaderText::Owned(s) => s,
        }
    }
}

impl std::ops::Deref for HeaderText {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for HeaderText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for HeaderText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for HeaderText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for HeaderText {
    fn eq(&self, other: &HeaderText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for HeaderText {}

impl PartialEq<str> for HeaderText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for HeaderText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&'static str> for HeaderText {
    fn from(s: &'static str) -> HeaderText {
        HeaderText::Static(s)
    }
}

impl From<String> for HeaderText {
    fn from(s: String) -> HeaderText {
        HeaderText::Owned(s)
    }
}

impl From<Arc<str>> for HeaderText {
    fn from(s: Arc<str>) -> HeaderText {
        HeaderText::Shared(s)
    }
}

/// A complete HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// Status code on the status line.
    pub status: u16,
    /// IIS sub-status (logged, not sent; 0 when none), e.g. 2 for 404.2.
    pub substatus: u16,
    /// Response headers, in order.
    pub headers: Vec<Header>,
    /// Body text.
    pub body: String,
}

impl Reply {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `404` or `404.2`.
    pub fn status_text(&self) -> String {
        if self.substatus == 0 {
            self.status.to_string()
        } else {
            format!("{}.{}", self.status, self.substatus)
        }
    }
}

/// Where a request landed in the metabase.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    /// The site's ID.
    pub site: u32,
    /// The deepest existing key on the URL's path (REQ-06), as written.
    pub key: Arc<str>,
    /// The application root key (MB-21), as written.
    pub app: Arc<str>,
    /// The application's virtual path (`/` or `/shop`).
    pub app_vpath: Arc<str>,
    /// The physical path the URL maps to.
    pub physical: String,
    /// Effective AppPoolId of the application (IIS 6; empty on IIS 5.x).
    pub pool: Arc<str>,
    /// That pool's settings as the view was compiled; `None` when the pool's key does not exist.
    pub pool_settings: Option<view::PoolView>,
}

/// An ISAPI extension chosen to run the request; the process model decides where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsapiCall {
    /// Where the request landed.
    pub target: Target,
    /// The ISAPI's full path, `%windir%` expanded.
    pub dll: String,
    /// The ASP.NET runtime this DLL belongs to, if it is an `aspnet_isapi.dll`.
    pub aspnet: Option<Version>,
    /// Chosen by a wildcard map (SM-07, REQ-09).
    pub wildcard: bool,
    /// The request method.
    pub method: String,
    /// The script's URL (up to and including the script segment).
    pub script_url: String,
    /// The rest of the URL after the script segment (SM-11).
    pub path_info: String,
    /// The query string, without `?`.
    pub query: String,
    /// Effective AppIsolated of the application (0 Low, 1 High, 2 Medium).
    pub app_isolated: u32,
    /// The DLL is listed in the effective InProcessIsapiApps (SHR-03, PM5-03).
    pub in_process: bool,
    /// Headers IIS adds to every response here: `Server`, then effective HttpCustomHeaders (HDR-02).
    pub base_headers: Vec<Header>,
}

/// What dispatch decided for a request.
// One Outcome exists per request and is matched at once; boxing the call would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answered without running an ISAPI: an error, a redirect, a static file or a listing.
    Reply(Reply),
    /// An ISAPI extension runs the request.
    Isapi(IsapiCall),
}

/// The decisions taken for one request and where they led.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// Every decision, in order, from canonicalisation to the handler.
    pub decisions: Vec<Decision>,
    /// The handler, or the answer.
    pub outcome: Outcome,
    /// Where the request landed, when it reached a site.
    pub target: Option<Target>,
}
