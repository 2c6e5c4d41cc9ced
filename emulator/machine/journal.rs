//! Effects: every state change a machine operation makes, with the rules that decided it.

use crate::metabase::Value;
use crate::rules::RuleId;

/// Severity of an event-log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Information.
    Information,
    /// Warning.
    Warning,
    /// Error.
    Error,
}

impl Level {
    /// The name the Event Viewer shows.
    pub fn name(self) -> &'static str {
        match self {
            Level::Information => "Information",
            Level::Warning => "Warning",
            Level::Error => "Error",
        }
    }
}

/// One event-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEntry {
    /// Virtual time in seconds since the scenario started.
    pub time: u64,
    /// Log name (`Application` or `System`).
    pub log: &'static str,
    /// Severity.
    pub level: Level,
    /// Event source, e.g. `ASP.NET 2.0.50727.0`.
    pub source: String,
    /// Event ID.
    pub id: u32,
    /// Message text.
    pub message: String,
}

/// What changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A metabase key was created.
    KeyCreated {
        /// Full path.
        path: String,
        /// KeyType.
        key_type: String,
    },
    /// A metabase key (and its subtree) was deleted.
    KeyDeleted {
        /// Full path.
        path: String,
    },
    /// A metabase property was set or removed (`new: None`).
    Property {
        /// Key path.
        path: String,
        /// Property name.
        prop: String,
        /// Previous own value.
        old: Option<Value>,
        /// New own value.
        new: Option<Value>,
    },
    /// A registry value was set or removed.
    Registry {
        /// Registry key.
        key: String,
        /// Value name.
        name: String,
        /// Previous data.
        old: Option<String>,
        /// New data.
        new: Option<String>,
    },
    /// A registry key was created or deleted.
    RegistryKey {
        /// Registry key.
        key: String,
        /// True when created, false when deleted.
        created: bool,
    },
    /// Files were created or deleted under a folder.
    Files {
        /// The folder (or the deleted path).
        dir: String,
        /// Files created in it; empty for a folder.
        names: Vec<String>,
        /// True when created, false when deleted.
        created: bool,
    },
    /// An event was written to the event log.
    Event(EventEntry),
    /// A machine-wide shared resource changed owner or state.
    Resource {
        /// Resource name, e.g. `perf:ASP.NET`.
        name: String,
        /// Previous state.
        old: Option<String>,
        /// New state.
        new: Option<String>,
    },
    /// A service was started, stopped, restarted or re-registered.
    Service {
        /// Service name.
        name: String,
        /// What happened to it.
        action: String,
    },
    /// A runtime's installation or registration state changed.
    Runtime {
        /// What changed.
        text: String,
    },
    /// A process started, ended, or changed what it hosts; sessions that ended with it.
    Process {
        /// What happened.
        text: String,
    },
    /// A step taken while dispatching a request.
    Decision {
        /// What was decided.
        text: String,
    },
    /// A decision that changed nothing but explains why (e.g. a remap skipped).
    Note {
        /// The decision.
        text: String,
    },
}

impl Change {
    /// The kind of change, as rule citations are checked against it: `metabase`, `registry`,
    /// `files`, `event`, `resource`, `service`, `runtime`, `process`, `decision` or `note`.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::KeyCreated { .. } | Change::KeyDeleted { .. } | Change::Property { .. } => "metabase",
            Change::Registry { .. } | Change::RegistryKey { .. } => "registry",
            Change::Files { .. } => "files",
            Change::Event(_) => "event",
            Change::Resource { .. } => "resource",
            Change::Service { .. } => "service",
            Change::Runtime { .. } => "runtime",
            Change::Process { .. } => "process",
            Change::Decision { .. } => "decision",
            Change::Note { .. } => "note",
        }
    }
}

/// A change and the rules that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// What changed.
    pub change: Change,
    /// The rule IDs that decided it.
    pub rules: Vec<RuleId>,
}

/// The order in which effects happen across every journal of a run: the machine's configuration
/// and the running world keep separate journals, and a step's transcript interleaves them.
static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn next_seq() -> u64 {
    SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The effects recorded since the journal was last drained.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    effects: Vec<Effect>,
    seqs: Vec<u64>,
}

impl Journal {
    /// Records a change decided by `rules`.
    pub fn record(&mut self, change: Change, rules: &[RuleId]) {
        self.effects.push(Effect { change, rules: rules.to_vec() });
        self.seqs.push(next_seq());
    }

    /// Writes `entry` to the event log `log` and records it as an effect decided by `rules`.
    pub fn record_event(&mut self, log: &mut EventLog, entry: EventEntry, rules: &[RuleId]) {
        log.push(entry.clone());
        self.record(Change::Event(entry), rules);
    }

    /// How many effects are recorded.
    pub fn len(&self) -> usize {
        self.effects.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }

    /// The effects recorded after the first `mark`.
    pub fn since(&self, mark: usize) -> &[Effect] {
        self.effects.get(mark..).unwrap_or_default()
    }

    /// Takes every effect recorded so far.
    pub fn drain(&mut self) -> Vec<Effect> {
        self.seqs.clear();
        std::mem::take(&mut self.effects)
    }

    /// Takes every effect recorded so far, each with its place in the run's order.
    fn drain_ordered(&mut self) -> impl Iterator<Item = (u64, Effect)> {
        std::mem::take(&mut self.seqs).into_iter().zip(std::mem::take(&mut self.effects))
    }
}

/// Drains two journals into one list, in the order the effects happened.
pub fn drain_merged(a: &mut Journal, b: &mut Journal) -> Vec<Effect> {
    let mut all: Vec<(u64, Effect)> = a.drain_ordered().chain(b.drain_ordered()).collect();
    all.sort_by_key(|(seq, _)| *seq);
    all.into_iter().map(|(_, e)| e).collect()
}

/// An event log: entries in the order they were written.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    entries: Vec<EventEntry>,
    seqs: Vec<u64>,
    dropped: usize,
}

impl EventLog {
    /// Appends an entry.
    pub fn push(&mut self, entry: EventEntry) {
        self.entries.push(entry);
        self.seqs.push(next_seq());
    }

    /// The entries kept, oldest first.
    pub fn entries(&self) -> &[EventEntry] {
        &self.entries
    }

    /// How many entries were ever written (kept or trimmed).
    pub fn written(&self) -> usize {
        self.dropped + self.entries.len()
    }

    /// Keeps only the newest `keep` entries (a long-running server's bounded tail).
    pub fn trim(&mut self, keep: usize) {
        let excess = self.entries.len().saturating_sub(keep);
        if excess > 0 {
            self.entries.drain(..excess);
            self.seqs.drain(..excess);
            self.dropped += excess;
        }
    }

    /// The entries written after the first `written` of each log, in the order they happened.
    pub fn merged_since(a: &EventLog, a_from: usize, b: &EventLog, b_from: usize) -> Vec<EventEntry> {
        let tail = |l: &EventLog, from: usize| {
            let skip = from.saturating_sub(l.dropped).min(l.entries.len());
            l.seqs[skip..].iter().copied().zip(l.entries[skip..].iter().cloned()).collect::<Vec<_>>()
        };
        let mut all = tail(a, a_from);
        all.extend(tail(b, b_from));
        all.sort_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, e)| e).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u32) -> EventEntry {
        EventEntry {
            time: 0,
            log: "Application",
            level: Level::Information,
            source: "t".into(),
            id,
            message: String::new(),
        }
    }

    #[test]
    fn event_logs_merge_in_order_and_trim_to_a_tail() {
        let (mut a, mut b) = (EventLog::default(), EventLog::default());
        a.push(entry(1));
        b.push(entry(2));
        a.push(entry(3));
        let ids = |v: Vec<EventEntry>| v.iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(EventLog::merged_since(&a, 0, &b, 0)), [1, 2, 3]);
        let mark = (a.written(), b.written());
        for id in 4..10 {
            a.push(entry(id));
        }
        a.trim(3);
        assert_eq!(a.entries().len(), 3);
        assert_eq!(a.written(), 8, "trimmed entries still count as written");
        assert_eq!(ids(EventLog::merged_since(&a, mark.0, &b, mark.1)), [7, 8, 9], "what is left of the new ones");
    }

    #[test]
    fn journals_drain_in_the_order_effects_happened() {
        let (mut a, mut b) = (Journal::default(), Journal::default());
        a.record(Change::Note { text: "1".into() }, &[]);
        b.record(Change::Note { text: "2".into() }, &[]);
        a.record(Change::Note { text: "3".into() }, &[]);
        let texts: Vec<String> = drain_merged(&mut a, &mut b)
            .into_iter()
            .map(|e| match e.change {
                Change::Note { text } => text,
                _ => String::new(),
            })
            .collect();
        assert_eq!(texts, ["1", "2", "3"]);
        assert!(a.is_empty() && b.is_empty());
    }
}
