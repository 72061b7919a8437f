//! The object a rule is checked against: the `target` dict of oslo.policy.
//!
//! Check strings reach into it with `%(key)s`. For an image, build it the way
//! upstream's `ImageTarget` exposes an image: `project_id` and `owner` = the image
//! owner, `member_id` = the image member record the caller is looking through (the
//! caller's project for an image shared with it, else absent or None), `id`,
//! `name`, `status`, `visibility`, `protected`, `disk_format`,
//! `container_format`, `min_disk`, `min_ram`, `size`, `checksum`, `os_hidden`,
//! ... and every extra property under its own name. A key that is absent makes any
//! check that interpolates it fail, while a key set to None renders as `"None"`
//! (so `project_id:%(project_id)s` matches a caller without a project when the
//! image has no owner, exactly as upstream).

use std::collections::BTreeMap;

use super::python_literal::python_float_str;

/// One target value, with Python's `str()` semantics when interpolated.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetValue {
    Str(String),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Python's None: renders as `"None"`.
    Null,
}

impl TargetValue {
    /// Python's `str()` of the value, which is what `%(key)s` produces.
    pub fn python_str(&self) -> String {
        match self {
            TargetValue::Str(s) => s.clone(),
            TargetValue::Bool(true) => "True".into(),
            TargetValue::Bool(false) => "False".into(),
            TargetValue::Int(n) => n.to_string(),
            TargetValue::Float(f) => python_float_str(*f),
            TargetValue::Null => "None".into(),
        }
    }
}

impl From<&str> for TargetValue {
    fn from(s: &str) -> Self {
        TargetValue::Str(s.to_string())
    }
}

impl From<String> for TargetValue {
    fn from(s: String) -> Self {
        TargetValue::Str(s)
    }
}

impl From<&String> for TargetValue {
    fn from(s: &String) -> Self {
        TargetValue::Str(s.clone())
    }
}

impl From<bool> for TargetValue {
    fn from(b: bool) -> Self {
        TargetValue::Bool(b)
    }
}

impl From<i64> for TargetValue {
    fn from(n: i64) -> Self {
        TargetValue::Int(n)
    }
}

impl From<i32> for TargetValue {
    fn from(n: i32) -> Self {
        TargetValue::Int(n.into())
    }
}

impl From<u32> for TargetValue {
    fn from(n: u32) -> Self {
        TargetValue::Int(n.into())
    }
}

impl From<f64> for TargetValue {
    fn from(f: f64) -> Self {
        TargetValue::Float(f)
    }
}

/// `Some(v)` is the value, `None` is Python's None.
impl<T: Into<TargetValue>> From<Option<T>> for TargetValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(TargetValue::Null, Into::into)
    }
}

/// The keys and values a rule may interpolate.
///
/// ```
/// use glance_auth::policy::Target;
/// let owner: Option<String> = Some("p1".into());
/// let target = Target::new()
///     .set("project_id", owner.as_deref())
///     .set("owner", owner.as_deref())
///     .set("visibility", "shared")
///     .set("protected", false)
///     .set_none("member_id");
/// assert_eq!(target.get("owner").unwrap().python_str(), "p1");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    values: BTreeMap<String, TargetValue>,
}

impl Target {
    /// An empty target: rules that interpolate nothing (like `role:admin`) still
    /// work against it.
    pub fn new() -> Self {
        Target::default()
    }

    /// Sets `key`; `value` may be a string, an `Option` of one (None = Python
    /// None), a bool or a number.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<TargetValue>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `key` to Python's None.
    pub fn set_none(self, key: impl Into<String>) -> Self {
        self.set(key, TargetValue::Null)
    }

    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<TargetValue>) {
        self.values.insert(key.into(), value.into());
    }

    pub fn get(&self, key: &str) -> Option<&TargetValue> {
        self.values.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &TargetValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<K: Into<String>, V: Into<TargetValue>> FromIterator<(K, V)> for Target {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut target = Target::new();
        for (k, v) in iter {
            target.insert(k, v);
        }
        target
    }
}

impl<K: Into<String>, V: Into<TargetValue>> Extend<(K, V)> for Target {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}
