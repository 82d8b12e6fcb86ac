//! ecies (work in progress).
