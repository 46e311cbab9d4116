//! The fast YAML path must give exactly the tree of the general parser, or step aside. Checked over every file of
//! the SigmaHQ corpus and the fixtures, and over mutated copies of them.

mod common;

use std::path::Path;
use vigil_compiler::syntax::{parse_fast, parse_with_events};

/// `Some(true)` when the fast path took the text and agreed, `Some(false)` when it stepped aside; panics with a
/// readable message when it disagrees.
fn agrees(label: &str, text: &str) -> bool {
    let Some(fast) = parse_fast(text) else { return false };
    let (documents, diagnostics) = parse_with_events(text);
    assert!(diagnostics.is_empty(), "{label}: fast path accepted text the general parser rejects: {diagnostics:?}");
    assert_eq!(documents.len(), 1, "{label}: fast path took a text with {} documents", documents.len());
    if documents[0].root != fast {
        let general = format!("{:#?}", documents[0].root);
        let fast = format!("{fast:#?}");
        let line = general.lines().zip(fast.lines()).position(|(a, b)| a != b).unwrap_or(0);
        let window = |s: &str| s.lines().skip(line.saturating_sub(8)).take(16).collect::<Vec<_>>().join("\n");
        panic!("{label}: trees differ\n--- general\n{}\n--- fast\n{}", window(&general), window(&fast));
    }
    true
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn fast_path_agrees_on_the_corpus_and_covers_most_of_it() {
    let root = common::shared_sigma();
    for (folder, min_coverage) in [
        ("rules", 0.95),
        ("rules-emerging-threats", 0.95),
        ("rules-threat-hunting", 0.95),
        ("deprecated", 0.0),
        ("unsupported", 0.0),
    ] {
        let mut files = Vec::new();
        files.extend(common::yaml_files(&root.join(folder)));
        let mut taken = 0;
        let mut aside = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).expect("UTF-8");
            if agrees(&path.display().to_string(), &text) {
                taken += 1;
            } else {
                aside.push(path.display().to_string());
            }
        }
        let coverage = taken as f64 / files.len() as f64;
        eprintln!("{folder}: fast path took {taken} of {} files ({:.1}%)", files.len(), coverage * 100.0);
        assert!(coverage >= min_coverage, "{folder}: fast path took only {:.1}%; aside: {aside:#?}", coverage * 100.0);
    }
}

#[test]
fn fast_path_agrees_on_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files.extend(common::yaml_files(&root.join("tests/fixtures")));
    files.extend(common::yaml_files(&root.join("../rules")));
    for path in &files {
        agrees(&path.display().to_string(), &std::fs::read_to_string(path).expect("UTF-8"));
    }
}

/// Deterministic mutations of real files: characters deleted, duplicated or replaced by YAML syntax. Whatever
/// the fast path accepts must be exactly what the general parser makes of it.
#[test]
fn fast_path_agrees_on_mutated_texts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files.extend(common::yaml_files(&root.join("tests/fixtures/ir")));
    files.extend(common::yaml_files(&root.join("../rules")));
    if let Some(sigma) = common::shared_sigma_if_present() {
        let mut corpus = Vec::new();
        corpus.extend(common::yaml_files(&sigma.join("rules/windows/process_creation")));
        corpus.truncate(150);
        files.extend(corpus);
    }
    const SYNTAX: &[&str] = &[
        ":", " ", "-", "- ", "'", "\"", "#", " #", "|", ">", "[", "]", "{", "}", ",", "\n", "  ", "*", "&", "!", "?",
        "\\", "%", "...",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut random = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut taken = 0;
    let mut total = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("UTF-8");
        let rounds: usize = std::env::var("VIGIL_MUTATION_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(40);
        for round in 0..rounds {
            let mut mutated = text.clone();
            for _ in 0..1 + random(3) {
                let mut at = random(mutated.len().max(1));
                while !mutated.is_char_boundary(at) {
                    at -= 1;
                }
                match random(3) {
                    0 => {
                        let end = (at + 1 + random(3)).min(mutated.len());
                        let end = (end..=mutated.len()).find(|&e| mutated.is_char_boundary(e)).unwrap_or(mutated.len());
                        mutated.replace_range(at..end, "");
                    }
                    _ => mutated.insert_str(at, SYNTAX[random(SYNTAX.len())]),
                }
            }
            total += 1;
            if agrees(&format!("{} (mutation {round}):\n{mutated}\n", path.display()), &mutated) {
                taken += 1;
            }
        }
    }
    eprintln!("mutations: fast path took {taken} of {total}");
}
