//! MetaBase.xml import and export: round trips, every value encoding, malformed files, and a
//! property test that export then import gives the same metabase (MB-01, MB-04..11).

use std::path::PathBuf;

use iisim::metabase::xml::{self, DEFAULT_NAMESPACE};
use iisim::metabase::{Metabase, Prop, Value, ValueMeta};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metabase").join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn import(name: &str) -> Metabase {
    xml::import(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}")).metabase
}

#[test]
fn files_in_iis_layout_round_trip_byte_for_byte() {
    for name in ["v11-server.xml", "mixed-server.xml"] {
        let text = read(name);
        assert!(text.contains("\r\n"), "{name} is written with IIS's CRLF line ends");
        let out = xml::export(&import(name));
        assert!(out == text, "{name} did not come back byte for byte");
    }
}

#[test]
fn a_hand_edited_file_imports_to_the_same_metabase() {
    // BOM, LF, another namespace version, Location last, stray spaces in flags, a flag set as a
    // number, 0 and `true` for BOOLs, continuation lines indented with spaces, a Custom with an
    // end tag, a comment and an IIsInheritedProperties section.
    let text = read("hand-edited.xml");
    assert!(text.starts_with('\u{feff}') && !text.contains('\r'));
    let edited = xml::import(&text).unwrap();
    assert_eq!(edited.metabase.namespace(), Some("urn:microsoft-catalog:XML_Metabase_V54_0"));
    assert_eq!(edited.notes.len(), 1, "{:?}", edited.notes);
    assert!(edited.notes[0].contains("IIsInheritedProperties of /LM/W3SVC/1/ROOT skipped"));
    let mut mb = edited.metabase;
    mb.set_namespace(Some(DEFAULT_NAMESPACE.into()));
    // A comment before a key stays with it, as IIS writes it back.
    assert_eq!(mb.key("/LM/W3SVC").unwrap().comment(), Some(" edited by hand "));
    let out = xml::export(&mb).replace("<!-- edited by hand -->\r\n", "");
    assert!(out == read("v11-server.xml"), "written canonically, as IIS would");
    let back = xml::import(&out).unwrap().metabase;
    assert!(back == import("v11-server.xml"));
}

#[test]
fn every_value_encoding_is_read() {
    let mb = import("v11-server.xml");
    let own = |path: &str, prop: &str| mb.own(path, prop).cloned();
    assert_eq!(own("/LM/W3SVC/1/ROOT", "AccessFlags"), Some(Value::Dword(1 | 512)));
    assert_eq!(own("/LM/W3SVC/1", "ServerAutoStart"), Some(Value::Dword(1)));
    assert_eq!(own("/LM/W3SVC", "IIs5IsolationModeEnabled"), Some(Value::Dword(0)));
    assert_eq!(own("/LM", "MaxHistoryFiles"), Some(Value::Dword(10)));
    assert_eq!(
        own("/LM/W3SVC/2", "ServerBindings"),
        Some(Value::MultiSz(vec![":80:intranet.contoso.com".into(), ":80:intranet".into()]))
    );
    // Secure values stay the file's hex (MB-11).
    let Some(Value::Binary(acl)) = mb.key("/").and_then(|k| k.get("AdminACL")).cloned() else { panic!("AdminACL") };
    assert!(acl.starts_with("4963446270000000a4000000") && acl.len() == 144);
    assert!(matches!(own("/LM/W3SVC", "AnonymousUserPass"), Some(Value::Binary(_))));
    assert!(matches!(own("/LM/W3SVC/2/ROOT/reports", "UNCPassword"), Some(Value::Binary(_))));
    assert!(mb.global().and_then(|g| g.get("SessionKey")).is_some());
    // Unknown attributes are kept verbatim (MB-07).
    let log = mb.key("/LM/W3SVC").unwrap().stored().find(|p| p.name == "LogFileDirectory").unwrap().clone();
    assert_eq!(log.value, Value::String("C:\\WINDOWS\\system32\\LogFiles".into()));
    assert!(log.meta.verbatim && !log.meta.custom);
    // Custom elements keep ID, Type, UserType and Attributes, nameless ones too (MB-07).
    let customs: Vec<Prop> = mb.key("/LM/W3SVC/1/ROOT").unwrap().stored().filter(|p| p.meta.custom).cloned().collect();
    assert_eq!(customs.len(), 2);
    let nameless = customs.iter().find(|p| p.name.is_empty()).unwrap();
    assert_eq!(nameless.value, Value::String("%windir%\\temp".into()));
    assert_eq!(nameless.meta.id.as_deref(), Some("6287"));
    assert_eq!(nameless.meta.type_name.as_deref(), Some("EXPANDSZ"));
    assert_eq!(nameless.meta.attributes.as_deref(), Some("INHERIT"));
    let binary = customs.iter().find(|p| p.name == "UnknownName_9100").unwrap();
    assert_eq!(binary.value, Value::Binary("0a0b0c0d".into()));
    let hints = mb.key("/LM/W3SVC/3/ROOT").unwrap().stored().find(|p| p.name == "FrontPageHints").unwrap().clone();
    assert_eq!(hints.value, Value::MultiSz(vec!["alpha".into(), "beta".into()]));
    // A Custom element with neither name, type nor user type.
    let bare =
        mb.key("/LM/W3SVC/3/ROOT").unwrap().stored().find(|p| p.meta.id.as_deref() == Some("6288")).unwrap().clone();
    assert_eq!((bare.name.as_str(), bare.meta.type_name, bare.meta.user_type), ("", None, None));
    // A known flag property written as a Custom DWORD (the key's class lacks it) keeps its names.
    let auth = mb.key("/LM/W3SVC/1/ROOT/localstart.asp").unwrap().stored().next().unwrap().clone();
    assert_eq!((auth.name.as_str(), auth.value, auth.meta.custom), ("AuthFlags", Value::Dword(2 | 4), true));
    assert_eq!(mb.key("/LM/W3SVC/2").unwrap().comment(), Some("Intranet: moved from WEB02 in 2006"));
    // Key types are element names; IIsWebDirectory applications are keys like any other.
    assert_eq!(mb.key("/LM/W3SVC/3/ROOT/checkout").unwrap().key_type(), "IIsWebDirectory");
    assert_eq!(own("/LM/W3SVC/3/ROOT/checkout", "AppRoot"), Some(Value::String("/LM/W3SVC/3/ROOT/checkout".into())));
}

#[test]
fn untyped_keys_no_namespace_and_empty_lists() {
    let text = "<?xml version=\"1.0\"?>\n<configuration>\n<MBProperty>\n<IIsComputer Location=\"/LM\"/>\n\
                <IIsConfigObject Location=\"/lm/W3SVC/1/root/x\" ScriptMaps=\"\"></IIsConfigObject>\n</MBProperty>\n</configuration>\n";
    let mb = xml::import(text).unwrap().metabase;
    assert_eq!(mb.namespace(), None);
    let key = mb.key("/LM/W3SVC/1/ROOT/x").unwrap();
    assert_eq!((key.path(), key.key_type()), ("/lm/W3SVC/1/root/x", "IIsConfigObject"));
    assert_eq!(key.get("ScriptMaps"), Some(&Value::MultiSz(vec![])));
    // No parents are invented (MB-05), and the skeleton is written whatever the file had (MB-04).
    assert!(mb.key("/LM/W3SVC").is_none());
    let out = xml::export(&mb);
    assert!(out.starts_with(
        "<?xml version =\"1.0\"?>\r\n<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\">\r\n<MBProperty>\r\n<IIS_Global\tLocation =\".\"\r\n\t>\r\n</IIS_Global>\r\n<IIS_ROOT\tLocation =\"/\"\r\n"
    ));
    assert!(out.contains(
        "<IIsConfigObject\tLocation =\"/lm/W3SVC/1/root/x\"\r\n\t\tScriptMaps=\"\"\r\n\t>\r\n</IIsConfigObject>\r\n"
    ));
}

#[test]
fn attributes_are_written_location_first_then_in_ordinal_order() {
    let text = read("v11-server.xml");
    let start = text.find("<IIsWebService\tLocation =\"/LM/W3SVC\"").unwrap();
    let block = &text[start..text[start..].find("\t>\r\n").unwrap() + start];
    let names: Vec<&str> = block
        .split("\r\n")
        .skip(1)
        .filter(|l| l.starts_with("\t\t") && !l.starts_with("\t\t\t"))
        .map(|l| l.trim_start().split('=').next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    // Case-sensitive ASCII: AppPoolId before ApplicationDependencies (MB-06).
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("AppPoolId") < pos("ApplicationDependencies"));
}

/// (fixture, line, column, part of the message)
const MALFORMED: &[(&str, usize, usize, &str)] = &[
    ("truncated.xml", 37, 1, "it is truncated"),
    ("bad-xml.xml", 20, 1, "expected `</IIsComputer>`"),
    ("outside-lm.xml", 21, 13, "key /MimeMap is outside /LM"),
    ("bad-dword.xml", 18, 3, "MaxHistoryFiles=\"ten\" on /LM is not an unsigned DWORD"),
    ("bad-flags.xml", 111, 3, "unknown flag `AccessScrypt`"),
    ("bad-bool.xml", 101, 3, "ServerAutoStart=\"YES\" on /LM/W3SVC/1 is not TRUE, FALSE or a number"),
    ("bad-binary.xml", 128, 3, "is not hexadecimal BINARY data"),
    ("bad-namespace.xml", 2, 16, "is not a metabase namespace"),
    ("duplicate-key.xml", 110, 19, "key /LM/W3SVC/1/ROOT appears twice"),
    ("no-location.xml", 15, 1, "<IIsComputer> has no Location attribute"),
    ("nested-key.xml", 20, 1, "keys are flat"),
];

#[test]
fn malformed_files_are_refused_with_line_and_column() {
    for (name, line, column, part) in MALFORMED {
        let err = xml::import(&read(&format!("malformed/{name}"))).expect_err(name);
        assert_eq!((err.line, err.column), (*line, *column), "{name}: {err}");
        assert!(err.message.contains(part), "{name}: {err}");
    }
}

#[test]
fn the_cli_refuses_a_malformed_file_with_exit_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_iisim"))
        .arg("export")
        .arg(fixture("malformed/bad-dword.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing half-exported");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-dword.xml:18:3: MaxHistoryFiles=\"ten\""), "{err}");
}

#[test]
fn the_cli_exports_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.xml");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_iisim"))
        .arg("export")
        .arg(fixture("mixed-server.xml"))
        .arg("-o")
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read(&target).unwrap() == std::fs::read(fixture("mixed-server.xml")).unwrap());
}

// ----- property test: export then import gives the same metabase -----

const KEY_TYPES: &[&str] =
    &["IIsWebVirtualDir", "IIsWebDirectory", "IIsConfigObject", "IIsWebServer", "IIsApplicationPool", "IIsFilter"];

fn text_value() -> impl Strategy<Value = String> {
    // No CR (line ends are IIS's), no other control characters XML cannot hold.
    "[a-zA-Z0-9 &<>\"'%\\\\:,.;|=\t\né-]{0,24}"
}

fn entry() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.,:\\\\&<>\"|][a-zA-Z0-9 .,:\\\\&<>\"|]{0,20}"
}

fn hex() -> impl Strategy<Value = String> {
    "([0-9a-f]{2}){0,16}"
}

/// A schema property with a value of its kind.
fn known_prop() -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        any::<u32>().prop_map(|n| ("AppIsolated".to_string(), Value::Dword(n))),
        (0u32..4).prop_map(|n| ("ServerAutoStart".to_string(), Value::Dword(n))),
        any::<u32>().prop_map(|n| ("AccessFlags".to_string(), Value::Dword(n))),
        any::<u32>().prop_map(|n| ("DirBrowseFlags".to_string(), Value::Dword(n))),
        text_value().prop_map(|s| ("Path".to_string(), Value::String(s))),
        text_value().prop_map(|s| ("AppPoolId".to_string(), Value::String(s))),
        prop::collection::vec(entry(), 0..4).prop_map(|l| ("ScriptMaps".to_string(), Value::MultiSz(l))),
        prop::collection::vec(entry(), 0..3).prop_map(|l| ("ServerBindings".to_string(), Value::MultiSz(l))),
        hex().prop_map(|h| ("AnonymousUserPass".to_string(), Value::Binary(h))),
    ]
}

#[derive(Debug, Clone)]
struct CustomSpec {
    name: String,
    id: u32,
    type_name: Option<&'static str>,
    user_type: Option<&'static str>,
    attributes: Option<&'static str>,
    value: Value,
}

fn custom() -> impl Strategy<Value = CustomSpec> {
    let typed = prop_oneof![
        any::<u32>().prop_map(|n| (Some("DWORD"), Value::Dword(n))),
        text_value().prop_map(|s| (Some("STRING"), Value::String(s))),
        text_value().prop_map(|s| (Some("EXPANDSZ"), Value::String(s))),
        prop::collection::vec(entry(), 0..3).prop_map(|l| (Some("MULTISZ"), Value::MultiSz(l))),
        hex().prop_map(|h| (Some("BINARY"), Value::Binary(h))),
        text_value().prop_map(|s| (None, Value::String(s))),
    ];
    (
        prop_oneof![Just(String::new()), "Zz[a-z]{1,8}", "UnknownName_[0-9]{4}"],
        1000u32..60000,
        typed,
        prop::option::of(prop_oneof![Just("IIS_MD_UT_SERVER"), Just("IIS_MD_UT_FILE")]),
        prop::option::of(prop_oneof![Just("INHERIT"), Just("NO_ATTRIBUTES"), Just("INHERIT | SECURE")]),
    )
        .prop_map(|(name, id, (type_name, value), user_type, attributes)| CustomSpec {
            name,
            id,
            type_name,
            user_type,
            attributes,
            value,
        })
}

#[derive(Debug, Clone)]
struct KeySpec {
    path: String,
    key_type: &'static str,
    props: Vec<(String, Value)>,
    verbatim: Vec<(String, String)>,
    customs: Vec<CustomSpec>,
}

fn key_spec() -> impl Strategy<Value = KeySpec> {
    (
        prop::collection::vec("[A-Za-z0-9_.-]{1,6}", 0..4),
        prop::sample::select(KEY_TYPES),
        prop::collection::vec(known_prop(), 0..4),
        prop::collection::vec(("Yy[A-Za-z]{1,8}", text_value()), 0..3),
        prop::collection::vec(custom(), 0..3),
    )
        .prop_map(|(segs, key_type, props, verbatim, customs)| KeySpec {
            path: if segs.is_empty() { "/LM".into() } else { format!("/LM/{}", segs.join("/")) },
            key_type,
            props,
            verbatim,
            customs,
        })
}

/// Builds the metabase the importer would make of such keys (slots as the importer names them).
fn build(keys: &[KeySpec]) -> Metabase {
    let mut mb = Metabase::new();
    mb.set_namespace(Some(DEFAULT_NAMESPACE.into()));
    mb.insert_key(".", "IIS_Global").unwrap();
    mb.insert_key("/", "IIS_ROOT").unwrap();
    for k in keys {
        if mb.insert_key(&k.path, k.key_type).is_err() {
            continue; // the same path (compared case-insensitively) twice
        }
        let mut put = |slot: String, prop: Prop| {
            mb.store(&k.path, &slot, prop).unwrap();
        };
        let mut taken = std::collections::BTreeSet::new();
        for (name, value) in &k.props {
            if taken.insert(name.to_ascii_lowercase()) {
                put(
                    name.to_ascii_lowercase(),
                    Prop { name: name.clone(), value: value.clone(), meta: ValueMeta::default() },
                );
            }
        }
        for (name, text) in &k.verbatim {
            if taken.insert(name.to_ascii_lowercase()) {
                let meta = ValueMeta { verbatim: true, ..ValueMeta::default() };
                put(name.to_ascii_lowercase(), Prop { name: name.clone(), value: Value::String(text.clone()), meta });
            }
        }
        for c in &k.customs {
            let slot = if c.name.is_empty() { format!("#{}", c.id) } else { c.name.to_ascii_lowercase() };
            if !taken.insert(slot.clone()) {
                continue;
            }
            let meta = ValueMeta {
                custom: true,
                id: Some(c.id.to_string()),
                type_name: c.type_name.map(str::to_string),
                user_type: c.user_type.map(str::to_string),
                attributes: c.attributes.map(str::to_string),
                extra: Vec::new(),
                verbatim: false,
            };
            put(slot, Prop { name: c.name.clone(), value: c.value.clone(), meta });
        }
    }
    mb
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn export_then_import_gives_the_same_metabase(keys in prop::collection::vec(key_spec(), 0..8)) {
        let mb = build(&keys);
        let text = xml::export(&mb);
        let back = xml::import(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert!(back.metabase == mb, "{}", text);
        prop_assert!(back.notes.is_empty());
        prop_assert_eq!(xml::export(&back.metabase), text);
    }
}

#[test]
fn a_scenario_names_the_metabase_file_and_where_it_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("malformed/bad-flags.xml"), dir.path().join("MetaBase.xml")).unwrap();
    let scenario = dir.path().join("s.toml");
    let write = |body: &str| std::fs::write(&scenario, body).unwrap();
    write("title = \"t\"\nrules = []\n[machine]\nedition = \"2003\"\nmetabase_xml = \"MetaBase.xml\"\n");
    let err = iisim::scenario::load(&scenario).err().expect("refused");
    assert!(err.file.ends_with("MetaBase.xml"), "{err}");
    assert_eq!((err.line, err.column), (111, 3), "{err}");
    assert!(err.message.contains("unknown flag `AccessScrypt`"), "{err}");
    write("title = \"t\"\nrules = []\n[machine]\nedition = \"xp\"\nmetabase_xml = \"MetaBase.xml\"\n");
    let err = iisim::scenario::load(&scenario).err().expect("refused");
    assert_eq!((err.line, err.column), (5, 16), "{err}");
    assert!(err.message.contains("Windows Server 2003 (IIS 6.0) only"), "{err}");
    write("title = \"t\"\nrules = []\n[machine]\nedition = \"2003\"\nmetabase_xml = \"missing.xml\"\n");
    let err = iisim::scenario::load(&scenario).err().expect("refused");
    assert!(err.to_string().contains("missing.xml: cannot read the file"), "{err}");
    write("title = \"t\"\nrules = []\n[machine]\nedition = \"2003\"\n[[machine.files]]\nfolder = 'E:\\x'\nnames = [\"a\"]\nname = \"b\"\n");
    let err = iisim::scenario::load(&scenario).err().expect("refused");
    assert!(err.message.contains("unknown field `name`"), "{err}");
}

#[test]
fn policies_decide_the_namespace_written_and_when_the_file_is_flushed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("v11-server.xml"), dir.path().join("MetaBase.xml")).unwrap();
    let scenario = dir.path().join("s.toml");
    let file = r"C:\WINDOWS\system32\inetsrv\MetaBase.xml";
    let body = |policy: &str, want: &str| {
        format!(
            "title = \"t\"\nrules = []\n[policies]\n\"mb.flush\" = \"{policy}\"\n[machine]\nedition = \"2003\"\n\
             metabase_xml = \"MetaBase.xml\"\nruntimes = [\"1.1\"]\n\
             [[step]]\nrun = 'cscript C:\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/2/ServerComment Renamed'\n\
             [[step]]\nrun = \"iisreset\"\n[step.expect]\n{want} = {{ '{file}' = [\"ServerComment=\\\"Renamed\\\"\"] }}\n"
        )
    };
    for (policy, want) in [("on_stop_and_save", "file_contains"), ("on_save", "file_lacks")] {
        std::fs::write(&scenario, body(policy, want)).unwrap();
        let report = iisim::scenario::load(&scenario).unwrap().run();
        assert!(report.passed(), "{policy}: {:?}\n{}", report.failures, report.transcript);
    }
    // A metabase iisim built is written with the policy's namespace version.
    std::fs::write(
        &scenario,
        "title = \"t\"\nrules = []\n[policies]\n\"mb.namespace_version\" = \"V54_0\"\n[machine]\nedition = \"2003\"\n",
    )
    .unwrap();
    let (_, m, _) = iisim::scenario::load(&scenario).unwrap().run_to_end();
    assert!(m.metabase_xml().contains("<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V54_0\">"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Nothing panics on input: cut the file anywhere, or overwrite a stretch of it.
    #[test]
    fn damaged_files_are_refused_or_read_never_a_panic(cut in 0usize..8700, at in 0usize..8700, junk in "[<>\"=/ a-zA-Z&;#\u{e9}\r\n\t]{0,12}") {
        let text = read("v11-server.xml");
        let cut_at = (0..=cut.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let _ = xml::import(&text[..cut_at]);
        let at = (0..=at.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let end = (at + junk.len()).min(text.len());
        let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
        let damaged = format!("{}{junk}{}", &text[..at], &text[end..]);
        if let Err(e) = xml::import(&damaged) {
            prop_assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty());
        }
    }
}

#[test]
fn flags_with_unknown_bits_bools_beyond_one_and_control_characters_survive() {
    // Flags with a bit the table lacks are one number, as IIS writes them; BOOLs other than 0 and
    // 1 stay numbers; a control character is a character reference.
    let text = "<configuration><MBProperty><IIsWebVirtualDir Location=\"/LM/a\" AccessFlags=\"AccessRead | 2048\" \
                DirBrowseFlags=\"EnableDefaultDoc|DirBrowseShowDate\" ServerAutoStart=\"7\" Path=\"a&#x1;b\"/>\
                </MBProperty></configuration>";
    let mb = xml::import(text).unwrap().metabase;
    let out = xml::export(&mb);
    assert!(out.contains("\t\tAccessFlags=\"2049\"\r\n"), "{out}");
    assert!(out.contains("\t\tDirBrowseFlags=\"DirBrowseShowDate | EnableDefaultDoc\"\r\n"), "{out}");
    assert!(out.contains("\t\tServerAutoStart=\"7\"\r\n") && out.contains("\t\tPath=\"a&#x1;b\"\r\n"), "{out}");
    // (The writer adds the namespace and the IIS_Global and IIS_ROOT skeleton the file lacked.)
    assert_eq!(xml::import(&out).unwrap().metabase.key("/LM/a"), mb.key("/LM/a"));
}

#[test]
fn a_nameless_custom_of_a_known_id_is_read_by_the_schema() {
    // ID 6016 is AccessFlags: its value is flag names even without a Name.
    let text = "<configuration><MBProperty><IIsConfigObject Location=\"/LM/x\">\
                <Custom Name=\"\" ID=\"6016\" Value=\"AccessRead | AccessScript\" Type=\"DWORD\"/>\
                </IIsConfigObject></MBProperty></configuration>";
    let mb = xml::import(text).unwrap().metabase;
    let p = mb.key("/LM/x").unwrap().stored().next().unwrap().clone();
    assert_eq!(p.value, Value::Dword(513));
    assert!(xml::export(&mb).contains("\t\tValue=\"AccessRead | AccessScript\"\r\n"));
    assert_eq!(iisim::metabase::schema::lookup_id(6016).map(|d| d.name), Some("AccessFlags"));
}

#[test]
fn with_flushes_on_save_only_a_hand_edit_is_read_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("v11-server.xml"), dir.path().join("MetaBase.xml")).unwrap();
    std::fs::copy(fixture("edits/v11-intranet-renamed.xml"), dir.path().join("edited.xml")).unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "title = \"t\"\nrules = [\"MB-03\"]\n[policies]\n\"mb.flush\" = \"on_save\"\n[machine]\nedition = \"2003\"\n\
         metabase_xml = \"MetaBase.xml\"\n[[step]]\ncopy_file = { from = \"edited.xml\", to = 'C:\\WINDOWS\\system32\\inetsrv\\MetaBase.xml' }\n\
         [step.expect]\nmetabase = [{ path = \"W3SVC/2\", property = \"ServerComment\", equals = \"Intranet\" }]\n\
         [[step]]\nrun = \"iisreset\"\n[step.expect]\nmetabase = [{ path = \"W3SVC/2\", property = \"ServerComment\", equals = \"Intranet (edited by hand)\" }]\n",
    )
    .unwrap();
    let report = iisim::scenario::load(&scenario).unwrap().run();
    assert!(report.passed(), "{:?}\n{}", report.failures, report.transcript);
    assert!(report
        .transcript
        .contains("IIS started: IIS reads C:\\WINDOWS\\system32\\inetsrv\\MetaBase.xml, which differs"));
    // A copy_file source that does not exist is a load error at the step.
    std::fs::write(&scenario, "title = \"t\"\nrules = []\n[machine]\nedition = \"2003\"\n[[step]]\ncopy_file = { from = \"nope.xml\", to = 'C:\\x.xml' }\n").unwrap();
    let err = iisim::scenario::load(&scenario).err().expect("refused");
    assert!(err.line == 5 && err.message.contains("copy_file: cannot read"), "{err}");
}

#[test]
fn a_property_iisim_set_outside_the_schema_is_written_as_a_custom_element() {
    let mut mb = Metabase::new();
    mb.insert_key("/LM", "IIsComputer").unwrap();
    mb.set("/LM", "Odd Name", Value::Dword(7)).unwrap();
    mb.set("/LM", "Hints", Value::MultiSz(vec!["a".into(), "b".into()])).unwrap();
    let out = xml::export(&mb);
    assert!(
        out.contains(
            "\t<Custom\r\n\t\tName=\"Hints\"\r\n\t\tValue=\"a\r\n\t\t\tb\"\r\n\t\tType=\"MULTISZ\"\r\n\t/>\r\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("\t<Custom\r\n\t\tName=\"Odd Name\"\r\n\t\tValue=\"7\"\r\n\t\tType=\"DWORD\"\r\n\t/>\r\n"),
        "{out}"
    );
    let back = xml::import(&out).unwrap().metabase;
    assert_eq!(back.own("/LM", "odd name"), Some(&Value::Dword(7)));
    assert_eq!(xml::export(&back), out);
}

#[test]
fn every_scenario_machine_exports_a_file_that_reads_back_to_the_same_text() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    for f in files {
        let (_, m, _) = iisim::scenario::load(&f).unwrap().run_to_end();
        let text = m.metabase_xml();
        let back = xml::import(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(xml::export(&back.metabase) == text, "{} does not come back as written", f.display());
    }
}
