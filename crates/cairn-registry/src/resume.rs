//! A reader that resumes a broken stream: when the body errors or ends
//! before its known size, it reopens the source at the current offset and
//! carries on, a bounded number of times. It never hands out bytes past the
//! known size. Kept apart from HTTP so that the logic is tested on its own.

use std::io::{self, Read};
use std::time::Duration;

use crate::error::Error;

/// Something that can be (re)opened at a byte offset. The returned reader
/// must start exactly at `pos` (the HTTP source checks Content-Range, or
/// skips `pos` bytes of a 200).
pub(crate) trait Source: Send {
    fn open(&mut self, pos: u64) -> Result<Box<dyn Read + Send>, Error>;
    /// Names the stream and its host in errors.
    fn describe(&self) -> (String, String);
}

pub(crate) struct Resuming<S> {
    source: S,
    size: Option<u64>,
    pos: u64,
    body: Option<Box<dyn Read + Send>>,
    retries: u32,
    resumes: u32,
    /// Set after a fatal error: later reads fail too instead of reopening.
    failed: Option<String>,
    /// The pause before the n-th resume is `backoff * 2^(n-1)`, capped at 2 s.
    backoff: Duration,
}

impl<S: Source> Resuming<S> {
    /// `first` is the already opened body at offset 0.
    pub fn new(source: S, size: Option<u64>, first: Box<dyn Read + Send>, retries: u32) -> Self {
        Resuming {
            source,
            size,
            pos: 0,
            body: Some(first),
            retries,
            resumes: 0,
            failed: None,
            backoff: Duration::from_millis(100),
        }
    }

    #[cfg(test)]
    fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// Bytes handed out so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// How many times the stream was reopened.
    pub fn resumes(&self) -> u32 {
        self.resumes
    }

    fn fail(&mut self, error: Error) -> io::Error {
        self.failed = Some(error.to_string());
        io::Error::other(error)
    }

    /// The body broke (`reason`): reopen at `pos`, retrying a failing open
    /// while resumes remain.
    fn resume(&mut self, mut reason: String) -> io::Result<()> {
        loop {
            if self.resumes >= self.retries {
                let (what, host) = self.source.describe();
                let size = self.size.map(|s| format!(" of {s}")).unwrap_or_default();
                let error = Error::Transport {
                    host,
                    detail: format!(
                        "{what}: the stream broke at byte {}{size} ({reason}); gave up after {} resumes",
                        self.pos, self.resumes
                    ),
                };
                return Err(self.fail(error));
            }
            self.resumes += 1;
            let pause = self
                .backoff
                .saturating_mul(1 << (self.resumes - 1).min(16))
                .min(Duration::from_secs(2));
            std::thread::sleep(pause);
            match self.source.open(self.pos) {
                Ok(body) => {
                    self.body = Some(body);
                    return Ok(());
                }
                Err(e) if e.is_transient() => reason = e.to_string(),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }
}

impl<S: Source> Read for Resuming<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(failed) = &self.failed {
            return Err(io::Error::other(format!("stream failed earlier: {failed}")));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let want = match self.size {
                Some(size) if self.pos >= size => return Ok(0),
                Some(size) => buf
                    .len()
                    .min(usize::try_from(size - self.pos).unwrap_or(usize::MAX)),
                None => buf.len(),
            };
            let Some(body) = self.body.as_mut() else {
                self.resume("no open stream".into())?;
                continue;
            };
            match body.read(&mut buf[..want]) {
                Ok(0) => match self.size {
                    Some(size) => {
                        self.body = None;
                        let reason = format!("connection closed at byte {} of {size}", self.pos);
                        self.resume(reason)?;
                    }
                    None => return Ok(0),
                },
                Ok(n) => {
                    // A reader claiming more than it was given is not trusted.
                    let n = n.min(want);
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.body = None;
                    self.resume(e.to_string())?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Serves `data`; the n-th opened body breaks after `cuts[n]` bytes
    /// (with an error, or a clean EOF when `eof`). Records each open offset.
    struct Fake {
        data: Arc<Vec<u8>>,
        cuts: Vec<Option<usize>>,
        eof: bool,
        opens: Arc<Mutex<Vec<u64>>>,
        open_fails: u32,
        fatal_open: bool,
    }

    struct Body {
        data: Arc<Vec<u8>>,
        at: usize,
        end: Option<usize>,
        eof: bool,
    }

    impl Read for Body {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if let Some(end) = self.end {
                if self.at >= end {
                    return if self.eof {
                        Ok(0)
                    } else {
                        Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
                    };
                }
            }
            let stop = self.end.unwrap_or(usize::MAX).min(self.data.len());
            // Small reads so that cuts land mid-buffer.
            let n = buf.len().min(stop - self.at).min(7);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    impl Fake {
        fn new(data: &[u8], cuts: Vec<Option<usize>>) -> Fake {
            Fake {
                data: Arc::new(data.to_vec()),
                cuts,
                eof: false,
                opens: Arc::default(),
                open_fails: 0,
                fatal_open: false,
            }
        }
        fn body(&mut self, pos: u64) -> Box<dyn Read + Send> {
            let n = self.opens.lock().unwrap().len();
            self.opens.lock().unwrap().push(pos);
            let cut = self.cuts.get(n).copied().flatten();
            Box::new(Body {
                data: self.data.clone(),
                at: pos as usize,
                end: cut.map(|c| pos as usize + c),
                eof: self.eof,
            })
        }
    }

    impl Source for Fake {
        fn open(&mut self, pos: u64) -> Result<Box<dyn Read + Send>, Error> {
            if self.fatal_open {
                return Err(Error::NotFound {
                    kind: "blob unknown".into(),
                    reference: "r".into(),
                    detail: String::new(),
                });
            }
            if self.open_fails > 0 {
                self.open_fails -= 1;
                self.opens.lock().unwrap().push(u64::MAX);
                return Err(Error::Transport {
                    host: "h".into(),
                    detail: "refused".into(),
                });
            }
            Ok(self.body(pos))
        }
        fn describe(&self) -> (String, String) {
            ("blob sha256:x".into(), "registry.test".into())
        }
    }

    fn data() -> Vec<u8> {
        (0..1000u32).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn reader(mut fake: Fake, size: Option<u64>, retries: u32) -> Resuming<Fake> {
        let first = fake.body(0);
        Resuming::new(fake, size, first, retries).with_backoff(Duration::ZERO)
    }

    #[test]
    fn resumes_after_errors_and_early_eof() {
        let d = data();
        let mut fake = Fake::new(&d, vec![Some(100), Some(350), None]);
        fake.eof = true; // clean EOFs before the size: early EOF
        let opens = fake.opens.clone();
        let mut r = reader(fake, Some(1000), 5);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, d);
        assert_eq!(r.resumes(), 2);
        assert_eq!(r.position(), 1000);
        assert_eq!(*opens.lock().unwrap(), vec![0, 100, 450]);

        let fake = Fake::new(&d, vec![Some(1), Some(1), Some(1), None]);
        let opens = fake.opens.clone();
        let mut r = reader(fake, None, 5);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, d, "errors are resumed even when the size is unknown");
        assert_eq!(*opens.lock().unwrap(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn gives_up_after_the_retries() {
        let d = data();
        let fake = Fake::new(&d, vec![Some(10); 10]);
        let mut r = reader(fake, Some(1000), 3);
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(out, &d[..40]);
        let inner = e.get_ref().and_then(|e| e.downcast_ref::<Error>()).unwrap();
        assert!(matches!(inner, Error::Transport { .. }));
        let msg = e.to_string();
        assert!(msg.contains("broke at byte 40 of 1000"), "{msg}");
        assert!(msg.contains("gave up after 3 resumes"), "{msg}");
        // Later reads fail too, without reopening.
        assert!(r.read(&mut [0; 10]).is_err());
        assert_eq!(r.resumes(), 3);
    }

    #[test]
    fn failing_reopens_use_up_retries_and_fatal_ones_stop() {
        let d = data();
        let mut fake = Fake::new(&d, vec![Some(500), None]);
        fake.open_fails = 2;
        let opens = fake.opens.clone();
        let mut r = reader(fake, Some(1000), 5);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, d);
        assert_eq!(r.resumes(), 3);
        assert_eq!(*opens.lock().unwrap(), vec![0, u64::MAX, u64::MAX, 500]);

        let mut fake = Fake::new(&d, vec![Some(500)]);
        fake.fatal_open = true;
        let mut r = reader(fake, Some(1000), 5);
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("blob unknown"), "{e}");
        assert_eq!(r.resumes(), 1);
    }

    #[test]
    fn never_past_the_size() {
        let d = data();
        // The source has 1000 bytes; the descriptor says 600.
        let fake = Fake::new(&d, vec![None]);
        let mut r = reader(fake, Some(600), 5);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, &d[..600]);
        // A clean EOF with unknown size is the end.
        let mut fake = Fake::new(&d, vec![Some(300)]);
        fake.eof = true;
        let mut r = reader(fake, None, 5);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, &d[..300]);
        assert_eq!(r.resumes(), 0);
    }
}
