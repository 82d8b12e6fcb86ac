//! Integration tests of `tangible-content` against real parts: files on disk, iroh endpoints
//! on loopback, an axum server on 127.0.0.1.

mod common;
mod http;
mod p2p;
mod store;
mod swarm;
