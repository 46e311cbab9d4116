#!/usr/bin/env python3
"""Compares `vigil check --validators all --format json` with `sigma check --junitxml` (pySigma and
pySigma-validators-sigmahq) per rule file and check.

usage: compare.py PYSIGMA_JUNIT VIGIL_JSONL VIGIL_LIST_VALIDATORS REPORT_TSV

Both sides are counted as (rule file, Vigil code) pairs: pySigma's issue classes are mapped to Vigil's codes with
the catalog `vigil list validators` prints (and the few checks every `vigil check` runs anyway). Every pair where
the counts differ goes to the report with its class; the process exits 1 when a difference has no known class.
"""
import collections
import json
import os
import re
import sys
import xml.etree.ElementTree as ElementTree

# pySigma validators every `vigil check` runs as part of the language (no --validators needed).
ALWAYS = {
    "DanglingDetectionIssue": "unused-detection",
    "DanglingConditionIssue": "undefined-identifier",
    "Base64OffsetWithoutContainsModifierIssue": "base64offset-without-contains",
    "ModifierAppliedMultipleIssue": "duplicate-modifier",
    # Not a validator: a condition pySigma cannot parse (the legacy `| count()` aggregation, or no Sigma at all).
    "SigmaConditionError": "condition-error",
}

# Vigil's codes for what pySigma calls a condition error.
CONDITION_ERRORS = {"legacy-aggregation", "condition-syntax"}

# Differences that are understood, by Vigil code: why the two sides count differently.
KNOWN = {
    "tlp-tag": "pySigma runs three TLP validators (tlptag, tlpv1_tag, tlpv2_tag) that each report a label the "
    "other version lacks; Vigil has one check that accepts the labels of both versions",
    "duplicate-title": "pySigma reports one issue per group of rules, Vigil one per rule involved",
    "identifier-uniqueness": "pySigma reports one issue per group of rules, Vigil one per rule involved",
    "duplicate-filename": "pySigma reports one issue per group of rules, Vigil one per rule involved",
}


def classify(path, code, theirs, ours):
    """Why pySigma and Vigil count differently for this rule and check, or None."""
    text = open(path, encoding="utf-8", errors="replace").read()
    if code == "unused-detection" and theirs > ours and re.search(r"\n\s+timeframe:", text):
        return ("pySigma reads the legacy `timeframe` key inside `detection` as a detection of that name, never "
                "used by the condition; Vigil reports it as legacy-timeframe")
    if code == "wildcards-instead-of-modifiers" and theirs > ours:
        return ("Vigil reads values after their modifiers: an item with contains/startswith/endswith whose values "
                "also start or end with `*` is not judged (DESIGN.md, Validators)")
    return KNOWN.get(code)


def catalog(listing):
    """Issue class -> Vigil code, from `vigil list validators`."""
    mapping = dict(ALWAYS)
    for line in listing.splitlines():
        match = re.match(r"^(\S+)\s+\S+\s+pySigma: .*\((.*)\)\s*$", line)
        if match:
            for issue in match.group(2).split(", "):
                mapping[issue] = match.group(1)
    return mapping


def main():
    junit, ours_path, listing_path, report_path = sys.argv[1:5]
    mapping = catalog(open(listing_path, encoding="utf-8").read())
    codes = set(mapping.values())
    theirs = collections.Counter()
    unmapped = collections.Counter()
    for suite in ElementTree.parse(junit).getroot().iter("testsuite"):
        issue = suite.get("name")
        for case in suite.iter("testcase"):
            path = os.path.realpath(case.get("file"))
            if issue in mapping:
                theirs[(path, mapping[issue])] += 1
            else:
                unmapped[issue] += 1
    ours = collections.Counter()
    for line in open(ours_path, encoding="utf-8"):
        document = json.loads(line)
        path = os.path.realpath(document["path"])
        for diagnostic in document["diagnostics"]:
            code = "condition-error" if diagnostic["code"] in CONDITION_ERRORS else diagnostic["code"]
            if code in codes:
                ours[(path, code)] += 1
    keys = sorted(set(theirs) | set(ours))
    same = [k for k in keys if theirs[k] == ours[k]]
    differing = [k for k in keys if theirs[k] != ours[k]]
    unknown = 0
    with open(report_path, "w", encoding="utf-8") as report:
        report.write("path\tcode\tpysigma\tvigil\tclass\n")
        for path, code in differing:
            reason = classify(path, code, theirs[(path, code)], ours[(path, code)])
            if reason is None:
                unknown += 1
                reason = "UNCLASSIFIED"
            report.write(f"{path}\t{code}\t{theirs[(path, code)]}\t{ours[(path, code)]}\t{reason}\n")
    print(f"pySigma findings: {sum(theirs.values())}; Vigil findings: {sum(ours.values())}")
    print(f"(rule, check) pairs: {len(keys)}; same count: {len(same)}; different: {len(differing)} "
          f"({unknown} unclassified)")
    for issue, count in sorted(unmapped.items()):
        print(f"pySigma issue with no Vigil check: {issue} ({count})")
    by_code = collections.Counter(code for _, code in same)
    print("agreeing pairs by check: " + ", ".join(f"{c} {n}" for c, n in sorted(by_code.items())))
    sys.exit(1 if unknown or unmapped else 0)


if __name__ == "__main__":
    main()
