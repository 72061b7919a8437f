//! The parsed files in load order and oslo.config's rule for finding an
//! option's value in them: the **last** file that sets the option under any
//! of its names wins; within that file the current name beats its deprecated
//! aliases (in the order given), and the last occurrence of a name wins.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ini::IniFile;
use crate::interpolate;
use crate::settings::RawConfig;

/// Where a value was found and what it is (after `$` substitution).
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// Lower-case group the value was found in.
    pub group: String,
    /// Lower-case option name it was found under (maybe an alias).
    pub option: String,
    pub value: String,
    pub file: Option<PathBuf>,
}

pub(crate) struct ConfigLayers {
    files: Vec<IniFile>,
    /// Last value of every option over all files, before substitution.
    merged: BTreeMap<String, BTreeMap<String, String>>,
}

impl ConfigLayers {
    pub fn new(files: Vec<IniFile>) -> Self {
        let mut merged: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for file in &files {
            for (section, options) in &file.sections {
                let target = merged.entry(section.clone()).or_default();
                for (option, values) in options {
                    if let Some(last) = values.last() {
                        target.insert(option.clone(), last.clone());
                    }
                }
            }
        }
        ConfigLayers { files, merged }
    }

    /// The value of an option known under `names` (lower-case `(group,
    /// option)` pairs, the current name first).
    pub fn find(&self, names: &[(&str, &str)]) -> Option<Found> {
        let canonical_group = names.first()?.0;
        for file in self.files.iter().rev() {
            for &(group, option) in names {
                if let Some(last) = file.values(group, option).and_then(<[String]>::last) {
                    return Some(Found {
                        group: group.to_string(),
                        option: option.to_string(),
                        value: self.substitute(last, canonical_group),
                        file: file.path.clone(),
                    });
                }
            }
        }
        None
    }

    /// Whether a section appears in any file.
    pub fn has_section(&self, section: &str) -> bool {
        self.merged.contains_key(section)
    }

    /// The options of a section (last values, substituted).
    pub fn section(&self, section: &str) -> BTreeMap<String, String> {
        self.merged
            .get(section)
            .map(|options| {
                options
                    .iter()
                    .map(|(option, value)| (option.clone(), self.substitute(value, section)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `(group, option)` of every option set anywhere.
    pub fn all_options(&self) -> impl Iterator<Item = (&str, &str)> {
        self.merged.iter().flat_map(|(section, options)| {
            options
                .keys()
                .map(move |option| (section.as_str(), option.as_str()))
        })
    }

    /// Everything as read, for [`crate::Settings::raw`].
    pub fn raw_config(&self) -> RawConfig {
        let mut raw = RawConfig::default();
        for section in self.merged.keys() {
            raw.sections.insert(section.clone(), self.section(section));
        }
        for file in &self.files {
            for (section, options) in &file.sections {
                let target = raw.all_values.entry(section.clone()).or_default();
                for (option, values) in options {
                    let all = target.entry(option.clone()).or_default();
                    all.extend(values.iter().map(|value| self.substitute(value, section)));
                }
            }
        }
        raw
    }

    fn substitute(&self, value: &str, group: &str) -> String {
        let lookup = |group: &str, option: &str| -> Option<String> {
            self.merged
                .get(group)
                .and_then(|options| options.get(option))
                .cloned()
        };
        interpolate::substitute(value, group, &lookup)
    }
}
