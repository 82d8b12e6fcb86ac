//! Integration tests of the schema and of the private PostgreSQL harness.

mod harness;
mod schema;
