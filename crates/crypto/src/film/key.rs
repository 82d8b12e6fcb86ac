//! The film (edition) key: 256 random bits, wiped on drop, never printed, compared in
//! constant time.

use std::fmt;

use zeroize::Zeroizing;

/// A 256-bit film (edition) key. Wiped from memory on drop; never printed.
#[derive(Clone)]
pub struct FilmKey(Zeroizing<[u8; 32]>);

impl FilmKey {
    /// Key length in bytes.
    pub const LEN: usize = 32;

    /// Draws a fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(Zeroizing::new(crate::os_random()))
    }

    /// Wraps existing key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Builds a key from a slice, which must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Self::from_bytes(arr))
    }

    /// The raw key bytes. Handle with care: do not log them.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for FilmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FilmKey(<redacted>)")
    }
}

impl PartialEq for FilmKey {
    fn eq(&self, other: &Self) -> bool {
        // Constant time: keys are secrets.
        use subtle::ConstantTimeEq;
        self.0[..].ct_eq(&other.0[..]).into()
    }
}

impl Eq for FilmKey {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_debug_is_redacted() {
        let key = FilmKey::from_bytes([0xab; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
    }
}
