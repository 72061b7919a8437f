//! Tokens already judged by Keystone, so that a token used for many requests
//! costs one validation.
//!
//! Valid tokens are kept for `token_cache_time` but never past their
//! `expires_at`. Tokens Keystone refused are kept for a few seconds only: long
//! enough that a client retrying a bad token in a loop does not hammer
//! Keystone, short enough that a Keystone hiccup (a fernet key not yet
//! replicated) heals quickly. The map holds at most `max_entries`; when full,
//! outdated entries go first, then those closest to their end. Keys are
//! SHA-256 digests, so the raw tokens are not kept in memory longer than needed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::token::TokenInfo;

/// How long a refused token is remembered (at most `token_cache_time`).
pub(crate) const INVALID_TOKEN_CACHE_TIME: Duration = Duration::from_secs(10);

pub(crate) type CacheKey = [u8; 32];

pub(crate) fn cache_key(token: &str) -> CacheKey {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cached {
    Valid(Arc<TokenInfo>),
    /// Keystone answered that the token does not exist (or is expired/revoked).
    Invalid,
}

struct Entry {
    value: Cached,
    until: Instant,
}

pub(crate) struct TokenCache {
    /// None: caching disabled. Some(None): until the token expires.
    lifetime: Option<Option<Duration>>,
    max_entries: usize,
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl TokenCache {
    /// `token_cache_time` as upstream reads it: negative disables, 0 keeps a token
    /// until it expires, otherwise that many seconds (but never past expiry).
    pub fn new(token_cache_time: i64, max_entries: usize) -> Self {
        let lifetime = match token_cache_time {
            t if t < 0 => None,
            0 => Some(None),
            t => Some(Some(Duration::from_secs(t as u64))),
        };
        TokenCache {
            lifetime,
            max_entries: max_entries.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &CacheKey, now: Instant) -> Option<Cached> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some(entry) if entry.until > now => Some(entry.value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers a valid token; one that is already expired is not kept.
    pub fn put_valid(
        &self,
        key: CacheKey,
        info: Arc<TokenInfo>,
        now: Instant,
        now_utc: DateTime<Utc>,
    ) {
        let Some(lifetime) = self.lifetime else {
            return;
        };
        let Ok(left) = (info.expires_at - now_utc).to_std() else {
            return;
        };
        let keep = match lifetime {
            Some(limit) => limit.min(left),
            None => left,
        };
        if keep.is_zero() {
            return;
        }
        self.insert(key, Cached::Valid(info), now + keep, now);
    }

    pub fn put_invalid(&self, key: CacheKey, now: Instant) {
        let keep = match self.lifetime {
            None => return,
            Some(Some(limit)) => limit.min(INVALID_TOKEN_CACHE_TIME),
            Some(None) => INVALID_TOKEN_CACHE_TIME,
        };
        if keep.is_zero() {
            return;
        }
        self.insert(key, Cached::Invalid, now + keep, now);
    }

    /// Forgets a token, e.g. one found expired on a cache hit.
    pub fn remove(&self, key: &CacheKey) {
        self.lock().remove(key);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn insert(&self, key: CacheKey, value: Cached, until: Instant, now: Instant) {
        let mut entries = self.lock();
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.retain(|_, e| e.until > now);
            if entries.len() >= self.max_entries {
                // A linear scan, but only when the map is full of live entries;
                // that costs far less than the Keystone call that preceded it.
                let soonest = entries.iter().min_by_key(|(_, e)| e.until).map(|(k, _)| *k);
                if let Some(k) = soonest {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(key, Entry { value, until });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Entry>> {
        // A panic while holding the lock cannot leave a half-written entry
        // (every change is one map operation), so a poisoned map is still sound.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(expires_in_secs: i64, now_utc: DateTime<Utc>) -> Arc<TokenInfo> {
        Arc::new(TokenInfo {
            user_id: "u".into(),
            user_domain_id: None,
            project_id: Some("p".into()),
            project_domain_id: None,
            domain_id: None,
            system_scope: None,
            roles: vec!["member".into()],
            expires_at: now_utc + chrono::Duration::seconds(expires_in_secs),
        })
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn valid_token_kept_for_cache_time() {
        let cache = TokenCache::new(300, 10);
        let (now, utc) = (Instant::now(), Utc::now());
        let key = cache_key("tok");
        cache.put_valid(key, info(3600, utc), now, utc);
        assert!(matches!(
            cache.get(&key, now + secs(299)),
            Some(Cached::Valid(_))
        ));
        assert_eq!(cache.get(&key, now + secs(300)), None);
        // The outdated entry was dropped on that read.
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn never_kept_past_expiry() {
        let cache = TokenCache::new(300, 10);
        let (now, utc) = (Instant::now(), Utc::now());
        let key = cache_key("tok");
        cache.put_valid(key, info(60, utc), now, utc);
        assert!(cache.get(&key, now + secs(59)).is_some());
        assert_eq!(cache.get(&key, now + secs(60)), None);
    }

    #[test]
    fn zero_cache_time_means_until_expiry() {
        let cache = TokenCache::new(0, 10);
        let (now, utc) = (Instant::now(), Utc::now());
        let key = cache_key("tok");
        cache.put_valid(key, info(7200, utc), now, utc);
        assert!(cache.get(&key, now + secs(7199)).is_some());
        assert_eq!(cache.get(&key, now + secs(7200)), None);
    }

    #[test]
    fn expired_tokens_are_not_stored() {
        let cache = TokenCache::new(300, 10);
        let (now, utc) = (Instant::now(), Utc::now());
        cache.put_valid(cache_key("old"), info(-5, utc), now, utc);
        cache.put_valid(cache_key("now"), info(0, utc), now, utc);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn negative_cache_time_disables_everything() {
        let cache = TokenCache::new(-1, 10);
        let (now, utc) = (Instant::now(), Utc::now());
        cache.put_valid(cache_key("a"), info(3600, utc), now, utc);
        cache.put_invalid(cache_key("b"), now);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn invalid_tokens_are_remembered_briefly() {
        let cache = TokenCache::new(300, 10);
        let now = Instant::now();
        let key = cache_key("garbage");
        cache.put_invalid(key, now);
        assert_eq!(cache.get(&key, now + secs(9)), Some(Cached::Invalid));
        assert_eq!(cache.get(&key, now + INVALID_TOKEN_CACHE_TIME), None);
        // A shorter token_cache_time shortens it too.
        let cache = TokenCache::new(2, 10);
        cache.put_invalid(key, now);
        assert_eq!(cache.get(&key, now + secs(2)), None);
    }

    #[test]
    fn bounded_evicting_outdated_then_soonest() {
        let cache = TokenCache::new(300, 3);
        let (now, utc) = (Instant::now(), Utc::now());
        cache.put_invalid(cache_key("bad"), now); // ends at +10 s
        cache.put_valid(cache_key("a"), info(100, utc), now, utc); // +100 s
        cache.put_valid(cache_key("b"), info(200, utc), now, utc); // +200 s
                                                                   // Full: the soonest to end (the invalid one) makes room.
        cache.put_valid(cache_key("c"), info(3600, utc), now, utc);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&cache_key("bad"), now), None);
        // Later, "a" has run out: it goes, nothing live is evicted.
        let later = now + secs(150);
        cache.put_invalid(cache_key("bad2"), later);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&cache_key("b"), later).is_some());
        assert!(cache.get(&cache_key("c"), later).is_some());
        // A flood of garbage never grows the map past its bound.
        for i in 0..100 {
            cache.put_invalid(cache_key(&format!("junk{i}")), later);
        }
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn overwriting_a_key_in_a_full_map_evicts_nothing() {
        let cache = TokenCache::new(300, 2);
        let (now, utc) = (Instant::now(), Utc::now());
        cache.put_valid(cache_key("a"), info(100, utc), now, utc);
        cache.put_valid(cache_key("b"), info(100, utc), now, utc);
        cache.put_valid(cache_key("a"), info(100, utc), now, utc);
        assert!(cache.get(&cache_key("b"), now).is_some());
    }

    #[test]
    fn keys_are_digests() {
        assert_eq!(cache_key("x"), cache_key("x"));
        assert_ne!(cache_key("x"), cache_key("y"));
    }
}
