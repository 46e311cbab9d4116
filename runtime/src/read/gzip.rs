//! Gzip as `zcat` reads it: any number of members one after the other, and zero bytes after the last one (the
//! padding of a copied disk image or tape block) ignored. Anything else after a member, and a member cut short,
//! is an error: the records decompressed before it have been delivered already.

use flate2::bufread::GzDecoder;
use std::io::{BufRead, Error, ErrorKind, Read};

/// The first two bytes of every gzip member.
pub(super) const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The decompressed bytes of every member of a gzip stream.
pub(super) struct GzipMembers<R: BufRead> {
    state: State<R>,
}

enum State<R: BufRead> {
    Member(GzDecoder<R>),
    Done,
}

impl<R: BufRead> GzipMembers<R> {
    /// Reads `inner`, which starts with a gzip member.
    pub(super) fn new(inner: R) -> GzipMembers<R> {
        GzipMembers { state: State::Member(GzDecoder::new(inner)) }
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let State::Member(decoder) = &mut self.state else { return Ok(0) };
            let n = decoder.read(buf).map_err(|e| match e.kind() {
                ErrorKind::UnexpectedEof => Error::new(ErrorKind::UnexpectedEof, "the gzip data is cut short"),
                _ => Error::new(e.kind(), format!("corrupt gzip data: {e}")),
            })?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member ended: another may follow.
            let State::Member(decoder) = std::mem::replace(&mut self.state, State::Done) else { return Ok(0) };
            let mut inner = decoder.into_inner();
            if another_member(&mut inner)? {
                self.state = State::Member(GzDecoder::new(inner));
            }
        }
    }
}

/// After a member: whether another starts here. The end of the input, or zero bytes up to it, end the stream.
fn another_member(inner: &mut impl BufRead) -> std::io::Result<bool> {
    let mut padding = false;
    loop {
        let buffer = inner.fill_buf()?;
        let Some(&first) = buffer.first() else { return Ok(false) };
        if first == 0 {
            let zeros = buffer.iter().take_while(|&&b| b == 0).count();
            inner.consume(zeros);
            padding = true;
            continue;
        }
        if !padding && first == MAGIC[0] && buffer.get(1).is_none_or(|&b| b == MAGIC[1]) {
            return Ok(true);
        }
        let what = if padding { "after the zero padding that follows" } else { "after" };
        return Err(Error::new(ErrorKind::InvalidData, format!("bytes that are not gzip {what} the gzip data")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text).expect("compressed");
        encoder.finish().expect("compressed")
    }

    fn read_all(bytes: &[u8]) -> (Vec<u8>, Option<String>) {
        let mut out = Vec::new();
        let error = GzipMembers::new(bytes).read_to_end(&mut out).err().map(|e| e.to_string());
        (out, error)
    }

    #[test]
    fn members_padding_truncation_and_trailing_garbage() {
        let mut two = gzip(b"one\n");
        two.extend(gzip(b"two\n"));
        assert_eq!(read_all(&two), (b"one\ntwo\n".to_vec(), None));

        let mut padded = gzip(b"one\n");
        padded.extend([0u8; 10_000]);
        assert_eq!(read_all(&padded), (b"one\n".to_vec(), None));

        let whole = gzip(&b"line\n".repeat(10_000));
        let (out, error) = read_all(&whole[..whole.len() / 2]);
        assert!(error.is_some_and(|e| e.contains("cut short")));
        assert!(!out.is_empty(), "what came before the cut is kept");

        let mut garbage = gzip(b"one\n");
        garbage.extend(b"not gzip");
        let (out, error) = read_all(&garbage);
        assert_eq!(out, b"one\n");
        assert!(error.is_some_and(|e| e.contains("not gzip")));
    }
}
