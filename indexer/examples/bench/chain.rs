//! The bench's chain: anvil with Tangible deployed, the demo catalogue, six funded buyers, and
//! the purchases that make the events.

use std::time::Instant;

use alloy::network::TransactionBuilder;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use tangible_chain::Deployment;
use tangible_chain::bindings::TangibleMarket;
use tangible_testkit::{TestChain, roles};

/// A chain of purchases, and what the head-follow part needs to add more.
pub(crate) struct BenchChain {
    /// Kept alive for the whole run.
    pub(crate) anvil: AnvilInstance,
    pub(crate) provider: DynProvider,
    pub(crate) deployment: Deployment,
    /// The demo film whose 4K edition (13 €) is bought.
    pub(crate) film_id: u64,
    pub(crate) buyers: Vec<Address>,
    /// Each buyer's next nonce.
    pub(crate) nonces: Vec<u64>,
    pub(crate) gas_price: u128,
    pub(crate) head: u64,
}

impl BenchChain {
    /// A purchase of the film's 4K edition by `buyers[k]`, with its next nonce (taken).
    pub(crate) fn purchase(&mut self, k: usize) -> TransactionRequest {
        let tx = purchase(
            self.deployment.contracts.market,
            self.film_id,
            self.buyers[k],
            self.nonces[k],
            self.gas_price,
        );
        self.nonces[k] += 1;
        tx
    }
}

/// A purchase of `film_id`'s 4K edition by `buyer` with the given nonce and gas price.
pub(crate) fn purchase(
    market: Address,
    film_id: u64,
    buyer: Address,
    nonce: u64,
    gas_price: u128,
) -> TransactionRequest {
    let call = TangibleMarket::buyPrimaryCall {
        filmId: film_id,
        quality: 2,
        expectedPriceCents: 1300,
        recipient: buyer,
    };
    TransactionRequest::default()
        .with_from(buyer)
        .with_to(market)
        .with_input(call.abi_encode())
        .with_nonce(nonce)
        .with_gas_limit(300_000)
        .with_gas_price(gas_price)
}

/// Sends `txs` (256 at a time), mines one block with them all and checks the last succeeded.
async fn send_all(p: &DynProvider, txs: Vec<TransactionRequest>) {
    let mut pending = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(256) {
        let sent =
            futures::future::join_all(chunk.iter().map(|tx| p.send_transaction(tx.clone()))).await;
        for s in sent {
            pending.push(*s.expect("send").tx_hash());
        }
    }
    let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
    let last = pending.last().copied().unwrap();
    let r = p
        .get_transaction_receipt(last)
        .await
        .unwrap()
        .expect("mined");
    assert!(r.status());
}

/// anvil (mining on demand once seeded), Tangible and the demo catalogue deployed (the test
/// kit's [`TestChain`]), six funded buyers, then `target_events` events' worth of primary
/// purchases (3 events each), 100 per block.
pub(crate) async fn produce(target_events: usize) -> anyhow::Result<BenchChain> {
    let kit =
        TestChain::deploy_on(tangible_chain::anvil::anvil().args(["--gas-limit", "3000000000"]))
            .await;
    let film_id = kit
        .register_demo(
            kit.address(roles::STUDIO_ADMIN),
            kit.address(roles::ROYALTY),
            &[],
        )
        .await
        .film_id;
    let buyers = kit.buyers(6);
    kit.fund(&buyers, U256::from(1u128 << 100)).await;
    let TestChain {
        anvil,
        provider,
        deployment,
        ..
    } = kit;
    let _: serde_json::Value = provider
        .raw_request("evm_setAutomine".into(), (false,))
        .await?;

    // Each primary purchase emits 3 events (Transfer, LicenceMinted, SaleSettled).
    let purchases = target_events.div_ceil(3);
    println!(
        "producing {purchases} purchases (~{} events) on anvil ...",
        purchases * 3
    );
    let t = Instant::now();
    let mut nonces = Vec::new();
    for b in &buyers {
        nonces.push(provider.get_transaction_count(*b).await?);
    }
    let gas_price = provider.get_gas_price().await? * 2;
    let mut chain = BenchChain {
        anvil,
        provider,
        deployment,
        film_id,
        buyers,
        nonces,
        gas_price,
        head: 0,
    };
    let per_block = 100; // 300 events per block: a chain of many blocks, like a busy L2 contract
    let mut done = 0;
    while done < purchases {
        let n = per_block.min(purchases - done);
        let txs = (0..n)
            .map(|i| chain.purchase((done + i) % chain.buyers.len()))
            .collect();
        send_all(&chain.provider, txs).await;
        done += n;
    }
    chain.head = chain.provider.get_block_number().await?;
    println!(
        "  chain ready in {:.1}s, head {}",
        t.elapsed().as_secs_f64(),
        chain.head
    );
    Ok(chain)
}
