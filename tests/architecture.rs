//! The library's import graph: every `crate::` path in `src/` (outside
//! comments, tests and the binary's `src/cli/`) runs down the stack
//! cli → report → agent → economics → bench → {backend, mine} → {gbt, gpu}
//! → {search, stratum, energy} → {header, pow} → sha256 → leaves, and no
//! module set forms a circle. Every top-level module has a layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module's layer: a module may use only modules of a lower layer.
const LAYERS: &[(&str, u32)] = &[
    ("hex", 0),
    ("units", 0),
    ("platform", 0),
    ("hash", 1),
    ("hardware", 1),
    ("sha256", 2),
    ("pow", 2),
    ("header", 3),
    ("search", 4),
    ("stratum", 4),
    ("gpu", 5),
    ("energy", 4),
    ("gbt", 5),
    ("backend", 6),
    ("mine", 6),
    ("bench", 7),
    ("economics", 8),
    ("agent", 9),
    ("report", 10),
];

/// The top-level modules of `src/` (files and folders), less the binary's.
fn top_level_modules() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|m| !["main", "lib", "cli"].contains(&m.as_str()))
        .collect()
}

#[test]
fn every_module_has_a_layer() {
    let known: BTreeSet<String> = LAYERS.iter().map(|(m, _)| m.to_string()).collect();
    let missing: Vec<String> = top_level_modules().difference(&known).cloned().collect();
    assert!(
        missing.is_empty(),
        "top-level modules without a layer in tests/architecture.rs: {missing:?}"
    );
    assert!(known.contains("agent") && known.contains("mine"));
}

/// Top-level module → the top-level modules its code names through `crate::`.
fn graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel.components().next().unwrap().as_os_str();
            let top = first.to_string_lossy().trim_end_matches(".rs").to_string();
            if ["main", "lib", "cli"].contains(&top.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap();
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    // `crate::{a, b::c}` names several modules at once.
                    let names: Vec<&str> = match rest.strip_prefix('{') {
                        Some(group) => group
                            .split('}')
                            .next()
                            .unwrap_or("")
                            .split(',')
                            .map(str::trim)
                            .collect(),
                        None => vec![rest],
                    };
                    for rest in names {
                        let name: String = rest
                            .chars()
                            .take_while(|c| {
                                c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'
                            })
                            .collect();
                        if !name.is_empty() && name != top {
                            edges
                                .entry(top.clone())
                                .or_default()
                                .entry(name)
                                .or_insert_with(|| format!("{}:{}", rel.display(), n + 1));
                        }
                    }
                }
            }
        }
    }
    edges
}

#[test]
fn imports_run_down_the_stack() {
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut upward = Vec::new();
    for (from, tos) in graph() {
        for (to, at) in tos {
            if let (Some(a), Some(b)) = (layer.get(from.as_str()), layer.get(to.as_str()))
                && a <= b
            {
                upward.push(format!(
                    "{from} (layer {a}) -> {to} (layer {b}) at src/{at}"
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not run down:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_module_circle() {
    let graph = graph();
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut circle = path[i..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(|m| m.keys()) {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(circle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("module circle: {}", circle.join(" -> "));
        }
    }
    // The known layers were all seen: the walk read the sources.
    for (name, _) in LAYERS {
        if ["hex", "units", "platform"].contains(name) {
            continue; // leaves may import nothing from the crate
        }
        assert!(graph.contains_key(*name), "no imports found for {name}");
    }
}
