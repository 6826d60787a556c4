//! gzip decoding for layer streams: ISA-L's inflate (the `isal` feature, on by default;
//! Debian's `libisal-dev` to build, `libisal2` to run) or zlib-rs through flate2 without it.
//!
//! Both decode concatenated members (`gzip` writes them for appended input) and check every
//! member's CRC-32 and length; both refuse bytes after the last member that do not start
//! another one, and a stream that ends inside a member. `tests::backends_agree` holds them
//! to the same answers.

use std::io::{self, BufRead, Read};

/// Which inflate decodes gzip layers in this build: `"isal"` or `"zlib-rs"`.
pub fn backend() -> &'static str {
    if cfg!(feature = "isal") {
        "isal"
    } else {
        "zlib-rs"
    }
}

/// A gzip decoder over a buffered reader; `into_inner` gives back the reader positioned
/// just after the last member read (nothing is read past it).
pub(crate) struct GzipDecoder<R: BufRead>(Inner<R>);

// One decoder per layer stream: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Inner<R: BufRead> {
    #[cfg(feature = "isal")]
    Isal(Box<isal::Inflate<R>>),
    #[cfg_attr(feature = "isal", allow(dead_code))]
    Zlib(flate2::bufread::MultiGzDecoder<R>),
}

impl<R: BufRead> GzipDecoder<R> {
    /// The build's fastest backend.
    pub fn new(inner: R) -> Self {
        #[cfg(feature = "isal")]
        return GzipDecoder(Inner::Isal(Box::new(isal::Inflate::new(inner))));
        #[cfg(not(feature = "isal"))]
        GzipDecoder(Inner::Zlib(flate2::bufread::MultiGzDecoder::new(inner)))
    }

    /// zlib-rs, whatever the build (for comparing the backends).
    #[cfg(test)]
    fn zlib(inner: R) -> Self {
        GzipDecoder(Inner::Zlib(flate2::bufread::MultiGzDecoder::new(inner)))
    }

    pub fn into_inner(self) -> R {
        match self.0 {
            #[cfg(feature = "isal")]
            Inner::Isal(d) => d.into_inner(),
            Inner::Zlib(d) => d.into_inner(),
        }
    }
}

impl<R: BufRead> Read for GzipDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            #[cfg(feature = "isal")]
            Inner::Isal(d) => d.read(buf),
            Inner::Zlib(d) => d.read(buf),
        }
    }
}

#[cfg(feature = "isal")]
#[allow(unsafe_code)] // the FFI calls into ISA-L, each with its SAFETY note
mod isal {
    use isal_sys::igzip_lib as ffi;
    use std::io::{self, BufRead, Read};

    /// Decoded bytes are produced in blocks of this size and handed out from there: ISA-L
    /// is fastest with a large output window, and the tar reader asks for 512 bytes at a
    /// time.
    const OUT: usize = 256 * 1024;

    pub(super) struct Inflate<R> {
        inner: R,
        state: Box<ffi::inflate_state>,
        out: Box<[u8]>,
        start: usize,
        end: usize,
        /// The last member ended and the input ended right after it.
        done: bool,
    }

    fn invalid(what: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, what)
    }

    impl<R: BufRead> Inflate<R> {
        pub fn new(inner: R) -> Self {
            let mut state = Box::<ffi::inflate_state>::new_uninit();
            // SAFETY: isal_inflate_init writes every field a later isal_inflate reads; the
            // state is 87 KB, so it lives on the heap and never moves.
            let mut state = unsafe {
                ffi::isal_inflate_init(state.as_mut_ptr());
                state.assume_init()
            };
            state.crc_flag = ffi::IGZIP_GZIP;
            Inflate {
                inner,
                state,
                out: vec![0; OUT].into_boxed_slice(),
                start: 0,
                end: 0,
                done: false,
            }
        }

        pub fn into_inner(self) -> R {
            self.inner
        }

        fn finished_member(&self) -> bool {
            self.state.block_state == ffi::isal_block_state_ISAL_BLOCK_FINISH
        }

        /// Decode the next block of output into `out`; leaves `start == end` only at the
        /// end of the stream.
        fn fill(&mut self) -> io::Result<()> {
            self.start = 0;
            self.end = 0;
            loop {
                if self.finished_member() {
                    let next = self.inner.fill_buf()?;
                    match next {
                        [] => {
                            self.done = true;
                            return Ok(());
                        }
                        [0x1f] | [0x1f, 0x8b, ..] => {
                            // Another member: ISA-L keeps crc_flag across a reset.
                            // SAFETY: the state was initialized in new().
                            unsafe { ffi::isal_inflate_reset(&mut *self.state) };
                        }
                        _ => return Err(invalid("bytes after the end of the gzip stream".into())),
                    }
                }
                let input = self.inner.fill_buf()?;
                let given = input.len().min(u32::MAX as usize);
                let eof = given == 0;
                self.state.next_in = input.as_ptr().cast_mut();
                self.state.avail_in = given as u32;
                self.state.next_out = self.out.as_mut_ptr();
                self.state.avail_out = OUT as u32;
                // SAFETY: next_in/avail_in describe `input`, which ISA-L only reads, and
                // next_out/avail_out describe `out`; both stay borrowed for the call.
                let ret = unsafe { ffi::isal_inflate(&mut *self.state) };
                let used = given - self.state.avail_in as usize;
                self.state.next_in = std::ptr::null_mut();
                self.state.avail_in = 0;
                self.inner.consume(used);
                let produced = OUT - self.state.avail_out as usize;
                match ret {
                    0 => {} // ISAL_DECOMP_OK
                    ffi::ISAL_INCORRECT_CHECKSUM => {
                        return Err(invalid("gzip checksum or length mismatch".into()))
                    }
                    ffi::ISAL_INVALID_WRAPPER | ffi::ISAL_UNSUPPORTED_METHOD => {
                        return Err(invalid("invalid gzip header".into()))
                    }
                    code => return Err(invalid(format!("corrupt deflate data (ISA-L {code})"))),
                }
                if produced > 0 {
                    self.end = produced;
                    return Ok(());
                }
                if self.finished_member() {
                    continue;
                }
                if eof {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "gzip stream ends inside a member",
                    ));
                }
                if used == 0 {
                    // ISA-L takes every byte it is given into its own buffer when it cannot
                    // decode yet; taking none and writing none would loop for ever.
                    return Err(invalid("corrupt gzip stream (no progress)".into()));
                }
            }
        }
    }

    impl<R: BufRead> Read for Inflate<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.start == self.end {
                if self.done || buf.is_empty() {
                    return Ok(0);
                }
                self.fill()?;
            }
            let n = buf.len().min(self.end - self.start);
            buf[..n].copy_from_slice(&self.out[self.start..self.start + n]);
            self.start += n;
            Ok(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::{BufReader, Write};

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn sample(n: usize) -> Vec<u8> {
        // Compressible but not trivial: text with a drifting counter.
        let mut v = Vec::with_capacity(n);
        let mut i = 0u64;
        while v.len() < n {
            v.extend_from_slice(format!("line {i} of the layer {}\n", i * 7919 % 1000).as_bytes());
            i += 1;
        }
        v.truncate(n);
        v
    }

    /// What a decoder (zlib-rs, or the build's own) makes of `input` read through a buffer
    /// of `cap` bytes.
    fn decode(zlib: bool, input: &[u8], cap: usize) -> Result<Vec<u8>, io::ErrorKind> {
        let r = BufReader::with_capacity(cap, input);
        let mut d = if zlib {
            GzipDecoder::zlib(r)
        } else {
            GzipDecoder::new(r)
        };
        let mut out = Vec::new();
        d.read_to_end(&mut out).map_err(|e| e.kind())?;
        Ok(out)
    }

    #[test]
    fn backends_agree() {
        let data = sample(3 << 20);
        let one = gzip(&data, 6);
        let mut two = gzip(&data[..1000], 1);
        two.extend(gzip(&data[1000..], 9));
        let mut bad_crc = one.clone();
        let at = bad_crc.len() - 6;
        bad_crc[at] ^= 1;
        let mut bad_len = one.clone();
        let at = bad_len.len() - 2;
        bad_len[at] ^= 1;
        let mut corrupt = one.clone();
        corrupt[5000] ^= 0x55;
        let mut junk = one.clone();
        junk.extend_from_slice(b"junk after it");
        let mut zeros = one.clone();
        zeros.extend_from_slice(&[0; 512]);
        let mut bad_method = one.clone();
        bad_method[2] = 7;
        let empty_member = gzip(b"", 6);
        let cases: Vec<(&str, Vec<u8>, bool)> = vec![
            ("one member", one.clone(), true),
            ("two members", two, true),
            ("empty member", empty_member, true),
            ("truncated", one[..one.len() / 2].to_vec(), false),
            (
                "truncated in the trailer",
                one[..one.len() - 3].to_vec(),
                false,
            ),
            ("header only", one[..10].to_vec(), false),
            ("bad crc", bad_crc, false),
            ("bad length", bad_len, false),
            ("corrupt deflate", corrupt, false),
            ("junk after", junk, false),
            ("zeros after", zeros, false),
            ("not deflate", bad_method, false),
        ];
        for (name, input, ok) in cases {
            for cap in [1, 7, 4096, 256 * 1024] {
                if cap < 4096 && input.len() > 100_000 && !name.starts_with("one") {
                    continue; // byte-at-a-time is slow; the small cases cover it
                }
                let fast = decode(false, &input, cap);
                let zlib = decode(true, &input, cap);
                assert_eq!(fast.is_ok(), ok, "{} ({name}, buffer {cap})", backend());
                assert_eq!(zlib.is_ok(), ok, "zlib-rs ({name}, buffer {cap})");
                if let (Ok(a), Ok(b)) = (&fast, &zlib) {
                    assert!(a == b, "{name}: outputs differ");
                }
            }
        }
        assert_eq!(decode(false, &one, 4096).unwrap(), data);
    }

    #[test]
    fn the_reader_is_left_after_the_stream() {
        let one = gzip(&sample(100_000), 6);
        let mut d = GzipDecoder::new(BufReader::new(&one[..]));
        io::copy(&mut d, &mut io::sink()).unwrap();
        let mut rest = Vec::new();
        d.into_inner().read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
}
