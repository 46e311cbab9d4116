"""Vigil's one-pass Spark job: every rule of a rule set over every event, read once.

Written by `vigil hunt --engine spark`, which runs it with `spark-submit` (or Python with pyspark) and reads its
output. Usage: vigil_spark_job.py PLAN.json, PLAN being what Vigil wrote:
  master, conf       where Spark runs (`local[*]`, `spark://host:7077`, ...) and session settings;
  inputs             [{"kind": "lines", "path": P}]: JSON lines (plain or gzip, by name), records numbered by line;
                     [{"kind": "records", "path": P}]: what Vigil converted, one `{"r": record, "e": event,
                     "f": fields}` per line; [{"kind": "parquet", "path": P}], [{"kind": "table", "name": T}]:
                     Parquet files, an existing table: a record per row (its columns as the event);
  events_sql         the view `vigil_events` over `vigil_raw` (see runtime/src/spark.rs);
  rules              [[rule number, its log sources or null, its condition], ...];
  output             where the detections go: JSON lines `{"file", "record", "rule", "event"}`, then one
                     `{"events", "unreadable"}` line.
"""
import json
import sys

from pyspark import StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

# Rules per projection: one projection over all the rules of a corpus makes an expression Spark takes minutes
# to optimise; groups of this many are unioned, over events cached once.
GROUP = 200


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
                        F.col("value").alias("_event"), F.col("value").alias("_vigil_fields"))


def records(spark, source, file_index):
    if source["kind"] == "lines":
        return numbered(spark.read.text(source["path"]), file_index)
    if source["kind"] == "records":
        lines = spark.read.text(source["path"])
        return lines.select(F.lit(file_index).alias("_file"),
                            F.get_json_object("value", "$.r").cast("long").alias("_record"),
                            F.get_json_object("value", "$.e").alias("_event"),
                            F.get_json_object("value", "$.f").alias("_vigil_fields"))
    table = spark.read.parquet(source["path"]) if source["kind"] == "parquet" else spark.table(source["name"])
    as_json = table.select(F.to_json(F.struct(*table.columns)).alias("value"))
    return numbered(as_json, file_index)


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

    frames = [records(spark, source, index) for index, source in enumerate(plan["inputs"])]
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
    raw.createOrReplaceTempView("vigil_raw")
    events = spark.sql(plan["events_sql"]).persist(StorageLevel.MEMORY_AND_DISK)
    events.createOrReplaceTempView("vigil_events")
    counts = events.agg(F.count(F.lit(1)).alias("events"),
                        F.sum(F.col("_vigil_unreadable").cast("long")).alias("unreadable")).collect()[0]

    rules = plan["rules"]
    for start in range(0, len(rules), GROUP):
        group = rules[start:start + GROUP]
        tests = []
        for number, sources, condition in group:
            admitted = "TRUE" if sources is None else "_source IN ({})".format(", ".join(map(str, sources)))
            tests.append("IF({} AND coalesce(({}), FALSE), {}, NULL)".format(admitted, condition, number))
        query = ("SELECT _file, _record, _event, _rule FROM (SELECT _file, _record, _event, "
                 "explode(array_compact(array({}))) AS _rule FROM vigil_events WHERE NOT _vigil_unreadable)"
                 .format(", ".join(tests)))
        for row in spark.sql(query).toLocalIterator():
            out.write(json.dumps({"file": row["_file"], "record": row["_record"], "rule": row["_rule"],
                                  "event": row["_event"]}) + "\n")
    out.write(json.dumps({"events": counts["events"], "unreadable": counts["unreadable"] or 0}) + "\n")
    out.close()
    spark.stop()


if __name__ == "__main__":
    main()
