//! The ASP.NET ISAPI filter (`aspnet_filter.dll`): before IIS maps a URL it removes the session
//! ID that cookieless session state carries in the path (SES-10), so the rest of dispatch sees
//! the URL without it. Which formats it knows follows the filter's runtime (SHR-01).

use crate::runtime::Version;

/// A URL with its session segment removed, and the session ID it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// The URL without the `/(...)` segment (query kept).
    pub url: String,
    /// The session ID.
    pub id: String,
}

/// A 1.x session ID: 24 characters of ASP.NET's alphabet.
fn is_session_id(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| b.is_ascii_lowercase() || (b'0'..=b'5').contains(&b))
}

/// The session ID in a `(...)` segment: `(id)` for every filter, `(S(id))` (possibly among other
/// `X(...)` tokens) for the 2.0 and later filters.
fn session_in(segment: &str, filter: Version) -> Option<String> {
    let inner = segment.strip_prefix('(')?.strip_suffix(')')?;
    if is_session_id(inner) {
        return Some(inner.to_string());
    }
    if !filter.is_20_or_later() {
        return None;
    }
    let mut rest = inner;
    while !rest.is_empty() {
        let (name, after) = rest.split_at(rest.find('(')?);
        let close = after.find(')')?;
        if name == "S" {
            return Some(after[1..close].to_string()).filter(|id| is_session_id(id));
        }
        rest = &after[close + 1..];
    }
    None
}

/// Removes the first session segment of `url`'s path, as the filter of runtime `filter` does.
pub fn strip_session_id(url: &str, filter: Version) -> Option<Stripped> {
    let (path, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let mut offset = 0;
    for segment in path.split('/') {
        if let Some(id) = session_in(segment, filter) {
            let mut stripped = path[..offset.max(1) - 1].to_string();
            stripped.push_str(&path[offset + segment.len()..]);
            if stripped.is_empty() {
                stripped.push('/');
            }
            stripped.push_str(query);
            return Some(Stripped { url: stripped, id });
        }
        offset += segment.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "abcdefghijklmnopqrstuvwx";

    #[test]
    fn every_filter_strips_the_1x_form() {
        let s = strip_session_id(&format!("/app/({ID})/default.aspx?x=1"), Version::V1_1).unwrap();
        assert_eq!((s.url.as_str(), s.id.as_str()), ("/app/default.aspx?x=1", ID));
        let s = strip_session_id(&format!("/({ID})/logo.gif"), Version::V2_0).unwrap();
        assert_eq!(s.url, "/logo.gif");
    }

    #[test]
    fn only_20_and_later_filters_know_the_s_form() {
        let url = format!("/app/(X(1)S({ID}))/default.aspx");
        assert_eq!(strip_session_id(&url, Version::V1_1), None);
        assert_eq!(strip_session_id(&url, Version::V4_0).unwrap().url, "/app/default.aspx");
        assert_eq!(strip_session_id("/app/(short)/default.aspx", Version::V2_0), None);
    }
}
