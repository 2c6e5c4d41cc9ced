//! The rules iisim implements: IDs, summaries, sources and scope.
//!
//! Every effect in a transcript cites the IDs of the rules that decided it. The catalog is the
//! project's own restatement of the behavioural contract; `iisim rules` prints it.

mod catalog;
pub mod kinds;

use std::fmt;

/// Where a rule's main claim comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Microsoft documentation, KB articles or Microsoft-published source.
    Documented,
    /// Public transcripts, real files, published message tables.
    Observed,
    /// iisim's own choice where sources are thin or conflict.
    Modeled,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Documented => "documented",
            Source::Observed => "observed",
            Source::Modeled => "modeled",
        })
    }
}

/// Whether the emulator implements a rule yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Implemented: some scenario must cite it.
    Modeled,
    /// Not implemented yet, with the reason.
    Deferred(&'static str),
}

/// One behavioural rule of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable ID such as `REG-07`.
    pub id: &'static str,
    /// Short name.
    pub title: &'static str,
    /// One line, in iisim's words, saying what the rule decides.
    pub summary: &'static str,
    /// Where the main claim comes from.
    pub source: Source,
    /// Whether iisim implements it.
    pub scope: Scope,
}

/// Every rule of the catalog, in ID order within each family.
pub fn catalog() -> &'static [Rule] {
    catalog::CATALOG
}

/// How many rules the catalog models, and how many it holds.
pub fn counts() -> (usize, usize) {
    let all = catalog();
    (all.iter().filter(|r| r.scope == Scope::Modeled).count(), all.len())
}

/// The rule with this ID (case-insensitive), if the catalog has it.
pub fn find(id: &str) -> Option<&'static Rule> {
    catalog().iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// A rule ID as cited by effects; a plain string so that effects stay cheap to build.
pub type RuleId = &'static str;

/// Formats a list of rule IDs the way transcripts cite them: `[REG-07, MAP-07]`.
pub fn cite(ids: &[RuleId]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!("[{}]", ids.join(", "))
    }
}
