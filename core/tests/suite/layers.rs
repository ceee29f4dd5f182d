//! The layer table at the top of `src/lib.rs` is the rule; this test holds the code to
//! it. Every module of the crate must be in the table, a module may import only from
//! its own layer and the layers listed before it, and no modules import each other in a
//! cycle. A failure names the file, the two modules and their layers, or the cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

struct Layer {
    number: usize,
    what: String,
}

/// Reads `| 3 | records | `context` `customer` ... |` rows from lib.rs's documentation.
fn layer_table(lib: &str) -> BTreeMap<String, Layer> {
    let mut table = BTreeMap::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! |") else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Ok(number) = cells[0].parse::<usize>() else {
            continue;
        };
        assert!(
            cells.len() >= 3,
            "a layer row needs number, what, modules: {line}"
        );
        for module in cells[2].split_whitespace() {
            let module = module.trim_matches('`').to_string();
            let previous = table.insert(
                module.clone(),
                Layer {
                    number,
                    what: cells[1].to_string(),
                },
            );
            assert!(previous.is_none(), "{module} is in the layer table twice");
        }
    }
    assert!(table.len() > 10, "the layer table in lib.rs was not found");
    table
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("core/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `store/keys.rs` is `["store", "keys"]`; `plugin/mod.rs` is `["plugin"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

/// The table entry a path belongs to: `plugin::outcome` when the table names it, else
/// `plugin`.
fn entry_of(table: &BTreeMap<String, Layer>, path: &[String]) -> Option<String> {
    if path.len() >= 2 {
        let nested = format!("{}::{}", path[0], path[1]);
        if table.contains_key(&nested) {
            return Some(nested);
        }
    }
    path.first()
        .filter(|first| table.contains_key(*first))
        .cloned()
}

/// The code of a file without comments and without its unit tests (tests may reach
/// anywhere).
fn code_of(text: &str) -> String {
    let end = text
        .find("#[cfg(test)]\nmod ")
        .or_else(|| text.find("#[cfg(test)]\npub mod "))
        .unwrap_or(text.len());
    text[..end]
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Every `crate::a::b` path the code names, as `["a", "b"]`, including the members of
/// `use crate::{a::{..}, b}` groups.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut member = String::new();
            let mut members = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if c == ',' && depth == 1 {
                    members.push(std::mem::take(&mut member));
                } else {
                    member.push(c);
                }
            }
            members.push(member);
            for member in members {
                let parts: Vec<String> = member
                    .trim()
                    .split("::")
                    .map(identifier)
                    .take_while(|p| !p.is_empty())
                    .collect();
                if !parts.is_empty() {
                    paths.push(parts);
                }
            }
        } else {
            let parts: Vec<String> = rest
                .split("::")
                .map(identifier)
                .take_while(|p| !p.is_empty())
                .take(2)
                .collect();
            if !parts.is_empty() {
                paths.push(parts);
            }
        }
    }
    paths
}

/// `super::x` in `plugin/hook.rs` is `crate::plugin::x`.
fn super_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    if module.len() < 2 {
        return Vec::new();
    }
    let parent = &module[..module.len() - 1];
    code.match_indices("super::")
        .map(|(at, _)| {
            let mut path = parent.to_vec();
            path.push(identifier(&code[at + "super::".len()..]));
            path
        })
        .collect()
}

#[test]
fn every_import_keeps_to_the_layers_of_lib_rs() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let table = layer_table(&lib);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();

    let mut problems = Vec::new();
    let mut imports_checked = 0;
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_path(&src, file);
        if module.is_empty() || module == ["lib"] {
            continue;
        }
        let Some(own) = entry_of(&table, &module) else {
            problems.push(format!(
                "{}: module `{}` is in no layer of the table in lib.rs",
                file.display(),
                module.join("::")
            ));
            continue;
        };
        let code = code_of(&fs::read_to_string(file).expect("a source file"));
        let mut paths = crate_paths(&code);
        paths.extend(super_paths(&code, &module));
        for path in paths {
            let Some(target) = entry_of(&table, &path) else {
                continue; // a crate-root item (a macro, a re-export)
            };
            imports_checked += 1;
            if target != own {
                edges.entry(own.clone()).or_default().insert(target.clone());
            }
            let (from, to) = (&table[&own], &table[&target]);
            if to.number > from.number {
                problems.push(format!(
                    "{}: `{own}` (layer {} {}) imports `{}` from `{target}` (layer {} {})",
                    file.display(),
                    from.number,
                    from.what,
                    path.join("::"),
                    to.number,
                    to.what
                ));
            }
        }
    }
    assert!(
        imports_checked > 200,
        "too few imports found: {imports_checked}"
    );
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "imports against the layers:\n{}",
        problems.join("\n")
    );
}

/// A cycle of imports between modules, if any (within a layer the table allows both
/// directions; this keeps a layer from becoming one knot).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut done, &mut Vec::new()))
}

#[test]
fn a_cycle_is_found() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "d")] {
        edges.entry(from.into()).or_default().insert(to.into());
    }
    assert_eq!(find_cycle(&edges), None);
    edges.entry("d".into()).or_default().insert("b".into());
    assert_eq!(
        find_cycle(&edges),
        Some(vec!["b".into(), "c".into(), "d".into(), "b".into()])
    );
}

#[test]
fn the_reader_sees_grouped_and_nested_imports() {
    let code = "use crate::{amount::{self, QTY_MAX}, store::keys::tag, wording};\n\
                let x = crate::plugin::outcome::PluginOutcome::default();";
    let paths = crate_paths(code);
    assert_eq!(
        paths,
        vec![
            vec!["amount".to_string()],
            vec!["store".to_string(), "keys".to_string(), "tag".to_string()],
            vec!["wording".to_string()],
            vec!["plugin".to_string(), "outcome".to_string()],
        ]
    );
}
