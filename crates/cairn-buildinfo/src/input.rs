//! The one-pass reader: bytes come once, in order; what the reader looked at but must see
//! again (a blob found inside a scanned chunk) is pushed back, never re-read from the file.

use crate::Error;
use std::io::Read;

/// Where the bytes of an executable come from: read forward, and skip without looking.
pub trait Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Skip `n` bytes. The default reads them into a scratch buffer.
    fn skip(&mut self, mut n: u64) -> std::io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        while n > 0 {
            let want = n.min(buf.len() as u64) as usize;
            let got = self.read(&mut buf[..want])?;
            if got == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            n -= got as u64;
        }
        Ok(())
    }
}

/// Any reader as an [`Input`].
pub struct Plain<R>(pub R);

impl<R: Read> Input for Plain<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

pub(crate) struct Fwd<'a> {
    inner: &'a mut dyn Input,
    /// Offset of the next byte handed out.
    pos: u64,
    size: u64,
    /// Bytes at `pos..` already taken from `inner`, to be handed out again.
    back: Vec<u8>,
}

impl<'a> Fwd<'a> {
    pub fn new(inner: &'a mut dyn Input, size: u64) -> Self {
        Fwd {
            inner,
            pos: 0,
            size,
            back: Vec::new(),
        }
    }

    pub fn position(&self) -> u64 {
        self.pos
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Up to `buf.len()` bytes; 0 at the end of the file.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let n = if !self.back.is_empty() {
            let n = buf.len().min(self.back.len());
            buf[..n].copy_from_slice(&self.back[..n]);
            self.back.drain(..n);
            n
        } else {
            self.inner.read(buf).map_err(Error::Io)?
        };
        self.pos += n as u64;
        Ok(n)
    }

    pub fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        let mut done = 0;
        while done < buf.len() {
            let n = self.read(&mut buf[done..])?;
            if n == 0 {
                return Err(Error::Truncated { offset: self.pos });
            }
            done += n;
        }
        Ok(())
    }

    /// Exactly `len` bytes at `offset`, which must not be behind the position.
    pub fn read_at(&mut self, offset: u64, len: u64, limit: u64) -> Result<Vec<u8>, Error> {
        if len > limit {
            return Err(Error::TooLarge {
                what: "a header table",
                size: len,
                limit,
            });
        }
        if offset.saturating_add(len) > self.size {
            return Err(Error::OutOfBounds { offset, len });
        }
        self.skip_to(offset)?;
        let mut out = vec![0u8; len as usize];
        self.read_exact(&mut out)?;
        Ok(out)
    }

    pub fn skip_to(&mut self, offset: u64) -> Result<(), Error> {
        if offset < self.pos {
            return Err(Error::Backwards {
                offset,
                position: self.pos,
            });
        }
        let mut n = offset - self.pos;
        let from_back = n.min(self.back.len() as u64) as usize;
        self.back.drain(..from_back);
        self.pos += from_back as u64;
        n -= from_back as u64;
        if n > 0 {
            if self.pos + n > self.size {
                return Err(Error::OutOfBounds { offset, len: 0 });
            }
            self.inner.skip(n).map_err(Error::Io)?;
            self.pos += n;
        }
        Ok(())
    }

    /// Hand `bytes` out again: they are the ones just before the position.
    pub fn unread(&mut self, bytes: &[u8]) {
        let mut v = bytes.to_vec();
        v.extend_from_slice(&self.back);
        self.back = v;
        self.pos -= bytes.len() as u64;
    }
}
