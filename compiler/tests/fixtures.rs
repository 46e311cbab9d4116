//! Glob-driven fixture tests: IR snapshots of valid rules, coded diagnostics of malformed ones.

mod common;

use std::path::Path;
use vigil_compiler::syntax::load_str;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn ir_snapshots_of_valid_fixtures() {
    insta::glob!("fixtures/ir/*.yml", |path| {
        let text = read(path);
        let described = common::describe_file(&text);
        assert!(!described.contains("error["), "{} should load without errors:\n{described}", path.display());
        insta::assert_snapshot!(described);
    });
}

#[test]
fn ir_snapshots_of_shipped_rules() {
    insta::glob!("../../rules", "*.yml", |path| {
        // `vigil test`'s files sit beside the rules (its config and the rules' event fixtures), and the log-source
        // table, which is data.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "vigil.yml" || name.ends_with(".tests.yml") || name == "logsources.yml" {
            return;
        }
        let text = read(path);
        let described = common::describe_file(&text);
        assert!(!described.contains("error["), "{} should load without errors:\n{described}", path.display());
        insta::assert_snapshot!(described);
    });
}

/// Each malformed fixture starts with `# expect: CODE line N`; the code must be reported at that line
/// (line 0: a diagnostic without a position). The whole diagnostic list is snapshotted as well.
#[test]
fn malformed_fixtures_get_their_code_and_line() {
    let mut count = 0;
    let mut mismatches = Vec::new();
    insta::glob!("fixtures/malformed/*.yml", |path| {
        count += 1;
        let text = read(path);
        let header = text.lines().next().unwrap_or_default();
        let expect =
            header.strip_prefix("# expect: ").unwrap_or_else(|| panic!("{}: no expect header", path.display()));
        let (code, line) = expect.split_once(" line ").unwrap_or_else(|| panic!("bad header {header}"));
        let line: u32 = line.parse().unwrap_or_else(|_| panic!("bad line in {header}"));
        let documents = load_str(&text);
        let found = documents.iter().flat_map(|d| &d.diagnostics).any(|d| {
            d.code.as_str() == code
                && d.pos.map_or(0, |p| p.line) == line
                && d.severity == vigil_compiler::Severity::Error
        });
        let described = common::describe_file(&text);
        if !found {
            mismatches.push(format!("{}: expected error {code} at line {line}, got:\n{described}", path.display()));
        }
        insta::assert_snapshot!(described);
    });
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(count >= 40, "the malformed set must keep at least 40 fixtures, found {count}");
}

/// A snapshot whose fixture was deleted or renamed would never be checked again: reject it.
#[test]
fn no_orphaned_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture_dirs = [
        root.join("tests/fixtures/ir"),
        root.join("tests/fixtures/malformed"),
        root.join("tests/fixtures/pipeline_cases"),
        root.join("tests/fixtures/malformed_pipelines"),
        root.join("../rules"),
    ];
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(root.join("tests/snapshots")).expect("snapshot dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(fixture) = name.split_once('@').map(|(_, f)| f.trim_end_matches(".snap")) else { continue };
        if !fixture_dirs.iter().any(|dir| dir.join(fixture).is_file()) {
            orphans.push(name);
        }
    }
    assert!(orphans.is_empty(), "snapshots without a fixture (delete them): {orphans:?}");
}
