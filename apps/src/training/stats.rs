//! Training statistics as the official `training_stats`: values reported during
//! a tick are reduced to `num`, `mean` and `std` per name and written as one
//! line of `stats.jsonl` with a timestamp.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    num: f64,
    sum: f64,
    sum_sq: f64,
}

/// The summary of one statistic over a tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub num: f64,
    pub mean: f64,
    pub std: f64,
}

#[derive(Debug, Default)]
pub struct Stats {
    tick: BTreeMap<String, Moments>,
}

impl Stats {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds values to a statistic (an empty slice records nothing).
    pub fn report(&mut self, name: &str, values: &[f64]) {
        if values.is_empty() {
            return;
        }
        let m = self.tick.entry(name.to_string()).or_default();
        for &v in values {
            m.num += 1.0;
            m.sum += v;
            m.sum_sq += v * v;
        }
    }

    /// Reports one value and returns it (for building status lines).
    pub fn report1(&mut self, name: &str, value: f64) -> f64 {
        self.report(name, &[value]);
        value
    }

    /// The summaries of this tick, then starts a new tick.
    pub fn take_tick(&mut self) -> BTreeMap<String, Summary> {
        std::mem::take(&mut self.tick)
            .into_iter()
            .map(|(k, m)| {
                let mean = m.sum / m.num;
                let raw_var = m.sum_sq / m.num;
                (
                    k,
                    Summary {
                        num: m.num,
                        mean,
                        std: (raw_var - mean * mean).max(0.0).sqrt(),
                    },
                )
            })
            .collect()
    }
}

/// One `stats.jsonl` line in the official schema.
pub fn jsonl_line(stats: &BTreeMap<String, Summary>, timestamp: f64) -> String {
    let mut obj = Map::new();
    for (k, s) in stats {
        obj.insert(
            k.clone(),
            json!({"num": s.num, "mean": finite(s.mean), "std": finite(s.std)}),
        );
    }
    obj.insert("timestamp".into(), json!(timestamp));
    Value::Object(obj).to_string()
}

/// JSON has no NaN or infinity: such values are written as null.
fn finite(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_over_a_tick() {
        let mut s = Stats::new();
        s.report("Loss/G/loss", &[1.0, 2.0, 3.0]);
        s.report("Loss/G/loss", &[4.0]);
        s.report("empty", &[]);
        let t = s.take_tick();
        let l = t["Loss/G/loss"];
        assert_eq!(l.num, 4.0);
        assert!((l.mean - 2.5).abs() < 1e-12);
        assert!((l.std - 1.25f64.sqrt()).abs() < 1e-12);
        assert!(!t.contains_key("empty"));
        assert!(s.take_tick().is_empty(), "a new tick starts empty");
        let line = jsonl_line(&t, 12.5);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["Loss/G/loss"]["num"], 4.0);
        assert_eq!(v["timestamp"], 12.5);
    }
}
