//! The resolution order: binding, key, application, maps, permissions, static files.
//!
//! [`resolve`] is a pure function of a [`View`] and a [`Request`]: it canonicalises the URL, picks
//! the site by binding, finds the deepest key, runs wildcard maps, finds the script segment, checks
//! the extension map, and otherwise handles directories and static files, recording one
//! [`Decision`] per step with the rules that decided it.

use super::canon::{canonicalize, Rejection};
use super::view::{
    fs_key, ErrorSource, KeyView, SiteView, ACCESS_EXECUTE, ACCESS_READ, ACCESS_SCRIPT, ENABLE_DEFAULT_DOC,
    ENABLE_DIR_BROWSING,
};
use super::{Decision, IsapiCall, Outcome, Reply, Request, Resolution, Target, View};
use crate::metabase::scriptmap::{MapEntry, FLAG_SCRIPT, FLAG_VERIFY_FILE};
use crate::rules::RuleId;

/// How deep default documents may nest into another resolution (one level is all IIS does).
const MAX_DEPTH: u8 = 2;

/// Resolves a request against a view.
pub fn resolve(view: &View, req: &Request) -> Resolution {
    let mut run = Run { view, req, decisions: Vec::new(), target: None, query: String::new() };
    let mut outcome = run.start();
    if req.method == "HEAD" {
        // HEAD answers carry the headers of the GET answer and no body.
        if let Outcome::Reply(reply) = &mut outcome {
            reply.body.clear();
        }
    }
    Resolution { decisions: run.decisions, outcome, target: run.target }
}

/// One request's resolution in progress.
struct Run<'a> {
    view: &'a View,
    req: &'a Request,
    decisions: Vec<Decision>,
    target: Option<Target>,
    query: String,
}

/// A URL path split into decoded segments.
#[derive(Debug, Clone)]
struct UrlPath {
    segs: Vec<String>,
    /// Ends with `/`.
    slash: bool,
}

impl UrlPath {
    fn text(&self) -> String {
        let mut s = format!("/{}", self.segs.join("/"));
        if self.slash && !self.segs.is_empty() {
            s.push('/');
        }
        s
    }
}

/// The extension of a segment: the part before the first `;` (SM-10), from its last dot, lower-cased.
fn extension(seg: &str) -> Option<String> {
    let name = seg.split(';').next().unwrap_or_default();
    let dot = name.rfind('.')?;
    let ext = &name[dot..];
    (ext.len() > 1).then(|| ext.to_ascii_lowercase())
}

/// The Host header's name without `:port`, lower-cased; `None` when empty.
fn host_name(host: &str) -> Option<String> {
    let h = host.trim();
    let name = if h.starts_with('[') {
        h.split_inclusive(']').next().unwrap_or(h)
    } else {
        match h.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => h,
        }
    };
    let name = name.trim().to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

/// Splits an absolute request target (`http://host/x`) into its host and path.
fn split_absolute(url: &str) -> (Option<&str>, &str) {
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

impl<'a> Run<'a> {
    fn note(&mut self, text: impl Into<String>, rules: &[RuleId]) {
        self.decisions.push(Decision::new(text, rules));
    }

    fn iis6(&self) -> bool {
        self.view.edition.is_iis6()
    }

    fn server(&self) -> String {
        format!("Microsoft-IIS/{}", self.view.edition.iis_version())
    }

    /// `Server:` then the effective custom headers (HDR-02).
    fn base_headers(&self, key: &KeyView) -> Vec<(String, String)> {
        let mut h = vec![("Server".to_string(), self.server())];
        h.extend(key.headers.iter().cloned());
        h
    }

    /// An answer HTTP.sys (IIS 5: inetinfo) gives before any site logic; never customised (REQ-13).
    fn httpsys_reply(&mut self, status: u16, heading: &str, text: &str) -> Outcome {
        let title = if status == 404 { "Not Found" } else { "Bad Request" };
        let server = if self.iis6() { "Microsoft-HTTPAPI/1.0".to_string() } else { self.server() };
        let body = format!(
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n\
             <HTML><HEAD><TITLE>{title}</TITLE>\r\n\
             <META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n\
             <BODY><h2>{heading}</h2>\r\n<hr><p>HTTP Error {status}. {text}</p>\r\n</BODY></HTML>\r\n"
        );
        let headers = vec![("Content-Type".to_string(), "text/html".to_string()), ("Server".to_string(), server)];
        Outcome::Reply(Reply { status, substatus: 0, headers, body })
    }

    /// An IIS error answer, customised by the key's HttpErrors (REQ-12, REQ-13).
    fn fail(&mut self, key: &KeyView, status: u16, sub: u16, why: &str, rules: &[RuleId]) -> Outcome {
        let code = if sub == 0 { status.to_string() } else { format!("{status}.{sub}") };
        self.note(format!("{code}: {why}"), rules);
        let custom = key
            .errors
            .iter()
            .find(|e| e.code == status && e.sub == Some(sub))
            .or_else(|| key.errors.iter().find(|e| e.code == status && e.sub.is_none()));
        let body = match custom.map(|e| &e.source) {
            Some(ErrorSource::File(file)) => {
                self.note(format!("custom error {code}: the body is the file {file}"), &["REQ-13"]);
                format!("(contents of {file})")
            }
            Some(ErrorSource::Url(url)) => {
                self.note(format!("custom error {code}: the body is the document at {url}"), &["REQ-13"]);
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
        let mut headers = vec![("Content-Type".to_string(), "text/html".to_string())];
        headers.extend(self.base_headers(key));
        Outcome::Reply(Reply { status, substatus: sub, headers, body })
    }

    /// An IIS answer that is not an error.
    fn ok(&self, key: &KeyView, status: u16, extra: Vec<(String, String)>, body: String) -> Outcome {
        let mut headers = extra;
        headers.extend(self.base_headers(key));
        Outcome::Reply(Reply { status, substatus: 0, headers, body })
    }

    fn start(&mut self) -> Outcome {
        let (url_host, target) = split_absolute(&self.req.url);
        let canon = match canonicalize(target, &self.view.http, self.view.policies.canon_failure_status) {
            Ok(c) => c,
            Err(Rejection { status, reason, rules }) => {
                self.note(format!("HTTP.sys refuses the URL ({reason}): {status}, not customisable"), &rules);
                let heading = if status == 404 { "Not Found" } else { "Bad Request" };
                let text = if status == 404 { "The requested URL is invalid." } else { "The request URL is invalid." };
                return self.httpsys_reply(status, heading, text);
            }
        };
        self.decisions.extend(canon.decisions);
        self.query = canon.query;
        let host = url_host.or(self.req.host.as_deref()).and_then(host_name);
        let Some(site) = self.select_site(host.as_deref()) else {
            return self.httpsys_reply(400, "Bad Request - Invalid Hostname", "The request hostname is invalid.");
        };
        let segs: Vec<String> = canon.path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
        let slash = canon.path.ends_with('/') && !segs.is_empty();
        let mut url = UrlPath { segs, slash };
        if let Some(out) = self.check_segments(site, &mut url) {
            return out;
        }
        self.resolve_path(site, url, 0)
    }

    /// REQ-04, REQ-05: the started site whose binding matches best.
    fn select_site(&mut self, host: Option<&str>) -> Option<&'a SiteView> {
        let req = self.req;
        if host.is_none() && !req.http10 {
            self.note("HTTP/1.1 request without a Host name: no binding can match", &["REQ-04"]);
            return None;
        }
        let ip = req.ip.trim().to_ascii_lowercase();
        let any_host = self.view.policies.no_host_reaches_any;
        let view = self.view;
        let mut best: Option<(u8, &'a SiteView, String)> = None;
        for site in &view.sites {
            for b in &site.bindings {
                if b.port != req.port || !(b.ip.is_empty() || b.ip == ip) {
                    continue;
                }
                let ip_bound = !b.ip.is_empty();
                let rank = match (host, b.host.is_empty()) {
                    (Some(h), false) if h == b.host => u8::from(!ip_bound),
                    (Some(_), false) => continue,
                    (_, true) => 2 + u8::from(!ip_bound),
                    (None, false) if any_host => 4,
                    (None, false) => continue,
                };
                if !site.started {
                    let why =
                        format!("site {} matches binding {b} but does not listen (stopped or in conflict)", site.id);
                    self.note(why, &["REQ-05"]);
                    continue;
                }
                if best.as_ref().is_none_or(|(r, _, _)| rank < *r) {
                    best = Some((rank, site, b.to_string()));
                }
            }
        }
        let shown = host.unwrap_or("(none)");
        match best {
            Some((rank, site, b)) => {
                let kind = match rank {
                    0 | 1 => "explicit host binding",
                    2 => "IP-bound binding",
                    3 => "all-unassigned binding",
                    _ => "host binding reached without a Host name (req.no_host_binding = any)",
                };
                self.note(
                    format!("site {} by {kind} {b} (host {shown}, {}:{})", site.id, req.ip, req.port),
                    &["REQ-04"],
                );
                Some(site)
            }
            None => {
                self.note(
                    format!(
                        "no started site binds host {shown} on {}:{}: 400 Invalid Hostname, not customisable",
                        req.ip, req.port
                    ),
                    &["REQ-04", "REQ-13"],
                );
                None
            }
        }
    }

    /// The deepest existing key on `segs` and how many segments it covers (REQ-06, MB-15).
    fn lookup(&self, site: &SiteView, segs: &[String]) -> Option<(&'a KeyView, usize)> {
        let mut path = site.root.to_ascii_lowercase();
        let mut best = self.view.keys.get(&path).map(|k| (k, 0));
        for (n, seg) in segs.iter().enumerate() {
            path.push('/');
            path.push_str(&seg.to_ascii_lowercase());
            if let Some(k) = self.view.keys.get(&path) {
                best = Some((k, n + 1));
            }
        }
        best
    }

    /// The key and physical path of a URL path: the key's physical folder plus the remaining
    /// segments joined with `\` (REQ-06, MB-21).
    fn place(&self, site: &SiteView, segs: &[String]) -> Option<(&'a KeyView, String)> {
        let (key, used) = self.lookup(site, segs)?;
        let mut physical = key.physical.trim_end_matches('\\').to_string();
        for s in &segs[used..] {
            physical.push('\\');
            physical.push_str(s);
        }
        Some((key, physical))
    }

    fn set_target(&mut self, site: &SiteView, key: &KeyView, physical: &str) {
        self.target = Some(Target {
            site: site.id,
            key: key.path.clone(),
            app: key.app.clone(),
            app_vpath: key.app_vpath.clone(),
            physical: physical.to_string(),
            pool: key.app_pool.clone(),
        });
    }

    /// Segment checks before any handler: `:` (SEC-05), `;` in strict mode (SEC-08), names made of
    /// dots (SEC-03), trailing dots and spaces of the last segment (SEC-06).
    fn check_segments(&mut self, site: &'a SiteView, url: &mut UrlPath) -> Option<Outcome> {
        let (key, physical) = self.place(site, &url.segs)?;
        self.set_target(site, key, &physical);
        if let Some(seg) = url.segs.iter().find(|s| s.contains(':')) {
            let why = format!("segment \"{seg}\" holds a ':' (alternate data stream)");
            return Some(self.fail(key, self.view.policies.colon_status, 0, &why, &["SEC-05"]));
        }
        if self.view.policies.semicolon_strict {
            if let Some(seg) = url.segs.iter().find(|s| s.contains(';')) {
                let why = format!("segment \"{seg}\" holds a ';' (strict semicolon policy)");
                return Some(self.fail(key, 404, 0, &why, &["SEC-08", "SM-10"]));
            }
        }
        if let Some(seg) = url.segs.iter().find(|s| s.trim_end_matches(['.', ' ']).is_empty()) {
            let why =
                format!("segment \"{seg}\" is only dots and spaces, which Windows reads as a parent or current folder");
            return Some(self.fail(key, 404, 0, &why, &["SEC-03", "SEC-06"]));
        }
        if !url.slash {
            if let Some(last) = url.segs.last_mut() {
                let stripped = last.trim_end_matches(['.', ' ']).to_string();
                if stripped != *last {
                    if self.view.policies.trailing_dot_reject {
                        let why = format!("\"{last}\" ends with dots or spaces (reject policy)");
                        return Some(self.fail(key, 404, 0, &why, &["SEC-06"]));
                    }
                    self.note(
                        format!("\"{last}\" is read as \"{stripped}\": trailing dots and spaces stripped"),
                        &["SEC-06"],
                    );
                    *last = stripped;
                }
            }
        }
        None
    }

    /// The first segment whose extension has a non-wildcard map at its key (SM-11, SEC-09, SM-02),
    /// with IIS 5.x's `.*` standing for otherwise unmapped extensions (SM-06).
    fn find_script(&self, site: &SiteView, segs: &[String]) -> Option<(usize, &'a MapEntry, &'a KeyView)> {
        let dotstar = !self.iis6() && self.view.policies.iis5_wildcards == "dotstar_only";
        for n in 0..segs.len() {
            let Some(ext) = extension(&segs[n]) else { continue };
            let Some((key, _)) = self.lookup(site, &segs[..=n]) else { continue };
            let exact = key.maps.iter().find(|e| e.extension.eq_ignore_ascii_case(&ext));
            let found = exact.or_else(|| dotstar.then(|| key.maps.iter().find(|e| e.extension == ".*")).flatten());
            if let Some(entry) = found {
                return Some((n, entry, key));
            }
        }
        None
    }

    /// Steps 3 to 8 for a canonical, checked URL path.
    fn resolve_path(&mut self, site: &'a SiteView, url: UrlPath, depth: u8) -> Outcome {
        let script = self.find_script(site, &url.segs);
        let upto = script.map(|(n, _, _)| n + 1).unwrap_or(url.segs.len());
        let Some((key, physical)) = self.place(site, &url.segs[..upto]) else {
            return self.httpsys_reply(400, "Bad Request", "The request URL is invalid.");
        };
        self.set_target(site, key, &physical);
        {
            let app = if key.in_app {
                format!("application {} ({})", key.app, key.app_vpath)
            } else {
                format!("no application on the way: ROOT {} stands in", key.app)
            };
            self.note(format!("key {}, {app}, physical {physical}", key.path), &["REQ-06", "MB-15", "MB-20", "MB-21"]);
        }
        let full = url.text();
        // Without a script segment the whole URL is the script name a wildcard ISAPI sees.
        let script_url = if script.is_some() { format!("/{}", url.segs[..upto].join("/")) } else { full.clone() };

        if upto.checked_sub(1).and_then(|i| url.segs.get(i)).is_some_and(|s| s.eq_ignore_ascii_case("global.asa")) {
            return self.fail(key, 500, 15, "Global.asa is never served", &["SEC-10", "REQ-12"]);
        }

        if depth == 0 {
            if let Some(out) = self.wildcards(key, &physical, &full, &script_url) {
                return out;
            }
        }

        if let Some((n, entry, _)) = script {
            let path_info = full.get(script_url.len()..).unwrap_or_default().to_string();
            let mut rules: Vec<RuleId> = vec!["SM-11", "SEC-09", "SM-02"];
            if url.segs[n].contains(';') {
                rules.push("SM-10");
                rules.push("SEC-08");
            }
            if entry.extension == ".*" {
                rules.push("SM-06");
            }
            self.note(
                format!(
                    "script {script_url} (PATH_INFO \"{path_info}\"): {} maps to {}",
                    entry.extension, entry.processor
                ),
                &rules,
            );
            if self.req.header("Translate").is_some_and(|v| v.trim().eq_ignore_ascii_case("f")) {
                self.note("Translate: f never returns a script-mapped file's source: the map runs", &["SEC-07"]);
            }
            return self.extension_map(key, entry, &physical, &script_url, path_info);
        }

        if self.view.is_dir(&physical) {
            return self.directory(site, key, &physical, url, depth);
        }
        if url.slash {
            return self.fail(key, 404, 0, &format!("{physical} is not a folder"), &["REQ-08", "REQ-11"]);
        }
        self.static_file(key, &physical, &url)
    }

    /// IIS 6 wildcard maps, in order (REQ-09, SM-05, SM-07); inert on IIS 5.x (SM-06).
    fn wildcards(&mut self, key: &KeyView, physical: &str, full: &str, script_url: &str) -> Option<Outcome> {
        if key.wildcards.is_empty() {
            return None;
        }
        if !self.iis6() && self.view.policies.iis5_wildcards != "iis6" {
            self.note("`*` script maps are inert on IIS 5.x", &["SM-06"]);
            return None;
        }
        let method = self.req.method.clone();
        for w in &key.wildcards {
            if !w.allows_verb(&method) {
                self.note(format!("wildcard map {} does not take {method}: skipped", w.processor), &["SM-05", "SM-04"]);
                continue;
            }
            self.note(format!("wildcard map {} runs first", w.processor), &["REQ-09", "SM-07", "SM-05"]);
            if w.flags & FLAG_VERIFY_FILE != 0 && !self.view.files.contains_key(&fs_key(physical)) {
                return Some(self.fail(
                    key,
                    404,
                    0,
                    &format!("{physical} does not exist (verify file)"),
                    &["REQ-09", "SM-03"],
                ));
            }
            if let Some(out) = self.lockdown(key, &w.processor) {
                return Some(out);
            }
            let path_info = full.get(script_url.len()..).unwrap_or_default().to_string();
            return Some(self.isapi(key, w, true, script_url, path_info));
        }
        None
    }

    /// IIS 6 lockdown: the processor must be allowed by WebSvcExtRestrictionList (MB-23, SHR-04).
    fn lockdown(&mut self, key: &KeyView, processor: &str) -> Option<Outcome> {
        if !self.iis6() || self.view.extension_allowed(processor) {
            return None;
        }
        Some(self.fail(
            key,
            404,
            2,
            &format!("{processor} is not allowed as a Web Service Extension"),
            &["REQ-10", "MB-23", "SHR-04"],
        ))
    }

    /// REQ-10's checks in order, then the ISAPI call.
    fn extension_map(
        &mut self,
        key: &KeyView,
        entry: &MapEntry,
        physical: &str,
        script_url: &str,
        path_info: String,
    ) -> Outcome {
        let method = self.req.method.clone();
        if !entry.allows_verb(&method) {
            let (status, sub) = self.view.policies.verb_not_allowed;
            let why = format!("{method} is not in the verbs of {} ({})", entry.extension, entry.verbs.join(","));
            return self.fail(key, status, sub, &why, &["REQ-10", "SM-04"]);
        }
        let (needs, ok) = if entry.flags & FLAG_SCRIPT != 0 {
            ("Script or Execute", key.access & (ACCESS_SCRIPT | ACCESS_EXECUTE) != 0)
        } else {
            ("Execute", key.access & ACCESS_EXECUTE != 0)
        };
        if !ok {
            let why = format!("{} needs {needs} permission, AccessFlags {}", entry.extension, key.access);
            return self.fail(key, 403, 1, &why, &["REQ-10", "SM-03"]);
        }
        if entry.flags & FLAG_VERIFY_FILE != 0 && !self.view.is_file(physical) {
            return self.fail(key, 404, 0, &format!("{physical} is not a file (verify file)"), &["REQ-10", "SM-03"]);
        }
        if let Some(out) = self.lockdown(key, &entry.processor) {
            return out;
        }
        if let Some(v) = self.view.aspnet_version(&entry.processor) {
            if v.forbidden_extensions().iter().any(|f| f.eq_ignore_ascii_case(&entry.extension)) {
                self.note(
                    format!("{} is a forbidden type: ASP.NET answers it", entry.extension),
                    &["HDR-07", "SEC-10"],
                );
            }
        }
        self.isapi(key, entry, false, script_url, path_info)
    }

    fn isapi(
        &mut self,
        key: &KeyView,
        entry: &MapEntry,
        wildcard: bool,
        script_url: &str,
        path_info: String,
    ) -> Outcome {
        let dll = entry.processor.clone();
        let in_process = super::view::lists_isapi(&key.in_process, &dll);
        let aspnet = self.view.aspnet_version(&dll);
        let runtime = aspnet.map(|v| format!(" (ASP.NET {v})")).unwrap_or_default();
        let step = if wildcard { "REQ-09" } else { "REQ-10" };
        // Where the ISAPI loads (InProcessIsapiApps, SHR-03) is the process model's decision.
        self.note(format!("dispatch to {dll}{runtime}"), &[step]);
        let target = self.target.clone().unwrap_or_default();
        Outcome::Isapi(IsapiCall {
            target,
            dll,
            aspnet,
            wildcard,
            method: self.req.method.clone(),
            script_url: script_url.to_string(),
            path_info,
            query: self.query.clone(),
            app_isolated: key.app_isolated,
            in_process,
            base_headers: self.base_headers(key),
        })
    }

    /// REQ-08: courtesy redirect, default document, listing or 403.14.
    fn directory(&mut self, site: &'a SiteView, key: &KeyView, physical: &str, url: UrlPath, depth: u8) -> Outcome {
        let full = url.text();
        if !url.slash && !url.segs.is_empty() {
            let host = match (split_absolute(&self.req.url).0, &self.req.host) {
                (Some(h), _) => h.to_string(),
                (None, Some(h)) if !h.trim().is_empty() => h.trim().to_string(),
                _ if self.req.port == 80 => self.req.ip.clone(),
                _ => format!("{}:{}", self.req.ip, self.req.port),
            };
            let location = format!("http://{host}{}/", url_escape(&full));
            let status = self.view.policies.courtesy_redirect_status;
            self.note(format!("{full} is a folder: courtesy redirect {status} to {location}"), &["REQ-08"]);
            let body = format!(
                "<head><title>Object moved</title></head><body><h1>Object Moved</h1>This object may be found \
                 <a HREF=\"{}\">here</a>.</body>",
                html(&location)
            );
            let extra = vec![("Location".to_string(), location), ("Content-Type".to_string(), "text/html".to_string())];
            return self.ok(key, status, extra, body);
        }
        if !self.iis6() && self.req.method == "POST" {
            return self.fail(key, 405, 0, "POST to a folder URL", &["REQ-08"]);
        }
        if key.dir_browse & ENABLE_DEFAULT_DOC != 0 && depth < MAX_DEPTH {
            let usable = |d: &&String| !d.contains(['/', '\\', ':']) && !d.trim_end_matches(['.', ' ']).is_empty();
            let found = key.default_docs.iter().filter(usable).find(|d| self.view.is_file(&format!("{physical}\\{d}")));
            if let Some(doc) = found {
                self.note(format!("default document {doc} in {full}"), &["REQ-08"]);
                let mut segs = url.segs.clone();
                segs.push(doc.clone());
                return self.resolve_path(site, UrlPath { segs, slash: false }, depth + 1);
            }
            self.note(
                format!("no default document of \"{}\" exists in {physical}", key.default_docs.join(",")),
                &["REQ-08"],
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
        self.note(format!("listing of {physical}"), &["REQ-08"]);
        let host = self.req.host.as_deref().and_then(host_name).unwrap_or_else(|| self.req.ip.clone());
        let mut body = format!(
            "<html><head><title>{h} - {u}</title></head><body><H1>{h} - {u}</H1><hr>\n<pre>",
            h = html(&host),
            u = html(&full)
        );
        if !url.segs.is_empty() {
            let parent =
                format!("/{}", url.segs[..url.segs.len() - 1].iter().map(|s| format!("{s}/")).collect::<String>());
            body.push_str(&format!("<A HREF=\"{}\">[To Parent Directory]</A><br><br>\n", html(&url_escape(&parent))));
        }
        for (name, dir) in self.view.list(physical) {
            let href = html(&url_escape(&format!("{full}{name}{}", if dir { "/" } else { "" })));
            let kind = if dir { "&lt;dir&gt;" } else { "     " };
            body.push_str(&format!("{kind} <A HREF=\"{href}\">{}</A><br>\n", html(&name)));
        }
        body.push_str("</pre><hr></body></html>");
        self.ok(key, 200, vec![("Content-Type".to_string(), "text/html".to_string())], body)
    }

    /// REQ-11: the static file handler.
    fn static_file(&mut self, key: &KeyView, physical: &str, url: &UrlPath) -> Outcome {
        let name = url.segs.last().map(String::as_str).unwrap_or_default();
        let ext = extension(name).unwrap_or_default();
        if key.access & ACCESS_READ == 0 {
            return self.fail(key, 403, 2, &format!("no Read permission for {}", url.text()), &["REQ-11", "REQ-12"]);
        }
        // IIS 6 needs no rule of its own: .config has no MIME type, so REQ-11 answers 404.3 below.
        if ext == ".config" && !self.iis6() {
            return self.fail(key, 404, 0, "configuration files are never served", &["SEC-10"]);
        }
        if !self.view.is_file(physical) {
            return self.fail(key, 404, 0, &format!("{physical} does not exist"), &["REQ-11"]);
        }
        let mime = key.mime.get(&ext).or_else(|| key.mime.get(".*")).cloned();
        let shown = if ext.is_empty() { "(no extension)" } else { ext.as_str() };
        let mime = match mime {
            Some(m) => m,
            None if self.iis6() => {
                return self.fail(key, 404, 3, &format!("{shown} has no MIME type"), &["REQ-11", "REQ-12"]);
            }
            None => {
                self.note(
                    format!("{shown} has no MIME type: IIS 5 serves it as application/octet-stream"),
                    &["REQ-11"],
                );
                "application/octet-stream".to_string()
            }
        };
        let method = self.req.method.clone();
        if !matches!(method.as_str(), "GET" | "HEAD") {
            return self.fail(key, 405, 0, &format!("{method} on a static file"), &["REQ-11", "REQ-14"]);
        }
        self.note(format!("static file {physical} as {mime}"), &["REQ-11"]);
        let extra = vec![("Content-Type".to_string(), mime)];
        self.ok(key, 200, extra, format!("(contents of {physical})"))
    }
}
