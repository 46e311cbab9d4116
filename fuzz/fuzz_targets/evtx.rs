//! EVTX file bytes (and anything else) through the readers, decoding and matching of a small rule set.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vigil_runtime::RuleSet;

const SEED: &str = include_str!("../../rules/sysmon_wmi_module_load.yml");

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let file = vigil_compiler::compile::compile_source("seed.yml".into(), SEED.into(), &Default::default());
        RuleSet::build(
            file.documents.iter().filter_map(|d| d.rule()).map(|r| (String::new(), r.rule.clone())).collect(),
        )
        .0
    })
}

fuzz_target!(|data: &[u8]| {
    let rules = rules();
    let _ = vigil_runtime::read::read_reader_raw(data, &mut |position, raw| {
        if let Ok(record) = raw.into_record() {
            if let Ok(decoded) = rules.decode(&record, position) {
                let _ = rules.matches(&decoded);
            }
        }
    });
});
