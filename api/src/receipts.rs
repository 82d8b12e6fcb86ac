//! Purchase receipts by email.
//!
//! A buyer may give an address with a purchase ([`BuyerEmail`], validated at the boundary). It
//! is stored with the purchase (`api_purchases.receipt_email`), handed to Stripe as the
//! PaymentIntent's `receipt_email`, never written on chain, and erased on request
//! (`DELETE /v1/purchases/{id}/email`). When the purchase is fulfilled, the worker's `receipt`
//! job (`jobs::receipt`) renders a [`Receipt`] (film, amount, licence id, transaction) and sends
//! it through the [`Mailer`] (SMTP, `smtp_url` and `smtp_from`); without `smtp_url` receipts are
//! disabled. Logs only ever show an address masked ([`BuyerEmail::masked`]).

use std::time::Duration;

use alloy::primitives::Address as EvmAddress;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tangible_service::SecretUrl;
use uuid::Uuid;

/// Longest accepted address (RFC 5321's path limit less the angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest accepted local part (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;
/// Longest one SMTP operation may take (connect, each command).
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest a whole delivery may take: well under the job lease (120 s), so no other worker can
/// claim the job while this one may still be talking to the server.
pub const SEND_DEADLINE: Duration = Duration::from_secs(60);

/// Why an address is refused. The messages never repeat the address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Longer than [`MAX_EMAIL_LEN`] (or its local part than 64 characters).
    #[error("is too long (at most {MAX_EMAIL_LEN} characters, 64 before the @)")]
    TooLong,
    /// Not ASCII (internationalised addresses need SMTPUTF8 all the way; give the domain in its
    /// `xn--` form).
    #[error("must be ASCII (give an internationalised domain in its xn-- form)")]
    NotAscii,
    /// Not `local@domain.tld`.
    #[error("is not an email address (expected local@domain.tld)")]
    Syntax,
}

/// A buyer's email address, validated: ASCII, at most 254 characters, RFC 5322 syntax (lettre's
/// parser), a domain name with a dot (no IP literal, no bare host). `Debug` shows it masked.
#[derive(Clone, PartialEq, Eq)]
pub struct BuyerEmail(Address);

impl BuyerEmail {
    /// Parses an address as given by a client (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        let s = s.trim();
        if s.len() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        if !s.is_ascii() {
            return Err(EmailError::NotAscii);
        }
        if s.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(EmailError::Syntax);
        }
        if s.rsplit_once('@')
            .is_some_and(|(local, _)| local.len() > MAX_LOCAL_LEN)
        {
            return Err(EmailError::TooLong);
        }
        let address: Address = s.parse().map_err(|_| EmailError::Syntax)?;
        let domain = address.domain();
        if domain.starts_with('[')
            || domain.parse::<std::net::IpAddr>().is_ok()
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(EmailError::Syntax);
        }
        Ok(Self(address))
    }

    /// The address, for the database, Stripe and the SMTP envelope only (never a log line).
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    /// The address for logs and attempt records: the local part's first character, then `***`,
    /// then the domain (`b***@example.com`).
    pub fn masked(&self) -> String {
        let first = self.0.user().chars().next().unwrap_or('*');
        format!("{first}***@{}", self.0.domain())
    }

    /// `text` with every occurrence of the address (in any case) replaced by its masked form:
    /// an SMTP server's reply may quote the recipient.
    pub fn scrub(&self, text: &str) -> String {
        let needle = self.as_str().to_ascii_lowercase();
        let lower = text.to_ascii_lowercase();
        let mut out = String::with_capacity(text.len());
        let mut rest = 0;
        // ASCII lowering keeps byte offsets, so positions in `lower` are positions in `text`.
        for (at, _) in lower.match_indices(&needle) {
            out.push_str(&text[rest..at]);
            out.push_str(&self.masked());
            rest = at + needle.len();
        }
        out.push_str(&text[rest..]);
        out
    }
}

impl std::fmt::Debug for BuyerEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BuyerEmail({})", self.masked())
    }
}

/// What a receipt says: the purchase, the film, what was paid, and the licence and transaction
/// that prove it on chain.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The purchase (also names the message: one receipt per purchase).
    pub purchase_id: Uuid,
    /// Where it goes.
    pub to: BuyerEmail,
    /// The film's title.
    pub film_title: String,
    /// The film's id.
    pub film_id: u64,
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// What was paid, in cents.
    pub amount_cents: u64,
    /// ISO currency (lower case).
    pub currency: String,
    /// The licence (decimal).
    pub licence_id: String,
    /// The settlement transaction, when known.
    pub tx_hash: Option<String>,
    /// The Stripe PaymentIntent that paid it.
    pub payment_intent_id: Option<String>,
    /// The wallet that owns the licence.
    pub buyer_address: String,
    /// The chain the licence lives on.
    pub chain_id: u64,
    /// The licence (ERC-721) contract.
    pub licence_contract: EvmAddress,
}

/// `1300` cents in `eur` → `13.00 EUR`.
pub fn format_amount(cents: u64, currency: &str) -> String {
    format!(
        "{}.{:02} {}",
        cents / 100,
        cents % 100,
        currency.to_ascii_uppercase()
    )
}

impl Receipt {
    /// The subject line.
    pub fn subject(&self) -> String {
        format!("Your Tangible licence for {}", self.film_title)
    }

    /// The plain-text body.
    pub fn text(&self) -> String {
        let tx = self.tx_hash.as_deref().unwrap_or("(not recorded)");
        let payment = self.payment_intent_id.as_deref().unwrap_or("-");
        format!(
            "Thank you for your purchase.\n\
             \n\
             Film:         {title} (film {film}, {quality})\n\
             Amount paid:  {amount}\n\
             Licence id:   {licence}\n\
             Transaction:  {tx}\n\
             Owner:        {owner}\n\
             Chain:        {chain} (licence contract {contract})\n\
             Purchase:     {purchase}\n\
             Card payment: {payment}\n\
             \n\
             Your licence is a certificate on chain, owned by the wallet above: the transaction\n\
             and the licence id are your proof of ownership.\n\
             \n\
             This address is kept with your purchase only to send this receipt. To have it\n\
             erased, send DELETE /v1/purchases/{purchase}/email with your payment's client secret.\n",
            title = self.film_title,
            film = self.film_id,
            quality = self.quality,
            amount = format_amount(self.amount_cents, &self.currency),
            licence = self.licence_id,
            owner = self.buyer_address,
            chain = self.chain_id,
            contract = self.licence_contract,
            purchase = self.purchase_id,
        )
    }

    /// The message from `from`, with a Message-ID derived from the purchase (the same on every
    /// attempt, so a mail client can recognise a duplicate).
    pub fn message(&self, from: &Mailbox) -> Result<Message, lettre::error::Error> {
        Message::builder()
            .from(from.clone())
            .to(Mailbox::new(None, self.to.0.clone()))
            .subject(self.subject())
            .message_id(Some(format!(
                "<receipt.{}@{}>",
                self.purchase_id,
                from.email.domain()
            )))
            .date_now()
            .header(ContentType::TEXT_PLAIN)
            .body(self.text())
    }
}

/// Why the mailer cannot be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// `smtp_url` is not an SMTP URL lettre accepts.
    #[error("smtp_url {url} is not usable: {source}")]
    Url {
        /// The URL as it prints (credentials hidden).
        url: SecretUrl,
        /// Why.
        source: lettre::transport::smtp::Error,
    },
    /// `smtp_from` is not a mailbox.
    #[error("smtp_from {0:?} is not a mailbox (`Name <address@domain>` or `address@domain`)")]
    From(String),
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message could not be built (a bug or an unusable address).
    #[error("building the message: {0}")]
    Build(#[from] lettre::error::Error),
    /// The server refused it for good (5xx): retrying would not help.
    #[error("the mail server refused the receipt: {0}")]
    Refused(String),
    /// The server is unreachable, timed out or answered 4xx: try again later.
    #[error("the mail server is unavailable: {0}")]
    Unavailable(String),
}

/// The SMTP client of the receipts, with its sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: SecretUrl,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A client of `url` (`smtp://host:25` plain, `smtp://host:587?tls=required` STARTTLS,
    /// `smtps://user:pass@host:465` TLS) sending as `from`.
    /// (Builds the connection pool, which needs a Tokio runtime; [`Mailer::check`] does not.)
    pub fn new(url: &SecretUrl, from: &str) -> Result<Self, MailerError> {
        let (builder, from) = Self::parts(url, from)?;
        let transport = builder.timeout(Some(SMTP_TIMEOUT)).build();
        Ok(Self {
            transport,
            from,
            server: url.clone(),
        })
    }

    /// Checks `url` and `from` as [`Mailer::new`] would, without connecting or needing a runtime
    /// (the configuration's validation).
    pub fn check(url: &SecretUrl, from: &str) -> Result<(), MailerError> {
        Self::parts(url, from).map(|_| ())
    }

    fn parts(
        url: &SecretUrl,
        from: &str,
    ) -> Result<(AsyncSmtpTransportBuilder, Mailbox), MailerError> {
        let mailbox: Mailbox = from
            .parse()
            .map_err(|_| MailerError::From(from.to_owned()))?;
        let builder =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose()).map_err(|source| {
                MailerError::Url {
                    url: url.clone(),
                    source,
                }
            })?;
        Ok((builder, mailbox))
    }

    /// The server, as it prints (credentials hidden).
    pub const fn server(&self) -> &SecretUrl {
        &self.server
    }

    /// The sender.
    pub const fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends `receipt`; `Ok` once the server accepted it. Error texts have the recipient masked.
    pub async fn send(&self, receipt: &Receipt) -> Result<(), SendError> {
        let message = receipt.message(&self.from)?;
        match tokio::time::timeout(SEND_DEADLINE, self.transport.send(message)).await {
            Err(_) => Err(SendError::Unavailable(format!(
                "no answer within {} s",
                SEND_DEADLINE.as_secs()
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                let text = receipt.to.scrub(&e.to_string());
                if e.is_permanent() {
                    Err(SendError::Refused(text))
                } else {
                    Err(SendError::Unavailable(text))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_for_length_syntax_and_a_real_domain() {
        let ok = BuyerEmail::parse("  Buyer.One+films@Example.com ").unwrap();
        assert_eq!(ok.as_str(), "Buyer.One+films@Example.com");
        assert_eq!(ok.masked(), "B***@Example.com");
        assert!(!format!("{ok:?}").contains("Buyer.One"));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b@example.com",
            "a b@example.com",
            "a@localhost",
            "a@[127.0.0.1]",
            "a@127.0.0.1",
            "a@example.com.",
            "a@.example.com",
            "a@exa mple.com",
            "<a@example.com>",
            "Name <a@example.com>",
            "a@example.com\r\nBcc: x@example.com",
        ] {
            assert_eq!(
                BuyerEmail::parse(bad),
                Err(EmailError::Syntax),
                "{bad:?} accepted"
            );
        }
        assert_eq!(
            BuyerEmail::parse("é@example.com"),
            Err(EmailError::NotAscii)
        );
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(BuyerEmail::parse(&long_local), Err(EmailError::TooLong));
        let long = format!("a@{}.com", "b".repeat(250));
        assert_eq!(BuyerEmail::parse(&long), Err(EmailError::TooLong));
        let longest_ok = format!("a@{}.com", "b".repeat(60));
        assert!(BuyerEmail::parse(&longest_ok).is_ok());
    }

    #[test]
    fn scrubbing_masks_the_address_in_any_case() {
        let e = BuyerEmail::parse("buyer@example.com").unwrap();
        assert_eq!(
            e.scrub("550 <BUYER@example.com>: no such user; buyer@example.com"),
            "550 <b***@example.com>: no such user; b***@example.com"
        );
        assert_eq!(e.scrub("timed out"), "timed out");
    }

    #[test]
    fn the_receipt_names_film_amount_licence_and_transaction() {
        let r = Receipt {
            purchase_id: Uuid::nil(),
            to: BuyerEmail::parse("buyer@example.com").unwrap(),
            film_title: "Le Voyage".into(),
            film_id: 7,
            quality: "4k".into(),
            amount_cents: 1305,
            currency: "eur".into(),
            licence_id: "12345678901234567890123456789012345678901234567890".into(),
            tx_hash: Some(format!("0x{}", "ab".repeat(32))),
            payment_intent_id: Some("pi_1".into()),
            buyer_address: "0x00000000000000000000000000000000000000aa".into(),
            chain_id: 31337,
            licence_contract: EvmAddress::repeat_byte(1),
        };
        let from: Mailbox = "Tangible <receipts@tangible.example>".parse().unwrap();
        let raw = String::from_utf8(r.message(&from).unwrap().formatted()).unwrap();
        assert!(raw.contains("To: buyer@example.com"), "{raw}");
        assert!(
            raw.contains(
                "Message-ID: <receipt.00000000-0000-0000-0000-000000000000@tangible.example>"
            ),
            "{raw}"
        );
        let text = r.text();
        for part in [
            "Le Voyage",
            "13.05 EUR",
            r.licence_id.as_str(),
            r.tx_hash.as_deref().unwrap(),
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
    }
}
