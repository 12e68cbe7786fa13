//! The store's own guarantees, called directly.

use crate::helpers::*;
use promo_store::projects::{KeyKind, NewKey, ProjectSettings};
use serde_json::json;

fn settings(name: &str) -> ProjectSettings {
    ProjectSettings {
        name: name.into(),
        description: None,
        timezone: "UTC".into(),
        currency: "USD".into(),
        case_sensitive_codes: false,
        client_trusted_domains: vec![],
        client_redeem_enabled: false,
        rate_limits: Default::default(),
    }
}

async fn project(app: &TestApp, name: &str) -> promo_store::ProjectId {
    let id = promo_store::ProjectId(promo_store::new_id());
    let keys =
        [NewKey { app_id: id.to_string(), kind: KeyKind::Server, token_hash: promo_store::hash_token("secret") }];
    let mut tx = promo_store::begin(&app.db).await.unwrap();
    promo_store::projects::insert(&mut tx, id, &settings(name), &keys).await.unwrap();
    promo_store::commit(tx).await.unwrap();
    id
}

#[tokio::test]
async fn authentication_needs_the_right_kind_and_token() {
    let app = TestApp::new().await;
    let id = project(&app, "Auth").await;
    let app_id = id.to_string();
    let ok =
        promo_store::projects::authenticate(&app.db, id, &app_id, KeyKind::Server, &promo_store::hash_token("secret"))
            .await
            .unwrap();
    assert_eq!(ok.map(|p| p.project_id), Some(id));
    assert!(
        promo_store::projects::authenticate(&app.db, id, &app_id, KeyKind::Client, &promo_store::hash_token("secret"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        promo_store::projects::authenticate(&app.db, id, &app_id, KeyKind::Server, &promo_store::hash_token("guess"))
            .await
            .unwrap()
            .is_none()
    );
    let other = project(&app, "Other").await;
    assert!(
        promo_store::projects::authenticate(
            &app.db,
            other,
            &app_id,
            KeyKind::Server,
            &promo_store::hash_token("secret")
        )
        .await
        .unwrap()
        .is_none(),
        "keys are per project"
    );
}

#[tokio::test]
async fn a_code_is_inserted_once_per_project() {
    let app = TestApp::new().await;
    let (a, b) = (project(&app, "A").await, project(&app, "B").await);
    let doc = json!({});
    let insert = |p, code: &'static str| {
        let db = app.db.clone();
        let doc = doc.clone();
        async move {
            promo_store::campaigns::insert_voucher(
                &db,
                p,
                promo_store::new_id(),
                code,
                &code.to_uppercase(),
                None,
                true,
                &doc,
            )
            .await
            .unwrap()
        }
    };
    assert!(insert(a, "Summer").await);
    assert!(!insert(a, "SUMMER").await, "the code key decides");
    assert!(insert(b, "summer").await, "another project may use it");
}

#[tokio::test]
async fn unique_and_foreign_key_violations_keep_their_constraint() {
    let app = TestApp::new().await;
    let p = project(&app, "Constraints").await;
    promo_store::categories::insert(&app.db, p, promo_store::new_id(), "Dup", 1).await.unwrap();
    let e = promo_store::categories::insert(&app.db, p, promo_store::new_id(), "Dup", 1).await.unwrap_err();
    assert_eq!(e.constraint(), Some("category_project_id_name_key"));
    let missing_rule = promo_store::new_id();
    let e = promo_store::validation_rules::assign(&app.db, p, promo_store::new_id(), missing_rule, "voucher", "v_1")
        .await
        .unwrap_err();
    assert!(matches!(e, promo_store::StoreError::ForeignKeyViolation { .. }), "{e:?}");
}

#[tokio::test]
async fn deleting_a_project_deletes_its_data() {
    let app = TestApp::new().await;
    let p = project(&app, "Gone").await;
    let cat = promo_store::new_id();
    promo_store::categories::insert(&app.db, p, cat, "C", 1).await.unwrap();
    promo_store::customers::CUSTOMERS
        .insert(&app.db, p, promo_store::new_id(), None, Some("c-1"), &json!({}))
        .await
        .unwrap();
    assert!(promo_store::projects::delete(&app.db, p).await.unwrap());
    assert!(promo_store::categories::get(&app.db, p, cat).await.unwrap().is_none());
    assert!(promo_store::customers::CUSTOMERS.get(&app.db, p, None, Some("c-1")).await.unwrap().is_none());
}

#[tokio::test]
async fn idempotency_keys_are_kept_a_week_then_expired() {
    let app = TestApp::new().await;
    let id = project(&app, "Keys").await;
    let mut tx = promo_store::begin(&app.db).await.unwrap();
    for key in ["fresh", "six-days", "eight-days"] {
        assert!(promo_store::ledger::claim_idempotency_key(&mut tx, id, key, b"hash").await.unwrap().is_none());
        promo_store::ledger::complete_idempotency_key(&mut tx, id, key, 200, b"{}").await.unwrap();
    }
    promo_store::commit(tx).await.unwrap();
    for (key, days) in [("six-days", 6), ("eight-days", 8)] {
        sqlx::query("update idempotency_key set created_at = now() - make_interval(days => $3) where project_id = $1 and idempotency_key = $2")
            .bind(id)
            .bind(key)
            .bind(days)
            .execute(&app.db)
            .await
            .unwrap();
    }
    promo_store::ledger::expire_idempotency_keys(&app.db, 7).await.unwrap();
    for (key, kept) in [("fresh", true), ("six-days", true), ("eight-days", false)] {
        let found = promo_store::ledger::idempotent_response(&app.db, id, key).await.unwrap();
        assert_eq!(found.is_some(), kept, "{key}");
    }
}

#[tokio::test]
async fn a_claim_counts_the_live_reservations_of_other_sessions() {
    use promo_store::ledger::{self, Claim, OrderWrite};
    let app = TestApp::new().await;
    let p = project(&app, "Reserved").await;
    let mut conn = promo_store::acquire(&app.db).await.unwrap();
    let claim = [Claim { key: "quantity".into(), delta: 1, limit: Some(2) }];
    let doc = serde_json::value::to_raw_value(&json!({"status": "PAID"})).unwrap();
    let now = chrono::Utc::now();
    // every claim writes an order of its own (the redemption's)
    let mut redeem = async |claims: &[Claim]| {
        let order = OrderWrite { id: promo_store::new_id(), source_id: None, customer: None, doc: &doc, stored: false };
        let write = ledger::LedgerWrite { project: p, at: now, webhooks: false };
        ledger::redeem_atomically(&mut conn, write, (claims, None), &[], order).await.unwrap()
    };
    assert_eq!(redeem(&claim).await, None, "the first unit");
    // another checkout's session holds the second unit: a plain claim finds none left
    let mut tx = promo_store::begin(&app.db).await.unwrap();
    let held = ledger::reserve(&mut tx, p, "ssn_other", &claim, now + chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(held, None);
    promo_store::commit(tx).await.unwrap();
    assert_eq!(redeem(&claim).await, Some(0), "the reserved unit is not claimable");
    // released, the unit is claimable; then the limit holds
    assert!(ledger::release_session(&app.db, p, "ssn_other").await.unwrap());
    assert_eq!(redeem(&claim).await, None);
    assert_eq!(redeem(&claim).await, Some(0));
    let value: i64 = sqlx::query_scalar("select value from counter where project_id = $1 and counter_key = 'quantity'")
        .bind(p)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(value, 2);
}

/// The batched reads behind list pages answer only for the project they are given, whatever ids
/// they are handed (another project's campaigns, tiers, objects or redemptions).
#[tokio::test]
async fn batched_reads_stay_within_their_project() {
    let app = TestApp::new().await;
    let (a, b) = (app.project("batch-a").await, app.project("batch-b").await);
    let mut tiers = Vec::new();
    let mut campaigns = Vec::new();
    for p in [&a, &b] {
        let rule = app
            .post(
                p,
                "/v1/validation-rules",
                json!({"name": "big orders", "rules": {"1": {"name": "order.amount",
                   "conditions": {"$more_than": [100]}}, "logic": "1"}}),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let c = app
            .post(p, "/v1/campaigns", json!({"name": "promo", "campaign_type": "PROMOTION", "promotion": {"tiers": [
                {"name": "t", "action": {"discount": {"type": "AMOUNT", "amount_off": 5}}, "validation_rules": [rule]}]}}))
            .await
            .json();
        campaigns.push(c["id"].as_str().unwrap().trim_start_matches("camp_").to_owned());
        tiers.push(c["promotion"]["tiers"][0]["id"].as_str().unwrap().to_owned());
    }
    let uuid = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let both: Vec<uuid::Uuid> = campaigns.iter().map(|c| uuid(c)).collect();
    let mut conn = promo_store::acquire(&app.db).await.unwrap();

    let found = promo_store::campaigns::campaigns_by_ids(&mut *conn, a.project_id(), &both).await.unwrap();
    assert_eq!(found.iter().map(|c| c.campaign_id).collect::<Vec<_>>(), vec![both[0]]);
    let found = promo_store::campaigns::tiers_of(&mut *conn, a.project_id(), &both).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].campaign_id, both[0]);
    let found = promo_store::validation_rules::assignments_of(&mut *conn, a.project_id(), &tiers).await.unwrap();
    assert_eq!(found.iter().map(|x| x.related_object_id.as_str()).collect::<Vec<_>>(), vec![tiers[0].as_str()]);
    // nothing of b's through a, even named directly
    let found = promo_store::validation_rules::assignments_of(&mut *conn, a.project_id(), &tiers[1..]).await.unwrap();
    assert!(found.is_empty());
    let found = promo_store::campaigns::tiers_of(&mut *conn, a.project_id(), &both[1..]).await.unwrap();
    assert!(found.is_empty());
}
