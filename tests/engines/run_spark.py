"""Runs a generated Spark SQL query on a local Spark over a JSON-lines (optionally gzip) event file, as HELK's
`mordor_file` table: flat events, with the column names HELK gives Windows fields (`channel`, `event_id`,
`computer_name`, `source_name`). Prints the 1-based line numbers of the rows the query returns, as JSON.

Usage: python3 run_spark.py EVENTS.jsonl[.gz] QUERY_FILE
"""
import gzip
import json
import sys

from pyspark.sql import SparkSession

HELK_NAMES = {"Channel": "channel", "EventID": "event_id", "Computer": "computer_name", "Hostname": "computer_name",
              "Provider_Name": "source_name", "SourceName": "source_name"}


def main():
    events_path, query_path = sys.argv[1], sys.argv[2]
    opener = gzip.open if events_path.endswith(".gz") else open
    lines = []
    with opener(events_path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            event = json.loads(line)
            # Spark folds column names to lower case when it resolves them: keep the first of names that differ by
            # case only, as HELK's ingestion does.
            renamed, seen = {}, set()
            for key, value in event.items():
                name = HELK_NAMES.get(key, key)
                if name.lower() in seen:
                    continue
                seen.add(name.lower())
                renamed[name] = value
            renamed["_record"] = number
            lines.append(json.dumps(renamed))
    spark = (SparkSession.builder.master("local[1]").appName("vigil-seed")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.json(spark.sparkContext.parallelize(lines, 1))
    frame.createOrReplaceTempView("mordor_file")
    with open(query_path, encoding="utf-8") as f:
        query = f.read().strip()
    rows = spark.sql(f"SELECT _record FROM ({query}) AS t ORDER BY _record").collect()
    print(json.dumps([row["_record"] for row in rows]))
    spark.stop()


if __name__ == "__main__":
    main()
