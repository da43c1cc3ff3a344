//! A small JSON tokenizer over a UTF-8 byte slice, keeping exact number text
//! and borrowing strings that contain no escapes.

use std::borrow::Cow;

/// A cursor over validated UTF-8 JSON text.
pub(crate) struct Lexer<'a> {
    pub(crate) text: &'a str,
    pub(crate) pos: usize,
}

/// What kind of JSON value starts at the cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Peek {
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
    End,
    Other(u8),
}

impl Peek {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Peek::Object => "an object",
            Peek::Array => "an array",
            Peek::String => "a string",
            Peek::Number => "a number",
            Peek::True | Peek::False => "a boolean",
            Peek::Null => "null",
            Peek::End => "the end of the input",
            Peek::Other(_) => "an unexpected character",
        }
    }
}

/// A failure of the tokenizer: a message and the byte offset it refers to.
pub(crate) struct LexError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

pub(crate) type LexResult<T> = Result<T, LexError>;

#[cold]
fn lex_err<T>(offset: usize, message: impl Into<String>) -> LexResult<T> {
    Err(LexError {
        offset,
        message: message.into(),
    })
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Lexer { text, pos: 0 }
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        let b = self.bytes();
        let mut pos = self.pos;
        // Compact JSON: nothing to skip.
        if b.get(pos).is_some_and(|&c| c > b' ') {
            return;
        }
        loop {
            // Indentation comes in runs of spaces: skip eight at a time.
            while b.get(pos..pos + 8) == Some(b"        ") {
                pos += 8;
            }
            match b.get(pos) {
                Some(b' ' | b'\n' | b'\r' | b'\t') => pos += 1,
                _ => break,
            }
        }
        self.pos = pos;
    }

    /// Skips whitespace and tells what comes next, without consuming it.
    #[inline]
    pub(crate) fn peek(&mut self) -> Peek {
        self.skip_ws();
        match self.bytes().get(self.pos) {
            None => Peek::End,
            Some(b'{') => Peek::Object,
            Some(b'[') => Peek::Array,
            Some(b'"') => Peek::String,
            Some(b'-' | b'0'..=b'9') => Peek::Number,
            Some(b't') => Peek::True,
            Some(b'f') => Peek::False,
            Some(b'n') => Peek::Null,
            Some(&c) => Peek::Other(c),
        }
    }

    /// Consumes `c` (after whitespace) or fails.
    #[inline]
    pub(crate) fn expect(&mut self, c: u8, what: &str) -> LexResult<()> {
        self.skip_ws();
        if self.bytes().get(self.pos) == Some(&c) {
            self.pos += 1;
            Ok(())
        } else {
            self.unexpected(what)
        }
    }

    /// Consumes `c` if it comes next (after whitespace).
    #[inline]
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.bytes().get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[cold]
    pub(crate) fn unexpected<T>(&self, what: &str) -> LexResult<T> {
        match self.text[self.pos.min(self.text.len())..].chars().next() {
            None => lex_err(
                self.pos,
                format!("unexpected end of input, expected {what}"),
            ),
            Some(c) => lex_err(self.pos, format!("unexpected `{c}`, expected {what}")),
        }
    }

    /// After a value inside an object or array: consumes `,` (returns true) or
    /// the closing `close` (returns false).
    #[inline]
    pub(crate) fn next_or_close(&mut self, close: u8) -> LexResult<bool> {
        self.skip_ws();
        match self.bytes().get(self.pos) {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(&c) if c == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => self.unexpected(if close == b'}' {
                "`,` or `}`"
            } else {
                "`,` or `]`"
            }),
        }
    }

    /// Reads a string (cursor on the opening quote).
    /// An object key (cursor on its `"`, whitespace skipped). FHIR keys are
    /// ASCII names: those are taken in one tight loop; anything else goes
    /// through [`Lexer::string`].
    #[inline]
    pub(crate) fn key(&mut self) -> LexResult<Cow<'a, str>> {
        let b = self.bytes();
        if b.get(self.pos) == Some(&b'"') {
            let start = self.pos + 1;
            let mut i = start;
            while b.get(i).is_some_and(|&c| KEY_BYTE[c as usize]) {
                i += 1;
            }
            if i > start && b.get(i) == Some(&b'"') {
                self.pos = i + 1;
                return Ok(Cow::Borrowed(&self.text[start..i]));
            }
        }
        self.string()
    }

    pub(crate) fn string(&mut self) -> LexResult<Cow<'a, str>> {
        self.skip_ws();
        let b = self.bytes();
        if b.get(self.pos) != Some(&b'"') {
            return self.unexpected("a string");
        }
        let start = self.pos + 1;
        let mut i = skip_plain(b, start);
        // Fast path: no escapes.
        while let Some(&c) = b.get(i) {
            match c {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(Cow::Borrowed(&self.text[start..i]));
                }
                b'\\' => break,
                0..=0x1F => {
                    return lex_err(i, "control character inside a string (must be escaped)")
                }
                _ => i += 1,
            }
        }
        if i >= b.len() {
            return lex_err(self.pos, "unterminated string");
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.text[start..i]);
        loop {
            let Some(&c) = b.get(i) else {
                return lex_err(self.pos, "unterminated string");
            };
            match c {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(Cow::Owned(out));
                }
                b'\\' => {
                    let Some(&e) = b.get(i + 1) else {
                        return lex_err(i, "unterminated escape");
                    };
                    i += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4(i)?;
                            i += 4;
                            let ch = if (0xD800..0xDC00).contains(&hi) {
                                if b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') {
                                    let lo = self.hex4(i + 2)?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return lex_err(i, "invalid low surrogate in \\u escape");
                                    }
                                    i += 6;
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    return lex_err(i - 6, "lone high surrogate in \\u escape");
                                }
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return lex_err(i - 6, "lone low surrogate in \\u escape");
                            } else {
                                hi
                            };
                            match char::from_u32(ch) {
                                Some(c) => out.push(c),
                                None => return lex_err(i - 6, "invalid \\u escape"),
                            }
                        }
                        _ => return lex_err(i - 2, "invalid escape in string"),
                    }
                }
                0..=0x1F => {
                    return lex_err(i, "control character inside a string (must be escaped)")
                }
                _ => {
                    // Copy a run of ordinary characters at once.
                    let run_start = i;
                    i = skip_plain(b, i);
                    while let Some(&c) = b.get(i) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        i += 1;
                    }
                    out.push_str(&self.text[run_start..i]);
                }
            }
        }
    }

    fn hex4(&self, at: usize) -> LexResult<u32> {
        let Some(h) = self.text.get(at..at + 4) else {
            return lex_err(at, "truncated \\u escape");
        };
        u32::from_str_radix(h, 16).or_else(|_| lex_err(at, "invalid hex digits in \\u escape"))
    }

    /// Reads a number (cursor on its first character) and returns its exact text.
    pub(crate) fn number(&mut self) -> LexResult<&'a str> {
        self.skip_ws();
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => return lex_err(start, "invalid number"),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                return lex_err(start, "invalid number: digits must follow `.`");
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                return lex_err(start, "invalid number: digits must follow the exponent");
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(
            b.get(i),
            Some(b'0'..=b'9' | b'.' | b'a'..=b'z' | b'A'..=b'Z')
        ) {
            return lex_err(start, "invalid number");
        }
        self.pos = i;
        Ok(&self.text[start..i])
    }

    /// Reads `true`, `false` or `null` (cursor on its first character).
    pub(crate) fn literal(&mut self, word: &'static str) -> LexResult<()> {
        self.skip_ws();
        if self.text[self.pos..].starts_with(word) {
            let end = self.pos + word.len();
            if matches!(
                self.bytes().get(end),
                Some(b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9')
            ) {
                return self.unexpected("a JSON value");
            }
            self.pos = end;
            Ok(())
        } else {
            self.unexpected("a JSON value")
        }
    }

    /// Skips one whole value without recursion. `depth` is the current nesting
    /// depth; exceeding `max_depth` fails (reported with offset and `None` message
    /// distinction by the caller through [`SkipError`]).
    pub(crate) fn skip_value(&mut self, depth: usize, max_depth: usize) -> Result<(), SkipError> {
        let mut stack: Vec<u8> = Vec::new();
        loop {
            // Read one value start.
            match self.peek() {
                Peek::Object | Peek::Array => {
                    let open = self.bytes()[self.pos];
                    if depth + stack.len() + 1 > max_depth {
                        return Err(SkipError::TooDeep(self.pos));
                    }
                    self.pos += 1;
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.eat(close) {
                        // empty container: fall through to "after value"
                    } else {
                        stack.push(close);
                        if close == b'}' {
                            self.string().map_err(SkipError::Lex)?;
                            self.expect(b':', "`:`").map_err(SkipError::Lex)?;
                        }
                        continue;
                    }
                }
                Peek::String => {
                    self.string().map_err(SkipError::Lex)?;
                }
                Peek::Number => {
                    self.number().map_err(SkipError::Lex)?;
                }
                Peek::True => self.literal("true").map_err(SkipError::Lex)?,
                Peek::False => self.literal("false").map_err(SkipError::Lex)?,
                Peek::Null => self.literal("null").map_err(SkipError::Lex)?,
                Peek::End | Peek::Other(_) => {
                    return Err(SkipError::Lex(
                        self.unexpected::<()>("a JSON value").unwrap_err(),
                    ))
                }
            }
            // After a value: close containers as needed.
            loop {
                let Some(&close) = stack.last() else {
                    return Ok(());
                };
                if self.next_or_close(close).map_err(SkipError::Lex)? {
                    if close == b'}' {
                        self.string().map_err(SkipError::Lex)?;
                        self.expect(b':', "`:`").map_err(SkipError::Lex)?;
                    }
                    break;
                }
                stack.pop();
            }
        }
    }
}

/// Skips ahead from `i` over whole 32-byte, then 8-byte, chunks that hold no
/// `"`, `\` or control character (the bulk of base64 and narrative text); the
/// caller scans the rest byte by byte.
#[inline]
fn skip_plain(b: &[u8], mut i: usize) -> usize {
    // 32-byte chunks with byte comparisons the compiler vectorises.
    while let Some(chunk) = b.get(i..i + 32) {
        let mut special = 0u8;
        for &c in chunk {
            special |= u8::from((c == b'"') | (c == b'\\') | (c < 0x20));
        }
        if special != 0 {
            break;
        }
        i += 32;
    }
    // Then eight bytes at a time (short strings, tails): a byte is special when
    // it is zero after XOR with `"` or `\\`, or below 0x20.
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let special = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let special = special & HIGH;
        if special != 0 {
            // Borrows only run upwards, so the lowest flagged byte is the first special one.
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// Bytes of the keys FHIR uses (`[A-Za-z0-9_]`), as a table: keys are scanned per byte.
static KEY_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0usize;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric() || c == b'_' as usize;
        c += 1;
    }
    t
};

/// Why skipping a value failed.
pub(crate) enum SkipError {
    Lex(LexError),
    TooDeep(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_plain_stops_exactly_at_the_first_special_byte() {
        for len in 0..80 {
            for special in [b'"', b'\\', 0x00, 0x1F, b'\n'] {
                let mut text = vec![b'a'; len];
                text.push(special);
                text.extend_from_slice(b"\"tail after the special byte, long enough for a chunk");
                // With eight or more bytes left, it lands on the special byte itself.
                assert_eq!(skip_plain(&text, 0), len, "special byte {special:#x}");
            }
        }
        // Bytes just above the specials, and non-ASCII, are plain.
        let plain = "é !#[]~\u{7f}abcdefghijklmnopqrstuvwxyz0123456789";
        let text = format!("{plain}\"12345678");
        assert_eq!(skip_plain(text.as_bytes(), 0), plain.len());
        // Fewer than eight bytes left: the caller scans them.
        assert!(skip_plain(b"abc\"", 0) <= 3);
    }

    #[test]
    fn keys_take_the_fast_path_or_fall_back_to_strings() {
        let mut lex = Lexer::new(r#""birthDate":1"#);
        assert_eq!(lex.key().ok().unwrap(), "birthDate");
        assert_eq!(lex.pos, 11);
        let mut lex = Lexer::new(r#""_birth\u0044ate":1"#);
        assert_eq!(lex.key().ok().unwrap(), "_birthDate");
        let mut lex = Lexer::new(r#""with space":1"#);
        assert_eq!(lex.key().ok().unwrap(), "with space");
        let mut lex = Lexer::new(r#""""#);
        assert_eq!(lex.key().ok().unwrap(), "");
        assert!(Lexer::new(r#""unterminated"#).key().is_err());
    }
}
