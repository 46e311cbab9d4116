//! Cutting an input into batches of records for the scanning pipeline (`scan.rs`): by size, and for standard input
//! by time as well (a batch waits at most [`LIVE_DELAY`] for more records), so `tail -f log | vigil hunt -` shows a
//! detection within a second.

use crossbeam_channel::{bounded, RecvTimeoutError};
use std::path::Path;
use std::time::{Duration, Instant};
use vigil_runtime::read::{self, Raw, Watch};

/// Records per batch, at most: large enough to amortise the channel traffic, small enough to keep memory low.
pub(super) const BATCH_RECORDS: usize = 256;
/// Bytes of record text per batch, at most (Mordor's Sysmon lines are about 3 KB: about 80 per batch). Memory in
/// flight is bounded by this rather than by a record count (`bench/corpus.sh` measures peak RSS).
pub(super) const BATCH_BYTES: usize = 256 << 10;
/// The longest a record of standard input waits for others to fill its batch.
const LIVE_DELAY: Duration = Duration::from_millis(200);

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

    /// The partial batch, if any.
    fn take(&mut self) -> Option<Vec<(u64, Raw)>> {
        self.bytes = 0;
        (!self.records.is_empty()).then(|| std::mem::take(&mut self.records))
    }
}
/// Reads one input into batches handed to `emit`, which says whether to go on (when it says no, the watch is
/// stopped: nothing more is read). After a stop, the records read before it are handed on and `Ok` returned.
pub(super) fn feed(path: &Path, watch: &Watch, emit: &mut dyn FnMut(Vec<(u64, Raw)>) -> bool) -> std::io::Result<()> {
    if path.as_os_str() == "-" {
        return feed_live(watch, emit);
    }
    let mut batcher = Batcher::default();
    let mut going = true;
    let outcome = read::read_path_watched(path, watch, &mut |position, raw| {
        if going {
            if let Some(full) = batcher.push(position, raw) {
                going = emit(full) || {
                    watch.stop();
                    false
                };
            }
        }
    });
    if let Some(rest) = batcher.take().filter(|_| going) {
        if !emit(rest) {
            watch.stop();
        }
    }
    if watch.stopped() {
        return Ok(());
    }
    outcome
}

/// What the thread reading standard input hands on.
enum Fed {
    Record(u64, Raw),
    End(std::io::Result<()>),
}

/// Standard input, read on a thread of its own so that a batch is handed on [`LIVE_DELAY`] after its first record
/// whether or not more come, and a stop is seen while the input is quiet. The thread is left blocked in its read
/// when the hunt stops first (the process ends with the hunt).
fn feed_live(watch: &Watch, emit: &mut dyn FnMut(Vec<(u64, Raw)>) -> bool) -> std::io::Result<()> {
    let (records, fed) = bounded::<Fed>(BATCH_RECORDS * 4);
    let reader_watch = watch.clone();
    std::thread::spawn(move || {
        let outcome = read::read_reader_watched(std::io::stdin().lock(), &reader_watch, &mut |position, raw| {
            let _ = records.send(Fed::Record(position, raw));
        });
        let _ = records.send(Fed::End(outcome));
    });
    let mut batcher = Batcher::default();
    let mut first: Option<Instant> = None;
    loop {
        let wait = first.map_or(LIVE_DELAY, |at| LIVE_DELAY.saturating_sub(at.elapsed()));
        let mut ended = None;
        match fed.recv_timeout(wait) {
            Ok(Fed::Record(position, raw)) => {
                first.get_or_insert_with(Instant::now);
                if let Some(full) = batcher.push(position, raw) {
                    first = None;
                    if !emit(full) {
                        watch.stop();
                        return Ok(());
                    }
                }
            }
            Ok(Fed::End(outcome)) => ended = Some(outcome),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => ended = Some(Ok(())),
        }
        let due = ended.is_some() || watch.stopped() || first.is_some_and(|at| at.elapsed() >= LIVE_DELAY);
        if !due {
            continue;
        }
        first = None;
        if let Some(part) = batcher.take() {
            if !emit(part) {
                watch.stop();
                return Ok(());
            }
        }
        if watch.stopped() {
            return Ok(());
        }
        if let Some(outcome) = ended {
            return outcome;
        }
    }
}
