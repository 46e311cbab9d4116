//! Where detections go once found (in input order): straight to the output, flushed after every batch so that a
//! reader sees them as they are found; or, with `--sort time`, through an external sort by event time that holds
//! at most [`SORT_SEGMENT`] detections in memory and spills sorted runs to temporary files past it. Either way,
//! with `--report`, each detection also leaves a row for the HTML report.

use extsort::{ExternalSorter, PushExternalSorter, Sortable};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// Detections held in memory by `--sort time` before a sorted run is written to a temporary file. A detection's
/// text is a few KB in JSON lines (its event), so this bounds the sort's memory to some 15 MB (Mordor x18: 76 MB
/// peak against 61 MB in input order, `bench/hunt_speed.sh`). Each spilled run holds a file open until the merge.
pub const SORT_SEGMENT: usize = 2048;
/// Rows the HTML report lists at most (its counts and chart cover every detection).
pub const REPORT_ROWS: usize = 50_000;
/// The longest details text of a report row, in characters.
const ROW_DETAILS: usize = 400;

/// What a detection came from: a rule or a correlation, by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    Rule(u32),
    Correlation(usize),
}

/// A detection as the HTML report lists it.
pub struct Row {
    pub origin: Origin,
    pub millis: Option<i64>,
    pub computer: Option<String>,
    pub details: String,
    /// The input by number, and the record in it.
    pub file: u32,
    pub record: u64,
}

/// What the HTML report is made of, beyond the summary.
#[derive(Default)]
pub struct ReportRows {
    /// The first [`REPORT_ROWS`] detections.
    pub rows: Vec<Row>,
    /// Every detection with a time, counted per hour (milliseconds since the epoch, at the hour's start) and
    /// origin.
    pub per_hour: BTreeMap<(i64, Origin), u64>,
    /// Detections seen, listed or not.
    pub seen: u64,
}

/// One detection's text, keyed by event time and then by the order it was found (detections without a time
/// last, in the order found).
struct Timed {
    millis: i64,
    seq: u64,
    text: Vec<u8>,
}

impl Sortable for Timed {
    fn encode<W: Write>(&self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(&self.millis.to_le_bytes())?;
        writer.write_all(&self.seq.to_le_bytes())?;
        writer.write_all(&(self.text.len() as u64).to_le_bytes())?;
        writer.write_all(&self.text)
    }

    fn decode<R: Read>(reader: &mut R) -> std::io::Result<Timed> {
        let mut word = [0u8; 8];
        let mut next = |reader: &mut R| reader.read_exact(&mut word).map(|()| word);
        let millis = i64::from_le_bytes(next(reader)?);
        let seq = u64::from_le_bytes(next(reader)?);
        let len = u64::from_le_bytes(next(reader)?);
        let mut text = Vec::new();
        reader.take(len).read_to_end(&mut text)?;
        if text.len() as u64 != len {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(Timed { millis, seq, text })
    }
}

type ByTime = fn(&Timed, &Timed) -> Ordering;

fn by_time(a: &Timed, b: &Timed) -> Ordering {
    (a.millis, a.seq).cmp(&(b.millis, b.seq))
}

/// The detections' way out. Errors are the output's (or the sort's temporary files').
pub struct Emitter<'o> {
    out: &'o mut dyn Write,
    sorter: Option<PushExternalSorter<Timed, ByTime>>,
    report: Option<ReportRows>,
    /// Something was written since the last flush.
    unflushed: bool,
    seq: u64,
}

impl<'o> Emitter<'o> {
    /// `sort`: by event time (`--sort time`); `report`: keep rows for the HTML report.
    pub fn new(out: &'o mut dyn Write, sort: bool, report: bool) -> Emitter<'o> {
        let sorter = sort.then(|| ExternalSorter::new().with_segment_size(SORT_SEGMENT).pushed_by(by_time as ByTime));
        Emitter { out, sorter, report: report.then(ReportRows::default), unflushed: false, seq: 0 }
    }

    /// Whether the report's rows are kept (the caller then makes them).
    pub fn reporting(&self) -> bool {
        self.report.is_some()
    }

    /// One detection's text (a line or more) and its event time.
    pub fn detection(&mut self, text: &[u8], millis: Option<i64>) -> std::io::Result<()> {
        self.seq += 1;
        match &mut self.sorter {
            Some(sorter) => {
                let millis = millis.unwrap_or(i64::MAX);
                sorter.push(Timed { millis, seq: self.seq, text: text.to_vec() })
            }
            None => {
                self.unflushed = true;
                self.out.write_all(text)
            }
        }
    }

    /// One detection's row for the report (a no-op without `--report`).
    pub fn row(&mut self, mut row: Row) {
        let Some(report) = &mut self.report else { return };
        report.seen += 1;
        if let Some(millis) = row.millis {
            const HOUR: i64 = 3_600_000;
            *report.per_hour.entry((millis.div_euclid(HOUR) * HOUR, row.origin)).or_default() += 1;
        }
        if report.rows.len() < REPORT_ROWS {
            if let Some((cut, _)) = row.details.char_indices().nth(ROW_DETAILS) {
                row.details.truncate(cut);
                row.details.push('…');
            }
            report.rows.push(row);
        }
    }

    /// The end of a batch: what was written reaches the reader now (unsorted output only).
    pub fn batch_done(&mut self) -> std::io::Result<()> {
        if std::mem::take(&mut self.unflushed) {
            self.out.flush()?;
        }
        Ok(())
    }

    /// The end of the hunt: sorted detections are written, in time order; the report's rows, if kept.
    pub fn finish(self) -> (std::io::Result<()>, Option<ReportRows>) {
        let Emitter { out, sorter, report, .. } = self;
        let written = (|| {
            if let Some(sorter) = sorter {
                for timed in sorter.done()? {
                    out.write_all(&timed?.text)?;
                }
            }
            out.flush()
        })();
        (written, report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_by_time_spills_and_merges_in_order() {
        let mut out = Vec::new();
        let mut emitter = Emitter::new(&mut out, true, false);
        // More detections than a segment holds, times in a scrambled order, some without a time.
        let n = SORT_SEGMENT * 2 + 17;
        for i in 0..n {
            let millis = (i % 7 != 3).then(|| ((i * 7919) % 1000) as i64);
            let text = format!("{}:{i}\n", millis.map_or("none".to_string(), |m| m.to_string()));
            emitter.detection(text.as_bytes(), millis).expect("pushed");
        }
        let (written, _) = emitter.finish();
        written.expect("written");
        let lines: Vec<(String, usize)> = String::from_utf8(out)
            .expect("text")
            .lines()
            .map(|l| {
                let (t, i) = l.split_once(':').expect("time:index");
                (t.to_string(), i.parse().expect("index"))
            })
            .collect();
        assert_eq!(lines.len(), n);
        let key = |(t, i): &(String, usize)| (t.parse::<i64>().unwrap_or(i64::MAX), *i);
        assert!(lines.windows(2).all(|w| key(&w[0]) < key(&w[1])), "in time order, then found order");
    }

    #[test]
    fn report_rows_are_capped_but_every_detection_is_counted_per_hour() {
        let mut out = Vec::new();
        let mut emitter = Emitter::new(&mut out, false, true);
        for i in 0..REPORT_ROWS + 10 {
            let row = Row {
                origin: Origin::Rule(0),
                millis: Some(i as i64 * 1000),
                computer: None,
                details: "x".repeat(1000),
                file: 0,
                record: i as u64,
            };
            emitter.row(row);
        }
        let (_, report) = emitter.finish();
        let report = report.expect("kept");
        assert_eq!((report.rows.len(), report.seen), (REPORT_ROWS, REPORT_ROWS as u64 + 10));
        assert_eq!(report.per_hour.values().sum::<u64>(), REPORT_ROWS as u64 + 10);
        assert_eq!(report.rows[0].details.chars().count(), ROW_DETAILS + 1);
    }
}
