//! One film's AES-256-GCM segment sealing: the key schedule, the header as associated data,
//! and the STREAM nonce `prefix ‖ segment index (u32 BE) ‖ last-segment flag`.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use super::{FilmKey, HEADER_LEN, Header, NONCE_PREFIX_LEN, TAG_LEN};

/// The per-file AES-256-GCM state: key schedule, associated data and nonce prefix.
pub(super) struct SegmentCipher {
    pub(super) key: LessSafeKey,
    /// The header's bytes, the associated data of every segment.
    pub(super) aad: [u8; HEADER_LEN],
    prefix: [u8; NONCE_PREFIX_LEN],
}

impl SegmentCipher {
    pub(super) fn new(key: &FilmKey, header: &Header) -> Self {
        let unbound =
            UnboundKey::new(&AES_256_GCM, key.expose_secret()).expect("32-byte AES-256 key");
        Self {
            key: LessSafeKey::new(unbound),
            aad: header.to_bytes(),
            prefix: header.nonce_prefix,
        }
    }

    pub(super) fn nonce(&self, index: u64, last: bool) -> Nonce {
        let mut n = [0u8; 12];
        n[..NONCE_PREFIX_LEN].copy_from_slice(&self.prefix);
        // Callers only pass indices < MAX_SEGMENTS (checked in Header::validate).
        n[7..11].copy_from_slice(&(index as u32).to_be_bytes());
        n[11] = u8::from(last);
        Nonce::assume_unique_for_key(n)
    }

    /// Encrypts `buf[..len]` in place and writes the tag to `buf[len..len + TAG_LEN]`.
    pub(super) fn seal(&self, index: u64, last: bool, buf: &mut [u8], len: usize) {
        let tag = self
            .key
            .seal_in_place_separate_tag(
                self.nonce(index, last),
                Aad::from(&self.aad),
                &mut buf[..len],
            )
            .expect("segment within AES-GCM limits");
        buf[len..len + TAG_LEN].copy_from_slice(tag.as_ref());
    }

    /// Opens `ciphertext ‖ tag` in place; on success the plaintext is the first
    /// `buf.len() - TAG_LEN` bytes. On failure `ring` wipes the buffer.
    pub(super) fn open(&self, index: u64, last: bool, buf: &mut [u8]) -> bool {
        self.key
            .open_in_place(self.nonce(index, last), Aad::from(&self.aad), buf)
            .is_ok()
    }
}
