//! Per-caller rate limits (GCRA through `governor`), keyed by the address a request
//! claims; bounded in memory.

use std::num::NonZeroU32;

use alloy_primitives::Address;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Most distinct callers tracked before idle ones are dropped.
pub const TRACKED_CALLERS_MAX: usize = 100_000;

/// The limiter.
pub struct RateLimits {
    limiter: DefaultKeyedRateLimiter<Address>,
}

impl RateLimits {
    /// `per_sec` sustained, `burst` at once, per caller.
    pub fn new(per_sec: u32, burst: u32) -> RateLimits {
        let per_sec = NonZeroU32::new(per_sec.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        RateLimits { limiter: RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst)) }
    }

    /// Whether `caller` may make one more request now.
    pub fn allow(&self, caller: Address) -> bool {
        if self.limiter.len() > TRACKED_CALLERS_MAX {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&caller).is_ok()
    }
}
