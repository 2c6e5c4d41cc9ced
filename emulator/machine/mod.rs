//! The emulated server's configuration: edition, runtimes, metabase, registry, disk, services,
//! machine.config and web.config settings, hardware, the event log and the clock. What runs on it
//! (processes, pools, sessions) is [`crate::process::World`], which the machine does not own.
//!
//! Every mutation goes through a journaling primitive here, so each state change reaches the
//! transcript with the rule IDs that decided it. Domain operations (registration, setup, sites)
//! live in their own modules and use only these primitives and the read accessors.

pub mod fs;
pub mod journal;
pub mod registry;

use std::collections::BTreeMap;

use crate::config::{ProcessModel, WebConfig};
use crate::edition::Edition;
use crate::metabase::{self, defaults, Metabase, Value};
use crate::policy::{self, Policies};
use crate::rules::RuleId;
use crate::runtime::{Bitness, Version};
use fs::FileSystem;
use journal::{Change, Effect, EventEntry, EventLog, Journal, Level};
use registry::Registry;

/// The virtual clock's zero as a Unix time: 2005-06-23 09:00:00 UTC, where `date /t` and
/// `time /t` start on the emulated box; file times and HTTP.sys's logs count from it.
pub const EPOCH_UNIX: u64 = 1_119_517_200;

/// Where IIS setup puts `adsutil.vbs` (ADS-01).
pub const ADSUTIL_PATH: &str = "C:\\Inetpub\\AdminScripts\\adsutil.vbs";

/// The IIS 6 administration scripts in `%windir%\system32` (WSH-05).
pub const IIS6_SCRIPTS: [&str; 5] = ["iisext.vbs", "iisapp.vbs", "iisweb.vbs", "iisvdir.vbs", "iiscnfg.vbs"];

/// The ASP.NET State Service's registry key (SHR-06).
pub const STATE_SERVICE_REG: &str = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\aspnet_state";

/// Whether IIS is present on the machine (SET-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IisState {
    /// Installed and enabled.
    Installed,
    /// Not installed.
    Absent,
    /// Installed but its services are disabled.
    Disabled,
}

/// What the machine knows of one runtime version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuntimeState {
    /// The framework's files are on disk.
    pub installed: bool,
    /// ASP.NET of this version is registered with IIS (VER-07).
    pub registered: bool,
    /// .NET 3.x (WCF/WF) is installed on top of this 2.0 runtime (VER-03, MAP-03).
    pub wcf: bool,
    /// The service pack installed (0 for none) (VER-08).
    pub service_pack: u8,
    /// The KB 812833 hotfix (1.0) or the June 2003 rollup KB 821156 (1.1) is applied (KB-02).
    pub kb812833: bool,
}

/// A Windows service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Display name.
    pub display: String,
    /// Executable path.
    pub image: String,
    /// Whether it is running.
    pub running: bool,
}

/// A local user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Full name.
    pub full_name: String,
    /// Whether it is enabled.
    pub enabled: bool,
}

/// How a machine starts.
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// Windows edition.
    pub edition: Edition,
    /// Computer name (for `IWAM_<name>` and the like).
    pub name: String,
    /// IIS presence.
    pub iis: IisState,
    /// IIS 6 only: start in IIS 5.0 isolation mode.
    pub iis5_isolation: bool,
    /// Windows Server 2003 x64: Framework64 copies of 2.0 and 4.0, IIS 64-bit by default.
    pub x64: bool,
    /// Policy settings.
    pub policies: Policies,
}

impl MachineConfig {
    /// A machine of `edition` named IISBOX, IIS installed (worker mode on IIS 6), 32-bit, default policies.
    pub fn new(edition: Edition) -> MachineConfig {
        MachineConfig {
            edition,
            name: "IISBOX".into(),
            iis: IisState::Installed,
            iis5_isolation: false,
            x64: false,
            policies: Policies::default(),
        }
    }
}

/// The emulated server.
#[derive(Debug, Clone)]
pub struct Machine {
    edition: Edition,
    name: String,
    x64: bool,
    iis: IisState,
    policies: Policies,
    runtimes: BTreeMap<Version, RuntimeState>,
    metabase: Metabase,
    registry: Registry,
    fs: FileSystem,
    events: EventLog,
    resources: BTreeMap<String, String>,
    services: BTreeMap<String, Service>,
    accounts: BTreeMap<String, Account>,
    clock: u64,
    journal: Journal,
    counters: BTreeMap<&'static str, u32>,
    /// Changes of what no store counts: runtimes' state, IIS installed.
    generation: u64,
    /// Changes the process model reads but a compiled view does not: services, web.config files.
    app_state: u64,
    process_models: BTreeMap<Version, ProcessModel>,
    web_configs: BTreeMap<String, WebConfig>,
    root_version_header: BTreeMap<Version, bool>,
    cpus: u32,
    memory_mb: u32,
    reset_disabled: bool,
}

impl Machine {
    /// A fresh machine: the edition's default IIS tree (when IIS is present), no runtimes.
    pub fn new(config: MachineConfig) -> Machine {
        let mut metabase = match config.iis {
            IisState::Absent => Metabase::new(),
            _ => defaults::default_tree(config.edition, config.iis5_isolation, config.x64),
        };
        defaults::set_identities(&mut metabase, &config.name);
        let mut fs = FileSystem::default();
        let windir = config.edition.windir();
        fs.create_dir(&format!("{windir}\\system32\\inetsrv"));
        fs.create_dir(&format!("{windir}\\Microsoft.NET\\Framework"));
        // Windows Script Host ships with every edition (ADS-01).
        for host in ["cscript.exe", "wscript.exe"] {
            fs.create_file(&format!("{windir}\\system32\\{host}"));
        }
        // The command prompt's own programs and the Administrator's profile (CMD-01, CMD-02, NET-11).
        for exe in ["cmd.exe", "net.exe", "notepad.exe"] {
            fs.create_file(&format!("{windir}\\system32\\{exe}"));
        }
        if config.edition != Edition::Win2000 {
            fs.create_file(&format!("{windir}\\system32\\sc.exe"));
        }
        // Windows Server 2003 ships HTTP.sys and the folder of its error log (HTTP-05).
        if config.edition.is_iis6() {
            fs.create_dir(&format!("{windir}\\system32\\LogFiles\\HTTPERR"));
        }
        fs.create_dir("C:\\Documents and Settings\\Administrator\\Local Settings\\Temp");
        fs.create_dir("C:\\Documents and Settings\\All Users");
        fs.create_dir("C:\\Program Files\\Common Files");
        if config.iis != IisState::Absent {
            fs.create_dir("C:\\Inetpub\\wwwroot");
            fs.create_file(ADSUTIL_PATH);
            fs.create_file(&format!("{windir}\\system32\\iisreset.exe"));
            // The IIS 6 administration scripts live in system32 (WSH-05).
            if config.edition.is_iis6() {
                for script in IIS6_SCRIPTS {
                    fs.create_file(&format!("{windir}\\system32\\{script}"));
                }
            }
        }
        let mut accounts = BTreeMap::new();
        if config.iis != IisState::Absent {
            for (prefix, full) in [("IUSR_", "Internet Guest Account"), ("IWAM_", "Launch IIS Process Account")] {
                let name = format!("{prefix}{}", config.name);
                accounts.insert(name, Account { full_name: full.into(), enabled: true });
            }
        }
        let mut services = BTreeMap::new();
        if config.iis != IisState::Absent {
            let running = config.iis == IisState::Installed;
            let inetinfo = format!("{windir}\\system32\\inetsrv\\inetinfo.exe");
            for (name, display) in [("IISADMIN", "IIS Admin Service"), ("W3SVC", "World Wide Web Publishing Service")] {
                services
                    .insert(name.to_string(), Service { display: display.into(), image: inetinfo.clone(), running });
            }
            // IIS 6's HTTP SSL service depends on IISADMIN (NET-08).
            if config.edition.is_iis6() {
                let image = format!("{windir}\\System32\\svchost.exe -k HTTPFilter");
                services.insert("HTTPFilter".into(), Service { display: "HTTP SSL".into(), image, running });
            }
        }
        let mut journal = Journal::default();
        if config.iis != IisState::Absent {
            let text = format!(
                "fresh IIS {} key tree: W3SVC with the default ScriptMaps, InProcessIsapiApps and DefaultDoc, site 1 \"Default Web Site\"{}",
                config.edition.iis_version(),
                if config.edition.is_iis6() { ", AppPools/DefaultAppPool" } else { "" }
            );
            journal.record(Change::Note { text }, &["MB-13", "SM-09", "MB-23"]);
        }
        Machine {
            edition: config.edition,
            name: config.name,
            x64: config.x64 && config.edition.is_iis6(),
            iis: config.iis,
            policies: config.policies,
            runtimes: BTreeMap::new(),
            metabase,
            registry: Registry::default(),
            fs,
            events: EventLog::default(),
            resources: BTreeMap::new(),
            services,
            accounts,
            clock: 0,
            journal,
            counters: BTreeMap::new(),
            generation: 0,
            app_state: 0,
            process_models: BTreeMap::new(),
            web_configs: BTreeMap::new(),
            root_version_header: BTreeMap::new(),
            cpus: 1,
            memory_mb: 1024,
            reset_disabled: false,
        }
    }

    // ----- read accessors -----

    /// The Windows edition.
    pub fn edition(&self) -> Edition {
        self.edition
    }

    /// The computer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `%windir%`.
    pub fn windir(&self) -> &'static str {
        self.edition.windir()
    }

    /// Whether IIS is installed, absent or disabled.
    pub fn iis(&self) -> IisState {
        self.iis
    }

    /// The scenario's policies.
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// The metabase.
    pub fn metabase(&self) -> &Metabase {
        &self.metabase
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The disk.
    pub fn fs(&self) -> &FileSystem {
        &self.fs
    }

    /// Every event-log entry the configuration side wrote (setup, registration), oldest first.
    pub fn events(&self) -> &[EventEntry] {
        self.events.entries()
    }

    /// The event log the configuration side writes.
    pub fn event_log(&self) -> &EventLog {
        &self.events
    }

    /// The virtual clock, in seconds since the scenario started (at [`EPOCH_UNIX`]).
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// A number that changes whenever the metabase, the disk, the registry, a runtime's state, a
    /// service or a web.config changes, so what was compiled or read from them knows it is stale.
    /// Each store counts its own changes, so no operation can change one and leave this number as
    /// it was.
    pub fn generation(&self) -> u64 {
        self.generation_besides_metabase() + self.metabase.version() + self.app_state
    }

    /// What [`Machine::generation`] counts but the metabase: it stays as it was while only the
    /// metabase changes, whose own log then says which keys did (a view patches those).
    pub fn generation_besides_metabase(&self) -> u64 {
        self.generation_of_settings() + self.fs.version()
    }

    /// What [`Machine::generation`] counts but the metabase and the disk (the registry, runtimes,
    /// the service): a view refreshes only its file table when the disk alone changes.
    pub fn generation_of_settings(&self) -> u64 {
        self.generation + self.registry.version()
    }

    /// Runtime `v`'s processModel as its machine.config now says.
    pub fn process_model(&self, v: Version) -> &ProcessModel {
        self.process_models.get(&v).unwrap_or_else(|| ProcessModel::shipped_ref(v))
    }

    /// The web.config of application `app`.
    pub fn web_config(&self, app: &str) -> WebConfig {
        // Read on every ASP.NET request: a key already in lower case is not copied.
        let key = if app.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(app.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(app)
        };
        self.web_configs.get(&*key).cloned().unwrap_or_default()
    }

    /// Whether runtime `v`'s root configuration lets it send X-AspNet-Version (HDR-01, SES-08).
    pub fn root_version_header(&self, v: Version) -> bool {
        self.root_version_header.get(&v).copied().unwrap_or(true)
    }

    /// Processors, for web gardens (PM5-06).
    pub fn cpus(&self) -> u32 {
        self.cpus
    }

    /// Physical memory in MB, for memoryLimit (PM5-07).
    pub fn memory_mb(&self) -> u32 {
        self.memory_mb
    }

    /// Whether `iisreset /disable` is in force (IIR-02).
    pub fn reset_disabled(&self) -> bool {
        self.reset_disabled
    }

    /// The runtime whose `aspnet_state.exe` the ASP.NET State Service runs, if it exists (SHR-06).
    pub fn state_service_version(&self) -> Option<Version> {
        let image = self.service("aspnet_state")?.image.to_ascii_lowercase();
        let folder = image.rsplit('\\').nth(1)?;
        Version::ALL.into_iter().find(|v| folder == v.folder_name())
    }

    /// What the machine knows of runtime `v`.
    pub fn runtime(&self, v: Version) -> RuntimeState {
        self.runtimes.get(&v).copied().unwrap_or_default()
    }

    /// Installed runtimes, oldest first.
    pub fn installed(&self) -> Vec<Version> {
        self.runtimes.iter().filter(|(_, s)| s.installed).map(|(v, _)| *v).collect()
    }

    /// Registered runtimes, oldest first.
    pub fn registered(&self) -> Vec<Version> {
        self.runtimes.iter().filter(|(_, s)| s.registered).map(|(v, _)| *v).collect()
    }

    /// The highest registered runtime.
    pub fn highest_registered(&self) -> Option<Version> {
        self.registered().last().copied()
    }

    /// A shared resource's state (owner version or state word).
    pub fn resource(&self, name: &str) -> Option<&str> {
        self.resources.get(name).map(String::as_str)
    }

    /// Every shared resource, by name.
    pub fn resources(&self) -> &BTreeMap<String, String> {
        &self.resources
    }

    /// A service by name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.get(name)
    }

    /// A local account by name.
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.get(name)
    }

    /// Whether the machine is a 64-bit Windows Server 2003.
    pub fn is_x64(&self) -> bool {
        self.x64
    }

    /// The bitness IIS runs ISAPIs in: 64-bit on x64 unless `Enable32BitAppOnWin64` is set at
    /// `/LM/W3SVC/AppPools` (REG-01; the switch is global, PM6-08).
    pub fn iis_bitness(&self) -> Bitness {
        if !self.x64 {
            return Bitness::X86;
        }
        let wow = self.metabase.effective("/LM/W3SVC/AppPools", "Enable32BitAppOnWin64");
        if wow.is_some_and(|(v, _)| v.as_dword().unwrap_or(0) != 0) {
            Bitness::X86
        } else {
            Bitness::X64
        }
    }

    /// `%windir%\Microsoft.NET\Framework[64]\v<v>` of the given bitness (VER-01).
    pub fn framework_dir_of(&self, v: Version, bitness: Bitness) -> String {
        let folder = if bitness == Bitness::X64 { "Framework64" } else { "Framework" };
        format!("{}\\Microsoft.NET\\{folder}\\{}", self.windir(), v.folder_name())
    }

    /// The folder of runtime `v` that IIS loads: `Framework64` when IIS runs 64-bit and the
    /// runtime has a 64-bit copy, else `Framework` (VER-01, REG-01).
    pub fn framework_dir(&self, v: Version) -> String {
        let b = if self.iis_bitness() == Bitness::X64 && v.has_framework64() { Bitness::X64 } else { Bitness::X86 };
        self.framework_dir_of(v, b)
    }

    /// The full path of runtime `v`'s `aspnet_isapi.dll`.
    pub fn isapi_path(&self, v: Version) -> String {
        format!("{}\\aspnet_isapi.dll", self.framework_dir(v))
    }

    /// The service-pack level runtime `v` runs at: the one installed, or the last one iisim knows
    /// under policy `runtime.file_versions = latest_sp` (VER-08).
    pub fn service_pack(&self, v: Version) -> u8 {
        let installed = self.runtime(v).service_pack;
        if self.policies.is(policy::FILE_VERSIONS, "latest_sp") {
            installed.max(v.last_service_pack())
        } else {
            installed
        }
    }

    /// The four-part file version runtime `v` carries (VER-08).
    pub fn file_version(&self, v: Version) -> &'static str {
        let sp = self.service_pack(v);
        // The KB 812833 hotfix raises 1.0 SP2's ASP.NET files to build 398 (KB-02); SP3 is later.
        if v == Version::V1_0 && sp == 2 && self.runtime(v).kb812833 {
            return "1.0.3705.398";
        }
        v.file_version_at(sp)
    }

    /// Whether runtime `v` has the KB 812833 fix: the update applied, or a service pack that
    /// carries it (KB-02).
    pub fn has_kb812833(&self, v: Version) -> bool {
        self.runtime(v).kb812833 || v.sp_carries_kb812833(self.service_pack(v))
    }

    /// Expands `%windir%` and `%SystemRoot%` in a path (MB-12).
    pub fn expand(&self, path: &str) -> String {
        let mut out = path.to_string();
        for var in ["%windir%", "%systemroot%"] {
            while let Some(idx) = out.to_ascii_lowercase().find(var) {
                out.replace_range(idx..idx + var.len(), self.windir());
            }
        }
        out
    }

    // ----- journaling primitives -----

    /// Moves the virtual clock forward to `time` (never back).
    pub fn set_clock(&mut self, time: u64) {
        self.clock = self.clock.max(time);
        self.fs.set_now(self.clock);
    }

    /// Keeps only the newest `keep` event-log entries (a long-running server's bounded tail).
    pub fn trim_events(&mut self, keep: usize) {
        self.events.trim(keep);
    }

    /// Records a process-model change (a process started or ended, sessions lost).
    pub fn record_process(&mut self, text: impl Into<String>, rules: &[RuleId]) {
        self.journal.record(Change::Process { text: text.into() }, rules);
    }

    /// Records a dispatch decision.
    pub fn record_decision(&mut self, text: impl Into<String>, rules: &[RuleId]) {
        self.journal.record(Change::Decision { text: text.into() }, rules);
    }

    /// Takes the effects recorded since the last call.
    pub fn drain_effects(&mut self) -> Vec<Effect> {
        self.journal.drain()
    }

    /// Takes the effects recorded since the last call here and in `other` (the running world's
    /// journal), in the order they happened.
    pub fn drain_effects_with(&mut self, other: &mut Journal) -> Vec<Effect> {
        journal::drain_merged(&mut self.journal, other)
    }

    /// A mark for [`Machine::effects_since`].
    pub fn effect_mark(&self) -> usize {
        self.journal.len()
    }

    /// The effects recorded since `mark`, not yet drained.
    pub fn effects_since(&self, mark: usize) -> &[Effect] {
        self.journal.since(mark)
    }

    /// Records a decision that changed nothing.
    pub fn note(&mut self, text: impl Into<String>, rules: &[RuleId]) {
        self.journal.record(Change::Note { text: text.into() }, rules);
    }

    /// Next value of a named counter (setup log numbers and the like), deterministic per run.
    pub fn next_counter(&mut self, name: &'static str) -> u32 {
        let c = self.counters.entry(name).or_insert(0);
        let v = *c;
        *c += 1;
        v
    }

    /// Creates a metabase key (and untyped missing parents); no-op if it exists.
    pub fn mb_create_key(&mut self, path: &str, key_type: &str, rules: &[RuleId]) {
        if let Ok(created) = self.metabase.create_key(path, key_type) {
            for p in created {
                let kt = self.metabase.key(&p).map(|k| k.key_type().to_string()).unwrap_or_default();
                self.journal.record(Change::KeyCreated { path: p, key_type: kt }, rules);
            }
        }
    }

    /// Deletes a metabase key and its subtree; no-op if it is missing.
    pub fn mb_delete_key(&mut self, path: &str, rules: &[RuleId]) {
        if let Ok(gone) = self.metabase.delete_key(path) {
            if let Some(first) = gone.into_iter().next() {
                self.journal.record(Change::KeyDeleted { path: first }, rules);
            }
        }
    }

    /// Sets a metabase property on an existing key, recording it when the value changes.
    pub fn mb_set(&mut self, path: &str, prop: &str, value: Value, rules: &[RuleId]) -> Result<(), metabase::MbError> {
        let old = self.metabase.set(path, prop, value.clone())?;
        if old.as_ref() != Some(&value) {
            let path = self.metabase.key(path).map(|k| k.path().to_string()).unwrap_or_default();
            let prop = metabase::schema::lookup(prop).map(|d| d.name.to_string()).unwrap_or_else(|| prop.to_string());
            self.journal.record(Change::Property { path, prop, old, new: Some(value) }, rules);
        }
        Ok(())
    }

    /// Removes a property from a metabase key, recording it when the key had its own value.
    pub fn mb_remove(&mut self, path: &str, prop: &str, rules: &[RuleId]) {
        if let Some(old) = self.metabase.remove(path, prop) {
            let path = self.metabase.key(path).map(|k| k.path().to_string()).unwrap_or_default();
            let prop = metabase::schema::lookup(prop).map(|d| d.name.to_string()).unwrap_or_else(|| prop.to_string());
            self.journal.record(Change::Property { path, prop, old: Some(old), new: None }, rules);
        }
    }

    /// Changes an existing key's KeyType, recording it as a `KeyType` property change.
    pub fn mb_set_key_type(&mut self, path: &str, key_type: &str, rules: &[RuleId]) -> Result<(), metabase::MbError> {
        let old = self.metabase.set_key_type(path, key_type)?;
        if old != key_type {
            let path = self.metabase.key(path).map(|k| k.path().to_string()).unwrap_or_default();
            let change = Change::Property {
                path,
                prop: "KeyType".into(),
                old: Some(Value::String(old)),
                new: Some(Value::String(key_type.into())),
            };
            self.journal.record(change, rules);
        }
        Ok(())
    }

    /// Sets a registry value, recording it when it changes.
    pub fn reg_set(&mut self, key: &str, name: &str, value: &str, rules: &[RuleId]) {
        let old = self.registry.get(key, name).map(str::to_string);
        if old.as_deref() != Some(value) {
            self.registry.set(key, name, value);
            let change = Change::Registry { key: key.into(), name: name.into(), old, new: Some(value.into()) };
            self.journal.record(change, rules);
        }
    }

    /// Deletes a registry key and its subkeys, recording it when it existed.
    pub fn reg_delete_key(&mut self, key: &str, rules: &[RuleId]) {
        if self.registry.delete_key(key) {
            self.journal.record(Change::RegistryKey { key: key.into(), created: false }, rules);
        }
    }

    /// Creates files in a folder, recording those that were new.
    pub fn fs_create_files(&mut self, dir: &str, names: &[&str], rules: &[RuleId]) {
        let made: Vec<String> =
            names.iter().filter(|n| self.fs.create_file(&fs::join(dir, n))).map(|n| n.to_string()).collect();
        if !made.is_empty() {
            self.journal.record(Change::Files { dir: dir.into(), names: made, created: true }, rules);
        }
        if names.is_empty() && self.fs.create_dir(dir) {
            self.journal.record(Change::Files { dir: dir.into(), names: vec![], created: true }, rules);
        }
    }

    /// Writes a file's text (`>` or, with `append`, `>>`), recording a file that is new; false when
    /// its folder is missing or `path` is a folder.
    pub fn fs_write(&mut self, path: &str, text: &str, append: bool, rules: &[RuleId]) -> bool {
        let new = !self.fs.exists(path);
        if !self.fs.write(path, text, append) {
            return false;
        }
        if new {
            let (dir, name) = path.rsplit_once('\\').unwrap_or(("C:", path));
            self.journal.record(Change::Files { dir: dir.into(), names: vec![name.into()], created: true }, rules);
        }
        true
    }

    /// Writes a text file on the emulated disk, recording it.
    pub fn fs_write_file(&mut self, path: &str, text: &str, rules: &[RuleId]) {
        let created = self.fs.write_file(path, text);
        let how = if created { "written" } else { "overwritten" };
        self.journal.record(Change::Note { text: format!("{path} {how}: {} bytes", text.len()) }, rules);
    }

    /// Where IIS 6 keeps its metabase file (MB-01).
    pub fn metabase_file(&self) -> String {
        format!("{}\\system32\\inetsrv\\MetaBase.xml", self.windir())
    }

    /// The in-memory metabase as MetaBase.xml, in IIS's layout; the namespace is the file's, or
    /// policy `mb.namespace_version`'s for a metabase iisim built (MB-04..07).
    pub fn metabase_xml(&self) -> String {
        let version = self.policies.get(policy::MB_NAMESPACE_VERSION);
        let fallback = format!("{}{}", metabase::xml::NAMESPACE_PREFIX, version.trim_start_matches('V'));
        metabase::xml::export_as(&self.metabase, &fallback)
    }

    /// Writes the in-memory metabase over the MetaBase.xml on disk, as IIS does when it stops
    /// cleanly (MB-02, policy `mb.flush`). Only a file the machine holds is rewritten: iisim
    /// models the file's contents when the scenario started from one. Returns whether it wrote.
    pub fn mb_flush(&mut self, why: &str, rules: &[RuleId]) -> bool {
        let path = self.metabase_file();
        let Some(old) = self.fs.read_file(&path) else { return false };
        if self.policies.is(policy::MB_FLUSH, "on_save") {
            self.note(
                format!("{why}: the metabase stays in memory, {path} is not rewritten (policy mb.flush = on_save)"),
                rules,
            );
            return false;
        }
        let text = self.metabase_xml();
        if old == text {
            self.note(format!("{why}: {path} already holds the in-memory metabase"), rules);
            return false;
        }
        self.generation += 1;
        self.fs.write_file(&path, &text);
        self.note(format!("{why}: the in-memory metabase is written to {path} ({} bytes)", text.len()), rules);
        true
    }

    /// IIS reads its MetaBase.xml again, as it does when it starts: a file that loads replaces the
    /// in-memory metabase; one that does not is reported and the metabase stays. Returns whether
    /// the metabase changed.
    pub fn mb_reload(&mut self, why: &str, rules: &[RuleId]) -> bool {
        let path = self.metabase_file();
        let Some(text) = self.fs.read_file(&path) else { return false };
        match metabase::xml::import(text) {
            Ok(imported) if imported.metabase == self.metabase => false,
            Ok(imported) => {
                self.generation += 1;
                self.metabase = imported.metabase;
                self.note(format!("{why}: IIS reads {path}, which differs from what it had in memory: the file's metabase is in force"), rules);
                true
            }
            Err(e) => {
                self.note(format!("{why}: {path} does not load ({e}): IIS keeps the metabase it had"), rules);
                false
            }
        }
    }

    /// The MetaBase.xml on disk was edited by hand: a running IIS reads it at once only when
    /// `EnableEditWhileRunning` is 1 at `/LM`; otherwise the edit waits for the next start (MB-03).
    pub fn mb_file_edited(&mut self, rules: &[RuleId]) {
        let live = self.metabase.own("/LM", "EnableEditWhileRunning").and_then(Value::as_dword).unwrap_or(0) != 0;
        if live {
            if !self.mb_reload("EnableEditWhileRunning=1", rules) {
                self.note("EnableEditWhileRunning=1: the edited file holds nothing new", rules);
            }
        } else {
            let path = self.metabase_file();
            let flush = if self.policies.is(policy::MB_FLUSH, "on_save") {
                "IIS reads it when it next starts"
            } else {
                "when IIS stops it writes its in-memory metabase over the edit"
            };
            self.note(format!("EnableEditWhileRunning=0: the running IIS ignores the edit of {path}; {flush}"), rules);
        }
    }

    /// Replaces the whole metabase with one read from a MetaBase.xml file, recording it (MB-01, MB-02).
    pub fn mb_replace(&mut self, metabase: Metabase, text: impl Into<String>, rules: &[RuleId]) {
        self.generation += 1;
        self.metabase = metabase;
        self.journal.record(Change::Note { text: text.into() }, rules);
    }

    /// Deletes a file or folder (with its contents), recording it when it existed.
    pub fn fs_delete(&mut self, path: &str, rules: &[RuleId]) {
        if self.fs.delete(path) {
            self.journal.record(Change::Files { dir: path.into(), names: vec![], created: false }, rules);
        }
    }

    /// Writes an Application-log entry at the current virtual time.
    pub fn log_event(&mut self, level: Level, source: &str, id: u32, message: &str, rules: &[RuleId]) {
        self.log_event_to("Application", level, source, id, message, rules);
    }

    /// Writes an entry to the named event log (`Application` or `System`) at the current virtual time.
    pub fn log_event_to(
        &mut self,
        log: &'static str,
        level: Level,
        source: &str,
        id: u32,
        message: &str,
        rules: &[RuleId],
    ) {
        let entry = EventEntry { time: self.clock, log, level, source: source.into(), id, message: message.into() };
        self.journal.record_event(&mut self.events, entry, rules);
    }

    /// Sets (or clears, with `None`) a shared resource's state, recording a change.
    pub fn set_resource(&mut self, name: &str, value: Option<String>, rules: &[RuleId]) {
        let old = self.resources.get(name).cloned();
        if old == value {
            return;
        }
        match &value {
            Some(v) => self.resources.insert(name.into(), v.clone()),
            None => self.resources.remove(name),
        };
        self.journal.record(Change::Resource { name: name.into(), old, new: value }, rules);
    }

    /// Registers, re-registers or (with `None`) deletes a service, recording what happened.
    pub fn set_service(&mut self, name: &str, service: Option<Service>, action: &str, rules: &[RuleId]) {
        // Whether W3SVC serves is read once per generation (the serve path).
        self.app_state += 1;
        match service {
            Some(s) => self.services.insert(name.into(), s),
            None => self.services.remove(name),
        };
        self.journal.record(Change::Service { name: name.into(), action: action.into() }, rules);
    }

    /// Starts or stops a registered service, recording the change when its state changes.
    pub fn set_service_running(&mut self, name: &str, running: bool, rules: &[RuleId]) {
        let Some(s) = self.services.get_mut(name) else { return };
        if s.running != running {
            s.running = running;
            self.generation += 1;
            let action = if running { "started" } else { "stopped" };
            self.journal.record(Change::Service { name: name.into(), action: action.into() }, rules);
        }
    }

    /// Records a service action (restart and the like) that leaves its registration unchanged.
    pub fn service_action(&mut self, name: &str, action: &str, rules: &[RuleId]) {
        self.journal.record(Change::Service { name: name.into(), action: action.into() }, rules);
    }

    /// Creates, enables or disables a local account, recording a change.
    pub fn set_account(&mut self, name: &str, account: Account, rules: &[RuleId]) {
        let old = self.accounts.insert(name.into(), account.clone());
        if old.as_ref() != Some(&account) {
            let state = if account.enabled { "enabled" } else { "disabled" };
            let text = match old {
                None => format!("account {name} ({}) created, {state}", account.full_name),
                Some(_) => format!("account {name} {state}"),
            };
            self.journal.record(Change::Runtime { text }, rules);
        }
    }

    /// Updates what the machine knows of runtime `v`, recording `text` as the change.
    pub fn set_runtime(&mut self, v: Version, state: RuntimeState, text: &str, rules: &[RuleId]) {
        self.generation += 1;
        if self.runtime(v) != state {
            self.runtimes.insert(v, state);
            self.journal.record(Change::Runtime { text: text.into() }, rules);
        }
    }

    /// Replaces runtime `v`'s machine.config processModel, recording `text` (PM5-04, PM5-05).
    pub fn set_process_model(&mut self, v: Version, pm: ProcessModel, text: String, rules: &[RuleId]) {
        self.process_models.insert(v, pm);
        self.journal.record(Change::Process { text }, rules);
    }

    /// Replaces application `app`'s web.config settings, recording `text` (SES-01).
    pub fn set_web_config(&mut self, app: &str, wc: WebConfig, text: String, rules: &[RuleId]) {
        // An AppDomain keeps the web.config it read for this generation (the serve path).
        self.app_state += 1;
        self.web_configs.insert(app.to_ascii_lowercase(), wc);
        self.journal.record(Change::Process { text }, rules);
    }

    /// Sets `<httpRuntime enableVersionHeader>` in runtime `v`'s root configuration (HDR-01, SES-08).
    pub fn set_root_version_header(&mut self, v: Version, on: bool) {
        self.root_version_header.insert(v, on);
        let text = format!(
            "{}\\CONFIG: <httpRuntime enableVersionHeader=\"{on}\"> for every {v} application and its state service",
            self.framework_dir(v)
        );
        self.journal.record(Change::Process { text }, &["HDR-01", "SES-08"]);
    }

    /// The machine's hardware, for web gardens and memoryLimit.
    pub fn set_hardware(&mut self, cpus: u32, memory_mb: u32) {
        self.cpus = cpus.max(1);
        self.memory_mb = memory_mb.max(1);
        // The process model's limits read the hardware (memoryLimit, maxWorkerThreads per CPU).
        self.generation += 1;
    }

    /// `iisreset /enable` and `/disable` (IIR-02).
    pub fn set_reset_disabled(&mut self, disabled: bool) {
        self.reset_disabled = disabled;
    }

    /// Installs IIS on a machine that lacked it: the edition's default tree and services (SET-05).
    pub fn install_iis(&mut self, rules: &[RuleId]) {
        self.generation += 1;
        if self.iis == IisState::Absent {
            let fresh = Machine::new(MachineConfig {
                edition: self.edition,
                name: self.name.clone(),
                iis: IisState::Installed,
                iis5_isolation: false,
                x64: self.x64,
                policies: self.policies.clone(),
            });
            let earlier = self.metabase.version();
            self.metabase = fresh.metabase;
            self.metabase.follow(earlier);
            self.services.extend(fresh.services);
            self.accounts.extend(fresh.accounts);
            self.fs.create_dir("C:\\Inetpub\\wwwroot");
            self.fs.create_file(ADSUTIL_PATH);
            let reset = format!("{}\\system32\\iisreset.exe", self.windir());
            self.fs.create_file(&reset);
            if self.edition.is_iis6() {
                for script in IIS6_SCRIPTS {
                    let path = format!("{}\\system32\\{script}", self.windir());
                    self.fs.create_file(&path);
                }
            }
        }
        self.iis = IisState::Installed;
        for s in self.services.values_mut() {
            s.running = true;
        }
        self.journal.record(
            Change::Runtime { text: format!("IIS {} installed and started", self.edition.iis_version()) },
            rules,
        );
    }
}
