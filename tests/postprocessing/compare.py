"""Runs a pipeline's postprocessing and finalizers with pySigma 2.0.1 on Vigil's raw queries and compares.

Usage: python3 compare.py CASE.yml RAW.jsonl OURS.txt

RAW.jsonl is `vigil convert --jsonl` without the case pipeline (whose transformations only set state, so the
queries are the same); OURS.txt is Vigil's output with it. For each rule of RAW, pySigma applies the case pipeline
to the rule (state, applied items), post-processes Vigil's query, then finalizes the list. Prints JSON:
{"same": bool, "pysigma": text, "vigil": text}; YAML output is compared as data (layouts differ between
emitters), everything else as text.
"""
import json
import sys

import yaml
from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingPipeline


def main():
    case_path, raw_path, ours_path = sys.argv[1:4]
    case = open(case_path, encoding="utf-8").read()
    queries, last = [], None
    for line in open(raw_path, encoding="utf-8"):
        entry = json.loads(line)
        if entry["error"] is not None:
            continue
        rule = SigmaCollection.from_yaml(open(entry["path"], encoding="utf-8").read()).rules[0]
        pipeline = ProcessingPipeline.from_yaml(case)
        pipeline.apply(rule)
        for query in entry["queries"]:
            queries.append(pipeline.postprocess_query(rule, query))
        last = pipeline
    if last is not None and last.finalizers:
        theirs = last.finalize(queries)
    else:
        theirs = "\n".join(queries)
    ours = open(ours_path, encoding="utf-8").read()
    if ours.endswith("\n"):
        ours = ours[:-1]
    if "yaml" in case_path:
        same = yaml.safe_load(ours) == yaml.safe_load(theirs)
    else:
        same = ours == theirs
    print(json.dumps({"same": same, "pysigma": theirs, "vigil": ours}))


if __name__ == "__main__":
    main()
