//! Who is calling: the request context and the layers that build it from a request.
//!
//! Two modes exist now, chosen like upstream by `[paste_deploy] flavor`: `noauth`
//! (every request is a full admin without a project) and `trusted-auth` (identity
//! headers set by a fronting proxy are trusted). Keystone token validation slots in
//! as a third [`AuthMode`] that produces the same [`RequestContext`].

mod context;
mod mode;

pub use context::RequestContext;
pub use mode::{AuthError, AuthMode, IdentityHeaders};
