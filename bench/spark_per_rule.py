"""The baseline of bench/spark.sh: a plan of `vigil hunt --engine spark` (kept with VIGIL_SPARK_KEEP) run the way
a user of `vigil convert -t spark` runs it, one rule's query after another over the same events view, each query
a Spark job that reads its input again. Same session, same settings and master as Vigil's job.

Usage: spark_per_rule.py PLAN.json   Prints `per-rule: N detections, S s` (the queries only, not Spark's start).
"""
import importlib.util
import json
import os
import sys
import time

from pyspark.sql import SparkSession


def main():
    plan_path = sys.argv[1]
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    job_path = os.path.join(os.path.dirname(plan_path), "vigil_spark_job.py")
    spec = importlib.util.spec_from_file_location("vigil_spark_job", job_path)
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)

    builder = SparkSession.builder.appName("vigil per-rule baseline").master(plan["master"])
    for key, value in plan["conf"].items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    frames = [job.records(spark, source) for source in plan["inputs"]]
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame)
    raw.filter("trim(_event) != ''").createOrReplaceTempView("vigil_raw")
    # Not kept: each rule's query reads and parses the input again, as separate queries do.
    spark.sql(plan["base_sql"]).createOrReplaceTempView("vigil_base")
    spark.sql(plan["events_sql"]).createOrReplaceTempView("vigil_columns")
    start, found = time.time(), 0
    for _number, _sources, condition in plan["rules"]:
        query = "SELECT _file, _record FROM vigil_columns WHERE NOT _vigil_unreadable AND ({})".format(condition)
        found += len(spark.sql(query).collect())
    print("per-rule: {} detections, {:.1f} s".format(found, time.time() - start))
    spark.stop()


if __name__ == "__main__":
    main()
