//! Runs every rule that sigma-rust can load over JSON-lines events, one core, and prints the throughput:
//! `sigma-rust-bench RULES_DIR EVENTS.jsonl`.

use std::io::BufRead;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (rules_dir, events_path) = match args.as_slice() {
        [_, rules, events] => (rules, events),
        _ => {
            eprintln!("usage: sigma-rust-bench RULES_DIR EVENTS.jsonl");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut rules = Vec::new();
    let mut rejected = 0;
    for entry in walkdir::WalkDir::new(rules_dir).into_iter().filter_map(Result::ok) {
        if entry.path().extension().is_some_and(|e| e == "yml") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            match sigma_rust::rule_from_yaml(&text) {
                Ok(rule) => rules.push(rule),
                Err(_) => rejected += 1,
            }
        }
    }
    let loaded = started.elapsed().as_secs_f64();
    let file = std::fs::File::open(events_path).expect("events file");
    let start = Instant::now();
    let (mut events, mut detections) = (0u64, 0u64);
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        let Ok(event) = sigma_rust::event_from_json(&line) else { continue };
        events += 1;
        detections += rules.iter().filter(|r| r.is_match(&event)).count() as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "sigma-rust: {} rules ({rejected} not loaded, {loaded:.2}s), {events} events, {detections} detections, {seconds:.2}s, {:.0} events/s",
        rules.len(),
        events as f64 / seconds
    );
}
