//! Locking that survives a panic elsewhere: every critical section in the
//! libraries leaves its data consistent, so a panic inside one (already
//! reported, and never crossing the C ABI) must not take the library down.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, ignoring poisoning.
pub fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
