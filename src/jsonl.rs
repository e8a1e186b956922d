//! `evaluate --jsonl` and `quote --jsonl`: one request per line in (proto3
//! JSON), one answer per line out, in input order; a line that fails is
//! answered with a JSON object naming its line number, its gRPC code and its
//! field violations, and the run goes on.
//!
//! Every core works while output keeps input order: a reader cuts the input
//! into chunks of whole lines, `jobs` workers answer chunks, and a writer
//! puts the answered chunks back in order. A fixed number of chunks is in
//! flight at once (the reader waits for the writer to hand a slot back), so
//! memory stays bounded whatever the size of the input.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;

use crate::grpc::decode::RequestError;
use crate::grpc::service;
use crate::json;
use crate::pb;

/// Which request every line holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// EvaluateClaimRequest in, EvaluateClaimResponse out.
    Evaluate,
    /// QuoteRefundRequest in, QuoteRefundResponse out.
    Quote,
}

/// A chunk ends at this many lines or bytes, whichever comes first.
const CHUNK_LINES: usize = 512;
const CHUNK_BYTES: usize = 256 * 1024;

/// Longest line answered: a longer one is answered with an error, and only
/// its first `MAX_LINE_BYTES + 1` bytes are ever held in memory, so a file
/// without newlines cannot make the reader buffer all of it.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// How the run went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub failed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum JsonlError {
    #[error("cannot read {0}: {1}")]
    Read(String, io::Error),
    #[error("cannot write the answers: {0}")]
    Write(io::Error),
}

/// The error object written in place of a failed line's answer.
#[derive(Serialize)]
struct LineError<'a> {
    line: u64,
    code: &'static str,
    message: String,
    field_violations: Vec<Violation<'a>>,
}

#[derive(Serialize)]
struct Violation<'a> {
    field: &'a str,
    description: &'a str,
}

/// The answer to one line (without its newline); `Err` is the error object.
pub fn answer_line(kind: Kind, line_no: u64, line: &[u8]) -> Result<String, String> {
    let mut out = Vec::new();
    let answered = answer_line_into(kind, line_no, line, &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    if answered {
        Ok(text)
    } else {
        Err(text)
    }
}

/// Appends the answer to one line (without its newline) to `out`: true for
/// an answer, false for the error object.
pub fn answer_line_into(kind: Kind, line_no: u64, line: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    match answer(kind, line, out) {
        Ok(()) => true,
        Err((code, message, violations)) => {
            out.truncate(start);
            let error = LineError {
                line: line_no,
                code,
                message,
                field_violations: violations
                    .iter()
                    .map(|v| Violation {
                        field: &v.field,
                        description: &v.description,
                    })
                    .collect(),
            };
            if serde_json::to_writer(&mut *out, &error).is_err() {
                out.truncate(start);
                out.extend_from_slice(format!("{{\"line\":{line_no},\"code\":\"{code}\"}}").as_bytes());
            }
            false
        }
    }
}

/// A failed line: its gRPC code, message and field violations.
type LineFailure = (&'static str, String, Vec<crate::grpc::decode::FieldViolation>);

fn answer(kind: Kind, line: &[u8], out: &mut Vec<u8>) -> Result<(), LineFailure> {
    let invalid = |message: String| ("INVALID_ARGUMENT", message, Vec::new());
    if line.len() > MAX_LINE_BYTES {
        return Err(invalid(format!("the line is longer than {MAX_LINE_BYTES} bytes")));
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(invalid("the line is not UTF-8".into()));
    };
    if text.trim().is_empty() {
        return Err(invalid("empty line: one request per line".into()));
    }
    let now = Utc::now();
    let not_a = |what: &str, e: json::JsonError| invalid(format!("not an {what} in the proto3 JSON mapping: {e}"));
    let written = match kind {
        Kind::Evaluate => {
            let request: pb::EvaluateClaimRequest =
                json::parse_request(text).map_err(|e| not_a("EvaluateClaimRequest", e))?;
            let response = service::evaluate(request, now).map_err(request_failure)?;
            json::write_response_line(&response, out)
        }
        Kind::Quote => {
            let request: pb::QuoteRefundRequest =
                json::parse_request(text).map_err(|e| not_a("QuoteRefundRequest", e))?;
            let response = service::quote(request, now).map_err(request_failure)?;
            json::write_response_line(&response, out)
        }
    };
    written.map_err(|e| ("INTERNAL", format!("cannot write the answer: {e}"), Vec::new()))
}

fn request_failure(e: RequestError) -> LineFailure {
    let message = e.to_string();
    match e {
        RequestError::Invalid(violations) => ("INVALID_ARGUMENT", message, violations),
        RequestError::PolicyNotFound(_) => ("NOT_FOUND", message, Vec::new()),
    }
}

/// Whole lines, numbered from `first_line`.
struct Chunk {
    seq: u64,
    first_line: u64,
    text: Vec<u8>,
}

/// A chunk's answers, one per line, each ending with a newline.
struct Answered {
    seq: u64,
    lines: u64,
    failed: u64,
    bytes_in: u64,
    text: Vec<u8>,
}

/// Answers every line of `input` (a path, or `-` for standard input) on
/// `jobs` threads, writing the answers to `out` in input order.
pub fn run(
    kind: Kind,
    input: &Path,
    jobs: Option<NonZeroUsize>,
    out: impl Write + Send,
) -> Result<Summary, JsonlError> {
    let jobs = jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let (name, reader, size): (String, Box<dyn Read + Send>, Option<u64>) = if input.as_os_str() == "-" {
        ("standard input".into(), Box::new(io::stdin()), None)
    } else {
        let name = input.display().to_string();
        let file = File::open(input).map_err(|e| JsonlError::Read(name.clone(), e))?;
        let size = file.metadata().ok().map(|m| m.len());
        (name, Box::new(file), size)
    };
    // A bar only for a person watching a file being worked through.
    let progress = size.filter(|_| io::stderr().is_terminal()).map(Progress::new);
    pipeline(kind, &name, reader, jobs, out, progress)
}

fn pipeline(
    kind: Kind,
    name: &str,
    input: Box<dyn Read + Send>,
    jobs: usize,
    out: impl Write + Send,
    progress: Option<Progress>,
) -> Result<Summary, JsonlError> {
    let in_flight = jobs.saturating_mul(2).saturating_add(2);
    // A slot is a chunk allowed in flight: the reader takes one per chunk,
    // the writer gives it back once the chunk is written.
    let (slot_tx, slot_rx) = mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = slot_tx.send(());
    }
    let (work_tx, work_rx) = mpsc::sync_channel::<Chunk>(in_flight);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = mpsc::channel::<Answered>();

    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(input, &slot_rx, &work_tx));
        for _ in 0..jobs {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || work(kind, &work_rx, &done_tx));
        }
        drop(done_tx);
        let written = write_in_order(&done_rx, &slot_tx, out, progress);
        // A failed writer drops its receiver: the workers and the reader stop.
        drop(done_rx);
        drop(slot_tx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader failed")));
        let summary = written.map_err(JsonlError::Write)?;
        read.map_err(|e| JsonlError::Read(name.to_owned(), e))?;
        Ok(summary)
    })
}

fn read_chunks(input: Box<dyn Read + Send>, slots: &Receiver<()>, work: &SyncSender<Chunk>) -> io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut next_line: u64 = 1;
    for seq in 0.. {
        if slots.recv().is_err() {
            return Ok(()); // the writer stopped
        }
        let mut text = Vec::with_capacity(CHUNK_BYTES + 4096);
        let mut lines = 0;
        while lines < CHUNK_LINES && text.len() < CHUNK_BYTES {
            if !read_line(&mut input, &mut text)? {
                break;
            }
            lines += 1;
        }
        if lines == 0 {
            return Ok(());
        }
        let chunk = Chunk {
            seq,
            first_line: next_line,
            text,
        };
        next_line += lines as u64;
        if work.send(chunk).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Appends the next line to `text`, ending it with a newline; keeps at most
/// `MAX_LINE_BYTES + 1` bytes of it and skips the rest. False at the end.
fn read_line(input: &mut impl BufRead, text: &mut Vec<u8>) -> io::Result<bool> {
    let start = text.len();
    let mut kept = 0usize;
    let mut any = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        any = true;
        let (part, done) = match newline(buf) {
            Some(at) => (buf.get(..at).unwrap_or_default(), Some(at + 1)),
            None => (buf, None),
        };
        let room = (MAX_LINE_BYTES + 1).saturating_sub(kept);
        let take = part.len().min(room);
        text.extend_from_slice(part.get(..take).unwrap_or_default());
        kept += take;
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    if any {
        text.push(b'\n');
    }
    debug_assert!(!any || text.len() > start);
    Ok(any)
}

/// The position of the first newline of `bytes`, eight bytes at a time
/// while there is none.
fn newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ (ONES * u64::from(b'\n'));
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            return chunk.iter().position(|b| *b == b'\n').map(|i| offset + i);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|b| *b == b'\n').map(|i| offset + i)
}

/// The lines of `text` split at each newline (`text.split(|b| *b == b'\n')`,
/// with [`newline`]'s search).
struct Lines<'a>(Option<&'a [u8]>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let text = self.0?;
        match newline(text) {
            Some(at) => {
                let (line, rest) = text.split_at(at);
                self.0 = Some(rest.get(1..).unwrap_or_default());
                Some(line)
            }
            None => {
                self.0 = None;
                Some(text)
            }
        }
    }
}

fn work(kind: Kind, chunks: &Mutex<Receiver<Chunk>>, done: &mpsc::Sender<Answered>) {
    loop {
        let next = match chunks.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(chunk) = next else { return };
        let mut answered = Answered {
            seq: chunk.seq,
            lines: 0,
            failed: 0,
            bytes_in: chunk.text.len() as u64,
            // Answers run about twice the size of the requests: room for
            // three without growing.
            text: Vec::with_capacity(chunk.text.len().saturating_mul(3)),
        };
        let body = chunk.text.strip_suffix(b"\n").unwrap_or(&chunk.text);
        for (i, line) in Lines(Some(body)).enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line_no = chunk.first_line + i as u64;
            if !answer_line_into(kind, line_no, line, &mut answered.text) {
                answered.failed += 1;
            }
            answered.text.push(b'\n');
            answered.lines += 1;
        }
        if done.send(answered).is_err() {
            return;
        }
    }
}

fn write_in_order(
    done: &Receiver<Answered>,
    slots: &SyncSender<()>,
    out: impl Write,
    mut progress: Option<Progress>,
) -> io::Result<Summary> {
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    let mut waiting: BTreeMap<u64, Answered> = BTreeMap::new();
    let mut next: u64 = 0;
    let mut summary = Summary::default();
    for answered in done {
        waiting.insert(answered.seq, answered);
        while let Some(chunk) = waiting.remove(&next) {
            out.write_all(&chunk.text)?;
            summary.lines += chunk.lines;
            summary.failed += chunk.failed;
            if let Some(progress) = progress.as_mut() {
                progress.advance(chunk.bytes_in, summary.lines);
            }
            next += 1;
            let _ = slots.send(());
        }
    }
    out.flush()?;
    if let Some(progress) = progress.as_mut() {
        progress.finish(summary.lines);
    }
    Ok(summary)
}

/// A one-line progress bar on standard error: percent, lines, rate, ETA.
struct Progress {
    total: u64,
    done: u64,
    started: Instant,
    drawn: Instant,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let now = Instant::now();
        Progress {
            total,
            done: 0,
            started: now,
            drawn: now,
        }
    }

    fn advance(&mut self, bytes: u64, lines: u64) {
        self.done += bytes;
        if self.drawn.elapsed() >= Duration::from_millis(200) {
            self.drawn = Instant::now();
            self.draw(lines);
        }
    }

    fn draw(&self, lines: u64) {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let fraction = if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        };
        let width = 30;
        let filled = (fraction * width as f64) as usize;
        let rate = lines as f64 / elapsed;
        let eta = if fraction > 0.0 {
            elapsed * (1.0 - fraction) / fraction
        } else {
            0.0
        };
        let _ = write!(
            io::stderr().lock(),
            "\r\x1b[K[{}{}] {:>3.0}% {lines} lines {rate:.0}/s ETA {eta:.0}s",
            "#".repeat(filled),
            " ".repeat(width - filled.min(width)),
            fraction * 100.0,
        );
    }

    fn finish(&mut self, lines: u64) {
        self.done = self.total;
        self.draw(lines);
        let _ = writeln!(io::stderr().lock());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(kind: Kind, text: &str, jobs: usize) -> (Summary, String) {
        let mut out = Vec::new();
        let summary = pipeline(
            kind,
            "test",
            Box::new(io::Cursor::new(text.as_bytes().to_vec())),
            jobs,
            &mut out,
            None,
        )
        .unwrap();
        (summary, String::from_utf8(out).unwrap())
    }

    #[test]
    fn every_line_gets_one_answer_in_order_and_bad_ones_name_their_line() {
        let bad = r#"{"policy_id": "nope"}"#;
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(if i % 1000 == 7 { bad } else { "{\"policy_idd\": 1}" });
            text.push('\n');
        }
        let (summary, out) = run_text(Kind::Evaluate, &text, 3);
        assert_eq!(
            summary,
            Summary {
                lines: 3000,
                failed: 3000
            }
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3000);
        for (i, line) in lines.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["line"], i + 1, "{line}");
            if i % 1000 == 7 {
                assert_eq!(v["code"], "INVALID_ARGUMENT");
                assert!(!v["field_violations"].as_array().unwrap().is_empty(), "{line}");
            }
        }
    }

    #[test]
    fn an_overlong_line_is_answered_with_an_error_without_being_held_whole() {
        let long = "x".repeat(3 * MAX_LINE_BYTES);
        let mut input = io::Cursor::new(format!("{long}\n{{}}\nlast").into_bytes());
        let mut text = Vec::new();
        assert!(read_line(&mut input, &mut text).unwrap());
        assert_eq!(text.len(), MAX_LINE_BYTES + 2, "the kept part and its newline");
        assert!(read_line(&mut input, &mut text).unwrap());
        assert!(read_line(&mut input, &mut text).unwrap());
        assert!(text.ends_with(b"\n{}\nlast\n"));
        assert!(!read_line(&mut input, &mut text).unwrap());

        let (summary, out) = run_text(Kind::Evaluate, &format!("{long}\n{{}}\n"), 2);
        assert_eq!(summary, Summary { lines: 2, failed: 2 });
        assert!(
            out.starts_with("{\"line\":1,\"code\":\"INVALID_ARGUMENT\",\"message\":\"the line is longer than"),
            "{out}"
        );
        assert!(out.lines().nth(1).unwrap().starts_with("{\"line\":2,"), "{out}");
    }

    /// A line the JSON mapping refuses is answered with the reflection
    /// path's error, word for word, whatever reads the good lines.
    #[test]
    fn refused_lines_are_answered_with_the_reflection_paths_error() {
        let good = r#"{"policy_id":"iptv-smarters-pro","purchase":{"amount_paid":{"currency_code":"EUR","amount":"29.99"},"purchased_at":"2026-01-05T10:00:00Z"},"claim":{"reason":"CLAIM_REASON_CHANGE_OF_MIND"},"evaluated_at":"2026-01-06T10:00:00Z"}"#;
        let bad = [
            r#"{"policy_id":"iptv-smarters-pro","refund_me":true}"#,
            r#"{"policy_id":7}"#,
            r#"{"purchase":{"term_months":"many"}}"#,
            r#"{"claim":{"reason":"CLAIM_REASON_BORED"}}"#,
            r#"{"evaluated_at":"2026-01-06 10:00:00Z"}"#,
            r#"{"evaluated_at":"2026-02-30T10:00:00Z"}"#,
            r#"{"claim":{"outage":{"duration":"2 days"}}}"#,
            r#"{"policy_id":"x"} trailing"#,
        ];
        let mut text = String::new();
        for line in bad {
            text.push_str(line);
            text.push('\n');
            text.push_str(good);
            text.push('\n');
        }
        let (summary, out) = run_text(Kind::Evaluate, &text, 2);
        assert_eq!(
            summary,
            Summary {
                lines: 2 * bad.len() as u64,
                failed: bad.len() as u64
            }
        );
        let answers: Vec<&str> = out.lines().collect();
        for (i, line) in bad.iter().enumerate() {
            let reflect = json::from_json::<pb::EvaluateClaimRequest>(line).unwrap_err();
            let expected = serde_json::json!({
                "line": 2 * i + 1,
                "code": "INVALID_ARGUMENT",
                "message": format!("not an EvaluateClaimRequest in the proto3 JSON mapping: {reflect}"),
                "field_violations": [],
            });
            let answer: serde_json::Value = serde_json::from_str(answers[2 * i]).unwrap();
            assert_eq!(answer, expected, "{line}");
            assert!(answers[2 * i].starts_with(&format!("{{\"line\":{},", 2 * i + 1)));
            let answer: serde_json::Value = serde_json::from_str(answers[2 * i + 1]).unwrap();
            assert_eq!(answer["decision"], "DECISION_DENIED", "{}", answers[2 * i + 1]);
        }
    }

    #[test]
    fn lines_and_newlines_are_found_as_a_byte_search_finds_them() {
        let texts = [
            &b""[..],
            b"\n",
            b"a",
            b"a\n",
            b"\n\n",
            b"0123456789abcdef\n0123456\n\n01234567",
            b"01234567\n",
            b"0123456\n",
            b"\x8a\x0a\x0b\xff\x09\x8a\x8a\x8a\x8a\x0a",
        ];
        for text in texts {
            let expected: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
            assert_eq!(Lines(Some(text)).collect::<Vec<_>>(), expected, "{text:?}");
            for start in 0..text.len() {
                let rest = &text[start..];
                assert_eq!(newline(rest), rest.iter().position(|b| *b == b'\n'), "{rest:?}");
            }
        }
    }

    #[test]
    fn empty_input_is_no_line_and_a_missing_newline_is_a_line() {
        assert_eq!(run_text(Kind::Quote, "", 2).0, Summary::default());
        let (summary, out) = run_text(Kind::Quote, "\n{}", 2);
        assert_eq!(summary, Summary { lines: 2, failed: 2 });
        assert!(
            out.starts_with("{\"line\":1,\"code\":\"INVALID_ARGUMENT\",\"message\":\"empty line"),
            "{out}"
        );
    }
}
