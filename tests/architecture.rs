//! The architecture holds, as ARCHITECTURE.md draws it: no import circle between the modules of any crate, no
//! source file a reader cannot take in one sitting, the runtime on the IR only, and commands that leave pipelines
//! and lowering to the compiler's front end.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, skipping build output.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() && name != "target" && name != ".git" {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source text a module's code is: comments and the test module at the end dropped.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The module path of a source file under a crate's `src` (`pipeline/text.rs` is `pipeline::text`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    match last.as_str() {
        "mod.rs" | "lib.rs" | "main.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_string()),
    }
    parts
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths a use tree starting at `text` names, each as segments (`{a, b::c}` gives `a` and `b::c`).
fn use_tree(text: &str) -> Vec<Vec<String>> {
    fn tree(chars: &[char], at: &mut usize) -> Vec<Vec<String>> {
        while *at < chars.len() && chars[*at].is_whitespace() {
            *at += 1;
        }
        if chars.get(*at) == Some(&'{') {
            *at += 1;
            let mut out = Vec::new();
            loop {
                out.extend(tree(chars, at));
                while *at < chars.len() && chars[*at].is_whitespace() {
                    *at += 1;
                }
                match chars.get(*at) {
                    Some(',') => *at += 1,
                    Some('}') => {
                        *at += 1;
                        return out;
                    }
                    _ => return out,
                }
            }
        }
        let start = *at;
        while *at < chars.len() && is_ident(chars[*at]) {
            *at += 1;
        }
        let ident: String = chars[start..*at].iter().collect();
        if ident.is_empty() {
            return Vec::new();
        }
        if chars.get(*at) == Some(&':') && chars.get(*at + 1) == Some(&':') {
            *at += 2;
            let rest = tree(chars, at);
            if rest.is_empty() {
                return vec![vec![ident]];
            }
            return rest
                .into_iter()
                .map(|mut r| {
                    r.insert(0, ident.clone());
                    r
                })
                .collect();
        }
        vec![vec![ident]]
    }
    let chars: Vec<char> = text.chars().collect();
    tree(&chars, &mut 0)
}

/// The module paths (from the crate root) that `code`, the code of module `module`, refers to.
fn references(code: &str, module: &[String], is_mod_rs: bool) -> Vec<Vec<String>> {
    // `super` of a `foo.rs` or `foo/mod.rs` module is its parent; children are declared with `mod name;`.
    let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
    let _ = is_mod_rs;
    let children: BTreeSet<String> = code
        .lines()
        .filter_map(|l| {
            let l = l.trim().trim_start_matches("pub ").trim_start_matches("pub(crate) ");
            l.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')).map(str::to_string)
        })
        .collect();
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let preceded = i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':');
        if preceded || !is_ident(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if !(chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':')) {
            continue;
        }
        let rest: String = chars[i + 2..].iter().take(400).collect();
        let base: Option<Vec<String>> = match word.as_str() {
            "crate" => Some(Vec::new()),
            "super" => {
                let mut base = parent.clone();
                let mut tail = rest.as_str();
                while let Some(after) = tail.strip_prefix("super::") {
                    base.pop();
                    tail = after;
                }
                for path in use_tree(tail) {
                    out.push(base.iter().cloned().chain(path).collect());
                }
                None
            }
            "self" => Some(module.to_vec()),
            child if children.contains(child) => {
                let mut path = module.to_vec();
                path.push(child.to_string());
                for tail in use_tree(&rest) {
                    out.push(path.iter().cloned().chain(tail).collect());
                }
                if use_tree(&rest).is_empty() {
                    out.push(path);
                }
                None
            }
            _ => None,
        };
        if let Some(base) = base {
            for path in use_tree(&rest) {
                out.push(base.iter().cloned().chain(path).collect());
            }
        }
    }
    out
}

/// The import circles among the modules of the crate whose sources are under `src`: each circle's modules.
fn circles(src: &Path) -> Vec<Vec<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files.iter().map(|f| (module_path(src, f), f.clone())).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, file) in &modules {
        let code = code_of(&std::fs::read_to_string(file).expect("readable"));
        let is_mod_rs = file.file_name().is_some_and(|n| n == "mod.rs");
        for reference in references(&code, module, is_mod_rs) {
            // The longest prefix of the path that is a module.
            let Some(target) =
                (0..=reference.len()).rev().map(|n| reference[..n].to_vec()).find(|p| modules.contains_key(p))
            else {
                continue;
            };
            // A module may use its ancestors' items (they declare it); that is not a circle.
            if module.starts_with(&target) {
                continue;
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    // Strongly connected components (Tarjan), each of more than one module a circle.
    struct State<'g> {
        edges: &'g BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on_stack: BTreeSet<Vec<String>>,
        found: Vec<Vec<String>>,
    }
    fn visit(s: &mut State<'_>, v: &Vec<String>) {
        let n = s.index.len();
        s.index.insert(v.clone(), n);
        s.low.insert(v.clone(), n);
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        let targets: Vec<Vec<String>> = s.edges.get(v).into_iter().flatten().cloned().collect();
        for w in targets {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let low = s.low[v].min(s.low[&w]);
                s.low.insert(v.clone(), low);
            } else if s.on_stack.contains(&w) {
                let low = s.low[v].min(s.index[&w]);
                s.low.insert(v.clone(), low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = &w == v;
                component.push(w.join("::"));
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for module in modules.keys() {
        if !state.index.contains_key(module) {
            visit(&mut state, module);
        }
    }
    state.found
}

#[test]
fn no_import_circle_in_any_crate() {
    for src in ["compiler/src", "runtime/src", "src"] {
        let found = circles(&root().join(src));
        assert!(found.is_empty(), "{src}: modules that import each other in a circle: {found:?}");
    }
}

#[test]
fn the_circle_finder_finds_circles() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("circles/src");
    std::fs::create_dir_all(dir.join("p")).expect("tmp");
    std::fs::write(dir.join("lib.rs"), "mod a;\nmod b;\nmod p;\n").expect("write");
    std::fs::write(dir.join("a.rs"), "use crate::b::thing;\n").expect("write");
    std::fs::write(dir.join("b.rs"), "pub fn thing() { crate::a::other() }\n").expect("write");
    std::fs::write(dir.join("p/mod.rs"), "mod x;\nmod y;\nuse x::X;\n").expect("write");
    std::fs::write(dir.join("p/x.rs"), "use super::{y::Y, Z};\n").expect("write");
    std::fs::write(dir.join("p/y.rs"), "use super::x;\n").expect("write");
    let mut found = circles(&dir);
    found.iter_mut().for_each(|c| c.sort());
    found.sort();
    assert_eq!(found, vec![vec!["a".to_string(), "b".to_string()], vec!["p::x".to_string(), "p::y".to_string()]]);
}

#[test]
fn no_source_file_over_700_lines() {
    let mut files = Vec::new();
    for dir in ["compiler", "runtime", "src", "tests", "bench"] {
        rust_files(&root().join(dir), &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > 700).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by concern: {long:?}");
}

#[test]
fn the_runtime_reads_the_ir_only() {
    let mut files = Vec::new();
    rust_files(&root().join("runtime"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for module in ["rule", "condition", "correlation", "backend", "load", "yaml", "syntax"] {
            let named = format!("vigil_compiler::{module}");
            assert!(
                !text.split(&named).skip(1).any(|after| !after.starts_with(|c: char| is_ident(c))),
                "{} names `{named}`: the runtime reads the IR (and the front end), not rule syntax",
                file.display()
            );
        }
        for experiment in ["SHARE_SUBSTRING_SCANS", "MERGE_CONTAINS_ALL"] {
            assert!(!text.contains(experiment), "{}: {experiment} was removed", file.display());
        }
    }
}

#[test]
fn commands_leave_pipelines_and_lowering_to_the_front_end() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for file in files {
        let code = code_of(&std::fs::read_to_string(&file).expect("readable"));
        for call in [".apply(", ".apply_correlation(", "lower(", "load_str(", "syntax::"] {
            assert!(
                !code.contains(call),
                "{} calls `{call}`: compile through `vigil_compiler::compile`",
                file.display()
            );
        }
    }
}
