//! `withdraw`, `buy --credit`, `buy-offer --credit`, `studio withdraw`: money out of the
//! market's balances. The wallet signs a credit order (EIP-712, its next order nonce) that the
//! API's operator submits, so the wallet needs no ETH; `--direct` sends it from the wallet.

use alloy::primitives::{Address, Bytes, U256};
use anyhow::{Context, bail};
use serde_json::json;
use tangible_api_types::accounts::{
    AccountView, CreditOrderRelayed, CreditPurchaseRequest, CreditWithdrawalRequest,
    StudioWithdrawal,
};
use tangible_chain::orders::{CreditAction, CreditOrder, domain, edition_target};
use tangible_domain::{Cents, Quality};

use super::Ctx;
use crate::output;

/// How long a signed order stays valid.
const ORDER_VALIDITY_SECS: u64 = 3600;

/// The account's view on the API and the deadline of an order it signs now: an hour from now
/// by the later of the two clocks (the chain checks the deadline against its own, which a
/// local node may have moved ahead).
pub(super) async fn order_terms(ctx: &Ctx, account: Address) -> anyhow::Result<(AccountView, u64)> {
    let view: AccountView = ctx
        .api()?
        .get(&format!("/v1/accounts/{account}"), &[])
        .await
        .context("reading the account's order nonce")?;
    let now = u64::try_from(chrono::Utc::now().timestamp())?;
    let deadline = now.max(view.chain_time) + ORDER_VALIDITY_SECS;
    Ok((view, deadline))
}

/// Signs `hash` with the wallet (65 bytes `r ‖ s ‖ v`).
pub(super) fn sign(ctx: &mut Ctx, hash: &alloy::primitives::B256) -> anyhow::Result<Vec<u8>> {
    use alloy::signers::SignerSync;
    let signature = ctx
        .wallet()?
        .signer()
        .sign_hash_sync(hash)
        .context("signing the order")?;
    Ok(signature.as_bytes().to_vec())
}

/// A credit order of the wallet with the nonce and deadline of `terms` ([`order_terms`]),
/// signed.
async fn signed_credit_order(
    ctx: &mut Ctx,
    (view, deadline): &(AccountView, u64),
    action: CreditAction,
    (target, cents, to): (U256, u64, Address),
) -> anyhow::Result<(CreditOrder, Vec<u8>)> {
    let deployment = ctx.deployment().await?;
    let account = ctx.address()?;
    let deadline = *deadline;
    let order = CreditOrder::new(
        account,
        action,
        (target, cents, to),
        view.order_nonce,
        deadline,
    );
    let digest = order.digest(&domain(deployment.chain_id, deployment.contracts.market));
    let signature = sign(ctx, &digest)?;
    Ok((order, signature))
}

/// What to buy with the credit.
pub(super) enum Purchase {
    /// A primary edition.
    Edition(u64, Quality),
    /// A resale offer.
    Offer(U256),
}

/// Buys with the wallet's credit at `price_cents`; returns the licence and the transaction.
pub(super) async fn buy(
    ctx: &mut Ctx,
    what: Purchase,
    price_cents: u64,
    direct: bool,
) -> anyhow::Result<(U256, String)> {
    let account = ctx.address()?;
    let (action, target) = match what {
        Purchase::Edition(film, q) => (CreditAction::BuyPrimary, edition_target(film, q.code())),
        Purchase::Offer(id) => (CreditAction::BuyOffer, id),
    };
    let terms = order_terms(ctx, account).await?;
    let (order, signature) =
        signed_credit_order(ctx, &terms, action, (target, price_cents, account)).await?;
    if direct {
        let (licence, tx) = ctx
            .market()
            .await?
            .relay_credit_order(&order, Bytes::from(signature))
            .await?;
        return Ok((licence, tx.to_string()));
    }
    let (edition_id, offer_id) = match what {
        Purchase::Edition(film, q) => (Some(format!("{film}-{}", q.as_str())), None),
        Purchase::Offer(id) => (None, Some(id.to_string())),
    };
    let body = CreditPurchaseRequest {
        edition_id,
        offer_id,
        price_cents,
        recipient_address: None,
        deadline: order.deadline.to::<u64>(),
        signature: alloy::hex::encode_prefixed(&signature),
    };
    let relayed: CreditOrderRelayed = ctx
        .api()?
        .post(&format!("/v1/accounts/{account}/purchases"), &body)
        .await
        .context("buying with the credit")?;
    let licence = relayed
        .licence_id
        .as_deref()
        .context("the API answered no licence id")?
        .parse()
        .context("licence id")?;
    Ok((licence, relayed.tx_hash))
}

/// `withdraw`: pays `amount` (default: all the available credit) to `to` (default: the
/// wallet).
pub(super) async fn withdraw(
    ctx: &mut Ctx,
    amount: Option<Cents>,
    to: Option<Address>,
    direct: bool,
) -> anyhow::Result<()> {
    let account = ctx.address()?;
    let to = to.unwrap_or(account);
    if to == Address::ZERO {
        bail!("--to: not the zero address");
    }
    let terms = order_terms(ctx, account).await?;
    let view = &terms.0;
    let per_cent: U256 = view.units_per_cent.parse().context("units per cent")?;
    let credit: U256 = view.credit_units.parse().context("credit")?;
    let available = u64::try_from(credit / per_cent.max(U256::from(1))).unwrap_or(u64::MAX);
    let cents = match amount {
        Some(a) => a.get(),
        None => available,
    };
    if cents == 0 {
        bail!(
            "nothing to withdraw: {} € available, {} € pending (see `tangible balance`)",
            output::euros(i64::try_from(available).unwrap_or(i64::MAX)),
            output::euros(view.pending_cents)
        );
    }
    if cents > available {
        bail!(
            "only {} € is available to withdraw ({} € more is pending until its clearance time; see \
             `tangible balance`)",
            output::euros(i64::try_from(available).unwrap_or(i64::MAX)),
            output::euros(view.pending_cents)
        );
    }
    ctx.say(format!(
        "Withdrawing {} € to {to}…",
        output::euros(i64::try_from(cents).unwrap_or(i64::MAX))
    ));
    let tx = if direct {
        ctx.market()
            .await?
            .withdraw(to, U256::from(cents) * per_cent)
            .await?
            .to_string()
    } else {
        let (order, signature) =
            signed_credit_order(ctx, &terms, CreditAction::Withdraw, (U256::ZERO, cents, to))
                .await?;
        let body = CreditWithdrawalRequest {
            to_address: to.to_string(),
            amount_cents: cents,
            deadline: order.deadline.to::<u64>(),
            signature: alloy::hex::encode_prefixed(&signature),
        };
        let relayed: CreditOrderRelayed = ctx
            .api()?
            .post(&format!("/v1/accounts/{account}/withdrawals"), &body)
            .await
            .context("withdrawing the credit")?;
        relayed.tx_hash
    };
    let euros = output::euros(i64::try_from(cents).unwrap_or(i64::MAX));
    if ctx.json {
        output::json(&json!({
            "account": account.to_string().to_lowercase(),
            "to": to.to_string().to_lowercase(),
            "amount_cents": cents,
            "tx_hash": tx,
        }));
    } else {
        println!("{euros} € paid to {to} (transaction {tx})");
    }
    Ok(())
}

/// `studio withdraw`: the studio's cleared earnings, paid to its royalty recipient.
pub(super) async fn studio_withdraw(ctx: &mut Ctx, studio: u32) -> anyhow::Result<()> {
    let api = ctx.authed_api().await?;
    let done: StudioWithdrawal = api
        .post(&format!("/v1/studios/{studio}/withdrawals"), &json!({}))
        .await
        .with_context(|| format!("withdrawing the earnings of studio {studio}"))?;
    if ctx.json {
        output::json(&done);
    } else {
        let view: AccountView = api
            .get(&format!("/v1/accounts/{}", done.to_address), &[])
            .await?;
        let per_cent: U256 = view.units_per_cent.parse()?;
        let units: U256 = done.amount_units.parse()?;
        let cents = i64::try_from(units / per_cent.max(U256::from(1))).unwrap_or(i64::MAX);
        println!(
            "{} € of studio {studio}'s earnings paid to {} (transaction {})",
            output::euros(cents),
            done.to_address,
            done.tx_hash
        );
    }
    Ok(())
}
