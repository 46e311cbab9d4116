"""Compares Vigil's conversions with pySigma 2.0.1's (../shared/oracle/conversions.jsonl.gz), per target.

Usage: python3 compare.py ORACLE.jsonl.gz TARGET PYSIGMA_PIPELINE VIGIL.jsonl [REPORT.tsv]

Vigil's output is `vigil convert --jsonl` over the same folders. Queries are compared up to whitespace and
grouping parentheses (outside string literals). Every rule is put in one class:
  same                     the same query
  pysigma-failed           pySigma gave no query, Vigil did (its error is the reason)
  vigil-failed             Vigil gave no query (Vigil's code), pySigma did
  both-failed
  differs:<reason>         both converted, differently; the reason is the first rule of REASONS[target] whose
                           test holds, or `unexplained`
Prints the counts as JSON on stdout; with REPORT, writes one line per rule that is not `same`.
"""
import json
import pathlib
import re
import sys
from collections import Counter

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from oracle import pysigma_rules, vigil_documents  # noqa: E402


def tokens(query, quotes="\"'"):
    """Tokens of a query, string literals whole, parentheses dropped outside them."""
    out, i, n = [], 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace() or c in "()":
            i += 1
        elif c == ",":
            out.append(",")
            i += 1
        elif c in quotes:
            j = i + 1
            while j < n and query[j] != c:
                j += 2 if query[j] == "\\" else 1
            out.append(query[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in "()," and query[j] not in quotes:
                j += 2 if query[j] == "\\" else 1
            out.append(query[i:j])
            i = j
    return out


def split_top(text, separator):
    """Splits on `separator` outside quotes, escapes and nested parentheses."""
    parts, depth, quote, i, start = [], 0, None, 0, 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return parts


def closing(text, start):
    """Index of the `)` closing the `(` at `start`, skipping quotes and escapes."""
    depth, quote, i = 0, None, start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text) - 1


# List forms, expanded into one test per value so that lists and OR chains compare equal:
# (regex for `FIELD <op> (`, separator inside the list, joiner, how one value is written with the field)
LISTS = {
    "lucene": (r"([^\s()]+):\($", " OR ", " OR ", lambda f, v: f"{f}:{v}"),
    "splunk": (r"([^\s()]+) IN \($", ", ", " OR ", lambda f, v: f"{f}={v}"),
    "kusto": (r"([^\s()]+) in~ \($", ", ", " or ", lambda f, v: f"{f} =~ {v}"),
    "eql": (r"([^\s()]+) like~ \($", ", ", " or ", lambda f, v: f"{f} like~ {v}"),
    "esql": (r"([^\s()]+) in \($", ", ", " or ", lambda f, v: f"{f}=={v}"),
}


def expand_lists(query, target):
    if target not in LISTS:
        return query
    head, separator, joiner, one = LISTS[target]
    out, i = "", 0
    while i < len(query):
        j = query.find("(", i)
        if j < 0:
            out += query[i:]
            break
        match = re.search(head, query[i:j + 1])
        if not match:
            out += query[i:j + 1]
            i = j + 1
            continue
        end = closing(query, j)
        field = match.group(1)
        values = split_top(query[j + 1:end], separator)
        out += query[i:i + match.start()] + "(" + joiner.join(one(field, v.strip()) for v in values) + ")"
        i = end + 1
    return out


LUCENE_SPECIAL = set('+-=&|><!(){}[]^"~*?:\\/ ')


def lucene_requote(match):
    """A quoted Lucene value as the same term written with escapes."""
    inner = re.sub(r"\\(.)", r"\1", match.group(1))
    return "".join("\\" + c if c in LUCENE_SPECIAL else c for c in inner)


def canonical(query, target):
    query = expand_lists(query, target)
    # `**` (a contains over a value ending in `*`) is `*`.
    query = re.sub(r"(?<!\\)\*\*+", "*", query)
    if target == "sqlite":
        query = query.replace(" ESCAPE '\\'", "")
        query = re.sub(r"`([^`]*)`", r'"\1"', query)
        # `x = 'v'` and `x LIKE 'v'` (no wildcard) mean the same in a NOCASE table; `COALESCE(.., 0)` is FALSE.
        query = re.sub(r"(\w+|\"[^\"]*\") ?= ?'((?:[^'%_]|'')*)'", r"\1 LIKE '\2'", query)
        query = query.replace(", 0)", ", FALSE)")
    if target != "lucene":
        # Spaces around comparison operators are style (outside string literals).
        strings = r"('(?:[^']|'')*')" if target == "sqlite" else r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
        parts = re.split(strings, query)
        for i in range(0, len(parts), 2):
            parts[i] = re.sub(r"\s*(==|!=|>=|<=|=~|=|>|<)\s*", r" \1 ", parts[i])
        query = "".join(parts)
    if target == "eql":
        query = re.sub(r"`([^`]*)`", r"\1", query)
        query = re.sub(r'([\w.@-]+):(".*?(?<!\\)")', r"\1 like~ \2", query)
        query = re.sub(r"([\w.@-]+):(-?\d+)", r"\1 == \2", query)
    if target == "splunk":
        query = re.sub(r'"([\w.-]+)" ?(=|IN)', r"\1 \2", query)
        query = re.sub(r'= "(true|false)"', r"= \1", query)
    if target in ("lucene",):
        query = re.sub(r'(?<=:)"((?:[^"\\]|\\.)*)"', lucene_requote, query)
    # Lucene has no single-quoted strings.
    return tokens(query, '"' if target == "lucene" else "\"'")


def atoms(query, target):
    """The tests of a query, without their arrangement: tokens other than the boolean operators, as a set."""
    return set(t for t in canonical(query, target) if t.lower() not in ("and", "or", "not"))


def has(pattern, text):
    return re.search(pattern, text) is not None


# (reason, test(ours, theirs)): the first that holds explains a difference. Each reason says whose choice it is.
REGEX_ANCHORED = ("pysigma-bug: Lucene regexes match the whole value and have no \\s, \\d, \\w or inline flags; pySigma "
                  "passes the RE2 pattern through unanchored and untranslated", lambda o, t: ":/" in t or "rlike" in t or " regex" in t)
CASELESS = ("pipeline: pySigma's ecs_windows maps fields to .caseless sub-fields; Vigil's ecs-windows keeps the ECS field "
            "(and ES|QL lowers it)", lambda o, t: ".caseless" in t and ".caseless" not in o)
REASONS = {
    "splunk": [
        ("pysigma-folds-wildcard-or-into-IN (style: both mean the same)", lambda o, t: " IN (" in t and " IN (" not in o),
        ("vigil-eval-where-for-regex-or-?-wildcard (pySigma widens `?` to `*` or fails nested regexes)", lambda o, t: "| where " in o),
        ("pysigma-widens-?-to-* (bug: a single-character wildcard becomes any run)", lambda o, t: "?" in o),
        ("vigil-cased-terms: CASE(\"x\") where pySigma drops case sensitivity", lambda o, t: "CASE(" in o),
    ],
    "kusto": [
        ("pysigma-bug: columns with `-` or `.` written as string literals ('name', even ''name''); KQL columns are ['name']",
         lambda o, t: "['" in o and has(r"(^|[ (])''?[\w.@-]+''? ", t)),
        ("style: booleans compared with == (pySigma: =~)", lambda o, t: has(r"== (true|false)", o)),
        ("deliberate: numbers compared as numbers (==), pySigma compares their text with in~",
         lambda o, t: has(r'in~ \("\d+"', t)),
        ("deliberate: keywords as `* contains` (a search of every column); pySigma writes bare strings, which are no KQL condition",
         lambda o, t: "* contains" in o),
        ("deliberate: inner wildcards as an anchored `matches regex` (exact); pySigma writes them another way",
         lambda o, t: "matches regex" in o),
        ("deliberate: CIDR with ipv4_is_in_range / ipv6_is_in_range by address family", lambda o, t: "_is_in_range" in o),
        ("null and exists as isnull() / isnotnull(); pySigma writes another form", lambda o, t: "isnull(" in o or "isnotnull(" in o),
        ("lists: Vigil writes in~ for exact values where pySigma writes =~ ORs, or the reverse", lambda o, t: " in~ (" in o or " in~ (" in t),
    ],
    "sqlite": [
        ("vigil-keyword-column (pySigma: no keyword support)", lambda o, t: "_raw" in o),
        ("style: NOT COALESCE(x, FALSE) for pySigma's NOT COALESCE(x, 0), same meaning", lambda o, t: "COALESCE(" in o and ", 0)" in t),
        ("deliberate: exact values with wildcard characters are LIKE patterns with escapes", lambda o, t: True),
    ],
    "lucene": [
        ("pipeline: pySigma's ecs_windows adds a winlog.channel condition for this log source, Vigil's ecs-windows does not",
         lambda o, t: "winlog.channel" in t and "winlog.channel" not in o),
        REGEX_ANCHORED,
        CASELESS,
        ("deliberate: Unicode whitespace is escaped (Lucene's parser ends terms at it); pySigma escapes ASCII space only",
         lambda o, t: any(c.isspace() and c != " " for c in o)),
    ],
    "esql": [
        ("deliberate: ES|QL compares case-insensitively with to_lower(field); pySigma compares as is", lambda o, t: "to_lower(" in o),
        ("deliberate: cidr_match needs an ip value: Vigil converts with to_ip(field)", lambda o, t: "to_ip(" in o),
        REGEX_ANCHORED,
        CASELESS,
    ],
    "eql": [
        ("pipeline: pySigma's ecs_windows adds a winlog.channel condition for this log source, Vigil's ecs-windows does not",
         lambda o, t: "winlog.channel" in t and "winlog.channel" not in o),
        ("deliberate: a literal * or ? is matched with regex~ (EQL reads them as wildcards)", lambda o, t: "regex~" in o),
        ("style: an empty value as == \"\" (pySigma) or :\"\" (Vigil)", lambda o, t: '==""' in t),
        ("pysigma-bug: a bare string is no EQL condition; Vigil searches keywords in `message`", lambda o, t: "message like~" in o),
        ("pysigma-bug: like~ on numbers (EQL's like~ takes strings); Vigil compares numbers with ==", lambda o, t: has(r"like~ \(\d", t)),
        ("style: pySigma writes optional fields (?field) for exists tests", lambda o, t: "?" in t and "null" in t),
        REGEX_ANCHORED,
        CASELESS,
    ],
}


def main():
    oracle_path, target, pipeline, ours_path = sys.argv[1:5]
    report_path = sys.argv[5] if len(sys.argv) > 5 else None
    pipeline = None if pipeline == "none" else pipeline
    theirs = pysigma_rules(oracle_path, target, pipeline)
    ours = vigil_documents(ours_path)
    counts, lines = Counter(), []
    for key, their in sorted(theirs.items()):
        our = ours.get(key)
        if our is None:
            continue
        their_query = (their.get("queries") or [None])[0] if their.get("ok") else None
        our_query = our["queries"][0] if our["error"] is None and our["queries"] else None
        if their_query is None and our_query is None:
            cls = "both-failed"
        elif their_query is None:
            cls = "pysigma-failed"
        elif our_query is None:
            cls = "vigil-failed:" + our["error"]["code"]
        elif canonical(our_query, target) == canonical(their_query, target):
            cls = "same"
        elif atoms(our_query, target) == atoms(their_query, target):
            cls = "differs:arrangement: the same tests, grouped differently (lists merged or split, OR chains as lists)"
        else:
            reason = next((r for r, test in REASONS.get(target, []) if test(our_query, their_query)), "ours to fix: not classified yet")
            cls = "differs:" + reason
        counts[cls] += 1
        if cls != "same":
            lines.append("\t".join([key[0], str(key[1]), cls, (their.get("error") or "")[:200].replace("\t", " ")]))
    if report_path:
        with open(report_path, "w", encoding="utf-8") as f:
            f.write("path\tdoc\tclass\tpysigma_error\n" + "\n".join(lines) + "\n")
    print(json.dumps({"target": target, "pipeline": pipeline, "compared": sum(counts.values()), "classes": counts}, sort_keys=True))


if __name__ == "__main__":
    main()
