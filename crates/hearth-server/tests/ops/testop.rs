//! `testop`: the operation the jobs tests run, built by the test harness into an OCI
//! image with `hearth_sandbox::images::example::build_example_image`. Std only.
//!
//! `/input/params.json` picks what it does (the server writes canonical JSON, so a
//! substring match is enough): `{"mode":"sleep","secs":N}` sleeps N seconds and then
//! succeeds; `{"mode":"files"}` writes `result.json` and `/output/report.txt`;
//! `{"mode":"noresult"}` exits 0 without a result; `{"mode":"fail"}` exits 3; anything
//! else counts the input files and their bytes into `result.json`.

use std::fs;
use std::process::ExitCode;
use std::time::Duration;

const PARAMS: &str = "/input/params.json";
const RESULT: &str = "/output/result.json";
const REPORT: &str = "/output/report.txt";
/// The report written in `files` mode.
const REPORT_TEXT: &str = "a report only the app can read\n";

fn main() -> ExitCode {
    let params = fs::read_to_string(PARAMS).unwrap_or_default();
    if params.contains("\"mode\":\"sleep\"") {
        let secs = number_after(&params, "\"secs\":").unwrap_or(1);
        std::thread::sleep(Duration::from_secs(secs));
        return write(RESULT, &format!("{{\"slept\":{secs}}}"));
    }
    if params.contains("\"mode\":\"files\"") {
        if write(REPORT, REPORT_TEXT) != ExitCode::SUCCESS {
            return ExitCode::from(2);
        }
        return write(RESULT, "{\"report\":\"report.txt\"}");
    }
    if params.contains("\"mode\":\"noresult\"") {
        return ExitCode::SUCCESS;
    }
    if params.contains("\"mode\":\"fail\"") {
        return ExitCode::from(3);
    }
    let (mut files, mut bytes) = (0u64, 0u64);
    for entry in fs::read_dir("/input").into_iter().flatten().flatten() {
        if entry.file_name() != "params.json" {
            files += 1;
            bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    write(RESULT, &format!("{{\"files\":{files},\"bytes\":{bytes}}}"))
}

fn number_after(text: &str, key: &str) -> Option<u64> {
    let rest = &text[text.find(key)? + key.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn write(path: &str, text: &str) -> ExitCode {
    match fs::write(path, text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("testop: cannot write {path}: {e}");
            ExitCode::from(2)
        }
    }
}
