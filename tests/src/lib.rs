//! End-to-end tests of Tangible live in `tests/`; this library holds their shared helpers.
