//! A fresh anvil with Tangible deployed and a catalogue; database snapshots; indexer helpers.

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use tangible_chain::Deployment;
use tangible_chain::bindings::{TangibleMarket, TestEuro};
use tangible_chain::deploy::{DeployConfig, deploy_all};
use tangible_db::PgPool;
use tangible_db::sqlx;
use tangible_db::testing::TestDatabase;
use tangible_indexer::rpc::HttpRpc;
use tangible_indexer::{Indexer, IndexerConfig};

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
    pub(crate) async fn drop_pending(&self) {
        let _: serde_json::Value = self
            .provider
            .raw_request("anvil_dropAllTransactions".into(), ())
            .await
            .unwrap();
    }

    pub(crate) async fn mine(&self, blocks: u64) {
        let _: serde_json::Value = self
            .provider
            .raw_request("anvil_mine".into(), (U256::from(blocks),))
            .await
            .unwrap();
    }
}

/// The licence id minted in a receipt.
pub(crate) fn licence_of(r: &TransactionReceipt) -> U256 {
    r.inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<TangibleMarket::LicenceMinted>().ok())
        .map(|l| l.inner.data.licenceId)
        .expect("a LicenceMinted event")
}

/// Sends a call and returns its successful receipt.
pub(crate) async fn mined<P: Provider, D: alloy::contract::CallDecoder>(
    call: alloy::contract::CallBuilder<P, D>,
) -> TransactionReceipt {
    let receipt = call
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(
        receipt.status(),
        "transaction {} reverted",
        receipt.transaction_hash
    );
    receipt
}

/// anvil (extra args), Tangible deployed, a studio, a film with HD (9 €) and 4K (13 €), a
/// second studio (commission 20 %) with a film in HD (7 €), two funded buyers who approved the
/// market.
pub(crate) async fn chain_with(args: &[&str]) -> Chain {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let anvil = tangible_chain::anvil::anvil()
        .args(args.iter().copied())
        .try_spawn()
        .expect("anvil starts (run `make tools` first)");
    let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| k.clone().into()).collect();
    let mut wallet = EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let (deployer, studio_admin, royalty) =
        (keys[0].address(), keys[1].address(), keys[2].address());
    let buyers = [keys[3].address(), keys[4].address()];
    let platform = keys[9].address();
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url())
        .erased();
    let deployment = deploy_all(
        &provider,
        &DeployConfig {
            stablecoin: None,
            admin: deployer,
            operator: deployer,
            platform,
        },
    )
    .await
    .expect("deploy");
    let market = TangibleMarket::new(deployment.contracts.market, &provider);
    mined(market.registerStudio(studio_admin, royalty, "Studio Méliès".into())).await;
    let studio_id = market.studioCount().call().await.unwrap();
    mined(
        market
            .registerFilm(studio_id, "Le Voyage dans la Lune".into(), 1902)
            .from(studio_admin),
    )
    .await;
    let film_id = market.filmCount().call().await.unwrap();
    mined(
        market
            .registerEdition(film_id, 1, keccak256("hd"), 900)
            .from(studio_admin),
    )
    .await;
    mined(
        market
            .registerEdition(film_id, 2, keccak256("4k"), 1300)
            .from(studio_admin),
    )
    .await;
    let (studio2_admin, royalty2) = (keys[5].address(), keys[6].address());
    mined(market.registerStudio(studio2_admin, royalty2, "Pathé Frères".into())).await;
    let studio2_id = market.studioCount().call().await.unwrap();
    mined(market.setStudioCommission(studio2_id, 2000)).await;
    mined(
        market
            .registerFilm(studio2_id, "L'Arroseur arrosé".into(), 1895)
            .from(studio2_admin),
    )
    .await;
    let film2_id = market.filmCount().call().await.unwrap();
    mined(
        market
            .registerEdition(film2_id, 1, keccak256("arroseur hd"), 700)
            .from(studio2_admin),
    )
    .await;
    let token = TestEuro::new(deployment.contracts.stablecoin, &provider);
    for who in [buyers[0], buyers[1], deployer] {
        mined(token.mint(who, U256::from(1u128 << 100))).await;
        mined(
            token
                .approve(deployment.contracts.market, U256::MAX)
                .from(who),
        )
        .await;
    }
    Chain {
        anvil,
        provider,
        deployment,
        deployer,
        studio_admin,
        buyers,
        platform,
        studio_id,
        film_id,
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

/// A fresh database indexed from scratch up to the current head: the reference mirror.
pub(crate) async fn reference(chain: &Chain) -> TestDatabase {
    let db = TestDatabase::new().await.unwrap();
    let mut ix = indexer(
        chain,
        db.pool(),
        IndexerConfig {
            confirmations: 0,
            ..IndexerConfig::default()
        },
    )
    .await;
    ix.sync().await.unwrap();
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
