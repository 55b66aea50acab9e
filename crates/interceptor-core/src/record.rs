//! Records from the kernel, copied out of the ring or perf buffer.
//!
//! Samples are copied, never referenced in place: the buffer slot is handed
//! back to the kernel when the callback returns (the original queued pointers
//! into BCC's perf ring and read them later, after the kernel had reused
//! them). Perf samples are also not 8-byte aligned, hence `read_unaligned`.

/// A plain-old-data mirror of a BPF record layout.
///
/// # Safety
/// Implement only for `#[repr(C)]` structs made of integers and integer
/// arrays, for which every bit pattern is a valid value.
pub unsafe trait KernelRecord: Copy {
    /// Copies a record out of a sample; `None` if the sample is too short.
    fn read_from(sample: &[u8]) -> Option<Self> {
        if sample.len() < std::mem::size_of::<Self>() {
            return None;
        }
        // SAFETY: the sample holds at least size_of::<Self>() bytes, any bit
        // pattern is a valid Self (trait contract), and read_unaligned does
        // not require alignment.
        Some(unsafe { std::ptr::read_unaligned(sample.as_ptr().cast::<Self>()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Pair {
        a: u32,
        b: u64,
    }
    // SAFETY: integers only.
    unsafe impl KernelRecord for Pair {}

    #[test]
    fn reads_unaligned_and_rejects_short_samples() {
        let mut bytes = [0u8; 1 + 16];
        bytes[1..5].copy_from_slice(&7u32.to_ne_bytes());
        bytes[9..17].copy_from_slice(&9u64.to_ne_bytes());
        assert_eq!(Pair::read_from(&bytes[1..]), Some(Pair { a: 7, b: 9 }));
        assert_eq!(Pair::read_from(&bytes[1..10]), None);
    }
}
