//! `vigil coverage`: the ATT&CK techniques rules cover, as counts and as a Navigator layer.

use crate::cli::{CoverageArgs, PipelineArgs};
use crate::{navigator, report, rule_files};
use std::collections::BTreeMap;

pub fn run(args: &CoverageArgs) -> u8 {
    let Some(settings) = report::settings(&PipelineArgs::default(), false) else { return 2 };
    let Some(compilation) = rule_files::compile_unlinked(&args.rules, &[], &settings) else { return 2 };
    let mut scores = BTreeMap::new();
    let mut rules = 0;
    for rule in compilation.rules() {
        rules += 1;
        navigator::add(&mut scores, &rule.rule.rule.meta.tags, 1);
    }
    if rules == 0 {
        report::general(&vigil_compiler::Diagnostic::error(vigil_compiler::Code::Usage, None, "no rule loaded"));
        return 1;
    }
    if let Some(path) = &args.navigator {
        let description = format!("ATT&CK techniques of {rules} Sigma rules, scored by rules");
        if let Err(code) = navigator::write(path, &navigator::layer("Vigil coverage", &description, &scores, "rules")) {
            return code;
        }
    }
    let mut text = String::new();
    for (technique, count) in &scores {
        text.push_str(&format!("{technique}\t{count}\n"));
    }
    if let Err(code) = crate::output::print(&text) {
        return code;
    }
    eprintln!("{rules} rules cover {} ATT&CK techniques", scores.len());
    0
}
