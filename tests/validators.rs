//! `vigil check --validators`: SigmaHQ's and pySigma's conventions as coded warnings, their options (`--exclude`,
//! `--strict`, `--format junit`, vigil.yml's `check:`), and the comparison with pySigma's own validators
//! (`sigma check` of sigma-cli with pySigma-validators-sigmahq) over the SigmaHQ corpus and the rules of
//! tests/validators/rules, each written to break conventions.

mod common;

use common::{stderr, stdout, vigil};
use quick_xml::events::Event;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const FIXTURES: &str = "tests/validators/rules";
const TITLES: &str = "tests/validators/rules/proc_creation_win_title_conventions.yml";

/// The codes of `vigil check --format json` for `args`, in output order.
fn codes(args: &[&str]) -> Vec<String> {
    let output = vigil(&[&["check", "--format", "json"], args].concat());
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .flat_map(|line| {
            let document: Value = serde_json::from_str(line).expect("a JSON line");
            document["diagnostics"]
                .as_array()
                .expect("diagnostics")
                .iter()
                .map(|d| d["code"].as_str().expect("code").to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_title_ending_in_a_dot_and_a_field_with_a_space_are_coded_warnings() {
    let output = vigil(&["check", "--validators", "sigmahq", TITLES]);
    assert_eq!(output.status.code(), Some(0), "warnings only: {}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains(":1:8: warning[sigmahq-title-end]: the title ends with a dot"), "{text}");
    assert!(text.contains(":31:9: warning[sigmahq-space-field-name]: field `Parent Image` has a space"), "{text}");
    // pySigma's core conventions are another set.
    assert!(!text.contains("[duplicate-tag]"), "{text}");
    assert!(codes(&["--validators", "pysigma", TITLES]).contains(&"duplicate-tag".to_string()));
}

#[test]
fn without_validators_only_the_language_is_checked() {
    let found = codes(&[TITLES]);
    assert_eq!(found, vec!["invalid-tag"], "the one language warning of the file");
}

#[test]
fn excluded_codes_and_validator_names_are_not_reported() {
    let all = codes(&["--validators", "all", FIXTURES]);
    assert!(all.contains(&"windash-with-all".to_string()) && all.contains(&"sigmahq-title-end".to_string()));
    let fewer = codes(&[
        "--validators",
        "all",
        "--exclude",
        "sigmahq-title-end",
        "--exclude",
        "invalid_modifier_combinations",
        FIXTURES,
    ]);
    for gone in ["sigmahq-title-end", "windash-with-all", "all-without-contains"] {
        assert!(!fewer.contains(&gone.to_string()), "{gone} still reported");
    }
    assert_eq!(all.len() - fewer.len(), 3);
    let bad = vigil(&["check", "--validators", "all", "--exclude", "no-such-code", FIXTURES]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("`no-such-code` is not a validator code"), "{}", stderr(&bad));
    let bad = vigil(&["check", "--validators", "sigmahq,everything", FIXTURES]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown validator set `everything`"), "{}", stderr(&bad));
}

#[test]
fn strict_makes_warnings_fail() {
    assert_eq!(vigil(&["check", "--validators", "sigmahq", TITLES]).status.code(), Some(0));
    assert_eq!(vigil(&["check", "--validators", "sigmahq", "--strict", TITLES]).status.code(), Some(1));
}

#[test]
fn vigil_yml_sets_the_default_validators_and_excuses_rules() {
    let dir = common::tmp_in("validators-config", "vigil.yml");
    let folder = dir.parent().expect("folder").to_path_buf();
    let rule = folder.join("proc_creation_win_title_conventions.yml");
    std::fs::copy(TITLES, &rule).expect("copy");
    let write = |text: &str| std::fs::write(&dir, text).expect("vigil.yml");
    let path = rule.to_str().expect("utf-8");

    write("check:\n  validators: sigmahq\n");
    let found = codes(&[path]);
    assert!(found.contains(&"sigmahq-title-end".to_string()), "{found:?}");
    assert!(!found.contains(&"duplicate-tag".to_string()), "{found:?}");
    assert!(codes(&["--validators", "none", path]).iter().all(|c| c == "invalid-tag"));

    write(
        "check:\n  validators: [sigmahq, pysigma]\n  exclude: [sigmahq-title-case]\n  exclusions:\n    \
         0b0e3a4c-7d2e-4c55-9a63-1f6a2b7c8d01: [sigmahq-title-end]\n    \
         proc_creation_win_title_conventions.yml: [duplicate_tag]\n",
    );
    let found = codes(&[path]);
    for gone in ["sigmahq-title-case", "sigmahq-title-end", "duplicate-tag"] {
        assert!(!found.contains(&gone.to_string()), "{gone}: {found:?}");
    }
    assert!(found.contains(&"sigmahq-title-start".to_string()), "{found:?}");

    write("check:\n  validators: everything\n");
    let output = vigil(&["check", path]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid-config"), "{}", stderr(&output));
}

#[test]
fn junit_output_is_a_test_case_per_document() {
    let output = vigil(&["check", "--validators", "all", "--strict", "--format", "junit", FIXTURES]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let xml = stdout(&output);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut declared) = (0, 0, None);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testcase" => cases += 1,
                b"failure" => failures += 1,
                b"testsuite" => {
                    let attribute = e.try_get_attribute("failures").expect("attribute").expect("failures");
                    declared = Some(String::from_utf8_lossy(&attribute.value).parse::<usize>().expect("number"));
                }
                _ => {}
            },
            _ => {}
        }
    }
    let files =
        std::fs::read_dir(FIXTURES).expect("fixtures").filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file())).count();
    assert_eq!(cases, files + 1, "one case per document (one in a subfolder)");
    assert_eq!(Some(failures), declared);
    assert!(failures >= files, "every fixture breaks a convention under --strict");
}

#[test]
fn safe_fixes_are_shown_then_made_without_changing_what_rules_match() {
    let dir = common::tmp_in("validators-fix", "x").parent().expect("folder").to_path_buf();
    let rule = dir.join("proc_creation_win_title_conventions.yml");
    std::fs::copy(TITLES, &rule).expect("copy");
    let path = rule.to_str().expect("utf-8");
    let ir = |p: &str| stdout(&vigil(&["ir", p])).replace("title: Detects suspicious whoami execution via cmd.", "");

    let diff = vigil(&["check", "--validators", "all", "--diff", path]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let shown = stdout(&diff);
    for line in [
        "+title: Detects suspicious whoami execution via cmd\n",
        "+    - attack.discovery\n",
        "+    - None\n",
        "+        Parent Image|endswith: '\\cmd.exe'\n",
    ] {
        assert!(shown.contains(line), "{line}: {shown}");
    }
    assert_eq!(std::fs::read_to_string(&rule).expect("read"), std::fs::read_to_string(TITLES).expect("read"));

    let before = ir(path);
    let fixed = vigil(&["check", "--validators", "all", "--fix", "--format", "json", path]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert!(stderr(&fixed).contains("sigmahq-title-end"), "{}", stderr(&fixed));
    let left: Vec<String> = codes(&["--validators", "all", path]);
    for gone in ["sigmahq-title-end", "sigmahq-falsepositives-capital", "tag-format", "wildcards-instead-of-modifiers"]
    {
        assert!(!left.contains(&gone.to_string()), "{gone} left: {left:?}");
    }
    assert_eq!(ir(path).replace("title: Detects suspicious whoami execution via cmd", ""), before, "the rule changed");
    let again = vigil(&["check", "--validators", "all", "--diff", path]);
    assert_eq!(again.status.code(), Some(0), "nothing left to fix: {}", stdout(&again));
}

#[test]
fn every_convention_is_listed_with_pysigmas_name() {
    let output = vigil(&["list", "validators"]);
    let text = stdout(&output);
    assert!(text.contains("sigmahq-title-end"), "{text}");
    assert!(text.contains("pySigma: sigmahq_title_end (SigmahqTitleEndIssue)"), "{text}");
    assert!(text.lines().count() >= 60, "{text}");
}

/// pySigma validators that need data downloaded at run time (ATT&CK, D3FEND, SigmaHQ's taxonomy and file-name
/// prefixes): left out of both sides of the comparison, as this machine and CI have no network.
const NEEDS_DOWNLOADS: &[&str] = &[
    "attacktag",
    "d3_fendtag",
    "sigmahq_category_event_id",
    "sigmahq_category_windows_provider_name",
    "sigmahq_fieldname_cast",
    "sigmahq_invalid_fieldname",
    "sigmahq_redundant_field",
    "sigmahq_filename_prefix",
    "sigmahq_logsource_unknown",
    "sigmahq_tags_techniques_without_tactics",
];

/// `sigma check` of sigma-cli: `VIGIL_SIGMA_CLI`, else `sigma` on the PATH.
fn sigma_cli() -> PathBuf {
    std::env::var_os("VIGIL_SIGMA_CLI").map_or_else(|| PathBuf::from("sigma"), PathBuf::from)
}

#[test]
#[ignore = "needs ../shared beside the repository, python3, and sigma-cli with pySigma-validators-sigmahq"]
fn conventions_compared_with_pysigma_validators() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sigma = common::shared("sigma");
    let mut inputs: Vec<String> = [
        "rules",
        "rules-emerging-threats",
        "rules-threat-hunting",
        "rules-compliance",
        "rules-placeholder",
        "rules-dfir",
        "deprecated",
        "unsupported",
    ]
    .iter()
    .map(|f| sigma.join(f))
    .filter(|p| p.exists())
    .map(|p| p.display().to_string())
    .collect();
    inputs.push(root.join(FIXTURES).display().to_string());
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let (junit, ours, listing, report) = (
        tmp.join("validators-pysigma.xml"),
        tmp.join("validators-vigil.jsonl"),
        tmp.join("validators-list.txt"),
        tmp.join("validators-report.tsv"),
    );

    let excluded: Vec<&str> = NEEDS_DOWNLOADS.iter().flat_map(|v| ["--exclude", v]).collect();
    let theirs = Command::new(sigma_cli())
        .args(["check", "--pass-on-error"])
        .args(&excluded)
        .arg("--junitxml")
        .arg(&junit)
        .args(&inputs)
        .output()
        .expect("sigma-cli runs (set VIGIL_SIGMA_CLI or put `sigma` on the PATH)");
    assert!(junit.exists(), "sigma check wrote no report: {}", String::from_utf8_lossy(&theirs.stderr));

    // Vigil's ATT&CK check reads no downloaded data, but pySigma's did not run: it is left out on both sides.
    let mut args = vec!["check", "--validators", "all", "--format", "json", "--exclude", "attack-tag"];
    args.extend(inputs.iter().map(String::as_str));
    let output = vigil(&args);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    std::fs::write(&ours, &output.stdout).expect("write");
    std::fs::write(&listing, vigil(&["list", "validators"]).stdout).expect("write");

    let compared = Command::new("python3")
        .arg(root.join("tests/validators/compare.py"))
        .args([&junit, &ours, &listing, &report])
        .output()
        .expect("python3 runs");
    let summary = String::from_utf8_lossy(&compared.stdout);
    println!("{summary}");
    assert!(
        compared.status.success(),
        "differences without a class (report: {}):\n{summary}{}",
        report.display(),
        String::from_utf8_lossy(&compared.stderr)
    );
    // A floor against regressions: the pairs both sides agree on.
    let agreeing: usize = summary
        .lines()
        .find_map(|l| l.split("same count: ").nth(1))
        .and_then(|rest| rest.split(';').next())
        .and_then(|n| n.trim().parse().ok())
        .expect("a summary line");
    assert!(agreeing >= 150, "{summary}");
}
