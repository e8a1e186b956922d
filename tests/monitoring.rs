//! deploy/monitoring/ against the real service: every metric name the
//! recording rules, alerts and dashboard use exists in a live `/metrics`
//! scrape (so a rename cannot silently break a dashboard), and a real
//! `prometheus` scraping the service evaluates the recording rules to numbers.
//!
//! The Prometheus test needs the `prometheus` binary (Debian's `prometheus`
//! package, installed by .ci/run). Without it the test says so and passes,
//! except under CI (`CI` set), where a missing binary is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use refund_eligibility::metrics::{self, Metrics};
use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::{self, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;

fn monitoring_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/monitoring")
}

struct Running {
    channel: Channel,
    metrics_addr: SocketAddr,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// The service on 127.0.0.1 port 0, with its metrics endpoint; both stop
/// when the returned value is dropped.
async fn start() -> Running {
    let metrics = Arc::new(Metrics::new());
    let (stop, rx) = tokio::sync::watch::channel(false);
    let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = metrics_listener.local_addr().unwrap();
    tokio::spawn(metrics::serve(
        metrics_listener,
        Arc::clone(&metrics),
        stopped(rx.clone()),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ServerConfig {
        metrics: Some(metrics),
        ..ServerConfig::default()
    };
    tokio::spawn(server::run(listener, stopped(rx), config));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    Running {
        channel,
        metrics_addr,
        _stop: stop,
    }
}

fn example() -> pb::EvaluateClaimRequest {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/iptv-smarters-pro.json")).unwrap();
    refund_eligibility::json::from_json(&text).unwrap()
}

/// A few calls of each kind the rules look at: decisions, a client error,
/// another method.
async fn some_calls(channel: &Channel) {
    let mut client = EligibilityServiceClient::new(channel.clone());
    for _ in 0..3 {
        let answer = client.evaluate_claim(example()).await.unwrap().into_inner();
        assert_eq!(answer.decision(), pb::Decision::Approved);
    }
    let mut invalid = example();
    invalid.purchase = None;
    assert_eq!(
        client.evaluate_claim(invalid).await.unwrap_err().code(),
        tonic::Code::InvalidArgument
    );
    client.list_policies(pb::ListPoliciesRequest::default()).await.unwrap();
}

/// A plain HTTP GET; returns the status line and the body.
async fn http_get(addr: SocketAddr, path_and_query: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // HTTP/1.0: the answer comes unchunked, up to the end of the stream.
    let request = format!("GET {path_and_query} HTTP/1.0\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut raw))
        .await
        .expect("the endpoint answers")
        .unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

/// The sample names of an exposition (`name{labels} value` lines).
fn sample_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.split(['{', ' ']).next().unwrap_or_default().to_owned())
        .collect()
}

/// The `record:` names and the `expr:` texts of a rules file. Rules files
/// here use `key: value` on one line or a `|` block indented below the key;
/// every rule is found or the count check in the test fails.
fn rules_file(text: &str) -> (BTreeSet<String>, Vec<String>, usize) {
    let mut records = BTreeSet::new();
    let mut exprs = Vec::new();
    let mut rules = 0;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start().trim_start_matches("- ");
        if trimmed.starts_with("record:") || trimmed.starts_with("alert:") {
            rules += 1;
        }
        if let Some(name) = trimmed.strip_prefix("record:") {
            records.insert(name.trim().to_owned());
        }
        if let Some(expr) = trimmed.strip_prefix("expr:") {
            let expr = expr.trim();
            if expr == "|" {
                let indent = line.len() - line.trim_start().len();
                let mut block = String::new();
                while i + 1 < lines.len() {
                    let next = lines[i + 1];
                    if !next.trim().is_empty() && next.len() - next.trim_start().len() <= indent {
                        break;
                    }
                    block.push_str(next.trim());
                    block.push('\n');
                    i += 1;
                }
                exprs.push(block);
            } else {
                exprs.push(expr.to_owned());
            }
        }
        i += 1;
    }
    (records, exprs, rules)
}

/// The metric names a PromQL expression selects: identifiers that are not
/// functions, keywords, label names (inside `{}` or grouping clauses),
/// durations, numbers or strings.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "offset",
        "bool",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    const GROUPING: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut previous = String::new();
    let mut i = 0;
    let skip_to = |i: usize, close: char| {
        chars[i..]
            .iter()
            .position(|c| *c == close)
            .map_or(chars.len(), |p| i + p + 1)
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i = skip_to(i + 1, c);
        } else if c == '{' {
            i = skip_to(i, '}');
        } else if c == '[' {
            i = skip_to(i, ']');
        } else if c == '(' && GROUPING.contains(&previous.as_str()) {
            i = skip_to(i, ')');
        } else if c.is_ascii_digit() || c == '.' || c == '$' {
            // numbers, durations, 1e5, and Grafana variables
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            if next != Some(&'(') && !KEYWORDS.contains(&word.as_str()) {
                names.insert(word.clone());
            }
            previous = word;
            continue;
        } else {
            i += 1;
        }
        if !c.is_whitespace() {
            previous.clear();
        }
    }
    names
}

fn dashboard_exprs(dashboard: &serde_json::Value) -> Vec<String> {
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            exprs.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    exprs
}

#[test]
fn the_expression_scanner_finds_metrics_and_nothing_else() {
    let found = metric_names(
        "sum by (policy_id, decision) (rate(a_total{x=\"y\",le=\"0.01\"}[1d] offset 1h)) / ignoring (decision) \
         group_left sum without (instance) (rate(b:c:rate5m[$__rate_interval])) > 1.5 * 1e5 and on (p) d or e_bucket",
    );
    let expected: BTreeSet<String> = ["a_total", "b:c:rate5m", "d", "e_bucket"].map(String::from).into();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn every_metric_the_rules_and_the_dashboard_use_is_exposed() {
    let running = start().await;
    some_calls(&running.channel).await;
    let (status, exposition) = http_get(running.metrics_addr, "/metrics").await;
    assert!(status.contains(" 200 "), "{status}");
    let exposed = sample_names(&exposition);

    let rules_text = std::fs::read_to_string(monitoring_dir().join("rules.yaml")).unwrap();
    let (records, rule_exprs, rule_count) = rules_file(&rules_text);
    assert_eq!(rule_exprs.len(), rule_count, "one expr per rule in rules.yaml");
    assert!(rule_count >= 20, "rules.yaml was read: {rule_count} rules");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(monitoring_dir().join("dashboard.json")).unwrap()).unwrap();
    let panel_exprs = dashboard_exprs(&dashboard);
    assert!(panel_exprs.len() >= 6);

    let mut used = BTreeSet::new();
    for (source, expr) in rule_exprs
        .iter()
        .map(|e| ("rules.yaml", e))
        .chain(panel_exprs.iter().map(|e| ("dashboard.json", e)))
    {
        for name in metric_names(expr) {
            // Recorded series are defined by rules.yaml itself; every other
            // name must be a sample of the live scrape.
            assert!(
                records.contains(&name) || exposed.contains(&name),
                "{source} uses {name:?}, which is neither a recording rule nor in /metrics: {expr}\n\
                 exposed: {exposed:?}"
            );
            used.insert(name);
        }
    }
    for expected in [
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        "grpc_server_handling_seconds_count",
        "refund_eligibility_decisions_total",
    ] {
        assert!(used.contains(expected), "nothing uses {expected}");
    }
    // The latency objective counts the le="0.01" bucket: it must be a boundary.
    assert!(
        exposition.contains("grpc_server_handling_seconds_bucket{le=\"0.01\","),
        "no 10 ms bucket:\n{exposition}"
    );
}

/// The path of `prometheus` on PATH, if any.
fn prometheus_binary() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("prometheus"))
            .find(|candidate| candidate.is_file())
    })
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant query's result vector through Prometheus' HTTP API.
async fn query(prometheus: SocketAddr, promql: &str) -> Vec<serde_json::Value> {
    let (status, body) = http_get(prometheus, &format!("/api/v1/query?query={}", url_encode(promql))).await;
    assert!(status.contains(" 200 "), "{status}: {body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["status"], "success", "{body}");
    answer["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// Kills the Prometheus child when the test ends, passing or failing.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_service_and_the_recording_rules_produce_values() {
    let Some(binary) = prometheus_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test: install Debian's prometheus package"
        );
        eprintln!("skipped: no prometheus on PATH (apt-get install prometheus)");
        return;
    };
    let running = start().await;
    // Traffic between every two scrapes, so that rates and ratios are numbers.
    let channel = running.channel.clone();
    let traffic = tokio::spawn(async move {
        loop {
            some_calls(&channel).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });

    let dir = std::env::temp_dir().join(format!("refund-eligibility-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: refund-eligibility\n    static_configs:\n      - targets: ['{target}']\n",
            rules = monitoring_dir().join("rules.yaml").display(),
            target = running.metrics_addr,
        ),
    )
    .unwrap();
    // A free port for Prometheus' own listener (it cannot report port 0).
    let web = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Child(
        std::process::Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={web}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );

    let rules_text = std::fs::read_to_string(monitoring_dir().join("rules.yaml")).unwrap();
    let (records, _, _) = rules_file(&rules_text);
    // The day-old baseline has no data in a fresh Prometheus.
    let expect_values: Vec<&String> = records.iter().filter(|r| !r.contains("offset")).collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut missing: Vec<String>;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let scrapes = if tokio::net::TcpStream::connect(web).await.is_ok() {
            query(web, "count_over_time(refund_eligibility_build_info[5m])").await
        } else {
            Vec::new()
        };
        let scraped_twice = scrapes
            .first()
            .and_then(|s| s["value"][1].as_str())
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|n| n >= 2.0);
        missing = Vec::new();
        if scraped_twice {
            for record in &expect_values {
                let result = query(web, record).await;
                let numbers = result
                    .iter()
                    .filter_map(|s| s["value"][1].as_str()?.parse::<f64>().ok())
                    .filter(|v| v.is_finite())
                    .count();
                if numbers == 0 {
                    missing.push(format!("{record}: {result:?}"));
                }
            }
            if missing.is_empty() {
                break;
            }
        } else {
            missing.push("two scrapes".to_owned());
        }
        assert!(
            Instant::now() < deadline,
            "after 60 s, no values for {missing:#?}\nprometheus log:\n{}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
    }
    // Spot checks: nothing failed, nothing took 10 ms, the mix is all APPROVED.
    let availability = query(web, "refund_eligibility:availability_errors:ratio_rate5m").await;
    assert_eq!(availability[0]["value"][1], "0", "{availability:?}");
    let share = query(
        web,
        "policy_id_decision:refund_eligibility_decisions:share_rate1h{policy_id=\"iptv-smarters-pro\",decision=\"APPROVED\"}",
    )
    .await;
    assert_eq!(share[0]["value"][1], "1", "{share:?}");
    // Prometheus loaded every rule of the file (the parser above missed none).
    let (_, body) = http_get(web, "/api/v1/rules").await;
    let loaded: serde_json::Value = serde_json::from_str(&body).unwrap();
    let loaded_records: BTreeSet<String> = loaded["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().iter())
        .filter(|r| r["type"] == "recording")
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(loaded_records, records);
    traffic.abort();
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
