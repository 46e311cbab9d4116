//! README.md's shell lines run as pasted: each `sh` block is taken from the README and run by `sh` (POSIX: no bash
//! extensions) in a folder of its own, with the `vigil` under test first on `PATH` and the bundled `rules/` and
//! `examples/` beside it, as they are in a checkout.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The ```sh blocks of README.md.
fn shell_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The block whose first line starts with `first`.
fn block(first: &str) -> String {
    shell_blocks()
        .into_iter()
        .find(|b| b.starts_with(first))
        .unwrap_or_else(|| panic!("README.md has no sh block starting with `{first}`"))
}

/// A fresh folder with links to the checkout's `rules/` and `examples/` (and `extra` links: name, target).
fn folder(name: &str, extra: &[(&str, PathBuf)]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("readme").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let links = [("rules", root.join("rules")), ("examples", root.join("examples"))];
    for (link, target) in links.iter().chain(extra) {
        std::os::unix::fs::symlink(target, dir.join(link)).expect("link");
    }
    dir
}

/// Runs `script` with `sh` in `dir`, the `vigil` under test first on `PATH`.
fn run(script: &str, dir: &Path) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_vigil")).parent().expect("bin folder");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("sh runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every line ran: `set -e` stops at the first that fails, and says which (`-x` echoes each).
fn runs_through(script: &str, dir: &Path) -> Output {
    let output = run(&format!("set -ex\n{script}"), dir);
    assert!(output.status.success(), "a README line failed:\n{}", text(&output.stderr));
    output
}

#[test]
fn no_line_depends_on_an_alias_or_gnu_sed() {
    for block in shell_blocks() {
        assert!(!block.contains("alias "), "an alias does not work in scripts and breaks after cd:\n{block}");
        assert!(!block.contains("sed -i"), "`sed -i` differs between GNU and BSD:\n{block}");
    }
}

#[test]
fn the_quick_start_runs_as_pasted() {
    let dir = folder("quick_start", &[]);
    let output = runs_through(&block("export PATH="), &dir);
    let out = text(&output.stdout);
    assert!(out.contains("WMI Modules Loaded"), "{out}");
    for written in ["timeline.jsonl", "report.html", "summary.json", "layer.json", "coverage.json", "detections.csv"] {
        assert!(dir.join(written).is_file(), "{written} was not written");
    }
    let timeline = std::fs::read_to_string(dir.join("timeline.jsonl")).expect("timeline");
    assert_eq!(timeline.lines().count(), 3, "{timeline}");
}

#[test]
fn the_filter_example_leaves_the_updater_out() {
    let dir = folder("filter", &[]);
    let output = runs_through(&block("cat > my_exclusions.yml"), &dir);
    let out = text(&output.stdout);
    assert!(out.contains("notepad.exe") && !out.contains("updater.exe"), "{out}");
}

#[test]
fn the_rule_authors_round_trip_runs_as_pasted() {
    let dir = folder("round_trip", &[]);
    // Some lines fail on purpose (a new or changed snapshot): no `set -e`; what each did is checked after.
    let output = run(&block("mkdir detections"), &dir);
    let (out, err) = (text(&output.stdout), text(&output.stderr));
    for missing in ["not found", "No such file", "illegal option", "unknown option", "invalid option"] {
        assert!(!err.contains(missing), "{missing}:\n{err}");
    }
    let snapshots = dir.join("detections/__snapshots__");
    for snap in ["whoami__splunk.snap", "whoami__sqlite.snap"] {
        assert!(snapshots.join(snap).is_file(), "{snap} was not written: {out}{err}");
    }
    let rule = std::fs::read_to_string(dir.join("detections/whoami.yml")).expect("rule");
    assert!(rule.contains("CommandLine|contains: '/all'"), "the rule was edited");
    assert!(format!("{out}{err}").contains("/all"), "the diff of the changed query is shown:\n{out}{err}");
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn the_corpus_lines_run_as_pasted_with_the_corpus_in_place_of_the_clone() {
    let dir = folder("corpus", &[("sigma", common::shared("sigma"))]);
    let script: String =
        block("git clone").lines().filter(|l| !l.starts_with("git clone")).map(|l| l.to_string() + "\n").collect();
    runs_through(&script, &dir);
    assert!(dir.join("detections.jsonl").is_file() && dir.join("corpus.html").is_file());
}
