//! `vigil convert`: rules in, queries out (to stdout, a file, or a file per rule: `output_dir.rs`).

mod output_dir;

use crate::cli::ConvertArgs;
use crate::{report, rule_files};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;
use vigil_compiler::backend::{self, ConvertOptions, Target};
use vigil_compiler::compile::{Compilation, Compiled, Document};
use vigil_compiler::ir::correlation::InputSource;
use vigil_compiler::pipeline::output;
use vigil_compiler::{Code, Diagnostic};

/// The outcome of one document to convert: the file (its position in the compilation), the document, and its
/// queries or why it has none.
pub struct Converted<'c> {
    pub file: usize,
    pub document: &'c Document,
    pub result: Result<Vec<String>, Diagnostic>,
}

/// Every correlation's query, in the compilation's (dependency) order, from the plain queries of what it reads.
fn correlation_queries(
    compilation: &Compilation,
    rule_queries: &[Result<Vec<String>, Diagnostic>],
    target: Target,
    options: &ConvertOptions,
) -> Vec<Result<String, Diagnostic>> {
    let mut done: Vec<Result<String, Diagnostic>> = Vec::new();
    for linked in &compilation.correlations {
        let correlation = &linked.correlation;
        let queries: Result<Vec<String>, &str> = correlation
            .inputs
            .iter()
            .map(|input| {
                let query = match input.source {
                    InputSource::Rule(r) => rule_queries[r].as_ref().ok().and_then(|q| q.first()),
                    InputSource::Correlation(c) => done[c].as_ref().ok(),
                };
                query.cloned().ok_or(input.name.as_str())
            })
            .collect();
        done.push(match queries {
            Ok(queries) => backend::convert_correlation(correlation, &queries, target, options),
            Err(name) => Err(Diagnostic::unlocated(
                Code::UnsupportedCorrelation,
                format!("`{name}`, which it reads, could not be converted"),
            )
            .for_target(target.name())),
        });
    }
    done
}

/// Converts every document of `compilation` that holds a rule or a correlation (or failed to), in file order;
/// pipelines and filters among the rules have nothing to convert, unreadable files are left to the caller.
pub fn convert_all<'c>(
    compilation: &'c Compilation,
    target: Target,
    format: &str,
    options: &ConvertOptions,
) -> Vec<Converted<'c>> {
    let rule_queries: Vec<Result<Vec<String>, Diagnostic>> = compilation
        .rules()
        .map(|r| {
            let converted =
                backend::convert(&r.rule.rule, target, format, &r.rule.state, options).and_then(|queries| {
                    if r.rule.postprocessing.is_empty() {
                        return Ok(queries);
                    }
                    // The pipelines' postprocessing, on each query as the format left it (pySigma's order).
                    let context = output::rule_context(&r.rule.rule);
                    queries
                        .into_iter()
                        .map(|q| {
                            output::postprocess(&r.rule.postprocessing, q, &context, &r.rule.state, Default::default())
                                .map_err(|d| d.for_target(target.name()))
                        })
                        .collect()
                });
            converted.map_err(|d| d.located(r.rule.pos))
        })
        .collect();
    // Correlations read the rules' plain queries, whatever the format; then their own query takes the format.
    let correlation_queries = if compilation.correlations.is_empty() {
        Vec::new()
    } else {
        let plain: Vec<Result<Vec<String>, Diagnostic>> = if format == "default" {
            rule_queries.clone()
        } else {
            compilation
                .rules()
                .map(|r| backend::convert(&r.rule.rule, target, "default", &r.rule.state, options))
                .collect()
        };
        let tables: Vec<Option<String>> = compilation
            .rules()
            .map(|r| backend::Context { rule: &r.rule.rule, state: &r.rule.state, options }.table())
            .collect();
        correlation_queries(compilation, &plain, target, options)
            .into_iter()
            .zip(&compilation.correlations)
            .map(|(query, linked)| {
                let correlation = &linked.correlation;
                let table = correlation.inputs.iter().find_map(|input| match input.source {
                    InputSource::Rule(r) => tables[r].clone(),
                    InputSource::Correlation(_) => None,
                });
                query.and_then(|q| backend::format_correlation(correlation, q, target, format, table))
            })
            .collect()
    };
    let mut results = Vec::new();
    let mut rule_number = 0;
    for (f, file) in compilation.files.iter().enumerate().filter(|(_, file)| file.readable) {
        for (d, document) in file.documents.iter().enumerate() {
            let result = match &document.compiled {
                Some(Compiled::Rule(_)) => {
                    rule_number += 1;
                    rule_queries[rule_number - 1].clone()
                }
                Some(Compiled::Correlation(_)) => match (compilation.correlation_of(f, d), document.first_error()) {
                    (Some((c, _)), _) => {
                        correlation_queries[c].clone().map(|q| vec![q]).map_err(|e| e.located(document.pos))
                    }
                    (None, Some(error)) => Err(error.clone()),
                    (None, None) => continue,
                },
                Some(Compiled::Filter(_)) => continue,
                None if document.kind.is_data() => continue,
                None => match document.first_error() {
                    Some(error) => Err(error.clone()),
                    None => continue,
                },
            };
            results.push(Converted { file: f, document, result });
        }
    }
    results
}

pub fn run(args: &ConvertArgs) -> u8 {
    let started = Instant::now();
    let Some(target) = Target::parse(&args.target) else {
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        let message = format!("unknown target `{}`; targets: {}", args.target, names.join(", "));
        report::general(&Diagnostic::error(Code::UnknownTarget, None, message));
        return 2;
    };
    if !target.formats().iter().any(|(name, _)| *name == args.format) {
        let names: Vec<&str> = target.formats().iter().map(|(n, _)| *n).collect();
        let message = format!("{} has no format `{}`; formats: {}", target.name(), args.format, names.join(", "));
        report::general(&Diagnostic::error(Code::UnsupportedFormat, None, message).for_target(target.name()));
        return 2;
    }
    let Some(settings) = report::settings(&args.pipeline, false) else { return 2 };
    let pipelines = &settings.pipelines;
    if let Some(origin) = pipelines.refusing(target.name()) {
        let message = format!("pipeline {origin} does not allow the {} target (allowed_backends)", target.name());
        report::general(&Diagnostic::error(Code::PipelineRefusesTarget, None, message).for_target(target.name()));
        return 2;
    }
    let finalizers = pipelines.finalizers();
    if !finalizers.is_empty() && (args.jsonl || args.output_dir.is_some()) {
        let message =
            "the pipelines' finalizers make one output of all queries: not applied with --jsonl or --output-dir";
        report::general(&Diagnostic::warning(Code::PipelineOutputIgnored, None, message));
    }
    let options = ConvertOptions {
        table: args.table.clone(),
        keyword_field: args.keyword_field.clone(),
        time_field: args.time_field.clone(),
    };
    if let Err(message) = output_dir::check_template(&args.output_filename_template) {
        return report::usage(format!("--output-filename-template {message}"));
    }
    let Some(compilation) = rule_files::compile(&args.paths, &args.pipeline.filters, &settings) else { return 2 };

    if (target, args.format.as_str()) == (Target::Spark, "job") {
        return spark_job(args, &compilation);
    }
    hints(target, &settings, &options, &compilation);
    let results = convert_all(&compilation, target, &args.format, &options);
    let mut io_error = false;
    for file in compilation.files.iter().filter(|f| !f.readable) {
        report::errors(file);
        io_error = true;
    }

    if let Some(dir) = &args.output_dir {
        let paths: Vec<String> = compilation.files.iter().map(|f| f.path.clone()).collect();
        let naming = output_dir::Naming {
            template: &args.output_filename_template,
            target,
            format: &args.format,
            roots: &args.paths,
        };
        let prelude = backend::prelude(target, &args.format);
        let written = output_dir::write(&results, &paths, dir, &naming, prelude, args.force);
        let failed: Vec<&Converted<'_>> = results.iter().filter(|c| c.result.is_err()).collect();
        for c in &failed {
            if let Err(d) = &c.result {
                report::problem(&compilation.files[c.file], d);
            }
        }
        eprintln!(
            "{} files written to {} for {} rules converted to {}, {} failed, {} not written in {:.2}s",
            written.files,
            dir.display(),
            results.len() - failed.len(),
            target.name(),
            failed.len(),
            written.failed,
            started.elapsed().as_secs_f64()
        );
        return if io_error {
            2
        } else if !failed.is_empty() || written.failed > 0 {
            1
        } else {
            0
        };
    }
    let Some(mut out) = crate::output::open(&args.output) else { return 2 };
    let mut failures: BTreeMap<&str, usize> = BTreeMap::new();
    let mut converted = 0usize;
    let mut written = Ok(());
    if !args.jsonl {
        if let Some(prelude) = backend::prelude(target, &args.format) {
            written = writeln!(out, "{prelude}");
        }
    }
    for c in &results {
        if written.is_err() {
            break;
        }
        match &c.result {
            Ok(_) => converted += 1,
            Err(d) => *failures.entry(d.code.as_str()).or_default() += 1,
        }
        let file = &compilation.files[c.file];
        written = if !args.jsonl && !finalizers.is_empty() {
            // Queries go to the finalizers below; problems are reported as they come.
            if let Err(d) = &c.result {
                report::problem(&compilation.files[c.file], d);
            }
            Ok(())
        } else if args.jsonl {
            let (queries, error) = match &c.result {
                Ok(queries) => (queries.clone(), serde_json::Value::Null),
                Err(d) => (Vec::new(), d.to_json()),
            };
            let line = json!({
                "path": file.path, "id": c.document.id, "title": c.document.title, "target": target.name(),
                "queries": queries, "error": error,
            });
            writeln!(out, "{line}")
        } else {
            match &c.result {
                Ok(queries) => queries.iter().try_for_each(|q| writeln!(out, "{q}")),
                Err(d) => {
                    report::problem(file, d);
                    Ok(())
                }
            }
        };
    }
    let mut finalizer_failed = false;
    if written.is_ok() && !args.jsonl && !finalizers.is_empty() {
        let queries: Vec<String> = results.iter().filter_map(|c| c.result.as_ref().ok()).flatten().cloned().collect();
        let last_state = compilation.rules().last().map(|r| r.rule.state.clone()).unwrap_or_default();
        match output::finalize(&finalizers, queries, &last_state, pipelines.options()) {
            Ok(text) => written = writeln!(out, "{text}"),
            Err(d) => {
                report::general(&d.for_target(target.name()));
                finalizer_failed = true;
            }
        }
    }
    if let Err(e) = written.and_then(|_| out.flush()) {
        return crate::output::failed(&e, args.output.as_deref());
    }
    let failed: usize = failures.values().sum();
    let by_code: Vec<String> = failures.iter().map(|(code, n)| format!("{code} {n}")).collect();
    eprintln!(
        "{converted} rules converted to {}, {failed} failed{} in {:.2}s",
        target.name(),
        if by_code.is_empty() { String::new() } else { format!(" ({})", by_code.join(", ")) },
        started.elapsed().as_secs_f64()
    );
    if io_error {
        2
    } else if failed > 0 || finalizer_failed {
        1
    } else {
        0
    }
}

/// Once per run, what the queries lack that a user may not expect: log-source conditions without a pipeline, a
/// table in KQL.
fn hints(
    target: Target,
    settings: &vigil_compiler::compile::Settings,
    options: &ConvertOptions,
    compilation: &Compilation,
) {
    if settings.pipelines.is_empty() && compilation.rules().next().is_some() {
        let message = concat!(
            "no pipeline (-p): the queries test the rules' detections, not their log sources; `-p sysmon -p windows` ",
            "adds the conditions on Windows channels and event ids (`vigil list pipelines`)"
        );
        report::general(&Diagnostic::warning(Code::NoLogsourceConditions, None, message).for_target(target.name()));
    }
    let without_table = |state: &vigil_compiler::pipeline::State| {
        !["table", "query_table"].iter().any(|k| state.get(*k).and_then(|v| v.as_str()).is_some())
    };
    if target == Target::Kusto && options.table.is_none() && compilation.rules().any(|r| without_table(&r.rule.state)) {
        let message = concat!(
            "KQL without a table is a `where` condition, not a runnable query: give `--table NAME` (the table your ",
            "events are in, e.g. DeviceProcessEvents), or a pipeline that sets one"
        );
        report::general(&Diagnostic::warning(Code::KustoWithoutTable, None, message).for_target(target.name()));
    }
}

/// `-t spark -f job`: one PySpark script testing every rule and correlation (those Spark SQL cannot express are
/// reported and left out), as `vigil hunt --engine spark` runs them.
fn spark_job(args: &ConvertArgs, compilation: &Compilation) -> u8 {
    if args.jsonl {
        let message = "the Spark job is one script for the whole rule set: --jsonl does not apply to it";
        report::general(&Diagnostic::error(Code::UnsupportedFormat, None, message).for_target("spark"));
        return 2;
    }
    let (script, (rules, correlations), not_loaded) = crate::commands::hunt::spark_job_script(compilation);
    let io_error = compilation.files.iter().any(|f| !f.readable);
    for file in compilation.files.iter().filter(|f| !f.readable) {
        report::errors(file);
    }
    let Some(mut out) = crate::output::open(&args.output) else { return 2 };
    if let Err(e) = out.write_all(script.as_bytes()).and_then(|()| out.flush()) {
        return crate::output::failed(&e, args.output.as_deref());
    }
    let correlations = if correlations > 0 { format!(" and {correlations} correlations") } else { String::new() };
    eprintln!("{rules} rules{correlations} in one Spark job, {not_loaded} left out");
    if io_error {
        2
    } else if not_loaded > 0 {
        1
    } else {
        0
    }
}
