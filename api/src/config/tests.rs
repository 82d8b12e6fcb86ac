//! The configuration's loading and validation: defaults, variables, the TOML file, refusals.

use super::*;

fn base() -> Vec<(String, String)> {
    [
        ("DATABASE_URL", "postgres://u:p@h/db"),
        ("RPC_URL", "http://127.0.0.1:8545"),
        ("DEPLOYMENT_FILE", "deployments/31337.json"),
        ("OPERATOR_KEY", "0x01"),
        ("STRIPE_SECRET_KEY", "sk_test_x"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
        ("TOKEN_SECRET", "0123456789012345678901234567890123456789"),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{ENV_PREFIX}{k}"), v.to_owned()))
    .collect()
}

#[test]
fn environment_overrides_file_and_secrets_stay_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.toml");
    std::fs::write(
        &path,
        "workers = 5\nbody_limit_bytes = 100\ncurrency = \"usd\"\n",
    )
    .unwrap();
    let mut vars = base();
    vars.push(("TANGIBLE_API_BODY_LIMIT_BYTES".into(), "2048".into()));
    vars.push(("TANGIBLE_API_RUN_WORKER".into(), "false".into()));
    vars.push(("UNRELATED".into(), "x".into()));
    let c = Config::from_sources(Some(path), vars).unwrap();
    assert_eq!(c.workers, 5);
    assert_eq!(c.body_limit_bytes, 2048);
    assert!(!c.run_worker);
    assert_eq!(c.currency, "usd");
    let debug = format!("{c:?}");
    assert!(!debug.contains("sk_test_x") && !debug.contains("whsec_x") && !debug.contains("u:p"));
}

#[test]
fn numbers_and_booleans_typed_by_serde_digits_stay_text() {
    let mut vars = base();
    vars.push((
        format!("{ENV_PREFIX}KEY_RELEASE_SYNC_COMMIT"),
        "false".into(),
    ));
    vars.push((format!("{ENV_PREFIX}SETTLE_MAX_ATTEMPTS"), "3".into()));
    vars.push((format!("{ENV_PREFIX}KEK_ID"), "7".into()));
    vars.push((
        format!("{ENV_PREFIX}TOKEN_SECRET"),
        "0123456789012345678901234567890123456789".into(),
    ));
    let c = Config::from_sources(None, vars).unwrap();
    assert!(!c.key_release_sync_commit);
    assert_eq!(c.settle_max_attempts, 3);
    assert_eq!(c.kek_id, "7");
    assert_eq!(c.database_url.expose(), "postgres://u:p@h/db");
    assert_eq!(c.database_url.to_string(), "postgres://u:***@h/db");
}

#[test]
fn rejects_missing_fields_short_secrets_and_unknown_keys() {
    assert!(Config::from_sources(None, Vec::new()).is_err());
    let mut vars = base();
    vars.push(("TANGIBLE_API_TOKEN_SECRET".into(), "short".into()));
    assert!(Config::from_sources(None, vars).is_err());
    let mut vars = base();
    vars.push(("TANGIBLE_API_NO_SUCH_FIELD".into(), "1".into()));
    assert!(Config::from_sources(None, vars).is_err());
    let mut vars = base();
    vars.push(("TANGIBLE_API_WORKERS".into(), "many".into()));
    assert!(Config::from_sources(None, vars).is_err());
}

#[test]
fn certificate_validity_in_seconds_or_days_bounded_never_both() {
    let with = |extra: &[(&str, &str)]| {
        let mut vars = base();
        for (k, v) in extra {
            vars.push((format!("{ENV_PREFIX}{k}"), (*v).to_owned()));
        }
        Config::from_sources(None, vars)
    };
    assert_eq!(
        with(&[]).unwrap().certificate_validity().as_secs(),
        DEFAULT_CERTIFICATE_VALIDITY_SECS
    );
    assert_eq!(
        with(&[("CERTIFICATE_VALIDITY_SECS", "90")])
            .unwrap()
            .certificate_validity()
            .as_secs(),
        90
    );
    assert_eq!(
        with(&[("CERTIFICATE_VALIDITY_DAYS", "2")])
            .unwrap()
            .certificate_validity()
            .as_secs(),
        2 * 86_400
    );
    for bad in [
        vec![("CERTIFICATE_VALIDITY_SECS", "59")],
        vec![("CERTIFICATE_VALIDITY_SECS", "0")],
        vec![("CERTIFICATE_VALIDITY_DAYS", "0")],
        vec![("CERTIFICATE_VALIDITY_DAYS", "367")],
        vec![("CERTIFICATE_VALIDITY_SECS", "-5")],
        vec![
            ("CERTIFICATE_VALIDITY_SECS", "3600"),
            ("CERTIFICATE_VALIDITY_DAYS", "1"),
        ],
    ] {
        // A type error names the variable (`TANGIBLE_API_CERTIFICATE_VALIDITY_SECS`).
        let err = with(&bad).unwrap_err().to_string().to_lowercase();
        assert!(
            err.contains("certificate_validity") || err.contains("certificate validity"),
            "{bad:?}: {err}"
        );
    }
    assert_eq!(
        with(&[("CERTIFICATE_VALIDITY_SECS", "60")])
            .unwrap()
            .certificate_validity()
            .as_secs(),
        MIN_CERTIFICATE_VALIDITY_SECS
    );
    assert!(with(&[("CERTIFICATE_VALIDITY_DAYS", "366")]).is_ok());
}

#[test]
fn reconciliation_defaults_and_zero_refused() {
    let c = Config::from_sources(None, base()).unwrap();
    assert_eq!(
        (
            c.reconcile_interval_secs,
            c.reconcile_after_secs,
            c.reconcile_on_read_secs,
            c.abandon_after_secs
        ),
        (60, 120, 10, 86_400)
    );
    for name in [
        "RECONCILE_INTERVAL_SECS",
        "RECONCILE_AFTER_SECS",
        "RECONCILE_ON_READ_SECS",
        "ABANDON_AFTER_SECS",
    ] {
        let mut vars = base();
        vars.push((format!("{ENV_PREFIX}{name}"), "0".into()));
        let err = Config::from_sources(None, vars).unwrap_err().to_string();
        assert!(err.contains(&name.to_lowercase()), "{err}");
    }
}

#[test]
fn throttle_settings_read_from_file_and_environment_and_zero_refused() {
    let names = [
        "THROTTLE_ANONYMOUS_PER_MINUTE",
        "THROTTLE_ANONYMOUS_BURST",
        "THROTTLE_SIGNED_IN_PER_MINUTE",
        "THROTTLE_SIGNED_IN_BURST",
        "THROTTLE_SIGNED_IN_PER_ADDRESS_PER_MINUTE",
        "THROTTLE_SIGNED_IN_PER_ADDRESS_BURST",
        "THROTTLE_POLLING_PER_MINUTE",
        "THROTTLE_POLLING_BURST",
        "THROTTLE_PAYMENT_INTENTS_PER_MINUTE",
        "THROTTLE_CARD_ATTEMPTS_PER_PURCHASE_PER_HOUR",
        "THROTTLE_OPERATOR_TX_PER_WALLET_PER_HOUR",
        "THROTTLE_OPERATOR_TX_PER_WALLET_BURST",
        "THROTTLE_OPERATOR_TX_PER_HOUR",
        "THROTTLE_STRIPE_READS_PER_SECOND",
    ];
    // The same name in the file (lower case) and the environment; the environment wins.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.toml");
    let toml: String = names
        .iter()
        .map(|n| format!("{} = 7\n", n.to_lowercase()))
        .collect();
    std::fs::write(&path, toml).unwrap();
    let mut vars = base();
    vars.push((
        format!("{ENV_PREFIX}THROTTLE_STRIPE_READS_PER_SECOND"),
        "9".into(),
    ));
    let c = Config::from_sources(Some(path), vars).unwrap();
    assert_eq!(
        (
            c.throttle_signed_in_per_address_per_minute,
            c.throttle_signed_in_per_address_burst,
            c.throttle_polling_per_minute,
            c.throttle_polling_burst,
            c.throttle_payment_intents_per_minute,
            c.throttle_card_attempts_per_purchase_per_hour,
            c.throttle_operator_tx_per_wallet_per_hour,
            c.throttle_operator_tx_per_wallet_burst,
            c.throttle_operator_tx_per_hour,
            c.throttle_stripe_reads_per_second,
        ),
        (7, 7, 7, 7, 7, 7, 7, 7, 7, 9)
    );
    for name in names {
        let mut vars = base();
        vars.push((format!("{ENV_PREFIX}{name}"), "0".into()));
        let err = Config::from_sources(None, vars).unwrap_err().to_string();
        assert!(err.contains(&name.to_lowercase()), "{err}");
    }
}

#[test]
fn publishable_key_only() {
    let mut vars = base();
    vars.push((
        format!("{ENV_PREFIX}STRIPE_PUBLISHABLE_KEY"),
        "pk_test_abc".into(),
    ));
    assert_eq!(
        Config::from_sources(None, vars)
            .unwrap()
            .stripe_publishable_key
            .as_deref(),
        Some("pk_test_abc")
    );
    for bad in ["sk_test_abc", "rk_live_abc", "whatever"] {
        let mut vars = base();
        vars.push((format!("{ENV_PREFIX}STRIPE_PUBLISHABLE_KEY"), bad.into()));
        let err = Config::from_sources(None, vars).unwrap_err().to_string();
        assert!(err.contains("publishable") && !err.contains(bad), "{err}");
    }
}

#[test]
fn trusted_proxies_are_addresses_or_cidr_blocks() {
    let c = Config::from_sources(None, base()).unwrap();
    let default = crate::throttle::parse_trusted_proxies(&c.throttle_trusted_proxies).unwrap();
    assert!(
        default
            .iter()
            .any(|n| n.contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()))
    );
    assert!(
        !default
            .iter()
            .any(|n| n.contains(&"203.0.113.1".parse::<std::net::IpAddr>().unwrap()))
    );
    let mut vars = base();
    vars.push((
        format!("{ENV_PREFIX}THROTTLE_TRUSTED_PROXIES"),
        "192.0.2.1, 2001:db8::/32".into(),
    ));
    assert!(Config::from_sources(None, vars).is_ok());
    let mut vars = base();
    vars.push((
        format!("{ENV_PREFIX}THROTTLE_TRUSTED_PROXIES"),
        "10.0.0.0/8, proxy.example".into(),
    ));
    let err = Config::from_sources(None, vars).unwrap_err().to_string();
    assert!(
        err.contains("throttle_trusted_proxies") && err.contains("proxy.example"),
        "{err}"
    );
}

#[test]
fn smtp_settings_go_together_and_the_password_stays_hidden() {
    let with = |extra: &[(&str, &str)]| {
        let mut vars = base();
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| (format!("{ENV_PREFIX}{k}"), (*v).to_owned())),
        );
        Config::from_sources(None, vars)
    };
    let off = with(&[]).unwrap();
    assert!(off.smtp_url.is_none() && off.smtp_from.is_none());
    let on = with(&[
        ("SMTP_URL", "smtps://mailer:hunter2@smtp.example.com:465"),
        ("SMTP_FROM", "Tangible <receipts@tangible.example>"),
    ])
    .unwrap();
    assert!(!format!("{on:?}").contains("hunter2"));
    for (extra, needle) in [
        (&[("SMTP_URL", "smtp://127.0.0.1:25")][..], "smtp_from"),
        (
            &[("SMTP_FROM", "receipts@tangible.example")][..],
            "smtp_url",
        ),
        (
            &[
                ("SMTP_URL", "smtp://127.0.0.1:25"),
                ("SMTP_FROM", "not a mailbox"),
            ][..],
            "smtp_from",
        ),
        (
            &[
                ("SMTP_URL", "http://mailer:hunter2@127.0.0.1:25"),
                ("SMTP_FROM", "receipts@tangible.example"),
            ][..],
            "smtp_url",
        ),
    ] {
        let err = with(extra).unwrap_err().to_string();
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
