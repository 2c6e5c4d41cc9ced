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
