//! Conversion benchmark: the active SigmaHQ corpus to each target, single-threaded, from memory.
//!
//! Run with `bench/convert.sh` (pins one core). For each target it prints the time to render every rule from its
//! IR (the backend alone), and the whole conversion from the YAML text (load, `sysmon`/`windows` pipelines, lower,
//! render): best of the rounds. pySigma takes 9-22 s per target on this corpus (../shared/oracle/TIMINGS.md).

use std::path::{Path, PathBuf};
use std::time::Instant;
use vigil_compiler::backend::{self, ConvertOptions as Options, Target};
use vigil_compiler::compile::{compile_source, Settings};

// The same allocator as the `vigil` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ACTIVE: [&str; 5] =
    ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-placeholder"];

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(path);
        }
    }
}

fn best_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..rounds {
        let start = Instant::now();
        last = Some(f());
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, last.expect("one round"))
}

fn main() {
    let root = PathBuf::from(std::env::var("VIGIL_SIGMA").unwrap_or_else(|_| "../shared/sigma".into()));
    let mut paths = Vec::new();
    for dir in ACTIVE {
        collect(&root.join(dir), &mut paths);
    }
    paths.sort();
    let texts: Vec<String> = paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    if texts.is_empty() {
        eprintln!("no Sigma files under {} (set VIGIL_SIGMA)", root.display());
        std::process::exit(2);
    }
    let rounds: usize = std::env::var("VIGIL_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(10);
    let settings = Settings::routing();
    let options = Options::default();
    // The IR once, for the backend-only figure.
    let mut prepared = Vec::new();
    for text in &texts {
        for document in compile_source(String::new(), text.clone(), &settings).documents {
            if let Some(lowered) = document.rule() {
                prepared.push((lowered.rule.clone(), lowered.state.clone()));
            }
        }
    }
    println!("convert: {} files, {} rules, pipelines sysmon + windows, best of {rounds}", texts.len(), prepared.len());
    println!("  {:<9} {:>12} {:>14} {:>10}", "target", "render only", "from YAML text", "converted");
    for target in Target::ALL {
        let (render, ok) = best_of(rounds, || {
            prepared
                .iter()
                .filter(|(rule, state)| backend::convert(rule, target, "default", state, &options).is_ok())
                .count()
        });
        let (whole, _) = best_of(rounds, || {
            let mut converted = 0;
            for text in &texts {
                for document in compile_source(String::new(), text.clone(), &settings).documents {
                    if let Some(r) = document.rule() {
                        converted += backend::convert(&r.rule, target, "default", &r.state, &options).is_ok() as usize;
                    }
                }
            }
            converted
        });
        println!("  {:<9} {:>9.1} ms {:>11.1} ms {:>10}", target.name(), render * 1e3, whole * 1e3, ok);
    }
}
