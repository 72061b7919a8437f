//! Undoing a half-done data transfer when its request is cut off: the upload and
//! the stage put the image back to `queued` (and remove what was written) whether
//! they fail on their own or the client goes away and the request future is
//! dropped mid-way.

use std::future::Future;
use std::pin::Pin;

type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Holds a clean-up that runs unless disarmed: awaited by [`RevertGuard::revert`],
/// or spawned on the runtime when the guard is dropped still armed.
pub(crate) struct RevertGuard {
    cleanup: Option<Cleanup>,
}

impl RevertGuard {
    pub fn new(cleanup: impl Future<Output = ()> + Send + 'static) -> Self {
        RevertGuard {
            cleanup: Some(Box::pin(cleanup)),
        }
    }

    /// The transfer finished (or another request owns the image): nothing to undo.
    pub fn disarm(&mut self) {
        self.cleanup = None;
    }

    /// Runs the clean-up now, before the error goes back to the client.
    pub async fn revert(mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            cleanup.await;
        }
    }
}

impl Drop for RevertGuard {
    fn drop(&mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(cleanup);
            }
        }
    }
}
