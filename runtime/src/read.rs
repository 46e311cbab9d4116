//! Event sources: JSON lines, a JSON array, concatenated (pretty-printed) JSON objects, gzip-compressed versions
//! of these, and EVTX files. Everything streams: memory does not grow with the input. A malformed line or a
//! corrupt EVTX record is reported and skipped; the rest is still read.

use crate::record::Record;
use flate2::read::MultiGzDecoder;
use serde::de::{SeqAccess, Visitor};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

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
    Error(String),
}

impl Raw {
    /// About how many bytes the record holds (its text; a parsed value counts as a typical event).
    pub fn size(&self) -> usize {
        match self {
            Raw::Line(text) | Raw::Evtx(text) | Raw::Error(text) => text.len(),
            Raw::Value(_) => 1024,
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
            Raw::Error(message) => Err(message),
        }
    }
}

/// Receives records as read, with their positions.
pub type RawSink<'s> = dyn FnMut(u64, Raw) + 's;

/// Reads a file by its name: `.evtx`, `.gz` (of any of the others), anything else as JSON.
pub fn read_path(path: &Path, sink: &mut Sink<'_>) -> std::io::Result<()> {
    read_path_raw(path, &mut |position, raw| sink(position, raw.parse(position)))
}

/// [`read_json`], records unparsed.
pub fn read_json(reader: impl BufRead, sink: &mut Sink<'_>) -> std::io::Result<()> {
    read_json_raw(reader, &mut |position, raw| sink(position, raw.parse(position)))
}

/// [`read_path`], records unparsed.
pub fn read_path_raw(path: &Path, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    if name.ends_with(".evtx") {
        return read_evtx(evtx::EvtxParser::from_path(path).map_err(std::io::Error::other)?, sink);
    }
    let file = File::open(path)?;
    if name.ends_with(".gz") {
        let mut decoder = BufReader::new(MultiGzDecoder::new(file));
        if name.ends_with(".evtx.gz") {
            let mut bytes = Vec::new();
            decoder.read_to_end(&mut bytes)?;
            let parser = evtx::EvtxParser::from_read_seek(Cursor::new(bytes)).map_err(std::io::Error::other)?;
            return read_evtx(parser, sink);
        }
        return read_json_raw(decoder, sink);
    }
    read_json_raw(BufReader::with_capacity(1 << 16, file), sink)
}

fn read_evtx<T: std::io::Read + std::io::Seek>(
    mut parser: evtx::EvtxParser<T>,
    sink: &mut RawSink<'_>,
) -> std::io::Result<()> {
    for (i, record) in parser.records_json().enumerate() {
        let position = i as u64 + 1;
        match record {
            Ok(record) => sink(position, Raw::Evtx(record.data)),
            Err(e) => sink(position, Raw::Error(format!("unreadable EVTX record: {e}"))),
        }
    }
    Ok(())
}

/// Reads JSON from any reader, finding out which of the three layouts it is.
pub fn read_json_raw(mut reader: impl BufRead, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    // The first character decides: `[` is an array; otherwise the first line tells lines from pretty objects.
    let first = loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => break buffer[at],
            None => {
                let len = buffer.len();
                reader.consume(len);
            }
        }
    };
    if first == b'[' {
        return read_array(reader, sink);
    }
    let mut first_line = String::new();
    reader.read_line(&mut first_line)?;
    let trimmed = first_line.trim();
    if trimmed.is_empty() || serde_json::from_str::<serde_json::Value>(trimmed).is_ok() {
        return read_lines(first_line, reader, sink);
    }
    read_stream(Cursor::new(first_line.into_bytes()).chain(reader), sink)
}

/// One JSON document per line; a bad line is reported with its number and skipped.
fn read_lines(first: String, reader: impl BufRead, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let mut handle = |number: u64, line: std::io::Result<String>| match line {
        Ok(line) if line.trim().is_empty() => {}
        Ok(line) => sink(number, Raw::Line(line)),
        Err(e) => sink(number, Raw::Error(format!("line {number}: {e}"))),
    };
    handle(1, Ok(first));
    for (i, line) in reader.lines().enumerate() {
        handle(i as u64 + 2, line);
    }
    Ok(())
}

/// Concatenated JSON values (the layout of SigmaHQ's regression data). After a syntax error the stream cannot be
/// resynchronised, so the error is reported and the file ends there.
fn read_stream(reader: impl Read, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let stream = serde_json::Deserializer::from_reader(reader).into_iter::<serde_json::Value>();
    for (i, value) in stream.enumerate() {
        let position = i as u64 + 1;
        match value {
            Ok(v) => sink(position, Raw::Value(v)),
            Err(e) => {
                sink(position, Raw::Error(format!("object {position}: {e}")));
                break;
            }
        }
    }
    Ok(())
}

struct Elements<'a, 's>(&'a mut RawSink<'s>);

impl<'de> Visitor<'de> for Elements<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut position = 0;
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            position += 1;
            (self.0)(position, Raw::Value(value));
        }
        Ok(())
    }
}

/// A JSON array, element by element.
fn read_array(reader: impl Read, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    if let Err(e) = serde::Deserializer::deserialize_seq(&mut deserializer, Elements(sink)) {
        sink(0, Raw::Error(format!("array: {e}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> Vec<(u64, Result<serde_json::Value, String>)> {
        let mut out = Vec::new();
        read_json(BufReader::new(text.as_bytes()), &mut |n, r| out.push((n, r))).expect("reads");
        out
    }

    #[test]
    fn json_lines_keep_line_numbers_and_skip_bad_lines() {
        let out = collect("{\"a\":1}\n\nnot json\n{\"a\":2}\n");
        let positions: Vec<(u64, bool)> = out.iter().map(|(n, r)| (*n, r.is_ok())).collect();
        assert_eq!(positions, vec![(1, true), (3, false), (4, true)]);
    }

    #[test]
    fn arrays_and_pretty_streams() {
        assert_eq!(collect("  [ {\"a\":1}, {\"a\":2} ]").len(), 2);
        let out = collect("{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n");
        assert_eq!(out.iter().map(|(n, r)| (*n, r.is_ok())).collect::<Vec<_>>(), vec![(1, true), (2, true)]);
    }
}
