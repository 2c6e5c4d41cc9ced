//! Registering ASP.NET runtimes with IIS: script-map passes, uninstall remaps and the
//! machine-wide shared resources (MAP-, REG-, SET-, SHR-, VER-07).
//!
//! These are machine operations: the admin tools and setup call them, whatever front end
//! drives the machine.

pub mod maps;
mod shared;

use shared::{
    add_mime_types, add_powered_by, first_install_defaults, refresh_root_ver, remove_default_aspx, remove_list_items,
    remove_mime_types, set_extension_allowed, sync_outside_metabase, sync_shared,
};
pub use shared::{install_client_scripts, remove_client_scripts};

use crate::machine::journal::Change;
use crate::machine::{IisState, Machine, RuntimeState};
use crate::messages::Catalog;
use crate::metabase::scriptmap::{parse_list, print_list, MapLine};
use crate::metabase::Value;
use crate::policy;
use crate::process::{self, World};
use crate::rules::RuleId;
use crate::runtime::{self, Bitness, Version};

/// The web service root whose map is the machine default (MAP-06).
pub const W3SVC: &str = "/LM/W3SVC";

/// Registry key holding per-version ASP.NET keys and RootVer (VER-07).
pub const ASPNET_REG: &str = "HKLM\\SOFTWARE\\Microsoft\\ASP.NET";

/// Registry key of the state service (SHR-06).
pub use crate::machine::STATE_SERVICE_REG;

/// The custom header registration writes at the root (HDR-02).
pub const POWERED_BY: &str = "X-Powered-By: ASP.NET";

/// How a registration pass treats existing script maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// `-i`: upgrade lower versions, never downgrade (REG-03).
    Install,
    /// `-ir`: register without touching maps (REG-04).
    RegisterOnly,
    /// `-iru`: `-i` when no ASP.NET map exists, else `-ir` (REG-05).
    InstallUnlessUsed,
    /// `-r`: point every ASP.NET map at this version (REG-06).
    ReplaceAll,
    /// Framework setup: move only compatible older apps, unless `/noaspupgrade` (SET-01..04).
    Setup {
        /// False with `/noaspupgrade`.
        upgrade: bool,
    },
}

/// What a registration did, for the tool to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    /// The pass actually run (`-iru` resolves to `Install` or `RegisterOnly`).
    pub pass: Pass,
    /// Units of work done, for the progress dots (REG-19, [`work_since`]).
    pub work: usize,
}

/// Why a script-map operation refused to run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegError {
    /// The tool's runtime is not registered (REG-09).
    #[error("this version of ASP.NET must first be registered")]
    NotRegistered,
    /// No metabase key at the path (REG-09).
    #[error("invalid path {0}")]
    InvalidPath(String),
    /// IIS is not installed (REG-20).
    #[error("IIS is not installed")]
    IisAbsent,
    /// IIS is disabled (REG-20).
    #[error("IIS is disabled")]
    IisDisabled,
}

/// The runtime whose ISAPI a list's deciding entry names, if it is a known folder.
fn list_version(lines: &[MapLine]) -> Option<Version> {
    maps::deciding_entry(lines).and_then(|e| maps::dll_version(&e.processor))
}

/// The runtime that serves a metabase path by its effective ScriptMaps (VER-02, MB-20).
pub fn app_version(m: &Machine, path: &str) -> Option<Version> {
    let (value, _) = m.metabase().effective(path, "ScriptMaps")?;
    list_version(&parse_list(value.as_multi()?))
}

/// The runtime mapped at `/LM/W3SVC`, the machine default (MAP-06).
pub fn root_version(m: &Machine) -> Option<Version> {
    m.metabase().own(W3SVC, "ScriptMaps").and_then(|v| list_version(&parse_list(v.as_multi()?)))
}

/// The runtime whose `aspnet_state.exe` the ASP.NET State Service runs, if it exists (SHR-06).
pub fn state_service_version(m: &Machine) -> Option<Version> {
    m.state_service_version()
}

/// Whether runtime `from` may be moved to `to` by setup (CMP-01, policy compat).
pub fn compatible(m: &Machine, from: Version, to: Version) -> bool {
    if m.policies().is(policy::COMPAT, "any_later") {
        return true;
    }
    from.major() == to.major()
}

/// Paths (at or below `base`) of keys that set ScriptMaps, in path order (MAP-05).
fn explicit_map_keys(m: &Machine, base: &str) -> Vec<String> {
    m.metabase().subtree(base).filter(|k| k.get("ScriptMaps").is_some()).map(|k| k.path().to_string()).collect()
}

/// The own ScriptMaps of a key, parsed.
fn own_maps(m: &Machine, path: &str) -> Option<Vec<MapLine>> {
    m.metabase().own(path, "ScriptMaps").and_then(Value::as_multi).map(parse_list)
}

/// Whether the deciding ASP.NET entry names a DLL that is not on disk or not a known runtime.
fn names_missing_dll(m: &Machine, lines: &[MapLine]) -> bool {
    match maps::deciding_entry(lines) {
        None => false,
        Some(e) => maps::dll_version(&e.processor).is_none() || !m.fs().is_file(&m.expand(&e.processor)),
    }
}

/// Whether any key at or below the root maps ASP.NET (REG-05, SET-03).
pub fn any_aspnet_map(m: &Machine) -> bool {
    explicit_map_keys(m, W3SVC).iter().any(|p| own_maps(m, p).is_some_and(|l| maps::has_aspnet(&l)))
}

/// Writes `lines` as the own ScriptMaps of `path`; returns whether the value changed.
fn write_maps(m: &mut Machine, path: &str, lines: &[MapLine], rules: &[RuleId]) -> bool {
    let new = Value::MultiSz(print_list(lines));
    if m.metabase().own(path, "ScriptMaps") == Some(&new) {
        return false;
    }
    m.mb_set(path, "ScriptMaps", new, rules).is_ok()
}

/// Gives `path` the full entry set of `v` (remapping its ASP.NET entries); returns whether it changed.
fn install_at_key(m: &mut Machine, path: &str, v: Version, lines: &[MapLine], rules: &[RuleId]) -> bool {
    let isapi = m.isapi_path(v);
    let wcf = m.runtime(v).wcf;
    let out = maps::install_into(lines, v, wcf, &isapi);
    let from = list_version(lines);
    let mut rules = rules.to_vec();
    let list_rule: RuleId = match v {
        Version::V1_0 | Version::V1_1 => "MAP-02",
        Version::V2_0 => "MAP-03",
        Version::V4_0 => "MAP-04",
    };
    if !maps::has_aspnet(lines) {
        rules.extend(["MAP-01", list_rule]);
    } else if from.is_some_and(|f| f.major() != v.major() || f == Version::V1_0 && v != Version::V1_0) {
        rules.push(list_rule);
    }
    // 1.0 writes forbidden entries without bit 4; leaving 1.0 adds it (MAP-09).
    if (from == Some(Version::V1_0)) != (v == Version::V1_0) || (v == Version::V1_0 && !maps::has_aspnet(lines)) {
        rules.push("MAP-09");
    }
    rules.extend(preserved_format_rules(lines, v));
    rules.dedup();
    write_maps(m, path, &out, &rules)
}

/// The ScriptMaps format rules a remap honours by keeping entries as they are (SM-01..05).
fn preserved_format_rules(lines: &[MapLine], target: Version) -> Vec<RuleId> {
    let mut rules = Vec::new();
    let entries: Vec<&crate::metabase::scriptmap::MapEntry> = lines.iter().filter_map(MapLine::entry).collect();
    if lines.iter().any(|l| l.entry().is_none()) {
        rules.push("SM-01");
    }
    // An entry spelled in another case than the runtime's list still matches (SM-02).
    let known: Vec<&str> = target.executed_extensions(true).into_iter().chain(target.forbidden_extensions()).collect();
    let other_case = |ext: &str| known.iter().any(|k| k.eq_ignore_ascii_case(ext) && *k != ext);
    if entries.iter().any(|e| e.is_aspnet() && other_case(&e.extension)) {
        rules.push("SM-02");
    }
    if entries.iter().any(|e| e.flags & !5 != 0) {
        rules.push("SM-03");
    }
    let default_verbs: Vec<String> = maps::ASPNET_VERBS.iter().map(|v| v.to_string()).collect();
    if entries.iter().any(|e| e.is_aspnet() && e.verbs != default_verbs) {
        rules.push("SM-04");
    }
    if entries.iter().any(|e| e.is_wildcard()) {
        rules.push("SM-05");
    }
    rules
}

/// The base key's list: its own ScriptMaps, or a copy of its effective value (MAP-08).
fn own_or_copied(m: &Machine, path: &str) -> Vec<MapLine> {
    if let Some(l) = own_maps(m, path) {
        return l;
    }
    m.metabase().effective(path, "ScriptMaps").and_then(|(v, _)| v.as_multi().map(parse_list)).unwrap_or_default()
}

fn check_iis(m: &Machine) -> Result<(), RegError> {
    match m.iis() {
        IisState::Installed => Ok(()),
        IisState::Absent => Err(RegError::IisAbsent),
        IisState::Disabled => Err(RegError::IisDisabled),
    }
}

/// How much work the changes since `mark` are: one unit per distinct metabase key, registry key,
/// file or folder, shared resource, service and runtime record changed. The tool prints one
/// progress dot per unit (REG-19); events and notes are not work.
pub fn work_since(m: &Machine, mark: usize) -> usize {
    let mut things: Vec<(u8, String)> = Vec::new();
    for e in m.effects_since(mark) {
        match &e.change {
            Change::Property { path, .. } | Change::KeyCreated { path, .. } | Change::KeyDeleted { path } => {
                things.push((0, path.to_ascii_lowercase()))
            }
            Change::Registry { key, .. } | Change::RegistryKey { key, .. } => {
                things.push((1, key.to_ascii_lowercase()))
            }
            Change::Files { dir, names, .. } if names.is_empty() => things.push((2, dir.to_ascii_lowercase())),
            Change::Files { dir, names, .. } => {
                things.extend(names.iter().map(|n| (2, format!("{dir}\\{n}").to_ascii_lowercase())))
            }
            Change::Resource { name, .. } => things.push((3, name.clone())),
            Change::Service { name, .. } => things.push((4, name.to_ascii_lowercase())),
            Change::Runtime { text } => things.push((5, text.clone())),
            Change::Event(_) | Change::Process { .. } | Change::Decision { .. } | Change::Note { .. } => {}
        }
    }
    things.sort();
    things.dedup();
    things.len()
}

/// Registers runtime `v` with IIS and runs a script-map pass (REG-03..06, SET-01..05, SHR-).
pub fn register(m: &mut Machine, w: &mut World, v: Version, pass: Pass, enable: Option<bool>) -> Registered {
    let mark = m.effect_mark();
    let cat = Catalog::of(v);
    let flags = match pass {
        Pass::Install | Pass::Setup { .. } => 1,
        Pass::RegisterOnly => 2,
        Pass::InstallUnlessUsed => 3,
        Pass::ReplaceAll => 4,
    };
    log(m, v, cat.start_registering(flags), &["SET-10", "VER-05"]);
    // "First" means no other runtime is registered: a registration whose metabase work was
    // skipped (SET-05) still counts as first when -i later does that work.
    let first = m.registered().iter().all(|r| *r == v);
    let mut state = m.runtime(v);
    state.registered = true;
    m.set_runtime(v, state, &format!("ASP.NET {v} registered"), &["VER-07"]);
    let key = format!("{ASPNET_REG}\\{}", v.registry());
    let dir = m.framework_dir(v);
    m.reg_set(&key, "Path", &dir, &["VER-07"]);
    m.reg_set(&key, "DllFullPath", &m.isapi_path(v), &["VER-07"]);

    let pass = match pass {
        Pass::InstallUnlessUsed => {
            let (resolved, why) = if m.policies().is(policy::IRU_MODE, "always_ir") {
                (Pass::RegisterOnly, "policy regiis.iru_mode = always_ir")
            } else if any_aspnet_map(m) {
                (Pass::RegisterOnly, "a key already maps ASP.NET")
            } else {
                (Pass::Install, "no key maps ASP.NET yet")
            };
            let like = if resolved == Pass::Install { "-i" } else { "-ir" };
            m.note(format!("-iru acts as {like}: {why}"), &["REG-05"]);
            resolved
        }
        p => p,
    };
    if check_iis(m).is_err() {
        log(m, v, cat.iis_missing(), &["SET-05"]);
    } else {
        match pass {
            Pass::Install => install_pass(m, v),
            Pass::ReplaceAll => replace_pass(m, v),
            Pass::Setup { upgrade } => setup_pass(m, v, upgrade),
            Pass::RegisterOnly | Pass::InstallUnlessUsed => {
                m.note(format!("script maps left unchanged by the registration of {v}"), &["REG-04"]);
            }
        }
        if first {
            first_install_defaults(m);
        }
        add_mime_types(m);
        add_powered_by(m);
    }
    sync_shared(m, w, &["SHR-01", "SHR-03", "SHR-04", "SHR-05", "SHR-06", "SHR-07", "SHR-08", "SHR-09"]);
    // After the sync, so that a first registration's new extension row exists to be set.
    if let (Some(allow), Ok(())) = (enable, check_iis(m)) {
        set_extension_allowed(m, v, allow);
    }
    if check_iis(m).is_ok() {
        install_client_scripts(m, v);
    }
    let log_path = format!("{}\\TEMP\\ASPNETSetup_{:05}.log", m.windir(), m.next_counter("setup-log"));
    log(m, v, cat.finish_registering(&log_path), &["SET-10"]);
    Registered { pass, work: work_since(m, mark) }
}

fn log(m: &mut Machine, v: Version, e: crate::messages::EventText, rules: &[RuleId]) {
    m.log_event(e.level, &Catalog::of(v).source(), e.id, &e.message, rules);
}

/// `-i`: upgrade lower versions, never downgrade; refuse when the root maps a higher one (REG-03, MAP-10).
fn install_pass(m: &mut Machine, v: Version) {
    if let Some(rv) = root_version(m) {
        if rv > v {
            log(m, v, Catalog::of(v).root_too_high(rv), &["REG-03"]);
            return;
        }
    }
    // The root's map is the machine default: -i always gives a root without ASP.NET this version
    // (REG-03, MAP-06), whatever policy regiis.readd_stripped_keys says of other keys.
    let root = own_or_copied(m, W3SVC);
    if !maps::has_aspnet(&root) || names_missing_dll(m, &root) {
        let stripped = m.metabase().own(W3SVC, "ScriptMaps").is_some();
        let rules: &[RuleId] = if stripped { &["REG-03", "MAP-06", "MAP-10"] } else { &["REG-03", "MAP-06"] };
        install_at_key(m, W3SVC, v, &root, rules);
    }
    let same_major_only = m.policies().is(policy::I_UPGRADE_SCOPE, "lower_same_major");
    let readd = m.policies().flag(policy::READD_STRIPPED_KEYS);
    for path in explicit_map_keys(m, W3SVC) {
        let Some(lines) = own_maps(m, &path) else { continue };
        let stripped = !maps::has_aspnet(&lines) || names_missing_dll(m, &lines);
        match list_version(&lines) {
            _ if stripped && readd => {
                install_at_key(m, &path, v, &lines, &["MAP-10", "REG-03"]);
            }
            _ if stripped => {}
            Some(kv) if kv == v || (kv < v && (!same_major_only || kv.major() == v.major())) => {
                install_at_key(m, &path, v, &lines, &["REG-03", "MAP-07"]);
            }
            Some(kv) => {
                let why = if kv > v { "a higher version is never downgraded" } else { "policy regiis.i_upgrade_scope" };
                m.note(format!("{path} stays on {kv}: {why}"), &["REG-03"]);
            }
            None => {}
        }
    }
}

/// `-r`: every ASP.NET map at and below the root moves to `v`, whatever its version (REG-06).
fn replace_pass(m: &mut Machine, v: Version) {
    for path in explicit_map_keys(m, W3SVC) {
        let Some(lines) = own_maps(m, &path) else { continue };
        if maps::has_aspnet(&lines) {
            install_at_key(m, &path, v, &lines, &["REG-06", "MAP-07"]);
        }
    }
}

/// Setup: move apps to `v` only from older compatible versions (SET-01..04, CMP-01, MAP-10).
fn setup_pass(m: &mut Machine, v: Version, upgrade: bool) {
    if !any_aspnet_map(m) {
        // Nothing maps ASP.NET yet: setup maps the root like -i (SET-03), even with /noaspupgrade,
        // which only protects applications that already use ASP.NET.
        let lines = own_or_copied(m, W3SVC);
        install_at_key(m, W3SVC, v, &lines, &["SET-03", "MAP-06"]);
    }
    if !upgrade {
        m.note(format!("setup of {v} with /noaspupgrade: no existing script map moves"), &["SET-02"]);
        return;
    }
    let readd = m.policies().flag(policy::READD_STRIPPED_KEYS);
    for path in explicit_map_keys(m, W3SVC) {
        let Some(lines) = own_maps(m, &path) else { continue };
        if !maps::has_aspnet(&lines) || names_missing_dll(m, &lines) {
            if readd {
                install_at_key(m, &path, v, &lines, &["MAP-10", "SET-01"]);
            }
            continue;
        }
        let Some(kv) = list_version(&lines) else { continue };
        if kv == v {
            continue;
        }
        if kv < v && compatible(m, kv, v) {
            let rules: &[RuleId] = if kv == Version::V1_0 && v == Version::V1_1 {
                &["SET-02", "SET-01", "CMP-01", "MAP-07"]
            } else {
                &["SET-01", "CMP-01", "MAP-07"]
            };
            install_at_key(m, &path, v, &lines, rules);
        } else if kv < v {
            let rules: &[RuleId] = match v {
                Version::V2_0 => &["SET-03", "SET-01", "CMP-01"],
                Version::V4_0 => &["SET-04", "SET-01", "CMP-01"],
                _ => &["SET-01", "CMP-01"],
            };
            m.note(format!("{path} stays on {kv}: {v} is not compatible with it"), rules);
        } else {
            m.note(format!("{path} stays on {kv}: setup never moves an application to an older version"), &["SET-01"]);
        }
    }
}

/// Keys that set ScriptMaps strictly below `base` (MAP-05).
fn explicit_below(m: &Machine, base: &str) -> Vec<String> {
    explicit_map_keys(m, base).into_iter().filter(|p| !p.eq_ignore_ascii_case(base)).collect()
}

/// The keys a `-s`/`-k` family switch edits: the base, and with recursion every key below it that
/// sets ScriptMaps (MAP-08).
fn targets(m: &Machine, base: &str, recursive: bool) -> Vec<String> {
    let mut t = vec![base.to_string()];
    if recursive {
        t.extend(explicit_below(m, base));
    }
    t
}

/// The key's path as stored; a differently cased argument still finds it (MB-15).
fn stored_path(m: &mut Machine, path: &str) -> String {
    let stored = m.metabase().key(path).map(|k| k.path().to_string()).unwrap_or_default();
    if stored != crate::metabase::normalize(path) {
        m.note(
            format!("{path} names the key {stored}: metabase paths compare case-insensitively"),
            &["MB-15", "REG-09"],
        );
    }
    stored
}

/// `-s`/`-sn`: installs `v`'s maps at `path` (and, when recursive, at every key below that sets
/// ScriptMaps) (REG-07, REG-08, MAP-07, MAP-08).
pub fn install_maps(m: &mut Machine, v: Version, path: &str, recursive: bool) -> Result<usize, RegError> {
    check_iis(m)?;
    if !m.runtime(v).registered {
        return Err(RegError::NotRegistered);
    }
    if !m.metabase().exists(path) {
        return Err(RegError::InvalidPath(path.to_string()));
    }
    let mark = m.effect_mark();
    let force = m.policies().flag(policy::S_FORCES_VERSION);
    let switch: RuleId = if recursive { "REG-07" } else { "REG-08" };
    let base = stored_path(m, path);
    for target in targets(m, &base, recursive) {
        let copied = own_maps(m, &target).is_none();
        let lines = own_or_copied(m, &target);
        if let Some(kv) = list_version(&lines) {
            if kv > v && !force {
                m.note(format!("{target} stays on {kv}: policy regiis.s_forces_version is false"), &[switch]);
                continue;
            }
        }
        let rules: Vec<RuleId> =
            if copied { vec![switch, "MAP-08", "MB-17", "MAP-07"] } else { vec![switch, "MAP-07"] };
        install_at_key(m, &target, v, &lines, &rules);
    }
    if !recursive {
        for child in explicit_below(m, &base) {
            m.note(format!("{child} keeps its own script maps"), &["REG-08", "MAP-05"]);
        }
    }
    refresh_root_ver(m);
    Ok(work_since(m, mark))
}

/// `-k`/`-kn`: removes every ASP.NET entry at `path` (and below when recursive) (REG-10, MAP-08).
pub fn strip_maps(m: &mut Machine, path: &str, recursive: bool) -> Result<usize, RegError> {
    check_iis(m)?;
    if !m.metabase().exists(path) {
        return Err(RegError::InvalidPath(path.to_string()));
    }
    let mark = m.effect_mark();
    let base = stored_path(m, path);
    for target in targets(m, &base, recursive) {
        let copied = own_maps(m, &target).is_none();
        let lines = own_or_copied(m, &target);
        let rules: &[RuleId] = if copied { &["REG-10", "MAP-08", "MB-17"] } else { &["REG-10"] };
        if copied || maps::has_aspnet(&lines) {
            write_maps(m, &target, &maps::strip(&lines), rules);
        }
    }
    refresh_root_ver(m);
    Ok(work_since(m, mark))
}

/// Unregisters runtime `v`: its maps move to the highest remaining runtime, or ASP.NET is
/// removed entirely when none is left (REG-11, SET-06, SET-07).
pub fn unregister(m: &mut Machine, w: &mut World, v: Version) -> usize {
    let mark = m.effect_mark();
    let cat = Catalog::of(v);
    log(m, v, cat.start_unregistering(), &["SET-10"]);
    if m.runtime(v).registered {
        let mut state = m.runtime(v);
        state.registered = false;
        m.set_runtime(v, state, &format!("ASP.NET {v} unregistered"), &["REG-11", "VER-07"]);
        m.reg_delete_key(&format!("{ASPNET_REG}\\{}", v.registry()), &["SET-06", "VER-07"]);
    }
    let target = m.highest_registered();
    if check_iis(m).is_ok() {
        for path in explicit_map_keys(m, W3SVC) {
            let Some(lines) = own_maps(m, &path) else { continue };
            let names_v = lines.iter().filter_map(MapLine::entry).any(|e| maps::dll_version(&e.processor) == Some(v));
            if !names_v {
                continue;
            }
            match target {
                Some(t) => {
                    install_at_key(m, &path, t, &lines, &["REG-11", "SET-06", "MAP-07"]);
                }
                None => {
                    write_maps(m, &path, &maps::strip(&lines), &["SET-07"]);
                }
            }
        }
        if m.policies().flag(policy::REMOVE_POWERED_BY) {
            remove_list_items(m, W3SVC, "HttpCustomHeaders", &[POWERED_BY], &["HDR-02"]);
        }
        remove_client_scripts(m, Some(v), &["SET-06", "SHR-09"]);
        if target.is_none() {
            log(m, v, cat.clean_uninstall(), &["SET-07"]);
            remove_default_aspx(m);
            remove_mime_types(m);
        }
    }
    let set_rule: RuleId = if target.is_some() { "SET-06" } else { "SET-07" };
    sync_shared(m, w, &[set_rule, "SHR-01", "SHR-03", "SHR-04", "SHR-05", "SHR-06", "SHR-07", "SHR-08", "SHR-09"]);
    log(m, v, cat.finish_unregistering(), &["SET-10"]);
    work_since(m, mark)
}

/// The runtimes some key's own ScriptMaps names, oldest first (VER-02).
pub fn mapped_versions(m: &Machine) -> Vec<Version> {
    let mut found: Vec<Version> = explicit_map_keys(m, W3SVC)
        .iter()
        .filter_map(|p| own_maps(m, p))
        .flat_map(|lines| {
            lines.iter().filter_map(MapLine::entry).filter_map(|e| maps::dll_version(&e.processor)).collect::<Vec<_>>()
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Takes a metabase read from a file as it is: every installed runtime its script maps name
/// counts as registered, with its registry key, and RootVer follows the root's map; nothing of
/// setup's metabase work is replayed (VER-07, MB-01).
pub fn adopt_metabase(m: &mut Machine, w: &mut World) -> Vec<Version> {
    let mapped = mapped_versions(m);
    for &v in &mapped {
        if !m.runtime(v).installed {
            m.note(
                format!("the script maps name ASP.NET {v}, which is not installed: it stays unregistered"),
                &["VER-02", "VER-07"],
            );
            continue;
        }
        let mut state = m.runtime(v);
        state.registered = true;
        m.set_runtime(
            v,
            state,
            &format!("ASP.NET {v} registered: the imported script maps use it"),
            &["VER-07", "VER-02"],
        );
        let key = format!("{ASPNET_REG}\\{}", v.registry());
        let dir = m.framework_dir(v);
        m.reg_set(&key, "Path", &dir, &["VER-07"]);
        m.reg_set(&key, "DllFullPath", &m.isapi_path(v), &["VER-07"]);
    }
    sync_outside_metabase(m, w, &["VER-07"]);
    mapped
}

/// Restarts W3SVC as registration does: events 1023 and 1025 (REG-16).
pub fn restart_w3svc(m: &mut Machine, w: &mut World, v: Version) {
    if m.iis() != IisState::Installed {
        return;
    }
    let cat = Catalog::of(v);
    log(m, v, cat.restarting_w3svc(), &["REG-16"]);
    m.service_action("W3SVC", "restarted: every site blinks, every worker process ends", &["REG-16"]);
    process::restart_w3svc(m, w, "W3SVC restarted", &["REG-16", "IIR-04"]);
    log(m, v, cat.finished_restarting_w3svc(), &["REG-16"]);
}

/// The state `-lv` reports for a registered runtime (REG-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStatus {
    /// Mapped at `/LM/W3SVC`.
    ValidRoot,
    /// Registered, DLL present.
    Valid,
    /// DLL missing.
    Invalid,
}

/// `-lv`: every registered runtime with its status and ISAPI path (REG-13).
pub fn list_versions(m: &Machine) -> Vec<(Version, ListStatus, String)> {
    let root = root_version(m);
    m.registered()
        .into_iter()
        .map(|v| {
            let dll = m.isapi_path(v);
            let status = if !m.fs().is_file(&dll) {
                ListStatus::Invalid
            } else if root == Some(v) {
                ListStatus::ValidRoot
            } else {
                ListStatus::Valid
            };
            (v, status, dll)
        })
        .collect()
}

/// `-lk`: every key that sets ScriptMaps with ASP.NET entries, and their version (REG-14, MAP-05).
pub fn list_keys(m: &Machine) -> Vec<(String, Option<Version>)> {
    explicit_map_keys(m, W3SVC)
        .into_iter()
        .filter_map(|p| {
            let lines = own_maps(m, &p)?;
            maps::has_aspnet(&lines).then(|| {
                let v = list_version(&lines).filter(|v| {
                    let e = maps::deciding_entry(&lines).map(|e| m.expand(&e.processor)).unwrap_or_default();
                    m.fs().is_file(&e) && m.runtime(*v).installed
                });
                (p, v)
            })
        })
        .collect()
}

/// Installs a framework's files, with the Framework64 copy on x64 (VER-01, SHR-07).
pub fn install_files(m: &mut Machine, v: Version, wcf: bool) {
    let dir = m.framework_dir_of(v, Bitness::X86);
    m.fs_create_files(&dir, &runtime::folder_files(v), &["VER-01", "SHR-07"]);
    if m.is_x64() && v.has_framework64() {
        let dir64 = m.framework_dir_of(v, Bitness::X64);
        m.fs_create_files(&dir64, &runtime::folder_files(v), &["VER-01", "SHR-07"]);
    }
    let mut state = m.runtime(v);
    state.installed = true;
    state.wcf |= wcf;
    m.set_runtime(v, state, &format!(".NET Framework {v} files installed in {dir}"), &["VER-01"]);
}

/// Removes a framework's files (SET-06).
pub fn remove_files(m: &mut Machine, v: Version) {
    for b in [Bitness::X86, Bitness::X64] {
        let dir = m.framework_dir_of(v, b);
        m.fs_delete(&dir, &["SET-06", "SHR-09"]);
    }
    m.set_runtime(v, RuntimeState::default(), &format!(".NET Framework {v} removed"), &["SET-06"]);
}

/// Adds .NET 3.x on top of 2.0: WCF/WF extensions join every 2.0 map (VER-03, MAP-03).
pub fn add_wcf(m: &mut Machine) {
    let v = Version::V2_0;
    let mut state = m.runtime(v);
    state.wcf = true;
    m.set_runtime(v, state, ".NET Framework 3.x installed on top of CLR 2.0", &["VER-03"]);
    if check_iis(m).is_err() {
        return;
    }
    for path in explicit_map_keys(m, W3SVC) {
        let Some(lines) = own_maps(m, &path) else { continue };
        if list_version(&lines) == Some(v) {
            install_at_key(m, &path, v, &lines, &["MAP-03", "VER-03"]);
        }
    }
}

/// `-ua`: unregisters every runtime at once; every ASP.NET entry goes (REG-12, SET-07).
pub fn unregister_all(m: &mut Machine, w: &mut World) -> usize {
    let mark = m.effect_mark();
    let all = m.registered();
    for &v in all.iter().rev() {
        log(m, v, Catalog::of(v).start_unregistering(), &["SET-10", "REG-12"]);
        let mut state = m.runtime(v);
        state.registered = false;
        m.set_runtime(v, state, &format!("ASP.NET {v} unregistered"), &["REG-12", "VER-07"]);
        m.reg_delete_key(&format!("{ASPNET_REG}\\{}", v.registry()), &["REG-12", "VER-07"]);
    }
    if check_iis(m).is_ok() {
        for path in explicit_map_keys(m, W3SVC) {
            let Some(lines) = own_maps(m, &path) else { continue };
            if maps::has_aspnet(&lines) {
                write_maps(m, &path, &maps::strip(&lines), &["REG-12", "SET-07"]);
            }
        }
        if !all.is_empty() && m.policies().flag(policy::REMOVE_POWERED_BY) {
            remove_list_items(m, W3SVC, "HttpCustomHeaders", &[POWERED_BY], &["HDR-02", "SET-07"]);
        }
        if !all.is_empty() {
            remove_client_scripts(m, None, &["REG-12", "SHR-09"]);
            remove_default_aspx(m);
            remove_mime_types(m);
        }
    }
    sync_shared(m, w, &["SET-07", "SHR-01", "SHR-03", "SHR-04", "SHR-05", "SHR-06", "SHR-07", "SHR-08", "SHR-09"]);
    for &v in all.iter().rev() {
        log(m, v, Catalog::of(v).finish_unregistering(), &["SET-10", "REG-12"]);
    }
    work_since(m, mark)
}

/// Records a management option of the 2.0+ tool (REG-18) as a shared resource.
pub fn record_management(m: &mut Machine, resource: &str, value: Option<String>) {
    m.set_resource(resource, value, &["REG-18"]);
}
