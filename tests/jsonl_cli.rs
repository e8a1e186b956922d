//! `evaluate --jsonl` and `quote --jsonl` on the binary, against golden
//! files: a bad line in the middle is answered in place with its line
//! number, code and field violations, the lines after it are still
//! answered, and the exit status says a line failed. The output is the same
//! whatever the number of jobs, and each good line's answer is what the
//! one-request `evaluate` prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod hermetic;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use hermetic::binary;

fn golden(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)).unwrap()
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = binary()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn golden_path(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn evaluate_jsonl_answers_every_line_in_order_with_the_bad_ones_in_place() {
    let input = golden_path("evaluate.jsonl");
    let expected = golden("evaluate.out.jsonl");
    for jobs in ["1", "3"] {
        let out = run(&["evaluate", "--jsonl", &input, "--jobs", jobs], None);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected, "--jobs {jobs}");
        assert_eq!(out.status.code(), Some(1), "a line failed");
        assert_eq!(
            String::from_utf8(out.stderr).unwrap(),
            "refund-eligibility: 2 of 6 lines failed\n"
        );
    }
    let lines: Vec<serde_json::Value> = expected.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[2]["line"], 3);
    assert_eq!(lines[2]["code"], "INVALID_ARGUMENT");
    assert_eq!(lines[2]["field_violations"][0]["field"], "purchase");
    assert_eq!(lines[3]["line"], 4);
    assert!(lines[3]["message"].as_str().unwrap().contains("refund_me"));
    assert_eq!(lines[4]["decision"], "DECISION_APPROVED");
    assert_eq!(lines[4]["refund_amount"]["amount"], "59.99");

    // Each good line's answer is the one-request answer.
    for (i, request) in golden("evaluate.jsonl").lines().enumerate() {
        if lines[i].get("line").is_some() {
            continue;
        }
        let single = run(&["evaluate"], Some(request));
        assert!(single.status.success());
        let single: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
        assert_eq!(single, lines[i], "line {}", i + 1);
    }
}

#[test]
fn quote_jsonl_reads_standard_input() {
    let input = golden("quote.jsonl");
    for args in [&["quote", "--jsonl"][..], &["quote", "--jsonl", "-", "--jobs", "2"][..]] {
        let out = run(args, Some(&input));
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            golden("quote.out.jsonl"),
            "{args:?}"
        );
        assert_eq!(out.status.code(), Some(1));
    }
}

#[test]
fn a_clean_run_exits_zero_and_an_unreadable_file_two() {
    let first = golden("evaluate.jsonl").lines().next().unwrap().to_owned();
    let out = run(&["evaluate", "--jsonl"], Some(&format!("{first}\n{first}\n")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
    assert!(
        out.stderr.is_empty(),
        "no progress bar when standard error is not a terminal"
    );

    let out = run(&["evaluate", "--jsonl", "/no/such/file.jsonl"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("/no/such/file.jsonl"));
}
