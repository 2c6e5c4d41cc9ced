//! URL canonicalisation as patched HTTP.sys does it (REQ-01..03, SEC-01..04).
