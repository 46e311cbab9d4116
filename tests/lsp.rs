//! `vigil lsp` driven by a real LSP client (pygls's LanguageClient, tests/lsp/client.py) over stdio: initialize,
//! didOpen, publishDiagnostics, completion, hover, definition, formatting, code actions, didChange on a 2,000-line
//! rule with the diagnostics' latency, shutdown and exit.

mod common;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const RULE: &str = "\
title: Whoami Run By An Admin Tool.
id: 6d0f1a9e-2b4c-4d5e-8f60-718293a4b5c6
status: experimental
description: Whoami started by a shell, to try the language server.
author: Vigil tests
date: 2024-03-01
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswiht: '\\whoami.exe'
        CommandLine|contains|all:
            - '/all'
            - '/priv'
    filter_admin:
        ParentImage: 'C:\\Tools\\admin.exe'
    condition: selection and not filter_admin
falsepositives:
    - administrators
level: low
";

/// A valid rule of about 2,000 lines: one selection with a long list of values.
fn big_rule() -> String {
    let mut text = String::from(
        "title: Many Command Lines\nid: 6d0f1a9e-2b4c-4d5e-8f60-718293a4b5c7\nstatus: experimental\n\
         description: A long rule for the language server's latency.\nauthor: Vigil tests\ndate: 2024-03-01\n\
         logsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        \
         Image|endswith: '\\whoami.exe'\n        CommandLine|contains:\n",
    );
    for i in 0..1990 {
        text.push_str(&format!("            - 'whoami /option{i}'\n"));
    }
    text.push_str("    condition: selection\nlevel: low\n");
    text
}

fn labels_of(list: &Value) -> Vec<String> {
    list.as_array().expect("a list").iter().map(|l| l.as_str().unwrap_or_default().to_string()).collect()
}

#[test]
#[ignore = "needs python3 with pygls (tests/lsp/requirements.txt)"]
fn a_real_client_gets_diagnostics_completion_hover_definition_formatting_and_fixes() {
    let dir = common::tmp_in("lsp", "vigil.yml");
    let folder = dir.parent().expect("folder").to_path_buf();
    std::fs::write(&dir, "check:\n  validators: sigmahq\n").expect("vigil.yml");
    std::fs::write(folder.join("proc_creation_win_lsp_example.yml"), RULE).expect("rule");
    std::fs::write(folder.join("proc_creation_win_lsp_big.yml"), big_rule()).expect("big rule");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("python3")
        .arg(root.join("tests/lsp/client.py"))
        .arg(env!("CARGO_BIN_EXE_vigil"))
        .arg(&folder)
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let found: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    println!("{}", serde_json::to_string_pretty(&found).unwrap_or_default());

    let capabilities = &found["capabilities"];
    for capability in ["completion", "hover", "definition", "formatting", "code_action"] {
        assert_eq!(capabilities[capability], true, "{capability}");
    }
    assert_eq!(capabilities["server"], "vigil");

    // `Image|endswiht` is reported with its code, over the whole key.
    let diagnostics = found["diagnostics"].as_array().expect("diagnostics");
    let unknown = diagnostics.iter().find(|d| d["code"] == "unknown-modifier").expect("unknown-modifier");
    assert_eq!(
        (unknown["line"].as_u64(), unknown["start"].as_u64(), unknown["end"].as_u64()),
        (Some(11), Some(8), Some(22))
    );
    assert_eq!(unknown["severity"], 1, "an error");
    // Once mended, the conventions vigil.yml asks for are checked too.
    let mended = labels_of(&found["diagnostics_mended"]);
    assert!(mended.contains(&"sigmahq-title-end".to_string()), "{mended:?}");
    assert!(!mended.contains(&"unknown-modifier".to_string()), "{mended:?}");

    let labels = |key: &str| labels_of(&found[key]);
    let after_pipe = labels("completion_after_pipe");
    assert!(after_pipe.contains(&"endswith".to_string()), "{after_pipe:?}");
    assert!(!after_pipe.contains(&"i".to_string()), "regex flags only after re: {after_pipe:?}");
    let after_contains = labels("completion_after_contains");
    assert!(after_contains.contains(&"windash".to_string()) || after_contains.contains(&"cased".to_string()));
    assert!(!after_contains.contains(&"endswith".to_string()), "one of contains/startswith/endswith");
    let condition = labels("completion_in_condition");
    assert!(condition.contains(&"selection".to_string()) && condition.contains(&"filter_admin".to_string()));
    assert!(labels("completion_category").contains(&"process_creation".to_string()));
    assert!(labels("completion_fields").contains(&"ParentImage".to_string()));

    assert!(found["hover_modifier"].as_str().unwrap_or_default().contains("contains the value anywhere"));
    let identifier = found["hover_identifier"].as_str().unwrap_or_default();
    assert!(identifier.contains("selection") && identifier.contains("Image|endswiht"), "{identifier}");
    let mended = found["hover_identifier_mended"].as_str().unwrap_or_default();
    assert!(mended.contains("Image endswith '\\whoami.exe'"), "the detection's IR: {mended}");
    assert!(found["hover_field"].as_str().unwrap_or_default().contains("command line"));
    assert_eq!(found["definition"], serde_json::json!({"line": 15, "character": 4}));

    let formatted = found["formatting"].as_array().expect("formatting");
    assert!(formatted.is_empty(), "the rule is already laid out: {formatted:?}");
    let actions = found["code_actions"].as_array().expect("code actions");
    assert_eq!(actions.len(), 1, "{actions:?}");
    let fixed = actions[0]["edits"][0][2].as_str().unwrap_or_default();
    assert!(fixed.starts_with("title: Whoami Run By An Admin Tool\nid:"), "removes the title's dot: {fixed}");
    assert_eq!(fixed.lines().count(), RULE.lines().count());

    assert!(found["big_lines"].as_u64().unwrap_or_default() >= 2000);
    let median = found["latency_ms"]["median"].as_f64().expect("latency");
    println!("diagnostics latency on a 2,000-line rule: median {median:.1} ms, max {}", found["latency_ms"]["max"]);
    assert!(median < 100.0, "diagnostics within 100 ms of a change: {median} ms");
}
