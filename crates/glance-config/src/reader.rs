//! Typed reads of options from the [`ConfigLayers`], with the errors that
//! name file, group and option. Every name read is remembered so that the
//! options nobody reads can be reported.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::error::{display_group, ConfigError};
use crate::layers::{ConfigLayers, Found};
use crate::option_types;

/// An option's names: `(group, option)` pairs, lower-case, the current name
/// first and then its deprecated aliases.
pub(crate) type Names<'a> = &'a [(&'a str, &'a str)];

pub(crate) struct OptionReader<'a> {
    layers: &'a ConfigLayers,
    read: RefCell<BTreeSet<(String, String)>>,
}

impl<'a> OptionReader<'a> {
    pub fn new(layers: &'a ConfigLayers) -> Self {
        OptionReader {
            layers,
            read: RefCell::new(BTreeSet::new()),
        }
    }

    pub fn layers(&self) -> &'a ConfigLayers {
        self.layers
    }

    /// Marks a whole section as read (its options go to a typed map).
    pub fn mark_section_read(&self, section: &str) {
        let mut read = self.read.borrow_mut();
        for (group, option) in self.layers.all_options() {
            if group == section {
                read.insert((group.to_string(), option.to_string()));
            }
        }
    }

    /// Whether an option was read under some name.
    pub fn was_read(&self, group: &str, option: &str) -> bool {
        self.read
            .borrow()
            .contains(&(group.to_string(), option.to_string()))
    }

    /// The raw value (after substitution) and where it came from.
    pub fn find(&self, names: Names<'_>) -> Option<Found> {
        {
            let mut read = self.read.borrow_mut();
            for &(group, option) in names {
                read.insert((group.to_string(), option.to_string()));
            }
        }
        let found = self.layers.find(names)?;
        let (group, option) = names[0];
        if (found.group.as_str(), found.option.as_str()) != (group, option) {
            tracing::warn!(
                "Option \"{}\" from group \"{}\" is deprecated. Use option \"{}\" from group \"{}\".",
                found.option,
                display_group(&found.group),
                option,
                display_group(group)
            );
        }
        Some(found)
    }

    /// A string option; an empty value counts as unset.
    pub fn string(&self, names: Names<'_>) -> Option<String> {
        self.find(names)
            .map(|found| found.value)
            .filter(|value| !value.is_empty())
    }

    /// A path option; an empty value counts as unset.
    pub fn path(&self, names: Names<'_>) -> Option<PathBuf> {
        self.string(names).map(PathBuf::from)
    }

    pub fn bool(&self, names: Names<'_>, default: bool) -> Result<bool, ConfigError> {
        match self.find(names) {
            None => Ok(default),
            Some(found) => {
                option_types::parse_bool(&found.value).map_err(|reason| invalid(&found, reason))
            }
        }
    }

    /// An integer option within `min..=max`; None when unset or empty.
    pub fn int<T>(&self, names: Names<'_>, min: T, max: T) -> Result<Option<T>, ConfigError>
    where
        T: Into<i128> + TryFrom<i128>,
    {
        let Some(found) = self.find(names) else {
            return Ok(None);
        };
        let number = option_types::parse_int(&found.value, Some(min.into()), Some(max.into()))
            .map_err(|reason| invalid(&found, reason))?;
        Ok(number.and_then(|number| T::try_from(number).ok()))
    }

    pub fn list(&self, names: Names<'_>) -> Result<Option<Vec<String>>, ConfigError> {
        self.convert(names, option_types::parse_list)
    }

    /// A list whose items must each be one of `choices`.
    pub fn list_of_choices(
        &self,
        names: Names<'_>,
        choices: &[&str],
    ) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(found) = self.find(names) else {
            return Ok(None);
        };
        let items =
            option_types::parse_list(&found.value).map_err(|reason| invalid(&found, reason))?;
        for item in &items {
            option_types::check_choice(item, choices).map_err(|reason| invalid(&found, reason))?;
        }
        Ok(Some(items))
    }

    /// A string option limited to `choices`.
    pub fn choice(
        &self,
        names: Names<'_>,
        choices: &[&str],
    ) -> Result<Option<String>, ConfigError> {
        let Some(found) = self.find(names) else {
            return Ok(None);
        };
        option_types::check_choice(&found.value, choices)
            .map_err(|reason| invalid(&found, reason))?;
        Ok(Some(found.value))
    }

    fn convert<T>(
        &self,
        names: Names<'_>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.find(names) {
            None => Ok(None),
            Some(found) => parse(&found.value)
                .map(Some)
                .map_err(|reason| invalid(&found, reason)),
        }
    }
}

/// The error for a value that was found but is not acceptable.
pub(crate) fn invalid(found: &Found, reason: String) -> ConfigError {
    ConfigError::InvalidValue {
        file: found.file.clone(),
        group: display_group(&found.group),
        option: found.option.clone(),
        value: found.value.clone(),
        reason,
    }
}
