//! The two flows of the product seed, run with the `tangible` binary exactly as users run them,
//! on one local stack (anvil, Postgres, localstripe, indexer, API with the demo film in HD and
//! 4K), paid by card and in stablecoin; then the stack is stopped and the buyers verify and play
//! offline. Also: an expired certificate blocks offline play until `sync`; a real film plays
//! through `tangible play`'s loopback server and seeks (see [`playback`]); a revoked licence
//! does not play while the API answers.
//!
//! Every sale is checked against sources other than the project's own reports: its
//! `SaleSettled` event from `eth_getLogs` (prices as literals), the balances it moved on chain
//! (the buyer's stablecoin or the operator's float, the seller's credit, the studio's and the
//! platform's accruals) and, for a card, the PaymentIntent in localstripe: see [`money`].
//!
//! The studio side (`tangible studio …`) runs on the same stack: see [`studio`]. There the
//! client also refuses a library file with a flipped byte, and a film whose master is not the
//! one registered on chain any more.
//!
//! One stack for the whole binary (starting it is the slow part), six buyers (anvil accounts
//! 3 to 8), each with a home directory of their own.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use serde_json::Value;
use tangible_chain::bindings::{TangibleMarket, TestEuro};
use tangible_devstack::{Binaries, Stack, StackOptions};
use tangible_domain::{Quality, Split};
use tangible_e2e::{Endpoints, User, tangible_bin};

#[path = "seed_flows/money.rs"]
mod money;
#[path = "seed_flows/p2p.rs"]
mod p2p;
#[path = "seed_flows/playback.rs"]
mod playback;
#[path = "seed_flows/studio.rs"]
mod studio;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pay {
    Card,
    Crypto,
}

impl Pay {
    const fn flag(self) -> &'static str {
        match self {
            Self::Card => "--test-card",
            Self::Crypto => "--crypto",
        }
    }
}

struct World {
    /// The `download --json` answer of the last `buy_and_download`.
    last_download: std::sync::Mutex<Value>,
    stack: Stack,
    endpoints: Endpoints,
    provider: DynProvider,
    film: String,
}

impl World {
    fn market(&self) -> TangibleMarket::TangibleMarketInstance<DynProvider> {
        TangibleMarket::new(
            self.stack.deployment.contracts.market,
            self.provider.clone(),
        )
    }

    fn master(&self, q: Quality) -> Vec<u8> {
        let path = self
            .stack
            .demo
            .edition(q)
            .and_then(|e| e.master_file.clone())
            .expect("the stack generated the demo master");
        std::fs::read(path).expect("reading the demo master")
    }

    fn buyer(&self, i: usize, name: &str) -> (User, Address) {
        let account = &self.stack.demo.buyers[i];
        let user = User::new(name, &self.endpoints).expect("a user home");
        let shown = user.import_key(&account.private_key);
        let address: Address = shown["address"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            address, account.address,
            "the imported wallet is the account"
        );
        (user, address)
    }

    /// The `SaleSettled` event of the sale that minted `licence`, decoded from `eth_getLogs`.
    async fn sale_of(&self, licence: &str) -> TangibleMarket::SaleSettled {
        let filter = Filter::new()
            .address(self.stack.deployment.contracts.market)
            .event_signature(TangibleMarket::SaleSettled::SIGNATURE_HASH)
            .topic1(licence.parse::<U256>().unwrap())
            .from_block(0);
        let logs = self.provider.get_logs(&filter).await.unwrap();
        assert_eq!(logs.len(), 1, "one sale settled for licence {licence}");
        TangibleMarket::SaleSettled::decode_log(&logs[0].inner)
            .unwrap()
            .data
    }

    async fn owner_on_chain(&self, licence: &str) -> (Address, bool) {
        let l = self
            .market()
            .licence(licence.parse::<U256>().unwrap())
            .call()
            .await
            .expect("the licence exists on chain");
        (l.owner, l.revoked)
    }
}

/// Whether `tangible sync`'s report has a row for `licence` with each `(field, value)` of
/// `fields`.
fn sync_reports(synced: &Value, licence: &str, fields: &[(&str, &str)]) -> bool {
    synced
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["licence_id"] == licence && fields.iter().all(|(k, v)| r[*k] == *v))
}

/// Runs a blocking closure (a CLI invocation) off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("no panic")
}

/// `buy` an edition priced `cents`, then check the licence and the money on chain (and in
/// localstripe for a card) and download it over P2P.
async fn buy_and_download(
    w: &World,
    user: &User,
    address: Address,
    (q, cents): (Quality, u64),
    pay: Pay,
) -> String {
    let before = w.ledger(address).await;
    let bought = user.json(&["buy", &w.film, "--quality", q.as_str(), pay.flag()]);
    let licence = bought["licence_id"].as_str().unwrap().to_owned();
    let (owner, revoked) = w.owner_on_chain(&licence).await;
    assert_eq!(
        owner, address,
        "the licence is minted to the buyer's address"
    );
    assert!(!revoked);
    assert_eq!(bought["amount_cents"].as_u64(), Some(cents));
    // The primary sale as the chain recorded it, and the balances it moved.
    let sale = w.sale_of(&licence).await;
    assert_eq!(sale.priceCents, cents, "the price the chain settled");
    assert_eq!((sale.offerId, sale.seller), (U256::ZERO, Address::ZERO));
    assert_eq!(sale.studio, w.stack.demo.studio.address);
    assert_eq!(sale.platform, w.stack.demo.platform.address);
    assert_eq!(sale.studioCents + sale.platformCents, cents);
    if pay == Pay::Card {
        // Card money stays pending until its clearance time; the API credits it then.
        let pending = w.pending_of(&licence).await;
        assert_eq!(
            (
                pending.studio_cents,
                pending.platform_cents,
                pending.tainted
            ),
            (sale.studioCents, sale.platformCents, false),
            "a card sale's shares are pending"
        );
        let now = w.ledger(address).await;
        assert_eq!(
            (now.studio_cents, now.platform_cents),
            (before.studio_cents, before.platform_cents),
            "nothing is credited before clearance"
        );
        w.clear_when_due(&licence).await;
    }
    let after = w.ledger(address).await;
    assert_eq!(
        after.studio_cents - before.studio_cents,
        sale.studioCents,
        "the studio accrues its share"
    );
    assert_eq!(
        after.platform_cents - before.platform_cents,
        sale.platformCents,
        "the platform accrues its commission"
    );
    w.check_paid((pay, cents), address, (&before, &after), &sale, &bought)
        .await;
    let got = user.json(&["download", &licence]);
    assert_eq!(
        got["source"], "P2P",
        "the encrypted film arrives over P2P: {got}"
    );
    *w.last_download.lock().unwrap() = got;
    // The library holds the encrypted file, never the plaintext.
    let stored = std::fs::read(user.licence_dir(&licence).join("film.tgf")).unwrap();
    assert_eq!(&stored[..8], b"TANGFILM");
    let master = w.master(q);
    assert!(
        !stored.windows(64).any(|win| win == &master[..64]),
        "no plaintext at rest"
    );
    licence
}

/// The film of `licence` as `tangible export` writes it (the one command that writes the
/// plaintext to a file), or the error it printed.
fn play_to_vec(user: &User, licence: &str, extra: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    let out = user.home().join(format!("played-{licence}"));
    let r = user.run(&["export", licence, "-o", out.to_str().unwrap()], extra);
    if !r.ok {
        assert!(
            !out.exists(),
            "a failed export leaves no file: {}",
            r.stderr
        );
        return Err(r.stderr);
    }
    assert!(
        r.stderr.contains("warning") && r.stderr.contains("plaintext"),
        "export warns about the plaintext on disk: {}",
        r.stderr
    );
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    Ok(bytes)
}

/// Seed flow 2: `seller` owns `licence` (HD), lists it at 8 €, `buyer` pays with `pay`.
async fn resale(
    w: &World,
    (seller, seller_addr): (&User, Address),
    licence: &str,
    (buyer, buyer_addr): (&User, Address),
    pay: Pay,
) {
    // The seller signs the order and the API's operator submits it: no gas from the seller.
    let eth_before = w.provider.get_balance(seller_addr).await.unwrap();
    let listed = seller.json(&["resell", licence, "--price", "8.00"]);
    let offer = listed["offer_id"].as_str().unwrap().to_owned();
    assert_eq!(
        w.provider.get_balance(seller_addr).await.unwrap(),
        eth_before,
        "a signed order costs the seller no ETH"
    );
    // The buyer finds the offer in the catalogue (the indexer's mirror).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let offers = buyer.json(&["offers"]);
        if offers
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["offer_id"] == offer.as_str() && o["price_cents"] == 800)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "offer {offer} never listed: {offers}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let market = w.market();
    let per_cent = w.per_cent().await;
    let credit_before = market.balanceOfCredit(seller_addr).call().await.unwrap();
    let before = w.ledger(buyer_addr).await;
    let studio = w.stack.demo.studio.address;
    let platform = w.stack.demo.platform.address;

    let old_id = licence.parse::<U256>().unwrap();
    let held = market.licence(old_id).call().await.unwrap().holdUntil != 0;

    let bought = buyer.json(&["buy-offer", &offer, pay.flag()]);
    let new_licence = bought["licence_id"].as_str().unwrap().to_owned();
    assert_ne!(new_licence, licence);

    // The chain: a new licence for the buyer, the seller's revoked, and the split. A licence
    // minted without a hold and resold in stablecoin passes its storage slot on: the buyer's id
    // is one generation up (bits 192-199), and the seller is named by the sale's events only.
    let in_slot = matches!(pay, Pay::Crypto) && !held;
    if in_slot {
        assert_eq!(
            new_licence.parse::<U256>().unwrap(),
            old_id + (U256::from(1) << 192)
        );
    }
    assert_eq!(w.owner_on_chain(&new_licence).await, (buyer_addr, false));
    assert_eq!(
        w.owner_on_chain(licence).await,
        (if in_slot { Address::ZERO } else { seller_addr }, true)
    );
    let sale = w.sale_of(&new_licence).await;
    let expected = Split::resale(tangible_domain::Cents(800)).unwrap();
    assert_eq!(sale.priceCents, 800);
    assert_eq!(sale.offerId, offer.parse::<U256>().unwrap());
    assert_eq!((sale.seller, sale.sellerCents), (seller_addr, 640));
    assert_eq!((sale.studio, sale.studioCents), (studio, 120));
    assert_eq!((sale.platform, sale.platformCents), (platform, 40));
    assert_eq!(
        (sale.sellerCents, sale.studioCents, sale.platformCents),
        (
            expected.seller.get(),
            expected.studio.get(),
            expected.platform.get()
        )
    );
    if pay == Pay::Card {
        // Pending first: nothing reaches the seller, the studio or the platform before the
        // card payment clears (a dispute before then would take it all back).
        let pending = w.pending_of(&new_licence).await;
        assert_eq!(
            (pending.seller, pending.seller_cents),
            (seller_addr, 640),
            "the seller's 6.40 € are pending"
        );
        assert_eq!((pending.studio_cents, pending.platform_cents), (120, 40));
        let now = market.balanceOfCredit(seller_addr).call().await.unwrap();
        assert_eq!(now, credit_before, "nothing available before clearance");
        w.clear_when_due(&new_licence).await;
    }
    // Every side of the money, read on chain: the seller, the studio and the platform are
    // credited, and the payer (the operator's float for a card, the buyer's stablecoin
    // otherwise) is debited the 8.00 €.
    let credit_after = market.balanceOfCredit(seller_addr).call().await.unwrap();
    assert_eq!(
        credit_after - credit_before,
        U256::from(640) * per_cent,
        "the seller is credited 6.40 €"
    );
    // The seller takes the money out without ETH: a credit order the wallet signs and the
    // API's operator submits, to an address of the seller's choice (issue 12).
    let bank = Address::from_word(keccak256(format!("bank of {licence}")));
    let token = TestEuro::new(w.stack.deployment.contracts.stablecoin, w.provider.clone());
    let eth_before = w.provider.get_balance(seller_addr).await.unwrap();
    let paid = seller.json(&["withdraw", "--amount", "6.40", "--to", &bank.to_string()]);
    assert_eq!(paid["amount_cents"], 640, "{paid}");
    assert_eq!(
        token.balanceOf(bank).call().await.unwrap(),
        U256::from(640) * per_cent,
        "6.40 € reached the seller's bank address"
    );
    assert_eq!(
        market.balanceOfCredit(seller_addr).call().await.unwrap(),
        credit_before,
        "the credit is spent"
    );
    assert_eq!(
        w.provider.get_balance(seller_addr).await.unwrap(),
        eth_before,
        "the withdrawal cost the seller no ETH"
    );
    let after = w.ledger(buyer_addr).await;
    assert_eq!(
        after.studio_cents - before.studio_cents,
        120,
        "the studio accrues 1.20 €"
    );
    assert_eq!(
        after.platform_cents - before.platform_cents,
        40,
        "the platform accrues 0.40 €"
    );
    w.check_paid((pay, 800), buyer_addr, (&before, &after), &sale, &bought)
        .await;

    // Before the seller syncs, the copy is still on the device with a certificate valid
    // offline: `play` asks the API, which says revoked.
    playback::revoked_does_not_play(seller, licence);

    // The seller's client erases its copy on sync; the key is refused from now on.
    assert!(seller.licence_dir(licence).join("film.tgf").is_file());
    let synced = seller.json(&["sync"]);
    assert!(
        sync_reports(
            &synced,
            licence,
            &[("action", "erased"), ("reason", "revoked")]
        ),
        "sync reports the erasure of a revoked licence: {synced}"
    );
    assert!(
        !seller.licence_dir(licence).exists(),
        "the seller's copy is gone"
    );
    let refused = seller.fails(&["download", licence], &[]);
    assert!(
        refused.contains("revoked"),
        "key request refused: {refused}"
    );

    // The buyer downloads over P2P and plays the film.
    let got = buyer.json(&["download", &new_licence]);
    assert_eq!(got["source"], "P2P");
    let played = play_to_vec(buyer, &new_licence, &[]).expect("the buyer plays");
    assert!(
        played == w.master(Quality::Hd),
        "the buyer plays the original HD master"
    );
}

/// Lets the card hold period pass on chain (the licence of a card payment cannot be listed
/// before, so that a chargeback can still revoke it).
async fn pass_hold_period(w: &World) {
    let hold = w.market().holdPeriod().call().await.unwrap();
    let secs = hold.to::<u64>() + 1;
    let _: Value = w
        .provider
        .raw_request("evm_increaseTime".into(), [secs])
        .await
        .unwrap();
    let _: Value = w.provider.raw_request("evm_mine".into(), ()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_flows_by_card_and_in_stablecoin_then_offline_play() {
    let started = Instant::now();
    // Prebuilt binaries when TANGIBLE_BIN_DIR names them (like TANGIBLE_CLI_BIN), else built.
    let binaries = if std::env::var_os(tangible_devstack::BIN_DIR_ENV).is_some() {
        Binaries::locate(None).expect("the tangible-api and tangible-indexer in TANGIBLE_BIN_DIR")
    } else {
        Binaries::build(false).expect("building tangible-api and tangible-indexer")
    };
    blocking(|| tangible_bin().expect("building the tangible client")).await;
    let stack = Stack::start(StackOptions {
        binaries: Some(binaries),
        ..StackOptions::default()
    })
    .await
    .expect("the stack starts");
    eprintln!("stack up in {:?}", started.elapsed());
    let endpoints = Endpoints {
        api_url: stack.api_url.clone(),
        rpc_url: stack.rpc_url.clone(),
        stripe_url: stack.stripe_url.clone(),
        stripe_key: stack.stripe_secret_key.clone(),
    };
    let provider = ProviderBuilder::new()
        .connect_http(stack.rpc_url.parse().unwrap())
        .erased();
    let w = World {
        last_download: std::sync::Mutex::new(Value::Null),
        film: stack.demo.film_id.to_string(),
        stack,
        endpoints,
        provider,
    };

    // The catalogue shows the demo film with its two editions.
    let (alice, alice_addr) = w.buyer(0, "alice");
    let films = alice.json(&["films", "--search", &w.stack.demo.film_title]);
    assert_eq!(films[0]["title"], w.stack.demo.film_title.as_str());
    assert_eq!(films[0]["editions"].as_array().unwrap().len(), 2);

    // Seed flow 1, by card: 13 € for the 4K edition.
    let alice_4k =
        buy_and_download(&w, &alice, alice_addr, (Quality::Uhd4k, 1300), Pay::Card).await;

    // Alice's client seeds her film over P2P and announces it to the API (issue 17).
    let alice_seed = p2p::Seeding::start(&alice);
    assert_eq!(
        alice_seed.started["seeding"][0]["licence_id"],
        alice_4k.as_str(),
        "{}",
        alice_seed.started
    );
    let content = p2p::content(&w, "4k").await;
    let providers = content["providers"].as_array().unwrap();
    assert_eq!(
        providers.len(),
        2,
        "alice's node, then the API's: {content:#}"
    );
    assert_eq!(providers[0], alice_seed.provider(), "{content:#}");
    assert_eq!(
        providers[1], content["provider"],
        "the API's node last: {content:#}"
    );
    let film_size = content["size"].as_u64().unwrap();

    // The operator stops the API's P2P node (the console's switch; HTTP still serves): the
    // edition is then delivered by Alice's client alone.
    let operator = User::new("operator", &w.endpoints).expect("a user home");
    operator.import_key(&w.stack.demo.operator.private_key);
    let off = operator.json(&[
        "admin",
        "p2p",
        "off",
        "--reason",
        "owners carry delivery (seed flows)",
    ]);
    assert_eq!(off["serving"], false, "{off}");
    let content = p2p::content(&w, "4k").await;
    assert_eq!(
        content["providers"],
        serde_json::json!([alice_seed.provider()]),
        "only Alice's client is listed: {content:#}"
    );

    // Seed flow 1, in stablecoin: Dora's client downloads the whole film from Alice's.
    let (dora, dora_addr) = w.buyer(3, "dora");
    let dora_4k = buy_and_download(&w, &dora, dora_addr, (Quality::Uhd4k, 1300), Pay::Crypto).await;
    let got = w.last_download.lock().unwrap().clone();
    assert_eq!(
        p2p::bytes_by_node(&got),
        vec![(alice_seed.node_id().to_owned(), film_size)],
        "every byte from Alice's client: {got}"
    );
    assert_eq!(got["provider"], alice_seed.node_id(), "{got}");
    let on = operator.json(&["admin", "p2p", "on", "--reason", "back to normal"]);
    assert_eq!(on["serving"], true, "{on}");

    // Dora seeds too, but her copy gets damaged on disk while she serves it: Frank's download
    // drops her node (its data does not verify) and completes from Alice's and the API's.
    let dora_seed = p2p::Seeding::start(&dora);
    let dora_file = dora.licence_dir(&dora_4k).join("film.tgf");
    p2p::flip_every_mib(&dora_file);
    let (frank, frank_addr) = w.buyer(5, "frank");
    let content = p2p::content(&w, "4k").await;
    assert_eq!(
        content["providers"][0],
        dora_seed.provider(),
        "the latest seeder first: {content:#}"
    );
    buy_and_download(&w, &frank, frank_addr, (Quality::Uhd4k, 1300), Pay::Crypto).await;
    let got = w.last_download.lock().unwrap().clone();
    let reports = got["providers"].as_array().unwrap();
    let dora_report = reports
        .iter()
        .find(|r| r["provider"] == dora_seed.node_id())
        .unwrap_or_else(|| panic!("Dora's node was tried: {got}"));
    assert!(
        dora_report["dropped"]
            .as_str()
            .is_some_and(|why| why.contains("bad transfer")),
        "the corrupting peer is dropped: {got}"
    );
    let delivered: u64 = p2p::bytes_by_node(&got)
        .iter()
        .filter(|(node, _)| node != dora_seed.node_id())
        .map(|(_, b)| b)
        .sum();
    assert!(delivered > 0, "{got}");
    // (`download` checked the whole file's BLAKE3 against the published hash.)
    assert_eq!(got["size"].as_u64(), Some(film_size), "{got}");
    drop(dora_seed);
    p2p::flip_every_mib(&dora_file);

    // Seed flow 2, by card: Bob bought HD by card, lists it at 8 €, Carol pays by card.
    let (bob, bob_addr) = w.buyer(1, "bob");
    let (carol, carol_addr) = w.buyer(2, "carol");
    let bob_hd = buy_and_download(&w, &bob, bob_addr, (Quality::Hd, 900), Pay::Card).await;
    let on_hold = bob.fails(&["resell", &bob_hd, "--price", "8.00"], &[]);
    assert!(
        on_hold.contains("on hold"),
        "a card licence is on hold at first: {on_hold}"
    );
    pass_hold_period(&w).await;
    // Bob's client seeds his HD copy while he resells it; once his `sync` erased it, it stops.
    let bob_seed = p2p::Seeding::start(&bob);
    let hd_hash = p2p::content(&w, "hd").await["blob_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        p2p::serves(bob_seed.provider(), &hd_hash).await,
        "Bob's node serves his film"
    );
    resale(
        &w,
        (&bob, bob_addr),
        &bob_hd,
        (&carol, carol_addr),
        Pay::Card,
    )
    .await;
    bob_seed.wait_for("that it stopped seeding the resold licence", |v| {
        v["event"] == "stopped" && v["licence_id"] == bob_hd.as_str()
    });
    assert!(
        !p2p::serves(bob_seed.provider(), &hd_hash).await,
        "a former owner's node no longer serves the film"
    );
    let listed = p2p::content(&w, "hd").await;
    assert!(
        !listed["providers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == bob_seed.provider()),
        "nor is it listed: {listed:#}"
    );
    drop(bob_seed);

    // Seed flow 2, in stablecoin: Erin lists, Frank pays from his wallet.
    let (erin, erin_addr) = w.buyer(4, "erin");
    let erin_hd = buy_and_download(&w, &erin, erin_addr, (Quality::Hd, 900), Pay::Crypto).await;
    resale(
        &w,
        (&erin, erin_addr),
        &erin_hd,
        (&frank, frank_addr),
        Pay::Crypto,
    )
    .await;

    // A new studio publishes a film with the CLI; Carol buys it; the statement shows it.
    studio::studio_flow(&w, &carol).await;

    // A real film (ffmpeg), played through the loopback server by a player that seeks.
    playback::playback_flow(&w, &carol).await;

    // An expired certificate blocks offline play until `sync` renews it. The client's test
    // clock (TANGIBLE_TEST_NOW) is put one second past the certificate's end of validity.
    let cert: Value = serde_json::from_str(
        &std::fs::read_to_string(alice.licence_dir(&alice_4k).join("certificate.json")).unwrap(),
    )
    .unwrap();
    let issued = cert["certificate"]["issuedAt"].as_u64().unwrap();
    let after_lease = (cert["certificate"]["validUntil"].as_u64().unwrap() + 1).to_string();
    // Offline (the API unreachable): the cached certificate decides.
    let clock = [
        ("TANGIBLE_TEST_NOW", after_lease.as_str()),
        playback::OFFLINE,
    ];
    let refused = play_to_vec(&alice, &alice_4k, &clock).expect_err("expired: refused");
    assert!(
        refused.contains("expired") && refused.contains("tangible sync"),
        "the refusal tells to go online and sync: {refused}"
    );
    let verify = alice.run(&["verify", &alice_4k], &clock);
    assert!(!verify.ok && verify.stdout.contains("expired"));
    // A certificate issued at least 2 s later ends at least 2 s later.
    while (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs())
        < issued + 2
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The certificate signer was learned from the API (/v1/config) and pinned on first use; a
    // different signer announced later is refused loudly unless the user accepts the change.
    let pin = alice.home().join("trust.json");
    let pinned = |path: &std::path::Path| -> Address {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        v["attestation_address"].as_str().unwrap().parse().unwrap()
    };
    assert_eq!(pinned(&pin), w.stack.demo.attestation.address);
    let other = "0x000000000000000000000000000000000000dEaD";
    std::fs::write(&pin, format!("{{\"attestation_address\":\"{other}\"}}")).unwrap();
    let changed = alice.fails(&["sync"], &[]);
    assert!(
        changed.contains("CHANGED") && changed.contains("--accept-signer-change"),
        "a new signer is refused: {changed}"
    );
    let offline =
        play_to_vec(&alice, &alice_4k, &[playback::OFFLINE]).expect_err("offline: the pin decides");
    assert!(offline.contains("is not valid"), "{offline}");
    alice.json(&["--accept-signer-change", "sync"]);
    assert_eq!(pinned(&pin), w.stack.demo.attestation.address);
    let played = play_to_vec(&alice, &alice_4k, &clock).expect("renewed: plays");
    assert!(played == w.master(Quality::Uhd4k));

    // Seed 004, the operator's side: every card payment of this run reconciles to the cent
    // (Stripe charges = settled on chain), and the float's history matches the chain — read
    // with the CLI as the platform admin (the operator account on this stack).
    let day = |d: i64| {
        (chrono::Utc::now() + chrono::TimeDelta::days(d))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (from, to) = (day(-1), day(1));
    let report = operator.json(&["admin", "reconcile", "--from", &from, "--to", &to]);
    assert_eq!(
        (report["difference"].as_i64(), &report["mismatches"]),
        (Some(0), &serde_json::json!([])),
        "{report:#}"
    );
    // Alice's 4K, Bob's HD, Carol's resale, the studio's film and the playback film, by card.
    assert_eq!(report["charges"], 5, "{report:#}");
    assert_eq!(
        report["settled_cents"], report["stripe_charged_cents"],
        "{report:#}"
    );
    let float = operator.json(&["admin", "float", "--limit", "200"]);
    let on_chain = w.ledger(w.stack.demo.operator.address).await.float / w.per_cent().await;
    assert_eq!(
        U256::from(float["balance_cents"].as_i64().unwrap()),
        on_chain,
        "{float:#}"
    );
    let card_settlements = float["movements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "card_settlement")
        .count();
    assert_eq!(card_settlements, 5, "{float:#}");
    // A run where nothing went wrong raised no operator alert (not even for Stripe's event
    // types the API does not handle: the endpoint subscribes to the handled ones only).
    let alerts = operator.json(&["admin", "alerts"]);
    assert_eq!(alerts, serde_json::json!([]), "{alerts:#}");

    drop(alice_seed);

    // Offline: the whole stack stops; verify and play need nothing but the local library.
    let World { stack, .. } = w;
    let masters = (
        std::fs::read(
            stack
                .demo
                .edition(Quality::Uhd4k)
                .unwrap()
                .master_file
                .clone()
                .unwrap(),
        )
        .unwrap(),
        std::fs::read(
            stack
                .demo
                .edition(Quality::Hd)
                .unwrap()
                .master_file
                .clone()
                .unwrap(),
        )
        .unwrap(),
    );
    let api_url = stack.api_url.clone();
    blocking(move || stack.stop()).await;
    assert!(
        std::net::TcpStream::connect(api_url.trim_start_matches("http://")).is_err(),
        "the API is down"
    );
    for (user, licence, master) in [
        (&alice, &alice_4k, &masters.0),
        (&dora, &dora_4k, &masters.0),
    ] {
        let v = user.json(&["verify", "--decrypt", licence]);
        assert_eq!(v["ok"], true, "{}: offline verify: {v}", user.name);
        let played = play_to_vec(user, licence, &[]).expect("offline play");
        assert!(
            played == *master,
            "{}: the played bytes equal the original master",
            user.name
        );
    }
    eprintln!("seed flows done in {:?}", started.elapsed());
}
