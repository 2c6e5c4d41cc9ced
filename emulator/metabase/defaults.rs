//! The key tree a fresh IIS install has, per edition (MB-13, MB-23, SM-09).

use super::{Metabase, Value};
use crate::edition::Edition;

fn multi(items: &[String]) -> Value {
    Value::MultiSz(items.to_vec())
}

/// The default ScriptMaps at `/LM/W3SVC` before any ASP.NET registration (SM-09).
pub fn default_script_maps(windir: &str) -> Vec<String> {
    let inetsrv = format!("{windir}\\system32\\inetsrv");
    let mut maps = Vec::new();
    for ext in [".asp", ".cer", ".cdx", ".asa"] {
        maps.push(format!("{ext},{inetsrv}\\asp.dll,5,GET,HEAD,POST,TRACE"));
    }
    maps.push(format!(".idc,{inetsrv}\\httpodbc.dll,5,GET,POST"));
    for ext in [".shtm", ".shtml", ".stm"] {
        maps.push(format!("{ext},{inetsrv}\\ssinc.dll,5,GET,POST"));
    }
    maps
}

/// The default InProcessIsapiApps at `/LM/W3SVC` (MB-23).
pub fn default_in_process_isapi_apps(edition: Edition) -> Vec<String> {
    let windir = edition.windir();
    let inetsrv = format!("{windir}\\system32\\inetsrv");
    if edition.is_iis6() {
        vec![
            format!("{inetsrv}\\httpext.dll"),
            format!("{inetsrv}\\httpodbc.dll"),
            format!("{inetsrv}\\ssinc.dll"),
            format!("{windir}\\system32\\msw3prt.dll"),
        ]
    } else {
        vec![format!("{inetsrv}\\ssinc.dll"), format!("{inetsrv}\\httpodbc.dll")]
    }
}

/// The machine MIME map of a fresh install (a representative subset).
pub fn default_mime_map() -> Vec<String> {
    [
        ".htm,text/html",
        ".html,text/html",
        ".txt,text/plain",
        ".css,text/css",
        ".js,application/x-javascript",
        ".gif,image/gif",
        ".jpg,image/jpeg",
        ".png,image/png",
        ".xml,text/xml",
        ".zip,application/x-zip-compressed",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The accounts IIS setup writes at `/LM/W3SVC` for computer `name`: the anonymous user and the
/// out-of-process launch account, with passwords setup generated (secure properties, ADS-03).
pub fn set_identities(mb: &mut Metabase, name: &str) {
    let w3 = "/LM/W3SVC";
    if !mb.exists(w3) {
        return;
    }
    for (prop, value) in [("AnonymousUserName", format!("IUSR_{name}")), ("WAMUserName", format!("IWAM_{name}"))] {
        mb.set(w3, prop, Value::String(value)).expect("W3SVC exists");
    }
    // The passwords are encrypted blobs (MB-11); iisim's stand-in is the hex of a fixed text.
    for (prop, user) in [("AnonymousUserPass", "IUSR"), ("WAMUserPass", "IWAM")] {
        let hex: String = format!("iisim:{user}_{name}").bytes().map(|b| format!("{b:02x}")).collect();
        mb.set(w3, prop, Value::Binary(hex)).expect("W3SVC exists");
    }
}

/// Builds the key tree of a fresh install; `iis5_isolation` picks the IIS 6 mode and `x64` writes
/// the 64-bit switch (both ignored on 5.x).
pub fn default_tree(edition: Edition, iis5_isolation: bool, x64: bool) -> Metabase {
    let mut mb = Metabase::new();
    let windir = edition.windir();
    let key = |mb: &mut Metabase, path: &str, kt: &str| {
        mb.create_key(path, kt).expect("fresh tree has no duplicates");
    };
    key(&mut mb, "/LM", "IIsComputer");
    key(&mut mb, "/LM/MimeMap", "IIsMimeMap");
    key(&mut mb, "/LM/W3SVC", "IIsWebService");
    key(&mut mb, "/LM/W3SVC/Filters", "IIsFilters");
    key(&mut mb, "/LM/W3SVC/Info", "IIsWebInfo");
    key(&mut mb, "/LM/W3SVC/1", "IIsWebServer");
    key(&mut mb, "/LM/W3SVC/1/Filters", "IIsFilters");
    key(&mut mb, "/LM/W3SVC/1/ROOT", "IIsWebVirtualDir");
    if edition.is_iis6() {
        key(&mut mb, "/LM/W3SVC/AppPools", "IIsApplicationPools");
        key(&mut mb, "/LM/W3SVC/AppPools/DefaultAppPool", "IIsApplicationPool");
    }
    let set = |mb: &mut Metabase, path: &str, prop: &str, v: Value| {
        mb.set(path, prop, v).expect("key exists");
    };
    set(&mut mb, "/LM/MimeMap", "MimeMap", multi(&default_mime_map()));
    let w3 = "/LM/W3SVC";
    set(&mut mb, w3, "ScriptMaps", multi(&default_script_maps(windir)));
    set(&mut mb, w3, "InProcessIsapiApps", multi(&default_in_process_isapi_apps(edition)));
    set(&mut mb, w3, "DefaultDoc", Value::String("Default.htm,Default.asp,index.htm".into()));
    set(&mut mb, w3, "DirBrowseFlags", Value::Dword(0x4000_001e));
    set(&mut mb, w3, "AccessFlags", Value::Dword(1));
    set(&mut mb, w3, "AuthFlags", Value::Dword(1));
    set(&mut mb, w3, "AppIsolated", Value::Dword(2));
    set(&mut mb, "/LM/W3SVC/Filters", "FilterLoadOrder", Value::String(String::new()));
    set(&mut mb, "/LM/W3SVC/1/Filters", "FilterLoadOrder", Value::String(String::new()));
    if edition.is_iis6() {
        set(&mut mb, w3, "AppPoolId", Value::String("DefaultAppPool".into()));
        set(&mut mb, w3, "IIs5IsolationModeEnabled", Value::Dword(iis5_isolation as u32));
        let inetsrv = format!("{windir}\\system32\\inetsrv");
        set(
            &mut mb,
            w3,
            "WebSvcExtRestrictionList",
            multi(&[
                "0,*.exe".to_string(),
                "0,*.dll".to_string(),
                format!("0,{inetsrv}\\asp.dll,1,ASP,Active Server Pages"),
                format!("0,{inetsrv}\\httpodbc.dll,1,HTTPODBC,Internet Data Connector"),
                format!("0,{inetsrv}\\ssinc.dll,1,SSINC,Server Side Includes"),
                format!("0,{inetsrv}\\httpext.dll,1,WEBDAV,WebDAV"),
            ]),
        );
        let pools = "/LM/W3SVC/AppPools";
        set(&mut mb, pools, "PeriodicRestartTime", Value::Dword(1740));
        set(&mut mb, pools, "IdleTimeout", Value::Dword(20));
        set(&mut mb, pools, "PingResponseTime", Value::Dword(90));
        set(&mut mb, pools, "AppPoolIdentityType", Value::Dword(2));
        set(&mut mb, pools, "MaxProcesses", Value::Dword(1));
        if x64 {
            set(&mut mb, pools, "Enable32BitAppOnWin64", Value::Dword(0));
        }
    }
    let site = "/LM/W3SVC/1";
    set(&mut mb, site, "ServerComment", Value::String("Default Web Site".into()));
    set(&mut mb, site, "ServerBindings", multi(&[":80:".to_string()]));
    set(&mut mb, site, "ServerAutoStart", Value::Dword(1));
    // MD_SERVER_STATE_STARTED, written by W3SVC as the site starts (MB-23).
    set(&mut mb, site, "ServerState", Value::Dword(2));
    let root = "/LM/W3SVC/1/ROOT";
    set(&mut mb, root, "Path", Value::String("C:\\Inetpub\\wwwroot".into()));
    set(&mut mb, root, "AppRoot", Value::String("/LM/W3SVC/1/ROOT".into()));
    set(&mut mb, root, "AppIsolated", Value::Dword(2));
    set(&mut mb, root, "AccessFlags", Value::Dword(1 | 512));
    if edition.is_iis6() {
        set(&mut mb, root, "AppPoolId", Value::String("DefaultAppPool".into()));
    }
    mb
}
