//! Why a request could not be authenticated against Keystone.

/// The body text upstream's auth_token uses for its 503.
pub const UNAVAILABLE_MESSAGE: &str = "The Keystone service is temporarily unavailable.";

/// The message of upstream's auth_token 401 (`{"error": {"code": 401, "title":
/// "Unauthorized", "message": ...}}` when it rejects by itself).
pub const UNAUTHORIZED_MESSAGE: &str = "The request you have made requires authentication.";

/// Reasons never contain a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoneError {
    /// No `X-Auth-Token` (or an empty one).
    #[error("no token in the request")]
    Missing,
    /// Keystone refused the token, or it could not be read.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The token's `expires_at` has passed.
    #[error("the token has expired")]
    Expired,
    /// Keystone could not be asked (down, timing out, 5xx, refusing our service
    /// user); nothing is known about the token.
    #[error("Keystone is unavailable: {0}")]
    Unavailable(String),
}

impl KeystoneError {
    /// 401 for every refusal, 503 when Keystone could not be reached.
    pub fn status(&self) -> u16 {
        match self {
            KeystoneError::Unavailable(_) => 503,
            _ => 401,
        }
    }

    /// Whether the response must carry `WWW-Authenticate` (every 401 does:
    /// upstream adds it to any 401 leaving the pipeline, see
    /// [`super::KeystoneAuth::www_authenticate`]).
    pub fn wants_www_authenticate(&self) -> bool {
        self.status() == 401
    }

    /// The message for the response body (the reason is for the logs only).
    pub fn public_message(&self) -> &'static str {
        match self {
            KeystoneError::Unavailable(_) => UNAVAILABLE_MESSAGE,
            _ => UNAUTHORIZED_MESSAGE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(KeystoneError::Missing.status(), 401);
        assert_eq!(KeystoneError::Invalid("x".into()).status(), 401);
        assert_eq!(KeystoneError::Expired.status(), 401);
        assert_eq!(KeystoneError::Unavailable("x".into()).status(), 503);
        assert!(KeystoneError::Expired.wants_www_authenticate());
        assert!(!KeystoneError::Unavailable("x".into()).wants_www_authenticate());
        assert_eq!(
            KeystoneError::Unavailable("x".into()).public_message(),
            UNAVAILABLE_MESSAGE
        );
    }
}
