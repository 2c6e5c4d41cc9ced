//! IIS 6 `MetaBase.xml`: reading a file as real servers write it and writing one in IIS's own
//! layout (MB-01, MB-04..11).
//!
//! Import is all or nothing: a malformed file gives an error with its line and column and no
//! metabase at all. Everything the file says is kept (unknown attributes verbatim, Custom
//! elements with their ID, Type, UserType and Attributes, secure blobs opaque), so that an
//! unchanged metabase exports to the same keys, attributes and values, and a file IIS wrote comes
//! back byte for byte.

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::schema::{self, Kind};
use super::{normalize, Key, Metabase, Prop, Value, ValueMeta};

/// The namespace prefix every metabase version shares (MB-04).
pub const NAMESPACE_PREFIX: &str = "urn:microsoft-catalog:XML_Metabase_V";

/// The namespace written for a metabase that was not read from a file (policy `mb.namespace_version`).
pub const DEFAULT_NAMESPACE: &str = "urn:microsoft-catalog:XML_Metabase_V64_0";

/// Line ending IIS writes.
const EOL: &str = "\r\n";

/// Why a file could not be imported, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for XmlError {}

/// A successfully imported file: the metabase and what the importer chose to tell.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Every key and value of the file.
    pub metabase: Metabase,
    /// Notes such as skipped `IIsInheritedProperties` elements (MB-08).
    pub notes: Vec<String>,
    /// The values of `IIsInheritedProperties` elements, by their Location: not the keys' own,
    /// kept for an import that asks for them (iiscnfg `/inherited`, CNFG-01).
    pub inherited: Metabase,
}

/// 1-based line and column of a byte offset (also used for scenario files' load errors).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

struct Parser<'a> {
    text: &'a str,
    reader: Reader<&'a [u8]>,
    mb: Metabase,
    notes: Vec<String>,
    /// What `IIsInheritedProperties` elements held (MB-08).
    inherited: Metabase,
    /// A comment read before the next key, which IIS writes back before it.
    comment: Option<String>,
}

fn utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A value's text with CRLF line ends made LF (the writer puts IIS's line ends back).
fn lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Splits a MULTISZ attribute: one entry per line, leading whitespace trimmed, no empty entries (MB-10).
fn split_multi(text: &str) -> Vec<String> {
    text.split('\n').map(|l| l.trim_end_matches('\r').trim_start().to_string()).filter(|l| !l.is_empty()).collect()
}

/// Reads a BOOL: TRUE/FALSE in any case, or a number (MB-09).
fn parse_bool(text: &str) -> Option<u32> {
    match text.trim().to_ascii_uppercase().as_str() {
        "TRUE" => Some(1),
        "FALSE" => Some(0),
        t => t.parse().ok(),
    }
}

fn is_hex(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_hexdigit())
}

/// Parses the text of a schema property by its kind (MB-09..11).
fn parse_known(kind: Kind, raw: &str) -> Result<Value, String> {
    match kind {
        Kind::Dword => raw.trim().parse().map(Value::Dword).map_err(|_| "is not an unsigned DWORD".to_string()),
        Kind::Bool => parse_bool(raw).map(Value::Dword).ok_or_else(|| "is not TRUE, FALSE or a number".into()),
        Kind::Flags(bits) => schema::parse_flags(bits, raw).map(Value::Dword),
        Kind::String | Kind::ExpandSz => Ok(Value::String(lf(raw))),
        Kind::MultiSz => Ok(Value::MultiSz(split_multi(raw))),
        Kind::Binary => Ok(Value::Binary(raw.to_string())),
    }
}

/// The schema entry a Custom element stands for: by name, else by its ID (a nameless or
/// `UnknownName_<id>` element of a property iisim knows).
fn custom_def(name: &str, id: Option<&str>) -> Option<&'static schema::PropDef> {
    schema::lookup(name).or_else(|| id.and_then(|i| i.trim().parse().ok()).and_then(schema::lookup_id))
}

/// Parses a Custom element's Value by its Type; an absent or unknown Type keeps the text (MB-07).
/// IIS writes a known flag or BOOL property as a Custom DWORD with its names (`AuthBasic | AuthNTLM`)
/// when the key's class lacks it, so such names are read by the schema.
fn parse_custom(name: &str, id: Option<&str>, type_name: Option<&str>, raw: &str) -> Result<Value, String> {
    match type_name.map(str::to_ascii_uppercase).as_deref() {
        Some("DWORD") => match custom_def(name, id).map(|d| d.kind) {
            Some(kind @ (Kind::Flags(_) | Kind::Bool)) => parse_known(kind, raw),
            _ => raw.trim().parse().map(Value::Dword).map_err(|_| "is not an unsigned DWORD".into()),
        },
        Some("MULTISZ") => Ok(Value::MultiSz(split_multi(raw))),
        Some("BINARY") if is_hex(raw.trim()) => Ok(Value::Binary(raw.to_string())),
        Some("BINARY") => Err("is not hexadecimal BINARY data".into()),
        _ => Ok(Value::String(lf(raw))),
    }
}

impl<'a> Parser<'a> {
    fn err(&self, offset: usize, message: impl Into<String>) -> XmlError {
        let (line, column) = line_col(self.text, offset);
        XmlError { line, column, message: message.into() }
    }

    fn pos(&self) -> usize {
        self.reader.buffer_position() as usize
    }

    fn next(&mut self) -> Result<(usize, Event<'a>), XmlError> {
        let at = self.pos();
        match self.reader.read_event() {
            Ok(ev) => Ok((at, ev)),
            Err(e) => {
                let at = self.reader.error_position() as usize;
                let rest = self.text.get(at..).unwrap_or_default();
                let truncated = if !rest.contains('>') { ": the file ends early, it is truncated" } else { "" };
                Err(self.err(at, format!("malformed XML: {e}{truncated}")))
            }
        }
    }

    /// The offset of attribute `name` inside the start tag at `start`, for error positions.
    fn attr_pos(&self, start: usize, name: &str) -> usize {
        let tag = &self.text[start.min(self.text.len())..];
        let end = tag.find('>').unwrap_or(tag.len());
        let mut from = 0;
        while let Some(i) = tag[from..end].find(name) {
            let at = from + i;
            let before = tag[..at].chars().last();
            let after = tag[at + name.len()..].trim_start();
            if before.is_some_and(char::is_whitespace) && after.starts_with('=') {
                return start + at;
            }
            from = at + name.len();
        }
        start
    }

    fn attributes(&self, e: &BytesStart, start: usize) -> Result<Vec<(String, String)>, XmlError> {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| self.err(start, format!("malformed attribute: {err}")))?;
            let name = utf8(a.key.as_ref());
            let value = a
                .unescape_value()
                .map_err(|err| self.err(self.attr_pos(start, &name), format!("malformed value of {name}: {err}")))?;
            out.push((name, value.into_owned()));
        }
        Ok(out)
    }

    /// Skips whitespace and comments until a start, end or empty element.
    fn skip_to_element(&mut self, closing: &str) -> Result<(usize, Event<'a>), XmlError> {
        loop {
            let (at, ev) = self.next()?;
            match ev {
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Text(_) | Event::CData(_) => {
                    return Err(self.err(at, format!("unexpected text inside {closing}")))
                }
                Event::Comment(c) => self.comment = Some(utf8(&c)),
                Event::PI(_) => {}
                Event::Eof => {
                    return Err(self.err(at, format!("the file ends inside {closing}: it is truncated")));
                }
                ev => return Ok((at, ev)),
            }
        }
    }

    fn run(mut self) -> Result<Imported, XmlError> {
        // Prolog: declaration, comments, whitespace, then <configuration>.
        let (at, ev) = loop {
            let (at, ev) = self.next()?;
            match ev {
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Eof => {
                    return Err(self.err(at, "the file holds no <configuration> element: it is empty or truncated"))
                }
                ev => break (at, ev),
            }
        };
        let Event::Start(config) = ev else {
            return Err(self.err(at, "expected <configuration>, the root element of MetaBase.xml"));
        };
        if config.name().as_ref() != b"configuration" {
            let name = utf8(config.name().as_ref());
            return Err(self.err(at, format!("expected <configuration>, found <{name}>")));
        }
        for (name, value) in self.attributes(&config, at)? {
            if name == "xmlns" {
                if !value.starts_with(NAMESPACE_PREFIX) {
                    let at = self.attr_pos(at, "xmlns");
                    return Err(self
                        .err(at, format!("namespace `{value}` is not a metabase namespace ({NAMESPACE_PREFIX}...)")));
                }
                self.mb.set_namespace(Some(value));
            }
        }
        let mut saw_properties = false;
        loop {
            let (at, ev) = self.skip_to_element("<configuration>")?;
            match ev {
                Event::End(_) => break,
                Event::Start(e) if e.name().as_ref() == b"MBProperty" => {
                    saw_properties = true;
                    // Only a comment inside MBProperty belongs to the key after it.
                    self.comment = None;
                    self.properties()?;
                }
                Event::Empty(e) if e.name().as_ref() == b"MBProperty" => saw_properties = true,
                Event::Start(e) | Event::Empty(e) => {
                    let name = utf8(e.name().as_ref());
                    return Err(self.err(at, format!("unexpected element <{name}> in <configuration>")));
                }
                _ => return Err(self.err(at, "unexpected content in <configuration>")),
            }
        }
        if !saw_properties {
            return Err(self.err(at, "<configuration> holds no <MBProperty> element"));
        }
        loop {
            let (at, ev) = self.next()?;
            match ev {
                Event::Eof => break,
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(self.err(at, "content after </configuration>")),
            }
        }
        Ok(Imported { metabase: self.mb, notes: self.notes, inherited: self.inherited })
    }

    /// The keys inside `<MBProperty>`, each an element named after its KeyType (MB-05).
    fn properties(&mut self) -> Result<(), XmlError> {
        loop {
            let (at, ev) = self.skip_to_element("<MBProperty>")?;
            match ev {
                Event::End(_) => return Ok(()),
                Event::Start(e) if e.name().as_ref() == b"IIsInheritedProperties" => {
                    self.skip_inherited(at, &e, true)?;
                }
                Event::Empty(e) if e.name().as_ref() == b"IIsInheritedProperties" => {
                    self.skip_inherited(at, &e, false)?;
                }
                Event::Start(e) => {
                    let path = self.key(at, &e)?;
                    self.customs(&path, &utf8(e.name().as_ref()))?;
                }
                Event::Empty(e) => {
                    self.key(at, &e)?;
                }
                _ => return Err(self.err(at, "unexpected content in <MBProperty>")),
            }
        }
    }

    /// Sets an `IIsInheritedProperties` element aside, noting it: its values are not the key's
    /// own (MB-08), but a node import with `/inherited` applies them.
    fn skip_inherited(&mut self, at: usize, e: &BytesStart<'a>, has_body: bool) -> Result<(), XmlError> {
        let loc = self.attributes(e, at)?.into_iter().find(|(n, _)| n == "Location").map(|(_, v)| v);
        let comment = self.comment.take();
        std::mem::swap(&mut self.mb, &mut self.inherited);
        let read =
            self.key(at, e)
                .and_then(|path| if has_body { self.customs(&path, "IIsInheritedProperties") } else { Ok(()) });
        std::mem::swap(&mut self.mb, &mut self.inherited);
        self.comment = comment;
        read?;
        let (line, _) = line_col(self.text, at);
        self.notes.push(format!(
            "line {line}: IIsInheritedProperties{} skipped: inherited values are not the key's own",
            loc.map(|l| format!(" of {l}")).unwrap_or_default()
        ));
        Ok(())
    }

    /// One key element: its Location and its attributes (MB-05, MB-09..11).
    fn key(&mut self, at: usize, e: &BytesStart<'a>) -> Result<String, XmlError> {
        let key_type = utf8(e.name().as_ref());
        let attrs = self.attributes(e, at)?;
        let Some(location) = attrs.iter().find(|(n, _)| n == "Location").map(|(_, v)| v.clone()) else {
            return Err(self.err(at, format!("<{key_type}> has no Location attribute")));
        };
        let lc = location.trim().to_ascii_lowercase().replace('\\', "/");
        let path = match location.trim() {
            "." => ".".to_string(),
            "/" => "/".to_string(),
            _ if lc == "/lm" || lc.starts_with("/lm/") => normalize(&location),
            _ => {
                let at = self.attr_pos(at, "Location");
                return Err(self.err(at, format!("key {location} is outside /LM")));
            }
        };
        let comment = self.comment.take();
        if self.mb.insert_key_with_comment(&path, &key_type, comment).is_err() {
            let at = self.attr_pos(at, "Location");
            return Err(self.err(at, format!("key {location} appears twice")));
        }
        let mut props = Vec::with_capacity(attrs.len());
        for (name, raw) in attrs.into_iter().filter(|(n, _)| n != "Location") {
            let def = schema::lookup(&name);
            let (value, meta) = match def {
                Some(def) => {
                    let v = parse_known(def.kind, &raw).map_err(|why| {
                        let at = self.attr_pos(at, &name);
                        self.err(at, format!("{name}=\"{raw}\" on {location} {why}"))
                    })?;
                    (v, ValueMeta::default())
                }
                // Unknown to iisim's schema: kept as the file wrote it (MB-07).
                None => (Value::String(lf(&raw)), ValueMeta { verbatim: true, ..ValueMeta::default() }),
            };
            let name = def.map(|d| d.name.to_string()).unwrap_or(name);
            props.push((name.to_ascii_lowercase(), Prop { name, value, meta }));
        }
        // quick-xml refuses duplicate attributes, so every slot is new.
        self.mb.store_all(&path, props).expect("the key was just inserted");
        Ok(path)
    }

    /// The Custom children of a key, until its end tag (MB-07).
    fn customs(&mut self, path: &str, key_type: &str) -> Result<(), XmlError> {
        let closing = format!("<{key_type}>");
        loop {
            let (at, ev) = self.skip_to_element(&closing)?;
            match ev {
                Event::End(_) => return Ok(()),
                Event::Empty(e) if e.name().as_ref() == b"Custom" => self.custom(path, at, &e)?,
                Event::Start(e) if e.name().as_ref() == b"Custom" => {
                    self.custom(path, at, &e)?;
                    match self.skip_to_element("<Custom>")? {
                        (_, Event::End(_)) => {}
                        (at, _) => return Err(self.err(at, "<Custom> holds no elements")),
                    }
                }
                Event::Start(e) if e.name().as_ref() == b"IIsInheritedProperties" => {
                    self.skip_inherited(at, &e, true)?
                }
                Event::Empty(e) if e.name().as_ref() == b"IIsInheritedProperties" => {
                    self.skip_inherited(at, &e, false)?
                }
                Event::Start(e) | Event::Empty(e) => {
                    let name = utf8(e.name().as_ref());
                    return Err(self.err(at, format!("unexpected element <{name}> inside {closing}: keys are flat")));
                }
                _ => return Err(self.err(at, format!("unexpected content inside {closing}"))),
            }
        }
    }

    fn custom(&mut self, path: &str, at: usize, e: &BytesStart<'a>) -> Result<(), XmlError> {
        let mut meta = ValueMeta { custom: true, ..ValueMeta::default() };
        let mut name = String::new();
        let mut raw = None;
        for (n, v) in self.attributes(e, at)? {
            match n.as_str() {
                "Name" => name = v,
                "ID" => meta.id = Some(v),
                "Value" => raw = Some(v),
                "Type" => meta.type_name = Some(v),
                "UserType" => meta.user_type = Some(v),
                "Attributes" => meta.attributes = Some(v),
                _ => meta.extra.push((n, v)),
            }
        }
        let raw = raw.unwrap_or_default();
        let value = parse_custom(&name, meta.id.as_deref(), meta.type_name.as_deref(), &raw).map_err(|why| {
            let at = self.attr_pos(at, "Value");
            let shown =
                if name.is_empty() { format!("ID {}", meta.id.as_deref().unwrap_or("?")) } else { name.clone() };
            self.err(at, format!("Custom {shown} on {path}: Value=\"{raw}\" {why}"))
        })?;
        let base = if name.is_empty() {
            format!("#{}", meta.id.clone().unwrap_or_default())
        } else {
            name.to_ascii_lowercase()
        };
        let mut slot = base.clone();
        let mut n = 1;
        while !self
            .mb
            .store(path, &slot, Prop { name: name.clone(), value: value.clone(), meta: meta.clone() })
            .unwrap_or(true)
        {
            n += 1;
            slot = format!("{base}#{n}");
        }
        Ok(())
    }
}

/// Reads a MetaBase.xml text (a BOM, CRLF or LF line ends, any metabase namespace or none).
pub fn import(text: &str) -> Result<Imported, XmlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let reader = Reader::from_str(text);
    Parser { text, reader, mb: Metabase::new(), notes: Vec::new(), inherited: Metabase::new(), comment: None }.run()
}

/// Escapes an attribute value as IIS writes it.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str(EOL),
            // Characters XML 1.0 cannot hold raw are written as character references.
            c if (c as u32) < 0x20 && c != '\t' && c != '\r' => out.push_str(&format!("&#x{:X};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A value as its attribute text (MB-09..11).
fn value_text(prop: &Prop) -> String {
    // A Custom DWORD of a known flag or BOOL property is written with names, as IIS writes it.
    let kind = if prop.meta.custom {
        custom_def(&prop.name, prop.meta.id.as_deref()).map(|d| d.kind)
    } else {
        schema::lookup(&prop.name).map(|d| d.kind)
    };
    match (&prop.value, kind) {
        (Value::Dword(0), Some(Kind::Bool)) => "FALSE".into(),
        (Value::Dword(1), Some(Kind::Bool)) => "TRUE".into(),
        // A value with bits the flag table lacks is written as one number, as IIS does.
        (Value::Dword(n), Some(Kind::Flags(bits))) if bits.iter().fold(*n, |rest, (_, b)| rest & !b) == 0 => {
            schema::format_flags(bits, *n)
        }
        (Value::Dword(n), _) => n.to_string(),
        (Value::String(s), _) => s.clone(),
        (Value::MultiSz(items), _) => items.join("\n\t\t\t"),
        (Value::Binary(hex), _) => hex.clone(),
    }
}

/// Whether a property is written as an attribute: one the schema knows, or one the file gave as
/// an attribute. Anything else iisim was told to set is a Custom element, as IIS writes
/// properties missing from its schema (MB-07).
fn as_attribute(prop: &Prop) -> bool {
    !prop.meta.custom && (prop.meta.verbatim || schema::lookup(&prop.name).is_some())
}

/// The Type a Custom element is written with: the file's, or the value's for one iisim set.
fn custom_type(prop: &Prop) -> Option<String> {
    if prop.meta.custom {
        return prop.meta.type_name.clone();
    }
    let t = match prop.value {
        Value::Dword(_) => "DWORD",
        Value::String(_) => "STRING",
        Value::MultiSz(_) => "MULTISZ",
        Value::Binary(_) => "BINARY",
    };
    Some(t.to_string())
}

fn write_key(out: &mut String, key: &Key) {
    let kt = key.key_type();
    if let Some(c) = key.comment() {
        out.push_str(&format!("<!--{c}-->{EOL}"));
    }
    out.push_str(&format!("<{kt}\tLocation =\"{}\"{EOL}", escape(key.path())));
    let mut attrs: Vec<&Prop> = key.stored().filter(|p| as_attribute(p)).collect();
    // Ordinal (case-sensitive ASCII) order (MB-06).
    attrs.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    for p in attrs {
        out.push_str(&format!("\t\t{}=\"{}\"{EOL}", p.name, escape(&value_text(p))));
    }
    out.push_str(&format!("\t>{EOL}"));
    let mut customs: Vec<&Prop> = key.stored().filter(|p| !as_attribute(p)).collect();
    // IIS sorts Custom elements by name too, after the attributes.
    customs.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    for p in customs {
        out.push_str(&format!("\t<Custom{EOL}"));
        let mut field = |name: &str, value: &str| out.push_str(&format!("\t\t{name}=\"{}\"{EOL}", escape(value)));
        field("Name", &p.name);
        if let Some(id) = &p.meta.id {
            field("ID", id);
        }
        field("Value", &value_text(p));
        if let Some(t) = custom_type(p) {
            field("Type", &t);
        }
        if let Some(u) = &p.meta.user_type {
            field("UserType", u);
        }
        if let Some(a) = &p.meta.attributes {
            field("Attributes", a);
        }
        for (n, v) in &p.meta.extra {
            field(n, v);
        }
        out.push_str(&format!("\t/>{EOL}"));
    }
    out.push_str(&format!("</{kt}>{EOL}"));
}

/// Writes the metabase in IIS's own layout: the skeleton, then every key in path order (MB-04..07).
pub fn export(mb: &Metabase) -> String {
    export_as(mb, DEFAULT_NAMESPACE)
}

/// Like [`export`], with the namespace to write when the metabase was not read from a file.
pub fn export_as(mb: &Metabase, fallback_namespace: &str) -> String {
    let ns = mb.namespace().unwrap_or(fallback_namespace);
    let mut out =
        format!("<?xml version =\"1.0\"?>{EOL}<configuration xmlns=\"{}\">{EOL}<MBProperty>{EOL}", escape(ns));
    let empty =
        |kt: &str, loc: &str| Key { path: loc.into(), key_type: kt.into(), props: Default::default(), comment: None };
    write_key(&mut out, mb.global().unwrap_or(&empty("IIS_Global", ".")));
    if mb.key("/").is_none() {
        write_key(&mut out, &empty("IIS_ROOT", "/"));
    }
    for key in mb.keys() {
        write_key(&mut out, key);
    }
    out.push_str(&format!("</MBProperty>{EOL}</configuration>{EOL}"));
    out
}

/// What a node-level export or import covers: iiscnfg's `/children`, `/inherited` and `/merge` (CNFG-01).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeFlags {
    /// The keys below the node too (without it, the node alone).
    pub children: bool,
    /// Values the node inherits: exported as an `IIsInheritedProperties` element (MB-08), and
    /// made the node's own on import.
    pub inherited: bool,
    /// Import over the destination's values instead of replacing them.
    pub merge: bool,
}

/// The `SessionKey` of an export made with `password` (`/d`, empty by default). Modeled: a digest
/// that lets an import tell a wrong password; IIS encrypts the session key with the password.
pub fn session_key(password: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in password.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// Writes the key at `path` (and, with `children`, the keys below it) as an export file: the
/// skeleton, an `IIS_Global` holding the session key, then the keys in path order; `None` when
/// there is no key at `path` (CNFG-01, MB-08).
pub fn export_node(mb: &Metabase, path: &str, flags: NodeFlags, password: &str, namespace: &str) -> Option<String> {
    let base = mb.key(path)?;
    let ns = mb.namespace().unwrap_or(namespace);
    let mut out =
        format!("<?xml version =\"1.0\"?>{EOL}<configuration xmlns=\"{}\">{EOL}<MBProperty>{EOL}", escape(ns));
    let mut global = Key { path: ".".into(), key_type: "IIS_Global".into(), props: Default::default(), comment: None };
    let sk =
        Prop { name: "SessionKey".into(), value: Value::Binary(session_key(password)), meta: ValueMeta::default() };
    global.props.insert("sessionkey".into(), sk);
    write_key(&mut out, &global);
    let keys: Vec<&Key> = if flags.children { mb.subtree(path).collect() } else { vec![base] };
    for key in keys {
        write_key(&mut out, key);
        if flags.inherited && std::ptr::eq(key, base) {
            let mut inh = Key {
                path: base.path.clone(),
                key_type: "IIsInheritedProperties".into(),
                props: Default::default(),
                comment: None,
            };
            for (slot, prop) in inherited_props(mb, &base.path) {
                inh.props.insert(slot, prop);
            }
            write_key(&mut out, &inh);
        }
    }
    out.push_str(&format!("</MBProperty>{EOL}</configuration>{EOL}"));
    Some(out)
}

/// The inheritable values `path` does not set but inherits from a key above it, as that key stores them.
fn inherited_props(mb: &Metabase, path: &str) -> Vec<(String, Prop)> {
    let mut out = Vec::new();
    for def in schema::SCHEMA.iter().filter(|d| d.inherit) {
        let Some((_, super::Origin::Inherited(from))) = mb.effective(path, def.name) else { continue };
        let slot = def.name.to_ascii_lowercase();
        if let Some(p) = mb.key(&from).and_then(|k| k.props.get(&slot)) {
            out.push((slot, p.clone()));
        }
    }
    out
}

/// Why a node could not be imported (CNFG-02).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeError {
    /// The `/d` password does not match the file's session key.
    Password,
    /// The file holds no key at the source path.
    NoSource(String),
    /// The destination exists with another KeyType than the source.
    KeyType {
        /// The file's KeyType at the source path.
        source: String,
        /// The destination's KeyType.
        dest: String,
    },
}

/// Imports the node at `sp` of an export file (with `children`, its subtree) into `target` at
/// `dp`: without `merge` each imported key's values replace the destination's, with it they are
/// set over them; `inherited` makes the file's inherited values the node's own (CNFG-01).
/// Missing parents of `dp` are created as IIsConfigObject keys.
pub fn import_node(
    target: &Metabase,
    file: &Imported,
    sp: &str,
    dp: &str,
    flags: NodeFlags,
    password: &str,
) -> Result<Metabase, NodeError> {
    let stored = match file.metabase.global().and_then(|g| g.get("SessionKey")) {
        Some(Value::Binary(k) | Value::String(k)) => Some(k.as_str()),
        _ => None,
    };
    if stored.is_some_and(|k| !k.eq_ignore_ascii_case(&session_key(password))) {
        return Err(NodeError::Password);
    }
    let sp = normalize(sp);
    let dp = normalize(dp);
    let Some(src) = file.metabase.key(&sp) else { return Err(NodeError::NoSource(sp)) };
    if let Some(d) = target.key(&dp) {
        if !d.key_type().eq_ignore_ascii_case(src.key_type()) {
            return Err(NodeError::KeyType { source: src.key_type().into(), dest: d.key_type().into() });
        }
    }
    let mut mb = target.clone();
    let keys: Vec<&Key> = if flags.children { file.metabase.subtree(&sp).collect() } else { vec![src] };
    for key in keys {
        let rest = &key.path[sp.len().min(key.path.len())..];
        let to = normalize(&format!("{dp}{rest}"));
        let mut props: Vec<(String, Prop)> = key.props.iter().map(|(s, p)| (s.to_string(), p.clone())).collect();
        // An application's AppRoot names its own key: it moves with the key (modeled).
        for (slot, p) in props.iter_mut() {
            if let (true, Value::String(root)) = (slot == "approot", &mut p.value) {
                let lower = root.to_ascii_lowercase();
                let from = sp.to_ascii_lowercase();
                if lower == from || lower.starts_with(&format!("{from}/")) {
                    *root = format!("{dp}{}", &root[sp.len()..]);
                }
            }
        }
        if flags.inherited && std::ptr::eq(key, src) {
            if let Some(inh) = file.inherited.key(&sp) {
                for (slot, p) in inh.props.iter() {
                    if !key.props.contains_key(slot) {
                        props.push((slot.to_string(), p.clone()));
                    }
                }
            }
        }
        match mb.key(&to).map(|k| k.props.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>()) {
            Some(slots) => {
                if !flags.merge {
                    for slot in slots {
                        mb.remove(&to, &slot);
                    }
                }
                mb.set_key_type(&to, &key.key_type).expect("the key exists");
            }
            None => {
                if let Some(parent) = super::parent(&to).filter(|p| p != "/" && !mb.exists(p)) {
                    mb.create_key(&parent, "IIsConfigObject").expect("the parent is missing");
                }
                mb.insert_key(&to, &key.key_type).expect("the key is missing");
            }
        }
        mb.store_all(&to, props).expect("the key exists");
    }
    Ok(mb)
}
