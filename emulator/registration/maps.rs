//! Pure edits of ScriptMaps lists: which ASP.NET version a list names, remapping, stripping
//! (VER-02, MAP-01..10).

use crate::metabase::scriptmap::{MapEntry, MapLine, FLAG_SCRIPT, FLAG_VERIFY_FILE};
use crate::runtime::Version;

/// Verbs ASP.NET registration writes on every entry (MAP-01).
pub const ASPNET_VERBS: [&str; 4] = ["GET", "HEAD", "POST", "DEBUG"];

/// The runtime a processor path belongs to, by its `v<version>` Framework folder.
pub fn dll_version(processor: &str) -> Option<Version> {
    let lower = processor.to_ascii_lowercase().replace('/', "\\");
    let mut parts = lower.rsplit('\\');
    if parts.next()? != "aspnet_isapi.dll" {
        return None;
    }
    let folder = parts.next()?;
    Version::ALL.into_iter().find(|v| folder == v.folder_name())
}

/// The ASP.NET entry that decides a list's runtime: the `.aspx` entry, else the first ASP.NET one (VER-02).
pub fn deciding_entry(lines: &[MapLine]) -> Option<&MapEntry> {
    let entries = || lines.iter().filter_map(MapLine::entry).filter(|e| e.is_aspnet());
    entries().find(|e| e.extension.eq_ignore_ascii_case(".aspx")).or_else(|| entries().next())
}

/// Whether any entry names an ASP.NET DLL.
pub fn has_aspnet(lines: &[MapLine]) -> bool {
    lines.iter().filter_map(MapLine::entry).any(MapEntry::is_aspnet)
}

/// The full set of ASP.NET entries runtime `v` registers, in registration order (MAP-01..04, MAP-09).
pub fn full_entries(v: Version, wcf: bool, isapi: &str) -> Vec<MapEntry> {
    let verbs: Vec<String> = ASPNET_VERBS.iter().map(|s| s.to_string()).collect();
    let exec = v.executed_extensions(wcf).into_iter().map(|e| (e, FLAG_SCRIPT));
    let forbid = v.forbidden_extensions().into_iter().map(|e| (e, v.forbidden_flags()));
    exec.chain(forbid)
        .map(|(ext, flags)| MapEntry { extension: ext.into(), processor: isapi.into(), flags, verbs: verbs.clone() })
        .collect()
}

/// Points every ASP.NET entry at runtime `v`, drops extensions `v` lacks, appends those it adds;
/// other handlers' entries and customised verb lists stay (MAP-07, MAP-09).
pub fn install_into(lines: &[MapLine], v: Version, wcf: bool, isapi: &str) -> Vec<MapLine> {
    let full = full_entries(v, wcf, isapi);
    let knows = |ext: &str| full.iter().any(|f| f.extension.eq_ignore_ascii_case(ext));
    let mut out = Vec::with_capacity(lines.len() + full.len());
    for line in lines {
        match line {
            MapLine::Entry(e) if e.is_aspnet() => {
                if !knows(&e.extension) {
                    continue;
                }
                let mut e = e.clone();
                // 1.0 wrote forbidden entries without "verify file exists"; others add it (MAP-09).
                if v != Version::V1_0 && v.forbidden_extensions().iter().any(|f| f.eq_ignore_ascii_case(&e.extension)) {
                    e.flags |= FLAG_VERIFY_FILE;
                }
                e.processor = isapi.to_string();
                out.push(MapLine::Entry(e));
            }
            other => out.push(other.clone()),
        }
    }
    for f in full {
        let present = out
            .iter()
            .filter_map(MapLine::entry)
            .any(|e| e.is_aspnet() && e.extension.eq_ignore_ascii_case(&f.extension));
        if !present {
            out.push(MapLine::Entry(f));
        }
    }
    out
}

/// Removes every entry naming any ASP.NET DLL (REG-10).
pub fn strip(lines: &[MapLine]) -> Vec<MapLine> {
    lines.iter().filter(|l| !l.entry().is_some_and(MapEntry::is_aspnet)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metabase::scriptmap::parse_list;

    fn isapi(v: Version) -> String {
        format!("C:\\WINDOWS\\Microsoft.NET\\Framework\\{}\\aspnet_isapi.dll", v.folder_name())
    }

    fn list_for(v: Version) -> Vec<MapLine> {
        let mut lines = vec![MapLine::parse(".asp,C:\\WINDOWS\\system32\\inetsrv\\asp.dll,5,GET,HEAD,POST,TRACE")];
        lines.extend(full_entries(v, false, &isapi(v)).into_iter().map(MapLine::Entry));
        lines
    }

    #[test]
    fn dll_versions() {
        for v in Version::ALL {
            assert_eq!(dll_version(&isapi(v)), Some(v));
            assert_eq!(dll_version(&isapi(v).to_uppercase()), Some(v));
        }
        assert_eq!(dll_version("%windir%\\Microsoft.NET\\Framework\\v1.1.4322\\aspnet_isapi.dll"), Some(Version::V1_1));
        assert_eq!(dll_version("C:\\other\\aspnet_isapi.dll"), None);
        assert_eq!(dll_version("C:\\WINDOWS\\Microsoft.NET\\Framework\\v2.0.50727\\asp.dll"), None);
    }

    /// Remapping between every ordered pair of versions: the result is exactly the target's full
    /// set plus the untouched non-ASP.NET entry.
    #[test]
    fn remap_every_pair() {
        for from in Version::ALL {
            for to in Version::ALL {
                let out = install_into(&list_for(from), to, false, &isapi(to));
                assert_eq!(dll_version(&deciding_entry(&out).unwrap().processor), Some(to), "{from}->{to}");
                assert_eq!(out[0], list_for(from)[0], "non-ASP.NET entry kept {from}->{to}");
                let mut got: Vec<String> =
                    out.iter().skip(1).filter_map(|l| l.entry()).map(|e| e.extension.to_lowercase()).collect();
                let mut want: Vec<String> =
                    full_entries(to, false, "x").iter().map(|e| e.extension.to_lowercase()).collect();
                got.sort();
                want.sort();
                assert_eq!(got, want, "{from}->{to}");
                for e in out.iter().filter_map(|l| l.entry()).filter(|e| e.is_aspnet()) {
                    assert_eq!(e.processor, isapi(to));
                }
            }
        }
    }

    #[test]
    fn moving_off_10_adds_verify_bit() {
        let out = install_into(&list_for(Version::V1_0), Version::V1_1, false, &isapi(Version::V1_1));
        let cs = out.iter().filter_map(|l| l.entry()).find(|e| e.extension == ".cs").unwrap();
        assert_eq!(cs.flags, 5);
        let aspx = out.iter().filter_map(|l| l.entry()).find(|e| e.extension == ".aspx").unwrap();
        assert_eq!(aspx.flags, 1);
    }

    #[test]
    fn custom_verbs_survive_and_strip_keeps_others() {
        let lines = parse_list(&[
            ".aspx,C:\\WINDOWS\\Microsoft.NET\\Framework\\v1.1.4322\\aspnet_isapi.dll,1,GET,POST".to_string(),
            ".php,C:\\php\\php-cgi.exe,5".to_string(),
        ]);
        let out = install_into(&lines, Version::V2_0, false, &isapi(Version::V2_0));
        assert_eq!(out[0].entry().unwrap().verbs, ["GET", "POST"]);
        assert_eq!(out[1], lines[1]);
        assert_eq!(strip(&out), vec![lines[1].clone()]);
        assert!(!has_aspnet(&strip(&out)));
    }

    #[test]
    fn wcf_extensions_only_with_3x() {
        let has = |wcf| full_entries(Version::V2_0, wcf, "x").iter().any(|e| e.extension == ".svc");
        assert!(!has(false));
        assert!(has(true));
        assert!(full_entries(Version::V4_0, false, "x").iter().any(|e| e.extension == ".svc"));
    }
}
