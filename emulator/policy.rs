//! Named policies: iisim's choices where the sources are thin or conflict, settable per scenario.

use std::collections::BTreeMap;

use crate::rules::RuleId;

/// One policy: its name, the values it takes (the first is the default) and the rules it decides.
#[derive(Debug, Clone, Copy)]
pub struct PolicyDef {
    /// Dotted name, e.g. `regiis.s_forces_version`.
    pub name: &'static str,
    /// Allowed values; the first is the default.
    pub values: &'static [&'static str],
    /// Rules whose open question the policy answers.
    pub rules: &'static [RuleId],
    /// One line saying what the policy decides.
    pub doc: &'static str,
}

impl PolicyDef {
    /// The default value.
    pub fn default_value(&self) -> &'static str {
        self.values[0]
    }
}

/// `-s`/`-sn` set the tool's version even when the key maps a later one.
pub const S_FORCES_VERSION: &str = "regiis.s_forces_version";
/// Which existing maps `-i` upgrades.
pub const I_UPGRADE_SCOPE: &str = "regiis.i_upgrade_scope";
/// What `-iru` does.
pub const IRU_MODE: &str = "regiis.iru_mode";
/// Column separator of `-lv` and `-lk`.
pub const LIST_LAYOUT: &str = "regiis.list_layout";
/// Which switches the 1.0 tool accepts.
pub const V10_OPTIONS: &str = "regiis.v10_options";
/// Whether full passes give ASP.NET back to keys stripped of it.
pub const READD_STRIPPED_KEYS: &str = "regiis.readd_stripped_keys";
/// Whether the 1.1 tool accepts `-enable`/`-disable`.
pub const ENABLE_IN_V11: &str = "regiis.enable_in_v11";
/// How progress lines print the version.
pub const PROGRESS_VERSION: &str = "regiis.progress_version";
/// Which tools print a banner.
pub const BANNER: &str = "regiis.banner";
/// Which four-part file versions the runtimes carry.
pub const FILE_VERSIONS: &str = "runtime.file_versions";
/// Initial Web Service Extension state after registration on IIS 6.
pub const WSE_INITIAL_STATE: &str = "setup.wse_initial_state";
/// Whether uninstalling a runtime deletes `X-Powered-By`.
pub const REMOVE_POWERED_BY: &str = "uninstall.remove_powered_by";
/// The global filter's FilterDescription.
pub const FILTER_DESCRIPTION: &str = "filter.description";
/// Which version pairs count as compatible.
pub const COMPAT: &str = "compat";
/// How new site IDs are chosen.
pub const SITE_ID_ALLOC: &str = "mb.site_id_alloc";
/// The metabase namespace version written for a metabase not read from a file.
pub const MB_NAMESPACE_VERSION: &str = "mb.namespace_version";
/// When the in-memory metabase reaches MetaBase.xml.
pub const MB_FLUSH: &str = "mb.flush";
/// Web gardens on IIS 5: per runtime.
pub const PM5_WEBGARDEN_PER_RUNTIME: &str = "pm5.webgarden_per_runtime";
/// Whether every 1.x runtime comes with the KB 812833 update already applied.
pub const PM5_KB812833_INSTALLED: &str = "pm5.kb812833_installed";
/// Whether a dllhost without IWAM permissions fails ASP.NET requests.
pub const KB812833_IWAM_CHECK: &str = "kb812833.iwam_check";
/// How often event 1062 is written.
pub const CLR_EVENT1062: &str = "clr.event1062";
/// Status of the Server Application Unavailable page.
pub const CLR_UNAVAILABLE_STATUS: &str = "clr.unavailable_status";
/// What a 1.0 application does in IIS 6 worker process isolation mode.
pub const PM6_V10_IN_WORKER_MODE: &str = "pm6.v10_in_worker_mode";
/// How a web garden spreads requests over its workers.
pub const GARDEN_ROUTING: &str = "garden.routing";
/// Whether out-of-process session items stay addressable when an app changes runtime.
pub const SESSION_CROSS_RUNTIME_ITEMS: &str = "session.cross_runtime_items";
/// Whether 1.0 sends X-AspNet-Version.
pub const HDR_VERSION_HEADER_V10: &str = "hdr.version_header_v10";
/// Whether 1.1/2.0 reject dangerous PATH_INFO characters with 400.
pub const ASPNET_ISAPI_PATH_CHECK: &str = "aspnet.isapi_path_check";
/// What an app targeting a newer runtime than its map gets.
pub const CMP_TARGET_NEWER: &str = "cmp.target_newer_than_runtime";
/// Whether a 1.1 client may use a 2.0 state service.
pub const STATE_V11_CLIENT_OK: &str = "state.v11_client_ok";
/// The status for a verb missing from a script map's verb list.
pub const REQ_VERB_NOT_ALLOWED: &str = "req.verb_not_allowed";
/// The courtesy redirect's status.
pub const REQ_COURTESY_REDIRECT_STATUS: &str = "req.courtesy_redirect_status";
/// Which bindings an HTTP/1.0 request without Host reaches.
pub const REQ_NO_HOST_BINDING: &str = "req.no_host_binding";
/// Status for canonicalisation failures.
pub const SEC_CANON_FAILURE_STATUS: &str = "sec.canon_failure_status";
/// Status for a `:` in a path segment.
pub const SEC_COLON_STATUS: &str = "sec.colon_status";
/// How a `;` inside a segment affects its extension.
pub const SEC_SEMICOLON_EXTENSION: &str = "sec.semicolon_extension";
/// What trailing dots and spaces in the last segment do.
pub const SEC_TRAILING_DOT: &str = "sec.trailing_dot";
/// How IIS 5.x treats `*` and `.*` script maps.
pub const SM_IIS5_WILDCARDS: &str = "sm.iis5_wildcards";
/// Whether a key that sets ScriptMaps still inherits its parent's wildcard maps.
pub const SM_WILDCARD_INHERIT: &str = "sm.wildcard_inherit";
/// What IdleTimeout=0 means.
pub const POOL_IDLE_TIMEOUT_ZERO: &str = "pool.idle_timeout_zero";
/// Where a new cmd.exe session starts.
pub const CMD_START_DIR: &str = "cmd.start_dir";
/// Whether `||` fires on negative exit codes.
pub const CMD_OR_ON_NEGATIVE: &str = "cmd.or_on_negative";
/// Whether `v2.0.50727\aspnet_regiis` resolves under the Framework folder from any directory.
pub const CMD_FRAMEWORK_SHORTHAND: &str = "cmd.framework_shorthand";
/// What follows `exit` in a scenario.
pub const CMD_AFTER_EXIT: &str = "cmd.after_exit";
/// Host that opens `.vbs` files on a fresh machine.
pub const WSH_DEFAULT_HOST: &str = "wsh.default_host";
/// Whether iisext accepts `/RmDep` for `/RemDep`.
pub const IISEXT_RMDEP_ALIAS: &str = "tools.iisext_rmdep_alias";
/// When iisweb /query prints the Host column.
pub const IISWEB_HOST_COLUMN: &str = "tools.iisweb_query_host_column";

/// Every policy iisim knows.
pub static POLICIES: &[PolicyDef] = &[
    PolicyDef {
        name: S_FORCES_VERSION,
        values: &["true", "false"],
        rules: &["REG-07"],
        doc: "-s/-sn write the tool's version even over a later one (false: only lower versions are upgraded)",
    },
    PolicyDef {
        name: I_UPGRADE_SCOPE,
        values: &["lower_any", "lower_same_major"],
        rules: &["REG-03"],
        doc: "-i upgrades every lower version, or only lower versions of its own major",
    },
    PolicyDef {
        name: IRU_MODE,
        values: &["i_if_no_aspnet_else_ir", "always_ir"],
        rules: &["REG-05"],
        doc: "-iru acts as -i when no key maps ASP.NET, else as -ir (always_ir: never maps)",
    },
    PolicyDef {
        name: LIST_LAYOUT,
        values: &["tabs", "spaces"],
        rules: &["REG-13", "REG-14"],
        doc: "-lv/-lk separate columns with TABs, or pad with spaces",
    },
    PolicyDef {
        name: V10_OPTIONS,
        values: &["v11_minus_enable", "same_as_v11"],
        rules: &["REG-02"],
        doc: "the 1.0 tool takes 1.1's switches less -enable/-disable, or exactly 1.1's",
    },
    PolicyDef {
        name: READD_STRIPPED_KEYS,
        values: &["true", "false"],
        rules: &["MAP-10"],
        doc: "-i and setup give the full ASP.NET entry set to keys whose maps name no (or a missing) ASP.NET DLL",
    },
    PolicyDef {
        name: ENABLE_IN_V11,
        values: &["true", "false"],
        rules: &["REG-17"],
        doc: "the 1.1 tool accepts -enable and -disable",
    },
    PolicyDef {
        name: PROGRESS_VERSION,
        values: &["v4_full_build", "short"],
        rules: &["REG-19"],
        doc: "progress lines print 4.0's full file version and the short version of the others, or short for all",
    },
    PolicyDef {
        name: BANNER,
        values: &["v4_only", "none"],
        rules: &["REG-21"],
        doc: "only the 4.0 tool prints its three-line banner, or no tool does",
    },
    PolicyDef {
        name: FILE_VERSIONS,
        values: &["rtm", "latest_sp"],
        rules: &["VER-08"],
        doc: "runtimes carry their RTM file versions, or those of their last service pack",
    },
    PolicyDef {
        name: WSE_INITIAL_STATE,
        values: &["by_version", "allowed", "prohibited"],
        rules: &["SET-04", "SHR-04"],
        doc: "a new ASP.NET Web Service Extension is Allowed for 1.x/2.0 and Prohibited for 4.0, or always one state",
    },
    PolicyDef {
        name: REMOVE_POWERED_BY,
        values: &["true", "false"],
        rules: &["HDR-02"],
        doc: "uninstalling any runtime deletes X-Powered-By from /LM/W3SVC",
    },
    PolicyDef {
        name: FILTER_DESCRIPTION,
        values: &["key_name", "empty"],
        rules: &["SHR-01"],
        doc: "the global filter's FilterDescription is its key name ASP.NET_<V>, or empty",
    },
    PolicyDef {
        name: COMPAT,
        values: &["same_major", "any_later"],
        rules: &["CMP-01", "SET-01"],
        doc: "versions are compatible when they share a major version, or every later version counts as compatible",
    },
    PolicyDef {
        name: SITE_ID_ALLOC,
        values: &["by_edition", "sequential"],
        rules: &["MB-14"],
        doc: "new site IDs: a hash of the name on IIS 6 and 2, 3, ... on IIS 5.x, or sequential everywhere",
    },
    PolicyDef {
        name: MB_NAMESPACE_VERSION,
        values: &["V64_0", "V54_0"],
        rules: &["MB-04"],
        doc: "the MetaBase.xml namespace version written for a metabase iisim built; an imported file keeps its own",
    },
    PolicyDef {
        name: MB_FLUSH,
        values: &["on_stop_and_save", "on_save"],
        rules: &["MB-02"],
        doc: "the in-memory metabase is written to MetaBase.xml when IIS stops (iisreset) and on an explicit save, or on an explicit save only",
    },
    PolicyDef {
        name: PM5_WEBGARDEN_PER_RUNTIME,
        values: &["true", "false"],
        rules: &["PM5-06"],
        doc: "webGarden applies per runtime: each runtime's aspnet_wp set follows its own machine.config",
    },
    PolicyDef {
        name: PM5_KB812833_INSTALLED,
        values: &["false", "true"],
        rules: &["PM5-11", "KB-02"],
        doc: "1.x runtimes start without the KB 812833 update (true: every 1.x runtime has it)",
    },
    PolicyDef {
        name: KB812833_IWAM_CHECK,
        values: &["true", "false"],
        rules: &["KB-06"],
        doc: "ASP.NET in a dllhost fails until IWAM_<machine> has ASPNET's permissions",
    },
    PolicyDef {
        name: CLR_EVENT1062,
        values: &["once_per_process", "every_request"],
        rules: &["CLR-02"],
        doc: "event 1062 is written once per losing DLL per process, or on every refused request",
    },
    PolicyDef {
        name: CLR_UNAVAILABLE_STATUS,
        values: &["500", "503"],
        rules: &["CLR-03"],
        doc: "status line of the Server Application Unavailable page",
    },
    PolicyDef {
        name: PM6_V10_IN_WORKER_MODE,
        values: &["unavailable", "runs"],
        rules: &["PM6-04"],
        doc: "a 1.0 application requested in worker process isolation mode gets the unavailable page, or runs",
    },
    PolicyDef {
        name: GARDEN_ROUTING,
        values: &["round_robin", "sticky"],
        rules: &["SES-05"],
        doc: "a web garden hands successive requests to its workers in turn, or keeps a client on one worker",
    },
    PolicyDef {
        name: SESSION_CROSS_RUNTIME_ITEMS,
        values: &["keep", "lose"],
        rules: &["SES-07"],
        doc: "out-of-process session items stay readable when an app moves to another runtime",
    },
    PolicyDef {
        name: HDR_VERSION_HEADER_V10,
        values: &["false", "true"],
        rules: &["HDR-01"],
        doc: "1.0 responses carry no X-AspNet-Version header",
    },
    PolicyDef {
        name: ASPNET_ISAPI_PATH_CHECK,
        values: &["true", "false"],
        rules: &["HDR-06"],
        doc: "1.1 and 2.0 answer 400 for PATH_INFO holding < > * % & :, .. or control characters",
    },
    PolicyDef {
        name: CMP_TARGET_NEWER,
        values: &["config_error", "runs"],
        rules: &["CMP-02"],
        doc: "an app built for a newer runtime than its map answers a configuration error page (500)",
    },
    PolicyDef {
        name: STATE_V11_CLIENT_OK,
        values: &["true", "false"],
        rules: &["SES-08"],
        doc: "a 1.1 application may keep its sessions in a 2.0 or later state service",
    },
    PolicyDef {
        name: REQ_VERB_NOT_ALLOWED,
        values: &["403.1", "405"],
        rules: &["REQ-10"],
        doc: "a verb missing from the matching script map's list is refused with this status",
    },
    PolicyDef {
        name: REQ_COURTESY_REDIRECT_STATUS,
        values: &["by_version", "301", "302"],
        rules: &["REQ-08", "HTTP-29"],
        doc: "status of the courtesy redirect from a directory URL to the same URL with a slash: 301 on IIS 6, 302 on IIS 5.x",
    },
    PolicyDef {
        name: REQ_NO_HOST_BINDING,
        values: &["non_host_only", "any"],
        rules: &["REQ-04"],
        doc: "an HTTP/1.0 request without Host reaches only bindings without a host name",
    },
    PolicyDef {
        name: SEC_CANON_FAILURE_STATUS,
        values: &["400", "404"],
        rules: &["REQ-03", "SEC-02", "SEC-03"],
        doc: "status for a URL that cannot be canonicalised",
    },
    PolicyDef {
        name: SEC_COLON_STATUS,
        values: &["404", "400"],
        rules: &["SEC-05"],
        doc: "status for a `:` inside a path segment (alternate data streams)",
    },
    PolicyDef {
        name: SEC_SEMICOLON_EXTENSION,
        values: &["iis6", "strict"],
        rules: &["SEC-08", "SM-10"],
        doc: "a segment's extension ends at its first `;` as on IIS 5/6, or such segments get 404",
    },
    PolicyDef {
        name: SEC_TRAILING_DOT,
        values: &["strip", "reject"],
        rules: &["SEC-06"],
        doc: "trailing dots and spaces of the last segment are stripped before the extension is read, or answer 404",
    },
    PolicyDef {
        name: SM_IIS5_WILDCARDS,
        values: &["dotstar_only", "none", "iis6"],
        rules: &["SM-06"],
        doc: "on IIS 5.x `*` maps are inert and `.*` matches any otherwise unmapped extension (none: both inert; iis6: as on IIS 6)",
    },
    PolicyDef {
        name: SM_WILDCARD_INHERIT,
        values: &["whole_value", "separate"],
        rules: &["SM-08"],
        doc: "a key that sets ScriptMaps replaces both kinds of entry, or still inherits its parent's wildcard maps when it has none",
    },
    PolicyDef {
        name: POOL_IDLE_TIMEOUT_ZERO,
        values: &["never", "immediate"],
        rules: &["PM6-05"],
        doc: "IdleTimeout = 0 means a pool's workers never shut down for idleness",
    },
    PolicyDef {
        name: CMD_START_DIR,
        values: &["userprofile", "system32"],
        rules: &["CMD-01"],
        doc: "a new command prompt starts in %USERPROFILE% (Start > Run > cmd), or in %windir%\\system32",
    },
    PolicyDef {
        name: CMD_OR_ON_NEGATIVE,
        values: &["fire", "positive_only"],
        rules: &["CMD-05", "CMD-15"],
        doc: "`a || b` runs b for any non-zero exit code of a, negative HRESULTs included (positive_only: Microsoft's wording)",
    },
    PolicyDef {
        name: CMD_FRAMEWORK_SHORTHAND,
        values: &["accept", "strict"],
        rules: &["CMD-07"],
        doc: "a relative program path not found in the current directory is tried under %windir%\\Microsoft.NET\\Framework (strict: as cmd, 9009)",
    },
    PolicyDef {
        name: CMD_AFTER_EXIT,
        values: &["new_session"],
        rules: &["CMD-26"],
        doc: "after `exit` the next step or console line runs in a fresh session",
    },
    PolicyDef {
        name: WSH_DEFAULT_HOST,
        values: &["wscript", "cscript"],
        rules: &["WSH-04"],
        doc: "the host a fresh machine opens .vbs files with (cscript: as after `cscript //h:cscript //s`)",
    },
    PolicyDef {
        name: IISEXT_RMDEP_ALIAS,
        values: &["accept", "refuse"],
        rules: &["EXT-01"],
        doc: "iisext.vbs takes /RmDep as the documented /RemDep",
    },
    PolicyDef {
        name: IISWEB_HOST_COLUMN,
        values: &["when_any_host", "always"],
        rules: &["WEB-02"],
        doc: "iisweb /query prints the Host column only when a listed site has a host header, or always",
    },
];

/// The policy named `name`.
pub fn find(name: &str) -> Option<&'static PolicyDef> {
    POLICIES.iter().find(|p| p.name == name)
}

/// A scenario's policy settings: defaults unless overridden.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    overrides: BTreeMap<&'static str, &'static str>,
}

impl Policies {
    /// Sets a policy; errors name the policy or the values it takes.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let def = find(name).ok_or_else(|| {
            let names: Vec<&str> = POLICIES.iter().map(|p| p.name).collect();
            format!("unknown policy `{name}`, expected one of {}", names.join(", "))
        })?;
        let v = def
            .values
            .iter()
            .find(|v| **v == value)
            .ok_or_else(|| format!("policy `{name}` takes one of {}, not `{value}`", def.values.join(", ")))?;
        if *v == def.default_value() {
            self.overrides.remove(def.name);
        } else {
            self.overrides.insert(def.name, v);
        }
        Ok(())
    }

    /// The value of policy `name` (its default unless overridden).
    pub fn get(&self, name: &str) -> &'static str {
        if let Some(v) = self.overrides.get(name) {
            return v;
        }
        find(name).map(|d| d.default_value()).unwrap_or("")
    }

    /// Whether policy `name` has the value `value`.
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.get(name) == value
    }

    /// Whether a true/false policy is true.
    pub fn flag(&self, name: &str) -> bool {
        self.is(name, "true")
    }

    /// The policies set to a value other than their default, by name.
    pub fn non_default(&self) -> Vec<(&'static str, &'static str)> {
        self.overrides.iter().map(|(k, v)| (*k, *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let mut p = Policies::default();
        assert!(p.flag(S_FORCES_VERSION));
        p.set(S_FORCES_VERSION, "false").unwrap();
        assert!(!p.flag(S_FORCES_VERSION));
        assert_eq!(p.non_default(), [(S_FORCES_VERSION, "false")]);
        p.set(S_FORCES_VERSION, "true").unwrap();
        assert!(p.non_default().is_empty());
        assert!(p.set("no.such", "x").unwrap_err().contains("unknown policy"));
        assert!(p.set(COMPAT, "never").unwrap_err().contains("same_major, any_later"));
    }

    #[test]
    fn every_policy_cites_known_rules() {
        for def in POLICIES {
            assert!(!def.values.is_empty(), "{}", def.name);
            for r in def.rules {
                assert!(crate::rules::find(r).is_some(), "{} cites unknown rule {r}", def.name);
            }
        }
    }
}
