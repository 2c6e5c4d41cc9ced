//! One request end to end: dispatch, then the process that runs it, then the response.

use crate::dispatch::view::{PoolView, View};
use crate::dispatch::{self, Decision, Discard, IsapiCall, Outcome, Reply, Request, Resolution, Sink, Target};
use crate::machine::journal::Level;
use crate::machine::Machine;
use crate::messages::Catalog;
use crate::policy;
use crate::rules::RuleId;
use crate::runtime::{Bitness, Version};

use super::session::{SessionFate, SessionMode};
use super::state::Warm;
#[path = "reply.rs"]
mod reply;
pub use reply::Summary;

use super::{end, iis5_style, pages, serving, start, worker_event, Compiled, Domain, Ending, Role, World};

/// What a request costs the process that runs it, and who sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Load {
    /// Memory the worker uses once the request has run, in MB.
    pub memory_mb: Option<u32>,
    /// How long the request runs, in seconds.
    pub duration: u64,
    /// The named client that sends it (keeps its session cookie).
    pub client: Option<String>,
    /// Sent from the server's own console (customErrors RemoteOnly shows details).
    pub local: bool,
}

/// How a request was served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The response; status 0 when the connection was refused. On the explain path every
    /// decision from canonicalisation to the process is in the world's journal.
    pub reply: Reply,
    /// Image name and PID of the process that answered.
    pub process: Option<(&'static str, u32)>,
    /// The ASP.NET runtime the request was handed to.
    pub runtime: Option<Version>,
    /// Why that runtime did not run it (1062, Server Application Unavailable...); `None` when it ran.
    pub failed: Option<&'static str>,
    /// Where it landed.
    pub target: Option<Target>,
    /// What became of the client's session.
    pub session: Option<SessionFate>,
    /// The session ID the ASP.NET filter took out of the URL (cookieless session state, SES-10).
    pub url_session: Option<String>,
    /// The request's number in this world: a queued request that moves to a replacement worker
    /// is found by it ([`super::answered_by`]).
    pub id: u64,
    /// HTTP.sys answered by itself after resolution: its httperr `s-reason` (HTTP-03, HTTP-07).
    pub http_sys_reason: Option<&'static str>,
}

/// How a request was served, as the serve path keeps it: what the process model decided, with
/// where the request landed borrowed from the view and the request, and an ASP.NET page kept as
/// what it is made of. [`Answer::served`] builds the owned [`Served`] (target, headers, body).
#[derive(Debug)]
pub struct Answer<'a> {
    made: Made<'a>,
}

/// How an answer came about: a warm answer writes only what its record says, so building and
/// dropping it costs a few stores, not a whole [`Fate`].
#[derive(Debug)]
enum Made<'a> {
    /// A warm record answered: the page is the record's, where it landed the request's place.
    Warm(Warmed<'a>),
    /// The whole procedure ran.
    Full(Fate, Option<Landing<'a>>),
}

/// A warm record's answer: the page it describes, on the place the request landed.
#[derive(Debug)]
struct Warmed<'a> {
    warm: Warm,
    id: u64,
    /// Where the script's URL ends in the place's URL.
    script_end: usize,
    place: dispatch::Place<'a, 'a>,
}

impl Warmed<'_> {
    /// The page, as the whole procedure keeps it for the same request.
    #[inline]
    fn page(&self) -> Page {
        let w = &self.warm;
        Page {
            v: w.v,
            version_header: w.version_header,
            image: w.image,
            pid: w.pid,
            set_cookie: None,
            url_token: None,
            script_end: self.script_end,
        }
    }
}

/// What the process model decided for a request, but where it landed.
#[derive(Debug, Default)]
struct Fate {
    /// The response, unless `page` is set.
    reply: Reply,
    /// The ASP.NET page that answered, built into `reply` only when asked for.
    page: Option<Page>,
    process: Option<(&'static str, u32)>,
    runtime: Option<Version>,
    failed: Option<&'static str>,
    session: Option<SessionFate>,
    url_session: Option<String>,
    id: u64,
    http_sys_reason: Option<&'static str>,
    /// The process that handed the request to the one that answered (IIS 5's host).
    host: Option<u32>,
    /// The world's epoch and the journal's length when the request began: a request that
    /// changed neither leaves a warm record ([`remember_warm`]).
    began: (u64, usize),
}

impl Fate {
    /// A request's fate before anything is decided, every field written where it lies (a
    /// struct update from `Fate::default()` built it aside and copied it).
    #[inline(always)]
    fn new(id: u64, began: (u64, usize)) -> Fate {
        Fate {
            reply: Reply { status: 0, substatus: 0, headers: Vec::new(), body: String::new() },
            page: None,
            process: None,
            runtime: None,
            failed: None,
            session: None,
            url_session: None,
            id,
            http_sys_reason: None,
            host: None,
            began,
        }
    }
}

/// The page ASP.NET writes for a request it ran: its parts, the rest read from where the request
/// landed (the base headers, the script's URL, the application's path).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    v: Version,
    /// X-AspNet-Version is sent (HDR-01).
    version_header: bool,
    image: &'static str,
    pid: u32,
    /// A new session's ID, for Set-Cookie.
    set_cookie: Option<String>,
    /// Cookieless: the session's token the page's links carry (SES-10).
    url_token: Option<String>,
    /// Where the script's URL ends in the landing's URL.
    script_end: usize,
}

/// Where a request landed: borrowed from the view and the request on the serve path, owned when
/// dispatch recorded its decisions or the filter rewrote the URL.
#[derive(Debug)]
enum Landing<'a> {
    Place(dispatch::Place<'a, 'a>),
    /// Boxed: the serve path's answer keeps a place, and a large variant would make every
    /// answer large.
    Target(Box<Target>),
}

impl Landing<'_> {
    #[inline]
    fn app(&self) -> &str {
        match self {
            Landing::Place(p) => &p.key.app.path,
            Landing::Target(t) => &t.app,
        }
    }

    #[inline]
    fn app_vpath(&self) -> &str {
        match self {
            Landing::Place(p) => &p.key.app.vpath,
            Landing::Target(t) => &t.app_vpath,
        }
    }

    /// The application's key in lower case: the view has it on the serve path.
    #[inline]
    fn app_key(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Landing::Place(p) => (*p.key.app.key).into(),
            Landing::Target(t) => t.app.to_ascii_lowercase().into(),
        }
    }

    #[inline]
    fn pool(&self) -> &str {
        match self {
            Landing::Place(p) => &p.key.app.pool,
            Landing::Target(t) => &t.pool,
        }
    }

    #[inline]
    fn pool_settings(&self) -> Option<PoolView> {
        match self {
            Landing::Place(p) => p.key.app.pool_settings,
            Landing::Target(t) => t.pool_settings,
        }
    }

    /// The physical path, built only when it is shown.
    fn physical(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Landing::Place(p) => p.physical().into(),
            Landing::Target(t) => t.physical.as_str().into(),
        }
    }

    /// Whether the physical path is a content file or folder of `view`, the view the request was
    /// resolved on (HDR-08): on the serve path only the URL below the key's folder is hashed.
    fn exists(&self, view: &View) -> bool {
        match self {
            Landing::Place(p) => p.exists(view),
            Landing::Target(t) => view.exists(&t.physical),
        }
    }

    fn target(&self) -> Target {
        match self {
            Landing::Place(p) => p.target(),
            Landing::Target(t) => (**t).clone(),
        }
    }
}

impl<'a> Answer<'a> {
    /// The response's status; 0 when the connection was refused.
    #[inline]
    pub fn status(&self) -> u16 {
        match &self.made {
            Made::Warm(_) => 200,
            Made::Full(fate, _) if fate.page.is_some() => 200,
            Made::Full(fate, _) => fate.reply.status,
        }
    }

    /// Image name and PID of the process that answered.
    pub fn process(&self) -> Option<(&'static str, u32)> {
        match &self.made {
            Made::Warm(a) => Some((a.warm.image, a.warm.pid)),
            Made::Full(fate, _) => fate.process,
        }
    }

    /// The ASP.NET runtime the request was handed to.
    pub fn runtime(&self) -> Option<Version> {
        match &self.made {
            Made::Warm(a) => Some(a.warm.v),
            Made::Full(fate, _) => fate.runtime,
        }
    }

    /// What became of the client's session.
    pub fn session(&self) -> Option<SessionFate> {
        match &self.made {
            Made::Warm(a) => a.warm.session,
            Made::Full(fate, _) => fate.session,
        }
    }

    /// The request's number in this world.
    pub fn id(&self) -> u64 {
        match &self.made {
            Made::Warm(a) => a.id,
            Made::Full(fate, _) => fate.id,
        }
    }

    /// The answer of a request that ran the whole procedure.
    #[inline]
    fn full(fate: Fate, landing: Option<Landing<'a>>) -> Answer<'a> {
        Answer { made: Made::Full(fate, landing) }
    }

    /// Numbers the request.
    #[inline]
    fn with_id(mut self, id: u64) -> Answer<'a> {
        match &mut self.made {
            Made::Warm(a) => a.id = id,
            Made::Full(fate, _) => fate.id = id,
        }
        self
    }

    /// What the process model decided and where the request landed, a warm answer's as the
    /// whole procedure has them for the same request (the owned reply is built from these).
    fn into_parts(self) -> (Fate, Option<Landing<'a>>) {
        match self.made {
            Made::Full(fate, landing) => (fate, landing),
            Made::Warm(a) => {
                let fate = Fate {
                    page: Some(a.page()),
                    process: Some((a.warm.image, a.warm.pid)),
                    runtime: Some(a.warm.v),
                    session: a.warm.session,
                    host: a.warm.host,
                    ..Fate::new(a.id, (0, 0))
                };
                (fate, Some(Landing::Place(a.place)))
            }
        }
    }
}

/// Records a decision in the world's journal when sink `S` keeps decisions: on the serve path
/// ([`Discard`]) its text is never built.
#[inline(always)]
fn decide<S: Sink, T: Into<String>>(w: &mut World, text: impl FnOnce() -> T, rules: &[RuleId]) {
    if S::KEEPS {
        w.record_decision(text(), rules);
    }
}

/// Serves one request on the machine, as of the current virtual time, recording every decision
/// with its rules in the world's journal (scenarios, explain, the console).
pub fn serve(m: &Machine, w: &mut World, req: &Request, load: &Load) -> Served {
    serve_with::<Vec<Decision>>(m, w, req, load)
}

/// Serves one request as [`serve`] does, recording its decisions only when sink `S` keeps them:
/// with [`Discard`] only what changed (a process started or ended, an event written) reaches the
/// journal. Both run the same procedure.
pub fn serve_with<S: Sink>(m: &Machine, w: &mut World, req: &Request, load: &Load) -> Served {
    super::with_view(m, w, |w, v| answer::<S>(m, w, v, req, load).served())
}

/// Serves one request as [`serve_with`] does on `v`, the world's current view of `m`
/// ([`super::view`]), and answers compactly: nothing is built that the process model did not
/// need (the serve path).
#[inline]
pub fn answer<'a, S: Sink>(m: &Machine, w: &mut World, v: &'a View, req: &'a Request, load: &Load) -> Answer<'a> {
    let id = w.begin_request();
    if !serving(m, w) {
        return refused::<S>(w).with_id(id);
    }
    if S::KEEPS || may_carry_session(req) {
        return run_prepared(m, w, prepare_with::<S>(m, v, req), load).with_id(id);
    }
    // Resolved in place and borrowed: the resolution is not moved into a [`Prepared`].
    run_fast::<S>(m, w, v, dispatch::resolve_fast(v, req), id, None, load)
}

/// A request through the global ASP.NET filter and dispatch, ready for the process model: the
/// part of serving that reads only the configuration, so the HTTP front end computes it outside
/// any lock ([`prepare`], then [`serve_prepared`]). It borrows the view and the request.
#[derive(Debug)]
pub struct Prepared<'a, S: Sink = Discard> {
    view: &'a View,
    resolved: Resolved<'a>,
    /// The filter's runtime and what it took out of the URL (SES-10).
    stripped: Option<(Version, dispatch::filter::Stripped)>,
    sink: std::marker::PhantomData<fn() -> S>,
}

/// What dispatch decided: borrowed from the view on the serve path, owned with its decisions
/// when they are kept or when the filter rewrote the URL.
#[derive(Debug)]
enum Resolved<'a> {
    Fast(dispatch::Fast<'a, 'a>),
    Owned(Box<Resolution>),
}

impl<S: Sink> Prepared<'_, S> {
    /// The site the request reached and its MaxConnections, when it reached one (HTTP-03).
    pub fn site(&self) -> Option<(u32, u32)> {
        match &self.resolved {
            Resolved::Fast(f) => f.target.as_ref().map(|p| (p.site.id, p.site.max_connections)),
            Resolved::Owned(r) => {
                let id = r.target.as_ref()?.site;
                self.view.site(id).map(|s| (id, s.max_connections))
            }
        }
    }
}

/// Whether the URL may carry a cookieless session segment for the ASP.NET filter (SES-10): a URL
/// without a `(` pays one byte scan, not the filter.
#[inline]
fn may_carry_session(req: &Request) -> bool {
    // Eight bytes at a time: a URL is short, and a general search's set-up costs more than it.
    const ONES: u64 = 0x0101_0101_0101_0101;
    const PAREN: u64 = ONES * b'(' as u64;
    let mut chunks = req.url.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let x = u64::from_le_bytes(word) ^ PAREN;
        if x.wrapping_sub(ONES) & !x & (ONES << 7) != 0 {
            return true;
        }
    }
    chunks.remainder().contains(&b'(')
}

/// The serve path's [`prepare_with`]: no decision is recorded (the HTTP front end).
pub fn prepare<'a>(m: &Machine, v: &'a View, req: &'a Request) -> Prepared<'a> {
    prepare_with::<Discard>(m, v, req)
}

/// The global ISAPI filter sees the URL first and takes out a cookieless session ID (SES-10,
/// SHR-01); then dispatch resolves what is left on view `v` of `m`, keeping its decisions when
/// sink `S` keeps them.
pub fn prepare_with<'a, S: Sink>(m: &Machine, v: &'a View, req: &'a Request) -> Prepared<'a, S> {
    let stripped = if may_carry_session(req) {
        super::filter_version(m).and_then(|f| dispatch::filter::strip_session_id(&req.url, f).map(|st| (f, st)))
    } else {
        None
    };
    let resolved = match &stripped {
        Some((_, st)) => {
            let req = Request { url: st.url.clone(), ..req.clone() };
            if S::KEEPS {
                Resolved::Owned(Box::new(dispatch::resolve(v, &req)))
            } else {
                let fast = dispatch::resolve_fast(v, &req);
                let target = fast.target.as_ref().map(dispatch::Place::target);
                Resolved::Owned(Box::new(Resolution { decisions: Vec::new(), outcome: fast.outcome(), target }))
            }
        }
        None if S::KEEPS => Resolved::Owned(Box::new(dispatch::resolve(v, req))),
        None => Resolved::Fast(dispatch::resolve_fast(v, req)),
    };
    Prepared { view: v, resolved, stripped, sink: std::marker::PhantomData }
}

/// Serves a request [`prepare`]d on a published view of `m` (the HTTP front end prepares outside
/// any lock): the process model runs it as of the current virtual time. The answer borrows the
/// view and the request, not the world.
pub fn serve_prepared<'a, S: Sink>(m: &Machine, w: &mut World, p: Prepared<'a, S>, load: &Load) -> Answer<'a> {
    if !serving(m, w) {
        return refused::<S>(w);
    }
    let id = w.begin_request();
    run_prepared(m, w, p, load).with_id(id)
}

fn run_prepared<'a, S: Sink>(m: &Machine, w: &mut World, p: Prepared<'a, S>, load: &Load) -> Answer<'a> {
    let url_session = p.stripped.map(|(f, st)| {
        decide::<S, _>(
            w,
            || format!("aspnet_filter.dll ({f}) takes the session ID {} out of the URL: {}", st.id, st.url),
            &["SES-10", "SHR-01"],
        );
        st.id
    });
    match p.resolved {
        Resolved::Owned(res) => {
            let mut s = Fate { url_session, began: (w.epoch(), w.journal_len()), ..Fate::default() };
            let res = *res;
            for d in res.decisions {
                w.record_decision(d.text, &d.rules);
            }
            let Some(target) = res.target else {
                if let Outcome::Reply(r) = res.outcome {
                    s.reply = r;
                }
                return Answer::full(s, None);
            };
            let landing = Landing::Target(Box::new(target));
            let handler = match res.outcome {
                Outcome::Reply(r) => Handler::Reply(r),
                Outcome::Isapi(ref call) => Handler::Isapi(Call::of(call, &landing, p.view)),
            };
            run::<S>(m, w, &mut s, handler, &landing, load);
            Answer::full(s, Some(landing))
        }
        Resolved::Fast(fast) => run_fast::<S>(m, w, p.view, fast, 0, url_session, load),
    }
}

/// The serve path's request once dispatch resolved it without recording: a warm record answers
/// when it can, the whole procedure otherwise. `id` numbers the request; `url_session` is what
/// the filter took out of the URL.
#[inline]
fn run_fast<'a, S: Sink>(
    m: &Machine,
    w: &mut World,
    view: &'a View,
    fast: dispatch::Fast<'a, 'a>,
    id: u64,
    url_session: Option<String>,
    load: &Load,
) -> Answer<'a> {
    // As the explain path has it (a HEAD answer loses its body).
    let reply = match fast.outcome {
        dispatch::FastOutcome::Isapi { .. } => None,
        _ => Some(fast.outcome()),
    };
    let isapi = match fast.outcome {
        dispatch::FastOutcome::Isapi { mapped, wildcard: _, script_end, in_process } => {
            Some((mapped, script_end, in_process))
        }
        _ => None,
    };
    if let (Some((mapped, script_end, _)), Some(place)) = (isapi, &fast.target) {
        if url_session.is_none() {
            if let Some(warm) = warm_answer(m, w, place, mapped.aspnet, script_end, load) {
                // Built where it is returned: nothing but what the record says is written, and
                // only the place is moved out of the resolution (the rest is dropped in place).
                if let Some(place) = fast.target {
                    return Answer { made: Made::Warm(Warmed { warm, id, script_end, place }) };
                }
            }
        }
    }
    let target = fast.target;
    let mut s = Fate { url_session, ..Fate::new(id, (w.epoch(), w.journal_len())) };
    let Some(place) = target else {
        if let Some(Outcome::Reply(r)) = reply {
            s.reply = r;
        }
        return Answer::full(s, None);
    };
    let landing = Landing::Place(place);
    let handler = match (isapi, reply, &landing) {
        (Some((mapped, script_end, in_process)), _, Landing::Place(place)) => Handler::Isapi(Call {
            view,
            landing: &landing,
            dll: &mapped.entry.processor,
            aspnet: mapped.aspnet,
            script_url: &place.url()[..script_end],
            path_info: &place.url()[script_end..],
            app_isolated: place.key.app.isolated,
            in_process,
            base_headers: &place.key.headers,
        }),
        (_, Some(Outcome::Reply(r)), _) => Handler::Reply(r),
        _ => unreachable!("an ISAPI outcome is matched above"),
    };
    run::<S>(m, w, &mut s, handler, &landing, load);
    Answer::full(s, Some(landing))
}

fn refused<'a, S: Sink>(w: &mut World) -> Answer<'a> {
    decide::<S, _>(w, || "W3SVC is not running: the connection is refused", &["IIR-02"]);
    Answer::full(Fate::default(), None)
}

/// What runs a request that reached a site: an answer dispatch already has, or an ISAPI.
enum Handler<'a> {
    Reply(Reply),
    Isapi(Call<'a>),
}

/// An ISAPI extension chosen to run a request, as the process model reads it: borrowed from the
/// view on the serve path, from an [`IsapiCall`] on the explain path.
#[derive(Debug, Clone, Copy)]
struct Call<'a> {
    /// The view the request was resolved on: its content files answer HDR-08's question.
    view: &'a View,
    /// Where the request landed in that view.
    landing: &'a Landing<'a>,
    dll: &'a str,
    aspnet: Option<Version>,
    script_url: &'a str,
    path_info: &'a str,
    app_isolated: u32,
    in_process: bool,
    base_headers: &'a [dispatch::Header],
}

impl<'a> Call<'a> {
    fn of(call: &'a IsapiCall, landing: &'a Landing<'a>, view: &'a View) -> Call<'a> {
        Call {
            view,
            landing,
            dll: &call.dll,
            aspnet: call.aspnet,
            script_url: &call.script_url,
            path_info: &call.path_info,
            app_isolated: call.app_isolated,
            in_process: call.in_process,
            base_headers: &call.base_headers,
        }
    }

    /// The application's key, as written.
    #[inline]
    fn app(&self) -> &'a str {
        self.landing.app()
    }

    /// The application's virtual path.
    #[inline]
    fn app_vpath(&self) -> &'a str {
        self.landing.app_vpath()
    }
}

/// The process model's part of a request: the worker, the CLR, the AppDomain, the session.
fn run<S: Sink>(m: &Machine, w: &mut World, s: &mut Fate, handler: Handler<'_>, landing: &Landing<'_>, load: &Load) {
    if iis5_style(m, w) {
        serve_iis5::<S>(m, w, s, handler, load);
    } else {
        serve_worker_mode::<S>(m, w, s, handler, landing, load);
    }
}

#[inline]
fn touch(m: &Machine, w: &mut World, pid: u32, s: &mut Fate) {
    if let Some(p) = w.st().procs.get(&pid) {
        let image = p.role.image();
        // The process that answered before this one handed the request on (IIS 5).
        s.host = s.process.map(|(_, host)| host).filter(|host| *host != pid);
        s.process = Some((image, pid));
        w.tally(pid, m.clock(), false);
    }
}

/// IIS 6 worker process isolation mode: the application's pool, its w3wp.exe (PM6-02).
fn serve_worker_mode<S: Sink>(
    m: &Machine,
    w: &mut World,
    s: &mut Fate,
    handler: Handler<'_>,
    landing: &Landing<'_>,
    load: &Load,
) {
    let pool = landing.pool();
    // The pool's settings travel with the request from the view it was resolved on: the live
    // metabase is not read per request.
    let Some(settings) = landing.pool_settings() else {
        decide::<S, _>(
            w,
            || format!("application pool {pool} does not exist: HTTP.sys answers 503"),
            &["REQ-07", "MB-23"],
        );
        if w.st_mut().warned.insert(format!("pool:{}", pool.to_ascii_lowercase())) {
            w.log_event_to(m.clock(),
                "System",
                Level::Warning,
                "W3SVC",
                1059,
                &format!("The application '{}' belongs to application pool '{pool}', which does not exist. The application is unavailable.", landing.app()),
                &["REQ-07"],
            );
        }
        http_sys_unavailable(s, "Disabled");
        return;
    };
    if let Some(why) = w.pool_stopped(pool).map(str::to_string) {
        // An administrator's stop is `Disabled`, rapid-fail protection's `AppOffline` (HTTP-03).
        let reason = if why == super::RAPID_FAIL { "AppOffline" } else { "Disabled" };
        decide::<S, _>(
            w,
            || format!("application pool {pool} is stopped ({why}): HTTP.sys answers 503 {reason}"),
            &["REQ-07", "PM6-07", "HTTP-03"],
        );
        http_sys_unavailable(s, reason);
        return;
    }
    if queue_full::<S>(m, w, pool, settings) {
        http_sys_unavailable(s, "QueueFull");
        return;
    }
    let Some(pid) = w3wp::<S>(m, w, pool, settings, load) else {
        // The worker could not start: an internal error of the service to HTTP.sys (HTTP-07).
        http_sys_unavailable(s, "N/A");
        return;
    };
    touch(m, w, pid, s);
    // A w3wp.exe loads only ISAPIs of its own bitness (PM6-08): a 32-bit worker cannot load a
    // Framework64 aspnet_isapi.dll, nor a 64-bit one a Framework DLL.
    // The check is made when the worker loads the DLL: one it loaded is not checked again.
    let worker = w.st().procs.get(&pid).map(|p| (p.bitness, &p.loaded));
    if let (Handler::Isapi(call), Some((bits, loaded))) = (&handler, worker) {
        let loaded = loaded.iter().any(|d| d == call.dll);
        let dll_bits = if loaded { None } else { Bitness::of_framework_dll(call.dll) };
        if let Some(dll_bits) = dll_bits {
            if dll_bits != bits {
                decide::<S, _>(
                    w,
                    || format!("w3wp.exe PID {pid} is {} and cannot load {}: 500", bits_name(bits), call.dll),
                    &["PM6-08"],
                );
                s.runtime = call.aspnet;
                s.failed = Some("w3wp.exe cannot load an ISAPI of the other bitness");
                s.reply = pages::not_valid_win32(call.base_headers);
                count_request(w, pid);
                return;
            }
        }
        if !loaded {
            if let Some(p) = w.st_mut().procs.get_mut(&pid) {
                p.loaded.push(call.dll.to_string());
            }
        }
    }
    match handler {
        Handler::Reply(r) => {
            s.reply = r;
            count_request(w, pid);
        }
        Handler::Isapi(call) => {
            let Some(v) = call.aspnet else {
                s.reply = isapi_reply(&call, "w3wp.exe", pid);
                count_request(w, pid);
                return;
            };
            s.runtime = Some(v);
            if v == Version::V1_0 && m.policies().is(policy::PM6_V10_IN_WORKER_MODE, "unavailable") {
                decide::<S, _>(
                    w,
                    || "ASP.NET 1.0 cannot run in worker process isolation mode",
                    &["PM6-04", "CLR-03", "HDR-05"],
                );
                unavailable(m, s, &call, "1.0 cannot run in worker process isolation mode");
                return;
            }
            decide::<S, _>(
                w,
                || {
                    format!(
                    "worker process isolation mode: ASP.NET {v} runs inside w3wp.exe PID {pid}; processModel ignored but for maxWorkerThreads, maxIoThreads, responseDeadlockInterval{}",
                    if v.is_20_or_later() { ", requestQueueLimit, minWorkerThreads, minIoThreads" } else { "" }
                )
                },
                &["PM6-02"],
            );
            run_managed::<S>(m, w, s, pid, &call, v, load);
        }
    }
}

/// Picks the pool's worker: a web garden hands requests to its workers in turn (PM6-05, SES-05).
fn bits_name(b: Bitness) -> &'static str {
    match b {
        Bitness::X86 => "32-bit",
        Bitness::X64 => "64-bit",
    }
}

/// HTTP.sys's own 503 for a pool, logged to httperr with `reason` (HTTP-03, HTTP-07).
fn http_sys_unavailable(s: &mut Fate, reason: &'static str) {
    s.reply = pages::http_sys_unavailable();
    s.http_sys_reason = Some(reason);
}

/// Whether HTTP.sys's queue for `pool` is full: the pool's requests still running in virtual time
/// fill it up to AppPoolQueueLength, and the next one gets 503 QueueFull (HTTP-03, modeled).
fn queue_full<S: Sink>(m: &Machine, w: &mut World, pool: &str, settings: PoolView) -> bool {
    let limit = settings.queue_length.max(1) as usize;
    // Every request that ever ran long is an upper bound: the usual box (and the wire) has none.
    if w.st().long_requests < limit as u64 {
        return false;
    }
    let workers = || w.st().procs.values().filter(move |p| matches!(&p.role, Role::W3wp(name, _) if name == pool));
    let now = m.clock();
    let queued: usize = workers().map(|p| p.busy.iter().filter(|t| **t > now).count()).sum();
    if queued < limit {
        return false;
    }
    decide::<S, _>(
        w,
        || {
            format!(
                "HTTP.sys's queue for pool {pool} holds {queued} requests (AppPoolQueueLength {limit}): 503 QueueFull"
            )
        },
        &["HTTP-03", "REQ-07"],
    );
    true
}

/// The pool's worker for this request, started if needed; `None` when a new worker cannot load
/// the global ISAPI filter (a Framework DLL of the other bitness: event 2268, PM6-08).
fn w3wp<S: Sink>(m: &Machine, w: &mut World, pool: &str, settings: PoolView, load: &Load) -> Option<u32> {
    let max = settings.max_processes.max(1);
    let slot = garden_slot(m, w, pool, max, load);
    if let Some(pid) = w.find_w3wp(pool, slot) {
        if max > 1 {
            decide::<S, _>(
                w,
                || format!("web garden of {max} workers (MaxProcesses): request goes to #{}, PID {pid}", slot + 1),
                &["PM6-05", "SES-05"],
            );
        }
        return Some(pid);
    }
    let bits = m.iis_bitness();
    if let Some(filter) =
        super::global_filters(m).into_iter().find(|f| Bitness::of_framework_dll(f).is_some_and(|b| b != bits))
    {
        decide::<S, _>(
            w,
            || format!("a {} w3wp.exe cannot load the ISAPI filter {filter}: startup aborted, 503", bits_name(bits)),
            &["PM6-08"],
        );
        w.log_event(
            m.clock(),
            Level::Error,
            "W3SVC-WP",
            2268,
            "Could not load all ISAPI filters for site/service. Therefore startup aborted.",
            &["PM6-08"],
        );
        return None;
    }
    let identity = match settings.identity_type {
        0 => "LocalSystem".to_string(),
        1 => "LOCAL SERVICE".to_string(),
        3 => format!("IWAM_{}", m.name()),
        _ => "NETWORK SERVICE".to_string(),
    };
    let pid = start(m, w, Role::W3wp(pool.to_string(), slot), &identity, None, &["PM6-02"]);
    if max > 1 {
        decide::<S, _>(
            w,
            || format!("web garden of {max} workers (MaxProcesses): request goes to #{}, PID {pid}", slot + 1),
            &["PM6-05", "SES-05"],
        );
    }
    Some(pid)
}

/// The garden member the next request goes to (policy `garden.routing`).
#[inline]
fn garden_slot(m: &Machine, w: &mut World, key: &str, size: u32, load: &Load) -> u32 {
    if size <= 1 {
        return 0;
    }
    if m.policies().is(policy::GARDEN_ROUTING, "sticky") {
        let name = load.client.as_deref().unwrap_or("");
        let h = name.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        return h % size;
    }
    let next = w.st_mut().rr.entry(key.to_ascii_lowercase()).or_insert(0);
    let slot = *next % size;
    *next = next.wrapping_add(1);
    slot
}

/// IIS 5.x and IIS 5.0 isolation mode: inetinfo or a dllhost runs the ISAPI (PM5-03).
fn serve_iis5<S: Sink>(m: &Machine, w: &mut World, s: &mut Fate, handler: Handler<'_>, load: &Load) {
    let call = match handler {
        Handler::Reply(r) => {
            let pid = inetinfo(m, w);
            touch(m, w, pid, s);
            s.reply = r;
            return;
        }
        Handler::Isapi(call) => call,
    };
    let in_process = super::in_process_at_start(m, w, call.dll);
    if in_process != call.in_process {
        decide::<S, _>(
            w,
            || "InProcessIsapiApps changed since W3SVC started: the change waits for an IIS restart",
            &["KB-06", "SHR-03"],
        );
    }
    if m.edition().is_iis6() {
        decide::<S, _>(
            w,
            || "IIS 5.0 isolation mode: inetinfo.exe, dllhost.exe and aspnet_wp.exe as on IIS 5",
            &["PM6-03"],
        );
    }
    let host = if in_process {
        decide::<S, _>(
            w,
            || {
                format!(
                    "{} is listed in InProcessIsapiApps: it loads in inetinfo.exe whatever the protection",
                    call.dll
                )
            },
            &["SHR-03", "PM5-03"],
        );
        Role::Inetinfo
    } else {
        match call.app_isolated {
            0 => {
                decide::<S, _>(
                    w,
                    || format!("{} is Low (AppIsolated=0): inetinfo.exe", call.app()),
                    &["PM5-03", "KB-07"],
                );
                Role::Inetinfo
            }
            1 => {
                decide::<S, _>(
                    w,
                    || format!("{} is High (AppIsolated=1): its own dllhost.exe", call.app()),
                    &["PM5-03", "KB-01"],
                );
                Role::AppDllhost(call.app().to_string())
            }
            _ => {
                decide::<S, _>(
                    w,
                    || {
                        format!(
                        "{} is Medium (AppIsolated=2): the pooled dllhost.exe, shared with every Medium application",
                        call.app()
                    )
                    },
                    &["PM5-03", "KB-07"],
                );
                Role::PooledDllhost
            }
        }
    };
    let host_pid = match w.find(&host) {
        Some(pid) => pid,
        None => {
            let identity = if host == Role::Inetinfo { "SYSTEM".to_string() } else { format!("IWAM_{}", m.name()) };
            start(m, w, host.clone(), &identity, None, &["PM5-03"])
        }
    };
    touch(m, w, host_pid, s);
    let Some(v) = call.aspnet else {
        s.reply = isapi_reply(&call, host.image(), host_pid);
        count_request(w, host_pid);
        return;
    };
    s.runtime = Some(v);
    // The ISAPI reads processModel when it loads in this host, and keeps the files it loaded
    // with (PM5-05, KB-02).
    let load_state = match w.st().procs.get(&host_pid).and_then(|p| p.isapis.get(&v).copied()) {
        Some(l) => l,
        None => {
            let l = super::IsapiLoad { enabled: m.process_model(v).enabled(), kb: super::has_kb812833(m, v) };
            if let Some(p) = w.st_mut().procs.get_mut(&host_pid) {
                p.isapis.insert(v, l);
            }
            decide::<S, _>(
                w,
                || {
                    format!(
                        "aspnet_isapi.dll ({v}) loads in {} PID {host_pid} and reads <processModel enable=\"{}\">",
                        host.image(),
                        l.enabled
                    )
                },
                &["PM5-05"],
            );
            l
        }
    };
    let enabled = load_state.enabled;
    if host.is_dllhost() && !load_state.kb {
        let why = if super::has_kb812833(m, v) { " (the update came after this dllhost.exe loaded it)" } else { "" };
        decide::<S, _>(
            w,
            || format!("aspnet_isapi.dll ({v}) is in dllhost.exe without the KB 812833 update{why}: refused"),
            &["PM5-11", "KB-06", "CLR-03", "HDR-05"],
        );
        let source = Catalog::of(v).source();
        w.log_event(m.clock(),
            Level::Error,
            &source,
            1084,
            "aspnet_isapi.dll cannot run in DLLHOST.EXE. ASP.NET must run in the IIS process: re-register it with aspnet_regiis.exe -i so that it is listed in InProcessIsapiApps again.",
            &["PM5-11"],
        );
        unavailable(m, s, &call, "it cannot run in dllhost.exe without the KB 812833 update (event 1084)");
        return;
    }
    if enabled {
        let rules: &[RuleId] = if host.is_dllhost() { &["PM5-01", "PM5-02", "KB-06"] } else { &["PM5-01", "PM5-02"] };
        decide::<S, _>(
            w,
            || format!("processModel enable=\"true\": the request is forwarded to aspnet_wp.exe ({v})"),
            rules,
        );
        let Some(wp) = aspnet_wp::<S>(m, w, v, load) else {
            unavailable(m, s, &call, "aspnet_wp.exe could not start");
            return;
        };
        touch(m, w, wp, s);
        run_managed::<S>(m, w, s, wp, &call, v, load);
        return;
    }
    decide::<S, _>(
        w,
        || {
            format!(
            "processModel enable=\"false\": ASP.NET {v} runs inside {} PID {host_pid}; processModel limits are ignored",
            host.image()
        )
        },
        &["PM5-10", "KB-04"],
    );
    if host.is_dllhost() && m.policies().flag(policy::KB812833_IWAM_CHECK) && !super::iwam_granted(m) {
        let iwam = format!("IWAM_{}", m.name());
        decide::<S, _>(
            w,
            || {
                format!("dllhost.exe runs as {iwam}, which lacks ASPNET's permissions on the application and Temporary ASP.NET Files")
            },
            &["KB-06", "CLR-03", "HDR-05"],
        );
        let source = Catalog::of(v).source();
        w.log_event(m.clock(),
            Level::Error,
            &source,
            1088,
            &format!("Failed to execute request because the App-Domain could not be created. Error: 0x80070005 Access is denied. (process identity {iwam})"),
            &["KB-06"],
        );
        unavailable(m, s, &call, "the AppDomain could not be created (event 1088)");
        return;
    }
    match &host {
        Role::AppDllhost(_) => decide::<S, _>(
            w,
            || format!("KB 812833: ASP.NET {v} runs in the High application's own dllhost.exe"),
            &["KB-03", "PM5-12"],
        ),
        Role::PooledDllhost => decide::<S, _>(
            w,
            || format!("KB 812833: ASP.NET {v} runs in the pooled dllhost.exe shared by Medium applications"),
            &["KB-07", "PM5-12"],
        ),
        _ => {}
    }
    run_managed::<S>(m, w, s, host_pid, &call, v, load);
}

fn inetinfo(m: &Machine, w: &mut World) -> u32 {
    match w.find(&Role::Inetinfo) {
        Some(pid) => pid,
        None => start(m, w, Role::Inetinfo, "SYSTEM", None, &["PM5-03"]),
    }
}

/// The runtime's aspnet_wp.exe (one per runtime, or a web garden), started on demand with the
/// machine.config of that moment (PM5-02, PM5-05, PM5-06, PM5-09).
fn aspnet_wp<S: Sink>(m: &Machine, w: &mut World, v: Version, load: &Load) -> Option<u32> {
    let per_runtime = m.policies().flag(policy::PM5_WEBGARDEN_PER_RUNTIME);
    let garden_from = if per_runtime { v } else { m.highest_registered().unwrap_or(v) };
    let size = match w.st().gardens.get(&garden_from) {
        Some(n) => *n,
        None => {
            let pm = m.process_model(garden_from);
            let cpus = m.cpus();
            let n = if pm.web_garden() {
                let usable = if cpus >= 32 { u32::MAX } else { (1u32 << cpus) - 1 };
                (pm.cpu_mask() & usable).count_ones().max(1)
            } else {
                1
            };
            w.st_mut().gardens.insert(garden_from, n);
            n
        }
    };
    // The garden's round-robin key is named only when there is a garden to go round.
    let slot = if size > 1 { garden_slot(m, w, &format!("aspnet_wp:{v}"), size, load) } else { 0 };
    if size > 1 {
        decide::<S, _>(
            w,
            || format!("webGarden=\"true\": {size} aspnet_wp.exe ({v}) by cpuMask; this request goes to #{}", slot + 1),
            &["PM5-06", "SES-05"],
        );
    }
    if let Some(pid) = w.find(&Role::AspnetWp(v, slot)) {
        return Some(pid);
    }
    let pm = m.process_model(v);
    if !pm.credentials_valid() {
        let source = Catalog::of(v).source();
        decide::<S, _>(
            w,
            || {
                format!(
                    "processModel userName=\"{}\" has no valid password: aspnet_wp.exe cannot start",
                    pm.get("userName")
                )
            },
            &["PM5-09", "CLR-03"],
        );
        w.log_event(m.clock(),
            Level::Error,
            &source,
            1007,
            "aspnet_wp.exe could not be launched because the username and/or password supplied in the processModel section of the config file are invalid.",
            &["PM5-09", "PM5-07"],
        );
        return None;
    }
    let identity = pm.identity();
    Some(start(m, w, Role::AspnetWp(v, slot), &identity, Some(pm.clone()), &["PM5-02", "PM5-09"]))
}

fn count_request(w: &mut World, pid: u32) {
    w.count_served(pid);
}

/// The reply of an ISAPI other than ASP.NET's (ASP, SSI, a CGI...).
fn isapi_reply(call: &Call<'_>, image: &str, pid: u32) -> Reply {
    let name = call.dll.rsplit('\\').next().unwrap_or(call.dll).to_string();
    let mut headers = Vec::with_capacity(call.base_headers.len() + 4);
    headers.extend_from_slice(call.base_headers);
    headers.push(("Content-Type".into(), "text/html".into()));
    if name.eq_ignore_ascii_case("asp.dll") {
        headers.push(("Cache-control".into(), "private".into()));
    }
    Reply {
        status: 200,
        substatus: 0,
        headers,
        body: format!("<html><body>{name} ran {} in {image} (PID {pid})</body></html>", call.script_url),
    }
}

/// The runtime could not run the request: Server Application Unavailable, and the request is
/// marked failed for the reason given.
fn unavailable(m: &Machine, s: &mut Fate, call: &Call<'_>, why: &'static str) {
    let status = if m.policies().is(policy::CLR_UNAVAILABLE_STATUS, "503") { 503 } else { 500 };
    s.reply = pages::unavailable(status, call.base_headers);
    // A worker recycled after running the page answers this instead.
    s.page = None;
    s.failed = Some(why);
}

/// The runtime whose aspnet_state.exe the state service runs (SHR-06).
fn state_service_version(m: &Machine) -> Option<Version> {
    m.service("aspnet_state").filter(|s| s.running)?;
    m.state_service_version()
}

/// Managed code runs in process `pid`: CLR ownership, the AppDomain, session state, the
/// response, then the worker's limits.
fn run_managed<S: Sink>(m: &Machine, w: &mut World, s: &mut Fate, pid: u32, call: &Call<'_>, v: Version, load: &Load) {
    let (image, owner, already_refused) = match w.st().procs.get(&pid) {
        Some(p) => (p.role.image(), p.clr, p.refused.contains(&v)),
        None => return,
    };
    match owner {
        None => {
            if let Some(p) = w.st_mut().procs.get_mut(&pid) {
                p.clr = Some(v);
            }
            let rules: &[RuleId] = if image == "w3wp.exe" { &["CLR-01", "CLR-06"] } else { &["CLR-01"] };
            let how = if image == "w3wp.exe" {
                " (the pool's runtime is whichever app's map was requested first)"
            } else {
                ""
            };
            decide::<S, _>(
                w,
                || format!("first managed code in {image} PID {pid}: the {v} CLR loads and owns the process{how}"),
                rules,
            );
        }
        Some(o) if o != v => {
            let rules: &[RuleId] = if image == "w3wp.exe" {
                &["CLR-01", "CLR-04", "CLR-03", "HDR-05", "PM6-06"]
            } else {
                &["CLR-01", "CLR-04", "CLR-03", "HDR-05"]
            };
            decide::<S, _>(
                w,
                || format!("{image} PID {pid} already runs the {o} CLR: ASP.NET {v} fails until the process ends"),
                rules,
            );
            let every = m.policies().is(policy::CLR_EVENT1062, "every_request");
            if every || !already_refused {
                if let Some(p) = w.st_mut().procs.get_mut(&pid) {
                    p.refused.insert(v);
                }
                let source = Catalog::of(v).source();
                w.log_event(m.clock(),
                    Level::Error,
                    &source,
                    1062,
                    "It is not possible to run two different versions of ASP.NET in the same IIS process. Please use the IIS Administration Tool to reconfigure your server to run the application in a separate process.",
                    &["CLR-02"],
                );
            }
            unavailable(m, s, call, "another CLR owns the process (event 1062)");
            return;
        }
        Some(_) => {}
    }
    if let Some(r) = path_check::<S>(m, w, call, v) {
        s.reply = r;
        return;
    }
    // The application's key, lower-cased once for the AppDomain, web.config and the session.
    let app_key = call.landing.app_key();
    let app_key = &*app_key;
    // The AppDomain, if it is up, with what it read and compiled in this generation.
    let generation = m.generation();
    let domain = w.st().procs.get(&pid).and_then(|p| p.domains.get(app_key));
    let has_domain = domain.is_some();
    let current = domain.filter(|d| d.version == v).map(|d| &d.compiled).filter(|c| c.generation == generation);
    // A page the AppDomain compiled under this configuration is neither forbidden nor missing.
    let compiled = current.is_some_and(|c| c.knows(generation, call.script_url));
    let wc = match current.and_then(|c| c.config(generation)) {
        Some(wc) => wc,
        None => m.web_config(app_key),
    };
    // The versions an error page shows, read only when one is sent.
    let versions = || (m.file_version(v), m.file_version(v));
    if let Some(target) = wc.target {
        if target > v && m.policies().is(policy::CMP_TARGET_NEWER, "config_error") {
            decide::<S, _>(
                w,
                || format!("{} was built for {target} but its map runs {v}: configuration error", call.app()),
                &["CMP-02", "HDR-04"],
            );
            s.reply = pages::managed_error(
                500,
                call.base_headers,
                call.app_vpath(),
                "Configuration Error",
                load.local,
                versions(),
            );
            return;
        }
    }
    let ext = if compiled { "" } else { extension_of(call.script_url) };
    if !compiled && v.forbids_extension(ext) {
        decide::<S, _>(
            w,
            || format!("{} is a forbidden type: ASP.NET's HttpForbiddenHandler answers 403", ext.to_ascii_lowercase()),
            &["HDR-07", "SEC-10"],
        );
        s.reply = pages::forbidden(call.base_headers, call.app_vpath(), load.local, versions());
        return;
    }
    // The request queue: aspnet_wp's processModel (PM5-08); in worker mode w3wp.exe keeps
    // maxWorkerThreads and, from 2.0, requestQueueLimit of the runtime's machine.config (PM6-02).
    let now = m.clock();
    let in_w3wp = image == "w3wp.exe";
    // The worker's own processModel, read when it started; w3wp.exe reads the runtime's.
    let config = w.st().procs.get(&pid).and_then(|p| p.config.clone());
    let limits = match config.as_deref() {
        Some(pm) => Some(pm),
        None if in_w3wp => Some(m.process_model(v)),
        None => None,
    };
    let (in_flight, overflows) =
        w.st().procs.get(&pid).map_or((0, 0), |p| (p.busy.iter().filter(|t| **t > now).count() as u64, p.overflows));
    // A request that finds no other in flight, has no overflow to forget and no time to wait in
    // the queue cannot meet these limits: they are not read (the warm worker's usual case).
    let unqueued = in_flight == 0 && overflows == 0 && load.duration == 0;
    if let Some(pm) = limits.filter(|_| !unqueued) {
        let cpus = u64::from(m.cpus());
        let threads = pm.count("maxWorkerThreads").unwrap_or(20) * cpus;
        let queued = in_flight.saturating_sub(threads.saturating_sub(1));
        let queue_limit = if in_w3wp && !v.is_20_or_later() { None } else { pm.count("requestQueueLimit") };
        if let Some(limit) = queue_limit {
            if in_flight >= threads && queued > limit {
                let rules: &[RuleId] = if in_w3wp { &["PM6-02", "PM5-08"] } else { &["PM5-08"] };
                decide::<S, _>(
                    w,
                    || {
                        format!("{in_flight} requests in flight exceed {threads} threads + requestQueueLimit={limit}: 503 Server is too busy")
                    },
                    rules,
                );
                s.reply = pages::too_busy(call.base_headers);
                let overflows = w.st_mut().procs.get_mut(&pid).map(|p| {
                    p.overflows += 1;
                    p.overflows
                });
                // One overflow is a burst; a queue that stays over the limit recycles aspnet_wp.
                if overflows.unwrap_or(0) >= 2 && !in_w3wp {
                    worker_event(m, w, v, pm.log_level(), Level::Error, 1002, format!("aspnet_wp.exe  (PID: {pid}) was recycled because the number of queued requests exceeded {limit}."));
                    super::recycle(
                        m,
                        w,
                        pid,
                        &format!("requestQueueLimit ({limit}) exceeded twice in a row"),
                        &["PM5-08", "PM5-07"],
                    );
                }
                return;
            }
            if let Some(p) = w.st_mut().procs.get_mut(&pid) {
                p.overflows = 0;
            }
        }
        // A request that finds every thread busy waits in the queue (it may move on a recycle).
        if in_flight >= threads && load.duration > 0 {
            let id = w.request_seq;
            if let Some(p) = w.st_mut().procs.get_mut(&pid) {
                p.queued.push((id, now + load.duration));
            }
        }
    }
    // The AppDomain.
    if !has_domain {
        if let Some(p) = w.st_mut().procs.get_mut(&pid) {
            p.domains.insert(
                app_key.to_string(),
                Domain {
                    app: call.app().to_string(),
                    version: v,
                    mode: wc.session,
                    sessions: Default::default(),
                    compiled: Compiled::new(generation, wc),
                },
            );
        }
        let rules: &[RuleId] = match image {
            "aspnet_wp.exe" => &["PM5-02"],
            "w3wp.exe" => &["PM6-02"],
            _ => &["PM5-10"],
        };
        w.record_process(format!("AppDomain for {} ({v}) created in {image} PID {pid}", call.app()), rules);
    }
    let version_header = if v == Version::V1_0 {
        m.policies().flag(policy::HDR_VERSION_HEADER_V10)
    } else {
        !v.is_20_or_later() || (wc.version_header && m.root_version_header(v))
    };
    if !version_header {
        decide::<S, _>(
            w,
            || {
                format!(
                    "no X-AspNet-Version header ({})",
                    if v == Version::V1_0 { "1.0 sends none" } else { "enableVersionHeader=\"false\"" }
                )
            },
            &["HDR-01"],
        );
    }
    // The headers a managed answer other than the page starts with, built only for one.
    let headers = || {
        let mut headers = Vec::with_capacity(call.base_headers.len() + 2);
        headers.extend_from_slice(call.base_headers);
        if version_header {
            headers.push(("X-AspNet-Version".into(), v.short().into()));
        }
        headers
    };
    // A page, service or handler whose file is missing: the handler's own 404 (HDR-08).
    if !compiled && needs_file(call.script_url, v) && !call.landing.exists(call.view) {
        decide::<S, _>(
            w,
            || format!("{} does not exist: ASP.NET {v} answers its own 404", call.landing.physical()),
            &["HDR-08"],
        );
        s.reply = pages::not_found(&headers(), call.app_vpath(), call.script_url, v, versions());
        after_request::<S>(m, w, s, pid, call, v, load);
        return;
    }
    if !compiled {
        if let Some(d) = w.st_mut().procs.get_mut(&pid).and_then(|p| p.domains.get_mut(app_key)) {
            d.compiled.remember(generation, wc, call.script_url);
        }
    }
    // Session state (SES-01..08); cookieless, the ID comes from the URL (SES-10).
    let mut set_cookie = None;
    let mut url_token = None;
    if wc.cookieless && wc.session != SessionMode::Off {
        let token = |id: &str| if v.is_20_or_later() { format!("(S({id}))") } else { format!("({id})") };
        let Some(id) = s.url_session.clone() else {
            let id = w.st_mut().sessions.issue();
            let rest = call.script_url.strip_prefix(call.app_vpath().trim_end_matches('/')).unwrap_or(call.script_url);
            let location = format!("{}/{}{rest}", call.app_vpath().trim_end_matches('/'), token(&id));
            decide::<S, _>(
                w,
                || format!("cookieless session state: a new session ID, and a redirect to {location}"),
                &["SES-10"],
            );
            s.session = Some(SessionFate::New);
            s.reply = pages::object_moved(&headers(), &location);
            after_request::<S>(m, w, s, pid, call, v, load);
            return;
        };
        let client = format!("URL session {id}");
        w.st_mut().sessions.adopt(&client, &id);
        if let Err(message) = session::<S>(m, w, s, (pid, v), call, (wc.session, &client, app_key), load) {
            s.reply = pages::managed_error(500, call.base_headers, call.app_vpath(), &message, load.local, versions());
            return;
        }
        url_token = Some(token(&id));
    } else if load.client.is_some() && wc.session != SessionMode::Off {
        let client = load.client.as_deref().unwrap_or_default();
        match session::<S>(m, w, s, (pid, v), call, (wc.session, client, app_key), load) {
            Ok(cookie) => set_cookie = cookie,
            Err(message) => {
                s.reply =
                    pages::managed_error(500, call.base_headers, call.app_vpath(), &message, load.local, versions());
                return;
            }
        }
    }
    // What the next identical request finds, should this one change nothing: no cookie to send,
    // no queue to read, no PATH_INFO to check.
    let warm = (unqueued && call.path_info.is_empty() && set_cookie.is_none() && url_token.is_none()).then_some(Warm {
        pid,
        host: s.host,
        image,
        v,
        version_header,
        session: s.session,
        recycle_at: u64::MAX,
    });
    // The page is kept as what it is made of; where the request landed in the view has the rest.
    let page = Page { v, version_header, image, pid, set_cookie, url_token, script_end: call.script_url.len() };
    match call.landing {
        Landing::Place(_) => s.page = Some(page),
        Landing::Target(_) => s.reply = page.render(call.base_headers, call.script_url, call.app_vpath()),
    }
    after_request::<S>(m, w, s, pid, call, v, load);
    if let Some(warm) = warm {
        remember_warm(m, w, s, call, load, warm);
    }
}

/// Whether a request is one a warm record may answer: no duration or memory to account, no
/// session ID taken out of the URL.
#[inline]
fn warm_shaped(load: &Load) -> bool {
    load.duration == 0 && load.memory_mb.is_none()
}

/// The record the last identical warm request left, when the world and the machine are as they
/// were then (see [`super::state`]): the worker's counters move and the record is the answer.
/// `None`, and nothing changed, when no record answers.
#[inline]
fn warm_answer(
    m: &Machine,
    w: &mut World,
    place: &dispatch::Place<'_, '_>,
    aspnet: Option<Version>,
    script_end: usize,
    load: &Load,
) -> Option<Warm> {
    let url = place.url();
    if aspnet.is_none() || script_end != url.len() || !warm_shaped(load) {
        return None;
    }
    w.warm_hit(m.generation(), m.clock(), (&place.key.app.key, url, load.client.as_deref()))
}

/// After a managed request that ran the whole procedure: if it changed nothing in the world and
/// wrote nothing but its explanations, the next identical request will find what it found.
fn remember_warm(m: &Machine, w: &mut World, s: &Fate, call: &Call<'_>, load: &Load, mut warm: Warm) {
    let (epoch, mark) = s.began;
    if s.failed.is_some() || s.url_session.is_some() || !warm_shaped(load) || w.epoch() != epoch {
        return;
    }
    if !w.explained_only_since(mark) {
        return;
    }
    warm.recycle_at = recycle_at(w, warm.pid);
    // Records are found by the address of the view's own key text: the explain path's owned
    // target names the application, whose key the view holds.
    let app = match call.landing {
        Landing::Place(p) => &p.key.app.key,
        Landing::Target(t) => match call.view.key(&t.app).filter(|k| k.app.path.eq_ignore_ascii_case(&t.app)) {
            Some(k) => &k.app.key,
            None => return,
        },
    };
    w.warm_record(m.generation(), (app, call.script_url, load.client.as_deref()), warm);
}

/// The number of requests served at which [`after_request`] recycles process `pid`.
fn recycle_at(w: &World, pid: u32) -> u64 {
    let limit = w.st().procs.get(&pid).and_then(|p| match p.role {
        Role::W3wp(..) => p.limits.restart_requests,
        Role::AspnetWp(..) => p.config.as_ref().and_then(|pm| pm.count("requestLimit")),
        _ => None,
    });
    limit.unwrap_or(u64::MAX)
}

/// Whether the handler ASP.NET `v` picks for `script_url` serves a file (HDR-08): every one but
/// trace.axd, 2.0's WebResource.axd and the remoting endpoints.
fn needs_file(script_url: &str, v: Version) -> bool {
    let name = last_segment(script_url);
    let ext = extension_of(script_url);
    let virtual_handler =
        name.eq_ignore_ascii_case("trace.axd") || (v.is_20_or_later() && name.eq_ignore_ascii_case("webresource.axd"));
    !virtual_handler && !ext.eq_ignore_ascii_case(".rem") && !ext.eq_ignore_ascii_case(".soap")
}

/// HDR-06: 4.0 refuses requestPathInvalidCharacters; 1.1 and 2.0 (policy) dangerous PATH_INFO.
fn path_check<S: Sink>(m: &Machine, w: &mut World, call: &Call<'_>, v: Version) -> Option<Reply> {
    let bad = if v == Version::V4_0 {
        let mut path = call.script_url.chars().chain(call.path_info.chars());
        path.find(|c| "<>*%&:\\?".contains(*c)).map(|c| format!("'{c}' in the path"))
    } else if matches!(v, Version::V1_1 | Version::V2_0)
        && !call.path_info.is_empty()
        && m.policies().flag(policy::ASPNET_ISAPI_PATH_CHECK)
    {
        let pi = &call.path_info;
        pi.chars()
            .find(|c| "<>*%&:".contains(*c) || c.is_control())
            .map(|c| format!("{c:?} in PATH_INFO"))
            .or_else(|| pi.split('/').any(|seg| seg == "..").then(|| "'..' in PATH_INFO".to_string()))
    } else {
        None
    };
    let why = bad?;
    decide::<S, _>(w, || format!("ASP.NET {v} refuses the request before managed code: {why} (400)"), &["HDR-06"]);
    Some(pages::bad_path(call.base_headers))
}

/// The last segment's extension with its dot, as written (`.ASPX`), or empty.
fn extension_of(url: &str) -> &str {
    let last = last_segment(url);
    last.bytes().rposition(|b| b == b'.').map(|i| &last[i..]).unwrap_or_default()
}

/// What follows the last `/`.
fn last_segment(url: &str) -> &str {
    url.bytes().rposition(|b| b == b'/').map(|i| &url[i + 1..]).unwrap_or(url)
}

/// Finds or creates the client's session; returns the ID to send in Set-Cookie, if new.
fn session<S: Sink>(
    m: &Machine,
    w: &mut World,
    s: &mut Fate,
    (pid, v): (u32, Version),
    call: &Call<'_>,
    (mode, client, key): (SessionMode, &str, &str),
    load: &Load,
) -> Result<Option<String>, String> {
    let duration = load.duration;
    let app = call.app();
    if mode == SessionMode::StateServer {
        let Some(sv) = state_service_version(m) else {
            decide::<S, _>(
                w,
                || "the ASP.NET State Service is not running: the session cannot be read",
                &["SES-04", "SHR-06"],
            );
            return Err("Unable to make the session state request to the session state server.".into());
        };
        if v.is_20_or_later() && !sv.is_20_or_later() {
            decide::<S, _>(
                w,
                || format!("the state service runs {sv}, older than this {v} application requires"),
                &["SES-08", "SHR-06"],
            );
            return Err("Unable to use session state server because this version of ASP.NET requires session state server version 2.0 or above.".into());
        }
        if v.is_20_or_later() && !m.root_version_header(sv) && !w.st().state_version_checked {
            w.st_mut().state_version_checked = true;
            decide::<S, _>(
                w,
                || {
                    format!("the {sv} state service omits X-AspNet-Version (enableVersionHeader=\"false\"): the first use after its restart fails")
                },
                &["SES-08"],
            );
            return Err("Unable to use session state server because this version of ASP.NET requires session state server version 2.0 or above.".into());
        }
        if v.is_20_or_later() {
            w.st_mut().state_version_checked = true;
        }
        if !v.is_20_or_later() && sv.is_20_or_later() && !m.policies().flag(policy::STATE_V11_CLIENT_OK) {
            decide::<S, _>(w, || format!("a {v} application cannot use the {sv} state service (policy)"), &["SES-08"]);
            return Err("Unable to make the session state request to the session state server.".into());
        }
    }
    // An InProc session the client holds, in this AppDomain: found by the ID the client holds,
    // which is not copied, and nothing changes (the warm worker's usual case).
    let inproc_kept = mode == SessionMode::InProc
        && w.st().sessions.known(client, key).is_some_and(|(id, had)| {
            had && w.st().procs.get(&pid).and_then(|p| p.domains.get(key)).is_some_and(|d| d.sessions.contains(id))
        });
    let (fate, fresh, writer, elsewhere) = if inproc_kept {
        (SessionFate::Kept, None, None, false)
    } else {
        let (id, fresh) = w.st_mut().sessions.cookie(client);
        let had = w.st().sessions.had(client, key);
        let writer = if mode == SessionMode::InProc { None } else { w.st().sessions.writer(mode, app, &id) };
        let found = match mode {
            SessionMode::InProc => {
                w.st().procs.get(&pid).and_then(|p| p.domains.get(key)).is_some_and(|d| d.sessions.contains(&*id))
            }
            _ => {
                let cross = m.policies().is(policy::SESSION_CROSS_RUNTIME_ITEMS, "keep");
                w.st_mut().sessions.find_oop(mode, app, &id, v, cross)
            }
        };
        let elsewhere = mode == SessionMode::InProc
            && !found
            && w.st()
                .procs
                .values()
                .any(|p| p.pid != pid && p.domains.get(key).is_some_and(|d| d.sessions.contains(&*id)));
        match mode {
            SessionMode::InProc if !found => {
                if let Some(d) = w.st_mut().procs.get_mut(&pid).and_then(|p| p.domains.get_mut(key)) {
                    d.sessions.insert(id.to_string());
                }
            }
            SessionMode::InProc => {}
            _ => w.st_mut().sessions.put_oop(mode, app, &id, v),
        }
        if !had {
            w.st_mut().sessions.remember(client, app);
        }
        if mode == SessionMode::StateServer {
            state_timeout::<S>(m, w, duration);
        }
        let fate = if found {
            SessionFate::Kept
        } else if had {
            SessionFate::Lost
        } else {
            SessionFate::New
        };
        (fate, fresh.then(|| id.to_string()), writer, elsewhere)
    };
    s.session = Some(fate);
    let cross_runtime = writer.is_some_and(|w| w != v);
    let rules: &[RuleId] = match (mode, fate) {
        (SessionMode::InProc, SessionFate::Lost) if elsewhere => &["SES-05"],
        (SessionMode::InProc, SessionFate::Lost) => &["SES-02"],
        (SessionMode::InProc, _) => &["SES-01"],
        _ if cross_runtime => &["SES-07", "SES-04"],
        _ => &["SES-04", "SES-06"],
    };
    let note = if elsewhere {
        " (it lives in another worker of the garden)"
    } else if cross_runtime {
        " (written by another runtime)"
    } else {
        ""
    };
    decide::<S, _>(w, || format!("{client}'s {} session in {app}: {}{note}", mode.name(), fate.name()), rules);
    Ok(fresh)
}

/// A StateServer request that keeps its connection longer than the service's SocketTimeout
/// (registry, default 10 s) has it closed by the service: event 1078 (SES-09).
fn state_timeout<S: Sink>(m: &Machine, w: &mut World, duration: u64) {
    let key = format!("{}\\Parameters", crate::machine::STATE_SERVICE_REG);
    let timeout = m.registry().get(&key, "SocketTimeout").and_then(|t| t.parse::<u64>().ok()).unwrap_or(10);
    if duration <= timeout {
        return;
    }
    decide::<S, _>(
        w,
        || format!("the request holds its state-service connection {duration} s, past SocketTimeout ({timeout} s)"),
        &["SES-09"],
    );
    let began = m.clock();
    w.log_event(m.clock(),
        Level::Information,
        "aspnet_state",
        1078,
        &format!("The state server has closed an expired TCP/IP connection. The IP address of the client is 127.0.0.1. The expired read operation began at {began} s."),
        &["SES-09"],
    );
}

/// What the recycling limits read of a worker after a request.
struct Worker {
    kind: Kind,
    config: Option<std::sync::Arc<crate::config::ProcessModel>>,
    limits: super::PoolLimits,
    served: u64,
    memory_mb: u32,
}

/// Which of the workers with recycling limits a process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AspnetWp,
    W3wp,
    Other,
}

/// The pool's name as w3wp.exe `pid` was started for it, for its recycle events.
fn pool_of(w: &World, pid: u32) -> String {
    match w.st().procs.get(&pid).map(|p| &p.role) {
        Some(Role::W3wp(pool, _)) => pool.clone(),
        _ => String::new(),
    }
}

/// Accounting after a request, and the limits that recycle the process (PM5-07, PM6-05).
fn after_request<S: Sink>(
    m: &Machine,
    w: &mut World,
    s: &mut Fate,
    pid: u32,
    call: &Call<'_>,
    v: Version,
    load: &Load,
) {
    let now = m.clock();
    let phys = m.memory_mb();
    // The requests served are a counter no warm record trusts; the memory and the queue are state.
    w.count_served(pid);
    if load.memory_mb.is_some() || load.duration > 0 {
        let st = w.st_mut();
        if let Some(p) = st.procs.get_mut(&pid) {
            if let Some(mb) = load.memory_mb {
                p.memory_mb = mb;
            }
            if load.duration > 0 {
                p.busy.push(now + load.duration);
                st.long_requests += 1;
            }
        }
    }
    let Some(p) = w.st().procs.get(&pid) else { return };
    // What the limits below read; the AppDomains (and their sessions) are not copied.
    let p = Worker {
        kind: match p.role {
            Role::AspnetWp(..) => Kind::AspnetWp,
            Role::W3wp(..) => Kind::W3wp,
            _ => Kind::Other,
        },
        config: p.config.clone(),
        limits: p.limits,
        served: p.served,
        memory_mb: p.memory_mb,
    };
    let deadlock = match &p.config {
        Some(pm) => pm.seconds("responseDeadlockInterval"),
        None if p.kind == Kind::W3wp => m.process_model(v).seconds("responseDeadlockInterval"),
        None => None,
    };
    match p.kind {
        Kind::AspnetWp => {
            let Some(pm) = &p.config else { return };
            let log = pm.log_level();
            if let Some(limit) = deadlock.filter(|d| load.duration >= *d) {
                decide::<S, _>(
                    w,
                    || format!("no response for {limit} s (responseDeadlockInterval): the worker is deemed deadlocked"),
                    &["PM5-07", "CLR-03", "HDR-05"],
                );
                worker_event(m, w, v, log, Level::Error, 1003, format!("aspnet_wp.exe  (PID: {pid}) was recycled because it was suspected to be in a deadlocked state. It did not send any responses for pending requests in the last {limit} seconds."));
                super::recycle(m, w, pid, "responseDeadlockInterval exceeded", &["PM5-07"]);
                unavailable(m, s, call, "the worker was recycled as deadlocked (event 1003)");
                return;
            }
            let limit_mb = u64::from(phys) * pm.count("memoryLimit").unwrap_or(100) / 100;
            if u64::from(p.memory_mb) > limit_mb {
                let pct = pm.count("memoryLimit").unwrap_or(100);
                worker_event(m, w, v, log, Level::Error, 1001, format!("aspnet_wp.exe  (PID: {pid}) was recycled because memory consumption exceeded the {limit_mb} MB ({pct} percent of available RAM)."));
                super::recycle(m, w, pid, &format!("memoryLimit ({pct}% of {phys} MB) exceeded"), &["PM5-07"]);
                return;
            }
            if let Some(limit) = pm.count("requestLimit").filter(|l| p.served >= *l) {
                worker_event(
                    m,
                    w,
                    v,
                    log,
                    Level::Information,
                    1006,
                    format!("aspnet_wp.exe  (PID: {pid}) was recycled after serving {limit} requests."),
                );
                super::recycle(m, w, pid, &format!("requestLimit ({limit}) reached"), &["PM5-07"]);
            }
        }
        Kind::W3wp => {
            if let Some(limit) = deadlock.filter(|d| load.duration >= *d) {
                let dll = call.dll.to_ascii_lowercase();
                decide::<S, _>(
                    w,
                    || {
                        format!(
                        "no response for {limit} s (responseDeadlockInterval): ASP.NET reports the worker unhealthy"
                    )
                    },
                    &["PM6-02", "CLR-03", "HDR-05"],
                );
                w.log_event_to(
                    m.clock(),
                    "System",
                    Level::Warning,
                    "W3SVC-WP",
                    2262,
                    &format!(
                        "ISAPI '{dll}' reported itself as unhealthy for the following reason: 'Deadlock detected'."
                    ),
                    &["PM6-02"],
                );
                end(m, w, pid, "recycled: ISAPI reported unhealthy", Ending::Clean, &["PM6-02"]);
                unavailable(m, s, call, "the worker was recycled as deadlocked (event 2262)");
                return;
            }
            if let Some(limit) = p.limits.restart_requests.filter(|l| p.served >= *l) {
                let pool = pool_of(w, pid);
                w.log_event_to(m.clock(), "System", Level::Information, "W3SVC", 1075, &format!("A worker process with process id of '{pid}' serving application pool '{pool}' has requested a recycle because it reached its allowed request limit."), &["PM6-05"]);
                end(m, w, pid, &format!("PeriodicRestartRequests ({limit}) reached"), Ending::Clean, &["PM6-05"]);
                return;
            }
            let kb = u64::from(p.memory_mb) * 1024;
            if let Some(limit) = p.limits.restart_memory_kb.filter(|l| kb >= *l) {
                let pool = pool_of(w, pid);
                w.log_event_to(m.clock(), "System", Level::Information, "W3SVC", 1077, &format!("A worker process with process id of '{pid}' serving application pool '{pool}' has requested a recycle because it reached its virtual memory limit."), &["PM6-05"]);
                end(m, w, pid, &format!("PeriodicRestartMemory ({limit} KB) reached"), Ending::Clean, &["PM6-05"]);
                return;
            }
            if let Some(limit) = p.limits.restart_private_kb.filter(|l| kb >= *l) {
                let pool = pool_of(w, pid);
                w.log_event_to(m.clock(), "System", Level::Information, "W3SVC", 1117, &format!("A worker process with process id of '{pid}' serving application pool '{pool}' has requested a recycle because it reached its private bytes memory limit."), &["PM6-05"]);
                end(
                    m,
                    w,
                    pid,
                    &format!("PeriodicRestartPrivateMemory ({limit} KB) reached"),
                    Ending::Clean,
                    &["PM6-05"],
                );
            }
        }
        Kind::Other => {
            if load.memory_mb.is_some() || deadlock.is_some() {
                decide::<S, _>(
                    w,
                    || "processModel is not in force here: memoryLimit and responseDeadlockInterval are ignored",
                    &["KB-04", "PM5-10"],
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::view;

    /// Every change to the running world between two identical warm requests (the client's
    /// session forgotten, the worker killed, the AppDomain unloaded) is seen by the next one:
    /// the serve path with warm records answers as the same path without them, step by step.
    #[test]
    fn a_warm_record_is_never_used_after_the_world_changed() {
        let text = include_str!("../../tests/fixtures/warm_worker_box.toml");
        let (_, m, _) = crate::scenario::load_str("box.toml", "box", text).unwrap().run_to_end();
        let req = Request::get("/shop/Default.aspx");
        let alice = Load { client: Some("alice".into()), ..Default::default() };
        let mut lanes = [true, false].map(|warm| {
            let mut w = World::default();
            w.set_warm_path(warm);
            super::super::boot(&m, &mut w);
            w
        });
        type Change = fn(&Machine, &mut World);
        let changes: [(&str, Change); 4] = [
            ("nothing", |_, _| {}),
            ("alice's session forgotten", |_, w| w.forget_client("alice")),
            ("w3wp.exe killed", |m, w| {
                super::super::kill(m, w, "w3wp.exe");
            }),
            ("the AppDomain unloaded", |m, w| {
                super::super::unload_app_domain(m, w, "/LM/W3SVC/1/ROOT/shop").unwrap();
            }),
        ];
        for (what, change) in changes {
            for w in &mut lanes {
                change(&m, w);
                w.drain_effects();
            }
            for _ in 0..3 {
                let answers = lanes.each_mut().map(|w| {
                    let v = view(&m, w);
                    let s = answer::<Discard>(&m, w, &v, &req, &alice).served();
                    w.drain_effects();
                    s
                });
                assert_eq!(answers[0], answers[1], "after {what}: with and without warm records");
            }
        }
    }

    /// The front end's reply (`Answer::reply_into`, which writes a warm answer's page from its
    /// record alone) is the owned one's (`Answer::served`), reply and summary, warm or not, cold
    /// request first and warm ones after.
    #[test]
    fn a_reply_written_into_a_room_is_the_served_one() {
        let text = include_str!("../../tests/fixtures/warm_worker_box.toml");
        let (_, m, _) = crate::scenario::load_str("box.toml", "box", text).unwrap().run_to_end();
        let req = Request::get("/shop/Default.aspx");
        let alice = Load { client: Some("alice".into()), ..Default::default() };
        for warm in [true, false] {
            let [mut a, mut b] = [(), ()].map(|_| {
                let mut w = World::default();
                w.set_warm_path(warm);
                super::super::boot(&m, &mut w);
                w
            });
            let mut room = Reply::default();
            for i in 0..4 {
                let v = view(&m, &mut a);
                let served = answer::<Discard>(&m, &mut a, &v, &req, &alice).served();
                let v = view(&m, &mut b);
                let summary = answer::<Discard>(&m, &mut b, &v, &req, &alice).reply_into(&mut room);
                assert_eq!(summary, served.summary(), "request {i}, warm records {warm}");
                assert_eq!(room, served.reply, "request {i}, warm records {warm}");
                a.drain_effects();
                b.drain_effects();
            }
        }
    }

    #[test]
    fn a_paren_is_found_wherever_it_is() {
        for len in 0..40 {
            let plain = "a".repeat(len);
            assert!(!may_carry_session(&Request::get(&plain)), "{plain}");
            for at in 0..len {
                let mut url = plain.clone().into_bytes();
                url[at] = b'(';
                let url = String::from_utf8(url).unwrap();
                assert!(may_carry_session(&Request::get(&url)), "{url}");
            }
        }
        // Bytes next to `(` (0x28) in value are not it.
        assert!(!may_carry_session(&Request::get("/a'b)c)d'e)f'g)h'i)j")));
    }
}
