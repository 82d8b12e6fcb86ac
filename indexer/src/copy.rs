//! PostgreSQL binary `COPY` encoding (the `PGCOPY` format of
//! <https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>), used by the batch
//! writer to append rows without the server parsing text.

/// Seconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 00:00:00 UTC).
const PG_EPOCH_UNIX: i64 = 946_684_800;

/// A binary `COPY … FROM STDIN (FORMAT binary)` payload under construction.
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
    pub fn rows(&self) -> usize {
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

    /// A `NUMERIC` field holding the non-negative integer written in decimal in `digits`
    /// (ASCII digits only, as produced by formatting an unsigned integer).
    pub fn numeric(&mut self, digits: &str) {
        debug_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        let s = digits.trim_start_matches('0').as_bytes();
        // Base-10000 digits, most significant first.
        let mut groups: Vec<i16> = Vec::with_capacity(s.len() / 4 + 1);
        let head = match s.len() % 4 {
            0 => 4.min(s.len()),
            n => n,
        };
        let mut chunks = vec![&s[..head]];
        chunks.extend(s[head..].chunks(4));
        for c in chunks.into_iter().filter(|c| !c.is_empty()) {
            groups.push(c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')));
        }
        let weight = groups.len() as i16 - 1;
        while groups.last() == Some(&0) {
            groups.pop();
        }
        self.len_prefix(8 + 2 * groups.len());
        self.buf
            .extend_from_slice(&(groups.len() as i16).to_be_bytes());
        self.buf
            .extend_from_slice(&(if groups.is_empty() { 0 } else { weight }).to_be_bytes());
        self.buf.extend_from_slice(&0u16.to_be_bytes()); // sign: positive
        self.buf.extend_from_slice(&0i16.to_be_bytes()); // display scale: integer
        for g in groups {
            self.buf.extend_from_slice(&g.to_be_bytes());
        }
    }

    /// A `TEXT` field.
    pub fn text(&mut self, s: &str) {
        self.len_prefix(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A `TEXT` field holding `0x` and the lowercase hex of `bytes` (the schema's address and
    /// hash convention), encoded without an intermediate string.
    pub fn hex0x(&mut self, bytes: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.len_prefix(2 + 2 * bytes.len());
        self.buf.extend_from_slice(b"0x");
        for b in bytes {
            self.buf
                .extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
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

    fn numeric_fields(digits: &str) -> Vec<u8> {
        let mut c = BinaryCopy::with_capacity(0);
        c.numeric(digits);
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
