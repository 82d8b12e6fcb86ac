//! Catalogue reads: the real indexer mirrors the test chain into the database, then the API
//! serves films, offers, licences, sales and royalty statements from it.

use alloy::primitives::keccak256;
use serde_json::Value;
use tangible_chain::bindings::TangibleMarket;
use tangible_indexer::rpc::HttpRpc;
use tangible_indexer::{Indexer, IndexerConfig};

use crate::helpers::{PRICE, QUALITY, TestApp, mined, spawn_app};
use crate::purchases::buy_and_pay;

pub(crate) async fn index(app: &TestApp) {
    let rpc = HttpRpc::new(
        &app.chain.anvil.endpoint(),
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    let mut ix = Indexer::new(
        rpc,
        app.db.pool().clone(),
        &app.chain.deployment,
        IndexerConfig::default(),
    )
    .await
    .expect("indexer starts");
    ix.sync().await.expect("indexer syncs");
}

async fn get(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get_json(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test]
async fn catalogue_offers_licences_sales_and_statements_from_the_mirror() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let studio = 1u32;
    mined(
        market
            .registerFilm(studio, "Le Voyage dans la Lune".into(), 1902)
            .from(app.chain.studio_admin),
    )
    .await;
    let voyage = market.filmCount().call().await.unwrap();
    mined(
        market
            .registerEdition(voyage, 1, keccak256("voyage hd"), 900)
            .from(app.chain.studio_admin),
    )
    .await;
    mined(
        market
            .registerEdition(voyage, QUALITY, keccak256("voyage 4k"), 1300)
            .from(app.chain.studio_admin),
    )
    .await;
    // A film with no edition yet: listed, with an empty edition list.
    mined(
        market
            .registerFilm(studio, "L'Arroseur arrosé".into(), 1895)
            .from(app.chain.studio_admin),
    )
    .await;
    let arroseur = market.filmCount().call().await.unwrap();

    // A card sale (through the API), and a crypto primary sale resold 80/15/5.
    let (created, payment_ref) = buy_and_pay(&app, 0).await;
    let view = app
        .wait_fulfilled(created["purchase_id"].as_str().unwrap())
        .await;
    let (alice, bob) = (app.chain.buyer(1).address(), app.chain.buyer(2).address());
    let r = mined(
        market
            .buyPrimary(app.chain.film_id, QUALITY, PRICE, alice)
            .from(alice),
    )
    .await;
    let first = r
        .decoded_log::<TangibleMarket::LicenceMinted>()
        .unwrap()
        .licenceId;
    let r = mined(market.list(first, 800).from(alice)).await;
    let offer = r
        .decoded_log::<TangibleMarket::OfferListed>()
        .unwrap()
        .offerId;
    let r = mined(market.buyOffer(offer, 800, bob).from(bob)).await;
    let bobs = r
        .decoded_log::<TangibleMarket::SaleSettled>()
        .unwrap()
        .licenceId;
    // An active offer by Bob? His licence is fine to list (crypto purchase, no hold).
    let listing = mined(market.list(bobs, 2500).from(bob)).await;
    index(&app).await;

    // Films: search, filters, pagination.
    let page = get(&app, "/v1/films?q=voyage").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["title"], "Le Voyage dans la Lune");
    assert_eq!(page["items"][0]["editions"][0]["quality"], "hd");
    assert_eq!(page["items"][0]["editions"][0]["price_cents"], 900);
    assert_eq!(page["items"][0]["editions"][1]["quality"], "4k");
    assert_eq!(page["items"][0]["editions"][1]["price_cents"], 1300);
    assert_eq!(page["items"][0]["editions"].as_array().unwrap().len(), 2);
    assert_eq!(
        get(&app, "/v1/films?year=2024").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Filters on the editions on sale: quality, highest price, both on the same edition.
    let ids = |page: Value| -> Vec<u64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["film_id"].as_u64().unwrap())
            .collect()
    };
    // Registered on chain only, Voyage's editions are not served: shown, not on sale.
    let served = |film: &Value| -> Vec<bool> {
        film["editions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["served"].as_bool().unwrap())
            .collect()
    };
    assert_eq!(served(&page["items"][0]), [false, false]);
    assert_eq!(
        ids(get(&app, "/v1/films?quality=hd").await),
        Vec::<u64>::new()
    );
    app.serve_edition(voyage, 1, keccak256("voyage hd")).await;
    // A master other than the one on chain is not served either.
    app.serve_edition(voyage, QUALITY, keccak256("voyage 4k, old cut"))
        .await;
    let film = get(&app, &format!("/v1/films/{voyage}")).await;
    assert_eq!(served(&film), [true, false]);
    assert_eq!(
        ids(get(&app, "/v1/films?quality=4k").await),
        [app.chain.film_id],
        "Voyage's 4K master on chain is not the one held here"
    );
    sqlx::query(
        "UPDATE api_edition_content SET master_hash = $1 WHERE film_id = $2 AND quality = $3",
    )
    .bind(keccak256("voyage 4k").to_string())
    .bind(i64::try_from(voyage).unwrap())
    .bind(i16::from(QUALITY))
    .execute(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        served(&get(&app, &format!("/v1/films/{voyage}")).await),
        [true, true]
    );
    assert_eq!(ids(get(&app, "/v1/films?quality=hd").await), [voyage]);
    assert_eq!(
        ids(get(&app, "/v1/films?quality=4k").await),
        [app.chain.film_id, voyage]
    );
    assert_eq!(ids(get(&app, "/v1/films?max_price=900").await), [voyage]);
    assert_eq!(
        ids(get(&app, "/v1/films?max_price=899").await),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(get(&app, "/v1/films?quality=4k&max_price=1000").await),
        Vec::<u64>::new(),
        "the 4K edition is 13 €: the 9 € edition is HD"
    );
    for bad in ["quality=8k", "max_price=-1"] {
        let r = app
            .http
            .get(app.url(&format!("/v1/films?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{bad}");
    }
    assert_eq!(
        get(&app, "/v1/films?q=%25").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "LIKE wildcards are literal"
    );
    // One film per page (films with one, two and no editions): each once, in order.
    let (mut seen, mut cursor) = (Vec::new(), String::new());
    loop {
        let p = get(&app, &format!("/v1/films?limit=1{cursor}")).await;
        assert_eq!(p["items"].as_array().unwrap().len(), 1);
        seen.push((
            p["items"][0]["film_id"].as_u64().unwrap(),
            p["items"][0]["editions"].as_array().unwrap().len(),
        ));
        match p["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, [(app.chain.film_id, 1), (voyage, 2), (arroseur, 0)]);
    assert_eq!(
        get(&app, "/v1/films?limit=3").await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let film = get(&app, &format!("/v1/films/{}", app.chain.film_id)).await;
    assert_eq!(film["editions"][0]["quality"], "4k");
    assert_eq!(
        film["editions"][0]["edition_id"],
        format!("{}-4k", app.chain.film_id)
    );
    assert_eq!(film["editions"][0]["price_cents"], PRICE);
    assert_eq!(app.get_json("/v1/films/999").await.0, 404);

    // Offers: active by default, filters by status and price.
    let active = get(&app, &format!("/v1/offers?film_id={}", app.chain.film_id)).await;
    assert_eq!(active["items"].as_array().unwrap().len(), 1);
    assert_eq!(active["items"][0]["price_cents"], 2500);
    let filled = get(&app, "/v1/offers?status=filled").await;
    assert_eq!(
        filled["items"][0]["buyer_address"],
        bob.to_string().to_lowercase()
    );
    // One offer by id, whatever its status, with its listing's block and transaction.
    let id = active["items"][0]["offer_id"].as_str().unwrap();
    let one = get(&app, &format!("/v1/offers/{id}")).await;
    assert_eq!(one, active["items"][0]);
    assert_eq!(one["listed_tx"], listing.transaction_hash.to_string());
    assert_eq!(one["listed_block"], listing.block_number.unwrap());
    let filled_id = filled["items"][0]["offer_id"].as_str().unwrap();
    let one = get(&app, &format!("/v1/offers/{filled_id}")).await;
    assert_eq!(one["status"], "filled");
    assert_eq!(app.get_json("/v1/offers/999999").await.0, 404);
    assert_eq!(app.get_json("/v1/offers/nope").await.0, 404);
    assert_eq!(
        get(&app, "/v1/offers?max_price=1000").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Licences by owner, with history on request.
    let bob_l = get(&app, &format!("/v1/licences?owner={bob}")).await;
    assert_eq!(bob_l["items"][0]["licence_id"], bobs.to_string());
    assert_eq!(
        get(&app, &format!("/v1/licences?owner={alice}")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let alice_hist = get(
        &app,
        &format!("/v1/licences?owner={alice}&include_revoked=true"),
    )
    .await;
    assert_eq!(alice_hist["items"][0]["revoked"], true);
    assert_eq!(alice_hist["items"][0]["replaced_by"], bobs.to_string());

    // A licence's history across the resale: both licences, both sales, both offers.
    let h = get(&app, &format!("/v1/licences/{bobs}/history")).await;
    let ids: Vec<&str> = h["licences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["licence_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.to_string(), bobs.to_string()]);
    let kinds: Vec<&str> = h["sales"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["primary", "resale"]);
    let statuses: Vec<&str> = h["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["filled", "active"]);
    assert_eq!(
        get(&app, &format!("/v1/licences/{first}/history")).await["licences"],
        h["licences"]
    );
    assert_eq!(app.get_json("/v1/licences/777/history").await.0, 404);

    // Sales: the card sale carries its payment reference; the resale its 80/15/5 split.
    let resale = get(&app, "/v1/sales?kind=resale").await;
    let s = &resale["items"][0];
    assert_eq!(
        (
            s["price_cents"].as_i64(),
            s["seller_cents"].as_i64(),
            s["studio_cents"].as_i64(),
            s["platform_cents"].as_i64()
        ),
        (Some(800), Some(640), Some(120), Some(40))
    );
    let sales = get(&app, "/v1/sales?kind=primary").await;
    let card = sales["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| !s["payment_ref"].is_null())
        .expect("the card sale");
    assert_eq!(card["payment_ref"], payment_ref.to_string());
    assert_eq!(card["licence_id"], view["licence_id"]);
    assert_eq!(card["tx_hash"], view["tx_hash"]);

    // Royalty statement of the studio: 2 primaries at 13 € (10 % commission) + 1 resale at 8 €.
    let st = get(&app, "/v1/studios/1/statement").await;
    assert_eq!(st["sales"], 3);
    assert_eq!(st["gross_cents"], 1300 + 1300 + 800);
    assert_eq!(st["studio_cents"], 1170 + 1170 + 120);
    assert_eq!(st["platform_cents"], 130 + 130 + 40);
    let csv = app
        .http
        .get(app.url("/v1/studios/1/statement?format=csv"))
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 + 1, "{csv}");
    assert!(
        csv.lines()
            .last()
            .unwrap()
            .starts_with("TOTAL,,,,,,,3400,640,2460,300"),
        "{csv}"
    );
    assert_eq!(app.get_json("/v1/studios/9/statement").await.0, 404);

    // Bad parameters: 4xx with the error shape.
    let (s, b) = app.get_json("/v1/films?limit=0").await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (422, Some("invalid_field"))
    );
    let (s, b) = app.get_json("/v1/films?limit=abc").await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (s, _) = app.get_json("/v1/licences?owner=nope").await;
    assert_eq!(s, 422);
    let (s, _) = app.get_json("/v1/offers?status=weird").await;
    assert_eq!(s, 422);
}
