//! EVTX end to end: the 277 attack-sample files of `../shared/evtx` read with the `evtx` crate alone (the floor),
//! against reading them and matching the SigmaHQ Windows rules, on one core. Run with `bench/evtx.sh`.

use std::path::PathBuf;
use std::time::Instant;
use vigil_compiler::compile::{Compilation, Settings};
use vigil_runtime::{read, RuleSet};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let shared = PathBuf::from(std::env::var("VIGIL_SHARED").unwrap_or_else(|_| "../shared".into()));
    let mut files = walk(&shared.join("evtx"), "evtx");
    files.sort();
    let rule_files = walk(&shared.join("sigma/rules/windows"), "yml");
    let (set, _) = RuleSet::build(Compilation::of_files(&rule_files, &Settings::routing()).into_rules());

    // Best of `VIGIL_ROUNDS` (5) for each, alternating, so that all see the same machine. The floor is the evtx
    // crate's parsed records (`records_json_value`: each record rendered as JSON and parsed into a tree); the
    // render alone (`records_json`: JSON text) is shown too, as what no reader of the records can go below.
    let rounds: usize = std::env::var("VIGIL_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    let (mut floor, mut render, mut full) = (f64::MAX, f64::MAX, f64::MAX);
    let (mut records, mut detections) = (0u64, 0usize);
    for _ in 0..rounds {
        let start = Instant::now();
        records = 0;
        for file in &files {
            let mut parser = evtx::EvtxParser::from_path(file).expect("readable");
            records += parser.records_json_value().filter(Result::is_ok).count() as u64;
        }
        floor = floor.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        for file in &files {
            let mut parser = evtx::EvtxParser::from_path(file).expect("readable");
            std::hint::black_box(parser.records_json().filter(Result::is_ok).count());
        }
        render = render.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        detections = 0;
        for file in &files {
            read::read_path_raw(file, &mut |position, raw| {
                if let Ok(record) = raw.into_record() {
                    if let Ok(event) = set.decode(&record, position) {
                        detections += set.matches(&event).len();
                    }
                }
            })
            .expect("readable");
        }
        full = full.min(start.elapsed().as_secs_f64());
    }
    if std::env::var_os("VIGIL_PROFILE_STAGES").is_some() {
        let mut parsed = Vec::new();
        for file in &files {
            read::read_path_raw(file, &mut |_, raw| parsed.extend(raw.into_record().ok())).expect("readable");
        }
        let time = |f: &dyn Fn() -> usize| {
            let start = Instant::now();
            let n = f();
            (start.elapsed().as_secs_f64() * 1e3, n)
        };
        let (decode, _) =
            time(&|| parsed.iter().map(|j| set.decode(j, 0).expect("JSON").event.get(0).is_some() as usize).sum());
        let (candidates, n) =
            time(&|| parsed.iter().map(|j| set.candidates(&set.decode(j, 0).expect("JSON")).len()).sum());
        let (matching, _) = time(&|| parsed.iter().map(|j| set.matches(&set.decode(j, 0).expect("JSON")).len()).sum());
        println!(
            "  stages: decode {decode:.1} ms, + candidates {candidates:.1} ms ({:.1} per record), + eval {matching:.1} ms",
            n as f64 / parsed.len() as f64
        );
    }
    println!(
        "evtx: {} files, {records} records, {} rules, {detections} detections, best of {rounds}",
        files.len(),
        set.rules.len()
    );
    println!("  evtx parse only (floor)  {:>8.1} ms  {:>9.0} records/s", floor * 1e3, records as f64 / floor);
    println!("  evtx render only         {:>8.1} ms  {:>9.0} records/s", render * 1e3, records as f64 / render);
    println!("  parse + match            {:>8.1} ms  {:>9.0} records/s", full * 1e3, records as f64 / full);
    println!("  ratio to the floor       {:>8.2}x", full / floor);
    println!("  ratio to the render      {:>8.2}x", full / render);
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
