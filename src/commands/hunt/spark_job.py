"""Vigil's Spark job: every rule of a rule set over every event, the events read and parsed once.

Written by `vigil hunt --engine spark`, which runs it with `spark-submit` (or Python with pyspark) and reads its
output. Usage: vigil_spark_job.py PLAN.json, PLAN being what Vigil wrote:
  master, conf       where Spark runs (`local[*]`, `spark://host:7077`, ...) and session settings;
  inputs             [{"kind": "lines", "path": P}]: JSON lines (plain or gzip, by name), records numbered by line;
                     [{"kind": "records", "path": P}]: what Vigil converted, one `{"i": input, "r": record,
                     "e": event, "f": fields}` per line; [{"kind": "parquet", "path": P}], [{"kind": "table",
                     "name": T}]: Parquet files, an existing table: a record per row (its columns as the event);
                     "file" is the input's number (lines, parquet, table);
  base_sql           the view `vigil_base` over `vigil_raw`: records parsed, their log sources told (kept);
  events_sql         the view `vigil_events` over `vigil_base`: a column per field (runtime/src/spark.rs);
  rules              [[rule number, its log sources or null, its condition], ...];
  output             where the detections go: JSON lines `{"file", "record", "rule", "event"}`, then one
                     `{"events", "unreadable"}` line.
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


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        plan = json.load(f)
    builder = SparkSession.builder.appName("vigil hunt")
    if plan.get("master"):
        builder = builder.master(plan["master"])
    for key, value in plan["conf"].items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    frames = [records(spark, source) for source in plan["inputs"]]
    frames = [frame for frame in frames if frame is not None]
    out = open(plan["output"], "w", encoding="utf-8")
    if not frames:
        out.write(json.dumps({"events": 0, "unreadable": 0}) + "\n")
        out.close()
        return
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
    spark.sql(plan["events_sql"]).createOrReplaceTempView("vigil_events")
    per_source = base.groupBy("_source", "_vigil_unreadable").count().collect()
    events = sum(row["count"] for row in per_source)
    unreadable = sum(row["count"] for row in per_source if row["_vigil_unreadable"])
    present = {row["_source"] for row in per_source if not row["_vigil_unreadable"]}

    for sources, group in queries(plan["rules"], present):
        tests = ["IF(coalesce(({}), FALSE), {}, NULL)".format(condition, number) for number, condition in group]
        where = "TRUE" if sources is None else "_source IN ({})".format(", ".join(map(str, sources)))
        query = ("SELECT _file, _record, _event, explode(array_compact(array({}))) AS _rule FROM vigil_events "
                 "WHERE {} AND NOT _vigil_unreadable".format(", ".join(tests), where))
        for row in spark.sql(query).toLocalIterator():
            out.write(json.dumps({"file": row["_file"], "record": row["_record"], "rule": row["_rule"],
                                  "event": row["_event"]}) + "\n")
    out.write(json.dumps({"events": events, "unreadable": unreadable}) + "\n")
    out.close()
    spark.stop()


if __name__ == "__main__":
    main()
