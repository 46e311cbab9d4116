//! EVTX end to end: the 277 attack-sample files of `../shared/evtx` read with the `evtx` crate alone (the floor),
//! against reading them and matching the SigmaHQ Windows rules, on one core. Run with `bench/evtx.sh`.

use std::path::PathBuf;
use std::time::Instant;
use vigil_compiler::pipeline::{Options, PipelineSet};
use vigil_compiler::{load_str, lower, Content};
use vigil_runtime::{read, RuleSet};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let shared = PathBuf::from(std::env::var("VIGIL_SHARED").unwrap_or_else(|_| "../shared".into()));
    let mut files = walk(&shared.join("evtx"), "evtx");
    files.sort();
    let routing = PipelineSet::resolve(&["sysmon".into(), "windows".into()], Options::default()).expect("built-ins");
    let mut rules = Vec::new();
    for entry in walk(&shared.join("sigma/rules/windows"), "yml") {
        let text = std::fs::read_to_string(&entry).expect("rule");
        for document in load_str(&text) {
            if let Some(Content::Rule(mut rule)) = document.content {
                if routing.apply(&mut rule).is_ok() {
                    rules.push((entry.display().to_string(), lower(rule)));
                }
            }
        }
    }
    let (set, _) = RuleSet::build(rules);

    let start = Instant::now();
    let mut records = 0u64;
    for file in &files {
        read::read_path(file, &mut |_, r| records += r.is_ok() as u64).expect("readable");
    }
    let floor = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut detections = 0usize;
    for file in &files {
        read::read_path(file, &mut |_, r| {
            if let Ok(json) = r {
                let event = set.event(&json);
                detections += set.matches(&event).len();
            }
        })
        .expect("readable");
    }
    let full = start.elapsed().as_secs_f64();
    println!("evtx: {} files, {records} records, {} rules, {detections} detections", files.len(), set.rules.len());
    println!("  evtx parse only (floor)  {:>8.1} ms  {:>9.0} records/s", floor * 1e3, records as f64 / floor);
    println!("  parse + match            {:>8.1} ms  {:>9.0} records/s", full * 1e3, records as f64 / full);
    println!("  ratio to the floor       {:>8.2}x", full / floor);
}

fn walk(dir: &std::path::Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path, ext));
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out
}
