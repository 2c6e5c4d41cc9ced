//! Scenario files: load and check a TOML file, build its starting machine, run its steps and
//! produce the transcript.
//!
//! Data flows one way: a step goes to a tool (or setup), the tool calls machine operations, the
//! operations record effects, and the transcript renders them with their rule IDs.

mod diagnose;
pub mod expect;
pub mod spec;
pub mod transcript;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::cmd::{Session, Stream};
use crate::dispatch::Request;
use crate::machine::journal::EventLog;
use crate::machine::{IisState, Machine, MachineConfig};
use crate::metabase::xml;
use crate::policy::Policies;
use crate::process::{self, Load, Served, World};
use crate::registration;
use crate::rules::RuleId;
use crate::setup::{self, Product};
use crate::sites::{self, AppSpec, SiteSpec};
use crate::tools::{self, Context, Output};
use expect::{mb_path, Check};
use spec::{IisArg, IsolationMode, ScenarioFile, StepSpec};

/// A scenario file that could not be read, parsed or checked: file, line, column, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as given.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A loaded scenario: its file, its spec, its starting machine and what runs on it, ready to run.
pub struct Scenario {
    name: String,
    spec: ScenarioFile,
    start: Machine,
    start_world: World,
    start_log: StartLog,
    /// The text of each `copy_file` step's source, by step index, read when the file loads.
    copies: BTreeMap<usize, String>,
}

/// The start's transcript lines with their citations, kept compactly: a scenario of 100,000
/// applications starts with close to a million lines, and a run that writes no transcript
/// (explain, serve) never reads them.
#[derive(Default)]
struct StartLog {
    lines: Vec<Box<str>>,
    /// Per line: its change's kind and its rules, as an index into `rule_sets`.
    cites: Vec<(&'static str, u32)>,
    rule_sets: Vec<Vec<RuleId>>,
    known: BTreeMap<Vec<RuleId>, u32>,
    cited: BTreeSet<RuleId>,
}

impl StartLog {
    /// Renders and keeps the effects both machines' journals hold so far.
    fn absorb(&mut self, m: &mut Machine, w: &mut World) {
        for e in m.drain_effects_with(w.journal_mut()) {
            self.cited.extend(e.rules.iter().copied());
            let set = match self.known.get(&e.rules) {
                Some(&i) => i,
                None => {
                    let i = u32::try_from(self.rule_sets.len()).expect("few distinct rule lists");
                    self.rule_sets.push(e.rules.clone());
                    self.known.insert(e.rules.clone(), i);
                    i
                }
            };
            self.cites.push((e.change.kind(), set));
            self.lines.push(transcript::render(&e).into_boxed_str());
        }
    }

    /// The citation of every line, in order.
    fn citations(&self) -> Vec<Citation> {
        self.cites
            .iter()
            .zip(&self.lines)
            .map(|(&(kind, set), line)| Citation {
                kind,
                rules: self.rule_sets[set as usize].clone(),
                line: line.to_string(),
            })
            .collect()
    }
}

/// One line of a transcript that cites rules: its kind (a change's [`Change::kind`], or `check`
/// for an expectation) and the rules.
///
/// [`Change::kind`]: crate::machine::journal::Change::kind
#[derive(Debug, Clone)]
pub struct Citation {
    /// What kind of line cites them.
    pub kind: &'static str,
    /// The rules cited.
    pub rules: Vec<RuleId>,
    /// The line as the transcript shows it.
    pub line: String,
}

/// A failed expectation.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Which step, e.g. `step 2: run ...`.
    pub step: String,
    /// The expectation.
    pub expected: String,
    /// What the machine had.
    pub actual: String,
}

/// The outcome of running a scenario.
#[derive(Debug, Clone)]
pub struct Report {
    /// The file name.
    pub name: String,
    /// The scenario's title.
    pub title: String,
    /// The full transcript.
    pub transcript: String,
    /// Expectations that did not hold.
    pub failures: Vec<Failure>,
    /// Every rule ID the transcript cites.
    pub cited: BTreeSet<RuleId>,
    /// Every line that cites rules, with its kind.
    pub citations: Vec<Citation>,
}

impl Report {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A file's name as given and its text; an unreadable file is an error naming it.
/// A file that is not UTF-8 is an error at the line and column where it stops being UTF-8.
fn read_text(path: &Path) -> Result<(String, String), ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read the file: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (message, line, column) = diagnose::not_utf8(e.as_bytes());
        ScenarioError { file: file.clone(), line, column, message }
    })?;
    Ok((file, text))
}

/// Reads and loads a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let (file, text) = read_text(path)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or(file.clone());
    load_str(&file, &name, &text)
}

/// Loads a scenario from text: parse, check every value, build the starting machine.
pub fn load_str(file: &str, name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let err_at = |offset: Option<usize>, message: String| {
        let (line, column) = offset.map(|o| diagnose::line_col(text, o)).unwrap_or((0, 0));
        ScenarioError { file: file.to_string(), line, column, message }
    };
    let spec: ScenarioFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start);
        let mut message = diagnose::plain(e.message());
        if let Some((o, key)) = at.and_then(|o| Some((o, diagnose::key_at(text, o)?))) {
            if diagnose::at_header(text, o) && message.contains("expected an array") {
                message = format!("`{key}` is a list of tables: write [[{key}]]");
            } else if !message.contains(&format!("`{key}`")) {
                message.push_str(&format!(" (key `{key}`)"));
            }
        }
        err_at(at, message)
    })?;
    let mut policies = Policies::default();
    for (k, v) in &spec.policies {
        let value = match v.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(err_at(
                    Some(v.span().start),
                    format!("policy `{}` takes a string, not {other}", k.get_ref()),
                ))
            }
        };
        // An unknown name points at the key, a bad value at the value.
        let at = if crate::policy::find(k.get_ref()).is_some() { v.span().start } else { k.span().start };
        policies.set(k.get_ref(), &value).map_err(|m| err_at(Some(at), m))?;
    }
    let machine = &spec.machine;
    if let Some(iso) = &machine.isolation {
        if !machine.edition.0.is_iis6() {
            return Err(err_at(
                Some(iso.span().start),
                "`isolation` applies to Windows Server 2003 (IIS 6.0) only".into(),
            ));
        }
    }
    if let Some(x64) = &machine.x64 {
        if *x64.get_ref() && !machine.edition.0.is_iis6() {
            return Err(err_at(Some(x64.span().start), "`x64` applies to Windows Server 2003 only".into()));
        }
    }
    let mut elapsed: u64 = 0;
    for step in &spec.step {
        validate_step(step.get_ref()).map_err(|m| err_at(Some(step.span().start), m))?;
        let s = step.get_ref();
        let spent =
            s.advance.map(|d| d.0).unwrap_or(0) + s.request.as_ref().and_then(|r| r.duration).map(|d| d.0).unwrap_or(0);
        elapsed += spent;
        if elapsed > spec::MAX_CLOCK_SECONDS {
            return Err(err_at(
                Some(step.span().start),
                format!(
                    "the steps' durations add up to more than the virtual clock holds ({} days)",
                    spec::MAX_CLOCK_SECONDS / 86_400
                ),
            ));
        }
        for o in &step.get_ref().options {
            if !o.get_ref().eq_ignore_ascii_case("/noaspupgrade") {
                return Err(err_at(
                    Some(o.span().start),
                    format!("unknown setup option `{}`, expected /noaspupgrade", o.get_ref()),
                ));
            }
        }
    }
    let base = Path::new(file).parent().unwrap_or(Path::new(""));
    let mut copies = BTreeMap::new();
    for (i, step) in spec.step.iter().enumerate() {
        if let Some(c) = &step.get_ref().copy_file {
            let text = std::fs::read_to_string(base.join(&c.from)).map_err(|e| {
                err_at(Some(step.span().start), format!("copy_file: cannot read {}: {e}", base.join(&c.from).display()))
            })?;
            copies.insert(i, text);
        }
    }
    let imported = match &machine.metabase_xml {
        None => None,
        Some(x) => {
            let at = Some(x.span().start);
            if !machine.edition.0.is_iis6() {
                return Err(err_at(at, "`metabase_xml` applies to Windows Server 2003 (IIS 6.0) only".into()));
            }
            if machine.iis != IisArg::Installed {
                return Err(err_at(at, "`metabase_xml` needs IIS installed and running".into()));
            }
            let xml_path = base.join(x.get_ref());
            Some(read_metabase_xml(&xml_path)?)
        }
    };
    let config = MachineConfig {
        edition: machine.edition.0,
        name: machine.name.clone().unwrap_or_else(|| "IISBOX".into()),
        iis: match machine.iis {
            IisArg::Installed => IisState::Installed,
            IisArg::Absent => IisState::Absent,
            IisArg::Disabled => IisState::Disabled,
        },
        iis5_isolation: machine.isolation.as_ref().is_some_and(|i| *i.get_ref() == IsolationMode::Iis5),
        x64: machine.x64.as_ref().is_some_and(|x| *x.get_ref()),
        policies,
    };
    let mut m = Machine::new(config);
    let mut w = World::default();
    let mut start_log = StartLog::default();
    build(&mut m, &mut w, &spec, imported, &mut start_log).map_err(|(offset, msg)| err_at(offset, msg))?;
    start_log.absorb(&mut m, &mut w);
    start_log.lines.shrink_to_fit();
    start_log.cites.shrink_to_fit();
    Ok(Scenario { name: name.to_string(), spec, start: m, start_world: w, start_log, copies })
}

fn validate_step(step: &StepSpec) -> Result<(), String> {
    let actions = [
        ("run", step.run.is_some()),
        ("install", step.install.is_some()),
        ("uninstall", step.uninstall.is_some()),
        ("install_iis", step.install_iis.is_some()),
        ("delete_file", step.delete_file.is_some()),
        ("new_site", step.new_site.is_some()),
        ("new_app", step.new_app.is_some()),
        ("set_property", step.set_property.is_some()),
        ("request", step.request.is_some()),
        ("machine_config", step.machine_config.is_some()),
        ("web_config", step.web_config.is_some()),
        ("advance", step.advance.is_some()),
        ("kill", step.kill.is_some()),
        ("unload_appdomain", step.unload_appdomain.is_some()),
        ("grant", step.grant.is_some()),
        ("restart_service", step.restart_service.is_some()),
        ("create_file", step.create_file.is_some()),
        ("aspnet_tab", step.aspnet_tab.is_some()),
        ("export", step.export.is_some()),
        ("lint", step.lint.is_some()),
        ("diagram", step.diagram.is_some()),
        ("copy_file", step.copy_file.is_some()),
    ];
    let present: Vec<&str> = actions.iter().filter(|(_, p)| *p).map(|(n, _)| *n).collect();
    if present.len() != 1 {
        let names: Vec<&str> = actions.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "a step needs exactly one action ({}), found {}",
            names.join(", "),
            if present.is_empty() { "none".to_string() } else { present.join(" and ") }
        ));
    }
    if !step.options.is_empty() && step.install.is_none() {
        return Err("`options` go with `install` only".into());
    }
    if let Some(set) = &step.set_property {
        if expect::to_value(&set.value, &set.property).is_none() {
            return Err(format!("value {} does not fit property {}", set.value, set.property));
        }
    }
    if step.lint == Some(false) || step.diagram == Some(false) {
        return Err("`lint` and `diagram` take true (leave them out to do nothing)".into());
    }
    if step.install_iis == Some(false) {
        return Err("`install_iis` takes true (leave it out to do nothing)".into());
    }
    if step.as_admin.is_some() && step.run.is_none() {
        return Err("`as_admin` goes with `run` only".into());
    }
    if let Some(edit) = &step.machine_config {
        check_process_model(edit)?;
    }
    if let Some(r) = &step.request {
        if r.method.as_deref().is_some_and(|m| m.is_empty() || m.contains(char::is_whitespace)) {
            return Err("`method` must be one word such as GET or POST".into());
        }
        if r.repeat == Some(0) {
            return Err("`repeat` must be at least 1".into());
        }
        if r.repeat.is_some_and(|n| n > spec::MAX_REPEAT) {
            return Err(format!(
                "`repeat` is at most {}: each request is recorded in the transcript",
                spec::MAX_REPEAT
            ));
        }
    }
    if let Some(svc) = &step.restart_service {
        if !["aspnet_state", "mssqlserver", "w3svc"].contains(&svc.to_ascii_lowercase().as_str()) {
            return Err(format!("cannot restart `{svc}`: expected aspnet_state, MSSQLSERVER or W3SVC"));
        }
    }
    if let Some(expect) = &step.expect {
        if let Some(sess) = &expect.session {
            if !["new", "kept", "lost"].contains(&sess.as_str()) {
                return Err(format!("`session` expects new, kept or lost, not `{sess}`"));
            }
        }
    }
    Ok(())
}

/// Checks a processModel edit against the attributes its runtime knows.
fn check_process_model(edit: &spec::MachineConfigEdit) -> Result<(), String> {
    let mut pm = crate::config::ProcessModel::shipped(edit.version.0);
    for (k, v) in &edit.process_model {
        pm.set(k, v)?;
    }
    Ok(())
}

type BuildError = (Option<usize>, String);

/// A MetaBase.xml read for a scenario: where it came from, its text and what the import gave.
pub struct LoadedXml {
    /// The file as given.
    pub path: String,
    /// Its text.
    pub text: String,
    /// The imported metabase and the importer's notes.
    pub imported: xml::Imported,
}

/// Reads and imports a MetaBase.xml file; a malformed file is refused with its line and column.
pub fn read_metabase_xml(path: &Path) -> Result<LoadedXml, ScenarioError> {
    let (file, text) = read_text(path)?;
    match xml::import(&text) {
        Ok(imported) => Ok(LoadedXml { path: file, text, imported }),
        Err(e) => Err(ScenarioError { file, line: e.line, column: e.column, message: e.message }),
    }
}

/// A Windows Server 2003 machine whose metabase is a MetaBase.xml file alone: the runtimes its
/// Web Service Extensions or InProcessIsapiApps name count as installed (registration writes
/// both), then the registry follows the script maps as for a scenario's `metabase_xml`.
pub fn machine_from_xml(path: &Path) -> Result<Machine, ScenarioError> {
    let loaded = read_metabase_xml(path)?;
    let mut m = Machine::new(MachineConfig::new(crate::edition::Edition::Win2003));
    let mb = &loaded.imported.metabase;
    let mut listed: Vec<String> = mb.own_list(registration::W3SVC, "WebSvcExtRestrictionList");
    listed.extend(mb.own_list(registration::W3SVC, "InProcessIsapiApps"));
    let installed: Vec<crate::runtime::Version> = crate::runtime::Version::ALL
        .into_iter()
        .filter(|v| listed.iter().any(|l| l.to_ascii_lowercase().contains(&format!("\\{}\\", v.folder_name()))))
        .collect();
    adopt_file(&mut m, loaded);
    for v in installed {
        registration::install_files(&mut m, v, false);
    }
    let mut w = World::default();
    registration::adopt_metabase(&mut m, &mut w);
    m.drain_effects();
    Ok(m)
}

/// Puts an imported metabase in place of the fresh install's tree, and the file on the disk.
fn adopt_file(m: &mut Machine, x: LoadedXml) {
    // The fresh tree Machine::new recorded is not what this server has.
    m.drain_effects();
    let mb = x.imported.metabase;
    let keys = mb.keys().count() + usize::from(mb.global().is_some());
    let ns = mb.namespace().unwrap_or("none").to_string();
    let name = Path::new(&x.path).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or(x.path.clone());
    let stored: Vec<(String, crate::metabase::Prop)> =
        mb.keys().flat_map(|k| k.stored().map(|p| (k.path().to_string(), p.clone())).collect::<Vec<_>>()).collect();
    let edit = mb.own("/LM", "EnableEditWhileRunning").and_then(crate::metabase::Value::as_dword).unwrap_or(0);
    m.mb_replace(
        mb,
        format!("IIS loaded {name} at start: {keys} keys, namespace {ns}; changes go to memory first"),
        &["MB-01", "MB-02", "MB-04", "MB-05"],
    );
    let file = m.metabase_file();
    m.fs_write_file(&file, &x.text, &["MB-01"]);
    for note in &x.imported.notes {
        m.note(note.clone(), &["MB-08"]);
    }
    let label = |k: &String, p: &crate::metabase::Prop| {
        format!("{k} {}", if p.name.is_empty() { "(nameless)" } else { p.name.as_str() })
    };
    let unknown: Vec<String> = stored.iter().filter(|(_, p)| p.meta.verbatim).map(|(k, p)| label(k, p)).collect();
    let custom: Vec<String> = stored.iter().filter(|(_, p)| p.meta.custom).map(|(k, p)| label(k, p)).collect();
    if !unknown.is_empty() || !custom.is_empty() {
        let list = |one: &str, many: &str, items: &[String]| match items.len() {
            0 => String::new(),
            1 => format!("; 1 {one}: {}", items[0]),
            n => format!("; {n} {many}: {}", items.join(", ")),
        };
        m.note(
            format!(
                "kept as the file wrote them{}{}",
                list("attribute unknown to iisim", "attributes unknown to iisim", &unknown),
                list("Custom element", "Custom elements", &custom)
            )
            .replacen("them; ", "them: ", 1),
            &["MB-07"],
        );
    }
    let secure: Vec<String> = stored
        .iter()
        .filter(|(_, p)| !p.meta.custom && matches!(p.value, crate::metabase::Value::Binary(_)))
        .map(|(k, p)| format!("{k} {}", p.name))
        .collect();
    if !secure.is_empty() {
        m.note(format!("secure values kept as opaque blobs, never decrypted: {}", secure.join(", ")), &["MB-11"]);
    }
    let edits = if edit != 0 {
        "EnableEditWhileRunning=1: hand edits of the file reach the running IIS"
    } else {
        "EnableEditWhileRunning=0: hand edits of the file wait for the next IIS start"
    };
    m.note(edits, &["MB-03"]);
}

/// Builds the starting machine: pools, sites, applications, hand-set properties, runtimes, pins.
fn build(
    m: &mut Machine,
    w: &mut World,
    spec: &ScenarioFile,
    imported: Option<LoadedXml>,
    log: &mut StartLog,
) -> Result<(), BuildError> {
    let ms = &spec.machine;
    let from_file = imported.is_some();
    if let Some(x) = imported {
        adopt_file(m, x);
    }
    for f in &ms.files {
        let names: Vec<&str> = f.names.iter().map(String::as_str).collect();
        m.fs_create_files(&f.folder, &names, &["MB-21"]);
    }
    let iis_absent = m.iis() == IisState::Absent;
    let needs_iis = |what: &str, offset: usize| -> Result<(), BuildError> {
        if iis_absent {
            return Err((Some(offset), format!("{what} needs IIS, but the machine has iis = \"absent\"")));
        }
        Ok(())
    };
    for pool in &ms.pool {
        needs_iis("a pool", pool.span().start)?;
        if !m.edition().is_iis6() {
            return Err((Some(pool.span().start), "application pools exist on IIS 6.0 only".into()));
        }
        sites::create_pool(m, &pool.get_ref().name);
    }
    for site in &ms.site {
        needs_iis("a site", site.span().start)?;
        add_site(m, site.get_ref()).map_err(|e| (Some(site.span().start), e))?;
    }
    for (i, app) in ms.app.iter().enumerate() {
        needs_iis("an application", app.span().start)?;
        add_app(m, app.get_ref(), false).map_err(|e| (Some(app.span().start), e))?;
        // Rendered as they come, so the journal never holds every application's effects at once.
        if i % 1024 == 1023 {
            log.absorb(m, w);
        }
    }
    for product in &ms.runtimes {
        if from_file {
            // The metabase is the file's: the framework's files go on disk, registration is
            // not replayed over the imported keys (MB-01).
            match product.0 {
                Product::Runtime(v) => registration::install_files(m, v, false),
                Product::NetFx3 => registration::install_files(m, crate::runtime::Version::V2_0, true),
                Product::Kb812833(_) | Product::ServicePack(..) => {
                    setup::install(m, w, product.0, true);
                }
            }
            continue;
        }
        let result = setup::install(m, w, product.0, true);
        if result.exit != 0 {
            return Err((None, format!("machine.runtimes: {}", result.output.join(" "))));
        }
    }
    if from_file {
        registration::adopt_metabase(m, w);
    }
    for (i, app) in ms.app.iter().enumerate() {
        pin_app(m, app.get_ref())
            .map_err(|e| (Some(app.span().start), format!("{e} (list it in machine.runtimes)")))?;
        if i % 1024 == 1023 {
            log.absorb(m, w);
        }
    }
    // Hand-set properties come last: they describe the machine as the scenario starts.
    for set in &ms.metabase {
        set_property(m, w, set.get_ref()).map_err(|e| (Some(set.span().start), e))?;
    }
    for edit in &ms.machine_config {
        check_process_model(edit.get_ref()).map_err(|e| (Some(edit.span().start), e))?;
        edit_machine_config(m, edit.get_ref()).map_err(|e| (Some(edit.span().start), e))?;
    }
    for app in &ms.app {
        apply_web_config(m, w, app.get_ref());
    }
    m.set_hardware(ms.cpus.unwrap_or(1), ms.memory_mb.unwrap_or(1024));
    process::boot(m, w);
    Ok(())
}

/// Applies a machine.config processModel edit (PM5-04, PM5-05).
fn edit_machine_config(m: &mut Machine, edit: &spec::MachineConfigEdit) -> Result<(), String> {
    for (k, v) in &edit.process_model {
        process::edit_process_model(m, edit.version.0, k, v)?;
    }
    if let Some(on) = edit.version_header {
        m.set_root_version_header(edit.version.0, on);
    }
    Ok(())
}

/// Writes an application's web.config settings when the entry gives any.
fn apply_web_config(m: &mut Machine, w: &mut World, a: &spec::AppEntry) {
    let edit = WebConfigEdit {
        session: a.session_state,
        version_header: a.version_header,
        target: a.target,
        cookieless: a.cookieless,
    };
    if edit.is_empty() {
        return;
    }
    write_web_config(m, w, &mb_path(&a.path), &edit);
}

/// The web.config settings a machine entry or a step changes; `None` keeps the current value.
struct WebConfigEdit {
    session: Option<spec::SessionModeArg>,
    version_header: Option<bool>,
    target: Option<spec::VersionArg>,
    cookieless: Option<bool>,
}

impl WebConfigEdit {
    fn is_empty(&self) -> bool {
        self.session.is_none() && self.version_header.is_none() && self.target.is_none() && self.cookieless.is_none()
    }
}

/// Changes the given web.config settings of an application, keeping the others.
fn write_web_config(m: &mut Machine, w: &mut World, path: &str, edit: &WebConfigEdit) {
    let mut wc = m.web_config(path);
    if let Some(s) = edit.session {
        wc.session = s.0;
    }
    if let Some(h) = edit.version_header {
        wc.version_header = h;
    }
    if let Some(t) = edit.target {
        wc.target = Some(t.0);
    }
    if let Some(c) = edit.cookieless {
        wc.cookieless = c;
    }
    process::set_web_config(m, w, path, wc);
}

/// Sets one metabase property by hand, creating the key if needed; the value must fit the property.
fn set_property(m: &mut Machine, w: &mut World, s: &spec::MetabaseSet) -> Result<(), String> {
    if m.iis() == IisState::Absent {
        return Err("IIS is not installed: there is no metabase".into());
    }
    if let Some(c) = &s.comment {
        m.note(c.clone(), &[]);
    }
    let path = mb_path(&s.path);
    let value = expect::to_value(&s.value, &s.property)
        .ok_or_else(|| format!("value {} does not fit property {}", s.value, s.property))?;
    if !m.metabase().exists(&path) {
        let kt = s.key_type.clone().unwrap_or_else(|| "IIsConfigObject".into());
        m.mb_create_key(&path, &kt, &["MB-13"]);
    }
    m.mb_set(&path, &s.property, value.clone(), &["MB-23"]).map_err(|e| e.to_string())?;
    // AppPoolCommand is volatile: WAS acts on it at once (ADS-05, PM6-07).
    if s.property.eq_ignore_ascii_case("AppPoolCommand") {
        let pool = path.rsplit('/').next().unwrap_or_default().to_string();
        match value.as_dword() {
            Some(1) => process::pool_command(m, w, &pool, true),
            Some(2) => process::pool_command(m, w, &pool, false),
            _ => {}
        }
    }
    Ok(())
}

/// Creates a site with its files (MB-13, MB-14).
fn add_site(m: &mut Machine, s: &spec::SiteEntry) -> Result<(), String> {
    if m.iis() == IisState::Absent {
        return Err("IIS is not installed".into());
    }
    let spec = SiteSpec { id: s.id, name: s.name.clone(), bindings: s.bindings.clone(), path: s.path.clone() };
    sites::create_site(m, &spec)?;
    let files: Vec<&str> = s.files.iter().map(String::as_str).collect();
    m.fs_create_files(&s.path, &files, &["MB-21"]);
    Ok(())
}

/// Creates a virtual directory, folder or application with its files; pins it when asked.
fn add_app(m: &mut Machine, a: &spec::AppEntry, pin: bool) -> Result<(), String> {
    if m.iis() == IisState::Absent {
        return Err("IIS is not installed".into());
    }
    let path = mb_path(&a.path);
    let spec = AppSpec {
        path: path.clone(),
        physical_path: a.physical_path.clone(),
        application: a.application,
        isolation: a.isolation.map(|i| i.0),
        pool: a.pool.clone(),
    };
    sites::create_app(m, &spec)?;
    if !a.files.is_empty() {
        let (dir, _) = sites::physical_path(m, &path).ok_or("no physical path")?;
        let files: Vec<&str> = a.files.iter().map(String::as_str).collect();
        m.fs_create_files(&dir, &files, &["MB-21"]);
    }
    if pin {
        pin_app(m, a)?;
    }
    Ok(())
}

/// Maps an application to its `runtime`, as that runtime's `aspnet_regiis -s` would (REG-07).
fn pin_app(m: &mut Machine, a: &spec::AppEntry) -> Result<(), String> {
    if let Some(v) = a.runtime {
        let path = mb_path(&a.path);
        registration::install_maps(m, v.0, &path, true).map_err(|e| format!("cannot pin {path} to {}: {e}", v.0))?;
    }
    Ok(())
}

impl Scenario {
    /// The scenario's title.
    pub fn title(&self) -> &str {
        &self.spec.title
    }

    /// Runs every step on a copy of the starting machine and returns the report.
    pub fn run(&self) -> Report {
        self.run_to_end().0
    }

    /// Runs every step and returns the report with the machine and its world as the last step
    /// left them.
    pub fn run_to_end(&self) -> (Report, Machine, World) {
        self.run_until(None)
    }

    /// The number of steps.
    pub fn step_count(&self) -> usize {
        self.spec.step.len()
    }

    /// Runs the first `last` steps (all with `None`; none with `Some(0)`) and returns the report
    /// with the machine and its world as they leave them.
    pub fn run_until(&self, last: Option<usize>) -> (Report, Machine, World) {
        let (report, m, w, _) = self.run_session(last);
        (report, m, w)
    }

    /// Runs every step; returns the report, the machine, its world and the cmd.exe session as the
    /// steps left them.
    pub fn run_with_session(&self) -> (Report, Machine, World, Session) {
        self.run_session(None)
    }

    /// Runs every step on the scenario's own starting machine, without copying it (a scenario
    /// of 100,000 applications has a large one), and returns the failed expectations and the
    /// final machine and world; no transcript is written.
    pub fn into_end(mut self) -> (Vec<Failure>, Machine, World) {
        let blank = Machine::new(MachineConfig::new(self.start.edition()));
        let start = std::mem::replace(&mut self.start, blank);
        let world = std::mem::take(&mut self.start_world);
        self.start_log = StartLog { cited: std::mem::take(&mut self.start_log.cited), ..StartLog::default() };
        let (report, m, w, _) = self.run_on(start, world, false, None);
        (report.failures, m, w)
    }

    fn run_session(&self, last: Option<usize>) -> (Report, Machine, World, Session) {
        self.run_on(self.start.clone(), self.start_world.clone(), true, last)
    }

    fn run_on(
        &self,
        mut m: Machine,
        mut w: World,
        with_start: bool,
        last: Option<usize>,
    ) -> (Report, Machine, World, Session) {
        let mut session = Session::new(&m);
        let mut t = Transcript::default();
        let mut cited = self.start_log.cited.clone();
        let mut citations = if with_start { self.start_log.citations() } else { Vec::new() };
        let mut failures = Vec::new();
        self.header(&m, &mut t);
        t.push("");
        t.push("== start ==");
        for line in self.start_log.lines.iter().filter(|_| with_start) {
            t.push(format!("  * {line}"));
        }
        let limit = last.unwrap_or(self.spec.step.len());
        for (i, step) in self.spec.step.iter().enumerate().take(limit) {
            let step = step.get_ref();
            let label = format!("step {}: {}", i + 1, describe(step));
            t.push("");
            t.push(format!("== {label} =="));
            if let Some(c) = &step.comment {
                for line in c.lines() {
                    t.push(format!("  # {line}"));
                }
            }
            let events_before = (m.event_log().written(), w.event_log().written());
            let (console, out, served) = match (&step.copy_file, self.copies.get(&i)) {
                (Some(c), Some(text)) => {
                    let out = copy_onto_disk(&mut m, &c.to, text);
                    (out.lines.iter().map(|l| (Stream::Out, l.clone())).collect(), out, None)
                }
                _ => execute(&mut m, &mut w, &mut session, step),
            };
            for (stream, line) in &console {
                // Standard error is marked `!` so `2>&1` and `2>nul` show in the transcript.
                let mark = if *stream == Stream::Err { '!' } else { '|' };
                t.push(format!("  {mark} {line}"));
            }
            t.push(format!("  exit {}", out.exit));
            for e in m.drain_effects_with(w.journal_mut()) {
                cited.extend(e.rules.iter().copied());
                let line = transcript::render(&e);
                citations.push(Citation { kind: e.change.kind(), rules: e.rules.clone(), line: line.clone() });
                t.push(format!("  * {line}"));
            }
            let new_events = EventLog::merged_since(m.event_log(), events_before.0, w.event_log(), events_before.1);
            let checks = step
                .expect
                .as_ref()
                .map(|x| expect::check_all(&m, &w, &out, served.as_ref(), &new_events, x))
                .unwrap_or_default();
            for c in checks {
                cited.extend(c.rules.iter().copied());
                citations.push(Citation { kind: "check", rules: c.rules.clone(), line: c.expected.clone() });
                t.push(check_line(&c));
                if let Some(actual) = c.actual {
                    failures.push(Failure { step: label.clone(), expected: c.expected, actual });
                }
            }
        }
        for r in self.spec.rules.iter().filter(|_| limit >= self.spec.step.len()) {
            if !cited.contains(r.0) {
                failures.push(Failure {
                    step: "scenario".into(),
                    expected: format!("the transcript cites {} (listed in `rules`)", r.0),
                    actual: "no effect or check cites it".into(),
                });
            }
        }
        let report = Report {
            name: self.name.clone(),
            title: self.spec.title.clone(),
            transcript: t.finish(),
            failures,
            cited,
            citations,
        };
        (report, m, w, session)
    }

    fn header(&self, m: &Machine, t: &mut Transcript) {
        t.push(format!("# {}", self.spec.title));
        t.push(format!("file: {}", self.name));
        t.push(format!(
            "machine: {}{} (IIS {}), %windir% = {}, computer {}{}",
            m.edition(),
            if m.is_x64() { " x64" } else { "" },
            m.edition().iis_version(),
            m.windir(),
            m.name(),
            match m.iis() {
                IisState::Installed => String::new(),
                IisState::Absent => ", IIS not installed".into(),
                IisState::Disabled => ", IIS disabled".into(),
            }
        ));
        let non_default = m.policies().non_default();
        if non_default.is_empty() {
            t.push("policies: defaults");
        } else {
            let items: Vec<String> = non_default.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            t.push(format!("policies: {}", items.join(", ")));
        }
        let ids: Vec<&str> = self.spec.rules.iter().map(|r| r.0).collect();
        t.push(format!("demonstrates: {}", ids.join(", ")));
        if let Some(d) = &self.spec.description {
            for line in d.trim().lines() {
                t.push(format!("  {line}"));
            }
        }
    }
}

/// A one-line description of a step's action.
fn describe(step: &StepSpec) -> String {
    let product = |p: Product| match p {
        Product::Runtime(v) => format!(".NET Framework {v}"),
        Product::NetFx3 => ".NET Framework 3.x".into(),
        Product::Kb812833(v) => format!("the KB 812833 update for {v}"),
        Product::ServicePack(v, sp) => format!(".NET Framework {} Service Pack {sp}", v.short()),
    };
    if let Some(cmd) = &step.run {
        let who = if step.as_admin == Some(false) { " (as a non-administrator)" } else { "" };
        format!("run {cmd}{who}")
    } else if let Some(p) = step.install {
        let opts: Vec<&str> = step.options.iter().map(|o| o.get_ref().as_str()).collect();
        let opts = if opts.is_empty() { String::new() } else { format!(" {}", opts.join(" ")) };
        format!("install {}{opts}", product(p.0))
    } else if let Some(p) = step.uninstall {
        format!("uninstall {}", product(p.0))
    } else if step.install_iis.is_some() {
        "install IIS".into()
    } else if let Some(f) = &step.delete_file {
        format!("delete {f}")
    } else if let Some(site) = &step.new_site {
        format!("new site \"{}\" at {}", site.name, site.path)
    } else if let Some(app) = &step.new_app {
        format!("new {} {}", if app.application { "application" } else { "folder" }, mb_path(&app.path))
    } else if let Some(set) = &step.set_property {
        format!("set {} {} = {}", mb_path(&set.path), set.property, set.value)
    } else if let Some(r) = &step.request {
        let who = r.client.as_ref().map(|c| format!(" as {c}")).unwrap_or_default();
        let times = r.repeat.filter(|n| *n > 1).map(|n| format!(" x{n}")).unwrap_or_default();
        format!("request {} {}{who}{times}", r.method.as_deref().unwrap_or("GET"), r.url)
    } else if let Some(e) = &step.machine_config {
        let attrs: Vec<String> = e.process_model.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        format!("edit {} machine.config <processModel {}>", e.version.0, attrs.join(" "))
    } else if let Some(w) = &step.web_config {
        format!("edit web.config of {}", mb_path(&w.app))
    } else if let Some(d) = &step.advance {
        format!("wait {} s", d.0)
    } else if let Some(k) = &step.kill {
        format!("kill {k}")
    } else if let Some(a) = &step.unload_appdomain {
        format!("HttpRuntime.UnloadAppDomain() in {}", mb_path(a))
    } else if let Some(a) = &step.grant {
        format!("give {a} the permissions of ASPNET")
    } else if let Some(svc) = &step.restart_service {
        format!("restart service {svc}")
    } else if let Some(f) = &step.create_file {
        format!("save {}", f.0.path)
    } else if let Some(t) = &step.aspnet_tab {
        format!("IIS Manager: ASP.NET tab of {} set to {}", mb_path(&t.path), t.version.0)
    } else if let Some(c) = &step.copy_file {
        format!("copy {} to {}", c.from, c.to)
    } else if let Some(f) = &step.export {
        format!("export the metabase to {f}")
    } else if step.lint.is_some() {
        "lint the configuration".into()
    } else if step.diagram.is_some() {
        "draw the configuration".into()
    } else {
        "nothing".into()
    }
}

/// What a step printed, in order, with the stream of each line.
type Console = Vec<(Stream, String)>;

/// Runs a step's action on the machine: a command line in the scenario's cmd.exe session, a
/// request (which also returns how it was served), or another action.
fn execute(
    m: &mut Machine,
    w: &mut World,
    session: &mut Session,
    step: &StepSpec,
) -> (Console, Output, Option<Served>) {
    let console = |out: &Output| out.lines.iter().map(|l| (Stream::Out, l.clone())).collect();
    if let Some(r) = &step.request {
        let (out, served) = send(m, w, r);
        return (console(&out), out, Some(served));
    }
    if let Some(cmd) = &step.run {
        let result = session.run_line(m, w, cmd, Context { admin: step.as_admin.unwrap_or(true) });
        if session.ended().is_some() {
            // After `exit` the next step types into a fresh prompt (CMD-26).
            *session = Session::new(m);
        }
        let out = result.to_output();
        return (result.console, out, None);
    }
    let out = act(m, w, step);
    (console(&out), out, None)
}

/// Sends a request step's requests, then waits for the longest to finish.
fn send(m: &mut Machine, w: &mut World, r: &spec::RequestSpec) -> (Output, Served) {
    let req = Request {
        method: r.method.clone().unwrap_or_else(|| "GET".into()),
        url: r.url.clone(),
        host: match r.host.as_deref() {
            None => Some("localhost".into()),
            Some("") => None,
            Some(h) => Some(h.to_string()),
        },
        ip: r.ip.clone().unwrap_or_else(|| "10.0.0.1".into()),
        port: r.port.unwrap_or(80),
        headers: r.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        http10: r.http10,
    };
    let load = Load {
        memory_mb: r.memory_mb,
        duration: r.duration.map(|d| d.0).unwrap_or(0),
        client: r.client.clone(),
        local: r.local,
    };
    let mut out = Output::default();
    let mut all: Vec<Served> = (0..r.repeat.unwrap_or(1))
        .map(|_| {
            let s = process::serve(m, w, &req, &load);
            // What HTTP.sys answers itself is in its error log (HTTP-08).
            crate::http::httperr::log_served(m, &req, &s, crate::http::httperr::emulated_client(load.local, s.id));
            s
        })
        .collect();
    // A request that waited in a queue is answered by the worker it ended up in (PM5-07).
    for s in &mut all {
        if let Some(p) = process::answered_by(w, s.id) {
            s.process = Some(p);
        }
        out.line(summary(&req, s));
    }
    if load.duration > 0 {
        process::advance(m, w, load.duration);
    }
    let served = all.pop().unwrap_or_else(|| process::serve(m, w, &req, &load));
    for line in answer_lines(m, &served) {
        out.line(line);
    }
    (out, served)
}

/// Explains one request on the machine a scenario leaves: every decision from binding to process,
/// each with its rules, then what the request changed. The scenario's machine and world are not
/// modified.
pub fn explain(m: &Machine, w: &World, req: &Request, load: &Load) -> Vec<String> {
    let mut w = w.clone();
    w.drain_effects();
    let served = process::serve(m, &mut w, req, load);
    let mut lines = vec![format!("{} {} (Host: {})", req.method, req.url, req.host.as_deref().unwrap_or("none"))];
    for e in w.drain_effects() {
        lines.push(format!("  {}", transcript::render(&e)));
    }
    lines.push(format!("=> {}", summary(req, &served)));
    if served.reply.status != 0 {
        lines.push(format!("   {}", status_line(&served.reply, iis_phrases(m, &served))));
        for (k, v) in &served.reply.headers {
            lines.push(format!("   {k}: {v}"));
        }
        lines.push("   ".into());
        lines.extend(body_lines(&served.reply.body, EXPLAIN_BODY_LINES).into_iter().map(|l| format!("   {l}")));
    }
    lines
}

/// How many lines of a response body a request step shows.
const STEP_BODY_LINES: usize = 4;
/// How many lines of a response body `explain` shows.
const EXPLAIN_BODY_LINES: usize = 40;

/// The first `max` lines of a body, then how many more there are.
fn body_lines(body: &str, max: usize) -> Vec<String> {
    let all: Vec<&str> = body.lines().collect();
    let mut lines: Vec<String> = all.iter().take(max).map(|l| l.to_string()).collect();
    if all.len() > max {
        lines.push(format!("... ({} more lines)", all.len() - max));
    }
    if all.is_empty() {
        lines.push("(empty body)".into());
    }
    lines
}

/// The status line IIS sends, with the front end's reason phrases (HTTP-21); the sub-status is
/// never on the line (REQ-12).
fn status_line(reply: &crate::dispatch::Reply, iis5: bool) -> String {
    format!("HTTP/1.1 {} {}", reply.status, crate::http::wire::reason(reply.status, iis5))
}

/// Whether the answer's status line carries IIS 5's own reason phrases: IIS 5.x wrote it itself;
/// ASP.NET's answers carry the phrases ASP.NET sets (RFC 2616's).
fn iis_phrases(m: &Machine, s: &Served) -> bool {
    !m.edition().is_iis6() && s.runtime.is_none()
}

/// The status line and the first lines of the body of a request's answer.
fn answer_lines(m: &Machine, s: &Served) -> Vec<String> {
    if s.reply.status == 0 {
        return Vec::new();
    }
    let mut lines = vec![status_line(&s.reply, iis_phrases(m, s))];
    lines.extend(body_lines(&s.reply.body, STEP_BODY_LINES).into_iter().map(|l| format!("> {l}")));
    lines
}

/// One line per request: status, process, runtime, session.
pub fn summary(req: &Request, s: &Served) -> String {
    s.summary().line(req)
}

/// Runs a step's non-request action.
fn act(m: &mut Machine, w: &mut World, step: &StepSpec) -> Output {
    if let Some(e) = &step.machine_config {
        return match edit_machine_config(m, e) {
            Ok(()) => Output::default(),
            Err(e) => Output::new(vec![e], 1),
        };
    }
    if let Some(edit) = &step.web_config {
        let changes = WebConfigEdit {
            session: edit.session_state,
            version_header: edit.version_header,
            target: edit.target,
            cookieless: edit.cookieless,
        };
        write_web_config(m, w, &mb_path(&edit.app), &changes);
        return Output::default();
    }
    if let Some(d) = &step.advance {
        process::advance(m, w, d.0);
        return Output::default();
    }
    if let Some(k) = &step.kill {
        let n = process::kill(m, w, k);
        if n == 0 {
            return Output::new(vec![format!("ERROR: The process \"{k}\" not found.")], 128);
        }
        return Output::new(vec![format!("SUCCESS: {n} process(es) terminated.")], 0);
    }
    if let Some(a) = &step.unload_appdomain {
        return match process::unload_app_domain(m, w, &mb_path(a)) {
            Ok(_) => Output::default(),
            Err(e) => Output::new(vec![e], 1),
        };
    }
    if let Some(a) = &step.grant {
        process::grant_like_aspnet(m, a);
        return Output::default();
    }
    if let Some(svc) = &step.restart_service {
        match svc.to_ascii_lowercase().as_str() {
            "aspnet_state" => {
                if m.service("aspnet_state").is_none() {
                    return Output::new(vec!["The service name is invalid.".into()], 2);
                }
                m.service_action("aspnet_state", "restarted", &["SES-04"]);
                process::state_service_restarted(w);
            }
            "mssqlserver" => process::sql_server_restarted(w),
            _ => {
                m.service_action("W3SVC", "restarted (net stop w3svc, net start w3svc)", &["IIR-04"]);
                process::restart_w3svc(m, w, "W3SVC restarted", &["IIR-04"]);
            }
        }
        return Output::default();
    }
    if let Some(t) = &step.aspnet_tab {
        return tools::iismanager::aspnet_tab(m, w, &mb_path(&t.path), t.version.0);
    }
    if let Some(f) = &step.export {
        return export_to_disk(m, f);
    }
    if step.lint.is_some() {
        return lint_step(m);
    }
    if step.diagram.is_some() {
        return diagram_step(m);
    }
    if let Some(f) = &step.create_file {
        let f = &f.0;
        let (dir, name) = f.path.rsplit_once('\\').unwrap_or(("C:", f.path.as_str()));
        let dir = if dir.ends_with(':') { format!("{dir}\\") } else { dir.to_string() };
        m.fs_create_files(&dir, &[name], &[]);
        // Saved with the CR LF line ends of the emulated machine (CMD-22).
        if !f.text.is_empty() {
            let text = f.text.replace("\r\n", "\n").replace('\n', "\r\n");
            m.fs_write(&f.path, &text, false, &[]);
        }
        return Output::default();
    }
    if let Some(p) = step.install {
        let r = setup::install(m, w, p.0, step.options.is_empty());
        return Output::new(r.output, r.exit);
    }
    if let Some(p) = step.uninstall {
        let r = setup::uninstall(m, w, p.0);
        return Output::new(r.output, r.exit);
    }
    if step.install_iis.is_some() {
        m.install_iis(&["SET-05"]);
        return Output::default();
    }
    if let Some(f) = &step.delete_file {
        m.fs_delete(f, &[]);
        return Output::default();
    }
    let created = if let Some(site) = &step.new_site {
        add_site(m, site)
    } else if let Some(app) = &step.new_app {
        add_app(m, app, true)
    } else if let Some(set) = &step.set_property {
        set_property(m, w, set)
    } else {
        Ok(())
    };
    match created {
        Ok(()) => Output::default(),
        Err(e) => Output::new(vec![e], 1),
    }
}

/// Puts a file on the emulated disk; IIS reacts when it is its MetaBase.xml (MB-03).
fn copy_onto_disk(m: &mut Machine, to: &str, text: &str) -> Output {
    m.fs_write_file(to, text, &[]);
    if to.eq_ignore_ascii_case(&m.metabase_file()) {
        m.mb_file_edited(&["MB-03"]);
    }
    Output::new(vec!["        1 file(s) copied.".into()], 0)
}

/// Writes the in-memory metabase as MetaBase.xml on the emulated disk, in IIS's layout (MB-02, MB-04..07).
fn export_to_disk(m: &mut Machine, path: &str) -> Output {
    let text = export_metabase(m);
    let keys = m.metabase().keys().count() + usize::from(m.metabase().global().is_some());
    m.fs_write_file(path, &text, &["MB-02", "MB-04", "MB-05", "MB-06"]);
    Output::new(vec![format!("exported {keys} keys to {path}")], 0)
}

/// The machine's in-memory metabase as MetaBase.xml (namespace per policy `mb.namespace_version`
/// when the metabase did not come from a file).
pub fn export_metabase(m: &Machine) -> String {
    m.metabase_xml()
}

/// Lists the configuration's risks: the CLI's output, and each finding cited in the transcript.
fn lint_step(m: &mut Machine) -> Output {
    let findings = crate::lint::lint(m);
    for f in &findings {
        m.record_decision(format!("lint: {}: {}", f.kind, f.subject), &f.rules);
    }
    Output::new(crate::lint::render(&findings), i32::from(!findings.is_empty()))
}

/// Draws the configuration as DOT; the conflicts it marks red are cited in the transcript.
fn diagram_step(m: &mut Machine) -> Output {
    let findings = crate::lint::lint(m);
    for f in &findings {
        m.record_decision(format!("drawn in red: {}: {}", f.kind, f.subject), &f.rules);
    }
    let graph = crate::diagram::build_with(m, &findings);
    Output::new(crate::diagram::to_dot(&graph).lines().map(str::to_string).collect(), 0)
}

fn check_line(c: &Check) -> String {
    let cite = crate::rules::cite(&c.rules);
    let cite = if cite.is_empty() { String::new() } else { format!(" {cite}") };
    match &c.actual {
        None => format!("  ok: {}{cite}", c.expected),
        Some(a) => {
            let a = if a.contains('\n') { format!("\n{}", indent(a)) } else { a.clone() };
            format!("  FAILED: {}{cite}; got: {a}", c.expected)
        }
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      {l}")).collect::<Vec<_>>().join("\n")
}

/// A transcript being written, line by line.
#[derive(Default)]
struct Transcript {
    // One string, not a line each: a 100,000-application start section is a million lines.
    text: String,
}

impl Transcript {
    /// Adds a line; what the scenario's text put in it is made printable (no raw control
    /// characters reach a terminal or the JUnit report).
    fn push(&mut self, line: impl AsRef<str>) {
        self.text.push_str(&transcript::printable(line.as_ref()));
        self.text.push('\n');
    }

    fn finish(self) -> String {
        self.text
    }
}
