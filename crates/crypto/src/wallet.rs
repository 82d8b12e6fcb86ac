//! wallet (work in progress).
