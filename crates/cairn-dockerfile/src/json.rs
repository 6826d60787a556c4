//! Just enough JSON to tell the exec form (`["a", "b"]`) from the shell form the way BuildKit's
//! `parseJSON` does with `encoding/json`: valid JSON of anything but strings is an error,
//! anything that is not valid JSON falls back to the shell form.

/// What a candidate JSON array turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JsonArray {
    Strings(Vec<String>),
    /// Valid JSON, but not an array of strings only.
    NotStrings,
    Invalid,
}

/// Deeper nesting is treated as invalid JSON (Go's decoder stops at 10000).
const MAX_DEPTH: usize = 500;

pub(crate) fn parse_array(text: &str) -> JsonArray {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
    };
    p.ws();
    if p.peek() != Some(b'[') {
        return JsonArray::Invalid;
    }
    let Some(Value::Array(items)) = p.value(0) else {
        return JsonArray::Invalid;
    };
    p.ws();
    if p.i != p.b.len() {
        return JsonArray::Invalid;
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(s) => out.push(s),
            Value::Other => return JsonArray::NotStrings,
            Value::Array(_) => return JsonArray::NotStrings,
        }
    }
    JsonArray::Strings(out)
}

enum Value {
    String(String),
    Array(Vec<Value>),
    Other,
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'[' => self.array(depth).map(Value::Array),
            b'{' => self.object(depth).map(|_| Value::Other),
            b'"' => self.string().map(Value::String),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => self.number().map(|_| Value::Other),
        }
    }

    fn literal(&mut self, word: &str) -> Option<Value> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word.as_bytes()).then(|| {
            self.i = end;
            Value::Other
        })
    }

    fn array(&mut self, depth: usize) -> Option<Vec<Value>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        self.ws();
        if self.eat(b']').is_some() {
            return Some(items);
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.ws();
            if self.eat(b']').is_some() {
                return Some(items);
            }
            self.eat(b',')?;
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            self.string()?;
            self.ws();
            self.eat(b':')?;
            self.value(depth + 1)?;
            self.ws();
            if self.eat(b'}').is_some() {
                return Some(());
            }
            self.eat(b',')?;
        }
    }

    fn number(&mut self) -> Option<()> {
        let start = self.i;
        self.eat(b'-');
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            p.i > s
        };
        if self.eat(b'0').is_none() && !digits(self) {
            return None;
        }
        if self.eat(b'.').is_some() && !digits(self) {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        (self.i > start).then_some(())
    }

    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out: Vec<u16> = Vec::new();
        let mut s = String::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => {
                    s.push_str(&String::from_utf16_lossy(&out));
                    return Some(s);
                }
                0..=0x1f => return None,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    let unit = match e {
                        b'"' => u16::from(b'"'),
                        b'\\' => u16::from(b'\\'),
                        b'/' => u16::from(b'/'),
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => 10,
                        b'r' => 13,
                        b't' => 9,
                        b'u' => self.hex4()?,
                        _ => return None,
                    };
                    out.push(unit);
                }
                _ => {
                    s.push_str(&String::from_utf16_lossy(&std::mem::take(&mut out)));
                    let len = utf8_len(c);
                    let chunk = self.b.get(self.i - 1..self.i - 1 + len)?;
                    s.push_str(std::str::from_utf8(chunk).ok()?);
                    self.i += len - 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u16> {
        let h = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u16::from_str_radix(h, 16).ok()
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_of_strings_and_the_rest() {
        assert_eq!(
            parse_array(r#" ["a", "b\"\u00e9\/"] "#),
            JsonArray::Strings(vec!["a".into(), "b\"é/".into()])
        );
        assert_eq!(parse_array("[]"), JsonArray::Strings(vec![]));
        assert_eq!(parse_array(r#"["a", 1]"#), JsonArray::NotStrings);
        assert_eq!(parse_array(r#"[{"k": [true]}]"#), JsonArray::NotStrings);
        assert_eq!(parse_array(r#"['a']"#), JsonArray::Invalid);
        assert_eq!(parse_array(r#"["a" "b"]"#), JsonArray::Invalid);
        assert_eq!(parse_array(r#"["a"] x"#), JsonArray::Invalid);
        assert_eq!(parse_array(r#"["unterminated]"#), JsonArray::Invalid);
        assert_eq!(parse_array("[01]"), JsonArray::Invalid);
    }
}
