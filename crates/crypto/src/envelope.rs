//! envelope (work in progress).
