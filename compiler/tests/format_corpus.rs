//! `vigil fmt` over the whole SigmaHQ corpus in `../shared/sigma`: every document is laid out (none left alone),
//! formatting twice changes nothing the second time, the YAML (so the IR) is the same, and no comment or other
//! line is lost: the formatter only moves lines, re-indents them and drops blank lines between top-level keys.

mod common;

use std::collections::BTreeMap;
use vigil_compiler::format::{format_source, same_yaml};

/// The non-blank lines of a text, trimmed, counted: what formatting must keep.
fn lines(text: &str) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        *out.entry(line).or_default() += 1;
    }
    out
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn the_whole_corpus_formats_stably_without_losing_anything() {
    let files = common::yaml_files(&common::shared_sigma());
    assert!(files.len() > 3000, "{} files", files.len());
    let (mut changed, mut comments) = (0, 0);
    let mut problems = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let once = format_source(&text);
        if !once.skipped.is_empty() {
            problems.push(format!("{}: left alone: {:?}", path.display(), once.skipped));
            continue;
        }
        let twice = format_source(&once.text);
        if twice.text != once.text {
            problems.push(format!("{}: a second run changes it", path.display()));
        }
        if !same_yaml(&text, &once.text) {
            problems.push(format!("{}: the YAML changed", path.display()));
        }
        if lines(&text) != lines(&once.text) {
            problems.push(format!("{}: lines lost or changed", path.display()));
        }
        comments += text.lines().filter(|l| l.contains('#')).count();
        changed += usize::from(once.text != text);
    }
    println!("{} files, {changed} changed by formatting, {comments} lines with a comment kept", files.len());
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
