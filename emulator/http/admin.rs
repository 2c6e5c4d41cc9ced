//! The admin listener: the administrator's console on a running box (loopback only).
//!
//! `POST /run` runs a command line exactly as a scenario's `run` step; `POST /advance` moves the
//! virtual clock; `GET /events`, `GET /processes` and `GET /transcript` read bounded tails, and
//! `GET /httperr` HTTP.sys's current error log.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Response, StatusCode};

use super::Shared;
use crate::cmd::Session;
use crate::machine::Machine;
use crate::process::{self, World};
use crate::tools::{Context, Output};

/// Runs one command line as the administrator in the listener's cmd.exe `session`, as a
/// scenario's `run` step does: the current directory, `set` variables and ERRORLEVEL stay for
/// the next line, as in a console window the administrator keeps open. After `exit` the next
/// line opens a new window.
pub fn run_command(m: &mut Machine, w: &mut World, session: &mut Session, line: &str) -> Output {
    if session.ended().is_some() {
        *session = Session::new(m);
    }
    session.run_line(m, w, line, Context { admin: true }).to_output()
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn lines(v: Vec<String>) -> String {
    let mut s = v.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// Answers one admin request; anything but loopback is refused.
pub async fn handle(shared: Arc<Shared>, peer: IpAddr, req: hyper::Request<Incoming>) -> Response<Full<Bytes>> {
    if !peer.is_loopback() {
        return text(StatusCode::FORBIDDEN, "the admin listener answers loopback clients only\n".into());
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let body = match Limited::new(req.into_body(), 1 << 16).collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "the body is limited to 64 KiB\n".into()),
    };
    // Administration takes the locks a request takes, and may compile a view: keep it off the
    // runtime's workers so that no listener waits behind it.
    let answer = tokio::task::spawn_blocking(move || route(&shared, &method, &path, &body)).await;
    answer.unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "the command failed\n".into()))
}

fn route(shared: &Shared, method: &Method, path: &str, body: &str) -> Response<Full<Bytes>> {
    match (method, path) {
        (&Method::POST, "/run") => {
            if body.is_empty() {
                return text(StatusCode::BAD_REQUEST, "POST /run takes a command line as its body\n".into());
            }
            let (exit, output, effects) = shared.administer(format!("run {body}"), |m, w| {
                let out = run_command(m, w, &mut shared.console(), body);
                (out.exit, out.lines)
            });
            let mut all: Vec<String> = output.into_iter().map(|l| format!("| {l}")).collect();
            all.push(format!("exit {exit}"));
            all.extend(effects.into_iter().map(|l| format!("* {l}")));
            text(StatusCode::OK, lines(all))
        }
        (&Method::POST, "/advance") => {
            let Some(seconds) = crate::scenario::spec::parse_duration(body) else {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("`{body}` is not a duration such as 30s, 21m, 2h or 1d\n"),
                );
            };
            let ((), _, effects) = shared.administer(format!("wait {seconds} s"), |m, w| {
                process::advance(m, w, seconds);
                ((), Vec::new())
            });
            let mut all = vec![format!("clock advanced {seconds} s")];
            all.extend(effects.into_iter().map(|l| format!("* {l}")));
            text(StatusCode::OK, lines(all))
        }
        (&Method::GET, "/events") => text(StatusCode::OK, lines(shared.events())),
        (&Method::GET, "/processes") => text(StatusCode::OK, lines(shared.processes())),
        (&Method::GET, "/transcript") => text(StatusCode::OK, lines(shared.transcript())),
        // The current C:\WINDOWS\system32\LogFiles\HTTPERR\httperr<n>.log (HTTP-05, HTTP-06).
        (&Method::GET, "/httperr") => text(StatusCode::OK, shared.httperr().1),
        (_, "/run" | "/advance" | "/events" | "/processes" | "/transcript" | "/httperr") => {
            text(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed on {path}\n"))
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "endpoints: POST /run, POST /advance, GET /events, GET /processes, GET /transcript, GET /httperr\n".into(),
        ),
    }
}
