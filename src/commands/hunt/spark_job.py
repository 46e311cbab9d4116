"""Vigil's Spark job: every rule of a rule set over every event, the events read and parsed once.

Written by `vigil hunt --engine spark`, which runs it with `spark-submit` (or Python with pyspark) and reads its
output; or by `vigil convert -t spark -f job` with its plan inside (EMBEDDED_PLAN), for users who run it themselves:
`spark-submit job.py INPUT... [--table NAME] [--output PATH]` (see --help). Usage by Vigil: vigil_spark_job.py
PLAN.json, PLAN being:
  master, conf       where Spark runs (`local[*]`, `spark://host:7077`, ...) and session settings;
  inputs             [{"kind": "lines", "path": P}]: JSON lines (plain or gzip, by name), records numbered by line;
                     [{"kind": "records", "path": P}]: what Vigil converted, one `{"i": input, "r": record,
                     "e": event, "f": fields}` per line; [{"kind": "parquet", "path": P}], [{"kind": "table",
                     "name": T}]: Parquet files, an existing table: a record per row (its columns as the event);
                     "file" is the input's number (lines, parquet, table);
  base_sql           the view `vigil_base` over `vigil_raw`: records parsed, their log sources told (kept);
  events_sql         the view `vigil_columns` over `vigil_base`: a column per field (runtime/src/spark.rs);
  rules              [[rule number, its log sources or null, its condition], ...];
  names              each rule's {"id", "title", "level", "path"};
  quiet              the rules whose own detections a job run by itself does not print (correlations read them
                     with `generate: false`);
  correlations       [[number, group-by fields, query], ...]: each correlation's window SQL over `vigil_columns`
                     (compiler/src/backend/sql_correlation.rs), one row per detection;
  correlation_names  each correlation's {"rule": {"id", "title", "level", "path"}, "type", "group_by"};
  output             where the detections go: JSON lines `{"file", "record", "rule", "event"}` and `{"correlation",
                     "end", "value", "group", "window": [[time, file, record], ...]}` (times in milliseconds),
                     then one `{"events", "unreadable"}` line.
"""
import json
import sys

from pyspark import StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

# The most rules, and the most SQL, one query tests: one projection over all the rules of a corpus makes a plan
# Spark takes minutes to optimise and more memory than a 1 GB driver has (compiler/DESIGN.md, "Spark").
GROUP_RULES = 200
GROUP_SQL = 128 * 1024


def queries(rules, present):
    """The rules in groups, a query each: rules that may run on the same log sources together, tested only on
    the events of those sources, so that an event meets only the rules that can apply to it. Rules none of whose
    log sources the events have are left out."""
    by_sources = {}
    for number, sources, condition in rules:
        key = None if sources is None else tuple(sorted(set(sources) & present))
        if key == ():
            continue
        by_sources.setdefault(key, []).append((number, condition))
    for sources, admitted in by_sources.items():
        group, size = [], 0
        for number, condition in admitted:
            if group and (len(group) >= GROUP_RULES or size + len(condition) > GROUP_SQL):
                yield sources, group
                group, size = [], 0
            group.append((number, condition))
            size += len(condition)
        if group:
            yield sources, group


def numbered(frame, file_index):
    """Each line of a text frame with its 1-based number in the file, without moving the data: rows are numbered
    within their partition (partitions follow the file's order) and offset by the rows of the partitions before."""
    frame = frame.select(F.spark_partition_id().alias("_vigil_part"),
                         F.monotonically_increasing_id().alias("_vigil_id"), "value")
    frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
    offsets, total = [], 0
    for row in sorted(frame.groupBy("_vigil_part").count().collect()):
        offsets += [F.lit(row[0]), F.lit(total)]
        total += row[1]
    if not offsets:
        return None
    offset = F.create_map(*offsets)[F.col("_vigil_part")]
    within = F.col("_vigil_id") - F.shiftleft(F.col("_vigil_part").cast("long"), 33)
    return frame.select(F.lit(file_index).alias("_file"), (offset + within + 1).alias("_record"),
                        F.col("value").alias("_event"), F.lit(None).cast("string").alias("_vigil_fields"))


def records(spark, source):
    if source["kind"] == "lines":
        return numbered(spark.read.text(source["path"]), source["file"])
    if source["kind"] == "records":
        if spark.sparkContext.master.startswith("local"):
            lines = spark.read.text(source["path"])
        else:
            # The file Vigil converted is on this machine only: the job sends its lines to the cluster.
            with open(source["path"], encoding="utf-8") as f:
                lines = spark.createDataFrame([(line.rstrip("\n"),) for line in f], "value STRING")
        return lines.select(F.get_json_object("value", "$.i").cast("int").alias("_file"),
                            F.get_json_object("value", "$.r").cast("long").alias("_record"),
                            F.get_json_object("value", "$.e").alias("_event"),
                            F.get_json_object("value", "$.f").alias("_vigil_fields"))
    table = spark.read.parquet(source["path"]) if source["kind"] == "parquet" else spark.table(source["name"])
    as_json = table.select(F.to_json(F.struct(*table.columns)).alias("value"))
    return numbered(as_json, source["file"])


def hunt(spark, plan, detection, correlated):
    """Runs the plan's rules over its inputs: `detection(file, record, rule, event)` for each detection, then its
    correlations: `correlated(number, end, value, group, window)` for each of theirs; returns the numbers of events
    and of unreadable records."""
    frames = [records(spark, source) for source in plan["inputs"]]
    frames = [frame for frame in frames if frame is not None]
    if not frames:
        return 0, 0
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame)
    # Blank lines are numbered but are no events.
    raw = raw.filter(F.trim(F.col("_event")) != "")
    # Many small inputs make many partitions, and every query below would schedule a task for each.
    most = 4 * spark.sparkContext.defaultParallelism
    if raw.rdd.getNumPartitions() > most:
        raw = raw.coalesce(most)
    raw.createOrReplaceTempView("vigil_raw")
    # Each record is read and parsed once, its log source told once, and kept (in memory, else on local disk)
    # for the queries below.
    base = spark.sql(plan["base_sql"]).persist(StorageLevel.MEMORY_AND_DISK)
    base.createOrReplaceTempView("vigil_base")
    spark.sql(plan["events_sql"]).createOrReplaceTempView("vigil_columns")
    per_source = base.groupBy("_source", "_vigil_unreadable").count().collect()
    events = sum(row["count"] for row in per_source)
    unreadable = sum(row["count"] for row in per_source if row["_vigil_unreadable"])
    present = {row["_source"] for row in per_source if not row["_vigil_unreadable"]}

    for sources, group in queries(plan["rules"], present):
        tests = ["IF(coalesce(({}), FALSE), {}, NULL)".format(condition, number) for number, condition in group]
        where = "TRUE" if sources is None else "_source IN ({})".format(", ".join(map(str, sources)))
        query = ("SELECT _file, _record, _event, explode(array_compact(array({}))) AS _rule FROM vigil_columns "
                 "WHERE {} AND NOT _vigil_unreadable".format(", ".join(tests), where))
        for row in spark.sql(query).toLocalIterator():
            detection(row["_file"], row["_record"], row["_rule"], row["_event"])
    # Each correlation reads the events of its rules again, from the events kept above.
    for number, groups, query in plan.get("correlations", []):
        for row in spark.sql(query).toLocalIterator():
            window = [[e["vigil_time"], e["vigil_file"], e["vigil_record"]] for e in row["vigil_window"]]
            group = [row["vigil_g{}".format(k)] for k in range(groups)]
            correlated(number, row["vigil_time"], row["vigil_value"], group, window)
    base.unpersist()
    return events, unreadable


def session(plan, name):
    builder = SparkSession.builder.appName(name)
    if plan.get("master"):
        builder = builder.master(plan["master"])
    for key, value in plan["conf"].items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def for_vigil(plan_path):
    """`vigil hunt --engine spark`: the plan Vigil wrote; detections by number, for Vigil to report."""
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    spark = session(plan, "vigil hunt")
    with open(plan["output"], "w", encoding="utf-8") as out:
        def detection(file, record, rule, event):
            out.write(json.dumps({"file": file, "record": record, "rule": rule, "event": event}) + "\n")

        def correlated(number, end, value, group, window):
            out.write(json.dumps({"correlation": number, "end": end, "value": value, "group": group,
                                  "window": window}) + "\n")
        events, unreadable = hunt(spark, plan, detection, correlated)
        out.write(json.dumps({"events": events, "unreadable": unreadable}) + "\n")
    spark.stop()


def standalone(argv):
    """`vigil convert -t spark -f job`: the plan is in this file; the inputs are the arguments."""
    import argparse
    parser = argparse.ArgumentParser(
        description="Sigma rules converted by Vigil (vigil convert -t spark -f job), all tested in one Spark job. "
                    "Each detection is a JSON line: rule (id, title, level, path), source (file, record: the line "
                    "number, or the row number of a table or Parquet input) and event.")
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="a file of JSON lines (plain, or gzip named .gz) or a Parquet file (.parquet): any path "
                             "Spark reads (hdfs://, s3a://, ...)")
    parser.add_argument("--table", action="append", default=[], metavar="NAME",
                        help="also an existing table of the session, a row per event (repeatable)")
    parser.add_argument("--output", metavar="PATH", help="write the detections here (default: standard output)")
    parser.add_argument("--master", help="the Spark master (default: spark-submit's --master)")
    args = parser.parse_args(argv)
    if not args.inputs and not args.table:
        parser.error("give at least one INPUT or --table")
    plan = json.loads(EMBEDDED_PLAN)
    plan["master"] = args.master
    kind = lambda path: "parquet" if path.lower().endswith(".parquet") else "lines"
    plan["inputs"] = ([{"kind": kind(path), "path": path, "file": i} for i, path in enumerate(args.inputs)]
                      + [{"kind": "table", "name": name, "file": len(args.inputs) + i}
                         for i, name in enumerate(args.table)])
    shown = args.inputs + args.table
    found, correlations = [], []
    spark = session(plan, "vigil sigma job")
    events, unreadable = hunt(spark, plan, lambda *detection: found.append(detection),
                              lambda *detection: correlations.append(detection))
    spark.stop()
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    quiet = set(plan.get("quiet", []))
    found = [detection for detection in found if detection[2] not in quiet]
    for file, record, rule, event in sorted(found, key=lambda d: (d[0], d[1], d[2])):
        out.write(json.dumps({"rule": plan["names"][rule], "source": {"file": shown[file], "record": record},
                              "event": json.loads(event)}) + "\n")
    for number, end, value, group, window in sorted(correlations, key=lambda d: (d[1], d[0])):
        what = plan["correlation_names"][number]
        temporal = what["type"] in ("temporal", "temporal_ordered")
        out.write(json.dumps({
            "rule": what["rule"],
            "correlation": {"type": what["type"], "group": dict(zip(what["group_by"], group)),
                            "window": {"start": rfc3339(window[0][0] if window else end), "end": rfc3339(end)},
                            "value": None if temporal or value is None else float(value)},
            "timestamp": rfc3339(end),
            "events": [{"file": shown[f], "record": r} for _, f, r in window]}) + "\n")
    out.flush()
    print("{} events, {} unreadable, {} detections, {} correlation detections".format(
        events, unreadable, len(found), len(correlations)), file=sys.stderr)


def rfc3339(millis):
    """Milliseconds since the epoch as `vigil hunt` writes them: UTC, `Z`, a fraction only when there is one."""
    import datetime
    moment = datetime.datetime.fromtimestamp(millis // 1000, datetime.timezone.utc)
    fraction = ".{:03d}".format(millis % 1000).rstrip("0") if millis % 1000 else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


# The plan of `vigil convert -t spark -f job` (rules, views, settings) as JSON text, written in here by Vigil; None
# when Vigil runs this file with a plan of its own.
EMBEDDED_PLAN = None


if __name__ == "__main__":
    if EMBEDDED_PLAN is None:
        for_vigil(sys.argv[1])
    else:
        standalone(sys.argv[1:])
