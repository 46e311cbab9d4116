//! Matcher benchmark: the SigmaHQ Windows rules (with log-source routing) over the Mordor events, on one core,
//! against the floor of parsing the same JSON lines into JSON trees and nothing else (and, for reference, of only
//! checking that they are JSON). Vigil reads each line as `vigil hunt` does: an owned copy of the text, decoded
//! straight into the fields rules read. Run with `bench/matcher.sh`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vigil_compiler::compile::{Compilation, Settings};
use vigil_runtime::{DecodedEvent, Record, RuleSet};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.to_string_lossy().ends_with(ext) {
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
    (best, last.expect("at least one round"))
}

/// A line as `vigil hunt` reads it: its own copy of the text, read as text.
fn record(line: &str) -> Record {
    Record::line(line.to_string())
}

/// Reads every line as `vigil hunt` does and sums `count` over the events.
fn over_events(set: &RuleSet, lines: &[String], count: impl Fn(&DecodedEvent<'_>) -> usize) -> usize {
    let mut total = 0;
    for (i, line) in lines.iter().enumerate() {
        let record = record(line);
        if let Ok(event) = set.decode(&record, i as u64 + 1) {
            total += count(&event);
        }
    }
    total
}

fn main() {
    let shared = PathBuf::from(std::env::var("VIGIL_SHARED").unwrap_or_else(|_| "../shared".into()));
    let rules_dir = shared.join("sigma/rules/windows");
    let mut rule_files = Vec::new();
    files(&rules_dir, ".yml", &mut rule_files);
    // VIGIL_NO_ROUTING=1: the rules as written, without the log-source conditions (as `vigil hunt --no-routing`).
    let settings = match std::env::var_os("VIGIL_NO_ROUTING") {
        Some(_) => Settings::default(),
        None => Settings::routing(),
    };
    let (set, rejected) = RuleSet::build(Compilation::of_files(&rule_files, &settings).into_rules());
    let mut event_files = Vec::new();
    files(&shared.join("mordor"), ".jsonl.gz", &mut event_files);
    event_files.sort();
    let mut lines = Vec::new();
    for path in &event_files {
        let reader = BufReader::new(flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("events")));
        lines.extend(reader.lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()));
    }
    let bytes: usize = lines.iter().map(String::len).sum();
    let rounds = std::env::var("VIGIL_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);

    if std::env::var_os("VIGIL_ONLY_MATCH").is_some() {
        // For profilers: the parse + match loop alone.
        let (full, detections) = best_of(rounds, || over_events(&set, &lines, |e| set.matches(e).len()));
        println!("parse + match {:.1} ms, {detections} detections", full * 1e3);
        return;
    }
    let (floor, parsed) =
        best_of(rounds, || lines.iter().filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()).count());
    let (validate, _) =
        best_of(rounds, || lines.iter().filter(|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok()).count());
    let (decode, _) = best_of(rounds, || over_events(&set, &lines, |e| e.event.fields().count()));
    let (full, detections) = best_of(rounds, || over_events(&set, &lines, |e| set.matches(e).len()));
    let events = lines.len() as f64;
    let mut candidates = 0usize;
    let mut by_channel: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for line in &lines {
        let record = record(line);
        if let Ok(event) = set.decode(&record, 0) {
            let n = set.candidates(&event).len();
            candidates += n;
            let channel = event.event.json().get("Channel").and_then(|c| c.as_str()).unwrap_or("-").to_string();
            let entry = by_channel.entry(channel).or_default();
            entry.0 += 1;
            entry.1 += n;
        }
    }
    println!("  candidate rules per event: {:.1} on average", candidates as f64 / events);
    if std::env::var_os("VIGIL_PROFILE_STAGES").is_some() {
        let records: Vec<Record> = lines.iter().map(|l| record(l)).collect();
        let decoded = |r| set.decode(r, 0).ok();
        let (decode, _) =
            best_of(rounds, || records.iter().filter_map(decoded).map(|e| e.event.fields().count()).sum::<usize>());
        let events: Vec<DecodedEvent<'_>> = records.iter().filter_map(decoded).collect();
        let (candidates, _) = best_of(rounds, || events.iter().map(|e| set.candidates(e).len()).sum::<usize>());
        let (matching, _) = best_of(rounds, || events.iter().map(|e| set.matches(e).len()).sum::<usize>());
        println!(
            "  stages on read lines: decode {:.1} ms, candidates {:.1} ms, candidates + eval {:.1} ms",
            decode * 1e3,
            candidates * 1e3,
            matching * 1e3
        );
    }
    if std::env::var_os("VIGIL_PROFILE_RULES").is_some() {
        let mut spent = vec![(0f64, 0usize); set.rules.len()];
        for line in &lines {
            let record = record(line);
            if let Ok(event) = set.decode(&record, 0) {
                for r in set.candidates(&event) {
                    let start = Instant::now();
                    std::hint::black_box(set.rule_matches(r, &event.event));
                    spent[r as usize].0 += start.elapsed().as_secs_f64();
                    spent[r as usize].1 += 1;
                }
            }
        }
        let total: f64 = spent.iter().map(|s| s.0).sum();
        let mut order: Vec<usize> = (0..spent.len()).collect();
        order.sort_by(|a, b| spent[*b].0.total_cmp(&spent[*a].0));
        println!("  rule evaluation {:.1} ms in all; the costliest rules:", total * 1e3);
        for &i in order.iter().take(15) {
            println!("    {:>7.1} ms {:>6} evals  {}", spent[i].0 * 1e3, spent[i].1, set.rules[i].path);
        }
    }
    if std::env::var_os("VIGIL_VERBOSE").is_some() {
        for (channel, (n, c)) in &by_channel {
            println!("    {channel}: {n} events, {:.1} candidates each", *c as f64 / *n as f64);
        }
    }
    println!(
        "matcher: {} rules ({} rejected), {} events ({:.1} MB), {parsed} parsed, {detections} detections, best of {rounds}",
        set.rules.len(),
        rejected.len(),
        lines.len(),
        bytes as f64 / 1e6
    );
    println!("  JSON parse only (floor)  {:>8.1} ms  {:>9.0} events/s", floor * 1e3, events / floor);
    println!("  JSON check only          {:>8.1} ms  {:>9.0} events/s", validate * 1e3, events / validate);
    println!("  read + decode fields     {:>8.1} ms  {:>9.0} events/s", decode * 1e3, events / decode);
    println!("  read + match             {:>8.1} ms  {:>9.0} events/s", full * 1e3, events / full);
    println!("  ratio to the floor       {:>8.2}x", full / floor);
    println!("  ratio to the JSON check  {:>8.2}x", full / validate);
}
