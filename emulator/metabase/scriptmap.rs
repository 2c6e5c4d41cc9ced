//! ScriptMaps entries: parsing and printing in the metabase's text form (SM-01..05).

use std::fmt;

/// Script-map flag: the processor is a script engine (SM-03).
pub const FLAG_SCRIPT: u32 = 1;
/// Script-map flag: verify that the file exists (SM-03).
pub const FLAG_VERIFY_FILE: u32 = 4;

/// One parsed ScriptMaps entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    /// Extension with its dot (`.aspx`), or `*` for a wildcard (SM-02, SM-05).
    pub extension: String,
    /// Full path of the ISAPI DLL or CGI EXE (SM-01).
    pub processor: String,
    /// Flag bits, unknown bits kept (SM-03).
    pub flags: u32,
    /// Included verbs; empty means all (SM-04).
    pub verbs: Vec<String>,
}

/// A ScriptMaps line: a parsed entry, or text kept verbatim because it could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapLine {
    /// A well-formed entry.
    Entry(MapEntry),
    /// A malformed line, written back unchanged.
    Unparsed(String),
}

impl MapEntry {
    /// Parses `Extension,ScriptProcessor,Flags[,Verb,...]`, trimming every field (SM-01).
    pub fn parse(text: &str) -> Result<MapEntry, String> {
        let mut fields = text.split(',').map(str::trim);
        let extension = fields.next().unwrap_or_default().to_string();
        if extension.is_empty() {
            return Err("empty extension".into());
        }
        let processor = fields.next().ok_or("missing script processor")?.to_string();
        if processor.is_empty() {
            return Err("empty script processor".into());
        }
        let flags_text = fields.next().ok_or("missing flags")?;
        let flags = flags_text.parse::<u32>().map_err(|_| format!("flags `{flags_text}` is not a number"))?;
        let verbs = fields.filter(|v| !v.is_empty()).map(str::to_string).collect();
        Ok(MapEntry { extension, processor, flags, verbs })
    }

    /// Whether this is a wildcard (`*`) entry (SM-05).
    pub fn is_wildcard(&self) -> bool {
        self.extension == "*"
    }

    /// Whether the entry accepts `verb` (SM-04, SM-05: empty list or `All` means every verb).
    pub fn allows_verb(&self, verb: &str) -> bool {
        self.verbs.is_empty()
            || self.verbs.iter().any(|v| v.eq_ignore_ascii_case(verb) || v.eq_ignore_ascii_case("all"))
    }

    /// The processor's file name, lower-cased (`aspnet_isapi.dll`).
    pub fn processor_file(&self) -> String {
        self.processor.rsplit(['\\', '/']).next().unwrap_or_default().to_ascii_lowercase()
    }

    /// Whether the processor is an ASP.NET ISAPI of any version.
    pub fn is_aspnet(&self) -> bool {
        self.processor_file() == "aspnet_isapi.dll"
    }
}

impl fmt::Display for MapEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{}", self.extension, self.processor, self.flags)?;
        for v in &self.verbs {
            write!(f, ",{v}")?;
        }
        Ok(())
    }
}

impl MapLine {
    /// Parses one MULTISZ line, keeping a malformed one verbatim.
    pub fn parse(text: &str) -> MapLine {
        match MapEntry::parse(text) {
            Ok(e) => MapLine::Entry(e),
            Err(_) => MapLine::Unparsed(text.to_string()),
        }
    }

    /// The entry, when the line parsed.
    pub fn entry(&self) -> Option<&MapEntry> {
        match self {
            MapLine::Entry(e) => Some(e),
            MapLine::Unparsed(_) => None,
        }
    }
}

impl fmt::Display for MapLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapLine::Entry(e) => e.fmt(f),
            MapLine::Unparsed(s) => f.write_str(s),
        }
    }
}

/// Parses a ScriptMaps MULTISZ into lines; blank lines are dropped (MB-10).
pub fn parse_list(lines: &[String]) -> Vec<MapLine> {
    lines.iter().filter(|l| !l.trim().is_empty()).map(|l| MapLine::parse(l)).collect()
}

/// Writes lines back into MULTISZ text form.
pub fn print_list(lines: &[MapLine]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        // (input, extension, processor, flags, verbs) or None when the line must stay verbatim.
        type Want = Option<(&'static str, &'static str, u32, &'static [&'static str])>;
        let cases: &[(&str, Want)] = &[
            (
                ".aspx,C:\\W\\aspnet_isapi.dll,1,GET,HEAD,POST,DEBUG",
                Some((".aspx", "C:\\W\\aspnet_isapi.dll", 1, &["GET", "HEAD", "POST", "DEBUG"])),
            ),
            (".htm,C:\\Test.dll,5,GET, HEAD, POST", Some((".htm", "C:\\Test.dll", 5, &["GET", "HEAD", "POST"]))),
            ("  .asp , C:\\asp.dll , 5 ", Some((".asp", "C:\\asp.dll", 5, &[]))),
            (".x,C:\\x.dll,1,", Some((".x", "C:\\x.dll", 1, &[]))),
            ("*,C:\\wild.dll,4", Some(("*", "C:\\wild.dll", 4, &[]))),
            ("*,C:\\wild.dll,0,All", Some(("*", "C:\\wild.dll", 0, &["All"]))),
            (".htw,C:\\webhits.dll,3,GET", Some((".htw", "C:\\webhits.dll", 3, &["GET"]))),
            (".pl,C:\\perl.exe %s %s,4294967295", Some((".pl", "C:\\perl.exe %s %s", u32::MAX, &[]))),
            (".bad,C:\\x.dll,one", None),
            (".bad,C:\\x.dll", None),
            (",C:\\x.dll,1", None),
            ("garbage", None),
        ];
        for (input, want) in cases {
            let line = MapLine::parse(input);
            match want {
                None => assert_eq!(line, MapLine::Unparsed(input.to_string()), "{input}"),
                Some((ext, proc_, flags, verbs)) => {
                    let e = line.entry().unwrap_or_else(|| panic!("{input} did not parse"));
                    assert_eq!(
                        (e.extension.as_str(), e.processor.as_str(), e.flags),
                        (*ext, *proc_, *flags),
                        "{input}"
                    );
                    assert_eq!(e.verbs, verbs.iter().map(|v| v.to_string()).collect::<Vec<_>>(), "{input}");
                }
            }
        }
    }

    #[test]
    fn round_trip_is_stable() {
        let odd = [
            ".aspx,C:\\W\\aspnet_isapi.dll,1,GET,HEAD,POST,DEBUG",
            " .htm , C:\\Test.dll ,5,GET, HEAD, POST",
            ".x,C:\\x.dll,1,",
            "*,C:\\wild.dll,4",
            ".bad,C:\\x.dll,one",
            ".htw,C:\\webhits.dll,3,GET,HEAD",
        ];
        let lines: Vec<String> = odd.iter().map(|s| s.to_string()).collect();
        let once = print_list(&parse_list(&lines));
        let twice = print_list(&parse_list(&once));
        assert_eq!(once, twice);
        // Canonical entries come back byte for byte; malformed ones are kept verbatim.
        assert_eq!(once[0], odd[0]);
        assert_eq!(once[1], ".htm,C:\\Test.dll,5,GET,HEAD,POST");
        assert_eq!(once[4], odd[4]);
        assert_eq!(once[5], odd[5]);
    }

    #[test]
    fn verbs_and_kinds() {
        let e = MapEntry::parse(".aspx,C:\\F\\ASPNET_ISAPI.DLL,1,GET,POST").unwrap();
        assert!(e.is_aspnet());
        assert!(e.allows_verb("get"));
        assert!(!e.allows_verb("DELETE"));
        let all = MapEntry::parse("*,C:\\w.dll,0").unwrap();
        assert!(all.is_wildcard() && all.allows_verb("PROPFIND"));
    }
}
