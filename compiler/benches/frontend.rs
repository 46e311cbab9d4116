//! Front-end benchmark: load and lower the active SigmaHQ corpus from memory, single-threaded.
//!
//! Run with `bench/frontend.sh` (pins one core). Prints documents per second, best and median of the rounds.

use std::path::{Path, PathBuf};

// The same allocator as the `vigil` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;
use vigil_compiler::syntax::{load_str, lower, Content};

const ACTIVE: [&str; 5] =
    ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-placeholder"];

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(path);
        }
    }
}

fn main() {
    let root = std::env::var("VIGIL_SIGMA").unwrap_or_else(|_| "../shared/sigma".into());
    let root = Path::new(&root);
    let root = if root.exists() { root.to_path_buf() } else { Path::new("..").join(root) };
    let mut paths = Vec::new();
    for dir in ACTIVE {
        collect(&root.join(dir), &mut paths);
    }
    if paths.is_empty() {
        eprintln!("no Sigma files under {} (set VIGIL_SIGMA)", root.display());
        std::process::exit(2);
    }
    let texts: Vec<String> = paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let rounds: usize = std::env::var("VIGIL_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(20);
    let mut per_round = Vec::with_capacity(rounds);
    let mut documents = 0;
    let mut rules = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        documents = 0;
        rules = 0;
        for text in &texts {
            for document in load_str(text) {
                documents += 1;
                if let Some(Content::Rule(rule)) = document.content {
                    std::hint::black_box(lower(rule));
                    rules += 1;
                }
            }
        }
        per_round.push(start.elapsed().as_secs_f64());
    }
    // The floor: the YAML parser alone (events into spanned nodes), to show how the time splits.
    let mut yaml_rounds = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for text in &texts {
            std::hint::black_box(vigil_compiler::syntax::parse_yaml(text));
        }
        yaml_rounds.push(start.elapsed().as_secs_f64());
    }
    yaml_rounds.sort_by(f64::total_cmp);
    per_round.sort_by(f64::total_cmp);
    let best = per_round[0];
    let median = per_round[per_round.len() / 2];
    println!(
        "frontend: {} files, {:.1} MB, {documents} documents ({rules} rules lowered), {rounds} rounds",
        texts.len(),
        bytes as f64 / 1e6
    );
    println!("  best   {:>8.1} ms  {:>9.0} documents/s", best * 1e3, documents as f64 / best);
    println!("  median {:>8.1} ms  {:>9.0} documents/s", median * 1e3, documents as f64 / median);
    let yaml = yaml_rounds[0];
    println!("  of which YAML to spanned nodes (best) {:>6.1} ms ({:.0}%)", yaml * 1e3, 100.0 * yaml / best);
}
