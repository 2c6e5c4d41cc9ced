//! The reply of a served request as it goes out: an ASP.NET page rendered from what it is made
//! of, the owned [`Served`] for scenarios and the console, and for the HTTP front end the reply
//! written into room it keeps plus the [`Summary`] its transcript keeps (no owned target).

use std::fmt::Write as _;
use std::sync::Arc;

use crate::dispatch::{self, HeaderText, Reply, Request};
use crate::runtime::Version;

use super::{last_segment, Answer, Landing, Made, Page, Served, SessionFate};

/// How a request was served, as the front end's transcript and HTTP.sys's error log keep it: the
/// outcome without the reply's headers and body, and of where it landed only what they show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The response's status; 0 when the connection was refused.
    pub status: u16,
    /// IIS sub-status (0 when none).
    pub substatus: u16,
    /// Image name and PID of the process that answered.
    pub process: Option<(&'static str, u32)>,
    /// The ASP.NET runtime the request was handed to.
    pub runtime: Option<Version>,
    /// Why that runtime did not run it; `None` when it ran.
    pub failed: Option<&'static str>,
    /// What became of the client's session.
    pub session: Option<SessionFate>,
    /// The application the request landed in.
    pub app: Option<Arc<str>>,
    /// The site it landed on.
    pub site: Option<u32>,
    /// HTTP.sys answered by itself after resolution: its httperr `s-reason`, with the pool's name
    /// and whether the pool exists (HTTP-03, HTTP-06, HTTP-07).
    pub http_sys: Option<(&'static str, Arc<str>, bool)>,
}

impl Summary {
    /// The transcript's summary of the request: `GET /x -> 200 from w3wp.exe PID 4, ...`.
    pub fn line(&self, req: &Request) -> String {
        let mut line = format!("{} {} -> ", req.method, req.url);
        if self.status == 0 {
            line.push_str("connection refused");
            return line;
        }
        let status = Reply { status: self.status, substatus: self.substatus, ..Reply::default() };
        line.push_str(&status.status_text());
        if let Some((image, pid)) = self.process {
            let _ = write!(line, " from {image} PID {pid}");
        }
        match (self.runtime, self.failed) {
            (Some(v), None) => {
                let _ = write!(line, ", ASP.NET {v}");
            }
            (Some(v), Some(why)) => {
                let _ = write!(line, ", ASP.NET {v} did not run it: {why}");
            }
            (None, _) => {}
        }
        if let Some(app) = &self.app {
            let _ = write!(line, ", app {app}");
        }
        if let Some(f) = self.session {
            let _ = write!(line, ", session {}", f.name());
        }
        line
    }
}

impl Served {
    /// What the transcript and the error log keep of it.
    pub fn summary(&self) -> Summary {
        let t = self.target.as_ref();
        Summary {
            status: self.reply.status,
            substatus: self.reply.substatus,
            process: self.process,
            runtime: self.runtime,
            failed: self.failed,
            session: self.session,
            app: t.map(|t| t.app.clone()),
            site: t.map(|t| t.site),
            http_sys: self.http_sys_reason.zip(t).map(|(r, t)| (r, t.pool.clone(), t.pool_settings.is_some())),
        }
    }
}

/// The same text: a literal at the same address, the same shared text, or equal built text.
fn same(a: &HeaderText, b: &HeaderText) -> bool {
    match (a, b) {
        (HeaderText::Static(a), HeaderText::Static(b)) => std::ptr::eq(*a, *b),
        (HeaderText::Shared(a), HeaderText::Shared(b)) => Arc::ptr_eq(a, b),
        (HeaderText::Owned(a), HeaderText::Owned(b)) => a == b,
        _ => false,
    }
}

impl Page {
    /// The reply: headers after `base`, and the body.
    pub(super) fn render(&self, base: &[dispatch::Header], script_url: &str, app_vpath: &str) -> Reply {
        let mut reply = Reply {
            headers: Vec::with_capacity(base.len() + 4),
            // One allocation for the whole page: it is written into a buffer of its final size.
            body: String::with_capacity(96 + script_url.len() + 3 * app_vpath.len()),
            ..Reply::default()
        };
        self.render_into(base, script_url, app_vpath, &mut reply);
        reply
    }

    /// Writes the reply into `out`, whose headers and body are replaced (their room kept).
    fn render_into(&self, base: &[dispatch::Header], script_url: &str, app_vpath: &str, out: &mut Reply) {
        out.status = 200;
        out.substatus = 0;
        // A connection's reply keeps its last headers: when they are this page's already (the
        // view's base headers, the same literals), their shared texts are not counted again.
        let version = self.version_header.then(|| self.v.short());
        let literals = [
            version.map(|v| ("X-AspNet-Version", v)),
            Some(("Cache-Control", "private")),
            Some(("Content-Type", "text/html; charset=utf-8")),
        ];
        let count = base.len() + literals.iter().flatten().count() + usize::from(self.set_cookie.is_some());
        let literal = |h: &dispatch::Header, (k, v): (&'static str, &'static str)| matches!(h, (HeaderText::Static(a), HeaderText::Static(b)) if std::ptr::eq(*a, k) && std::ptr::eq(*b, v));
        let kept = self.set_cookie.is_none()
            && out.headers.len() == count
            && out.headers.iter().zip(base).all(|(o, w)| same(&o.0, &w.0) && same(&o.1, &w.1))
            && out.headers[base.len()..].iter().zip(literals.iter().flatten()).all(|(o, &l)| literal(o, l));
        if !kept {
            out.headers.clear();
            out.headers.extend_from_slice(base);
            out.headers.extend(literals.iter().flatten().map(|&(k, v)| (k.into(), v.into())));
            if let Some(id) = &self.set_cookie {
                out.headers.push(("Set-Cookie".into(), format!("ASP.NET_SessionId={id}; path=/").into()));
            }
        }
        let body = &mut out.body;
        body.clear();
        // Pushed piece by piece: write! of the whole page was a twelfth of the serve path under perf.
        for piece in ["<html><body>ASP.NET ", self.v.short(), " ran ", script_url, " for application "] {
            body.push_str(piece);
        }
        for piece in [app_vpath, " in ", self.image, " (PID "] {
            body.push_str(piece);
        }
        // Not through `core::fmt`: a formatter is a few hundred instructions on the hot path.
        body.push_str(itoa::Buffer::new().format(self.pid));
        body.push(')');
        // Cookieless: the page's links carry the session in the URL (SES-10).
        if let Some(token) = &self.url_token {
            let page = last_segment(script_url);
            let _ = write!(body, " <a href=\"{}/{token}/{page}\">{page}</a>", app_vpath.trim_end_matches('/'));
        }
        body.push_str("</body></html>");
    }
}

impl Answer<'_> {
    /// How the request was served, owned: its target, the reply's headers and body built.
    pub fn served(self) -> Served {
        let (fate, landing) = self.into_parts();
        let reply = match (&fate.page, &landing) {
            (Some(page), Some(Landing::Place(p))) => {
                page.render(&p.key.headers, &p.url()[..page.script_end], &p.key.app.vpath)
            }
            _ => fate.reply,
        };
        Served {
            reply,
            process: fate.process,
            runtime: fate.runtime,
            failed: fate.failed,
            target: landing.as_ref().map(Landing::target),
            session: fate.session,
            url_session: fate.url_session,
            id: fate.id,
            http_sys_reason: fate.http_sys_reason,
        }
    }

    /// Writes the reply into `out` (a page into the room of `out`'s headers and body, any other
    /// reply moved in) and says what the transcript keeps: the same reply and outcome as
    /// [`Answer::served`], without the owned target.
    pub fn reply_into(self, out: &mut Reply) -> Summary {
        let (fate, landing) = match self.made {
            Made::Warm(a) => {
                // A warm record's page: nothing else to read.
                let p = &a.place;
                a.page().render_into(&p.key.headers, &p.url()[..a.script_end], &p.key.app.vpath, out);
                return Summary {
                    status: out.status,
                    substatus: out.substatus,
                    process: Some((a.warm.image, a.warm.pid)),
                    runtime: Some(a.warm.v),
                    failed: None,
                    session: a.warm.session,
                    app: Some(p.key.app.path.clone()),
                    site: Some(p.site.id),
                    http_sys: None,
                };
            }
            Made::Full(fate, landing) => (fate, landing),
        };
        match (&fate.page, &landing) {
            (Some(page), Some(Landing::Place(p))) => {
                page.render_into(&p.key.headers, &p.url()[..page.script_end], &p.key.app.vpath, out)
            }
            _ => {
                // Moved into the room rather than over it, so that the next page on the
                // connection finds the room a page needs (a static file's body is smaller).
                let Reply { status, substatus, headers, body } = fate.reply;
                (out.status, out.substatus) = (status, substatus);
                out.headers.clear();
                out.headers.extend(headers);
                out.body.clear();
                out.body.push_str(&body);
            }
        }
        let (app, site, pool) = match &landing {
            Some(Landing::Place(p)) => {
                let a = &p.key.app;
                (Some(a.path.clone()), Some(p.site.id), fate.http_sys_reason.map(|_| (a.pool.clone(), a.pool_settings)))
            }
            Some(Landing::Target(t)) => {
                (Some(t.app.clone()), Some(t.site), fate.http_sys_reason.map(|_| (t.pool.clone(), t.pool_settings)))
            }
            None => (None, None, None),
        };
        Summary {
            status: out.status,
            substatus: out.substatus,
            process: fate.process,
            runtime: fate.runtime,
            failed: fate.failed,
            session: fate.session,
            app,
            site,
            http_sys: fate.http_sys_reason.zip(pool).map(|(r, (name, settings))| (r, name, settings.is_some())),
        }
    }
}
