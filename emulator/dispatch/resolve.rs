//! The resolution order: binding, key, application, maps, permissions, static files.

use super::{Request, Resolution, View};

/// Resolves a request against a view.
pub fn resolve(_view: &View, _req: &Request) -> Resolution {
    unimplemented!("resolution lands with the dispatch work")
}
