//! `users`: every address seen in a mirrored event, with the block it was first seen in.

use alloy::primitives::Address;
use alloy::primitives::map::AddressMap;
use sqlx::PgConnection;

use crate::Result;
use crate::decode::{RawEvent, hex0x};

/// The addresses a batch mentions, each with the first block (and its timestamp) it is seen
/// in; the zero address is not a user.
#[derive(Debug, Default)]
pub(super) struct Users {
    /// Address → (first block, its timestamp).
    pub(super) first_seen: AddressMap<(u64, Option<u64>)>,
}

impl Users {
    /// Records `a` as seen in `raw`'s block unless it was seen earlier in the batch.
    pub(super) fn see(&mut self, a: Address, raw: &RawEvent) {
        if a != Address::ZERO {
            self.first_seen
                .entry(a)
                .or_insert((raw.block_number, raw.block_timestamp));
        }
    }

    /// Inserts the new users; a stored one moves to an earlier first block if this is one.
    pub(super) async fn write(&self, conn: &mut PgConnection) -> Result<()> {
        if self.first_seen.is_empty() {
            return Ok(());
        }
        let n = self.first_seen.len();
        let (mut address, mut block, mut ts) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (a, (b, t)) in &self.first_seen {
            address.push(hex0x(a));
            block.push(*b as i64);
            ts.push(t.map(|t| t as i64));
        }
        sqlx::query(
            "INSERT INTO users (address, created_at, first_seen_block)
             SELECT a, COALESCE(to_timestamp(ts), now()), b FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(a, b, ts)
             ON CONFLICT (address) DO UPDATE SET first_seen_block = EXCLUDED.first_seen_block, created_at = EXCLUDED.created_at
             WHERE EXCLUDED.first_seen_block < users.first_seen_block",
        )
        .bind(address)
        .bind(block)
        .bind(ts)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Deletes the users first seen above block `to` (one seen earlier keeps its row: a later
    /// event never changes it).
    pub(super) async fn unwind(conn: &mut PgConnection, to: u64) -> Result<()> {
        sqlx::query("DELETE FROM users WHERE first_seen_block > $1")
            .bind(to as i64)
            .execute(conn)
            .await?;
        Ok(())
    }
}
