//! The running world's state behind accessors that move its epoch.
//!
//! A warm request trusts a record of what its last run found (the worker, its runtime, the
//! AppDomain, the client's session) only while nothing it read has changed. That is structural:
//! the processes, pools, sessions and what W3SVC read at start live in [`State`], reachable for
//! writing only through [`World::st_mut`], which moves the epoch; the fields are private to this
//! module, so no code of the process model can change them and leave the epoch as it was. The
//! only writes that do not move it are the counters no record trusts (a process's last activity
//! and the requests it served, see [`World::tally`]), the request numbers, the journal and the
//! event log.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::dispatch::View;
use crate::machine::journal::{Change, Effect, EventEntry, EventLog, Journal, Level};
use crate::rules::RuleId;
use crate::runtime::Version;

use super::session::{SessionFate, Sessions};
use super::{PoolRun, Process, RAPID_FAIL};

/// What a warm request reads of the running world: every change to it moves the world's epoch.
#[derive(Debug, Clone)]
pub(super) struct State {
    pub(super) next_pid: u32,
    pub(super) procs: Procs,
    pub(super) iis5_mode: Option<bool>,
    pub(super) pools: BTreeMap<String, PoolRun>,
    pub(super) rr: BTreeMap<String, u32>,
    pub(super) gardens: BTreeMap<Version, u32>,
    pub(super) sessions: Sessions,
    pub(super) warned: BTreeSet<String>,
    pub(super) in_process: Option<Vec<String>>,
    pub(super) state_version_checked: bool,
    /// How many requests ever ran for a while (a duration): HTTP.sys's queue for a pool cannot
    /// be full of running requests while fewer ran at all (HTTP-03).
    pub(super) long_requests: u64,
    /// Queued requests a recycle moved to a replacement worker, and the worker that ran them.
    pub(super) moved: BTreeMap<u64, (&'static str, u32)>,
}

/// The running processes in PID order: a few, so a sorted vector finds one by PID in a handful
/// of comparisons (a request looks its worker up some ten times; a B-tree's search cost more).
#[derive(Debug, Clone, Default)]
pub(super) struct Procs(Vec<Process>);

impl Procs {
    #[inline]
    fn at(&self, pid: u32) -> Result<usize, usize> {
        // Linear while the table is small: PIDs are few and a comparison is cheap.
        if self.0.len() <= 8 {
            for (i, p) in self.0.iter().enumerate() {
                if p.pid >= pid {
                    return if p.pid == pid { Ok(i) } else { Err(i) };
                }
            }
            return Err(self.0.len());
        }
        self.0.binary_search_by_key(&pid, |p| p.pid)
    }

    /// The process with this PID.
    #[inline]
    pub(super) fn get(&self, pid: &u32) -> Option<&Process> {
        self.at(*pid).ok().map(|i| &self.0[i])
    }

    /// The process with this PID, to change it.
    #[inline]
    pub(super) fn get_mut(&mut self, pid: &u32) -> Option<&mut Process> {
        self.at(*pid).ok().map(|i| &mut self.0[i])
    }

    /// Whether a process has this PID.
    pub(super) fn contains_key(&self, pid: &u32) -> bool {
        self.at(*pid).is_ok()
    }

    /// Adds process `p` as `pid`, replacing one of that PID.
    pub(super) fn insert(&mut self, pid: u32, p: Process) {
        debug_assert_eq!(pid, p.pid);
        match self.at(pid) {
            Ok(i) => self.0[i] = p,
            Err(i) => self.0.insert(i, p),
        }
    }

    /// Takes the process with this PID out.
    pub(super) fn remove(&mut self, pid: &u32) -> Option<Process> {
        self.at(*pid).ok().map(|i| self.0.remove(i))
    }

    /// The processes in PID order.
    #[inline]
    pub(super) fn values(&self) -> std::slice::Iter<'_, Process> {
        self.0.iter()
    }

    /// The processes in PID order, to change them.
    pub(super) fn values_mut(&mut self) -> std::slice::IterMut<'_, Process> {
        self.0.iter_mut()
    }
}

/// Everything that runs on the machine: processes, pools' run state, sessions and clients, what
/// W3SVC read when it started, and the journal and event log of what happened to them. The
/// configuration it runs against is the [`Machine`](crate::machine::Machine), passed alongside.
#[derive(Debug, Clone)]
pub struct World {
    state: State,
    /// Moves with every write to `state`.
    epoch: u64,
    /// What warm requests found, by application, script and client (see [`Warm`]).
    warm: WarmTable,
    pub(super) view: Option<(u64, Arc<View>)>,
    /// Whether W3SVC serves, as of the machine's generation (see [`super::serving`]).
    pub(super) serving: Option<(u64, bool)>,
    pub(super) view_notes: Vec<String>,
    journal: Journal,
    events: EventLog,
    /// The number of the request being served.
    pub(super) request_seq: u64,
}

impl Default for World {
    fn default() -> Self {
        World {
            state: State {
                next_pid: 1000,
                procs: Procs::default(),
                iis5_mode: None,
                pools: BTreeMap::new(),
                rr: BTreeMap::new(),
                gardens: BTreeMap::new(),
                sessions: Sessions::default(),
                warned: BTreeSet::new(),
                in_process: None,
                state_version_checked: false,
                long_requests: 0,
                moved: BTreeMap::new(),
            },
            epoch: 0,
            warm: WarmTable { on: true, ..WarmTable::default() },
            view: None,
            serving: None,
            view_notes: Vec::new(),
            journal: Journal::default(),
            events: EventLog::default(),
            request_seq: 0,
        }
    }
}

/// What a warm request found when it ran the whole procedure and changed nothing: the same
/// request (application, script, client) in the same epoch of the world and generation of the
/// machine runs alike, so it is answered from here with the counters moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Warm {
    /// The process that ran the managed code.
    pub(super) pid: u32,
    /// The process that handed it on (IIS 5's inetinfo.exe or dllhost.exe), touched first.
    pub(super) host: Option<u32>,
    pub(super) image: &'static str,
    pub(super) v: Version,
    pub(super) version_header: bool,
    pub(super) session: Option<SessionFate>,
    /// The number of requests served at which the process recycles (`u64::MAX`: never).
    pub(super) recycle_at: u64,
}

/// One record and what it is valid for.
#[derive(Debug, Clone)]
struct Entry {
    hash: u64,
    /// The application's key, the view's own text: found by its address (the record holds it,
    /// so no other text can come to live there), not by its content.
    app: Arc<str>,
    /// The script's URL as requested.
    script: Box<str>,
    /// The named client.
    client: Option<Box<str>>,
    epoch: u64,
    generation: u64,
    /// Where the process that ran it sat in the process table: the table changes only with the
    /// epoch, and the PID is checked as well.
    at: usize,
    warm: Warm,
}

impl Entry {
    #[inline(always)]
    fn is(&self, app: &Arc<str>, script: &str, client: Option<&str>) -> bool {
        Arc::ptr_eq(&self.app, app)
            && same(&self.script, script)
            && match (&self.client, client) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// The warm records, direct-mapped by hash: a record whose slot is taken by another grows the
/// table up to [`WarmTable::MAX`] slots, and past that replaces it (a record is a cache: the
/// request it would have answered runs the whole procedure and leaves its record again).
#[derive(Debug, Clone, Default)]
struct WarmTable {
    on: bool,
    /// A power of two long, or empty.
    slots: Vec<Option<Entry>>,
}

impl WarmTable {
    const FIRST: usize = 16;
    const MAX: usize = 1024;

    /// The slot for `hash` (`slots` not empty).
    #[inline(always)]
    fn index(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    /// Puts `e` in its slot, growing the table while its slot holds another record.
    fn put(&mut self, e: Entry) {
        if self.slots.is_empty() {
            self.slots = (0..Self::FIRST).map(|_| None).collect();
        }
        loop {
            let i = self.index(e.hash);
            let taken = self.slots[i].as_ref().is_some_and(|o| !o.is(&e.app, &e.script, e.client.as_deref()));
            if !taken || self.slots.len() >= Self::MAX {
                self.slots[i] = Some(e);
                return;
            }
            let old = std::mem::take(&mut self.slots);
            self.slots = (0..old.len() * 2).map(|_| None).collect();
            for o in old.into_iter().flatten() {
                let j = self.index(o.hash);
                self.slots[j] = Some(o);
            }
        }
    }
}

/// The eight bytes of `b` at `at`.
#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// A text shorter than eight bytes as one word that differs for any two of the same length: its
/// first and last four bytes, or its first, middle and last byte.
#[inline(always)]
fn short(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
        u64::from(lo) | u64::from(hi) << 32
    } else if n > 0 {
        u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16
    } else {
        0
    }
}

/// `b` as words: every eight bytes, the last eight overlapping (a short text: [`short`]).
#[inline(always)]
fn words(b: &[u8], mut each: impl FnMut(u64)) {
    let n = b.len();
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            each(word(b, i));
            i += 8;
        }
        each(word(b, n - 8));
    } else {
        each(short(b));
    }
}

/// Whether two texts are equal, compared a word at a time (the keys are short).
#[inline(always)]
fn same(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n < 8 {
        return short(a) == short(b);
    }
    let mut diff = 0u64;
    let mut i = 0;
    while i + 8 < n {
        diff |= word(a, i) ^ word(b, i);
        i += 8;
    }
    diff |= word(a, n - 8) ^ word(b, n - 8);
    diff == 0
}

/// The record hash's step per word: a rotate, an xor and a multiply (a collision costs a
/// compare, never a wrong answer: records are found by their whole key).
#[inline(always)]
fn step(h: u64, x: u64) -> u64 {
    (h.rotate_left(26) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// `h` moved on by a text: its words, its length mixed into the first.
#[inline(always)]
fn fold_text(h: u64, text: &str) -> u64 {
    let mut h = h ^ (text.len() as u64).rotate_right(8);
    words(text.as_bytes(), |x| h = step(h, x));
    h
}

/// A hash of the record's key: the application's address, the script's words and the client's,
/// then one folded multiply so the slot's bits depend on every word.
#[inline(always)]
fn warm_hash(app: &Arc<str>, script: &str, client: Option<&str>) -> u64 {
    let h = step(0x243f_6a88_85a3_08d3, app.as_ptr() as u64);
    let h = fold_text(h, script);
    let h = match client {
        Some(c) => fold_text(h ^ 1 << 63, c),
        None => h,
    };
    let p = u128::from(h) * u128::from(0x9e37_79b9_7f4a_7c15u64);
    (p as u64) ^ ((p >> 64) as u64)
}

impl World {
    /// The state a warm request reads.
    #[inline]
    pub(super) fn st(&self) -> &State {
        &self.state
    }

    /// The state, to change it: the epoch moves, so no warm record made before is trusted again.
    #[inline]
    pub(super) fn st_mut(&mut self) -> &mut State {
        self.epoch += 1;
        &mut self.state
    }

    /// How many times the state was opened for writing.
    #[inline]
    pub(super) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// How many effects the journal holds.
    #[inline]
    pub(super) fn journal_len(&self) -> usize {
        self.journal.len()
    }

    /// Whether the journal recorded nothing but decisions since it held `mark` effects.
    pub(super) fn explained_only_since(&self, mark: usize) -> bool {
        self.journal.len() >= mark && self.journal.since(mark).iter().all(|e| e.change.kind() == "decision")
    }

    /// The counters of a process no warm record trusts: its last activity moves to `now` and,
    /// with `count`, the requests it served by one.
    #[inline]
    pub(super) fn tally(&mut self, pid: u32, now: u64, count: bool) {
        if let Some(p) = self.state.procs.get_mut(&pid) {
            p.last_active = now;
            p.served += u64::from(count);
        }
    }

    /// The counter of requests a process served moves by one, its last activity kept.
    #[inline]
    pub(super) fn count_served(&mut self, pid: u32) {
        if let Some(p) = self.state.procs.get_mut(&pid) {
            p.served += 1;
        }
    }

    /// Whether warm requests are answered from what the last identical one found (on by
    /// default). Off, every request runs the whole procedure: tests compare the two.
    pub fn set_warm_path(&mut self, on: bool) {
        self.warm.on = on;
        self.warm.slots.clear();
    }

    /// The record of a warm request, if one was made in this epoch of the world and
    /// `generation` of the machine and the process has not served its last request before a
    /// recycle: its counters move (last activity `now`, one more request served) and the record
    /// answers. Nothing else is written.
    #[inline]
    pub(super) fn warm_hit(
        &mut self,
        generation: u64,
        now: u64,
        (app, script, client): (&Arc<str>, &str, Option<&str>),
    ) -> Option<Warm> {
        if !self.warm.on || self.warm.slots.is_empty() {
            return None;
        }
        let hash = warm_hash(app, script, client);
        let e = self.warm.slots[self.warm.index(hash)].as_ref()?;
        if e.hash != hash || e.epoch != self.epoch || e.generation != generation || !e.is(app, script, client) {
            return None;
        }
        let warm = e.warm;
        let p = self.state.procs.0.get_mut(e.at).filter(|p| p.pid == warm.pid)?;
        if p.served + 1 >= warm.recycle_at {
            return None;
        }
        p.served += 1;
        p.last_active = now;
        if let Some(host) = warm.host {
            self.tally(host, now, false);
        }
        Some(warm)
    }

    /// Records what a request that changed nothing found, for the next identical one.
    pub(super) fn warm_record(
        &mut self,
        generation: u64,
        (app, script, client): (&Arc<str>, &str, Option<&str>),
        warm: Warm,
    ) {
        if !self.warm.on {
            return;
        }
        let Ok(at) = self.state.procs.at(warm.pid) else { return };
        let hash = warm_hash(app, script, client);
        let epoch = self.epoch;
        if !self.warm.slots.is_empty() {
            let i = self.warm.index(hash);
            if let Some(e) = self.warm.slots[i].as_mut().filter(|e| e.is(app, script, client)) {
                (e.epoch, e.generation, e.at, e.warm) = (epoch, generation, at, warm);
                return;
            }
        }
        let entry = Entry {
            hash,
            app: app.clone(),
            script: script.into(),
            client: client.map(Into::into),
            epoch,
            generation,
            at,
            warm,
        };
        self.warm.put(entry);
    }

    /// Running processes, by PID.
    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.state.procs.values()
    }

    /// The process with this PID.
    pub fn process(&self, pid: u32) -> Option<&Process> {
        self.state.procs.get(&pid)
    }

    /// Whether a pool is stopped, and why.
    #[inline]
    pub fn pool_stopped(&self, pool: &str) -> Option<&str> {
        // Asked on every request in worker mode; the pools that ever ran are few.
        self.state.pools.iter().find(|(k, _)| k.eq_ignore_ascii_case(pool)).and_then(|(_, p)| p.stopped.as_deref())
    }

    /// The sessions and clients.
    pub fn sessions(&self) -> &Sessions {
        &self.state.sessions
    }

    /// Ends a client's sessions everywhere, silently, as their timeout would (see
    /// [`Sessions::forget`]).
    pub fn forget_client(&mut self, client: &str) {
        let st = self.st_mut();
        if let Some(id) = st.sessions.forget(client) {
            for d in st.procs.values_mut().flat_map(|p| p.domains.values_mut()) {
                d.sessions.remove(&id);
            }
        }
    }

    /// Every event-log entry the running processes wrote, oldest first.
    pub fn events(&self) -> &[EventEntry] {
        self.events.entries()
    }

    /// The event log the running processes write.
    pub fn event_log(&self) -> &EventLog {
        &self.events
    }

    /// Keeps only the newest `keep` event-log entries (a long-running server's bounded tail).
    pub fn trim_events(&mut self, keep: usize) {
        self.events.trim(keep);
    }

    /// The journal of what happened to the running processes, not yet drained.
    pub fn journal_mut(&mut self) -> &mut Journal {
        &mut self.journal
    }

    /// Takes the effects the running processes recorded since the last call.
    pub fn drain_effects(&mut self) -> Vec<Effect> {
        self.journal.drain()
    }

    /// Records a process-model change (a process started or ended, sessions lost).
    pub fn record_process(&mut self, text: impl Into<String>, rules: &[RuleId]) {
        self.journal.record(Change::Process { text: text.into() }, rules);
    }

    /// Records a dispatch decision.
    pub fn record_decision(&mut self, text: impl Into<String>, rules: &[RuleId]) {
        self.journal.record(Change::Decision { text: text.into() }, rules);
    }

    /// Records a decision that changed nothing.
    pub fn note(&mut self, text: impl Into<String>, rules: &[RuleId]) {
        self.journal.record(Change::Note { text: text.into() }, rules);
    }

    /// Writes an Application-log entry at virtual time `time`.
    pub fn log_event(&mut self, time: u64, level: Level, source: &str, id: u32, message: &str, rules: &[RuleId]) {
        self.log_event_to(time, "Application", level, source, id, message, rules);
    }

    /// Writes an entry to the named event log (`Application` or `System`) at virtual time `time`.
    #[allow(clippy::too_many_arguments)]
    pub fn log_event_to(
        &mut self,
        time: u64,
        log: &'static str,
        level: Level,
        source: &str,
        id: u32,
        message: &str,
        rules: &[RuleId],
    ) {
        let entry = EventEntry { time, log, level, source: source.into(), id, message: message.into() };
        self.journal.record_event(&mut self.events, entry, rules);
    }

    /// Forgets what W3SVC read when it started and what its pools went through: the next start
    /// reads the isolation mode, InProcessIsapiApps and garden sizes again, and a rapid-fail stop
    /// is lifted (PM6-01, PM6-07, SHR-03).
    pub(super) fn w3svc_stopped(&mut self) {
        let st = self.st_mut();
        st.iis5_mode = None;
        st.in_process = None;
        st.gardens.clear();
        st.warned.clear();
        for run in st.pools.values_mut() {
            if run.stopped.as_deref() == Some(RAPID_FAIL) {
                run.stopped = None;
            }
            run.crashes.clear();
        }
    }

    /// Numbers the next request.
    #[inline]
    pub(super) fn begin_request(&mut self) -> u64 {
        self.request_seq += 1;
        self.request_seq
    }

    pub(super) fn alloc_pid(&mut self) -> u32 {
        let st = self.st_mut();
        let pid = st.next_pid;
        st.next_pid += 4;
        pid
    }

    /// The pool's web-garden member `slot`, found without building its Role.
    #[inline]
    pub(super) fn find_w3wp(&self, pool: &str, slot: u32) -> Option<u32> {
        self.state
            .procs
            .values()
            .find(|p| matches!(&p.role, super::Role::W3wp(name, n) if name == pool && *n == slot))
            .map(|p| p.pid)
    }

    pub(super) fn find(&self, role: &super::Role) -> Option<u32> {
        self.state.procs.values().find(|p| &p.role == role).map(|p| p.pid)
    }
}
