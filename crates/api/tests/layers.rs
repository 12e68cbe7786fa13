//! The API crate's layers point one way: HTTP (`routes`, `auth`, `edge`, `extract`, `openapi`,
//! `lib`) → services (`services::*`) → the shared modules (errors, ids, wire helpers, state) →
//! store / engine. This reads the sources: no module below HTTP names an HTTP module, and no two
//! modules import each other, directly or around a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules only the HTTP layer may name.
const HTTP: &[&str] = &["routes", "auth", "edge", "extract", "openapi"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The node a file belongs to: its top-level module, or `routes::x` / `services::x` (a module's
/// own submodules fold into it).
fn node_of(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    match parts.as_slice() {
        [group, name, ..] if group == "routes" || group == "services" => format!("{group}::{name}"),
        [top, ..] => top.clone(),
        [] => "lib".into(),
    }
}

/// The nodes a source names through `crate::…` paths (comments excluded).
fn references(source: &str, nodes: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let path: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
            let mut segs = path.split("::").filter(|s| !s.is_empty());
            let first = segs.next().unwrap_or("").to_owned();
            let second = segs.next().map(|s| format!("{first}::{s}"));
            match second {
                Some(two) if nodes.contains(&two) => found.insert(two),
                _ if nodes.contains(&first) => found.insert(first),
                _ => false,
            };
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let by_node: Vec<(String, String)> = files
        .iter()
        .map(|f| (node_of(f.strip_prefix(&src).expect("under src")), std::fs::read_to_string(f).expect("read")))
        .collect();
    let nodes: BTreeSet<String> = by_node.iter().map(|(n, _)| n.clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (node, source) in &by_node {
        let refs = references(source, &nodes);
        edges.entry(node.clone()).or_default().extend(refs.into_iter().filter(|r| r != node));
    }
    edges
}

fn layer_is_http(node: &str) -> bool {
    let top = node.split("::").next().unwrap_or(node);
    HTTP.contains(&top) || node == "lib" || node == "main"
}

#[test]
fn nothing_below_http_imports_an_http_module() {
    let offenders: Vec<String> = graph()
        .iter()
        .filter(|(node, _)| !layer_is_http(node))
        .flat_map(|(node, deps)| deps.iter().filter(|d| layer_is_http(d)).map(move |d| format!("{node} -> {d}")))
        .collect();
    assert!(offenders.is_empty(), "modules below HTTP import HTTP modules:\n{}", offenders.join("\n"));
}

#[test]
fn no_import_cycle_among_modules() {
    let edges = graph();
    // depth-first search; a grey node met again closes a cycle
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                0 => visit(next, edges, state, stack, cycles),
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    cycles.push(format!("{} -> {next}", stack[from..].join(" -> ")));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for node in edges.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            visit(node, &edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_check_sees_the_layers() {
    // guards the test itself: it must find the modules and the edges it reasons about
    let edges = graph();
    assert!(edges.contains_key("services::checkout") && edges.contains_key("routes::campaigns"));
    assert!(edges["routes::campaigns"].contains("services::campaigns"));
    let sample = "use crate::routes::campaigns::x; // crate::edge\nlet a = crate::error::invalid(\"\");";
    let nodes: BTreeSet<String> = ["routes::campaigns", "edge", "error"].iter().map(|s| s.to_string()).collect();
    let refs = references(sample, &nodes);
    assert_eq!(refs, ["error", "routes::campaigns"].iter().map(|s| s.to_string()).collect());
}
