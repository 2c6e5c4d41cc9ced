//! The `iisim` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that ignores a closed pipe (`iisim run ... | head`) instead of panicking.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `print!` that ignores a closed pipe.
macro_rules! out_raw {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

use iisim::rules::{self, Scope};
use iisim::scenario::transcript::printable;
use iisim::scenario::{self, Report, ScenarioError};

/// Emulator and test harness of IIS 5.0/5.1/6.0 hosting ASP.NET 1.0-4.0 side by side.
#[derive(Parser)]
#[command(name = "iisim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files (or every .toml file in the folders given).
    Run {
        /// Scenario files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print each scenario's full transcript.
        #[arg(long)]
        transcript: bool,
        /// Write a JUnit XML report to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// List the rule catalog.
    Rules {
        /// Only rules whose ID starts with this prefix, e.g. REG or SET-0.
        prefix: Option<String>,
        /// Also print each rule's summary.
        #[arg(long, short)]
        verbose: bool,
    },
    /// List the policies scenarios can set.
    Policies,
    /// An emulated command prompt on a scenario's final machine (or a fresh Server 2003).
    Console {
        /// The scenario file to start from.
        scenario: Option<PathBuf>,
    },
    /// Run a scenario, then explain how its final machine would serve one request.
    Explain {
        /// The scenario file.
        scenario: PathBuf,
        /// The method, e.g. GET.
        method: String,
        /// The URL as sent, e.g. /app/default.aspx.
        url: String,
        /// Host header (default localhost).
        #[arg(long)]
        host: Option<String>,
        /// Named client whose session cookie the request carries.
        #[arg(long)]
        client: Option<String>,
    },
    /// Build a scenario's machine, then serve HTTP/1.1 on real sockets as that box would.
    Serve {
        /// The scenario file.
        scenario: PathBuf,
        /// ADDR or ADDR=PORT: a real address standing for the emulated port (80 by default);
        /// may be given several times.
        #[arg(long, value_name = "ADDR[=PORT]", default_value = "127.0.0.1:8080")]
        listen: Vec<String>,
        /// The admin listener's address (loopback only).
        #[arg(long, value_name = "ADDR")]
        admin: Option<String>,
        /// Run only the scenario's first N steps before serving.
        #[arg(long, value_name = "N")]
        after_step: Option<usize>,
    },
    /// Write the metabase of a scenario's machine, or of a MetaBase.xml, in IIS's own layout.
    Export {
        /// A scenario file, or a MetaBase.xml (by its .xml extension).
        input: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Export the machine as it is after this many steps (default: all).
        #[arg(long, value_name = "N")]
        after_step: Option<usize>,
    },
    /// List the risks of a configuration, each with its rule and the command lines that fix it.
    Lint {
        /// A scenario file, or a MetaBase.xml (by its .xml extension).
        input: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: LintFormat,
        /// Lint the machine as it is after this many steps (default: all).
        #[arg(long, value_name = "N")]
        after_step: Option<usize>,
    },
    /// Draw sites, applications, runtimes and pools or processes, conflicts in red.
    Diagram {
        /// A scenario file, or a MetaBase.xml (by its .xml extension).
        input: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "dot")]
        format: DiagramFormat,
        /// Draw the machine as it is after this many steps (default: all).
        #[arg(long, value_name = "N")]
        after_step: Option<usize>,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// `iisim lint --format`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

/// `iisim diagram --format`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum DiagramFormat {
    Dot,
    Svg,
}

// Loading a large scenario makes millions of small allocations; mimalloc serves them faster than
// the platform allocator and returns memory to the system sooner.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { paths, transcript, junit } => run(&paths, transcript, junit.as_deref()),
        Command::Rules { prefix, verbose } => {
            list_rules(prefix.as_deref(), verbose);
            ExitCode::SUCCESS
        }
        Command::Explain { scenario, method, url, host, client } => explain(&scenario, method, url, host, client),
        Command::Console { scenario } => console(scenario.as_deref()),
        Command::Serve { scenario, listen, admin, after_step } => {
            serve(&scenario, &listen, admin.as_deref(), after_step)
        }
        Command::Export { input, output, after_step } => export(&input, output.as_deref(), after_step),
        Command::Lint { input, format, after_step } => lint(&input, format, after_step),
        Command::Diagram { input, format, after_step, output } => {
            diagram(&input, format, after_step, output.as_deref())
        }
        Command::Policies => {
            for p in iisim::policy::POLICIES {
                out!(
                    "{} = {}  (values: {}; rules: {})",
                    p.name,
                    p.default_value(),
                    p.values.join(" | "),
                    p.rules.join(", ")
                );
                out!("    {}", p.doc);
            }
            ExitCode::SUCCESS
        }
    }
}

fn console(path: Option<&Path>) -> ExitCode {
    match iisim::console::run_interactive(path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iisim: {e}");
            ExitCode::from(2)
        }
    }
}

/// `iisim serve`: exit 2 when the scenario cannot be loaded or an address cannot be used.
fn serve(path: &Path, listen: &[String], admin: Option<&str>, after_step: Option<usize>) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("iisim serve: {msg}");
        ExitCode::from(2)
    };
    let mut listens = Vec::new();
    for l in listen {
        match iisim::http::Listen::parse(l) {
            Ok(l) => listens.push(l),
            Err(e) => return fail(format!("--listen {l}: {e}")),
        }
    }
    let admin = match admin.map(str::parse::<std::net::SocketAddr>).transpose() {
        Ok(a) => a,
        Err(_) => return fail(format!("--admin {}: not an address such as 127.0.0.1:8079", admin.unwrap_or_default())),
    };
    let s = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    if let Some(n) = after_step.filter(|n| *n > s.step_count()) {
        return fail(format!("--after-step {n}: the scenario has {} steps", s.step_count()));
    }
    let (report, m, w) = s.run_until(after_step);
    if !report.failures.is_empty() {
        eprintln!("note: {} expectation(s) of the scenario failed; serving its machine anyway", report.failures.len());
    }
    let shared = std::sync::Arc::new(iisim::http::Shared::new(m, w));
    let opts = iisim::http::Options { listen: listens, admin, ctrl_c: true };
    let handle = match iisim::http::start(shared, &opts) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string()),
    };
    for a in &handle.listeners {
        out!("listening on http://{a}");
    }
    if let Some(a) = handle.admin {
        out!("admin on http://{a}");
    }
    let _ = std::io::Write::flush(&mut std::io::stdout());
    handle.wait();
    ExitCode::SUCCESS
}

fn explain(path: &Path, method: String, url: String, host: Option<String>, client: Option<String>) -> ExitCode {
    let s = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("iisim: {e}");
            return ExitCode::from(2);
        }
    };
    let (failures, m, w) = s.into_end();
    if !failures.is_empty() {
        out!("note: {} expectation(s) of the scenario failed; explaining on its final machine anyway", failures.len());
    }
    let mut req = iisim::dispatch::Request::new(&method, &url);
    if let Some(h) = host {
        req.host = if h.is_empty() { None } else { Some(h) };
    }
    let load = iisim::process::Load { client, ..Default::default() };
    for line in scenario::explain(&m, &w, &req, &load) {
        out!("{}", printable(&line));
    }
    // The process ends here: freeing a 100,000-application machine key by key only costs time.
    std::mem::forget((m, w));
    ExitCode::SUCCESS
}

/// Whether a path names a MetaBase.xml rather than a scenario.
fn is_xml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

/// The machine of a MetaBase.xml, or of a scenario after `after_step` steps.
fn machine_of(path: &Path, after_step: Option<usize>) -> Result<iisim::machine::Machine, ScenarioError> {
    if is_xml(path) {
        return scenario::machine_from_xml(path);
    }
    let s = scenario::load(path)?;
    if let Some(n) = after_step.filter(|n| *n > s.step_count()) {
        return Err(ScenarioError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("--after-step {n}: the scenario has {} steps", s.step_count()),
        });
    }
    Ok(s.run_until(after_step).1)
}

/// [`machine_of`], the error printed and turned into exit 2.
fn machine_or_exit(path: &Path, after_step: Option<usize>) -> Result<iisim::machine::Machine, ExitCode> {
    machine_of(path, after_step).map_err(|e| {
        eprintln!("iisim: {e}");
        ExitCode::from(2)
    })
}

/// Prints `text`, or writes it to `output`; exit 2 when the file cannot be written.
fn emit(text: &str, output: Option<&Path>) -> ExitCode {
    match output {
        None => {
            out_raw!("{text}");
            ExitCode::SUCCESS
        }
        Some(p) => match std::fs::write(p, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("iisim: cannot write {}: {e}", p.display());
                ExitCode::from(2)
            }
        },
    }
}

fn export(input: &Path, output: Option<&Path>, after_step: Option<usize>) -> ExitCode {
    let text = if is_xml(input) {
        scenario::read_metabase_xml(input).map(|x| iisim::metabase::xml::export(&x.imported.metabase))
    } else {
        machine_of(input, after_step).map(|m| scenario::export_metabase(&m))
    };
    match text {
        Ok(t) => emit(&t, output),
        Err(e) => {
            eprintln!("iisim: {e}");
            ExitCode::from(2)
        }
    }
}

fn lint(input: &Path, format: LintFormat, after_step: Option<usize>) -> ExitCode {
    let m = match machine_or_exit(input, after_step) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let findings = iisim::lint::lint(&m);
    match format {
        LintFormat::Json => out!("{}", iisim::lint::to_json(&findings)),
        LintFormat::Text => {
            for line in iisim::lint::render(&findings) {
                out!("{line}");
            }
        }
    }
    ExitCode::from(u8::from(!findings.is_empty()))
}

fn diagram(input: &Path, format: DiagramFormat, after_step: Option<usize>, output: Option<&Path>) -> ExitCode {
    let m = match machine_or_exit(input, after_step) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let g = iisim::diagram::build(&m);
    let text = match format {
        DiagramFormat::Dot => iisim::diagram::to_dot(&g),
        DiagramFormat::Svg => iisim::diagram::to_svg(&g),
    };
    emit(&text, output)
}

fn list_rules(prefix: Option<&str>, verbose: bool) {
    let prefix = prefix.unwrap_or("").to_ascii_uppercase();
    for r in rules::catalog().iter().filter(|r| r.id.starts_with(&prefix)) {
        let scope = match r.scope {
            Scope::Modeled => String::new(),
            Scope::Deferred(why) => format!("  (out of scope: {why})"),
        };
        out!("{:<7} {:<11} {}{scope}", r.id, r.source.to_string(), r.title);
        if verbose {
            out!("        {}", r.summary);
        }
    }
    let (modeled, total) = rules::counts();
    out!("{modeled} of {total} rules modeled, {} out of scope", total - modeled);
}

/// Expands folders into their `.toml` files, sorted; files are kept as given.
fn collect(paths: &[PathBuf]) -> Vec<Result<PathBuf, ScenarioError>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            match std::fs::read_dir(p) {
                Ok(entries) => {
                    let mut files: Vec<PathBuf> = entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|f| f.extension().is_some_and(|e| e == "toml"))
                        .collect();
                    files.sort();
                    out.extend(files.into_iter().map(Ok));
                }
                Err(e) => out.push(Err(unreadable(p, &e))),
            }
        } else {
            out.push(Ok(p.clone()));
        }
    }
    out
}

fn unreadable(p: &Path, e: &std::io::Error) -> ScenarioError {
    ScenarioError { file: p.display().to_string(), line: 0, column: 0, message: format!("cannot read: {e}") }
}

fn run(paths: &[PathBuf], show_transcript: bool, junit: Option<&Path>) -> ExitCode {
    let mut reports: Vec<Report> = Vec::new();
    let mut errors: Vec<ScenarioError> = Vec::new();
    for item in collect(paths) {
        let loaded = item.and_then(|p| scenario::load(&p).map(|s| (p, s)));
        match loaded {
            Err(e) => {
                out!("ERROR {}", printable(&e.to_string()));
                errors.push(e);
            }
            Ok((path, s)) => {
                let report = s.run();
                let mark = if report.passed() { "PASS" } else { "FAIL" };
                out!("{mark}  {}  {}", printable(&path.display().to_string()), printable(&report.title));
                for f in &report.failures {
                    out!("      {}: expected {}", printable(&f.step), printable(&f.expected));
                    for (i, line) in f.actual.lines().enumerate() {
                        out!("      {} {}", if i == 0 { "got:" } else { "    " }, printable(line));
                    }
                }
                if show_transcript {
                    out!();
                    out_raw!("{}", report.transcript);
                    out!();
                }
                reports.push(report);
            }
        }
    }
    let passed = reports.iter().filter(|r| r.passed()).count();
    let failed = reports.len() - passed + errors.len();
    out!("{passed} passed, {failed} failed");
    if let Some(path) = junit {
        if let Err(e) = std::fs::write(path, iisim::junit::write(&reports, &errors)) {
            eprintln!("iisim: cannot write the JUnit report to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if !errors.is_empty() {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
