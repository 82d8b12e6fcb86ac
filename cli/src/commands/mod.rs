//! One module per group of commands; [`dispatch`] runs one command line.

mod admin;
mod buy;
mod catalogue;
mod content;
mod credit;
mod play;
mod seed;
mod studio;
mod trust;
mod verify;
mod wallet;

use alloy::primitives::Address;
use anyhow::Context;
use tangible_chain::Deployment;
use tangible_crypto::wallet::Wallet;

use crate::api::{Api, Session};
use crate::chain::Market;
use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{ConfigFile, PlatformConfig, Settings};
use crate::home::Home;
use crate::library::Library;

/// Everything a command needs.
pub(crate) struct Ctx {
    pub(crate) home: Home,
    pub(crate) settings: Settings,
    pub(crate) json: bool,
    /// The endpoint options given on this command line (for `config --save`).
    pub(crate) overrides: ConfigFile,
    /// Accept a new certificate signer announced by the API (`--accept-signer-change`).
    pub(crate) accept_signer_change: bool,
    /// The wallet, once unlocked in this run.
    wallet: Option<Wallet>,
    /// The API's `/v1/config`, once fetched in this run (`Some(None)`: the API has none).
    platform: Option<Option<PlatformConfig>>,
}

impl Ctx {
    fn new(global: &GlobalArgs) -> anyhow::Result<Self> {
        let home = Home::resolve(global.home.as_deref())?;
        let overrides = ConfigFile {
            api_url: global.api_url.clone(),
            rpc_url: global.rpc_url.clone(),
            stripe_url: global.stripe_url.clone(),
            stripe_key: global.stripe_key.clone(),
            deployment: global.deployment.clone(),
            attestation_address: global.attestation_address,
        };
        let file = ConfigFile::load(&home)?;
        let settings = Settings::resolve(&file.merged(&overrides));
        Ok(Self {
            home,
            settings,
            json: global.json || global.get.is_some(),
            overrides,
            accept_signer_change: global.accept_signer_change,
            wallet: None,
            platform: None,
        })
    }

    /// An anonymous API client.
    pub(crate) fn api(&self) -> anyhow::Result<Api> {
        Api::new(&self.settings.api_url)
    }

    /// The wallet's address (no password needed).
    pub(crate) fn address(&self) -> anyhow::Result<Address> {
        crate::wallet::address(&self.home)
    }

    /// The unlocked wallet (asks for the password once per run).
    pub(crate) fn wallet(&mut self) -> anyhow::Result<&Wallet> {
        if self.wallet.is_none() {
            self.wallet = Some(crate::wallet::unlock(&self.home)?);
        }
        Ok(self.wallet.as_ref().expect("set above"))
    }

    /// An API client signed in as the wallet: the stored session if still valid, else a new
    /// sign-in (which needs the wallet password).
    pub(crate) async fn authed_api(&mut self) -> anyhow::Result<Api> {
        let api = self.api()?;
        let address = self.address()?;
        if let Some(s) = Session::load_valid(&self.home, api.base(), address) {
            return Ok(api.with_token(s.token));
        }
        let session = crate::api::login(&api, self.wallet()?).await?;
        session.save(&self.home)?;
        Ok(api.with_token(session.token))
    }

    /// The API's public configuration (`GET /v1/config`), fetched once per run; `None` when
    /// the API publishes none (an older API answers 404).
    pub(crate) async fn platform(&mut self) -> anyhow::Result<Option<&PlatformConfig>> {
        if self.platform.is_none() {
            let api = self.api()?;
            let fetched = match api.get::<PlatformConfig>("/v1/config", &[]).await {
                Ok(c) => Some(c),
                Err(e) if e.status() == Some(404) => None,
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context("fetching the platform's configuration (chain, contracts)"));
                }
            };
            self.platform = Some(fetched);
        }
        Ok(self.platform.as_ref().and_then(Option::as_ref))
    }

    /// The deployment: the file given with `--deployment` if any, else the one the API
    /// publishes.
    pub(crate) async fn deployment(&mut self) -> anyhow::Result<Deployment> {
        if let Some(path) = self.settings.deployment_path() {
            return Deployment::load(path)
                .with_context(|| format!("reading the deployment file {}", path.display()));
        }
        let api_url = self.settings.api_url.clone();
        match self.platform().await? {
            Some(p) => Ok(p.deployment.clone()),
            None => anyhow::bail!(
                "the API at {api_url} does not publish its deployment (no /v1/config): pass \
                 --deployment deployments/<chain-id>.json (or set TANGIBLE_DEPLOYMENT)"
            ),
        }
    }

    /// The market, signing with the wallet.
    pub(crate) async fn market(&mut self) -> anyhow::Result<Market> {
        let deployment = self.deployment().await?;
        let rpc = self.settings.rpc_url.clone();
        let wallet = self.wallet()?.clone();
        Market::connect(&rpc, deployment, Some(&wallet)).await
    }

    /// The market, read-only.
    pub(crate) async fn market_readonly(&mut self) -> anyhow::Result<Market> {
        let deployment = self.deployment().await?;
        Market::connect(&self.settings.rpc_url, deployment, None).await
    }

    /// The local library.
    pub(crate) fn library(&self) -> Library {
        Library::open(&self.home)
    }

    /// Prints a human line (stdout), unless `--json`.
    pub(crate) fn say(&self, line: impl AsRef<str>) {
        if !self.json {
            println!("{}", line.as_ref());
        }
    }
}

/// Runs one command line.
pub(crate) async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let mut ctx = Ctx::new(&cli.global)?;
    ctx.home.ensure().context("preparing the home directory")?;
    match cli.command {
        Command::Config { save } => catalogue::config(&mut ctx, save).await,
        Command::Wallet(cmd) => wallet::run(&mut ctx, cmd).await,
        Command::Login => wallet::login(&mut ctx).await,
        Command::Films {
            id,
            search,
            studio,
            year,
            quality,
            max_price,
            limit,
        } => {
            let filters = catalogue::FilmFilters {
                search,
                studio,
                year,
                quality,
                max_price,
            };
            catalogue::films(&ctx, id, filters, limit).await
        }
        Command::Buy(args) => buy::buy(&mut ctx, args).await,
        Command::Library => catalogue::library(&ctx).await,
        Command::Download {
            licence,
            http_only,
            seed,
        } => content::download(&mut ctx, &licence, http_only, &seed).await,
        Command::Verify { licence, decrypt } => verify::verify(&mut ctx, &licence, decrypt),
        Command::Play {
            licence,
            player,
            no_player,
            seed,
        } => {
            let player = player.or_else(|| std::env::var("TANGIBLE_PLAYER").ok());
            play::play(&mut ctx, &licence, player.as_deref(), no_player, &seed).await
        }
        Command::Export { licence, output } => play::export(&mut ctx, &licence, &output).await,
        Command::Resell {
            licence,
            price,
            direct,
        } => buy::resell(&mut ctx, &licence, price, direct).await,
        Command::Reprice {
            offer,
            price,
            direct,
        } => buy::reprice(&mut ctx, &offer, price, direct).await,
        Command::Balance { account } => catalogue::balance(&ctx, account).await,
        Command::Withdraw { amount, to, direct } => {
            credit::withdraw(&mut ctx, amount, to, direct).await
        }
        Command::Offers { film, status, mine } => {
            catalogue::offers(&ctx, film, &status, mine).await
        }
        Command::CancelOffer { offer, direct } => buy::cancel_offer(&mut ctx, &offer, direct).await,
        Command::BuyOffer { offer, pay } => buy::buy_offer(&mut ctx, &offer, pay).await,
        Command::Sync { seed } => content::sync(&mut ctx, &seed).await,
        Command::Seed {
            for_secs,
            max_upload,
        } => {
            let options = crate::cli::SeedArgs {
                no_seed: false,
                max_upload,
            };
            seed::seed(&mut ctx, for_secs, &options).await
        }
        Command::Studio(cmd) => studio::run(&mut ctx, cmd).await,
        Command::Admin(cmd) => admin::run(&mut ctx, cmd).await,
    }
}
