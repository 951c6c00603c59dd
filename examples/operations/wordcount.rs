//! Example operation: counts words, lines and bytes over every file in `/input`
//! (except `params.json`) and writes `{"words": N, "lines": N, "bytes": N}` to
//! `/output/result.json`.
//!
//! Std only, so it compiles with plain `rustc` into a static binary that
//! `hearth_sandbox::images::example::build_example_image` packs as `/bin/op`.
//! Words are runs of non-whitespace bytes; lines are newline-terminated lines plus a
//! final unterminated one, per file. Files are streamed, so memory stays flat.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const INPUT_DIR: &str = "/input";
const OUTPUT_FILE: &str = "/output/result.json";
const PARAMS_FILE: &str = "params.json";
const READ_BUFFER_BYTES: usize = 64 * 1024;

#[derive(Default)]
struct Counts {
    words: u64,
    lines: u64,
    bytes: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wordcount: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut files = Vec::new();
    collect_files(Path::new(INPUT_DIR), true, &mut files)?;
    files.sort();
    let mut counts = Counts::default();
    for file in &files {
        count_file(file, &mut counts).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    }
    let json = format!("{{\"words\": {}, \"lines\": {}, \"bytes\": {}}}\n", counts.words, counts.lines, counts.bytes);
    fs::write(OUTPUT_FILE, json).map_err(|e| format!("cannot write {OUTPUT_FILE}: {e}"))
}

/// Regular files under `dir`, recursively; `params.json` at the top is the job's
/// parameters, not data.
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

fn count_file(path: &Path, counts: &mut Counts) -> io::Result<()> {
    let mut file = fs::File::open(path)?;
    let mut buffer = vec![0u8; READ_BUFFER_BYTES];
    let mut in_word = false;
    let mut last = None;
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for &byte in &buffer[..n] {
            if byte == b'\n' {
                counts.lines += 1;
            }
            if byte.is_ascii_whitespace() {
                in_word = false;
            } else if !in_word {
                in_word = true;
                counts.words += 1;
            }
        }
        counts.bytes += n as u64;
        last = Some(buffer[n - 1]);
    }
    if last.is_some_and(|byte| byte != b'\n') {
        counts.lines += 1;
    }
    Ok(())
}
