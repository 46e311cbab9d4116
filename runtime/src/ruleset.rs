//! Many rules as one matcher: each rule compiled once, and an index from (Channel, EventID) to the rules that
//! can match, so that an event is only tested against its candidates.

use crate::bits::RuleBits;
use crate::derived::{self, Derived};
use crate::event::Event;
use crate::fields::{FieldId, FieldTable, Value};
use crate::logsource::{Classifier, EventSource, SourceKey, UNKNOWN};
use crate::prefilter::{KeywordFacts, Prefilter};
use crate::program::{compile_within, Held, Program};
use crate::record::Record;
use crate::regexes::Budget;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::Arc;
use vigil_compiler::ir::meta::{LogSource, Meta};
use vigil_compiler::ir::{self, Expr, StrOp, Test};
use vigil_compiler::logsources::LogSourceTable;
use vigil_compiler::Diagnostic;

/// A rule ready to run.
#[derive(Debug)]
pub struct CompiledRule {
    /// Title, id, level, tags, ...: what detections report.
    pub meta: Meta,
    pub path: String,
    /// The rule's number given to [`RuleSet::build_with`] (its position in the list given to [`RuleSet::build`]);
    /// rules that could not be compiled are left out, so it can differ from the rule's index here.
    pub source_index: usize,
    program: Program,
    /// How a detection tells which identifiers matched.
    identifiers: Identifiers,
    /// A field the rule cannot match without (`None`: no such field): events lacking it skip the rule.
    anchor: Option<FieldId>,
}

/// The identifiers a detection reports as matched: those that select events (named outside any `not`) and that
/// the rule's author wrote (not a pipeline's `_cond_` or a filter's `_filt_`).
#[derive(Debug)]
enum Identifiers {
    /// One identifier, or identifiers that read no field in common under a condition they follow
    /// ([`ir::Rule::identifiers_follow_match`]), each with the fields it reads and whether it has keywords (at
    /// most one has): the rule's own program tells what held, and each held test is reported under the one
    /// identifier that reads its field.
    ByFields(Vec<Reads>),
    /// The others (identifiers sharing a field, or a condition like `(a and b) or c`): each compiled on its own, evaluated on the rule's detections only. A program
    /// per identifier for every rule would add 15% to the matcher's memory (13 MB over the whole corpus).
    Each(Vec<(String, Program)>),
}

#[derive(Debug)]
struct Reads {
    name: String,
    fields: Vec<FieldId>,
    keywords: bool,
}

impl Identifiers {
    fn new(all: Vec<ir::Identifier>, follow_match: bool, table: &mut FieldTable, budget: &mut Budget) -> Identifiers {
        let reported: Vec<ir::Identifier> = all
            .into_iter()
            .filter(|i| i.positive && !i.name.starts_with("_cond_") && !i.name.starts_with("_filt_"))
            .collect();
        let reads: Vec<Reads> = reported
            .iter()
            .map(|identifier| {
                let mut names = Vec::new();
                let mut keywords = false;
                identifier.expr.visit_predicates(&mut |p| match &p.field {
                    Some(name) => names.push(name.clone()),
                    None => keywords = true,
                });
                let mut fields: Vec<FieldId> = names.iter().map(|n| table.intern(n)).collect();
                fields.sort_unstable();
                fields.dedup();
                Reads { name: identifier.name.clone(), fields, keywords }
            })
            .collect();
        let mut all_fields: Vec<FieldId> = reads.iter().flat_map(|r| r.fields.iter().copied()).collect();
        let total = all_fields.len();
        all_fields.sort_unstable();
        all_fields.dedup();
        let disjoint = all_fields.len() == total && reads.iter().filter(|r| r.keywords).count() <= 1;
        if reads.len() <= 1 || (disjoint && follow_match) {
            return Identifiers::ByFields(reads);
        }
        budget.next_rule();
        let compile = |i: ir::Identifier| Some((i.name, compile_within(&i.expr, table, budget).ok()?));
        Identifiers::Each(reported.into_iter().filter_map(compile).collect())
    }
}

/// The metadata a detection reports (title, id, name, status, level, author, dates, tags): the rule's
/// documentation (description, references, false positives, custom attributes) is not kept in the matcher, where
/// thousands of rules would hold it for the whole scan.
///
/// The kept texts are copied, not moved: the IR they come from is freed once its rule compiles, and a few live
/// strings left in each of its allocator pages would keep every page (about 10 MB for the whole corpus decoded
/// from the rule-set cache, where a rule's metadata sits among its IR).
fn reported(meta: Meta) -> Meta {
    let copy = |s: Option<String>| s.as_deref().map(str::to_string);
    Meta {
        title: meta.title.as_str().to_string(),
        id: copy(meta.id),
        name: copy(meta.name),
        status: meta.status,
        level: meta.level,
        author: copy(meta.author),
        date: copy(meta.date),
        modified: copy(meta.modified),
        tags: meta.tags.iter().map(|t| t.as_str().to_string()).collect(),
        ..Meta::default()
    }
}

/// A field that every match of `expr` needs present: a positive test in the top-level AND (an OR counts when all
/// its alternatives test the same field). `Channel` and `EventID` are left to the index.
fn anchor(expr: &Expr) -> Option<&str> {
    fn needs(expr: &Expr) -> Option<&str> {
        match expr {
            Expr::Pred(p) => match p.test {
                Test::Null => None,
                _ => p.field.as_deref(),
            },
            Expr::Or(items) => {
                let first = needs(items.first()?)?;
                items.iter().all(|i| needs(i) == Some(first)).then_some(first)
            }
            _ => None,
        }
    }
    let parts: &[Expr] = match expr {
        Expr::And(items) => items,
        other => std::slice::from_ref(other),
    };
    parts.iter().filter_map(needs).find(|f| *f != "Channel" && *f != "EventID")
}

/// A rule that could not be compiled: its position in the list given to [`RuleSet::build`], and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub index: usize,
    pub diagnostic: Diagnostic,
}

/// An event decoded for a rule set, with its log source and what the prefilter learnt while it was read.
pub struct DecodedEvent<'e> {
    pub event: Event<'e>,
    /// The event's log source (`logsource::UNKNOWN` when not told).
    pub source: SourceKey,
}

/// What the index knows about a rule's log source: the channels and event ids it requires, if any.
#[derive(Default)]
struct Requirement {
    channels: Option<Vec<String>>,
    event_ids: Option<Vec<i64>>,
}

type Key = (Option<String>, Option<i64>);

/// The rules by the (Channel, EventID) they require (`None`: any), looked up without allocating the event's
/// channel.
#[derive(Default)]
struct Index {
    by_channel: FxHashMap<String, FxHashMap<Option<i64>, RuleBits>>,
    any_channel: FxHashMap<Option<i64>, RuleBits>,
}

impl Index {
    fn insert(&mut self, (channel, id): Key, rules: RuleBits) {
        match channel {
            Some(c) => self.by_channel.entry(c).or_default().insert(id, rules),
            None => self.any_channel.insert(id, rules),
        };
    }

    fn get(&self, channel: Option<&str>, id: Option<i64>) -> Option<&RuleBits> {
        match channel {
            Some(c) => self.by_channel.get(c)?.get(&id),
            None => self.any_channel.get(&id),
        }
    }
}

/// A compiled rule set.
pub struct RuleSet {
    pub rules: Vec<CompiledRule>,
    pub fields: FieldTable,
    keywords: bool,
    index: Index,
    channel: Option<FieldId>,
    event_id: Option<FieldId>,
    prefilter: Prefilter,
    /// Tells events' log sources (`None`: every rule may run on every event).
    classifier: Option<Classifier>,
    /// Per log-source key, the rules that may run on its events.
    admissible: Vec<RuleBits>,
    /// Per log-source key, the prefilter's keyword scope for its events (that of its admissible rules).
    keyword_scopes: Vec<usize>,
}

/// How a rule set tells the log sources of events.
#[derive(Clone, Debug, Default)]
pub enum LogSources {
    /// It does not: every rule may run on every event.
    #[default]
    Anywhere,
    /// By the table's signatures (events it does not recognise run every rule).
    Table(LogSourceTable),
    /// Every event has this log source.
    Forced(LogSource),
}

/// A rule to compile, with its file and its log source as written (its pipelines may have changed the IR's).
pub struct RuleInput {
    /// Its number in the caller's list ([`CompiledRule::source_index`]): rules left out keep the others' numbers.
    pub index: usize,
    pub path: String,
    pub rule: ir::Rule,
    pub logsource: LogSource,
}

/// Below this many candidates from the index, the rules are evaluated directly: the literal prefilter's pass over
/// the event would cost more than it saves (`bench/matcher.sh`, `bench/peers.sh`).
const PREFILTER_MIN_CANDIDATES: usize = 8;

/// The value a predicate `field == "X"` requires (lower case), if it is one.
fn required_strings(expr: &Expr, field: &str) -> Option<Vec<String>> {
    match expr {
        Expr::Pred(p) if p.field.as_deref() == Some(field) => match &p.test {
            Test::Str { op: StrOp::Exact, value, cased: false } => value.as_plain().map(|v| vec![v.to_lowercase()]),
            _ => None,
        },
        _ => None,
    }
}

/// The integer a predicate `field == N` requires, if it is one.
fn required_numbers(expr: &Expr, field: &str) -> Option<Vec<i64>> {
    match expr {
        Expr::Pred(p) if p.field.as_deref() == Some(field) => match &p.test {
            Test::Num(n) => {
                let f = n.as_f64();
                (f.fract() == 0.0).then_some(vec![f as i64])
            }
            _ => None,
        },
        _ => None,
    }
}

/// What every match of `expr` requires of Channel and EventID: a top-level AND takes each from the first operand
/// that requires it; an OR requires the union of its branches' values, when every branch requires some.
fn requirement(expr: &Expr) -> Requirement {
    match expr {
        Expr::And(parts) => {
            let mut req = Requirement::default();
            for part in parts {
                let Requirement { channels, event_ids } = requirement(part);
                req.channels = req.channels.or(channels);
                req.event_ids = req.event_ids.or(event_ids);
            }
            req
        }
        Expr::Or(branches) => {
            fn union<T: Ord>(values: Option<Vec<Vec<T>>>) -> Option<Vec<T>> {
                let mut all: Vec<T> = values?.into_iter().flatten().collect();
                all.sort();
                all.dedup();
                Some(all)
            }
            let reqs: Vec<Requirement> = branches.iter().map(requirement).collect();
            Requirement {
                channels: union(reqs.iter().map(|r| r.channels.clone()).collect()),
                event_ids: union(reqs.iter().map(|r| r.event_ids.clone()).collect()),
            }
        }
        Expr::Pred(_) => {
            Requirement { channels: required_strings(expr, "Channel"), event_ids: required_numbers(expr, "EventID") }
        }
        Expr::Not(_) | Expr::Const(_) => Requirement::default(),
    }
}

fn has_keywords(expr: &Expr) -> bool {
    let mut found = false;
    expr.visit_predicates(&mut |p| found |= p.field.is_none());
    found
}

impl RuleSet {
    /// Compiles `rules` (IR with its source path); rules that cannot be compiled are returned with the reason
    /// and never stop the others.
    pub fn build(rules: Vec<(String, ir::Rule)>) -> (RuleSet, Vec<Rejected>) {
        RuleSet::build_reading(rules, &[])
    }

    /// [`RuleSet::build`], with events decoded for `also_read` too: the fields a detection must report
    /// (correlation group-by and value fields, the event time), read in the same pass as the rules' own.
    pub fn build_reading(rules: Vec<(String, ir::Rule)>, also_read: &[&str]) -> (RuleSet, Vec<Rejected>) {
        let inputs = rules
            .into_iter()
            .enumerate()
            .map(|(index, (path, rule))| RuleInput { index, logsource: rule.logsource.clone(), path, rule })
            .collect();
        RuleSet::build_with(inputs, also_read, &LogSources::Anywhere)
    }

    /// The general form: rules with their log sources as written, the fields detections must report, and how
    /// events' log sources are told (a rule runs only on events of a log source it can be about).
    pub fn build_with(rules: Vec<RuleInput>, also_read: &[&str], sources: &LogSources) -> (RuleSet, Vec<Rejected>) {
        let (set, rejected, _) = RuleSet::build_knowing(rules, also_read, sources, None);
        (set, rejected)
    }

    /// [`RuleSet::build_with`], taking what `known` holds of the rules' witnesses and regexes' sizes (a build over
    /// the same compilation derived it) instead of deriving it again; returns what it derived when `known` lacked
    /// any of it, with `known`'s, to keep for the next build. With no `known`, nothing is kept.
    pub fn build_knowing(
        rules: Vec<RuleInput>,
        also_read: &[&str],
        sources: &LogSources,
        known: Option<Derived>,
    ) -> (RuleSet, Vec<Rejected>, Option<Derived>) {
        let mut fields = FieldTable::default();
        let channel = fields.intern("Channel");
        let event_id = fields.intern("EventID");
        for name in also_read {
            fields.intern(name);
        }
        let classifier = match sources {
            LogSources::Anywhere => None,
            LogSources::Table(table) => Some(Classifier::new(table, &mut fields)),
            LogSources::Forced(logsource) => Some(Classifier::forced(logsource)),
        };
        let mut written = Vec::with_capacity(rules.len());
        let mut compiled = Vec::with_capacity(rules.len());
        let mut rejected = Vec::new();
        let mut index: HashMap<Key, Vec<u32>> = HashMap::new();
        let mut keywords = false;
        // What needs nothing from the other rules is derived first, on every core, or taken from `known`; budgets,
        // fields and the index are then decided in order.
        let exprs: Vec<(usize, &Expr)> = rules.iter().map(|r| (r.index, &r.rule.expr)).collect();
        let (measured, mut chosen, derived) = derived::derive(&exprs, known);
        let measured = Arc::new(measured);
        let mut regex_budget = Budget::measured(measured.clone());
        // The identifiers' programs repeat their rules' tests: their regexes (built only when a detection asks)
        // are counted apart, so that they never take a rule's place.
        let mut identifier_budget = Budget::measured(measured);
        // The compiled rules' prefilter witnesses.
        let mut witnesses = Vec::with_capacity(rules.len());
        for (at, RuleInput { index: source_index, path, rule, logsource }) in rules.into_iter().enumerate() {
            regex_budget.next_rule();
            let program = match compile_within(&rule.expr, &mut fields, &mut regex_budget) {
                Ok(p) => p,
                Err(diagnostic) => {
                    rejected.push(Rejected { index: source_index, diagnostic });
                    continue;
                }
            };
            keywords |= has_keywords(&rule.expr);
            let req = requirement(&rule.expr);
            let number = compiled.len() as u32;
            let channels: Vec<Option<String>> = match req.channels {
                Some(c) => c.into_iter().map(Some).collect(),
                None => vec![None],
            };
            let ids: Vec<Option<i64>> = match req.event_ids {
                Some(i) => i.into_iter().map(Some).collect(),
                None => vec![None],
            };
            for c in &channels {
                for i in &ids {
                    index.entry((c.clone(), *i)).or_default().push(number);
                }
            }
            let anchor = anchor(&rule.expr).map(|f| fields.intern(f));
            witnesses.push(chosen[at].take().unwrap_or_default());
            let identifiers =
                Identifiers::new(rule.identifiers, rule.identifiers_follow_match, &mut fields, &mut identifier_budget);
            compiled.push(CompiledRule { meta: reported(rule.meta), path, source_index, program, identifiers, anchor });
            written.push(logsource);
        }
        let mut prefilter = Prefilter::build(witnesses, &fields);
        let mut by_key = Index::default();
        for (key, rules) in index {
            let mut bits = RuleBits::new(compiled.len());
            bits.insert_all(&rules);
            by_key.insert(key, bits);
        }
        let index = by_key;
        // Per log source events can have, the rules that may run on its events; rules sharing a log source (most
        // do) are decided once.
        let mut distinct: Vec<(&LogSource, Vec<u32>)> = Vec::new();
        for (r, logsource) in written.iter().enumerate() {
            match distinct.iter_mut().find(|(l, _)| *l == logsource) {
                Some((_, rules)) => rules.push(r as u32),
                None => distinct.push((logsource, vec![r as u32])),
            }
        }
        let admissible: Vec<RuleBits> = classifier
            .as_ref()
            .map(|c| {
                c.sources
                    .iter()
                    .enumerate()
                    .map(|(key, source)| {
                        let mut bits = RuleBits::new(compiled.len());
                        for (logsource, rules) in &distinct {
                            if key as SourceKey == UNKNOWN || source.admits(logsource) {
                                bits.insert_all(rules);
                            }
                        }
                        bits
                    })
                    .collect()
            })
            .unwrap_or_default();
        let keyword_scopes = admissible.iter().map(|rules| prefilter.scope_keywords(rules)).collect();
        let set = RuleSet {
            rules: compiled,
            fields,
            keywords,
            index,
            channel: Some(channel),
            event_id: Some(event_id),
            prefilter,
            classifier,
            admissible,
            keyword_scopes,
        };
        (set, rejected, derived)
    }

    /// The log source of a decoded event, if the rule set tells them.
    pub fn event_source(&self, decoded: &DecodedEvent<'_>) -> Option<&EventSource> {
        self.classifier.as_ref()?.sources.get(decoded.source as usize)
    }

    fn classify(&self, event: &Event<'_>) -> SourceKey {
        self.classifier.as_ref().map_or(UNKNOWN, |c| c.classify(event))
    }

    /// The event, decoded for these rules.
    pub fn event<'e>(&self, json: &'e serde_json::Value) -> DecodedEvent<'e> {
        let event = Event::new(json, &self.fields, self.keywords);
        DecodedEvent { source: self.classify(&event), event }
    }

    /// Any record, decoded for these rules (JSON text straight from the text), or why it cannot be read;
    /// `position` names the record in the message.
    pub fn decode<'e>(&self, record: &'e Record, position: u64) -> Result<DecodedEvent<'e>, String> {
        let event = Event::of(record, &self.fields, self.keywords)
            .ok_or_else(|| record.error(position).unwrap_or_else(|| format!("record {position}: not JSON")))?;
        Ok(DecodedEvent { source: self.classify(&event), event })
    }

    /// Indices of the rules that match, in rule order.
    pub fn matches(&self, decoded: &DecodedEvent<'_>) -> Vec<u32> {
        let mut candidates = self.candidates(decoded);
        candidates.retain(|&r| self.rules[r as usize].program.eval(&decoded.event));
        candidates
    }

    /// What matched in a detection of rule `index`: each identifier of the rule that holds on the event, with the
    /// fields its tests read (or the texts its keywords matched). Evaluated by the matcher's own programs, only
    /// for detections.
    pub fn matched(&self, index: u32, event: &Event<'_>) -> Vec<(&str, Held)> {
        let Some(rule) = self.rules.get(index as usize) else { return Vec::new() };
        match &rule.identifiers {
            Identifiers::ByFields(reads) => {
                let mut held = Held::default();
                if reads.is_empty() || !rule.program.eval_held(event, &mut held) {
                    return Vec::new();
                }
                reads
                    .iter()
                    .filter_map(|r| {
                        let fields: Vec<FieldId> =
                            held.fields.iter().copied().filter(|f| r.fields.binary_search(f).is_ok()).collect();
                        let keywords = if r.keywords { held.keywords.clone() } else { Vec::new() };
                        let any = !fields.is_empty() || !keywords.is_empty();
                        any.then_some((r.name.as_str(), Held { fields, keywords }))
                    })
                    .collect()
            }
            Identifiers::Each(programs) => programs
                .iter()
                .filter_map(|(name, program)| {
                    let mut held = Held::default();
                    program.eval_held(event, &mut held).then_some((name.as_str(), held))
                })
                .collect(),
        }
    }

    /// [`RuleSet::matched`] as JSON: `{"selection": {"EventID": 7, "ImageLoaded": "..."}}`, or for a keyword
    /// identifier the list of the event's texts it matched: `{"keywords": ["..."]}`.
    pub fn matched_json(&self, index: u32, event: &Event<'_>) -> serde_json::Map<String, serde_json::Value> {
        self.matched(index, event)
            .into_iter()
            .map(|(name, held)| {
                let value = if held.fields.is_empty() {
                    serde_json::Value::from(held.keywords)
                } else {
                    let fields = held.fields.iter().filter_map(|&f| {
                        let value = event.get(f)?;
                        Some((self.fields.name(f).to_string(), value.to_json()))
                    });
                    serde_json::Value::Object(fields.collect())
                };
                (name.to_string(), value)
            })
            .collect()
    }

    /// Whether rule `index` may run on the event's log source.
    pub fn admits(&self, index: u32, decoded: &DecodedEvent<'_>) -> bool {
        self.admissible.get(decoded.source as usize).is_none_or(|rules| rules.contains(index))
    }

    /// Whether rule `index` matches the event (for diagnostics and benchmarks).
    pub fn rule_matches(&self, index: u32, event: &Event<'_>) -> bool {
        self.rules[index as usize].program.eval(event)
    }

    /// The rules the index cannot rule out for this event (their programs still decide).
    pub fn candidates(&self, decoded: &DecodedEvent<'_>) -> Vec<u32> {
        let event = &decoded.event;
        let channel = self.channel.and_then(|f| event.get(f)).and_then(Value::folded);
        let event_id = self.event_id.and_then(|f| event.get(f)).and_then(|v| match v {
            Value::Num(n, _) => Some(*n as i64),
            Value::Str(s, _) => s.trim().parse::<i64>().ok(),
            _ => None,
        });
        let mut candidates = RuleBits::new(self.rules.len());
        let keys = [(channel, event_id), (channel, None), (None, event_id), (None, None)];
        for (i, (c, id)) in keys.iter().enumerate() {
            // Skip keys that repeat an earlier one (an event without channel or id).
            if keys[..i].contains(&(*c, *id)) {
                continue;
            }
            if let Some(rules) = self.index.get(*c, *id) {
                candidates.union_with(rules);
            }
        }
        // Whether the prefilter pays is decided on the index's candidates, before the log-source intersection: it
        // also keeps out the keyword rules, which would otherwise build the record's JSON tree.
        let prefilter = candidates.len() >= PREFILTER_MIN_CANDIDATES;
        // Rules of another log source cost no more than this intersection.
        if let Some(admissible) = self.admissible.get(decoded.source as usize) {
            candidates.intersect_with(admissible);
        }
        if prefilter {
            // An event's values are read for keyword facts only when a rule with such facts is a candidate: from
            // a record's text, in one more pass over it (cheaper than listing every value of every record).
            // Only the keywords of the rules of the event's log source are looked for.
            let scope = self.keyword_scopes.get(decoded.source as usize).copied().unwrap_or(0);
            let mut seen = None;
            let keywords = match (self.prefilter.needs_keywords(&candidates, scope), event.text()) {
                (false, _) => KeywordFacts::Skip,
                (true, Some(text)) if self.prefilter.keywords_ruled_out(text, &candidates, scope) => {
                    KeywordFacts::Seen(seen.insert(self.prefilter.no_witnesses()))
                }
                (true, Some(text)) => {
                    let mut bits = self.prefilter.no_witnesses();
                    let mut visit = |value: &Value<'_>| self.prefilter.visit_keyword(value, &mut bits, scope);
                    match crate::decode::visit_values(text, &mut visit) {
                        true => KeywordFacts::Seen(seen.insert(bits)),
                        false => KeywordFacts::FromEvent(scope),
                    }
                }
                (true, None) => KeywordFacts::FromEvent(scope),
            };
            let admitted = self.prefilter.admitted_among(event, keywords, &candidates);
            candidates.intersect_with(&admitted);
        }
        let candidates = candidates
            .iter()
            .filter(|&r| self.rules[r as usize].anchor.is_none_or(|f| event.get(f).is_some()))
            .collect();
        candidates
    }
}
