//! The operator's nonces across API instances: a nonce allocator in Postgres, with recovery
//! of gaps.
//!
//! Several API instances sign with the same operator key, and every one of its transactions
//! (card settlements, revocations, the registry calls made for studios) needs the next nonce.
//! Reading the node's pending nonce and sending is a race between instances: two read the same
//! nonce and one gets "nonce too low" (or replaces the other's transaction). So every operator
//! transaction is sent here, one at a time across all instances:
//!
//! 1. the row of `(chain, operator)` in `api_operator_nonces` is locked (`SELECT ... FOR
//!    UPDATE` in a transaction; a lock held by an instance that dies is released with its
//!    connection);
//! 2. the node's pending nonce is read; a nonce below the row's `next_nonce` that the node does
//!    not count is a gap (a transaction the node lost, or a broadcast that never arrived): the
//!    signed transaction recorded under it in `api_operator_txs` is broadcast again, or, if the
//!    node refuses it (its fees no longer suffice, say), the nonce is filled with a no-op
//!    transfer to the operator itself;
//! 3. the transaction is signed with `max(pending, next_nonce)`, broadcast, recorded with the
//!    counter moved on, and the lock released. A pending nonce above the counter (a send that
//!    reached the node but whose commit was lost, or a send with the key from outside the API)
//!    is taken as is.
//!
//! The receipt is awaited after the lock is released, so the instances pipeline their sends:
//! the lock covers a node round trip or two, not a block. Within an instance a mutex queues the
//! senders first, so an instance waits for the row lock with one database connection only.
//!
//! Why not one elected sender (an advisory lock naming the instance that sends)? Every instance
//! sends registry calls from its own HTTP handlers, so the others would have to forward those
//! to the leader and wait for an answer, and a leader whose node link stalls would stop every
//! settlement; the shared counter keeps each instance sending its own transactions, with the
//! same crash behaviour (the lock goes with the connection) and no forwarding.
//!
//! Limits: a transaction stuck in the node's pool with too low a fee is not re-priced (the
//! nonce is not a gap: the node counts it); it holds the following ones until it is mined.
//! Every sender of the operator key must go through here: a tool sending with the key at the
//! same moment can still take a nonce the API picked (the API retries such a send at once).

use std::time::Duration;

use alloy::network::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::Mutex;

/// How long a sender waits for the row lock (all instances' sends queue on it).
const LOCK_WAIT: &str = "15s";
/// The longest the lock is held: the node's answers within it are bounded by this.
const LOCKED_FOR: Duration = Duration::from_secs(20);
/// Sends retried at once when the node refuses the nonce (a sender outside the API).
const NONCE_RETRIES: usize = 3;
/// Gas of a plain transfer (the no-op that fills a gap).
const TRANSFER_GAS: u64 = 21_000;

/// Errors of an operator send.
#[derive(Debug, thiserror::Error)]
pub(super) enum SendError {
    /// The database (lock, counter, record) failed.
    #[error("operator nonce allocation: {0}")]
    Database(#[from] sqlx::Error),
    /// The node refused or did not answer.
    #[error("{0}")]
    Node(String),
    /// The node kept refusing the nonce.
    #[error("operator nonce refused {NONCE_RETRIES} times by the node: {0}")]
    NonceRefused(String),
    /// The locked section took longer than `LOCKED_FOR`.
    #[error("operator send timed out after {}s (node or database unresponsive)", LOCKED_FOR.as_secs())]
    Timeout,
    /// The transaction could not be signed.
    #[error("signing: {0}")]
    Signing(String),
}

/// How the node answered a broadcast.
enum Broadcast {
    /// Accepted (or already known: the same signed transaction is in its pool).
    Accepted,
    /// The nonce is used or taken (mined, or another transaction in the pool).
    NonceTaken(String),
    /// Refused for another reason.
    Refused(String),
}

/// Sends the operator's transactions with nonces allocated in Postgres (module doc).
pub(super) struct Sender {
    db: PgPool,
    chain_id: i64,
    operator: Address,
    wallet: EthereumWallet,
    local: Mutex<()>,
}

impl Sender {
    pub(super) fn new(
        db: PgPool,
        chain_id: u64,
        wallet: EthereumWallet,
        operator: Address,
    ) -> Self {
        Self {
            db,
            chain_id: i64::try_from(chain_id).unwrap_or(i64::MAX),
            operator,
            wallet,
            local: Mutex::new(()),
        }
    }

    /// Signs `req` (gas and fees set, nonce not) with the next nonce, broadcasts it and records
    /// it; returns its hash once the node has accepted it.
    pub(super) async fn send(
        &self,
        provider: &DynProvider,
        req: TransactionRequest,
        purpose: &'static str,
    ) -> Result<B256, SendError> {
        let _local = self.local.lock().await;
        let mut last = String::new();
        for _ in 0..NONCE_RETRIES {
            match tokio::time::timeout(LOCKED_FOR, self.send_locked(provider, &req, purpose)).await
            {
                Err(_) => return Err(SendError::Timeout),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Ok(hash))) => return Ok(hash),
                Ok(Ok(Err(refused))) => {
                    metrics::counter!("operator_nonce_refused_total").increment(1);
                    tracing::warn!(target: "tangible::api::chain", purpose, error = %refused,
                        "the node refused the allocated nonce; allocating again");
                    last = refused;
                }
            }
        }
        Err(SendError::NonceRefused(last))
    }

    /// One allocation under the row lock: `Ok(Err(_))` when the node refused the nonce.
    async fn send_locked(
        &self,
        provider: &DynProvider,
        req: &TransactionRequest,
        purpose: &'static str,
    ) -> Result<Result<B256, String>, SendError> {
        let operator = self.operator.to_string();
        let mut tx = self.db.begin().await?;
        sqlx::query("SELECT set_config('lock_timeout', $1, true)")
            .bind(LOCK_WAIT)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO api_operator_nonces (chain_id, operator, next_nonce) VALUES ($1, $2, 0) \
             ON CONFLICT (chain_id, operator) DO NOTHING",
        )
        .bind(self.chain_id)
        .bind(&operator)
        .execute(&mut *tx)
        .await?;
        let next: i64 = sqlx::query_scalar(
            "SELECT next_nonce FROM api_operator_nonces WHERE chain_id = $1 AND operator = $2 FOR UPDATE",
        )
        .bind(self.chain_id)
        .bind(&operator)
        .fetch_one(&mut *tx)
        .await?;
        let next = u64::try_from(next).unwrap_or(0);
        let pending = provider
            .get_transaction_count(self.operator)
            .pending()
            .await
            .map_err(|e| SendError::Node(e.to_string()))?;
        if pending < next {
            self.recover(provider, &mut tx, pending, next).await?;
        }
        let nonce = pending.max(next);
        let raw = self.sign(req.clone(), nonce).await?;
        let hash = keccak256(&raw);
        match broadcast(provider, &raw).await {
            Broadcast::Accepted => {}
            Broadcast::NonceTaken(e) => return Ok(Err(e)),
            Broadcast::Refused(e) => return Err(SendError::Node(e)),
        }
        record(
            &mut tx,
            self.chain_id,
            &operator,
            nonce,
            hash,
            &raw,
            purpose,
            None,
        )
        .await?;
        sqlx::query(
            "UPDATE api_operator_nonces SET next_nonce = $3, updated_at = now() \
             WHERE chain_id = $1 AND operator = $2",
        )
        .bind(self.chain_id)
        .bind(&operator)
        .bind(i64::try_from(nonce + 1).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        if let Err(e) = tx.commit().await {
            // The node has it: the next sender reads it in the node's pending nonce.
            tracing::warn!(target: "tangible::api::chain", %hash, nonce, error = %e,
                "sent, but recording the operator's nonce failed");
        }
        metrics::counter!("operator_transactions_total", "purpose" => purpose).increment(1);
        Ok(Ok(hash))
    }

    /// Fills the nonces `from..to` the node does not count: the recorded transaction is sent
    /// again, or a no-op replaces it.
    async fn recover(
        &self,
        provider: &DynProvider,
        tx: &mut Transaction<'_, Postgres>,
        from: u64,
        to: u64,
    ) -> Result<(), SendError> {
        let operator = self.operator.to_string();
        let recorded: Vec<(i64, Vec<u8>, String)> = sqlx::query_as(
            "SELECT nonce, raw_tx, tx_hash FROM api_operator_txs \
             WHERE chain_id = $1 AND operator = $2 AND nonce >= $3 AND nonce < $4 ORDER BY nonce",
        )
        .bind(self.chain_id)
        .bind(&operator)
        .bind(i64::try_from(from).unwrap_or(i64::MAX))
        .bind(i64::try_from(to).unwrap_or(i64::MAX))
        .fetch_all(&mut **tx)
        .await?;
        for nonce in from..to {
            let known = recorded
                .iter()
                .find(|(n, _, _)| u64::try_from(*n).ok() == Some(nonce));
            if let Some((_, raw, hash)) = known {
                match broadcast(provider, raw).await {
                    Broadcast::Accepted | Broadcast::NonceTaken(_) => {
                        metrics::counter!("operator_nonce_gaps_total", "fill" => "resent")
                            .increment(1);
                        tracing::warn!(target: "tangible::api::chain", nonce, tx_hash = %hash,
                            "the node had lost an operator transaction: sent it again");
                        continue;
                    }
                    Broadcast::Refused(e) => {
                        tracing::warn!(target: "tangible::api::chain", nonce, tx_hash = %hash, error = %e,
                            "the node refuses a lost operator transaction: filling its nonce with a no-op");
                    }
                }
            }
            let noop = TransactionRequest::default()
                .with_from(self.operator)
                .with_to(self.operator)
                .with_value(U256::ZERO)
                .with_gas_limit(TRANSFER_GAS);
            let noop = with_fees(provider, noop).await?;
            let raw = self.sign(noop, nonce).await?;
            let hash = keccak256(&raw);
            match broadcast(provider, &raw).await {
                Broadcast::Accepted | Broadcast::NonceTaken(_) => {}
                Broadcast::Refused(e) => return Err(SendError::Node(e)),
            }
            metrics::counter!("operator_nonce_gaps_total", "fill" => "noop").increment(1);
            tracing::warn!(target: "tangible::api::chain", nonce, tx_hash = %hash, "filled a gap in the operator's nonces with a no-op");
            let replaced = known.map(|(_, _, h)| h.as_str());
            record(
                tx,
                self.chain_id,
                &operator,
                nonce,
                hash,
                &raw,
                "noop",
                replaced,
            )
            .await?;
        }
        Ok(())
    }

    /// The signed EIP-2718 bytes of `req` with `nonce`.
    async fn sign(&self, req: TransactionRequest, nonce: u64) -> Result<Vec<u8>, SendError> {
        let envelope = req
            .with_nonce(nonce)
            .with_chain_id(u64::try_from(self.chain_id).unwrap_or(0))
            .build(&self.wallet)
            .await
            .map_err(|e| SendError::Signing(e.to_string()))?;
        Ok(envelope.encoded_2718())
    }
}

/// `req` with the node's current EIP-1559 fees.
pub(super) async fn with_fees(
    provider: &DynProvider,
    req: TransactionRequest,
) -> Result<TransactionRequest, SendError> {
    let fees = provider
        .estimate_eip1559_fees()
        .await
        .map_err(|e| SendError::Node(e.to_string()))?;
    Ok(req
        .with_max_fee_per_gas(fees.max_fee_per_gas)
        .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas))
}

async fn broadcast(provider: &DynProvider, raw: &[u8]) -> Broadcast {
    match provider.send_raw_transaction(raw).await {
        Ok(_) => Broadcast::Accepted,
        Err(e) => {
            let text = e.to_string();
            let lower = text.to_lowercase();
            if lower.contains("already known") || lower.contains("already imported") {
                Broadcast::Accepted
            } else if lower.contains("nonce too low")
                || lower.contains("nonce has already been used")
                || lower.contains("replacement transaction underpriced")
                || lower.contains("transaction already exists")
            {
                Broadcast::NonceTaken(text)
            } else {
                Broadcast::Refused(text)
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut Transaction<'_, Postgres>,
    chain_id: i64,
    operator: &str,
    nonce: u64,
    hash: B256,
    raw: &[u8],
    purpose: &str,
    replaced: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_operator_txs (chain_id, operator, nonce, tx_hash, raw_tx, purpose, replaced_tx_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (chain_id, operator, nonce) DO UPDATE SET tx_hash = EXCLUDED.tx_hash, raw_tx = EXCLUDED.raw_tx, \
             purpose = EXCLUDED.purpose, replaced_tx_hash = EXCLUDED.replaced_tx_hash, updated_at = now()",
    )
    .bind(chain_id)
    .bind(operator)
    .bind(i64::try_from(nonce).unwrap_or(i64::MAX))
    .bind(hash.to_string())
    .bind(raw)
    .bind(purpose)
    .bind(replaced)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
