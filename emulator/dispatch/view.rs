//! The compiled, immutable view of the metabase and the content files that dispatch reads.

/// The compiled view (filled by the dispatch work).
#[derive(Debug, Clone, Default)]
pub struct View {}

impl View {
    /// Compiles the view of a machine.
    pub fn compile(_m: &crate::machine::Machine) -> View {
        View {}
    }
}
