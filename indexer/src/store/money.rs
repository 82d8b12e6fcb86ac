//! The market's money moves: `withdrawals` (`Withdrawn`), `deposits` (`Deposited`),
//! `credit_spends` (`CreditSpent`) and the clearance of card money, `sale_clearances` (`SalePending`, `SaleCleared`, `SaleClawedBack`),
//! one row per event, keyed by `(tx_hash, log_index)`.

use alloy::primitives::{Address, B256, U256};
use sqlx::PgConnection;

use crate::Result;
use crate::decode::{RawEvent, dec, hex0x};

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

/// A `CreditSpent`: one `credit_spends` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CreditSpend {
    pub(super) tx: B256,
    pub(super) log_index: i64,
    pub(super) block: i64,
    pub(super) account: Address,
    pub(super) licence: U256,
    pub(super) amount: U256,
}

/// What a `sale_clearances` row records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ClearanceKind {
    /// `SalePending`: the sale's shares are pending until `clear_at` (unix seconds).
    Pending { clear_at: i64, tainted: bool },
    /// `SaleCleared`: the shares were credited to their recipients.
    Cleared,
    /// `SaleClawedBack`: `amount` units went back to `refunded_to`.
    ClawedBack { refunded_to: Address, amount: U256 },
}

/// One `sale_clearances` row: a step in the clearance of the sale that minted `licence`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Clearance {
    pub(super) tx: B256,
    pub(super) log_index: i64,
    pub(super) block: i64,
    pub(super) licence: U256,
    pub(super) kind: ClearanceKind,
}

impl Clearance {
    /// The row of a clearance event of the sale that minted `licence`.
    pub(super) const fn of(raw: &RawEvent, licence: U256, kind: ClearanceKind) -> Self {
        Self {
            tx: raw.tx_hash,
            log_index: raw.log_index as i64,
            block: raw.block_number as i64,
            licence,
            kind,
        }
    }
}

/// The money rows of a batch, one field per statement.
#[derive(Debug, Default)]
pub(super) struct Money {
    pub(super) withdrawals: Vec<Withdrawal>,
    pub(super) deposits: Vec<Deposit>,
    pub(super) credit_spends: Vec<CreditSpend>,
    pub(super) clearances: Vec<Clearance>,
}

impl Money {
    /// The four appends, skipping rows already stored.
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
        let s = &self.credit_spends;
        if !s.is_empty() {
            sqlx::query(
                "INSERT INTO credit_spends (tx_hash, log_index, block_number, account_address, licence_id, amount_units)
                 SELECT txh, li, blk, a, l::numeric, amt::numeric
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS t(txh, li, blk, a, l, amt)
                 ON CONFLICT (tx_hash, log_index) DO NOTHING",
            )
            .bind(s.iter().map(|r| hex0x(r.tx)).collect::<Vec<_>>())
            .bind(s.iter().map(|r| r.log_index).collect::<Vec<_>>())
            .bind(s.iter().map(|r| r.block).collect::<Vec<_>>())
            .bind(s.iter().map(|r| hex0x(r.account)).collect::<Vec<_>>())
            .bind(s.iter().map(|r| dec(r.licence)).collect::<Vec<_>>())
            .bind(s.iter().map(|r| dec(r.amount)).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        let c = &self.clearances;
        if !c.is_empty() {
            let kind = |r: &Clearance| match r.kind {
                ClearanceKind::Pending { .. } => "pending",
                ClearanceKind::Cleared => "cleared",
                ClearanceKind::ClawedBack { .. } => "clawed_back",
            };
            sqlx::query(
                "INSERT INTO sale_clearances (tx_hash, log_index, block_number, licence_id, kind, clear_at, tainted, refunded_to, amount_units)
                 SELECT txh, li, blk, l::numeric, k, ca, ta, rt, amt::numeric
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bool[], $8::text[], $9::text[])
                      AS t(txh, li, blk, l, k, ca, ta, rt, amt)
                 ON CONFLICT (tx_hash, log_index) DO NOTHING",
            )
            .bind(c.iter().map(|r| hex0x(r.tx)).collect::<Vec<_>>())
            .bind(c.iter().map(|r| r.log_index).collect::<Vec<_>>())
            .bind(c.iter().map(|r| r.block).collect::<Vec<_>>())
            .bind(c.iter().map(|r| dec(r.licence)).collect::<Vec<_>>())
            .bind(c.iter().map(kind).collect::<Vec<_>>())
            .bind(
                (c.iter())
                    .map(|r| match r.kind {
                        ClearanceKind::Pending { clear_at, .. } => Some(clear_at),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .bind(
                (c.iter())
                    .map(|r| match r.kind {
                        ClearanceKind::Pending { tainted, .. } => Some(tainted),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .bind(
                (c.iter())
                    .map(|r| match &r.kind {
                        ClearanceKind::ClawedBack { refunded_to, .. } => Some(hex0x(*refunded_to)),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .bind(
                (c.iter())
                    .map(|r| match &r.kind {
                        ClearanceKind::ClawedBack { amount, .. } => Some(dec(*amount)),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Deletes the money moves above block `to`.
    pub(super) async fn unwind(conn: &mut PgConnection, to: u64) -> Result<()> {
        for table in [
            "withdrawals",
            "deposits",
            "credit_spends",
            "sale_clearances",
        ] {
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
