//! certificate (work in progress).
