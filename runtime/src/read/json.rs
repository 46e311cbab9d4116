//! JSON inputs: JSON lines, a JSON array, or concatenated (pretty-printed) JSON values, told apart by their first
//! bytes and lines. A bad line is reported and skipped; a record longer than [`MAX_RECORD`] is reported and
//! skipped without being held; concatenated values and arrays cannot resynchronise after a syntax error, so the
//! error ends the input (reported with what was lost).

use super::{Raw, RawSink};
use crate::record::json_error;
use serde::de::{SeqAccess, Visitor};
use std::cell::Cell;
use std::io::{BufRead, Cursor, Read};
use std::rc::Rc;

/// The longest record (a JSON line, one value of an array or stream) read; longer ones are reported and skipped.
pub const MAX_RECORD: usize = 16 << 20;
/// How much of the start of an input is looked at to tell JSON lines from concatenated values.
const PROBE: u64 = 1 << 20;
/// How many of its first lines are tried as JSON on their own.
const PROBE_LINES: usize = 16;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads JSON of any of the three layouts. `Err` when the input cannot be read on (the records before the error
/// have been delivered).
pub(super) fn read(reader: impl BufRead, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let mut reader = reader;
    skip_bom(&mut reader)?;
    let Some(first) = first_non_space(&mut reader)? else { return Ok(()) };
    if first == b'[' {
        return read_array(reader, sink);
    }
    if first != b'{' {
        return Err(std::io::Error::other(format!(
            "not JSON, gzip or EVTX: it starts with {}",
            if first.is_ascii_graphic() { format!("`{}`", first as char) } else { format!("the byte {first:#04x}") }
        )));
    }
    // JSON lines when any of the first lines is a JSON value on its own (a first line cut by log rotation does not
    // make the file unreadable); concatenated values otherwise (pretty-printed objects span lines). Decided as soon
    // as the lines read so far allow: a live input (`tail -f | vigil hunt -`) is not held until the probe fills.
    let mut probe = Vec::new();
    let lines_mode = probe_lines(&mut reader, &mut probe)?;
    let reader = Cursor::new(probe).chain(reader);
    if lines_mode {
        read_lines(reader, sink)
    } else {
        read_stream(reader, sink)
    }
}

/// Reads the start of the input into `probe` until its layout is known: JSON lines (`true`) at the first line that
/// is a JSON value on its own, or when no newline comes in [`PROBE`] bytes (a line longer than the probe is no
/// pretty-printed object's); concatenated values (`false`) after [`PROBE_LINES`] lines that are not, or at the end.
fn probe_lines(reader: &mut impl BufRead, probe: &mut Vec<u8>) -> std::io::Result<bool> {
    let (mut checked, mut tried) = (0, 0);
    let mut is_value = |line: &[u8]| -> Option<bool> {
        let line = line.trim_ascii();
        if line.is_empty() {
            return None;
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
            return Some(true);
        }
        tried += 1;
        (tried >= PROBE_LINES).then_some(false)
    };
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            // The end: the last line counts even without its newline.
            return Ok(is_value(&probe[checked..]).unwrap_or(false));
        }
        let take = buffer.len().min(PROBE as usize - probe.len());
        probe.extend_from_slice(&buffer[..take]);
        reader.consume(take);
        while let Some(at) = memchr::memchr(b'\n', &probe[checked..]) {
            let line = checked..checked + at;
            checked += at + 1;
            if let Some(decided) = is_value(&probe[line]) {
                return Ok(decided);
            }
        }
        if probe.len() as u64 >= PROBE {
            return Ok(checked == 0);
        }
    }
}

fn skip_bom(reader: &mut impl BufRead) -> std::io::Result<()> {
    if reader.fill_buf()?.starts_with(BOM) {
        reader.consume(BOM.len());
    }
    Ok(())
}

/// The first byte that is not JSON whitespace (left in the reader), or `None` at the end.
fn first_non_space(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => {
                let byte = buffer[at];
                reader.consume(at);
                return Ok(Some(byte));
            }
            None => {
                let len = buffer.len();
                reader.consume(len);
            }
        }
    }
}

/// One line into `line` (without its newline), at most `MAX_RECORD` bytes of it: `Ok(None)` at the end,
/// `Ok(Some(false))` for a longer line (read past, not kept).
fn next_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    line.clear();
    let (mut any, mut too_long) = (false, false);
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(any.then_some(!too_long));
        }
        any = true;
        let (end, used) = match memchr::memchr(b'\n', buffer) {
            Some(at) => (Some(at), at + 1),
            None => (None, buffer.len()),
        };
        let part = &buffer[..end.unwrap_or(used)];
        if !too_long {
            if line.len() + part.len() > MAX_RECORD {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(part);
            }
        }
        reader.consume(used);
        if end.is_some() {
            return Ok(Some(!too_long));
        }
    }
}

/// One JSON document per line; a bad line is reported with its number and skipped.
fn read_lines(mut reader: impl BufRead, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        let read = next_line(&mut reader, &mut line)
            .map_err(|e| std::io::Error::new(e.kind(), format!("stopped after line {number}: {e}")))?;
        number += 1;
        match read {
            None => return Ok(()),
            Some(false) => sink(number, Raw::Error(format!("line {number}: longer than {} MB", MAX_RECORD >> 20))),
            Some(true) => {
                let text = line.strip_prefix(BOM).unwrap_or(&line);
                if text.trim_ascii().is_empty() {
                    continue;
                }
                match std::str::from_utf8(text) {
                    Ok(text) => sink(number, Raw::Line(text.to_string())),
                    Err(e) => sink(
                        number,
                        Raw::Error(format!("line {number}: not UTF-8 text (byte {})", e.valid_up_to() + 1)),
                    ),
                }
            }
        }
    }
}

/// A reader that fails once it has read past `limit` (both shared with its owner, who moves the limit on after
/// each record): one record of an array or stream cannot grow without bound.
struct Capped<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    limit: Rc<Cell<u64>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read.get() > self.limit.get() {
            return Err(std::io::Error::other(format!("a record longer than {} MB", MAX_RECORD >> 20)));
        }
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// Where a [`Capped`] reader is, and how far it may go.
#[derive(Clone, Default)]
struct Cap {
    read: Rc<Cell<u64>>,
    limit: Rc<Cell<u64>>,
}

impl Cap {
    fn wrap<R: Read>(&self, inner: R) -> Capped<R> {
        self.next_record();
        Capped { inner, read: Rc::clone(&self.read), limit: Rc::clone(&self.limit) }
    }

    /// A record starts where the reader is.
    fn next_record(&self) {
        self.limit.set(self.read.get() + MAX_RECORD as u64);
    }
}

/// Concatenated JSON values (the layout of SigmaHQ's regression data). After a syntax error the stream cannot be
/// resynchronised: the error ends the input.
fn read_stream(reader: impl Read, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let cap = Cap::default();
    let mut stream = serde_json::Deserializer::from_reader(cap.wrap(reader)).into_iter::<serde_json::Value>();
    let mut position = 0u64;
    loop {
        cap.next_record();
        match stream.next() {
            None => return Ok(()),
            Some(Ok(value)) => {
                position += 1;
                sink(position, Raw::Value(value));
            }
            Some(Err(e)) => {
                let what = json_error(&e);
                return Err(std::io::Error::other(format!(
                    "value {}: {what}; concatenated JSON cannot be read past an error",
                    position + 1
                )));
            }
        }
    }
}

struct Elements<'a, 's> {
    sink: &'a mut RawSink<'s>,
    position: &'a mut u64,
    cap: Cap,
}

impl<'de> Visitor<'de> for Elements<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.cap.next_record();
            let Some(value) = seq.next_element::<serde_json::Value>()? else { return Ok(()) };
            *self.position += 1;
            (self.sink)(*self.position, Raw::Value(value));
        }
    }
}

/// A JSON array, element by element.
fn read_array(reader: impl Read, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let cap = Cap::default();
    let mut deserializer = serde_json::Deserializer::from_reader(cap.wrap(reader));
    let mut position = 0u64;
    let elements = Elements { sink, position: &mut position, cap };
    match serde::Deserializer::deserialize_seq(&mut deserializer, elements) {
        Ok(()) => Ok(()),
        Err(e) => Err(std::io::Error::other(format!(
            "array element {}: {}; an array cannot be read past an error",
            position + 1,
            json_error(&e)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A live input: one line, then nothing yet (a read past it is the bug this guards against).
    struct OneLineThenQuiet(Option<&'static [u8]>);

    impl Read for OneLineThenQuiet {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let line = self.0.take().expect("read past the first line: a live input would block here");
            buffer[..line.len()].copy_from_slice(line);
            Ok(line.len())
        }
    }

    #[test]
    fn the_layout_is_known_at_the_first_json_line_without_reading_on() {
        let mut reader = std::io::BufReader::new(OneLineThenQuiet(Some(b"{\"EventID\": 7}\n")));
        let mut probe = Vec::new();
        assert!(probe_lines(&mut reader, &mut probe).expect("read"));
        assert_eq!(probe, b"{\"EventID\": 7}\n");
    }

    #[test]
    fn pretty_printed_objects_are_concatenated_values() {
        let mut reader: &[u8] = b"{\n  \"EventID\": 7\n}\n{\n  \"EventID\": 8\n}\n";
        assert!(!probe_lines(&mut reader, &mut Vec::new()).expect("read"));
        let mut one_line_no_newline: &[u8] = b"{\"EventID\": 7}";
        assert!(probe_lines(&mut one_line_no_newline, &mut Vec::new()).expect("read"));
    }
}
