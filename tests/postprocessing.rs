//! Pipelines' query postprocessing and finalizers against pySigma 2.0.1's: for each case of
//! `tests/postprocessing/cases/` (every postprocessing type: embed, simple_template, template, json, replace,
//! nest; every finalizer: concat, json, yaml, template, nested), `vigil convert -t splunk -p CASE` over the seed
//! rule and SigmaHQ's image-load rules must equal what pySigma's pipeline makes of the same queries
//! (`tests/postprocessing/compare.py`). The Python is `VIGIL_PYSIGMA` (a python3 with
//! `tests/postprocessing/requirements.txt`), else `python3`.

mod common;

use common::{stderr, vigil};
use std::path::PathBuf;
use std::process::Command;

#[test]
#[ignore = "needs ../shared, and a python3 with pySigma 2.0.1 (VIGIL_PYSIGMA, tests/postprocessing/requirements.txt)"]
fn postprocessing_and_finalizers_as_pysigma() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var("VIGIL_PYSIGMA").unwrap_or_else(|_| "python3".into());
    let rules = common::shared("sigma/rules/windows/image_load");
    let rules = rules.to_str().expect("utf-8");
    let seed = "rules/sysmon_wmi_module_load.yml";
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let raw = tmp.join("postprocessing-raw.jsonl");
    let converted = vigil(&["convert", "-t", "splunk", "--jsonl", "-o", raw.to_str().unwrap_or(""), seed, rules]);
    assert_eq!(converted.status.code(), Some(0), "{}", stderr(&converted));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join("tests/postprocessing/cases"))
        .expect("cases")
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "{cases:?}");
    let mut problems = Vec::new();
    for case in &cases {
        let name = case.file_stem().and_then(|s| s.to_str()).unwrap_or("case");
        let ours = tmp.join(format!("postprocessing-{name}.txt"));
        let case_path = case.to_str().expect("utf-8");
        let output =
            vigil(&["convert", "-t", "splunk", "-p", case_path, "-o", ours.to_str().unwrap_or(""), seed, rules]);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        let compared = Command::new(&python)
            .arg(root.join("tests/postprocessing/compare.py"))
            .args([case.as_os_str(), raw.as_os_str(), ours.as_os_str()])
            .output()
            .expect("python runs");
        assert!(compared.status.success(), "{name}: {}", String::from_utf8_lossy(&compared.stderr));
        let result: serde_json::Value = serde_json::from_slice(&compared.stdout).expect("JSON");
        let vigil_text = result["vigil"].as_str().unwrap_or_default();
        eprintln!(
            "{name}: {} ({} characters)",
            if result["same"] == true { "same" } else { "DIFFERENT" },
            vigil_text.len()
        );
        if result["same"] != true {
            problems.push(format!(
                "{name}: pySigma gives\n{}\nVigil gives\n{}",
                result["pysigma"].as_str().unwrap_or_default().chars().take(600).collect::<String>(),
                vigil_text.chars().take(600).collect::<String>()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A template that does not parse is refused when the pipeline loads, at its line.
#[test]
fn a_broken_template_is_refused_where_it_is() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("postprocessing-broken");
    std::fs::create_dir_all(&dir).expect("folder");
    let pipeline = dir.join("broken.yml");
    std::fs::write(&pipeline, "name: broken\npostprocessing:\n  - type: template\n    template: '{{ query '\n")
        .expect("write");
    let output = vigil(&[
        "convert",
        "-t",
        "splunk",
        "-p",
        pipeline.to_str().expect("utf-8"),
        "rules/sysmon_wmi_module_load.yml",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("template"), "{}", stderr(&output));
    assert!(stderr(&output).contains(":4:"), "{}", stderr(&output));
}
