//! One store's options as read from its config section (`[glance_store]` in
//! single-store mode, `[<store id>]` with `enabled_backends`), with typed getters
//! that name the option when a value is malformed. Drivers parse their settings
//! from this once, at start-up.

use std::collections::BTreeMap;

use glance_config::option_types;

use crate::StoreError;

#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// The section the values came from, for error messages.
    group: String,
    /// Lower-cased option names -> values.
    values: BTreeMap<String, String>,
}

impl StoreOptions {
    pub fn new(group: impl Into<String>, values: BTreeMap<String, String>) -> Self {
        StoreOptions {
            group: group.into(),
            values,
        }
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    /// Builder for tests and code that sets options directly.
    pub fn with(mut self, option: &str, value: impl Into<String>) -> Self {
        self.values
            .insert(option.to_ascii_lowercase(), value.into());
        self
    }

    /// Whether the option appears at all (an empty value included: for list
    /// options `name =` means an empty list, not the default).
    pub fn is_set(&self, option: &str) -> bool {
        self.values.contains_key(option)
    }

    /// The value as written; an empty value counts as unset, as oslo's StrOpt
    /// defaults do for the options stores read.
    pub fn string(&self, option: &str) -> Option<String> {
        self.values
            .get(option)
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    }

    /// The first of several spellings (new name first, deprecated ones after).
    pub fn string_any(&self, options: &[&str]) -> Option<String> {
        options.iter().find_map(|option| self.string(option))
    }

    pub fn bool(&self, option: &str, default: bool) -> Result<bool, StoreError> {
        match self.string(option) {
            None => Ok(default),
            Some(value) => option_types::parse_bool(&value).map_err(|r| self.invalid(option, r)),
        }
    }

    pub fn int(&self, option: &str, default: i64, min: i64, max: i64) -> Result<i64, StoreError> {
        let Some(value) = self.values.get(option) else {
            return Ok(default);
        };
        match option_types::parse_int(value, Some(min.into()), Some(max.into())) {
            Ok(Some(number)) => Ok(number as i64),
            Ok(None) => Ok(default),
            Err(reason) => Err(self.invalid(option, reason)),
        }
    }

    /// A non-negative integer option.
    pub fn uint(&self, option: &str, default: u64) -> Result<u64, StoreError> {
        self.int(option, default as i64, 0, i64::MAX)
            .map(|n| n as u64)
    }

    pub fn list(&self, option: &str) -> Result<Vec<String>, StoreError> {
        match self.values.get(option) {
            None => Ok(Vec::new()),
            Some(value) => option_types::parse_list(value).map_err(|r| self.invalid(option, r)),
        }
    }

    pub fn dict(&self, option: &str) -> Result<Vec<(String, String)>, StoreError> {
        match self.values.get(option) {
            None => Ok(Vec::new()),
            Some(value) => option_types::parse_dict(value).map_err(|r| self.invalid(option, r)),
        }
    }

    /// A string option restricted to `choices`.
    pub fn choice(
        &self,
        option: &str,
        default: &str,
        choices: &[&str],
    ) -> Result<String, StoreError> {
        let value = self.string(option).unwrap_or_else(|| default.to_string());
        option_types::check_choice(&value, choices).map_err(|r| self.invalid(option, r))?;
        Ok(value)
    }

    /// A required string option.
    pub fn required(&self, option: &str) -> Result<String, StoreError> {
        self.string(option)
            .ok_or_else(|| self.invalid(option, "the option must be set".to_string()))
    }

    /// The error for a malformed or missing `option`.
    pub fn invalid(&self, option: &str, reason: String) -> StoreError {
        StoreError::Config {
            group: self.group.clone(),
            option: option.to_string(),
            reason,
        }
    }
}
