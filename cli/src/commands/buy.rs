//! `buy`, `buy-offer`, `resell`, `reprice`, `cancel-offer`: purchases by card (API + Stripe),
//! in stablecoin (the wallet pays the market) or with the credit (`credit`), and resale orders
//! (signed by the wallet and relayed by the API, or sent from the wallet).

use std::time::{Duration, Instant};

use alloy::primitives::U256;
use anyhow::{Context, bail};
use serde_json::json;
use tangible_api_types::catalogue::{FilmQuery, FilmView, Page};
use tangible_api_types::orders::{
    CancelOrderRequest, ListOrderRequest, OrderRelayed, RepriceOrderRequest,
};
use tangible_api_types::purchases::{
    PrimaryPurchaseRequest, PurchaseCreated, PurchaseView, ResalePurchaseRequest,
};
use tangible_chain::orders::{Order, OrderAction, domain};
use tangible_domain::{Cents, Quality};

use super::Ctx;
use crate::chain::parse_id;
use crate::cli::{BuyArgs, PayArgs};
use crate::library::LocalLicence;
use crate::stripe::{Confirmation, Stripe};
use crate::{browser, output};

/// Resolves a film argument: an id, or a title matching exactly one film.
async fn resolve_film(ctx: &Ctx, film: &str) -> anyhow::Result<FilmView> {
    let api = ctx.api()?;
    if let Ok(id) = film.trim().parse::<u64>() {
        return api
            .get::<FilmView>(&format!("/v1/films/{id}"), &[])
            .await
            .with_context(|| format!("looking up film {id}"));
    }
    let query = FilmQuery {
        q: Some(film.to_owned()),
        studio_id: None,
        year: None,
        quality: None,
        max_price: None,
        limit: Some(10),
        cursor: None,
    };
    let page: Page<FilmView> = api.get_with("/v1/films", &query).await?;
    match page.items.len() {
        0 => bail!("no film matches {film:?}"),
        1 => Ok(page.items.into_iter().next().expect("one item")),
        n => bail!(
            "{n} films match {film:?}: {}; give the film id",
            page.items
                .iter()
                .map(|f| format!("#{} {}", f.film_id, f.title))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Pays a created purchase by card and waits for it to be fulfilled: on the storefront's
/// payment page (`--card`), or with a test card sent from this client (`--test-card`).
async fn pay_by_card(
    ctx: &Ctx,
    created: &PurchaseCreated,
    pay: &PayArgs,
) -> anyhow::Result<PurchaseView> {
    if pay.test_card {
        let stripe = Stripe::for_test_cards(&ctx.settings.stripe_url, &ctx.settings.stripe_key)?;
        match stripe
            .pay(&created.payment_intent_id, &pay.card_number)
            .await?
        {
            Confirmation::Succeeded => {}
            Confirmation::Declined(why) => bail!("the card was declined: {why}"),
            Confirmation::Other(status) => {
                bail!("the payment is {status}; it needs another step this client cannot do")
            }
        }
    } else {
        let url = payment_page(&ctx.settings.api_url, created)?;
        // On stderr, so that it reaches the user with --json too.
        eprintln!("Pay by card on this page (it stays valid until the purchase is paid):\n  {url}");
        if !pay.no_open && !browser::open(url.as_str()) {
            eprintln!("(no browser could be opened here: open the address above yourself)");
        }
    }
    let default = if pay.card { 900 } else { 180 };
    let timeout = Duration::from_secs(pay.timeout.unwrap_or(default));
    wait_fulfilled(ctx, &created.purchase_id.to_string(), timeout).await
}

/// The storefront's payment page for `created`: `<api>/pay/<purchase id>#<client secret>`. The
/// secret rides in the fragment, which a browser never sends to a server. (The purchase id is a
/// UUID, which is always fit for a path.)
fn payment_page(api_url: &str, created: &PurchaseCreated) -> anyhow::Result<reqwest::Url> {
    let well_formed = |s: &str, prefix: &str| {
        s.starts_with(prefix)
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if !well_formed(&created.client_secret, "pi_") {
        bail!(
            "the API answered purchase {} in a form this client cannot put in a page address",
            created.purchase_id
        );
    }
    let mut url = reqwest::Url::parse(api_url)
        .with_context(|| format!("the API URL {api_url:?} is not a URL"))?
        .join(&format!("/pay/{}", created.purchase_id))
        .context("building the payment page's address")?;
    url.set_fragment(Some(&created.client_secret));
    Ok(url)
}

async fn wait_fulfilled(
    ctx: &Ctx,
    purchase_id: &str,
    timeout: Duration,
) -> anyhow::Result<PurchaseView> {
    let api = ctx.api()?;
    let bar = (!ctx.json).then(|| output::spinner("waiting for the payment to settle on chain"));
    let deadline = Instant::now() + timeout;
    let result = loop {
        let view: PurchaseView = api
            .get(&format!("/v1/purchases/{purchase_id}"), &[])
            .await
            .context("following the purchase")?;
        if let Some(b) = &bar {
            b.set_message(format!("purchase {}: {}", view.purchase_id, view.state));
        }
        match view.state.as_str() {
            // A dispute closed won gives a new licence (`reinstated`): a licence all the same.
            "fulfilled" | "reinstated" => break Ok(view),
            // After fulfilment, the card's holder disputed the payment before this wait ended.
            "failed" | "refunded" | "expired" | "disputed" | "revoked" | "dispute_lost" => {
                break Err(anyhow::anyhow!(
                    "purchase {} {}: {} {}",
                    view.purchase_id,
                    view.state,
                    view.failure_code.as_deref().unwrap_or(""),
                    view.failure_message.as_deref().unwrap_or("")
                ));
            }
            _ => {}
        }
        if Instant::now() > deadline {
            break Err(anyhow::anyhow!(
                "purchase {purchase_id} still {} after {}s; follow it with the API \
                 (GET /v1/purchases/{purchase_id})",
                view.state,
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    result
}

/// Records a new licence in the library and reports it.
fn record(
    ctx: &Ctx,
    licence: U256,
    film_id: u64,
    quality: Quality,
    tx: &str,
    extra: serde_json::Value,
) -> anyhow::Result<()> {
    ctx.library().upsert(LocalLicence {
        licence_id: licence.to_string(),
        film_id,
        quality: quality.code(),
        chain_id: 0,
        content: None,
    })?;
    if ctx.json {
        let mut v = json!({
            "licence_id": licence.to_string(),
            "film_id": film_id,
            "quality": quality.as_str(),
            "tx_hash": tx,
        });
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        output::json(&v);
    } else {
        println!("Licence {licence} is yours (film #{film_id}, {quality}); transaction {tx}");
        println!("Next: tangible download {licence}");
    }
    Ok(())
}

pub(super) async fn buy(ctx: &mut Ctx, args: BuyArgs) -> anyhow::Result<()> {
    let film = resolve_film(ctx, &args.film).await?;
    let film_id = u64::try_from(film.film_id).context("film id")?;
    let quality = args.quality;
    let edition = film
        .editions
        .iter()
        .find(|e| e.quality == quality.as_str())
        .with_context(|| {
            format!(
                "\"{}\" has no {quality} edition (editions: {})",
                film.title,
                film.editions
                    .iter()
                    .map(|e| e.quality.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    if !edition.active {
        bail!(
            "the {quality} edition of \"{}\" is withdrawn from sale",
            film.title
        );
    }
    if args.pay.credit {
        let price = u64::try_from(edition.price_cents).context("edition price")?;
        ctx.say(format!(
            "Paying {} € from your credit for \"{}\" ({quality})…",
            output::euros(edition.price_cents),
            film.title
        ));
        let purchase = super::credit::Purchase::Edition(film_id, quality);
        let (licence, tx) = super::credit::buy(ctx, purchase, price, args.pay.direct).await?;
        record(
            ctx,
            licence,
            film_id,
            quality,
            &tx,
            json!({ "amount_cents": price, "paid_with": "credit" }),
        )
    } else if args.pay.card || args.pay.test_card {
        let buyer = ctx.address()?;
        let created: PurchaseCreated = ctx
            .api()?
            .post(
                "/v1/purchases",
                &PrimaryPurchaseRequest {
                    film_id,
                    quality: quality.as_str().to_owned(),
                    buyer_address: buyer.to_string(),
                    receipt_email: None,
                },
            )
            .await
            .context("creating the purchase")?;
        ctx.say(format!(
            "Paying {} € by card for \"{}\" ({quality})…",
            output::euros(created.amount as i64),
            film.title
        ));
        let view = pay_by_card(ctx, &created, &args.pay).await?;
        let licence = parse_id(
            // The live licence: the reinstated one after a dispute closed won.
            view.reinstated_licence_id
                .as_deref()
                .or(view.licence_id.as_deref())
                .context("fulfilled without a licence id")?,
            "licence",
        )?;
        record(
            ctx,
            licence,
            film_id,
            quality,
            view.tx_hash.as_deref().unwrap_or(""),
            json!({ "purchase_id": view.purchase_id, "amount_cents": view.amount, "paid_with": "card" }),
        )
    } else {
        let market = ctx.market().await?;
        let price = market.edition_price(film_id, quality.code()).await?;
        ctx.say(format!(
            "Paying {} € in stablecoin for \"{}\" ({quality})…",
            output::euros(price as i64),
            film.title
        ));
        let (licence, tx) = market.buy_primary(film_id, quality.code(), price).await?;
        record(
            ctx,
            licence,
            film_id,
            quality,
            &tx.to_string(),
            json!({ "amount_cents": price, "paid_with": "crypto" }),
        )
    }
}

pub(super) async fn buy_offer(ctx: &mut Ctx, offer: &str, pay: PayArgs) -> anyhow::Result<()> {
    let offer_id = parse_id(offer, "offer")?;
    if pay.credit {
        let market = ctx.market().await?;
        let price = market.offer_price(offer_id).await?;
        ctx.say(format!(
            "Paying {} € from your credit for offer {offer_id}…",
            output::euros(price as i64)
        ));
        let purchase = super::credit::Purchase::Offer(offer_id);
        let (licence, tx) = super::credit::buy(ctx, purchase, price, pay.direct).await?;
        let info = market.licence(licence).await?;
        record(
            ctx,
            licence,
            info.0,
            Quality::from_code(info.1).context("licence quality")?,
            &tx,
            json!({ "offer_id": offer_id.to_string(), "amount_cents": price, "paid_with": "credit" }),
        )
    } else if pay.card || pay.test_card {
        let buyer = ctx.address()?;
        let created: PurchaseCreated = ctx
            .api()?
            .post(
                &format!("/v1/offers/{offer_id}/purchases"),
                &ResalePurchaseRequest {
                    buyer_address: buyer.to_string(),
                    receipt_email: None,
                },
            )
            .await
            .context("creating the purchase")?;
        ctx.say(format!(
            "Paying {} € by card for offer {offer_id}…",
            output::euros(created.amount as i64)
        ));
        let view = pay_by_card(ctx, &created, &pay).await?;
        let licence = parse_id(
            // The live licence: the reinstated one after a dispute closed won.
            view.reinstated_licence_id
                .as_deref()
                .or(view.licence_id.as_deref())
                .context("fulfilled without a licence id")?,
            "licence",
        )?;
        let quality: Quality = view.quality.parse().context("purchase quality")?;
        record(
            ctx,
            licence,
            view.film_id,
            quality,
            view.tx_hash.as_deref().unwrap_or(""),
            json!({ "purchase_id": view.purchase_id, "offer_id": offer_id.to_string(), "amount_cents": view.amount, "paid_with": "card" }),
        )
    } else {
        let market = ctx.market().await?;
        let price = market.offer_price(offer_id).await?;
        ctx.say(format!(
            "Paying {} € in stablecoin for offer {offer_id}…",
            output::euros(price as i64)
        ));
        let (licence, tx) = market.buy_offer(offer_id, price).await?;
        let info = market.licence(licence).await?;
        record(
            ctx,
            licence,
            info.0,
            Quality::from_code(info.1).context("licence quality")?,
            &tx.to_string(),
            json!({ "offer_id": offer_id.to_string(), "amount_cents": price, "paid_with": "crypto" }),
        )
    }
}

pub(super) async fn resell(
    ctx: &mut Ctx,
    licence: &str,
    price: Cents,
    direct: bool,
) -> anyhow::Result<()> {
    let licence = parse_id(licence, "licence")?;
    tangible_domain::Split::resale(price)
        .with_context(|| format!("{price} € is not a valid resale price"))?;
    let (offer, tx) = if direct {
        ctx.market().await?.list(licence, price.get()).await?
    } else {
        let r = signed_order(ctx, OrderAction::List, licence, price.get()).await?;
        (r.offer_id.parse()?, r.tx_hash.parse()?)
    };
    if ctx.json {
        output::json(&json!({
            "offer_id": offer.to_string(),
            "licence_id": licence.to_string(),
            "price_cents": price.get(),
            "tx_hash": tx.to_string(),
        }));
    } else {
        println!("Licence {licence} listed at {price} € as offer {offer} (transaction {tx})");
        println!(
            "Your copy stays playable until the offer is bought; then `tangible sync` erases it."
        );
    }
    Ok(())
}

pub(super) async fn reprice(
    ctx: &mut Ctx,
    offer: &str,
    price: Cents,
    direct: bool,
) -> anyhow::Result<()> {
    let offer_id = parse_id(offer, "offer")?;
    tangible_domain::Split::resale(price)
        .with_context(|| format!("{price} € is not a valid resale price"))?;
    let tx = if direct {
        ctx.market()
            .await?
            .update_offer(offer_id, price.get())
            .await?
    } else {
        let r = signed_order(ctx, OrderAction::Reprice, offer_id, price.get()).await?;
        r.tx_hash.parse()?
    };
    if ctx.json {
        output::json(
            &json!({ "offer_id": offer_id.to_string(), "price_cents": price.get(), "tx_hash": tx.to_string() }),
        );
    } else {
        println!("Offer {offer_id} now at {price} € (transaction {tx})");
    }
    Ok(())
}

pub(super) async fn cancel_offer(ctx: &mut Ctx, offer: &str, direct: bool) -> anyhow::Result<()> {
    let offer_id = parse_id(offer, "offer")?;
    let tx = if direct {
        ctx.market().await?.cancel_offer(offer_id).await?
    } else {
        let r = signed_order(ctx, OrderAction::Cancel, offer_id, 0).await?;
        r.tx_hash.parse()?
    };
    if ctx.json {
        output::json(&json!({ "offer_id": offer_id.to_string(), "tx_hash": tx.to_string() }));
    } else {
        println!("Offer {offer_id} cancelled (transaction {tx})");
    }
    Ok(())
}

/// Signs a resale order with the wallet (EIP-712, the account's next order nonce from the API,
/// valid one hour) and has the API's operator submit it: the wallet needs no ETH.
async fn signed_order(
    ctx: &mut Ctx,
    action: OrderAction,
    target: U256,
    price_cents: u64,
) -> anyhow::Result<OrderRelayed> {
    let deployment = ctx.deployment().await?;
    let seller = ctx.address()?;
    let (account, deadline) = super::credit::order_terms(ctx, seller).await?;
    let order = Order::new(
        seller,
        action,
        target,
        price_cents,
        account.order_nonce,
        deadline,
    );
    let digest = order.digest(&domain(deployment.chain_id, deployment.contracts.market));
    let signature = alloy::hex::encode_prefixed(super::credit::sign(ctx, &digest)?);
    let api = ctx.api()?;
    let seller_address = seller.to_string();
    let relayed = match action {
        OrderAction::List => {
            let body = ListOrderRequest {
                seller_address,
                licence_id: target.to_string(),
                price_cents,
                deadline,
                signature,
            };
            api.post("/v1/offers", &body).await?
        }
        OrderAction::Reprice => {
            let body = RepriceOrderRequest {
                seller_address,
                price_cents,
                deadline,
                signature,
            };
            api.patch(&format!("/v1/offers/{target}"), &body).await?
        }
        OrderAction::Cancel => {
            let body = CancelOrderRequest {
                seller_address,
                deadline,
                signature,
            };
            api.delete(&format!("/v1/offers/{target}"), &body).await?
        }
    };
    Ok(relayed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tangible_api_types::purchases::PurchaseCreated;

    use super::payment_page;

    /// A purchase as the API answers `POST /v1/purchases`.
    fn created(purchase_id: &str, client_secret: &str) -> PurchaseCreated {
        serde_json::from_value(json!({
            "purchase_id": purchase_id,
            "payment_intent_id": "pi_1",
            "client_secret": client_secret,
            "amount": 1300,
            "currency": "eur",
        }))
        .expect("a purchase as the API sends it")
    }

    #[test]
    fn the_payment_page_carries_the_secret_in_the_fragment_only() {
        let id = "0b8a3f4e-7d2c-4a51-9e0f-2f4d5c6b7a81";
        let url = payment_page("http://127.0.0.1:8080/", &created(id, "pi_1_secret_ab")).unwrap();
        assert_eq!(
            url.as_str(),
            format!("http://127.0.0.1:8080/pay/{id}#pi_1_secret_ab")
        );
        assert_eq!(url.path(), format!("/pay/{id}"));
        assert_eq!(url.query(), None);
    }

    #[test]
    fn a_malformed_purchase_never_becomes_an_address() {
        // The id is a UUID: a path-like one is not a purchase at all.
        for id in ["../admin", "0b8a?x=1"] {
            let wire = json!({"purchase_id": id, "payment_intent_id": "pi_1",
                              "client_secret": "pi_1_secret_ab", "amount": 1, "currency": "eur"});
            assert!(
                serde_json::from_value::<PurchaseCreated>(wire).is_err(),
                "{id}"
            );
        }
        let id = "0b8a3f4e-7d2c-4a51-9e0f-2f4d5c6b7a81";
        for secret in ["pi_1_secret_ab#x", "javascript:alert(1)", "pi_1/../x"] {
            assert!(
                payment_page("http://127.0.0.1:8080", &created(id, secret)).is_err(),
                "{secret}"
            );
        }
    }
}
