//! URL canonicalisation as patched HTTP.sys does it (REQ-01..03, SEC-01..04).
//!
//! This worktree's copy covers only what resolution needs to compile and run (decode once, `\` to
//! `/`, dot segments, no climbing above the root); the full HTTP.sys rules land with the
//! canonicalisation work and replace this file.

use super::Decision;
use crate::rules::RuleId;

/// The registry key holding HTTP.sys's switches (REQ-02).
pub const HTTP_PARAMETERS_KEY: &str = r"HKLM\System\CurrentControlSet\Services\HTTP\Parameters";

/// HTTP.sys switches read from the registry (REQ-02), with Windows defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSysParams {
    /// `AllowRestrictedChars`.
    pub allow_restricted_chars: u32,
    /// `UrlSegmentMaxLength`.
    pub url_segment_max_length: u32,
    /// `UrlSegmentMaxCount`.
    pub url_segment_max_count: u32,
}

impl Default for HttpSysParams {
    fn default() -> Self {
        HttpSysParams { allow_restricted_chars: 0, url_segment_max_length: 260, url_segment_max_count: 255 }
    }
}

impl HttpSysParams {
    /// The switches, each read with `get` by its registry name, defaults where absent.
    pub fn from_values(get: impl Fn(&str) -> Option<u32>) -> Self {
        let d = HttpSysParams::default();
        HttpSysParams {
            allow_restricted_chars: get("AllowRestrictedChars").unwrap_or(d.allow_restricted_chars),
            url_segment_max_length: get("UrlSegmentMaxLength").unwrap_or(d.url_segment_max_length),
            url_segment_max_count: get("UrlSegmentMaxCount").unwrap_or(d.url_segment_max_count),
        }
    }
}

/// A canonical URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonUrl {
    /// Decoded, `/`-separated, starting with `/`, dot segments removed, trailing `/` kept.
    pub path: String,
    /// The query string, without `?`, as sent.
    pub query: String,
    /// What canonicalisation decided.
    pub decisions: Vec<Decision>,
}

/// A URL HTTP.sys refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Status code.
    pub status: u16,
    /// Reason, in one line.
    pub reason: String,
    /// The rules that decided it.
    pub rules: Vec<RuleId>,
}

fn reject(status: u16, reason: &str, rules: &[RuleId]) -> Rejection {
    Rejection { status, reason: reason.into(), rules: rules.to_vec() }
}

/// Canonicalises a request target (path and optional `?query`).
pub fn canonicalize(
    raw_target: &str,
    _params: &HttpSysParams,
    canon_failure_status: u16,
) -> Result<CanonUrl, Rejection> {
    let (raw_path, query) = raw_target.split_once('?').unwrap_or((raw_target, ""));
    if !raw_path.starts_with('/') {
        return Err(reject(canon_failure_status, "the URL is not an absolute path", &["REQ-03"]));
    }
    let bytes = raw_path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => {
                    out.push(b);
                    i += 3;
                }
                None => return Err(reject(canon_failure_status, "a bad percent escape", &["REQ-03"])),
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out)
        .map_err(|_| reject(canon_failure_status, "invalid UTF-8 after decoding", &["REQ-03", "SEC-02"]))?;
    let slashed = decoded.replace('\\', "/");
    let mut segs: Vec<&str> = Vec::new();
    let parts: Vec<&str> = slashed.split('/').skip(1).collect();
    let last = parts.len().saturating_sub(1);
    let mut trailing = false;
    for (n, part) in parts.iter().enumerate() {
        match *part {
            "." => trailing = n == last,
            ".." => {
                if segs.pop().is_none() {
                    return Err(reject(canon_failure_status, "the path climbs above the root", &["REQ-03", "SEC-03"]));
                }
                trailing = n == last;
            }
            "" => trailing = n == last,
            s => {
                segs.push(s);
                trailing = false;
            }
        }
    }
    let mut path = format!("/{}", segs.join("/"));
    if trailing && !segs.is_empty() {
        path.push('/');
    }
    let decisions = vec![Decision::new(format!("canonical path {path}"), &["REQ-01", "SEC-01", "SEC-03"])];
    Ok(CanonUrl { path, query: query.to_string(), decisions })
}
