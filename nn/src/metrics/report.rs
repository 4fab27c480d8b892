//! The official result record: printed, and appended as one JSON line to
//! `metric-<name>.jsonl` in the snapshot's folder (`metric_main.report_metric`).

use super::error::{MetricError, Result};
use super::progress::format_time;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct MetricResult {
    pub metric: String,
    /// Result name -> value, in report order.
    pub results: Vec<(String, f64)>,
    pub total_time: f64,
    pub num_gpus: usize,
}

/// A float as Python's `json.dumps` writes it (NaN and infinities included).
fn py_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        serde_json::to_string(&v).expect("finite float")
    }
}

fn py_str(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

/// `{"results": {...}, "metric": ..., "total_time": ..., "total_time_str": ...,
/// "num_gpus": ..., "snapshot_pkl": ..., "timestamp": ...}` with the official
/// key order and separators.
pub fn jsonl_line(r: &MetricResult, snapshot_pkl: Option<&str>, timestamp: f64) -> String {
    let results: Vec<String> = r
        .results
        .iter()
        .map(|(k, v)| format!("{}: {}", py_str(k), py_float(*v)))
        .collect();
    format!(
        "{{\"results\": {{{}}}, \"metric\": {}, \"total_time\": {}, \"total_time_str\": {}, \"num_gpus\": {}, \"snapshot_pkl\": {}, \"timestamp\": {}}}",
        results.join(", "),
        py_str(&r.metric),
        py_float(r.total_time),
        py_str(&format_time(r.total_time)),
        r.num_gpus,
        snapshot_pkl.map_or("null".into(), py_str),
        py_float(timestamp),
    )
}

/// Appends `line` to `<run_dir>/metric-<metric>.jsonl` in one write.
pub fn append_jsonl(run_dir: &Path, metric: &str, line: &str) -> Result<()> {
    let path = run_dir.join(format!("metric-{metric}.jsonl"));
    let io = |source| MetricError::Io {
        path: path.clone(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io)?;
    f.write_all(format!("{line}\n").as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_json_line() {
        let r = MetricResult {
            metric: "fid50k_full".into(),
            results: vec![("fid50k_full".into(), 12.5)],
            total_time: 125.0,
            num_gpus: 1,
        };
        assert_eq!(
            jsonl_line(&r, Some("network-snapshot-000100.pkl"), 1.5),
            "{\"results\": {\"fid50k_full\": 12.5}, \"metric\": \"fid50k_full\", \"total_time\": 125.0, \"total_time_str\": \"2m 05s\", \"num_gpus\": 1, \"snapshot_pkl\": \"network-snapshot-000100.pkl\", \"timestamp\": 1.5}"
        );
        let dir = std::env::temp_dir().join(format!("tcgan-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        append_jsonl(&dir, "fid50k_full", "a").unwrap();
        append_jsonl(&dir, "fid50k_full", "b").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("metric-fid50k_full.jsonl")).unwrap(),
            "a\nb\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
