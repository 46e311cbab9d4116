"""Compares the tables and columns of Vigil's queries with pySigma's for a SIEM pipeline, rule by rule.

Usage: python3 compare.py ORACLE.jsonl.gz TARGET PYSIGMA_PIPELINE VIGIL.jsonl [REPORT.tsv [SCHEMA.json]]

ORACLE is ../shared/oracle/conversions.jsonl.gz (pySigma 2.0.1); VIGIL is `vigil convert --jsonl` over the same
folders with Vigil's pipeline. For each rule pySigma and Vigil both convert, the query's table (KQL: the first
line; Splunk: `source=`/`sourcetype=`/`index=` terms) and its columns (the names compared in the query) are
taken from both and compared. Prints JSON counts on stdout:
  converted_pysigma, converted_vigil, both    rules converted by each and by both
  same_table, same_table_and_columns          among `both`
  classes                                      every rule in one class (see `classify`)
With REPORT, writes one line per rule that is not the same table and columns, with both sides. With SCHEMA (the
tables' columns, tests/kusto/schema_*.json), a rule Vigil refuses for a field its table lacks while pySigma's query
names it is counted as refused_missing_column (pySigma's query would not run).
"""
import json
import pathlib
import re
import sys
from collections import Counter

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from oracle import pysigma_rules, vigil_documents  # noqa: E402

KQL_OPERATORS = {
    "==", "!=", "=~", "!~", "in", "in~", "!in", "!in~", "contains", "!contains", "contains_cs", "!contains_cs",
    "startswith", "!startswith", "startswith_cs", "endswith", "!endswith", "endswith_cs", "has", "!has",
    "has_cs", "matches", ">", "<", ">=", "<=", "between", "has_any", "has_all",
}
SPLUNK_OPERATORS = {"=", "!=", "IN", ">", "<", ">=", "<="}


def strip_strings(query):
    """The query with string literals replaced by a placeholder (their text holds no column)."""
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|@"[^"]*"', ' "S" ', query)


def kql_parts(query):
    """(table, set of columns) of a KQL query."""
    lines = query.split("\n")
    table = None
    body = query
    if len(lines) > 1 and lines[1].lstrip().startswith("|"):
        table = lines[0].strip()
        body = "\n".join(lines[1:])
    body = strip_strings(body)
    columns = set()
    # `*` is every column (Vigil's keyword search): no column of its own.
    tokens = re.findall(r"\[\s*'[^']*'\s*\]|[A-Za-z_][\w.]*|[=!<>~]+|\(|\)|,|\*", body)
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if nxt in KQL_OPERATORS or (nxt == "!" and i + 2 < len(tokens)):
            columns.add(token.strip("[]' "))
        if token in ("isnull", "isnotnull", "isempty", "isnotempty", "ipv4_is_in_range", "ipv6_is_in_range",
                     "tostring", "tolower") and i + 2 < len(tokens) and tokens[i + 1] == "(":
            columns.add(tokens[i + 2].strip("[]' "))
    columns -= {"where", "and", "or", "not", "regex", "S", "|", "true", "false", "*", "(", ")", ","}
    return table, columns


def splunk_parts(query):
    """(the source/sourcetype/index conditions, set of columns) of an SPL query."""
    sources = sorted(set(re.findall(r'\b((?:source|sourcetype|index)\s*=\s*"[^"]*")', query)))
    # Field names may be quoted (`"cs-uri-query"="x"`); regex tests name the field in `match(F, ...)` (Vigil's
    # `| where`) or `rex field=F` (pySigma's `| rex ... | eval FCondition=... | search FCondition="true"`).
    columns = set(re.findall(r'\b(?:match|tonumber|isnull|isnotnull|lower|like)\(\s*[\'"]?([\w.\-]+)[\'"]?\s*[,)]', query))
    columns |= set(re.findall(r'\brex field="?([\w.\-]+)"?', query))
    body = re.sub(r'"([\w.\-]+)"\s*(!=|=|\s+IN\s)', r"\1\2", query)
    body = re.sub(r"\|\s*(rex|eval)\b[^|]*", "", body)
    body = strip_strings(body)
    tokens = re.findall(r"[A-Za-z_][\w.\-]*|!=|>=|<=|=|>|<|\(|\)|,", body)
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if nxt in SPLUNK_OPERATORS and token not in ("AND", "OR", "NOT", "source", "sourcetype", "index"):
            if re.fullmatch(r"[A-Za-z_][\w.\-]*", token):
                columns.add(token)
    # pySigma's helper fields for regexes (`| rex ... (?<FMatch>...) | eval FCondition=...`) are no columns.
    columns = {c for c in columns if not re.fullmatch(r"\w+(Condition|Match)\d*", c)}
    return " ".join(sources) or None, columns


PARTS = {"kusto": kql_parts, "splunk": splunk_parts}


# Why tables or columns differ: (reason, test(ours, theirs)); the first that holds is the rule's class.
REASONS = [
    ("pysigma-bug: its `| rex ... | search` form for regexes drops the tests around them",
     lambda o, t: "| rex " in t and "| rex " not in o),
    ("deliberate: keywords search `_raw` (pySigma: bare terms)", lambda o, t: "_raw" in o),
    ("deliberate: field references compared as columns (pySigma: the name as a string)",
     lambda o, t: "| where" in o and "=" in o),
    ("deliberate: service microsoft-servicebus-client keeps its channel (pySigma 2 renamed the service)",
     lambda o, t: "ServiceBus" in o),
]


def classify(ours, theirs, our_parts, their_parts):
    (our_table, our_cols), (their_table, their_cols) = our_parts, their_parts
    if our_parts == their_parts:
        return "same table and columns"
    reason = next((r for r, test in REASONS if test(ours, theirs)), "ours to fix: not classified yet")
    if our_table != their_table:
        return f"table differs ({reason}): {their_table} (pySigma) / {our_table} (Vigil)"
    only_ours, only_theirs = sorted(our_cols - their_cols), sorted(their_cols - our_cols)
    return f"columns differ ({reason}): pySigma only {only_theirs}, Vigil only {only_ours}"


def lacks_column(our, their_query, schema):
    """Whether Vigil refused the rule for a field that is no column of its table in `schema` (tables -> columns),
    and pySigma's query, over that table, names the field anyway."""
    if not schema or not their_query:
        return False
    found = re.search(r"the (\w+) table has no such column \(field `([^`]+)`\)", our["error"].get("message", ""))
    if not found:
        return False
    table, field = found.groups()
    their_table, their_columns = kql_parts(their_query)
    return table == their_table and field not in schema.get(table, {}) and field in their_columns


def main():
    oracle_path, target, pipeline, ours_path = sys.argv[1:5]
    report_path = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
    schema = None
    if len(sys.argv) > 6:
        with open(sys.argv[6], encoding="utf-8") as f:
            schema = json.load(f)["tables"]
    parts = PARTS[target]
    theirs = pysigma_rules(oracle_path, target, pipeline)
    ours = vigil_documents(ours_path)
    counts, classes, lines = Counter(), Counter(), []
    for key, their in sorted(theirs.items()):
        our = ours.get(key)
        if our is None:
            continue
        counts["compared"] += 1
        their_query = (their.get("queries") or [None])[0] if their.get("ok") else None
        our_query = our["queries"][0] if our["error"] is None and our["queries"] else None
        counts["converted_pysigma"] += their_query is not None
        counts["converted_vigil"] += our_query is not None
        if their_query is None and our_query is None:
            cls = "both failed"
        elif their_query is None and their.get("ok"):
            cls = "pySigma gave an empty query (the pipeline dropped every condition), Vigil a query matching nothing"
        elif their_query is None:
            cls = "pySigma failed, Vigil converted: " + re.sub(r"\s+", " ", their.get("error") or "")[:70]
        elif our_query is None and lacks_column(our, their_query, schema):
            counts["refused_missing_column"] += 1
            cls = "Vigil refused a column the table does not have (schema), pySigma's query names it"
        elif our_query is None:
            message = re.sub(r" \(pipeline .*", "", our["error"].get("message", ""))[:90]
            cls = f"Vigil failed ({our['error']['code']}: {message}), pySigma converted"
        else:
            counts["both"] += 1
            our_parts, their_parts = parts(our_query), parts(their_query)
            counts["same_table"] += our_parts[0] == their_parts[0]
            counts["same_table_and_columns"] += our_parts == their_parts
            cls = classify(our_query, their_query, our_parts, their_parts)
        classes[re.sub(r": pySigma only.*|: \S+ \(pySigma\).*", "", cls)] += 1
        if cls != "same table and columns":
            lines.append("\t".join([key[0], str(key[1]), cls, (their.get("queries") or [""])[0][:300].replace("\n", " ").replace("\t", " "),
                                    ((our.get("queries") or [""]) or [""])[0][:300].replace("\n", " ").replace("\t", " ") if our_query else json.dumps(our.get("error"))[:300]]))
    if report_path:
        with open(report_path, "w", encoding="utf-8") as f:
            f.write("path\tdoc\tclass\tpysigma\tvigil\n" + "\n".join(lines) + "\n")
    print(json.dumps({"target": target, "pipeline": pipeline, **counts, "classes": classes}, sort_keys=True))


if __name__ == "__main__":
    main()
