//! A picture of a configuration: sites -> applications -> runtime versions -> pools and
//! processes, the parts in conflict in red with the reason (from [`crate::lint`]).
//!
//! The graph is built once and written as Graphviz DOT or as a self-contained SVG that iisim lays
//! out itself (four columns, one per level), so no external program is needed to view it.

use std::collections::{BTreeMap, BTreeSet};

use crate::lint::{self, Finding, Host};
use crate::machine::Machine;

/// One box of the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Stable identifier (`site:1`, `app:/LM/W3SVC/1/ROOT`, `rt:2.0.50727`, `host:pool:X`).
    pub id: String,
    /// Column: 0 sites, 1 applications, 2 runtimes, 3 pools and processes.
    pub column: usize,
    /// Text lines.
    pub label: Vec<String>,
    /// Why the node is in conflict, when it is.
    pub conflicts: Vec<String>,
}

/// The picture: nodes per column and the edges between them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Graph {
    /// Nodes, in column then insertion order.
    pub nodes: Vec<Node>,
    /// Edges as (from, to, in conflict).
    pub edges: Vec<(String, String, bool)>,
}

const COLUMNS: [&str; 4] = ["Sites", "Applications", "Runtimes", "Pools and processes"];

impl Graph {
    fn add(&mut self, id: String, column: usize, label: Vec<String>) {
        if !self.nodes.iter().any(|n| n.id == id) {
            self.nodes.push(Node { id, column, label, conflicts: Vec::new() });
        }
    }

    fn edge(&mut self, from: &str, to: &str) {
        if !self.edges.iter().any(|(f, t, _)| f == from && t == to) {
            self.edges.push((from.to_string(), to.to_string(), false));
        }
    }

    fn conflicted(&self, id: &str) -> bool {
        self.nodes.iter().any(|n| n.id == id && !n.conflicts.is_empty())
    }
}

/// Builds the picture of a machine's configuration, with the lint findings marked.
pub fn build(m: &Machine) -> Graph {
    build_with(m, &lint::lint(m))
}

/// Builds the picture with findings already computed.
pub fn build_with(m: &Machine, findings: &[Finding]) -> Graph {
    let mut g = Graph::default();
    let apps = lint::applications(m);
    let sites = lint::sites(m);
    for s in &sites {
        let mut label = vec![format!("Site {}: {}", s.id, s.name)];
        label.extend(s.bindings.iter().cloned());
        if !s.autostart {
            label.push("stopped".into());
        }
        g.add(format!("site:{}", s.id), 0, label);
    }
    let mut runtimes = BTreeSet::new();
    let mut hosts: BTreeMap<Host, ()> = BTreeMap::new();
    for a in &apps {
        g.add(format!("app:{}", a.path), 1, vec![a.vpath.clone(), a.path.clone()]);
        runtimes.insert(a.runtime);
        hosts.insert(a.host.clone(), ());
    }
    for v in &runtimes {
        let (id, label) = match v {
            Some(v) => (format!("rt:{v}"), format!("ASP.NET {v}")),
            None => ("rt:none".to_string(), "no ASP.NET".to_string()),
        };
        g.add(id, 2, vec![label]);
    }
    for h in hosts.keys() {
        let mut label = vec![h.label()];
        if let Host::Pool(p) = h {
            let key = format!("/LM/W3SVC/AppPools/{p}");
            let n = m.metabase().effective(&key, "MaxProcesses").and_then(|(v, _)| v.as_dword()).unwrap_or(1);
            if n > 1 {
                label.push(format!("web garden of {n}"));
            }
            if !m.metabase().exists(&key) {
                label.push("no such pool".into());
            }
        }
        g.add(format!("host:{}", h.id()), 3, label);
    }
    for a in &apps {
        let app = format!("app:{}", a.path);
        let rt = a.runtime.map(|v| format!("rt:{v}")).unwrap_or_else(|| "rt:none".into());
        if g.nodes.iter().any(|n| n.id == format!("site:{}", a.site)) {
            g.edge(&format!("site:{}", a.site), &app);
        }
        g.edge(&app, &rt);
        g.edge(&rt, &format!("host:{}", a.host.id()));
    }
    for f in findings {
        for id in &f.nodes {
            if let Some(n) = g.nodes.iter_mut().find(|n| &n.id == id) {
                let why = format!("{} [{}]", f.kind, f.rule);
                if !n.conflicts.contains(&why) {
                    n.conflicts.push(why);
                }
            }
        }
    }
    // An edge is red when it leads into a conflict, or out of an application in one (its runtime).
    let marks: Vec<bool> = g
        .edges
        .iter()
        .map(|(from, to, _)| g.conflicted(to) || (from.starts_with("app:") && g.conflicted(from)))
        .collect();
    for (e, red) in g.edges.iter_mut().zip(marks) {
        e.2 = red;
    }
    // Nodes in column order, stable within a column.
    g.nodes.sort_by_key(|n| n.column);
    g
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The picture as Graphviz DOT.
pub fn to_dot(g: &Graph) -> String {
    let mut out =
        String::from("digraph iisim {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    for (col, title) in COLUMNS.iter().enumerate() {
        let ids: Vec<String> =
            g.nodes.iter().filter(|n| n.column == col).map(|n| format!("\"{}\"", dot_escape(&n.id))).collect();
        if ids.is_empty() {
            continue;
        }
        out.push_str(&format!("  subgraph column{col} {{\n    rank=same;\n    // {title}\n"));
        for n in g.nodes.iter().filter(|n| n.column == col) {
            let mut lines: Vec<String> = n.label.iter().map(|l| dot_escape(l)).collect();
            lines.extend(n.conflicts.iter().map(|c| format!("! {}", dot_escape(c))));
            let style = if n.conflicts.is_empty() { String::new() } else { ", color=red, fontcolor=red".into() };
            out.push_str(&format!("    \"{}\" [label=\"{}\"{style}];\n", dot_escape(&n.id), lines.join("\\n")));
        }
        out.push_str("  }\n");
    }
    for (from, to, red) in &g.edges {
        let style = if *red { " [color=red]" } else { "" };
        out.push_str(&format!("  \"{}\" -> \"{}\"{style};\n", dot_escape(from), dot_escape(to)));
    }
    out.push_str("}\n");
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const COL_WIDTH: usize = 330;
const NODE_WIDTH: usize = 290;
const LINE: usize = 16;
const PAD: usize = 10;
const GAP: usize = 18;
const TOP: usize = 50;
const CHAR_WIDTH: usize = 7;

/// The characters that fit on one line of a box.
fn line_chars() -> usize {
    (NODE_WIDTH - 2 * PAD) / CHAR_WIDTH
}

/// Shortens a line to fit a box.
fn fit(text: &str) -> String {
    let max = line_chars();
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max - 1).collect();
        format!("{kept}…")
    }
}

/// Breaks a reason into lines that fit a box, at spaces.
fn wrap(text: &str) -> Vec<String> {
    let max = line_chars();
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut cur));
            cur.push_str("  ");
        } else if !cur.is_empty() && cur != "  " {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    lines.push(cur);
    lines.into_iter().map(|l| fit(&l)).collect()
}

/// A node's lines as drawn: (text, is a reason).
fn drawn_lines(n: &Node) -> Vec<(String, bool)> {
    let mut lines: Vec<(String, bool)> = n.label.iter().map(|l| (fit(l), false)).collect();
    for c in &n.conflicts {
        lines.extend(wrap(&format!("! {c}")).into_iter().map(|l| (l, true)));
    }
    lines
}

fn node_height(n: &Node) -> usize {
    drawn_lines(n).len() * LINE + PAD
}

/// The picture as a self-contained SVG: four columns of boxes joined by curves.
pub fn to_svg(g: &Graph) -> String {
    let mut pos: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut bottom = TOP;
    for col in 0..COLUMNS.len() {
        let mut y = TOP;
        for n in g.nodes.iter().filter(|n| n.column == col) {
            let h = node_height(n);
            pos.insert(&n.id, (20 + col * COL_WIDTH, y, h));
            y += h + GAP;
        }
        bottom = bottom.max(y);
    }
    let width = 20 + COLUMNS.len() * COL_WIDTH;
    let height = bottom + 20;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xml:space=\"preserve\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
    );
    out.push_str(&format!("  <rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"));
    for (col, title) in COLUMNS.iter().enumerate() {
        out.push_str(&format!(
            "  <text x=\"{}\" y=\"28\" font-size=\"14\" font-weight=\"bold\" fill=\"#333333\">{title}</text>\n",
            20 + col * COL_WIDTH
        ));
    }
    for (from, to, red) in &g.edges {
        let (Some(&(x1, y1, h1)), Some(&(x2, y2, h2))) = (pos.get(from.as_str()), pos.get(to.as_str())) else {
            continue;
        };
        let (sx, sy, ex, ey) = (x1 + NODE_WIDTH, y1 + h1 / 2, x2, y2 + h2 / 2);
        let mid = (sx + ex) / 2;
        let (color, w) = if *red { ("#d62728", 2) } else { ("#888888", 1) };
        out.push_str(&format!(
            "  <path d=\"M {sx} {sy} C {mid} {sy}, {mid} {ey}, {ex} {ey}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{w}\"/>\n"
        ));
    }
    for n in &g.nodes {
        let Some(&(x, y, h)) = pos.get(n.id.as_str()) else { continue };
        let red = !n.conflicts.is_empty();
        let (stroke, fill) = if red { ("#d62728", "#fdecea") } else { ("#4a6fa5", "#eef3fa") };
        out.push_str(&format!("  <g id=\"{}\">\n", xml_escape(&n.id)));
        if red {
            out.push_str(&format!("    <title>{}</title>\n", xml_escape(&n.conflicts.join("; "))));
        }
        out.push_str(&format!(
            "    <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_WIDTH}\" height=\"{h}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>\n",
            if red { 2 } else { 1 }
        ));
        let mut ty = y + PAD / 2 + LINE - 3;
        for (i, (line, reason)) in drawn_lines(n).into_iter().enumerate() {
            let style = match (i, reason) {
                (_, true) => " fill=\"#d62728\"",
                (0, false) => " font-weight=\"bold\" fill=\"#222222\"",
                _ => " fill=\"#222222\"",
            };
            out.push_str(&format!("    <text x=\"{}\" y=\"{ty}\"{style}>{}</text>\n", x + PAD, xml_escape(&line)));
            ty += LINE;
        }
        out.push_str("  </g>\n");
    }
    out.push_str("</svg>\n");
    out
}
