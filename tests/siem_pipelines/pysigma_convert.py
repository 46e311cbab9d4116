"""Converts Sigma rule folders with pySigma and one of its pipelines, writing records in the layout of
../shared/oracle/conversions.jsonl.gz (gzip JSON lines), for pipelines the oracle does not hold.

Usage: python pysigma_convert.py TARGET PIPELINE SIGMA_ROOT OUTPUT.jsonl.gz FOLDER...

TARGET is `kusto`; PIPELINE one of pySigma-backend-kusto's (`azure_monitor`). Paths in the records are relative to
SIGMA_ROOT, as in the oracle. Each YAML document is converted on its own; a failure is recorded with its message.
"""
import gzip
import json
import pathlib
import sys

from sigma.backends.kusto import KustoBackend
from sigma.collection import SigmaCollection
from sigma.pipelines.azuremonitor import azure_monitor_pipeline

PIPELINES = {"azure_monitor": azure_monitor_pipeline}


def main():
    target, pipeline, root, output, *folders = sys.argv[1:]
    if target != "kusto" or pipeline not in PIPELINES:
        sys.exit(f"unsupported: {target} {pipeline}")
    root = pathlib.Path(root)
    count = 0
    with gzip.open(output, "wt", encoding="utf-8") as out:
        for folder in folders:
            for path in sorted(pathlib.Path(folder).rglob("*.yml")):
                relative = str(path.relative_to(root))
                try:
                    collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
                except Exception as error:  # a file pySigma cannot read: no record, as in the oracle
                    print(f"{relative}: {error}", file=sys.stderr)
                    continue
                for doc, rule in enumerate(collection.rules):
                    backend = KustoBackend(processing_pipeline=PIPELINES[pipeline]())
                    record = {"path": relative, "doc": doc, "id": str(rule.id) if rule.id else None,
                              "kind": "rule", "target": target, "pipeline": pipeline, "format": "default"}
                    try:
                        queries = backend.convert_rule(rule)
                        record.update(ok=True, queries=[str(q) for q in queries], error=None)
                    except Exception as error:
                        record.update(ok=False, queries=[], error=f"{type(error).__name__}: {error}")
                    out.write(json.dumps(record) + "\n")
                    count += 1
    print(json.dumps({"records": count}))


if __name__ == "__main__":
    main()
