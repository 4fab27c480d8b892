//! `dataset.json`: the official `{"labels": [[name, label], ...] | null}` plus our optional
//! `"class_names": {name: index}`, which the official loader ignores.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::error::{DatasetError, Location, Result};

/// One image's label: a class index (one-hot in training) or a raw float vector, both of
/// which the official loader accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Label {
    Class(u64),
    Vector(Vec<f64>),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetJson {
    pub labels: Option<Vec<(String, Label)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_names: Option<BTreeMap<String, u64>>,
}

/// Labels are what the file is for, so a file without the key is an error (as in the official
/// loader), while `"labels": null` means "no labels".
#[derive(Deserialize)]
struct Raw {
    labels: Option<serde_json::Value>,
    #[serde(default)]
    class_names: Option<BTreeMap<String, u64>>,
}

impl DatasetJson {
    pub fn parse(bytes: &[u8], path: impl Into<Location>) -> Result<DatasetJson> {
        let path = path.into();
        let raw: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| DatasetError::json(path.clone(), e))?;
        if !raw.is_object() {
            return Err(DatasetError::json(path, "the top level must be an object"));
        }
        if raw.get("labels").is_none() {
            return Err(DatasetError::json(path, "missing the \"labels\" key"));
        }
        let raw: Raw =
            serde_json::from_value(raw).map_err(|e| DatasetError::json(path.clone(), e))?;
        let labels = match raw.labels {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                serde_json::from_value::<Vec<(String, Label)>>(v).map_err(|e| {
                    DatasetError::json(
                        path.clone(),
                        format!("\"labels\" must be a list of [name, class index or list of numbers]: {e}"),
                    )
                })?,
            ),
        };
        if let Some(labels) = &labels {
            let mut kinds = labels.iter().map(|(_, l)| match l {
                Label::Class(_) => None,
                Label::Vector(v) => Some(v.len()),
            });
            if let Some(first) = kinds.next() {
                if kinds.any(|k| k != first) {
                    return Err(DatasetError::json(
                        path,
                        "labels mix class indices and vectors, or vectors of different lengths",
                    ));
                }
            }
        }
        Ok(DatasetJson {
            labels,
            class_names: raw.class_names,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("labels serialize")
    }

    /// Name -> label; a name listed twice keeps its last label (Python's `dict()`).
    pub fn label_map(&self) -> Option<HashMap<String, Label>> {
        self.labels.as_ref().map(|l| {
            l.iter()
                .map(|(n, v)| (n.replace('\\', "/"), v.clone()))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_official_forms_and_rejects_the_rest() {
        let m = DatasetJson::parse(br#"{"labels": [["a.png", 3], ["b.png", 0]]}"#, "d").unwrap();
        assert_eq!(m.labels.unwrap()[0], ("a.png".to_string(), Label::Class(3)));
        assert_eq!(
            DatasetJson::parse(br#"{"labels": null}"#, "d")
                .unwrap()
                .labels,
            None
        );
        let v = DatasetJson::parse(br#"{"labels": [["a.png", [0.5, 1]]]}"#, "d").unwrap();
        assert_eq!(v.labels.unwrap()[0].1, Label::Vector(vec![0.5, 1.0]));
        for bad in [
            &br#"{}"#[..],
            br#"[]"#,
            br#"{"labels": [["a.png", -1]]}"#,
            br#"{"labels": [["a.png", "cat"]]}"#,
            br#"{"labels": [["a.png", 1], ["b.png", [1.0]]]}"#,
            br#"{"labels": [["a.png", 1]"#,
        ] {
            let err = DatasetJson::parse(bad, "x/dataset.json")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("x/dataset.json: invalid dataset.json"),
                "{err}"
            );
        }
    }

    #[test]
    fn writes_class_names_only_when_known() {
        let m = DatasetJson {
            labels: Some(vec![("a".into(), Label::Class(1))]),
            class_names: None,
        };
        assert_eq!(m.to_json(), r#"{"labels":[["a",1]]}"#);
    }
}
