"""Runs generated SQL on SQLite, DuckDB or PostgreSQL for Vigil's results tests (tests/sql_engines.rs,
tests/correlation_sql.rs).

Reads one JSON request on stdin:
  {"engine": "sqlite" | "duckdb" | "postgres" | "spark", "dsn": "...",
   "cases": [{"name", "columns", "rows", "query", "select" (optional)}]}
and prints, for each case, {"name", "records": [sorted _record values]} or {"name", "error": "..."}; with
"select" (a list of columns), "records" holds those columns of every row instead, as lists, sorted.
Each case gets a fresh temporary `logs` table (its own per connection, so tests may run side by side); a column's type is read off its values (all booleans: BOOLEAN, all integers:
BIGINT, all numbers: DOUBLE, otherwise text, with numbers written as their JSON text).
"""
import json
import sys


def column_type(values):
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "BOOLEAN", lambda v: v
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "BIGINT", lambda v: v
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "DOUBLE PRECISION", lambda v: v
    return "TEXT", lambda v: v if v is None or isinstance(v, str) else json.dumps(v)


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def run_case(connection, case, placeholder):
    columns, rows = case["columns"], case["rows"]
    types = [column_type([row[i] for row in rows]) for i in range(len(columns))]
    cursor = connection.cursor()
    cursor.execute("DROP TABLE IF EXISTS logs")
    cursor.execute(
        "CREATE TEMPORARY TABLE logs (" + ", ".join(f"{quote(c)} {t}" for c, (t, _) in zip(columns, types)) + ")"
    )
    insert = f"INSERT INTO logs VALUES ({', '.join([placeholder] * len(columns))})"
    for row in rows:
        cursor.execute(insert, [convert(v) for v, (_, convert) in zip(row, types)])
    if "select" in case:
        cursor.execute(f"SELECT {', '.join(case['select'])} FROM ({case['query']}) AS t")
        return sorted(([plain(v) for v in row] for row in cursor.fetchall()), key=json.dumps)
    cursor.execute(f"SELECT _record FROM ({case['query']}) AS t ORDER BY _record")
    return [r[0] for r in cursor.fetchall()]


def run_spark_case(spark, case):
    """The same on Spark: `logs` is a temporary view over a DataFrame typed as above."""
    from pyspark.sql import types as T

    spark_types = {"BOOLEAN": T.BooleanType(), "BIGINT": T.LongType(), "DOUBLE PRECISION": T.DoubleType(),
                   "TEXT": T.StringType()}
    columns, rows = case["columns"], case["rows"]
    types = [column_type([row[i] for row in rows]) for i in range(len(columns))]
    schema = T.StructType([T.StructField(c, spark_types[t], True) for c, (t, _) in zip(columns, types)])
    data = [[convert(v) for v, (_, convert) in zip(row, types)] for row in rows]
    spark.createDataFrame(data, schema).createOrReplaceTempView("logs")
    if "select" in case:
        found = spark.sql(f"SELECT {', '.join(case['select'])} FROM ({case['query']}) AS t").collect()
        return sorted(([plain(v) for v in row] for row in found), key=json.dumps)
    found = spark.sql(f"SELECT _record FROM ({case['query']}) AS t ORDER BY _record").collect()
    return [row[0] for row in found]


def plain(value):
    """A value as JSON has it (PostgreSQL returns numeric as Decimal)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return float(value)


def main():
    request = json.load(sys.stdin)
    engine = request["engine"]
    if engine == "spark":
        from pyspark.sql import SparkSession

        spark = (SparkSession.builder.master("local[1]").appName("vigil-sql")
                 .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
                 .config("spark.sql.session.timeZone", "UTC").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        results = []
        for case in request["cases"]:
            try:
                results.append({"name": case["name"], "records": run_spark_case(spark, case)})
            except Exception as e:  # one failing query must not hide the others
                results.append({"name": case["name"], "error": f"{type(e).__name__}: {e}".strip()[:2000]})
        spark.stop()
        json.dump(results, sys.stdout)
        return
    if engine == "sqlite":
        import sqlite3

        connection = sqlite3.connect(":memory:")
        placeholder = "?"
    elif engine == "duckdb":
        import duckdb

        connection = duckdb.connect()
        placeholder = "?"
    else:
        import psycopg

        # No server-side prepared statements: every case recreates `logs` with other column types.
        connection = psycopg.connect(request["dsn"], autocommit=True, prepare_threshold=None)
        placeholder = "%s"
    results = []
    for case in request["cases"]:
        try:
            results.append({"name": case["name"], "records": run_case(connection, case, placeholder)})
        except Exception as e:  # one failing query must not hide the others
            results.append({"name": case["name"], "error": f"{type(e).__name__}: {e}".strip()})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
