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

/// A change and the rules that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// What changed.
    pub change: Change,
    /// The rule IDs that decided it.
    pub rules: Vec<RuleId>,
}

/// The effects recorded since the journal was last drained.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    effects: Vec<Effect>,
}

impl Journal {
    /// Records a change decided by `rules`.
    pub fn record(&mut self, change: Change, rules: &[RuleId]) {
        self.effects.push(Effect { change, rules: rules.to_vec() });
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
        std::mem::take(&mut self.effects)
    }
}
