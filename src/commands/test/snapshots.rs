//! Conversion snapshots in insta's `.snap` format: a header between `---` lines (`source`, `expression`), then
//! the queries. One file per rule file and target: `<folder>/__snapshots__/<rule stem>__<target>.snap`.

use super::config::SnapshotTarget;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use vigil_compiler::backend::correlation::Input;
use vigil_compiler::backend::{self, Options};
use vigil_compiler::pipeline::PipelineSet;
use vigil_compiler::{load_str, lower, Content};

/// The snapshot file of a rule file for a target.
pub fn path_for(rule: &Path, directory: &str, target: &SnapshotTarget) -> PathBuf {
    let stem = rule.file_stem().and_then(|s| s.to_str()).unwrap_or("rule");
    rule.parent().unwrap_or(Path::new(".")).join(directory).join(format!("{stem}__{}.snap", target.suffix()))
}

/// The snapshot text of every rule document of a file: its queries, or its error with the code. A file with
/// several rules titles each one.
pub fn render(text: &str, target: &SnapshotTarget, pipelines: &PipelineSet) -> String {
    let documents: Vec<_> = load_str(text).into_iter().filter(|d| d.content.is_some() || d.has_errors()).collect();
    let titled = documents.len() > 1;
    let mut out = String::new();
    // Correlations read the queries of the rules before them in the file, by name or id.
    let mut queries: std::collections::HashMap<String, Input> = std::collections::HashMap::new();
    for document in documents {
        if titled {
            let _ = writeln!(out, "# {}", document.title.as_deref().unwrap_or("(untitled)"));
        }
        match document.content {
            Some(Content::Rule(mut rule)) => match pipelines.apply(&mut rule) {
                Ok(state) => {
                    let names: Vec<String> = rule.meta.id.iter().chain(&rule.meta.name).cloned().collect();
                    match backend::convert(&lower(rule), target.target, &target.format, &state, &Options::default()) {
                        Ok(converted) => {
                            for name in names {
                                if let Some(q) = converted.first() {
                                    queries.insert(name, Input::rule(q.clone()));
                                }
                            }
                            for q in &converted {
                                let _ = writeln!(out, "{q}");
                            }
                        }
                        Err(e) => {
                            let _ = writeln!(out, "error[{}]: {}", e.code, e.message);
                        }
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "error[{}]: {}", e.code, e.message);
                }
            },
            Some(Content::Correlation(mut correlation)) => {
                let _ = pipelines.apply_correlation(&mut correlation, &[]);
                let inputs: Option<Vec<Input>> = correlation.rules.iter().map(|r| queries.get(r).cloned()).collect();
                let converted = match inputs {
                    Some(inputs) => {
                        backend::convert_correlation(&correlation, &inputs, target.target, &Options::default())
                    }
                    None => Err(backend::Unsupported::new(
                        vigil_compiler::Code::UnsupportedCorrelation,
                        "a rule it reads is not in this file, before it",
                    )),
                };
                match converted {
                    Ok(q) => {
                        for name in correlation.meta.id.iter().chain(&correlation.meta.name) {
                            queries.insert(name.clone(), Input::correlation(q.clone(), correlation.group_by.clone()));
                        }
                        let _ = writeln!(out, "{q}");
                    }
                    Err(e) => {
                        let _ = writeln!(out, "error[{}]: {}", e.code, e.message);
                    }
                }
            }
            Some(Content::Filter(_)) => {}
            None => {
                let first = document.diagnostics.iter().find(|d| d.is_error());
                let _ = writeln!(
                    out,
                    "error[{}]: {}",
                    first.map_or("invalid", |d| d.code.as_str()),
                    first.map_or("", |d| &d.message)
                );
            }
        }
    }
    out
}

/// The content of a snapshot file (after its header), or `None` when there is none.
pub fn read(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(rest[end + 5..].to_string())
}

/// Writes a snapshot file, creating its folder.
pub fn write(path: &Path, source: &str, expression: &str, content: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    std::fs::write(path, format!("---\nsource: {}\nexpression: {}\n---\n{content}", quote(source), quote(expression)))
}

/// A unified diff from the snapshot to the new output.
pub fn diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name} (snapshot)"), &format!("{name} (now)"))
        .to_string()
}
