// Checks KQL queries with Microsoft's Kusto.Language: `node check.js QUERIES.jsonl [SCHEMA.json]`.
// QUERIES.jsonl is `vigil convert -t kusto --jsonl` output. With SCHEMA.json ({"tables": {name: {column: type}}})
// every query is analysed against those tables, so an unknown table or column is an error; without it, queries
// are parsed only (a query without a table is parsed as the condition of `T | where ...`).
// Prints JSON: {"checked", "failed", "by_code": {code: count}, "examples": [{path, query, diagnostics}]}.
"use strict";
const fs = require("fs");
require("@kusto/language-service-next/bridge.min.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");

const K = Kusto.Language;
const Symbols = K.Symbols;

/** Kusto's scalar type for a schema type as the references write it (ASIM's logical types are strings). */
function kustoType(type) {
  const t = String(type || "").toLowerCase();
  if (t === "datetime" || t === "date/time") return "datetime";
  if (t === "int" || t === "integer") return "int";
  if (t === "long") return "long";
  if (t === "bool" || t === "boolean") return "bool";
  if (t === "real" || t === "double" || t === "latitude" || t === "longitude") return "real";
  if (t === "dynamic") return "dynamic";
  return "string";
}

function globalsFor(schemaPath) {
  const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
  const tables = Object.entries(schema.tables).map(([name, columns]) => {
    const spec = Object.entries(columns).map(([c, type]) => `['${c}']:${kustoType(type)}`).join(", ");
    return new Symbols.TableSymbol.$ctor7(name, `(${spec})`, null);
  });
  return K.GlobalState.Default.WithDatabase(new Symbols.DatabaseSymbol.ctor("db", tables));
}

function list(items) {
  const out = [];
  for (let i = 0; i < items.Count; i++) out.push(items.getItem(i));
  return out;
}

function main() {
  const [queriesPath, schemaPath] = process.argv.slice(2);
  const globals = schemaPath ? globalsFor(schemaPath) : null;
  const result = { checked: 0, failed: 0, by_code: {}, examples: [] };
  for (const line of fs.readFileSync(queriesPath, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line);
    for (const query of entry.queries || []) {
      result.checked += 1;
      let errors;
      if (globals) {
        const code = K.KustoCode.ParseAndAnalyze(query, globals);
        errors = list(code.GetDiagnostics()).filter((d) => d.Severity === "Error");
      } else {
        const text = query.includes("\n|") ? query : `T | where ${query}`;
        errors = list(K.KustoCode.Parse(text).GetSyntaxDiagnostics()).filter((d) => d.Severity === "Error");
      }
      if (errors.length === 0) continue;
      result.failed += 1;
      for (const d of errors) result.by_code[d.Code] = (result.by_code[d.Code] || 0) + 1;
      if (result.examples.length < 20) {
        result.examples.push({
          path: entry.path,
          query: query.slice(0, 400),
          diagnostics: errors.slice(0, 3).map((d) => `${d.Code} at ${d.Start}: ${d.Message}`),
        });
      }
    }
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main();
