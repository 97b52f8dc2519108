//! Metrics as CloudWatch Embedded Metric Format (EMF) lines: one JSON object per line on
//! stdout, beside the JSON log lines, which CloudWatch Logs turns into metrics. Nothing
//! calls the CloudWatch API, so a request never waits for its metrics. The names and what
//! each alarm on them means are in the README ("Metrics and alarms").
//!
//! A line is written with one `write_all` under stdout's lock, as the log lines are, so
//! the two never interleave. It carries no `level`: Lambda files it under INFO, which is
//! why the template never filters application logs above INFO (`RUST_LOG` filters ours).
//! The namespace is `METRICS_NAMESPACE` (the template gives each stack its own), else
//! [`DEFAULT_NAMESPACE`].

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

pub const DEFAULT_NAMESPACE: &str = "SerialPortal";

static OFF: AtomicBool = AtomicBool::new(false);

/// No metric lines from this process: for `portal-admin`, whose stdout is its operator's
/// (and whose runs are not a Lambda's, for CloudWatch to count).
pub fn off() {
    OFF.store(true, Ordering::Relaxed);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
        }
    }
}

/// One EMF line: metrics that share the same dimensions (none, or e.g. `Outcome`).
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    dimensions: Vec<(&'static str, String)>,
    values: Vec<(&'static str, f64, Unit)>,
}

impl Metrics {
    pub fn new() -> Self {
        Metrics::default()
    }

    /// A dimension of every metric of the line (its value one of a few fixed words: each
    /// value is a metric of its own in CloudWatch).
    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.dimensions.push((name, value.into()));
        self
    }

    pub fn count(mut self, name: &'static str, n: u64) -> Self {
        self.values.push((name, n as f64, Unit::Count));
        self
    }

    pub fn seconds(mut self, name: &'static str, seconds: f64) -> Self {
        self.values.push((name, seconds, Unit::Seconds));
        self
    }

    /// Writes the line (at the current time).
    pub fn emit(self) {
        if self.values.is_empty() {
            return;
        }
        let line = self.line(namespace(), Utc::now());
        #[cfg(any(test, feature = "testing"))]
        if CAPTURE.try_with(|lines| lines.lock().unwrap().push(line.clone())).is_ok() {
            return;
        }
        if OFF.load(Ordering::Relaxed) {
            return;
        }
        let mut text = line.to_string();
        text.push('\n');
        // Metrics must never fail a request: a closed stdout loses the line, nothing else.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }

    /// The EMF document of this line.
    pub fn line(&self, namespace: &str, at: DateTime<Utc>) -> Value {
        let names: Vec<&str> = self.dimensions.iter().map(|(n, _)| *n).collect();
        let metrics: Vec<Value> =
            self.values.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit.name()})).collect();
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [names], "Metrics": metrics}],
            }),
        );
        for (name, value) in &self.dimensions {
            root.insert((*name).into(), Value::String(value.clone()));
        }
        for (name, value, _) in &self.values {
            // Counts stay integers in the JSON; CloudWatch reads either.
            let v = if value.fract() == 0.0 && value.abs() < 9.0e15 { json!(*value as i64) } else { json!(value) };
            root.insert((*name).into(), v);
        }
        Value::Object(root)
    }
}

/// One count without dimensions.
pub fn count(name: &'static str, n: u64) {
    Metrics::new().count(name, n).emit();
}

/// One count with one dimension.
pub fn count_by(name: &'static str, dimension: &'static str, value: &str, n: u64) {
    Metrics::new().dimension(dimension, value).count(name, n).emit();
}

fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| {
        std::env::var("METRICS_NAMESPACE")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
    })
}

#[cfg(any(test, feature = "testing"))]
tokio::task_local! {
    static CAPTURE: std::sync::Arc<std::sync::Mutex<Vec<Value>>>;
}

/// Runs `work` with the EMF lines it writes kept instead of printed, and returns them
/// (tests: each test task sees its own lines, whatever runs beside it).
#[cfg(any(test, feature = "testing"))]
pub async fn captured<F: std::future::Future>(work: F) -> (F::Output, Captured) {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = CAPTURE.scope(lines.clone(), work).await;
    let lines = lines.lock().unwrap().clone();
    (out, Captured(lines))
}

/// EMF lines captured by [`captured`].
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone)]
pub struct Captured(pub Vec<Value>);

#[cfg(any(test, feature = "testing"))]
impl Captured {
    /// The sum of metric `name` over the lines whose dimensions include every one of
    /// `dimensions`; each line checked to be a well-formed EMF document declaring it.
    pub fn sum(&self, name: &str, dimensions: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|line| dimensions.iter().all(|(k, v)| line[*k] == *v))
            .filter_map(|line| {
                let directive = &line["_aws"]["CloudWatchMetrics"][0];
                let declared = directive["Metrics"].as_array()?.iter().any(|m| m["Name"] == name);
                declared.then(|| line[name].as_f64().expect("a declared metric has a number"))
            })
            .sum()
    }

    /// The values of metric `name`, line by line.
    pub fn values(&self, name: &str) -> Vec<f64> {
        self.0.iter().filter_map(|line| line[name].as_f64()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_an_emf_document_cloudwatch_recognises() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let line = Metrics::new().dimension("Outcome", "succeeded").count("Logins", 1).line("SerialPortal/test", at);
        assert_eq!(
            line,
            json!({
                "_aws": {
                    "Timestamp": 1_796_119_200_000_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "SerialPortal/test",
                        "Dimensions": [["Outcome"]],
                        "Metrics": [{"Name": "Logins", "Unit": "Count"}],
                    }],
                },
                "Outcome": "succeeded",
                "Logins": 1,
            })
        );
        let text = line.to_string();
        assert!(!text.contains('\n'), "one line");
        let age = Metrics::new().seconds("MailOutboxAge", 12.5).count("MailsSent", 3).line("N", at);
        assert_eq!(age["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]), "no dimensions");
        assert_eq!(age["MailOutboxAge"], 12.5);
        assert_eq!(age["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Seconds");
        assert_eq!(age["MailsSent"], 3);
    }

    #[tokio::test]
    async fn captured_lines_are_the_tasks_own() {
        let ((), lines) = captured(async {
            count_by("Logins", "Outcome", "failed", 1);
            count_by("Logins", "Outcome", "failed", 1);
            count("Upgrades", 1);
            Metrics::new().emit(); // nothing to say: no line
        })
        .await;
        assert_eq!(lines.0.len(), 3);
        assert_eq!(lines.sum("Logins", &[("Outcome", "failed")]), 2.0);
        assert_eq!(lines.sum("Logins", &[("Outcome", "succeeded")]), 0.0);
        assert_eq!(lines.sum("Upgrades", &[]), 1.0);
        assert_eq!(lines.0[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], DEFAULT_NAMESPACE);
    }
}
