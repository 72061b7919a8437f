//! librados / librbd failures (a negative errno) and how they become
//! [`StoreError`]s. Messages carry the operation and the errno text only, never a
//! key or a config value.

use std::fmt;

use crate::StoreError;

pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const EACCES: i32 = 13;
pub const EBUSY: i32 = 16;
pub const EEXIST: i32 = 17;
pub const EINVAL: i32 = 22;
pub const ENOSPC: i32 = 28;
pub const ERANGE: i32 = 34;
pub const ENOTEMPTY: i32 = 39;
/// What librados answers once this client has been blocklisted (`EBLOCKLISTED`).
pub const ESHUTDOWN: i32 = 108;
pub const EDQUOT: i32 = 122;

/// One failed librados / librbd call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CephError {
    /// What was being done, e.g. "create image".
    pub op: &'static str,
    /// The positive errno.
    pub errno: i32,
}

impl CephError {
    pub fn new(op: &'static str, ret: i64) -> Self {
        CephError {
            op,
            errno: i32::try_from(ret.unsigned_abs()).unwrap_or(i32::MAX),
        }
    }

    /// As a store error for a call that changes the pool (create, write, resize,
    /// snapshot, rename): a refusal by the cluster means writes are not allowed.
    pub fn writing(self, subject: &str) -> StoreError {
        match self.errno {
            EACCES | EPERM => StoreError::WriteDenied(self.with(subject)),
            _ => self.reading(subject),
        }
    }

    /// As a store error for any other call.
    pub fn reading(self, subject: &str) -> StoreError {
        match self.errno {
            ENOENT => StoreError::NotFound(subject.to_string()),
            EEXIST => StoreError::Duplicate(subject.to_string()),
            EBUSY => StoreError::InUse(self.with(subject)),
            ENOSPC | EDQUOT => StoreError::StorageFull(self.with(subject)),
            _ => StoreError::Backend(self.with(subject)),
        }
    }

    fn with(self, subject: &str) -> String {
        format!("{subject}: {self}")
    }
}

impl fmt::Display for CephError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // std's text for an errno, e.g. "No such file or directory (os error 2)".
        let text = std::io::Error::from_raw_os_error(self.errno);
        write!(f, "{} failed: {text}", self.op)
    }
}

impl std::error::Error for CephError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_values_map_to_store_errors() {
        let e = |errno| CephError { op: "op", errno };
        assert!(matches!(e(ENOENT).reading("x"), StoreError::NotFound(_)));
        assert!(matches!(e(EEXIST).writing("x"), StoreError::Duplicate(_)));
        assert!(matches!(e(EBUSY).writing("x"), StoreError::InUse(_)));
        assert!(matches!(e(ENOSPC).writing("x"), StoreError::StorageFull(_)));
        assert!(matches!(e(EDQUOT).writing("x"), StoreError::StorageFull(_)));
        assert!(matches!(e(EACCES).writing("x"), StoreError::WriteDenied(_)));
        assert!(matches!(e(EPERM).writing("x"), StoreError::WriteDenied(_)));
        assert!(matches!(e(EPERM).reading("x"), StoreError::Backend(_)));
        assert!(matches!(e(5).reading("x"), StoreError::Backend(_)));
        assert_eq!(CephError::new("read", -2).errno, ENOENT);
    }
}
