//! A fresh anvil with Tangible deployed and a catalogue; database snapshots; indexer helpers.

use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::anvil::{ReorgOptions, TransactionData};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::SolEvent;
use tangible_chain::Deployment;
use tangible_chain::bindings::TangibleMarket;
use tangible_db::PgPool;
use tangible_db::sqlx;
use tangible_db::testing::TestDatabase;
use tangible_indexer::rpc::HttpRpc;
use tangible_indexer::{Indexer, IndexerConfig, StepOutcome};
pub(crate) use tangible_testkit::mined;
use tangible_testkit::{Film, Quality, TestChain, roles};

pub(crate) struct Chain {
    pub(crate) anvil: AnvilInstance,
    pub(crate) provider: DynProvider,
    pub(crate) deployment: Deployment,
    pub(crate) deployer: Address,
    pub(crate) studio_admin: Address,
    pub(crate) buyers: [Address; 2],
    pub(crate) platform: Address,
    pub(crate) studio_id: u32,
    pub(crate) film_id: u64,
    /// A second studio (its own admin, royalty recipient and commission) with one film, so a
    /// sale's studio and film cannot be right by accident.
    pub(crate) studio2_admin: Address,
    pub(crate) studio2_id: u32,
    pub(crate) film2_id: u64,
}

impl Chain {
    pub(crate) fn market(&self) -> TangibleMarket::TangibleMarketInstance<DynProvider> {
        TangibleMarket::new(self.deployment.contracts.market, self.provider.clone())
    }

    pub(crate) fn url(&self) -> String {
        self.anvil.endpoint()
    }

    /// Buys a licence of the 4K edition for `buyer` (crypto path); returns the licence id.
    pub(crate) async fn buy(&self, buyer: Address) -> U256 {
        let r = mined(
            self.market()
                .buyPrimary(self.film_id, 2, 1300, buyer)
                .from(buyer),
        )
        .await;
        licence_of(&r)
    }

    /// Like [`Chain::buy`] with the nonce read from the latest block: after a reorg the node's
    /// pending view (used by the nonce filler) can still count transactions of dropped blocks.
    pub(crate) async fn buy_fresh(&self, buyer: Address) -> U256 {
        let nonce = self.nonce(buyer).await;
        let r = mined(
            self.market()
                .buyPrimary(self.film_id, 2, 1300, buyer)
                .from(buyer)
                .nonce(nonce),
        )
        .await;
        licence_of(&r)
    }

    /// The account's nonce on the canonical chain (after a reorg, the node's pending view can
    /// still count transactions of the dropped blocks).
    pub(crate) async fn nonce(&self, who: Address) -> u64 {
        self.provider
            .get_transaction_count(who)
            .block_id(alloy::eips::BlockId::latest())
            .await
            .unwrap()
    }

    /// Forgets transactions the node put back in its pool after a reorg.
    async fn drop_pending(&self) {
        self.provider.anvil_drop_all_transactions().await.unwrap();
    }

    /// A purchase of the fixture film's `quality` edition at `price` by the second buyer, as a
    /// transaction for [`Chain::reorg`] (the new blocks' content).
    pub(crate) fn purchase_tx(&self, quality: u8, price: u64) -> TransactionRequest {
        self.market()
            .buyPrimary(self.film_id, quality, price, self.buyers[1])
            .from(self.buyers[1])
            .gas(0x100000)
            .into_transaction_request()
    }

    /// `anvil_reorg`: the last `depth` blocks replaced by as many new ones, the first carrying
    /// `tx`; then the transactions of the dropped blocks are forgotten.
    pub(crate) async fn reorg(&self, depth: u64, tx: TransactionRequest) {
        self.provider
            .anvil_reorg(ReorgOptions {
                depth,
                tx_block_pairs: vec![(TransactionData::JSON(tx), 0)],
            })
            .await
            .unwrap();
        self.drop_pending().await;
    }

    /// `anvil_rollback`: the last `depth` blocks disappear; then their transactions are
    /// forgotten.
    pub(crate) async fn rollback(&self, depth: u64) {
        self.provider.anvil_rollback(Some(depth)).await.unwrap();
        self.drop_pending().await;
    }

    pub(crate) async fn mine(&self, blocks: u64) {
        self.provider.anvil_mine(Some(blocks), None).await.unwrap();
    }
}

/// The first `E` event of a receipt, decoded with the contract bindings.
pub(crate) fn event<E: SolEvent>(r: &TransactionReceipt) -> E {
    r.inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<E>().ok())
        .unwrap_or_else(|| panic!("a {} event", E::SIGNATURE))
        .inner
        .data
}

/// The licence id minted in a receipt.
pub(crate) fn licence_of(r: &TransactionReceipt) -> U256 {
    event::<TangibleMarket::LicenceMinted>(r).licenceId
}

/// anvil (extra args), Tangible deployed, the demo catalogue (a studio, a film with HD (9 €)
/// and 4K (13 €)), a second studio (commission 20 %) with a film in HD (7 €), two funded
/// buyers who approved the market.
pub(crate) async fn chain_with(args: &[&str]) -> Chain {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let kit = TestChain::deploy_on(tangible_chain::anvil::anvil().args(args.iter().copied())).await;
    let (deployer, studio_admin) = (
        kit.address(roles::OPERATOR),
        kit.address(roles::STUDIO_ADMIN),
    );
    let buyers = [kit.address(roles::BUYER), kit.address(roles::BUYER + 1)];
    let platform = kit.address(roles::PLATFORM);
    let demo = kit
        .register_demo(
            studio_admin,
            kit.address(roles::ROYALTY),
            &[
                (Quality::Hd, keccak256("hd")),
                (Quality::Uhd4k, keccak256("4k")),
            ],
        )
        .await;
    let studio2_admin = kit.address(5);
    let (studio2_id, film2_id) = kit
        .register_film(
            studio2_admin,
            kit.address(6),
            &Film {
                studio: "Pathé Frères",
                commission_bps: Some(2000),
                title: "L'Arroseur arrosé",
                year: 1895,
                editions: &[(1, "arroseur hd", 700)],
            },
        )
        .await;
    kit.fund(&[buyers[0], buyers[1], deployer], U256::from(1u128 << 100))
        .await;
    let TestChain {
        anvil,
        provider,
        deployment,
        ..
    } = kit;
    Chain {
        anvil,
        provider,
        deployment,
        deployer,
        studio_admin,
        buyers,
        platform,
        studio_id: demo.studio_id,
        film_id: demo.film_id,
        studio2_admin,
        studio2_id,
        film2_id,
    }
}

pub(crate) async fn chain() -> Chain {
    chain_with(&[]).await
}

/// Indexer settings for tests: no confirmations, small window so reorg code paths run.
pub(crate) fn config() -> IndexerConfig {
    IndexerConfig {
        confirmations: 0,
        initial_range: 4,
        max_range: 64,
        target_logs: 50,
        ..IndexerConfig::default()
    }
}

pub(crate) async fn indexer(chain: &Chain, pool: &PgPool, cfg: IndexerConfig) -> Indexer<HttpRpc> {
    let rpc = HttpRpc::new(&chain.url(), std::time::Duration::from_secs(10)).unwrap();
    Indexer::new(rpc, pool.clone(), &chain.deployment, cfg)
        .await
        .expect("indexer starts")
}

/// What [`catch_up`] saw: the head it caught up with, the depth of the last reorg it handled.
pub(crate) struct CaughtUp {
    pub(crate) head: u64,
    pub(crate) reorg: Option<u64>,
}

/// Steps until caught up.
pub(crate) async fn catch_up(ix: &mut Indexer<HttpRpc>) -> CaughtUp {
    let mut reorg = None;
    for _ in 0..10_000 {
        match ix.step().await.expect("step") {
            StepOutcome::CaughtUp { head } => return CaughtUp { head, reorg },
            StepOutcome::Reorg { depth, .. } => reorg = Some(depth),
            _ => {}
        }
    }
    panic!("indexer never caught up");
}

/// The checkpoint stored in the database (-1 before the first).
pub(crate) async fn checkpoint(pool: &PgPool) -> i64 {
    count(
        pool,
        "SELECT coalesce(max(block_number), -1) FROM checkpoints",
    )
    .await
}

/// A fresh database indexed from scratch up to the current head: the reference mirror.
pub(crate) async fn reference(chain: &Chain) -> TestDatabase {
    reference_with(
        chain,
        IndexerConfig {
            confirmations: 0,
            ..IndexerConfig::default()
        },
    )
    .await
}

/// A fresh database indexed from scratch with `cfg`.
pub(crate) async fn reference_with(chain: &Chain, cfg: IndexerConfig) -> TestDatabase {
    let db = TestDatabase::new().await.unwrap();
    indexer(chain, db.pool(), cfg).await.sync().await.unwrap();
    db
}

/// Every mirrored table as sorted JSON, for equality checks between two mirrors.
const SNAPSHOT: &[(&str, &str)] = &[
    (
        "events",
        "SELECT coalesce(json_agg(x ORDER BY x.block_number, x.log_index), '[]')::text FROM events x",
    ),
    (
        "studios",
        "SELECT coalesce(json_agg(x ORDER BY x.studio_id), '[]')::text FROM studios x",
    ),
    (
        "films",
        "SELECT coalesce(json_agg(x ORDER BY x.film_id), '[]')::text FROM films x",
    ),
    (
        "editions",
        "SELECT coalesce(json_agg(x ORDER BY x.film_id, x.quality), '[]')::text FROM editions x",
    ),
    (
        "licences",
        "SELECT coalesce(json_agg(x ORDER BY x.licence_id), '[]')::text FROM licences x",
    ),
    (
        "resale_offers",
        "SELECT coalesce(json_agg(x ORDER BY x.offer_id), '[]')::text FROM resale_offers x",
    ),
    (
        "sales",
        "SELECT coalesce(json_agg(x ORDER BY x.block_number, x.log_index), '[]')::text FROM sales x",
    ),
    (
        "withdrawals",
        "SELECT coalesce(json_agg(x ORDER BY x.block_number, x.log_index), '[]')::text FROM withdrawals x",
    ),
    (
        "deposits",
        "SELECT coalesce(json_agg(x ORDER BY x.block_number, x.log_index), '[]')::text FROM deposits x",
    ),
    (
        "credit_spends",
        "SELECT coalesce(json_agg(x ORDER BY x.block_number, x.log_index), '[]')::text FROM credit_spends x",
    ),
    (
        "sale_clearances",
        "SELECT coalesce(json_agg(x ORDER BY x.block_number, x.log_index), '[]')::text FROM sale_clearances x",
    ),
    (
        "users",
        "SELECT coalesce(json_agg(x ORDER BY x.address), '[]')::text FROM users x",
    ),
];

pub(crate) async fn snapshot(pool: &PgPool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (table, q) in SNAPSHOT {
        let json: String = sqlx::query_scalar(*q).fetch_one(pool).await.unwrap();
        out.push((*table, json));
    }
    out
}

/// Asserts two mirrors hold the same rows, table by table.
pub(crate) async fn assert_same_mirror(actual: &PgPool, expected: &PgPool, context: &str) {
    let (a, e) = (snapshot(actual).await, snapshot(expected).await);
    for ((table, a), (_, e)) in a.iter().zip(&e) {
        assert_eq!(
            a, e,
            "{context}: table {table} differs from the reference mirror"
        );
    }
}

pub(crate) async fn count(pool: &PgPool, query: &'static str) -> i64 {
    sqlx::query_scalar(query).fetch_one(pool).await.unwrap()
}

pub(crate) fn hex(b: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(b))
}

#[allow(dead_code)]
pub(crate) fn payment_ref(n: u64) -> B256 {
    keccak256(format!("pi_test_{n}"))
}
