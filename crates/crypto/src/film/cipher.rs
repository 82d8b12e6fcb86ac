//! One film's AES-256-GCM segment sealing: the key schedule, the header as associated data,
//! and the STREAM nonce `prefix ‖ segment index (u32 BE) ‖ last-segment flag` — on either
//! backend ([`AesBackend`]), with the same bytes and the same outcome.

use zeroize::Zeroize;

use super::backend::{AesBackend, current_backend};
use super::{FilmKey, HEADER_LEN, Header, NONCE_PREFIX_LEN, Result, TAG_LEN};

/// The key schedule of one backend. (`ring` keeps its schedule inline, aws-lc-rs behind a
/// pointer: one value per open film, so the size difference does not matter.)
#[allow(clippy::large_enum_variant)]
enum Key {
    Ring(ring::aead::LessSafeKey),
    AwsLc(aws_lc_rs::aead::LessSafeKey),
}

/// The per-file AES-256-GCM state: key schedule, associated data and nonce prefix.
pub(super) struct SegmentCipher {
    key: Key,
    /// The header's bytes, the associated data of every segment.
    pub(super) aad: [u8; HEADER_LEN],
    prefix: [u8; NONCE_PREFIX_LEN],
}

impl SegmentCipher {
    /// The cipher for `header` on the backend of this thread ([`current_backend`]).
    pub(super) fn new(key: &FilmKey, header: &Header) -> Result<Self> {
        Ok(Self::with_backend(current_backend()?, key, header))
    }

    /// The cipher for `header` on `backend`.
    pub(super) fn with_backend(backend: AesBackend, key: &FilmKey, header: &Header) -> Self {
        let secret = key.expose_secret();
        let key = match backend {
            AesBackend::Ring => {
                use ring::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
                Key::Ring(LessSafeKey::new(
                    UnboundKey::new(&AES_256_GCM, secret).expect("32-byte AES-256 key"),
                ))
            }
            AesBackend::AwsLc => {
                use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
                Key::AwsLc(LessSafeKey::new(
                    UnboundKey::new(&AES_256_GCM, secret).expect("32-byte AES-256 key"),
                ))
            }
        };
        Self {
            key,
            aad: header.to_bytes(),
            prefix: header.nonce_prefix,
        }
    }

    /// The backend this cipher runs on.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) const fn backend(&self) -> AesBackend {
        match self.key {
            Key::Ring(_) => AesBackend::Ring,
            Key::AwsLc(_) => AesBackend::AwsLc,
        }
    }

    fn nonce(&self, index: u64, last: bool) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..NONCE_PREFIX_LEN].copy_from_slice(&self.prefix);
        // Callers only pass indices < MAX_SEGMENTS (checked in Header::validate).
        n[7..11].copy_from_slice(&(index as u32).to_be_bytes());
        n[11] = u8::from(last);
        n
    }

    /// Encrypts `buf[..len]` in place and writes the tag to `buf[len..len + TAG_LEN]`.
    pub(super) fn seal(&self, index: u64, last: bool, buf: &mut [u8], len: usize) {
        let nonce = self.nonce(index, last);
        let data = &mut buf[..len];
        let mut tag = [0u8; TAG_LEN];
        match &self.key {
            Key::Ring(k) => {
                use ring::aead::{Aad, Nonce};
                let t = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&self.aad),
                        data,
                    )
                    .expect("segment within AES-GCM limits");
                tag.copy_from_slice(t.as_ref());
            }
            Key::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                let t = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&self.aad),
                        data,
                    )
                    .expect("segment within AES-GCM limits");
                tag.copy_from_slice(t.as_ref());
            }
        }
        buf[len..len + TAG_LEN].copy_from_slice(&tag);
    }

    /// Opens `ciphertext ‖ tag` in place; on success the plaintext is the first
    /// `buf.len() - TAG_LEN` bytes. On failure (also a `buf` shorter than a tag) the whole
    /// buffer is zeroed, whichever the backend.
    pub(super) fn open(&self, index: u64, last: bool, buf: &mut [u8]) -> bool {
        let nonce = self.nonce(index, last);
        let ok = buf.len() >= TAG_LEN
            && match &self.key {
                Key::Ring(k) => {
                    use ring::aead::{Aad, Nonce};
                    k.open_in_place(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&self.aad),
                        buf,
                    )
                    .is_ok()
                }
                Key::AwsLc(k) => {
                    use aws_lc_rs::aead::{Aad, Nonce};
                    k.open_in_place(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&self.aad),
                        buf,
                    )
                    .is_ok()
                }
            };
        if !ok {
            buf.zeroize();
        }
        ok
    }

    /// Opens out of place within one buffer: the ciphertext is `in_out[src..]` (its tag is
    /// `tag`), the plaintext goes to `in_out[..in_out.len() - src]`; nothing else is written.
    /// Needs `src >= in_out.len() - src` (the two ranges do not overlap). On failure the
    /// plaintext range is zeroed, whichever the backend.
    pub(super) fn open_separate(
        &self,
        index: u64,
        last: bool,
        in_out: &mut [u8],
        src: usize,
        tag: &[u8; TAG_LEN],
    ) -> bool {
        let len = in_out.len() - src;
        assert!(len <= src, "plaintext and ciphertext ranges do not overlap");
        let nonce = self.nonce(index, last);
        let ok = match &self.key {
            Key::Ring(k) => {
                use ring::aead::{Aad, Nonce, Tag};
                k.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&self.aad),
                    Tag::from(*tag),
                    in_out,
                    src..,
                )
                .is_ok()
            }
            Key::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                let (out, input) = in_out.split_at_mut(src);
                k.open_separate_gather(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&self.aad),
                    input,
                    tag,
                    &mut out[..len],
                )
                .is_ok()
            }
        };
        if !ok {
            in_out[..len].zeroize();
        }
        ok
    }

    /// Opens `ciphertext` (its tag `tag`) into `out`, which is as long: out of place on
    /// aws-lc-rs, so the ciphertext is read once, by AES-GCM; on `ring`, which has no
    /// separate-input open, the ciphertext is copied into `out` and opened there. On failure `out`
    /// is zeroed, whichever the backend.
    pub(super) fn open_to(
        &self,
        index: u64,
        last: bool,
        ciphertext: &[u8],
        tag: &[u8; TAG_LEN],
        out: &mut [u8],
    ) -> bool {
        assert_eq!(
            ciphertext.len(),
            out.len(),
            "as much plaintext as ciphertext"
        );
        let nonce = self.nonce(index, last);
        let ok = match &self.key {
            Key::Ring(k) => {
                use ring::aead::{Aad, Nonce, Tag};
                out.copy_from_slice(ciphertext);
                k.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&self.aad),
                    Tag::from(*tag),
                    out,
                    0..,
                )
                .is_ok()
            }
            Key::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                k.open_separate_gather(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&self.aad),
                    ciphertext,
                    tag,
                    out,
                )
                .is_ok()
            }
        };
        if !ok {
            out.zeroize();
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::film::{EditionId, with_backend};

    fn cipher(backend: AesBackend) -> SegmentCipher {
        let header = Header::with_segment_size(EditionId::new(1, 1), 64, 1000).expect("header");
        SegmentCipher::with_backend(backend, &FilmKey::from_bytes([9; 32]), &header)
    }

    #[test]
    fn new_takes_the_thread_s_backend() {
        let header = Header::with_segment_size(EditionId::new(1, 1), 64, 1000).expect("header");
        let key = FilmKey::generate();
        for b in AesBackend::ALL {
            let c = with_backend(b, || SegmentCipher::new(&key, &header)).expect("cipher");
            assert_eq!(c.backend(), b);
        }
    }

    #[test]
    fn a_failed_open_zeroes_the_same_bytes_on_both_backends() {
        for b in AesBackend::ALL {
            let c = cipher(b);
            // In place: a short buffer and a bad tag both fail and leave zeros.
            let mut short = [7u8; TAG_LEN - 1];
            assert!(!c.open(0, false, &mut short), "{b}");
            assert_eq!(short, [0; TAG_LEN - 1], "{b}");
            let mut sealed = [3u8; 40 + TAG_LEN];
            c.seal(2, false, &mut sealed, 40);
            sealed[5] ^= 1;
            assert!(!c.open(2, false, &mut sealed), "{b}");
            assert!(sealed.iter().all(|&x| x == 0), "{b}");

            // Out of place: only the plaintext range is written, zeros on failure, and the
            // bytes between it and the ciphertext are never touched.
            let mut seg = [4u8; 40 + TAG_LEN];
            c.seal(1, true, &mut seg, 40);
            let tag: [u8; TAG_LEN] = seg[40..].try_into().unwrap();
            let mut in_out = vec![0xEEu8; 64 + 40];
            in_out[64..].copy_from_slice(&seg[..40]);
            assert!(c.open_separate(1, true, &mut in_out, 64, &tag), "{b}");
            assert_eq!(&in_out[..40], &[4u8; 40][..], "{b}");
            assert!(in_out[40..64].iter().all(|&x| x == 0xEE), "{b}");
            assert_eq!(
                &in_out[64..],
                &seg[..40],
                "{b}: the ciphertext is only read"
            );
            assert!(!c.open_separate(1, false, &mut in_out, 64, &tag), "{b}");
            assert_eq!(&in_out[..40], &[0u8; 40][..], "{b}");
            assert!(in_out[40..64].iter().all(|&x| x == 0xEE), "{b}");
        }
    }
}
