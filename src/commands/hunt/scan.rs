//! The scanning pipeline of `vigil hunt`: reader threads cut the inputs into batches of records, worker threads
//! parse and match them, and the calling thread writes each batch's detections in input order. With one worker
//! (`--threads 1`) the calling thread does all three in turn.
//!
//! There are as many readers as workers (at most one per input): each takes the next input not yet taken, so a
//! folder of small EVTX files (one 64 KB chunk each, which the `evtx` crate cannot split between threads) is
//! rendered on every core, while one large input is read by one reader (a large EVTX file's chunks are rendered
//! on every core by the `evtx` crate itself).
//!
//! Memory stays bounded whatever the input size: a batch may only be read once its reader has slots for it, one
//! per [`SLOT_BYTES`] of its records (at least one), and they are freed when it is written, so the records in
//! flight never exceed `SLOTS_PER_WORKER * workers` full batches; many small inputs keep many small batches in
//! flight, so the workers are not left waiting for a reader one small file at a time. Each reader has slots of
//! its own: the input the writer waits for is being read by a reader whose slots only that input's batches hold,
//! and the writer frees them as they come, so a reader ahead (a later input) can never take the slots the
//! earlier input needs. Output order is the input order (files in order, records in order), whatever the thread
//! count.
//!
//! Detections are live: a batch's detections are flushed once written, and standard input is cut into batches by
//! time as well as size (`batches.rs`). A stop (Ctrl-C, or a closed output) ends the reading at once through the
//! [`Watch`] the inputs are read with; what was read is matched and written.

use super::batches::{feed, BATCH_BYTES};
use super::emit::{Emitter, Origin, Row};
use super::format::{EventJson, MatchedEvent};
use super::progress::Progress;
use crossbeam_channel::{bounded, Receiver, Sender};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use vigil_compiler::{Code, Diagnostic};
use vigil_runtime::correlate::Hits;
use vigil_runtime::correlation::{CorrelationEngine, Detection, Hit};
use vigil_runtime::fields::FieldId;
use vigil_runtime::read::{Raw, Watch};
use vigil_runtime::RuleSet;

/// Full batches in flight per worker (read, being matched, or waiting for their turn to be written).
const SLOTS_PER_WORKER: usize = 4;
/// The record bytes one slot holds: a full batch takes `BATCH_BYTES / SLOT_BYTES` slots, a small file's batch one.
/// With whole batches as the unit (two per worker), the 277 files of ../shared/evtx given five times scaled 1.26-1.40x
/// on two threads; with these slots 1.70x, and one large EVTX file 1.88x instead of 1.53x (`bench/NOTES.md`).
const SLOT_BYTES: usize = 8 << 10;
/// Slots per worker.
const SLOTS_PER_WORKER_BYTES: usize = SLOTS_PER_WORKER * (BATCH_BYTES / SLOT_BYTES);
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
    /// Detections the format could not write (Timesketch's, without an event time); counted otherwise.
    pub not_written: u64,
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

/// A reported detection, for the totals and the report.
pub struct Seen {
    pub rule: u32,
    pub computer: Option<String>,
    pub millis: Option<i64>,
    /// Where its text ends in its batch's output.
    pub end: usize,
    pub file: u32,
    pub record: u64,
    /// The details column, made only for the HTML report.
    pub details: Option<String>,
}

impl Seen {
    /// Its row for the HTML report.
    pub fn row(&self) -> Row {
        Row {
            origin: Origin::Rule(self.rule),
            millis: self.millis,
            computer: self.computer.clone(),
            details: self.details.clone().unwrap_or_default(),
            file: self.file,
            record: self.record,
        }
    }
}

impl Totals {
    /// Counts one reported detection.
    pub fn count(&mut self, seen: &Seen) {
        *self.per_rule.entry(seen.rule).or_default() += 1;
        if let Some(computer) = &seen.computer {
            if let Some(n) = self.per_computer.get_mut(computer) {
                *n += 1;
            } else {
                self.per_computer.insert(computer.clone(), 1);
            }
        }
        if let Some(t) = seen.millis {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }
}

/// Where a batch is in the output: its input, and its place among that input's batches (the input's end last).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    file: usize,
    part: u64,
}

impl Place {
    /// The place after this one: the next batch of the same input, or after an input's end the first of the next.
    fn next(self, ended: bool) -> Place {
        match ended {
            true => Place { file: self.file + 1, part: 0 },
            false => Place { file: self.file, part: self.part + 1 },
        }
    }
}

enum Work {
    Records {
        at: Place,
        /// The reader whose slots it holds.
        reader: usize,
        records: Vec<(u64, Raw)>,
        /// The slots it holds.
        slots: usize,
    },
    /// The input ended, on an I/O error or not.
    End { at: Place, reader: usize, io_error: Option<String> },
}

struct Done {
    at: Place,
    /// The reader whose slots it holds, and how many: freed when it is written.
    reader: usize,
    slots: usize,
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

/// How the inputs are read and where the detections go.
pub struct Reading<'a, 'o> {
    /// The inputs are read through it: bytes counted, reading stopped on Ctrl-C.
    pub watch: &'a Watch,
    pub progress: &'a Progress,
    pub emitter: &'a mut Emitter<'o>,
}

/// Scans `files` with `rules`, writing detections through `format` to the emitter. `time`: the fields holding an
/// event's time, by their ids in the rule set's table.
pub fn scan(
    files: &[PathBuf],
    rules: &RuleSet,
    time: &[FieldId],
    workers: usize,
    format: &Format<'_>,
    narrow: &Narrow<'_>,
    mut correlating: Option<Correlating<'_>>,
    reading: Reading<'_, '_>,
) -> Totals {
    let workers = workers.max(1);
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let hits = correlating.as_ref().map(|c| c.hits);
    let reporting = reading.emitter.reporting();
    let matching = Matching { rules, time, hits, shown: &shown, format, narrow, reporting };
    let Reading { watch, progress, emitter } = reading;
    let writer = Writer {
        totals: Totals::default(),
        errors_in_file: 0,
        files_done: 0,
        shown: &shown,
        correlating: correlating.as_mut(),
        emitter,
        watch,
        progress,
    };
    if workers == 1 {
        return scan_inline(files, &matching, watch, writer);
    }
    let readers = workers.min(files.len()).max(1);
    // Each reader's slots hold at least one full batch.
    let slots_per_reader = (SLOTS_PER_WORKER_BYTES * workers / readers).max(BATCH_BYTES / SLOT_BYTES);
    let (slot_senders, slot_receivers): (Vec<_>, Vec<_>) = (0..readers)
        .map(|_| {
            let (tx, rx) = bounded::<()>(slots_per_reader);
            (0..slots_per_reader).for_each(|_| tx.send(()).expect("the receiver is alive"));
            (tx, rx)
        })
        .unzip();
    // Every batch in flight holds a slot: the channels never hold more.
    let in_flight = slots_per_reader * readers;
    let (work_tx, work_rx) = bounded::<Work>(in_flight);
    let (done_tx, done_rx) = bounded::<Done>(in_flight);
    let next_input = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for (reader, slots) in slot_receivers.into_iter().enumerate() {
            let (work_tx, next_input) = (work_tx.clone(), &next_input);
            scope.spawn(move || read_all(files, next_input, watch, Slots { reader, free: slots }, work_tx));
        }
        for _ in 0..workers {
            let (work_rx, done_tx, matching) = (work_rx.clone(), done_tx.clone(), &matching);
            scope.spawn(move || work(matching, &work_rx, &done_tx));
        }
        drop((work_tx, work_rx, done_tx));
        // The receiving ends go to the writer, so that its early stop (a closed output) stops the others.
        write_in_order(done_rx, slot_senders, writer)
    })
}

/// A reader's slots: a free one is taken for each [`SLOT_BYTES`] of a batch it sends.
struct Slots {
    reader: usize,
    free: Receiver<()>,
}

impl Slots {
    /// Takes `n` slots; `false` when the writer has stopped (closed output): reading on is pointless.
    fn take(&self, n: usize) -> bool {
        (0..n).all(|_| self.free.recv().is_ok())
    }
}

/// A reader thread: the next input not taken yet, cut into batches, each sent once the reader has slots for it,
/// until every input is taken.
fn read_all(files: &[PathBuf], next_input: &AtomicUsize, watch: &Watch, slots: Slots, work: Sender<Work>) {
    loop {
        let file = next_input.fetch_add(1, Ordering::Relaxed);
        let Some(path) = files.get(file) else { return };
        let mut at = Place { file, part: 0 };
        let reader = slots.reader;
        let mut send = |records: Vec<(u64, Raw)>| -> bool {
            let bytes: usize = records.iter().map(|(_, raw)| raw.size()).sum();
            let needed = bytes.div_ceil(SLOT_BYTES).clamp(1, BATCH_BYTES / SLOT_BYTES);
            let sent = slots.take(needed) && work.send(Work::Records { at, reader, records, slots: needed }).is_ok();
            at = at.next(false);
            sent
        };
        let outcome = feed(path, watch, &mut send);
        if watch.stopped() {
            return;
        }
        let io_error = outcome.err().map(|e| e.to_string());
        if !slots.take(1) || work.send(Work::End { at, reader, io_error }).is_err() {
            return;
        }
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
    /// The HTML report is made: detections carry their details.
    reporting: bool,
}

impl Matching<'_> {
    /// An empty batch; `end` marks the input's end (with its I/O error, if any).
    fn empty(at: Place, end: Option<Option<String>>) -> Done {
        Done {
            at,
            // An input's end holds one slot of reader 0's; a batch's are set by the worker.
            reader: 0,
            slots: 1,
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

    fn end(at: Place, io_error: Option<String>) -> Done {
        Self::empty(at, Some(io_error))
    }

    fn batch(&self, at: Place, records: Vec<(u64, Raw)>) -> Done {
        let file = at.file;
        let mut result = Self::empty(at, None);
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
                        (self.format)(&mut result.output, &found);
                        let details =
                            self.reporting.then(|| super::details::details(&found.matched, found.event.json(), &[]));
                        result.per_rule.push(Seen {
                            rule,
                            computer: super::details::computer(found.event.json()),
                            millis: time.and_then(vigil_runtime::time::millis),
                            end: result.output.len(),
                            file: file as u32,
                            record,
                            details,
                        });
                    }
                }
                Err(message) => {
                    result.errors.push(message);
                    result.unreadable += lost;
                }
            }
        }
        result
    }
}

/// A worker thread: parses and matches batches, and formats their detections.
fn work(matching: &Matching<'_>, work: &Receiver<Work>, done: &Sender<Done>) {
    for item in work {
        let result = match item {
            Work::End { at, reader, io_error } => Done { reader, ..Matching::end(at, io_error) },
            Work::Records { at, reader, records, slots } => Done { reader, slots, ..matching.batch(at, records) },
        };
        if done.send(result).is_err() {
            return;
        }
    }
}

/// Writes one correlation detection as `format` says (nothing for a correlation that reports nothing itself) and
/// counts it.
pub fn write_correlation(
    emitter: &mut Emitter<'_>,
    totals: &mut Totals,
    format: &CorrelationFormat<'_>,
    detection: &Detection,
) -> std::io::Result<()> {
    *totals.per_correlation.entry(detection.correlation).or_default() += 1;
    let mut text = Vec::new();
    format(&mut text, detection);
    if text.is_empty() {
        return Ok(());
    }
    emitter.detection(&text, Some(detection.window_end))?;
    if emitter.reporting() {
        let (file, record) = detection.events.last().copied().unwrap_or((0, 0));
        let group: Vec<String> =
            detection.group.iter().map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(none)"))).collect();
        emitter.row(Row {
            origin: Origin::Correlation(detection.correlation),
            millis: Some(detection.window_end),
            computer: None,
            details: format!("{}; {} events", group.join(" "), detection.events.len()),
            file,
            record,
        });
    }
    Ok(())
}

/// Writes batches (in input order) and keeps the totals; runs the correlation engine on their hits.
struct Writer<'a, 'c, 'o> {
    totals: Totals,
    errors_in_file: u64,
    files_done: usize,
    shown: &'a [String],
    correlating: Option<&'a mut Correlating<'c>>,
    emitter: &'a mut Emitter<'o>,
    watch: &'a Watch,
    progress: &'a Progress,
}

impl Writer<'_, '_, '_> {
    /// Writes one batch; `false` when the output is gone (`| head`): the reading is stopped.
    fn write(&mut self, mut batch: Done) -> bool {
        let written = self.write_detections(&mut batch).and_then(|()| self.emitter.batch_done());
        if let Err(e) = written {
            self.totals.output_error = Some(e);
            self.watch.stop();
            return false;
        }
        self.totals.events += batch.events;
        self.totals.no_time += batch.no_time;
        self.totals.unknown_source += batch.unknown_source;
        self.totals.outside_range += batch.outside_range;
        let name = &self.shown[batch.at.file];
        for message in &batch.errors {
            if self.errors_in_file < ERRORS_SHOWN as u64 {
                let problem = Diagnostic::error(Code::RecordUnreadable, None, format!("skipped: {message}"));
                crate::report::problem_in(name, "", &problem);
            }
            self.errors_in_file += 1;
        }
        self.totals.unreadable += batch.unreadable;
        if let Some(io_error) = batch.end {
            self.files_done += 1;
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
        self.progress.update(self.files_done, self.totals.events);
        true
    }

    /// The batch's detections, then the correlation detections its hits complete.
    fn write_detections(&mut self, batch: &mut Done) -> std::io::Result<()> {
        let mut start = 0;
        for seen in &batch.per_rule {
            if seen.end == start {
                self.totals.not_written += 1;
            } else {
                self.emitter.detection(&batch.output[start..seen.end], seen.millis)?;
            }
            start = seen.end;
            if self.emitter.reporting() {
                self.emitter.row(seen.row());
            }
            self.totals.count(seen);
        }
        if self.correlating.is_some() {
            let mut detections = Vec::new();
            if let Some(c) = self.correlating.as_mut() {
                for hit in std::mem::take(&mut batch.hits) {
                    detections.extend(c.engine.push(hit));
                }
            }
            self.write_correlations(detections)?;
        }
        Ok(())
    }

    fn write_correlations(&mut self, detections: Vec<Detection>) -> std::io::Result<()> {
        let Some(c) = self.correlating.as_mut() else { return Ok(()) };
        for detection in &detections {
            write_correlation(self.emitter, &mut self.totals, c.format, detection)?;
        }
        Ok(())
    }

    /// The end of the input: every held correlation hit is due.
    fn finish(mut self) -> Totals {
        if let Some(c) = self.correlating.as_mut() {
            let detections = c.engine.finish();
            if let Err(e) = self.write_correlations(detections).and_then(|()| self.emitter.batch_done()) {
                self.totals.output_error = Some(e);
            }
        }
        self.progress.update(self.files_done, self.totals.events);
        self.totals
    }
}

/// The calling thread: batches in input order, their output written, their slots freed (to the reader that
/// took them).
fn write_in_order(done: Receiver<Done>, slots: Vec<Sender<()>>, mut writer: Writer<'_, '_, '_>) -> Totals {
    let mut waiting: BTreeMap<Place, Done> = BTreeMap::new();
    let mut next = Place { file: 0, part: 0 };
    for result in &done {
        waiting.insert(result.at, result);
        while let Some(batch) = waiting.remove(&next) {
            next = next.next(batch.end.is_some());
            let (reader, held) = (batch.reader, batch.slots);
            if !writer.write(batch) {
                // Stop reading; the workers drain what is in flight.
                return writer.finish();
            }
            for _ in 0..held {
                let _ = slots[reader].send(());
            }
        }
    }
    writer.finish()
}

/// One thread does everything, in order: no hand-over between threads when there is one core to use.
fn scan_inline(files: &[PathBuf], matching: &Matching<'_>, watch: &Watch, mut writer: Writer<'_, '_, '_>) -> Totals {
    for (file, path) in files.iter().enumerate() {
        let mut at = Place { file, part: 0 };
        let outcome = feed(path, watch, &mut |records| {
            let batch = matching.batch(at, records);
            at = at.next(false);
            writer.write(batch)
        });
        if watch.stopped() || !writer.write(Matching::end(at, outcome.err().map(|e| e.to_string()))) {
            return writer.finish();
        }
    }
    writer.finish()
}
