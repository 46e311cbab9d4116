//! One JSON line through decode and match against the SigmaHQ Windows rules (`../shared`, built once), and the
//! reader: every rule that matches is one the index and prefilter let through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vigil_runtime::record::Record;
use vigil_runtime::RuleSet;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/sigma/rules/windows");
        let compilation = vigil_compiler::compile::Compilation::of_files(
            &[dir.into()],
            &vigil_compiler::compile::Settings::routing(),
        );
        let rules = compilation.rules().map(|r| (String::new(), r.rule.rule.clone())).collect();
        RuleSet::build(rules).0
    })
}

fuzz_target!(|data: &[u8]| {
    let rules = rules();
    let Ok(text) = std::str::from_utf8(data) else { return };
    let record = Record::line(text.to_string());
    if let Ok(decoded) = rules.decode(&record, 1) {
        let matched = rules.matches(&decoded);
        for index in 0..rules.rules.len() as u32 {
            if rules.rule_matches(index, &decoded.event) {
                assert!(matched.contains(&index), "rule {index} matches but was not a candidate: {text}");
            }
        }
    }
    let _ = vigil_runtime::read::read_reader_raw(data, &mut |_, raw| drop(raw.parse(1)));
});
