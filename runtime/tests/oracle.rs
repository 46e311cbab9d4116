//! Differential test against pySigma 2.0.1's SQLite translation (`../shared/oracle/matches_mordor.jsonl.gz`):
//! every rule of the active corpus (and the base rules of the oracle's correlation files), without pipelines as
//! the oracle ran them, over the Mordor sets present in `../shared/mordor`. Every (rule, event) on which the two
//! disagree must be listed, with its reason, in `tests/oracle_explained.tsv`.

mod common;

use common::yaml_files;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::Path;
use vigil_compiler::compile::{compile_path, Settings};
use vigil_runtime::{read, RuleSet};

/// (rule path as the oracle names it, event set file, 1-based line)
type Hit = (String, String, u64);

#[test]
#[ignore = "needs ../shared beside the repository"]
fn matches_agree_with_pysigma_sqlite_on_mordor() {
    let shared = common::shared("oracle");
    let sigma = shared.join("sigma");
    let mut files = Vec::new();
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-placeholder"] {
        yaml_files(&sigma.join(folder), &mut files);
    }
    let mut correlation_files = Vec::new();
    yaml_files(&shared.join("oracle/correlations"), &mut correlation_files);

    // Rules, named as the oracle names them (relative to ../sigma, or correlations/...).
    let mut rules = Vec::new();
    let mut names = Vec::new();
    for path in files.iter().chain(&correlation_files) {
        let name = path
            .strip_prefix(&sigma)
            .or_else(|_| path.strip_prefix(shared.join("oracle")))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        for document in compile_path(path, name.clone(), &Settings::default()).documents {
            if let Some(rule) = document.rule() {
                rules.push((name.clone(), rule.rule.clone()));
            }
        }
    }
    let (set, _rejected) = RuleSet::build(rules);
    for rule in &set.rules {
        names.push(rule.path.clone());
    }

    let present: BTreeSet<String> = std::fs::read_dir(shared.join("mordor"))
        .expect("mordor")
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".gz")).map(str::to_string))
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    let mut vigil: BTreeSet<Hit> = BTreeSet::new();
    for set_name in &present {
        read::read_path(&shared.join("mordor").join(format!("{set_name}.gz")), &mut |line, parsed| {
            if let Ok(json) = parsed {
                let event = set.event(&json);
                for rule in set.matches(&event) {
                    vigil.insert((names[rule as usize].clone(), set_name.clone(), line));
                }
            }
        })
        .expect("readable");
    }

    // The oracle's matches for the same rules and sets; rules pySigma could not convert are left out.
    let oracle_file = std::fs::File::open(shared.join("oracle/matches_mordor.jsonl.gz")).expect("oracle");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(oracle_file));
    let loaded: BTreeSet<&String> = names.iter().collect();
    let mut oracle: BTreeSet<Hit> = BTreeSet::new();
    let mut compared_rules: BTreeSet<String> = BTreeSet::new();
    for line in reader.lines() {
        let entry: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("JSON");
        let set_name = entry["event_set"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("").to_string();
        let path = entry["path"].as_str().unwrap_or("").to_string();
        if !present.contains(&set_name) || !entry["error"].is_null() || !loaded.contains(&path) {
            continue;
        }
        compared_rules.insert(path.clone());
        for m in entry["matches"].as_array().into_iter().flatten() {
            oracle.insert((path.clone(), set_name.clone(), m.as_u64().unwrap_or(0)));
        }
    }
    // Detections of rules the oracle could not convert are not compared.
    vigil.retain(|(rule, _, _)| compared_rules.contains(rule));

    let explained: BTreeMap<Hit, String> =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle_explained.tsv"))
            .expect("explanations file")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut parts = l.splitn(4, '\t');
                let (rule, set, line, why) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
                let line = if line == "*" { 0 } else { line.parse().ok()? };
                Some(((rule.to_string(), set.to_string(), line), why.to_string()))
            })
            .collect();
    // An explanation names one event, or with `*` for set and line, every event of a rule.
    let is_explained = |(rule, set, line): &Hit| {
        explained.contains_key(&(rule.clone(), set.clone(), *line))
            || explained.contains_key(&(rule.clone(), "*".into(), 0))
    };
    let only_vigil: Vec<&Hit> = vigil.difference(&oracle).filter(|h| !is_explained(h)).collect();
    let only_oracle: Vec<&Hit> = oracle.difference(&vigil).filter(|h| !is_explained(h)).collect();
    let explained_count = vigil.symmetric_difference(&oracle).filter(|h| is_explained(h)).count();
    eprintln!(
        "oracle differential: {} rules compared over {} sets; pySigma {} matches, Vigil {}, both {}; {} differences, all explained",
        compared_rules.len(),
        present.len(),
        oracle.len(),
        vigil.len(),
        vigil.intersection(&oracle).count(),
        explained_count
    );
    assert!(oracle.len() > 1000, "the oracle comparison found too little to compare");
    assert!(
        only_vigil.is_empty() && only_oracle.is_empty(),
        "unexplained disagreements: only Vigil {only_vigil:?}, only pySigma {only_oracle:?}"
    );
}
