//! The HTTP front end (`iisim serve`): the emulated box on real sockets.
//!
//! Each listener stands for one port of the emulated server on its default IP address. A request
//! takes the path of a scenario's request step: HTTP.sys's own checks ([`wire`]), resolution on
//! the published, immutable view of the configuration (outside any lock), then the process model
//! with the running world locked for that request only (never across an await). Administration
//! ([`admin`]) changes the configuration and the world under the same lock and publishes a new
//! snapshot, so every request sees one whole view.

pub mod admin;
pub mod conn;
pub mod connlimit;
pub mod httperr;
pub mod wire;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

use crate::dispatch::{self, Reply, Request, View};
use crate::machine::journal::Effect;
use crate::machine::Machine;
use crate::process::{self, Load, Summary, World};
use wire::{Framing, Limits, Producer};

/// The address scenario requests arrive on unless they say otherwise; a listener stands for it.
pub const SERVER_IP: &str = "10.0.0.1";

/// How many requests and admin commands the transcript endpoint keeps (a run of identical
/// served requests is kept as one entry and a count, and each of them counts here).
pub const TRANSCRIPT_TAIL: usize = 1000;

/// How many event-log entries each side keeps while serving.
pub const EVENT_TAIL: usize = 1000;

/// How many clients the front end keeps sessions for; the oldest beyond it are forgotten.
pub const MAX_CLIENTS: usize = 10_000;

/// The largest request body read; larger bodies are cut off (the emulated handlers never read one).
const MAX_BODY: usize = 1 << 20;

/// Room hyper gets for a request head at least: [`conn`] refuses heads over MaxRequestBytes before
/// hyper reads them, and hyper's room grows with it.
const HEAD_BUFFER: usize = 64 * 1024;

/// One real address and the emulated port it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// Where to bind.
    pub addr: SocketAddr,
    /// The emulated server's port (80 unless `=PORT` says otherwise).
    pub port: u16,
}

impl Listen {
    /// Parses `ADDR` or `ADDR=PORT` (`127.0.0.1:8081=8080`).
    pub fn parse(text: &str) -> Result<Listen, String> {
        let (addr, port) = match text.split_once('=') {
            Some((a, p)) => (a, p.parse::<u16>().map_err(|_| format!("`{p}` is not a port number"))?),
            None => (text, 80),
        };
        let addr =
            addr.parse::<SocketAddr>().map_err(|_| format!("`{addr}` is not an address such as 127.0.0.1:8080"))?;
        Ok(Listen { addr, port })
    }
}

/// What to listen on.
#[derive(Debug, Clone)]
pub struct Options {
    /// The request listeners.
    pub listen: Vec<Listen>,
    /// The admin listener (loopback only).
    pub admin: Option<SocketAddr>,
    /// End on Ctrl-C.
    pub ctrl_c: bool,
}

/// Why the server could not start.
#[derive(Debug)]
pub enum ServeError {
    /// An address could not be bound.
    Bind(SocketAddr, std::io::Error),
    /// The admin listener was asked for on an address other than loopback.
    AdminNotLoopback(SocketAddr),
    /// The runtime could not start.
    Runtime(std::io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Bind(a, e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                write!(f, "cannot listen on {a}: the address is already in use")
            }
            ServeError::Bind(a, e) => write!(f, "cannot listen on {a}: {e}"),
            ServeError::AdminNotLoopback(a) => {
                write!(f, "the admin listener must be on a loopback address (127.0.0.1 or ::1), not {a}")
            }
            ServeError::Runtime(e) => write!(f, "cannot start the runtime: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// The configuration as published to requests: a copy of the machine and its compiled view.
pub struct Published {
    /// The machine as the last administrative change left it.
    pub machine: Machine,
    /// Its compiled dispatch view.
    pub view: Arc<View>,
    /// HTTP.sys's limits and keep-alive, read from it.
    pub limits: Limits,
}

/// One entry of the transcript tail.
enum Entry {
    /// A request the process model served.
    Served(Box<ServedEntry>),
    /// A request HTTP.sys answered itself, or a connection its timers ended: its summary, what it
    /// decided, how the answer went out (none for a timer).
    Rejected { summary: String, effects: Vec<Effect>, framing: Option<Framing> },
    /// An administrative command: its heading, its output and what it did.
    Admin { heading: String, output: Vec<String>, effects: Vec<Effect> },
}

/// A served request as the transcript keeps it: what the process model changed, and what the
/// summary line is rendered from when someone reads the transcript (not on the hot path). The
/// oldest entry's room is taken over by the next request's.
struct ServedEntry {
    /// `METHOD URL` of the request.
    line: String,
    /// Where the method ends in `line`.
    method: usize,
    /// How it was served, without the response's headers and body.
    summary: Summary,
    /// What the process model recorded.
    effects: Vec<Effect>,
    framing: Framing,
    /// How many more requests right after it were the same (line, outcome, framing, no effects):
    /// a load of one URL touches the last entry instead of the oldest one, cold by then.
    repeats: usize,
}

impl ServedEntry {
    /// Whether `req` served as `summary` and `framing`, with no effects, repeats this entry.
    fn repeated_by(&self, req: &Request, summary: &Summary, effects: &[Effect], framing: &Framing) -> bool {
        effects.is_empty()
            && self.effects.is_empty()
            && self.framing == *framing
            && self.method == req.method.len()
            && self.line.len() == req.method.len() + 1 + req.url.len()
            && self.line.starts_with(req.method.as_str())
            && self.line.ends_with(req.url.as_str())
            && self.summary == *summary
    }
}

/// The transcript's tail: its entries, and how many requests and commands they stand for.
#[derive(Default)]
struct Tail {
    entries: VecDeque<Entry>,
    count: usize,
}

impl Tail {
    /// Drops the oldest requests and commands beyond [`TRANSCRIPT_TAIL`], and hands back the last
    /// entry it took out whole, for its room.
    fn trim(&mut self) -> Option<Entry> {
        let mut room = None;
        while self.count > TRANSCRIPT_TAIL {
            self.count -= 1;
            match self.entries.front_mut() {
                Some(Entry::Served(e)) if e.repeats > 0 => e.repeats -= 1,
                _ => room = self.entries.pop_front(),
            }
        }
        room
    }
}

impl Entry {
    /// Everything the entry recorded, in order.
    fn effects(&self) -> &[Effect] {
        match self {
            Entry::Served(e) => &e.effects,
            Entry::Rejected { effects, .. } | Entry::Admin { effects, .. } => effects,
        }
    }
}

/// The running state requests lock, briefly: the world, and the clients the front end named.
struct Live {
    world: World,
    next_client: u64,
    clients: VecDeque<String>,
    /// The load of the request being served: its client's name written into the last one's room.
    load: Load,
}

/// Everything the listeners share.
pub struct Shared {
    published: ArcSwap<Published>,
    live: Mutex<Live>,
    tail: Mutex<Tail>,
    admin: Mutex<Machine>,
    /// The admin listener's one cmd.exe window: `cd`, `set` and ERRORLEVEL persist across `POST /run`.
    console: Mutex<crate::cmd::Session>,
    /// HTTP.sys's error log (HTTP-05).
    httperr: Mutex<httperr::Log>,
    /// HTTP.sys's open connections, overall and per site (HTTP-03, HTTP-09).
    connections: connlimit::Connections,
    /// Every response head goes through hyper's `HeaderMap`, for tests that compare the two ways.
    #[cfg(test)]
    mapped_heads: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// A server for `machine` and what runs on it.
    pub fn new(mut machine: Machine, mut world: World) -> Shared {
        machine.drain_effects_with(world.journal_mut());
        let view = process::view(&machine, &mut world);
        world.drain_effects();
        let published = Published { limits: Limits::of(&machine), machine: machine.clone(), view };
        Shared {
            published: ArcSwap::from_pointee(published),
            live: Mutex::new(Live { world, next_client: 0, clients: VecDeque::new(), load: Load::default() }),
            tail: Mutex::new(Tail { entries: VecDeque::with_capacity(TRANSCRIPT_TAIL), count: 0 }),
            console: Mutex::new(crate::cmd::Session::new(&machine)),
            httperr: Mutex::new(httperr::Log::of(&machine)),
            connections: connlimit::Connections::default(),
            admin: Mutex::new(machine),
            #[cfg(test)]
            mapped_heads: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The configuration requests see now.
    pub fn published(&self) -> Arc<Published> {
        self.published.load_full()
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        // A panic while serving leaves the world as it was at that point; keep serving.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, e: Entry) {
        let mut tail = self.tail();
        tail.entries.push_back(e);
        tail.count += 1;
        tail.trim();
    }

    fn tail(&self) -> MutexGuard<'_, Tail> {
        self.tail.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn admin(&self) -> MutexGuard<'_, Machine> {
        self.admin.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The admin listener's cmd.exe session; taken only while the admin lock is held.
    pub(crate) fn console(&self) -> MutexGuard<'_, crate::cmd::Session> {
        self.console.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves one request as a scenario's request step would, with the client's cookie naming
    /// its session (a request without one is a new client), and writes its reply into `reply`
    /// (the room of its headers and body kept from the last one). `slot` is the connection's place
    /// in its site's connection count (none: not counted). `framing` says how the answer goes out,
    /// for the transcript.
    #[allow(clippy::too_many_arguments)]
    pub fn serve(
        &self,
        snap: &Published,
        req: &Request,
        session_id: Option<&str>,
        client: SocketAddr,
        slot: Option<&connlimit::Slot>,
        reply: &mut Reply,
        framing: impl FnOnce(&Reply) -> Framing,
    ) -> Framing {
        // The ASP.NET filter and resolution read only the published view: no lock.
        let prepared = process::prepare(&snap.machine, &snap.view, req);
        if let (Some(slot), Some((site, max))) = (slot, prepared.site()) {
            if let Err(open) = self.connections.admit(slot, site, max) {
                let (r, f) = self.conn_limited(req, client, site, max, open);
                *reply = r;
                return f;
            }
        }
        let (answer, effects) = {
            let mut guard = self.live();
            let live = &mut *guard;
            let name = live.load.client.get_or_insert_with(String::new);
            name.clear();
            match session_id.and_then(|id| live.world.sessions().client_of(id)) {
                Some(c) => name.push_str(c),
                None => {
                    live.next_client += 1;
                    let c = format!("client{}", live.next_client);
                    name.push_str(&c);
                    live.clients.push_back(c);
                    // The oldest clients' sessions end as their timeout would have (bounded memory).
                    while live.clients.len() > MAX_CLIENTS {
                        if let Some(old) = live.clients.pop_front() {
                            live.world.forget_client(&old);
                        }
                    }
                }
            }
            let load = &live.load;
            let answer = process::serve_prepared(&snap.machine, &mut live.world, prepared, load);
            let effects = live.world.drain_effects();
            live.world.trim_events(EVENT_TAIL);
            (answer, effects)
        };
        // The reply is written outside the lock: the answer borrows the view and the request.
        let summary = answer.reply_into(reply);
        let mut effects = effects;
        let framing = framing(reply);
        if framing.producer == Producer::HttpSys && reply.status != 0 {
            // HTTP.sys's answers after parsing (Invalid Hostname, Invalid URL, a stopped pool) are
            // in httperr too (HTTP-08).
            effects.extend(self.logged_reply(client, req, reply, &summary));
        }
        // The transcript keeps the outcome, not the headers and body that go out.
        self.push_served(req, summary, effects, framing);
        framing
    }

    /// Keeps a served request in the transcript tail: as one more of the last entry when it
    /// repeats it, else in the room of the entry it pushes out when that was a served request too.
    fn push_served(&self, req: &Request, summary: Summary, effects: Vec<Effect>, framing: Framing) {
        let mut tail = self.tail();
        tail.count += 1;
        if let Some(Entry::Served(last)) = tail.entries.back_mut() {
            if last.repeated_by(req, &summary, &effects, &framing) {
                last.repeats += 1;
                tail.trim();
                return;
            }
        }
        let oldest = tail.trim();
        let entry = match oldest {
            Some(Entry::Served(mut e)) => {
                e.line.clear();
                e.summary = summary;
                e.effects = effects;
                e.framing = framing;
                e.repeats = 0;
                e
            }
            _ => Box::new(ServedEntry {
                line: String::with_capacity(req.method.len() + 1 + req.url.len()),
                method: 0,
                summary,
                effects,
                framing,
                repeats: 0,
            }),
        };
        let mut entry = entry;
        entry.line.push_str(&req.method);
        entry.line.push(' ');
        entry.line.push_str(&req.url);
        entry.method = req.method.len();
        tail.entries.push_back(Entry::Served(entry));
    }

    /// Runs an administrative operation on the machine and the world, then publishes the result.
    /// Returns the operation's value, its output lines and the effects it had, rendered.
    pub fn administer<T>(
        &self,
        heading: String,
        op: impl FnOnce(&mut Machine, &mut World) -> (T, Vec<String>),
    ) -> (T, Vec<String>, Vec<String>) {
        let mut m = self.admin();
        // What HTTP.sys logged since is on the disk the command sees (HTTP-05).
        self.flush_httperr(&mut m);
        let (value, output) = op(&mut m, &mut self.live().world);
        // Compiling the new view takes no lock that requests need: they go on with the old one.
        let current = self.published();
        let view = View::update(&current.view, &m);
        let effects = {
            let mut live = self.live();
            process::adopt_view(&m, &mut live.world, view.clone());
            let effects = m.drain_effects_with(live.world.journal_mut());
            live.world.trim_events(EVENT_TAIL);
            effects
        };
        m.trim_events(EVENT_TAIL);
        let lines: Vec<String> = effects.iter().map(crate::scenario::transcript::render).collect();
        self.published.store(Arc::new(Published { limits: Limits::of(&m), machine: m.clone(), view }));
        self.push(Entry::Admin { heading, output: output.clone(), effects });
        (value, output, lines)
    }

    /// The tail of the transcript, as `iisim run --transcript` prints a step.
    pub fn transcript(&self) -> Vec<String> {
        let tail = self.tail();
        let mut out = Vec::new();
        for e in tail.entries.iter() {
            let repeats = match e {
                Entry::Served(s) => s.repeats,
                _ => 0,
            };
            let start = out.len();
            let (heading, framing) = match e {
                Entry::Served(s) => {
                    let req = Request::new(&s.line[..s.method], &s.line[s.method + 1..]);
                    (format!("== request: {} ==", s.summary.line(&req)), Some(s.framing))
                }
                Entry::Rejected { summary, framing, .. } => (format!("== request: {summary} =="), *framing),
                Entry::Admin { heading, output, .. } => {
                    out.push(format!("== {heading} =="));
                    out.extend(output.iter().map(|l| format!("  | {l}")));
                    (String::new(), None)
                }
            };
            if !heading.is_empty() {
                out.push(heading);
            }
            out.extend(e.effects().iter().map(|e| format!("  * {}", crate::scenario::transcript::render(e))));
            if let Some(f) = framing {
                out.push(format!("  * {}", f.render()));
            }
            // A run of identical requests reads as it was served: one after another.
            let lines = start..out.len();
            for _ in 0..repeats {
                out.extend_from_within(lines.clone());
            }
        }
        out
    }

    /// Every rule the transcript tail cites.
    pub fn cited(&self) -> std::collections::BTreeSet<crate::rules::RuleId> {
        let tail = self.tail();
        let mut out = std::collections::BTreeSet::new();
        for e in tail.entries.iter() {
            let framing = match e {
                Entry::Served(s) => Some(s.framing),
                Entry::Rejected { framing, .. } => *framing,
                Entry::Admin { .. } => None,
            };
            out.extend(e.effects().iter().flat_map(|e| e.rules.iter().copied()));
            out.extend(framing.map(|f| f.rules()).unwrap_or_default());
        }
        out
    }

    /// The event log's tail, both sides merged in the order written.
    pub fn events(&self) -> Vec<String> {
        let m = self.admin();
        let live = self.live();
        crate::machine::journal::EventLog::merged_since(m.event_log(), 0, live.world.event_log(), 0)
            .iter()
            .map(|e| format!("{} s {} {} {} [{}]: {}", e.time, e.log, e.level.name(), e.id, e.source, e.message))
            .collect()
    }

    /// One line per running process.
    pub fn processes(&self) -> Vec<String> {
        self.live().world.processes().map(|p| p.summary()).collect()
    }
}

/// The session ID in one Cookie header's value.
fn session_in(cookie: &str) -> Option<&str> {
    // `;` and `=` are ASCII, so a byte search splits where `str::split` would, without its
    // character searcher.
    let mut rest = cookie;
    loop {
        let (c, after) = match memchr::memchr(b';', rest.as_bytes()) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let c = c.trim();
        if let Some(eq) = memchr::memchr(b'=', c.as_bytes()) {
            if c[..eq].eq_ignore_ascii_case("ASP.NET_SessionId") {
                return Some(c[eq + 1..].trim());
            }
        }
        rest = after?;
    }
}

/// Appends header value `v` as text (invalid UTF-8 replaced, as dispatch reads it).
fn push_text(out: &mut String, v: &HeaderValue) {
    match std::str::from_utf8(v.as_bytes()) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(v.as_bytes())),
    }
}

/// A request as dispatch sees it, refilled for each request a worker thread answers with the
/// room of the last one's texts kept. A thread's, not a connection's: answering never waits, so
/// one room serves every connection the thread runs, and it is in the caches for the next request
/// where a connection's own (touched once in as many requests as there are connections) is not.
struct Copied {
    req: Request,
    /// The reply to the request, its headers' and body's room kept for the next one.
    reply: Reply,
    /// Header texts the last request had more of than this one.
    spare: Vec<(String, String)>,
    /// The Host text while the request has none.
    host: String,
}

/// What [`Copied::refill`] found while copying: where the session ID and the first Connection
/// line are among the request's headers.
#[derive(Debug, Default, PartialEq)]
struct Found {
    session: Option<(usize, Range<usize>)>,
    connection: Option<usize>,
}

/// Whether the request's Connection lines from the first one on (`first`) name `token`. The lines
/// are one comma-separated list (RFC 7230 3.2.2), as hyper reads them to decide keep-alive; a value
/// with other than visible ASCII names nothing, as `HeaderValue::to_str` refuses it.
fn connection_has(headers: &[(String, String)], first: Option<usize>, token: &str) -> bool {
    let Some(first) = first else { return false };
    headers[first..]
        .iter()
        .filter(|(k, v)| k == "connection" && visible(v))
        .any(|(_, v)| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

impl Copied {
    fn new() -> Copied {
        Copied { req: Request::get("/"), reply: Reply::default(), spare: Vec::new(), host: String::new() }
    }

    /// Copies hyper's request for dispatch (HTTP.sys's checks of its head ran in [`conn`]), and
    /// finds the session cookie and the Connection header on the way. The headers come from
    /// `lines` when the connection kept them apart from hyper ([`conn::Passed::apart`]).
    fn refill(&mut self, parts: &hyper::http::request::Parts, port: u16, lines: Option<&[u8]>) -> Found {
        let r = &mut self.req;
        r.method.clear();
        r.method.push_str(parts.method.as_str());
        r.url.clear();
        match parts.uri.scheme() {
            Some(_) => {
                use std::fmt::Write;
                let _ = write!(r.url, "{}", parts.uri);
            }
            None => r.url.push_str(parts.uri.path_and_query().map_or("/", |p| p.as_str())),
        }
        let mut fill = Fill { host: false, n: 0 };
        let mut visible_only = false;
        match lines {
            Some(lines) => {
                // The one-pass check took printable ASCII only, names of letters, digits and
                // `-` before a colon, CRLF line ends: the text is never refused, and a name
                // ends at its line's first colon.
                let text = std::str::from_utf8(lines).unwrap_or_default();
                let b = text.as_bytes();
                let mut at = 0;
                while let Some(colon) = b[at..].iter().position(|&c| c == b':').map(|c| at + c) {
                    let nl = memchr::memchr(b'\n', &b[colon..]).map_or(b.len(), |n| colon + n);
                    // As httparse reads a value: without the blanks around it.
                    let (mut start, mut end) = (colon + 1, nl);
                    while start < end && matches!(b[start], b' ' | b'\t') {
                        start += 1;
                    }
                    while end > start && matches!(b[end - 1], b' ' | b'\t' | b'\r') {
                        end -= 1;
                    }
                    let value = &text[start..end];
                    self.take(&mut fill, &text[at..colon], |out| out.push_str(value));
                    at = nl + 1;
                    if at >= b.len() {
                        break;
                    }
                }
                group_as_hyper_maps(&mut self.req.headers[..fill.n]);
                visible_only = true;
            }
            None => {
                for (k, v) in &parts.headers {
                    self.take(&mut fill, k.as_str(), |out| push_text(out, v));
                }
            }
        }
        let Fill { host, n } = fill;
        let r = &mut self.req;
        self.spare.extend(r.headers.drain(n..));
        if !host {
            if let Some(h) = r.host.take() {
                self.host = h;
            }
        }
        if r.ip != SERVER_IP {
            r.ip.clear();
            r.ip.push_str(SERVER_IP);
        }
        r.port = port;
        r.http10 = parts.version <= hyper::Version::HTTP_10;
        found_in(&r.headers, visible_only)
    }

    /// Copies one header named `name` (hyper's names are in lower case; the copy is), its value
    /// written by `value`: the first Host line is the request's host, the others go.
    fn take(&mut self, fill: &mut Fill, name: &str, value: impl FnOnce(&mut String)) {
        let r = &mut self.req;
        if name.eq_ignore_ascii_case("host") {
            if !fill.host {
                fill.host = true;
                let h = r.host.get_or_insert_with(|| std::mem::take(&mut self.host));
                h.clear();
                value(h);
            }
            return;
        }
        if fill.n == r.headers.len() {
            r.headers.push(self.spare.pop().unwrap_or_default());
        }
        let (k, v) = &mut r.headers[fill.n];
        k.clear();
        k.push_str(name);
        k.make_ascii_lowercase();
        v.clear();
        value(v);
        fill.n += 1;
    }
}

/// Where [`Copied::refill`] is in copying a request's headers.
struct Fill {
    /// A Host line was seen.
    host: bool,
    /// Headers copied (the Host line not counted).
    n: usize,
}

/// Whether header value `v` is visible ASCII, as `HeaderValue::to_str` takes it.
fn visible(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (b' '..0x7f).contains(&b))
}

/// Where the session ID (in the first Cookie line of visible ASCII naming one) and the first
/// Connection line are among `headers`; `visible_only` when every value is visible ASCII.
fn found_in(headers: &[(String, String)], visible_only: bool) -> Found {
    let mut found = Found::default();
    for (n, (k, v)) in headers.iter().enumerate() {
        if k == "cookie" && found.session.is_none() && (visible_only || visible(v)) {
            if let Some(id) = session_in(v) {
                let at = id.as_ptr() as usize - v.as_ptr() as usize;
                found.session = Some((n, at..at + id.len()));
            }
        } else if k == "connection" && found.connection.is_none() {
            found.connection = Some(n);
        }
    }
    found
}

/// Puts `headers` (in the order sent) in the order hyper's `HeaderMap` hands them over: the lines
/// of one name together, in the place of its first.
fn group_as_hyper_maps(headers: &mut [(String, String)]) {
    let repeated = (1..headers.len()).any(|i| headers[..i].iter().any(|(k, _)| *k == headers[i].0));
    if repeated {
        let places: Vec<usize> =
            (0..headers.len()).map(|i| headers.iter().position(|(k, _)| *k == headers[i].0).unwrap_or(i)).collect();
        let mut moved: Vec<(usize, (String, String))> =
            places.into_iter().zip(headers.iter_mut().map(std::mem::take)).collect();
        // A stable sort: the lines of one name keep the order they came in.
        moved.sort_by_key(|(place, _)| *place);
        for (slot, (_, h)) in headers.iter_mut().zip(moved) {
            *slot = h;
        }
    }
}

type Body = Full<Bytes>;

/// How a reply goes out: producer, status line, length, whether the connection closes or (for an
/// HTTP/1.0 client that asked) says Keep-Alive.
fn framing(reply: &dispatch::Reply, limits: &Limits, close: bool, keep_alive: bool, head: bool) -> Framing {
    let producer = Producer::of(reply, limits);
    let close = close || producer == Producer::HttpSys;
    let reason = wire::reason(reply.status, producer == Producer::Iis5);
    Framing { status: reply.status, reason, length: reply.body.len(), producer, close, keep_alive, head }
}

/// Builds the hyper response for a reply: its head and body written by the front end and left in
/// `heads` for the connection to send, hyper given only what decides keep-alive (the Connection
/// header) and no body; or, for a reply hyper frames itself, every header in a `HeaderMap`.
fn respond(reply: &dispatch::Reply, framing: Framing, heads: &conn::HeadSlot, mapped: bool) -> Response<Body> {
    if with_date(|date| mapped || !heads.fill(reply, &framing, date)) {
        return with_date(|date| respond_mapped(reply, framing, date));
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    let connection = match (framing.close, framing.keep_alive) {
        (true, _) => Some("close"),
        (false, true) => Some("Keep-Alive"),
        (false, false) => None,
    };
    if let Some(c) = connection {
        response.headers_mut().insert(hyper::header::CONNECTION, HeaderValue::from_static(c));
    }
    response
}

/// Builds the hyper response for a reply with every header in its `HeaderMap`.
fn respond_mapped(reply: &dispatch::Reply, framing: Framing, date: &str) -> Response<Body> {
    let Framing { producer, close, keep_alive, reason, head, .. } = framing;
    let length = reply.body.len().to_string();
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = hyper::HeaderMap::with_capacity(reply.headers.len() + 3);
    for (k, v) in wire::ordered_headers(reply, producer, date, &length, close, keep_alive) {
        if let (Some(k), Ok(v)) = (header_name(k), HeaderValue::from_str(v)) {
            headers.append(k, v);
        }
    }
    let body = if head { Bytes::new() } else { Bytes::copy_from_slice(reply.body.as_bytes()) };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    // hyper writes the canonical phrase itself; only IIS's own phrases need saying.
    if !reason.is_empty() && status.canonical_reason() != Some(reason) {
        response.extensions_mut().insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
    }
    response
}

thread_local! {
    /// The Date header of the current second (the wire's Date is real time, to the second).
    static DATE: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
    /// The header names replies used, parsed.
    static NAMES: std::cell::RefCell<Vec<(String, HeaderName)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `f` with the Date header's value for now, formatted once per second per thread.
fn with_date<T>(f: impl FnOnce(&str) -> T) -> T {
    let now = std::time::SystemTime::now();
    let second = now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(at, text)| {
        if *at != second {
            *at = second;
            *text = httpdate::fmt_http_date(now);
        }
        f(text)
    })
}

/// The header name `k`, parsed once per thread (replies use a handful of names).
fn header_name(k: &str) -> Option<HeaderName> {
    NAMES.with_borrow_mut(|names| {
        if let Some((_, n)) = names.iter().find(|(name, _)| name == k) {
            return Some(n.clone());
        }
        let n = HeaderName::from_bytes(k.as_bytes()).ok()?;
        if names.len() < 64 {
            names.push((k.to_string(), n.clone()));
        }
        Some(n)
    })
}

/// Why a request gets no response: hyper drops the connection.
#[derive(Debug)]
enum Unanswered {
    /// W3SVC is stopped: the connection is refused.
    Refused,
    /// The client closed the connection inside the request's body (HTTP-08).
    Dropped,
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unanswered::Refused => "W3SVC is not running",
            Unanswered::Dropped => "the client closed the connection inside the request body",
        })
    }
}

impl std::error::Error for Unanswered {}

/// How the service answers: at once for a request without a body, after reading it otherwise.
enum Answering {
    /// Answered while hyper hands the request over.
    Now(std::future::Ready<Result<Response<Body>, Unanswered>>),
    /// Answered once the body is read.
    Later(std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Body>, Unanswered>> + Send>>),
}

impl std::future::Future for Answering {
    type Output = Result<Response<Body>, Unanswered>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            Answering::Now(r) => std::pin::Pin::new(r).poll(cx),
            Answering::Later(f) => f.as_mut().poll(cx),
        }
    }
}

/// What one connection's service needs to answer its requests.
#[derive(Clone)]
struct Service {
    shared: Arc<Shared>,
    port: u16,
    client: SocketAddr,
    heads: conn::HeadSlot,
    slot: Arc<connlimit::Slot>,
}

thread_local! {
    /// The worker thread's request and reply room ([`Copied`]).
    static COPIED: std::cell::RefCell<Option<Copied>> = const { std::cell::RefCell::new(None) };
}

impl Service {
    /// Answers one request. One without a body (most: GET, HEAD) is answered before this
    /// returns, and its head dropped: hyper reads on as soon as it has the request, and while the
    /// request's texts still point into its read buffer it must allocate a new one (8 KiB, every
    /// request), where bare hyper's service has dropped its request and the buffer is reused.
    fn call(&self, req: hyper::Request<Incoming>) -> Answering {
        let (req, body) = req.into_parts();
        if hyper::body::Body::is_end_stream(&body) {
            return Answering::Now(std::future::ready(self.answer(&req, true)));
        }
        // A head with a body went to hyper whole: its place among the connection's heads goes.
        self.heads.next_request(|_| ());
        let service = self.clone();
        Answering::Later(Box::pin(async move {
            // Read (and drop) the body before anything else, so the connection stays usable. A
            // body over MAX_BODY is cut off; one the client never finished is no request to serve.
            if let Err(e) = Limited::new(body, MAX_BODY).collect().await {
                if !e.is::<http_body_util::LengthLimitError>() {
                    return Err(Unanswered::Dropped);
                }
            }
            service.answer(&req, false)
        }))
    }

    /// Answers one request, once its body is read, its head's place among the connection's
    /// heads taken now when `next` (or already). Nothing in it waits.
    fn answer(&self, req: &hyper::http::request::Parts, next: bool) -> Result<Response<Body>, Unanswered> {
        COPIED.with_borrow_mut(|copied| answer(self, req, next, copied.get_or_insert_with(Copied::new)))
    }
}

/// Answers one request from `service`'s client with the thread's room for it and its reply.
fn answer(
    service: &Service,
    req: &hyper::http::request::Parts,
    next: bool,
    copied: &mut Copied,
) -> Result<Response<Body>, Unanswered> {
    let Service { shared, port, client, heads, slot } = service;
    let (port, client) = (*port, *client);
    let found =
        if next { heads.next_request(|lines| copied.refill(req, port, lines)) } else { copied.refill(req, port, None) };
    let Copied { req: request, reply, .. } = copied;
    let request = &*request;
    let head = req.method == hyper::Method::HEAD;
    let connect = req.method == hyper::Method::CONNECT;
    let wants = |token: &str| connection_has(&request.headers, found.connection, token);
    // HTTP/1.0 stays open only when it asks to (HTTP-17); `close` anywhere in the list closes.
    let (wants_close, keep_alive10) = match req.version {
        hyper::Version::HTTP_10 => {
            let close = wants("close") || !wants("keep-alive");
            (close, !close)
        }
        _ => (wants("close"), false),
    };
    let cookie = found.session.map(|(i, r)| &request.headers[i].1[r]);
    // One snapshot for the whole request: HTTP.sys's limits, the view, the configuration.
    // Borrowed for the request (nothing in it waits): no count of the snapshot moves.
    let snap = shared.published.load();
    let limits = snap.limits;
    let close = wants_close || !limits.keep_alive;
    let keep_alive10 = keep_alive10 && !close;
    let f = shared
        .serve(&snap, request, cookie, client, Some(slot), reply, |r| framing(r, &limits, close, keep_alive10, head));
    if reply.status == 0 {
        return Err(Unanswered::Refused);
    }
    // CONNECT's answer is framed by hyper's own rules.
    #[cfg(test)]
    let connect = connect || shared.mapped_heads.load(std::sync::atomic::Ordering::Relaxed);
    Ok(respond(reply, f, heads, connect))
}

/// A running server: its bound addresses, and the way to stop it.
pub struct Handle {
    /// The request listeners' real addresses, in the order given.
    pub listeners: Vec<SocketAddr>,
    /// The admin listener's real address.
    pub admin: Option<SocketAddr>,
    /// The shared state (tests and benches read it directly).
    pub shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Stops accepting, ends every connection and waits for the server thread.
    pub fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Waits until the server ends (Ctrl-C, when the options ask for it).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, ServeError> {
    let l = std::net::TcpListener::bind(addr).map_err(|e| ServeError::Bind(addr, e))?;
    l.set_nonblocking(true).map_err(|e| ServeError::Bind(addr, e))?;
    Ok(l)
}

/// Binds every listener, then serves `shared` on a multi-threaded runtime in its own thread.
pub fn start(shared: Arc<Shared>, opts: &Options) -> Result<Handle, ServeError> {
    if let Some(a) = opts.admin {
        if !a.ip().is_loopback() {
            return Err(ServeError::AdminNotLoopback(a));
        }
    }
    let mut bound = Vec::new();
    for l in &opts.listen {
        bound.push((bind(l.addr)?, l.port));
    }
    let admin = opts.admin.map(bind).transpose()?;
    let listeners =
        bound.iter().map(|(l, _)| l.local_addr()).collect::<Result<Vec<_>, _>>().map_err(ServeError::Runtime)?;
    let admin_addr = admin.as_ref().map(|l| l.local_addr()).transpose().map_err(ServeError::Runtime)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ServeError::Runtime)?;
    let (stop, stopped) = watch::channel(false);
    let ctrl_c = opts.ctrl_c;
    let state = shared.clone();
    let stop_on_signal = stop.clone();
    let thread = std::thread::Builder::new()
        .name("iisim-serve".into())
        .spawn(move || {
            runtime.block_on(async move {
                let mut tasks = Vec::new();
                for (l, port) in bound {
                    if let Ok(l) = tokio::net::TcpListener::from_std(l) {
                        tasks.push(tokio::spawn(accept(l, state.clone(), Role::Requests(port), stopped.clone())));
                    }
                }
                if let Some(l) = admin {
                    if let Ok(l) = tokio::net::TcpListener::from_std(l) {
                        tasks.push(tokio::spawn(accept(l, state.clone(), Role::Admin, stopped.clone())));
                    }
                }
                let mut stopped = stopped;
                if ctrl_c {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => { let _ = stop_on_signal.send(true); }
                        _ = stopped.changed() => {}
                    }
                } else {
                    let _ = stopped.changed().await;
                }
                for t in tasks {
                    t.abort();
                }
            });
            // Open keep-alive connections are cut rather than waited for.
            runtime.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(ServeError::Runtime)?;
    Ok(Handle { listeners, admin: admin_addr, shared, stop, thread: Some(thread) })
}

#[derive(Clone, Copy)]
enum Role {
    Requests(u16),
    Admin,
}

async fn accept(l: tokio::net::TcpListener, shared: Arc<Shared>, role: Role, mut stopped: watch::Receiver<bool>) {
    loop {
        let (stream, peer) = tokio::select! {
            r = l.accept() => match r {
                Ok(x) => x,
                // Out of descriptors and the like: keep the listener, try again shortly.
                Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue; }
            },
            _ = stopped.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        // Past the registry's MaxConnections HTTP.sys accepts nothing more (HTTP-09).
        let open = match role {
            Role::Requests(port) => match shared.connections.accept(shared.published().limits.max_connections) {
                Some(open) => Some(open),
                None => {
                    shared.connection_refused(&stream, peer, port);
                    continue;
                }
            },
            Role::Admin => None,
        };
        let shared = shared.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _open = open;
            let mut b = hyper::server::conn::http1::Builder::new();
            b.keep_alive(true).max_buf_size(HEAD_BUFFER);
            match role {
                Role::Requests(port) => {
                    // HTTP.sys's checks and IIS's spelling sit between the socket and hyper.
                    let limits = shared.published().limits;
                    b.max_buf_size(HEAD_BUFFER.max(limits.max_request + 1024));
                    let client = peer;
                    let c = conn::Conn::new(stream, conn::Peer { shared: shared.clone(), client, port }, limits);
                    let heads = c.heads();
                    let io = TokioIo::new(c);
                    let slot = Arc::new(connlimit::Slot::default());
                    let service = Service { shared, port, client, heads, slot };
                    let svc = service_fn(move |req| service.call(req));
                    // The stop signal is not polled beside the connection, as it was, on every
                    // wake-up of it: once the listeners stop, the runtime's shutdown drops it.
                    let _ = b.serve_connection(io, svc).await;
                }
                Role::Admin => {
                    let io = TokioIo::new(stream);
                    b.title_case_headers(true);
                    let local = peer.ip();
                    let svc = service_fn(move |req| admin_entry(shared.clone(), local, req));
                    tokio::select! {
                        _ = b.serve_connection(io, svc) => {}
                        _ = stopped.changed() => {}
                    }
                }
            }
        });
    }
}

async fn admin_entry(
    shared: Arc<Shared>,
    peer: IpAddr,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    Ok(admin::handle(shared, peer, req).await)
}

#[cfg(test)]
mod tests;
