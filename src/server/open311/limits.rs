//! Requests per minute per integration key: a token bucket in memory. One bucket per key
//! name, so one portal's burst never starves another. Per process: behind several replicas a
//! key gets the limit at each (documented in docs/channels.md).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// `per_minute` 0 means no limit.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request's token for `key`, or says how long until one is there.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let cap = f64::from(self.per_minute);
        let per_sec = cap / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_sec))
        }
    }
}

/// Whole seconds for `Retry-After`, never 0 (a client told 0 retries at once and is refused
/// again).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_up_to_the_limit_then_refusals_until_the_bucket_refills() {
        let l = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take("portal", t0), Ok(()));
        }
        let wait = l.take("portal", t0).unwrap_err();
        // 3 a minute: one token every 20 s.
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
        assert_eq!(retry_after_secs(wait), 20);
        // Another key has its own bucket.
        assert_eq!(l.take("app", t0), Ok(()));
        assert!(l.take("portal", t0 + Duration::from_secs(10)).is_err());
        assert_eq!(l.take("portal", t0 + Duration::from_secs(21)), Ok(()));
    }

    #[test]
    fn zero_means_unlimited_and_retry_after_is_never_zero() {
        let l = RateLimiter::new(0);
        let t0 = Instant::now();
        assert!((0..1000).all(|_| l.take("k", t0).is_ok()));
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
