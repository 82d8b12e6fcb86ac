//! Integration tests of `tangible-crypto` (one test binary, one module per area).

mod film;
