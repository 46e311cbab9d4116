"""Checks Lucene and EQL queries with their languages' own parsers: `python3 check.py TARGET QUERIES.jsonl`.

TARGET is `lucene` (parsed by luqum, the Lucene query-string parser Elasticsearch users script with) or `eql`
(parsed by Elastic's `eql` package in its Elasticsearch syntax, functions Elasticsearch has but the package does not
know allowed). QUERIES.jsonl is `vigil convert --jsonl` output. Prints JSON: {"checked", "failed", "examples"}.
"""
import json
import sys


def lucene_parser():
    from luqum.parser import parser

    return lambda query: parser.parse(query)


def eql_parser():
    import eql

    def parse(query):
        with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
            eql.parse_query(query)

    return parse


def main():
    target, path = sys.argv[1:3]
    parse = {"lucene": lucene_parser, "eql": eql_parser}[target]()
    result = {"checked": 0, "failed": 0, "examples": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            for query in entry.get("queries") or []:
                result["checked"] += 1
                try:
                    parse(query)
                except Exception as error:  # each parser has its own error types; any is a failure here
                    result["failed"] += 1
                    if len(result["examples"]) < 20:
                        result["examples"].append(
                            {"path": entry.get("path"), "query": query[:300], "error": str(error)[:300]}
                        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
