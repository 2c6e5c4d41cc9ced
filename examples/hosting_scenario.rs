//! Writes the shared-hosting scenario the performance figures use: `hosting_scenario APPS FILE`
//! (ten applications per customer virtual directory, each with a `Default.aspx`).

#[path = "../tests/common/hosting_toml.rs"]
mod hosting_toml;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [apps, file] = args.as_slice() else {
        eprintln!("usage: hosting_scenario APPS FILE");
        std::process::exit(2);
    };
    let Ok(apps) = apps.parse::<usize>() else {
        eprintln!("hosting_scenario: APPS must be a number, not {apps:?}");
        std::process::exit(2);
    };
    if let Err(e) = std::fs::write(file, hosting_toml::hosting_toml(apps)) {
        eprintln!("hosting_scenario: cannot write {file}: {e}");
        std::process::exit(2);
    }
}
