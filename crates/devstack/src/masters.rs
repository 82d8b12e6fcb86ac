//! Demo masters: deterministic bytes standing in for a film, generated into the data directory
//! and uploaded through the API.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use tangible_domain::Quality;

/// Writes `len` deterministic bytes for `(film, quality)` to `path` (the same bytes on every
/// run, so a test can regenerate them and a played film can be compared byte for byte).
pub fn generate_master(path: &Path, film_id: u64, quality: Quality, len: usize) -> Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    // splitmix64: fast, seeded, and good enough to make every block of the file different.
    let mut state = film_id
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(quality.code()) + 1);
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len());
        for chunk in buf[..n].chunks_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        out.write_all(&buf[..n])?;
        left -= n;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_are_deterministic_and_distinct_per_edition() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        generate_master(&p("a"), 1, Quality::Hd, 100_003).unwrap();
        generate_master(&p("b"), 1, Quality::Hd, 100_003).unwrap();
        generate_master(&p("c"), 1, Quality::Uhd4k, 100_003).unwrap();
        let (a, b, c) = (
            std::fs::read(p("a")).unwrap(),
            std::fs::read(p("b")).unwrap(),
            std::fs::read(p("c")).unwrap(),
        );
        assert_eq!(a.len(), 100_003);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Not a constant fill: the first and second 64 KiB blocks differ.
        assert_ne!(a[..65536 / 2], a[65536..65536 + 65536 / 2]);
    }
}
