//! The studio approval gate (issue 12 item 4, contracts audit M-3): a wallet that is not a
//! platform admin applies, a platform admin approves (the studio is registered on chain) or
//! rejects; nothing is sent on chain before an approval.

use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::auth::sign_in;
use crate::helpers::{TestApp, spawn_app};
use crate::studios::post;

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let r = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn assert_error(s: u16, body: &Value, status: u16, code: &str) {
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
}

#[tokio::test]
async fn a_studio_application_waits_for_a_platform_admin_who_approves_or_rejects_it() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let operator = app.chain.keys[0].address();
    let sent = || async {
        app.chain
            .provider
            .get_transaction_count(operator)
            .await
            .unwrap()
    };
    let (ann, bob) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let (ann_token, bob_token) = (sign_in(&app, &ann).await, sign_in(&app, &bob).await);
    let platform = sign_in(&app, &app.chain.keys[0].clone()).await;
    let studios_before = market.studioCount().call().await.unwrap();
    let txs_before = sent().await;

    // Ann applies: 202, pending, nothing on chain.
    let body = json!({"name": "Films d'Ann", "royalty_address": ann.address().to_string()});
    let (s, applied) = post(&app, "/v1/studios", Some(&ann_token), &body).await;
    assert_eq!(s, 202, "{applied}");
    assert_eq!(applied["state"], "pending");
    assert_eq!(applied["name"], "Films d'Ann");
    assert_eq!(applied["admin_address"], ann.address().to_checksum(None));
    assert!(applied["studio_id"].is_null());
    let id = applied["application_id"].as_i64().unwrap();
    assert_eq!(market.studioCount().call().await.unwrap(), studios_before);
    assert_eq!(
        sent().await,
        txs_before,
        "an application sends no transaction"
    );
    // One open application per wallet.
    let (s, again) = post(&app, "/v1/studios", Some(&ann_token), &body).await;
    assert_error(s, &again, 409, "application_pending");

    // Each wallet sees its own; the platform admin sees everyone's, filtered by state.
    let (s, mine) = get(&app, "/v1/studios/applications", &ann_token).await;
    assert_eq!(s, 200, "{mine}");
    assert_eq!(mine["applications"].as_array().unwrap().len(), 1);
    assert_eq!(mine["applications"][0]["application_id"], id);
    let (_, theirs) = get(&app, "/v1/studios/applications", &bob_token).await;
    assert_eq!(theirs["applications"], json!([]));
    let (_, pending) = get(&app, "/v1/studios/applications?state=pending", &platform).await;
    assert!(
        pending["applications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["application_id"] == id),
        "{pending}"
    );
    let (s, bad) = get(&app, "/v1/studios/applications?state=maybe", &platform).await;
    assert_error(s, &bad, 400, "invalid_query");

    // Only a platform admin decides, with a reason, on an application that exists.
    let approve = |n: i64| format!("/v1/admin/studio-applications/{n}/approve");
    let reason = json!({"reason": "rights verified"});
    let (s, refused) = post(&app, &approve(id), Some(&ann_token), &reason).await;
    assert_error(s, &refused, 403, "not_platform_admin");
    let (s, short) = post(
        &app,
        &approve(id),
        Some(&platform),
        &json!({"reason": "ok"}),
    )
    .await;
    assert_error(s, &short, 422, "invalid_field");
    let (s, unknown) = post(&app, &approve(id + 1000), Some(&platform), &reason).await;
    assert_error(s, &unknown, 404, "not_found");
    assert_eq!(sent().await, txs_before);

    // Approved: the studio is on chain, Ann its admin, with the default commission and quota.
    let (s, approved) = post(&app, &approve(id), Some(&platform), &reason).await;
    assert_eq!(s, 200, "{approved}");
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["reason"], "rights verified");
    assert_eq!(
        approved["decided_by"],
        app.chain.keys[0].address().to_checksum(None)
    );
    let studio_id = approved["studio_id"].as_u64().unwrap() as u32;
    let st = market.studio(studio_id).call().await.unwrap();
    assert_eq!(
        (st.admin, st.royaltyRecipient, st.name.as_str()),
        (ann.address(), ann.address(), "Films d'Ann")
    );
    assert_eq!(
        market.studioFilmsLeft(studio_id).call().await.unwrap(),
        1000
    );
    assert_eq!(sent().await, txs_before + 1, "one registration");
    let (s, twice) = post(&app, &approve(id), Some(&platform), &reason).await;
    assert_error(s, &twice, 409, "not_pending");
    let (s, late) = post(
        &app,
        &format!("/v1/admin/studio-applications/{id}/reject"),
        Some(&platform),
        &reason,
    )
    .await;
    assert_error(s, &late, 409, "not_pending");
    // Ann now registers films in her studio.
    let (s, film) = post(
        &app,
        &format!("/v1/studios/{studio_id}/films"),
        Some(&ann_token),
        &json!({"title": "Premier film", "year": 2026}),
    )
    .await;
    assert_eq!(s, 201, "{film}");

    // Bob applies and is rejected: he sees why, and may apply again a day later.
    let body = json!({"name": "Spam Pictures", "royalty_address": bob.address().to_string()});
    let (_, applied) = post(&app, "/v1/studios", Some(&bob_token), &body).await;
    let bob_id = applied["application_id"].as_i64().unwrap();
    let (s, rejected) = post(
        &app,
        &format!("/v1/admin/studio-applications/{bob_id}/reject"),
        Some(&platform),
        &json!({"reason": "no rights to these films"}),
    )
    .await;
    assert_eq!(s, 200, "{rejected}");
    assert_eq!(rejected["state"], "rejected");
    let (_, mine) = get(&app, "/v1/studios/applications", &bob_token).await;
    assert_eq!(mine["applications"][0]["state"], "rejected");
    assert_eq!(
        mine["applications"][0]["reason"],
        "no rights to these films"
    );
    let (s, soon) = post(&app, "/v1/studios", Some(&bob_token), &body).await;
    assert_error(s, &soon, 409, "recently_rejected");
    sqlx::query("UPDATE api_studio_applications SET decided_at = now() - interval '25 hours' WHERE application_id = $1")
        .bind(bob_id)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (s, later) = post(&app, "/v1/studios", Some(&bob_token), &body).await;
    assert_eq!(s, 202, "{later}");
    // A name that hides or reorders text is refused (a platform admin reads it).
    let carol = sign_in(&app, &PrivateKeySigner::random()).await;
    let (s, hidden) = post(
        &app,
        "/v1/studios",
        Some(&carol),
        &json!({"name": "Films\u{202E}gnp.exe", "royalty_address": bob.address().to_string()}),
    )
    .await;
    assert_error(s, &hidden, 422, "invalid_field");

    // Both decisions are audited with their author and reason.
    let actions: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, reason FROM api_operator_actions WHERE action IN ('approve_studio', 'reject_studio') ORDER BY action_id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        actions,
        vec![
            (
                "approve_studio".to_owned(),
                format!("application {id} (studio {studio_id}): rights verified")
            ),
            (
                "reject_studio".to_owned(),
                format!("application {bob_id}: no rights to these films")
            ),
        ]
    );
}

#[tokio::test]
async fn an_approval_interrupted_by_a_crash_is_not_registered_twice() {
    let app = spawn_app().await;
    let market = app.chain.market();
    let carol = PrivateKeySigner::random();
    let token = sign_in(&app, &carol).await;
    let platform = sign_in(&app, &app.chain.keys[0].clone()).await;
    let body = json!({"name": "Carol Studio", "royalty_address": carol.address().to_string()});
    let (_, applied) = post(&app, "/v1/studios", Some(&token), &body).await;
    let id = applied["application_id"].as_i64().unwrap();
    let path = format!("/v1/admin/studio-applications/{id}/approve");
    let reason = json!({"reason": "rights verified"});

    // A process claimed the approval and died before recording its outcome (here: before
    // sending anything). Moments later, the registration may still be in flight: refused.
    let claim = |minutes_ago: i64| {
        sqlx::query(
            "UPDATE api_studio_applications SET state = 'registering', decided_at = now() - make_interval(mins => $2::int) WHERE application_id = $1",
        )
        .bind(id)
        .bind(minutes_ago as i32)
        .execute(app.db.pool())
    };
    claim(1).await.unwrap();
    let studios = market.studioCount().call().await.unwrap();
    let (s, busy) = post(&app, &path, Some(&platform), &reason).await;
    assert_error(s, &busy, 409, "not_pending");
    assert_eq!(market.studioCount().call().await.unwrap(), studios);
    // Ten minutes on, absent from the chain mirror: registered once.
    claim(11).await.unwrap();
    let (s, approved) = post(&app, &path, Some(&platform), &reason).await;
    assert_eq!(s, 200, "{approved}");
    assert_eq!(market.studioCount().call().await.unwrap(), studios + 1);
    let st = market
        .studio(approved["studio_id"].as_u64().unwrap() as u32)
        .call()
        .await
        .unwrap();
    assert_eq!(st.admin, carol.address());

    // Dan's approval was claimed, its registration mined, and the process died before
    // recording it: approving again finds the studio on chain and records it, sending nothing.
    let dan = PrivateKeySigner::random();
    let token = sign_in(&app, &dan).await;
    let body = json!({"name": "Dan Films", "royalty_address": dan.address().to_string()});
    let (_, applied) = post(&app, "/v1/studios", Some(&token), &body).await;
    let id = applied["application_id"].as_i64().unwrap();
    let head = app.chain.provider.get_block_number().await.unwrap();
    sqlx::query(
        "UPDATE api_studio_applications SET state = 'registering', decided_at = now(), claimed_block = $2 WHERE application_id = $1",
    )
    .bind(id)
    .bind(head as i64)
    .execute(app.db.pool())
    .await
    .unwrap();
    // The crashed process's transaction (sent here through the API's operator, whose nonces
    // the API allocates).
    let (s, direct) = post(
        &app,
        "/v1/studios",
        Some(&platform),
        &json!({"name": "Dan Films", "royalty_address": dan.address().to_string(),
                "admin_address": dan.address().to_string()}),
    )
    .await;
    assert_eq!(s, 201, "{direct}");
    let registered = market.studioCount().call().await.unwrap();
    let (s, recovered) = post(
        &app,
        &format!("/v1/admin/studio-applications/{id}/approve"),
        Some(&platform),
        &reason,
    )
    .await;
    assert_eq!(s, 200, "{recovered}");
    assert_eq!(recovered["state"], "approved");
    assert_eq!(recovered["studio_id"].as_u64(), Some(u64::from(registered)));
    assert_eq!(
        market.studioCount().call().await.unwrap(),
        registered,
        "nothing sent again"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_operator_actions WHERE action = 'approve_studio' AND reason LIKE $1",
    )
    .bind(format!("application {id} %"))
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);
}
