//! A rule file's text through load, check, the routing pipelines, lowering, and conversion to every target.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_compiler::backend::{self, ConvertOptions, Target};
use vigil_compiler::compile::{compile_source, Settings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for settings in [Settings::default(), Settings::routing()] {
        let file = compile_source("fuzz.yml".into(), text.to_string(), &settings);
        for document in &file.documents {
            for d in &document.diagnostics {
                let _ = vigil_compiler::render(d, &file.path, &file.text);
            }
            let Some(lowered) = document.rule() else { continue };
            let _ = lowered.rule.to_string();
            for target in Target::ALL {
                let _ = backend::convert(&lowered.rule, target, "default", &lowered.state, &ConvertOptions::default());
            }
        }
    }
});
