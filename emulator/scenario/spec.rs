//! The scenario file format (TOML). Unknown keys are errors; values are checked as they load.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::edition::Edition;
use crate::runtime::Version;
use crate::setup::Product;
use crate::sites::Isolation;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// One-line title.
    pub title: String,
    /// Longer explanation, shown in the transcript header.
    #[serde(default)]
    pub description: Option<String>,
    /// Rule IDs the scenario demonstrates; each must be cited by its transcript.
    pub rules: Vec<RuleRef>,
    /// Policy overrides, by name.
    #[serde(default)]
    pub policies: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    /// The starting machine.
    pub machine: MachineSpec,
    /// What happens, in order.
    #[serde(default)]
    pub step: Vec<Spanned<StepSpec>>,
}

/// Declares a newtype read from a TOML string by a parse function; a string it refuses becomes a
/// load error carrying the message, located at the value.
macro_rules! string_arg {
    ($(#[$doc:meta])* $name:ident($inner:ty), $parse:expr, $what:literal, $expected:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                let parse: fn(&str) -> Option<$inner> = $parse;
                parse(&s).map($name).ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("unknown ", $what, " `{}`, ", $expected), s))
                })
            }
        }
    };
}

string_arg!(
    /// A rule ID that the catalog knows.
    RuleRef(&'static str),
    |s| crate::rules::find(s).map(|r| r.id),
    "rule ID",
    "run `iisim rules` for the catalog"
);
string_arg!(
    /// A runtime version as a scenario writes it (`1.1`, `2.0.50727`...).
    VersionArg(Version),
    Version::parse,
    "ASP.NET version",
    "expected 1.0, 1.1, 2.0 or 4.0 (or a full form such as 2.0.50727)"
);
string_arg!(
    /// A setup product (`1.0`…`4.0`, `3.0`, `3.5`, `1.0 SP2`, `KB812833`).
    ProductArg(Product),
    Product::parse,
    ".NET Framework",
    "expected 1.0, 1.1, 2.0, 3.0, 3.5 or 4.0, a service pack (1.0 SP1..SP3, 1.1 SP1, 2.0 SP1..SP2), KB812833 or KB821156"
);
string_arg!(
    /// Application protection as a scenario writes it (`low`, `medium`, `high`).
    IsolationArg(Isolation),
    Isolation::parse,
    "isolation",
    "expected low, medium or high"
);
string_arg!(
    /// A session-state mode (`InProc`, `StateServer`, `SQLServer`, `Off`).
    SessionModeArg(crate::process::session::SessionMode),
    crate::process::session::SessionMode::parse,
    "session state mode",
    "expected InProc, StateServer, SQLServer or Off"
);
string_arg!(
    /// A span of virtual time: `30s`, `20m`, `2h`, `1d`.
    DurationArg(u64),
    parse_duration,
    "duration",
    "expected a number followed by s, m, h or d (e.g. 21m), at most 36500d"
);

/// The longest span the virtual clock holds over a whole scenario: 100 years, in seconds. Longer
/// spans would make the clock wrap, so the loader refuses them.
pub const MAX_CLOCK_SECONDS: u64 = 36_500 * 86_400;

/// The most identical requests one step sends (`repeat`): each is recorded in the transcript.
pub const MAX_REPEAT: u32 = 10_000;

/// Parses `30s`, `20m`, `2h`, `1d` into seconds; spans the virtual clock cannot hold are refused.
pub fn parse_duration(text: &str) -> Option<u64> {
    let t = text.trim();
    let unit = t.chars().last()?;
    let n: u64 = t[..t.len() - unit.len_utf8()].trim().parse().ok()?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    n.checked_mul(mult).filter(|s| *s <= MAX_CLOCK_SECONDS)
}

/// Reads a response status written as an integer (`200`) or a string (`"404.2"`).
fn status_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct StatusVisitor;
    impl serde::de::Visitor<'_> for StatusVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a status such as 200 or \"404.2\"")
        }
        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(Some(n.to_string()))
        }
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(Some(n.to_string()))
        }
        fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "write a sub-status as a string (\"{n}\"): as a number 404.10 and 404.1 are the same"
            )))
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(Some(s.to_string()))
        }
    }
    d.deserialize_any(StatusVisitor)
}

string_arg!(
    /// A Windows edition (`2000`, `xp`, `2003`).
    EditionArg(Edition),
    Edition::parse,
    "edition",
    "expected \"2000\", \"xp\" or \"2003\""
);

/// IIS presence at start.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum IisArg {
    /// Installed and running (default).
    #[default]
    Installed,
    /// Not installed.
    Absent,
    /// Installed, services disabled.
    Disabled,
}

/// IIS 6 isolation mode at start.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum IsolationMode {
    /// Worker process isolation mode (clean-install default).
    #[default]
    Worker,
    /// IIS 5.0 isolation mode.
    Iis5,
}

/// The starting machine.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineSpec {
    /// Windows edition.
    pub edition: EditionArg,
    /// Computer name.
    #[serde(default)]
    pub name: Option<String>,
    /// IIS presence.
    #[serde(default)]
    pub iis: IisArg,
    /// IIS 6 isolation mode.
    #[serde(default)]
    pub isolation: Option<Spanned<IsolationMode>>,
    /// Windows Server 2003 x64 (Framework64 copies of 2.0 and 4.0).
    #[serde(default)]
    pub x64: Option<Spanned<bool>>,
    /// Frameworks installed by setup, in order, before the steps.
    #[serde(default)]
    pub runtimes: Vec<ProductArg>,
    /// Application pools (IIS 6).
    #[serde(default)]
    pub pool: Vec<Spanned<PoolSpec>>,
    /// Extra sites.
    #[serde(default)]
    pub site: Vec<Spanned<SiteEntry>>,
    /// Applications, virtual directories and folders.
    #[serde(default)]
    pub app: Vec<Spanned<AppEntry>>,
    /// Metabase properties set by hand after the tree is built.
    #[serde(default)]
    pub metabase: Vec<Spanned<MetabaseSet>>,
    /// machine.config processModel edits in force at start.
    #[serde(default)]
    pub machine_config: Vec<Spanned<MachineConfigEdit>>,
    /// Number of CPUs (web gardens; default 1).
    #[serde(default)]
    pub cpus: Option<u32>,
    /// Physical memory in MB (processModel memoryLimit; default 1024).
    #[serde(default)]
    pub memory_mb: Option<u32>,
    /// A MetaBase.xml to start from, relative to the scenario file (Windows Server 2003 only).
    #[serde(default)]
    pub metabase_xml: Option<Spanned<String>>,
    /// Content files, by folder.
    #[serde(default)]
    pub files: Vec<FolderFiles>,
}

/// Files present in one folder at start.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderFiles {
    /// The folder, e.g. `E:\inetpub\wwwroot`.
    pub folder: String,
    /// File names, relative to the folder.
    pub names: Vec<String>,
}

/// An edit of one runtime's machine.config `<processModel>` element.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineConfigEdit {
    /// Whose machine.config.
    pub version: VersionArg,
    /// Attributes to set, e.g. `{ enable = "false" }`.
    #[serde(default)]
    pub process_model: BTreeMap<String, String>,
    /// `<httpRuntime enableVersionHeader>` in the runtime's root configuration (HDR-01, SES-08).
    #[serde(default)]
    pub version_header: Option<bool>,
}

/// An application's web.config settings that the process model reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfigSpec {
    /// Application path (`W3SVC/1/ROOT/shop`).
    pub app: String,
    /// `<sessionState mode>`: InProc, StateServer, SQLServer or Off.
    #[serde(default)]
    pub session_state: Option<SessionModeArg>,
    /// `<httpRuntime enableVersionHeader>` (2.0+).
    #[serde(default)]
    pub version_header: Option<bool>,
    /// The runtime the application was built for (CMP-02).
    #[serde(default)]
    pub target: Option<VersionArg>,
    /// `<sessionState cookieless>`: the session ID travels in the URL (SES-10).
    #[serde(default)]
    pub cookieless: Option<bool>,
}

/// A file copied onto the emulated disk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyFileSpec {
    /// The file, relative to the scenario file.
    pub from: String,
    /// Where it lands on the emulated disk.
    pub to: String,
}

/// IIS Manager's ASP.NET tab: an application and the version picked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AspnetTabSpec {
    /// Metabase path of the application.
    pub path: String,
    /// The version picked.
    pub version: VersionArg,
}

/// A request step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Method (default GET).
    #[serde(default)]
    pub method: Option<String>,
    /// The request target as sent (`/app/default.aspx?x=1`, or absolute).
    pub url: String,
    /// Host header (default `localhost`; empty for none).
    #[serde(default)]
    pub host: Option<String>,
    /// Server IP the connection reaches (default 10.0.0.1).
    #[serde(default)]
    pub ip: Option<String>,
    /// Server port (default 80).
    #[serde(default)]
    pub port: Option<u16>,
    /// HTTP/1.0 instead of 1.1.
    #[serde(default)]
    pub http10: bool,
    /// Other request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Named client: keeps its session cookie between requests.
    #[serde(default)]
    pub client: Option<String>,
    /// Sent from the server's console (detailed error pages).
    #[serde(default)]
    pub local: bool,
    /// How many identical requests arrive at once (default 1, at most [`MAX_REPEAT`]);
    /// expectations check the last.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// Memory the worker uses after the request, in MB.
    #[serde(default)]
    pub memory_mb: Option<u32>,
    /// How long the request runs (`90s`, `4m`); the step waits for it.
    #[serde(default)]
    pub duration: Option<DurationArg>,
}

/// An application pool.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// Pool name.
    pub name: String,
}

/// A site.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteEntry {
    /// Site ID; chosen as IIS would when absent.
    #[serde(default)]
    pub id: Option<u32>,
    /// ServerComment.
    pub name: String,
    /// ServerBindings.
    #[serde(default = "default_bindings")]
    pub bindings: Vec<String>,
    /// Physical path of the site's ROOT.
    pub path: String,
    /// Files under the ROOT folder, relative.
    #[serde(default)]
    pub files: Vec<String>,
}

fn default_bindings() -> Vec<String> {
    vec![":80:".into()]
}

/// An application, virtual directory or folder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    /// Metabase path, with or without `/LM/` (`W3SVC/1/ROOT/shop`).
    pub path: String,
    /// Physical path: makes the key a virtual directory.
    #[serde(default)]
    pub physical_path: Option<String>,
    /// Whether the key is an application (default true).
    #[serde(default = "yes")]
    pub application: bool,
    /// Application protection: low, medium, high.
    #[serde(default)]
    pub isolation: Option<IsolationArg>,
    /// Application pool (IIS 6).
    #[serde(default)]
    pub pool: Option<String>,
    /// Pins the application to a runtime with that runtime's `aspnet_regiis -s`.
    #[serde(default)]
    pub runtime: Option<VersionArg>,
    /// Files in the application's folder, relative.
    #[serde(default)]
    pub files: Vec<String>,
    /// web.config `<sessionState mode>`.
    #[serde(default)]
    pub session_state: Option<SessionModeArg>,
    /// web.config `<httpRuntime enableVersionHeader>` (2.0+).
    #[serde(default)]
    pub version_header: Option<bool>,
    /// The runtime the application was built for (CMP-02).
    #[serde(default)]
    pub target: Option<VersionArg>,
    /// web.config `<sessionState cookieless>` (SES-10).
    #[serde(default)]
    pub cookieless: Option<bool>,
}

fn yes() -> bool {
    true
}

/// A metabase property set by hand.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetabaseSet {
    /// Key path, with or without `/LM/`.
    pub path: String,
    /// Property name.
    pub property: String,
    /// Value: integer, string, boolean or list of strings.
    pub value: toml::Value,
    /// KeyType for a key that does not exist yet.
    #[serde(default)]
    pub key_type: Option<String>,
    /// Why the property is set, shown in the transcript.
    #[serde(default)]
    pub comment: Option<String>,
}

/// One step: exactly one action, then expectations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// A command line as typed on the server.
    #[serde(default)]
    pub run: Option<String>,
    /// Install a .NET Framework with setup.
    #[serde(default)]
    pub install: Option<ProductArg>,
    /// Uninstall a .NET Framework.
    #[serde(default)]
    pub uninstall: Option<ProductArg>,
    /// Setup options, e.g. `/noaspupgrade`.
    #[serde(default)]
    pub options: Vec<Spanned<String>>,
    /// Install (or enable) IIS.
    #[serde(default)]
    pub install_iis: Option<bool>,
    /// Delete a file from the emulated disk.
    #[serde(default)]
    pub delete_file: Option<String>,
    /// Create a site, as IIS Manager's New Web Site wizard does.
    #[serde(default)]
    pub new_site: Option<SiteEntry>,
    /// Create a virtual directory or application, as IIS Manager does.
    #[serde(default)]
    pub new_app: Option<AppEntry>,
    /// Set a metabase property directly, as Metabase Explorer does.
    #[serde(default)]
    pub set_property: Option<MetabaseSet>,
    /// Send an HTTP request.
    #[serde(default)]
    pub request: Option<RequestSpec>,
    /// Edit a runtime's machine.config `<processModel>`.
    #[serde(default)]
    pub machine_config: Option<MachineConfigEdit>,
    /// Edit an application's web.config.
    #[serde(default)]
    pub web_config: Option<WebConfigSpec>,
    /// Let virtual time pass (`21m`).
    #[serde(default)]
    pub advance: Option<DurationArg>,
    /// Kill processes by PID or image name, as Task Manager does.
    #[serde(default)]
    pub kill: Option<String>,
    /// An application calls `HttpRuntime.UnloadAppDomain()` (its path).
    #[serde(default)]
    pub unload_appdomain: Option<String>,
    /// Give an account ASPNET's permissions (KB 812833 step 8).
    #[serde(default)]
    pub grant: Option<String>,
    /// Restart a service: `aspnet_state`, `MSSQLSERVER` or `W3SVC`.
    #[serde(default)]
    pub restart_service: Option<String>,
    /// Pick a version on IIS Manager's ASP.NET tab and confirm (2.0+).
    #[serde(default)]
    pub aspnet_tab: Option<AspnetTabSpec>,
    /// Save a file on the emulated disk (a script, a page): a path, or `{ path, text }`.
    #[serde(default)]
    pub create_file: Option<CreateFileSpec>,
    /// Copy a file from beside the scenario onto the emulated disk (a hand-edited MetaBase.xml).
    #[serde(default)]
    pub copy_file: Option<CopyFileSpec>,
    /// Write the current metabase as MetaBase.xml to this path on the emulated disk (MB-04..07).
    #[serde(default)]
    pub export: Option<String>,
    /// List the configuration's risks, as `iisim lint` does.
    #[serde(default)]
    pub lint: Option<bool>,
    /// Draw the configuration as `iisim diagram` does (DOT).
    #[serde(default)]
    pub diagram: Option<bool>,
    /// Run the command as a non-administrator.
    #[serde(default)]
    pub as_admin: Option<bool>,
    /// A comment shown in the transcript.
    #[serde(default)]
    pub comment: Option<String>,
    /// What must hold after the step.
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
}

/// A file saved by a step: its path and text (empty when only the path is given).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Full Windows path.
    pub path: String,
    /// The file's contents.
    #[serde(default)]
    pub text: String,
}

/// `create_file = 'C:\x.vbs'` or `create_file = { path = '...', text = "..." }`.
#[derive(Debug, Clone)]
pub struct CreateFileSpec(pub FileSpec);

impl<'de> Deserialize<'de> for CreateFileSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CreateFileSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a path or a table { path, text }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CreateFileSpec, E> {
                Ok(CreateFileSpec(FileSpec { path: v.to_string(), text: String::new() }))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<CreateFileSpec, A::Error> {
                FileSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(CreateFileSpec)
            }
        }
        d.deserialize_any(V)
    }
}

/// Expectations checked after a step.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// Exit code.
    #[serde(default)]
    pub exit: Option<i32>,
    /// Standard output, exactly (a trailing newline is ignored).
    #[serde(default)]
    pub stdout: Option<String>,
    /// Lines (substrings) standard output must contain.
    #[serde(default)]
    pub stdout_contains: Vec<String>,
    /// Standard error, exactly (a trailing newline is ignored).
    #[serde(default)]
    pub stderr: Option<String>,
    /// Substrings standard error must contain.
    #[serde(default)]
    pub stderr_contains: Vec<String>,
    /// Substrings standard output must not contain.
    #[serde(default)]
    pub stdout_lacks: Vec<String>,
    /// Effective runtime per metabase path (`none` for no ASP.NET).
    #[serde(default)]
    pub runtime: BTreeMap<String, String>,
    /// The machine.config each metabase path's runtime reads (VER-04).
    #[serde(default)]
    pub machine_config: BTreeMap<String, String>,
    /// Metabase property checks.
    #[serde(default)]
    pub metabase: Vec<MetabaseExpect>,
    /// Shared-resource states.
    #[serde(default)]
    pub resources: Option<ResourcesExpect>,
    /// Events the step must have written.
    #[serde(default)]
    pub events: Vec<EventExpect>,
    /// Events the step must not have written (by ID).
    #[serde(default)]
    pub no_events: Vec<u32>,
    /// Response status, `200` (integer or string) or with sub-status `"404.2"`.
    #[serde(default, deserialize_with = "status_text")]
    pub status: Option<String>,
    /// Response headers: name -> exact value (`absent` for none).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Substrings the response body must contain.
    #[serde(default)]
    pub body_contains: Vec<String>,
    /// Image name of the process that answered (`none` when nothing did).
    #[serde(default)]
    pub process: Option<String>,
    /// PID of the process that answered.
    #[serde(default)]
    pub pid: Option<u32>,
    /// The ASP.NET runtime that ran the request (`none` when none did).
    #[serde(default)]
    pub aspnet: Option<String>,
    /// The application the request landed in (metabase path).
    #[serde(default)]
    pub app: Option<String>,
    /// The client's session: `new`, `kept` or `lost`.
    #[serde(default)]
    pub session: Option<String>,
    /// Image names of every running process, in any order (`[]` for none).
    #[serde(default)]
    pub running: Option<Vec<String>>,
    /// Substrings a file on the emulated disk must contain, by path.
    #[serde(default)]
    pub file_contains: BTreeMap<String, Vec<String>>,
    /// Substrings a file on the emulated disk must not contain, by path.
    #[serde(default)]
    pub file_lacks: BTreeMap<String, Vec<String>>,
}

/// A metabase property check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetabaseExpect {
    /// Key path, with or without `/LM/`.
    pub path: String,
    /// Property name.
    pub property: String,
    /// Check the key's own value instead of the effective one.
    #[serde(default)]
    pub own: bool,
    /// The exact value.
    #[serde(default)]
    pub equals: Option<toml::Value>,
    /// Substrings that some list entry (or the text) must contain.
    #[serde(default)]
    pub contains: Vec<String>,
    /// Substrings no entry may contain.
    #[serde(default)]
    pub lacks: Vec<String>,
    /// The value must be unset (own) or absent (effective).
    #[serde(default)]
    pub unset: bool,
    /// Where the effective value must come from: a key path, `own` or `default`.
    #[serde(default)]
    pub origin: Option<String>,
}

/// An event-log check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventExpect {
    /// Event ID.
    pub id: u32,
    /// Event source, e.g. `ASP.NET 2.0.50727.0`.
    #[serde(default)]
    pub source: Option<String>,
    /// Information, Warning or Error.
    #[serde(default)]
    pub level: Option<String>,
    /// Substring of the message.
    #[serde(default)]
    pub message: Option<String>,
}

/// Shared-resource checks: each names the owning version or the state.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResourcesExpect {
    /// Registered runtimes, e.g. `1.1.4322, 2.0.50727` (VER-07).
    pub registered: Option<String>,
    /// Installed frameworks (VER-01).
    pub installed: Option<String>,
    /// RootVer in the registry (VER-07).
    pub root_version: Option<String>,
    /// Version whose aspnet_state.exe the state service runs, or `none` (SHR-06).
    pub state_service: Option<String>,
    /// The state service port (SHR-06).
    pub state_service_port: Option<String>,
    /// Owner of the generic ASP.NET counter objects, or `none` (SHR-05).
    pub generic_counters: Option<String>,
    /// Versions with their own counter objects (SHR-05).
    pub version_counters: Option<String>,
    /// Version whose SQL state scripts are current (SHR-07).
    pub sql_state: Option<String>,
    /// Version of the global ISAPI filter, or `none` (SHR-01).
    pub filter: Option<String>,
    /// ASPNET account: enabled, disabled or absent (SHR-08).
    pub aspnet_account: Option<String>,
    /// Versions whose ISAPI is in InProcessIsapiApps (SHR-03).
    pub in_process_isapi: Option<String>,
    /// Web Service Extensions: `ASP.NET v2.0.50727=allowed, ...` (SHR-04).
    pub web_service_extensions: Option<String>,
    /// Client-script folders in site 1's root folder (REG-15, VER-06).
    pub client_scripts: Option<String>,
    /// Versions with a Temporary ASP.NET Files folder (SHR-09).
    pub temp_files: Option<String>,
    /// `present` or `absent`: X-Powered-By at the root (HDR-02).
    pub powered_by: Option<String>,
    /// Any other recorded resource by name, e.g. `granted:NT AUTHORITY\NETWORK SERVICE` (REG-18).
    #[serde(default)]
    pub other: BTreeMap<String, String>,
}
