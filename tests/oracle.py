"""Reading pySigma's conversions (../shared/oracle/conversions.jsonl.gz, or one made by
tests/siem_pipelines/pysigma_convert.py) and `vigil convert --jsonl` output side by side, for the comparison scripts
(tests/pysigma/compare.py, tests/siem_pipelines/compare.py)."""
import gzip
import json
from collections import defaultdict


def pysigma_rules(oracle_path, target, pipeline):
    """pySigma's records of rules for `target` and `pipeline` (None: no pipeline), by (path under the SigmaHQ
    folder, document number)."""
    theirs = {}
    with gzip.open(oracle_path, "rt", encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            if entry["target"] == target and entry["pipeline"] == pipeline and entry["kind"] == "rule":
                theirs[(entry["path"], entry["doc"])] = entry
    return theirs


def vigil_documents(ours_path):
    """Vigil's JSON lines, by (path under the SigmaHQ folder, document number in the file)."""
    ours, docs = {}, defaultdict(int)
    with open(ours_path, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            path = entry["path"].split("/sigma/", 1)[-1]
            ours[(path, docs[path])] = entry
            docs[path] += 1
    return ours
