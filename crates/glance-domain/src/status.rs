//! Image statuses and the one table of legal transitions between them.

use std::fmt;
use std::str::FromStr;

/// The status of an image (spec §16.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageStatus {
    Queued,
    Saving,
    Uploading,
    Importing,
    Active,
    Killed,
    Deactivated,
    PendingDelete,
    Deleted,
}

impl ImageStatus {
    pub const ALL: [ImageStatus; 9] = [
        ImageStatus::Queued,
        ImageStatus::Saving,
        ImageStatus::Active,
        ImageStatus::Killed,
        ImageStatus::Deleted,
        ImageStatus::Uploading,
        ImageStatus::Importing,
        ImageStatus::PendingDelete,
        ImageStatus::Deactivated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Queued => "queued",
            ImageStatus::Saving => "saving",
            ImageStatus::Uploading => "uploading",
            ImageStatus::Importing => "importing",
            ImageStatus::Active => "active",
            ImageStatus::Killed => "killed",
            ImageStatus::Deactivated => "deactivated",
            ImageStatus::PendingDelete => "pending_delete",
            ImageStatus::Deleted => "deleted",
        }
    }

    /// Whether an image may move from `self` to `to` (spec §16.2). Staying in the
    /// same status is not a transition and is refused here; callers treat no-ops
    /// (deactivating a deactivated image) before asking.
    pub fn can_transition_to(self, to: ImageStatus) -> bool {
        use ImageStatus as S;
        matches!(
            (self, to),
            (
                S::Queued,
                S::Saving | S::Uploading | S::Importing | S::Active | S::Deleted
            ) | (S::Saving, S::Active | S::Killed | S::Deleted | S::Queued)
                | (S::Uploading, S::Importing | S::Queued | S::Deleted)
                | (S::Importing, S::Active | S::Deleted | S::Queued)
                | (S::Active, S::PendingDelete | S::Deleted | S::Deactivated)
                | (S::Killed, S::Deleted)
                | (S::PendingDelete, S::Deleted | S::Active)
                | (S::Deactivated, S::Active | S::Deleted)
        )
    }

    /// Leaving queued/uploading for these statuses needs disk and container formats.
    pub fn requires_formats(self) -> bool {
        matches!(
            self,
            ImageStatus::Saving | ImageStatus::Active | ImageStatus::Importing
        )
    }
}

impl fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImageStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

/// A string that is not one of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value '{0}'")]
pub struct UnknownValue(pub String);

#[cfg(test)]
mod tests {
    use super::ImageStatus::{self, *};

    /// Every ordered pair of statuses, with the expected verdict written out as the
    /// spec's table (rows = from, allowed targets listed).
    #[test]
    fn transition_table_covers_every_pair() {
        let allowed: &[(ImageStatus, &[ImageStatus])] = &[
            (Queued, &[Saving, Uploading, Importing, Active, Deleted]),
            (Saving, &[Active, Killed, Deleted, Queued]),
            (Uploading, &[Importing, Queued, Deleted]),
            (Importing, &[Active, Deleted, Queued]),
            (Active, &[PendingDelete, Deleted, Deactivated]),
            (Killed, &[Deleted]),
            (PendingDelete, &[Deleted, Active]),
            (Deactivated, &[Active, Deleted]),
            (Deleted, &[]),
        ];
        let mut checked = 0;
        for (from, targets) in allowed {
            for to in ImageStatus::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    targets.contains(&to),
                    "{from} -> {to}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 81);
    }

    #[test]
    fn names_round_trip() {
        for st in ImageStatus::ALL {
            assert_eq!(st.as_str().parse::<ImageStatus>().unwrap(), st);
        }
        assert!("bogus".parse::<ImageStatus>().is_err());
    }
}
