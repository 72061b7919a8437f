//! Removing an image and its snapshot, as upstream's `_delete_image` does, but
//! refusing before any change while the snapshot has clones.

use std::sync::Arc;

use super::cluster::IoCtx;
use super::errno::{EACCES, EBUSY, EINVAL, ENOENT, ENOTEMPTY, EPERM};
use crate::StoreError;

/// Removes image `name`, after unprotecting and removing `snapshot` if given.
/// `subject` names the data in errors (the location).
///
/// Missing image: `NotFound`. Clones of the snapshot, or other clients with the
/// image open: `InUse`, with the image and its snapshot left exactly as they were
/// (upstream removes the snapshot before it finds the image busy). Only a client
/// opening the image between these checks and the removal can still make the
/// removal fail after the snapshot is gone.
pub fn remove_image(
    io: &Arc<IoCtx>,
    name: &str,
    snapshot: Option<&str>,
    subject: &str,
) -> Result<(), StoreError> {
    let watchers = io
        .open_image(name, None, true)
        .and_then(|head| head.watcher_count())
        .map_err(|err| err.reading(subject))?;
    if watchers > 0 {
        return Err(busy(subject));
    }
    if let Some(snap) = snapshot {
        remove_snapshot(io, name, snap, subject)?;
    }
    match io.remove_image(name) {
        Ok(()) => Ok(()),
        Err(err) if err.errno == ENOENT => Err(StoreError::NotFound(subject.into())),
        Err(err) if err.errno == EBUSY => Err(busy(subject)),
        // Snapshots other than ours remain: upstream moves the image to the trash,
        // where Ceph keeps it until nothing depends on it.
        Err(err) if err.errno == ENOTEMPTY => {
            tracing::warn!(
                image = name,
                "image has snapshots left; moving it to the trash"
            );
            io.trash_image(name).map_err(|err| err.writing(subject))
        }
        Err(err) => Err(err.writing(subject)),
    }
}

/// Whether [`remove_image`] would refuse with `InUse` (watchers, or clones of
/// `snapshot`), asked before the image's record changes. A missing image or
/// snapshot is no obstacle. A listing refused with EPERM means a clone lives in a
/// pool this user may not read (Nova's `vms` pool, typically): in use too.
pub fn check_removable(
    io: &Arc<IoCtx>,
    name: &str,
    snapshot: Option<&str>,
    subject: &str,
) -> Result<(), StoreError> {
    let watchers = match io
        .open_image(name, None, true)
        .and_then(|head| head.watcher_count())
    {
        Ok(count) => count,
        Err(err) if err.errno == ENOENT => return Ok(()),
        Err(err) => return Err(err.reading(subject)),
    };
    if watchers > 0 {
        return Err(busy(subject));
    }
    let Some(snap) = snapshot else {
        return Ok(());
    };
    match io
        .open_image(name, Some(snap), true)
        .and_then(|at_snapshot| at_snapshot.clone_count())
    {
        Ok(0) => Ok(()),
        Ok(count) => Err(StoreError::InUse(format!(
            "{subject}: the snapshot has {count} clone(s)"
        ))),
        Err(err) if err.errno == ENOENT => Ok(()),
        Err(err) if err.errno == EPERM || err.errno == EACCES => Err(StoreError::InUse(format!(
            "{subject}: the snapshot has clones in a pool this user cannot read"
        ))),
        Err(err) => Err(err.reading(subject)),
    }
}

fn busy(subject: &str) -> StoreError {
    StoreError::InUse(format!(
        "{subject}: the image is open elsewhere (it has watchers)"
    ))
}

fn remove_snapshot(
    io: &Arc<IoCtx>,
    name: &str,
    snap: &str,
    subject: &str,
) -> Result<(), StoreError> {
    let mut image = io
        .open_image(name, None, false)
        .map_err(|err| err.reading(subject))?;
    if !image
        .snap_exists(snap)
        .map_err(|err| err.reading(subject))?
    {
        // Upstream carries on to the image when the snapshot is already gone.
        tracing::debug!(image = name, snapshot = snap, "snapshot already removed");
        return Ok(());
    }
    // Clones first, while nothing has been changed. A clone in a pool this user may
    // not read makes the listing fail with EPERM (it cannot name the child); the
    // unprotect below still refuses then, and a refused unprotect changes nothing.
    let clones = io
        .open_image(name, Some(snap), true)
        .and_then(|at_snapshot| at_snapshot.clone_count());
    match clones {
        Ok(0) => {}
        Ok(count) => {
            return Err(StoreError::InUse(format!(
                "{subject}: the snapshot has {count} clone(s)"
            )))
        }
        Err(err) if err.errno == EPERM || err.errno == EACCES => {
            tracing::debug!(image = name, error = %err, "cannot list clones; unprotect decides");
        }
        Err(err) => return Err(err.reading(subject)),
    }
    let in_use = |_| {
        StoreError::InUse(format!(
            "{subject}: the snapshot has clones (it cannot be unprotected)"
        ))
    };
    if image
        .snap_is_protected(snap)
        .map_err(|err| err.reading(subject))?
    {
        match image.snap_unprotect(snap) {
            Ok(()) => {}
            Err(err) if err.errno == EBUSY => return Err(in_use(err)),
            // Already unprotected (a race with another delete): fine.
            Err(err) if err.errno == EINVAL => {}
            Err(err) => return Err(err.writing(subject)),
        }
    }
    match image.snap_remove(snap) {
        Ok(()) => Ok(()),
        Err(err) if err.errno == ENOENT => Ok(()),
        Err(err) if err.errno == EBUSY => Err(in_use(err)),
        Err(err) => Err(err.writing(subject)),
    }
}
