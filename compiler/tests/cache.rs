//! The rule-set cache's encoding (`compile::cache`): a compilation decodes to exactly what the matcher reads of
//! the one encoded (rules, pipeline state, positions, filters, written log sources, diagnostics, linked
//! correlations, the texts of files with problems), over small cases and the whole SigmaHQ corpus; damaged bytes
//! decode to nothing, never to a wrong compilation or a panic.

mod common;

use std::fmt::Write;
use vigil_compiler::compile::{cache, compile_source, Compilation, LoadedSource, Settings, SourceFile};
use vigil_compiler::pipeline::{self, PipelineSet};

/// Everything a compilation restored from the cache must hold, printed.
fn describe(compilation: &Compilation) -> String {
    let mut out = String::new();
    for file in &compilation.files {
        let _ = writeln!(out, "file {} readable {} text {:?}", file.path, file.readable, file.text);
        for d in &file.documents {
            let _ = writeln!(
                out,
                "  document {} {:?} {:?} {:?} {:?} {:?}",
                d.index, d.pos, d.kind, d.id, d.title, d.diagnostics
            );
            if let Some(r) = d.rule() {
                let _ = writeln!(
                    out,
                    "    rule {:?}\n    state {:?} pos {:?} filters {:?} logsource {:?}",
                    r.rule, r.state, r.pos, r.filters, r.logsource
                );
            }
        }
    }
    for c in &compilation.correlations {
        let _ = writeln!(out, "correlation {} {} {:?} {:?}", c.file, c.document, c.correlation, c.state);
    }
    out
}

/// The texts as the cache's caller hands them back: every file's.
fn texts_of(sources: &[(&str, &str)]) -> Vec<String> {
    sources.iter().map(|(_, text)| text.to_string()).collect()
}

fn compile_all(sources: &[(&str, &str)], settings: &Settings) -> Compilation {
    let loaded: Vec<LoadedSource> =
        sources.iter().map(|(p, t)| vigil_compiler::compile::load_source(p.to_string(), t.to_string())).collect();
    let settings = settings.clone().with_filters_of(&loaded);
    let files: Vec<SourceFile> =
        sources.iter().map(|(p, t)| compile_source(p.to_string(), t.to_string(), &settings)).collect();
    Compilation::new(files, &settings)
}

const RULES: &str = r#"title: Whoami
id: 5a0b0c8e-0000-4000-8000-000000000001
status: test
level: high
tags: [attack.discovery, attack.t1033]
custom_attribute: {nested: [1, 2.5, "x"], flag: true}
logsource: {category: process_creation, product: windows}
detection:
    selection:
        Image|endswith: '\whoami.exe'
        CommandLine|contains|all: ['/user', '/priv']
    filter:
        User|re|i: '^NT AUTHORITY\\'
        Port|lt: 1024
        SourceIp|cidr: 10.0.0.0/8
    condition: selection and not filter
---
title: Keywords only
id: 5a0b0c8e-0000-4000-8000-000000000002
level: low
logsource: {product: windows, service: system}
detection:
    keywords: ['mimikatz', 'sekurlsa::*']
    condition: keywords
---
title: Broken
logsource: {product: windows}
detection:
    selection:
        Image|nosuchmodifier: x
    condition: selection
"#;

const CORRELATION: &str = r#"title: Many whoami
id: 5a0b0c8e-0000-4000-8000-000000000003
correlation:
    type: event_count
    rules: [5a0b0c8e-0000-4000-8000-000000000001]
    group-by: [ComputerName]
    timespan: 5m
    condition: {gte: 3}
level: critical
"#;

const FILTER: &str = r#"title: Not admins
id: 5a0b0c8e-0000-4000-8000-000000000004
logsource: {category: process_creation, product: windows}
filter:
    rules: [5a0b0c8e-0000-4000-8000-000000000001]
    selection:
        User: admin
    condition: not selection
"#;

const PIPELINE: &str = r#"name: state
transformations:
  - id: table
    type: set_state
    key: table
    val: process_events
  - id: image
    type: field_name_mapping
    mapping:
      Image: process.executable
"#;

fn settings() -> Settings {
    let pipeline = pipeline::parse(PIPELINE, "state.yml").expect("the pipeline parses");
    let mut settings = Settings::routing();
    settings.pipelines = PipelineSet::new(vec![pipeline], Default::default());
    settings
}

const SOURCES: [(&str, &str); 3] =
    [("rules/whoami.yml", RULES), ("rules/many_whoami.yml", CORRELATION), ("filters/not_admins.yml", FILTER)];

#[test]
fn a_compilation_decodes_to_what_the_matcher_reads() {
    let compilation = compile_all(&SOURCES, &settings());
    // The cases hold what the encoding must carry: state, filters, diagnostics and their text, a correlation.
    let described = describe(&compilation);
    assert!(described.contains("\"table\": String(\"process_events\")"), "{described}");
    assert!(compilation.rules().any(|r| !r.rule.filters.is_empty()), "{described}");
    assert!(compilation.files[0].documents[2].has_errors(), "{described}");
    assert!(!compilation.files[0].text.is_empty());
    assert_eq!(compilation.correlations.len(), 1, "{described}");

    let bytes = cache::encode(&compilation).expect("a compilation of readable files encodes");
    let mut texts = texts_of(&SOURCES);
    let restored = cache::decode(&bytes, &mut texts).expect("its encoding decodes");
    assert_eq!(describe(&restored), described);
    // The text of a file with a diagnostic was taken; the others' are left (the front end keeps none).
    assert!(texts[0].is_empty() && !texts[1].is_empty());
}

#[test]
fn damaged_bytes_decode_to_nothing() {
    let compilation = compile_all(&SOURCES, &settings());
    let bytes = cache::encode(&compilation).expect("encodes");
    let described = describe(&compilation);
    // Too few or too many texts: another set of files.
    assert!(cache::decode(&bytes, &mut texts_of(&SOURCES[..2])).is_none());
    // Cut anywhere: nothing. (A changed byte is caught by the caller's digest; decoding it must not panic.)
    for cut in 0..bytes.len() {
        let mut texts = texts_of(&SOURCES);
        assert!(cache::decode(&bytes[..cut], &mut texts).is_none(), "cut at {cut} decoded");
        assert!(texts.iter().all(|t| !t.is_empty()), "cut at {cut}: texts taken without a compilation");
    }
    for at in (0..bytes.len()).step_by(7) {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x5a;
        if let Some(restored) = cache::decode(&damaged, &mut texts_of(&SOURCES)) {
            // A flipped byte inside a string still decodes; it is never the same compilation.
            assert_ne!(describe(&restored), described, "byte {at} changed nothing");
        }
    }
}

#[test]
fn an_unreadable_file_is_not_encoded() {
    let mut compilation = compile_all(&SOURCES, &settings());
    compilation.files[1].readable = false;
    assert!(cache::encode(&compilation).is_none());
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn the_whole_corpus_decodes_to_what_the_matcher_reads() {
    let root = common::shared_sigma();
    let mut sources: Vec<(String, String)> = Vec::new();
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-placeholder"] {
        let mut files = common::yaml_files(&root.join(folder));
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("corpus files are UTF-8");
            sources.push((path.display().to_string(), text));
        }
    }
    let borrowed: Vec<(&str, &str)> = sources.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let compilation = compile_all(&borrowed, &Settings::routing());
    let rules = compilation.rules().count();
    assert!(rules > 3500, "{rules} rules");
    let bytes = cache::encode(&compilation).expect("the corpus encodes");
    let restored = cache::decode(&bytes, &mut texts_of(&borrowed)).expect("and decodes");
    assert_eq!(describe(&restored), describe(&compilation));
    eprintln!(
        "{} files, {rules} rules, {} correlations: {} bytes",
        sources.len(),
        compilation.correlations.len(),
        bytes.len()
    );
}
