//! `vigil fmt`: SigmaHQ's layout written, checked (`--check`) and shown (`--diff`); a second run changes nothing,
//! and neither `vigil ir` nor any comment changes, here and over 300 SigmaHQ rules.

mod common;

use common::{stderr, stdout, vigil};
use std::path::{Path, PathBuf};

const UNORDERED: &str = "\
level: high
# what it looks for
detection:
  selection:
    # the process
    Image|endswith: '\\cmd.exe'

    CommandLine|contains:
    - whoami   # the user
  condition: selection
logsource:
  category: process_creation
  product: windows
title: Whoami Run From Cmd
";

fn folder(name: &str) -> PathBuf {
    let dir = common::tmp_in(&format!("fmt-{name}"), "x").parent().expect("folder").to_path_buf();
    for entry in std::fs::read_dir(&dir).expect("folder").flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    dir
}

fn comment_lines(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("folder")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default().lines().filter(|l| l.contains('#')).count())
        .sum()
}

#[test]
fn check_diff_then_write_then_nothing_left() {
    let dir = folder("basic");
    let rule = dir.join("proc_creation_win_whoami.yml");
    std::fs::write(&rule, UNORDERED).expect("write");
    let path = rule.to_str().expect("utf-8");

    let check = vigil(&["fmt", "--check", path]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert_eq!(stdout(&check).trim(), path);
    let diff = vigil(&["fmt", "--diff", path]);
    assert_eq!(diff.status.code(), Some(1));
    assert!(stdout(&diff).contains("+title: Whoami Run From Cmd"), "{}", stdout(&diff));
    assert_eq!(std::fs::read_to_string(&rule).expect("read"), UNORDERED, "--check and --diff write nothing");

    let ir_before = stdout(&vigil(&["ir", path]));
    let written = vigil(&["fmt", path]);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    let formatted = std::fs::read_to_string(&rule).expect("read");
    assert_eq!(
        formatted,
        "\
title: Whoami Run From Cmd
logsource:
    category: process_creation
    product: windows
# what it looks for
detection:
    selection:
        # the process
        Image|endswith: '\\cmd.exe'

        CommandLine|contains:
            - whoami   # the user
    condition: selection
level: high
"
    );
    assert_eq!(stdout(&vigil(&["ir", path])), ir_before);
    assert_eq!(vigil(&["fmt", "--check", path]).status.code(), Some(0));
    let again = vigil(&["fmt", path]);
    assert!(stderr(&again).contains("0 reformatted"), "{}", stderr(&again));
}

#[test]
fn documents_it_cannot_lay_out_are_left_with_a_warning_and_missing_files_fail() {
    let dir = folder("skipped");
    let rule = dir.join("flow_rule.yml");
    std::fs::write(&rule, "{title: Flow, logsource: {product: windows}, detection: {s: {a: 1}, condition: s}}\n")
        .expect("write");
    let output = vigil(&["fmt", rule.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("warning[format-skipped]: document 1 left as written: not a block mapping"));
    let missing = vigil(&["fmt", "no/such/rules"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("file-unreadable"), "{}", stderr(&missing));
    assert_eq!(vigil(&["fmt", "--check", "--diff", "rules"]).status.code(), Some(2), "conflicting options");
}

#[test]
fn the_bundled_rules_are_in_sigmahq_layout() {
    let output = vigil(&["fmt", "--check", "rules"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn three_hundred_sigmahq_rules_format_once_and_for_all() {
    let mut all = Vec::new();
    for entry in walk(&common::shared("sigma/rules")) {
        all.push(entry);
    }
    all.sort();
    let dir = folder("corpus");
    // Every 10th rule of the corpus, 300 of them: all kinds of log sources and layouts.
    for (i, path) in all.iter().step_by(10).take(300).enumerate() {
        let name = format!("{i:03}_{}", path.file_name().expect("name").to_string_lossy());
        std::fs::copy(path, dir.join(name)).expect("copy");
    }
    let folder_arg = dir.to_str().expect("utf-8");
    let (ir_before, comments_before) = (stdout(&vigil(&["ir", folder_arg])), comment_lines(&dir));
    let first = vigil(&["fmt", folder_arg]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stderr(&first).starts_with("300 files: "), "{}", stderr(&first));
    assert!(stderr(&first).contains("0 documents left as written"), "{}", stderr(&first));
    let check = vigil(&["fmt", "--check", folder_arg]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let second = vigil(&["fmt", folder_arg]);
    assert!(stderr(&second).contains(": 0 reformatted"), "{}", stderr(&second));
    assert_eq!(stdout(&vigil(&["ir", folder_arg])), ir_before, "the IR changed");
    assert_eq!(comment_lines(&dir), comments_before, "a comment was lost");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "yml") {
            out.push(path);
        }
    }
    out
}
