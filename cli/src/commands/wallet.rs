//! `wallet new | import | show` and `login`.

use alloy::primitives::utils::format_ether;
use anyhow::{Context, bail};
use tangible_crypto::wallet::Wallet;
use zeroize::Zeroizing;

use super::Ctx;
use crate::cli::WalletCommand;
use crate::output;

pub(super) async fn run(ctx: &mut Ctx, cmd: WalletCommand) -> anyhow::Result<()> {
    match cmd {
        WalletCommand::New { words, force } => {
            if crate::wallet::exists(&ctx.home) && !force {
                bail!(
                    "a wallet already exists ({}): pass --force to replace it",
                    ctx.address().map(|a| a.to_string()).unwrap_or_default()
                );
            }
            let (wallet, phrase) = Wallet::generate_mnemonic(words)?;
            let password = crate::wallet::new_password()?;
            crate::wallet::store(&ctx.home, &wallet, &password, force)?;
            if ctx.json {
                output::json(&serde_json::json!({
                    "address": wallet.address(),
                    "mnemonic": phrase.as_str(),
                    "keystore": ctx.home.keystore(),
                }));
            } else {
                println!("Wallet created: {}", wallet.address());
                println!("Keystore: {}", ctx.home.keystore().display());
                println!();
                println!("Recovery phrase (write it down, it is shown once):");
                println!("  {}", phrase.as_str());
            }
            Ok(())
        }
        WalletCommand::Import { private_key, force } => {
            if crate::wallet::exists(&ctx.home) && !force {
                bail!(
                    "a wallet already exists ({}): pass --force to replace it",
                    ctx.address().map(|a| a.to_string()).unwrap_or_default()
                );
            }
            let wallet = if private_key {
                let secret = crate::wallet::read_secret("Private key (hex): ")?;
                let hex_str = Zeroizing::new(secret.trim().trim_start_matches("0x").to_owned());
                let mut bytes = Zeroizing::new([0u8; 32]);
                hex::decode_to_slice(hex_str.as_str(), &mut bytes[..])
                    .context("the private key must be 32 bytes of hex")?;
                Wallet::from_secret_bytes(&bytes)?
            } else {
                let phrase = crate::wallet::read_secret("Recovery phrase (12 or 24 words): ")?;
                Wallet::from_mnemonic(&phrase)?
            };
            let password = crate::wallet::new_password()?;
            crate::wallet::store(&ctx.home, &wallet, &password, force)?;
            if ctx.json {
                output::json(&serde_json::json!({ "address": wallet.address() }));
            } else {
                println!("Wallet imported: {}", wallet.address());
            }
            Ok(())
        }
        WalletCommand::Show { balances } => {
            let address = ctx.address()?;
            let mut out = serde_json::json!({
                "address": address,
                "keystore": ctx.home.keystore(),
            });
            if balances {
                let market = ctx.market_readonly().await?;
                let (eth, cents) = market.balances(address).await?;
                let cents = i64::try_from(cents).unwrap_or(i64::MAX);
                out["eth"] = format_ether(eth).into();
                out["stablecoin_cents"] = cents.into();
                ctx.say(format!("ETH: {}", format_ether(eth)));
                ctx.say(format!("Stablecoin: {} €", output::euros(cents)));
            }
            if ctx.json {
                output::json(&out);
            } else {
                println!("Address: {address}");
                println!("Keystore: {}", ctx.home.keystore().display());
            }
            Ok(())
        }
    }
}

pub(super) async fn login(ctx: &mut Ctx) -> anyhow::Result<()> {
    let api = ctx.api()?;
    let session = crate::api::login(&api, ctx.wallet()?).await?;
    session.save(&ctx.home)?;
    if ctx.json {
        output::json(&serde_json::json!({
            "address": session.address,
            "expires_at": session.expires_at,
        }));
    } else {
        println!(
            "Signed in to {} as {} until {}",
            api.base(),
            session.address,
            session.expires_at
        );
    }
    Ok(())
}
