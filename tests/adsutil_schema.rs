//! adsutil.vbs over the IIS 6.0 property reference: a sample of every stored type goes through
//! SET then GET, secure properties print ten asterisks, inheritance follows the schema, and the
//! table itself holds no duplicate names or identifiers (ADS-03, ADS-04, ADS-05, MB-11, MB-19).

mod common;

use iisim::edition::Edition::{Win2003, WinXp};
use iisim::metabase::schema::{self, Kind, SCHEMA};
use iisim::process::World;
use iisim::runtime::Version;
use iisim::tools::{run, Context};

const ADS: &str = r"cscript //nologo C:\Inetpub\AdminScripts\adsutil.vbs";

/// Runs adsutil with `args` on `m`; returns its lines and exit code.
fn ads(m: &mut iisim::machine::Machine, args: &str) -> (Vec<String>, i32) {
    let mut w = World::default();
    let out = run(m, &mut w, &format!("{ADS} {args}"), Context::default());
    (out.lines.into_iter().chain(out.err).collect(), out.exit)
}

#[test]
fn every_type_goes_through_set_and_get_as_the_real_tool_prints_it() {
    // (property, SET arguments, the line SET echoes and GET prints)
    let rows: &[(&str, &str, &str)] = &[
        ("ConnectionTimeout", "300", "ConnectionTimeout               : (INTEGER) 300"),
        ("UploadReadAheadSize", "0x1000", "UploadReadAheadSize             : (INTEGER) 4096"),
        ("LogExtFileFlags", "3", "LogExtFileFlags                 : (INTEGER) 3"),
        ("AuthPersistence", "64", "AuthPersistence                 : (INTEGER) 64"),
        ("AllowKeepAlive", "FALSE", "AllowKeepAlive                  : (BOOLEAN) False"),
        ("AspEnableChunkedEncoding", "1", "AspEnableChunkedEncoding        : (BOOLEAN) True"),
        ("Realm", "contoso.com", "Realm                           : (STRING) \"contoso.com\""),
        ("NTAuthenticationProviders", "NTLM", "NTAuthenticationProviders       : (STRING) \"NTLM\""),
        // GET and SET print an EXPANDSZ unquoted (ENUM quotes it).
        ("LogFileDirectory", r"D:\Logs", r"LogFileDirectory                : (EXPANDSZ) D:\Logs"),
        ("AspDiskTemplateCacheDirectory", r"D:\asp", r"AspDiskTemplateCacheDirectory   : (EXPANDSZ) D:\asp"),
        ("AnonymousUserPass", "s3cret", "AnonymousUserPass               : (STRING) \"**********\""),
        ("WAMUserPass", "s3cret", "WAMUserPass                     : (STRING) \"**********\""),
        ("UNCPassword", "s3cret", "UNCPassword                     : (STRING) \"**********\""),
        ("LogOdbcPassword", "s3cret", "LogOdbcPassword                 : (STRING) \"**********\""),
        ("ADConnectionsPassword", "s3cret", "ADConnectionsPassword           : (STRING) \"**********\""),
    ];
    let mut m = common::machine(Win2003, &[Version::V2_0]);
    for (prop, value, line) in rows {
        let (set, code) = ads(&mut m, &format!("SET W3SVC/1/ROOT/{prop} {value}"));
        assert_eq!(code, 0, "SET {prop}: {set:#?}");
        assert_eq!(set.last().map(String::as_str), Some(*line), "SET {prop} echo");
        let (get, code) = ads(&mut m, &format!("GET W3SVC/1/ROOT/{prop}"));
        assert_eq!(code, 0, "GET {prop}: {get:#?}");
        assert_eq!(get, vec![line.to_string()], "GET {prop}");
        assert!(!get.concat().contains("s3cret"), "{prop}: a secure value never prints");
    }
    // A list: one argument per item, echoed quoted; GET prints the item count and one per line.
    let (set, code) = ads(&mut m, "SET W3SVC/1/ROOT/HttpPics pics-1.1 pics-2");
    assert_eq!(code, 0);
    assert_eq!(set.last().unwrap(), r#"HttpPics                        : (LIST) "pics-1.1" "pics-2" "#);
    let (get, _) = ads(&mut m, "GET W3SVC/1/ROOT/HttpPics");
    assert_eq!(get, vec!["HttpPics                        : (LIST)  (2 Items)", "  \"pics-1.1\"", "  \"pics-2\""]);
    // ENUM shows the secure one masked too.
    let (listing, _) = ads(&mut m, "ENUM W3SVC/1/ROOT");
    assert!(listing.contains(&"AnonymousUserPass               : (STRING) \"**********\"".to_string()), "{listing:#?}");
    assert!(listing.contains(&r#"LogFileDirectory                : (EXPANDSZ) "D:\Logs""#.to_string()), "{listing:#?}");
}

#[test]
fn inheritance_follows_the_schema() {
    let mut m = common::machine(Win2003, &[Version::V2_0]);
    assert_eq!(ads(&mut m, "CREATE_VDIR W3SVC/1/ROOT/app").1, 0);
    // Inheritable: set at the site, seen below through effective values but not as the node's own.
    for (prop, value) in [("AspSessionMax", "50"), ("Realm", "corp"), ("LogFileDirectory", r"D:\logs")] {
        assert_eq!(ads(&mut m, &format!("SET W3SVC/1/{prop} {value}")).1, 0);
        let def = schema::lookup(prop).unwrap();
        assert!(def.inherit, "{prop} inherits in the IIS 6 schema");
        let (v, origin) = m.metabase().effective("/LM/W3SVC/1/ROOT/app", prop).unwrap();
        assert_eq!(origin.to_string(), "inherited from /LM/W3SVC/1", "{prop}: {v:?}");
        let (get, code) = ads(&mut m, &format!("GET W3SVC/1/ROOT/app/{prop}"));
        assert_eq!(code, -2147463162, "GET finds {prop} not set at the node (ADS-04): {get:#?}");
        assert_eq!(get[0], format!("The parameter \"{prop}\" is not set at this node."));
    }
    // Not inheritable: the child sees the schema default, not the parent's value.
    for (prop, value) in
        [("HcDoDynamicCompression", "TRUE"), ("UserIsolationMode", "2"), ("CentralW3CLoggingEnabled", "TRUE")]
    {
        assert_eq!(ads(&mut m, &format!("SET W3SVC/{prop} {value}")).1, 0, "{prop}");
        assert!(!schema::lookup(prop).unwrap().inherit);
        let eff = m.metabase().effective("/LM/W3SVC/1", prop).map(|(_, o)| o.to_string());
        assert_eq!(eff.as_deref(), Some("schema default"), "{prop}");
    }
    // A documented default answers where nothing sets the property.
    let (v, origin) = m.metabase().effective("/LM/W3SVC/1/ROOT/app", "CGITimeout").unwrap();
    assert_eq!((v.as_dword(), origin.to_string().as_str()), (Some(300), "schema default"));
}

#[test]
fn iis6_only_properties_are_unknown_names_on_iis5() {
    let mut m = common::machine(WinXp, &[Version::V2_0]);
    let (out, code) = ads(&mut m, "SET W3SVC/1/ROOT/AzEnable TRUE");
    assert_eq!(code, -2147463168, "{out:#?}");
    assert_eq!(ads(&mut m, "SET W3SVC/1/ROOT/AllowKeepAlive FALSE").1, 0);
}

#[test]
fn the_table_is_well_formed() {
    let mut names = std::collections::BTreeSet::new();
    let mut ids = std::collections::BTreeSet::new();
    for d in SCHEMA {
        assert!(names.insert(d.name.to_ascii_lowercase()), "{} appears twice", d.name);
        assert!(ids.insert(d.id), "ID {} appears twice ({})", d.id, d.name);
        assert!(schema::lookup(d.name).is_some_and(|l| l.id == d.id), "{} is found by name", d.name);
        assert!(schema::lookup(&d.name.to_ascii_uppercase()).is_some(), "{}: lookups ignore case", d.name);
        if d.secure {
            assert!(matches!(d.kind, Kind::Binary), "{}: secure values are stored as blobs", d.name);
        }
    }
    assert!(SCHEMA.len() > 250, "the IIS 6 reference has {} rows", SCHEMA.len());
    for (name, id) in [("AnonymousUserPass", 6021), ("SessionKey", 9999), ("LogOdbcPassword", 4010), ("AdminACL", 6027)]
    {
        let d = schema::lookup(name).unwrap();
        assert!(d.secure && d.id == id, "{name}");
    }
    for (name, id) in [
        ("Path", 3001),
        ("ScriptMaps", 6014),
        ("AppPoolId", 9101),
        ("AspEnableParentPaths", 7008),
        ("LogExtFileFlags", 4013),
        ("HcDoDynamicCompression", 2213),
        ("AzEnable", 6048),
    ] {
        assert_eq!(schema::lookup(name).map(|d| d.id), Some(id), "{name}");
    }
    assert!(schema::lookup("NoSuchProperty").is_none());
}
