//! EVTX files: records rendered as JSON text by the `evtx` crate. A corrupt record is reported and skipped; a
//! corrupt chunk is reported with the number of records it held (read from its header when that survived); a file
//! that is empty or whose header is damaged says so. EVTX parsing seeks, so an EVTX file inside gzip or on
//! standard input is first copied to a temporary file (never held in memory), up to [`MAX_SPOOLED`] bytes.

use super::json::MAX_RECORD;
use super::{Raw, RawSink, Watch, Watched};
use evtx::err::EvtxError;
use evtx::EvtxParser;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// The first bytes of an EVTX file.
pub(super) const MAGIC: &[u8; 8] = b"ElfFile\0";
/// The largest EVTX file read from gzip or standard input (Windows caps a log at 16 TB, but a log of more than a
/// few GB is rare; a decompression bomb should not fill the disk).
pub const MAX_SPOOLED: u64 = 16 << 30;
const FILE_HEADER: u64 = 4096;
const CHUNK: u64 = 65536;

/// Reads an EVTX file (positioned anywhere: it is read from its start), through its [`Watched`] reads.
pub(super) fn read_file(mut file: Watched<File>, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let mut chunks = file.inner.try_clone()?;
    file.seek(SeekFrom::Start(0))?;
    let parser = EvtxParser::from_read_seek(file).map_err(|e| not_evtx(&e))?;
    read_records(parser, sink, |chunk| records_in_chunk(&mut chunks, chunk))
}

/// Reads an EVTX file from a stream (gzip, standard input) that starts with its magic: copies it to a temporary
/// file first.
pub(super) fn read_stream(stream: impl Read, sink: &mut RawSink<'_>) -> std::io::Result<()> {
    let mut spooled = tempfile::tempfile()?;
    let copied = std::io::copy(&mut stream.take(MAX_SPOOLED + 1), &mut spooled)?;
    if copied > MAX_SPOOLED {
        return Err(std::io::Error::other(format!("an EVTX file larger than {} GB", MAX_SPOOLED >> 30)));
    }
    read_file(Watched { inner: spooled, watch: Watch::default() }, sink)
}

fn not_evtx(e: &EvtxError) -> std::io::Error {
    std::io::Error::other(format!("an EVTX file whose header is damaged ({})", chain(e)))
}

/// An error with its causes, as one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// How many records chunk `chunk` of the file holds, from its header (`None` when that is damaged too).
fn records_in_chunk(file: &mut File, chunk: u64) -> Option<u64> {
    // The chunk header: "ElfChnk\0", then the first and last event record numbers (u64, little-endian). The
    // numbers are used even when the magic is damaged, if they are plausible: a record takes at least 24 bytes.
    let mut header = [0u8; 24];
    file.seek(SeekFrom::Start(FILE_HEADER + chunk * CHUNK)).ok()?;
    file.read_exact(&mut header).ok()?;
    let number = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap_or([0; 8]));
    let (first, last) = (number(8), number(16));
    (first > 0 && last >= first && last - first < CHUNK / 24).then(|| last - first + 1)
}

fn read_records<T: Read + Seek>(
    mut parser: EvtxParser<T>,
    sink: &mut RawSink<'_>,
    mut records_in_chunk: impl FnMut(u64) -> Option<u64>,
) -> std::io::Result<()> {
    let mut position = 0u64;
    for record in parser.records_json() {
        position += 1;
        match record {
            Ok(record) if record.data.len() > MAX_RECORD => sink(
                position,
                Raw::Error(format!("EVTX record {position}: rendered to more than {} MB", MAX_RECORD >> 20)),
            ),
            Ok(record) => sink(position, Raw::Evtx(record.data)),
            Err(EvtxError::FailedToParseChunk { chunk_id, source }) => {
                let lost = records_in_chunk(chunk_id);
                let message = format!(
                    "EVTX chunk {chunk_id} is corrupt ({}): {} lost",
                    chain(&*source),
                    lost.map_or("its records are".to_string(), |n| format!("{n} records"))
                );
                sink(position, Raw::Lost { records: lost.unwrap_or(1), message });
                // Positions stay those of the records: the next one follows the lost ones.
                position += lost.unwrap_or(1) - 1;
            }
            Err(e) => sink(position, Raw::Error(format!("EVTX record {position}: {}", chain(&e)))),
        }
    }
    Ok(())
}
