//! The market's money moves: `withdrawals` (`Withdrawn`) and `deposits` (`Deposited`), one
//! row per event, keyed by `(tx_hash, log_index)`.

use alloy::primitives::{Address, B256, U256};
use sqlx::PgConnection;

use crate::Result;
use crate::decode::{dec, hex0x};

/// A `Withdrawn`: one `withdrawals` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Withdrawal {
    pub(super) tx: B256,
    pub(super) log_index: i64,
    pub(super) block: i64,
    pub(super) account: Address,
    pub(super) to: Address,
    pub(super) amount: U256,
}

/// A `Deposited`: one `deposits` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Deposit {
    pub(super) tx: B256,
    pub(super) log_index: i64,
    pub(super) block: i64,
    pub(super) account: Address,
    pub(super) amount: U256,
}

/// The money rows of a batch, one field per statement.
#[derive(Debug, Default)]
pub(super) struct Money {
    pub(super) withdrawals: Vec<Withdrawal>,
    pub(super) deposits: Vec<Deposit>,
}

impl Money {
    /// Both appends, skipping rows already stored.
    pub(super) async fn write(&self, conn: &mut PgConnection) -> Result<()> {
        let w = &self.withdrawals;
        if !w.is_empty() {
            sqlx::query(
                "INSERT INTO withdrawals (tx_hash, log_index, block_number, account_address, to_address, amount_units)
                 SELECT txh, li, blk, a, dst, amt::numeric
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS t(txh, li, blk, a, dst, amt)
                 ON CONFLICT (tx_hash, log_index) DO NOTHING",
            )
            .bind(w.iter().map(|r| hex0x(r.tx)).collect::<Vec<_>>())
            .bind(w.iter().map(|r| r.log_index).collect::<Vec<_>>())
            .bind(w.iter().map(|r| r.block).collect::<Vec<_>>())
            .bind(w.iter().map(|r| hex0x(r.account)).collect::<Vec<_>>())
            .bind(w.iter().map(|r| hex0x(r.to)).collect::<Vec<_>>())
            .bind(w.iter().map(|r| dec(r.amount)).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        let d = &self.deposits;
        if !d.is_empty() {
            sqlx::query(
                "INSERT INTO deposits (tx_hash, log_index, block_number, account_address, amount_units)
                 SELECT txh, li, blk, a, amt::numeric
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS t(txh, li, blk, a, amt)
                 ON CONFLICT (tx_hash, log_index) DO NOTHING",
            )
            .bind(d.iter().map(|r| hex0x(r.tx)).collect::<Vec<_>>())
            .bind(d.iter().map(|r| r.log_index).collect::<Vec<_>>())
            .bind(d.iter().map(|r| r.block).collect::<Vec<_>>())
            .bind(d.iter().map(|r| hex0x(r.account)).collect::<Vec<_>>())
            .bind(d.iter().map(|r| dec(r.amount)).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Deletes the money moves above block `to`.
    pub(super) async fn unwind(conn: &mut PgConnection, to: u64) -> Result<()> {
        for table in ["withdrawals", "deposits"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE block_number > $1"
            )))
            .bind(to as i64)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
