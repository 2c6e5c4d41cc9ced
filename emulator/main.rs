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
        out!("{line}");
    }
    // The process ends here: freeing a 100,000-application machine key by key only costs time.
    std::mem::forget((m, w));
    ExitCode::SUCCESS
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
                out!("ERROR {e}");
                errors.push(e);
            }
            Ok((path, s)) => {
                let report = s.run();
                let mark = if report.passed() { "PASS" } else { "FAIL" };
                out!("{mark}  {}  {}", path.display(), report.title);
                for f in &report.failures {
                    out!("      {}: expected {}", f.step, f.expected);
                    for (i, line) in f.actual.lines().enumerate() {
                        out!("      {} {line}", if i == 0 { "got:" } else { "    " });
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
    if let Some(path) = junit {
        if let Err(e) = std::fs::write(path, iisim::junit::write(&reports, &errors)) {
            eprintln!("iisim: cannot write the JUnit report to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    let passed = reports.iter().filter(|r| r.passed()).count();
    let failed = reports.len() - passed + errors.len();
    out!("{passed} passed, {failed} failed");
    if !errors.is_empty() {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
