//! The layer picture of docs/architecture.md, checked on the source: no
//! import cycle between the top-level modules of `src/`, the core knows
//! nothing of the edge, and telemetry only observes (it imports neither the
//! server nor the policy registry).
//!
//! An import is any `crate::<module>` path outside a comment (a `use` line
//! or a path written inline), attributed to the top-level module of the
//! file it is in; `crate::pb` counts as `grpc` through lib.rs's re-export.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names lib.rs re-exports at the crate root (`pub use grpc::pb;`), mapped
/// to the module they come from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub use "))
        .filter_map(|l| {
            let path = l.trim_end_matches(';');
            let module = path.split("::").next()?;
            let name = path.rsplit("::").next()?;
            Some((name.to_owned(), module.to_owned()))
        })
        .collect()
}

/// Every `crate::<ident>` in the code (not the comments) of `text`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let preceded_by_ident = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            rest = &rest[at + "crate::".len()..];
            if preceded_by_ident {
                continue; // e.g. `some_crate::x`
            }
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a::b, c};`: the first segment of each item.
                let inner = group.split('}').next().unwrap_or_default();
                for item in inner.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        found.insert(name);
                    }
                }
                continue;
            }
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn import_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let reexports = root_reexports(&lib);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue; // the crate root and the binary sit above every module
        }
        let text = fs::read_to_string(&file).unwrap();
        let imports = graph.entry(module.clone()).or_default();
        for name in crate_paths(&text) {
            let target = reexports.get(&name).cloned().unwrap_or(name);
            if target != module {
                imports.insert(target);
            }
        }
    }
    graph
}

/// Each strongly connected component with more than one module is a cycle.
fn cycles(graph: &Graph) -> Vec<BTreeSet<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(m) = stack.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> = graph.keys().map(|m| (m, reach(m))).collect();
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for (m, from_m) in &reachable {
        if !from_m.contains(*m) {
            continue;
        }
        let component: BTreeSet<String> = from_m
            .iter()
            .filter(|other| reachable.get(other).is_some_and(|r| r.contains(*m)))
            .cloned()
            .collect();
        if !found.contains(&component) {
            found.push(component);
        }
    }
    found
}

#[test]
fn the_parser_sees_use_lines_groups_inline_paths_and_skips_comments() {
    let text = "use crate::domain::money::Money;\n\
                use crate::{engine, policies::PolicyId};\n\
                let x = crate::server::SERVICE_NAME; // crate::cli\n\
                /// [`crate::telemetry`]\n\
                use other_crate::json;\n";
    let names: Vec<String> = crate_paths(text).into_iter().collect();
    assert_eq!(names, ["domain", "engine", "policies", "server"]);

    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("a".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(cycles(&graph).len(), 1, "{graph:?}");
}

#[test]
fn no_module_of_src_is_part_of_an_import_cycle() {
    let graph = import_graph();
    assert!(
        graph.contains_key("server") && graph.contains_key("telemetry"),
        "{graph:?}"
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles between top-level modules: {found:?}\n{graph:#?}"
    );
}

#[test]
fn telemetry_only_observes() {
    let graph = import_graph();
    let telemetry = &graph["telemetry"];
    for forbidden in ["server", "policies", "connection", "layers"] {
        assert!(
            !telemetry.contains(forbidden),
            "telemetry imports {forbidden}: {telemetry:?}"
        );
    }
    let otel = &graph["otel"];
    assert!(otel.is_empty(), "otel imports {otel:?}");
    let observe = &graph["observe"];
    for forbidden in ["grpc", "server", "telemetry", "metrics"] {
        assert!(!observe.contains(forbidden), "observe imports {forbidden}: {observe:?}");
    }
}

#[test]
fn the_core_knows_nothing_of_the_edge() {
    let graph = import_graph();
    let edge = [
        "grpc",
        "server",
        "telemetry",
        "metrics",
        "observe",
        "layers",
        "connection",
        "logging",
        "config",
        "cli",
        "json",
    ];
    for core in ["domain", "policies", "engine"] {
        let imports = &graph[core];
        for module in edge {
            assert!(!imports.contains(module), "{core} imports {module}: {imports:?}");
        }
    }
    assert!(graph["domain"].is_empty(), "domain imports {:?}", graph["domain"]);
}
