//! Event sources: JSON lines, a JSON array, concatenated (pretty-printed) JSON values, EVTX, and gzip of any of
//! these, told apart by their content (never by a file's name), from files and from standard input alike.
//! Everything streams: memory does not grow with the input, and no record is held past [`MAX_RECORD`] bytes. A
//! malformed line or a corrupt EVTX record is reported and skipped; an error the input cannot be read past (a
//! gzip cut short, a syntax error in an array) ends that input with an error, the records before it delivered.

mod evtx;
mod gzip;
mod json;

pub use self::evtx::MAX_SPOOLED;
pub use self::json::MAX_RECORD;
use crate::record::Record;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// What happened to one record: its 1-based position (line for JSON lines, element for arrays and object
/// streams, record order for EVTX) and the event or why it could not be read.
pub type Sink<'s> = dyn FnMut(u64, Result<serde_json::Value, String>) + 's;

/// One record as read, before JSON lines are parsed: parsing is the costliest part of reading, so a caller may
/// hand it to other threads ([`Raw::parse`]).
#[derive(Debug)]
pub enum Raw {
    /// A line of a JSON-lines file, not parsed yet.
    Line(String),
    Value(serde_json::Value),
    /// An EVTX record rendered as JSON text (the matcher reads its fields from the text: [`Record`]).
    Evtx(String),
    /// A record that cannot be read, and why.
    Error(String),
    /// Several records lost at once (a corrupt EVTX chunk), and why.
    Lost {
        records: u64,
        message: String,
    },
}

impl Raw {
    /// About how many bytes the record holds (its text; a parsed value counts as a typical event).
    pub fn size(&self) -> usize {
        match self {
            Raw::Line(text) | Raw::Evtx(text) | Raw::Error(text) | Raw::Lost { message: text, .. } => text.len(),
            Raw::Value(_) => 1024,
        }
    }

    /// How many records this stands for that could not be read.
    pub fn unreadable(&self) -> u64 {
        match self {
            Raw::Error(_) => 1,
            Raw::Lost { records, .. } => *records,
            _ => 0,
        }
    }

    /// The event as JSON, or why it could not be read; `position` names the record in the message.
    pub fn parse(self, position: u64) -> Result<serde_json::Value, String> {
        self.into_record()?.into_json(position)
    }

    /// The event as the matcher reads it (JSON text is not parsed: [`RuleSet::decode`](crate::RuleSet::decode)
    /// reads it, and says when it is not JSON), or why it could not be read.
    pub fn into_record(self) -> Result<Record, String> {
        match self {
            Raw::Line(line) => Ok(Record::line(line)),
            Raw::Value(value) => Ok(Record::Json(value)),
            Raw::Evtx(text) => Ok(Record::evtx(text)),
            Raw::Error(message) | Raw::Lost { message, .. } => Err(message),
        }
    }
}

/// Receives records as read, with their positions.
pub type RawSink<'s> = dyn FnMut(u64, Raw) + 's;

/// Reads a file, whatever its layout (see the module).
pub fn read_path(path: &Path, sink: &mut Sink<'_>) -> std::io::Result<()> {
    read_path_raw(path, &mut |position, raw| sink(position, raw.parse(position)))
}

/// Reads a stream (standard input), whatever its layout.
pub fn read_reader(reader: impl Read, sink: &mut Sink<'_>) -> std::io::Result<()> {
    read_reader_raw(reader, &mut |position, raw| sink(position, raw.parse(position)))
}

/// [`read_path`], records unparsed.
pub fn read_path_raw(path: &Path, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    read_path_watched(path, &Watch::default(), sink)
}

/// [`read_reader`], records unparsed.
pub fn read_reader_raw(reader: impl Read, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    read_reader_watched(reader, &Watch::default(), sink)
}

/// [`read_path_raw`], its bytes counted and its reading stopped on request (see [`Watch`]).
pub fn read_path_watched(path: &Path, watch: &Watch, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let mut file = Watched { inner: File::open(path)?, watch: watch.clone() };
    let mut magic = [0u8; 8];
    let n = read_up_to(&mut file, &mut magic)?;
    if n == 0 {
        return Ok(()); // an empty file holds no records
    }
    if magic == *evtx::MAGIC {
        // A file seeks: read in place.
        return evtx::read_file(file, sink);
    }
    read_reader_raw(Cursor::new(magic[..n].to_vec()).chain(file), sink)
}

/// [`read_reader_raw`], its bytes counted and its reading stopped on request (see [`Watch`]).
pub fn read_reader_watched(reader: impl Read, watch: &Watch, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let reader = Watched { inner: reader, watch: watch.clone() };
    read_sniffed(Box::new(BufReader::with_capacity(1 << 16, reader)), sink, 0)
}

/// What a caller sees of a reading from another thread: the bytes read so far from the input (compressed bytes for
/// gzip: what a progress bar compares with the file's size), and a flag that stops it. A stopped reading ends at
/// its next read with an error that says [`STOPPED`] (the caller that stopped it knows: [`Watch::stopped`]); the
/// records before were delivered. Clones share the counter and the flag.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    bytes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// The message of the error a stopped reading ends with.
pub const STOPPED: &str = "reading stopped";

impl Watch {
    /// Bytes read so far by every reading this watch was given to.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Asks every reading this watch was given to to stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// An input whose reads are counted and stopped by a [`Watch`].
struct Watched<R> {
    inner: R,
    watch: Watch,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.watch.stopped() {
            return Err(std::io::Error::other(STOPPED));
        }
        let n = self.inner.read(buffer)?;
        self.watch.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Watched<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(to)
    }
}

/// Reads by content: gzip (decompressed, then read by content again), EVTX, or JSON.
fn read_sniffed(mut reader: Box<dyn BufRead + '_>, sink: &mut RawSink<'_>, depth: usize) -> std::io::Result<()> {
    let mut head = [0u8; 8];
    let n = read_up_to(&mut reader, &mut head)?;
    let head = &head[..n];
    let reader = Cursor::new(head.to_vec()).chain(reader);
    if head.starts_with(&gzip::MAGIC) {
        if depth > 0 {
            return Err(std::io::Error::other("gzip inside gzip: not read"));
        }
        return read_sniffed(
            Box::new(BufReader::with_capacity(1 << 16, gzip::GzipMembers::new(reader))),
            sink,
            depth + 1,
        );
    }
    if head == evtx::MAGIC {
        return evtx::read_stream(reader, sink);
    }
    json::read(reader, sink)
}

/// Reads until `buffer` is full or the input ends; how many bytes it got.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each record's position and whether it was read; why the input ended early, if it did.
    type Read = (Vec<(u64, Result<serde_json::Value, String>)>, Option<String>);

    fn collect(bytes: &[u8]) -> Read {
        let mut out = Vec::new();
        let end = read_reader(bytes, &mut |n, r| out.push((n, r))).err().map(|e| e.to_string());
        (out, end)
    }

    fn positions(bytes: &[u8]) -> Vec<(u64, bool)> {
        collect(bytes).0.iter().map(|(n, r)| (*n, r.is_ok())).collect()
    }

    #[test]
    fn json_lines_keep_line_numbers_and_skip_bad_lines() {
        assert_eq!(positions(b"{\"a\":1}\n\nnot json\n{\"a\":2}\n"), vec![(1, true), (3, false), (4, true)]);
        // A cut first line, a BOM, Latin-1 text: reported, the rest read.
        assert_eq!(positions(b"{\"a\":1, \"b\n{\"a\":2}\n"), vec![(1, false), (2, true)]);
        assert_eq!(positions(b"\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n"), vec![(1, true), (2, true)]);
        assert_eq!(positions(b"{\"a\":\"caf\xE9\"}\n{\"a\":2}\n"), vec![(1, false), (2, true)]);
    }

    #[test]
    fn arrays_and_pretty_streams() {
        assert_eq!(positions(b"  [ {\"a\":1}, {\"a\":2} ]"), vec![(1, true), (2, true)]);
        assert_eq!(positions(b"{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n"), vec![(1, true), (2, true)]);
        let (out, end) = collect(b"[{\"a\":1}, {\"a\":}]");
        assert_eq!(out.len(), 1);
        assert!(end.is_some_and(|e| e.contains("array element 2")));
    }

    #[test]
    fn gzip_is_read_by_content() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"{\"a\":1}\n{\"a\":2}\n").expect("compressed");
        assert_eq!(positions(&encoder.finish().expect("compressed")), vec![(1, true), (2, true)]);
    }

    #[test]
    fn a_watch_counts_the_bytes_read_and_stops_a_reading() {
        let text: Vec<u8> = (0..400_000).flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes()).collect();
        let watch = Watch::default();
        let mut seen = 0u64;
        read_reader_watched(&text[..], &watch, &mut |_, _| seen += 1).expect("read to the end");
        assert_eq!((seen, watch.bytes()), (400_000, text.len() as u64));

        let watch = Watch::default();
        let mut seen = 0u64;
        let end = read_reader_watched(&text[..], &watch, &mut |_, _| {
            seen += 1;
            if seen == 10 {
                watch.stop();
            }
        });
        assert!(end.is_err_and(|e| e.to_string().contains(STOPPED)));
        // The records of the buffer already read are delivered; the rest is not read.
        assert!(seen < 400_000 && watch.bytes() < text.len() as u64, "{seen} records, {} bytes", watch.bytes());
    }

    #[test]
    fn what_is_not_a_log_says_so() {
        let (out, end) = collect(&[0u8; 4096]);
        assert!(out.is_empty());
        assert!(end.is_some_and(|e| e.contains("not JSON, gzip or EVTX")), "zeros");
        assert!(collect(b"").1.is_none(), "an empty input is no error");
    }

    #[test]
    fn deep_nesting_and_long_records_are_reported() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let (_, end) = collect(deep.as_bytes());
        assert!(end.is_some_and(|e| e.contains("nested more than 128")));
        let mut long = b"{\"a\":\"".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_RECORD + 10));
        long.extend(b"\"}\n{\"a\":2}\n");
        assert_eq!(positions(&long), vec![(1, false), (2, true)]);
    }
}
