//! A pipeline file applied to the seed rule (and checked as a pipeline among rules).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_compiler::compile::{compile_source, Settings};
use vigil_compiler::pipeline::PipelineOptions;

const SEED: &str = include_str!("../../rules/sysmon_wmi_module_load.yml");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let dir = std::env::temp_dir().join(format!("vigil-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("pipeline.yml");
    if std::fs::write(&path, text).is_err() {
        return;
    }
    let spec = path.display().to_string();
    if let Ok(settings) = Settings::resolve(&[spec], false, PipelineOptions::default()) {
        let _ = compile_source("seed.yml".into(), SEED.to_string(), &settings);
    }
    let _ = compile_source("pipeline.yml".into(), text.to_string(), &Settings::default());
});
