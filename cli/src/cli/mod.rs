//! Command line definitions (clap derive): the commands and the arguments they share here,
//! the operator console's in [`admin`], the studio's in [`studio`].

mod admin;
mod studio;

pub use admin::AdminCommand;
pub use studio::StudioCommand;

use std::path::PathBuf;

use alloy::primitives::Address;
use clap::{Args, Parser, Subcommand};

/// Tangible: films you own. Buy, download, play offline, resell.
#[derive(Debug, Parser)]
#[command(name = "tangible", version, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Home directory (wallet, session, library).
    #[arg(long, global = true, env = "TANGIBLE_HOME")]
    pub home: Option<PathBuf>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only one field of the JSON output, raw (a dotted path: `licence_id`,
    /// `0.offer_id`), e.g. `L=$(tangible --get licence_id buy 1 -q 4k --crypto)`; fails when
    /// the output has no such field.
    #[arg(long, global = true, value_name = "PATH")]
    pub get: Option<String>,
    /// More logging on stderr (-v, -vv); `TANGIBLE_LOG` takes a tracing filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Tangible API base URL.
    #[arg(long, global = true, env = "TANGIBLE_API_URL")]
    pub api_url: Option<String>,
    /// Chain JSON-RPC URL.
    #[arg(long, global = true, env = "TANGIBLE_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Stripe API base URL (localstripe locally).
    #[arg(long, global = true, env = "TANGIBLE_STRIPE_URL")]
    pub stripe_url: Option<String>,
    /// Stripe test secret key for `--test-card` (sk_test_…; a live key is refused).
    #[arg(
        long,
        global = true,
        env = "TANGIBLE_STRIPE_KEY",
        hide_env_values = true
    )]
    pub stripe_key: Option<String>,
    /// Deployment file naming the contracts (deployments/<chain-id>.json). Default: the
    /// deployment the API publishes at /v1/config.
    #[arg(long, global = true, env = "TANGIBLE_DEPLOYMENT")]
    pub deployment: Option<PathBuf>,
    /// The platform's certificate signer. Default: the one the API publishes at /v1/config,
    /// pinned in <home>/trust.json on first use.
    #[arg(long, global = true, env = "TANGIBLE_ATTESTATION_ADDRESS")]
    pub attestation_address: Option<Address>,
    /// Accept a certificate signer announced by the API that differs from the pinned one
    /// (after the platform announced a key rotation); without it such a change is refused.
    #[arg(long, global = true)]
    pub accept_signer_change: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the effective configuration; `--save` stores the endpoint flags given.
    Config {
        /// Store the endpoint options of this command line in <home>/config.toml.
        #[arg(long)]
        save: bool,
    },
    /// Create, import or show the wallet.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Sign in to the API with the wallet (EIP-4361); the token is kept in the home.
    Login,
    /// Browse and search the catalogue.
    Films {
        /// One film's details.
        id: Option<u64>,
        /// Title contains.
        #[arg(short, long)]
        search: Option<String>,
        /// Only this studio.
        #[arg(long)]
        studio: Option<i64>,
        /// Only this year.
        #[arg(long)]
        year: Option<i32>,
        /// Only films with an edition of this quality on sale (sd, hd, 4k).
        #[arg(long)]
        quality: Option<tangible_domain::Quality>,
        /// Only films with an edition on sale at this price in euros or less (with
        /// --quality: that edition).
        #[arg(long, value_name = "EUROS")]
        max_price: Option<tangible_domain::Cents>,
        /// At most this many films.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Buy an edition of a film, by card or in stablecoin.
    Buy(BuyArgs),
    /// Owned licences: from the API, local files and certificate validity.
    Library,
    /// Download a licence's encrypted film (P2P, HTTP fallback, resumable), its key and
    /// certificate.
    Download {
        /// The licence id.
        licence: String,
        /// Skip P2P and use HTTP range requests only.
        #[arg(long)]
        http_only: bool,
        /// Seeding while it runs.
        #[command(flatten)]
        seed: SeedArgs,
    },
    /// Verify a licence offline: certificate signature, owner, validity, file integrity
    /// (BLAKE3 of the encrypted file as published; with --decrypt, every segment's
    /// authentication tag and the SHA-256 master hash registered on chain).
    Verify {
        /// The licence id.
        licence: String,
        /// Also decrypt (to nowhere) to check every segment and the master hash; needs the
        /// wallet password.
        #[arg(long)]
        decrypt: bool,
    },
    /// Play a licence's film: serve it decrypted on a loopback-only address
    /// (http://127.0.0.1:<port>/<random token>/film.mp4, seekable) and open a video player on
    /// it; the plaintext never touches the disk. Ownership and revocation are checked with the
    /// API when it can be reached, else (offline) the cached certificate decides. The server
    /// stops when the player exits (without a player: on Ctrl-C).
    Play {
        /// The licence id.
        licence: String,
        /// The player to open, a command and its arguments separated by spaces; the URL is
        /// added as the last argument. Default: `TANGIBLE_PLAYER` if set, else the first of
        /// mpv, vlc and ffplay on PATH.
        // Not `env = …`: clap would count a set TANGIBLE_PLAYER as `--player` and refuse
        // `--no-player` beside it.
        #[arg(long, value_name = "CMD")]
        player: Option<String>,
        /// Open no player (whatever `TANGIBLE_PLAYER` says): print the URL and serve until Ctrl-C.
        #[arg(long, conflicts_with = "player")]
        no_player: bool,
        /// Seeding while it runs.
        #[command(flatten)]
        seed: SeedArgs,
    },
    /// Write a licence's film, decrypted, to a file (or `-` for stdout). The plaintext on disk
    /// can be watched by anyone who gets the file, without the licence: prefer `play`.
    Export {
        /// The licence id.
        licence: String,
        /// Output file, or `-` for stdout.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// List a licence for resale on the market. By default the wallet signs the order and the
    /// API's operator submits it (no ETH needed); `--direct` sends the transaction from the
    /// wallet.
    Resell {
        /// The licence id.
        licence: String,
        /// Price in euros (e.g. 8.00).
        #[arg(long)]
        price: tangible_domain::Cents,
        /// Send the transaction from the wallet (pays the gas) instead of a signed order.
        #[arg(long)]
        direct: bool,
    },
    /// Change the price of one of my resale offers (a signed order the API submits, or
    /// `--direct`).
    Reprice {
        /// The offer id.
        offer: String,
        /// New price in euros.
        #[arg(long)]
        price: tangible_domain::Cents,
        /// Send the transaction from the wallet instead of a signed order.
        #[arg(long)]
        direct: bool,
    },
    /// My money on the market: what I can withdraw now, what is pending until its clearance
    /// time (shares of card sales, which a card dispute can still take back) and my latest
    /// money moves.
    Balance {
        /// Another account than mine.
        #[arg(long)]
        account: Option<alloy::primitives::Address>,
    },
    /// Pay my credit on the market (what `balance` shows as available) to my wallet or any
    /// address, in stablecoin. By default the wallet signs the order and the API's operator
    /// submits it (no ETH needed); `--direct` sends the transaction from the wallet.
    Withdraw {
        /// Euros to withdraw (default: all the available credit).
        #[arg(long)]
        amount: Option<tangible_domain::Cents>,
        /// Where to pay (default: my wallet).
        #[arg(long)]
        to: Option<alloy::primitives::Address>,
        /// Send the transaction from the wallet instead of a signed order.
        #[arg(long)]
        direct: bool,
    },
    /// Resale offers on the market.
    Offers {
        /// Only offers for this film.
        #[arg(long)]
        film: Option<i64>,
        /// `active`, `filled` or `cancelled` (default: active).
        #[arg(long, default_value = "active")]
        status: String,
        /// Only my offers.
        #[arg(long)]
        mine: bool,
    },
    /// Cancel one of my resale offers (a signed order the API submits, or `--direct`).
    CancelOffer {
        /// The offer id.
        offer: String,
        /// Send the transaction from the wallet instead of a signed order.
        #[arg(long)]
        direct: bool,
    },
    /// Buy a resale offer, by card or in stablecoin.
    BuyOffer {
        /// The offer id.
        offer: String,
        /// How to pay.
        #[command(flatten)]
        pay: PayArgs,
    },
    /// Refresh certificates; erase local copies of licences revoked or no longer owned.
    Sync {
        /// Seeding while it runs.
        #[command(flatten)]
        seed: SeedArgs,
    },
    /// Serve the library's encrypted films to other owners over P2P and announce them to the
    /// API (downloads try owners' clients before the API's node), until Ctrl-C. Films erased by
    /// `sync` stop being served within seconds; films downloaded meanwhile start.
    Seed {
        /// Stop after this many seconds.
        #[arg(long = "for", value_name = "SECONDS")]
        for_secs: Option<u64>,
        /// Upload cap in MB/s, all peers together (0.1 or more, e.g. 2.5); default: none.
        #[arg(long, env = "TANGIBLE_MAX_UPLOAD", value_name = "MB/S", value_parser = parse_rate)]
        max_upload: Option<f64>,
    },
    /// Studio tools: register a studio and films, upload masters, royalty statements.
    #[command(subcommand)]
    Studio(StudioCommand),
    /// Operator console (platform admin's wallet): money reconciliation, dead jobs, refunds by
    /// hand, failed refunds, the float, alerts.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// Wallet commands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a new wallet from a fresh BIP39 mnemonic (write the words down).
    New {
        /// Mnemonic length: 12 or 24 words.
        #[arg(long, default_value_t = 12)]
        words: usize,
        /// Replace an existing wallet.
        #[arg(long)]
        force: bool,
    },
    /// Import a BIP39 mnemonic (m/44'/60'/0'/0/0) or a raw private key, read from the
    /// terminal without echo, or from stdin when it is not a terminal.
    Import {
        /// The secret is a 32-byte hex private key instead of a mnemonic.
        #[arg(long)]
        private_key: bool,
        /// Replace an existing wallet.
        #[arg(long)]
        force: bool,
    },
    /// Show the wallet's address (and balances with --balances).
    Show {
        /// Also read ETH and stablecoin balances from the chain.
        #[arg(long)]
        balances: bool,
    },
}

/// How to pay.
#[derive(Debug, Args)]
pub struct PayArgs {
    /// Pay by card on the storefront's payment page: prints its address (and opens it in a
    /// browser when there is one), then waits until the licence is minted.
    #[arg(
        long,
        conflicts_with_all = ["test_card", "crypto", "credit"],
        required_unless_present_any = ["test_card", "crypto", "credit"]
    )]
    pub card: bool,
    /// Pay with a Stripe test card from this client (development only: needs the Stripe
    /// *test* secret key, TANGIBLE_STRIPE_KEY=sk_test_…; a live key is refused).
    #[arg(long, conflicts_with_all = ["crypto", "credit"])]
    pub test_card: bool,
    /// Pay in stablecoin from the wallet (approve + market call).
    #[arg(long, conflicts_with = "credit")]
    pub crypto: bool,
    /// Pay with my credit on the market (proceeds of my resales): the wallet signs the order
    /// and the API's operator submits it (no ETH needed), or `--direct`.
    #[arg(long)]
    pub credit: bool,
    /// With --credit: send the signed order from the wallet (pays the gas).
    #[arg(long, requires = "credit")]
    pub direct: bool,
    /// Test card number for --test-card.
    #[arg(long, default_value = "4242424242424242", conflicts_with_all = ["card", "crypto"])]
    pub card_number: String,
    /// With --card: print the payment page's address without opening a browser.
    #[arg(long, conflicts_with_all = ["test_card", "crypto"])]
    pub no_open: bool,
    /// Seconds to wait for the purchase to be fulfilled (default: 900 with --card, which
    /// waits for you to pay in the browser; 180 otherwise).
    #[arg(long)]
    pub timeout: Option<u64>,
}

/// `buy` arguments.
#[derive(Debug, Args)]
pub struct BuyArgs {
    /// Film id, or a title (must match one film).
    pub film: String,
    /// `sd`, `hd` or `4k`.
    #[arg(long, short)]
    pub quality: tangible_domain::Quality,
    /// How to pay.
    #[command(flatten)]
    pub pay: PayArgs,
}

/// Seeding beside `download`, `play` and `sync`: the library's films are served to other owners
/// over P2P while the command runs (see `tangible seed`).
#[derive(Debug, Clone, Default, Args)]
pub struct SeedArgs {
    /// Do not serve the library to other owners while this command runs.
    #[arg(long)]
    pub no_seed: bool,
    /// Upload cap in MB/s when seeding, all peers together (0.1 or more, e.g. 2.5); default:
    /// none.
    #[arg(long, env = "TANGIBLE_MAX_UPLOAD", value_name = "MB/S", value_parser = parse_rate)]
    pub max_upload: Option<f64>,
}

impl SeedArgs {
    /// The upload cap in bytes per second.
    pub fn max_upload_bytes(&self) -> Option<u64> {
        // Validated finite and at least 0.1 MB/s by `parse_rate`.
        self.max_upload.map(|mb| (mb * 1e6) as u64)
    }
}

/// An upload rate in MB/s: a positive decimal number.
fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of MB/s (e.g. 2.5)"))?;
    // Below 0.1 MB/s a piece would take downloaders longer than they wait for one.
    if !v.is_finite() || !(0.1..=100_000.0).contains(&v) {
        return Err(format!(
            "`{s}`: the upload cap must be between 0.1 and 100000 MB/s"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::{Cli, Command};

    fn parse(args: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tangible").chain(args.split_whitespace()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn exactly_one_way_to_pay_with_its_own_options() {
        for ok in [
            "buy 1 -q hd --card",
            "buy 1 -q hd --card --no-open --timeout 5",
            "buy 1 -q hd --test-card --card-number 4000000000000341",
            "buy 1 -q hd --crypto --timeout 5",
            "buy-offer 7 --card --no-open",
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok).err());
        }
        for bad in [
            "buy 1 -q hd",
            "buy 1 -q hd --card --crypto",
            "buy 1 -q hd --card --test-card",
            "buy 1 -q hd --test-card --crypto",
            "buy 1 -q hd --card --card-number 4242424242424242",
            "buy 1 -q hd --test-card --no-open",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
        let Command::Buy(args) = parse("buy 1 -q hd --card --no-open").unwrap().command else {
            panic!("a buy command");
        };
        assert!(args.pay.card && args.pay.no_open && !args.pay.test_card && !args.pay.crypto);
    }

    #[test]
    fn play_serves_and_only_export_writes_a_file() {
        for ok in [
            "play 7",
            "play 7 --no-player",
            "play 7 --player mpv",
            "export 7 -o film.mp4",
            "export 7 --output -",
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok).err());
        }
        for bad in [
            "play 7 -o film.mp4",
            "play 7 --output -",
            "play 7 --player mpv --no-player",
            "export 7",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
