//! The compiled rule-set cache of `vigil hunt` (src/rule_cache.rs): a second hunt over the same rules reads it and
//! finds exactly the same; any change to a rule, a filter, a pipeline or an option is compiled afresh (never a
//! stale result); a damaged entry is ignored and written again, and so is what the matcher derived, kept beside;
//! `--no-cache` leaves it alone; the folder stays bounded.

mod common;

use common::{stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXAMPLE: &str = "examples/wmi_module_load.jsonl";
const SEED: &str = "rules/sysmon_wmi_module_load.yml";
const FROM_CACHE: &str = "from the cache";

/// A fresh folder for one test: `rules/` with the seed rule, and `cache/` (empty).
fn setup(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rule_cache").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rules")).expect("tmp dir");
    let seed = std::fs::read_to_string(SEED).expect("the seed rule");
    std::fs::write(dir.join("rules/wmi.yml"), seed).expect("rule written");
    dir
}

/// `vigil hunt --format jsonl -r <dir>/rules <extra> EXAMPLE` with the cache in `<dir>/cache`.
fn hunt(dir: &Path, extra: &[&str]) -> Output {
    let rules = dir.join("rules");
    let mut args: Vec<&str> = vec!["hunt", "--format", "jsonl", "-r", rules.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    args.push(EXAMPLE);
    let output = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(&args)
        .env("VIGIL_CACHE_DIR", dir.join("cache"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("vigil runs");
    assert!(matches!(output.status.code(), Some(0 | 1)), "{args:?}: {}", stderr(&output));
    output
}

fn records(output: &Output) -> Vec<u64> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")["source"]["record"].as_u64().unwrap_or(0))
        .collect()
}

fn cached(output: &Output) -> bool {
    stderr(output).contains(FROM_CACHE)
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir.join("cache")) else { return Vec::new() };
    read.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "bin")).collect()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("readable");
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replace(from, to)).expect("written");
}

#[test]
fn a_second_hunt_reads_the_cache_and_finds_the_same() {
    let dir = setup("second");
    let first = hunt(&dir, &[]);
    assert!(!cached(&first), "{}", stderr(&first));
    assert_eq!(records(&first), vec![1, 2, 5]);
    assert_eq!(entries(&dir).len(), 1);
    let second = hunt(&dir, &[]);
    assert!(cached(&second), "{}", stderr(&second));
    assert_eq!(stdout(&second), stdout(&first));
}

#[test]
fn a_changed_rule_is_compiled_again() {
    let dir = setup("changed_rule");
    let rule = dir.join("rules/wmi.yml");
    assert_eq!(records(&hunt(&dir, &[])), vec![1, 2, 5]);
    // One value fewer: record 5 (WMINet_Utils.dll) no longer matches.
    edit(&rule, "            - '*WMINet_Utils.dll'\n", "");
    let changed = hunt(&dir, &[]);
    assert!(!cached(&changed), "{}", stderr(&changed));
    assert_eq!(records(&changed), vec![1, 2]);
    assert_eq!(records(&hunt(&dir, &[])), vec![1, 2]);
    // A change outside the detection (the title) reaches the output too.
    edit(&rule, "title: WMI Modules Loaded", "title: WMI Modules Loaded Again");
    let retitled = hunt(&dir, &[]);
    assert!(!cached(&retitled));
    assert!(stdout(&retitled).contains("WMI Modules Loaded Again"));
    // The same file under another name is another set of rules: its path is in the output.
    std::fs::rename(&rule, dir.join("rules/renamed.yml")).expect("renamed");
    let renamed = hunt(&dir, &[]);
    assert!(!cached(&renamed));
    assert!(stdout(&renamed).contains("renamed.yml"), "{}", stdout(&renamed));
    // A rule added beside it.
    std::fs::write(dir.join("rules/second.yml"), std::fs::read_to_string(SEED).expect("seed")).expect("written");
    let added = hunt(&dir, &[]);
    assert!(!cached(&added));
    assert_eq!(records(&added).len(), 2 + 3);
}

#[test]
fn changed_settings_are_another_entry() {
    let dir = setup("settings");
    assert_eq!(records(&hunt(&dir, &[])), vec![1, 2, 5]);
    // A pipeline that renames the field the rule reads: nothing matches.
    let pipeline = dir.join("rename.yml");
    std::fs::write(
        &pipeline,
        "name: rename\ntransformations:\n  - type: field_name_mapping\n    mapping:\n      ImageLoaded: Nowhere\n",
    )
    .expect("written");
    let with_pipeline = ["-p", pipeline.to_str().expect("utf-8")];
    let renamed = hunt(&dir, &with_pipeline);
    assert!(!cached(&renamed));
    assert_eq!(records(&renamed), Vec::<u64>::new());
    assert!(cached(&hunt(&dir, &with_pipeline)));
    // The pipeline file changed: compiled again.
    edit(&pipeline, "ImageLoaded: Nowhere", "ImageLoaded: ImageLoaded");
    let edited = hunt(&dir, &with_pipeline);
    assert!(!cached(&edited));
    assert_eq!(records(&edited), vec![1, 2, 5]);
    // Without routing: another entry.
    assert!(!cached(&hunt(&dir, &["--no-routing"])));
    // A --filter file: applied, and another entry.
    let filter = dir.join("filter.yml");
    std::fs::write(
        &filter,
        "title: Not updater\nlogsource: {product: windows, service: sysmon}\nfilter:\n    rules: [30fc055c-5bb3-4cff-9ac4-713632adc935]\n    selection:\n        Image|endswith: '\\updater.exe'\n    condition: not selection\n",
    )
    .expect("written");
    let filtered = hunt(&dir, &["--filter", filter.to_str().expect("utf-8")]);
    assert!(!cached(&filtered), "{}", stderr(&filtered));
    assert_eq!(records(&filtered), vec![1, 2]);
    edit(&filter, "updater.exe", "notepad.exe");
    let refiltered = hunt(&dir, &["--filter", filter.to_str().expect("utf-8")]);
    assert!(!cached(&refiltered));
    assert_eq!(records(&refiltered), vec![5]);
}

#[test]
fn a_damaged_entry_is_ignored_and_written_again() {
    let dir = setup("damaged");
    let first = hunt(&dir, &[]);
    let [entry] = entries(&dir).try_into().expect("one entry");
    let mut bytes = std::fs::read(&entry).expect("entry");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&entry, &bytes).expect("damaged");
    let damaged = hunt(&dir, &[]);
    assert!(!cached(&damaged), "{}", stderr(&damaged));
    assert_eq!(stdout(&damaged), stdout(&first));
    assert!(cached(&hunt(&dir, &[])), "the entry is written again");
    for cut in [0, 7, 40, 80, bytes.len() / 2] {
        std::fs::write(&entry, &bytes[..cut]).expect("cut");
        let cut_short = hunt(&dir, &[]);
        assert!(!cached(&cut_short));
        assert_eq!(stdout(&cut_short), stdout(&first));
    }
}

#[test]
#[cfg(target_os = "linux")]
fn an_entry_others_may_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let dir = setup("writable");
    let first = hunt(&dir, &[]);
    let [entry] = entries(&dir).try_into().expect("one entry");
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let second = hunt(&dir, &[]);
    assert!(!cached(&second), "{}", stderr(&second));
    assert_eq!(stdout(&second), stdout(&first));
    // Written again, by this user, for this user alone.
    assert!(cached(&hunt(&dir, &[])));
}

#[test]
fn what_the_matcher_derived_is_kept_beside_and_checked() {
    let dir = setup("derived");
    let first = hunt(&dir, &[]);
    let [entry] = entries(&dir).try_into().expect("one entry");
    let derived = entry.with_extension("derived");
    let kept = std::fs::read(&derived).expect("the witnesses and regex sizes are kept beside the compilation");
    let written = std::fs::metadata(&derived).and_then(|m| m.modified()).expect("mtime");
    // Used as it is: not written again.
    assert_eq!(stdout(&hunt(&dir, &[])), stdout(&first));
    assert_eq!(std::fs::metadata(&derived).and_then(|m| m.modified()).expect("mtime"), written);
    // Damaged: not used, the same detections, written again as it was.
    let mut damaged = kept.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    std::fs::write(&derived, &damaged).expect("damaged");
    let second = hunt(&dir, &[]);
    assert!(cached(&second));
    assert_eq!(stdout(&second), stdout(&first));
    assert_eq!(std::fs::read(&derived).expect("rewritten"), kept);
    // Gone: derived again.
    std::fs::remove_file(&derived).expect("removed");
    assert_eq!(stdout(&hunt(&dir, &[])), stdout(&first));
    assert!(derived.is_file());
}

#[test]
fn rule_problems_are_reported_from_the_cache_too() {
    let dir = setup("problems");
    std::fs::write(
        dir.join("rules/broken.yml"),
        "title: Broken\nlogsource: {product: windows}\ndetection:\n    selection:\n        Image|nosuchmodifier: x\n    condition: selection\n",
    )
    .expect("written");
    let first = hunt(&dir, &[]);
    let second = hunt(&dir, &[]);
    assert!(cached(&second));
    let problems = |o: &Output| stderr(o).lines().filter(|l| !l.contains("events from")).collect::<Vec<_>>().join("\n");
    assert!(problems(&first).contains("nosuchmodifier"), "{}", stderr(&first));
    assert_eq!(problems(&second), problems(&first));
    assert_eq!(stdout(&second), stdout(&first));
    assert_eq!(first.status.code(), second.status.code());
}

#[test]
fn no_cache_leaves_the_folder_alone() {
    let dir = setup("no_cache");
    let output = hunt(&dir, &["--no-cache"]);
    assert_eq!(records(&output), vec![1, 2, 5]);
    assert!(entries(&dir).is_empty());
    hunt(&dir, &[]);
    assert!(!cached(&hunt(&dir, &["--no-cache"])));
}

#[test]
fn the_folder_keeps_the_eight_most_recently_used() {
    let dir = setup("bounded");
    let rule = dir.join("rules/wmi.yml");
    for n in 0..10 {
        let text = std::fs::read_to_string(SEED).expect("seed").replace("WMI Modules Loaded", &format!("WMI {n}"));
        std::fs::write(&rule, text).expect("written");
        hunt(&dir, &[]);
    }
    assert_eq!(entries(&dir).len(), 8);
    // The newest is among them.
    assert!(cached(&hunt(&dir, &[])));
}
