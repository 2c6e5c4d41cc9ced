//! Load errors a user can act on: where in the file, which key, and the message in the words of
//! the file format (tables, arrays, integers), never in the words of the Rust types behind it.

pub(crate) use crate::metabase::xml::line_col;

/// The line holding `offset` and the offset where it starts.
fn line_at(text: &str, offset: usize) -> (&str, usize) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = &text[start..];
    (&line[..line.find('\n').unwrap_or(line.len())], start)
}

/// Whether the line holding `offset` is a table header (`[machine]`, `[[step]]`).
pub fn at_header(text: &str, offset: usize) -> bool {
    line_at(text, offset).0.trim_start().starts_with('[')
}

/// The key whose value holds `offset`: `request.repeat` for a value inside an inline table,
/// `machine.app` for an error at a table header.
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let (line, start) = line_at(text, offset);
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        let name = trimmed.trim_start_matches('[');
        let name = &name[..name.find(']')?];
        return Some(name.trim().to_string());
    }
    let within = (offset - start).min(line.len());
    let first = key_before(&line[..line.find('=')? + 1])?;
    let last = key_before(&line[..within]).filter(|_| line[..within].matches('=').count() > 1);
    match last {
        Some(inner) if inner != first => Some(format!("{first}.{inner}")),
        _ => Some(first),
    }
}

/// The bare or quoted key right before the last `=` of `prefix`.
fn key_before(prefix: &str) -> Option<String> {
    let eq = prefix.rfind('=')?;
    let before = prefix[..eq].trim_end();
    let key: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let key = key.trim_matches('"').to_string();
    (!key.is_empty()).then_some(key)
}

/// Rewrites a deserializer's message in the file format's words, on one line.
pub fn plain(message: &str) -> String {
    let one_line: Vec<&str> = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut m = one_line.join(": ");
    // The words of serde's data model and of Rust's types, as a scenario author reads them.
    const WORDS: &[(&str, &str)] = &[
        ("invalid type: map", "invalid type: table"),
        ("invalid type: sequence", "invalid type: array"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected i32", "expected an integer"),
        ("expected i64", "expected an integer"),
        ("expected u8", "expected an integer from 0 to 255"),
        ("expected u16", "expected an integer from 0 to 65535"),
        ("expected u32", "expected an integer from 0 to 4294967295"),
        ("expected u64", "expected a non-negative integer"),
        ("floating point", "float"),
        ("wanted string or table", "expected a string"),
    ];
    for (from, to) in WORDS {
        m = m.replace(from, to);
    }
    // `expected struct RequestSpec`, `expected enum IisArg`: the shape, not the type's name.
    for (kind, shape) in [("struct ", "a table"), ("enum ", "one of its names (a string)")] {
        while let Some(i) = m.find(&format!("expected {kind}")) {
            let name_start = i + "expected ".len() + kind.len();
            let name_len =
                m[name_start..].find(|c: char| !c.is_alphanumeric() && c != '_').unwrap_or(m.len() - name_start);
            m.replace_range(i..name_start + name_len, &format!("expected {shape}"));
        }
    }
    m
}

/// Where a file that is not UTF-8 goes wrong, as a message and a 1-based line and column.
pub fn not_utf8(bytes: &[u8]) -> (String, usize, usize) {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return ("the file is UTF-16; save it as UTF-8".into(), 1, 1);
    }
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    // Every byte before `valid` is UTF-8, so the prefix converts without loss.
    let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
    let (line, col) = line_col(prefix, prefix.len());
    (format!("invalid UTF-8 (byte 0x{:02X}); scenario files are UTF-8", bytes[valid.min(bytes.len() - 1)]), line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_inside_inline_tables_are_named_with_their_table() {
        let text = "request = { url = \"/\", repeat = -1 }\n";
        assert_eq!(key_at(text, text.find("-1").unwrap()).as_deref(), Some("request.repeat"));
        assert_eq!(key_at(text, text.find("\"/\"").unwrap()).as_deref(), Some("request.url"));
        assert_eq!(key_at("[machine.app]\n", 0).as_deref(), Some("machine.app"));
        assert_eq!(key_at("exit = 1\n", 7).as_deref(), Some("exit"));
    }

    #[test]
    fn rust_type_names_become_file_format_words() {
        assert_eq!(
            plain("invalid type: string \"x\", expected struct RequestSpec"),
            "invalid type: string \"x\", expected a table"
        );
        assert_eq!(
            plain("invalid value: integer `-1`, expected u32"),
            "invalid value: integer `-1`, expected an integer from 0 to 4294967295"
        );
        assert_eq!(plain("invalid array\nexpected `]`"), "invalid array: expected `]`");
    }
}
