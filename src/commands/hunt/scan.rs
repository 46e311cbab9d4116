//! The scanning pipeline of `vigil hunt`: one reader thread cuts the inputs into batches of records, worker
//! threads parse and match them, and the calling thread writes each batch's detections in input order. With one
//! worker (`--threads 1`) the calling thread does all three in turn.
//!
//! Memory stays bounded whatever the input size: a batch may only be read once a slot is free, and a slot is
//! freed when its batch is written, so at most `SLOTS_PER_WORKER * workers` batches exist at any time.
//! Output order is the input order (files in order, records in order), whatever the thread count.

use super::format::{EventJson, MatchedEvent};
use crossbeam_channel::{bounded, Receiver, Sender};
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use vigil_compiler::{Code, Diagnostic};
use vigil_runtime::correlate::Hits;
use vigil_runtime::correlation::{CorrelationEngine, Detection, Hit};
use vigil_runtime::fields::FieldId;
use vigil_runtime::read::{self, Raw};
use vigil_runtime::RuleSet;

/// Records per batch, at most: large enough to amortise the channel traffic, small enough to keep memory low.
const BATCH_RECORDS: usize = 256;
/// Bytes of record text per batch, at most (Mordor's Sysmon lines are about 3 KB: about 80 per batch). Memory in
/// flight is bounded by this rather than by a record count (`bench/corpus.sh` measures peak RSS).
const BATCH_BYTES: usize = 256 << 10;
/// Batches in flight per worker (read, being matched, or waiting for their turn to be written).
const SLOTS_PER_WORKER: usize = 2;

/// Cuts the records of an input into batches of at most `BATCH_RECORDS` records and `BATCH_BYTES` bytes.
#[derive(Default)]
struct Batcher {
    records: Vec<(u64, Raw)>,
    bytes: usize,
}

impl Batcher {
    /// Adds a record; a batch once it is full.
    fn push(&mut self, position: u64, raw: Raw) -> Option<Vec<(u64, Raw)>> {
        self.bytes += raw.size();
        self.records.push((position, raw));
        (self.records.len() == BATCH_RECORDS || self.bytes >= BATCH_BYTES).then(|| {
            self.bytes = 0;
            std::mem::take(&mut self.records)
        })
    }

    /// The last, partial batch, if any.
    fn rest(self) -> Option<Vec<(u64, Raw)>> {
        (!self.records.is_empty()).then_some(self.records)
    }
}
/// Unreadable records reported by message per input; the rest are counted.
const ERRORS_SHOWN: usize = 5;

/// How one detection is written; the scanner calls it on worker threads.
pub type Format<'f> = dyn Fn(&mut Vec<u8>, &MatchedEvent<'_>) + Sync + 'f;

/// How one correlation detection is written (on the writing thread).
pub type CorrelationFormat<'f> = dyn Fn(&mut Vec<u8>, &Detection) + 'f;

/// Correlations during a scan: workers make hits of detections, the writer runs the engine in input order.
pub struct Correlating<'a> {
    pub hits: &'a Hits,
    pub engine: &'a mut CorrelationEngine,
    pub format: &'a CorrelationFormat<'a>,
}

/// What the scan saw, in all.
#[derive(Default)]
pub struct Totals {
    pub events: u64,
    pub unreadable: u64,
    /// Detections per rule number.
    pub per_rule: BTreeMap<u32, u64>,
    /// Correlation detections per correlation number.
    pub per_correlation: BTreeMap<usize, u64>,
    /// Detections of correlated rules whose event had no readable time (left out of correlations).
    pub no_time: u64,
    /// Events whose log source could not be told (every rule ran on them).
    pub unknown_source: u64,
    /// Detections left out by `--from` / `--to` (their event time outside the range, or unreadable).
    pub outside_range: u64,
    /// Reported detections per computer (events without one are not counted here).
    pub per_computer: BTreeMap<String, u64>,
    /// The first and last event time of the reported detections (milliseconds since the epoch).
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Some input could not be opened or read to its end (the rest was read).
    pub io_failed: bool,
    /// Why the output could not be written (a closed pipe, a full disk): the scan stopped.
    pub output_error: Option<std::io::Error>,
}

/// A reported detection, for the totals.
pub struct Seen {
    pub rule: u32,
    pub computer: Option<String>,
    pub millis: Option<i64>,
}

impl Totals {
    /// Counts one reported detection.
    pub fn count(&mut self, seen: Seen) {
        *self.per_rule.entry(seen.rule).or_default() += 1;
        if let Some(computer) = seen.computer {
            *self.per_computer.entry(computer).or_default() += 1;
        }
        if let Some(t) = seen.millis {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }
}

enum Work {
    Records {
        seq: u64,
        file: usize,
        records: Vec<(u64, Raw)>,
    },
    /// The input ended, on an I/O error or not.
    End {
        seq: u64,
        file: usize,
        io_error: Option<String>,
    },
}

struct Done {
    seq: u64,
    file: usize,
    output: Vec<u8>,
    events: u64,
    errors: Vec<String>,
    /// Records that could not be read (a corrupt EVTX chunk is one message for all its records).
    unreadable: u64,
    per_rule: Vec<Seen>,
    hits: Vec<Hit>,
    no_time: u64,
    /// Events whose log source the rule set could not tell.
    unknown_source: u64,
    outside_range: u64,
    end: Option<Option<String>>,
}

/// What a hunt reports of what matched: rules that run only because a correlation reads them are not reported
/// themselves (`silent`, by rule number), and `--from` / `--to` keep detections (and correlation hits) to a time
/// range.
pub struct Narrow<'a> {
    pub silent: &'a [bool],
    pub range: Option<super::narrow::TimeRange>,
}

/// Scans `files` with `rules`, writing detections to `out` through `format`; progress counts events. `time`:
/// the fields holding an event's time, by their ids in the rule set's table.
pub fn scan(
    files: &[PathBuf],
    rules: &RuleSet,
    time: &[FieldId],
    workers: usize,
    format: &Format<'_>,
    narrow: &Narrow<'_>,
    mut correlating: Option<Correlating<'_>>,
    out: &mut dyn Write,
    progress: &ProgressBar,
) -> Totals {
    let workers = workers.max(1);
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let hits = correlating.as_ref().map(|c| c.hits);
    let matching = Matching { rules, time, hits, shown: &shown, format, narrow, progress };
    let writer =
        Writer { totals: Totals::default(), errors_in_file: 0, shown: &shown, correlating: correlating.as_mut(), out };
    if workers == 1 {
        return scan_inline(files, &matching, writer);
    }
    let (slot_tx, slot_rx) = bounded::<()>(SLOTS_PER_WORKER * workers);
    for _ in 0..SLOTS_PER_WORKER * workers {
        let _ = slot_tx.send(());
    }
    let (work_tx, work_rx) = bounded::<Work>(SLOTS_PER_WORKER * workers);
    let (done_tx, done_rx) = bounded::<Done>(SLOTS_PER_WORKER * workers);
    std::thread::scope(|scope| {
        scope.spawn(move || read_all(files, &slot_rx, work_tx));
        for _ in 0..workers {
            let (work_rx, done_tx, matching) = (work_rx.clone(), done_tx.clone(), &matching);
            scope.spawn(move || work(matching, &work_rx, &done_tx));
        }
        drop((work_rx, done_tx));
        // The receiving ends go to the writer, so that its early stop (a closed output) stops the others.
        write_in_order(done_rx, slot_tx, writer)
    })
}

/// The reader thread: every input in order, cut into batches, each sent once a slot is free.
fn read_all(files: &[PathBuf], slots: &Receiver<()>, work: Sender<Work>) {
    let mut seq = 0u64;
    for (file, path) in files.iter().enumerate() {
        let mut batcher = Batcher::default();
        let send = |records: Vec<(u64, Raw)>, seq: &mut u64| -> bool {
            // No slot or no worker left: the writer has stopped (closed output); reading on is pointless.
            if slots.recv().is_err() {
                return false;
            }
            let sent = work.send(Work::Records { seq: *seq, file, records }).is_ok();
            *seq += 1;
            sent
        };
        let mut stopped = false;
        let mut sink = |position: u64, raw: Raw| {
            if stopped {
                return;
            }
            if let Some(full) = batcher.push(position, raw) {
                stopped = !send(full, &mut seq);
            }
        };
        let outcome = read_input(path, &mut sink);
        if stopped {
            return;
        }
        if let Some(rest) = batcher.rest() {
            if !send(rest, &mut seq) {
                return;
            }
        }
        let io_error = outcome.err().map(|e| e.to_string());
        if slots.recv().is_err() || work.send(Work::End { seq, file, io_error }).is_err() {
            return;
        }
        seq += 1;
    }
}

fn read_input(path: &Path, sink: &mut read::RawSink<'_>) -> std::io::Result<()> {
    if path.as_os_str() == "-" {
        read::read_reader_raw(std::io::stdin().lock(), sink)
    } else {
        read::read_path_raw(path, sink)
    }
}

/// Parsing, matching and formatting of batches: what a worker thread does (or the calling thread, alone).
struct Matching<'a> {
    rules: &'a RuleSet,
    time: &'a [FieldId],
    hits: Option<&'a Hits>,
    shown: &'a [String],
    format: &'a Format<'a>,
    narrow: &'a Narrow<'a>,
    progress: &'a ProgressBar,
}

impl Matching<'_> {
    /// An empty batch of `file`; `end` marks the input's end (with its I/O error, if any).
    fn empty(seq: u64, file: usize, end: Option<Option<String>>) -> Done {
        Done {
            seq,
            file,
            output: Vec::new(),
            events: 0,
            errors: Vec::new(),
            unreadable: 0,
            per_rule: Vec::new(),
            hits: Vec::new(),
            no_time: 0,
            unknown_source: 0,
            outside_range: 0,
            end,
        }
    }

    fn end(seq: u64, file: usize, io_error: Option<String>) -> Done {
        Self::empty(seq, file, Some(io_error))
    }

    fn batch(&self, seq: u64, file: usize, records: Vec<(u64, Raw)>) -> Done {
        let mut result = Self::empty(seq, file, None);
        for (record, raw) in records {
            let lost = raw.unreadable().max(1);
            let parsed = raw.into_record();
            match parsed.as_ref().map_err(Clone::clone).and_then(|parsed| self.rules.decode(parsed, record)) {
                Ok(decoded) => {
                    result.events += 1;
                    result.unknown_source +=
                        u64::from(self.rules.event_source(&decoded).is_none_or(|s| s.product.is_none()));
                    let matched = self.rules.matches(&decoded);
                    if matched.is_empty() {
                        continue;
                    }
                    // A detection reuses the decode: its time is read once from the decoded fields, and the JSON
                    // tree of a record read as text is built only if the output prints the event.
                    let event = &decoded.event;
                    let time = vigil_runtime::time::event_time(event, self.time);
                    if let Some(range) = &self.narrow.range {
                        if !range.contains(time.and_then(vigil_runtime::time::millis)) {
                            result.outside_range += matched.len() as u64;
                            continue;
                        }
                    }
                    for rule in matched {
                        if let Some(hits) = self.hits.filter(|h| h.reads(rule)) {
                            match time.and_then(vigil_runtime::time::millis) {
                                Some(millis) => {
                                    result.hits.extend(hits.hit(rule, event, millis, (file as u32, record)))
                                }
                                None => result.no_time += 1,
                            }
                            // Base rules of correlations with `generate: false` print nothing themselves.
                            if !hits.reports(rule) {
                                continue;
                            }
                        }
                        if self.narrow.silent.get(rule as usize).copied().unwrap_or(false) {
                            continue;
                        }
                        let found = MatchedEvent {
                            rule,
                            file: &self.shown[file],
                            record,
                            event: EventJson::Decoded(event),
                            time,
                            matched: self.rules.matched_json(rule, event),
                        };
                        result.per_rule.push(Seen {
                            rule,
                            computer: super::details::computer(found.event.json()),
                            millis: time.and_then(vigil_runtime::time::millis),
                        });
                        (self.format)(&mut result.output, &found);
                    }
                }
                Err(message) => {
                    result.errors.push(message);
                    result.unreadable += lost;
                }
            }
        }
        self.progress.inc(result.events);
        result
    }
}

/// A worker thread: parses and matches batches, and formats their detections.
fn work(matching: &Matching<'_>, work: &Receiver<Work>, done: &Sender<Done>) {
    for item in work {
        let result = match item {
            Work::End { seq, file, io_error } => Matching::end(seq, file, io_error),
            Work::Records { seq, file, records } => matching.batch(seq, file, records),
        };
        if done.send(result).is_err() {
            return;
        }
    }
}

/// Writes batches (in input order) and keeps the totals; runs the correlation engine on their hits.
struct Writer<'a, 'c> {
    totals: Totals,
    errors_in_file: u64,
    shown: &'a [String],
    correlating: Option<&'a mut Correlating<'c>>,
    out: &'a mut dyn Write,
}

impl Writer<'_, '_> {
    /// Writes one batch; `false` when the output is gone (`| head`).
    fn write(&mut self, batch: Done) -> bool {
        if let Err(e) = self.out.write_all(&batch.output) {
            self.totals.output_error = Some(e);
            return false;
        }
        self.totals.events += batch.events;
        self.totals.no_time += batch.no_time;
        self.totals.unknown_source += batch.unknown_source;
        self.totals.outside_range += batch.outside_range;
        for seen in batch.per_rule {
            self.totals.count(seen);
        }
        if let Some(c) = self.correlating.as_mut() {
            let mut text = Vec::new();
            for hit in batch.hits {
                for detection in c.engine.push(hit) {
                    *self.totals.per_correlation.entry(detection.correlation).or_default() += 1;
                    (c.format)(&mut text, &detection);
                }
            }
            if let Err(e) = self.out.write_all(&text) {
                self.totals.output_error = Some(e);
                return false;
            }
        }
        let name = &self.shown[batch.file];
        for message in &batch.errors {
            if self.errors_in_file < ERRORS_SHOWN as u64 {
                let problem = Diagnostic::error(Code::RecordUnreadable, None, format!("skipped: {message}"));
                crate::report::problem_in(name, "", &problem);
            }
            self.errors_in_file += 1;
        }
        self.totals.unreadable += batch.unreadable;
        if let Some(io_error) = batch.end {
            if self.errors_in_file > ERRORS_SHOWN as u64 {
                let more = self.errors_in_file - ERRORS_SHOWN as u64;
                let problem =
                    Diagnostic::error(Code::RecordUnreadable, None, format!("{more} more unreadable records"));
                crate::report::problem_in(name, "", &problem);
            }
            self.errors_in_file = 0;
            if let Some(e) = io_error {
                crate::report::problem_in(name, "", &Diagnostic::error(Code::InputUnreadable, None, e));
                self.totals.io_failed = true;
            }
        }
        true
    }

    /// The end of the input: every held correlation hit is due.
    fn finish(mut self) -> Totals {
        if let Some(c) = self.correlating.as_mut() {
            let mut text = Vec::new();
            for detection in c.engine.finish() {
                *self.totals.per_correlation.entry(detection.correlation).or_default() += 1;
                (c.format)(&mut text, &detection);
            }
            if let Err(e) = self.out.write_all(&text) {
                self.totals.output_error = Some(e);
            }
        }
        self.totals
    }
}

/// The calling thread: batches in input order, their output written, their slots freed.
fn write_in_order(done: Receiver<Done>, slots: Sender<()>, mut writer: Writer<'_, '_>) -> Totals {
    let mut waiting: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 0u64;
    for result in &done {
        waiting.insert(result.seq, result);
        while let Some(batch) = waiting.remove(&next) {
            next += 1;
            if !writer.write(batch) {
                // Stop reading; the workers drain what is in flight.
                return writer.finish();
            }
            let _ = slots.send(());
        }
    }
    writer.finish()
}

/// One thread does everything, in order: no hand-over between threads when there is one core to use.
fn scan_inline(files: &[PathBuf], matching: &Matching<'_>, mut writer: Writer<'_, '_>) -> Totals {
    let mut seq = 0u64;
    for (file, path) in files.iter().enumerate() {
        let mut batcher = Batcher::default();
        let mut stopped = false;
        let outcome = read_input(path, &mut |position, raw| {
            if stopped {
                return;
            }
            if let Some(full) = batcher.push(position, raw) {
                stopped = !writer.write(matching.batch(seq, file, full));
                seq += 1;
            }
        });
        if stopped || batcher.rest().is_some_and(|rest| !writer.write(matching.batch(seq, file, rest))) {
            return writer.finish();
        }
        seq += 1;
        if !writer.write(Matching::end(seq, file, outcome.err().map(|e| e.to_string()))) {
            return writer.finish();
        }
        seq += 1;
    }
    writer.finish()
}
