//! siwe (work in progress).
