//! Integration tests of `tangible-crypto` (one test binary, one module per area).

mod certificate;
mod ecies;
mod ecies_crosscheck;
mod ecies_vectors;
mod envelope;
mod film;
mod film_vectors;
mod siwe;
mod wallet;
