//! Time, in one place. Verification asks [`now`] (the system clock, never an environment
//! variable: a verifier must not judge certificates at a time a build script chose); signing asks
//! [`signing_time`], which honours `SOURCE_DATE_EPOCH` so that builds are reproducible.

/// How far a statement's own `iat` may lie after the trusted time it is judged at (a receipt's
/// registration time, or now) before it is refused: clocks of signers and services disagree a
/// little, never by more than this.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The system clock, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The time a new statement or artifact records: `SOURCE_DATE_EPOCH` when set, else [`now`].
pub fn signing_time() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(now)
}
