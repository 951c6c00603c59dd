//! Example operation: reads `{"keywords": [...]}` from `/input/params.json`, counts
//! case-insensitive occurrences of each keyword over the other files in `/input`, and
//! writes `{"counts": {"keyword": n, ...}}` to `/output/result.json`.
//!
//! Std only, so it compiles with plain `rustc` into a static binary that
//! `hearth_sandbox::images::example::build_example_image` packs as `/bin/op`.
//! Occurrences do not overlap ("aa" occurs twice in "aaaa"); matching lowercases both
//! sides (Unicode); files are read as UTF-8 with invalid bytes replaced. Keywords keep
//! the order they were given in; a repeated keyword is reported once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const INPUT_DIR: &str = "/input";
const PARAMS_PATH: &str = "/input/params.json";
const OUTPUT_FILE: &str = "/output/result.json";
const PARAMS_FILE: &str = "params.json";
const KEYWORD_COUNT_MAX: usize = 1_000;
const PARAMS_BYTES_MAX: u64 = 1024 * 1024;
const JSON_DEPTH_MAX: usize = 32;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("keywords: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let keywords = read_keywords()?;
    let mut files = Vec::new();
    collect_files(Path::new(INPUT_DIR), true, &mut files)?;
    files.sort();
    let needles: Vec<String> = keywords.iter().map(|k| k.to_lowercase()).collect();
    let mut counts = vec![0u64; keywords.len()];
    for file in &files {
        let bytes = fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for (count, needle) in counts.iter_mut().zip(&needles) {
            if !needle.is_empty() {
                *count += text.matches(needle.as_str()).count() as u64;
            }
        }
    }
    let mut json = String::from("{\"counts\": {");
    for (i, (keyword, count)) in keywords.iter().zip(&counts).enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        push_json_string(&mut json, keyword);
        json.push_str(&format!(": {count}"));
    }
    json.push_str("}}\n");
    fs::write(OUTPUT_FILE, json).map_err(|e| format!("cannot write {OUTPUT_FILE}: {e}"))
}

fn read_keywords() -> Result<Vec<String>, String> {
    let size = fs::metadata(PARAMS_PATH).map_err(|e| format!("cannot read {PARAMS_PATH}: {e}"))?.len();
    if size > PARAMS_BYTES_MAX {
        return Err(format!("{PARAMS_PATH} is larger than {PARAMS_BYTES_MAX} bytes"));
    }
    let text = fs::read_to_string(PARAMS_PATH).map_err(|e| format!("cannot read {PARAMS_PATH}: {e}"))?;
    let value = Parser { bytes: text.as_bytes(), pos: 0 }
        .document()
        .map_err(|e| format!("{PARAMS_PATH} is not valid JSON: {e}"))?;
    let Json::Object(fields) = value else {
        return Err(format!("{PARAMS_PATH} must be an object with a \"keywords\" array"));
    };
    let Some((_, Json::Array(items))) = fields.into_iter().find(|(name, _)| name == "keywords") else {
        return Err(format!("{PARAMS_PATH} must have a \"keywords\" array of strings"));
    };
    let mut keywords: Vec<String> = Vec::new();
    for item in items {
        let Json::String(keyword) = item else {
            return Err(format!("{PARAMS_PATH}: every keyword must be a string"));
        };
        if !keywords.contains(&keyword) {
            keywords.push(keyword);
        }
    }
    if keywords.len() > KEYWORD_COUNT_MAX {
        return Err(format!("{PARAMS_PATH}: more than {KEYWORD_COUNT_MAX} keywords"));
    }
    Ok(keywords)
}

/// Regular files under `dir`, recursively, except the top-level `params.json`.
fn collect_files(dir: &Path, top: bool, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
        if kind.is_dir() {
            collect_files(&path, false, files)?;
        } else if kind.is_file() && !(top && entry.file_name() == PARAMS_FILE) {
            files.push(path);
        }
    }
    Ok(())
}

fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Just enough JSON for the parameters file (RFC 8259 values, no duplicates check).
enum Json {
    Null,
    Bool,
    Number,
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn document(mut self) -> Result<Json, String> {
        let value = self.value(0)?;
        self.skip_whitespace();
        if self.pos != self.bytes.len() {
            return Err(format!("trailing characters at byte {}", self.pos));
        }
        Ok(value)
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > JSON_DEPTH_MAX {
            return Err("nested too deeply".into());
        }
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool),
            Some(b'f') => self.literal("false", Json::Bool),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(format!("unexpected character at byte {}", self.pos)),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        self.pos += 1;
        let mut fields = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(fields));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(format!("expected a field name at byte {}", self.pos));
            }
            let name = self.string()?;
            self.skip_whitespace();
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            fields.push((name, value));
            self.skip_whitespace();
            match self.next() {
                Some(b',') => continue,
                Some(b'}') => return Ok(Json::Object(fields)),
                _ => return Err(format!("expected ',' or '}}' at byte {}", self.pos)),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.next() {
                Some(b',') => continue,
                Some(b']') => return Ok(Json::Array(items)),
                _ => return Err(format!("expected ',' or ']' at byte {}", self.pos)),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The input is a &str and we stopped at ASCII, so this slice is valid UTF-8.
            out.push_str(&String::from_utf8_lossy(&self.bytes[start..self.pos]));
            match self.next() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {
                    let escaped = match self.next() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => return Err(format!("bad escape at byte {}", self.pos)),
                    };
                    out.push(escaped);
                }
                _ => return Err(format!("unterminated string at byte {}", self.pos)),
            }
        }
    }

    fn unicode_escape(&mut self) -> Result<char, String> {
        let high = self.hex4()?;
        if (0xD800..0xDC00).contains(&high) {
            if self.next() != Some(b'\\') || self.next() != Some(b'u') {
                return Err(format!("lone surrogate at byte {}", self.pos));
            }
            let low = self.hex4()?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(format!("bad surrogate pair at byte {}", self.pos));
            }
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return char::from_u32(code).ok_or_else(|| format!("bad code point at byte {}", self.pos));
        }
        char::from_u32(high).ok_or_else(|| format!("lone surrogate at byte {}", self.pos))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or("truncated \\u escape")?;
        let text = std::str::from_utf8(digits).map_err(|_| "bad \\u escape")?;
        let value = u32::from_str_radix(text, 16).map_err(|_| format!("bad \\u escape at byte {}", self.pos))?;
        self.pos += 4;
        Ok(value)
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|_| "bad number")?;
        text.parse::<f64>().map(|_| Json::Number).map_err(|_| format!("bad number at byte {start}"))
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(format!("unexpected character at byte {}", self.pos))
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.next() == Some(byte) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", byte as char, self.pos))
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }
}
