//! Splunk SPL. Search terms `field="value"` are case-insensitive with `*` wildcards; `CASE("value")` is the
//! cased form. SPL search has no single-character wildcard, cannot escape a literal `*` and has no regex: a
//! top-level conjunct that needs one of those runs after the search, as `| regex field="..."` (a regex alone, as
//! sigma-cli writes it) or as an eval expression in `| where ...` (`match()`, `cidrmatch()`, exact semantics).

use super::text::{self, Piece};
use super::walk::{render, Language};
use super::Context;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Expr, StrOp, Test};

/// The `[default]` stanza of savedsearches.conf, written once before the rules' stanzas.
pub const SAVED_SEARCHES_DEFAULTS: &str = "[default]\ndispatch.earliest_time = -30d\ndispatch.latest_time = now\n";

struct Splunk;

fn search(cx: &Context<'_>) -> Result<Search, Diagnostic> {
    let conjuncts: Vec<&Expr> = match &cx.rule.expr {
        Expr::And(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut search = Vec::new();
    let mut commands = Vec::new();
    for conjunct in conjuncts {
        if let Some(c) = command(conjunct)? {
            commands.push(c);
            continue;
        }
        match render(&Splunk, conjunct) {
            Ok(_) => search.push(conjunct.clone()),
            Err(e) if needs_eval(&e) => commands.push(format!("| where {}", render(&Eval, conjunct)?)),
            Err(e) => return Err(e),
        }
    }
    let main = match search.len() {
        0 => "*".to_string(),
        _ => render(&Splunk, &Expr::and(search))?,
    };
    Ok(Search { main, commands })
}

/// A rule as SPL: the search, then the commands that test what search syntax cannot (`| regex`, `| where`).
struct Search {
    main: String,
    commands: Vec<String>,
}

pub fn query(cx: &Context<'_>) -> Result<String, Diagnostic> {
    let Search { main, commands } = search(cx)?;
    Ok(std::iter::once(main).chain(commands).collect::<Vec<_>>().join(" "))
}

/// A `tstats` search over the CIM data model the `splunk_cim` pipeline chose (`data_model_set` state, such as
/// `Endpoint.Processes`), grouped by the data set's fields (`fields` state); the rule's search is the `where`, and
/// its `| regex` or `| where` commands run on the grouped rows, before the data set's prefix is dropped from the
/// field names.
pub fn data_model(cx: &Context<'_>) -> Result<String, Diagnostic> {
    let needs_pipeline = |what: &str| {
        Diagnostic::unlocated(
            Code::UnsupportedFormat,
            format!(
                "the data_model format needs the {what} the `splunk_cim` pipeline sets (`-p splunk_cim`); \
                 it has none for this rule's log source ({})",
                cx.rule.logsource
            ),
        )
    };
    let model_set =
        cx.state.get("data_model_set").and_then(|v| v.as_str()).ok_or_else(|| needs_pipeline("data model"))?;
    let data_set = match model_set.split_once('.') {
        Some((model, set)) if !model.is_empty() && !set.is_empty() && !set.contains('.') => set,
        _ => {
            return Err(Diagnostic::unlocated(
                Code::UnsupportedFormat,
                format!("`data_model_set` is `{model_set}`; expected `<data model>.<data set>`"),
            ))
        }
    };
    let fields: Vec<&str> = match cx.state.get("fields") {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).collect(),
        Some(serde_json::Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    };
    if fields.is_empty() {
        return Err(needs_pipeline("fields"));
    }
    let mut keyword = false;
    cx.rule.expr.visit_predicates(&mut |p| keyword |= p.field.is_none());
    if keyword {
        return Err(Diagnostic::unlocated(
            Code::UnsupportedKeyword,
            "tstats searches data-model fields only: a keyword (a value without a field) cannot be tested",
        ));
    }
    let Search { main, commands } = search(cx)?;
    let filter = if main == "*" { String::new() } else { format!(" where {main}") };
    let commands: String = commands.iter().map(|c| format!(" {c}")).collect();
    Ok(format!(
        "| tstats summariesonly=false allow_old_summaries=true fillnull_value=\"null\" count min(_time) as firstTime \
         max(_time) as lastTime from datamodel={model_set}{filter} by {}{commands} | `drop_dm_object_name({data_set})` \
         | convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime(firstTime) | convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime(lastTime)",
        fields.join(" ")
    ))
}

/// Whether a search-syntax failure can be mended by an eval expression.
fn needs_eval(e: &Diagnostic) -> bool {
    matches!(e.code, Code::UnsupportedRegex | Code::UnsupportedWildcard | Code::UnsupportedFieldReference)
}

/// A top-level conjunct that runs as a command after the search: `| regex` or `| where`.
fn command(expr: &Expr) -> Result<Option<String>, Diagnostic> {
    let (predicate, negated) = match expr {
        Expr::Pred(p) => (p, false),
        Expr::Not(inner) => match &**inner {
            Expr::Pred(p) => (p, true),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let Some(field) = predicate.field.as_deref() else { return Ok(None) };
    match &predicate.test {
        Test::Regex { pattern, flags } => {
            let op = if negated { "!=" } else { "=" };
            let regex = format!("{}{pattern}", text::inline_flags(*flags, ""));
            // Backslash is the escape character of SPL strings: the regex's own backslashes are doubled.
            Ok(Some(format!("| regex {}{op}{}", field_name(field), eval_string(&regex))))
        }
        Test::FieldRef { field: other, op, cased } => {
            let fold = |name: &str| if *cased { eval_field(name) } else { format!("lower({})", eval_field(name)) };
            let (a, b) = (fold(field), fold(other));
            let test = match op {
                StrOp::Exact | StrOp::Glob => format!("{a}=={b}"),
                StrOp::Prefix => format!("substr({a}, 1, len({b}))=={b}"),
                StrOp::Suffix => format!("(len({a})>=len({b}) AND substr({a}, len({a})-len({b})+1)=={b})"),
                StrOp::Contains => {
                    return Err(Diagnostic::unlocated(
                        Code::UnsupportedFieldReference,
                        "SPL has no substring test between two fields that is safe for wildcard characters",
                    ))
                }
            };
            Ok(Some(if negated { format!("| where NOT ({test})") } else { format!("| where {test}") }))
        }
        _ => Ok(None),
    }
}

fn field_name(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@')) && !name.is_empty() {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// A field in an eval expression (`| where`): names with other characters are single-quoted.
fn eval_field(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.is_empty() {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "\\'"))
    }
}

/// A quoted search value: `*` wildcards, `\` and `"` escaped.
fn value(pieces: &[Piece]) -> Result<String, Diagnostic> {
    let mut out = String::from("\"");
    for piece in pieces {
        match piece {
            Piece::Any => out.push('*'),
            Piece::One => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedWildcard,
                    "SPL search has no single-character wildcard (`?`)",
                ))
            }
            Piece::Lit(s) => {
                if s.contains('*') {
                    return Err(Diagnostic::unlocated(
                        Code::UnsupportedWildcard,
                        "SPL search cannot match a literal `*`: it is always a wildcard",
                    ));
                }
                out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
            }
        }
    }
    out.push('"');
    Ok(out)
}

impl Language for Splunk {
    fn and(&self) -> &'static str {
        " "
    }

    fn or(&self) -> &'static str {
        " OR "
    }

    fn negate(&self, operand: String) -> String {
        format!("NOT {operand}")
    }

    fn constant(&self, value: bool) -> String {
        if value { "*" } else { "NOT *" }.to_string()
    }

    fn pattern_list(&self, name: &str, patterns: &[Vec<Piece>]) -> Result<Option<String>, Diagnostic> {
        // `IN` takes `*` wildcards as `=` does; a value the search cannot write fails the list as it would alone.
        let list: Result<Vec<String>, Diagnostic> = patterns
            .iter()
            .map(|p| {
                text::plain_text(p, "SPL")?;
                value(p)
            })
            .collect();
        Ok(Some(format!("{} IN ({})", field_name(name), list?.join(", "))))
    }

    fn predicate(&self, name: Option<&str>, test: &Test) -> Result<String, Diagnostic> {
        let Some(name) = name else {
            return match test {
                Test::Str { op, value: v, cased } => {
                    let quoted = value(&pattern(*op, v)?)?;
                    Ok(if *cased { format!("CASE({quoted})") } else { quoted })
                }
                Test::Num(n) => Ok(text::number(n)),
                Test::Regex { .. } => Err(Diagnostic::unlocated(
                    Code::UnsupportedRegex,
                    "SPL has no regex over the whole event (`| regex` needs a field)",
                )),
                other => Err(Diagnostic::unlocated(
                    Code::UnsupportedKeyword,
                    format!("SPL cannot search {} as a keyword", super::describe(other)),
                )),
            };
        };
        let f = field_name(name);
        Ok(match test {
            Test::Str { op, value: v, cased } => {
                let quoted = value(&pattern(*op, v)?)?;
                if *cased {
                    format!("{f}=CASE({quoted})")
                } else {
                    format!("{f}={quoted}")
                }
            }
            Test::Num(n) => format!("{f}={}", text::number(n)),
            Test::Bool(b) => format!("{f}={b}"),
            Test::Null => format!("NOT {f}=*"),
            Test::Exists => format!("{f}=*"),
            Test::Cidr(net) => format!("{f}=\"{net}\""),
            Test::Compare { op, value } => {
                let symbol = text::compare_symbol(*op);
                format!("{f}{symbol}{}", text::number(value))
            }
            Test::Regex { .. } => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedRegex,
                    "SPL runs regexes as a `| regex` command after the search: only at the top level of a condition",
                ))
            }
            Test::FieldRef { .. } => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedFieldReference,
                    "SPL compares fields in a `| where` command after the search: only at the top level of a condition",
                ))
            }
            Test::TimePart { .. } => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedTimePart,
                    "SPL search has no time-part test on a field",
                ))
            }
            Test::QueryExpression { expression, id } => expression.replace("{field}", &f).replace("{id}", id),
        })
    }
}

/// Splunk's eval language, for `| where`: exact where the search syntax cannot be.
struct Eval;

/// An eval string literal.
fn eval_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Language for Eval {
    fn and(&self) -> &'static str {
        " AND "
    }

    fn or(&self) -> &'static str {
        " OR "
    }

    fn negate(&self, operand: String) -> String {
        format!("NOT {operand}")
    }

    fn constant(&self, value: bool) -> String {
        if value { "true()" } else { "false()" }.to_string()
    }

    fn predicate(&self, name: Option<&str>, test: &Test) -> Result<String, Diagnostic> {
        let f = match name {
            Some(name) => eval_field(name),
            // Keywords: the raw event text.
            None => "_raw".to_string(),
        };
        let keyword = name.is_none();
        Ok(match test {
            Test::Str { op, value, cased } => {
                let mut pieces = pattern(*op, value)?;
                if keyword {
                    pieces = text::unanchored(pieces);
                }
                let flags = if *cased { "" } else { "(?i)" };
                format!("match({f}, {})", eval_string(&format!("{flags}{}", text::anchored_regex(&pieces))))
            }
            Test::Num(n) if keyword => format!("match(_raw, {})", eval_string(&regex_syntax::escape(&text::number(n)))),
            Test::Num(n) => format!("tonumber({f})=={}", text::number(n)),
            Test::Regex { pattern, flags } => {
                format!("match({f}, {})", eval_string(&format!("{}{pattern}", text::inline_flags(*flags, ""))))
            }
            _ if keyword => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedKeyword,
                    format!("SPL cannot search {} as a keyword", super::describe(test)),
                ))
            }
            Test::Bool(b) => format!("lower({f})==\"{b}\""),
            Test::Null => format!("isnull({f})"),
            Test::Exists => format!("isnotnull({f})"),
            Test::Cidr(net) => format!("cidrmatch(\"{net}\", {f})"),
            Test::Compare { op, value } => {
                let symbol = text::compare_symbol(*op);
                format!("tonumber({f}){symbol}{}", text::number(value))
            }
            Test::FieldRef { field: other, op, cased } => {
                let fold = |x: String| if *cased { x } else { format!("lower({x})") };
                let (a, b) = (fold(f.clone()), fold(eval_field(other)));
                match op {
                    StrOp::Exact | StrOp::Glob => format!("{a}=={b}"),
                    StrOp::Prefix => format!("substr({a}, 1, len({b}))=={b}"),
                    StrOp::Suffix => format!("(len({a})>=len({b}) AND substr({a}, len({a})-len({b})+1)=={b})"),
                    StrOp::Contains => {
                        return Err(Diagnostic::unlocated(
                            Code::UnsupportedFieldReference,
                            "SPL has no substring test between two fields that is safe for wildcard characters",
                        ))
                    }
                }
            }
            Test::TimePart { .. } => {
                return Err(Diagnostic::unlocated(Code::UnsupportedTimePart, "SPL has no time-part test on a field"))
            }
            Test::QueryExpression { expression, id } => expression.replace("{field}", &f).replace("{id}", id),
        })
    }
}

/// A savedsearches.conf stanza for a rule.
pub fn saved_search(meta: &ir::meta::Meta, query: &str) -> String {
    let title = meta.title.replace(['[', ']', '\n'], " ");
    let description = meta.description.as_deref().unwrap_or("").replace('\n', " ");
    format!("[{title}]\ndescription = {description}\nsearch = {}\n", query.replace('\n', " \\\n"))
}

/// A string test's pattern, refusing control characters the language cannot write.
fn pattern(op: StrOp, value: &crate::ir::value::SigmaString) -> Result<Vec<Piece>, Diagnostic> {
    let pieces = text::pattern(op, value)?;
    text::plain_text(&pieces, "SPL")?;
    Ok(pieces)
}

/// A correlation as SPL: the rules' searches ORed, each event tagged with the rule it matches (`searchmatch`
/// runs the rule's search on it) where the type or the aliases need to know, sorted by time, the aggregate over a
/// sliding `streamstats time_window` per group, and the events where the condition becomes true for the group
/// (a second `streamstats` reads the previous event's state). `temporal_ordered` lists the window's rules in time
/// order and looks for the rules as a subsequence; an extended condition reads the set of rules in the window.
/// SPL searches cannot read another correlation's results, so chains are `unsupported-correlation`.
pub fn correlation_query(
    correlation: &crate::ir::correlation::Correlation,
    inputs: &[super::correlation::Rendered<'_>],
) -> Result<String, Diagnostic> {
    use super::correlation as shared;
    use crate::ir::correlation::{Condition, CorrelationType, InputField};
    let unsupported = |why: String| Err(Diagnostic::unlocated(Code::UnsupportedCorrelation, why));
    if inputs.iter().any(|i| i.is_chained()) {
        return unsupported("SPL searches cannot read another correlation's results (a chain)".into());
    }
    if inputs.iter().any(|i| i.query.contains(" | ")) {
        return unsupported("a base rule's search ends with a command (| regex, | where): SPL cannot OR it".into());
    }
    let Some(span) = correlation.timespan else { return unsupported("a correlation without a timespan".into()) };
    // `time_window` always reads `_time`, so SPL correlations use it whatever `--time-field` says.
    let time = "_time";
    let mut pipeline = vec![inputs.iter().map(|i| format!("({})", i.query)).collect::<Vec<_>>().join(" OR ")];
    let aliased = !correlation.aliases.is_empty();
    // Where each input holds a field the correlation names (a group-by field or the value field).
    let place = |input: &shared::Rendered<'_>, name: &str| -> Option<InputField> {
        if correlation.value_field.as_deref() == Some(name) {
            return input.input.value.clone();
        }
        let k = correlation.group_by.iter().position(|g| g == name)?;
        input.input.group_fields.get(k).cloned()
    };
    if correlation.kind.is_temporal() || aliased {
        let cases: Vec<String> = inputs
            .iter()
            .enumerate()
            .map(|(i, input)| format!("searchmatch({}), {i}", eval_string(input.query)))
            .collect();
        pipeline.push(format!("eval vigil_rule=case({})", cases.join(", ")));
    }
    // Group-by and value fields: the field itself, or per rule through its alias.
    let read = |name: &str| -> String {
        if !correlation.aliases.contains(name) {
            return field_name(name);
        }
        let cases: Vec<String> = inputs
            .iter()
            .enumerate()
            .map(|(i, input)| match place(input, name) {
                Some(InputField::Field(column)) => format!("vigil_rule=={i}, {}", eval_field(&column)),
                _ => format!("vigil_rule=={i}, null()"),
            })
            .collect();
        format!("case({})", cases.join(", "))
    };
    let mut by_fields = Vec::new();
    for (k, group) in correlation.group_by.iter().enumerate() {
        if correlation.aliases.contains(group) {
            pipeline.push(format!("eval vigil_g{k}={}", read(group)));
            by_fields.push(format!("vigil_g{k}"));
        } else {
            by_fields.push(field_name(group));
        }
    }
    let by = if by_fields.is_empty() { String::new() } else { format!(" by {}", by_fields.join(" ")) };
    let value_field = correlation.value_field.as_deref().map(|f| {
        if correlation.aliases.contains(f) {
            pipeline.push(format!("eval vigil_field={}", read(f)));
            "vigil_field".to_string()
        } else {
            field_name(f)
        }
    });
    pipeline.push(format!("sort 0 {time}"));
    let window = format!("streamstats time_window={span}s");
    let threshold = |value: &str| -> String {
        shared::threshold(correlation, value, &text::condition_symbol, "", " AND ").unwrap_or_else(|| "false()".into())
    };
    let holds = match (correlation.kind, &correlation.condition, value_field.as_deref()) {
        (CorrelationType::Temporal, Some(Condition::Inputs(c)), _) => {
            pipeline.push(format!("{window} values(vigil_rule) as vigil_rules{by}"));
            let booleans = shared::Booleans { not: "NOT ", and: " AND ", or: " OR " };
            shared::extended_condition(c, &booleans, &|i| format!("isnotnull(mvfind(vigil_rules, \"^{i}$\"))"))
        }
        (CorrelationType::Temporal, Some(Condition::Threshold(_)), _) => {
            pipeline.push(format!("{window} dc(vigil_rule) as vigil_value{by}"));
            threshold("vigil_value")
        }
        (CorrelationType::Temporal, None, _) => {
            pipeline.push(format!("{window} dc(vigil_rule) as vigil_value{by}"));
            format!("vigil_value>={}", inputs.len())
        }
        (CorrelationType::TemporalOrdered, None, _) => {
            // The window's rule numbers in time order, as ",0,2,1,": the rules in order are a subsequence.
            pipeline.push(format!("{window} list(vigil_rule) as vigil_order{by}"));
            let subsequence: Vec<String> = (0..inputs.len()).map(|i| format!("{i},")).collect();
            format!(
                "match(\",\".mvjoin(vigil_order, \",\").\",\", {})",
                eval_string(&format!(",{}", subsequence.join("(\\d+,)*")))
            )
        }
        (CorrelationType::TemporalOrdered, Some(_), _) => {
            return unsupported("temporal_ordered with a condition is not converted to SPL".into())
        }
        (kind, _, field) => {
            let aggregate = match (kind, field) {
                (CorrelationType::EventCount, _) => "count".to_string(),
                (CorrelationType::ValueCount, Some(f)) => format!("dc({f})"),
                (CorrelationType::ValueSum, Some(f)) => format!("sum({f})"),
                (CorrelationType::ValueAvg, Some(f)) => format!("avg({f})"),
                (CorrelationType::ValueMedian, Some(f)) => format!("median({f})"),
                (CorrelationType::ValuePercentile, Some(f)) => {
                    format!("perc{}({f})", correlation.percentile)
                }
                (kind, _) => return unsupported(format!("{} needs a field", kind.as_str())),
            };
            pipeline.push(format!("{window} {aggregate} as vigil_value{by}"));
            threshold("vigil_value")
        }
    };
    pipeline.push(format!("eval vigil_holds=if({holds}, 1, 0)"));
    pipeline.push(format!(
        "streamstats current=f window=1 last(vigil_holds) as vigil_held last({time}) as vigil_previous{by}"
    ));
    pipeline
        .push(format!("where vigil_holds=1 AND (isnull(vigil_held) OR vigil_held=0 OR vigil_previous<={time}-{span})"));
    Ok(pipeline.join("\n| "))
}
