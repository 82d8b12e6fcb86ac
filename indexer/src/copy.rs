//! PostgreSQL binary `COPY` encoding (the `PGCOPY` format of
//! <https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>), used by the batch
//! writer to append rows without the server parsing text.

use alloy::primitives::U256;

/// Seconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 00:00:00 UTC).
const PG_EPOCH_UNIX: i64 = 946_684_800;

/// The two lowercase hex digits of every byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        pairs[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    pairs
};

/// A binary `COPY … FROM STDIN (FORMAT binary)` payload under construction.
#[derive(Debug)]
pub struct BinaryCopy {
    buf: Vec<u8>,
    rows: usize,
}

impl BinaryCopy {
    /// An empty payload (signature, flags and header extension written), sized for `capacity`
    /// bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity + 21);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        Self { buf, rows: 0 }
    }

    /// Starts a row of `fields` columns (the fields follow, in the statement's column order).
    pub fn row(&mut self, fields: i16) {
        self.rows += 1;
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    /// Rows started so far.
    pub const fn rows(&self) -> usize {
        self.rows
    }

    fn len_prefix(&mut self, len: usize) {
        let len = i32::try_from(len).expect("COPY field under 2 GiB");
        self.buf.extend_from_slice(&len.to_be_bytes());
    }

    /// A NULL field.
    pub fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// A `BIGINT` field.
    pub fn int8(&mut self, v: i64) {
        self.len_prefix(8);
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// An `INTEGER` field.
    pub fn int4(&mut self, v: i32) {
        self.len_prefix(4);
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A `SMALLINT` field.
    pub fn int2(&mut self, v: i16) {
        self.len_prefix(2);
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A `NUMERIC` field holding the non-negative integer `v` (a `uint256` identifier).
    pub fn numeric(&mut self, v: U256) {
        // Base-10000 digits, least significant first (a uint256 has at most 20 of them).
        let mut groups = [0i16; 20];
        let mut n = 0;
        if let Ok(mut small) = u64::try_from(v) {
            while small != 0 {
                groups[n] = (small % 10_000) as i16;
                small /= 10_000;
                n += 1;
            }
        } else {
            let base = U256::from(10_000u16);
            let mut rest = v;
            while !rest.is_zero() {
                let (q, r) = rest.div_rem(base);
                groups[n] = r.to::<u16>() as i16;
                rest = q;
                n += 1;
            }
        }
        // The weight counts every digit above the units; trailing zero digits are implied.
        let weight = n as i16 - 1;
        let low = groups[..n].iter().take_while(|g| **g == 0).count();
        let digits = &groups[low..n];
        self.len_prefix(8 + 2 * digits.len());
        self.buf
            .extend_from_slice(&(digits.len() as i16).to_be_bytes());
        self.buf
            .extend_from_slice(&(if digits.is_empty() { 0 } else { weight }).to_be_bytes());
        self.buf.extend_from_slice(&0u16.to_be_bytes()); // sign: positive
        self.buf.extend_from_slice(&0i16.to_be_bytes()); // display scale: integer
        for g in digits.iter().rev() {
            self.buf.extend_from_slice(&g.to_be_bytes());
        }
    }

    /// A `TEXT` field.
    pub fn text(&mut self, s: &str) {
        self.len_prefix(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A `TEXT` field holding `0x` and the lowercase hex of `bytes` (the schema's address and
    /// hash convention), encoded without an intermediate string. (Hot: three per raw event.)
    pub fn hex0x(&mut self, bytes: &[u8]) {
        self.len_prefix(2 + 2 * bytes.len());
        self.buf.extend_from_slice(b"0x");
        let start = self.buf.len();
        self.buf.resize(start + 2 * bytes.len(), 0);
        for (out, b) in self.buf[start..].chunks_exact_mut(2).zip(bytes) {
            out.copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
        }
    }

    /// A `BYTEA` field.
    pub fn bytea(&mut self, b: &[u8]) {
        self.len_prefix(b.len());
        self.buf.extend_from_slice(b);
    }

    /// A `TIMESTAMPTZ` field from Unix seconds (microseconds since 2000-01-01 on the wire).
    pub fn timestamptz(&mut self, unix_seconds: i64) {
        let micros = unix_seconds
            .saturating_sub(PG_EPOCH_UNIX)
            .saturating_mul(1_000_000);
        self.int8(micros);
    }

    /// Ends the payload (file trailer) and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::BinaryCopy;
    use alloy::primitives::U256;

    fn numeric_fields(digits: &str) -> Vec<u8> {
        let mut c = BinaryCopy::with_capacity(0);
        c.numeric(digits.parse::<U256>().unwrap());
        c.finish()[19..].to_vec() // after the 19-byte header, before the trailer
    }

    #[test]
    fn numeric_is_base_10000_with_weight_and_no_trailing_zero_digits() {
        let words = |v: &[i16]| v.iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<u8>>();
        let with_len = |w: Vec<u8>| {
            let mut v = (w.len() as i32).to_be_bytes().to_vec();
            v.extend(w);
            v.extend_from_slice(&[255, 255]);
            v
        };
        assert_eq!(numeric_fields("0"), with_len(words(&[0, 0, 0, 0])));
        assert_eq!(numeric_fields("7"), with_len(words(&[1, 0, 0, 0, 7])));
        assert_eq!(
            numeric_fields("12345"),
            with_len(words(&[2, 1, 0, 0, 1, 2345]))
        );
        assert_eq!(numeric_fields("10000"), with_len(words(&[1, 1, 0, 0, 1])));
        assert_eq!(
            numeric_fields("00420001"),
            with_len(words(&[2, 1, 0, 0, 42, 1]))
        );
        // Above u64: the U256 path.
        assert_eq!(
            numeric_fields("18446744073709551616"),
            with_len(words(&[5, 4, 0, 0, 1844, 6744, 737, 955, 1616]))
        );
        assert_eq!(
            numeric_fields("100000000000000000000"),
            with_len(words(&[1, 5, 0, 0, 1]))
        );
    }

    #[test]
    fn layout_of_header_fields_and_trailer() {
        let mut c = BinaryCopy::with_capacity(0);
        c.row(4);
        c.int8(-2);
        c.hex0x(&[0xab, 0x01]);
        c.null();
        c.timestamptz(946_684_801);
        assert_eq!(c.rows(), 1);
        let b = c.finish();
        let mut want = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        want.extend_from_slice(&[0, 4]);
        want.extend_from_slice(&[0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 254]);
        want.extend_from_slice(&[0, 0, 0, 6]);
        want.extend_from_slice(b"0xab01");
        want.extend_from_slice(&[255, 255, 255, 255]);
        want.extend_from_slice(&[0, 0, 0, 8]);
        want.extend_from_slice(&1_000_000i64.to_be_bytes());
        want.extend_from_slice(&[255, 255]);
        assert_eq!(b, want);
    }
}
