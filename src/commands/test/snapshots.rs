//! Conversion snapshots in insta's `.snap` format: a header between `---` lines (`source`, `expression`), then
//! the queries. One file per rule file and target: `<folder>/__snapshots__/<rule stem>__<target>.snap`.

use super::config::SnapshotTarget;
use crate::commands::convert::convert_all;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use vigil_compiler::backend::ConvertOptions;
use vigil_compiler::compile::{compile_source, Compilation, Settings};

/// The snapshot file of a rule file for a target.
pub fn path_for(rule: &Path, directory: &str, target: &SnapshotTarget) -> PathBuf {
    let stem = rule.file_stem().and_then(|s| s.to_str()).unwrap_or("rule");
    rule.parent().unwrap_or(Path::new(".")).join(directory).join(format!("{stem}__{}.snap", target.suffix()))
}

/// The snapshot text of every rule and correlation document of a file (compiled with the target's pipelines):
/// its queries, or its error with the code. A file with several documents to convert titles each one.
/// Correlations read the rules of the same file.
pub fn render(path: &str, text: &str, target: &SnapshotTarget, settings: &Settings) -> String {
    let file = compile_source(path.to_string(), text.to_string(), settings);
    let compilation = Compilation::new(vec![file], settings);
    let converted = convert_all(&compilation, target.target, &target.format, &ConvertOptions::default());
    let titled = converted.len() > 1;
    let mut out = String::new();
    for c in converted {
        if titled {
            let _ = writeln!(out, "# {}", c.document.title.as_deref().unwrap_or("(untitled)"));
        }
        // Writing into a String cannot fail.
        let _ = match c.result {
            Ok(queries) => queries.iter().try_for_each(|q| writeln!(out, "{q}")),
            Err(e) => writeln!(out, "error[{}]: {}", e.code, e.message),
        };
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
