//! HTTP.sys's connection limits: a site's MaxConnections, past which HTTP.sys answers the
//! connection's request with its own 503 `ConnLimit` (HTTP-03), and the registry's
//! MaxConnections, past which HTTP.sys accepts no more connections at all (HTTP-09).
//!
//! Both are counters: one for every open connection, checked when a connection is accepted, and
//! one per site, counted when a connection's first request reaches the site. A request on a
//! connection already counted reads one `OnceLock`; only the first connection to a site ever
//! takes a lock (to add the site's counter).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use std::net::SocketAddr;

use arc_swap::ArcSwap;

use super::httperr::Line;
use super::wire::{self, Framing, Producer};
use super::{Entry, Shared};
use crate::dispatch::{Reply, Request};
use crate::machine::journal::{Change, Effect};

/// The open connections, overall and per site.
#[derive(Default)]
pub struct Connections {
    open: Arc<AtomicUsize>,
    sites: ArcSwap<BTreeMap<u32, Arc<AtomicUsize>>>,
    adding: Mutex<()>,
}

/// One connection's place in the counts: the site its first request reached. Dropping it (the
/// connection ended) takes the connection off the site's count.
#[derive(Debug, Default)]
pub struct Slot {
    site: OnceLock<Arc<AtomicUsize>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(c) = self.site.get() {
            c.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// An accepted connection in the overall count, taken off it when dropped.
#[derive(Debug)]
pub struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connections {
    /// Counts a new connection unless `max` are open already (HTTP-09): `None` refuses it.
    pub fn accept(&self, max: usize) -> Option<Open> {
        let before = self.open.fetch_add(1, Ordering::Relaxed);
        let open = Open(self.open.clone());
        (before < max).then_some(open)
    }

    /// How many connections are open.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// How many connections are counted for site `id`.
    pub fn of_site(&self, id: u32) -> usize {
        self.sites.load().get(&id).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    fn counter(&self, id: u32) -> Arc<AtomicUsize> {
        if let Some(c) = self.sites.load().get(&id) {
            return c.clone();
        }
        let _adding = self.adding.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.sites.load_full();
        if let Some(c) = current.get(&id) {
            return c.clone();
        }
        let c = Arc::new(AtomicUsize::new(0));
        let mut next = (*current).clone();
        next.insert(id, c.clone());
        self.sites.store(Arc::new(next));
        c
    }

    /// Counts the connection of `slot` for site `id` when its first request reaches it; a
    /// connection counted before goes on. `Err(open)` when the site already has `max` open
    /// connections: HTTP.sys answers 503 ConnLimit and the connection is not counted (HTTP-03).
    pub fn admit(&self, slot: &Slot, id: u32, max: u32) -> Result<(), usize> {
        if slot.site.get().is_some() {
            return Ok(());
        }
        let c = self.counter(id);
        let before = c.fetch_add(1, Ordering::Relaxed);
        if before >= max as usize {
            c.fetch_sub(1, Ordering::Relaxed);
            return Err(before);
        }
        if let Err(c) = slot.site.set(c) {
            // Another request of the same connection counted it first.
            c.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Shared {
    /// HTTP.sys's answer to a request whose site has MaxConnections open connections: its own
    /// 503, the connection closed, an httperr line `ConnLimit` with the site (HTTP-03, HTTP-08).
    pub(super) fn conn_limited(
        &self,
        req: &Request,
        client: SocketAddr,
        site: u32,
        max: u32,
        open: usize,
    ) -> (Reply, Framing) {
        let reply = wire::http_sys_error(503, "Service Unavailable");
        let text =
            format!("HTTP.sys: site {site} has {open} open connections, its MaxConnections ({max}): 503 ConnLimit");
        let mut effects = vec![Effect { change: Change::Decision { text }, rules: vec!["HTTP-01", "HTTP-03"] }];
        let line = Line {
            time: self.published().machine.clock(),
            client,
            port: req.port,
            version: if req.http10 { "HTTP/1.0" } else { "HTTP/1.1" },
            method: &req.method,
            uri: &req.url,
            status: Some(503),
            site: Some(site),
            reason: "ConnLimit",
            queue: "",
        };
        effects.extend(self.log_error(line));
        let framing = Framing {
            status: 503,
            reason: wire::reason(503, false),
            length: reply.body.len(),
            producer: Producer::HttpSys,
            close: true,
            keep_alive: false,
            head: req.method == "HEAD",
        };
        let summary = format!("{} {} -> 503 from HTTP.sys", req.method, req.url);
        self.push(Entry::Rejected { summary, effects, framing: Some(framing) });
        (reply, framing)
    }

    /// A connection HTTP.sys does not accept: the registry's MaxConnections are open. It is
    /// reset without a byte sent and without an httperr line (HTTP-09, HTTP-07).
    pub(super) fn connection_refused(&self, stream: &tokio::net::TcpStream, client: SocketAddr, port: u16) {
        // A zero linger makes the close a reset.
        #[allow(deprecated)]
        let _ = stream.set_linger(Some(std::time::Duration::ZERO));
        let max = self.published().limits.max_connections;
        let text = format!(
            "HTTP.sys: {max} connections are open, the MaxConnections of HTTP\\Parameters: the connection from {client} to port {port} is reset"
        );
        let effects = vec![Effect { change: Change::Decision { text }, rules: vec!["HTTP-09"] }];
        let summary = format!("connection from {client} refused");
        self.push(Entry::Rejected { summary, effects, framing: None });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_takes_max_connections_and_frees_them_as_they_end() {
        let c = Connections::default();
        let (a, b, third) = (Slot::default(), Slot::default(), Slot::default());
        assert_eq!(c.admit(&a, 1, 2), Ok(()));
        assert_eq!(c.admit(&a, 1, 2), Ok(()), "a connection counts once");
        assert_eq!(c.admit(&b, 1, 2), Ok(()));
        assert_eq!(c.admit(&third, 1, 2), Err(2));
        assert_eq!(c.admit(&third, 2, 2), Ok(()), "another site has its own count");
        assert_eq!(c.of_site(1), 2);
        drop(a);
        assert_eq!(c.of_site(1), 1);
        let again = Slot::default();
        assert_eq!(c.admit(&again, 1, 2), Ok(()));
    }

    #[test]
    fn no_more_connections_past_the_overall_limit() {
        let c = Connections::default();
        let first = c.accept(2).unwrap();
        let _second = c.accept(2).unwrap();
        assert!(c.accept(2).is_none());
        assert_eq!(c.open(), 2, "the refused one is not counted");
        drop(first);
        assert!(c.accept(2).is_some());
    }
}
