//! Session state: named clients with their cookie, and the three stores (SES-01..08).

use std::collections::{BTreeMap, BTreeSet};

use crate::runtime::Version;

pub use crate::config::SessionMode;

/// What became of a client's session on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFate {
    /// The client had no session in this application: one was created.
    New,
    /// The session was found.
    Kept,
    /// The client had a session here but it is gone: a new one was created.
    Lost,
}

impl SessionFate {
    /// `new`, `kept` or `lost`, as scenario files write it.
    pub fn name(self) -> &'static str {
        match self {
            SessionFate::New => "new",
            SessionFate::Kept => "kept",
            SessionFate::Lost => "lost",
        }
    }
}

/// A named client: its `ASP.NET_SessionId` cookie and the applications it has had a session in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Client {
    /// Shared, so a request to an existing session does not copy it.
    cookie: Option<std::sync::Arc<str>>,
    apps: BTreeSet<String>,
}

/// One out-of-process store's items: (application key, session ID) -> runtime that wrote it and
/// the application path as written.
type Store = BTreeMap<(String, String), (Version, String)>;

/// A table looked up by name on every request and never walked: hashed, so that a lookup among
/// thousands of clients reads a slot or two, not a tree path of keys each in its own allocation.
/// The hasher's keys are fixed, so that even its order is the same on every run.
type Index<V> = std::collections::HashMap<String, V, std::hash::BuildHasherDefault<std::hash::DefaultHasher>>;

/// Clients and the out-of-process stores. InProc sessions live in their AppDomain.
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    clients: Index<Client>,
    owners: Index<String>,
    state_server: Store,
    sql_server: Store,
    issued: u64,
}

/// `text` in lower case, copied only when it has an upper-case letter.
pub(crate) fn lower(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(text.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// One ended session, for reports: `alice@/LM/W3SVC/1/ROOT/app (InProc)`.
pub fn describe(client: &str, app: &str, mode: SessionMode) -> String {
    format!("{client}@{app} ({})", mode.name())
}

impl Sessions {
    /// The client's session ID, issuing one (as `Set-Cookie` would) when it has none. Returns the
    /// ID and whether it is new. IDs are 24 characters of ASP.NET's alphabet, deterministic.
    pub fn cookie(&mut self, client: &str) -> (std::sync::Arc<str>, bool) {
        if let Some(id) = self.clients.get(client).and_then(|c| c.cookie.clone()) {
            return (id, false);
        }
        self.issued += 1;
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz012345";
        let mut x = self.issued.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x0005_DEEC_E66D;
        let id: String = (0..24)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ALPHABET[(x % 32) as usize] as char
            })
            .collect();
        let id: std::sync::Arc<str> = id.into();
        self.clients.entry(client.to_string()).or_default().cookie = Some(id.clone());
        self.owners.insert(id.to_string(), client.to_string());
        (id, true)
    }

    /// A new session ID, for a cookieless application to put in a URL (SES-10).
    pub fn issue(&mut self) -> String {
        let n = self.issued + 1;
        let (id, _) = self.cookie(&format!("cookieless request #{n}"));
        id.to_string()
    }

    /// Makes `client` the holder of session ID `id` (one read from a URL, SES-10).
    pub fn adopt(&mut self, client: &str, id: &str) {
        self.clients.entry(client.to_string()).or_default().cookie = Some(id.into());
        self.owners.insert(id.to_string(), client.to_string());
    }

    /// Forgets a client: its cookie, and its sessions in the out-of-process stores, as when its
    /// sessions time out. Returns the session ID it held.
    pub fn forget(&mut self, client: &str) -> Option<String> {
        let id = self.clients.remove(client)?.cookie?;
        self.owners.remove(&*id);
        for store in [&mut self.state_server, &mut self.sql_server] {
            store.retain(|(_, sid), _| **sid != *id);
        }
        Some(id.to_string())
    }

    /// The client that was issued session ID `id`, if any (a real client's cookie names it).
    pub fn client_of(&self, id: &str) -> Option<&str> {
        self.owners.get(id).map(String::as_str)
    }

    /// The client holding session ID `id`.
    pub fn owner(&self, id: &str) -> &str {
        self.owners.get(id).map(String::as_str).unwrap_or("?")
    }

    /// The session ID the client holds, if any, and whether it has had a session in the
    /// application whose key is `app_key` (lower case) before: one lookup, nothing copied.
    #[inline]
    pub fn known(&self, client: &str, app_key: &str) -> Option<(&str, bool)> {
        let c = self.clients.get(client)?;
        Some((c.cookie.as_deref()?, c.apps.contains(app_key)))
    }

    /// Whether the client has had a session in application `app` before.
    pub fn had(&self, client: &str, app: &str) -> bool {
        // Asked on every request with a session, usually with the key already lower-cased.
        let key = lower(app);
        self.clients.get(client).is_some_and(|c| c.apps.contains(&*key))
    }

    /// Notes that the client now has a session in `app`.
    pub fn remember(&mut self, client: &str, app: &str) {
        self.clients.entry(client.to_string()).or_default().apps.insert(app.to_ascii_lowercase());
    }

    fn store(&mut self, mode: SessionMode) -> Option<&mut Store> {
        match mode {
            SessionMode::StateServer => Some(&mut self.state_server),
            SessionMode::SqlServer => Some(&mut self.sql_server),
            _ => None,
        }
    }

    /// Looks up an out-of-process session; the key includes the app path (SES-06). With
    /// `cross_runtime` false, items another runtime wrote are unreadable (SES-07).
    pub fn find_oop(&mut self, mode: SessionMode, app: &str, id: &str, v: Version, cross_runtime: bool) -> bool {
        let key = (app.to_ascii_lowercase(), id.to_string());
        let Some(store) = self.store(mode) else { return false };
        match store.get(&key) {
            Some((w, _)) if *w == v || cross_runtime => true,
            Some(_) => {
                store.remove(&key);
                false
            }
            None => false,
        }
    }

    /// The runtime that last wrote an out-of-process session, if it exists.
    pub fn writer(&self, mode: SessionMode, app: &str, id: &str) -> Option<Version> {
        let key = (app.to_ascii_lowercase(), id.to_string());
        match mode {
            SessionMode::StateServer => self.state_server.get(&key).map(|(v, _)| *v),
            SessionMode::SqlServer => self.sql_server.get(&key).map(|(v, _)| *v),
            _ => None,
        }
    }

    /// Stores an out-of-process session written by runtime `v`.
    pub fn put_oop(&mut self, mode: SessionMode, app: &str, id: &str, v: Version) {
        if let Some(store) = self.store(mode) {
            store.insert((app.to_ascii_lowercase(), id.to_string()), (v, app.to_string()));
        }
    }

    /// Empties a store (its service restarted, SES-04); returns what ended, described.
    pub fn clear(&mut self, mode: SessionMode) -> Vec<String> {
        let Some(store) = self.store(mode) else { return Vec::new() };
        let gone = std::mem::take(store);
        gone.iter().map(|((_, id), (_, app))| describe(self.owner(id), app, mode)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_stable_and_distinct() {
        let mut s = Sessions::default();
        let (a, new_a) = s.cookie("alice");
        let (b, _) = s.cookie("bob");
        assert!(new_a);
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert_eq!(s.cookie("alice"), (a.clone(), false));
        assert_eq!(s.owner(&a), "alice");
    }

    #[test]
    fn a_forgotten_client_loses_its_cookie_and_its_stored_sessions() {
        let mut s = Sessions::default();
        let (id, _) = s.cookie("alice");
        s.put_oop(SessionMode::SqlServer, "/LM/W3SVC/1/ROOT/a", &id, Version::V2_0);
        assert_eq!(s.forget("alice"), Some(id.to_string()));
        assert_eq!(s.client_of(&id), None);
        assert!(!s.find_oop(SessionMode::SqlServer, "/LM/W3SVC/1/ROOT/a", &id, Version::V2_0, true));
        assert_eq!(s.forget("alice"), None);
        assert!(s.cookie("alice").1, "a forgotten client gets a new cookie");
    }

    #[test]
    fn out_of_process_keys_include_the_app() {
        let mut s = Sessions::default();
        let (id, _) = s.cookie("alice");
        s.put_oop(SessionMode::StateServer, "/LM/W3SVC/1/ROOT/a", &id, Version::V1_1);
        assert!(s.find_oop(SessionMode::StateServer, "/lm/w3svc/1/root/A", &id, Version::V1_1, true));
        assert!(!s.find_oop(SessionMode::StateServer, "/LM/W3SVC/1/ROOT/b", &id, Version::V1_1, true));
        assert!(!s.find_oop(SessionMode::SqlServer, "/LM/W3SVC/1/ROOT/a", &id, Version::V1_1, true));
        assert!(!s.find_oop(SessionMode::StateServer, "/LM/W3SVC/1/ROOT/a", &id, Version::V2_0, false));
        assert_eq!(s.clear(SessionMode::StateServer), Vec::<String>::new());
    }
}
