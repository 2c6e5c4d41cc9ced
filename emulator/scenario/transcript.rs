//! Rendering effects as transcript lines.

use crate::machine::journal::{Change, Effect};
use crate::metabase::scriptmap::{parse_list, MapLine};
use crate::metabase::{schema, Value};
use crate::registration::maps;
use crate::rules;

/// Describes a ScriptMaps value: entry count and the ASP.NET version it names.
fn describe_maps(v: &Option<Value>) -> String {
    let Some(lines) = v.as_ref().and_then(Value::as_multi).map(parse_list) else {
        return "unset".into();
    };
    let aspnet = match maps::deciding_entry(&lines) {
        Some(e) => match maps::dll_version(&e.processor) {
            Some(ver) => format!("ASP.NET {ver}"),
            None => format!("ASP.NET at {}", e.processor),
        },
        None => "no ASP.NET".into(),
    };
    format!("{aspnet} ({} entries)", lines.len())
}

/// ASP.NET extensions in a ScriptMaps value, lower-cased.
fn aspnet_exts(v: &Option<Value>) -> Vec<String> {
    let lines = v.as_ref().and_then(Value::as_multi).map(parse_list).unwrap_or_default();
    lines
        .iter()
        .filter_map(MapLine::entry)
        .filter(|e| e.is_aspnet())
        .map(|e| e.extension.to_ascii_lowercase())
        .collect()
}

/// The DLL a ScriptMaps value's deciding ASP.NET entry names.
fn aspnet_dll(v: &Option<Value>) -> Option<String> {
    let lines = v.as_ref().and_then(Value::as_multi).map(parse_list)?;
    maps::deciding_entry(&lines).map(|e| e.processor.clone())
}

fn list_diff(old: &Option<Value>, new: &Option<Value>) -> String {
    let empty: &[String] = &[];
    let o = old.as_ref().and_then(Value::as_multi).unwrap_or(empty);
    let n = new.as_ref().and_then(Value::as_multi).unwrap_or(empty);
    let mut parts: Vec<String> = Vec::new();
    for item in n.iter().filter(|i| !o.contains(i)) {
        parts.push(format!("+\"{item}\""));
    }
    for item in o.iter().filter(|i| !n.contains(i)) {
        parts.push(format!("-\"{item}\""));
    }
    if parts.is_empty() {
        "reordered".into()
    } else {
        parts.join(" ")
    }
}

fn property_line(path: &str, prop: &str, old: &Option<Value>, new: &Option<Value>) -> String {
    let def = schema::lookup(prop);
    if prop.eq_ignore_ascii_case("ScriptMaps") {
        let mut line = format!("{path} ScriptMaps: {} -> {}", describe_maps(old), describe_maps(new));
        let (o, n) = (aspnet_exts(old), aspnet_exts(new));
        let added: Vec<&String> = n.iter().filter(|e| !o.contains(e)).collect();
        let removed: Vec<&String> = o.iter().filter(|e| !n.contains(e)).collect();
        if !o.is_empty() && !added.is_empty() {
            line.push_str(&format!("; adds {}", added.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")));
        }
        if !removed.is_empty() && !n.is_empty() {
            line.push_str(&format!("; drops {}", removed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")));
        }
        let (od, nd) = (aspnet_dll(old), aspnet_dll(new));
        // Same runtime, other folder (Framework vs Framework64, or a %windir% form): say which DLL.
        let same_version = od.as_deref().and_then(maps::dll_version) == nd.as_deref().and_then(maps::dll_version);
        if od.is_some() && nd.is_some() && od != nd && same_version {
            line.push_str(&format!("; ISAPI {} -> {}", od.unwrap_or_default(), nd.unwrap_or_default()));
        }
        return line;
    }
    let is_multi = matches!(old, Some(Value::MultiSz(_))) || matches!(new, Some(Value::MultiSz(_)));
    match (old, new) {
        (_, None) => {
            format!("{path} {prop} removed (was {})", old.as_ref().map(|v| v.display(def)).unwrap_or_default())
        }
        (Some(_), Some(_)) if is_multi => format!("{path} {prop}: {}", list_diff(old, new)),
        (None, Some(n)) => format!("{path} {prop} = {}", n.display(def)),
        (Some(o), Some(n)) => format!("{path} {prop} = {} (was {})", n.display(def), o.display(def)),
    }
}

/// One transcript line for an effect, ending with the rules that decided it.
pub fn render(effect: &Effect) -> String {
    let text = match &effect.change {
        Change::KeyCreated { path, key_type } => format!("key {path} created ({key_type})"),
        Change::KeyDeleted { path } => format!("key {path} deleted"),
        Change::Property { path, prop, old, new } => property_line(path, prop, old, new),
        Change::Registry { key, name, old, new } => match (old, new) {
            (_, None) => format!("registry {key}\\{name} removed"),
            (None, Some(n)) => format!("registry {key}\\{name} = {n}"),
            (Some(o), Some(n)) => format!("registry {key}\\{name} = {n} (was {o})"),
        },
        Change::RegistryKey { key, created } => {
            format!("registry key {key} {}", if *created { "created" } else { "deleted" })
        }
        Change::Files { dir, names, created: true } if names.is_empty() => format!("folder {dir} created"),
        Change::Files { dir, names, created: true } => format!("files in {dir}: {}", names.join(", ")),
        Change::Files { dir, created: false, .. } => format!("deleted {dir}"),
        Change::Event(e) => format!("event {} {} {} [{}]: {}", e.log, e.level.name(), e.id, e.source, e.message),
        Change::Resource { name, old, new } => {
            format!("resource {name}: {} -> {}", old.as_deref().unwrap_or("none"), new.as_deref().unwrap_or("none"))
        }
        Change::Service { name, action } => format!("service {name}: {action}"),
        Change::Runtime { text } => text.clone(),
        Change::Process { text } => format!("process: {text}"),
        Change::Decision { text } => format!("decided: {text}"),
        Change::Note { text } => format!("note: {text}"),
    };
    let cite = rules::cite(&effect.rules);
    if cite.is_empty() {
        text
    } else {
        format!("{text} {cite}")
    }
}

/// Text safe for a terminal and for XML 1.0: control characters other than tab and newline
/// (an ESC in a URL would reach the terminal) and U+FFFE/U+FFFF become `\u{..}` escapes.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && c != '\t' && c != '\n') || c == '\u{FFFE}' || c == '\u{FFFF}';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}
