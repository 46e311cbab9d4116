//! The literal prefilter and the (Channel, EventID) index only ever rule out rules that cannot match: on a sample
//! of the Mordor events and on every record of the EVTX samples (typed values: booleans, numbers), every rule of
//! the SigmaHQ corpus that matches when evaluated directly is among the event's candidates (rules as written,
//! without routing, so that the prefilter does nearly all the pruning).

mod common;

use common::yaml_files;
use std::path::Path;
use vigil_compiler::compile::{Compilation, Settings};
use vigil_runtime::{read, DecodedEvent, RuleSet};

/// Every rule of the corpus, as written.
fn corpus(shared: &Path) -> RuleSet {
    let mut files = Vec::new();
    yaml_files(&shared.join("sigma/rules"), &mut files);
    RuleSet::build(Compilation::of_files(&files, &Settings::default()).into_rules()).0
}

/// Checks that every rule matching `event` is a candidate; counts (matches, candidates).
fn check(set: &RuleSet, event: &DecodedEvent<'_>, place: &dyn Fn() -> String) -> (usize, usize) {
    let admitted = set.candidates(event);
    let mut matches = 0;
    for rule in 0..set.rules.len() as u32 {
        if set.rule_matches(rule, &event.event) {
            matches += 1;
            assert!(
                admitted.binary_search(&rule).is_ok(),
                "{}: {} matches but was not a candidate",
                place(),
                set.rules[rule as usize].path
            );
        }
    }
    (matches, admitted.len())
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn evtx_candidates_include_every_matching_rule() {
    let shared = common::shared("evtx");
    let set = corpus(&shared);
    let files = common::evtx_files(&shared.join("evtx"));
    let (mut events, mut matches, mut candidates) = (0usize, 0usize, 0usize);
    for path in &files {
        read::read_path_raw(path, &mut |position, raw| {
            let record = raw.into_record().expect("a record");
            let event = set.decode(&record, position).expect("JSON");
            let (m, c) = check(&set, &event, &|| format!("{}: record {position}", path.display()));
            events += 1;
            matches += m;
            candidates += c;
        })
        .expect("readable");
    }
    assert!(events > 8000 && matches > 500, "too small a sample: {events} events, {matches} matches");
    eprintln!("{events} records, {matches} matches, {:.1} candidates per record", candidates as f64 / events as f64);
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn candidates_include_every_matching_rule() {
    let shared = common::shared("mordor");
    let set = corpus(&shared);
    let (mut events, mut matches, mut candidates) = (0usize, 0usize, 0usize);
    let mut sets: Vec<_> =
        std::fs::read_dir(shared.join("mordor")).expect("mordor").flatten().map(|e| e.path()).collect();
    sets.sort();
    for path in sets.iter().filter(|p| p.to_string_lossy().ends_with(".jsonl.gz")) {
        read::read_path_raw(path, &mut |line, raw| {
            // Every 7th event: the sample spans all the sets and their event types at a fraction of the cost.
            // Lines are read from their text, as `vigil hunt` reads them.
            let Ok(record) = raw.into_record() else { return };
            if line % 7 != 0 {
                return;
            }
            let Ok(event) = set.decode(&record, line) else { return };
            let (m, c) = check(&set, &event, &|| format!("{}:{line}", path.display()));
            events += 1;
            matches += m;
            candidates += c;
        })
        .expect("readable");
    }
    assert!(events > 3000 && matches > 100, "too small a sample: {events} events, {matches} matches");
    // The prefilter must also prune: most rules are ruled out for most events.
    let average = candidates as f64 / events as f64;
    assert!(average < set.rules.len() as f64 / 10.0, "{average:.0} candidates per event of {}", set.rules.len());
    eprintln!("{events} events, {matches} matches, {average:.1} candidates per event of {} rules", set.rules.len());
}

/// The corpus's rules as a rule set's inputs.
fn inputs(rules: &[(String, vigil_compiler::ir::Rule)]) -> Vec<vigil_runtime::RuleInput> {
    rules
        .iter()
        .enumerate()
        .map(|(index, (path, rule))| vigil_runtime::RuleInput {
            index,
            path: path.clone(),
            logsource: rule.logsource.clone(),
            rule: rule.clone(),
        })
        .collect()
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn a_rule_set_built_from_what_an_earlier_build_derived_is_the_same() {
    use vigil_runtime::derived::Derived;
    use vigil_runtime::LogSources;
    let shared = common::shared("evtx");
    let mut files = Vec::new();
    yaml_files(&shared.join("sigma/rules"), &mut files);
    let rules = Compilation::of_files(&files, &Settings::default()).into_rules();
    let (fresh, _, derived) =
        RuleSet::build_knowing(inputs(&rules), &[], &LogSources::Anywhere, Some(Derived::default()));
    let derived = derived.expect("a build that knew nothing derives");
    let bytes = derived.encode().expect("encodes");
    let known = Derived::decode(&bytes).expect("decodes");
    let (knowing, _, again) = RuleSet::build_knowing(inputs(&rules), &[], &LogSources::Anywhere, Some(known));
    assert!(again.is_none(), "nothing was lacking");
    // Knowing only the first half of the rules: the rest is derived, and the whole returned to keep.
    let first_half: Vec<_> = inputs(&rules).into_iter().take(rules.len() / 2).collect();
    let (_, _, half) = RuleSet::build_knowing(first_half, &[], &LogSources::Anywhere, Some(Derived::default()));
    let half = half.expect("derived");
    let (partly, _, completed) = RuleSet::build_knowing(inputs(&rules), &[], &LogSources::Anywhere, Some(half));
    assert!(completed.is_some(), "the missing half is derived and returned");
    let mut events = 0;
    for path in &common::evtx_files(&shared.join("evtx")) {
        read::read_path_raw(path, &mut |position, raw| {
            let record = raw.into_record().expect("a record");
            let sets = [&fresh, &knowing, &partly];
            let decoded: Vec<_> = sets.iter().map(|s| s.decode(&record, position).expect("JSON")).collect();
            let candidates: Vec<_> = sets.iter().zip(&decoded).map(|(s, e)| s.candidates(e)).collect();
            let matches: Vec<Vec<u32>> = sets.iter().zip(&decoded).map(|(s, e)| s.matches(e)).collect();
            let place = format!("{}: record {position}", path.display());
            assert_eq!(candidates[1], candidates[0], "{place}");
            assert_eq!(candidates[2], candidates[0], "{place}");
            assert_eq!(matches[1], matches[0], "{place}");
            assert_eq!(matches[2], matches[0], "{place}");
            events += 1;
        })
        .expect("readable");
    }
    assert!(events > 8000, "{events} records");
}

/// Keyword rules over records read as text, where the prefilter rules keyword facts out from the text as it is
/// (`text_screen.rs`): every rule that matches when evaluated directly is still a candidate, whichever way the
/// record's JSON spells the value (escapes, `\u`, `\/`, case, non-ASCII folding, numbers, keys).
#[test]
fn keyword_facts_ruled_out_from_text_never_lose_a_match() {
    use vigil_compiler::compile::compile_source;
    let keywords = [
        "['*sekurlsa::*', '*\\mimilib.dll', '*say \"hi\"*', 'mimikatz']",
        "['a/b/c']",
        "['tab\there']",
        "['ödön']",
        "[4688]",
        "['1000.0']",
        "['pre*', '*post']",
        "['LogonId']",
    ];
    // Enough rules that the index leaves the prefilter to run (it does from 8 candidates); numbers' facts cannot be
    // ruled out from text, and with them among the candidates every record is read.
    let set_of = |lists: &[&str]| {
        let mut rules = Vec::new();
        for (i, list) in lists.iter().chain(["['filler1']", "['filler2']", "['filler3']"].iter()).enumerate() {
            let text =
                format!("title: k{i}\nlogsource: {{product: windows}}\ndetection:\n  k: {list}\n  condition: k\n");
            let file = compile_source(format!("k{i}.yml"), text, &Settings::default());
            let rule = file.documents[0].rule().unwrap_or_else(|| panic!("rule {i} loads")).rule.clone();
            rules.push((format!("k{i}.yml"), rule));
        }
        let (set, rejected) = RuleSet::build(rules);
        assert!(rejected.is_empty(), "{rejected:?}");
        set
    };
    let screened: Vec<&str> = keywords.iter().copied().filter(|k| !k.contains("4688") && !k.contains("1000")).collect();
    let records = [
        r#"{"CommandLine": "x SEKURLSA::logonpasswords"}"#,
        r#"{"ImageLoaded": "C:\\Temp\\MimiLib.DLL"}"#,
        r#"{"a": "Say \"HI\" now"}"#,
        r#"{"a": "\u006dimikatz"}"#,
        r#"{"a": "MIMI\u004bATZ"}"#,
        "{\"a\": \"mimi\u{212a}atz\"}",
        r#"{"a": "a\/b\/c"}"#,
        r#"{"a": "A/B/C"}"#,
        r#"{"a": "tab\there"}"#,
        r#"{"a": "tab\u0009here"}"#,
        r#"{"a": "ÖDÖN"}"#,
        r#"{"a": "\u00d6d\u00f6n"}"#,
        r#"{"n": 4688}"#,
        r#"{"n": 4.688e3}"#,
        r#"{"n": 1e3}"#,
        r#"{"n": 1000.0}"#,
        r#"{"a": "prefix", "b": "xpost"}"#,
        r#"{"LogonId": 5}"#,
        r#"{"a": ["x", {"b": "mimikatz"}]}"#,
        r#"{"a": "C:\\users\\mimikatz\\"}"#,
        r#"{"a": "nothing here", "b": 12, "c": true, "d": null}"#,
        r#"{"User": "Ödön", "CommandLine": "x sekurlsa::y"}"#,
    ];
    let matched = |set: &RuleSet| {
        let mut matched = Vec::new();
        for (i, text) in records.iter().enumerate() {
            let record = vigil_runtime::Record::line(text.to_string());
            let event = set.decode(&record, i as u64 + 1).expect("JSON");
            if check(set, &event, &|| format!("record {text}")).0 > 0 {
                matched.push(i);
            }
        }
        matched
    };
    // Keywords without wildcards are whole values (DESIGN.md, "Keywords"); a number is its JSON number's text.
    let expected = |unmatched: &[usize]| (0..records.len()).filter(|i| !unmatched.contains(i)).collect::<Vec<_>>();
    assert_eq!(matched(&set_of(&keywords)), expected(&[13, 17, 19, 20]));
    assert_eq!(matched(&set_of(&screened)), expected(&[12, 13, 14, 15, 17, 19, 20]));
    // Without a non-ASCII literal among the candidates, non-ASCII text is screened too.
    let ascii: Vec<&str> = screened.iter().copied().filter(|k| k.is_ascii()).collect();
    assert_eq!(matched(&set_of(&ascii)), expected(&[10, 11, 12, 13, 14, 15, 17, 19, 20]));
}
