//! `vigil convert`: rules in, queries out.

use crate::cli::ConvertArgs;
use crate::{pipelines, rule_files};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;
use vigil_compiler::backend::correlation::Input;
use vigil_compiler::backend::{self, Options, Target, Unsupported};
use vigil_compiler::pipeline::PipelineSet;
use vigil_compiler::{load_str, lower, Code, Content, DocumentKind, LoadedDocument};

/// The outcome of one rule document.
struct Converted {
    path: String,
    id: Option<String>,
    title: Option<String>,
    result: Result<Vec<String>, (String, String)>,
}

/// Converts one document; `None` for documents that are not rules to convert (pipelines, filters).
fn convert_document(
    document: LoadedDocument,
    target: Target,
    format: &str,
    pipelines: &PipelineSet,
    options: &Options,
) -> Option<Result<Vec<String>, (String, String)>> {
    let failed = |code: Code, message: String| Some(Err((code.as_str().to_string(), message)));
    match document.content {
        Some(Content::Rule(mut rule)) => {
            let state = match pipelines.apply(&mut rule) {
                Ok(state) => state,
                Err(e) => return failed(e.code, format!("{} (pipeline {}, item {:?})", e.message, e.origin, e.item)),
            };
            let rule = lower(rule);
            Some(
                backend::convert(&rule, target, format, &state, options)
                    .map_err(|Unsupported { code, message }| (code.as_str().to_string(), message)),
            )
        }
        // Correlations are converted after every rule, from their rules' queries (`run`).
        Some(Content::Correlation(_)) => None,
        Some(Content::Filter(_)) => None,
        None if document.kind == DocumentKind::Pipeline => None,
        None => {
            let first = document.diagnostics.iter().find(|d| d.is_error());
            Some(Err(first.map_or_else(
                || ("invalid".to_string(), "the document has errors".to_string()),
                |d| (d.code.as_str().to_string(), d.message.clone()),
            )))
        }
    }
}

pub fn run(args: &ConvertArgs) -> u8 {
    let started = Instant::now();
    let Some(target) = Target::parse(&args.target) else {
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        eprintln!("vigil: unknown target `{}`; targets: {}", args.target, names.join(", "));
        return 2;
    };
    if !target.formats().iter().any(|(name, _)| *name == args.format) {
        let names: Vec<&str> = target.formats().iter().map(|(n, _)| *n).collect();
        eprintln!("vigil: {} has no format `{}`; formats: {}", target.name(), args.format, names.join(", "));
        return 2;
    }
    let Some(pipelines) = pipelines::resolve(&args.pipeline) else { return 2 };
    if let Some(origin) = pipelines.refusing(target.name()) {
        eprintln!("vigil: pipeline {origin} does not allow the {} target (allowed_backends)", target.name());
        return 2;
    }
    for origin in pipelines.with_output_steps() {
        eprintln!("vigil: warning: pipeline {origin}: query postprocessing and finalizers are not applied by convert");
    }
    let options = Options {
        table: args.table.clone(),
        keyword_field: args.keyword_field.clone(),
        time_field: args.time_field.clone(),
    };

    let mut results = Vec::new();
    let mut deferred: Vec<(usize, vigil_compiler::correlation::SigmaCorrelation)> = Vec::new();
    let mut inputs_by_name: std::collections::HashMap<String, Input> = std::collections::HashMap::new();
    let mut io_error = false;
    for found in rule_files::find(&args.paths) {
        let Some((shown, text)) = rule_files::open(&found) else {
            io_error = true;
            continue;
        };
        for document in load_str(&text) {
            let (id, title) = (document.id.clone(), document.title.clone());
            let names: Vec<String> = match &document.content {
                Some(Content::Rule(rule)) => rule.meta.id.iter().chain(&rule.meta.name).cloned().collect(),
                _ => Vec::new(),
            };
            if let Some(Content::Correlation(correlation)) = &document.content {
                deferred.push((results.len(), correlation.clone()));
                let pending = Err(("pending".to_string(), String::new()));
                results.push(Converted { path: shown.clone(), id, title, result: pending });
                continue;
            }
            if let Some(result) = convert_document(document, target, &args.format, &pipelines, &options) {
                if let Ok(queries) = &result {
                    for name in names {
                        if let Some(q) = queries.first() {
                            inputs_by_name.insert(name, Input::rule(q.clone()));
                        }
                    }
                }
                results.push(Converted { path: shown.clone(), id, title, result });
            }
        }
    }
    // Correlations, from the queries of the rules and correlations they name (in any file given). A correlation
    // reading another waits until that one is converted; what is left when nothing moves names a missing input.
    let mut pending = deferred;
    loop {
        let before = pending.len();
        let mut waiting = Vec::new();
        for (index, mut correlation) in pending {
            if let Err(e) = pipelines.apply_correlation(&mut correlation, &[]) {
                results[index].result = Err((e.code.as_str().to_string(), e.message.clone()));
                continue;
            }
            let inputs: Option<Vec<Input>> = correlation.rules.iter().map(|n| inputs_by_name.get(n).cloned()).collect();
            let Some(inputs) = inputs else {
                waiting.push((index, correlation));
                continue;
            };
            let result = backend::convert_correlation(&correlation, &inputs, target, &options);
            if let Ok(query) = &result {
                for name in correlation.meta.id.iter().chain(&correlation.meta.name) {
                    inputs_by_name
                        .insert(name.clone(), Input::correlation(query.clone(), correlation.group_by.clone()));
                }
            }
            results[index].result =
                result.map(|q| vec![q]).map_err(|Unsupported { code, message }| (code.as_str().to_string(), message));
        }
        pending = waiting;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    for (index, correlation) in pending {
        let missing: Vec<&str> =
            correlation.rules.iter().filter(|n| !inputs_by_name.contains_key(*n)).map(String::as_str).collect();
        results[index].result = Err((
            Code::UnsupportedCorrelation.as_str().to_string(),
            format!("not among the rules converted here: {}", missing.join(", ")),
        ));
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
            Err((code, _)) => *failures.entry(code.as_str()).or_default() += 1,
        }
        written = if args.jsonl {
            let (queries, error) = match &c.result {
                Ok(queries) => (queries.clone(), serde_json::Value::Null),
                Err((code, message)) => (Vec::new(), json!({"code": code, "message": message})),
            };
            let line = json!({
                "path": c.path, "id": c.id, "title": c.title, "target": target.name(),
                "queries": queries, "error": error,
            });
            writeln!(out, "{line}")
        } else {
            match &c.result {
                Ok(queries) => queries.iter().try_for_each(|q| writeln!(out, "{q}")),
                Err((code, message)) => {
                    eprintln!("vigil: {}: {}: {message} [{code}]", c.path, c.title.as_deref().unwrap_or("(untitled)"));
                    Ok(())
                }
            }
        };
    }
    if written.and_then(|_| out.flush()).is_err() {
        return 2; // the reader went away (`| head`) or the output file failed
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
    } else if failed > 0 {
        1
    } else {
        0
    }
}
